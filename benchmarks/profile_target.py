"""Where the sampler's time goes at the target setting (L = 32, N = 512, T = 128, K = 3).

    python benchmarks/profile_target.py [--quick] [--out DIR]

Wraps each expert's call in a timer for one run (after a warm-up) and splits the run's seconds
into: the axis experts' networks (their matrix products and ReLUs), the axis experts' wrapper
(inputs, outputs, the score), the color expert, the reward, and the rest (the sampler's own
proposals, Metropolis tests, weights and resampling). It also counts the expert evaluations and
the network calls per level (a Langevin proposal and its Simpson midpoint share one call), and
times the axis networks' matrix products alone, as floating-point operations per second: with
them, the fastest any run could be if everything but those products took no time.

The other floor is measured directly: the same run with the axis networks replaced by one cheap
elementwise stand-in (same shapes, so every other operation runs as before), for both Metropolis
rules, interleaved with real runs. Last, the levers measured on the networks' call and not kept:
bfloat16 (its time and velocity error) and ``torch.compile`` (its compile time, its time per
call, and the first call at a new t). Writes ``profile_target.json``.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from common import RESULTS, write_json

from poe_demo.data import sample_noise
from poe_demo.evaluation import sphere_experts
from poe_demo.experts import load_axis_experts
from poe_demo.rewards import ColorReward
from poe_demo.runtime import configure_cpu
from poe_demo.samplers import ais_calls, ais_evaluations, annealed_importance_sampling


def timed(obj, name: str, totals: dict, label: str, calls: dict | None = None) -> None:
    """Replace ``obj.name`` by a wrapper that adds its seconds to ``totals[label]`` (and counts its calls
    and the states they were asked about: ``calls[label] = [calls, states]``)."""
    inner = getattr(obj, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        out = inner(*args, **kwargs)
        totals[label] = totals.get(label, 0.0) + time.perf_counter() - start
        if calls is not None:
            counts = calls.setdefault(label, [0, 0])
            counts[0] += 1
            counts[1] += args[0].shape[0]
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


def call_ms(fn, repeats: int) -> float:
    """Mean milliseconds of fn() over ``repeats`` calls, after three untimed ones."""
    for _ in range(3):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e3


def floors(axis, run, rounds: int) -> dict:
    """Median seconds of the run with the real networks and with a free stand-in, per rule, interleaved."""

    def free(xyz, t):  # the shape and dtype of the networks' output, from one elementwise op
        return xyz * (-1.0 / max(t, 1e-3))

    times: dict = {}
    for _ in range(rounds):
        for networks in ("real", "free"):
            if networks == "free":
                axis.forward = free
            for rule in ("simpson", "trapezoid"):
                start = time.perf_counter()
                run(rule)
                times.setdefault(f"{rule}, {networks} networks", []).append(time.perf_counter() - start)
            if networks == "free":
                del axis.forward
    return {name: round(statistics.median(values), 3) for name, values in times.items()}


def hidden_layer_gflops(axis, n_points: int, repeats: int) -> float:
    """GFLOP/s of one hidden-layer product ``[n, 33] @ [33, 32]``, the bulk of the networks' arithmetic."""
    weight = axis.get_buffer("w0_1")
    h = torch.rand(n_points, weight.shape[0], generator=torch.Generator().manual_seed(3))
    ms = call_ms(lambda: h @ weight, repeats * 5)
    return 2 * n_points * weight.shape[0] * weight.shape[1] / (ms / 1e3) / 1e9


def levers(axis, inputs, repeats: int) -> dict:
    """The networks' call in float32, in bfloat16 and compiled: milliseconds, error, compile seconds."""
    exact = axis(inputs, 0.3)
    half = copy.deepcopy(axis).to(torch.bfloat16)
    half_inputs = inputs.to(torch.bfloat16)
    error = float((half(half_inputs, 0.3).float() - exact).norm() / exact.norm())
    # a fresh cache, as a reader's first compile finds none (a warm cache made it several times faster)
    with tempfile.TemporaryDirectory(prefix="inductor-") as cache:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
        start = time.perf_counter()
        compiled = torch.compile(axis.forward)
        compiled(inputs, 0.3)
        compile_seconds = time.perf_counter() - start
        start = time.perf_counter()
        compiled(inputs, 0.4)
        new_t_seconds = time.perf_counter() - start
        ms: dict = {"float32": [], "bfloat16": [], "compiled": []}
        for _ in range(3):  # interleaved rounds: the machine's speed drifts
            ms["float32"].append(call_ms(lambda: axis(inputs, 0.3), repeats))
            ms["bfloat16"].append(call_ms(lambda: half(half_inputs, 0.3), repeats))
            ms["compiled"].append(call_ms(lambda: compiled(inputs, 0.3), repeats))
    return {
        "call_ms": {name: round(statistics.median(values), 3) for name, values in ms.items()},
        "bfloat16_relative_velocity_error": round(error, 4),
        "compile_seconds": round(compile_seconds, 1),
        "compiled_first_call_at_new_t_seconds": round(new_t_seconds, 1),
    }


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

    def run(metropolis: str = "simpson"):
        return annealed_importance_sampling(
            experts, reward, noise, T, K, generator=torch.Generator().manual_seed(1), metropolis=metropolis
        )

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
    network_calls, states = calls["axis networks"]
    evaluations = states // L  # in units of the L clouds: a proposal and its Simpson midpoint share a call

    # the networks' matrix products alone, at the run's batch size
    inputs = torch.randn(L, N, 3, generator=torch.Generator().manual_seed(2))
    for obj, name in ((axis, "forward"), (axis, "velocity_and_score"), (color, "velocity_and_score")):
        delattr(obj, name)  # the timers come off
    del reward.log_reward
    with torch.no_grad():
        repeats = 20 if args.quick else 100
        per_call = call_ms(lambda: axis(inputs, 0.3), repeats) / 1e3
        measured_floors = floors(axis, run, 1 if args.quick else 3)
        measured_levers = levers(axis, inputs, repeats)
        hidden = hidden_layer_gflops(axis, L * N, repeats)
    flops = matmul_flops(axis, L * N)
    payload = {
        "setting": {"L": L, "N": N, "T": T, "K": K},
        "seconds": round(seconds, 3),
        "shares": {name: round(value / seconds, 4) for name, value in shares.items()},
        "expert_evaluations": evaluations,
        "evaluations_per_level": round(evaluations / (T - 1), 2),
        "network_calls": network_calls,
        "network_calls_per_level": round(network_calls / (T - 1), 2),
        "ais_calls_formula": ais_calls(T, K, batch_numbers=noise.numel())["generative"],
        "ais_evaluations_formula": ais_evaluations(L, T, K) // L,
        "network_seconds_per_evaluation": round(per_call, 5),
        "network_gflops_per_second": round(flops / per_call / 1e9, 1),
        "floor_seconds": round(evaluations * per_call, 3),
        "network_gflop_per_run": round(flops * evaluations / 1e9, 1),
        "hidden_layer_gflops_per_second": round(hidden, 1),
        "floors": measured_floors,
        "levers": measured_levers,
    }
    print(payload)
    print(
        f"wrote {write_json('profile_target_quick.json' if args.quick else 'profile_target.json', payload, args.out)}"
    )


if __name__ == "__main__":
    main()
