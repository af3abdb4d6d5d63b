"""Experts: generative (velocity + score) and the data they know."""

from .adapters import DiscreteSchedule, FlowSchedule, ModelExpert, Schedule, from_diffusers, network_memory
from .axis import AxisFlowExpert, BatchedAxisExperts, TrainingConfig, radial_features, train_axis_expert
from .base import DiscriminativeExpert, GenerativeExpert, JointExpert
from .color import PALETTE_NOISE_SPREAD, ColorMeanExpert, ColorMixtureExpert
from .gaussian import (
    GaussianExpert,
    GaussianMixtureExpert,
    IsotropicMixtureExpert,
    check_normalizable,
    gaussian_product,
    mixture_flow,
)
from .power import Composable, Power, Product, base_of, exponent_of, power
from .pretrained import CheckpointError, load_axis_experts, save_axis_experts, train_and_save
from .sphere import ExactSphereExpert, sphere_posterior_mean, von_mises_fisher_mean

__all__ = [
    "AxisFlowExpert",
    "BatchedAxisExperts",
    "CheckpointError",
    "Composable",
    "ColorMeanExpert",
    "DiscreteSchedule",
    "ColorMixtureExpert",
    "DiscriminativeExpert",
    "ExactSphereExpert",
    "FlowSchedule",
    "GaussianExpert",
    "GaussianMixtureExpert",
    "GenerativeExpert",
    "IsotropicMixtureExpert",
    "JointExpert",
    "ModelExpert",
    "PALETTE_NOISE_SPREAD",
    "Power",
    "Product",
    "Schedule",
    "TrainingConfig",
    "base_of",
    "check_normalizable",
    "exponent_of",
    "from_diffusers",
    "network_memory",
    "gaussian_product",
    "load_axis_experts",
    "mixture_flow",
    "power",
    "radial_features",
    "save_axis_experts",
    "sphere_posterior_mean",
    "train_and_save",
    "train_axis_expert",
    "von_mises_fisher_mean",
]
