"""poe_demo: Product of Experts for Visual Generation (Zhang et al., 2025), on a point-cloud sphere and digits.

Modules, from the bottom up: ``data`` (spheres, palette noise), ``paths`` (the linear path and
its conversions), ``conventions`` (other paths mapped onto it), ``experts`` (generative experts,
and adapters for your own models), ``rewards`` (discriminative experts), ``smc`` (weights,
ESS, resampling), ``samplers`` (Euler, annealed importance sampling, rejection sampling),
``metrics``, ``plotting``, ``widgets`` and ``cli``.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Names are imported on first use (PEP 562), so `poe-demo --help` starts without loading torch;
# `from poe_demo import GaussianExpert` and `poe_demo.samplers` work as usual.
_SUBMODULES = ("conventions", "data", "experts", "metrics", "paths", "rewards", "samplers", "smc")
_HOMES = {
    "AISResult": "samplers",
    "AxisFlowExpert": "experts",
    "ColorMeanExpert": "experts",
    "ColorMixtureExpert": "experts",
    "ColorReward": "rewards",
    "EulerResult": "samplers",
    "ExactSphereExpert": "experts",
    "GaussianExpert": "experts",
    "GaussianReward": "rewards",
    "PALETTE": "data",
    "annealed_importance_sampling": "samplers",
    "configure_cpu": "runtime",
    "euler": "samplers",
    "load_axis_experts": "experts",
    "power": "experts",
    "rejection_sampling": "samplers",
    "sample_noise": "data",
    "sample_spheres": "data",
}

__all__ = sorted([*_HOMES, *_SUBMODULES])


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'poe_demo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
