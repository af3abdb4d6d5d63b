"""Which particles left the data's range: the first sign of an expert that does not fit its data.

An undertrained or mis-wrapped model (a wrong prediction type, a wrong scale) samples values
that no training image has, for example pixels in [-47, 24] for data in [-1, 1], and a
classifier reading them gives arbitrary verdicts. The samplers cannot know the range; the
caller states it and asks.
"""

from __future__ import annotations

import math

from torch import Tensor

__all__ = ["outside_range"]


def outside_range(x: Tensor, low: float, high: float, margin: float = 0.25) -> Tensor:
    """``[L]`` bool: particles ``x [L, ...]`` with any value beyond [low - m, high + m], where
    m = margin (high - low). The margin forgives the small overshoot a good model has at the edges."""
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"the range must be finite with low < high, got ({low}, {high})")
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a finite number >= 0, got {margin}")
    m = margin * (high - low)
    flat = x.flatten(1)
    return (flat < low - m).any(dim=1) | (flat > high + m).any(dim=1)
