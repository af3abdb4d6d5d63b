"""The toy data: colored point-cloud spheres, and the noise they are generated from.

A point cloud is a tensor ``[..., N, 6]``: xyz in columns 0-2, rgb in columns 3-5. A batch of
L clouds (the sampler's particles) is ``[L, N, 6]``.

xyz noise is standard Gaussian. Color noise is not: the mean of N Gaussian colors is gray for
every cloud, so every cloud would end up the same color. Instead each noise cloud picks three
distinct colors of the 8-color palette (the corners of the RGB cube), paints a third of its
points with each, and adds a little Gaussian jitter. The cloud's mean color then carries
information: it is (up to the jitter) the mean of its three palette colors.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Sequence

import torch
from torch import Tensor

from .colors import PALETTE, parse_color
from .validation import check_count

__all__ = [
    "PALETTE",
    "COLOR_JITTER",
    "COLOR_NOISES",
    "XYZ",
    "RGB",
    "as_rgb",
    "golden_spiral_sphere",
    "sample_sphere_points",
    "sample_noise",
    "sample_spheres",
    "palette_triple_means",
]

XYZ = slice(0, 3)
RGB = slice(3, 6)
COLOR_JITTER = 0.05


def _palette_tensor(device=None) -> Tensor:
    return torch.tensor(list(PALETTE.values()), device=device)  # [8, 3]


def as_rgb(color: str | Sequence[float] | Tensor) -> Tensor:
    """A palette name, an RGB triple in [0, 1] (also as text: '1,0,0'), or a hex color '#ff0000' -> ``[3]``."""
    if isinstance(color, str):
        return torch.tensor(parse_color(color))
    try:
        rgb = torch.as_tensor(color, dtype=torch.float32).flatten()
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"color must be a palette name or an RGB triple, got {color!r}") from None
    if rgb.numel() != 3 or not bool(((rgb >= 0) & (rgb <= 1)).all()):
        raise ValueError(f"an RGB color needs 3 values in [0, 1], got {rgb.tolist()}")
    return rgb


def golden_spiral_sphere(n_points: int, radius: float = 1.0) -> Tensor:
    """N nearly evenly spread points on a sphere centred at the origin (Fibonacci lattice): ``[N, 3]``."""
    check_count("n_points", n_points, minimum=1)
    i = torch.arange(n_points, dtype=torch.float64) + 0.5
    z = 1 - 2 * i / n_points
    rho = torch.sqrt(1 - z**2)
    phi = math.pi * (3 - math.sqrt(5)) * i  # golden angle: no two points line up in longitude
    xyz = torch.stack([rho * torch.cos(phi), rho * torch.sin(phi), z], dim=-1)
    return (radius * xyz).float()


def sample_sphere_points(n: int, radius: float = 1.0, generator: torch.Generator | None = None) -> Tensor:
    """n i.i.d. points uniform on the sphere (a normalised Gaussian is isotropic): ``[n, 3]``."""
    g = torch.randn(n, 3, generator=generator)
    return radius * g / g.norm(dim=-1, keepdim=True)


def _paint(n_clouds: int, n_points: int, generator: torch.Generator | None) -> Tensor:
    """Three distinct palette colors per cloud, each on a random third of its points: ``[L, N, 3]``."""
    palette = _palette_tensor()
    chosen = torch.rand(n_clouds, len(PALETTE), generator=generator).argsort(dim=1)[:, :3]  # [L, 3]
    slot = torch.rand(n_clouds, n_points, generator=generator).argsort(dim=1) % 3  # balanced thirds
    return palette[chosen.gather(1, slot)]


COLOR_NOISES = ("palette", "gaussian")


def sample_noise(
    n_clouds: int, n_points: int, generator: torch.Generator | None = None, color_noise: str = "palette"
) -> Tensor:
    """The sampler's starting point, eps: ``[L, N, 6]``, Gaussian xyz and rgb from ``color_noise``.

    "palette" (for ``ColorMeanExpert``): three palette colors per cloud plus jitter. "gaussian"
    (for ``ColorMixtureExpert``): N(0, 1) like xyz. Each color expert names its own noise in its
    ``color_noise`` attribute.
    """
    check_count("n_clouds", n_clouds, minimum=1)
    check_count("n_points", n_points, minimum=1)
    if color_noise not in COLOR_NOISES:
        raise ValueError(f"color_noise must be one of {COLOR_NOISES}, got {color_noise!r}")
    xyz = torch.randn(n_clouds, n_points, 3, generator=generator)
    if color_noise == "gaussian":
        return torch.cat([xyz, torch.randn(n_clouds, n_points, 3, generator=generator)], dim=-1)
    rgb = _paint(n_clouds, n_points, generator)
    rgb = rgb + COLOR_JITTER * torch.randn(n_clouds, n_points, 3, generator=generator)
    return torch.cat([xyz, rgb], dim=-1)


def sample_spheres(n_clouds: int, n_points: int, generator: torch.Generator | None = None) -> Tensor:
    """Ground-truth clouds: the golden-spiral unit sphere painted with three palette colors, ``[L, N, 6]``."""
    check_count("n_clouds", n_clouds, minimum=1)
    xyz = golden_spiral_sphere(n_points).expand(n_clouds, -1, -1)
    return torch.cat([xyz, _paint(n_clouds, n_points, generator)], dim=-1)


def palette_triple_means() -> Tensor:
    """Mean color of every unordered triple of distinct palette colors: ``[56, 3]``, equally likely.

    A noise cloud's mean color is one of these (plus jitter of std ``COLOR_JITTER / sqrt(N)``),
    each with probability 1/56, which makes color statistics of the noise exactly computable.
    """
    palette = _palette_tensor()
    return torch.stack([palette[list(c)].mean(0) for c in combinations(range(len(PALETTE)), 3)])
