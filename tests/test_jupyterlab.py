"""Opening a notebook in JupyterLab and saving it changes nothing: no diff lands in git from a reader's visit.

Runs JupyterLab on copies of the notebooks in Debian's chromium (see test_site.py for the browser),
opens each, saves it as JupyterLab would on autosave, and compares the bytes with the original.
Plausible failures: a kernelspec JupyterLab renames, metadata it adds, numbers JavaScript writes
differently (1.0 as 1), and a plotly figure stored without its own picture (plotly's renderer
then adds a snapshot; see poe_demo.snapshot).
"""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = Path("/usr/bin/chromium")


def _lab_helpers():
    """start_lab and free_port from benchmarks/playground_latency.py (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("playground_latency", ROOT / "benchmarks" / "playground_latency.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_opening_and_saving_each_notebook_in_jupyterlab_leaves_it_byte_identical(tmp_path, monkeypatch):
    if not CHROMIUM.exists():
        message = f"no browser at {CHROMIUM}: install Debian's chromium (make test does, with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # playground_latency imports common
    lab_helpers = _lab_helpers()
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, tmp_path / notebook.name)
    port = lab_helpers.free_port()
    lab = lab_helpers.start_lab(tmp_path, port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            for notebook in NOTEBOOKS:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/lab/tree/{notebook.name}")
                page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')")
                try:  # the kernel dialog of a fresh settings folder: the notebook's own kernel
                    page.locator(".jp-Dialog .jp-mod-accept").click(timeout=5_000)
                except PlaywrightTimeout:
                    pass
                page.wait_for_timeout(1000)
                page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
                page.wait_for_timeout(1000)
                page.close()
            browser.close()
    finally:
        lab.terminate()
        lab.wait(timeout=30)
    changed = [nb.name for nb in NOTEBOOKS if (tmp_path / nb.name).read_bytes() != nb.read_bytes()]
    assert changed == [], f"JupyterLab rewrote {changed}"
