"""Rejection sampling, the naive baseline for a product of experts.

To sample pi(x) proportional to q(x) a(x) with 0 <= a(x) <= 1: draw x ~ q, keep it with
probability a(x). It is exact, but the fraction kept is E_q[a] = Z, the overlap of the experts,
and in d dimensions that overlap shrinks geometrically: the kept fraction collapses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from ..rng import rand
from ..validation import check_count

__all__ = ["RejectionResult", "rejection_sampling"]


@dataclass(frozen=True)
class RejectionResult:
    samples: Tensor  # [n_accepted, ...]
    n_proposed: int
    acceptance_rate: float


@torch.no_grad()
def rejection_sampling(
    propose: Callable[[int, torch.Generator | None], Tensor],
    log_acceptance: Callable[[Tensor], Tensor],
    n_proposals: int,
    generator: torch.Generator | None = None,
) -> RejectionResult:
    """Keep each of ``propose(n, generator) -> [n, ...]`` with probability exp(log_acceptance(x) ``[n]``).

    ``log_acceptance`` must be <= 0 everywhere (for a product of densities, log p_2(x) - max log p_2).
    """
    check_count("n_proposals", n_proposals, minimum=1)
    x = propose(n_proposals, generator)
    log_a = log_acceptance(x)
    if log_a.shape != (n_proposals,):
        raise ValueError(f"log_acceptance must return shape [{n_proposals}], got {tuple(log_a.shape)}")
    if bool((log_a > 1e-6).any()):
        raise ValueError(f"log_acceptance must be <= 0 (an acceptance probability), got max {log_a.max().item():.3g}")
    keep = torch.log(rand(n_proposals, log_a, generator)) < log_a
    return RejectionResult(x[keep], n_proposals, float(keep.double().mean()))
