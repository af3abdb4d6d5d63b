"""The sphere times a Gaussian blob: experts that move the same coordinates, with an exact answer.

The sphere expert knows "points lie on the unit sphere", the blob expert N(m, sigma^2 I) knows
"points lie near m". Both move every coordinate of a point, so summing their velocities is no
longer the product's velocity. Their product, uniform on the sphere times the blob, is a von
Mises-Fisher distribution with mean direction m/|m| and kappa = |m| / sigma^2
(:func:`~poe_demo.experts.von_mises_fisher_mean`), so each way of sampling it can be measured
against the truth: the mean of the *tilt* <x, m/|m|>.

States are clouds of points ``[L, N, 3]``: one particle is N points, a 3N-dimensional state
whose points the target treats independently. N is how a test of dimension enters.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from .experts import ExactSphereExpert, GaussianExpert, GenerativeExpert, von_mises_fisher_mean
from .metrics import weighted_mean
from .samplers import annealed_importance_sampling, euler

__all__ = [
    "BLOB_MEAN",
    "BLOB_STD",
    "Estimate",
    "TiltError",
    "blob_direction",
    "blob_experts",
    "exact_tilt",
    "tilt",
    "METHODS",
    "estimate_tilt",
    "tilt_error",
]

# The blob's mean is (0.4, 0.4, 0.4): |m| = 0.69, so kappa = 2.77 and the exact mean tilt is 0.647.
BLOB_MEAN, BLOB_STD = 0.4, 0.5


def blob_experts(sphere: GenerativeExpert | None = None) -> list[GenerativeExpert]:
    """[sphere expert (the exact one by default, or e.g. trained axis experts batched), blob expert]."""
    return [ExactSphereExpert() if sphere is None else sphere, GaussianExpert(BLOB_MEAN, BLOB_STD)]


def blob_direction() -> Tensor:
    """m / |m| ``[3]``."""
    return torch.ones(3, dtype=torch.float64) / math.sqrt(3)


def exact_tilt() -> float:
    """E[<x, m/|m|>] under the product: A(kappa) = coth(kappa) - 1/kappa with kappa = |m| / sigma^2."""
    return von_mises_fisher_mean(BLOB_MEAN * math.sqrt(3) / BLOB_STD**2)


def tilt(x: Tensor, log_weights: Tensor | None = None) -> float:
    """Weighted mean over particles of the points' mean <x_i, m/|m|>, for clouds ``[L, N, 3]``."""
    per_particle = (x.double() @ blob_direction()).mean(-1)  # [L]
    return float(weighted_mean(per_particle, log_weights))


@dataclass(frozen=True)
class Estimate:
    tilt: float  # the estimate of E[<x, m/|m|>]
    ess: float  # the smallest effective sample size over the levels (L when the particles are unweighted)


# Four ways to sample the product. time_power = 1: near t = 0 the sphere's density is a shell of
# width t, and every Euler step of the summed velocity shifts particles across it by about dt/t of
# its width, which the weights must undo; a uniform grid keeps dt/t small there (time_power = 2,
# the sphere course's default, made the "both" estimate about 10x noisier).
METHODS = {
    "velocity sum (Euler)": dict(n_mcmc_steps=0, weighted=False),
    "weights alone (K = 0, no resampling)": dict(n_mcmc_steps=0, weighted=True, ess_threshold=0.0),
    "MALA alone (K = 3, weights ignored)": dict(n_mcmc_steps=3, weighted=False, ess_threshold=0.0),
    "both (K = 3, resampling)": dict(n_mcmc_steps=3, weighted=True),
}


def estimate_tilt(
    method: str,
    x_init: Tensor,
    n_steps: int = 64,
    experts: list | None = None,
    generator: torch.Generator | None = None,
) -> Estimate:
    """One run of a method of :data:`METHODS` from noise ``x_init [L, N, 3]``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    experts = blob_experts() if experts is None else experts
    settings = dict(METHODS[method])
    weighted = settings.pop("weighted")
    if method == "velocity sum (Euler)":
        return Estimate(tilt(euler(experts, x_init, n_steps, time_power=1.0).particles), float(len(x_init)))
    result = annealed_importance_sampling(
        experts, None, x_init, n_steps, time_power=1.0, generator=generator, **settings
    )
    if not weighted:
        return Estimate(tilt(result.particles), float(len(x_init)))
    return Estimate(tilt(result.particles, result.log_weights), float(result.ess.min()))


@dataclass(frozen=True)
class TiltError:
    bias: float  # mean over seeds of (estimate - exact tilt)
    se: float  # its standard error, from the spread over seeds
    ess: float  # mean over seeds of the smallest ESS


def tilt_error(
    method: str,
    n_points: int,
    seeds: Sequence[int],
    n_particles: int = 256,
    n_steps: int = 64,
    experts: list | None = None,
) -> TiltError:
    """Error of a method of :data:`METHODS` against :func:`exact_tilt` over independent seeded runs
    (seed s draws the noise, seed 1000 + s drives the sampler)."""
    estimates = [
        estimate_tilt(
            method,
            torch.randn(n_particles, n_points, 3, generator=torch.Generator().manual_seed(s)),
            n_steps,
            experts,
            torch.Generator().manual_seed(1000 + s),
        )
        for s in seeds
    ]
    errors = [e.tilt - exact_tilt() for e in estimates]
    return TiltError(
        statistics.fmean(errors),
        statistics.stdev(errors) / math.sqrt(len(errors)),
        statistics.fmean(e.ess for e in estimates),
    )
