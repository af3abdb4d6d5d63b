"""Find the ball in each frame: is there one clear ball, and where is its center?

A generated frame can hold a faint smear, two half-balls or noise instead of a ball, so the
tracker asks three things of a frame's brightness, each against the rendered ball
(:func:`~poe_demo.video.clips.render`), before it reports a position:

- a peak: some pixel at least half-way from the background to the ball (> 0);
- a ball's worth of brightness: the mass sum((x + 1) / 2) over pixels above the background
  (> -0.8, a tenth of the way to the ball), between half and twice a rendered ball's;
- compactness: the RMS distance of that mass from its center below twice a rendered ball's.

The position is the brightness-weighted center of the pixels above the background. On rendered
frames it is within a tenth of a pixel of the truth away from the walls (``tests/test_video_tracking.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .clips import render

__all__ = ["centers", "track"]

_BACKGROUND = -0.8  # pixels at or below this (a tenth of the way to the ball) count as background
_PEAK = 0.0


def _moments(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mass ``[...]``, center ``[..., 2]`` in box units with y up, RMS radius ``[...]``) of frames ``[..., H, W]``."""
    size = frames.shape[-1]
    weight = np.where(frames > _BACKGROUND, (frames + 1) / 2, 0.0)
    centers = (np.arange(size) + 0.5) / size
    mass = weight.sum((-2, -1))
    safe = np.maximum(mass, 1e-12)
    x = (weight * centers[None, :]).sum((-2, -1)) / safe
    y = (weight * (1 - centers)[:, None]).sum((-2, -1)) / safe
    dx = centers[None, :] - x[..., None, None]
    dy = (1 - centers)[:, None] - y[..., None, None]
    radius = np.sqrt((weight * (dx**2 + dy**2)).sum((-2, -1)) / safe)
    return mass, np.stack([x, y], -1), radius


@lru_cache(maxsize=4)
def _reference(size: int) -> tuple[float, float]:
    """(mass, RMS radius) of one rendered ball in the middle of a frame of ``size`` pixels."""
    mass, _, radius = _moments(render(np.array([0.5, 0.5]), size))
    return float(mass), float(radius)


def _frames(clips: torch.Tensor | np.ndarray) -> np.ndarray:
    frames = clips.detach().cpu().double().numpy() if isinstance(clips, torch.Tensor) else np.asarray(clips, float)
    if frames.ndim < 2 or frames.shape[-1] != frames.shape[-2]:
        raise ValueError(f"clips must be [..., H, W] with square frames, got shape {frames.shape}")
    return frames


def centers(clips: torch.Tensor | np.ndarray) -> np.ndarray:
    """The brightness-weighted center ``[..., F, 2]`` of every frame of clips ``[..., F, H, W]``, ball or not
    (NaN where nothing is above the background): where a blurred or faint frame's brightness sits."""
    mass, center, _ = _moments(_frames(clips))
    return np.where(mass[..., None] > 0, center, np.nan)


def track(clips: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions ``[..., F, 2]`` in box units, y up; found ``[..., F]`` bool) for clips ``[..., F, H, W]`` in [-1, 1].

    Where no clear ball is found the position is NaN."""
    frames = _frames(clips)
    ball_mass, ball_radius = _reference(frames.shape[-1])
    mass, center, radius = _moments(frames)
    found = (
        (frames.max((-2, -1)) > _PEAK)
        & (mass > 0.5 * ball_mass)
        & (mass < 2.0 * ball_mass)
        & (radius < 2.0 * ball_radius)
    )
    return np.where(found[..., None], center, np.nan), found
