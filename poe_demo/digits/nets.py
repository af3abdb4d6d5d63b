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

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..unet import UNet
from .data import SIZE

__all__ = ["FlowNet", "ConditionalFlowNet", "NONE", "RewardNet", "JudgeNet", "NETS"]

NONE = 10  # the conditional network's label for "no digit": p(x) rather than p(x | c)


class FlowNet(UNet):
    """v(x, t) ``[B, 1, 14, 14]`` for x ``[B, 1, 14, 14]``: the shared :class:`~poe_demo.unet.UNet` on one grey
    channel, residual blocks at 14 x 14 and at 7 x 7. Called as ``net(x, timestep)``, timestep = 1000 t."""

    def __init__(self, width: int = 24, frequencies: int = 8):
        super().__init__(width, frequencies, channels=1)


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
