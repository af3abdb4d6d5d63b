"""The annealed sampler's weights on known answers: quadrature rule, Euler bias, reward tempering, overlap.

    python benchmarks/weights.py [--quick] [--out DIR]

Writes ``weights.json`` to benchmarks/results/; ``report.py`` renders it into the README.

* quadrature: the velocity-mismatch integral by the trapezoid rule (the library's) against the
  left point (patched in here for the comparison), at K = 0 where only the weights carry the
  product: N(-0.7, 0.8^2) x N(1.3, 0.5^2) x the reward GaussianReward(1.0, 0.5).
* euler_bias: the same target's mean, variance and log Z against T, at K = 0 and K = 3.
* tempering: one expert N(-0.3, 0.7^2) and a sharp reward GaussianReward(1.0, 0.1), log Z against
  T for each schedule of ``TEMPERINGS``.
* overlap: the sphere times a Gaussian blob (von Mises-Fisher), four ways, against the points
  per cloud N (:mod:`poe_demo.overlap`).
* metropolis: the Langevin test's density ratio by Simpson's rule and by the trapezoid rule on a
  curved two-mode product (:mod:`poe_demo.two_modes`), K = 3: the right mode's mass and log Z
  against T, with each rule's expert evaluations and seconds per run.
Every entry is the mean error over independent seeds with its standard error.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path
from unittest import mock

import torch
from common import RESULTS, write_json

from poe_demo.experts import GaussianExpert, gaussian_product
from poe_demo.metrics import weighted_mean
from poe_demo.overlap import METHODS, exact_tilt, tilt_error
from poe_demo.rewards import GaussianReward
from poe_demo.runtime import configure_cpu
from poe_demo.samplers import TEMPERINGS, ais_evaluations, annealed_importance_sampling
from poe_demo.samplers import levels as levels_module
from poe_demo.two_modes import exact_answer, two_mode_run


def error(values: list[float], truth: float) -> dict:
    """Mean error over runs and its standard error."""
    return {
        "bias": round(statistics.fmean(values) - truth, 5),
        "se": round(statistics.stdev(values) / math.sqrt(len(values)), 5),
    }


def gaussian_target(means, stds, reward: GaussianReward) -> tuple[float, float, float]:
    """Mean, variance and log Z of prod_i N(mu_i, sigma_i^2) exp(r), exp(r) = sqrt(2 pi s^2) N(m, s^2)."""
    mean, std, log_z = gaussian_product([*means, reward.mean], [*stds, reward.std])
    return mean, std**2, log_z + 0.5 * math.log(2 * math.pi * reward.std**2)


def runs(experts, reward, n_steps, n_mcmc_steps, seeds, n_particles, **kwargs) -> list[tuple[float, float, float]]:
    """(weighted mean, weighted variance, log Z) of one run per seed."""
    out = []
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(n_particles, 1, generator=g, dtype=torch.float64)
        r = annealed_importance_sampling(experts, reward, x, n_steps, n_mcmc_steps, generator=g, **kwargs)
        mean = weighted_mean(r.particles.squeeze(1), r.log_weights)
        var = weighted_mean((r.particles.squeeze(1) - mean) ** 2, r.log_weights)
        out.append((float(mean), float(var), r.log_normalizer))
    return out


def left_point(mismatch, mismatch_next, t, t_next):
    return (t_next - t) * mismatch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few seeds and sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_cpu()
    seeds = range(3) if args.quick else range(16)
    levels = [16, 64] if args.quick else [16, 64, 256]
    n_particles = 200 if args.quick else 2000

    overlapping, reward = [GaussianExpert(-0.7, 0.8), GaussianExpert(1.3, 0.5)], GaussianReward(1.0, 0.5)
    mean, var, log_z = gaussian_target([-0.7, 1.3], [0.8, 0.5], reward)
    quadrature = {}
    for n_steps in levels:
        trapezoid = runs(overlapping, reward, n_steps, 0, seeds, n_particles)
        with mock.patch.object(levels_module, "mismatch_increment", left_point):
            left = runs(overlapping, reward, n_steps, 0, seeds, n_particles)
        quadrature[n_steps] = {
            "trapezoid": error([r[2] for r in trapezoid], log_z),
            "left": error([r[2] for r in left], log_z),
        }
        print(f"quadrature T={n_steps}: {quadrature[n_steps]}", flush=True)

    euler_bias = {}
    for n_mcmc_steps in (0, 3):
        for n_steps in levels:
            out = runs(overlapping, reward, n_steps, n_mcmc_steps, seeds, n_particles)
            euler_bias[f"K={n_mcmc_steps}, T={n_steps}"] = {
                name: error([r[i] for r in out], truth)
                for i, (name, truth) in enumerate([("mean", mean), ("variance", var), ("log_z", log_z)])
            }
            print(
                f"euler bias K={n_mcmc_steps} T={n_steps}: {euler_bias[f'K={n_mcmc_steps}, T={n_steps}']}", flush=True
            )

    sharp_prior, sharp = [GaussianExpert(-0.3, 0.7)], GaussianReward(1.0, 0.1)
    _, _, sharp_log_z = gaussian_target([-0.3], [0.7], sharp)
    tempering = {}
    for name in TEMPERINGS:
        for n_steps in levels:
            out = runs(sharp_prior, sharp, n_steps, 3, seeds, n_particles, tempering=name)
            zs = [r[2] for r in out]
            tempering[f"{name}, T={n_steps}"] = {
                **error(zs, sharp_log_z),
                "rmse": round(math.sqrt(statistics.fmean((z - sharp_log_z) ** 2 for z in zs)), 4),
            }
            print(f"tempering {name} T={n_steps}: {tempering[f'{name}, T={n_steps}']}", flush=True)

    points = [1, 16] if args.quick else [1, 4, 16, 64]
    overlap_seeds = range(2) if args.quick else range(32)
    overlap = {
        "exact_tilt": round(exact_tilt(), 5),
        "n_particles": 256,
        "n_steps": 64,
        "n_seeds": len(overlap_seeds),
        "rows": {},
    }
    for method in METHODS:
        for n_points in points:
            e = tilt_error(method, n_points, overlap_seeds)
            overlap["rows"][f"{method}, N={n_points}"] = {
                "bias": round(e.bias, 5),
                "se": round(e.se, 5),
                "ess": round(e.ess, 1),
            }
            print(f"overlap {method} N={n_points}: {overlap['rows'][f'{method}, N={n_points}']}", flush=True)

    p_right, two_mode_log_z = exact_answer()
    metropolis = {"exact_mass": round(p_right, 5), "exact_log_z": round(two_mode_log_z, 5), "rows": {}}
    two_mode_seeds, two_mode_particles = (range(2), 500) if args.quick else (range(12), 4000)
    metropolis.update(n_seeds=len(two_mode_seeds), n_particles=two_mode_particles)
    for rule in ("simpson", "trapezoid"):
        for n_steps in levels[1:]:
            start = time.perf_counter()
            out = [two_mode_run(500 + s, n_steps, 3, rule, two_mode_particles) for s in two_mode_seeds]
            metropolis["rows"][f"{rule}, T={n_steps}"] = {
                "mass": error([m for m, _ in out], p_right),
                "log_z": error([z for _, z in out], two_mode_log_z),
                "evaluations": ais_evaluations(two_mode_particles, n_steps, 3, rule),
                "seconds": round((time.perf_counter() - start) / len(out), 3),
            }
            print(f"metropolis {rule} T={n_steps}: {metropolis['rows'][f'{rule}, T={n_steps}']}", flush=True)

    payload = {
        "n_particles": n_particles,
        "n_seeds": len(seeds),
        "levels": levels,
        "quadrature": quadrature,
        "euler_bias": euler_bias,
        "tempering": tempering,
        "overlap": overlap,
        "metropolis": metropolis,
    }
    path = write_json("weights_quick.json" if args.quick else "weights.json", payload, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
