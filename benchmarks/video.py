"""The physics judge's table: the engine's clips, the video expert alone, composed with the engine, best-of-N.

    python benchmarks/video.py [--quick] [--trials 60] [--out DIR]

Every row is judged by :func:`~poe_demo.video.judge.judge` on one clip per trial: a ball in
every frame, physical (a ball in every frame and a residual within the engine's own clips' 99th
percentile), and, where a goal is set ("the ball ends in the right third"), whether it is
reached; each share with its standard error over the trials.

* the engine's clips: the first clips of the training split;
* the video expert alone: one Euler clip per trial;
* composed: the annealed sampler on the video expert times the physics reward (and the goal),
  against best-of-N under the same rewards, on the same seeds, taking turns. N is the larger of
  the count at equal network evaluations and the count that takes at least the annealed run's
  seconds (calibrated on two seeds, times 1.1): the physics reward costs the annealed run a fit
  per particle at every level, best-of-N one per sample;
* the goal without the physics expert: what steering for the goal alone does to physics.

Writes ``video.json`` (``video_quick.json`` with ``--quick``) to benchmarks/results/. Not yet in
``make bench`` nor rendered: at the data's 99th-percentile bound no generated clip is physical,
so the rows need the residual itself (issue 28).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from common import RESULTS, write_json

from poe_demo.equal_cost import Rate, euler_samples_at_equal_cost
from poe_demo.runtime import configure_cpu
from poe_demo.samplers import euler
from poe_demo.video.clips import make_clips
from poe_demo.video.expert import load_video_net, noise, video_expert
from poe_demo.video.judge import data_residual_bound, judge
from poe_demo.video.rewards import GoalReward, PhysicsReward
from poe_demo.video.sampling import STEERING, best_of_n_clip, compare_samplers, sample_clips

L, T, K = 8, 16, 1
MARGIN = 1.1


def _rate(rate: Rate) -> dict:
    return {"rate": round(rate.rate, 4), "se": round(rate.se, 4)}


def _side(side) -> dict:
    return {grader: _rate(rate) for grader, rate in side.rates.items()} | {"seconds_per_run": round(side.seconds, 3)}


def judged(clips: torch.Tensor, goal: GoalReward) -> dict:
    v = judge(clips, goal)
    return {"trials": v.n, "ball_frames": round(v.ball_frames, 4), "physical": _rate(v.physical),
            "goal": _rate(v.goal), "median_residual_px": round(v.median_residual, 4)}  # fmt: skip


def composed(net, rewards, goal, seeds, calibration) -> dict:
    """The annealed sampler against best-of-N at no less than its evaluations and seconds."""
    n_evaluations = euler_samples_at_equal_cost(L, K, T)
    start = time.perf_counter()
    for seed in calibration:
        sample_clips(net, rewards, L, T, K, torch.Generator().manual_seed(seed))
    annealed_seconds = (time.perf_counter() - start) / len(calibration)
    start = time.perf_counter()
    for seed in calibration:
        best_of_n_clip(net, rewards, n_evaluations, T, torch.Generator().manual_seed(seed))
    per_sample = (time.perf_counter() - start) / len(calibration) / n_evaluations
    n = max(n_evaluations, int(MARGIN * annealed_seconds / per_sample) + 1)
    sides = compare_samplers(net, rewards, goal, seeds, L, T, K, n)
    return {"N": n, "N_at_equal_evaluations": n_evaluations, **{name: _side(side) for name, side in sides.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few trials, to check that the script runs")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_cpu()
    trials = 2 if args.quick else args.trials
    net = load_video_net()
    physics, goal = PhysicsReward(), GoalReward()
    seeds, calibration = range(trials), [10_000] if args.quick else [10_000, 10_001]
    clips = euler([video_expert(net)], noise(trials, torch.Generator().manual_seed(0)), T,
                  time_power=STEERING["time_power"]).particles  # fmt: skip
    results = {
        "settings": {
            "L": L,
            "T": T,
            "K": K,
            "trials": trials,
            "physics": repr(physics),
            "goal": repr(goal),
            "data_residual_bound_px": round(data_residual_bound(), 4),
        },  # fmt: skip
        "engine": judged(make_clips(trials, torch.Generator().manual_seed(0))[0], goal),
        "expert_alone": judged(clips, goal),
        "physics": composed(net, [physics], goal, seeds, calibration),
        "physics_and_goal": composed(net, [physics, goal], goal, seeds, calibration),
        "goal_alone": composed(net, [goal], goal, seeds, calibration),
    }
    print(f"wrote {write_json('video_quick.json' if args.quick else 'video.json', results, args.out)}")


if __name__ == "__main__":
    main()
