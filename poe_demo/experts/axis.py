"""Per-axis flow experts: each sees a point's xyz but moves it only along its own axis.

An :class:`AxisFlowExpert` for axis a is a small MLP f(x, y, z, t) trained by flow matching on
points uniform on the unit sphere, regressing the a-th component of the conditional velocity
eps - x_0. Its minimiser is E[eps_a - x0_a | x_t], the a-th column of the exact velocity
(:class:`~poe_demo.experts.sphere.ExactSphereExpert`). Alone, an expert leaves the other two
coordinates as noise; the three together move every coordinate.

:class:`BatchedAxisExperts` evaluates several axis experts as one expert: the same velocities
and scores as summing them one by one, from a single call that computes their shared input
features once. The annealed sampler calls the experts 1 + 2K times per level (seven at K = 3),
so this is where its time goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from ..data import sample_sphere_points
from ..paths import interpolate, score_from_velocity, velocity_target
from ..validation import check_points, check_time
from .base import JointExpert

__all__ = ["AxisFlowExpert", "BatchedAxisExperts", "TrainingConfig", "radial_features", "train_axis_expert"]

_AXES = {"x": 0, "y": 1, "z": 2}


class AxisFlowExpert(nn.Module, JointExpert):
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
        """v_a(xyz, t): ``xyz [..., 3]``, t a float or ``[..., 1]`` -> ``[...]``, inputs :func:`radial_features` and t.

        Computed in the dtype of ``xyz`` (the weights are cast, a no-op for float32)."""
        first, dtype = self.net[0], xyz.dtype
        weight = first.weight.to(dtype)
        # t enters the first layer linearly, so it is folded into the bias: one matmul on 4 columns
        bias = first.bias.to(dtype) + t * weight[:, 4]  # [32] for a float t, [..., 32] for per-row t
        h = torch.addmm(bias.reshape(-1, first.out_features), radial_features(xyz).reshape(-1, 4), weight[:, :4].T)
        for layer in self.net[1:]:
            h = F.linear(h, layer.weight.to(dtype), layer.bias.to(dtype)) if isinstance(layer, nn.Linear) else layer(h)
        return h.reshape(xyz.shape[:-1])

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """Both from one network call: the score is a function of the velocity (:mod:`poe_demo.paths`)."""
        t = check_time(t)
        check_points(x, f"the {self.axis} axis expert")
        v_axis = self(x[..., :3], t)
        out = x.new_zeros((2, *x.shape))  # velocity and score, zero off the expert's axis
        out[0, ..., self.column] = v_axis
        out[1, ..., self.column] = score_from_velocity(x[..., self.column], v_axis, t)
        return out[0], out[1]


def radial_features(xyz: Tensor, *extra: Tensor) -> Tensor:
    """The axis experts' inputs (x, y, z, |xyz|) ``[..., 4]``, then any ``extra`` columns ``[..., k]``.

    The radius is computed from what the expert sees; because the sphere's structure is radial,
    it lets a small network match the oracle. (t enters through the first layer's bias.)
    """
    return torch.cat([xyz, xyz.norm(dim=-1, keepdim=True), *extra], dim=-1)


def _folded(linear: nn.Linear, pass_one: bool) -> Tensor:
    """``linear`` as one matrix ``[in + 1, out (+ 1)]`` for inputs that end in a constant 1.

    y = W x + b becomes [x, 1] @ [[W^T], [b]]; with ``pass_one`` an extra output column copies
    the 1 forward (ReLU(1) = 1), so the next layer's bias folds in the same way.
    """
    folded = torch.cat([linear.weight.T, linear.bias[None]], dim=0)
    if pass_one:
        one = torch.zeros(folded.shape[0], 1, dtype=folded.dtype, device=folded.device)
        one[-1] = 1.0
        folded = torch.cat([folded, one], dim=1)
    return folded.detach().clone()


class BatchedAxisExperts(nn.Module, JointExpert):
    """Several trained axis experts (at most one per axis) evaluated as one generative expert.

    The velocity and score equal the sums of the experts' own: each expert fills its axis's
    column. What changes is the cost. The inputs (x, y, z, |xyz|, t, 1) are built once for all
    experts, and every bias is folded into its layer's matrix (:func:`_folded`), so each layer
    is one plain matmul followed by an in-place ReLU: with a hidden width of 32, a bias add
    costs as much memory traffic as the matmul itself. The output is one velocity and one
    score for all experts, not a full-size pair per expert for the sampler to add up.

    It is a snapshot: the weights are copied when it is built, so build it after training.
    """

    def __init__(self, experts: Sequence[AxisFlowExpert] | Mapping[str, AxisFlowExpert]):
        super().__init__()
        experts = list(experts.values()) if isinstance(experts, Mapping) else list(experts)
        for e in experts:
            if not isinstance(e, AxisFlowExpert):
                raise TypeError(f"BatchedAxisExperts takes AxisFlowExpert objects, got {type(e).__name__}")
        axes = [e.axis for e in experts]
        if not experts or len(set(axes)) != len(axes):
            raise ValueError(f"BatchedAxisExperts needs one or more experts with distinct axes, got axes {axes}")
        experts = sorted(experts, key=lambda e: e.column)
        self.axes, self.columns = [e.axis for e in experts], [e.column for e in experts]
        # a run of columns as a slice: indexing with a list of columns copies and scatters, slow here
        first, last = self.columns[0], self.columns[-1]
        self._axis_columns = slice(first, last + 1) if self.columns == list(range(first, last + 1)) else self.columns
        self.depths = [e.depth for e in experts]
        for i, e in enumerate(experts):
            *passing_one, last_hidden, output = [m for m in e.net if isinstance(m, nn.Linear)]
            for k, layer in enumerate(passing_one):
                self.register_buffer(f"w{i}_{k}", _folded(layer, pass_one=True))
            self.register_buffer(f"w{i}_{e.depth - 1}", _folded(last_hidden, pass_one=False))
            # the output layer keeps a separate bias: adding it to [B, 1] costs nothing, while passing
            # the 1 through the last hidden layer would make it 33 wide, a slower matmul
            self.register_buffer(f"w{i}_out", output.weight.detach().T.clone())  # [hidden, 1]
            self.register_buffer(f"b{i}_out", output.bias.detach().clone())  # [1]

    def __repr__(self) -> str:
        return f"BatchedAxisExperts(axes={self.axes})"

    def _weight(self, name: str, dtype: torch.dtype) -> Tensor:
        """A buffer in the dtype of the input (a no-op for float32, the dtype it was built in)."""
        return self.get_buffer(name).to(dtype)

    def forward(self, xyz: Tensor, t: float) -> Tensor:
        """Each expert's velocity along its axis: ``xyz [..., 3] -> [..., n_experts]``, in axis order."""
        tail = xyz.new_tensor([t, 1.0]).expand(*xyz.shape[:-1], 2)
        inputs = radial_features(xyz, tail).reshape(-1, 6)  # [B, 6], shared by the experts
        velocities = []
        for i, depth in enumerate(self.depths):
            h = inputs
            for k in range(depth):
                h = (h @ self._weight(f"w{i}_{k}", xyz.dtype)).relu_()  # bias included, see _folded
            velocities.append(h @ self._weight(f"w{i}_out", xyz.dtype) + self._weight(f"b{i}_out", xyz.dtype))  # [B, 1]
        return torch.cat(velocities, dim=1).reshape(*xyz.shape[:-1], len(self.columns))

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """Summed velocity and score, shaped like x, zero off the experts' axes."""
        t = check_time(t)
        check_points(x, repr(self))
        v_axes = self(x[..., :3], t)  # [..., n_experts]
        out = x.new_zeros((2, *x.shape))
        out[0, ..., self._axis_columns] = v_axes
        out[1, ..., self._axis_columns] = score_from_velocity(x[..., self._axis_columns], v_axes, t)
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
