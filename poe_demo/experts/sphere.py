"""The exact velocity of the noisy sphere: the yardstick the trained axis experts are held to.

If x_0 is uniform on the sphere of radius R and x_t = (1 - t) x_0 + t eps with Gaussian eps, the
likelihood exp(-|x - (1-t) x_0|^2 / 2t^2) is, on the sphere, proportional to
exp(k <x/|x|, x_0/R>) with k = (1 - t) R |x| / t^2: the posterior of x_0 is von Mises-Fisher, and

    E[x_0 | x_t = x] = R A(k) x / |x|,   A(k) = coth k - 1/k   (Langevin function),

from which v = (x - E[x_0 | x_t]) / t and the score follow (:mod:`poe_demo.paths`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..paths import score_from_velocity
from ..validation import check_points, check_time

__all__ = ["ExactSphereExpert", "sphere_posterior_mean", "von_mises_fisher_mean"]

_AXES = {"x": 0, "y": 1, "z": 2}


def _langevin_over_k(k: Tensor) -> Tensor:
    """A(k)/k = (coth k - 1/k)/k, stable for all k >= 0 (a Taylor series where coth - 1/k cancels)."""
    small = k < 0.5
    ks = torch.where(small, torch.ones_like(k), k)  # keeps the unused branch finite
    k2 = k * k
    series = 1 / 3 - k2 / 45 + 2 * k2**2 / 945 - k2**3 / 4725
    return torch.where(small, series, (1 / torch.tanh(ks) - 1 / ks) / ks)


def von_mises_fisher_mean(kappa: float) -> float:
    """E[<x, mu>] = A(kappa) = coth(kappa) - 1/kappa for x ~ vMF(mu, kappa) on the unit sphere in 3-D.

    It is also the answer for a composition: the uniform sphere times a Gaussian N(m, sigma^2 I)
    restricted to the sphere is exp(<x, m> / sigma^2) up to a constant, a von Mises-Fisher
    distribution with mean direction m / |m| and kappa = |m| / sigma^2.
    """
    if isinstance(kappa, bool) or not isinstance(kappa, (int, float)) or not kappa >= 0:
        raise ValueError(f"kappa must be a number >= 0, got {kappa!r}")
    k = torch.tensor(float(kappa), dtype=torch.float64)
    return float(k * _langevin_over_k(k))


def sphere_posterior_mean(xyz: Tensor, t: float, radius: float = 1.0) -> Tensor:
    """E[x_0 | x_t = xyz] for x_0 uniform on the sphere of the given radius: ``[..., 3]``."""
    t = check_time(t)
    x64 = xyz.double()
    c = (1 - t) * radius / t**2  # k = c |x|; writing R A(k) x/|x| as R c (A(k)/k) x avoids 0/0 at x = 0
    k = c * x64.norm(dim=-1, keepdim=True)
    return (radius * c * _langevin_over_k(k) * x64).to(xyz.dtype)


class ExactSphereExpert:
    """Exact flow expert for the unit sphere; ``axis`` in {'x','y','z'} keeps only that column, None keeps xyz.

    Works on states ``[..., 3]`` or clouds ``[..., N, 6]`` (colors get zero velocity and score).
    """

    def __init__(self, axis: str | None = None, radius: float = 1.0):
        if axis is not None and axis not in _AXES:
            raise ValueError(f"axis must be 'x', 'y', 'z' or None, got {axis!r}")
        if not radius > 0:
            raise ValueError(f"radius must be > 0, got {radius!r}")
        self.axis, self.radius = axis, float(radius)
        self.columns = [_AXES[axis]] if axis else [0, 1, 2]

    def __repr__(self) -> str:
        return f"ExactSphereExpert(axis={self.axis!r}, radius={self.radius})"

    def velocity(self, x: Tensor, t: float) -> Tensor:
        t = check_time(t)
        xyz = check_points(x, repr(self))[..., :3]
        v_xyz = (xyz - sphere_posterior_mean(xyz, t, self.radius)) / t
        v = torch.zeros_like(x)
        v[..., self.columns] = v_xyz[..., self.columns]
        return v

    def score(self, x: Tensor, t: float) -> Tensor:
        v = self.velocity(x, t)
        s = torch.zeros_like(x)
        s[..., self.columns] = score_from_velocity(x[..., self.columns], v[..., self.columns], t)
        return s
