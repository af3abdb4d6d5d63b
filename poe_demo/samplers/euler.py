"""The baseline: integrate the summed velocity of the generative experts from noise to data."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..experts.adapters import network_memory
from ..experts.base import GenerativeExpert, as_expert_list
from ..experts.gaussian import check_normalizable
from ..resources import check_memory, sampler_memory
from ..validation import check_count, check_state
from .range_check import outside_range
from .transitions import ode_step, raise_nonfinite, start, summed_velocity, time_grid

__all__ = ["EulerResult", "euler"]


@dataclass(frozen=True)
class EulerResult:
    particles: Tensor  # [L, ...] at t = 0
    times: Tensor  # [T + 1], from 1 to 0
    trajectory: Tensor | None = None  # [T + 1, L, ...] when kept

    def outside(self, low: float, high: float, margin: float = 0.25) -> Tensor:
        """``[L]`` bool: particles far outside the data's range [low, high] (:func:`outside_range`)."""
        return outside_range(self.particles, low, high, margin)


@torch.no_grad()
def euler(
    generative_experts: GenerativeExpert | list[GenerativeExpert],
    x_init: Tensor,
    n_steps: int,
    keep_trajectory: bool = False,
    time_power: float = 2.0,
    progress: bool = False,
) -> EulerResult:
    """x_{k+1} = x_k + (t_{k+1} - t_k) sum_i w_i v_i(x_k, t_k) on :func:`time_grid`, from t=1 to t=0.

    With one expert this is ordinary flow sampling; with several it is the naive composition
    "sum the velocities" (weighted by the experts' exponents, as in classifier-free guidance),
    which is exact only when the experts move disjoint coordinates. ``x_init`` is N(0, I) noise,
    widened where the exponents sum below 1, as the annealed sampler's start
    (:func:`~poe_demo.samplers.transitions.start`).
    """
    experts = as_expert_list(generative_experts, GenerativeExpert, "generative_experts", allow_empty=False)
    check_state(x_init)
    check_count("n_steps", n_steps, minimum=1)
    check_memory(
        sampler_memory(
            x_init.numel(), n_steps, keep_trajectory, x_init.element_size(), network_memory(experts, x_init)
        ),
        f"euler with state {tuple(x_init.shape)}, n_steps={n_steps}, keep_trajectory={keep_trajectory}",
    )
    times = time_grid(n_steps, time_power).tolist()
    check_normalizable(experts, times)
    first = start(experts, x_init)[0]
    x, v = first.x, first.velocity
    path = [x] if keep_trajectory else None
    for t, t_next in tqdm(list(zip(times[:-1], times[1:])), desc="euler", disable=not progress, leave=False):
        if t < 1:
            v = summed_velocity(experts, x, t)
        if not math.isfinite(float(v.sum())):
            raise_nonfinite(experts, x, t, "the summed velocity")
        x = ode_step(x, v, t, t_next)
        if path is not None:
            path.append(x)
    return EulerResult(x, torch.tensor(times), torch.stack(path) if path is not None else None)
