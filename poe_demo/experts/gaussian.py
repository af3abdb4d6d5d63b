"""Gaussian experts: every quantity in closed form, so the samplers can be checked exactly.

Data x_0 ~ N(mu, sigma^2) independently per coordinate, noise eps ~ N(0, 1). Along the linear
path the marginal stays Gaussian,

    p_t = N(a_t, s_t^2),   a_t = (1 - t) mu,   s_t^2 = (1 - t)^2 sigma^2 + t^2,

so the score is -(x - a_t) / s_t^2 and the velocity E[eps - x_0 | x_t] is linear in x.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from .base import JointExpert
from .power import Composable, base_of, exponent_of

__all__ = [
    "GaussianExpert",
    "GaussianMixtureExpert",
    "IsotropicMixtureExpert",
    "check_normalizable",
    "gaussian_product",
    "mixture_flow",
]


class GaussianExpert(Composable):
    """Generative expert whose data distribution is N(mean, std^2) in every coordinate of the state."""

    def __init__(self, mean: float, std: float):
        if not std > 0:
            raise ValueError(f"std must be > 0, got {std!r}")
        self.mean, self.std = float(mean), float(std)

    def __repr__(self) -> str:
        return f"GaussianExpert(mean={self.mean}, std={self.std})"

    def marginal(self, t: float) -> tuple[float, float]:
        """(a_t, s_t): mean and std of p_t."""
        return (1 - t) * self.mean, math.sqrt((1 - t) ** 2 * self.std**2 + t**2)

    def score(self, x: Tensor, t: float) -> Tensor:
        a, s = self.marginal(t)
        return -(x - a) / s**2

    def velocity(self, x: Tensor, t: float) -> Tensor:
        # E[x_0 | x] = mu + (1-t) sigma^2 / s^2 (x - a), E[eps | x] = t / s^2 (x - a).
        a, s = self.marginal(t)
        return (t - (1 - t) * self.std**2) / s**2 * (x - a) - self.mean

    def log_prob(self, x: Tensor, t: float) -> Tensor:
        """Elementwise log N(x; a_t, s_t^2) (for plots and checks)."""
        a, s = self.marginal(t)
        return -0.5 * ((x - a) / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi)


def gaussian_product(
    means: Sequence[float], stds: Sequence[float], exponents: Sequence[float] | None = None
) -> tuple[float, float, float]:
    """prod_i N(x; mu_i, sigma_i^2)^(w_i) = Z N(x; mu, sigma^2) in one dimension: returns (mu, sigma, log Z).

    With exponents w_i (all 1 if not given; any real, negative included):

        1/sigma^2 = sum_i w_i / sigma_i^2,   mu = sigma^2 sum_i w_i mu_i / sigma_i^2,
        log Z = -sum_i w_i log(sqrt(2 pi) sigma_i) + log(sqrt(2 pi) sigma)
                - (sum_i w_i mu_i^2 / sigma_i^2 - mu^2 / sigma^2) / 2.

    A precision 1/sigma^2 that is not positive means no finite integral: a ValueError.
    """
    m = torch.tensor(means, dtype=torch.float64)
    s = torch.tensor(stds, dtype=torch.float64)
    w = torch.ones_like(m) if exponents is None else torch.tensor(exponents, dtype=torch.float64)
    if m.shape != s.shape or m.shape != w.shape or m.ndim != 1 or len(m) == 0:
        raise ValueError(
            f"means, stds and exponents must be equal-length non-empty lists, got {list(means)}, {list(stds)}"
            + ("" if exponents is None else f" and {list(exponents)}")
        )
    if not bool((s > 0).all()):
        raise ValueError(f"stds must be > 0, got {list(stds)}")
    precision = (w / s**2).sum()
    if not precision > 0:
        raise ValueError(
            f"the product is not normalizable: its precision sum_i w_i / sigma_i^2 = {float(precision):.4g} is not > 0"
        )
    var = 1 / precision
    mean = var * (w * m / s**2).sum()
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    log_z = (
        -(w * (half_log_2pi + torch.log(s))).sum()
        + half_log_2pi
        + 0.5 * torch.log(var)
        - 0.5 * ((w * m**2 / s**2).sum() - mean**2 / var)
    )
    return float(mean), float(var.sqrt()), float(log_z)


def check_normalizable(experts, times: Sequence[float]) -> None:
    """For a product of :class:`GaussianExpert` powers, a ValueError at the first level t in ``times`` where
    prod_i p_{i,t}^(w_i) has no finite integral (precision sum_i w_i / s_{i,t}^2 not > 0); any other experts:
    nothing to check in closed form."""
    if not experts or not all(type(base_of(e)) is GaussianExpert for e in experts):
        return
    for t in times:
        precision = sum(exponent_of(e) / base_of(e).marginal(t)[1] ** 2 for e in experts)
        if not precision > 0:
            raise ValueError(
                f"the product of {', '.join(map(repr, experts))} is not normalizable at t={t:.4g}: its precision "
                f"sum_i w_i / s_i,t^2 = {precision:.4g} is not > 0 (the negative exponents outweigh the others)"
            )


def mixture_flow(u: Tensor, t: float, means: Tensor, stds: Tensor, log_weights: Tensor) -> tuple[Tensor, Tensor]:
    """Exact velocity and score of data sum_k w_k N(mu_k, sigma_k^2 I) in d dimensions under N(0, I) noise.

    ``u: [..., d]``, ``means: [K, d]``, ``stds, log_weights: [K]`` (log_weights normalised). Per
    component the marginal is N((1 - t) mu_k, s_k^2 I) with s_k^2 = (1 - t)^2 sigma_k^2 + t^2, and

        score_k    = -(u - (1 - t) mu_k) / s_k^2,
        velocity_k = (t - (1 - t) sigma_k^2) / s_k^2 (u - (1 - t) mu_k) - mu_k,

    (E[eps - x_0 | u, k], from the jointly Gaussian (x_0, x_t)). Both are averaged with the
    responsibilities r_k(u) = P(k | x_t = u), which all d coordinates share.
    """
    means, stds, log_weights = means.to(u), stds.to(u), log_weights.to(u)
    var = (1 - t) ** 2 * stds**2 + t**2  # [K]
    centred = u.unsqueeze(-2) - (1 - t) * means  # [..., K, d]
    d = u.shape[-1]
    log_joint = log_weights - 0.5 * (centred**2).sum(-1) / var - 0.5 * d * torch.log(2 * math.pi * var)
    r = torch.softmax(log_joint, dim=-1).unsqueeze(-1)  # [..., K, 1]
    score = (r * -centred / var.unsqueeze(-1)).sum(-2)
    velocity = (r * (((t - (1 - t) * stds**2) / var).unsqueeze(-1) * centred - means)).sum(-2)
    return velocity, score


class GaussianMixtureExpert(JointExpert, Composable):
    """Generative expert with data sum_k w_k N(mu_k, sigma_k^2) in every coordinate: isolated modes, exact scores.

    Given the component k, (x_0, x_t) is jointly Gaussian, so p_t = sum_k w_k N(a_k, s_k^2) and the
    velocity and score are the component ones averaged with responsibilities r_k(x) = P(k | x_t = x)
    (:func:`mixture_flow` with d = 1, each coordinate on its own).
    """

    def __init__(self, means: Sequence[float], stds: Sequence[float], weights: Sequence[float] | None = None):
        if len(means) != len(stds) or not means:
            raise ValueError(f"means and stds must be equal-length non-empty lists, got {list(means)} and {list(stds)}")
        weights = [1.0 / len(means)] * len(means) if weights is None else list(weights)
        if len(weights) != len(means) or min(weights) <= 0:
            raise ValueError(f"weights must be {len(means)} positive numbers, got {weights}")
        if min(stds) <= 0:
            raise ValueError(f"stds must be > 0, got {list(stds)}")
        self.components = [GaussianExpert(m, s) for m, s in zip(means, stds)]
        self.log_weights = torch.tensor(weights, dtype=torch.float64).log() - math.log(sum(weights))
        self._means = torch.tensor(means, dtype=torch.float64).unsqueeze(-1)  # [K, 1]
        self._stds = torch.tensor(stds, dtype=torch.float64)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{w:.2f} N({c.mean}, {c.std}^2)" for w, c in zip(self.log_weights.exp().tolist(), self.components)
        )
        return f"GaussianMixtureExpert({parts})"

    def log_prob(self, x: Tensor, t: float) -> Tensor:
        """Elementwise log p_t(x) = log sum_k w_k N(x; a_k, s_k^2) (for plots and checks)."""
        log_joint = torch.stack([c.log_prob(x, t) for c in self.components])
        return torch.logsumexp(log_joint + self.log_weights.to(x).view(-1, *[1] * x.ndim), dim=0)

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        velocity, score = mixture_flow(x.unsqueeze(-1), t, self._means, self._stds, self.log_weights)
        return velocity.squeeze(-1), score.squeeze(-1)


class IsotropicMixtureExpert(JointExpert, Composable):
    """Generative expert on states ``[L, d]`` with data sum_k w_k N(mu_k, sigma_k^2 I): modes in d dimensions.

    Unlike :class:`GaussianMixtureExpert`, whose coordinates are independent 1-D mixtures, all d
    coordinates share one choice of component, so the modes are points of R^d and the score bends
    between them. Exact velocity and score by :func:`mixture_flow`.
    """

    def __init__(self, means: Sequence[Sequence[float]], stds: Sequence[float], weights: Sequence[float] | None = None):
        self.means = torch.as_tensor(means, dtype=torch.float64)  # [K, d]
        self.stds = torch.as_tensor(stds, dtype=torch.float64)  # [K]
        k = len(self.stds)
        weights = torch.full((k,), 1.0 / k, dtype=torch.float64) if weights is None else torch.as_tensor(weights)
        if self.means.ndim != 2 or self.means.shape[0] != k or weights.shape != (k,):
            raise ValueError(f"means must be [K, d] with K = len(stds) = len(weights), got {tuple(self.means.shape)}")
        if not bool((self.stds > 0).all()) or not bool((weights > 0).all()):
            raise ValueError(f"stds and weights must be > 0, got {self.stds.tolist()} and {weights.tolist()}")
        self.log_weights = weights.double().log() - weights.double().sum().log()

    def __repr__(self) -> str:
        return f"IsotropicMixtureExpert(means={self.means.tolist()}, stds={self.stds.tolist()})"

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        return mixture_flow(x, t, self.means, self.stds, self.log_weights)
