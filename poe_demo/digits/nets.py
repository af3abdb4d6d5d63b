"""The three small networks of the image lesson, hand-written for a CPU (sizes and speeds in ``benchmarks/``).

* :class:`FlowNet`: the velocity model of a generative image expert, a small U-Net (residual
  blocks at two resolutions, t through a sinusoidal embedding). diffusers' ``UNet2DModel``, the
  class users know, at the same size learns as well per second of training but takes 1.4 to 1.9
  times as long per call at the sampler's batch sizes (``benchmarks/digit_nets.py``), and the
  sampler calls the experts 1 + K times per level; :func:`~poe_demo.experts.from_diffusers`
  wraps our network the way it wraps a UNet (notebook 6 shows it).
* :class:`ConditionalFlowNet`: the same U-Net told which digit to draw, or "none": one network
  for p(x | c) and p(x), trained with the label dropped at random, as diffusers users train
  for classifier-free guidance. Guidance is then a product of its two experts with exponents.
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

__all__ = ["FlowNet", "ConditionalFlowNet", "NONE", "RewardNet", "JudgeNet", "NETS"]

NONE = 10  # the conditional network's label for "no digit": p(x) rather than p(x | c)


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

    def embed(self, x: Tensor, timestep: float | Tensor) -> Tensor:
        """The conditioning vector ``[B, 4 width]`` every block adds: t through sinusoids and an MLP."""
        timestep = torch.as_tensor(timestep, dtype=x.dtype, device=x.device).expand(x.shape[0])
        scales = torch.exp(-math.log(1000.0) * torch.arange(self.frequencies, device=x.device) / self.frequencies)
        angles = timestep[:, None] * scales.to(x.dtype)  # periods from 2 pi to 2000 pi timesteps
        return self.time(torch.cat([angles.sin(), angles.cos()], dim=1))

    def forward(self, x: Tensor, timestep: float | Tensor) -> Tensor:
        return self.unet(x, F.silu(self.embed(x, timestep)))

    def unet(self, x: Tensor, e: Tensor) -> Tensor:
        """The U-Net itself, given the conditioning vector ``e``."""
        skip = self.block14(self.inp(x), e)
        h = self.block7b(self.block7a(self.down(skip), e), e)
        h = self.block14_up(self.merge(torch.cat([self.up(h), skip], dim=1)), e)
        return self.out(F.silu(self.norm(h)))


class ConditionalFlowNet(FlowNet):
    """v(x, t | c) ``[B, 1, 14, 14]``: a :class:`FlowNet` whose conditioning adds a learned vector for the label
    c, a digit 0-9 or :data:`NONE` (no digit, so v(x, t) of every digit's images).

    Called as ``net(x, timestep, label)``, ``label`` an int or ``[B]``; :meth:`expert_for` fixes the
    label, giving the ``model(x, timestep)`` that :class:`~poe_demo.experts.ModelExpert` wraps."""

    def __init__(self, width: int = 24, frequencies: int = 8):
        super().__init__(width, frequencies)
        self.label = nn.Embedding(NONE + 1, 4 * width)

    def forward(self, x: Tensor, timestep: float | Tensor, label: int | Tensor = NONE) -> Tensor:
        label = torch.as_tensor(label, dtype=torch.long, device=x.device).expand(x.shape[0])
        return self.unet(x, F.silu(self.embed(x, timestep) + self.label(label)))

    def expert_for(self, label: int) -> nn.Module:
        """The network with its label fixed: ``model(x, timestep)``."""
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= NONE:
            raise ValueError(f"label must be a digit 0-9 or NONE = {NONE} (no digit), got {label!r}")
        return _Labelled(self, label)


class _Labelled(nn.Module):
    def __init__(self, net: ConditionalFlowNet, label: int):
        super().__init__()
        self.net, self.label = net, label

    def forward(self, x: Tensor, timestep: float | Tensor) -> Tensor:
        return self.net(x, timestep, self.label)


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


NETS = {"flow": FlowNet, "conditional_flow": ConditionalFlowNet, "reward": RewardNet, "judge": JudgeNet}
