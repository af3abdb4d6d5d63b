"""The playground's latency as a reader feels it: JupyterLab in headless Chromium, slider change to new figure.

    python benchmarks/playground_latency.py [--quick] [--out DIR]

Starts JupyterLab on a copy of notebooks/05_playground.ipynb (the repository's notebook is never
opened, so nothing is autosaved into it), runs every cell in Debian's chromium through Playwright,
then moves the "particles L" slider one step with the keyboard, alternately up and down around the
default, and times each change until the playground's figure has been replaced and drawn. Writes
``playground_latency.json``; the README quotes the median beside the in-kernel figure of
bench_sampler.py. Needs /usr/bin/chromium (``make browser``).
"""

from __future__ import annotations

import argparse
import os
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


def start_lab(folder: Path, port: int) -> subprocess.Popen:
    """JupyterLab serving ``folder`` without a token, its app object exposed to the page's scripts.

    Its settings (in ``folder``) turn off notebook windowing, which would stop drawing the
    playground once later cells scroll it out of view."""
    settings = folder / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
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


def measure(port: int, n_changes: int) -> list[float]:
    """Seconds from each slider key press to a new, drawn playground figure."""
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
        page.wait_for_selector(f".widget-vbox {FIGURE} .main-svg", state="attached", timeout=300_000)
        page.wait_for_function("() => document.body.innerText.includes('Idle')", timeout=300_000)
        print("playground drawn; timing slider changes", file=sys.stderr, flush=True)
        handle = page.locator(".widget-slider", has_text="particles L").locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        seconds = []
        for i in range(n_changes):
            old = page.evaluate_handle(f"() => document.querySelector('.widget-vbox {FIGURE}')")
            handle.focus()
            start = time.perf_counter()
            page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            page.wait_for_function(
                f"""old => {{ const f = document.querySelector('.widget-vbox {FIGURE}');
                           return f && f !== old && f.querySelector('.main-svg'); }}""",
                arg=old,
                timeout=120_000,
                polling="raf",
            )
            seconds.append(time.perf_counter() - start)
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two changes (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"playground_latency.py: no browser at {CHROMIUM}; run make browser first")
    folder = Path(tempfile.mkdtemp(prefix="playground-latency-"))
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    port = free_port()
    lab = start_lab(folder, port)
    try:
        seconds = measure(port, 2 if args.quick else 9)
    finally:
        lab.terminate()
        lab.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        "changes": len(seconds),
        "median_seconds": round(statistics.median(seconds), 3),
        "max_seconds": round(max(seconds), 3),
        "seconds": [round(s, 3) for s in seconds],
        "what": "JupyterLab + headless Chromium: 'particles L' moved by one (16 <-> 17), key press to drawn figure",
    }
    out = write_json("playground_latency_quick.json" if args.quick else "playground_latency.json", report, args.out)
    print(f"median {report['median_seconds']} s over {len(seconds)} changes; wrote {out}")


if __name__ == "__main__":
    main()
