"""Clips as pictures: an animated GIF of a run's particles, and a strip of one clip's frames.

Both draw pixels as they are (nearest neighbour, enlarged), ball white on black, so that a
faint or doubled ball looks faint or doubled; the returned clip is framed in grey.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .clips import FRAME_SECONDS

__all__ = ["clip_grid", "save_gif", "frame_strip"]

_GAP, _FRAME_VALUE = 2, 110  # pixels between clips; the grey of the returned clip's frame


def _pixels(frames: np.ndarray, scale: int) -> np.ndarray:
    """Frames ``[..., H, W]`` in [-1, 1] as 8-bit grey, each pixel a ``scale`` x ``scale`` block."""
    grey = np.rint((np.clip(frames, -1, 1) + 1) * 127.5).astype(np.uint8)
    return grey.repeat(scale, -2).repeat(scale, -1)


def clip_grid(clips: np.ndarray, frame: int, best: int | None = None, columns: int = 8, scale: int = 6) -> np.ndarray:
    """Frame ``frame`` of every clip ``[L, F, H, W]`` side by side, ``columns`` to a row: ``[rows * h, columns * w]``
    8-bit grey, clip ``best`` framed."""
    clips = np.asarray(clips)
    n, size = len(clips), clips.shape[-1] * scale
    columns = min(columns, n)
    rows = -(-n // columns)
    cell = size + 2 * _GAP
    canvas = np.zeros((rows * cell, columns * cell), np.uint8)
    for i, tile in enumerate(_pixels(clips[:, frame], scale)):
        top, left = (i // columns) * cell, (i % columns) * cell
        if i == best:
            canvas[top : top + cell, left : left + cell] = _FRAME_VALUE
        canvas[top + _GAP : top + _GAP + size, left + _GAP : left + _GAP + size] = tile
    return canvas


def save_gif(path: Path, clips: np.ndarray, best: int | None = None, slowdown: float = 2.0) -> Path:
    """An animated GIF of clips ``[L, F, H, W]`` playing together, looping, at 1 / ``slowdown`` of real time."""
    frames = [Image.fromarray(clip_grid(clips, f, best)) for f in range(np.asarray(clips).shape[1])]
    duration = int(round(1000 * FRAME_SECONDS * slowdown))
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0)
    return Path(path)


def frame_strip(clip: np.ndarray, scale: int = 6) -> np.ndarray:
    """One clip ``[F, H, W]`` as its frames left to right: ``[h, F * w]`` 8-bit grey (the README's picture)."""
    return clip_grid(np.asarray(clip)[:, None], 0, columns=len(clip), scale=scale)
