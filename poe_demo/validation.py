"""Argument checks shared by the samplers' public entry points."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "FLOAT_DTYPES",
    "check_count",
    "check_state",
    "check_choice",
    "check_range",
    "check_time",
    "check_cloud",
    "check_points",
]

# The samplers and experts compute in the dtype of the state; lower precisions are not supported
# on CPU by every operation they use, and their rounding would swamp the weights.
FLOAT_DTYPES = (torch.float32, torch.float64)


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
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 tensor, got dtype {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_choice(name: str, value: str, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def check_range(
    name: str, value: float, low: float, high: float, low_open: bool = False, high_open: bool = False
) -> float:
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


def check_cloud(x: Tensor, who: str) -> Tensor:
    """Clouds ``[L, N, 6]`` (xyz + rgb per point), as the color expert and the color reward need."""
    if x.ndim != 3 or x.shape[-1] != 6:
        raise ValueError(f"{who} needs clouds of shape [L, N, 6], got shape {tuple(x.shape)}")
    return x


def check_points(x: Tensor, who: str) -> Tensor:
    """States the sphere experts read: clouds ``[L, N, 6]``, or xyz points ``[L, 3]`` / ``[L, N, 3]``."""
    if not ((x.ndim == 3 and x.shape[-1] == 6) or (x.ndim in (2, 3) and x.shape[-1] == 3)):
        raise ValueError(f"{who} needs clouds [L, N, 6] or points [L, 3] / [L, N, 3], got shape {tuple(x.shape)}")
    return x
