"""A reader's visit in JupyterLab changes nothing: no diff lands in git from opening, scrolling, hovering, saving.

Runs JupyterLab (with its default settings, as a fresh install has them) on copies of the
notebooks in Debian's chromium (see test_site.py for the browser), opens each, scrolls to every
output and hovers it, saves, and compares the bytes with the original. Plausible failures: a
kernelspec JupyterLab renames, metadata it adds, numbers JavaScript writes differently (1.0 as 1),
and plotly's renderer writing its own PNG snapshot into a figure's output when the figure is drawn
(the poe-demo-plotly JupyterLab extension, ``jupyterlab_extension/``, stops it). It also checks
what the reader sees: every 3-D figure is live (drawn by plotly, not a still picture) as soon as
it is scrolled to, and hovering it does not change its size.
"""

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = Path("/usr/bin/chromium")

VISIT = """async () => {
  const notebook = window.jupyterapp.shell.currentWidget;
  const panel = notebook.content.node.closest('.jp-WindowedPanel-outer') || notebook.content.node;
  const seen = [];
  for (let i = 0; i < notebook.content.widgets.length; i++) {
    const cell = notebook.content.widgets[i];
    await notebook.content.scrollToItem(i, 'center');
    await new Promise(r => setTimeout(r, 150));
    for (const output of cell.node.querySelectorAll('.jp-OutputArea-output')) {
      output.scrollIntoView({block: 'center'});
      await new Promise(r => setTimeout(r, 150));
      // a plotly figure draws (and its renderer may write a snapshot) after it is shown: give it time;
      // text and pictures have nothing that runs later
      const plotly = output.matches('.jp-RenderedPlotly') ? output : output.querySelector('.jp-RenderedPlotly');
      if (plotly) await new Promise(r => setTimeout(r, 250));
      const before = output.getBoundingClientRect().height;
      const box = output.getBoundingClientRect();
      for (const type of ['mouseenter', 'mouseover', 'mousemove']) {
        const target = document.elementFromPoint(box.left + box.width / 2, box.top + Math.min(box.height / 2, 200));
        if (target) target.dispatchEvent(new MouseEvent(type, {bubbles: true, clientX: box.left + box.width / 2,
                                                               clientY: box.top + box.height / 2}));
      }
      const img = plotly && plotly.querySelector('img.plot-img');
      if (img) img.dispatchEvent(new MouseEvent('mouseenter'));
      await new Promise(r => setTimeout(r, plotly ? 600 : 150));
      if (plotly) {
        seen.push({cell: i, before, after: output.getBoundingClientRect().height,
                   live: !!plotly.querySelector('.plot-container .main-svg')});
      }
    }
  }
  await new Promise(r => setTimeout(r, 1500));
  return {path: notebook.context.path, figures: seen, dirty: notebook.context.model.dirty};
}"""


OPENED = """name => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return !!(widget && widget.context && widget.context.path === name && widget.context.isReady
            && widget.node.querySelector('.jp-Notebook'));
}"""


def _lab_helpers():
    """start_lab and free_port from benchmarks/playground_latency.py (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("playground_latency", ROOT / "benchmarks" / "playground_latency.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_figures(notebook: Path) -> int:
    import json

    nb = json.loads(notebook.read_text())
    return sum("application/vnd.plotly.v1+json" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab server on copies of the notebooks, and one browser, for every visit: (folder, port, browser)."""
    if not CHROMIUM.exists():
        message = f"no browser at {CHROMIUM}: install Debian's chromium (make test does, with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("lab")
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, folder / notebook.name)
    sys.path.insert(0, str(ROOT / "benchmarks"))  # playground_latency imports common
    try:
        lab_helpers = _lab_helpers()
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    port = lab_helpers.free_port()
    server = lab_helpers.start_lab(folder, port, windowing=None)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            yield folder, port, browser
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_visiting_a_notebook_in_jupyterlab_leaves_it_byte_identical(lab, notebook):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    folder, port, browser = lab
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        # ?reset: a fresh workspace, else JupyterLab restores the previous page's notebook
        # and, on a slow machine, that one can still be the current tab when the visit starts
        page.goto(f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?reset")
        page.wait_for_function(OPENED, arg=notebook.name)
        try:  # the kernel dialog of a fresh settings folder: the notebook's own kernel
            page.locator(".jp-Dialog .jp-mod-accept").click(timeout=5_000)
        except PlaywrightTimeout:
            pass
        page.wait_for_timeout(1500)
        visit = page.evaluate(VISIT)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_timeout(1000)
    finally:
        page.close()
    assert (folder / notebook.name).read_bytes() == notebook.read_bytes(), f"JupyterLab rewrote it; {visit}"
    assert visit["path"] == notebook.name, visit
    assert not visit["dirty"], visit  # not even marked modified before the save
    assert len(visit["figures"]) == stored_figures(notebook), visit
    for figure in visit["figures"]:
        assert figure["live"], figure  # drawn by plotly once scrolled to, not a still picture
        assert abs(figure["after"] - figure["before"]) < 2, figure  # no jump on hover
