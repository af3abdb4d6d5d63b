"""The small pieces every sampler is built from: a time grid, summed experts, one ODE step, and
Langevin refinement at one level.

A product of experts prod_i p_i has score sum_i grad log p_i, so the product's score is the sum
of the experts' scores. Summing velocities is only a proposal: the sum of velocities does not
transport the product (see ``02_products_of_experts_in_1d``), which is why the annealed sampler
follows each ODE step with Langevin steps on the summed score.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ..experts.base import DiscriminativeExpert, GenerativeExpert
from ..rng import rademacher_like, randn_like

__all__ = [
    "time_grid",
    "summed_velocity",
    "summed_score",
    "total_log_reward",
    "ode_step",
    "curvature",
    "langevin_refine",
]

# Finite-difference size for the curvature probe, per coordinate; scores of our experts are
# close to linear over this distance at every level (the sphere's radial score is linear in r).
_PROBE = 1e-3


def time_grid(n_steps: int, power: float = 2.0) -> Tensor:
    """Levels t_k = (1 - k/T)^power, k = 0..T, from noise (t=1) to data (t=0): ``[T + 1]``.

    power > 1 packs levels near t = 0, where the sphere's intermediate distributions sharpen,
    and makes the last step (from t_{T-1} = T^-power to 0) small.
    """
    return (1 - torch.arange(n_steps + 1, dtype=torch.float64) / n_steps) ** power


def summed_velocity(experts: Sequence[GenerativeExpert], x: Tensor, t: float) -> Tensor:
    """sum_i v_i(x, t), shaped like x."""
    return sum(e.velocity(x, t) for e in experts)


def summed_score(experts: Sequence[GenerativeExpert], x: Tensor, t: float) -> Tensor:
    """sum_i grad log p_{i,t}(x): the score of the product of the experts' level-t marginals."""
    return sum(e.score(x, t) for e in experts)


def total_log_reward(experts: Sequence[DiscriminativeExpert], x: Tensor) -> Tensor:
    """sum_j r_j(x) per particle: ``[L]`` (zeros when there are no discriminative experts)."""
    total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
    for e in experts:
        total = total + e.log_reward(x)
    return total


def ode_step(x: Tensor, v: Tensor, t: float, t_next: float) -> Tensor:
    """One Euler step of dx/dt = v from t to t_next (t_next < t when sampling)."""
    return x + (t_next - t) * v


def _per_particle_norm(x: Tensor) -> Tensor:
    return x.flatten(1).norm(dim=1)


def curvature(experts: Sequence[GenerativeExpert], x: Tensor, t: float, score: Tensor,
              generator: torch.Generator | None = None) -> Tensor:
    """kappa ~ |H u| / |u| per particle ``[L]``, H the Hessian of the summed log-density, u random.

    Estimated from scores alone by a finite difference, kappa = |s(x + d u) - s(x)| / (d |u|):
    with u a vector of random signs. For a Gaussian with precision lambda it is exactly lambda; near the sphere it grows like
    1/t^2; in general it is the RMS curvature along a random direction.
    """
    u = rademacher_like(x, generator)
    kappa = _per_particle_norm(summed_score(experts, x + _PROBE * u, t) - score) / (_PROBE * _per_particle_norm(u))
    if not bool(torch.isfinite(kappa).all()) or bool((kappa == 0).any()):
        raise ValueError(
            f"the summed score is flat or not finite at t={t:.4g} (curvature {kappa.min().item():.3g}); "
            "every coordinate of the state needs an expert whose score depends on it"
        )
    return kappa


def langevin_refine(
    experts: Sequence[GenerativeExpert],
    x: Tensor,
    t: float,
    n_steps: int,
    step_size: float,
    generator: torch.Generator | None = None,
    noise: Tensor | None = None,
) -> tuple[Tensor, Tensor | None]:
    """K Langevin steps targeting prod_i p_{i,t}, with step h = step_size / kappa per particle.

        x <- x + h s(x) + sqrt(h / 2) (xi_k + xi_{k+1}),   xi ~ N(0, I)

    Averaging consecutive noises (Leimkuhler-Matthews) costs nothing and removes the leading
    step-size bias of the plain step x + h s + sqrt(2h) xi: on a Gaussian target it keeps the
    exact variance in every direction with h lambda < 2, where the plain step inflates it by
    1 / (1 - h lambda / 2). It needs the chain's last xi: pass the returned ``noise`` to the next
    call (a fresh xi_0 would give the first step half the noise it needs).

    Scaling h by the curvature keeps the step stable as the sphere sharpens like t^2, yet lets
    it stay large for smooth experts whose width does not shrink. Returns (x, last xi).
    """
    if n_steps == 0:
        return x, noise
    score = summed_score(experts, x, t)
    h = (step_size / curvature(experts, x, t, score, generator)).view(-1, *([1] * (x.ndim - 1)))
    noise_scale = torch.sqrt(h / 2)
    xi = randn_like(x, generator) if noise is None else noise
    for k in range(n_steps):
        xi_next = randn_like(x, generator)
        x = x + h * score + noise_scale * (xi + xi_next)
        xi = xi_next
        if k < n_steps - 1:
            score = summed_score(experts, x, t)
    return x, xi
