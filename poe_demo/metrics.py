"""How good is a sampled cloud? Shape against the unit sphere, colors against a target.

All metrics take clouds ``[L, N, 6]`` (or xyz ``[L, N, 3]`` for the shape metrics) and return
one number per cloud, ``[L]``.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from .data import RGB, as_rgb, golden_spiral_sphere, palette_triple_means, sample_sphere_points
from .paths import interpolate

__all__ = [
    "radial_error",
    "chamfer_distance",
    "mean_color",
    "color_spread",
    "color_distance",
    "dominant_channel",
    "has_dominant_channel",
    "dominant_channel_probability",
    "best_of_l_bound",
    "relative_velocity_error",
    "weighted_mean",
]


def radial_error(x: Tensor, radius: float = 1.0) -> Tensor:
    """mean_i | |xyz_i| - R |: how far points sit from the sphere's surface."""
    return (x[..., :3].norm(dim=-1) - radius).abs().mean(-1)


def chamfer_distance(x: Tensor, reference: Tensor | None = None) -> Tensor:
    """Symmetric Chamfer distance (mean nearest-neighbour distance, both ways, averaged) to ``reference [M, 3]``.

    The default reference is the golden-spiral sphere with as many points as each cloud. Unlike
    the radial error it also sees coverage: a ring on the sphere has zero radial error but a
    large Chamfer distance.
    """
    xyz = x[..., :3]
    ref = golden_spiral_sphere(xyz.shape[-2]) if reference is None else reference
    d = torch.cdist(xyz, ref.to(xyz).expand(*xyz.shape[:-2], *ref.shape))  # [L, N, M]
    return 0.5 * (d.min(-1).values.mean(-1) + d.min(-2).values.mean(-1))


def mean_color(x: Tensor) -> Tensor:
    """Cloud mean color m: ``[L, 3]``."""
    return x[..., RGB].mean(-2)


def color_spread(x: Tensor) -> Tensor:
    """RMS distance of the colors from their cloud's mean: 0 for a single-colored cloud."""
    c = x[..., RGB]
    return (c - c.mean(-2, keepdim=True)).pow(2).sum(-1).mean(-1).sqrt()


def color_distance(x: Tensor, target: str | Sequence[float] | Tensor) -> Tensor:
    """|m - target| with target a palette name or an RGB triple."""
    return (mean_color(x) - as_rgb(target).to(x)).norm(dim=-1)


def dominant_channel(x: Tensor) -> Tensor:
    """Index (0 = red, 1 = green, 2 = blue) of the largest channel of the mean color: ``[L]``."""
    return mean_color(x).argmax(-1)


def has_dominant_channel(x: Tensor, channel: int, margin: float = 0.1) -> Tensor:
    """Whether the mean color's ``channel`` exceeds both others by at least ``margin``: ``[L]`` bool.

    Palette means are multiples of 1/3, so a margin of 0.1 counts the strict winners and refuses
    ties (gray-ish clouds whose argmax only the jitter decides).
    """
    m = mean_color(x)
    others = torch.cat([m[..., :channel], m[..., channel + 1 :]], dim=-1)
    return m[..., channel] >= others.max(dim=-1).values + margin


def dominant_channel_probability(channel: int) -> float:
    """P(a noise cloud's mean color has ``channel`` strictly largest), exact over the 56 palette triples.

    This is the chance that one particle can succeed under :func:`has_dominant_channel`, since the
    color expert never moves a cloud's mean color (10/56 for each of red, green and blue).
    """
    means = palette_triple_means()
    others = torch.cat([means[:, :channel], means[:, channel + 1 :]], dim=1)
    strictly = means[:, channel] > others.max(dim=1).values + 1e-9
    return float(strictly.double().mean())


def best_of_l_bound(p: float, n_particles: int) -> float:
    """1 - (1 - p)^L: the chance that at least one of L independent particles succeeds."""
    return 1.0 - (1.0 - p) ** n_particles


@torch.no_grad()
def relative_velocity_error(expert, reference, t: float, n_points: int = 20_000, seed: int = 123) -> float:
    """|v - v_ref| / |v_ref| over n points x_t = (1 - t) x_0 + t eps of the unit sphere's path at time t.

    Both experts are evaluated on states ``[n, 3]``; only the columns the reference moves count.
    """
    g = torch.Generator().manual_seed(seed)
    x = interpolate(sample_sphere_points(n_points, generator=g), torch.randn(n_points, 3, generator=g), t)
    exact = reference.velocity(x, t)
    moved = exact.abs().sum(0) > 0
    return float((expert.velocity(x, t)[:, moved] - exact[:, moved]).norm() / exact[:, moved].norm())


def weighted_mean(values: Tensor, log_weights: Tensor | None = None) -> Tensor:
    """sum_l W_l values_l for normalised log-weights ``[L]`` (equal weights if None): ``[L, ...] -> [...]``.

    The estimate a weighted sampler's output stands for: the particles alone are not samples of
    the target unless the weights are equal.
    """
    if log_weights is None:
        return values.mean(0)
    w = log_weights.exp().to(values)
    return (w.view(-1, *[1] * (values.ndim - 1)) * values).sum(0)
