"""Speed of the annealed importance sampler on CPU, beside the quality reached at each setting.

Grid: particles L in {1, 8, 32}, points N in {256, 512}, levels T in {64, 128}, MCMC steps
K in {0, 3}, steered to red with the shipped experts. Every setting is warmed up once, then
timed once per round, the rounds interleaving the settings, so a slow minute of this shared
machine hits every setting alike; each row keeps the minimum and the median over the rounds,
with points x levels per second, the peak resident memory of the run and the radial error
reached. A fixed workload timed at the start of each round measures how much the machine's
speed drifted during the run. The same settings run through ``reference_ais`` (the same algorithm,
one particle and one expert call at a time) give the speed-up. Also timed: the playground's
default settings, re-sampled and redrawn.

    python benchmarks/bench_sampler.py [--quick] [--reference grid|target|none] [--out DIR]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from common import RESULTS, median_seconds, write_json  # noqa: E402
from reference_ais import reference_ais  # noqa: E402

from poe_demo.data import sample_noise  # noqa: E402
from poe_demo.evaluation import sphere_experts  # noqa: E402
from poe_demo.experts import load_axis_experts  # noqa: E402
from poe_demo.metrics import radial_error  # noqa: E402
from poe_demo.rewards import ColorReward  # noqa: E402
from poe_demo.runtime import configure_cpu  # noqa: E402
from poe_demo.samplers import annealed_importance_sampling  # noqa: E402

TARGET = dict(L=32, N=512, T=128, K=3)


def peak_rss_mb(fn) -> tuple[object, float]:
    """Run fn and return (its result, the process's peak resident set during it, MB). Linux only."""
    clear = Path("/proc/self/clear_refs")
    if not clear.exists():
        return fn(), float("nan")
    clear.write_text("5")  # resets VmHWM, the peak RSS, to the current RSS
    out = fn()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return out, int(line.split()[1]) / 1024
    return out, float("nan")


def calibration_seconds() -> float:
    """Time of a fixed workload (matmuls like the experts' own): the machine's speed at this moment."""
    a = torch.randn(16384, 33, generator=torch.Generator().manual_seed(0))
    b = torch.randn(33, 32, generator=torch.Generator().manual_seed(1))
    start = time.perf_counter()
    for _ in range(200):
        (a @ b).relu_()
    return time.perf_counter() - start


def interleaved_seconds(runs: list, repeats: int) -> tuple[list[list[float]], list[float]]:
    """Each run warmed up once, then timed once per round, rounds interleaving the runs:
    (seconds per run per round, the calibration workload's seconds at the start of each round)."""
    for run in runs:
        run()
    times, calibration = [[] for _ in runs], []
    for _ in range(repeats):
        calibration.append(calibration_seconds())
        for run, seconds in zip(runs, times):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
    return times, calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny grid and one repeat (smoke test)")
    parser.add_argument(
        "--reference",
        choices=["grid", "target", "none"],
        default="grid",
        help="where to time the loop-based reference: every grid point, the target setting only, or nowhere",
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    cpu = configure_cpu()
    axis = load_axis_experts()
    experts, reward = sphere_experts(axis), ColorReward("red")
    one_by_one = sphere_experts(axis, batched=False)  # the reference calls each expert on its own
    if args.quick:
        grid, repeats = [dict(L=2, N=16, T=4, K=k) for k in (0, 1)], 1
    else:
        grid = [dict(L=L, N=N, T=T, K=K) for L, N, T, K in itertools.product((1, 8, 32), (256, 512), (64, 128), (0, 3))]
        repeats = args.repeats
    runs, rows = [], []
    for s in grid:
        noise = sample_noise(s["L"], s["N"], generator=torch.Generator().manual_seed(0))
        runs.append(
            lambda s=s, noise=noise: annealed_importance_sampling(
                experts, reward, noise, s["T"], s["K"], generator=torch.Generator().manual_seed(1)
            )
        )
    times, calibration = interleaved_seconds(runs, repeats)
    for s, run, seconds in zip(grid, runs, times):
        result, peak = peak_rss_mb(run)
        median = statistics.median(seconds)
        row = {
            **s,
            "seconds": round(median, 4),
            "min_seconds": round(min(seconds), 4),
            "points_x_levels_per_second": round(s["L"] * s["N"] * s["T"] / median),
            "peak_rss_mb": round(peak, 1),
            "radial_error": round(float(radial_error(result.particles).mean()), 5),
        }
        if args.reference == "grid" or (args.reference == "target" and (s == TARGET or args.quick)):
            noise = sample_noise(s["L"], s["N"], generator=torch.Generator().manual_seed(0))
            start = time.perf_counter()
            x_ref, _ = reference_ais(
                one_by_one, [reward], noise, s["T"], s["K"], generator=torch.Generator().manual_seed(1)
            )
            row["reference_seconds"] = round(time.perf_counter() - start, 3)
            row["speedup"] = round(row["reference_seconds"] / median, 1)
            row["reference_radial_error"] = round(float(radial_error(x_ref).mean()), 5)
        rows.append(row)
        print(row, flush=True)

    from poe_demo.widgets import Playground

    playground = Playground(axis)
    playground_seconds = median_seconds(playground.run, repeats=1 if args.quick else repeats)
    summary = {
        "playground_default_rerun_seconds": round(playground_seconds, 4),
        "playground_default_settings": {k: v for k, v in playground.last_settings.items() if k != "target"},
    }
    print(summary)
    path = write_json(
        "bench_sampler_quick.json" if args.quick else "bench_sampler.json",
        {
            "cpu_settings": cpu,
            "rounds": repeats,
            "drift": {
                "calibration_seconds": [round(c, 4) for c in calibration],
                "max_over_min": round(max(calibration) / min(calibration), 2),
            },
            "rows": rows,
            **summary,
        },
        directory=args.out,
    )
    if not args.quick:
        plot(rows, args.out / "bench_sampler.png")
    print(f"wrote {path}")


def plot(rows: list[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    labels = [f"L{r['L']} N{r['N']} T{r['T']} K{r['K']}" for r in rows]
    ax.bar(range(len(rows)), [r["seconds"] for r in rows], label="batched sampler")
    ref = [(i, r["reference_seconds"]) for i, r in enumerate(rows) if "reference_seconds" in r]
    if ref:
        ax.scatter(*zip(*ref), color="C3", zorder=3, label="loop-based reference")
    ax.axhline(2.0, color="gray", ls="--", lw=0.8, label="2 s target (L32 N512 T128 K3)")
    ax.set_yscale("log")
    ax.set_xticks(range(len(rows)), labels, rotation=90, fontsize=7)
    ax.set_ylabel("seconds (median)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
