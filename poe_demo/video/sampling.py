"""Clips from the video expert alone, composed with the physics engine and a goal, or picked best-of-N.

The composed target is p_video(x) r_physics(x) r_goal(x) (either reward may be left out),
sampled by the annealed sampler as in the digits lesson; best-of-N draws N clips from the
video expert by the Euler ODE, at no less than the annealed run's network evaluations
(:func:`~poe_demo.equal_cost.euler_samples_at_equal_cost`), and keeps the one the same rewards
rank highest. Both return one clip per run, which :func:`~poe_demo.video.judge.judge` grades.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ..equal_cost import Side, compare_on_seeds, euler_samples_at_equal_cost
from ..samplers import AISResult, annealed_importance_sampling, euler
from ..samplers.transitions import total_log_reward
from .expert import VideoFlowNet, noise, video_expert
from .judge import judge
from .rewards import GoalReward

__all__ = ["STEERING", "sample_clips", "best_of_n_clip", "trial_verdict", "compare_samplers"]

STEERING = {"tempering": "none", "time_power": 1.0}  # as the digits lesson steers


def sample_clips(
    net: VideoFlowNet,
    rewards: Sequence = (),
    n_particles: int = 8,
    n_steps: int = 16,
    n_mcmc_steps: int = 1,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
) -> AISResult:
    """The annealed sampler on the video expert times ``rewards`` (e.g. ``[PhysicsReward(), GoalReward()]``),
    from noise ``[n_particles, F, H, W]``; ``result.best`` is the clip the rewards rank highest."""
    options = STEERING if rewards else {}
    return annealed_importance_sampling(
        [video_expert(net)],
        list(rewards) or None,
        noise(n_particles, generator, device),
        n_steps,
        n_mcmc_steps,
        generator=generator,
        **options,
    )


@torch.no_grad()
def best_of_n_clip(
    net: VideoFlowNet, rewards: Sequence, n: int, n_steps: int = 16, generator: torch.Generator | None = None
) -> Tensor:
    """Of ``n`` Euler clips of the video expert, the one ``rewards`` rank highest: ``[F, H, W]``."""
    clips = euler([video_expert(net)], noise(n, generator), n_steps, time_power=STEERING["time_power"]).particles
    return clips[int(total_log_reward(list(rewards), clips).argmax())]


def trial_verdict(clip: Tensor, goal: GoalReward | None = None) -> dict[str, bool]:
    """The judge on one clip ``[F, H, W]``: {"ball": a ball in every frame, "physical": ..., "goal": ...}."""
    verdict = judge(clip[None], goal)
    out = {"ball": verdict.ball_frames == 1.0, "physical": verdict.physical.successes == 1}
    if goal is not None:
        out["goal"] = verdict.goal.successes == 1
    return out


def compare_samplers(
    net: VideoFlowNet,
    rewards: Sequence,
    goal: GoalReward | None,
    seeds: Sequence[int],
    n_particles: int = 8,
    n_steps: int = 16,
    n_mcmc_steps: int = 1,
    n: int | None = None,
) -> dict[str, Side]:
    """{"annealed", "best_of_n"}: the composed sampler and best-of-N under the same ``rewards``, on the same
    seeds and taking turns (:func:`~poe_demo.equal_cost.compare_on_seeds`), each returned clip judged
    (:func:`trial_verdict`, with ``goal`` if given); each side's wall seconds per run. Best-of-N draws
    ``n`` clips (default: the count at equal network evaluations; ``benchmarks/video.py`` raises it
    to equal seconds)."""
    n = euler_samples_at_equal_cost(n_particles, n_mcmc_steps, n_steps) if n is None else n

    def annealed(seed: int) -> dict[str, bool]:
        result = sample_clips(net, rewards, n_particles, n_steps, n_mcmc_steps, torch.Generator().manual_seed(seed))
        return trial_verdict(result.best, goal)

    def best_of_n(seed: int) -> dict[str, bool]:
        return trial_verdict(best_of_n_clip(net, rewards, n, n_steps, torch.Generator().manual_seed(seed)), goal)

    return compare_on_seeds({"annealed": annealed, "best_of_n": best_of_n}, seeds)
