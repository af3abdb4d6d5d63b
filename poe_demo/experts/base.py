"""What an expert is, as far as the samplers care.

A *generative* expert is a flow model on the linear path of :mod:`poe_demo.paths`: it returns a
velocity and a score for a batch of states ``x: [L, ...]`` at one time ``t`` shared by every
particle, each shaped like ``x``. A *discriminative* expert only scores finished samples: a
log-reward ``[L]`` per particle, which the samplers never differentiate.

Any object with these methods works, from the sphere experts to a 1-D Gaussian in a test.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from torch import Tensor

__all__ = ["GenerativeExpert", "DiscriminativeExpert", "as_expert_list", "velocity_and_score"]


@runtime_checkable
class GenerativeExpert(Protocol):
    def velocity(self, x: Tensor, t: float) -> Tensor: ...

    def score(self, x: Tensor, t: float) -> Tensor: ...


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
