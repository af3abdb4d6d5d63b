"""Success against wall seconds: an equal-cost comparison (:mod:`poe_demo.equal_cost`) as a picture.

Each row of the comparison is one setting of the annealed sampler (K Langevin steps, L particles)
against best-of-N given at least its seconds. Drawn on a log axis of seconds per run, the
annealed sampler's settings trace one curve per K, and best-of-N's N (chosen for each row) traces
its own: where the annealed curve lies above best-of-N's at the same seconds, steering pays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import FormatStrFormatter

__all__ = ["plot_success_against_seconds"]

_K_COLORS = {0: "#9ecae1", 1: "#4292c6", 2: "#08306b"}


def _points(rows: Sequence[Mapping], side: str) -> tuple[list[float], list[float], list[float]]:
    ordered = sorted(rows, key=lambda r: r[side]["seconds_per_run"])
    return (
        [r[side]["seconds_per_run"] for r in ordered],
        [r[side]["rate"] for r in ordered],
        [r[side]["se"] for r in ordered],
    )


def plot_success_against_seconds(
    rows: Mapping[str, Sequence[Mapping]], titles: Mapping[str, str] | None = None, path: str | Path | None = None
):
    """One panel per target: success rate (± one standard error) against seconds per run, log axis.

    ``rows``: ``{target: [row, ...]}`` as ``benchmarks/seconds.py`` writes them, each row with
    ``K``, ``L``, ``N`` and, for ``"annealed"`` and ``"best_of_n"``, ``rate``, ``se`` and
    ``seconds_per_run``. ``titles`` names the targets. Saved to ``path`` (PNG) when given.
    Returns the figure."""
    if not rows:
        raise ValueError("rows must hold at least one target")
    titles = titles or {}
    fig, axes = plt.subplots(1, len(rows), figsize=(5 * len(rows), 3.8), sharey=True, squeeze=False)
    for ax, (target, measured) in zip(axes[0], rows.items()):
        best = _points(measured, "best_of_n")
        ax.errorbar(*best, color="0.45", marker="s", ms=4, capsize=2, lw=1, label="best-of-N (N set per row)")
        for k in sorted({r["K"] for r in measured}):
            at_k, color = [r for r in measured if r["K"] == k], _K_COLORS.get(k, "black")
            ax.errorbar(*_points(at_k, "annealed"), color=color, marker="o", ms=5, capsize=2, lw=1.5,
                        label=f"annealed, K = {k}")  # fmt: skip
            for r in at_k:
                ax.annotate(f"L={r['L']}", (r["annealed"]["seconds_per_run"], r["annealed"]["rate"]),
                            textcoords="offset points", xytext=(4, 4), fontsize=7, color=color)  # fmt: skip
        ax.set(xscale="log", xlabel="seconds per run (log)", title=titles.get(target, target), ylim=(-0.03, 1.05))
        for axis in (ax.xaxis.set_major_formatter, ax.xaxis.set_minor_formatter):
            axis(FormatStrFormatter("%g"))  # 0.4 s, not 4 x 10^-1
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("success rate (judge)")
    legend = {}  # every K of every panel, once
    for ax in axes[0]:
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
    axes[0][0].legend(legend.values(), legend.keys(), fontsize=8, loc="upper left")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return fig
