"""Plain Langevin dynamics at one level, kept simple for teaching (the annealed sampler uses
:func:`~poe_demo.samplers.mala.langevin_refine`, which adds a Metropolis test)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ..experts.base import GenerativeExpert, as_expert_list
from ..rng import randn_like
from ..validation import check_count, check_range, check_state
from .transitions import summed_score

__all__ = ["langevin_dynamics"]


@torch.no_grad()
def langevin_dynamics(
    experts: GenerativeExpert | Sequence[GenerativeExpert],
    x_init: Tensor,
    t: float,
    step_size: float,
    n_steps: int,
    noise: bool = True,
    generator: torch.Generator | None = None,
) -> Tensor:
    """x <- x + h sum_i s_i(x, t) + sqrt(2h) xi for n_steps; returns the path ``[n_steps + 1, L, ...]``.

    With ``noise=False`` this is gradient ascent on log p: every particle climbs to a mode and
    stays there. The noise, scaled by sqrt(2h) because Brownian motion spreads like the square
    root of time, turns the climb into a sampler of p (up to an O(h) bias).
    """
    experts = as_expert_list(experts, GenerativeExpert, "experts", allow_empty=False)
    check_state(x_init)
    check_count("n_steps", n_steps, minimum=0)
    h = check_range("step_size", step_size, 0, float("inf"), low_open=True, high_open=True)
    x, path = x_init, [x_init]
    for _ in range(n_steps):
        x = x + h * summed_score(experts, x, t)
        if noise:
            x = x + (2 * h) ** 0.5 * randn_like(x, generator)
        path.append(x)
    return torch.stack(path)
