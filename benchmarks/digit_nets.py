"""Which network for the digit expert: the hand-written FlowNet against diffusers' UNet2DModel.

    python benchmarks/digit_nets.py [--quick] [--out DIR]

The shipped FlowNet (width 24) against the smallest two-level UNet2DModel (DownBlock2D and
UpBlock2D, one layer per block) at two widths, one of about FlowNet's size. For each: the seconds
of one call at the sampler's batch sizes, timed in interleaved rounds, and of one training step
(batch 128, Adam and the weight average included, from a short pilot run); then each trained for
the same number of seconds by the same recipe (``train_flow``), wrapped by ``from_diffusers``
(for FlowNet the same expert as ``flow_expert``), sampled with 256 Euler runs of 32 steps and
graded by the shipped judge. Writes
``digit_nets.json``.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import torch
from common import RESULTS, write_json
from diffusers import FlowMatchEulerDiscreteScheduler, UNet2DModel
from torch import nn

from poe_demo.digits.checkpoints import load_digit_models
from poe_demo.digits.data import subset
from poe_demo.digits.nets import FlowNet
from poe_demo.digits.steering import noise, verdicts
from poe_demo.digits.train import DigitTraining, train_flow
from poe_demo.experts import from_diffusers
from poe_demo.runtime import configure_cpu
from poe_demo.samplers import euler

BATCHES = (1, 8, 32)


class UNetVelocity(nn.Module):
    """A UNet2DModel as ``f(x, timestep) -> tensor``, the form ``train_flow`` trains."""

    def __init__(self, channels: tuple[int, int]):
        super().__init__()
        self.unet = UNet2DModel(
            sample_size=14, in_channels=1, out_channels=1, block_out_channels=channels, layers_per_block=1,
            down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
            norm_num_groups=8,
        )  # fmt: skip

    def forward(self, x, timestep):
        return self.unet(x, timestep).sample


def candidates() -> dict:
    torch.manual_seed(0)
    return {
        "FlowNet, width 24 (shipped)": FlowNet(24),
        "UNet2DModel, 16 / 32 channels": UNetVelocity((16, 32)),
        "UNet2DModel, 32 / 64 channels": UNetVelocity((32, 64)),
    }


@torch.no_grad()
def call_seconds(nets: dict, rounds: int) -> dict:
    """{name: {batch: median seconds of one call}} over interleaved rounds (the first, a warm-up, dropped)."""
    g = torch.Generator().manual_seed(0)
    inputs = {b: (torch.randn(b, 1, 14, 14, generator=g), torch.full((b,), 500.0)) for b in BATCHES}
    times = {name: {b: [] for b in BATCHES} for name in nets}
    for _ in range(rounds + 1):
        for name, net in nets.items():
            for b in BATCHES:
                start = time.perf_counter()
                net(*inputs[b])
                times[name][b].append(time.perf_counter() - start)
    return {name: {b: statistics.median(v[1:]) for b, v in row.items()} for name, row in times.items()}


def step_seconds(net: nn.Module, images: torch.Tensor, pilot: int) -> float:
    """Seconds per training step of ``train_flow`` (batch 128), from ``pilot`` steps on a copy of ``net``."""
    config = DigitTraining("flow", n_steps=pilot)
    _, _, seconds = train_flow(config, progress=False, images=images, net=copy.deepcopy(net))
    return seconds / pilot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds of training (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_cpu()
    budget, n, rounds, pilot = (3.0, 16, 3, 3) if args.quick else (150.0, 256, 20, 20)
    nets = candidates()
    calls = call_seconds(nets, rounds)
    judge = load_digit_models()["judge"]
    images = subset("train")[0]  # loaded once, so no network's timing includes reading the data
    rows = {}
    for name, net in nets.items():
        per_step = step_seconds(net, images, pilot)
        steps = max(2, int(budget / per_step))  # the same recipe, as many steps as fit in the budget
        trained, _, seconds = train_flow(DigitTraining("flow", n_steps=steps), progress=False, images=images, net=net)
        expert = from_diffusers(trained, FlowMatchEulerDiscreteScheduler())
        x = euler([expert], noise(n, torch.Generator().manual_seed(0)), 32, time_power=1.0).particles
        labels, confidence = verdicts(judge, x)
        rows[name] = {
            "parameters": sum(p.numel() for p in net.parameters()),
            "call_ms": {str(b): round(1000 * s, 2) for b, s in calls[name].items()},
            "training_step_ms": round(1000 * per_step, 1),
            "training_steps": steps,
            "training_seconds": round(seconds, 1),
            "judge_confidence": round(float(confidence.mean()), 4),
            "digits_seen": int((torch.bincount(labels, minlength=10) > 0).sum()),
        }
        print(f"{name}: {rows[name]}", flush=True)
    payload = {"budget_seconds": budget, "samples": n, "rows": rows}
    name = "digit_nets_quick.json" if args.quick else "digit_nets.json"
    print(f"wrote {write_json(name, payload, args.out)}")


if __name__ == "__main__":
    main()
