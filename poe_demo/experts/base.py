"""What an expert is, as far as the samplers care.

A *generative* expert is a flow model on the linear path of :mod:`poe_demo.paths`: it returns a
velocity and a score for a batch of states ``x: [L, ...]`` at one time ``t`` shared by every
particle, each shaped like ``x``. A *discriminative* expert only scores finished samples: a
log-reward ``[L]`` per particle, which the samplers never differentiate.

Any object with these methods works, from the sphere experts to a 1-D Gaussian in a test. The
samplers ask for both at once, ``velocity_and_score(x, t)``: most experts compute the two from
one pass (a network's velocity gives the score in closed form, ``paths.score_from_velocity``), so
an expert class defines that one method and inherits ``velocity`` and ``score`` from
:class:`JointExpert`. An object with only ``velocity`` and ``score`` is asked for each in turn.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from torch import Tensor

__all__ = ["GenerativeExpert", "JointExpert", "DiscriminativeExpert", "as_expert_list", "velocity_and_score"]


@runtime_checkable
class GenerativeExpert(Protocol):
    def velocity(self, x: Tensor, t: float) -> Tensor: ...

    def score(self, x: Tensor, t: float) -> Tensor: ...


class JointExpert:
    """A mixin for generative experts that compute v and s in one pass: define ``velocity_and_score``,
    get ``velocity`` and ``score`` (override either where it alone is cheaper)."""

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        raise NotImplementedError(f"{type(self).__name__} must define velocity_and_score(x, t)")

    def velocity(self, x: Tensor, t: float) -> Tensor:
        return self.velocity_and_score(x, t)[0]

    def score(self, x: Tensor, t: float) -> Tensor:
        return self.velocity_and_score(x, t)[1]


@runtime_checkable
class DiscriminativeExpert(Protocol):
    def log_reward(self, x: Tensor) -> Tensor: ...


def as_expert_list(experts, kind: type, name: str, allow_empty: bool) -> list:
    """Accept one expert or a sequence of them; check each follows the protocol ``kind``."""
    if experts is None:
        experts = []
    elif isinstance(kind, type) and isinstance(experts, kind):
        experts = [experts]
    if not isinstance(experts, Sequence):
        raise TypeError(f"{name} must be an expert or a sequence of experts, got {type(experts).__name__}")
    experts = list(experts)
    if not experts and not allow_empty:
        raise ValueError(f"{name} needs at least one expert, got none")
    for e in experts:
        if not isinstance(e, kind):
            needs = "velocity(x, t) and score(x, t)" if kind is GenerativeExpert else "log_reward(x)"
            raise TypeError(f"{name}: {type(e).__name__} is not an expert (needs {needs})")
    return experts


def velocity_and_score(expert, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
    """(v, s) from one call where the expert offers ``velocity_and_score``, else from two."""
    if hasattr(expert, "velocity_and_score"):
        return expert.velocity_and_score(x, t)
    return expert.velocity(x, t), expert.score(x, t)
