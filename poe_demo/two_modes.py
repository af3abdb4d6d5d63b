"""A curved product with an exact answer: where the Langevin steps' quadrature shows.

Expert A has two modes in the plane, 0.5 N((-2, 0), 0.4^2 I) + 0.5 N((2, 0), 0.7^2 I); expert B
is one wide Gaussian N((0.5, 0.3), 1.5^2 I); the reward exp(-(x_1 + 1)^2 / 2) prefers the left.
A's score bends between and around its modes, so the Metropolis test's density ratio, a
quadrature of the score along each step, is no longer exact: this is the case that chose
Simpson's rule over the trapezoid rule (``benchmarks/weights.py``, ``tests/test_ais_weights.py``).

Given A's component, every factor is Gaussian in each coordinate, so the target is a two-component
mixture with closed-form weights: the right mode's mass P(x_1 > 0) = 0.14885 and
log Z = -4.93004 (the log of the integral of A B exp(r)).
"""

from __future__ import annotations

import math

import torch

from .experts import IsotropicMixtureExpert, gaussian_product
from .metrics import weighted_mean
from .rewards import GaussianReward
from .samplers import annealed_importance_sampling

__all__ = ["MODES", "WIDE", "REWARD", "two_mode_experts", "two_mode_reward", "exact_answer", "two_mode_run"]

MODES = (((-2.0, 0.0), 0.4), ((2.0, 0.0), 0.7))  # expert A: (mean, std) of each equally weighted mode
WIDE = ((0.5, 0.3), 1.5)  # expert B: (mean, std)
REWARD = (-1.0, 1.0)  # (mean, std) of the reward's Gaussian shape on x_1


def two_mode_experts() -> list[IsotropicMixtureExpert]:
    """[A, B] on states ``[L, 2]``."""
    (mean_b, std_b) = WIDE
    return [
        IsotropicMixtureExpert([m for m, _ in MODES], [s for _, s in MODES]),
        IsotropicMixtureExpert([mean_b], [std_b]),
    ]


def two_mode_reward() -> GaussianReward:
    return GaussianReward(*REWARD, coordinate=0)


def exact_answer() -> tuple[float, float]:
    """(P(x_1 > 0), log Z) of A B exp(r), in closed form.

    Per component k and coordinate c the factors multiply to z_kc N(mu_kc, s_kc^2)
    (:func:`~poe_demo.experts.gaussian_product`; exp(r) = sqrt(2 pi) std N(x_1; mean, std^2)), so
    the target is sum_k W_k N(mu_k, S_k) with W_k = 0.5 sqrt(2 pi) std prod_c z_kc.
    """
    (mean_b, std_b), (r_mean, r_std) = WIDE, REWARD
    log_masses, first = [], []
    for mean_a, std_a in MODES:
        log_mass = math.log(0.5) + 0.5 * math.log(2 * math.pi * r_std**2)
        for c, (m_a, m_b) in enumerate(zip(mean_a, mean_b)):
            means, stds = [m_a, m_b], [std_a, std_b]
            if c == 0:
                means, stds = [*means, r_mean], [*stds, r_std]
            mu, sd, log_z = gaussian_product(means, stds)
            log_mass += log_z
            if c == 0:
                first.append((mu, sd))
        log_masses.append(log_mass)
    log_z = torch.logsumexp(torch.tensor(log_masses), 0).item()
    p_right = sum(
        math.exp(lm - log_z) * 0.5 * math.erfc(-mu / (sd * math.sqrt(2))) for lm, (mu, sd) in zip(log_masses, first)
    )
    return p_right, log_z


def two_mode_run(
    seed: int, n_steps: int, n_mcmc_steps: int = 3, metropolis: str = "simpson", n_particles: int = 4000
) -> tuple[float, float]:
    """One seeded annealed run on the target: (weighted P(x_1 > 0), log Z estimate)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_particles, 2, generator=g, dtype=torch.float64)
    r = annealed_importance_sampling(
        two_mode_experts(), two_mode_reward(), x, n_steps, n_mcmc_steps, generator=g, metropolis=metropolis
    )
    return float(weighted_mean((r.particles[:, 0] > 0).double(), r.log_weights)), r.log_normalizer
