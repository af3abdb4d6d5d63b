"""The physics engine: a ball under gravity in a closed box, bouncing with a restitution.

Units: the box is the unit square, x to the right and y up; seconds. Between contacts the ball
flies on the exact parabola of constant gravity,

    p(t) = p + v t - (0, g t^2 / 2),    v(t) = v - (0, g t),

so the engine has no step size and no integration error: it finds the time of the next contact
in closed form (a line for the walls, a quadratic for the floor and the ceiling), flies there,
reflects the velocity's normal component times the restitution e, and goes on. A contact
conserves the tangential velocity and multiplies the normal one by -e, so the energy
g y + |v|^2 / 2 never grows, and is conserved at e = 1. A bounce slower than
:data:`REST_SPEED` ends in rest on the floor (else the bounces would shrink forever, faster and
faster: the engine would never reach the next frame); a resting ball slides at its horizontal
speed.

Pure numpy and deterministic: the same state gives the same clip. It is both the source of the
lesson's training clips and, inside the physics expert, the judge of a generated one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["GRAVITY", "RADIUS", "REST_SPEED", "CENTER_RANGE", "BallState", "advance", "simulate", "simulate_many"]

GRAVITY = 8.0  # box heights per second squared: a drop from the top takes about a third of a second
RADIUS = 0.08  # the ball's radius, in box widths: about 1.3 pixels at 16 x 16
REST_SPEED = 0.05  # a bounce slower than this (box heights per second) ends in rest on the floor
CENTER_RANGE = (RADIUS, 1.0 - RADIUS)  # where the ball's center can be, on either axis
_LOW, _HIGH = CENTER_RANGE


@dataclass(frozen=True)
class BallState:
    """One ball: ``position`` and ``velocity`` ``(x, y)``, ``restitution`` e in [0, 1]."""

    position: tuple[float, float]
    velocity: tuple[float, float]
    restitution: float

    def __post_init__(self):
        x, y = self.position
        if not (_LOW - 1e-9 <= x <= _HIGH + 1e-9 and _LOW - 1e-9 <= y <= _HIGH + 1e-9):
            raise ValueError(f"position must keep the ball in the box, [{_LOW}, {_HIGH}] per axis, got {self.position}")
        if not all(math.isfinite(c) for c in self.velocity):
            raise ValueError(f"velocity must be finite, got {self.velocity}")
        if not 0.0 <= self.restitution <= 1.0:
            raise ValueError(f"restitution must be in [0, 1], got {self.restitution}")


def _first_contact(x, y, vx, vy, resting) -> tuple[np.ndarray, np.ndarray]:
    """(time, axis) ``[n]`` of each ball's next contact with a wall (axis 0) or the floor or ceiling
    (axis 1); inf if none. All >= 0: a ball on a surface and moving into it meets it now (t = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        wall = np.where(vx > 0, (_HIGH - x) / vx, np.where(vx < 0, (_LOW - x) / vx, np.inf))
        rise = vy * vy - 2 * GRAVITY * (_HIGH - y)  # discriminant of y(t) = top: negative if it never gets there
        ceiling = np.where((vy > 0) & (rise >= 0), (vy - np.sqrt(np.maximum(rise, 0))) / GRAVITY, np.inf)
        floor = (vy + np.sqrt(vy * vy + 2 * GRAVITY * np.maximum(y - _LOW, 0.0))) / GRAVITY
    vertical = np.where(resting, np.inf, np.minimum(ceiling, floor))
    return np.minimum(wall, vertical), (vertical < wall).astype(int)  # a tie goes to the wall


def _advance(balls: np.ndarray, duration: float) -> np.ndarray:
    """Balls ``[n, 5]`` (x, y, vx, vy, e) ``duration`` seconds later, all at once: exact flight from
    contact to contact, each ball's loop run until its time is used up."""
    x, y, vx, vy, e = (balls[:, k].copy() for k in range(5))
    resting = (y <= _LOW + 1e-12) & (np.abs(vy) < REST_SPEED)
    vy[resting] = 0.0
    left = np.full(len(x), float(duration))
    flying = left > 0
    while flying.any():
        t, axis = _first_contact(x, y, vx, vy, resting)
        step = np.where(flying, np.minimum(t, left), 0.0)
        x += vx * step
        y = np.where(resting, y, y + vy * step - 0.5 * GRAVITY * step * step)
        vy = np.where(resting, vy, vy - GRAVITY * step)
        left -= step
        contact = flying & (step >= t)
        flying = contact & (left > 0)
        wall, vertical = contact & (axis == 0), contact & (axis == 1)
        x = np.where(wall, np.where(vx > 0, _HIGH, _LOW), x)
        vx = np.where(wall, -e * vx, vx)
        at_floor = vertical & (vy < 0)
        y = np.where(vertical, np.where(at_floor, _LOW, _HIGH), y)
        vy = np.where(vertical, -e * vy, vy)
        stops = at_floor & (vy < REST_SPEED)
        resting |= stops
        vy[stops] = 0.0
    return np.stack([np.clip(x, _LOW, _HIGH), np.clip(y, _LOW, _HIGH), vx, vy, e], 1)


def _as_array(state: BallState) -> np.ndarray:
    return np.array([[*state.position, *state.velocity, state.restitution]], dtype=float)


def advance(state: BallState, duration: float) -> BallState:
    """The ball ``duration`` seconds later: exact flight from contact to contact."""
    if not duration >= 0:
        raise ValueError(f"duration must be >= 0, got {duration}")
    x, y, vx, vy, e = _advance(_as_array(state), duration)[0].tolist()
    return BallState((x, y), (vx, vy), e)


def simulate_many(starts: np.ndarray, n_frames: int, frame_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(positions, velocities) ``[n, F, 2]`` of ``n`` balls at times 0, dt, ..., (F - 1) dt, dt =
    ``frame_seconds``, from ``starts [n, 5]`` = (x, y, vx, vy, e) rows: one engine run for all of them.

    Starts are checked as :class:`BallState` checks one."""
    starts = np.asarray(starts, dtype=float)
    if starts.ndim != 2 or starts.shape[1] != 5:
        raise ValueError(f"starts must be [n, 5] rows (x, y, vx, vy, e), got shape {starts.shape}")
    if not isinstance(n_frames, int) or n_frames < 1:
        raise ValueError(f"n_frames must be an integer >= 1, got {n_frames!r}")
    if not frame_seconds >= 0:
        raise ValueError(f"frame_seconds must be >= 0, got {frame_seconds}")
    outside = ~((starts[:, :2] >= _LOW - 1e-9) & (starts[:, :2] <= _HIGH + 1e-9)).all(1)
    bad = outside | ~np.isfinite(starts[:, 2:4]).all(1) | ~((starts[:, 4] >= 0) & (starts[:, 4] <= 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"start {row} = {starts[row].tolist()} is not a ball in the box: position in [{_LOW}, {_HIGH}] "
            "per axis, finite velocity, restitution in [0, 1]"
        )
    states = np.empty((len(starts), n_frames, 5))
    states[:, 0] = starts
    for f in range(1, n_frames):
        states[:, f] = _advance(states[:, f - 1], frame_seconds)
    return states[..., :2], states[..., 2:4]


def simulate(state: BallState, n_frames: int, frame_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(positions, velocities) ``[F, 2]`` at times 0, dt, ..., (F - 1) dt, dt = ``frame_seconds``."""
    positions, velocities = simulate_many(_as_array(state), n_frames, frame_seconds)
    return positions[0], velocities[0]
