"""The physics residual: near 0 for the engine's own clips, large for clips that break its laws."""

import numpy as np
import pytest
import torch

from poe_demo.video.clips import FRAME_SECONDS, FRAMES, SIZE, draw_states, make_clips
from poe_demo.video.fit import fit_start, fit_starts
from poe_demo.video.physics import simulate
from poe_demo.video.tracking import track

PIXEL = 1 / SIZE


def test_the_engines_own_paths_are_refound_with_their_restitution():
    fits, truths = [], draw_states(60, torch.Generator().manual_seed(7))
    for state in truths:
        fits.append(fit_start(simulate(state, FRAMES, FRAME_SECONDS)[0], FRAME_SECONDS))
    residuals = np.array([f.residual for f in fits])
    assert residuals.max() < 0.15 * PIXEL and (residuals < 1e-6).mean() >= 0.9, residuals
    exact = residuals < 1e-6
    e_error = np.array([abs(f.start.restitution - s.restitution) for f, s in zip(fits, truths)])
    assert e_error[exact].max() < 1e-3  # every clip bounces: e is seen, and found


def test_tracked_clips_fit_within_a_quarter_pixel_and_shuffled_ones_do_not():
    """The data's own residual: tracking error (largest against the walls) and the fit's, together."""
    clips, _ = make_clips(30, torch.Generator().manual_seed(8))
    positions, found = track(clips)
    assert found.all()
    real = np.array([fit_start(p, FRAME_SECONDS).residual for p in positions])
    assert real.max() < 0.25 * PIXEL and np.median(real) < 0.05 * PIXEL, real / PIXEL
    g = np.random.default_rng(0)
    orders = [g.permutation(FRAMES) for _ in positions]
    shuffled = np.array([fit_start(p[o], FRAME_SECONDS).residual for p, o in zip(positions, orders)])
    assert np.median(shuffled) > 1.0 * PIXEL and (shuffled > 4 * real.max()).mean() >= 0.9, shuffled / PIXEL


def test_frames_without_a_ball_are_left_out_of_the_fit():
    path, _ = simulate(draw_states(1, torch.Generator().manual_seed(9))[0], FRAMES, FRAME_SECONDS)
    holes = path.copy()
    holes[[0, 3, 6]] = np.nan  # the tracker's answer where a frame holds no clear ball
    full, partial = fit_start(path, FRAME_SECONDS), fit_start(holes, FRAME_SECONDS)
    assert partial.frames == FRAMES - 3 and partial.residual < 0.15 * PIXEL
    shuffled = path[[0, 2, 1, 3, 5, 4, 6, 7]]
    fit = fit_start(shuffled, FRAME_SECONDS)  # the residual is the RMS distance of the fitted start's path
    distances = np.linalg.norm(simulate(fit.start, FRAMES, FRAME_SECONDS)[0] - shuffled, axis=1)
    assert fit.residual == pytest.approx(np.sqrt(np.mean(distances**2)), rel=1e-6) and fit.residual > PIXEL
    assert np.allclose(partial.start.position, full.start.position, atol=0.01)
    assert fit_start(np.full((FRAMES, 2), np.nan), FRAME_SECONDS) is None  # nothing to fit


def test_positions_must_be_frames_by_two():
    with pytest.raises(ValueError, match=r"positions must be \[F, 2\], got shape \(8,\)"):
        fit_start(np.zeros(8), FRAME_SECONDS)


def test_clips_fitted_together_are_fitted_as_each_alone():
    clips, _ = make_clips(6, torch.Generator().manual_seed(10))
    positions = track(clips)[0]
    positions[2, 1:] = np.nan  # one frame with a ball: nothing to fit
    together = fit_starts(positions, FRAME_SECONDS)
    assert np.isnan(together.starts[2]).all() and np.isnan(together.residual[2]) and together.frames[2] == 1
    for k in (0, 3, 5):
        alone = fit_starts(positions[k : k + 1], FRAME_SECONDS)
        assert np.allclose(together.starts[k], alone.starts[0], atol=1e-9)
        assert together.residual[k] == pytest.approx(alone.residual[0], abs=1e-12)
    with pytest.raises(ValueError, match=r"positions must be \[n, F, 2\], got shape \(8, 2\)"):
        fit_starts(positions[0], FRAME_SECONDS)
