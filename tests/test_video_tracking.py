"""The tracker finds one clear ball where the clips have one, and refuses what is not a ball."""

import numpy as np
import pytest
import torch

from poe_demo.video.clips import SIZE, make_clips, render
from poe_demo.video.tracking import track


def test_every_rendered_ball_is_found_where_the_engine_put_it():
    clips, paths = make_clips(50, torch.Generator().manual_seed(0))
    positions, found = track(clips)
    assert found.all()
    assert np.abs(positions - paths).max() < 0.5 / SIZE  # half a pixel, balls against the walls included
    inside = (paths > 0.2).all(-1) & (paths < 0.8).all(-1)
    assert np.abs(positions - paths)[inside].max() < 0.1 / SIZE  # a tenth of a pixel where the disc is whole


def test_what_is_not_one_clear_ball_is_not_found():
    g = np.random.default_rng(1)
    ball = render(np.array([0.5, 0.5]))
    frames = {
        "empty": -np.ones((SIZE, SIZE)),
        "faint": -1 + 0.6 * (ball + 1) / 2,  # a ball at 30 % of its contrast: its peak stays below half-way
        "noise": np.clip(-1 + 0.4 * g.random((SIZE, SIZE)), -1, 1),
        "two balls": np.maximum(render(np.array([0.2, 0.3])), render(np.array([0.8, 0.7]))),
        "a smear": np.maximum.reduce([render(np.array([x, 0.5])) for x in np.linspace(0.15, 0.85, 8)]),
    }
    positions, found = track(np.stack(list(frames.values())))
    assert not found.any(), dict(zip(frames, found))
    assert np.isnan(positions).all()
    _, whole = track(ball[None])  # the check against the reference ball itself
    assert whole.all()


def test_frames_must_be_square():
    with pytest.raises(ValueError, match=r"square frames, got shape \(2, 8, 16\)"):
        track(np.zeros((2, 8, 16)))
