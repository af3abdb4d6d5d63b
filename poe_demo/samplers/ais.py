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

The sampler is a pure pair in blackjax's shape: ``state, info = ais_init(x_init, config)`` at
level 0 (t = 1), then ``state, info = ais_step(state, t_next, config)`` for each level, with
the settings checked once in an :class:`~poe_demo.samplers.state.AISConfig`.
:func:`annealed_importance_sampling` is that loop over :func:`~poe_demo.samplers.transitions.time_grid`.

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
The Langevin block keeps gamma_{k+1} (see :func:`~poe_demo.samplers.levels.incremental_level`),
so with or without it the weighted particles target gamma_T = pi, and the running mean of the weights estimates

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
from ..experts.base import DiscriminativeExpert, GenerativeExpert
from ..experts.gaussian import check_normalizable
from ..resources import check_memory, sampler_memory
from ..smc import effective_sample_size
from ..validation import check_choice, check_count, check_range, check_state
from .levels import LEVELS, predicted_clean
from .mala import METROPOLIS_RULES, midpoint_shares_call
from .range_check import outside_range
from .state import AISConfig, AISState, LevelInfo, resample_state
from .transitions import (
    raise_nonfinite,
    start,
    start_log_weights,
    time_grid,
    total_log_reward,
)
from .weights import normalized, tempered

__all__ = [
    "AISResult",
    "ais_init",
    "ais_step",
    "annealed_importance_sampling",
    "ais_evaluations",
    "ais_calls",
    "ais_batch",
]


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


def _settle(
    state: AISState, acceptance: float | None, config: AISConfig, generator: torch.Generator | None
) -> tuple[AISState, LevelInfo]:
    """Step 4 of a level: resample when the ESS is below ``ess_threshold * L`` (at every level with "paper")."""
    n = len(state.log_weights)
    weights, before = state.log_weights, state.x
    ess = float(effective_sample_size(weights))
    if n > 1 and (config.weighting == "paper" or ess < config.ess_threshold * n):
        state, ancestors = resample_state(state, config.resampling, generator)
        return state, LevelInfo(state.t, weights, ess, acceptance, True, ancestors, before)
    return state, LevelInfo(state.t, weights, ess, acceptance, False, torch.arange(n, device=before.device), before)


@torch.no_grad()
def ais_init(x_init: Tensor, config: AISConfig, generator: torch.Generator | None = None) -> tuple[AISState, LevelInfo]:
    """Level 0 (t = 1): the weighted start, resampled if its ESS is already low: (state, info).

    The start is x_init ~ N(0, I) scaled to the product's level-1 marginal N(0, I / W_c)
    (:func:`~poe_demo.samplers.transitions.start`). With "incremental" it is weighted by
    gamma_0(x) / N(x; 0, I / W_c) = [prod_i p_{i,1}(x)^(w_i) / N(x; 0, I / W_c)] exp(lambda(1) r(x_hat_0)),
    a constant times the tempered reward; with "paper" by exp(r(x_hat_0)).
    """
    check_state(x_init)
    at_x, total = start(config.generative, x_init)
    if not (bool(torch.isfinite(at_x.mismatch).all()) and math.isfinite(float(at_x.velocity.sum()))):
        raise_nonfinite(config.generative, at_x.x, 1.0, "the experts' velocity or mismatch")
    log_reward = total_log_reward(config.discriminative, predicted_clean(at_x, 1.0, total), 1.0)
    state = AISState(at_x.x, at_x.velocity, at_x.mismatch, log_reward, log_reward, 0.0, 1.0, exponent_sum=total)
    if config.weighting == "paper":
        state = replace(state, log_weights=normalized(log_reward, 1.0))
    else:
        log_w = start_log_weights(total, at_x.x) + tempered(config.lam(1.0), log_reward)
        log_z = float(torch.logsumexp(log_w, 0) - math.log(len(log_w)))
        state = replace(state, log_weights=normalized(log_w, 1.0), log_normalizer=log_z)
    return _settle(state, None, config, generator)


@torch.no_grad()
def ais_step(
    state: AISState, t_next: float, config: AISConfig, generator: torch.Generator | None = None
) -> tuple[AISState, LevelInfo]:
    """One level t -> t_next (< t): Euler initialisation, reweighting, Langevin refinement, resampling.

    Steps 1-3 are the weighting's level function (:data:`~poe_demo.samplers.levels.LEVELS`),
    step 4 resamples when the ESS is below ``config.ess_threshold * L``. Returns the new state
    and a :class:`~poe_demo.samplers.state.LevelInfo`.
    """
    if not 0 <= t_next < state.t:
        raise ValueError(f"t_next must be in [0, t) = [0, {state.t:.4g}), got {t_next!r}: the levels run from 1 to 0")
    state, acceptance = LEVELS[config.weighting](state, float(t_next), config, generator)
    return _settle(state, acceptance, config, generator)


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

    It is the loop of :func:`ais_init` and :func:`ais_step` over
    :func:`~poe_demo.samplers.transitions.time_grid`, with the infos stacked into an :class:`AISResult`.
    """
    config = AISConfig(
        generative, discriminative, n_mcmc_steps, step_size, ess_threshold, resampling, weighting, tempering, metropolis
    )
    check_state(x_init)
    check_count("n_steps", n_steps, minimum=1)
    check_range("time_power", time_power, 0, math.inf, low_open=True, high_open=True)
    check_memory(
        sampler_memory(
            x_init.numel(),
            n_steps,
            keep_trajectory,
            x_init.element_size(),
            network_memory(
                config.generative, x_init, ais_batch(len(x_init), n_mcmc_steps, metropolis, x_init[0].numel())
            ),
        ),
        f"annealed_importance_sampling with state {tuple(x_init.shape)}, n_steps={n_steps}, "
        f"keep_trajectory={keep_trajectory}",
    )
    times = time_grid(n_steps, time_power).tolist()
    check_normalizable(config.generative, times)

    state, info = ais_init(x_init, config, generator)
    infos = [info if keep_trajectory else replace(info, x=None)]  # the particles are kept only when asked for
    if callback is not None:
        callback(0, state)
    for k, t_next in enumerate(tqdm(times[1:], desc=progress if isinstance(progress, str) else "AIS levels",
                                    disable=not progress, leave=False), start=1):  # fmt: skip
        state, info = ais_step(state, t_next, config, generator)
        infos.append(info if keep_trajectory else replace(info, x=None))
        if callback is not None:
            callback(k, state)
    if not bool(torch.isfinite(state.x).all()):
        raise FloatingPointError("the sampler diverged (non-finite particles); try a smaller step_size or more n_steps")
    best = int(torch.argmax(state.log_reward if config.discriminative else state.log_weights))
    return AISResult(
        particles=state.x,
        log_weights=state.log_weights,
        log_rewards=state.log_reward,
        ess=torch.tensor([i.ess for i in infos]),
        acceptance=torch.tensor([i.acceptance for i in infos[1:]]),
        n_resamples=sum(i.resampled for i in infos),
        log_normalizer=state.log_normalizer if weighting == "incremental" else None,
        best=state.x[best],
        best_index=best,
        times=torch.tensor(times),
        trajectory=torch.stack([i.x for i in infos]) if keep_trajectory else None,
        ancestors=torch.stack([i.ancestors for i in infos]) if keep_trajectory else None,
    )


def ais_batch(n_particles: int, n_mcmc_steps: int, metropolis: str = "simpson", state_numbers: int = 1) -> int:
    """The largest batch one expert call gets in a run with L particles of ``state_numbers`` numbers each:
    2L where a Langevin proposal and its Simpson midpoint share a call
    (:func:`~poe_demo.samplers.mala.midpoint_shares_call`), else L. What a memory check
    multiplies the networks' activations per state by."""
    shared = n_mcmc_steps > 0 and midpoint_shares_call(metropolis, n_particles * state_numbers)
    return 2 * n_particles if shared else n_particles


def ais_evaluations(
    n_particles: int, n_steps: int, n_mcmc_steps: int, metropolis: str = "simpson", rescaled_start: bool = False
) -> int:
    """States at which one run of :func:`annealed_importance_sampling` evaluates the generative experts.

    L at the start (t = 1), 2L when the start is rescaled (``rescaled_start``: the exponents of
    some coordinate sum below 1, see :func:`~poe_demo.samplers.transitions.start`); then at
    each of the T - 1 levels with t > 0, L at the ODE output and, with K > 0 Langevin steps, L
    per step at the proposal (and L at its midpoint with ``metropolis="simpson"``); the first of
    those levels also probes the curvature (L more), which later levels carry from the previous
    one (:func:`~poe_demo.samplers.levels.next_curvature`). The last level, t = 0, needs none.
    Counted with a spy in ``tests/test_samplers.py``.
    """
    per_step = 2 if check_choice("metropolis", metropolis, METROPOLIS_RULES) == "simpson" else 1
    moving = n_steps - 1
    probe = n_particles if n_mcmc_steps > 0 and moving > 0 else 0
    starts = 2 if rescaled_start else 1
    return starts * n_particles + moving * n_particles * (1 + per_step * n_mcmc_steps) + probe


def ais_calls(
    n_steps: int,
    n_mcmc_steps: int,
    metropolis: str = "simpson",
    rescaled_start: bool = False,
    batch_numbers: int = 1,
) -> dict[str, int]:
    """Calls one run of :func:`annealed_importance_sampling` makes to each generative expert and to each reward.

    On CPU a network call on a few samples costs mostly its fixed overhead, so calls matter
    beside :func:`ais_evaluations`. Each generative expert: 1 at the start (2 when rescaled),
    then per level with t > 0 one at the ODE output and one per Langevin step, or two with
    Simpson's rule on a batch of L states holding more than
    :data:`~poe_demo.samplers.mala.SHARED_CALL_LIMIT` numbers (``batch_numbers``; below it
    the proposal and its midpoint share a call), plus the curvature probe at the first such
    level. Each reward: 1 at the start and 1 per level (the ODE output and the moved particles together).
    """
    moving = n_steps - 1
    per_step = 1 if metropolis == "trapezoid" or midpoint_shares_call(metropolis, batch_numbers) else 2
    probe = 1 if n_mcmc_steps > 0 and moving > 0 else 0
    return {
        "generative": (2 if rescaled_start else 1) + moving * (1 + per_step * n_mcmc_steps) + probe,
        "reward": 1 + n_steps,
    }
