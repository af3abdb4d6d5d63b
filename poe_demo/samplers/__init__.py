"""Samplers for a product of experts, and the pieces they are built from."""

from .ais import (
    WEIGHTINGS,
    AISResult,
    AISState,
    ais_evaluations_per_level,
    ais_init,
    ais_level,
    annealed_importance_sampling,
    resample_state,
)
from .euler import EulerResult, euler
from .langevin import langevin_dynamics
from .rejection import RejectionResult, rejection_sampling
from .transitions import (
    METROPOLIS_RULES,
    Evaluation,
    combine,
    curvature,
    evaluate,
    evaluate_each,
    langevin_refine,
    log_density_difference,
    mala_log_alpha,
    ode_step,
    start_log_weights,
    summed_score,
    summed_velocity,
    time_grid,
    total_log_reward,
    velocity_mismatch,
)
from .weights import TEMPERINGS, mismatch_increment

__all__ = [
    "AISResult",
    "Evaluation",
    "METROPOLIS_RULES",
    "TEMPERINGS",
    "combine",
    "evaluate",
    "evaluate_each",
    "AISState",
    "EulerResult",
    "RejectionResult",
    "WEIGHTINGS",
    "ais_evaluations_per_level",
    "ais_init",
    "ais_level",
    "annealed_importance_sampling",
    "curvature",
    "euler",
    "langevin_dynamics",
    "langevin_refine",
    "log_density_difference",
    "mala_log_alpha",
    "mismatch_increment",
    "ode_step",
    "rejection_sampling",
    "start_log_weights",
    "resample_state",
    "summed_score",
    "summed_velocity",
    "time_grid",
    "total_log_reward",
    "velocity_mismatch",
]
