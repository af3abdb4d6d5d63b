"""The pieces of the annealed sampler's weights that are not expert evaluations.

The reward schedule lambda(t) of the intermediate targets and the tempered reward, the
quadrature of the velocity mismatch over one Euler step, and the normalisation of the
log-weights with its one failure mode (every particle at zero weight).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ..smc import normalize_log_weights
from ..validation import check_choice

__all__ = ["TEMPERINGS", "tempering_schedule", "tempered", "mismatch_increment", "all_rejected", "normalized"]

# Reward schedules lambda(t): 0 at t = 1 (noise), 1 at t = 0 (data). "none" weighs the full
# reward on x_hat from the start: early, when x_hat barely depends on x, a sharp reward on x_hat
# puts the intermediate targets far from the experts' mass, and the particles resampled toward
# them come back (log Z off by -2.7 on the README's sharp-reward case at T = 64). "quadratic",
# the default, had the smallest log Z RMSE there (benchmarks/weights.py); "snr" follows the
# share of x_t that is signal, (1 - t)^2 / ((1 - t)^2 + t^2).
TEMPERINGS: dict[str, Callable[[float], float]] = {
    "none": lambda t: 1.0,
    "linear": lambda t: 1.0 - t,
    "quadratic": lambda t: (1.0 - t) ** 2,
    "snr": lambda t: (1.0 - t) ** 2 / ((1.0 - t) ** 2 + t**2),
}


def tempered(lam: float, log_reward: Tensor) -> Tensor:
    """lambda r ``[L]``; with lambda = 0 the reward is ignored, even where it is -inf (a hard constraint)."""
    return torch.zeros_like(log_reward) if lam == 0 else lam * log_reward


def all_rejected(t: float) -> ValueError:
    return ValueError(
        f"every particle has zero weight at t={t:.4g}: the rewards are -inf (a hard constraint) for "
        "all of them; use more particles or a constraint that some noise can meet"
    )


def normalized(log_weights: Tensor, t: float) -> Tensor:
    """Normalised log-weights; an error if every particle has zero weight."""
    if not bool(torch.isfinite(log_weights).any()):
        raise all_rejected(t)
    return normalize_log_weights(log_weights)


def tempering_schedule(tempering: str | Callable[[float], float]) -> Callable[[float], float]:
    """The schedule lambda(t): a name in ``TEMPERINGS`` or a function of t."""
    if callable(tempering):
        return tempering
    return TEMPERINGS[check_choice("tempering", tempering, TEMPERINGS)]


def mismatch_increment(mismatch: Tensor, mismatch_next: Tensor | None, t: float, t_next: float) -> Tensor:
    """integral from t to t_next of sum_i <s_i, V - v_i> dt along one Euler step, by the trapezoid rule ``[L]``:

        (t_next - t) (m(x, t) + m(w, t_next)) / 2.

    Both ends are evaluated anyway; at equal T the trapezoid rule's log Z error was 3.5x smaller
    than the left point's on the README's overlapping Gaussians (0.022 against 0.078 at
    T = 64, K = 0; benchmarks/weights.py). The last step, to t = 0, has no end value (scores do not exist there) and
    gets no mismatch weight: the weights then target the product at t_{T-1} = T^-time_power,
    carried to t = 0 by the final Euler step. For smooth experts that drops O(T^-2) of log
    weight; for experts concentrated on a surface (the sphere), whose density at t = 0 is
    singular, the left point would add only noise (measured: 1.4x the spread of the
    sphere-times-blob estimate at T = 64).
    """
    if mismatch_next is None:
        return torch.zeros_like(mismatch)
    return (t_next - t) * 0.5 * (mismatch + mismatch_next)
