"""What ``poe-demo video`` does, once :mod:`poe_demo.cli` has parsed its arguments."""

from __future__ import annotations

import json
import math
import time

import torch

from ..outputs import check_output_files, save_npz, write_outputs
from ..resources import check_memory, sampler_memory
from .clips import FRAMES, SIZE
from .expert import VIDEO_DIR, load_video_net
from .judge import judge
from .pictures import save_gif
from .rewards import GoalReward, PhysicsReward
from .sampling import sample_clips

__all__ = ["VIDEO_FORMATS", "GOALS", "video"]

VIDEO_FORMATS = (".gif", ".npz")
GOALS = {"none": None, "left-third": (0.0, 1 / 3), "middle-third": (1 / 3, 2 / 3), "right-third": (2 / 3, 1.0)}


def video(args) -> int:
    paths = check_output_files(args.out, "--out", VIDEO_FORMATS)
    check_memory(
        sampler_memory(args.particles * FRAMES * SIZE * SIZE, args.steps, keep_trajectory=False),
        f"--particles {args.particles} --steps {args.steps}",
    )
    net = load_video_net(args.data_dir or VIDEO_DIR, args.device)
    goal = None if GOALS[args.goal] is None else GoalReward(*GOALS[args.goal])
    rewards = ([PhysicsReward()] if args.physics else []) + ([goal] if goal is not None else [])
    start = time.perf_counter()
    g = torch.Generator().manual_seed(args.seed)
    r = sample_clips(net, rewards, args.particles, args.steps, args.mcmc_steps, g, args.device)
    seconds = time.perf_counter() - start
    clips, weights = r.particles.cpu().numpy(), r.log_weights.cpu().numpy()
    write_outputs(
        paths,
        {
            ".gif": lambda path: save_gif(path, clips, r.best_index),
            ".npz": lambda path: save_npz(path, clips=clips, log_weights=weights, best=clips[r.best_index]),
        },
    )
    verdict = judge(r.best[None], goal)
    summary = {
        "physics": args.physics,
        "goal": args.goal,
        "returned_index": r.best_index,
        "ball_in_every_frame": verdict.ball_frames == 1.0,
        "physical": verdict.physical.successes == 1,
        "residual_pixels": None if math.isnan(verdict.median_residual) else round(verdict.median_residual, 3),
        "goal_reached": None if goal is None else verdict.goal.successes == 1,
        "seconds": round(seconds, 2),
    }
    print(json.dumps(summary), "->", ", ".join(map(str, paths)))
    return 0
