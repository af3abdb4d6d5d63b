"""The ball clips: states inside their stated ranges, reproducible, rendered where the engine put the ball."""

import numpy as np
import pytest
import torch

from poe_demo.video.clips import FRAMES, RANGES, SIZE, draw_states, make_clips, render
from poe_demo.video.tracking import track


def test_the_disc_is_drawn_where_the_ball_is_to_a_tenth_of_a_pixel():
    g = np.random.default_rng(0)
    positions = g.uniform(0.2, 0.8, size=(50, 2))  # away from the edges, where the disc is whole
    frames = render(positions)
    assert frames.shape == (50, SIZE, SIZE) and frames.min() >= -1 and frames.max() <= 1
    centers, found = track(frames[:, None])  # the brightness-weighted center, one home for it
    assert found.all() and np.abs(centers[:, 0] - positions).max() < 0.1 / SIZE
    assert frames.max(axis=(1, 2)).min() > 0.5  # the center pixel is bright
    assert np.median(frames) < -0.999  # and the background is empty


def test_states_lie_in_their_ranges_and_the_seed_decides_them():
    states = draw_states(500, torch.Generator().manual_seed(0))
    columns = {
        "x": [s.position[0] for s in states],
        "y": [s.position[1] for s in states],
        "vx": [s.velocity[0] for s in states],
        "vy": [s.velocity[1] for s in states],
        "restitution": [s.restitution for s in states],
    }
    for name, (low, high) in RANGES.items():
        values = np.array(columns[name])
        assert low <= values.min() and values.max() <= high, name
        assert values.max() - values.min() > 0.9 * (high - low), name  # uniform over the range, not a corner
    again = draw_states(500, torch.Generator().manual_seed(0))
    other = draw_states(500, torch.Generator().manual_seed(1))
    assert again == states and other != states


def test_clips_come_with_their_paths_and_every_ball_moves():
    """Where each clip's ball is drawn is the tracker's test (tests/test_video_tracking.py)."""
    clips, paths = make_clips(20, torch.Generator().manual_seed(3))
    assert clips.shape == (20, FRAMES, SIZE, SIZE) and clips.dtype == torch.float32 and paths.shape == (20, FRAMES, 2)
    moved = np.abs(np.diff(paths, axis=1)).sum((1, 2))
    assert (moved > 0).all()


def test_a_bad_count_is_refused():
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        draw_states(0)
