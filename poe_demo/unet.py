"""A small U-Net for velocity models on a CPU: the image lesson's flow experts and the video lesson's.

Residual blocks at two resolutions (full and half), a skip connection across, and the flow time
t told to every block through a sinusoidal embedding. ``channels`` is what one position holds:
1 for a grey image, the frames of a clip for a video (:mod:`poe_demo.video.nets`: there every
layer mixes all frames, so motion is learned like any other pattern across channels). Called
as ``net(x, timestep)`` with timestep = 1000 t, a float or ``[B]``: diffusers' flow-matching
convention, so :func:`~poe_demo.experts.from_diffusers` wraps it as it would a user's model.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["ResidualBlock", "SelfAttention", "UNet"]


class ResidualBlock(nn.Module):
    """GroupNorm, SiLU, 3 x 3 conv, plus the time embedding, then again; added to its input."""

    def __init__(self, channels: int, embedding: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, channels), nn.Conv2d(channels, channels, 3, padding=1)
        self.time = nn.Linear(embedding, channels)
        self.norm2, self.conv2 = nn.GroupNorm(8, channels), nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor, embedding: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.time(embedding)[:, :, None, None]
        return x + self.conv2(F.silu(self.norm2(h)))


class SelfAttention(nn.Module):
    """Every position attends to every other (4 heads), added to its input: one layer that relates
    distant pixels, where convolutions need many (a ball's position late in a clip depends on
    where it started, anywhere in the frame)."""

    def __init__(self, channels: int, heads: int = 4):
        super().__init__()
        self.norm, self.attention = nn.GroupNorm(8, channels), nn.MultiheadAttention(channels, heads, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        tokens = self.norm(x).flatten(2).transpose(1, 2)  # [B, H W, C]
        mixed, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        return x + mixed.transpose(1, 2).reshape(x.shape)


class UNet(nn.Module):
    """v(x, t) ``[B, channels, H, W]`` for x ``[B, channels, H, W]`` (H, W even): E[eps - x_0 | x_t = x] on
    the linear path. ``width`` channels at full resolution, twice that at half; ``attention`` adds
    :class:`SelfAttention` between the half-resolution blocks."""

    def __init__(self, width: int = 24, frequencies: int = 8, channels: int = 1, attention: bool = False):
        super().__init__()
        self.width, self.frequencies, self.channels = width, frequencies, channels
        e = 4 * width
        self.time = nn.Sequential(nn.Linear(2 * frequencies, e), nn.SiLU(), nn.Linear(e, e))
        self.inp = nn.Conv2d(channels, width, 3, padding=1)
        self.block_full = ResidualBlock(width, e)
        self.down = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        self.block_half_a, self.block_half_b = ResidualBlock(2 * width, e), ResidualBlock(2 * width, e)
        self.attention = SelfAttention(2 * width) if attention else nn.Identity()
        self.up = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1)
        self.merge = nn.Conv2d(2 * width, width, 3, padding=1)  # the upsampled path beside the skip
        self.block_full_up = ResidualBlock(width, e)
        self.norm, self.out = nn.GroupNorm(8, width), nn.Conv2d(width, channels, 3, padding=1)

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
        skip = self.block_full(self.inp(x), e)
        h = self.block_half_b(self.attention(self.block_half_a(self.down(skip), e)), e)
        h = self.block_full_up(self.merge(torch.cat([self.up(h), skip], dim=1)), e)
        return self.out(F.silu(self.norm(h)))
