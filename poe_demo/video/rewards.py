"""The video lesson's discriminative experts: the physics engine, and a game designer's goal.

Both read a clip ``[L, F, H, W]`` (the sampler hands them the predicted clean clip x_hat) and
give a log-reward per clip; neither has a gradient, and the sampler never asks for one.

* :class:`PhysicsReward` is the engine as an expert. It estimates the ball's start from the
  clip (the start that best explains the ball's centers, :func:`~poe_demo.video.fit.fit_starts`),
  runs the engine from it, renders the result, and scores how well the clip agrees:

      log r(x) = -|x - R(S(s_hat(x)))|^2 / (2 sigma^2),

  S the engine, R the renderer, s_hat(x) the fitted start. This is the likelihood of the clip
  under "the engine's clip plus pixel noise of scale sigma" at the best start found (the start is
  estimated, not integrated out). It punishes a path no start explains, a ball that fades or
  doubles, and stray brightness, each by the pixels it gets wrong.
* :class:`GoalReward` is a designer's wish about the clip, blind to physics: "the ball ends in
  a given band of the box", log r(x) = log sigmoid((x_F - low) / width) + log sigmoid((high - x_F) / width),
  x_F the horizontal center of the last frame's brightness.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..validation import check_count
from .clips import FRAME_SECONDS, render
from .fit import fit_starts
from .physics import simulate_many
from .tracking import centers, track

__all__ = ["PhysicsReward", "GoalReward"]


def _check_clips(x: Tensor, who: str) -> None:
    if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[-1] != x.shape[-2]:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{who} reads clips [L, F, H, W] with square frames, got {shape}")


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


class PhysicsReward:
    """log r(x) = -|x - R(S(s_hat(x)))|^2 / (2 sigma^2) for clips ``[L, F, H, W]`` (module docstring).

    ``sigma`` is the pixel noise the engine's clip is allowed (values span [-1, 1]);
    ``iterations`` the fit's Levenberg-Marquardt steps. A clip whose brightness is in fewer than
    3 frames cannot be fitted; it is scored against an empty box, so it pays for all its ink."""

    def __init__(self, sigma: float = 1.0, iterations: int = 20, frame_seconds: float = FRAME_SECONDS):
        self.sigma = _positive("sigma", sigma)
        self.iterations = check_count("iterations", iterations, 1)
        self.frame_seconds = _positive("frame_seconds", frame_seconds)

    def __repr__(self) -> str:
        return f"PhysicsReward(sigma={self.sigma}, iterations={self.iterations})"

    def explain(self, x: Tensor) -> Tensor:
        """R(S(s_hat(x))) ``[L, F, H, W]``: the engine's clip that best explains each clip (an empty box where
        none can be fitted)."""
        _check_clips(x, "PhysicsReward")
        n_clips, n_frames, size = x.shape[0], x.shape[1], x.shape[-1]
        fits = fit_starts(centers(x), self.frame_seconds, self.iterations)
        fitted = np.isfinite(fits.starts).all(1)
        clips = -np.ones((n_clips, n_frames, size, size))
        if fitted.any():
            paths = simulate_many(fits.starts[fitted], n_frames, self.frame_seconds)[0]
            clips[fitted] = render(paths, size)
        return torch.from_numpy(clips).to(x)

    def log_reward(self, x: Tensor) -> Tensor:
        """``[L]``"""
        return -(x - self.explain(x)).pow(2).sum((1, 2, 3)) / (2 * self.sigma**2)


class GoalReward:
    """log r(x) = log sigmoid((x_F - low) / width) + log sigmoid((high - x_F) / width) ``[L]`` for clips
    ``[L, F, H, W]``: the ball ends with its center between ``low`` and ``high`` (box widths).

    x_F is the last frame's brightness-weighted center (:func:`~poe_demo.video.tracking.centers`);
    a last frame with no brightness scores as if its ball were at the box's middle."""

    def __init__(self, low: float = 2 / 3, high: float = 1.0, width: float = 0.03):
        if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and 0 <= low < high <= 1):
            raise ValueError(f"the goal's band must have 0 <= low < high <= 1, got low={low!r}, high={high!r}")
        self.low, self.high, self.width = float(low), float(high), _positive("width", width)

    def __repr__(self) -> str:
        return f"GoalReward(low={self.low:.3g}, high={self.high:.3g}, width={self.width})"

    def log_reward(self, x: Tensor) -> Tensor:
        """``[L]``"""
        _check_clips(x, "GoalReward")
        last = np.nan_to_num(centers(x[:, -1])[:, 0], nan=0.5)
        end = torch.from_numpy(last).to(x)
        return torch.nn.functional.logsigmoid((end - self.low) / self.width) + torch.nn.functional.logsigmoid(
            (self.high - end) / self.width
        )

    def reached(self, x: Tensor) -> Tensor:
        """Whether each clip's last frame holds a clear ball (the tracker's test) with its center in the band:
        ``[L]`` bool, the goal's success as the judge counts it."""
        positions, found = track(x[:, -1])
        end = np.nan_to_num(positions[:, 0], nan=-1.0)
        return torch.from_numpy(found & (end >= self.low) & (end <= self.high))
