"""The video lesson's discriminative experts against what they must give in known cases."""

import math

import numpy as np
import pytest
import torch

from poe_demo.video.clips import FRAMES, SIZE, make_clips, render
from poe_demo.video.rewards import GoalReward, PhysicsReward


def _engine_clips(n, seed):
    return make_clips(n, torch.Generator().manual_seed(seed))[0].double()


def test_the_engine_explains_its_own_clips_and_not_shuffled_ones():
    clips = _engine_clips(20, seed=0)
    physics = PhysicsReward(sigma=1.0)
    assert (physics.explain(clips) - clips).abs().max() < 0.2  # the same clip, to a fraction of a pixel's edge
    own = physics.log_reward(clips)
    order = torch.tensor([0, 4, 2, 6, 1, 5, 3, 7])  # the same frames, out of order: no start explains them
    shuffled = physics.log_reward(clips[:, order])
    assert own.min() > -1.0 and (shuffled < -20).float().mean() >= 0.9, (own, shuffled)


def test_brightness_below_the_background_level_costs_its_squared_size_over_two_sigma_squared():
    """A dim speck (-1 -> -0.9) is not brightness the tracker reads, so the fit and the explanation stay:
    log r(x + delta) - log r(x) = -(|x + delta - R|^2 - |x - R|^2) / (2 sigma^2), computed exactly."""
    clips = _engine_clips(4, seed=1)
    sigma = 0.5
    physics = PhysicsReward(sigma=sigma)
    explained = physics.explain(clips)
    specked = clips.clone()
    corner = specked[:, :, 0, 0] < -0.99  # far from the ball
    specked[:, :, 0, 0] = torch.where(corner, specked[:, :, 0, 0] + 0.1, specked[:, :, 0, 0])
    assert corner.any()
    expected = -(specked - explained).pow(2).sum((1, 2, 3)) / (2 * sigma**2)
    assert torch.allclose(physics.log_reward(specked), expected, atol=1e-9)
    assert (physics.log_reward(specked) < physics.log_reward(clips)).all()


def test_a_missing_ball_costs_about_one_frame_of_ball():
    clips = _engine_clips(6, seed=2)
    physics = PhysicsReward(sigma=1.0)
    missing = clips.clone()
    missing[:, 4] = -1.0  # the ball gone from frame 4
    ball = (clips[:, 4] + 1).pow(2).sum((1, 2)) / 2  # what the empty frame gets wrong, over 2 sigma^2
    drop = physics.log_reward(clips) - physics.log_reward(missing)
    assert torch.allclose(drop, ball, rtol=0.1), (drop, ball)


def test_the_goal_is_two_logistic_steps_at_the_band_edges():
    goal = GoalReward(low=0.6, high=0.9, width=0.05)
    ends = np.array([0.3, 0.6, 0.75, 0.88])
    clips = torch.from_numpy(np.repeat(render(np.c_[ends, np.full(4, 0.5)])[:, None], FRAMES, 1))
    log_sigmoid = lambda z: -np.log1p(np.exp(-z))  # noqa: E731
    expected = log_sigmoid((ends - 0.6) / 0.05) + log_sigmoid((0.9 - ends) / 0.05)
    assert np.allclose(goal.log_reward(clips).numpy(), expected, atol=0.1 / SIZE / 0.05)  # centers to 0.1 pixel
    assert goal.reached(clips).tolist() == [False, True, True, True]
    empty = clips.clone()
    empty[:, -1] = -1.0
    assert not goal.reached(empty).any()


def test_bad_settings_and_shapes_are_named():
    with pytest.raises(ValueError, match="sigma must be a finite number > 0, got 0"):
        PhysicsReward(sigma=0)
    with pytest.raises(ValueError, match="iterations must be an integer >= 1, got 0"):
        PhysicsReward(iterations=0)
    with pytest.raises(ValueError, match=r"low=0.8, high=0.5"):
        GoalReward(low=0.8, high=0.5)
    with pytest.raises(ValueError, match=r"reads clips \[L, F, H, W\] with square frames, got \(8, 16, 16\)"):
        PhysicsReward().log_reward(torch.zeros(8, 16, 16))
    assert math.isfinite(float(GoalReward().log_reward(-torch.ones(2, FRAMES, SIZE, SIZE)).sum()))
