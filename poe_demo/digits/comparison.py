"""One composition of digit experts, sampled two ways at equal cost and graded (notebook 6, ``benchmarks/compose.py``).

The annealed sampler targets the product exactly, up to its discretisation, through its weights;
Euler on the weighted velocity V = sum_i w_i v_i (what classifier-free guidance does) has no
weights and lands wherever that flow goes. Both run on the same seeds, Euler with at least as
many expert evaluations as the annealed run (:func:`~poe_demo.equal_cost.euler_samples_at_equal_cost`),
and both are graded the same way (:func:`~poe_demo.digits.grading.grade`). The annealed run's
particles are resampled by their weights first, so every graded image counts once; how many
distinct starting noises its images descend from ("ancestors") says how much of the run the
weights kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor

from ..equal_cost import euler_samples_at_equal_cost
from ..experts import exponent_of
from ..samplers import AISResult, ais_evaluations, annealed_importance_sampling, euler
from ..smc import resample
from .grading import Grade, grade, in_set
from .steering import STEERING, noise

__all__ = ["Row", "ancestors", "compare_samplers"]


@dataclass(frozen=True)
class Row:
    """One sampler's images of one composition, over all seeds."""

    sampler: str  # "annealed" or "euler"
    grade: Grade  # of every seed's images together
    in_set_se: float  # standard error of the in-set share, from its spread over the seeds
    images: int  # graded images, all seeds
    evaluations: int  # expert evaluations (states times experts) per seed
    seconds: float  # wall seconds per seed
    ess: float | None = None  # annealed: the lowest effective sample size over the levels, mean over seeds
    ancestors: float | None = None  # annealed: distinct starting noises behind the resampled images, mean


def ancestors(result: AISResult, rows: Tensor) -> int:
    """How many distinct starting particles the final particles ``rows`` descend from (needs keep_trajectory)."""
    index = rows
    for parents in reversed(result.ancestors):
        index = parents[index]
    return len(set(index.tolist()))


def compare_samplers(
    judge: torch.nn.Module,
    experts,
    asked: tuple[int, ...],
    seeds,
    n_particles: int,
    n_steps: int = 32,
    n_mcmc_steps: int = 2,
    reward=None,
    samplers: tuple[str, ...] = ("annealed", "euler"),
) -> dict[str, Row]:
    """{sampler: :class:`Row`} for the product ``experts`` (a list or a :class:`~poe_demo.experts.Product`)
    asked to show the classes ``asked``, graded by ``judge``, one run per seed, for each of ``samplers``
    ("annealed", "euler"). With a ``reward`` only the annealed sampler runs (Euler has no way to use one),
    with the steering settings."""
    unknown = [s for s in samplers if s not in ("annealed", "euler")]
    if unknown or not samplers:
        raise ValueError(f"samplers must be a non-empty subset of ('annealed', 'euler'), got {samplers!r}")
    total = sum(exponent_of(e) for e in experts)  # every digit expert models every pixel
    n_euler = euler_samples_at_equal_cost(n_particles, n_mcmc_steps, n_steps, exponent_sum=total)
    options = STEERING if reward is not None else {}
    found: dict[str, list] = {"annealed": [], "euler": []}
    seconds = {"annealed": 0.0, "euler": 0.0}
    ess, kept = [], []
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        if "annealed" in samplers:
            start = time.perf_counter()
            result = annealed_importance_sampling(
                experts, reward, noise(n_particles, g), n_steps, n_mcmc_steps, generator=g, keep_trajectory=True,
                **options,
            )  # fmt: skip
            rows = resample(result.log_weights, "systematic", g)
            seconds["annealed"] += time.perf_counter() - start
            found["annealed"].append(result.particles[rows])
            ess.append(float(result.ess.min()))
            kept.append(ancestors(result, rows))
        if reward is None and "euler" in samplers:
            start = time.perf_counter()
            found["euler"].append(euler(experts, noise(n_euler, g), n_steps, time_power=2.0).particles)
            seconds["euler"] += time.perf_counter() - start
    per_expert = {
        "annealed": ais_evaluations(n_particles, n_steps, n_mcmc_steps, rescaled_start=total < 1),
        "euler": n_euler * (n_steps + (total < 1)),
    }
    out = {}
    for name, images in found.items():
        if not images:
            continue
        shares = torch.tensor([in_set(judge, x, asked) for x in images], dtype=torch.float64)
        out[name] = Row(
            sampler=name,
            grade=grade(judge, torch.cat(images), asked),
            in_set_se=float(shares.std() / len(shares) ** 0.5) if len(shares) > 1 else float("nan"),
            images=sum(len(x) for x in images),
            evaluations=per_expert[name] * len(experts),
            seconds=seconds[name] / len(images),
            ess=sum(ess) / len(ess) if name == "annealed" else None,
            ancestors=sum(kept) / len(kept) if name == "annealed" else None,
        )
    return out
