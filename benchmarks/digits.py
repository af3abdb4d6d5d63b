"""The image lesson measured: the shipped digit expert's quality, steering against best-of-N, and a product of two.

    python benchmarks/digits.py [--quick] [--out DIR]

Writes ``digits.json`` to benchmarks/results/; ``report.py`` renders it into benchmarks/README.md.

* quality: samples of the unconditional expert (the annealed sampler without a reward): the
  judge's confidence and class histogram, the reward classifier's agreement with it, and the
  pixel distance from each sample to its nearest training image, beside the same distance for
  held-out images: memorization would show as samples much nearer the training set than new
  handwriting is.
* steering: for L = 1, 2, 4, 8, 16, 32, trials spread evenly over the ten digits, the annealed
  sampler (T = 32, K = 2, untempered, even time grid) against best-of-N with at least its number
  of expert evaluations (N rounded up); success as the judge sees it and as the reward classifier
  sees it (the gap is the reward being optimized, not the digit), with standard errors, and the
  seconds of one run.

Products of the image experts (AND, NOT, guidance) are measured by ``compose.py``.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch
from common import RESULTS, write_json

from poe_demo.digits.checkpoints import load_digit_models
from poe_demo.digits.data import subset, to_model, to_pixels
from poe_demo.digits.steering import flow_expert, sample_digits, success_rates, verdicts
from poe_demo.runtime import configure_cpu
from poe_demo.smc import resample


def nearest_training_distance(images: torch.Tensor, train: torch.Tensor) -> float:
    """Mean over images ``[n, 14, 14]`` in [0, 1] of the L2 pixel distance to the nearest training image."""
    return float(torch.cdist(images.flatten(1), train.flatten(1)).min(dim=1).values.mean())


def quality(models: dict, n: int, seed: int) -> dict:
    result = sample_digits(flow_expert(models["flow_all"]), None, n, generator=torch.Generator().manual_seed(seed))
    images = result.particles[resample(result.log_weights, "systematic", torch.Generator().manual_seed(seed + 1))]
    judged, confidence = verdicts(models["judge"], images)
    rewarded, _ = verdicts(models["reward"], images)
    train, _ = subset("train")
    held_out, _ = subset("test")
    return {
        "n": n,
        "judge_confidence": round(float(confidence.mean()), 4),
        "judge_histogram": torch.bincount(judged, minlength=10).tolist(),
        "reward_agrees_with_judge": round(float((judged == rewarded).double().mean()), 4),
        "nearest_training_distance": round(nearest_training_distance(to_pixels(images[:, 0]), train), 4),
        "held_out_nearest_training_distance": round(nearest_training_distance(held_out, train), 4),
        "held_out_judge_confidence": round(float(verdicts(models["judge"], to_model(held_out)[:, None])[1].mean()), 4),
    }


def steering(models: dict, counts: list[int], trials: int) -> dict:
    rows = success_rates(models, counts, trials)
    report = {"n_steps": 32, "n_mcmc_steps": 2, "trials": trials, "rows": {}}
    for n_particles, row in rows.items():
        report["rows"][str(n_particles)] = {
            "N": row["N"],
            **{
                name: {
                    "judge": {k: round(v, 4) for k, v in row[name]["judge"].items()},
                    "reward": {k: round(v, 4) for k, v in row[name]["reward"].items()},
                    "seconds_per_run": round(row[name]["seconds_per_run"], 3),
                }
                for name in ("annealed", "best_of_n")
            },
        }
        print(f"steering L={n_particles}: {report['rows'][str(n_particles)]}", flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few trials (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_cpu()
    models = load_digit_models()
    counts, trials, n = ([1, 2], 2, 16) if args.quick else ([1, 2, 4, 8, 16, 32], 60, 256)
    payload = {"quality": quality(models, n, seed=1), "steering": steering(models, counts, trials)}
    payload["steering"]["digits_per_count"] = "trial i asks for digit i mod 10, so every digit equally often"
    print(f"quality: {payload['quality']}", flush=True)
    seconds = [r[m]["seconds_per_run"] for r in payload["steering"]["rows"].values() for m in ("annealed", "best_of_n")]
    payload["steering"]["median_seconds_per_run"] = round(statistics.median(seconds), 3)
    print(f"wrote {write_json('digits_quick.json' if args.quick else 'digits.json', payload, directory=args.out)}")


if __name__ == "__main__":
    main()
