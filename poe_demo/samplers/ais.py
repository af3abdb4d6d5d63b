"""Annealed importance sampling for a product of experts (the paper's Algorithm 1, with full weights).

Target: pi(x) proportional to prod_i p_i(x)^(w_i) * prod_j exp(r_j(x)), generative experts p_i
(with velocities and scores) raised to exponents w_i (1 unless an expert is a
:class:`~poe_demo.experts.Power`; any real, negative included, as long as they sum to more than
0 on every coordinate) and discriminative experts r_j (log-rewards only). L particles descend
the levels 1 = t_0 > t_1 > ... > t_T = 0; one level's transition t_k -> t_{k+1} is

1. MCMC initialisation: one Euler step of the weighted velocities V = sum_i w_i v_i,
2. reweighting by the change of the level target along that step,
3. K Metropolis-adjusted Langevin steps on the summed scores at t_{k+1} (:func:`langevin_refine`),
4. resampling when the effective sample size drops below ``ess_threshold * L``.

Weightings. ``"incremental"`` (the default): level k's target is

    gamma_k(x) = prod_i p_{i,t_k}(x)^(w_i) * exp(lambda_k r(x_hat_k(x))),   r = sum_j r_j,

with x_hat = x - t V / W the predicted clean sample (W the exponents' sum) and lambda_k a
tempering schedule (0 at t = 1, 1 at t = 0, see ``TEMPERINGS``). The start x ~ N(0, I / W) is
weighted by gamma_0(x) / N(x; 0, I / W)
(:func:`~poe_demo.samplers.transitions.start_log_weights`); each Euler step by
gamma_{k+1}(w) |det dw/dx| / gamma_k(x), which is the reward increment
lambda_{k+1} r(x_hat_{k+1}(w)) - lambda_k r(x_hat_k(x)) plus the integral over the step of the
velocity mismatch sum_i w_i <s_i, V - v_i>
(:func:`~poe_demo.samplers.transitions.velocity_mismatch`; derived in ``docs/exponents.md``).
The Langevin block keeps gamma_{k+1} (see :func:`ais_level`), so with or without it the
weighted particles target gamma_T = pi, and the running mean of the weights estimates

    log Z = log integral prod_i p_i(x)^(w_i) prod_j exp(r_j(x)) dx,

which is log E_{pi_gen}[exp(r(x))] when the experts move disjoint coordinates (their product is
then normalised).

What is exact and what is not. Exact: the reward increments, and the start weight when the
experts that share a coordinate, or have an exponent other than 1, have N(0, 1) noise there.
Approximate: the generative part of each step's weight is the mismatch integrated along the
Euler segment by the trapezoid rule (:func:`mismatch_increment`), which stands for log
gamma_{k+1}(w) + log|det dw/dx| - log gamma_k(x) up to O(dt^2) per step; the last step, to t = 0
where scores do not exist, gets none, so the weights target gamma at t_{T-1} carried to t = 0 by
one Euler step. The weights and log Z therefore carry a discretisation error that shrinks like
1/T (measured in the README). The Langevin density ratio is a quadrature of the scores along
each step (:func:`langevin_refine`): Simpson's rule by default (exact for Gaussian experts,
error O(h^5) per step otherwise), or the trapezoid rule (O(h^3), one evaluation fewer per step).
The kernel keeps each level's target up to that error, which does not shrink with T (h is set by
the curvature); with Simpson's rule it was within Monte Carlo error on a curved two-mode
product, with the trapezoid rule several standard errors off. Up to it, MCMC does not change
what the weights target; it moves the particles toward each level's target, so the weights stay
more even, and on the README's known answers the discretisation error shrank too.

``"paper"``: the paper's sketch, which moves first, weights by the current reward
exp(r(x_hat_k)) and resamples at every level. It ignores the velocity mismatch and applies the
reward again and again, so it is greedier than the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..experts.adapters import network_memory
from ..experts.base import DiscriminativeExpert, GenerativeExpert, as_expert_list
from ..experts.gaussian import check_normalizable
from ..paths import x_hat_from_velocity
from ..resources import check_memory, sampler_memory
from ..rng import rand
from ..smc import RESAMPLERS, effective_sample_size, resample, reweight
from ..validation import check_choice, check_count, check_range, check_state
from .range_check import outside_range
from .transitions import (
    METROPOLIS_RULES,
    Evaluation,
    evaluate,
    langevin_refine,
    ode_step,
    raise_nonfinite,
    start,
    start_log_weights,
    time_grid,
    total_log_reward,
)
from .weights import (
    all_rejected,
    mismatch_increment,
    normalized,
    tempered,
    tempering_schedule,
)

__all__ = [
    "AISState",
    "AISResult",
    "WEIGHTINGS",
    "ais_init",
    "ais_level",
    "next_curvature",
    "resample_state",
    "annealed_importance_sampling",
    "ais_evaluations",
]

WEIGHTINGS = ("incremental", "paper")


@dataclass(frozen=True)
class AISState:
    """The particle system at one level. Every field but the last three holds one row per particle."""

    x: Tensor  # [L, ...] particles at time t
    velocity: Tensor | None  # [L, ...] summed velocity V at (x, t); None at t = 0
    mismatch: Tensor | None  # [L] sum_i <s_i, V - v_i> at (x, t); None at t = 0
    log_reward: Tensor  # [L] r(x_hat) = sum_j r_j(x_hat), untempered
    log_weights: Tensor  # [L] normalised: logsumexp = 0
    log_normalizer: float  # running estimate of log Z ("incremental")
    t: float
    curvature: float | None = None  # largest secant curvature the Langevin steps met at t (None before any)
    exponent_sum: Tensor | None = None  # [1, ...] W_c, the exponents summed per coordinate (transitions.start)


# the fields resampling copies from the ancestors (log_weights are reset instead)
_PER_PARTICLE = ("x", "velocity", "mismatch", "log_reward")


@dataclass(frozen=True)
class AISResult:
    particles: Tensor  # [L, ...] at t = 0
    log_weights: Tensor  # [L] normalised
    log_rewards: Tensor  # [L] sum_j r_j(particles)
    ess: Tensor  # [T + 1], at every level, start included, before resampling
    acceptance: Tensor  # [T], fraction of Langevin steps kept (Metropolis and reward tests) at each level
    n_resamples: int
    log_normalizer: float | None  # None with weighting="paper", which has no such estimate
    best: Tensor  # [...] the highest-reward particle (highest weight if there is no reward)
    best_index: int  # its row in particles
    times: Tensor  # [T + 1]
    trajectory: Tensor | None = None  # [T + 1, L, ...] at each level, before its resampling
    ancestors: Tensor | None = None  # [T + 1, L] the parent chosen for each slot by each level's resampling

    def outside(self, low: float, high: float, margin: float = 0.25) -> Tensor:
        """``[L]`` bool: particles far outside the data's range [low, high] (:func:`outside_range`)."""
        return outside_range(self.particles, low, high, margin)

    def lineage(self, index: int) -> Tensor:
        """The path ``[T + 1, ...]`` through the levels of the particle now in slot ``index``."""
        if self.trajectory is None or self.ancestors is None:
            raise ValueError("lineage needs a result sampled with keep_trajectory=True")
        path = []
        for k in range(len(self.ancestors) - 1, -1, -1):
            index = int(self.ancestors[k, index])
            path.append(self.trajectory[k, index])
        return torch.stack(path[::-1])


def _reward(discriminative, at: Evaluation, t: float, exponent_sum: Tensor) -> Tensor:
    """sum_j r_j(x_hat) ``[L]`` with x_hat = x - t V / W_c, the predicted clean sample (paper, line 10).

    V / W_c is the experts' velocities averaged with their exponents: for one expert its own, for
    exponents that sum to 1 (AND, NOT, guidance) V itself, for experts on disjoint coordinates
    each one's on its own."""
    velocity = at.velocity if bool((exponent_sum == 1).all()) else at.velocity / exponent_sum
    return total_log_reward(discriminative, x_hat_from_velocity(at.x, velocity, t), t)


def _observe(generative, discriminative, x: Tensor, t: float, exponent_sum: Tensor) -> tuple[Evaluation | None, Tensor]:
    """(experts evaluated at x, rewards of x_hat); at t = 0 there is no finite score and x is its own x_hat.

    Checks what the weights will use: a velocity or mismatch that is not finite is an error
    naming the experts (two reductions per level, not one per expert call)."""
    if t == 0:
        return None, total_log_reward(discriminative, x, t)
    at_x = evaluate(generative, x, t)
    if not (bool(torch.isfinite(at_x.mismatch).all()) and math.isfinite(float(at_x.velocity.sum()))):
        raise_nonfinite(generative, x, t, "the experts' velocity or mismatch")
    return at_x, _reward(discriminative, at_x, t, exponent_sum)


def resample_state(
    state: AISState, scheme: str = "systematic", generator: torch.Generator | None = None
) -> tuple[AISState, Tensor]:
    """Draw L ancestors by their weights, copy every per-particle field, reset the weights to 1/L:
    (new state, ancestors ``[L]``)."""
    idx = resample(state.log_weights, scheme, generator)
    copied = {name: getattr(state, name)[idx] for name in _PER_PARTICLE if getattr(state, name) is not None}
    state = replace(state, **copied, log_weights=torch.full_like(state.log_weights, -math.log(len(idx))))
    return state, idx


@torch.no_grad()
def ais_init(
    generative,
    discriminative,
    x_init: Tensor,
    weighting: str = "incremental",
    tempering: str | Callable[[float], float] = "quadratic",
) -> AISState:
    """Level 0 (t = 1), before any resampling. The start is x_init ~ N(0, I) scaled to the product's level-1
    marginal N(0, I / W_c) (:func:`~poe_demo.samplers.transitions.start`). With "incremental" it is
    weighted by gamma_0(x) / N(x; 0, I / W_c) = [prod_i p_{i,1}(x)^(w_i) / N(x; 0, I / W_c)]
    exp(lambda(1) r(x_hat_0)), a constant times the tempered reward; with "paper" by exp(r(x_hat_0))."""
    at_x, total = start(generative, x_init)
    if not (bool(torch.isfinite(at_x.mismatch).all()) and math.isfinite(float(at_x.velocity.sum()))):
        raise_nonfinite(generative, at_x.x, 1.0, "the experts' velocity or mismatch")
    log_reward = _reward(discriminative, at_x, 1.0, total)
    first = AISState(at_x.x, at_x.velocity, at_x.mismatch, log_reward, log_reward, 0.0, 1.0, exponent_sum=total)
    if weighting == "paper":
        return replace(first, log_weights=normalized(log_reward, 1.0))
    log_w = start_log_weights(total, at_x.x) + tempered(tempering_schedule(tempering)(1.0), log_reward)
    log_z = float(torch.logsumexp(log_w, 0) - math.log(len(log_w)))
    return replace(first, log_weights=normalized(log_w, 1.0), log_normalizer=log_z)


def next_curvature(curvature: float | None, t: float, t_next: float) -> float | None:
    """The curvature that sets the Langevin step at t_next, from the one measured at t: kappa (t / t_next)^2.

    Each Langevin step measures the secant curvature |s(z) - s(x)| / |z - x| of the summed score
    for free (:func:`~poe_demo.samplers.transitions.langevin_refine`), so the sampler needs no
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


@torch.no_grad()
def ais_level(
    state: AISState,
    t_next: float,
    generative,
    discriminative,
    n_mcmc_steps: int,
    step_size: float,
    weighting: str = "incremental",
    generator: torch.Generator | None = None,
    tempering: str | Callable[[float], float] = "quadratic",
    metropolis: str = "simpson",
) -> tuple[AISState, float]:
    """Steps 1-3 of one level: Euler initialisation, reweighting, Langevin refinement at t_next.

    Returns the new state and the fraction of Langevin steps that were kept. With "incremental"
    the weights are computed at the ODE output w: the log-increment is
    lambda(t_next) r(x_hat(w)) - lambda(t) r(x_hat(x)) + :func:`mismatch_increment`. The Langevin
    block is then a proposal z, accepted with probability
    min(1, exp(lambda(t_next) (r(x_hat(z)) - r(x_hat(w))))): the Langevin kernel keeps the
    generative level, this test adds the reward, so the weighted particles keep their target.
    (Weighing *after* an unadjusted move is also unbiased, but the rewards before and after a
    well-mixing move are nearly independent, so the weights degenerate.) With "paper" the
    particles move first and are weighted by their current reward.
    """
    w = ode_step(state.x, state.velocity, state.t, t_next)
    at_w, r_w = _observe(generative, discriminative, w, t_next, state.exponent_sum)
    velocity, mismatch = (None, None) if at_w is None else (at_w.velocity, at_w.mismatch)
    moves = at_w is not None and n_mcmc_steps > 0
    kappa = next_curvature(state.curvature, state.t, t_next) if moves else None
    if weighting == "paper":  # move, then weigh by the current reward
        if not moves:
            return replace(
                state,
                x=w,
                velocity=velocity,
                mismatch=mismatch,
                log_reward=r_w,
                log_weights=normalized(r_w, t_next),
                t=t_next,
            ), 1.0
        refined = langevin_refine(generative, at_w, t_next, n_mcmc_steps, step_size, generator, metropolis, kappa)
        at_z, r_z = refined.at, _reward(discriminative, refined.at, t_next, state.exponent_sum)
        moved = replace(
            state,
            x=at_z.x,
            velocity=at_z.velocity,
            mismatch=at_z.mismatch,
            log_reward=r_z,
            log_weights=normalized(r_z, t_next),
            t=t_next,
            curvature=float(refined.curvature.max()),
        )
        return moved, float(refined.accepted.mean())

    # incremental: weigh at the ODE output, then move with a kernel that keeps the weighted target
    lam = tempering_schedule(tempering)
    lam_next = lam(t_next)
    log_increment = tempered(lam_next, r_w) - tempered(lam(state.t), state.log_reward)
    log_increment = log_increment + mismatch_increment(state.mismatch, mismatch, state.t, t_next)
    log_weights, log_ratio = reweight(state.log_weights, log_increment)
    if not math.isfinite(float(log_ratio)):  # -inf: no particle kept any weight
        raise all_rejected(t_next)
    state = replace(
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
        return state, 1.0
    refined = langevin_refine(generative, at_w, t_next, n_mcmc_steps, step_size, generator, metropolis, kappa)
    at_z, accepted = refined.at, refined.accepted
    r_z = _reward(discriminative, at_z, t_next, state.exponent_sum)
    # [L]; always true without rewards; a particle of zero weight (r_w = -inf) may move or not, it does not count
    keep_move = torch.log(rand(len(r_z), r_z, generator)) < tempered(lam_next, r_z) - tempered(lam_next, r_w)
    keep = keep_move.view(-1, *([1] * (w.ndim - 1)))
    state = replace(
        state,
        x=torch.where(keep, at_z.x, w),
        velocity=torch.where(keep, at_z.velocity, velocity),
        mismatch=torch.where(keep_move, at_z.mismatch, mismatch),
        log_reward=torch.where(keep_move, r_z, r_w),
        curvature=float(refined.curvature.max()),
    )
    return state, float((accepted * keep_move).mean())


@torch.no_grad()
def annealed_importance_sampling(
    generative: GenerativeExpert | list[GenerativeExpert],
    discriminative: DiscriminativeExpert | list[DiscriminativeExpert] | None,
    x_init: Tensor,
    n_steps: int,
    n_mcmc_steps: int,
    step_size: float = 0.5,
    ess_threshold: float = 0.5,
    resampling: str = "systematic",
    weighting: str = "incremental",
    generator: torch.Generator | None = None,
    keep_trajectory: bool = False,
    time_power: float = 2.0,
    progress: bool | str = False,
    callback: Callable[[int, AISState], None] | None = None,
    tempering: str | Callable[[float], float] = "quadratic",
    metropolis: str = "simpson",
) -> AISResult:
    """Sample prod_i p_i(x)^(w_i) prod_j exp(r_j(x)) with L = x_init.shape[0] particles over n_steps levels.

    ``generative`` is one expert, a list, or a :class:`~poe_demo.experts.Product` such as ``A *
    B / U`` (exponents: :mod:`poe_demo.experts.power`). ``x_init [L, ...]`` is the noise the
    experts start from: N(0, I) on coordinates that several experts share or where an exponent
    is not 1 (the sampler scales it to N(0, I / W), W the exponents' sum there), and on a
    coordinate with a single unit-exponent expert that expert's own noise (the palette noise of
    :func:`~poe_demo.data.sample_noise` for the color expert). Estimates from the result are
    weighted: ``result.log_weights`` are part of the answer.

    ``step_size`` is the Langevin step in units of the curvature (h = step_size / (kappa d^(1/3))
    for states of d coordinates, kappa the largest curvature among the particles at the level,
    see :func:`langevin_refine`); it must be in (0, 2). With ``n_mcmc_steps=0`` the particles
    follow the summed-velocity ODE and only the weights carry the product: the sampler is then
    importance sampling with the summed-velocity flow as its proposal. ``tempering`` is the
    reward schedule lambda(t) of the intermediate targets, a name in ``TEMPERINGS`` or a
    function with lambda(0) = 1 (it does not change the final target, only the path to it).
    ``progress`` shows a progress bar over the levels (a string labels it, e.g. with the run's
    name). ``callback(k, state)`` is called after level k (k = 0..T), e.g. to drive a widget.
    ``metropolis`` is the quadrature of the Langevin steps' density ratio, "simpson" (accurate
    for curved scores) or "trapezoid" (one expert evaluation fewer per step; see
    :func:`langevin_refine`).
    """
    generative = as_expert_list(generative, GenerativeExpert, "generative", allow_empty=False)
    discriminative = as_expert_list(discriminative, DiscriminativeExpert, "discriminative", allow_empty=True)
    check_state(x_init)
    check_count("n_steps", n_steps, minimum=1)
    check_count("n_mcmc_steps", n_mcmc_steps, minimum=0)
    check_range("step_size", step_size, 0, 2, low_open=True, high_open=True)
    check_range("ess_threshold", ess_threshold, 0, 1)
    check_choice("resampling", resampling, RESAMPLERS)
    check_choice("weighting", weighting, WEIGHTINGS)
    check_choice("metropolis", metropolis, METROPOLIS_RULES)
    check_range("time_power", time_power, 0, math.inf, low_open=True, high_open=True)
    lam = tempering_schedule(tempering)
    if lam(0.0) != 1.0:
        raise ValueError(
            f"tempering must reach lambda(0) = 1 so that the final target is the product, got {lam(0.0)!r}"
        )
    check_memory(
        sampler_memory(
            x_init.numel(), n_steps, keep_trajectory, x_init.element_size(), network_memory(generative, x_init)
        ),
        f"annealed_importance_sampling with state {tuple(x_init.shape)}, n_steps={n_steps}, "
        f"keep_trajectory={keep_trajectory}",
    )

    n_particles = x_init.shape[0]
    times = time_grid(n_steps, time_power).tolist()
    check_normalizable(generative, times)
    state = ais_init(generative, discriminative, x_init, weighting, lam)
    ess_levels, accepted, n_resamples, path, parents = [], [], 0, [], []
    for t_next in tqdm(
        [None] + times[1:],
        desc=progress if isinstance(progress, str) else "AIS levels",
        disable=not progress,
        leave=False,
    ):
        if t_next is not None:
            state, acceptance = ais_level(
                state,
                t_next,
                generative,
                discriminative,
                n_mcmc_steps,
                step_size,
                weighting,
                generator,
                lam,
                metropolis,
            )
            accepted.append(acceptance)
        ess = float(effective_sample_size(state.log_weights))
        needed = weighting == "paper" or ess < ess_threshold * n_particles
        if keep_trajectory:
            path.append(state.x)
        if needed and n_particles > 1:
            state, idx = resample_state(state, resampling, generator)
            n_resamples += 1
        else:
            idx = torch.arange(n_particles, device=state.x.device)
        ess_levels.append(ess)
        if keep_trajectory:
            parents.append(idx)
        if callback is not None:
            callback(len(ess_levels) - 1, state)
    if not bool(torch.isfinite(state.x).all()):
        raise FloatingPointError("the sampler diverged (non-finite particles); try a smaller step_size or more n_steps")
    rank = state.log_reward if discriminative else state.log_weights
    best = int(torch.argmax(rank))
    return AISResult(
        particles=state.x,
        log_weights=state.log_weights,
        log_rewards=state.log_reward,
        ess=torch.tensor(ess_levels),
        acceptance=torch.tensor(accepted),
        n_resamples=n_resamples,
        log_normalizer=state.log_normalizer if weighting == "incremental" else None,
        best=state.x[best],
        best_index=best,
        times=torch.tensor(times),
        trajectory=torch.stack(path) if keep_trajectory else None,
        ancestors=torch.stack(parents) if keep_trajectory else None,
    )


def ais_evaluations(
    n_particles: int, n_steps: int, n_mcmc_steps: int, metropolis: str = "simpson", rescaled_start: bool = False
) -> int:
    """States at which one run of :func:`annealed_importance_sampling` evaluates the generative experts.

    L at the start (t = 1), 2L when the start is rescaled (``rescaled_start``: the exponents of
    some coordinate sum below 1, see :func:`~poe_demo.samplers.transitions.start`); then at
    each of the T - 1 levels with t > 0, L at the ODE output and, with K > 0 Langevin steps, L
    per step at the proposal (and L at its midpoint with ``metropolis="simpson"``); the first of
    those levels also probes the curvature (L more), which later levels carry from the previous
    one (:func:`next_curvature`). The last level, t = 0, needs none. Counted with a spy in
    ``tests/test_samplers.py``.
    """
    per_step = 2 if check_choice("metropolis", metropolis, METROPOLIS_RULES) == "simpson" else 1
    moving = n_steps - 1
    probe = n_particles if n_mcmc_steps > 0 and moving > 0 else 0
    starts = 2 if rescaled_start else 1
    return starts * n_particles + moving * n_particles * (1 + per_step * n_mcmc_steps) + probe
