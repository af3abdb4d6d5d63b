"""The small pieces every sampler is built from: a time grid, summed experts, one ODE step, and
Metropolis-adjusted Langevin refinement at one level.

A product of experts prod_i p_i^(w_i) has score sum_i w_i grad log p_i, the experts' scores
weighted by their exponents (1 unless an expert is a :class:`~poe_demo.experts.Power`). Summing
velocities is only a proposal: the sum of velocities does not transport the product (see
``02_products_of_experts_in_1d``), which is why the annealed sampler follows each ODE step with
Langevin steps on the summed score.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import torch
from torch import Tensor

from ..experts.base import DiscriminativeExpert, GenerativeExpert, velocity_and_score
from ..experts.power import base_of, exponent_of
from ..rng import rademacher_like, rand, randn_like
from ..validation import check_choice

__all__ = [
    "Evaluation",
    "time_grid",
    "evaluate_each",
    "combine",
    "evaluate",
    "exponents",
    "velocity_mismatch",
    "total_exponents",
    "start_log_weights",
    "start",
    "summed_velocity",
    "summed_score",
    "total_log_reward",
    "raise_nonfinite",
    "ode_step",
    "curvature",
    "Refinement",
    "langevin_refine",
    "log_density_difference",
    "mala_log_alpha",
    "METROPOLIS_RULES",
]

# Quadratures of log p(z) - log p(x) for the Langevin steps' Metropolis test (see langevin_refine)
METROPOLIS_RULES = ("simpson", "trapezoid")

# Finite-difference size for the curvature probe, per coordinate; scores of our experts are
# close to linear over this distance at every level (the sphere's radial score is linear in r).
_PROBE = 1e-3


def time_grid(n_steps: int, power: float = 2.0) -> Tensor:
    """Levels t_k = (1 - k/T)^power, k = 0..T, from noise (t=1) to data (t=0): ``[T + 1]``.

    power > 1 packs levels near t = 0, where the sphere's intermediate distributions sharpen,
    and makes the last step (from t_{T-1} = T^-power to 0) small.
    """
    return (1 - torch.arange(n_steps + 1, dtype=torch.float64) / n_steps) ** power


@dataclass(frozen=True)
class Evaluation:
    """Particles together with the summed velocity and score of the experts there, at one t."""

    x: Tensor  # [L, ...]
    velocity: Tensor  # [L, ...] V = sum_i w_i v_i(x, t)
    score: Tensor  # [L, ...] S = sum_i w_i grad log p_{i,t}(x)
    mismatch: Tensor  # [L] sum_i w_i <s_i, V - v_i>, see velocity_mismatch


def _total(tensors) -> Tensor:
    """The sum of a non-empty sequence of tensors, without the extra copy of Python's sum (0 + first)."""
    return functools.reduce(torch.add, tensors)


def _dot(a: Tensor, b: Tensor) -> Tensor:
    """<a_l, b_l> per particle: ``[L, ...] x [L, ...] -> [L]``."""
    return torch.linalg.vecdot(a.flatten(1), b.flatten(1))


@torch.no_grad()
def evaluate_each(experts: Sequence[GenerativeExpert], x: Tensor, t: float) -> list[tuple[Tensor, Tensor]]:
    """(v_i, s_i) for each expert at x, each shaped like x: the expert's own, without its exponent
    (:func:`~poe_demo.experts.power.base_of`; :func:`exponents` gives the w_i). An expert may offer
    ``velocity_and_score(x, t)`` to give both from one pass (the sphere's experts and
    :class:`~poe_demo.experts.ModelExpert` do)."""
    return [velocity_and_score(base_of(e), x, t) for e in experts]


def exponents(experts: Sequence[GenerativeExpert]) -> list[float]:
    """w_i for each expert: a :class:`~poe_demo.experts.Power`'s exponent, 1 for a plain expert."""
    return [exponent_of(e) for e in experts]


def velocity_mismatch(each: Sequence[tuple[Tensor, Tensor]], velocity: Tensor, weights: Sequence[float]) -> Tensor:
    """sum_i w_i <s_i, V - v_i> per particle ``[L]``: how far V is from transporting the product.

    Let gamma_t = prod_i p_{i,t}^(w_i) and let particles follow dx/dt = V = sum_i w_i v_i. Each
    expert's continuity equation gives d/dt log p_{i,t} = -div v_i - <s_i, v_i> along its own
    flow, and the volume of the moving particles changes by d/dt log|det J| = div V. With this V
    the divergences cancel, sum_i w_i div v_i = div V, and

        d/dt [log gamma_t(x_t) + log |det dx_t/dx_1|] = sum_i w_i <s_i, V - v_i>,

    so the importance weight of the transported particles changes at this rate: no densities,
    no divergences (the derivation in full: ``docs/exponents.md``). When experts move disjoint
    coordinates, V - v_i is zero wherever s_i is not, and the rate is exactly 0. When the
    exponents sum to 1 and the noise is Gaussian it equals ((1 - t) / t) sum_i w_i |v_i - V|^2:
    the weights fall (t runs down) where the experts disagree.
    """
    if list(weights) == [1.0]:  # one expert: V = v_1
        return velocity.new_zeros(velocity.shape[0])
    if list(weights) == [1.0, 1.0]:  # V - v_1 = v_2: no subtraction (the sphere's hot loop)
        (v_1, s_1), (v_2, s_2) = each
        return _dot(s_1, v_2) + _dot(s_2, v_1)
    return _total([w * _dot(s, velocity - v) for (v, s), w in zip(each, weights)])


def combine(x: Tensor, each: Sequence[tuple[Tensor, Tensor]], weights: Sequence[float]) -> Evaluation:
    """The :class:`Evaluation` at x from each expert's (v_i, s_i) and exponent w_i:
    V = sum_i w_i v_i, S = sum_i w_i s_i (the score of gamma_t), and the mismatch."""
    if all(w == 1.0 for w in weights):  # no multiplications by 1 in the hot loop
        velocity, score = _total([v for v, _ in each]), _total([s for _, s in each])
    else:
        velocity = _total([w * v for (v, _), w in zip(each, weights)])
        score = _total([w * s for (_, s), w in zip(each, weights)])
    return Evaluation(x, velocity, score, velocity_mismatch(each, velocity, weights))


@torch.no_grad()
def evaluate(experts: Sequence[GenerativeExpert], x: Tensor, t: float) -> Evaluation:
    """V, S and the velocity mismatch at x: one call per expert."""
    return combine(x, evaluate_each(experts, x, t), exponents(experts))


def total_exponents(experts: Sequence[GenerativeExpert], scores: Sequence[Tensor]) -> Tensor:
    """W_c = sum_i w_i over the experts that model coordinate c: ``[1, ...]``, one state's shape.

    An expert models the coordinates where its score at t = 1 is not zero at some particle
    (``scores [L, ...]``, the experts' own s_i(x, 1)); a coordinate no expert models counts as
    W_c = 1 (nothing to rescale). Where the exponents of a modelled coordinate sum to zero or less the product is not
    normalizable (its level-1 marginal prod_i N(0, 1)^(w_i) has no finite integral): a ValueError.
    """
    models = [(s != 0).any(0, keepdim=True).to(s.dtype) for s in scores]
    total = _total([w * m for m, w in zip(models, exponents(experts))])
    modelled = _total(models) > 0
    if bool((total[modelled] <= 0).any()):
        terms = ", ".join(f"{type(base_of(e)).__name__} ** {exponent_of(e):g}" for e in experts)
        raise ValueError(
            f"the exponents of the experts sharing a coordinate sum to {float(total[modelled].min()):g} there "
            f"({terms}): the product is not normalizable unless they sum to more than 0"
        )
    return torch.where(modelled, total, torch.ones_like(total))


def start_log_weights(total: Tensor, x: Tensor) -> Tensor:
    """log gamma_1(x) - log q(x) per particle ``[L]`` for the annealed sampler's start x ~ q = N(0, I / m_c),
    m_c = min(W_c, 1) (:func:`start`; ``total``: W_c ``[1, ...]``).

    At t = 1 an expert's marginal is its noise: N(0, 1) in each coordinate it models, flat in the
    others, so a coordinate whose exponents sum to W_c has gamma_1 = prod_i N(x_c; 0, 1)^(w_i)
    and, per coordinate,

        log w = -(W_c - m_c) x_c^2 / 2 + ((1 - W_c) log(2 pi) - log m_c) / 2,

    exactly 0 where W_c = 1 (one expert, whatever its noise, such as the color expert's palette;
    or exponents summing to 1, as in AND, NOT and guidance). Where experts share a coordinate or
    carry an exponent, their noise must be N(0, 1), as for every flow trained with Gaussian noise.
    """
    m = total.clamp(max=1.0)
    per_coordinate = -0.5 * (total - m) * x * x + 0.5 * ((1 - total) * math.log(2 * math.pi) - torch.log(m))
    return per_coordinate.flatten(1).sum(1)


@torch.no_grad()
def start(experts: Sequence[GenerativeExpert], x_init: Tensor) -> tuple[Evaluation, Tensor]:
    """The particles at t = 1 and the experts there: (:class:`Evaluation`, W_c ``[1, ...]``).

    ``x_init`` is N(0, I) noise (a single unit-exponent expert's own noise on its coordinates). The
    start is x_init / sqrt(min(W_c, 1)) (:func:`total_exponents`): the noise itself where the
    exponents sum to 1 or more, widened to N(0, 1 / W_c) where they sum below 1 (tempering down),
    so it is never narrower than the product's level-1 marginal N(0, 1 / W_c); the weighted
    sampler makes up the difference with :func:`start_log_weights`. Where W_c > 1 the start could
    be that marginal itself, but the flow of V then ends narrower than the target, and weights
    cannot widen what the particles never reached (measured in ``docs/exponents.md``); where
    W_c < 1 it must widen, or the weights would have infinite variance. The experts are evaluated
    at x_init, and once more (L more evaluations) where the start is widened.
    """
    each = evaluate_each(experts, x_init, 1.0)
    total = total_exponents(experts, [s for _, s in each])
    scale = total.clamp(max=1.0)
    if bool((scale == 1).all()):
        return combine(x_init, each, exponents(experts)), total
    return evaluate(experts, x_init / scale.sqrt(), 1.0), total


def summed_velocity(experts: Sequence[GenerativeExpert], x: Tensor, t: float) -> Tensor:
    """V = sum_i w_i v_i(x, t), shaped like x (a :class:`~poe_demo.experts.Power` returns w v)."""
    return _total([e.velocity(x, t) for e in experts])


def summed_score(experts: Sequence[GenerativeExpert], x: Tensor, t: float) -> Tensor:
    """S = sum_i w_i grad log p_{i,t}(x): the score of gamma_t = prod_i p_{i,t}^(w_i)."""
    return _total([e.score(x, t) for e in experts])


def total_log_reward(experts: Sequence[DiscriminativeExpert], x: Tensor, t: float | None = None) -> Tensor:
    """sum_j r_j(x) per particle: ``[L]`` (zeros when there are no discriminative experts).

    A reward of -inf is a hard constraint (the particle gets zero weight); NaN or +inf is an
    error naming the expert (and ``t``, the level it was evaluated for)."""
    n = x.shape[0]
    total = torch.zeros(n, dtype=x.dtype, device=x.device)
    for e in experts:
        r = e.log_reward(x)
        if tuple(r.shape) != (n,):
            raise ValueError(f"{type(e).__name__}.log_reward must return shape [L] = [{n}], got {tuple(r.shape)}")
        bad = torch.isnan(r) | torch.isposinf(r)
        if bool(bad.any()):
            level = "" if t is None else f" at t={t:.4g}"
            raise ValueError(
                f"{type(e).__name__}.log_reward returned NaN or +inf for {int(bad.sum())} of {n} "
                f"particles{level}; only -inf (a hard constraint) may be non-finite"
            )
        total = total + r
    return total


def raise_nonfinite(experts: Sequence[GenerativeExpert], x: Tensor, t: float, what: str):
    """Raise a ValueError naming the experts whose velocity or score is not finite at (x, t)."""
    bad = [
        type(e).__name__
        for e, (v, s) in zip(experts, evaluate_each(experts, x, t))
        if not (bool(torch.isfinite(v).all()) and bool(torch.isfinite(s).all()))
    ]
    culprits = (
        f"non-finite velocity or score from {', '.join(bad)}" if bad else "each expert is finite, their sum is not"
    )
    raise ValueError(f"{what} is not finite at t={t:.4g}: {culprits}")


def ode_step(x: Tensor, v: Tensor, t: float, t_next: float) -> Tensor:
    """One Euler step of dx/dt = v from t to t_next (t_next < t when sampling)."""
    return x + (t_next - t) * v


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
    one call per expert on 2L states). The trapezoid's error is a bias in
    what the chain keeps, not noise: it does not shrink with more levels, since h is set by the
    curvature, not by T. Measured on a curved product (a two-mode mixture times a Gaussian and a
    reward, ``tests/test_ais_weights.py``) it moved the mass of a mode by +0.010 at T = 256,
    several standard errors, where Simpson's rule is within Monte Carlo error.
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
    level, :func:`~poe_demo.samplers.ais.next_curvature`), else measured here by
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
    if kappa is None:
        kappa = float(curvature(experts, x, t, score, generator).max())
    elif not (math.isfinite(kappa) and kappa > 0):
        raise ValueError(f"kappa must be a finite curvature > 0, got {kappa!r}")
    h = step_size / (kappa * x[0].numel() ** (1 / 3))
    for _ in range(n_steps):
        z = x + h * score + math.sqrt(2 * h) * randn_like(x, generator)
        at_z, midpoint_score = _with_midpoint(experts, x, z, t) if simpson else (evaluate(experts, z, t), None)
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
