"""Samplers for a product of experts, and the pieces they are built from."""

from .ais import AISResult, ais_batch, ais_calls, ais_evaluations, ais_init, ais_step, annealed_importance_sampling
from .euler import EulerResult, euler
from .langevin import langevin_dynamics
from .levels import LEVELS, incremental_level, next_curvature, paper_level
from .mala import (
    METROPOLIS_RULES,
    SHARED_CALL_LIMIT,
    Refinement,
    curvature,
    langevin_refine,
    log_density_difference,
    mala_log_alpha,
    midpoint_shares_call,
)
from .range_check import outside_range
from .rejection import RejectionResult, rejection_sampling
from .state import WEIGHTINGS, AISConfig, AISState, LevelInfo, resample_state
from .transitions import (
    Evaluation,
    combine,
    evaluate,
    evaluate_each,
    exponents,
    ode_step,
    start,
    start_log_weights,
    summed_score,
    summed_velocity,
    time_grid,
    total_exponents,
    total_log_reward,
    velocity_mismatch,
)
from .weights import TEMPERINGS, mismatch_increment

__all__ = [
    "AISConfig",
    "AISResult",
    "AISState",
    "Evaluation",
    "EulerResult",
    "LEVELS",
    "LevelInfo",
    "METROPOLIS_RULES",
    "Refinement",
    "RejectionResult",
    "SHARED_CALL_LIMIT",
    "TEMPERINGS",
    "WEIGHTINGS",
    "ais_batch",
    "ais_calls",
    "ais_evaluations",
    "ais_init",
    "ais_step",
    "annealed_importance_sampling",
    "combine",
    "curvature",
    "euler",
    "evaluate",
    "evaluate_each",
    "exponents",
    "incremental_level",
    "langevin_dynamics",
    "langevin_refine",
    "log_density_difference",
    "mala_log_alpha",
    "midpoint_shares_call",
    "mismatch_increment",
    "next_curvature",
    "ode_step",
    "outside_range",
    "paper_level",
    "rejection_sampling",
    "resample_state",
    "start",
    "start_log_weights",
    "summed_score",
    "summed_velocity",
    "time_grid",
    "total_exponents",
    "total_log_reward",
    "velocity_mismatch",
]
