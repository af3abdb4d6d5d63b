"""Choose the axis experts' size: accuracy against the exact oracle, sampled sphere quality, and cost.

For each candidate (hidden width, depth) it trains the three axis experts, measures the relative
velocity error against ExactSphereExpert over t in [0.05, 1], the time of one call of the three
(batched, as the sampler makes it) on L * N points, and the radial error and time of AIS at the
benchmark setting.

    python benchmarks/expert_size.py [--quick]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from common import RESULTS, median_seconds, write_json

from poe_demo.data import sample_noise
from poe_demo.experts import BatchedAxisExperts, ColorMeanExpert, ExactSphereExpert, TrainingConfig, train_axis_expert
from poe_demo.metrics import radial_error, relative_velocity_error
from poe_demo.runtime import configure_cpu
from poe_demo.samplers import annealed_importance_sampling

TIMES = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)


def relative_errors(expert) -> list[float]:
    return [relative_velocity_error(expert, ExactSphereExpert(expert.axis), t) for t in TIMES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and runs (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_cpu()
    sizes = [(8, 1)] if args.quick else [(16, 2), (24, 2), (32, 2), (32, 3), (48, 2), (64, 3)]
    n_train = 20 if args.quick else TrainingConfig.n_steps
    L, N, T, K = (2, 32, 4, 1) if args.quick else (32, 512, 128, 3)
    noise = sample_noise(L, N, generator=torch.Generator().manual_seed(0))
    rows = []
    for hidden, depth in sizes:
        config = TrainingConfig(hidden=hidden, depth=depth, n_steps=n_train)
        experts = [train_axis_expert(a, config, progress=False)[0] for a in "xyz"]
        errors = [relative_errors(e) for e in experts]
        batched = BatchedAxisExperts(experts)  # what the sampler calls: the three experts in one pass
        with torch.no_grad():
            call = median_seconds(lambda: batched(noise[..., :3], 0.5), repeats=20)
        composed = [batched, ColorMeanExpert()]

        def sample():
            return annealed_importance_sampling(composed, None, noise, T, K, generator=torch.Generator().manual_seed(0))

        seconds = median_seconds(sample, repeats=1 if args.quick else 3)
        row = {
            "hidden": hidden,
            "depth": depth,
            "parameters": sum(p.numel() for p in experts[0].parameters()),
            "max_relative_velocity_error": round(max(max(e) for e in errors), 4),
            "relative_velocity_error_by_t": {str(t): round(max(e[i] for e in errors), 4) for i, t in enumerate(TIMES)},
            "call_ms_three_experts": round(1000 * call, 3),
            "ais_radial_error": round(float(radial_error(sample().particles).mean()), 5),
            "ais_seconds": round(seconds, 3),
        }
        rows.append(row)
        print(row, flush=True)
    write_json(
        "expert_size_quick.json" if args.quick else "expert_size.json",
        {"setting": {"L": L, "N": N, "T": T, "K": K, "train_steps": n_train}, "rows": rows},
        directory=args.out,
    )


if __name__ == "__main__":
    main()
