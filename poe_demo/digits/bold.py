"""A rare target: a *bold* digit, where steering should pay per second (``benchmarks/seconds.py``).

"A d" is a common target: among a few dozen unsteered samples one is almost always a d, so
best-of-N at the annealed run's seconds rarely fails. "A bold d" asks for more: the judge reads
the digit and its ink, the mean pixel in [0, 1] (:func:`~poe_demo.digits.grading.ink`), is above
:data:`BOLD`, which few training images of a class reach (:func:`training_share`). Its reward is the
classifier's times a soft step in the ink (:class:`InkReward`); the success test reads the judge
and the ink itself, so neither optimized reward grades its own result.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from ..samplers import euler, total_log_reward
from .data import subset
from .grading import ink
from .steering import STEERING, digit_reward, flow_expert, noise, sample_digits, verdicts

__all__ = [
    "BOLD",
    "TARGETS",
    "InkReward",
    "training_share",
    "target_rewards",
    "succeeded",
    "annealed_pick",
    "best_of_n_pick",
    "annealed_trial",
    "best_of_n_trial",
]

BOLD = 0.22  # ink above which a digit counts as bold: 0 to 13 % of a class's training images (training_share)
TARGETS = {"d": "a d", "bold": "a bold d"}  # the two targets by key, as the benchmark and its pages name them


class InkReward:
    """log r(x) = strength * log sigmoid((ink(x) - threshold) / width): a soft step up at the ink ``threshold``.

    ``x: [L, 1, 14, 14]`` in [-1, 1]; ink is the mean pixel in [0, 1]. Below the threshold the
    log-reward falls about linearly, by strength / width per unit of ink; above it, it is near 0."""

    def __init__(self, threshold: float = BOLD, width: float = 0.01, strength: float = 1.0):
        if not (0 < threshold < 1 and width > 0 and strength > 0):
            raise ValueError(
                f"InkReward needs 0 < threshold < 1, width > 0 and strength > 0, got {threshold}, {width}, {strength}"
            )
        self.threshold, self.width, self.strength = float(threshold), float(width), float(strength)

    def __repr__(self) -> str:
        return f"InkReward(threshold={self.threshold}, width={self.width}, strength={self.strength})"

    def log_reward(self, x: Tensor) -> Tensor:
        return self.strength * F.logsigmoid((ink(x) - self.threshold) / self.width).to(x.dtype)


def training_share(threshold: float = BOLD) -> list[float]:
    """The share of each class's training images (digits 0-9) whose ink is above ``threshold``."""
    pixels, labels = subset("train")
    heavy = pixels.flatten(1).mean(1) > threshold
    return [float(heavy[labels == d].double().mean()) for d in range(10)]


def target_rewards(models: dict, digit: int, bold: bool) -> list:
    """The discriminative experts of "a d" (the classifier reward) or "a bold d" (times :class:`InkReward`)."""
    return [digit_reward(models["reward"], digit)] + ([InkReward()] if bold else [])


def succeeded(models: dict, image: Tensor, digit: int, bold: bool) -> bool:
    """Does ``image [1, 14, 14]`` show ``digit`` to the judge (and, if ``bold``, with ink above :data:`BOLD`)?"""
    label, _ = verdicts(models["judge"], image[None])
    return bool(label[0] == digit) and (not bold or float(ink(image[None])[0]) > BOLD)


def annealed_pick(
    models: dict, digit: int, seed: int, n_particles: int, n_mcmc_steps: int, bold: bool, n_steps: int = 32
) -> Tensor:
    """The best particle ``[1, 14, 14]`` of one seeded annealed run on the flow expert times the target's rewards."""
    g = torch.Generator().manual_seed(seed)
    rewards = target_rewards(models, digit, bold)
    return sample_digits(flow_expert(models["flow_all"]), rewards, n_particles, n_steps, n_mcmc_steps, g).best


@torch.no_grad()
def best_of_n_pick(models: dict, digit: int, seed: int, n: int, bold: bool, n_steps: int = 32) -> Tensor:
    """Of ``n`` seeded Euler samples of the flow expert, the one ``[1, 14, 14]`` the target's rewards rank highest."""
    g = torch.Generator().manual_seed(seed)
    images = euler([flow_expert(models["flow_all"])], noise(n, g), n_steps, time_power=STEERING["time_power"]).particles
    return images[int(total_log_reward(target_rewards(models, digit, bold), images).argmax())]


def annealed_trial(
    models: dict, digit: int, seed: int, n_particles: int, n_mcmc_steps: int, bold: bool, n_steps: int = 32
) -> bool:
    """Did :func:`annealed_pick` succeed?"""
    return succeeded(models, annealed_pick(models, digit, seed, n_particles, n_mcmc_steps, bold, n_steps), digit, bold)


def best_of_n_trial(models: dict, digit: int, seed: int, n: int, bold: bool, n_steps: int = 32) -> bool:
    """Did :func:`best_of_n_pick` succeed?"""
    return succeeded(models, best_of_n_pick(models, digit, seed, n, bold, n_steps), digit, bold)
