"""The video expert: trained by the shared loop, saved and loaded hash-checked, and its clips judged."""

import json

import pytest
import torch

from poe_demo.experts.pretrained import CheckpointError
from poe_demo.video.clips import FRAMES, SIZE
from poe_demo.video.expert import (
    VideoTraining,
    load_video_net,
    noise,
    save_video_net,
    train_video_net,
    video_expert,
)

TINY = VideoTraining(width=8, n_steps=3, batch_size=4, clips=20)


def test_a_saved_network_loads_back_to_the_same_outputs_and_a_changed_file_is_refused(tmp_path):
    net, losses, _ = train_video_net(TINY, progress=False)
    assert len(losses) == TINY.n_steps
    manifest = save_video_net(net, {"training": {"width": 8}}, tmp_path)
    loaded = load_video_net(tmp_path)
    x = noise(3, torch.Generator().manual_seed(0))
    assert x.shape == (3, FRAMES, SIZE, SIZE)
    assert torch.equal(loaded(x, 400.0), net(x, 400.0))
    velocity = video_expert(loaded).velocity(x, 0.4)
    assert velocity.shape == x.shape and torch.isfinite(velocity).all()
    entry = json.loads(manifest.read_text())
    (tmp_path / entry["file"]).write_bytes((tmp_path / entry["file"]).read_bytes() + b"0")
    with pytest.raises(CheckpointError, match="the file was modified"):
        load_video_net(tmp_path)
    with pytest.raises(CheckpointError, match="no video checkpoint manifest"):
        load_video_net(tmp_path / "nowhere")
