"""Success against wall seconds: the annealed sampler and best-of-N given at least its seconds.

    python benchmarks/seconds.py [--quick] [--targets d bold] [--ks 0 2] [--ls 2 4 8 16]
                                 [--trials 60] [--add] [--out DIR]

Users pay in seconds, not in expert evaluations. For each target, K and L: the annealed sampler's
median seconds per run are measured on calibration seeds; best-of-N's N is then set so that its
run takes at least as long (Euler's seconds fitted as a + b N from two timed batch sizes); both
run on the same seeds, taking turns (:func:`~poe_demo.equal_cost.compare_on_seeds`), and each
side's measured seconds per run are kept beside its success rate and standard error, so a row
where best-of-N got fewer seconds shows it. Trial i asks for digit i mod 10. Each row is its own
interleaved comparison, so ``--add`` can measure more rows later and merge them into the file
(rows of the same target, K and L are replaced).

Targets (:mod:`poe_demo.digits.bold`): "d", the judge reads the digit; "bold", the judge reads
it and its ink is above ``BOLD``, rare among training images. Writes ``seconds.json`` and the
figure of success against seconds, ``seconds.png`` (``seconds_quick.*`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import torch
from common import RESULTS, write_json

from poe_demo.cost_plots import plot_success_against_seconds
from poe_demo.digits.bold import BOLD, TARGETS, annealed_trial, best_of_n_trial, training_share
from poe_demo.digits.checkpoints import load_digit_models
from poe_demo.equal_cost import compare_on_seeds
from poe_demo.runtime import configure_cpu

T = 32
# N is set for this much more than the annealed run's calibrated seconds: calibrated on three seeds
# beside a drifting machine, a margin of 1 gave best-of-N 0.71 to 0.91 of the annealed seconds in
# four of twelve rows. Each row records both sides' measured seconds, so a shortfall still shows.
MARGIN = 1.1


def median_seconds_over(run, seeds) -> float:
    """Median wall seconds of run(seed) over ``seeds`` (common.median_seconds repeats one call instead)."""
    times = []
    for seed in seeds:
        start = time.perf_counter()
        run(seed)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matching_n(models: dict, bold: bool, seconds: float, calibration) -> tuple[int, dict]:
    """The N whose best-of-N run takes at least ``seconds``, from Euler's seconds fitted as a + b N."""
    small, large = 8, 64
    t_small = median_seconds_over(lambda s: best_of_n_trial(models, s % 10, s, small, bold, T), calibration)
    t_large = median_seconds_over(lambda s: best_of_n_trial(models, s % 10, s, large, bold, T), calibration)
    per_sample = max((t_large - t_small) / (large - small), 1e-6)
    fixed = t_small - small * per_sample
    return max(1, math.ceil((seconds - fixed) / per_sample)), {"fixed": fixed, "per_sample": per_sample}


def row(models: dict, bold: bool, k: int, n_particles: int, trials: int) -> dict:
    calibration = range(10_000, 10_003)
    annealed = lambda seed: annealed_trial(models, seed % 10, seed, n_particles, k, bold, T)  # noqa: E731
    annealed(calibration[0])  # warm-up
    seconds = median_seconds_over(annealed, calibration)
    n, fit = matching_n(models, bold, MARGIN * seconds, calibration)
    offset = 100_000 * k + 1000 * n_particles
    sides = compare_on_seeds(
        {
            "annealed": lambda i: annealed(offset + i),
            "best_of_n": lambda i: best_of_n_trial(models, (offset + i) % 10, offset + i, n, bold, T),
        },
        range(trials),
    )
    out = {"K": k, "L": n_particles, "N": n, "calibrated_seconds": round(seconds, 4), "margin": MARGIN}
    out["euler_fit"] = fit
    for name, side in sides.items():
        rate = side.rates["success"]
        out[name] = {"rate": round(rate.rate, 4), "se": round(rate.se, 4), "seconds_per_run": round(side.seconds, 4)}
    gap = out["annealed"]["rate"] - out["best_of_n"]["rate"]
    out["difference_in_se"] = round(gap / max(math.hypot(out["annealed"]["se"], out["best_of_n"]["se"]), 1e-9), 2)
    print(out, flush=True)
    return out


def merged(old: dict, rows: dict, trials: int) -> dict:
    """``old``'s rows with ``rows`` added, a row of the same target, K and L replaced; sorted by K, L."""
    if (old["T"], old["trials"]) != (T, trials):
        here, there = f"T = {T}, {trials} trials", f"T = {old['T']}, {old['trials']} trials"
        raise SystemExit(f"--add: the file has {there}; this run {here}")
    out = {}
    for target in sorted({*old["rows"], *rows}):
        by_setting = {(r["K"], r["L"]): r for r in old["rows"].get(target, []) + rows.get(target, [])}
        out[target] = [by_setting[key] for key in sorted(by_setting)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script runs")
    parser.add_argument("--targets", nargs="+", choices=tuple(TARGETS), default=list(TARGETS))
    parser.add_argument("--ks", nargs="+", type=int, default=[0, 2])
    parser.add_argument("--ls", nargs="+", type=int, default=[2, 4, 8, 16])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--add", action="store_true", help="merge the rows into the existing file")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.targets, args.ks, args.ls, args.trials = ["bold"], [2], [2], 4
    configure_cpu()
    models = load_digit_models()
    rows = {
        target: [row(models, target == "bold", k, n, args.trials) for k in args.ks for n in args.ls]
        for target in args.targets
    }
    name = "seconds_quick.json" if args.quick else "seconds.json"
    if args.add and (args.out / name).exists():
        rows = merged(json.loads((args.out / name).read_text()), rows, args.trials)
    payload = {
        "T": T,
        "trials": args.trials,
        "bold_threshold": BOLD,
        "bold_training_share": [round(p, 4) for p in training_share()],
        "titles": TARGETS,
        "rows": rows,
    }
    print(f"wrote {write_json(name, payload, directory=args.out)}")
    figure = args.out / name.replace(".json", ".png")
    plot_success_against_seconds(payload["rows"], TARGETS, figure)
    print(f"wrote {figure}")


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
