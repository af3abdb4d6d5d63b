"""The lesson's data: clips of a bouncing ball, drawn from stated ranges, simulated and rendered.

A clip is :data:`FRAMES` frames of :data:`SIZE` x :data:`SIZE` pixels, :data:`FRAME_SECONDS`
apart, values in [-1, 1]: background -1, the ball +1, its edge soft. The size is the smallest at
which the ball (radius 0.08 of the box, 1.3 pixels) still covers a few pixels and a tracker
finds its center to a fraction of a pixel; at 8 frames a clip spans 0.7 s, in which a ball
dropped from the top reaches the floor and most clips bounce at least once. The ranges, seeds
and split are in ``data/bouncing_ball.md``; nothing is downloaded.
"""

from __future__ import annotations

import numpy as np
import torch

from .physics import CENTER_RANGE, RADIUS, BallState, simulate_many

__all__ = ["FRAMES", "SIZE", "FRAME_SECONDS", "RANGES", "SOFTNESS", "draw_states", "render", "make_clips"]

FRAMES, SIZE, FRAME_SECONDS = 8, 16, 0.1
SOFTNESS = 0.02  # the ball's edge: a logistic step this wide (box widths), a third of a pixel
RANGES = {  # uniform, per clip
    "x": CENTER_RANGE,
    "y": (0.35, CENTER_RANGE[1]),
    "vx": (-1.5, 1.5),
    "vy": (-1.0, 1.0),
    "restitution": (0.6, 0.9),
}


def draw_states(n: int, generator: torch.Generator | None = None) -> list[BallState]:
    """``n`` starting states, each coordinate uniform on its :data:`RANGES`."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    u = torch.rand(n, len(RANGES), generator=generator, dtype=torch.float64).numpy()
    low, high = np.array([r[0] for r in RANGES.values()]), np.array([r[1] for r in RANGES.values()])
    values = low + u * (high - low)
    return [BallState((x, y), (vx, vy), e) for x, y, vx, vy, e in values.tolist()]


def render(positions: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Frames ``[..., size, size]`` in [-1, 1] of balls at ``positions [..., 2]`` (box units, y up).

    Pixel (i, j) has its center at x = (j + 1/2) / size, y = 1 - (i + 1/2) / size (row 0 at the
    top); its value is 2 a - 1, a = sigmoid((radius - distance) / softness)."""
    centers = (np.arange(size) + 0.5) / size
    dx = centers[None, :] - positions[..., 0, None, None]
    dy = (1 - centers)[:, None] - positions[..., 1, None, None]
    inside = 1 / (1 + np.exp(-(RADIUS - np.hypot(dx, dy)) / SOFTNESS))
    return 2 * inside - 1


def make_clips(n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, np.ndarray]:
    """(clips ``[n, F, H, W]`` float32, the ball's true positions ``[n, F, 2]``) for ``n`` drawn states."""
    starts = np.array([[*s.position, *s.velocity, s.restitution] for s in draw_states(n, generator)])
    paths = simulate_many(starts, FRAMES, FRAME_SECONDS)[0]
    return torch.from_numpy(render(paths)).float(), paths
