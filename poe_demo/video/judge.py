"""The judge of physics: how nearly do a sampler's clips follow the engine? Measured, not eyeballed.

For each clip the tracker (:func:`~poe_demo.video.tracking.track`) looks for one clear ball per
frame, and the engine's trajectory family is fitted to the centers it finds
(:func:`~poe_demo.video.fit.fit_starts`); the RMS distance is the clip's physics residual. A clip
is *physical* when it has a ball in every frame and a residual no larger than the simulator's
own clips reach: :func:`data_residual_bound` is the 99th percentile of the residuals of clips
rendered by the engine itself (tracking on a 16 x 16 grid is not exact, so that bound is not 0).
The judge never sees the rewards' fits: it refits from the tracker's centers, frames without a
ball left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

from ..equal_cost import Rate
from .clips import FRAME_SECONDS, SIZE, make_clips
from .fit import fit_starts
from .tracking import track

__all__ = ["Verdict", "residuals", "data_residual_bound", "judge"]

_BOUND_CLIPS, _BOUND_SEED = 1000, 12345  # clips of their own seed: not the training split's


@dataclass(frozen=True)
class Verdict:
    """What the judge found in n clips; the rates carry their standard errors, residuals are in pixels."""

    n: int
    ball_frames: float  # share of frames with one clear ball
    physical: Rate  # clips with a ball in every frame and a residual within the data's bound
    median_residual: float  # over clips with at least 3 frames holding a ball (NaN if none)
    goal: Rate | None = None  # clips that reach the goal, when one is given


def residuals(clips: Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(physics residual ``[n]`` in pixels, NaN where fewer than 3 frames hold a ball; found ``[n, F]``)."""
    positions, found = track(clips)
    return fit_starts(positions, FRAME_SECONDS).residual * SIZE, found


@lru_cache(maxsize=1)
def data_residual_bound() -> float:
    """The 99th percentile of the physics residual (pixels) of 1,000 of the engine's own clips."""
    clips, _ = make_clips(_BOUND_CLIPS, torch.Generator().manual_seed(_BOUND_SEED))
    residual, _ = residuals(clips)
    return float(np.quantile(residual, 0.99))


def judge(clips: Tensor | np.ndarray, goal=None) -> Verdict:
    """The :class:`Verdict` on clips ``[n, F, H, W]``; ``goal`` (a :class:`~poe_demo.video.rewards.GoalReward`)
    adds the share that reach it."""
    residual, found = residuals(clips)
    n = len(residual)
    if n == 0:
        raise ValueError("judge needs at least one clip, got 0")
    fitted = residual[np.isfinite(residual)]
    return Verdict(
        n=n,
        ball_frames=float(found.mean()),
        physical=Rate.of(found.all(1) & (residual <= data_residual_bound())),
        median_residual=float(np.median(fitted)) if len(fitted) else math.nan,
        goal=None if goal is None else Rate.of(goal.reached(torch.as_tensor(clips)).tolist()),
    )
