"""The three small networks of the image lesson, hand-written for a CPU (sizes and speeds in ``benchmarks/``).

* :class:`FlowNet`: the velocity model of a generative image expert, a small U-Net (residual
  blocks at two resolutions, t through a sinusoidal embedding). diffusers' ``UNet2DModel``, the
  class users know, at the same size learns as well per second of training but takes 1.4 to 1.9
  times as long per call at the sampler's batch sizes (``benchmarks/digit_nets.py``), and the
  sampler calls the experts 1 + 2K times per level; :func:`~poe_demo.experts.from_diffusers`
  wraps our network the way it wraps a UNet (notebook 6 shows it).
* :class:`RewardNet`: a small CNN classifier, the discriminative expert that steers.
* :class:`JudgeNet`: an MLP classifier, a different architecture trained on other images, that
  only judges: a reward that is optimized cannot also be its own referee.

Images are ``[B, 1, 14, 14]`` (a single grey channel), in [-1, 1] for every network.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .data import SIZE

__all__ = ["FlowNet", "RewardNet", "JudgeNet", "NETS"]


class _Block(nn.Module):
    """A residual block: GroupNorm, SiLU, 3 x 3 conv, plus the time embedding, then again; added to its input."""

    def __init__(self, channels: int, embedding: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, channels), nn.Conv2d(channels, channels, 3, padding=1)
        self.time = nn.Linear(embedding, channels)
        self.norm2, self.conv2 = nn.GroupNorm(8, channels), nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor, embedding: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.time(embedding)[:, :, None, None]
        return x + self.conv2(F.silu(self.norm2(h)))


class FlowNet(nn.Module):
    """v(x, t) ``[B, 1, 14, 14]`` for x ``[B, 1, 14, 14]``: E[eps - x_0 | x_t = x] on the linear path.

    A small U-Net: residual blocks at 14 x 14 and at 7 x 7, a skip connection across. Called as
    ``net(x, timestep)`` with timestep = 1000 t, a float or ``[B]``: diffusers' flow-matching
    convention, so :func:`~poe_demo.experts.from_diffusers` with a ``FlowMatchEulerDiscreteScheduler``
    wraps it as it would a user's model."""

    def __init__(self, width: int = 24, frequencies: int = 8):
        super().__init__()
        self.width, self.frequencies = width, frequencies
        e = 4 * width
        self.time = nn.Sequential(nn.Linear(2 * frequencies, e), nn.SiLU(), nn.Linear(e, e))
        self.inp = nn.Conv2d(1, width, 3, padding=1)
        self.block14 = _Block(width, e)
        self.down = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)  # 14 -> 7
        self.block7a, self.block7b = _Block(2 * width, e), _Block(2 * width, e)
        self.up = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1)  # 7 -> 14
        self.merge = nn.Conv2d(2 * width, width, 3, padding=1)  # the upsampled path beside the skip
        self.block14_up = _Block(width, e)
        self.norm, self.out = nn.GroupNorm(8, width), nn.Conv2d(width, 1, 3, padding=1)

    def forward(self, x: Tensor, timestep: float | Tensor) -> Tensor:
        timestep = torch.as_tensor(timestep, dtype=x.dtype, device=x.device).expand(x.shape[0])
        scales = torch.exp(-math.log(1000.0) * torch.arange(self.frequencies, device=x.device) / self.frequencies)
        angles = timestep[:, None] * scales.to(x.dtype)  # periods from 2 pi to 2000 pi timesteps
        e = F.silu(self.time(torch.cat([angles.sin(), angles.cos()], dim=1)))
        skip = self.block14(self.inp(x), e)
        h = self.block7b(self.block7a(self.down(skip), e), e)
        h = self.block14_up(self.merge(torch.cat([self.up(h), skip], dim=1)), e)
        return self.out(F.silu(self.norm(h)))


class RewardNet(nn.Module):
    """Logits ``[B, 10]`` of a small CNN for images ``[B, 1, 14, 14]``."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.width = width
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 7 x 7
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 3 x 3
        )
        self.head = nn.Linear(2 * width * 9, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).flatten(1))


class JudgeNet(nn.Module):
    """Logits ``[B, 10]`` of a two-layer perceptron on the 196 pixels: no convolutions, unlike the reward."""

    def __init__(self, hidden: int = 256):
        super().__init__()
        self.hidden = hidden
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(SIZE * SIZE, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


NETS = {"flow": FlowNet, "reward": RewardNet, "judge": JudgeNet}
