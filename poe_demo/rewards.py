"""Discriminative experts: a log-reward per particle, never differentiated by the samplers."""

from __future__ import annotations

import math
from typing import Sequence

from torch import Tensor

from .data import RGB, as_rgb
from .validation import check_cloud

__all__ = ["ColorReward", "GaussianReward"]


class ColorReward:
    """log r(x) = -strength * mean_i |c_i - target|^2 for a cloud ``[L, N, 6]``: highest for a target-colored cloud.

    ``target`` is a palette name ('red', 'green', ...) or an RGB triple in [0, 1]. Evaluated on
    x_hat, where the color expert paints every point in the cloud's mean color m, this is
    -strength |m - target|^2.
    """

    def __init__(self, target: str | Sequence[float] | Tensor, strength: float = 10.0):
        if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 < strength < math.inf:
            raise ValueError(f"strength must be a finite number > 0, got {strength!r}")
        self.target, self.strength = as_rgb(target), float(strength)

    def __repr__(self) -> str:
        return f"ColorReward(target={[round(c, 3) for c in self.target.tolist()]}, strength={self.strength})"

    def log_reward(self, x: Tensor) -> Tensor:
        check_cloud(x, "ColorReward")
        squared = (x[..., RGB] - self.target.to(x)).pow(2).sum(-1)  # [L, N]
        return -self.strength * squared.mean(-1)


class GaussianReward:
    """log r(x) = -sum_d (x_d - mean)^2 / (2 std^2): a Gaussian-shaped reward for known-answer tests.

    With ``coordinate`` = c it looks at one coordinate of states ``[L, d]`` only:
    log r(x) = -(x_c - mean)^2 / (2 std^2).
    """

    def __init__(self, mean: float, std: float, coordinate: int | None = None):
        if not math.isfinite(mean):
            raise ValueError(f"mean must be a finite number, got {mean!r}")
        if not 0 < std < math.inf:
            raise ValueError(f"std must be a finite number > 0, got {std!r}")
        if coordinate is not None and (isinstance(coordinate, bool) or not isinstance(coordinate, int)):
            raise TypeError(f"coordinate must be an int or None, got {coordinate!r}")
        self.mean, self.std, self.coordinate = float(mean), float(std), coordinate

    def __repr__(self) -> str:
        on = "" if self.coordinate is None else f", coordinate={self.coordinate}"
        return f"GaussianReward(mean={self.mean}, std={self.std}{on})"

    def log_reward(self, x: Tensor) -> Tensor:
        if self.coordinate is not None:
            if x.ndim != 2 or not 0 <= self.coordinate < x.shape[1]:
                raise ValueError(
                    f"GaussianReward(coordinate={self.coordinate}) needs states [L, d] with d > {self.coordinate}, "
                    f"got {tuple(x.shape)}"
                )
            x = x[:, self.coordinate : self.coordinate + 1]
        return -((x - self.mean) ** 2).flatten(1).sum(1) / (2 * self.std**2)
