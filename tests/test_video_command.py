"""poe-demo video: the GIF and npz described, from a tiny network in a temporary folder (the shipped
network's quality is tested in test_video_expert); one line and exit 2 for every mistake."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from poe_demo.cli import build_parser
from poe_demo.video.clips import FRAMES, SIZE
from poe_demo.video.command import GOALS
from poe_demo.video.expert import VideoTraining, save_video_net, train_video_net


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny_video")
    net, _, _ = train_video_net(VideoTraining(width=8, n_steps=3, batch_size=4, clips=20), progress=False)
    save_video_net(net, {}, directory)
    return directory


def video_cli(cwd, *argv):
    return subprocess.run(
        [sys.executable, "-m", "poe_demo", "video", *argv], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def test_video_writes_the_gif_and_npz_described(tmp_path, tiny_dir):
    done = video_cli(tmp_path, "--data-dir", str(tiny_dir), "--goal", "right-third", "--particles", "3", "--steps",
                     "3", "--out", "v.gif", "--out", "v.npz")  # fmt: skip
    assert done.returncode == 0, done.stderr
    gif = Image.open(tmp_path / "v.gif")
    assert gif.format == "GIF" and gif.n_frames == FRAMES
    saved = np.load(tmp_path / "v.npz")
    clips, log_weights, best = saved["clips"], saved["log_weights"], saved["best"]
    assert clips.shape == (3, FRAMES, SIZE, SIZE) and log_weights.shape == (3,) and best.shape == (FRAMES, SIZE, SIZE)
    summary = json.loads(done.stdout.split(" -> ")[0])
    np.testing.assert_array_equal(best, clips[summary["returned_index"]])
    assert summary["physics"] is True and summary["goal"] == "right-third" and isinstance(summary["goal_reached"], bool)


@pytest.mark.parametrize(
    "argv, contains",
    [
        (["--goal", "up"], "--goal: invalid choice: 'up'"),
        (["--particles", "0"], "must be an integer >= 1, got 0"),
        (["--out", "v.mp4"], "must end in .gif, .npz"),
        (["--particles", "100000000000"], "of memory"),
    ],
)
def test_video_mistakes_are_one_line_and_exit_2(tmp_path, argv, contains):
    done = video_cli(tmp_path, *argv)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and contains in lines[0], done.stderr


def test_the_parsers_goals_are_the_commands():
    video = build_parser()._subparsers._group_actions[0].choices["video"]
    goal = next(a for a in video._actions if a.dest == "goal")
    assert set(goal.choices) == set(GOALS)
