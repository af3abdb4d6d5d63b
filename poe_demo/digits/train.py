"""Training the image lesson's networks: flow matching for the generative experts, cross-entropy for the classifiers.

Every run is determined by its :class:`DigitTraining` (recorded in the checkpoint manifest), so
``make weights`` regenerates the shipped files; on another CPU the floats may differ slightly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..flow_matching import one_cycle, train_flow_matching
from .data import subset, to_model
from .nets import NETS, NONE

__all__ = ["FLOW_KINDS", "DigitTraining", "train_flow", "train_classifier", "accuracy"]

FLOW_KINDS = ("flow", "conditional_flow")  # the networks trained by flow matching


@dataclass(frozen=True)
class DigitTraining:
    """Everything that determines one trained network."""

    kind: str  # "flow", "conditional_flow", "reward" or "judge"
    digits: tuple[int, ...] = tuple(range(10))  # the digits its training images show
    part: str = "train"  # the part of the split it trains on (data.split)
    width: int = 24  # FlowNet's and RewardNet's channels, JudgeNet's hidden units
    n_steps: int = 6000
    batch_size: int = 128
    lr: float = 2e-3
    ema: float = 0.999  # exponential moving average of the flow's weights (the one shipped)
    seed: int = 0
    label_dropout: float = 0.0  # conditional_flow: the share of images trained with the label NONE (no digit)


def _net(config: DigitTraining) -> torch.nn.Module:
    key = "hidden" if config.kind == "judge" else "width"
    return NETS[config.kind](**{key: config.width})


def train_flow(
    config: DigitTraining, progress: bool = True, images: Tensor | None = None, net: torch.nn.Module | None = None
) -> tuple[torch.nn.Module, list[float], float]:
    """Flow matching on the linear path: minimise E |f(x_t, t) - (eps - x_0)|^2 over images of ``config.digits``.

    ``images`` ``[n, H, W]`` in [0, 1] replaces the split's (``benchmarks/digit_resolution.py``
    trains at 28 x 28 this way); ``net``, any ``f(x [B, 1, H, W], timestep [B]) -> [B, 1, H, W]``,
    replaces a new :class:`FlowNet` (``benchmarks/digit_nets.py`` trains diffusers' UNet2DModel
    this way). A ``conditional_flow`` network is told each image's digit, replaced by
    :data:`~poe_demo.digits.nets.NONE` for a random ``config.label_dropout`` of them, so the one
    network learns p(x | c) and p(x). Returns (the network with the averaged weights, the losses, seconds)."""
    start = time.perf_counter()
    conditional = config.kind == "conditional_flow"
    if conditional and images is not None:
        raise ValueError("a conditional_flow network trains on the split's labelled images; images= cannot be given")
    images, labels = subset(config.part, config.digits) if images is None else (images, None)
    data = to_model(images)[:, None]  # [n, 1, H, W] in [-1, 1]
    gen = torch.Generator().manual_seed(config.seed)
    if net is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            net = _net(config)

    def told_the_digit(net, x_t, timestep, rows):
        dropped = torch.rand(len(rows), generator=gen) < config.label_dropout
        return net(x_t, timestep, torch.where(dropped, NONE, labels[rows]))

    label = f"train the {''.join(map(str, config.digits))} {config.kind.replace('_', ' ')} expert"
    average, losses = train_flow_matching(
        net,
        data,
        config.n_steps,
        config.batch_size,
        config.lr,
        config.ema,
        gen,
        label,
        progress,
        told_the_digit if conditional else None,
    )
    return average, losses, time.perf_counter() - start


def train_classifier(config: DigitTraining, progress: bool = True) -> tuple[torch.nn.Module, list[float], float]:
    """Cross-entropy on clean images of one part of the split (the reward on "train", the judge on "judge").

    Light augmentation, a shift of up to one pixel and Gaussian pixel noise, so that the
    classifier is not thrown by the sampler's almost-clean predictions. Returns (network, losses, seconds)."""
    start = time.perf_counter()
    images, labels = subset(config.part, config.digits)
    data = to_model(images)[:, None]
    gen = torch.Generator().manual_seed(config.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        net = _net(config)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    schedule = one_cycle(opt, config.lr, config.n_steps, warmup=0.1)
    losses = []
    for _ in tqdm(range(config.n_steps), desc=f"train the {config.kind} classifier", disable=not progress, leave=False):
        rows = torch.randint(len(data), (config.batch_size,), generator=gen)
        shift = torch.randint(-1, 2, (2,), generator=gen).tolist()
        x = torch.roll(data[rows], shifts=shift, dims=(2, 3)) + 0.1 * torch.randn(data[rows].shape, generator=gen)
        loss = F.cross_entropy(net(x), labels[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        losses.append(loss.item())
    return net.eval(), losses, time.perf_counter() - start


@torch.no_grad()
def accuracy(classifier: torch.nn.Module, images: Tensor, labels: Tensor) -> float:
    """Fraction of images ``[n, 14, 14]`` in [0, 1] the classifier labels right."""
    return (classifier(to_model(images)[:, None]).argmax(1) == labels).double().mean().item()
