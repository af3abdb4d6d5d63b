"""Experiments shared by the notebooks and the benchmarks: composed sphere experts, steering trials.

Steering success is judged on the paper's output, the highest-reward particle: a trial succeeds
when its mean color's target channel leads the other two by at least 0.1 (:func:`has_dominant_channel`).
``ColorMeanExpert`` never changes a cloud's mean color, so with it a trial can only succeed if
some particle *started* with the right mean: a sampler limited to L independent starting clouds
succeeds at most at the rate 1 - (1 - p)^L (:func:`~poe_demo.metrics.best_of_l_bound`).
``ColorMixtureExpert`` decides the color along the path, so the bound does not hold for it. The
baselines are given the annealed run's number of expert evaluations
(:func:`~poe_demo.equal_cost.euler_samples_at_equal_cost`), which buys them more starting clouds than L.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch

from .data import sample_noise
from .equal_cost import Rate, euler_samples_at_equal_cost
from .experts import (
    BatchedAxisExperts,
    ColorMeanExpert,
    ColorMixtureExpert,
    ExactSphereExpert,
    GenerativeExpert,
    load_axis_experts,
)
from .metrics import has_dominant_channel
from .rewards import ColorReward
from .samplers import annealed_importance_sampling, euler, rejection_sampling

__all__ = [
    "CHANNELS",
    "COLOR_EXPERTS",
    "sphere_experts",
    "color_noise_of",
    "oracle_experts",
    "steering_trial",
    "chance_per_cloud",
    "best_of_n_trial",
    "rejection_trial",
    "success_rate",
    "success_curve",
]

CHANNELS = ("red", "green", "blue")

# Each color expert with the sampler settings its steered runs were measured with (README,
# "Steering when the color is decided along the path"). ColorMixtureExpert decides a cloud's color
# early along the path, so its reward must act there: untempered, on an even time grid.
# ColorMeanExpert's color is fixed by the noise, and the sampler's defaults serve it.
COLOR_EXPERTS = {
    "mean": (ColorMeanExpert, {}),
    "mixture": (ColorMixtureExpert, {"tempering": "none", "time_power": 1.0}),
}


def sphere_experts(
    axis_experts: dict | None = None, batched: bool = True, color: GenerativeExpert | None = None
) -> list[GenerativeExpert]:
    """The composition of the notebooks: trained x, y, z experts and a color expert (``ColorMeanExpert()``
    unless ``color`` is given; sample its noise with :func:`color_noise_of`).

    With ``batched`` (the default) the three axis experts run as one :class:`BatchedAxisExperts`,
    which gives the same velocities and scores in about half the time; ``batched=False`` lists
    the four experts one by one.
    """
    axis = load_axis_experts() if axis_experts is None else axis_experts
    if not isinstance(axis, dict) or set(axis) != {"x", "y", "z"}:
        raise ValueError(f"axis_experts must be a dict with keys 'x', 'y', 'z' (load_axis_experts()), got {axis!r}")
    separate = [axis["x"], axis["y"], axis["z"]]
    return [*([BatchedAxisExperts(separate)] if batched else separate), ColorMeanExpert() if color is None else color]


def color_noise_of(generative: Sequence[GenerativeExpert]) -> str:
    """The rgb noise the composition starts from: the ``color_noise`` its color expert names ("palette" if none)."""
    return next((e.color_noise for e in generative if hasattr(e, "color_noise")), "palette")


def oracle_experts() -> list[GenerativeExpert]:
    """The same composition with the exact sphere velocity per axis: the ceiling for trained experts."""
    return [ExactSphereExpert("x"), ExactSphereExpert("y"), ExactSphereExpert("z"), ColorMeanExpert()]


def _target_channel(color: str) -> int:
    """Trials judge a dominant channel, so the target must be red, green or blue."""
    if color not in CHANNELS:
        raise ValueError(f"trials judge a dominant channel: color must be one of {CHANNELS}, got {color!r}")
    return CHANNELS.index(color)


def steering_trial(
    generative: Sequence[GenerativeExpert],
    color: str,
    n_particles: int,
    seed: int,
    n_points: int = 64,
    n_steps: int = 16,
    n_mcmc_steps: int = 1,
    shared_start: bool = False,
    strength: float = 10.0,
    **sampler_options,
) -> bool:
    """One seeded run steered to ``color`` (red, green or blue): did the best particle come out that color?

    ``shared_start=True`` starts every particle from the same noise cloud, i.e. importance
    sampling over L correlated rollouts of one start instead of L independent starts.
    ``strength`` is the reward's (:class:`~poe_demo.rewards.ColorReward`); ``sampler_options``
    (``weighting``, ``tempering``, ``time_power``, ...) go to :func:`annealed_importance_sampling`.
    """
    channel = _target_channel(color)
    g = torch.Generator().manual_seed(seed)
    noise = sample_noise(1 if shared_start else n_particles, n_points, g, color_noise_of(generative))
    noise = noise.expand(n_particles, -1, -1).clone() if shared_start else noise
    result = annealed_importance_sampling(
        generative, ColorReward(color, strength), noise, n_steps, n_mcmc_steps, generator=g, **sampler_options
    )
    return bool(has_dominant_channel(result.best[None], channel)[0])


def chance_per_cloud(
    generative: Sequence[GenerativeExpert],
    color: str,
    n_clouds: int,
    n_points: int = 64,
    n_steps: int = 64,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """(p, its standard error): the fraction of unsteered Euler clouds that pass the success test for ``color``.

    The chance that one independent start succeeds, measured with the same test
    (:func:`~poe_demo.metrics.has_dominant_channel`) the trials use, so 1 - (1 - p)^N is what N
    independent samples would reach if the best one were always picked.
    """
    clouds = _euler_sampler(generative, n_points, n_steps)(n_clouds, generator)
    chance = Rate.of(has_dominant_channel(clouds, _target_channel(color)).tolist())
    return chance.rate, chance.se


def _euler_sampler(generative: Sequence[GenerativeExpert], n_points: int, n_steps: int):
    """``propose(n, generator) -> [n, N, 6]``: n independent Euler samples (T evaluations each)."""
    noise = color_noise_of(generative)
    return lambda n, generator: euler(generative, sample_noise(n, n_points, generator, noise), n_steps).particles


def best_of_n_trial(
    generative: Sequence[GenerativeExpert],
    color: str,
    n_particles: int,
    seed: int,
    n_points: int = 64,
    n_steps: int = 16,
    n_mcmc_steps: int = 1,
    strength: float = 10.0,
) -> bool:
    """Best-of-N at the cost of an annealed run with L particles: is the highest-reward Euler sample ``color``?

    N = :func:`~poe_demo.equal_cost.euler_samples_at_equal_cost` independent Euler samples, the one with the highest
    reward returned: the strongest simple baseline for steering.
    """
    channel = _target_channel(color)
    g = torch.Generator().manual_seed(seed)
    n = euler_samples_at_equal_cost(n_particles, n_mcmc_steps, n_steps)
    clouds = _euler_sampler(generative, n_points, n_steps)(n, g)
    best = clouds[int(torch.argmax(ColorReward(color, strength).log_reward(clouds)))]
    return bool(has_dominant_channel(best[None], channel)[0])


def rejection_trial(
    generative: Sequence[GenerativeExpert],
    color: str,
    n_particles: int,
    seed: int,
    n_points: int = 64,
    n_steps: int = 16,
    n_mcmc_steps: int = 1,
) -> bool:
    """Rejection sampling at the cost of an annealed run with L particles: did it return a cloud of ``color``?

    N = :func:`~poe_demo.equal_cost.euler_samples_at_equal_cost` Euler proposals, each kept with probability exp(r(x))
    (r <= 0). It returns the first kept proposal, and fails if it keeps none.
    """
    channel = _target_channel(color)
    g = torch.Generator().manual_seed(seed)
    reward = ColorReward(color)
    result = rejection_sampling(
        _euler_sampler(generative, n_points, n_steps),
        reward.log_reward,
        euler_samples_at_equal_cost(n_particles, n_mcmc_steps, n_steps),
        g,
    )
    return len(result.samples) > 0 and bool(has_dominant_channel(result.samples[:1], channel)[0])


def success_rate(
    generative, color: str, n_particles: int, seeds: Iterable[int], trial=steering_trial, **kwargs
) -> float:
    """Fraction of seeded trials (:func:`steering_trial` or :func:`rejection_trial`) that succeed."""
    return Rate.of(trial(generative, color, n_particles, seed, **kwargs) for seed in seeds).rate


def success_curve(
    generative, color: str, particle_counts: Iterable[int], seeds: Sequence[int], **kwargs
) -> dict[int, float]:
    """{L: success rate over the seeds} for each particle count (keyword arguments go to :func:`success_rate`)."""
    return {n: success_rate(generative, color, n, seeds, **kwargs) for n in particle_counts}
