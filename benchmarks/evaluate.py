"""Quality report: sphere fidelity, steering success against its bound, and known-answer errors.

    python benchmarks/evaluate.py [--quick] [--out DIR]

Writes ``evaluate.json`` and ``evaluate.png`` to benchmarks/results/; the README quotes them.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from common import RESULTS, write_json  # noqa: E402

from poe_demo.data import sample_noise  # noqa: E402
from poe_demo.equal_cost import euler_samples_at_equal_cost  # noqa: E402
from poe_demo.evaluation import (  # noqa: E402
    CHANNELS,
    best_of_n_trial,
    oracle_experts,
    rejection_trial,
    sphere_experts,
    success_rate,
)
from poe_demo.experts import ColorMeanExpert, GaussianExpert, gaussian_product, load_axis_experts  # noqa: E402
from poe_demo.metrics import best_of_l_bound, chamfer_distance, color_spread, dominant_channel_probability, radial_error  # noqa: E402
from poe_demo.rewards import GaussianReward  # noqa: E402
from poe_demo.runtime import configure_cpu  # noqa: E402
from poe_demo.samplers import annealed_importance_sampling, euler  # noqa: E402


def mean_and_std(values: list[float]) -> dict:
    return {
        "mean": round(statistics.fmean(values), 5),
        "std": round(statistics.stdev(values), 5) if len(values) > 1 else 0.0,
    }


def sphere_fidelity(seeds, n_clouds, n_points, n_steps) -> dict:
    axis = load_axis_experts()
    experts, oracle = sphere_experts(axis), oracle_experts()
    methods = {
        f"{a} expert alone (Euler)": lambda x, g, a=a: euler([axis[a], ColorMeanExpert()], x, n_steps).particles
        for a in "xyz"
    }
    methods["velocity sum (Euler)"] = lambda x, g: euler(experts, x, n_steps).particles
    for k in (0, 1, 3, 10):
        methods[f"AIS K={k}"] = lambda x, g, k=k: (
            annealed_importance_sampling(experts, None, x, n_steps, k, generator=g).particles
        )
    methods["exact oracle, AIS K=3"] = lambda x, g: (
        annealed_importance_sampling(oracle, None, x, n_steps, 3, generator=g).particles
    )
    report = {}
    for name, sample in methods.items():
        metrics = {"radial_error": [], "chamfer_distance": [], "color_spread": []}
        for seed in seeds:
            x = sample(
                sample_noise(n_clouds, n_points, generator=torch.Generator().manual_seed(seed)),
                torch.Generator().manual_seed(10_000 + seed),
            )
            metrics["radial_error"].append(float(radial_error(x).mean()))
            metrics["chamfer_distance"].append(float(chamfer_distance(x).mean()))
            metrics["color_spread"].append(float(color_spread(x).mean()))
        report[name] = {k: mean_and_std(v) for k, v in metrics.items()}
        print(name, report[name], flush=True)
    return report


def steering(seeds, counts) -> dict:
    experts = sphere_experts()
    p = dominant_channel_probability(0)
    report = {"p": round(p, 5), "bound": {n: round(best_of_l_bound(p, n), 4) for n in counts}, "colors": {}}
    # the trials' defaults: 64 points, T = 16, K = 1
    report["euler_samples_same_budget"] = {
        n: euler_samples_at_equal_cost(n, n_mcmc_steps=1, n_steps=16) for n in counts
    }
    for color in CHANNELS:
        rows = {}
        for n in counts:
            rows[n] = {
                "incremental": success_rate(experts, color, n, seeds),
                "paper": success_rate(experts, color, n, seeds, weighting="paper"),
                "best_of_n_same_budget": success_rate(experts, color, n, seeds, trial=best_of_n_trial),
                "rejection_same_budget": success_rate(experts, color, n, seeds, trial=rejection_trial),
            }
            print(color, n, rows[n], flush=True)
        report["colors"][color] = rows
    return report


def known_answers(counts, n_seeds) -> dict:
    """Errors of AIS estimates against the closed forms over seeds, as the particle count grows.

    Each error is split into its spread over seeds (std, the Monte Carlo error, which should fall
    like 1/sqrt(L)) and its mean (bias: what more particles cannot remove, e.g. the Euler levels).
    """
    e1, e2 = GaussianExpert(-0.7, 0.8), GaussianExpert(1.3, 0.5)
    product_mean, product_std, _ = gaussian_product([-0.7, 1.3], [0.8, 0.5])
    prior, reward = GaussianExpert(0.5, 1.0), GaussianReward(2.0, 0.6)
    post_mean, _, log_z_product = gaussian_product([0.5, 2.0], [1.0, 0.6])
    log_z = log_z_product + 0.5 * math.log(2 * math.pi * 0.6**2)
    report = {}
    for n in counts:
        errors = {"product_mean": [], "product_variance": [], "posterior_mean": [], "log_z": []}
        for seed in range(n_seeds):
            g = torch.Generator().manual_seed(seed)
            x = torch.randn(n, 1, generator=g, dtype=torch.float64)
            p = annealed_importance_sampling([e1, e2], None, x, 64, 3, generator=g).particles.squeeze(1)
            errors["product_mean"].append(float(p.mean()) - product_mean)
            errors["product_variance"].append(float(p.var()) - product_std**2)
            r = annealed_importance_sampling(prior, reward, x, 128, 3, generator=g)
            errors["posterior_mean"].append(float((r.log_weights.exp() * r.particles.squeeze(1)).sum()) - post_mean)
            errors["log_z"].append(r.log_normalizer - log_z)
        report[n] = {
            k: {
                "rms": round(math.sqrt(statistics.fmean(e * e for e in v)), 5),
                "bias": round(statistics.fmean(v), 5),
                "std": round(statistics.stdev(v), 5),
            }
            for k, v in errors.items()
        }
        print(n, report[n], flush=True)
    log_l = [math.log(n) for n in counts]
    report["slope_log_std_vs_log_L"] = {
        k: round(statistics.linear_regression(log_l, [math.log(report[n][k]["std"]) for n in counts]).slope, 3)
        for k in report[counts[0]]
    }
    return report


def plot(report: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    names = list(report["sphere"])
    axes[0].barh(
        names,
        [report["sphere"][n]["radial_error"]["mean"] for n in names],
        xerr=[report["sphere"][n]["radial_error"]["std"] for n in names],
    )
    for i, n in enumerate(names):
        if report["sphere"][n]["radial_error"]["mean"] == 0:  # the oracle: invisible on a log axis
            axes[0].text(0.02, i, "0 (exact)", va="center", transform=axes[0].get_yaxis_transform())
    axes[0].set(xscale="log", xlabel="radial error (mean over seeds)")
    steer = report["steering"]
    counts = list(steer["bound"])  # JSON keys: "1", "2", ...
    axes[1].plot([int(n) for n in counts], list(steer["bound"].values()), "k--", label="bound 1-(1-p)^L")
    for key, style in (
        ("incremental", "o-"),
        ("paper", "s-"),
        ("best_of_n_same_budget", "d-"),
        ("rejection_same_budget", "^:"),
    ):
        rate = [statistics.fmean(steer["colors"][c][n][key] for c in steer["colors"]) for n in counts]
        axes[1].plot([int(n) for n in counts], rate, style, label=key)
    axes[1].set(xscale="log", xlabel="particles L", ylabel="success rate (mean over colors)")
    axes[1].legend(fontsize=7)
    known = {int(k): v for k, v in report["known_answers"].items() if k.isdigit()}
    for key in ("product_mean", "posterior_mean", "log_z"):
        axes[2].plot(list(known), [v[key]["std"] for v in known.values()], "o-", label=f"{key}: std over seeds")
    axes[2].plot(
        list(known),
        [known[min(known)]["log_z"]["std"] * math.sqrt(min(known) / n) for n in known],
        "k:",
        label="1/sqrt(L)",
    )
    axes[2].set(xscale="log", yscale="log", xlabel="particles L", ylabel="error")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few seeds, small sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--plot-only", action="store_true", help="redraw evaluate.png from an existing evaluate.json")
    args = parser.parse_args()
    if args.plot_only:
        plot(json.loads((args.out / "evaluate.json").read_text()), args.out / "evaluate.png")
        return
    configure_cpu()
    if args.quick:
        settings = dict(
            sphere=dict(seeds=range(2), n_clouds=2, n_points=32, n_steps=4),
            steer_seeds=range(2),
            counts=[1, 2],
            known=([50, 100], 2),
        )
    else:
        settings = dict(
            sphere=dict(seeds=range(20), n_clouds=4, n_points=256, n_steps=64),
            steer_seeds=range(50),
            counts=[1, 2, 4, 8, 16, 32],
            known=([100, 400, 1600, 6400], 20),
        )
    report = {
        "sphere": sphere_fidelity(**settings["sphere"]),
        "steering": steering(settings["steer_seeds"], settings["counts"]),
        "known_answers": known_answers(*settings["known"]),
    }
    report = _json_keys(report)
    out = write_json(
        "evaluate_quick.json" if args.quick else "evaluate.json",
        {"settings": _json_keys({k: str(v) for k, v in settings.items()}), **report},
        directory=args.out,
    )
    if not args.quick:
        plot(report, args.out / "evaluate.png")
    print(f"wrote {out}")


def _json_keys(obj):
    """JSON needs string keys; particle counts become '1', '2', ..."""
    if isinstance(obj, dict):
        return {str(k): _json_keys(v) for k, v in obj.items()}
    return obj


if __name__ == "__main__":
    main()
