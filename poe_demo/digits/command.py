"""What ``poe-demo digits`` and ``poe-demo train-digits`` do, once :mod:`poe_demo.cli` has parsed their arguments."""

from __future__ import annotations

import json
import sys
import time

import torch

from ..experts import network_memory
from ..outputs import check_output_files, save_npz, writable_dir, write_outputs
from ..resources import check_memory, sampler_memory
from ..samplers import ais_batch
from .checkpoints import DIGIT_DIR, load_digit_models, train_digit_models
from .compose import digit_experts, parse_product
from .data import SIZE, to_pixels
from .pictures import plot_digits
from .steering import STRENGTH, digit_reward, sample_digits, verdicts

__all__ = ["DIGITS_FORMATS", "digits", "train_digits"]

DIGITS_FORMATS = (".png", ".npz")


def digits(args) -> int:
    paths = check_output_files(args.out, "--out", DIGITS_FORMATS)
    check_memory(
        sampler_memory(args.particles * SIZE * SIZE, args.steps, keep_trajectory=False),
        f"--particles {args.particles} --steps {args.steps}",
    )
    models = load_digit_models(args.data_dir or DIGIT_DIR, args.device)
    product = getattr(args, "product", None)
    named = digit_experts(models)
    experts = [named["flow_all"]] if product is None else parse_product(product, named)
    reward = None if args.digit is None else digit_reward(models["reward"], args.digit)
    one = torch.zeros(1, 1, SIZE, SIZE, device=args.device)
    activations = network_memory(experts, one, ais_batch(args.particles, args.mcmc_steps, state_numbers=SIZE * SIZE))
    check_memory(  # again, now with the networks' activations, measured on the loaded networks
        sampler_memory(args.particles * SIZE * SIZE, args.steps, network_bytes=activations),
        f"--particles {args.particles} --steps {args.steps}",
    )
    g = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    target = "any digit" if args.digit is None else f"digit {args.digit}"
    r = sample_digits(
        experts, reward, args.particles, args.steps, args.mcmc_steps, g, args.device, progress=f"{target} (AIS)"
    )
    seconds = time.perf_counter() - start
    far = int(r.outside(-1.0, 1.0).sum())
    if far:  # a sign of networks that do not fit the data, e.g. a --data-dir trained too briefly
        print(f"poe-demo: warning: {far} of {args.particles} images have pixels far outside the data's range "
              "[-1, 1]; the judge's verdicts on them mean little", file=sys.stderr)  # fmt: skip
    judged, confidence = verdicts(models["judge"], r.particles)
    rewarded, _ = verdicts(models["reward"], r.particles)
    best = r.best_index
    # Without a reward, the returned particle is the highest-weight one; with one expert alone all
    # weights are equal and "returned" would just mean the first: then nothing is framed.
    chosen = args.digit is not None or bool(r.log_weights.max() > r.log_weights.min())
    labels = [f"judge {int(j)}" for j in judged]
    asked = "unconditional" if args.digit is None else f"steered to {args.digit} (reward: p(digit)^{STRENGTH:g})"
    if product is not None:
        asked = f"{product}, {asked.replace('unconditional', 'no reward')}"
    title = f"{args.particles} particles, {asked}\n" + (
        f"framed: the returned one, judged {int(judged[best])} ({float(confidence[best]):.2f}), "
        f"reward classifier says {int(rewarded[best])}"
        if chosen
        else "none framed: equal weights and no reward, so no particle is preferred"
    )
    images = to_pixels(r.particles[:, 0]).cpu().numpy()  # [L, H, W] in [0, 1], the sampler's order
    columns, weights = min(8, args.particles), r.log_weights.cpu().numpy()
    write_outputs(
        paths,
        {
            ".png": lambda path: plot_digits(r.particles, columns, best if chosen else None, labels, title, path),
            ".npz": lambda path: save_npz(path, images=images, log_weights=weights, best=images[best]),
        },
    )
    summary = {
        "product": product,
        "digit": args.digit,
        "returned_index": best if chosen else None,
        "judge": int(judged[best]) if chosen else None,
        "judge_confidence": round(float(confidence[best]), 4) if chosen else None,
        "reward_classifier": int(rewarded[best]) if chosen else None,
        "judge_classes": torch.bincount(judged, minlength=10).tolist(),
        "outside_data_range": far,
        "seconds": round(seconds, 2),
    }
    print(json.dumps(summary), "->", ", ".join(map(str, paths)))
    return 0


def train_digits(args) -> int:
    writable_dir(args.out_dir, "--out-dir")
    manifest = train_digit_models(args.out_dir, only=getattr(args, "only", None))
    print(f"wrote the digit networks and {manifest}; sample with them: poe-demo digits --data-dir {args.out_dir}")
    return 0
