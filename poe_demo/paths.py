"""The linear (rectified-flow) probability path and the conversions it implies.

Convention used everywhere in poe_demo: time runs from data at ``t = 0`` to noise at ``t = 1``,

    x_t = (1 - t) x_0 + t eps,        v = dx_t/dt = eps - x_0,

and sampling integrates from ``t = 1`` down to ``t = 0``. Because x_t is linear in (x_0, eps),
the predicted clean sample follows from the velocity for *any* noise distribution:

    x_hat = E[x_0 | x_t] = x_t - t v(x_t, t).

When eps is standard Gaussian, Tweedie's formula ties the score to the same posterior mean,
``score = -(x_t - (1 - t) x_hat) / t^2``, which gives the two conversions below. These are the
only copies of these formulas in the package.
"""

from __future__ import annotations

from torch import Tensor

__all__ = [
    "interpolate",
    "velocity_target",
    "x_hat_from_velocity",
    "score_from_velocity",
    "velocity_from_score",
]


def interpolate(x_0: Tensor, eps: Tensor, t: float | Tensor) -> Tensor:
    """x_t = (1 - t) x_0 + t eps. ``t`` is a float or broadcasts against ``x_0``."""
    return (1 - t) * x_0 + t * eps


def velocity_target(x_0: Tensor, eps: Tensor) -> Tensor:
    """The conditional velocity dx_t/dt = eps - x_0 that flow matching regresses onto."""
    return eps - x_0


def x_hat_from_velocity(x_t: Tensor, v: Tensor, t: float | Tensor) -> Tensor:
    """Predicted clean sample x_hat = x_t - t v (exact for any noise, since the path is linear)."""
    return x_t - t * v


def score_from_velocity(x_t: Tensor, v: Tensor, t: float | Tensor) -> Tensor:
    """grad log p_t(x_t) = -(x_t + (1 - t) v) / t, valid for standard Gaussian noise, t in (0, 1]."""
    return -(x_t + (1 - t) * v) / t


def velocity_from_score(x_t: Tensor, score: Tensor, t: float | Tensor) -> Tensor:
    """Inverse of :func:`score_from_velocity`: v = -(x_t + t score) / (1 - t), t in [0, 1)."""
    return -(x_t + t * score) / (1 - t)
