"""Plotly figures that carry their own static picture (needs plotly, the notebooks extra).

A ``SnapshotFigure`` stores a matplotlib drawing of its 3-D and 2-D traces, at the figure's own
size, beside the plotly JSON: the preview that viewers without plotly's renderer show (GitHub,
VS Code, nbconvert). In JupyterLab the poe-demo-plotly extension (``jupyterlab_extension/``)
draws the live figure at once and keeps plotly's renderer from writing its own snapshot into
the notebook, which it would otherwise do the first time a figure is drawn, so that every visit
left a diff in git. The drawing is one view, without a legend.
"""

from __future__ import annotations

import base64
import io
import re

import matplotlib.pyplot as plt
import plotly.graph_objects as go

__all__ = ["SnapshotFigure", "snapshot_png"]

PLOTLY = "application/vnd.plotly.v1+json"


def _color(color):
    """plotly's 'rgb(r,g,b)' strings (one per point, or one for the trace) as matplotlib colors."""

    def one(c):
        m = re.fullmatch(r"rgb\((\d+),(\d+),(\d+)\)", c) if isinstance(c, str) else None
        return tuple(int(v) / 255 for v in m.groups()) if m else c

    return [one(c) for c in color] if isinstance(color, (list, tuple)) else one(color)


def snapshot_png(fig: go.Figure) -> bytes:
    """A PNG of the figure's first-frame traces: 3-D scatters in one panel, 2-D lines in another."""
    traces3d = [t for t in fig.data if t.type == "scatter3d"]
    traces2d = [t for t in fig.data if t.type == "scatter"]
    panels = bool(traces3d) + bool(traces2d)
    dpi = 72  # figure inches x dpi = the live figure's pixels
    width, height = fig.layout.width or 420 * panels, fig.layout.height or 400
    picture = plt.figure(figsize=(width / dpi, height / dpi))
    if traces3d:
        ax = picture.add_subplot(1, panels, 1, projection="3d")
        for t in traces3d:
            colors = _color(t.marker.color)
            colors = colors if isinstance(colors, list) else [colors] * len(t.x)
            ax.scatter(t.x, t.y, t.z, s=4, c=colors, depthshade=False)
        ax.set(xticks=[], yticks=[], zticks=[])
        ax.set_box_aspect((1, 1, 1))
    if traces2d:
        ax = picture.add_subplot(1, panels, panels)
        for t in traces2d:
            ax.plot(t.x, t.y, color=_color(t.line.color) or None)
    picture.suptitle(fig.layout.title.text or "", fontsize=10)
    buffer = io.BytesIO()
    picture.savefig(buffer, format="png", dpi=dpi)
    plt.close(picture)
    return buffer.getvalue()


def _as_javascript_writes(value):
    """Integral floats as ints, recursively: JupyterLab saves notebooks through JavaScript, which
    writes 1.0 as 1, so a stored 1.0 would come back from any visit as a diff."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _as_javascript_writes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_javascript_writes(v) for v in value]
    return value


class SnapshotFigure(go.Figure):
    """A ``go.Figure`` whose notebook output also holds :func:`snapshot_png` as ``image/png``, and
    whose JSON is written the way JupyterLab would write it back."""

    def _repr_mimebundle_(self, include=None, exclude=None, validate=True, **kwargs):
        bundle = super()._repr_mimebundle_(include, exclude, validate, **kwargs)
        if PLOTLY in bundle:
            bundle[PLOTLY] = _as_javascript_writes(bundle[PLOTLY])
            bundle["image/png"] = base64.b64encode(snapshot_png(self)).decode()
        return bundle

    def _ipython_display_(self):
        # go.Figure displays itself through plotly's renderers, bypassing _repr_mimebundle_
        from IPython.display import display

        from .labextension import warn_once_if_missing

        warn_once_if_missing()  # where an editable install left JupyterLab without the extension
        display(self._repr_mimebundle_(), raw=True)
