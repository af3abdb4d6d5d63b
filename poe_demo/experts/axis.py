"""Per-axis flow experts: each sees a point's xyz but moves it only along its own axis.

An :class:`AxisFlowExpert` for axis a is a small MLP f(x, y, z, t) trained by flow matching on
points uniform on the unit sphere, regressing the a-th component of the conditional velocity
eps - x_0. Its minimiser is E[eps_a - x0_a | x_t], the a-th column of the exact velocity
(:class:`~poe_demo.experts.sphere.ExactSphereExpert`). Alone, an expert leaves the other two
coordinates as noise; the three together move every coordinate.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..data import sample_sphere_points
from ..paths import interpolate, score_from_velocity, velocity_target
from ..validation import check_time

__all__ = ["AxisFlowExpert", "TrainingConfig", "train_axis_expert"]

_AXES = {"x": 0, "y": 1, "z": 2}


class AxisFlowExpert(nn.Module):
    """MLP velocity expert for one axis. States ``[..., 3]`` or clouds ``[..., N, 6]``."""

    def __init__(self, axis: str, hidden: int = 32, depth: int = 2):
        super().__init__()
        if axis not in _AXES:
            raise ValueError(f"axis must be 'x', 'y' or 'z', got {axis!r}")
        if hidden < 1 or depth < 1:
            raise ValueError(f"hidden and depth must be >= 1, got hidden={hidden}, depth={depth}")
        self.axis, self.column, self.hidden, self.depth = axis, _AXES[axis], hidden, depth
        # ReLU rather than SiLU: cheaper, and measured more accurate against the oracle at this size
        # (benchmarks/expert_size.py).
        layers: list[nn.Module] = [nn.Linear(5, hidden), nn.ReLU(inplace=True)]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), nn.ReLU(inplace=True)]
        layers.append(nn.Linear(hidden, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, xyz: Tensor, t: float | Tensor) -> Tensor:
        """v_a(xyz, t): ``xyz [..., 3]``, t a float or ``[..., 1]`` -> ``[...]``.

        Inputs are (x, y, z, |xyz|, t): the radius is computed from what the expert sees, and
        because the sphere's structure is radial it lets a small network match the oracle.
        """
        first = self.net[0]
        features = torch.cat([xyz, xyz.norm(dim=-1, keepdim=True)], dim=-1)  # [..., 4]
        bias = first.bias + t * first.weight[:, 4]  # t is shared by the batch (a float) or per row ([..., 1])
        h = torch.addmm(bias.reshape(-1, first.out_features), features.reshape(-1, 4), first.weight[:, :4].T)
        return self.net[1:](h).reshape(xyz.shape[:-1])

    def velocity(self, x: Tensor, t: float) -> Tensor:
        return self.velocity_and_score(x, t)[0]

    def score(self, x: Tensor, t: float) -> Tensor:
        return self.velocity_and_score(x, t)[1]

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """Both from one network call: the score is a function of the velocity (:mod:`poe_demo.paths`)."""
        t = check_time(t)
        v_axis = self(x[..., :3], t)
        out = x.new_zeros((2, *x.shape))  # velocity and score, zero off the expert's axis
        out[0, ..., self.column] = v_axis
        out[1, ..., self.column] = score_from_velocity(x[..., self.column], v_axis, t)
        return out[0], out[1]


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that determines a trained expert (recorded in the checkpoint manifest)."""

    hidden: int = 32
    depth: int = 2
    n_steps: int = 3000
    batch_size: int = 8192
    lr: float = 1e-2
    seed: int = 0
    time_power: float = 2.0  # t = u^p with u uniform: p > 1 spends more of the training on small t


def train_axis_expert(
    axis: str, config: TrainingConfig = TrainingConfig(), progress: bool = True, device: str | torch.device = "cpu"
) -> tuple[AxisFlowExpert, list[float]]:
    """Flow matching: minimise E_{t, x_0, eps} |f(x_t, t) - (eps_a - x0_a)|^2. Returns (expert, losses)."""
    # Each axis gets its own stream, so the x expert does not depend on whether y was trained first.
    seed = config.seed * 3 + _AXES.get(axis, 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        expert = AxisFlowExpert(axis, config.hidden, config.depth).to(device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(expert.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.n_steps)
    losses: list[float] = []
    for _ in tqdm(range(config.n_steps), desc=f"train {axis} expert", disable=not progress, leave=False):
        x_0 = sample_sphere_points(config.batch_size, generator=gen)
        eps = torch.randn(config.batch_size, 3, generator=gen)
        t = torch.rand(config.batch_size, 1, generator=gen) ** config.time_power
        x_t = interpolate(x_0, eps, t)
        target = velocity_target(x_0, eps)[:, expert.column]
        loss = (expert(x_t.to(device), t.to(device)) - target.to(device)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return expert.eval(), losses
