"""poe_demo: Product of Experts for Visual Generation (Zhang et al., 2025), on a colored point-cloud sphere.

Modules, from the bottom up: ``data`` (spheres, palette noise), ``paths`` (the linear path and
its conversions), ``conventions`` (other paths mapped onto it), ``experts`` (generative experts,
and adapters for your own models), ``rewards`` (discriminative experts), ``smc`` (weights,
ESS, resampling), ``samplers`` (Euler, annealed importance sampling, rejection sampling),
``metrics``, ``plotting``, ``widgets`` and ``cli``.
"""

from . import conventions, data, experts, metrics, paths, rewards, samplers, smc
from .data import PALETTE, sample_noise, sample_spheres
from .experts import (
    AxisFlowExpert,
    ColorMeanExpert,
    ColorMixtureExpert,
    ExactSphereExpert,
    GaussianExpert,
    load_axis_experts,
)
from .rewards import ColorReward, GaussianReward
from .runtime import configure_cpu
from .samplers import AISResult, EulerResult, annealed_importance_sampling, euler, rejection_sampling

__version__ = "0.1.0"

__all__ = [
    "AISResult",
    "AxisFlowExpert",
    "ColorMeanExpert",
    "ColorMixtureExpert",
    "ColorReward",
    "EulerResult",
    "ExactSphereExpert",
    "GaussianExpert",
    "GaussianReward",
    "PALETTE",
    "annealed_importance_sampling",
    "configure_cpu",
    "conventions",
    "data",
    "euler",
    "experts",
    "load_axis_experts",
    "metrics",
    "paths",
    "rejection_sampling",
    "rewards",
    "sample_noise",
    "sample_spheres",
    "samplers",
    "smc",
]
