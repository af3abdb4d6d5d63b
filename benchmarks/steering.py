"""Steering when the color is decided along the path: the annealed sampler against best-of-N at equal cost.

    python benchmarks/steering.py [--quick] [--out DIR]

The sphere's axis experts composed with ``ColorMixtureExpert`` (one palette color per cloud,
chosen as the flow runs) or, for contrast, ``ColorMeanExpert`` (color fixed by the start noise),
steered to red, green and blue. Every method gets the expert evaluations of one annealed run
with L particles. Writes ``steering.json`` to benchmarks/results/; the README quotes it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from common import RESULTS, write_json

from poe_demo.equal_cost import euler_samples_at_equal_cost
from poe_demo.evaluation import (
    CHANNELS,
    best_of_n_trial,
    chance_per_cloud,
    rejection_trial,
    sphere_experts,
    success_rate,
)
from poe_demo.experts import ColorMeanExpert, ColorMixtureExpert, load_axis_experts
from poe_demo.runtime import configure_cpu


def methods(n_steps: int, n_mcmc_steps: int) -> dict:
    """{name: (color expert, trial, keyword arguments)}; time_power = 1 spreads levels evenly, so the
    early levels where ColorMixtureExpert decides a color get as many as the late ones."""
    sampler = dict(n_steps=n_steps, n_mcmc_steps=n_mcmc_steps)
    annealed = dict(sampler, time_power=1.0)
    return {
        "mixture: annealed, untempered": (ColorMixtureExpert, None, dict(annealed, tempering="none")),
        "mixture: annealed, quadratic tempering": (ColorMixtureExpert, None, dict(annealed, tempering="quadratic")),
        "mixture: best-of-N": (ColorMixtureExpert, best_of_n_trial, sampler),
        "mixture: rejection": (ColorMixtureExpert, rejection_trial, sampler),
        "mean: annealed, untempered": (ColorMeanExpert, None, dict(annealed, tempering="none")),
        "mean: best-of-N": (ColorMeanExpert, best_of_n_trial, sampler),
    }


def steering_on_the_path(seeds, counts, n_steps: int, n_mcmc_steps: int, n_clouds: int) -> dict:
    axis = load_axis_experts()
    report = {
        "n_steps": n_steps,
        "n_mcmc_steps": n_mcmc_steps,
        "n_seeds": len(seeds),
        "euler_samples_same_budget": {n: euler_samples_at_equal_cost(n, n_mcmc_steps, n_steps) for n in counts},
        # the chance that one unsteered Euler cloud passes the success test, per color, with its standard error
        "chance_per_cloud": {
            name: {
                color: chance_per_cloud(
                    sphere_experts(axis, color=expert()),
                    color,
                    n_clouds,
                    n_steps=n_steps,
                    generator=torch.Generator().manual_seed(CHANNELS.index(color)),
                )
                for color in CHANNELS
            }
            for name, expert in (("mixture", ColorMixtureExpert), ("mean", ColorMeanExpert))
        },
        "rates": {},
    }
    print(report["chance_per_cloud"], flush=True)
    for name, (color_expert, trial, kwargs) in methods(n_steps, n_mcmc_steps).items():
        experts = sphere_experts(axis, color=color_expert())
        trial_kwargs = dict(kwargs) if trial is None else dict(kwargs, trial=trial)
        report["rates"][name] = {
            n: {color: success_rate(experts, color, n, seeds, **trial_kwargs) for color in CHANNELS} for n in counts
        }
        print(name, report["rates"][name], flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few seeds, small sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_cpu()
    if args.quick:
        settings = dict(seeds=range(2), counts=[1, 2], n_steps=8, n_mcmc_steps=1, n_clouds=64)
    else:
        settings = dict(seeds=range(30), counts=[1, 2, 4, 8], n_steps=64, n_mcmc_steps=3, n_clouds=3000)
    report = steering_on_the_path(**settings)
    out = write_json("steering_quick.json" if args.quick else "steering.json", report, directory=args.out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
