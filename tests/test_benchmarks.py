"""The benchmark scripts: smoke tests at tiny sizes (timings are not asserted), and the loop-based reference
sampler checked against the library's."""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import gen

from poe_demo.experts import GaussianExpert
from poe_demo.rewards import GaussianReward
from poe_demo.samplers import annealed_importance_sampling

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(
    "script, output",
    [
        ("bench_sampler.py", "bench_sampler_quick.json"),
        ("evaluate.py", "evaluate_quick.json"),
        ("expert_size.py", "expert_size_quick.json"),
        ("weights.py", "weights_quick.json"),
        ("steering.py", "steering_quick.json"),
        ("playground_latency.py", "playground_latency_quick.json"),
        ("versus_commit.py", "versus_commit.json"),
        ("versus_commit.py --setting digits", "versus_commit_digits.json"),
        ("digits.py", "digits_quick.json"),
        ("profile_target.py", "profile_target_quick.json"),
        ("digit_resolution.py", "digit_resolution_quick.json"),
        ("digit_nets.py", "digit_nets_quick.json"),
        ("cli_start.py", "cli_start_quick.json"),
        ("compose.py", "compose_quick.json"),
        ("busy_core.py", "busy_core_quick.json"),
        ("seconds.py", "seconds_quick.json"),
        ("video.py", "video_quick.json"),
    ],
)
def test_benchmark_script_runs_at_tiny_sizes(tmp_path, script, output):
    if script == "playground_latency.py" and not Path("/usr/bin/chromium").exists() and not os.environ.get("CI"):
        pytest.skip("no browser at /usr/bin/chromium (make browser installs it)")
    script, *options = script.split()
    quick = ["--pairs", "1"] if script == "versus_commit.py" else ["--quick"]
    args = [sys.executable, script, *options, *quick, "--out", str(tmp_path)]
    done = subprocess.run(args, cwd=BENCHMARKS, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / output).read_text())
    assert report["machine"]["cores"] >= 1
    if script == "bench_sampler.py":
        assert all(row["seconds"] > 0 and "radial_error" in row for row in report["rows"])
        assert "speedup" in report["rows"][0] and all(row["min_seconds"] <= row["seconds"] for row in report["rows"])
        assert report["drift"]["max_over_min"] >= 1 and len(report["drift"]["calibration_seconds"]) == report["rounds"]
    if script == "evaluate.py":
        assert set(report["steering"]["colors"]) == {"red", "green", "blue"}
        assert "slope_log_std_vs_log_L" in report["known_answers"]
    if script == "playground_latency.py":
        # each change was seen drawn in JupyterLab with its new L, after a kernel run shorter than the wait
        assert report["changes"] == 2 and all(
            0 < k < s < 120 for s, k in zip(report["seconds"], report["kernel_seconds"])
        )
    if script == "steering.py":
        # T = 8, K = 1 with Simpson's rule: L at the start, L for the one curvature probe, then 7 levels of
        # L (1 + 2) evaluations, so 23 L in all; Euler samples cost 8 each, rounded up: 3 for L = 1, 6 for L = 2
        assert report["euler_samples_same_budget"] == {"1": 3, "2": 6}
        for chances in report["chance_per_cloud"].values():
            assert set(chances) == {"red", "green", "blue"} and all(
                0 <= p <= 1 and se >= 0 for p, se in chances.values()
            )
        assert all(set(rates["1"]) == {"red", "green", "blue"} for rates in report["rates"].values())
    if script == "versus_commit.py":
        (pair,) = report["pairs"]
        assert pair["ratio"] == pytest.approx(pair["current"]["seconds"] / pair["base"]["seconds"])
    if output == "versus_commit.json":
        assert pair["trapezoid_ratio"] == pytest.approx(pair["trapezoid"]["seconds"] / pair["base"]["seconds"])
        assert report["base"] == "8698d99" and 0 < report["radial_error"]["current"] < 0.05
    if script == "seconds.py":  # best-of-N was given at least the annealed run's calibrated seconds
        (r,) = report["rows"]["bold"]
        assert r["N"] >= 1 and r["best_of_n"]["seconds_per_run"] > 0 and r["annealed"]["seconds_per_run"] > 0
        assert all(0 <= r[side]["rate"] <= 1 for side in ("annealed", "best_of_n"))
        assert len(report["bold_training_share"]) == 10
        assert (tmp_path / "seconds_quick.png").stat().st_size > 0  # the figure of success against seconds
    if output == "versus_commit_digits.json":  # the same ten runs in both trees: the judge reads most of them
        assert report["base"] == "3cce83f" and report["setting"] == {"L": 4, "T": 32, "K": 2, "runs": 10}
        assert all(5 <= report["judge_reads_the_digit"][tree] <= 10 for tree in ("current", "base"))
    if script == "profile_target.py":
        assert report["expert_evaluations"] == report["ais_evaluations_formula"]  # the spy sees what the formula says
        assert report["network_calls"] == report["ais_calls_formula"] < report["expert_evaluations"]
        assert abs(sum(report["shares"].values()) - 1) < 1e-3 and 0 < report["floor_seconds"] < report["seconds"]
        floors = report["floors"]
        rules, networks = ("simpson", "trapezoid"), ("real", "free")
        assert set(floors) == {f"{rule}, {nets} networks" for rule in rules for nets in networks}
        assert all(seconds > 0 for seconds in floors.values())
        levers = report["levers"]
        assert set(levers["call_ms"]) == {"float32", "bfloat16", "compiled"} and levers["compile_seconds"] > 0
        assert 0 < levers["bfloat16_relative_velocity_error"] < 0.1  # bfloat16 rounds, but computes the same network
    if script == "digits.py":
        assert sum(report["quality"]["judge_histogram"]) == report["quality"]["n"]
        rows = report["steering"]["rows"]
        assert set(rows) == {"1", "2"} and all(0 <= r["annealed"]["judge"]["rate"] <= 1 for r in rows.values())
        assert rows["1"]["N"] >= 1
    if script == "compose.py":
        for rows in report["products"].values():
            annealed, plain = rows["annealed"], rows["euler"]
            assert plain["evaluations"] >= annealed["evaluations"] and abs(sum(plain["classes"]) - 1) < 1e-3
            assert 1 <= annealed["ancestors"] <= report["settings"]["n_particles"]
        assert set(report["seven"]["reward on flow_all"]) == {"annealed"}  # Euler cannot use a reward
        assert set(report["guidance_per_digit"]) == {str(d) for d in range(10)}
    if script == "digit_resolution.py":
        assert set(report["rows"]) == {"14", "28"} and all(r["digits_seen"] <= 10 for r in report["rows"].values())
    if script == "digit_nets.py":
        rows = report["rows"]
        assert len(rows) == 3 and any("UNet2DModel" in name for name in rows)
        assert all(r["training_steps"] >= 2 and set(r["call_ms"]) == {"1", "8", "32"} for r in rows.values())
    if script == "cli_start.py":
        assert set(report["rows"]) == {"poe-demo --help", "poe-demo sample --help"}
        assert all(0 < r["median_seconds"] <= r["max_seconds"] for r in report["rows"].values())
        assert all(r["heavy_modules_imported"] == [] for r in report["rows"].values())  # help needs no torch
    if script == "video.py":
        assert report["engine"]["ball_frames"] == 1.0  # the tracker finds every rendered ball
        for row in ("physics", "physics_and_goal", "goal_alone"):
            assert report[row]["N"] >= report[row]["N_at_equal_evaluations"] >= 1
            assert set(report[row]["annealed"]) == {"ball", "physical", "goal", "seconds_per_run"}
    if script == "weights.py":
        assert set(report["quadrature"][str(report["levels"][0])]) == {"trapezoid", "left"}
        assert len(report["overlap"]["rows"]) == 4 * 2  # four methods at two cloud sizes
        rows = report["metropolis"]["rows"]
        assert set(rows) == {"simpson, T=64", "trapezoid, T=64"}
        assert rows["simpson, T=64"]["evaluations"] > rows["trapezoid, T=64"]["evaluations"] > 0


def _benchmark(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCHMARKS))  # the scripts import their shared helpers as `common`
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def test_seconds_add_replaces_rows_of_the_same_setting_and_keeps_the_rest():
    merged = _benchmark("seconds").merged
    row = lambda k, n, rate: {"K": k, "L": n, "rate": rate}  # noqa: E731
    old = {"T": 32, "trials": 60, "rows": {"bold": [row(2, 4, 0.1), row(0, 4, 0.0)], "d": [row(2, 4, 0.9)]}}
    new = {"bold": [row(2, 4, 0.3), row(1, 8, 0.5)]}
    assert merged(old, new, 60) == {
        "bold": [row(0, 4, 0.0), row(1, 8, 0.5), row(2, 4, 0.3)],  # sorted by K, then L
        "d": [row(2, 4, 0.9)],
    }
    with pytest.raises(SystemExit, match="30 trials"):
        merged(old, new, 30)


def _reference_ais():
    """benchmarks/reference_ais.py, imported from its file (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("reference_ais", BENCHMARKS / "reference_ais.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reference_ais


@pytest.mark.parametrize("with_reward", [False, True])
def test_loop_reference_samples_the_same_distribution_as_the_batched_sampler(with_reward):
    # Same algorithm, same levels: only Monte Carlo error separates their weighted means. Resampling
    # correlates particles, so the reference's error is measured from 12 independent runs (Student t
    # with 11 degrees of freedom: |t| > 4.44 has probability 0.001); the batched sampler gets
    # 40,000 particles, whose error is negligible beside it.
    experts = [GaussianExpert(0.5, 1.0)] if with_reward else [GaussianExpert(-0.7, 0.8), GaussianExpert(1.3, 0.5)]
    rewards = [GaussianReward(2.0, 0.6)] if with_reward else []
    reference = _reference_ais()

    def weighted_mean(x, log_w):
        return (log_w.exp() * x.squeeze(1)).sum().item()

    runs = [
        weighted_mean(
            *reference(
                experts,
                rewards,
                torch.randn(100, 1, generator=gen(seed), dtype=torch.float64),
                16,
                2,
                generator=gen(100 + seed),
            )
        )
        for seed in range(12)
    ]
    big = annealed_importance_sampling(
        experts, rewards, torch.randn(40_000, 1, generator=gen(200), dtype=torch.float64), 16, 2, generator=gen(201)
    )
    runs_t = torch.tensor(runs)
    t_statistic = (runs_t.mean() - weighted_mean(big.particles, big.log_weights)) / (
        runs_t.std() / math.sqrt(len(runs))
    )
    assert abs(t_statistic.item()) < 4.44, runs


def test_readme_tables_are_the_benchmark_results():
    # README.md's measured numbers are rendered from benchmarks/results/*.json by report.py; this
    # fails when either was changed without the other.
    done = subprocess.run(
        [sys.executable, "report.py", "--check"], cwd=BENCHMARKS, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
