"""Two samplers on the same seeds at equal cost: the budget rule and one success rate with its standard error.

Every lesson compares the annealed sampler with a baseline the same way, so the rule lives
here, below the lessons (the sphere's :mod:`poe_demo.evaluation`, the digits'
:mod:`poe_demo.digits.steering`, the playground): the baseline gets at least the annealed run's
expert evaluations (:func:`euler_samples_at_equal_cost`), both run on the same seeds, their
turns interleaved seed by seed so that a machine whose speed drifts charges both alike
(:func:`compare_on_seeds`), and each success rate comes with its binomial standard error
(:class:`Rate`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from .samplers import ais_evaluations

__all__ = ["euler_samples_at_equal_cost", "Rate", "Side", "compare_on_seeds"]


def euler_samples_at_equal_cost(
    n_particles: int, n_mcmc_steps: int, n_steps: int, metropolis: str = "simpson", exponent_sum: float = 1.0
) -> int:
    """The fewest Euler samples that cost at least as many expert evaluations as one annealed run with L particles.

    An annealed run evaluates the experts :func:`~poe_demo.samplers.ais_evaluations` times; an
    Euler sample costs one evaluation per level, T in all. Experts whose exponents sum to W < 1
    (``exponent_sum``) cost both samplers one more evaluation at the start, where the noise is
    widened (:func:`~poe_demo.samplers.transitions.start`). N is rounded up, so a baseline never
    gets less than the annealed run.
    """
    widened = exponent_sum < 1
    evaluations = ais_evaluations(n_particles, n_steps, n_mcmc_steps, metropolis, rescaled_start=widened)
    return -(-evaluations // (n_steps + widened))


@dataclass(frozen=True)
class Rate:
    """A success rate over independent trials, with its binomial standard error sqrt(p (1 - p) / n)."""

    successes: int
    trials: int

    @property
    def rate(self) -> float:
        return self.successes / self.trials

    @property
    def se(self) -> float:
        return (self.rate * (1 - self.rate) / self.trials) ** 0.5

    @classmethod
    def of(cls, outcomes: Iterable[bool]) -> Rate:
        outcomes = [bool(o) for o in outcomes]
        if not outcomes:
            raise ValueError("a success rate needs at least one trial, got none")
        return cls(sum(outcomes), len(outcomes))


@dataclass(frozen=True)
class Side:
    """One sampler's trials in a comparison: a :class:`Rate` per grader, and its wall seconds per trial."""

    rates: dict[str, Rate]  # e.g. {"judge": ..., "reward": ...}; {"success": ...} for a trial that returns a bool
    seconds: float


def compare_on_seeds(
    trials: Mapping[str, Callable[[int], bool | Mapping[str, bool]]],
    seeds: Iterable[int],
    on_trial: Callable[[], None] | None = None,
) -> dict[str, Side]:
    """{name: :class:`Side`}: every trial ``trials[name](seed)`` run on every seed, the samplers taking
    turns seed by seed. A trial returns whether it succeeded, or one verdict per grader
    (``{"judge": ..., "reward": ...}``); each trial sets its own budget (the baseline's, e.g.
    with :func:`euler_samples_at_equal_cost`). ``on_trial()`` is called after each trial (a progress bar).
    """
    outcomes: dict[str, list[Mapping[str, bool]]] = {name: [] for name in trials}
    seconds = dict.fromkeys(trials, 0.0)
    for seed in seeds:
        for name, trial in trials.items():
            start = time.perf_counter()
            verdict = trial(seed)
            seconds[name] += time.perf_counter() - start
            outcomes[name].append(verdict if isinstance(verdict, Mapping) else {"success": verdict})
            if on_trial is not None:
                on_trial()
    sides = {}
    for name, verdicts in outcomes.items():
        if not verdicts:
            raise ValueError("compare_on_seeds needs at least one seed, got none")
        rates = {grader: Rate.of(v[grader] for v in verdicts) for grader in verdicts[0]}
        sides[name] = Side(rates, seconds[name] / len(verdicts))
    return sides
