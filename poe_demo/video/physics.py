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

__all__ = ["GRAVITY", "RADIUS", "REST_SPEED", "CENTER_RANGE", "BallState", "advance", "simulate"]

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


def _first_contact(x: float, y: float, vx: float, vy: float, resting: bool) -> tuple[float, int]:
    """(time, axis) of the next contact with a wall (axis 0) or the floor or ceiling (axis 1); inf if none."""
    times = [(math.inf, 0)]
    if vx > 0:
        times.append(((_HIGH - x) / vx, 0))
    elif vx < 0:
        times.append(((_LOW - x) / vx, 0))
    if not resting:
        rise = vy * vy - 2 * GRAVITY * (_HIGH - y)  # discriminant of y(t) = top: negative if it never gets there
        if vy > 0 and rise >= 0:
            times.append(((vy - math.sqrt(rise)) / GRAVITY, 1))
        times.append(((vy + math.sqrt(vy * vy + 2 * GRAVITY * max(y - _LOW, 0.0))) / GRAVITY, 1))
    return min(times)  # all >= 0: a ball on a surface and moving into it meets it now (t = 0)


def advance(state: BallState, duration: float) -> BallState:
    """The ball ``duration`` seconds later: exact flight from contact to contact."""
    if not duration >= 0:
        raise ValueError(f"duration must be >= 0, got {duration}")
    (x, y), (vx, vy), e = state.position, state.velocity, state.restitution
    resting = y <= _LOW + 1e-12 and abs(vy) < REST_SPEED
    vy = 0.0 if resting else vy
    left = duration
    while left > 0:
        t, axis = _first_contact(x, y, vx, vy, resting)
        step = min(t, left)
        x += vx * step
        if not resting:
            y += vy * step - 0.5 * GRAVITY * step * step
            vy -= GRAVITY * step
        left -= step
        if step < t:
            break
        if axis == 0:
            x, vx = (_HIGH if vx > 0 else _LOW), -e * vx
        else:
            at_floor = vy < 0
            y, vy = (_LOW if at_floor else _HIGH), -e * vy
            if at_floor and vy < REST_SPEED:
                resting, vy = True, 0.0
    return BallState((min(max(x, _LOW), _HIGH), min(max(y, _LOW), _HIGH)), (vx, vy), e)


def simulate(state: BallState, n_frames: int, frame_seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(positions, velocities) ``[F, 2]`` at times 0, dt, ..., (F - 1) dt, dt = ``frame_seconds``."""
    if not isinstance(n_frames, int) or n_frames < 1:
        raise ValueError(f"n_frames must be an integer >= 1, got {n_frames!r}")
    positions, velocities = np.empty((n_frames, 2)), np.empty((n_frames, 2))
    for f in range(n_frames):
        if f:
            state = advance(state, frame_seconds)
        positions[f], velocities[f] = state.position, state.velocity
    return positions, velocities
