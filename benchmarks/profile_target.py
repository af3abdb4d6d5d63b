"""Where the sampler's time goes at the target setting (L = 32, N = 512, T = 128, K = 3).

    python benchmarks/profile_target.py [--quick] [--out DIR]

Wraps each expert's call in a timer for one run (after a warm-up) and splits the run's seconds
into: the axis experts' networks (their matrix products and ReLUs), the axis experts' wrapper
(inputs, outputs, the score), the color expert, the reward, and the rest (the sampler's own
proposals, Metropolis tests, weights and resampling). It also counts the expert evaluations per
level and times the axis networks' matrix products alone, as floating-point operations per
second: with them, the fastest any run could be if everything but those products took no time.
Writes ``profile_target.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from common import RESULTS, write_json

from poe_demo.data import sample_noise
from poe_demo.evaluation import sphere_experts
from poe_demo.experts import load_axis_experts
from poe_demo.rewards import ColorReward
from poe_demo.runtime import configure_cpu
from poe_demo.samplers import ais_evaluations, annealed_importance_sampling


def timed(obj, name: str, totals: dict, label: str, calls: dict | None = None) -> None:
    """Replace ``obj.name`` by a wrapper that adds its seconds to ``totals[label]`` (and counts its calls)."""
    inner = getattr(obj, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        out = inner(*args, **kwargs)
        totals[label] = totals.get(label, 0.0) + time.perf_counter() - start
        if calls is not None:
            calls[label] = calls.get(label, 0) + 1
        return out

    setattr(obj, name, wrapper)


def matmul_flops(batched, n_points: int) -> float:
    """Floating-point operations of the axis networks' matrix products for one evaluation of n points."""
    total = 0
    for name, weight in batched.named_buffers():
        if name.startswith("w"):
            rows, cols = weight.shape
            total += 2 * n_points * rows * cols
    return float(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small setting (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_cpu()
    L, N, T, K = (4, 64, 8, 1) if args.quick else (32, 512, 128, 3)
    experts, reward = sphere_experts(load_axis_experts()), ColorReward("red")
    axis, color = experts
    noise = sample_noise(L, N, generator=torch.Generator().manual_seed(0))

    def run():
        return annealed_importance_sampling(experts, reward, noise, T, K, generator=torch.Generator().manual_seed(1))

    run()
    totals, calls = {}, {}
    timed(axis, "forward", totals, "axis networks", calls)
    timed(axis, "velocity_and_score", totals, "axis experts, whole call")
    timed(color, "velocity_and_score", totals, "color expert")
    timed(reward, "log_reward", totals, "reward")
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    shares = {
        "axis networks": totals["axis networks"],
        "axis experts' wrapper": totals["axis experts, whole call"] - totals["axis networks"],
        "color expert": totals["color expert"],
        "reward": totals["reward"],
    }
    shares["the sampler's own work"] = seconds - sum(shares.values())
    evaluations = calls["axis networks"]

    # the networks' matrix products alone, at the run's batch size
    inputs = torch.randn(L, N, 3, generator=torch.Generator().manual_seed(2))
    axis.forward = type(axis).forward.__get__(axis)
    with torch.no_grad():
        for _ in range(3):
            axis(inputs, 0.3)
        repeats = 20 if args.quick else 100
        start = time.perf_counter()
        for _ in range(repeats):
            axis(inputs, 0.3)
        per_call = (time.perf_counter() - start) / repeats
    flops = matmul_flops(axis, L * N)
    payload = {
        "setting": {"L": L, "N": N, "T": T, "K": K},
        "seconds": round(seconds, 3),
        "shares": {name: round(value / seconds, 4) for name, value in shares.items()},
        "expert_evaluations": evaluations,
        "evaluations_per_level": round(evaluations / (T - 1), 2),
        "ais_evaluations_formula": ais_evaluations(L, T, K) // L,
        "network_seconds_per_evaluation": round(per_call, 5),
        "network_gflops_per_second": round(flops / per_call / 1e9, 1),
        "floor_seconds": round(evaluations * per_call, 3),
    }
    print(payload)
    print(
        f"wrote {write_json('profile_target_quick.json' if args.quick else 'profile_target.json', payload, args.out)}"
    )


if __name__ == "__main__":
    main()
