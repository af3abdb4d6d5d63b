"""One level of the annealed sampler, t -> t_next, under each weighting (before any resampling).

Both weightings take the same first step: the Euler step of the summed velocity V from t to
t_next, to the ODE output w, where the experts are evaluated. They differ in what they weigh
and when (the module docstring of :mod:`poe_demo.samplers.ais` derives both):

- :func:`incremental_level` weighs w by the change of the level target, then moves it with
  Metropolis-adjusted Langevin steps that keep the weighted target;
- :func:`paper_level` moves first and weighs by the current reward.

Rewards are read on the predicted clean sample x_hat = x - t V / W_c (the paper's line 10). The
Langevin moves never look at them, so the rewards of w and of the moved particles are asked
for together, in one call on 2L samples: on CPU a network call costs mostly its fixed overhead.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import Tensor

from ..paths import x_hat_from_velocity
from ..rng import rand
from ..smc import reweight
from .mala import langevin_refine
from .state import AISConfig, AISState
from .transitions import Evaluation, evaluate, ode_step, raise_nonfinite, total_log_reward
from .weights import all_rejected, mismatch_increment, normalized, tempered

__all__ = ["LEVELS", "predicted_clean", "checked_evaluation", "next_curvature", "incremental_level", "paper_level"]


def predicted_clean(at: Evaluation, t: float, exponent_sum: Tensor) -> Tensor:
    """x_hat = x - t V / W_c ``[L, ...]``, the predicted clean sample.

    V / W_c is the experts' velocities averaged with their exponents: for one expert its own, for
    exponents that sum to 1 (AND, NOT, guidance) V itself, for experts on disjoint coordinates
    each one's on its own."""
    velocity = at.velocity if bool((exponent_sum == 1).all()) else at.velocity / exponent_sum
    return x_hat_from_velocity(at.x, velocity, t)


def _rewards(config: AISConfig, points: list[Evaluation], t: float, exponent_sum: Tensor) -> list[Tensor]:
    """r(x_hat) ``[L]`` at each group of particles, from one call per reward on all of them."""
    if not config.discriminative:
        return [p.x.new_zeros(p.x.shape[0]) for p in points]
    x_hat = torch.cat([predicted_clean(p, t, exponent_sum) for p in points])
    return list(total_log_reward(config.discriminative, x_hat, t).split([p.x.shape[0] for p in points]))


def checked_evaluation(config: AISConfig, x: Tensor, t: float) -> Evaluation:
    """:func:`~poe_demo.samplers.transitions.evaluate` at x, with an error naming the experts where the
    velocity or mismatch (what the weights use) is not finite: two reductions per level, not one per call."""
    at_x = evaluate(config.generative, x, t)
    if not (bool(torch.isfinite(at_x.mismatch).all()) and math.isfinite(float(at_x.velocity.sum()))):
        raise_nonfinite(config.generative, x, t, "the experts' velocity or mismatch")
    return at_x


def next_curvature(curvature: float | None, t: float, t_next: float) -> float | None:
    """The curvature that sets the Langevin step at t_next, from the one measured at t: kappa (t / t_next)^2.

    Each Langevin step measures the secant curvature |s(z) - s(x)| / |z - x| of the summed score
    for free (:func:`~poe_demo.samplers.mala.langevin_refine`), so the sampler needs no
    extra evaluation to probe it at the next level. The curvature grows as t falls: on our path
    an expert's marginal at t is its data blurred by N(0, t^2 I), so it is at most 1/t^2, and
    for Gaussian data kappa_t t^2 = 1 / (1 + ((1 - t) / t)^2 sigma^2) never grows as t falls,
    i.e. kappa grows by at most (t / t_next)^2 from one level to the next; it grows by exactly
    that where the data are concentrated (points, the sphere's surface). Scaling by the largest
    growth keeps the step from outgrowing the next level. None (at the first Langevin level, or
    when the measurement is not a finite positive number) means: probe at t_next.
    """
    if curvature is None or not (math.isfinite(curvature) and curvature > 0):
        return None
    return curvature * (t / t_next) ** 2


def _refine(state: AISState, at_w: Evaluation, t_next: float, config: AISConfig, generator):
    kappa = next_curvature(state.curvature, state.t, t_next)
    return langevin_refine(
        config.generative, at_w, t_next, config.n_mcmc_steps, config.step_size, generator, config.metropolis, kappa
    )


def incremental_level(
    state: AISState, t_next: float, config: AISConfig, generator: torch.Generator | None = None
) -> tuple[AISState, float]:
    """Weigh at the ODE output w, then move with a kernel that keeps the weighted target: (state, acceptance).

    The log-weight increment is lambda(t_next) r(x_hat(w)) - lambda(t) r(x_hat(x)) plus
    :func:`~poe_demo.samplers.weights.mismatch_increment`. The Langevin block then proposes z,
    accepted with probability min(1, exp(lambda(t_next) (r(x_hat(z)) - r(x_hat(w))))): the
    Langevin kernel keeps the generative level, this test adds the reward, so the weighted
    particles keep their target. (Weighing *after* an unadjusted move is also unbiased, but the
    rewards before and after a well-mixing move are nearly independent, so the weights degenerate.)
    """
    w = ode_step(state.x, state.velocity, state.t, t_next)
    at_w = None if t_next == 0 else checked_evaluation(config, w, t_next)  # no scores at t = 0
    moves = at_w is not None and config.n_mcmc_steps > 0
    if at_w is None:  # at t = 0, w is its own x_hat
        r_w = total_log_reward(config.discriminative, w, t_next)
    elif moves:
        refined = _refine(state, at_w, t_next, config, generator)
        r_w, r_z = _rewards(config, [at_w, refined.at], t_next, state.exponent_sum)
    else:
        (r_w,) = _rewards(config, [at_w], t_next, state.exponent_sum)
    velocity, mismatch = (None, None) if at_w is None else (at_w.velocity, at_w.mismatch)

    lam_next = config.lam(t_next)
    log_increment = tempered(lam_next, r_w) - tempered(config.lam(state.t), state.log_reward)
    log_increment = log_increment + mismatch_increment(state.mismatch, mismatch, state.t, t_next)
    log_weights, log_ratio = reweight(state.log_weights, log_increment)
    if not math.isfinite(float(log_ratio)):  # -inf: no particle kept any weight
        raise all_rejected(t_next)
    weighed = replace(
        state,
        x=w,
        velocity=velocity,
        mismatch=mismatch,
        log_reward=r_w,
        log_weights=log_weights,
        log_normalizer=state.log_normalizer + float(log_ratio),
        t=t_next,
    )
    if not moves:
        return weighed, 1.0
    at_z = refined.at
    # [L]; always true without rewards; a particle of zero weight (r_w = -inf) may move or not, it does not count
    keep_move = torch.log(rand(len(r_z), r_z, generator)) < tempered(lam_next, r_z) - tempered(lam_next, r_w)
    keep = keep_move.view(-1, *([1] * (w.ndim - 1)))
    moved = replace(
        weighed,
        x=torch.where(keep, at_z.x, w),
        velocity=torch.where(keep, at_z.velocity, velocity),
        mismatch=torch.where(keep_move, at_z.mismatch, mismatch),
        log_reward=torch.where(keep_move, r_z, r_w),
        curvature=float(refined.curvature.max()),
    )
    return moved, float((refined.accepted * keep_move).mean())


def paper_level(
    state: AISState, t_next: float, config: AISConfig, generator: torch.Generator | None = None
) -> tuple[AISState, float]:
    """The paper's sketch: move (Euler step, then Langevin), then weigh by the current reward exp(r(x_hat)).

    Returns (state, acceptance). The weights are not carried over: the sampler resamples at every level."""
    w = ode_step(state.x, state.velocity, state.t, t_next)
    at = None if t_next == 0 else checked_evaluation(config, w, t_next)
    curvature = state.curvature
    if at is not None and config.n_mcmc_steps > 0:
        refined = _refine(state, at, t_next, config, generator)
        at, curvature, acceptance = refined.at, float(refined.curvature.max()), float(refined.accepted.mean())
    else:
        acceptance = 1.0
    if at is None:
        x, velocity, mismatch, r = w, None, None, total_log_reward(config.discriminative, w, t_next)
    else:
        x, velocity, mismatch = at.x, at.velocity, at.mismatch
        (r,) = _rewards(config, [at], t_next, state.exponent_sum)
    moved = replace(
        state,
        x=x,
        velocity=velocity,
        mismatch=mismatch,
        log_reward=r,
        log_weights=normalized(r, t_next),
        t=t_next,
        curvature=curvature,
    )
    return moved, acceptance


# One interface, one small function per weighting: (state, t_next, config, generator) -> (state, acceptance)
LEVELS = {"incremental": incremental_level, "paper": paper_level}
