"""Fit the engine's trajectory family to a tracked path: how physical is a clip?

A clip is physical when some start (position, velocity, restitution) makes the engine
(:mod:`~poe_demo.video.physics`) pass through the ball's tracked centers. :func:`fit_start` finds
the start that minimizes the squared distances over the frames where a ball was found,

    min_{p, v, e} sum_f |simulate(p, v, e)_f - tracked_f|^2,

by least squares (scipy's trust-region reflective method, within the box and 0 <= e <= 1), from
a few starting guesses: free flight through the first two centers, or the second and third
(a contact between the first two frames spoils one chord), mirrored back into the box where it
leaves it, and e spread over its range (a path with no contact says nothing about e). On 300
of the engine's own paths the fit comes within 0.11 pixels of every center; where it stops
short of 0 (6 paths), the ball grazes the ceiling before the second frame, a valley the
guesses miss (``tests/test_video_fit.py``).
The RMS distance at the optimum is the clip's *physics residual*; the engine's own clips have
one near 0 (their centers are tracked to a tenth of a pixel), a clip that breaks the laws has a
large one. The path is a continuous function of the start (a contact moves in time as the
start moves), so the least-squares problem is well posed; it is not convex, hence the guesses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from .physics import CENTER_RANGE, GRAVITY, BallState, simulate

__all__ = ["Fit", "fit_start"]

_GUESSED_RESTITUTIONS = (0.4, 0.8)
_SPEED_BOUND = 5.0  # box sizes per second: far beyond the data's ranges


@dataclass(frozen=True)
class Fit:
    """The best start found and its RMS distance to the tracked centers (box units), over ``frames`` frames."""

    start: BallState
    residual: float
    frames: int


def _path(params: np.ndarray, n_frames: int, frame_seconds: float) -> np.ndarray:
    x, y, vx, vy, e = params
    low, high = CENTER_RANGE
    start = BallState((min(max(x, low), high), min(max(y, low), high)), (vx, vy), min(max(e, 0.0), 1.0))
    return simulate(start, n_frames, frame_seconds)[0]


def _chord_start(positions: np.ndarray, pair: tuple[int, int], frame_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(position, velocity) at frame 0 of free flight through the centers of frames ``pair``."""
    a, b = pair
    gap = (b - a) * frame_seconds
    velocity = (positions[b] - positions[a]) / gap
    velocity[1] += 0.5 * GRAVITY * gap  # the chord's slope is the velocity half-way: back to frame a
    back = a * frame_seconds  # and from frame a back to frame 0
    position = positions[a] - velocity * back - np.array([0.0, 0.5 * GRAVITY * back**2])
    velocity[1] += GRAVITY * back
    return position, velocity


def _unfolded(position: np.ndarray, velocity: np.ndarray) -> np.ndarray:
    """A start extrapolated out of the box, mirrored back in by each wall it crossed (exact for e = 1
    and no gravity; a guess otherwise): ``[x, y, vx, vy]``."""
    low, high = CENTER_RANGE
    position, velocity = position.copy(), velocity.copy()
    for axis in (0, 1):
        for _ in range(4):  # far enough out for a few crossings
            if position[axis] < low:
                position[axis], velocity[axis] = 2 * low - position[axis], -velocity[axis]
            elif position[axis] > high:
                position[axis], velocity[axis] = 2 * high - position[axis], -velocity[axis]
    return np.r_[position, velocity]


def fit_start(positions: np.ndarray, frame_seconds: float) -> Fit | None:
    """The engine's start that best explains ``positions [F, 2]`` (NaN where no ball was found).

    None when fewer than 3 frames hold a ball: 5 unknowns need at least 6 coordinates."""
    positions = np.asarray(positions, float)
    if positions.ndim != 2 or positions.shape[1] != 2:
        raise ValueError(f"positions must be [F, 2], got shape {positions.shape}")
    found = np.isfinite(positions).all(1)
    frames = np.flatnonzero(found)
    if len(frames) < 3:
        return None
    n_frames = int(frames[-1]) + 1
    low, high = CENTER_RANGE
    bounds = ([low, low, -_SPEED_BOUND, -_SPEED_BOUND, 0.0], [high, high, _SPEED_BOUND, _SPEED_BOUND, 1.0])

    def distances(params: np.ndarray) -> np.ndarray:
        return (_path(params, n_frames, frame_seconds)[frames] - positions[frames]).ravel()

    best = None
    for pair in zip(frames[:2], frames[1:3]):  # a contact between the first two frames spoils one chord, not both
        for e in _GUESSED_RESTITUTIONS:
            guess = np.clip(np.r_[_unfolded(*_chord_start(positions, pair, frame_seconds)), e], *bounds)
            solution = least_squares(distances, guess, bounds=bounds, x_scale=[0.1, 0.1, 1.0, 1.0, 0.3])
            if best is None or solution.cost < best.cost:
                best = solution
    x, y, vx, vy, e = best.x
    residual = float(np.sqrt(2 * best.cost / len(frames)))  # cost is half the sum of squares
    return Fit(BallState((x, y), (vx, vy), e), residual, len(frames))
