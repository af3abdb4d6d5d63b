"""Training a velocity model by flow matching on the linear path: the loop both lessons' flow experts share.

    min_f  E_{x_0, eps, t} |f(x_t, 1000 t) - (eps - x_0)|^2,    x_t = (1 - t) x_0 + t eps,  t ~ U(0, 1)

with Adam under a one-cycle learning rate, and an exponential moving average of the weights
(the network returned and shipped: it samples better than the last step's weights).
"""

from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import Tensor
from torch.nn import functional as F
from tqdm.auto import tqdm

from .paths import interpolate, velocity_target

__all__ = ["one_cycle", "train_flow_matching"]


def one_cycle(opt, lr: float, n_steps: int, warmup: float):
    """OneCycleLR with a warm-up of ``warmup`` of the steps, at least two of them and at most 3/4:
    OneCycleLR divides by both phases' lengths, so it needs 1 < pct_start * n_steps < n_steps."""
    if n_steps < 2:
        raise ValueError(f"n_steps must be >= 2 (a warm-up and a decay), got {n_steps}")
    pct_start = min(max(warmup, 2 / n_steps), 0.75)
    return torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=n_steps, pct_start=pct_start)


def train_flow_matching(
    net: torch.nn.Module,
    data: Tensor,
    n_steps: int,
    batch_size: int,
    lr: float,
    ema: float,
    generator: torch.Generator,
    label: str,
    progress: bool = True,
    predict: Callable[[torch.nn.Module, Tensor, Tensor, Tensor], Tensor] | None = None,
) -> tuple[torch.nn.Module, list[float]]:
    """Flow matching of ``net`` on ``data [n, ...]`` (model space, [-1, 1]): (the averaged network in eval
    mode, the loss at each step). ``predict(net, x_t, timestep, rows)`` replaces ``net(x_t, timestep)``
    where the network needs more than x_t and t (``rows`` are the batch's rows of ``data``, e.g. to
    look up labels); it may draw from ``generator`` after the batch's t."""
    average = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = one_cycle(opt, lr, n_steps, warmup=0.05)
    losses = []
    for _ in tqdm(range(n_steps), desc=label, disable=not progress, leave=False):
        rows = torch.randint(len(data), (batch_size,), generator=generator)
        x_0 = data[rows]
        eps = torch.randn(x_0.shape, generator=generator)
        t = torch.rand(batch_size, generator=generator)
        x_t = interpolate(x_0, eps, t.view(-1, *([1] * (x_0.ndim - 1))))
        timestep = 1000 * t  # diffusers' flow-matching convention (poe_demo.unet)
        prediction = net(x_t, timestep) if predict is None else predict(net, x_t, timestep, rows)
        loss = F.mse_loss(prediction, velocity_target(x_0, eps))
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        with torch.no_grad():
            for a, p in zip(average.parameters(), net.parameters()):
                a.lerp_(p, 1 - ema)
        losses.append(loss.item())
    return average.eval(), losses
