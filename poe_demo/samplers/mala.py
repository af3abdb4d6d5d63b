"""Metropolis-adjusted Langevin refinement at one level: the move that corrects the summed-velocity proposal.

The experts give scores but no densities, so the Metropolis test needs log p(z) - log p(x) by
quadrature of the score along each step (Simpson's rule or the trapezoid rule), and the step is
set by the curvature of the summed log-density, which each step measures for free.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
from torch import Tensor

from ..experts.base import GenerativeExpert
from ..rng import rademacher_like, rand, randn_like
from ..validation import check_choice
from .transitions import Evaluation, _dot, _total, combine, evaluate, evaluate_each, exponents, summed_score

__all__ = [
    "METROPOLIS_RULES",
    "SHARED_CALL_LIMIT",
    "curvature",
    "log_density_difference",
    "mala_log_alpha",
    "midpoint_shares_call",
    "Refinement",
    "langevin_refine",
]

# Quadratures of log p(z) - log p(x) for the Langevin steps' Metropolis test (see langevin_refine)
METROPOLIS_RULES = ("simpson", "trapezoid")

# A Langevin proposal and its Simpson midpoint share one call on 2L states while a batch of L states
# holds at most this many numbers. On small batches a network call costs mostly its fixed overhead,
# and sharing made a digit run (L = 4, 784 numbers) 1.4x faster; on large ones a call is
# compute-bound, and at the sphere's target setting (L = 32 clouds of 512 points, 98,304 numbers)
# one call on 2L ran a median 7 % slower than two on L (5 pairs against 3cce83f, ratios 0.97 to
# 1.13; with the limit the median is 1.03, benchmarks/README.md). The limit lies
# between those two measured sizes; it was not tuned between them.
SHARED_CALL_LIMIT = 2**15

# Finite-difference size for the curvature probe, per coordinate; scores of our experts are
# close to linear over this distance at every level (the sphere's radial score is linear in r).
_PROBE = 1e-3


def _per_particle_norm(x: Tensor) -> Tensor:
    return x.flatten(1).norm(dim=1)


def curvature(
    experts: Sequence[GenerativeExpert], x: Tensor, t: float, score: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """kappa ~ |H u| / |u| per particle ``[L]``, H the Hessian of the summed log-density, u random.

    Estimated from scores alone by a finite difference, kappa = |s(x + d u) - s(x)| / (d |u|),
    with u a vector of random signs. For a Gaussian with precision lambda it is exactly lambda;
    near the sphere it grows like 1/t^2; in general it is the RMS curvature along u.
    Zero at some particles is normal (between two modes the log-density has inflection points);
    only a score that is flat at every particle, or not finite, is an error.
    """
    u = rademacher_like(x, generator)
    kappa = _per_particle_norm(summed_score(experts, x + _PROBE * u, t) - score) / (_PROBE * _per_particle_norm(u))
    if not bool(torch.isfinite(kappa).all()):
        raise ValueError(
            f"the summed score is not finite at t={t:.4g} near {int((~torch.isfinite(kappa)).sum())} "
            "particles; check the experts' scores there"
        )
    if not bool((kappa > 0).any()):
        raise ValueError(
            f"the summed score is flat at every particle at t={t:.4g}; every coordinate of the state "
            "needs an expert whose score depends on it"
        )
    return kappa


def log_density_difference(
    x: Tensor, y: Tensor, score_x: Tensor, score_y: Tensor, score_mid: Tensor | None = None
) -> Tensor:
    """log p(y) - log p(x), the line integral of the score along the segment from x to y, per particle ``[L]``.

    Experts give scores but no densities, so a Metropolis test needs this integral by quadrature.
    Without ``score_mid`` it is the trapezoid rule, <(s(x) + s(y)) / 2, y - x>: exact when the
    score is linear (Gaussian experts), with an error of order |y - x|^3 times the score's second
    derivative otherwise. With the score at the midpoint (x + y) / 2 it is Simpson's rule,
    <(s(x) + 4 s(m) + s(y)) / 6, y - x>: exact up to cubic scores, error of order |y - x|^5.
    """
    if score_mid is None:
        return 0.5 * _dot(score_x + score_y, y - x)
    return _dot(score_x + 4 * score_mid + score_y, y - x) / 6


def mala_log_alpha(
    x: Tensor, z: Tensor, score_x: Tensor, score_z: Tensor, h: float, score_mid: Tensor | None = None
) -> Tensor:
    """log p(z) q(x | z) / (p(x) q(z | x)), the Metropolis-Hastings ratio of a Langevin proposal ``[L]``.

    q(z | x) = N(z; x + h s(x), 2h I), and log p(z) - log p(x) is :func:`log_density_difference`.
    With the trapezoid rule (no ``score_mid``) every cross term cancels and
    log alpha = h/4 (|s(x)|^2 - |s(z)|^2); Simpson's rule adds what the trapezoid misses,
    2/3 <s(m) - (s(x) + s(z)) / 2, z - x> with m = (x + z) / 2, zero for linear scores.
    """
    log_alpha = h / 4 * (_dot(score_x, score_x) - _dot(score_z, score_z))
    if score_mid is None:
        return log_alpha
    return log_alpha + 2 / 3 * _dot(score_mid - 0.5 * (score_x + score_z), z - x)


def midpoint_shares_call(metropolis: str, batch_numbers: int) -> bool:
    """Whether :func:`langevin_refine` asks for a proposal and its Simpson midpoint in one call:
    with Simpson's rule, on batches of L states holding at most :data:`SHARED_CALL_LIMIT` numbers."""
    return check_choice("metropolis", metropolis, METROPOLIS_RULES) == "simpson" and batch_numbers <= SHARED_CALL_LIMIT


def _with_midpoint(experts: Sequence[GenerativeExpert], x: Tensor, z: Tensor, t: float) -> tuple[Evaluation, Tensor]:
    """(:func:`evaluate` at z, the summed score at (x + z) / 2), from one call per expert on 2L states:
    on CPU a network's fixed cost per call dominates small batches, so one call on 2L beats two on L."""
    n = x.shape[0]
    both = evaluate_each(experts, torch.cat([z, 0.5 * (x + z)]), t)
    weights = exponents(experts)
    at_z = combine(z, [(v[:n], s[:n]) for v, s in both], weights)
    midpoint = [s[n:] for _, s in both]
    return at_z, _total(midpoint if all(w == 1.0 for w in weights) else [w * s for s, w in zip(midpoint, weights)])


class Refinement(NamedTuple):
    """What :func:`langevin_refine` returns."""

    at: Evaluation  # the experts evaluated at the final particles
    accepted: Tensor  # [L] fraction of the K proposals accepted, per particle
    curvature: Tensor  # [L] largest secant curvature |s(z) - s(x)| / |z - x| over the proposals, per particle


@torch.no_grad()
def langevin_refine(
    experts: Sequence[GenerativeExpert],
    start: Evaluation,
    t: float,
    n_steps: int,
    step_size: float,
    generator: torch.Generator | None = None,
    metropolis: str = "simpson",
    kappa: float | None = None,
) -> Refinement:
    """K Metropolis-adjusted Langevin (MALA) steps on prod_i p_{i,t}, step h = step_size / (kappa d^(1/3)).

    Proposal z = x + h s(x) + sqrt(2h) xi, xi ~ N(0, I), accepted with probability
    min(1, p(z) q(x | z) / (p(x) q(z | x))), q(z | x) = N(z; x + h s(x), 2h I). Experts give no
    densities, so log p(z) - log p(x) is a quadrature of the score along the step
    (:func:`mala_log_alpha`): Simpson's rule (``metropolis="simpson"``, the default) or the
    trapezoid rule. Both are exact for Gaussian experts (linear scores); Simpson's costs one
    more evaluation of the scores per step, at the midpoint (in the same call as the proposal's,
    one call per expert on 2L states, where the batch is small: :func:`midpoint_shares_call`).
    The trapezoid's error is a bias in what the chain keeps, not noise: it does not shrink with more
    levels, since h is set by the curvature, not by T. Measured on a curved product (a two-mode
    mixture times a Gaussian and a reward, ``tests/test_ais_weights.py``) it moved the mass of a
    mode by +0.010 at T = 256, several standard errors, where Simpson's rule is within Monte Carlo
    error.
    ``metropolis="trapezoid"`` saves the extra evaluation where the scores are close to linear
    over a step.

    Unadjusted Langevin would be biased (on a Gaussian it inflates the variance by
    1 / (1 - h kappa / 2)); the test removes that. Scaling h by the curvature keeps the step
    stable as the sphere sharpens like t^2, yet lets it stay large for smooth experts whose
    width does not shrink. The test accepts or rejects a whole particle (d coordinates) at once,
    and MALA keeps a steady acceptance only if h shrinks like d^(-1/3) (Roberts and Rosenthal,
    1998); for a 1-D state the rule is h = step_size / kappa.

    One h serves every particle and all K steps of the level, set by the largest curvature
    among the particles: ``kappa`` if given (the annealed sampler carries it from the previous
    level, :func:`~poe_demo.samplers.levels.next_curvature`), else measured here by
    :func:`curvature`, at the cost of one more evaluation. A fixed h makes the K steps a
    reversible kernel, which the annealed sampler's reward test relies on; a step set by each
    particle's own position would not be one (the reverse move would use another step). The
    largest curvature keeps the sharpest particle stable and every step short enough for the
    quadrature: measured on a mixture of a narrow and a wide mode, a step from the median of a
    few particles' curvatures moved mass between the modes (the fraction in the wide mode off by
    79 standard errors), from the largest it is within Monte Carlo error
    (``tests/test_samplers.py``). The shared h depends on the population through one number,
    the usual compromise of adaptive SMC.

    ``start`` is :func:`evaluate` at the starting particles. Every proposal also measures, for
    free, the secant curvature |s(z) - s(x)| / |z - x| (for a Gaussian exactly its precision,
    like :func:`curvature`), which the sampler uses to set the next level's step.
    """
    x, score, velocity, mismatch = start.x, start.score, start.velocity, start.mismatch
    n_particles = x.shape[0]
    accepted = torch.zeros(n_particles, dtype=x.dtype, device=x.device)
    secant = torch.zeros_like(accepted)
    if n_steps == 0:
        return Refinement(start, accepted + 1, secant)
    simpson = check_choice("metropolis", metropolis, METROPOLIS_RULES) == "simpson"
    shared = midpoint_shares_call(metropolis, x.numel())
    if kappa is None:
        kappa = float(curvature(experts, x, t, score, generator).max())
    elif not (math.isfinite(kappa) and kappa > 0):
        raise ValueError(f"kappa must be a finite curvature > 0, got {kappa!r}")
    h = step_size / (kappa * x[0].numel() ** (1 / 3))
    for _ in range(n_steps):
        z = x + h * score + math.sqrt(2 * h) * randn_like(x, generator)
        if shared:
            at_z, midpoint_score = _with_midpoint(experts, x, z, t)
        else:
            at_z = evaluate(experts, z, t)
            midpoint_score = summed_score(experts, 0.5 * (x + z), t) if simpson else None
        log_alpha = mala_log_alpha(x, z, score, at_z.score, h, midpoint_score)
        secant = torch.maximum(secant, _per_particle_norm(at_z.score - score) / _per_particle_norm(z - x))
        accept = torch.log(rand(n_particles, log_alpha, generator)) < log_alpha
        keep = accept.view(-1, *([1] * (x.ndim - 1)))
        x = torch.where(keep, z, x)
        score = torch.where(keep, at_z.score, score)
        velocity = torch.where(keep, at_z.velocity, velocity)
        mismatch = torch.where(accept, at_z.mismatch, mismatch)
        accepted += accept
    return Refinement(Evaluation(x, velocity, score, mismatch), accepted / n_steps, secant)
