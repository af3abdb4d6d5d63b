"""The video expert: a flow network over whole clips, trained on the engine's clips, shipped hash-checked.

The network is the shared :class:`~poe_demo.unet.UNet` with a clip's 8 frames as its channels:
every convolution sees all frames at once, so the ball's motion is a pattern across channels
like any other, and the whole clip costs one 2-D network call at 16 x 16 (a 3-D convolutional
net over 8 x 16 x 16, trained for 9.5 minutes, drew mostly faint, noisy clips: issue 28). It
learns what a clip looks like, not the laws behind it; how far its clips stray from the engine
is measured by :func:`~poe_demo.video.judge.judge`.

The training clips are the first :attr:`VideoTraining.clips` of seed :attr:`VideoTraining.data_seed`
(``data/bouncing_ball.md``). ``poe-demo train-video --out-dir DIR`` (in ``make weights``)
regenerates the file and its manifest, which records the training and its seconds.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..experts import FlowSchedule, ModelExpert
from ..experts.pretrained import CHECKPOINT_DIR, CheckpointError, atomic_write, checkpoint_bytes, verified_bytes
from ..flow_matching import train_flow_matching
from ..unet import UNet
from .clips import FRAMES, SIZE, make_clips

__all__ = [
    "VIDEO_DIR",
    "VideoFlowNet",
    "VideoTraining",
    "train_video_net",
    "save_video_net",
    "load_video_net",
    "train_and_save_video_net",
    "video_expert",
    "noise",
]

VIDEO_DIR = CHECKPOINT_DIR / "video"
_FILE, _MANIFEST = "video_flow.pt", "manifest.json"
REGENERATE = "poe-demo train-video --out-dir DIR"


class VideoFlowNet(UNet):
    """v(x, t) ``[B, F, H, W]`` for clips x ``[B, F, H, W]`` (F = 8 frames as channels, 16 x 16 pixels), with
    self-attention at 8 x 8: without it, a first trial's clips lost the ball in 21 % of frames, most
    often in the last (45 %), where the ball's place depends most on where it started; with it, the
    shipped network loses it in 13 % (``tests/test_video_expert.py``), by frame 3 % to 20 % (128 clips)."""

    def __init__(self, width: int = 48, frequencies: int = 8):
        super().__init__(width, frequencies, channels=FRAMES, attention=True)


@dataclass(frozen=True)
class VideoTraining:
    """Everything that determines the shipped video network."""

    width: int = 48
    n_steps: int = 3600
    batch_size: int = 64
    lr: float = 2e-3
    ema: float = 0.995
    seed: int = 0
    clips: int = 20_000  # the training split: the first clips of data_seed
    data_seed: int = 0


def train_video_net(
    config: VideoTraining = VideoTraining(), progress: bool = True
) -> tuple[VideoFlowNet, list[float], float]:
    """Flow matching (:func:`~poe_demo.flow_matching.train_flow_matching`) on the training clips:
    (the network with averaged weights, the losses, seconds)."""
    start = time.perf_counter()
    data, _ = make_clips(config.clips, torch.Generator().manual_seed(config.data_seed))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = VideoFlowNet(config.width)
    gen = torch.Generator().manual_seed(config.seed)
    average, losses = train_flow_matching(
        net, data, config.n_steps, config.batch_size, config.lr, config.ema, gen, "train the video expert", progress
    )
    return average, losses, time.perf_counter() - start


def save_video_net(net: VideoFlowNet, record: dict, directory: Path) -> Path:
    """Write the network and a manifest (its size, hash, and ``record``: training and measurements)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    data, vouch = checkpoint_bytes({"name": "video_flow", "width": net.width, "state_dict": state})
    atomic_write(directory / _FILE, data)
    manifest = {"file": _FILE, **vouch, "width": net.width, **record, "regenerate": REGENERATE}
    atomic_write(directory / _MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return directory / _MANIFEST


def load_video_net(directory: Path | str = VIDEO_DIR, device: str | torch.device = "cpu") -> VideoFlowNet:
    """The shipped network in eval mode: the file read once, its hash checked, the same bytes unpickled
    with ``weights_only=True``."""
    directory = Path(directory)
    try:
        entry = json.loads((directory / _MANIFEST).read_text())
        file, sha256, width = entry["file"], entry["sha256"], entry["width"]
    except FileNotFoundError:
        raise CheckpointError(f"no video checkpoint manifest at {directory / _MANIFEST}; run `{REGENERATE}`") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"malformed manifest {directory / _MANIFEST}: {exc}") from None
    path = directory / file
    data = verified_bytes(path, sha256, REGENERATE)
    try:
        saved = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        net = VideoFlowNet(saved["width"])
        net.load_state_dict(saved["state_dict"])
    except Exception as exc:  # a file that matches its hash but is not this network
        raise CheckpointError(f"cannot load {path}: {exc}") from None
    if saved["width"] != width:
        raise CheckpointError(f"checkpoint {path} has width {saved['width']}; the manifest says {width}")
    return net.to(device).eval().requires_grad_(False)


def train_and_save_video_net(directory: Path, config: VideoTraining = VideoTraining(), progress: bool = True) -> Path:
    """Train the network, record the training, its seconds and final loss, and save it into ``directory``."""
    net, losses, seconds = train_video_net(config, progress)
    final_loss = round(sum(losses[-100:]) / len(losses[-100:]), 5)
    record = {"training": asdict(config), "seconds": round(seconds, 1), "final_loss": final_loss}
    return save_video_net(net, record, directory)


def video_expert(net: VideoFlowNet) -> ModelExpert:
    """The network as a generative expert: it predicts eps - x_0 at timestep 1000 t."""
    return ModelExpert(net, FlowSchedule(1000), "flow")


def noise(n: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu") -> torch.Tensor:
    """Starting noise ``[n, F, H, W]``, N(0, I)."""
    return torch.randn(n, FRAMES, SIZE, SIZE, generator=generator).to(device)
