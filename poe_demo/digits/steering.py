"""Digits as experts, and steering them: the image lesson's experiments (notebook 6, ``poe-demo digits``, benchmarks).

A flow network becomes a generative expert through the plain-module adapter
(:class:`~poe_demo.experts.ModelExpert` with a :class:`~poe_demo.experts.FlowSchedule`), the path a
user's own model takes; the reward classifier becomes a discriminative expert
(:class:`~poe_demo.rewards.ClassifierReward`), and the judge, trained on other images with
another architecture, only grades. Images are ``[L, 1, 14, 14]`` in [-1, 1] inside the sampler.

Steering uses the settings measured for a choice made along the path (a digit, like
``ColorMixtureExpert``'s color): an untempered reward, an even time grid.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..equal_cost import compare_on_seeds, euler_samples_at_equal_cost
from ..experts import FlowSchedule, ModelExpert
from ..paths import x_hat_from_velocity
from ..rewards import ClassifierReward
from ..samplers import AISResult, annealed_importance_sampling, euler
from .data import SIZE

__all__ = [
    "STEERING",
    "STRENGTH",
    "flow_expert",
    "digit_reward",
    "noise",
    "sample_digits",
    "verdicts",
    "steering_trial",
    "best_of_n_trial",
    "success_rates",
    "x_hat_path",
]

STEERING = {"tempering": "none", "time_power": 1.0}
STRENGTH = 3.0  # the reward is p(digit | x_hat)^3: sharp enough to steer, not so sharp that one particle wins at once


def flow_expert(net: torch.nn.Module) -> ModelExpert:
    """A :class:`~poe_demo.digits.nets.FlowNet` as a generative expert: it predicts eps - x_0 at timestep 1000 t."""
    return ModelExpert(net, FlowSchedule(1000), "flow")


def digit_reward(
    classifier: torch.nn.Module, digit: int | tuple[int, ...], strength: float = STRENGTH
) -> ClassifierReward:
    """log r(x) = strength * log p(digit | x) under ``classifier`` (logits ``[n, 10]`` for images in
    [-1, 1], such as the shipped ``load_digit_models()["reward"]``); for a tuple of digits, the
    probability of any of them (a concept such as "0, 2 or 4")."""
    digits = (digit,) if isinstance(digit, int) and not isinstance(digit, bool) else tuple(digit)
    if not digits or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 9 for d in digits):
        raise ValueError(f"digit must be an integer from 0 to 9 or a tuple of them, got {digit!r}")
    return ClassifierReward(classifier, digits, strength, data_range=(-1.0, 1.0))


def noise(n: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu") -> Tensor:
    """Starting noise ``[n, 1, 14, 14]``, N(0, I)."""
    return torch.randn(n, 1, SIZE, SIZE, generator=generator).to(device)


def sample_digits(
    experts,
    reward: ClassifierReward | None = None,
    n_particles: int = 16,
    n_steps: int = 32,
    n_mcmc_steps: int = 2,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
    **sampler_options,
) -> AISResult:
    """The annealed sampler on ``experts`` (one generative expert, a list, or a
    :class:`~poe_demo.experts.Product` from :func:`~poe_demo.digits.compose.parse_product`) times
    ``reward`` (``None``: none; else e.g. :func:`digit_reward`), from noise ``[n_particles, 1, 14, 14]``
    drawn from ``generator`` before the sampler uses it. With a reward, the steering settings
    :data:`STEERING` apply unless ``sampler_options`` say otherwise."""
    if n_particles < 1:
        raise ValueError(f"n_particles must be >= 1, got {n_particles}")
    generative = [experts] if callable(getattr(experts, "velocity", None)) else experts
    options = {**(STEERING if reward is not None else {}), **sampler_options}
    return annealed_importance_sampling(
        generative, reward, noise(n_particles, generator, device), n_steps, n_mcmc_steps, generator=generator, **options
    )


@torch.no_grad()
def verdicts(classifier: torch.nn.Module, images: Tensor) -> tuple[Tensor, Tensor]:
    """(label ``[n]``, probability of that label ``[n]``) a classifier gives images ``[n, 1, 14, 14]`` in [-1, 1]."""
    probabilities = classifier(images.clamp(-1, 1)).softmax(dim=1)
    confidence, label = probabilities.max(dim=1)
    return label, confidence


def _trial(models: dict, image: Tensor, digit: int) -> dict[str, bool]:
    """Did ``image`` show ``digit``, by the judge and by the reward classifier: {"judge", "reward"}."""
    by_judge, _ = verdicts(models["judge"], image[None])
    by_reward, _ = verdicts(models["reward"], image[None])
    return {"judge": bool(by_judge[0] == digit), "reward": bool(by_reward[0] == digit)}


def steering_trial(
    models: dict, digit: int, n_particles: int, seed: int, n_steps: int = 32, n_mcmc_steps: int = 2
) -> dict[str, bool]:
    """One seeded annealed run steered to ``digit``; its highest-reward particle, graded by both classifiers."""
    g = torch.Generator().manual_seed(seed)
    expert, reward = flow_expert(models["flow_all"]), digit_reward(models["reward"], digit)
    result = sample_digits(expert, reward, n_particles, n_steps, n_mcmc_steps, g)
    return _trial(models, result.best, digit)


@torch.no_grad()
def best_of_n_trial(
    models: dict, digit: int, n_particles: int, seed: int, n_steps: int = 32, n_mcmc_steps: int = 2
) -> dict[str, bool]:
    """Best-of-N at no less than an annealed run's cost: N = :func:`~poe_demo.equal_cost.euler_samples_at_equal_cost`
    Euler samples of the flow expert, the one the reward ranks highest, graded by both classifiers."""
    g = torch.Generator().manual_seed(seed)
    n = euler_samples_at_equal_cost(n_particles, n_mcmc_steps, n_steps)
    samples = euler([flow_expert(models["flow_all"])], noise(n, g), n_steps, time_power=STEERING["time_power"])
    images = samples.particles
    best = images[int(digit_reward(models["reward"], digit).log_reward(images).argmax())]
    return _trial(models, best, digit)


def success_rates(models: dict, counts: list[int], trials: int, n_steps: int = 32, n_mcmc_steps: int = 2) -> dict:
    """{L: {"N", "annealed", "best_of_n"}} for each particle count L: trial i asks for digit i mod 10
    (seed 1000 L + i), both methods on the same seeds, taking turns
    (:func:`~poe_demo.equal_cost.compare_on_seeds`); each method's success by the judge and by the
    reward classifier ({"rate", "se"}), and its seconds per run. N is best-of-N's sample count."""
    rows = {}
    for n_particles in counts:

        def asking(trial):  # trial i: digit i mod 10, seed 1000 L + i (used within this iteration)
            return lambda i: trial(models, i % 10, n_particles, 1000 * n_particles + i, n_steps, n_mcmc_steps)

        trials_of = {"annealed": asking(steering_trial), "best_of_n": asking(best_of_n_trial)}
        sides = compare_on_seeds(trials_of, range(trials))
        rows[n_particles] = {"N": euler_samples_at_equal_cost(n_particles, n_mcmc_steps, n_steps)} | {
            name: {
                **{grader: {"rate": r.rate, "se": r.se} for grader, r in side.rates.items()},
                "seconds_per_run": side.seconds,
            }
            for name, side in sides.items()
        }
    return rows


@torch.no_grad()
def x_hat_path(expert, path: Tensor, times: Tensor) -> Tensor:
    """x_hat = x - t v(x, t) of one particle at each level: ``path [T + 1, 1, 14, 14]`` (``AISResult.lineage``)
    and ``times [T + 1]`` -> ``[T + 1, 1, 14, 14]``; at t = 0 the particle is its own x_hat."""
    out = []
    for x, t in zip(path, times.tolist()):
        out.append(x if t == 0 else x_hat_from_velocity(x[None], expert.velocity(x[None], t), t)[0])
    return torch.stack(out)
