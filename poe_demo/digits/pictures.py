"""Pictures of digit samples: a grid of particles with the returned one framed."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from torch import Tensor

from .data import to_pixels

__all__ = ["plot_digits"]


def plot_digits(
    images: Tensor,
    columns: int = 8,
    marked: int | None = None,
    labels: list[str] | None = None,
    title: str = "",
    path: str | Path | None = None,
    cell: float = 0.9,
    row_labels: list[str] | None = None,
):
    """A grid of images ``[n, 1, 14, 14]`` (or ``[n, 14, 14]``) in [-1, 1], dark ink on white.

    ``marked`` frames one image in red (the returned particle); ``labels`` captions each image;
    ``row_labels`` names each row, left of it. Saved to ``path`` (PNG) when given. Returns the figure."""
    pixels = to_pixels(images.detach().cpu().reshape(len(images), *images.shape[-2:])).numpy()
    rows = -(-len(pixels) // columns)
    extra = 0.25 if labels else 0.0
    fig, axes = plt.subplots(rows, columns, figsize=(cell * columns, (cell + extra) * rows + (0.5 if title else 0)))
    for i, ax in enumerate(np.atleast_1d(axes).flat):
        ax.set(xticks=[], yticks=[])
        if i >= len(pixels):
            ax.axis("off")
            continue
        ax.imshow(pixels[i], cmap="gray_r", vmin=0, vmax=1)
        if labels:
            ax.set_title(labels[i], fontsize=7, pad=5)  # clear of the red frame's 3-point line
        if row_labels and i % columns == 0:
            ax.set_ylabel(row_labels[i // columns], rotation=0, ha="right", va="center", fontsize=8)
        for spine in ax.spines.values():
            spine.set(color="red" if i == marked else "0.8", linewidth=3 if i == marked else 0.5)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return fig
