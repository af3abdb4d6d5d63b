"""The physics judge: the engine's clips pass, clips that break its laws or lose the ball do not."""

import math

import numpy as np
import pytest
import torch

from poe_demo.video.clips import FRAMES, make_clips
from poe_demo.video.judge import data_residual_bound, judge
from poe_demo.video.rewards import GoalReward


def test_the_engines_clips_are_physical_and_broken_ones_are_not():
    clips, paths = make_clips(200, torch.Generator().manual_seed(21))
    assert 0 < data_residual_bound() < 0.5  # tracking on a 16 x 16 grid: a fraction of a pixel, not 0
    own = judge(clips)
    # the bound is the 99th percentile of 1,000 other clips: 200 more land below it at about that rate
    assert own.ball_frames == 1.0 and own.physical.rate >= 0.99 - 3 * math.sqrt(0.99 * 0.01 / 200), own
    shuffled = judge(clips[:, [0, 4, 2, 6, 1, 5, 3, 7]])
    assert shuffled.physical.rate < 0.1 and shuffled.median_residual > 4 * data_residual_bound(), shuffled
    faded = clips.clone()
    faded[:, 3] = -1.0  # the ball gone from one frame: the path still fits, but the clip lost its ball
    verdict = judge(faded)
    assert verdict.ball_frames == pytest.approx((FRAMES - 1) / FRAMES) and verdict.physical.rate == 0.0


def test_the_goal_rate_is_the_share_of_clips_that_reach_it():
    clips, paths = make_clips(120, torch.Generator().manual_seed(22))
    goal = GoalReward(low=0.5, high=1.0)
    verdict = judge(clips, goal)
    clear = np.abs(paths[:, -1, 0] - 0.5) > 0.02  # ends not within a third of a pixel of the band's edge
    truth = paths[:, -1, 0] >= 0.5
    reached = goal.reached(clips).numpy()
    assert (reached[clear] == truth[clear]).all()
    assert verdict.goal.rate == pytest.approx(reached.mean()) and verdict.goal.trials == 120
    with pytest.raises(ValueError, match="at least one clip"):
        judge(clips[:0])
