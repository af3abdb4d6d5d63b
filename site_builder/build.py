"""Build the course as static HTML that works offline: ``python site_builder/build.py [--out site]``.

Pages come from the notebooks' stored outputs (nothing is re-executed), through nbconvert's lab
template (``templates/poe_site``) after three changes to each notebook:

- math in markdown becomes MathML (latex2mathml), which browsers typeset without a script;
- each plotly figure, stored as plotly's JSON mimetype that nbconvert would drop, becomes a
  ``<div>`` drawn by the site's single copy of plotly.js, as wide as the page (3-D scenes taller
  than in the notebook, so the cube fills it);
- each stored widget view is dropped, leaving its static fallback (the playground's controls).

``index.html`` lists the notebooks with the first sentence of each as its summary, and every
page links to the index and to the previous and next notebook. The site is built in a temporary
folder and renamed into place, so a failed build leaves the old site whole.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import tempfile
from pathlib import Path

import jinja2
import nbformat
from latex2mathml.converter import convert
from nbconvert import HTMLExporter
from plotly.offline import get_plotlyjs

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "templates"
PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"

# Code (fenced or inline) is left alone; outside it, $$...$$ is display math and $...$ inline math.
CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
MATH = re.compile(r"\$\$(.+?)\$\$|\$(?!\s)([^$\n]+?)(?<!\s)\$", re.S)

INDEX = jinja2.Template(
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>poe-demo: the course</title>
<style>body { font-family: sans-serif; max-width: 46em; margin: 2em auto; line-height: 1.5; }
li { margin-bottom: 0.8em; }</style></head>
<body>
<h1>Product of Experts for Visual Generation: the course</h1>
<p>Two lessons, a colored point-cloud sphere and handwritten digits, in the {{ pages|length }} notebooks
of poe-demo, rendered from their stored outputs. The 3-D figures rotate
(drag them); the playground's controls need a running kernel: open the notebook with
<code>make lab</code> to use them.</p>
<ol>
{%- for page in pages %}
<li><a href="{{ page.href }}">{{ page.title }}</a><br>{{ page.summary }}</li>
{%- endfor %}
</ol>
</body></html>
"""
)


HEADING = re.compile(r"^#{1,6} .*$", re.M)


def to_mathml(markdown: str) -> str:
    """Replace the LaTeX math of a markdown text by MathML, leaving code spans untouched.

    Headings get italics instead (``$L$`` -> ``*L*``): nbconvert runs each heading through an XML
    parser to add its anchor, which renames MathML elements so that browsers no longer know them.
    """

    def math(match: re.Match) -> str:
        display, inline = match.groups()
        return convert(display, display="block") if display is not None else convert(inline)

    def heading(match: re.Match) -> str:
        return MATH.sub(lambda m: f"*{m.group(2)}*", match.group(0))

    parts = CODE.split(HEADING.sub(heading, markdown))
    return "".join(part if i % 2 else MATH.sub(math, part) for i, part in enumerate(parts))


SCENE_HEIGHT = 640  # px: a 3-D figure on the page, drawn at the page's width


def plotly_html(figure: dict, div_id: str) -> str:
    """A div and the call that draws ``figure`` (data, layout, frames) into it with the page's plotly.js.

    The figure takes the page's width (its notebook width is dropped; ``responsive`` redraws it
    when the window changes), and a 3-D scene gets a height to match."""
    figure = dict(figure, layout=dict(figure.get("layout", {})), config=dict(figure.get("config", {}), responsive=True))
    layout = figure["layout"]
    layout.pop("width", None)
    layout["autosize"] = True
    if any(key.startswith("scene") for key in layout):
        layout["height"] = max(layout.get("height", 0), SCENE_HEIGHT)
    height = layout.setdefault("height", 450)
    spec = json.dumps(figure).replace("</", "<\\/")  # no "</script>" inside the script
    return (
        f'<div id="{div_id}" class="plotly-figure" style="width: 100%; height: {height}px"></div>\n'
        f'<script>Plotly.newPlot("{div_id}", {spec});</script>'
    )


def prepare(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The three changes of the module docstring, in place; returns the notebook."""
    figures = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = to_mathml(cell.source)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY in data:
                data["text/html"] = plotly_html(data.pop(PLOTLY), f"plotly-figure-{figures}")
                data.pop("text/plain", None)
                data.pop("image/png", None)  # the static preview for JupyterLab; the page draws the real figure
                figures += 1
            data.pop(WIDGET, None)
    nb.metadata.pop("widgets", None)
    return nb


def summary(nb: nbformat.NotebookNode) -> tuple[str, str]:
    """(title, first sentence of the first paragraph) of a notebook's opening markdown cell.

    A sentence ends at a full stop: a colon introduces what follows and is not an end."""
    lines = nb.cells[0].source.strip().split("\n\n")
    title = lines[0].lstrip("# ").strip()
    paragraph = " ".join(lines[1].split()) if len(lines) > 1 else ""
    sentence = re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0]
    return title, re.sub(r"[*`]", "", sentence)


def build(out: Path) -> list[Path]:
    """Write index.html, one page per notebook and plotly.min.js to ``out``; returns the pages."""
    exporter = HTMLExporter(template_name="poe_site", extra_template_basedirs=[str(TEMPLATES)])
    staging = Path(tempfile.mkdtemp(prefix=".site-", dir=out.parent))
    try:
        paths = sorted(NOTEBOOKS.glob("*.ipynb"))
        notebooks = [nbformat.read(path, as_version=4) for path in paths]
        pages = []
        for path, nb in zip(paths, notebooks):
            title, text = summary(nb)
            pages.append({"href": f"{path.stem}.html", "title": html.escape(title), "summary": html.escape(text)})
        for i, (page, nb) in enumerate(zip(pages, notebooks)):
            nav = {"previous": pages[i - 1] if i > 0 else None, "next": pages[i + 1] if i + 1 < len(pages) else None}
            resources = {"metadata": {"name": html.unescape(page["title"])}, "nav": nav}
            body, _ = exporter.from_notebook_node(prepare(nb), resources=resources)
            (staging / page["href"]).write_text(body, encoding="utf-8")
        (staging / "index.html").write_text(INDEX.render(pages=pages), encoding="utf-8")
        (staging / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the site from a web server
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / page["href"] for page in pages]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="output folder (replaced)")
    args = parser.parse_args()
    pages = build(args.out.resolve())
    print(f"wrote {args.out / 'index.html'} and {len(pages)} pages")


if __name__ == "__main__":
    main()
