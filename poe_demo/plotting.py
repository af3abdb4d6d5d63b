"""Pictures of clouds, trajectories and weights: matplotlib for files, plotly for rotating in a notebook."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from torch import Tensor

from .data import RGB

__all__ = [
    "cloud_colors",
    "draw_cloud",
    "draw_side_on",
    "plot_clouds",
    "plot_levels",
    "animate_cloud",
    "plotly_cloud",
    "plotly_animation",
    "plotly_points",
    "scatter3d_trace",
    "cube_scene",
]


def cloud_colors(x: Tensor) -> np.ndarray:
    """rgb columns of a cloud ``[N, 6]`` clipped to [0, 1] for display: ``[N, 3]``."""
    return x[..., RGB].detach().cpu().clamp(0, 1).numpy()


# A mid-gray background, so that white and black clouds both show, and a thin dark rim around
# each point, so that a near-white cloud still stands out from it
_PANE = (0.78, 0.78, 0.78, 1.0)
_RIM = {"edgecolors": "0.4", "linewidths": 0.3}


def draw_cloud(ax, x: Tensor, title: str = "", limit: float = 1.6) -> None:
    """Scatter one cloud ``[N, 6]`` on a 3-D matplotlib axis."""
    xyz = x[..., :3].detach().cpu().numpy()
    ax.scatter(xyz[:, 0], xyz[:, 1], xyz[:, 2], c=cloud_colors(x), s=8, depthshade=False, **_RIM)
    ax.set(xlim=(-limit, limit), ylim=(-limit, limit), zlim=(-limit, limit), xticks=[], yticks=[], zticks=[])
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_pane_color(_PANE)
    ax.set_box_aspect((1, 1, 1))
    ax.set_title(title, fontsize=9)


def draw_side_on(ax, x: Tensor, axis: str, title: str = "", reach: float = 3.2) -> None:
    """One cloud ``[N, 6]`` seen side-on to ``axis``: each point's own coordinate against its distance from the axis.

    What an axis expert alone makes is clear from here and blurred in any fixed 3-D view: points
    within distance 1 of its axis land on the unit sphere (the dashed circle, two caps), points
    beyond it cannot, and gather in a band around 0 (a ring around the sphere).
    """
    i = "xyz".index(axis)
    xyz = x[..., :3].detach().cpu()
    own, from_axis = xyz[:, i].numpy(), xyz[:, [j for j in range(3) if j != i]].norm(dim=-1).numpy()
    ax.scatter(from_axis, own, s=5, c=cloud_colors(x), **_RIM)
    arc = np.linspace(0, np.pi, 100)
    ax.plot(np.sin(arc), np.cos(arc), "k--", lw=0.8)
    ax.set(xlim=(0, reach), ylim=(-1.6, 1.6), facecolor=_PANE, aspect="equal")
    ax.set_xlabel(f"distance from the {axis} axis", fontsize=8)
    ax.set_ylabel(f"{axis}", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9)


def plot_clouds(
    clouds: Mapping[str, Tensor],
    columns: int = 4,
    path: str | Path | None = None,
    panel_size: float = 2.6,
    side_on: Mapping[str, str] | None = None,
    caption: str | None = None,
):
    """A grid of titled clouds; saved to ``path`` (PNG) when given. Returns the figure.

    ``side_on`` maps some titles to an axis name: those panels are drawn with :func:`draw_side_on`
    instead of in 3-D. ``caption`` is printed under the grid.
    """
    side_on = side_on or {}
    rows = -(-len(clouds) // columns)
    fig = plt.figure(figsize=(panel_size * columns, panel_size * rows + (0.5 if caption else 0)))
    for i, (title, x) in enumerate(clouds.items()):
        if title in side_on:
            draw_side_on(fig.add_subplot(rows, columns, i + 1), x, side_on[title], title)
        else:
            draw_cloud(fig.add_subplot(rows, columns, i + 1, projection="3d"), x, title)
    if caption:
        fig.text(0.5, 0.005, caption, ha="center", va="bottom", fontsize=9, wrap=True)
    fig.tight_layout(rect=(0, 0.5 / (panel_size * rows + 0.5) if caption else 0, 1, 1))
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig


def plot_levels(ess: Tensor, log_weights: Tensor, times: Tensor, n_particles: int, resampled: list[int] = ()):
    """The ESS ``[T + 1]`` and the normalized log-weights ``[T + 1, L]`` at every level, each taken
    before that level's resampling, against the level k, with the levels ``resampled`` marked.

    The x axis is the level, not t: the time grid packs its levels near t = 0, where an axis in t
    would squeeze the last levels (and a resample there) into a sliver. The top axis names t at a
    few levels. Returns the figure."""
    levels = np.arange(len(ess))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
    ax1.plot(levels, ess.numpy())
    ax1.axhline(n_particles, color="gray", lw=0.5)
    ax1.axhline(n_particles / 2, color="gray", lw=0.5, ls=":")
    ax1.set(ylim=(0, n_particles * 1.05), ylabel=f"ESS (of L = {n_particles})")
    ax2.plot(levels, log_weights.numpy(), lw=0.6)
    ax2.set(ylabel="normalized log-weight")
    shown = np.unique(np.linspace(0, len(levels) - 1, 5).round().astype(int))
    for ax in (ax1, ax2):
        ax.set(xlim=(0, len(levels) - 1 + 0.5), xlabel="level k (noise -> data)")
        for k in resampled:
            ax.axvline(k, color="C3", ls="--", lw=1)
            ax.annotate("resampled", (k, 1), xycoords=("data", "axes fraction"), xytext=(-3, -3),
                        textcoords="offset points", ha="right", va="top", color="C3", fontsize=8)  # fmt: skip
        top = ax.secondary_xaxis("top")
        top.set_xticks(shown, [f"t={float(times[k]):.3g}" for k in shown], fontsize=8)
    fig.tight_layout()
    return fig


def animate_cloud(path_of_cloud: Tensor, times: Tensor, path: str | Path, fps: int = 12, frames: int = 40) -> Path:
    """Write a GIF of one cloud's trajectory ``[T + 1, N, 6]`` (about ``frames`` evenly spaced levels)."""
    keep = np.unique(np.linspace(0, len(path_of_cloud) - 1, frames).round().astype(int))
    fig = plt.figure(figsize=(3.2, 3.2))
    ax = fig.add_subplot(projection="3d")

    def draw(k):
        ax.clear()
        draw_cloud(ax, path_of_cloud[k], f"t = {float(times[k]):.2f}")

    anim = animation.FuncAnimation(fig, draw, frames=list(keep) + [keep[-1]] * fps)  # hold the last frame
    anim.save(str(path), writer=animation.PillowWriter(fps=fps))
    plt.close(fig)
    return Path(path)


def scatter3d_trace(x: Tensor, size: int = 3):
    """A plotly 3-D scatter trace of one cloud ``[N, 6]``, colored by its rgb columns."""
    import plotly.graph_objects as go

    xyz = x[..., :3].detach().cpu().numpy().round(3)  # rounded: smaller files, stable outputs
    colors = [f"rgb({r:.0f},{g:.0f},{b:.0f})" for r, g, b in cloud_colors(x) * 255]
    return go.Scatter3d(
        x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2], mode="markers", marker=dict(size=size, color=colors), hoverinfo="skip"
    )


def cube_scene(limit: float = 1.6) -> dict:
    """A plotly 3-D scene layout: the cube [-limit, limit]^3, fixed (not rescaled to the data), no ticks.

    The camera sits a little further out than plotly's default eye (1.25, 1.25, 1.25), so that no
    corner of the cube is cut off at the bottom of the figure."""
    axis = dict(range=[-limit, limit], showticklabels=False, title="", autorange=False)
    return dict(xaxis=axis, yaxis=axis, zaxis=axis, aspectmode="cube", camera=dict(eye=dict(x=1.5, y=1.5, z=1.15)))


def _cube_layout(fig, title: str, limit: float = 1.6):
    fig.update_layout(title=title, width=460, height=460, margin=dict(l=0, r=0, t=40, b=0), scene=cube_scene(limit))
    return fig


def plotly_cloud(x: Tensor, title: str = "", size: int = 3):
    """An interactive 3-D scatter of one cloud ``[N, 6]`` (needs plotly, the notebooks extra)."""
    from .snapshot import SnapshotFigure

    return _cube_layout(SnapshotFigure(scatter3d_trace(x, size)), title)


def plotly_points(
    point_sets: Mapping[str, Tensor],
    colors: Mapping[str, str],
    title: str = "",
    size: int = 2,
    sizes: Mapping[str, int] | None = None,
):
    """Several named sets of points ``[M, 3]`` in one rotatable 3-D view, one color and legend entry each.

    ``sizes`` overrides ``size`` for some sets (a single marked point wants a bigger marker)."""
    import plotly.graph_objects as go

    from .snapshot import SnapshotFigure

    fig = SnapshotFigure()
    for name, xyz in point_sets.items():
        xyz = xyz.detach().cpu().numpy().round(3)
        fig.add_trace(
            go.Scatter3d(
                x=xyz[:, 0],
                y=xyz[:, 1],
                z=xyz[:, 2],
                mode="markers",
                name=name,
                marker=dict(size=(sizes or {}).get(name, size), color=colors[name]),
                hoverinfo="skip",
            )
        )
    # legend markers at a readable size, whatever the traces' own marker size
    return _cube_layout(fig, title, limit=1.2).update_layout(legend=dict(x=0, y=1, itemsizing="constant"))


def plotly_animation(clouds: Tensor, labels: list[str], title: str = "", size: int = 3, limit: float = 2.5):
    """A 3-D scatter with a play button and a slider over frames ``[F, N, 6]`` labelled ``labels``."""
    import plotly.graph_objects as go

    from .snapshot import SnapshotFigure

    frames = [go.Frame(data=[scatter3d_trace(c, size)], name=label) for c, label in zip(clouds, labels)]
    fig = SnapshotFigure(data=frames[0].data, frames=frames)
    step = dict(frame=dict(duration=300, redraw=True), mode="immediate", transition=dict(duration=0))
    fig.update_layout(
        updatemenus=[
            dict(
                type="buttons",
                showactive=False,
                x=0.05,
                y=0.05,
                buttons=[dict(label="play", method="animate", args=[None, step])],
            )
        ],
        sliders=[
            dict(
                active=0,
                x=0.2,
                len=0.75,
                y=0.05,
                steps=[dict(label=label, method="animate", args=[[label], step]) for label in labels],
            )
        ],
    )
    return _cube_layout(fig, title, limit)
