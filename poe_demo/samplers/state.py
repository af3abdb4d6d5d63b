"""What the annealed sampler carries from level to level: its settings, its state, and what a level reports.

The shape is blackjax's: a frozen :class:`AISConfig` checked once, an immutable
:class:`AISState`, and pure functions that map a state to the next one
(:func:`~poe_demo.samplers.ais.ais_init`, :func:`~poe_demo.samplers.ais.ais_step`), each
returning a :class:`LevelInfo` beside it. A notebook can drive the loop itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import torch
from torch import Tensor

from ..experts.base import DiscriminativeExpert, GenerativeExpert, as_expert_list
from ..smc import RESAMPLERS, resample
from ..validation import check_choice, check_count, check_range
from .mala import METROPOLIS_RULES
from .weights import tempering_schedule

__all__ = ["WEIGHTINGS", "AISConfig", "AISState", "LevelInfo", "resample_state"]

# "incremental": weigh by the change of each level's target; "paper": the paper's sketch (ais.py)
WEIGHTINGS = ("incremental", "paper")


@dataclass(frozen=True)
class AISConfig:
    """The annealed sampler's settings, checked once when made; the step functions trust them.

    ``generative`` and ``discriminative`` take one expert or a sequence (stored as tuples). The
    meaning of each setting: :func:`~poe_demo.samplers.ais.annealed_importance_sampling`.
    """

    generative: GenerativeExpert | tuple[GenerativeExpert, ...]
    discriminative: DiscriminativeExpert | tuple[DiscriminativeExpert, ...] | None = ()
    n_mcmc_steps: int = 2
    step_size: float = 0.5
    ess_threshold: float = 0.5
    resampling: str = "systematic"
    weighting: str = "incremental"
    tempering: str | Callable[[float], float] = "quadratic"
    metropolis: str = "simpson"

    def __post_init__(self):
        generative = as_expert_list(self.generative, GenerativeExpert, "generative", allow_empty=False)
        discriminative = as_expert_list(self.discriminative, DiscriminativeExpert, "discriminative", allow_empty=True)
        object.__setattr__(self, "generative", tuple(generative))  # frozen: set once, here
        object.__setattr__(self, "discriminative", tuple(discriminative))
        check_count("n_mcmc_steps", self.n_mcmc_steps, minimum=0)
        check_range("step_size", self.step_size, 0, 2, low_open=True, high_open=True)
        check_range("ess_threshold", self.ess_threshold, 0, 1)
        check_choice("resampling", self.resampling, RESAMPLERS)
        check_choice("weighting", self.weighting, WEIGHTINGS)
        check_choice("metropolis", self.metropolis, METROPOLIS_RULES)
        lam = tempering_schedule(self.tempering)
        if lam(0.0) != 1.0:
            raise ValueError(
                f"tempering must reach lambda(0) = 1 so that the final target is the product, got {lam(0.0)!r}"
            )

    def lam(self, t: float) -> float:
        """lambda(t), the share of the reward in the level target at t (0 at noise, 1 at data)."""
        return tempering_schedule(self.tempering)(t)


@dataclass(frozen=True)
class AISState:
    """The particle system at one level. Every field but the last four holds one row per particle."""

    x: Tensor  # [L, ...] particles at time t
    velocity: Tensor | None  # [L, ...] summed velocity V at (x, t); None at t = 0
    mismatch: Tensor | None  # [L] sum_i <s_i, V - v_i> at (x, t); None at t = 0
    log_reward: Tensor  # [L] r(x_hat) = sum_j r_j(x_hat), untempered
    log_weights: Tensor  # [L] normalised: logsumexp = 0
    log_normalizer: float  # running estimate of log Z ("incremental")
    t: float
    curvature: float | None = None  # largest secant curvature the Langevin steps met at t (None before any)
    exponent_sum: Tensor | None = None  # [1, ...] W_c, the exponents summed per coordinate (transitions.start)


@dataclass(frozen=True)
class LevelInfo:
    """What one level did, beside the state it returns (blackjax's ``info``)."""

    t: float
    log_weights: Tensor  # [L] normalised, before resampling
    ess: float  # their effective sample size
    acceptance: float | None  # fraction of Langevin steps kept (Metropolis and reward tests); None at level 0
    resampled: bool
    ancestors: Tensor  # [L] the parent of each slot (0..L-1 in order when nothing was resampled)
    x: Tensor  # [L, ...] the particles before resampling


# the fields resampling copies from the ancestors (log_weights are reset instead)
_PER_PARTICLE = ("x", "velocity", "mismatch", "log_reward")


def resample_state(
    state: AISState, scheme: str = "systematic", generator: torch.Generator | None = None
) -> tuple[AISState, Tensor]:
    """Draw L ancestors by their weights, copy every per-particle field, reset the weights to 1/L:
    (new state, ancestors ``[L]``)."""
    idx = resample(state.log_weights, scheme, generator)
    copied = {name: getattr(state, name)[idx] for name in _PER_PARTICLE if getattr(state, name) is not None}
    state = replace(state, **copied, log_weights=torch.full_like(state.log_weights, -math.log(len(idx))))
    return state, idx
