"""Exponents on generative experts: the algebra of a product, prod_i p_i^(w_i).

A product of densities is not an intersection of sets. Two image experts trained on overlapping
data both know what any image looks like, and their product counts that shared part twice,
p_A p_B = (shared)^2 (what only A knows) (what only B knows): the samples it favours are the
ones that are very typical of everything, faint and simple. Exponents are the algebra that fixes
it, with an expert U of everything that holds the shared part once:

* AND: p_A p_B / p_U keeps the shared part once, and the intersection of what A and B know;
* NOT: p_U^2 / p_A = p_U (p_U / p_A), everything, less what A knows;
* guidance: p_U^(1 - g) p_C^g = p_U (p_C / p_U)^g, the conditional expert's part sharpened by g
  (classifier-free guidance, with p_C the model told the class);
* tempering: p^w, flatter for w < 1, sharper for w > 1.

This module only records the exponents. :func:`power` (or ``expert ** w``) wraps an expert as a
:class:`Power`; ``*`` and ``/`` collect Powers into a :class:`Product`, a list that every sampler
accepts. What the exponents mean for a sampler (the transport velocity V = sum_i w_i v_i, the
start, the weights) is in :mod:`poe_demo.samplers.transitions` and ``docs/exponents.md``.

A Power's ``score`` is w s, the exact score of p_t^w. Its ``velocity`` is w v, its share of
V: not the velocity of a flow whose marginals are p_t^w (no such simple flow exists; the
samplers' weights account for the difference).
"""

from __future__ import annotations

import math
from numbers import Real

from torch import Tensor

from .base import GenerativeExpert, velocity_and_score

__all__ = ["Power", "Product", "Composable", "power", "exponent_of", "base_of"]


def _check_exponent(exponent) -> float:
    if isinstance(exponent, bool) or not isinstance(exponent, Real):
        raise TypeError(f"an exponent must be a real number, got {type(exponent).__name__} {exponent!r}")
    w = float(exponent)
    if not math.isfinite(w) or w == 0:
        raise ValueError(
            f"an exponent must be finite and non-zero, got {exponent!r}: an expert raised to 0 is not in the "
            "product (leave it out)"
        )
    return w


class Composable:
    """``*``, ``/`` and ``**`` for an expert: ``A * B / U``, ``U ** -1``. A mixin for expert classes."""

    def __pow__(self, exponent) -> Power:
        return Power(self, exponent)

    def __mul__(self, other) -> Product:
        return Product([self]) * other

    def __rmul__(self, other) -> Product:
        return Product([other]) * self

    def __truediv__(self, other) -> Product:
        return Product([self]) / other


class Power(Composable):
    """p^w: the generative expert ``expert`` with exponent w (any finite non-zero real).

    ``velocity``, ``score`` and ``velocity_and_score`` return w times the expert's: ``[L, ...]``
    like x. A Power of a Power multiplies the exponents."""

    def __init__(self, expert: GenerativeExpert, exponent: float):
        w = _check_exponent(exponent)
        if isinstance(expert, Power):
            expert, w = expert.expert, expert.exponent * w
        if not isinstance(expert, GenerativeExpert):
            raise TypeError(
                f"{type(expert).__name__} is not a generative expert (needs velocity(x, t) and score(x, t))"
            )
        self.expert, self.exponent = expert, _check_exponent(w)

    def __repr__(self) -> str:
        return f"{self.expert!r} ** {self.exponent:g}"

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        v, s = velocity_and_score(self.expert, x, t)
        return self.exponent * v, self.exponent * s

    def velocity(self, x: Tensor, t: float) -> Tensor:
        return self.exponent * self.expert.velocity(x, t)

    def score(self, x: Tensor, t: float) -> Tensor:
        return self.exponent * self.expert.score(x, t)


class Product(tuple):
    """prod_i p_i^(w_i) as a tuple of :class:`Power` terms, one per distinct expert (exponents of the same
    expert add up: ``A * A`` is ``A ** 2``, evaluated once). Pass it wherever a list of experts goes."""

    def __new__(cls, factors=()):
        exponents: dict[int, list] = {}
        for f in factors:
            term = f if isinstance(f, Power) else Power(f, 1.0)
            entry = exponents.setdefault(id(term.expert), [term.expert, 0.0])
            entry[1] += term.exponent
        return super().__new__(cls, [Power(e, w) for e, w in exponents.values() if w != 0])

    def __repr__(self) -> str:
        return " * ".join(map(repr, self)) if self else "Product()"

    def __mul__(self, other) -> Product:
        return Product([*self, *(other if isinstance(other, Product) else [other])])

    def __rmul__(self, other) -> Product:
        return Product([other, *self])

    def __truediv__(self, other) -> Product:
        return self * (other**-1 if isinstance(other, Product) else Power(other, -1.0))

    def __pow__(self, exponent) -> Product:
        w = _check_exponent(exponent)
        return Product([Power(p.expert, p.exponent * w) for p in self])


def power(expert: GenerativeExpert, exponent: float = 1.0) -> Power:
    """p^w for any generative expert (a user's own too); ``power(A) * B / U`` then reads as the math."""
    return Power(expert, exponent)


def exponent_of(expert) -> float:
    """w_i: a :class:`Power`'s exponent, 1 for any other expert."""
    return expert.exponent if isinstance(expert, Power) else 1.0


def base_of(expert):
    """p_i without its exponent: a :class:`Power`'s expert, any other expert itself."""
    return expert.expert if isinstance(expert, Power) else expert
