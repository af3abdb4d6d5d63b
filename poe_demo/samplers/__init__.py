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
    Evaluation,
    evaluate,
    curvature,
    langevin_refine,
    log_density_difference,
    ode_step,
    summed_score,
    summed_velocity,
    time_grid,
    total_log_reward,
)

__all__ = [
    "AISResult",
    "Evaluation",
    "evaluate",
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
    "ode_step",
    "rejection_sampling",
    "resample_state",
    "summed_score",
    "summed_velocity",
    "time_grid",
    "total_log_reward",
]
