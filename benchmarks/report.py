"""Write the result tables from benchmarks/results/*.json, so every number on a page comes from a run.

    python benchmarks/report.py           # rewrite the marked sections of benchmarks/README.md and README.md
    python benchmarks/report.py --check   # exit 1 if a page and the JSON disagree (the tests run this)

A section is the text between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->``.
``benchmarks/README.md`` holds the full tables; the top-level README holds ``summary``, a few
headline numbers drawn from the same JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

from common import RESULTS

README = Path(__file__).resolve().parents[1] / "README.md"
BENCHMARKS_README = Path(__file__).resolve().parent / "README.md"
# The speed table shows these settings of the grid; bench_sampler.json holds all 24.
SPEED_ROWS = [
    (1, 256, 64, 3),
    (8, 512, 64, 3),
    (32, 512, 64, 0),
    (32, 512, 64, 3),
    (32, 512, 128, 0),
    (32, 512, 128, 3),
]
TARGET = (32, 512, 128, 3)


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine(results: dict) -> str:
    m = results["bench_sampler"]["machine"]
    return (
        f"Measured on the {m['cores']}-core CI machine ({m['cpu']}, torch {m['torch']}, "
        f"{m['torch_threads']} threads, Python {m['python']}, `configure_cpu()` applied)."
    )


def speed(results: dict) -> str:
    bench = results["bench_sampler"]
    rows = {(r["L"], r["N"], r["T"], r["K"]): r for r in bench["rows"]}
    table = _table(
        [
            "setting",
            "seconds (median / min)",
            "reference",
            "speed-up",
            "points x levels / s",
            "radial error",
            "peak RSS",
        ],
        [
            [
                f"L={L}, N={N}, T={T}, K={K}",
                f"{r['seconds']:.2f} / {r['min_seconds']:.2f}",
                f"{r['reference_seconds']:.2f}",
                f"{r['speedup']}x",
                f"{r['points_x_levels_per_second'] / 1e6:.2f} M",
                f"{r['radial_error']:.4f}",
                f"{r['peak_rss_mb']:.0f} MB",
            ]
            for (L, N, T, K), r in ((key, rows[key]) for key in SPEED_ROWS)
        ],
    )
    target = rows[TARGET]
    speedups = [r["speedup"] for r in bench["rows"]]
    play = bench["playground_default_settings"]
    drift = bench["drift"]
    return (
        f"{table}\n\n"
        f"Each setting was timed once in each of {bench['rounds']} rounds that interleave the settings (after a "
        f"warm-up); a fixed matmul workload timed at the start of every round took from "
        f"{min(drift['calibration_seconds']):.3f} s to {max(drift['calibration_seconds']):.3f} s, so the machine's "
        f"speed drifted by a factor of {drift['max_over_min']:.2f} during the run. "
        f"At the target setting (L = 32, N = 512, T = 128, K = 3) the sampler takes **{target['seconds']:.2f} s** "
        f"(median; fastest {target['min_seconds']:.2f} s), {target['speedup']}x less than the reference "
        f"({target['reference_seconds']:.1f} s), "
        f"at a radial error of {target['radial_error']:.4f} (reference {target['reference_radial_error']:.4f}). "
        f"Over the 24 settings the speed-up runs from {min(speedups)}x to {max(speedups)}x. The playground's "
        f"default settings (L = {play['n_particles']}, T = {play['n_steps']}, K = {play['n_mcmc_steps']}, "
        f"256 points) re-sample and redraw in **{bench['playground_default_rerun_seconds']:.2f} s** "
        "(goal: at most 0.5 s)."
    )


def expert_size(results: dict) -> str:
    rows = results["expert_size"]["rows"]
    return _table(
        [
            "hidden x depth",
            "parameters",
            "max relative velocity error",
            "three experts, one call",
            "AIS radial error",
            "AIS seconds",
        ],
        [
            [
                f"{r['hidden']} x {r['depth']}",
                r["parameters"],
                f"{r['max_relative_velocity_error']:.3f}",
                f"{r['call_ms_three_experts']:.2f} ms",
                f"{r['ais_radial_error']:.4f}",
                f"{r['ais_seconds']:.2f}",
            ]
            for r in rows
        ],
    )


def fidelity(results: dict) -> str:
    sphere = results["evaluate"]["sphere"]
    return _table(
        ["method", "radial error", "Chamfer", "color spread"],
        [
            [
                name,
                f"{m['radial_error']['mean']:.4f} ± {m['radial_error']['std']:.4f}",
                f"{m['chamfer_distance']['mean']:.4f} ± {m['chamfer_distance']['std']:.4f}",
                f"{m['color_spread']['mean']:.4f}",
            ]
            for name, m in sphere.items()
        ],
    )


def steering(results: dict) -> str:
    steer = results["evaluate"]["steering"]
    colors = steer["colors"]

    def rate(n: str, key: str) -> str:
        return f"{statistics.fmean(colors[c][n][key] for c in colors):.2f}"

    samples = steer["euler_samples_same_budget"]
    table = _table(
        ["L", "bound 1-(1-p)^L", "incremental", "paper", "N", "best-of-N", "rejection (N proposals)"],
        [
            [
                n,
                f"{bound:.3f}",
                rate(n, "incremental"),
                rate(n, "paper"),
                samples[n],
                rate(n, "best_of_n_same_budget"),
                rate(n, "rejection_same_budget"),
            ]
            for n, bound in steer["bound"].items()
        ],
    )
    return f"p = {steer['p']:.4f}\n\n{table}"


def playground_latency(results: dict) -> str:
    lat = results["playground_latency"]
    return (
        f"In JupyterLab, driven by headless Chromium (`benchmarks/playground_latency.py`): a slider change to the "
        f"redrawn figure takes **{lat['median_seconds']:.2f} s** (median of {lat['changes']} changes, at most "
        f"{lat['max_seconds']:.2f} s) at the playground's default settings (goal: at most 0.5 s; "
        f"{'met' if lat['median_seconds'] <= 0.5 else 'not met'}). Of that, the kernel's run takes "
        f"{lat['median_kernel_seconds']:.2f} s (the playground's own timer) and the rest, messages between browser "
        f"and kernel, the figure's update and plotly's redraw, {lat['median_rest_seconds']:.2f} s (medians)."
    )


def steering_path(results: dict) -> str:
    path = results["steering"]
    rates, samples = path["rates"], path["euler_samples_same_budget"]
    chances = "; ".join(
        f"{expert}: " + ", ".join(f"{color} {p:.3f} ± {se:.3f}" for color, (p, se) in by_color.items())
        for expert, by_color in path["chance_per_cloud"].items()
    )
    trials = path["n_seeds"] * len(next(iter(next(iter(rates.values())).values())))
    table = _table(
        ["L", "N"] + list(rates),
        [[n, samples[n]] + [f"{statistics.fmean(rates[m][n].values()):.2f}" for m in rates] for n in samples],
    )
    worst_se = 0.5 / trials**0.5
    return (
        f"Chance that one unsteered Euler cloud passes the success test (p, ± its standard error): {chances}.\n\n"
        f"{table}\n\nEach rate is over {trials} trials ({path['n_seeds']} seeds x 3 colors; standard error at most "
        f"{worst_se:.3f}); T = {path['n_steps']}, K = {path['n_mcmc_steps']}, 64 points."
    )


def _pairs(v: dict) -> str:
    """The timing sentence of a ``versus_commit.py`` result: both trees' seconds and the ratio within a pair."""
    ratio, current, base = v["ratio"], v["current_seconds"], v["base_seconds"]
    return (
        f"{len(v['pairs'])} pairs of fresh processes, this tree and commit {v['base']} in alternating order: this "
        f"tree {current['median']:.2f} s median ({current['min']:.2f} s min), {v['base']} {base['median']:.2f} s "
        f"({base['min']:.2f} s); ratio within a pair {ratio['median']:.2f} (median), {ratio['min']:.2f} (min)"
    )


def versus_commit(results: dict) -> str:
    v = results["versus_commit"]
    return (
        f"Target setting (L = 32, N = 512, T = 128, K = 3), {_pairs(v)}. Radial error: "
        f"{v['radial_error']['current']:.4f} here, {v['radial_error']['base']:.4f} at {v['base']}. This tree with "
        f'`metropolis="trapezoid"` (the rule {v["base"]} used, with the carried curvature): '
        f"{v['trapezoid_seconds']['median']:.2f} s median, ratio {v['trapezoid_ratio']['median']:.2f} against "
        f"{v['base']}, radial error {v['radial_error']['trapezoid']:.4f}."
    )


def versus_commit_digits(results: dict) -> str:
    v = results["versus_commit_digits"]
    read = v["judge_reads_the_digit"]
    return (
        f"One digit run (L = 4, T = 32, K = 2, steered by the reward classifier; the median of ten runs, digits 0-9), "
        f"{_pairs(v)}, {1 / v['ratio']['median']:.2f}x faster. The judge reads the digit asked for in "
        f"{read['current']} of the ten runs here, {read['base']} at {v['base']}."
    )


def seconds(results: dict) -> str:
    v = results["seconds"]
    label = v["titles"]
    rows = []
    for target, measured in v["rows"].items():
        for r in measured:
            a, b = r["annealed"], r["best_of_n"]
            rate = lambda side: f"{side['rate']:.2f} ± {side['se']:.2f}"  # noqa: E731
            rows.append([
                label[target], r["K"], r["L"], rate(a), f"{a['seconds_per_run']:.2f}",
                r["N"], rate(b), f"{b['seconds_per_run']:.2f}", f"{r['difference_in_se']:+.1f}",
            ])  # fmt: skip
    header = ["target", "K", "L", "annealed: success", "s / run", "N", "best-of-N: success", "s / run", "gap / se"]
    shares = ", ".join(f"{100 * p:.1f}" for p in v["bold_training_share"])
    return (
        f"{_table(header, rows)}\n\n{v['trials']} trials per row (trial i asks for digit i mod 10), T = {v['T']}; "
        f"success as the judge reads it, and for a bold d with ink above {v['bold_threshold']}, which this share of "
        f"each class's training images reaches (digits 0-9, %): {shares}. Gap / se: the difference of the two rates "
        f"over its standard error."
    )


def known_answers(results: dict) -> str:
    known = results["evaluate"]["known_answers"]
    counts = [n for n in known if n.isdigit()]
    quantities = [
        ("product_mean", "product mean"),
        ("product_variance", "product variance"),
        ("posterior_mean", "posterior mean"),
        ("log_z", "log Z"),
    ]
    table = _table(
        ["L"] + [f"{label}: std / bias" for _, label in quantities],
        [[n] + [f"{known[n][key]['std']:.4f} / {known[n][key]['bias']:+.4f}" for key, _ in quantities] for n in counts],
    )
    slopes = ", ".join(f"{label} {known['slope_log_std_vs_log_L'][key]:.2f}" for key, label in quantities)
    return f"{table}\n\nFitted slopes of log std against log L (1/sqrt(L) is -0.5): {slopes}."


def _bias(entry: dict) -> str:
    return f"{entry['bias']:+.4f} ± {entry['se']:.4f}"


def weights(results: dict) -> str:
    w = results["weights"]
    quadrature = _table(
        ["T", "log Z error, trapezoid", "log Z error, left point"],
        [[n, _bias(q["trapezoid"]), _bias(q["left"])] for n, q in w["quadrature"].items()],
    )
    euler = _table(
        ["setting", "mean", "variance", "log Z"],
        [[name, _bias(e["mean"]), _bias(e["variance"]), _bias(e["log_z"])] for name, e in w["euler_bias"].items()],
    )
    return (
        f"{quadrature}\n\n{euler}\n\n({w['n_seeds']} seeds x {w['n_particles']} particles per entry; "
        "error = mean over seeds minus the closed form, ± its standard error.)"
    )


def tempering(results: dict) -> str:
    w = results["weights"]
    levels = w["levels"]
    names = list(dict.fromkeys(key.split(",")[0] for key in w["tempering"]))
    return _table(
        ["schedule"] + [f"T = {n}: log Z error (RMSE)" for n in levels],
        [
            [name]
            + [
                f"{_bias(w['tempering'][f'{name}, T={n}'])} ({w['tempering'][f'{name}, T={n}']['rmse']:.3f})"
                for n in levels
            ]
            for name in names
        ],
    )


def overlap(results: dict) -> str:
    o = results["weights"]["overlap"]
    rows = o["rows"]
    methods = list(dict.fromkeys(key.rsplit(", N=", 1)[0] for key in rows))
    points = list(dict.fromkeys(key.rsplit(", N=", 1)[1] for key in rows))
    table = _table(
        ["method"] + [f"N = {n}: tilt error (ESS)" for n in points],
        [[m] + [f"{_bias(rows[f'{m}, N={n}'])} ({rows[f'{m}, N={n}']['ess']:.0f})" for n in points] for m in methods],
    )
    return (
        f"Exact mean tilt {o['exact_tilt']:.4f}; L = {o['n_particles']} particles, T = {o['n_steps']} levels, "
        f"{o['n_seeds']} seeds per entry; ESS is the smallest over the levels.\n\n{table}"
    )


def metropolis(results: dict) -> str:
    m = results["weights"]["metropolis"]
    table = _table(
        ["rule, levels", "mode mass error", "log Z error", "expert evaluations", "seconds per run"],
        [
            [name, _bias(r["mass"]), _bias(r["log_z"]), f"{r['evaluations']:,}", f"{r['seconds']:.2f}"]
            for name, r in m["rows"].items()
        ],
    )
    return (
        f"Exact mode mass {m['exact_mass']:.5f}, log Z {m['exact_log_z']:.5f}; K = 3, {m['n_seeds']} seeds x "
        f"{m['n_particles']} particles per entry (error = mean over seeds minus the closed form, ± its standard "
        f"error).\n\n{table}"
    )


def _mean_rate(by_color: dict) -> float:
    return statistics.fmean(by_color.values())


def profile(results: dict) -> str:
    pr = results["profile_target"]
    shares = ", ".join(f"{name} {share:.0%}" for name, share in pr["shares"].items())
    points = pr["setting"]["L"] * pr["setting"]["N"]
    floors, levers = pr["floors"], pr["levers"]
    ms = levers["call_ms"]
    return (
        f"One run at the target setting took {pr['seconds']:.2f} s: {shares}. It evaluated the experts "
        f"{pr['expert_evaluations']} times ({pr['evaluations_per_level']:.2f} per level; `ais_evaluations` counts "
        f"{pr['ais_evaluations_formula']}). The axis networks alone take "
        f"{pr['network_seconds_per_evaluation'] * 1e3:.2f} ms per evaluation of all {points:,} points, "
        f"{pr['network_gflops_per_second']:.0f} GFLOP/s in their matrix products ({pr['network_gflop_per_run']:.1f} "
        f"GFLOP per run; the hidden layer's product alone runs at {pr['hidden_layer_gflops_per_second']:.0f} "
        f"GFLOP/s), so with everything else free a run would still take {pr['floor_seconds']:.2f} s. The other "
        "floor, measured: with the axis networks replaced by a one-operation stand-in of the same shape, a run "
        f"takes {floors['simpson, free networks']:.2f} s with Simpson's rule and "
        f"{floors['trapezoid, free networks']:.2f} s with the trapezoid rule (with the networks, in the same "
        f"interleaved rounds: {floors['simpson, real networks']:.2f} and {floors['trapezoid, real networks']:.2f} "
        f"s). Levers on the networks' call, ms per evaluation: float32 {ms['float32']:.2f}, bfloat16 "
        f"{ms['bfloat16']:.2f} (relative velocity error {levers['bfloat16_relative_velocity_error']:.3f}), "
        f"`torch.compile` {ms['compiled']:.2f} after {levers['compile_seconds']:.1f} s of compiling from an empty "
        f"cache, and {levers['compiled_first_call_at_new_t_seconds']:.1f} s more at the first call at another t."
    )


def digits(results: dict) -> str:
    d = results["digits"]
    q, steer = d["quality"], d["steering"]
    quality_text = (
        f"Unconditional samples of `flow_all` ({q['n']}, annealed sampler without a reward, resampled by weight): the "
        f"judge's mean confidence {q['judge_confidence']:.2f} (on held-out images "
        f"{q['held_out_judge_confidence']:.2f}), its classes {q['judge_histogram']}, the reward classifier agreeing "
        f"with it on {q['reward_agrees_with_judge']:.0%}; mean distance to the nearest training image "
        f"{q['nearest_training_distance']:.2f} for samples against {q['held_out_nearest_training_distance']:.2f} for "
        "held-out images."
    )

    def cell(entry):
        return f"{entry['rate']:.2f} ± {entry['se']:.2f}"

    table = _table(
        ["L", "N", "annealed: judge", "annealed: reward classifier", "best-of-N: judge", "best-of-N: reward classifier",
         "seconds per run (annealed / best-of-N)"],
        [
            [n, r["N"], cell(r["annealed"]["judge"]), cell(r["annealed"]["reward"]), cell(r["best_of_n"]["judge"]),
             cell(r["best_of_n"]["reward"]),
             f"{r['annealed']['seconds_per_run']:.2f} / {r['best_of_n']['seconds_per_run']:.2f}"]
            for n, r in steer["rows"].items()
        ],
    )  # fmt: skip
    return (
        f"{quality_text}\n\nSteering, {steer['trials']} trials per L ({steer['trials'] // 10} per digit), T = "
        f"{steer['n_steps']}, K = {steer['n_mcmc_steps']}; success is the returned image being the asked digit:\n\n"
        f"{table}\n\nProducts of the image experts are measured in the next section (`compose.py`)."
    )


def _graded(row: dict) -> list:
    """The grade columns of one sampler's row of compose.json."""
    return [
        " ".join(f"{round(100 * c)}" for c in row["classes"]),
        f"{row['in_set']:.2f} ± {row['in_set_se']:.2f}",
        f"{row['confidence']:.2f}",
        f"{row['ink']:.3f}",
        f"{row['frechet']:.1f}",
        f"{row['nearest_train']:.2f}",
    ]


def _kept(row: dict) -> str:
    return "" if row.get("ancestors") is None else f"{row['ess']:.1f} / {row['ancestors']:.1f}"


GRADE_COLUMNS = ["judge's classes 0-9 (%)", "in asked set", "confidence", "ink", "Fréchet", "nearest training"]


def compose(results: dict) -> str:
    c = results["compose"]
    s = c["settings"]
    n = s["n_particles"]
    products = _table(
        ["composition", "sampler", *GRADE_COLUMNS, "min ESS / ancestors (of L)", "evaluations", "s per run"],
        [
            [name if sampler == "annealed" else "", sampler, *_graded(row), _kept(row), row["evaluations"],
             f"{row['seconds']:.2f}"]
            for name, rows in c["products"].items()
            for sampler, row in rows.items() if sampler != "asked"
        ],
    )  # fmt: skip
    seven = _table(
        ["a 7, asked as", "sampler", *GRADE_COLUMNS, "min ESS / ancestors", "evaluations", "s per run"],
        [
            [name, sampler, *_graded(row), _kept(row), row["evaluations"], f"{row['seconds']:.2f}"]
            for name, rows in c["seven"].items()
            for sampler, row in rows.items()
        ],
    )  # fmt: skip
    per_digit = _table(
        ["digit", "Euler: in class", "Euler: ink", "annealed: in class", "annealed: ancestors (of L)"],
        [
            [d, f"{r['euler']['in_set']:.2f} ± {r['euler']['in_set_se']:.2f}", f"{r['euler']['ink']:.3f}",
             f"{r['annealed']['in_set']:.2f} ± {r['annealed']['in_set_se']:.2f}", f"{r['annealed']['ancestors']:.1f}"]
            for d, r in c["guidance_per_digit"].items()
        ],
    )  # fmt: skip
    real = "; ".join(
        f"{name}: Fréchet {r['frechet']:.1f} (training against held-out images), ink {r['ink']:.3f}, held-out "
        f"images' nearest training image {r['nearest_train_of_held_out']:.2f}"
        for name, r in c["real"].items()
    )
    return (
        f"{s['seeds']} seeds per row; the annealed sampler runs L = {n} particles, T = {s['n_steps']}, K = "
        f"{s['n_mcmc_steps']} per seed and its particles are resampled by weight; Euler runs on the same seeds with "
        "at least its expert evaluations (per seed, counted over all experts). The judge grades both; the standard "
        "error is over seeds. Real images, graded the same way, for reference: "
        f"{real}.\n\n{products}\n\nA 7 asked four ways (the reward on the one-expert `flow_all` runs "
        f"{2 * n} particles, for the same expert evaluations as the two-expert products):\n\n{seven}\n\n"
        f"Guidance g = 2 toward each digit, `flow_none^-1 * flow_d^2` ({s['per_digit']['seeds']} seeds, the annealed "
        f"sampler with L = {s['per_digit']['n_particles']}):\n\n{per_digit}"
    )


def _compose_summary(c: dict) -> str:
    products = c["products"]
    plain = next(r for name, r in products.items() if "plain" in name)
    both = next(r for name, r in products.items() if name.endswith("(AND)"))
    negation = next(r for name, r in products.items() if name.endswith("(NOT)"))
    return (
        f"- **Composing image experts with exponents** (`compose.py`, judged by the independent classifier): Euler "
        f"on the weighted velocities puts {both['euler']['in_set']:.2f} of AND's samples (`A * B / U`) in "
        f"{{0, 2, 4}}, at ink {both['euler']['ink']:.3f}, where the plain product `A * B` puts "
        f"{plain['euler']['in_set']:.2f} there at ink {plain['euler']['ink']:.3f}; NOT (`U^2 / A`) puts "
        f"{negation['euler']['in_set']:.2f} in 5-9. The annealed sampler's exact weights keep "
        f"{both['annealed']['ancestors']:.1f} of {c['settings']['n_particles']} starting images per run on AND."
    )


def digit_resolution(results: dict) -> str:
    r = results["digit_resolution"]
    table = _table(
        ["resolution", "seconds per training step", "seconds per 256 samples", "judge's confidence", "digits seen"],
        [
            [f"{size} x {size}", f"{row['seconds_per_training_step']:.3f}", f"{row['seconds_per_256_samples']:.1f}",
             f"{row['judge_confidence']:.2f}", row["digits_seen"]]
            for size, row in r["rows"].items()
        ],
    )  # fmt: skip
    return f"{r['training_steps']} training steps at each resolution, 256 Euler samples of 32 steps each:\n\n{table}"


def _digits_summary(rows: dict) -> str:
    """The digit steering at L = 1 against best-of-N, at equal expert evaluations and at equal seconds."""
    one = next(iter(rows.values()))
    annealed, seconds = one["annealed"]["judge"], one["annealed"]["seconds_per_run"]
    same_time = max(
        (r for r in rows.values() if r["best_of_n"]["seconds_per_run"] <= seconds), key=lambda r: r["N"], default=None
    )  # the most Euler samples that ran in no more time than one annealed run
    at_equal_evaluations = (
        f"- **Steering a digit** (graded by an independent judge): with one particle the annealed sampler returns "
        f"the asked digit {annealed['rate']:.2f} ± {annealed['se']:.2f} of the time against "
        f"{one['best_of_n']['judge']['rate']:.2f} ± {one['best_of_n']['judge']['se']:.2f} for best-of-N at the same "
        f"expert evaluations (N = {one['N']})"
    )
    if same_time is None:
        return at_equal_evaluations + "."
    return (
        f"{at_equal_evaluations}; counted in seconds on this CPU, where the annealed run's many "
        f"small network calls cost more than best-of-N's few large ones, best-of-N with N = {same_time['N']} "
        f"takes no longer "
        f"({same_time['best_of_n']['seconds_per_run']:.2f} s against {seconds:.2f} s) and succeeds "
        f"{same_time['best_of_n']['judge']['rate']:.2f} ± {same_time['best_of_n']['judge']['se']:.2f} of the time."
    )


def digit_nets(results: dict) -> str:
    r = results["digit_nets"]
    table = _table(
        ["network", "parameters", "one call: 1 / 8 / 32 images", "training step (128)", "steps in the budget",
         "judge's confidence", "digits seen"],
        [
            [name, f"{row['parameters']:,}", " / ".join(f"{ms:.1f}" for ms in row["call_ms"].values()) + " ms",
             f"{row['training_step_ms']:.0f} ms", f"{row['training_steps']:,}", f"{row['judge_confidence']:.2f}",
             row["digits_seen"]]
            for name, row in r["rows"].items()
        ],
    )  # fmt: skip
    return (
        f"Each trained for {r['budget_seconds']:.0f} s by the shipped experts' recipe, then {r['samples']} Euler "
        f"samples of 32 steps graded by the judge:\n\n{table}"
    )


def cli_start(results: dict) -> str:
    r = results["cli_start"]

    def imported(row):
        return ", ".join(row["heavy_modules_imported"]) or "none of torch, matplotlib, plotly and the trainers"

    parts = [
        f"`{name}` {row['median_seconds']:.2f} s (median of {r['runs']} fresh processes, at most "
        f"{row['max_seconds']:.2f} s), importing {imported(row)}"
        for name, row in r["rows"].items()
    ]
    return "The command line answers help at once (`cli_start.py`): " + "; ".join(parts) + " (goal: under 1 s)."


def busy_core(results: dict) -> str:
    r = results["busy_core"]
    lines = [
        "With one core taken by another process (a busy loop; `busy_core.py`, fresh processes, quiet and busy "
        f"runs alternating), the goal is at most {r['goal_ratio']:g}x the quiet time. `configure_cpu()` now uses "
        "the cores idle when it is called; forcing two threads shows what it did before.",
        "",
        "| run | threads | quiet | one core busy | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, row in r["rows"].items():
        what, threads = name.rsplit(", ", 1)
        quiet, busy = statistics.median(row["quiet_seconds"]), statistics.median(row["busy_seconds"])
        runs = f" (median of {len(row['quiet_seconds'])})" if len(row["quiet_seconds"]) > 1 else ""
        lines.append(f"| {what}{runs} | {threads} | {quiet:.1f} s | {busy:.1f} s | **{row['ratio']:.2f}x** |")
    return "\n".join(lines)


def _seconds_summary(v: dict) -> str:
    """The rare target at equal seconds, at the sampler's default K = 2."""
    rows = [r for r in v["rows"]["bold"] if r["K"] == 2]
    plain = ", ".join(f"{r['difference_in_se']:+.1f} at L = {r['L']}" for r in v["rows"]["d"] if r["K"] == 2)
    pairs = "; ".join(
        f"L = {r['L']}: {r['annealed']['rate']:.2f} ± {r['annealed']['se']:.2f} against "
        f"{r['best_of_n']['rate']:.2f} ± {r['best_of_n']['se']:.2f} (N = {r['N']})"
        for r in rows
    )
    return (
        f"- **Steering to a rare target at equal seconds** (a bold digit, ink above {v['bold_threshold']}; "
        f"best-of-N given at least the annealed run's seconds, K = 2): {pairs}. For a plain digit, the gap at K = 2 in "
        f"standard errors: {plain} (`benchmarks/README.md`, success per second)."
    )


def summary(results: dict) -> str:
    """The README's headline numbers: what a run costs and where, steering, the Metropolis rule, known answers."""
    v, path, steer = results["versus_commit"], results["steering"], results["evaluate"]["steering"]
    rates, samples = path["rates"], path["euler_samples_same_budget"]
    first = next(iter(samples))
    mean_colors = steer["colors"]
    mean_rows = [
        (n, statistics.fmean(mean_colors[c][n]["incremental"] for c in mean_colors),
         statistics.fmean(mean_colors[c][n]["best_of_n_same_budget"] for c in mean_colors))
        for n in steer["bound"]
    ]  # fmt: skip
    best_wins = sum(b >= a for _, a, b in mean_rows)
    metro = results["weights"]["metropolis"]["rows"]
    top = max(int(key.rsplit("=", 1)[1]) for key in metro)
    known = results["evaluate"]["known_answers"]["slope_log_std_vs_log_L"]
    profiled = results["profile_target"]
    own_share = profiled["shares"]["the sampler's own work"]
    experts_share = sum(profiled["shares"].values()) - own_share
    return "\n".join(
        [
            f"- **What a run costs** at the sphere's target setting (L = {profiled['setting']['L']} clouds of "
            f"N = {profiled['setting']['N']} points, T = {profiled['setting']['T']} levels, K = "
            f"{profiled['setting']['K']} Langevin steps): {profiled['seconds']:.2f} s on this 2-core CPU, at a radial "
            f"error of {v['radial_error']['current']:.4f}, for {profiled['expert_evaluations']} evaluations of the "
            f"experts ({profiled['evaluations_per_level']:.0f} per level). The experts take {experts_share:.0%} of "
            f"it and the sampler's own work (weights, resampling, the Metropolis test) {own_share:.0%}, so a run "
            "gets faster with fewer evaluations (fewer levels or Langevin steps), not with a faster sampler loop.",
            f"- **Steering with the color fixed by the noise** (`ColorMeanExpert`): best-of-N at equal cost succeeds "
            f"at least as often as the annealed sampler at {best_wins} of {len(mean_rows)} particle counts (L = 1: "
            f"{mean_rows[0][2]:.2f} against {mean_rows[0][1]:.2f}).",
            f"- **Steering with the color decided along the path** (`ColorMixtureExpert`, untempered): at L = {first} "
            f"the annealed sampler succeeds {_mean_rate(rates['mixture: annealed, untempered'][first]):.2f} of the "
            f"time against {_mean_rate(rates['mixture: best-of-N'][first]):.2f} for best-of-N with N = "
            f"{samples[first]} Euler samples at the same cost.",
            f"- **The Metropolis rule** on a curved two-mode product (K = 3, T = {top}): mode-mass error "
            f"{_bias(metro[f'simpson, T={top}']['mass'])} with Simpson's rule, "
            f"{_bias(metro[f'trapezoid, T={top}']['mass'])} with the trapezoid rule.",
            _digits_summary(results["digits"]["steering"]["rows"]),
            _seconds_summary(results["seconds"]),
            _compose_summary(results["compose"]),
            "- **Known answers**: estimates converge like 1/sqrt(L) (fitted slopes of log std against log L: "
            + ", ".join(f"{v_:.2f}" for v_ in known.values())
            + "; -0.5 is 1/sqrt(L)).",
        ]
    )


SECTIONS = {
    "machine": machine,
    "speed": speed,
    "expert_size": expert_size,
    "fidelity": fidelity,
    "steering": steering,
    "steering_path": steering_path,
    "playground_latency": playground_latency,
    "known_answers": known_answers,
    "weights": weights,
    "tempering": tempering,
    "overlap": overlap,
    "metropolis": metropolis,
    "versus_commit": versus_commit,
    "versus_commit_digits": versus_commit_digits,
    "digits": digits,
    "seconds": seconds,
    "compose": compose,
    "digit_resolution": digit_resolution,
    "digit_nets": digit_nets,
    "cli_start": cli_start,
    "busy_core": busy_core,
    "profile": profile,
    "summary": summary,
}

# Which sections each page holds.
PAGES = {
    BENCHMARKS_README: [name for name in SECTIONS if name != "summary"],
    README: ["summary"],
}


def load(directory: Path = RESULTS) -> dict:
    return {
        name: json.loads((directory / f"{name}.json").read_text())
        for name in (
            "bench_sampler",
            "busy_core",
            "cli_start",
            "compose",
            "digit_nets",
            "digit_resolution",
            "digits",
            "evaluate",
            "expert_size",
            "playground_latency",
            "profile_target",
            "seconds",
            "steering",
            "versus_commit",
            "versus_commit_digits",
            "weights",
        )
    }


def render(text: str, results: dict, names: list[str]) -> str:
    """``text`` with each marked section of ``names`` replaced by its rendering from ``results``."""
    for name in names:
        section = SECTIONS[name]
        start, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no section {start} ... {end}")
        text = pattern.sub(lambda _: f"{start}\n{section(results)}\n{end}", text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if README.md is out of date")
    args = parser.parse_args()
    results = load()
    stale = []
    for page, names in PAGES.items():
        current = page.read_text()
        expected = render(current, results, names)
        if args.check:
            stale += [page] if current != expected else []
        elif current != expected:
            page.write_text(expected)
            print(f"wrote {page}")
    if stale:
        names = ", ".join(str(p.relative_to(README.parent)) for p in stale)
        print(f"{names} do not match benchmarks/results/*.json; run python benchmarks/report.py", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
