"""Argument checks shared by the samplers' public entry points."""
from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_count", "check_state", "check_choice", "check_range", "check_time"]


def check_count(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_state(x: Tensor, name: str = "x_init") -> Tensor:
    """A batch of particles ``[L, ...]``: a finite floating tensor with at least one particle."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape [L, ...], got {type(x).__name__}")
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape [L, ...] with L >= 1 particles, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_choice(name: str, value: str, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def check_range(name: str, value: float, low: float, high: float, low_open: bool = False, high_open: bool = False) -> float:
    ok_low = value > low if low_open else value >= low
    ok_high = value < high if high_open else value <= high
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (ok_low and ok_high):
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be a number in {lo}{low}, {high}{hi}, got {value!r}")
    return float(value)


def check_time(t: float | Tensor) -> float:
    """Validate a level time shared by all particles: a number in (0, 1]."""
    if isinstance(t, Tensor) and t.numel() == 1:
        t = float(t)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 < float(t) <= 1.0:
        raise ValueError(f"t must be a number in (0, 1], got {t!r}")
    return float(t)
