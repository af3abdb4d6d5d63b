"""Random draws that honour an optional ``torch.Generator`` whatever device the state lives on."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["randn_like", "rademacher_like", "rand"]


def _device(generator: torch.Generator | None, fallback: torch.device) -> torch.device:
    return generator.device if generator is not None else fallback


def randn_like(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Standard normal noise shaped like ``x`` (drawn on the generator's device, moved to x's)."""
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=_device(generator, x.device))
    return noise.to(x.device)


def rademacher_like(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Random signs +-1 shaped like ``x``: a probe direction whose every coordinate has length 1."""
    bits = torch.randint(0, 2, x.shape, generator=generator, dtype=x.dtype, device=_device(generator, x.device))
    return (2 * bits - 1).to(x.device)


def rand(n: int, like: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """n uniforms on [0, 1) with ``like``'s dtype and device."""
    u = torch.rand(n, generator=generator, dtype=like.dtype, device=_device(generator, like.device))
    return u.to(like.device)
