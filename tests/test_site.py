"""The rendered course (``make site``) in a real browser: every page draws the figures its notebook
stores, typesets its math, shows its images, and asks nothing of another host.

Needs Debian's chromium (``make test`` installs it with apt-get where it can). Elsewhere the browser
tests are skipped with the reason, except in CI (``CI`` set), where a missing browser is a failure.
"""

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
LOCAL = ("file:", "data:", "blob:", "about:")


def _builder():
    spec = importlib.util.spec_from_file_location("site_build", ROOT / "site_builder" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = _builder()


def stored(notebook: Path) -> dict:
    """What the notebook file holds: plotly figures among the outputs, math in the markdown."""
    nb = json.loads(notebook.read_text())
    figures = sum(
        "application/vnd.plotly.v1+json" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", [])
    )
    math = 0
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = builder.HEADING.sub("", "".join(cell["source"]))  # headings carry italics, not MathML
            parts = builder.CODE.split(text)
            math += sum(len(builder.MATH.findall(part)) for part in parts[::2])
    return {"figures": figures, "math": math}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("course") / "site"
    builder.build(out)
    return out


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"no browser at {CHROMIUM}: install Debian's chromium (make test does, with apt-get)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def test_the_builder_turns_latex_into_mathml_outside_code_only():
    text = "## best-of-$N$\n\nvelocity $v_i = (c_i - m)/t$, code `x = $HOME`, and $$\\hat x = x - t v$$"
    converted = builder.to_mathml(text)
    assert converted.count("<math") == 2 and 'display="block"' in converted
    assert "`x = $HOME`" in converted and converted.startswith("## best-of-*N*\n")


def test_index_lists_every_notebook_with_a_summary(site):
    index = (site / "index.html").read_text()
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a><br>([^<]+)</li>', index)
    assert [href for href, _, _ in links] == [f"{nb.stem}.html" for nb in NOTEBOOKS]
    for href, title, summary in links:
        assert (site / href).exists() and title.strip() and len(summary.split()) >= 5, (href, summary)
        assert summary.strip().endswith("."), (href, summary)  # a whole sentence, not a lead-in to a list
        # the index shows the sentence alone: nothing is "below" or "above" it there
        assert not re.search(r"\b(below|above)\b", summary, re.I), (href, summary)
    assert f"the {len(links)} notebooks" in index  # the count the index says is the count it lists
    assert "digits" in index.split("<ol>")[0]  # the intro frames both lessons, not the sphere alone
    assert (site / "plotly.min.js").stat().st_size > 1_000_000  # one copy of plotly.js for all pages
    for href, _, _ in links:  # each page loads that copy and embeds none of its own
        page = (site / href).read_text()
        assert page.count('<script src="plotly.min.js"></script>') == 1 and "* plotly.js v" not in page, href


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_page_renders_its_figures_and_math_offline(site, browser, notebook):
    expected = stored(notebook)
    page = browser.new_page()
    remote, errors = [], []
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else remote.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((site / f"{notebook.stem}.html").as_uri(), wait_until="load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.plotly-figure')].every(f => f.querySelector('.main-svg'))",
        timeout=60_000,
    )
    seen = page.evaluate(
        """() => ({
        figures: document.querySelectorAll('.plotly-figure').length,
        drawn: [...document.querySelectorAll('.plotly-figure')].filter(f => f.querySelector('.main-svg')).length,
        math: document.querySelectorAll('math').length,
        typeset: [...document.querySelectorAll('math')].every(m => getComputedStyle(m).display.includes('math')
                                                                  && m.getBoundingClientRect().height > 0),
        raw: [...document.querySelectorAll('.jp-RenderedMarkdown')].map(e => e.innerText)
             .filter(t => t.includes('$') || /\\\\[a-zA-Z]+/.test(t)),
        images: [...document.images].map(i => i.naturalWidth),
        controls: document.querySelectorAll('.playground-static tr').length,
    })"""
    )
    page.close()
    assert remote == [] and errors == [], (remote, errors)
    assert seen["figures"] == seen["drawn"] == expected["figures"], seen
    assert seen["math"] == expected["math"] and seen["typeset"], seen
    assert seen["raw"] == [], seen["raw"]  # no LaTeX left untypeset
    assert all(width > 0 for width in seen["images"]), seen["images"]
    if notebook.stem == "05_playground":
        assert seen["controls"] == 11 and expected["figures"] >= 1  # static controls and the last run's figure


def test_every_page_links_to_its_neighbours_and_draws_figures_at_the_pages_width(site, browser):
    pages = [f"{nb.stem}.html" for nb in NOTEBOOKS]
    for i, href in enumerate(pages):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((site / href).as_uri(), wait_until="load")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.plotly-figure')].every(f => f.querySelector('.main-svg'))",
            timeout=60_000,
        )
        seen = page.evaluate(
            """() => {
            const links = where => Object.fromEntries(['prev', 'index', 'next'].map(kind => {
                const a = document.querySelector(`.site-nav-${where} .site-${kind}`);
                return [kind, a ? a.getAttribute('href') : null];
            }));
            const overlap = (a, b) => a && b && a.left < b.right && b.left < a.right
                                   && a.top < b.bottom && b.top < a.bottom;
            const figures = [...document.querySelectorAll('.plotly-figure')].map(f => {
                const area = f.closest('.jp-OutputArea-output') || f.parentElement;
                const title = f.querySelector('.gtitle'), bar = f.querySelector('.modebar-container .modebar');
                return {
                    share: f.getBoundingClientRect().width / area.getBoundingClientRect().width,
                    clash: !!overlap(title && title.getBoundingClientRect(), bar && bar.getBoundingClientRect()),
                    legend: [...f.querySelectorAll('.legendpoints path')].map(p => p.getBoundingClientRect().width),
                };
            });
            return {top: links('top'), bottom: links('bottom'), figures};
        }"""
        )
        page.close()
        expected = {
            "prev": pages[i - 1] if i > 0 else None,
            "index": "index.html",
            "next": pages[i + 1] if i + 1 < len(pages) else None,
        }
        assert seen["top"] == seen["bottom"] == expected, (href, seen)
        for figure in seen["figures"]:
            assert figure["share"] > 0.9, (href, figure)  # the page's width, not a 460 px box
            assert not figure["clash"], (href, figure)  # the title clear of plotly's toolbar
            assert all(width >= 6 for width in figure["legend"]), (href, figure)  # legend markers, not specks
