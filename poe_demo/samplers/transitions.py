"""The small pieces every sampler is built from: a time grid, summed experts, the start, one ODE step
(the Langevin refinement that follows it lives in :mod:`poe_demo.samplers.mala`).

A product of experts prod_i p_i^(w_i) has score sum_i w_i grad log p_i, the experts' scores
weighted by their exponents (1 unless an expert is a :class:`~poe_demo.experts.Power`). Summing
velocities is only a proposal: the sum of velocities does not transport the product (see
``02_products_of_experts_in_1d``), which is why the annealed sampler follows each ODE step with
Langevin steps on the summed score (:mod:`poe_demo.samplers.mala`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from ..experts.base import DiscriminativeExpert, GenerativeExpert, velocity_and_score
from ..experts.power import base_of, exponent_of

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
]


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
