"""The playground's latency as a reader feels it: JupyterLab in headless Chromium, slider change to new figure.

    python benchmarks/playground_latency.py [--quick] [--out DIR]

Starts JupyterLab on a copy of notebooks/05_playground.ipynb cut after the cell that shows the
playground (the later cells change its controls; the repository's notebook is never opened, so
nothing is autosaved into it), runs it in Debian's chromium through Playwright, then moves the
"particles L" slider one step with the keyboard, alternately up and down around the default.
Each change is timed on the page's clock, from the key press to the first frame painted after
plotly has drawn the new run (its ESS axis shows the new L). The kernel's share is the run's own
timer, which the playground prints in its status line; the rest is messages between browser and
kernel, the figure's update and plotly's redraw. Writes ``playground_latency.json``; the README quotes it beside the
in-kernel figure of bench_sampler.py. Needs /usr/bin/chromium (``make browser``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import RESULTS, write_json

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_playground.ipynb"
CHROMIUM = "/usr/bin/chromium"
FIGURE = ".js-plotly-plot"  # the output node that plotly's JupyterLab renderer draws into


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(folder: Path, port: int, windowing: str | None = "none") -> subprocess.Popen:
    """JupyterLab serving ``folder`` without a token, its app object exposed to the page's scripts.

    Its settings (in ``folder``) turn off notebook windowing by default, which would stop drawing
    the playground once later cells scroll it out of view; ``windowing=None`` keeps JupyterLab's
    own default, as a reader's fresh install has it."""
    settings = folder / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    if windowing is not None:
        (settings / "tracker.jupyterlab-settings").write_text(f'{{"windowingMode": "{windowing}"}}')
    lab = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.token=",
         "--ServerApp.password=", f"--ServerApp.root_dir={folder}", "--LabApp.expose_app_in_browser=True",
         "--ServerApp.disable_check_xsrf=True", "--allow-root"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(folder / "settings")},
    )  # fmt: skip
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=1)
            return lab
        except OSError:
            time.sleep(0.5)
    lab.terminate()
    raise RuntimeError("JupyterLab did not start within 60 s")


# Page-side probes: key presses and plotly's finished draws, each stamped with the page's clock.
PROBES = """
figure => {
  window.latency = {presses: [], draws: []};
  document.addEventListener('keydown', () => window.latency.presses.push(performance.now()), true);
  figure.on('plotly_afterplot', () => {
    const top = figure.layout.yaxis.range[1];
    requestAnimationFrame(() => window.latency.draws.push([performance.now(), top]));
  });
}
"""


def playground_notebook(folder: Path) -> Path:
    """A copy of the notebook that ends with the cell showing the playground, so it runs at its defaults."""
    notebook = json.loads(NOTEBOOK.read_text())
    last = next(i for i, c in enumerate(notebook["cells"]) if "Playground(" in "".join(c["source"]))
    notebook["cells"] = notebook["cells"][: last + 1]
    path = folder / NOTEBOOK.name
    path.write_text(json.dumps(notebook))
    return path


def measure(port: int, n_changes: int) -> list[dict]:
    """Per slider change: seconds from key press to the drawn new figure, and the kernel's run inside them."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}")
        page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')", timeout=120_000)
        try:  # a fresh settings folder asks which kernel to start: the notebook's own
            page.locator(".jp-Dialog .jp-mod-accept").click(timeout=15_000)
        except PlaywrightTimeout:
            pass
        page.wait_for_timeout(2000)  # let the kernel start before running
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # not awaited
        print("running the notebook in JupyterLab", file=sys.stderr, flush=True)
        figure, error = f".widget-vbox {FIGURE} .main-svg", "[data-mime-type='application/vnd.jupyter.stderr']"
        page.wait_for_selector(f"{figure}, {error}", state="attached", timeout=300_000)
        if page.locator(error).count():
            raise RuntimeError(f"the notebook failed in JupyterLab:\n{page.locator(error).first.inner_text()}")
        page.wait_for_function("() => document.body.innerText.includes('Idle')", timeout=300_000)
        page.wait_for_timeout(2000)  # the first draw's follow-up work
        page.evaluate(PROBES, page.locator(f".widget-vbox {FIGURE}").element_handle())
        print("playground drawn; timing slider changes", file=sys.stderr, flush=True)
        slider = page.locator(".widget-slider", has_text="particles L")
        handle, status = slider.locator(".noUi-handle").first, page.locator(".widget-vbox .widget-html").first
        handle.scroll_into_view_if_needed()
        changes = []
        for i in range(n_changes):
            before = int(slider.locator(".widget-readout").inner_text())
            handle.focus()
            page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            top = (before + (1 if i % 2 == 0 else -1)) * 1.05  # the ESS axis of a run with the new L
            page.wait_for_function(
                "top => window.latency.draws.some(([, t]) => Math.abs(t - top) < 1e-9)", arg=top, timeout=120_000
            )
            press, draws = page.evaluate("() => [window.latency.presses.at(-1), window.latency.draws]")
            drawn = min(when for when, t in draws if abs(t - top) < 1e-9 and when > press)
            kernel = float(re.search(r"([0-9.]+) s$", status.inner_text().strip()).group(1))
            changes.append({"seconds": (drawn - press) / 1000, "kernel_seconds": kernel})
            page.evaluate("() => { window.latency.draws = []; }")
            page.wait_for_timeout(1000)  # idle again before the next change, as a reader pauses
        browser.close()
    return changes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two changes (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"playground_latency.py: no browser at {CHROMIUM}; run make browser first")
    folder = Path(tempfile.mkdtemp(prefix="playground-latency-"))
    playground_notebook(folder)
    port = free_port()
    lab = start_lab(folder, port)
    try:
        changes = measure(port, 2 if args.quick else 15)
    finally:
        lab.terminate()
        lab.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    seconds = [c["seconds"] for c in changes]
    kernel = [c["kernel_seconds"] for c in changes]
    report = {
        "changes": len(changes),
        "median_seconds": round(statistics.median(seconds), 3),
        "max_seconds": round(max(seconds), 3),
        "median_kernel_seconds": round(statistics.median(kernel), 3),
        "median_rest_seconds": round(statistics.median(s - k for s, k in zip(seconds, kernel)), 3),
        "seconds": [round(s, 3) for s in seconds],
        "kernel_seconds": kernel,
        "what": "JupyterLab + headless Chromium: 'particles L' moved by one from its default and back, "
        "key press to drawn figure",
    }
    out = write_json("playground_latency_quick.json" if args.quick else "playground_latency.json", report, args.out)
    print(f"median {report['median_seconds']} s over {len(seconds)} changes; wrote {out}")


if __name__ == "__main__":
    main()
