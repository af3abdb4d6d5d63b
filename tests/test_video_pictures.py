"""Clips as pictures: pixels drawn as they are, in their places, the returned clip framed."""

import numpy as np
import torch

from poe_demo.video.clips import FRAMES, SIZE, make_clips
from poe_demo.video.pictures import clip_grid, frame_strip


def test_each_clip_lands_in_its_cell_enlarged_and_the_best_is_framed():
    clips = make_clips(5, torch.Generator().manual_seed(0))[0].numpy()
    scale, gap = 3, 2
    grid = clip_grid(clips, frame=2, best=4, columns=3, scale=scale)
    cell = SIZE * scale + 2 * gap
    assert grid.shape == (2 * cell, 3 * cell)
    tile = grid[cell + gap : cell + gap + SIZE * scale, cell + gap : cell + gap + SIZE * scale]  # clip 4: row 1, col 1
    expected = np.rint((clips[4, 2] + 1) * 127.5).astype(np.uint8).repeat(scale, 0).repeat(scale, 1)
    assert np.array_equal(tile, expected)
    assert grid[cell, cell] > 0 and grid[0, 0] == 0  # the frame around clip 4, none around clip 0


def test_a_strip_is_the_frames_left_to_right():
    clip = make_clips(1, torch.Generator().manual_seed(1))[0][0].numpy()
    strip = frame_strip(clip, scale=2)
    cell = SIZE * 2 + 4
    assert strip.shape == (cell, FRAMES * cell)
    last = strip[2 : 2 + 2 * SIZE, (FRAMES - 1) * cell + 2 : (FRAMES - 1) * cell + 2 + 2 * SIZE]
    assert np.array_equal(last[::2, ::2], np.rint((clip[-1] + 1) * 127.5).astype(np.uint8))
