"""SnapshotFigure: a plotly figure whose notebook output carries a PNG preview beside the plotly JSON."""

import base64

import plotly.io as pio
import pytest
import torch
from helpers import gen

from poe_demo import plotting
from poe_demo.data import sample_spheres
from poe_demo.snapshot import SnapshotFigure, snapshot_png


@pytest.fixture
def mimetype_renderer(monkeypatch):
    """The renderer a Jupyter kernel uses; a plain Python process has none."""
    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype")


def test_every_plotly_helper_stores_a_png_preview_beside_the_figure(mimetype_renderer):
    cloud = sample_spheres(1, 64, gen(0))[0]
    figures = [
        plotting.plotly_cloud(cloud, "one cloud"),
        plotting.plotly_points({"a": cloud[:, :3]}, {"a": "orange"}),
        plotting.plotly_animation(torch.stack([cloud, cloud]), ["t = 1", "t = 0"]),
    ]
    for fig in figures:
        bundle = fig._repr_mimebundle_()
        assert isinstance(fig, SnapshotFigure) and "application/vnd.plotly.v1+json" in bundle
        assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_preview_draws_3d_and_2d_traces_and_is_reproducible():
    import plotly.graph_objects as go

    fig = go.Figure([go.Scatter3d(x=[0, 1], y=[0, 1], z=[0, 1], marker=dict(color="rgb(255,0,0)"))])
    fig.add_trace(go.Scatter(x=[1, 0], y=[16, 8]))
    first = snapshot_png(fig)
    assert first == snapshot_png(fig) and len(first) > 1000


def test_a_kernel_displays_the_preview_too(mimetype_renderer, monkeypatch):
    # In Jupyter, go.Figure shows itself through _ipython_display_, not _repr_mimebundle_.
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    plotting.plotly_cloud(sample_spheres(1, 16, gen(1))[0])._ipython_display_()
    ((bundle, raw),) = shown
    assert raw and {"application/vnd.plotly.v1+json", "image/png"} <= set(bundle)


def test_stored_json_has_no_integral_floats_that_jupyterlab_would_rewrite(mimetype_renderer):
    import json

    fig = plotting.plotly_points({"a": torch.ones(3, 3)}, {"a": "orange"})  # legend at x=0, y=1; points at 1.0
    text = json.dumps(fig._repr_mimebundle_()["application/vnd.plotly.v1+json"])
    assert json.dumps(json.loads(text)) == text and ".0," not in text and ".0}" not in text and ".0]" not in text
