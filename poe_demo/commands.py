"""What the ``poe-demo`` commands do, once :mod:`poe_demo.cli` has parsed and checked their arguments.

Kept apart from the parser so that ``poe-demo --help`` answers without importing torch,
matplotlib or the trainers. Every output file is written under a temporary name and renamed
into place once the run has succeeded (:class:`_Outputs`).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from pathlib import Path

import torch

from .data import sample_noise, sample_spheres
from .evaluation import CHANNELS, sphere_experts
from .experts import ColorMeanExpert, ColorMixtureExpert, TrainingConfig, load_axis_experts, train_and_save
from .experts.pretrained import CHECKPOINT_DIR
from .metrics import chamfer_distance, color_spread, has_dominant_channel, mean_color, radial_error
from .plotting import animate_cloud, plot_clouds
from .resources import check_memory, sampler_memory
from .rewards import ColorReward
from .samplers import annealed_importance_sampling, euler

__all__ = ["COLOR_EXPERTS", "demo", "sample", "train"]

# Each color expert with the sampler settings its steered runs use. ColorMixtureExpert decides a
# cloud's color early along the path, so its reward must act there: untempered, on an even time
# grid (README, "Steering when the color is decided along the path"). ColorMeanExpert's color is
# fixed by the noise, and the sampler's defaults serve it.
COLOR_EXPERTS = {
    "mean": (ColorMeanExpert, {}),
    "mixture": (ColorMixtureExpert, {"tempering": "none", "time_power": 1.0}),
}


def _writable_dir(path: Path, flag: str) -> Path:
    """Create ``path`` if needed and check a file can be written there, before any sampling."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag} {path}: exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=path):
        pass
    return path


def _check_size(args, keep_trajectory: bool) -> None:
    """Refuse, before allocating, a run larger than the memory available (one line naming the flags)."""
    numel = args.particles * args.points * 6
    check_memory(
        sampler_memory(numel, args.steps, keep_trajectory),
        f"--particles {args.particles} --points {args.points} --steps {args.steps}",
    )


class _Outputs:
    """Output files written under temporary names beside their final ones, renamed together on commit."""

    def __init__(self):
        self.pending: dict[Path, Path] = {}

    def temporary(self, final: Path) -> Path:
        fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.stem}.", suffix=final.suffix)
        os.close(fd)
        self.pending[final] = Path(name)
        return Path(name)

    def commit(self) -> None:
        # Ctrl-C is held back while the files are renamed, so they change together
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for final, temporary in self.pending.items():
                temporary.chmod(0o644)
                os.replace(temporary, final)
            self.pending.clear()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def discard(self) -> None:
        for temporary in self.pending.values():
            temporary.unlink(missing_ok=True)
        self.pending.clear()


def _rgb(x: torch.Tensor) -> list[float]:
    """Mean color of one cloud ``[N, 6]``, rounded for JSON and titles."""
    return [round(c, 3) for c in mean_color(x[None])[0].tolist()]


def _summary(x: torch.Tensor, returned: torch.Tensor) -> dict:
    """Metrics of clouds ``[L, N, 6]`` averaged over L, and the mean color of the ``returned`` cloud ``[N, 6]``."""
    return {
        "radial_error": round(float(radial_error(x).mean()), 5),
        "chamfer_distance": round(float(chamfer_distance(x).mean()), 5),
        "color_spread": round(float(color_spread(x).mean()), 5),
        "returned_mean_color": _rgb(returned),
    }


def _titled(name: str, cloud: torch.Tensor) -> str:
    return f"{name}\nmean rgb ({', '.join(f'{c:.2f}' for c in _rgb(cloud))})"


def demo(args) -> int:
    _check_size(args, keep_trajectory=True)
    out = _writable_dir(args.out, "--out")
    outputs = _Outputs()
    try:
        return _demo(args, out, outputs)
    finally:
        outputs.discard()


UNSTEERED_SHOWN = 4  # unsteered clouds in the figure: the product's own spread of colors


def _demo(args, out: Path, outputs: _Outputs) -> int:
    """Ground truth, each axis expert alone, the unsteered product (several clouds), and the product
    steered to red, green and blue. The color expert is ``ColorMixtureExpert``, which decides a
    cloud's color along the path, so the steered runs use an even time grid and an untempered
    reward: the reward acts on the early levels, where the color is still open."""
    axis = load_axis_experts(args.data_dir or CHECKPOINT_DIR, args.device)
    expert, steering = COLOR_EXPERTS["mixture"]
    color = expert()
    composed = sphere_experts(axis, color=color)
    g = torch.Generator().manual_seed(args.seed)
    noise = sample_noise(args.particles, args.points, g, color.color_noise).to(args.device)
    # Each run gets its own stream, drawn after the noise: restarting the noise's stream would make
    # the Langevin kicks repeat the noise values, correlating them with the starting clouds.
    runs = [("product of experts", None)] + [(f"steered to {c}", c) for c in CHANNELS]
    run_seeds = torch.randint(0, 2**62, (len(runs),), generator=g).tolist()
    truth = sample_spheres(1, args.points, generator=torch.Generator().manual_seed(args.seed))[0]
    shown = {_titled("ground truth (data)", truth): truth}
    report: dict = {
        "settings": {k: v if isinstance(v, (int, float)) else str(v) for k, v in vars(args).items() if k != "func"},
        "color_expert": repr(color),
        "methods": {},
    }

    def record(name, clouds, returned, seconds, **extra):
        report["methods"][name] = {**_summary(clouds, returned), "seconds": round(seconds, 2), **extra}

    for a in "xyz":
        start = time.perf_counter()
        r = euler([axis[a], color], noise, args.steps)
        record(f"{a} expert alone (Euler)", r.particles, r.particles[0], time.perf_counter() - start)
        shown[_titled(f"{a} expert alone", r.particles[0])] = r.particles[0]
    for (name, target), run_seed in zip(runs, run_seeds):
        start = time.perf_counter()
        settings = steering if target else {}
        r = annealed_importance_sampling(
            composed,
            ColorReward(target) if target else None,
            noise,
            args.steps,
            args.mcmc_steps,
            generator=torch.Generator().manual_seed(run_seed),
            keep_trajectory=target == "red",
            progress=f"{name} (AIS)",
            **settings,
        )
        extra = {"n_resamples": r.n_resamples, "min_ess": round(float(r.ess.min()), 2), **settings}
        if target:
            extra["returned_is_target_dominant"] = bool(has_dominant_channel(r.best[None], CHANNELS.index(target))[0])
            shown[_titled(name, r.best)] = r.best
        else:
            extra["shown_mean_colors"] = [_rgb(x) for x in r.particles[:UNSTEERED_SHOWN]]
            for i, x in enumerate(r.particles[:UNSTEERED_SHOWN]):
                shown[_titled(f"unsteered, cloud {i + 1}", x)] = x
        record(f"{name} (AIS)", r.particles, r.best, time.perf_counter() - start, **extra)
        if target == "red":
            best = int(r.log_rewards.argmax())
            animate_cloud(r.lineage(best).cpu(), r.times, outputs.temporary(out / "trajectory_red.gif"))

    plot_clouds(
        {name: cloud.cpu() for name, cloud in shown.items()}, columns=4, path=outputs.temporary(out / "samples.png")
    )
    outputs.temporary(out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    outputs.commit()
    print(f"{'method':34s} {'radial err':>10s} {'chamfer':>8s} {'returned mean rgb':>20s} {'seconds':>8s}")
    for name, m in report["methods"].items():
        rgb = "(" + ", ".join(f"{c:.2f}" for c in m["returned_mean_color"]) + ")"
        print(f"{name:34s} {m['radial_error']:10.4f} {m['chamfer_distance']:8.4f} {rgb:>20s} {m['seconds']:8.2f}")
    print(f"wrote {out / 'samples.png'}, {out / 'trajectory_red.gif'} and {out / 'metrics.json'}")
    return 0


def sample(args) -> int:
    if args.out.suffix.lower() != ".png" or args.out.is_dir():
        raise ValueError(f"--out must be a .png file, got {str(args.out)!r}")
    reward = ColorReward(args.color, args.strength)
    _check_size(args, keep_trajectory=False)
    _writable_dir(args.out.parent, "--out")
    axis = load_axis_experts(args.data_dir or CHECKPOINT_DIR, args.device)
    expert, steering = COLOR_EXPERTS[args.color_expert]
    color = expert()
    g = torch.Generator().manual_seed(args.seed)
    noise = sample_noise(args.particles, args.points, g, color.color_noise).to(args.device)
    r = annealed_importance_sampling(
        sphere_experts(axis, color=color),
        reward,
        noise,
        args.steps,
        args.mcmc_steps,
        weighting=args.weighting,
        resampling=args.resampling,
        generator=g,
        progress=f"steered to {args.color} (AIS)",
        **steering,
    )
    outputs = _Outputs()
    try:
        plot_clouds(
            {f"best of {args.particles}, target {args.color}": r.best.cpu()},
            columns=1,
            path=outputs.temporary(args.out),
            panel_size=4,
        )
        outputs.commit()
    finally:
        outputs.discard()
    m = _summary(r.best[None], r.best)
    print(
        f"radial error {m['radial_error']:.4f}, mean color {m['returned_mean_color']}, "
        f"resampled {r.n_resamples}x -> {args.out}"
    )
    return 0


def train(args) -> int:
    _writable_dir(args.out_dir, "--out-dir")
    manifest = train_and_save(args.out_dir, TrainingConfig(n_steps=args.train_steps, seed=args.seed))
    print(f"wrote checkpoints and {manifest}; sample with them: poe-demo sample --data-dir {args.out_dir}")
    return 0
