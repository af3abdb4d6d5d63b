"""Fit the engine's trajectory family to a tracked path: how physical is a clip?

A clip is physical when some start (position, velocity, restitution) makes the engine
(:mod:`~poe_demo.video.physics`) pass through the ball's tracked centers. :func:`fit_starts`
finds, for many clips at once, the start that minimizes the squared distances over the frames
where a ball was found,

    min_{p, v, e} sum_f |simulate(p, v, e)_f - tracked_f|^2,

by Levenberg-Marquardt within the box and 0 <= e <= 1 (the Jacobian by finite differences:
the engine has no derivative, but runs every row and unknown in one vectorized call), from a
few starting guesses: free flight through the first two centers, or the second and third (a
contact between the first two frames spoils one chord), mirrored back into the box where it
leaves it, and e spread over its range (a path with no contact says nothing about e).

The RMS distance at the optimum is the clip's *physics residual*; the engine's own paths have
one of 0 where the guesses find the right valley (on 300 paths, all but 4, and those within
0.2 pixels), a clip that breaks the laws has a large one (``tests/test_video_fit.py``). The path
is a continuous function of the start (a contact moves in time as the start moves), so the
problem is well posed; it is not convex, hence the guesses. Against scipy's trust-region least
squares from the same guesses, on 300 paths: clean and noisy (0.2 pixels), the same residuals to
0.01 pixel in all but 6 of 600; shuffled (many valleys), each found the lower one about as
often (82 times this fit, 63 scipy's); scipy took 110 to 220 times as long.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .physics import CENTER_RANGE, GRAVITY, BallState, simulate_many

__all__ = ["Fit", "Fits", "fit_start", "fit_starts"]

_GUESSED_RESTITUTIONS = (0.4, 0.8)
_SPEED_BOUND = 5.0  # box sizes per second: far beyond the data's ranges
_LOW = np.array([CENTER_RANGE[0], CENTER_RANGE[0], -_SPEED_BOUND, -_SPEED_BOUND, 0.0])
_HIGH = np.array([CENTER_RANGE[1], CENTER_RANGE[1], _SPEED_BOUND, _SPEED_BOUND, 1.0])
_SCALE = np.array([0.1, 0.1, 1.0, 1.0, 0.3])  # a typical size of each unknown: sets the damping's units
_STEP = 1e-6 * _SCALE  # the finite differences' steps


@dataclass(frozen=True)
class Fit:
    """The best start found and its RMS distance to the tracked centers (box units), over ``frames`` frames."""

    start: BallState
    residual: float
    frames: int


@dataclass(frozen=True)
class Fits:
    """:func:`fit_starts`' answer for n clips: ``starts [n, 5]`` (x, y, vx, vy, e), ``residual [n]``
    (RMS distance, box units), ``frames [n]`` (frames with a ball); NaN rows where fewer than 3 frames do."""

    starts: np.ndarray
    residual: np.ndarray
    frames: np.ndarray


def _chord_starts(positions: np.ndarray, a: np.ndarray, b: np.ndarray, frame_seconds: float) -> np.ndarray:
    """(x, y, vx, vy) ``[n, 4]`` at frame 0 of free flight through the centers of frames a and b ``[n]``."""
    rows = np.arange(len(positions))
    gap = ((b - a) * frame_seconds)[:, None]
    velocity = (positions[rows, b] - positions[rows, a]) / gap
    velocity[:, 1] += 0.5 * GRAVITY * gap[:, 0]  # the chord's slope is the velocity half-way: back to frame a
    back = a * frame_seconds  # and from frame a back to frame 0
    position = positions[rows, a] - velocity * back[:, None]
    position[:, 1] -= 0.5 * GRAVITY * back**2
    velocity[:, 1] += GRAVITY * back
    return np.concatenate([position, velocity], 1)


def _unfolded(guess: np.ndarray) -> np.ndarray:
    """Starts ``[n, 4]`` extrapolated out of the box, mirrored back in by each wall they crossed
    (exact for e = 1 and no gravity; a guess otherwise)."""
    low, high = CENTER_RANGE
    guess = guess.copy()
    for axis in (0, 1):
        for _ in range(4):  # far enough out for a few crossings
            p, v = guess[:, axis], guess[:, axis + 2]
            out = (p < low) | (p > high)
            guess[:, axis] = np.where(p < low, 2 * low - p, np.where(p > high, 2 * high - p, p))
            guess[:, axis + 2] = np.where(out, -v, v)
    return guess


def _distances(starts: np.ndarray, targets: np.ndarray, found: np.ndarray, frame_seconds: float) -> np.ndarray:
    """simulate(start)_f - tracked_f over the found frames, zero elsewhere: ``[m, 2F]``."""
    paths = simulate_many(starts, targets.shape[1], frame_seconds)[0]
    return np.where(found[..., None], paths - targets, 0.0).reshape(len(starts), -1)


def _levenberg_marquardt(starts, targets, found, frame_seconds, iterations):
    """Damped Gauss-Newton in the box, all rows at once; the Jacobian by forward differences
    (one engine run for every row and unknown), each step kept only if it lowers the cost."""
    m = len(starts)
    r = _distances(starts, targets, found, frame_seconds)
    cost, damping = (r**2).sum(1), np.full(m, 1e-3)
    for _ in range(iterations):
        steps = np.where(starts + _STEP > _HIGH, -_STEP, _STEP)  # step away from a bound it sits on
        shifted = starts[:, None, :] + np.eye(5) * steps[:, None, :]  # [m, 5, 5]
        moved = _distances(shifted.reshape(-1, 5), np.repeat(targets, 5, 0), np.repeat(found, 5, 0), frame_seconds)
        jacobian = (moved.reshape(m, 5, -1) - r[:, None, :]) / steps[:, :, None]  # [m, 5, 2F]
        normal = jacobian @ jacobian.transpose(0, 2, 1)
        gradient = (jacobian @ r[..., None])[..., 0]
        diagonal = np.diagonal(normal, axis1=1, axis2=2) + 1e-9 / _SCALE**2  # e unseen without a contact
        lhs = normal + damping[:, None, None] * np.eye(5) * diagonal[:, None, :]
        trial = np.clip(starts - np.linalg.solve(lhs, gradient[..., None])[..., 0], _LOW, _HIGH)
        r_trial = _distances(trial, targets, found, frame_seconds)
        cost_trial = (r_trial**2).sum(1)
        better = cost_trial < cost
        starts = np.where(better[:, None], trial, starts)
        r, cost = np.where(better[:, None], r_trial, r), np.where(better, cost_trial, cost)
        damping = np.clip(np.where(better, damping / 3, damping * 4), 1e-9, 1e9)
    return starts, cost


def fit_starts(positions: np.ndarray, frame_seconds: float, iterations: int = 40) -> Fits:
    """The engine's starts that best explain ``positions [n, F, 2]`` (NaN where no ball was found), all clips at once.

    Each clip is fitted from four guesses (two chords times two restitutions), ``iterations``
    Levenberg-Marquardt steps each, and keeps the best; rows with fewer than 3 frames holding a
    ball (5 unknowns need at least 6 coordinates) are NaN."""
    positions = np.asarray(positions, float)
    if positions.ndim != 3 or positions.shape[2] != 2:
        raise ValueError(f"positions must be [n, F, 2], got shape {positions.shape}")
    n, n_frames = positions.shape[:2]
    found = np.isfinite(positions).all(2)
    counts = found.sum(1)
    ok = counts >= 3
    starts, residual = np.full((n, 5), np.nan), np.full(n, np.nan)
    if ok.any():
        targets, seen = np.nan_to_num(positions[ok]), found[ok]
        first = np.argsort(~seen, axis=1, kind="stable")[:, :3]  # the first three frames with a ball
        chords = [  # a contact between the first two frames spoils one chord, not both
            _unfolded(_chord_starts(targets, first[:, i], first[:, i + 1], frame_seconds)) for i in (0, 1)
        ]
        guesses = [np.c_[chord, np.full(len(chord), e)] for chord in chords for e in _GUESSED_RESTITUTIONS]
        g = len(guesses)
        rows = np.clip(np.stack(guesses, 1).reshape(-1, 5), _LOW, _HIGH)  # [clips * g, 5], a clip's guesses together
        fitted, cost = _levenberg_marquardt(
            rows, np.repeat(targets, g, 0), np.repeat(seen, g, 0), frame_seconds, iterations
        )
        best = cost.reshape(-1, g).argmin(1)
        pick = np.arange(len(best)) * g + best
        starts[ok], residual[ok] = fitted[pick], np.sqrt(cost[pick] / counts[ok])
    return Fits(starts, residual, counts)


def fit_start(positions: np.ndarray, frame_seconds: float) -> Fit | None:
    """The engine's start that best explains ``positions [F, 2]`` (NaN where no ball was found), by
    :func:`fit_starts`. None when fewer than 3 frames hold a ball."""
    positions = np.asarray(positions, float)
    if positions.ndim != 2 or positions.shape[1] != 2:
        raise ValueError(f"positions must be [F, 2], got shape {positions.shape}")
    fits = fit_starts(positions[None], frame_seconds)
    if not fits.frames[0] >= 3:
        return None
    x, y, vx, vy, e = fits.starts[0].tolist()
    return Fit(BallState((x, y), (vx, vy), e), float(fits.residual[0]), int(fits.frames[0]))
