"""``poe-demo`` / ``python -m poe_demo``: the main job (demo), one steered sample, and retraining.

A user mistake (unknown color, n < 1, a missing or tampered checkpoint, an unwritable output)
prints one line on stderr and exits with code 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from .data import PALETTE, sample_noise, sample_spheres
from .evaluation import CHANNELS, sphere_experts
from .experts import TrainingConfig, load_axis_experts, train_and_save
from .experts.pretrained import DATA_DIR
from .metrics import chamfer_distance, color_spread, has_dominant_channel, mean_color, radial_error
from .plotting import animate_cloud, plot_clouds
from .rewards import ColorReward
from .runtime import configure_cpu
from .samplers import WEIGHTINGS, annealed_importance_sampling, euler
from .smc import RESAMPLERS

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + message
        raise SystemExit(_fail(message))


def _fail(message: str) -> int:
    print(f"poe-demo: error: {message}", file=sys.stderr)
    return 2


def _count(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse


_positive = _count(1)


def _writable_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    probe = path / ".write-test"
    probe.write_text("")
    probe.unlink()
    return path


def _summary(x: torch.Tensor) -> dict:
    """Metrics of clouds ``[L, N, 6]`` averaged over L, rounded for stable JSON."""
    return {
        "radial_error": round(float(radial_error(x).mean()), 5),
        "chamfer_distance": round(float(chamfer_distance(x).mean()), 5),
        "color_spread": round(float(color_spread(x).mean()), 5),
        "mean_color": [round(c, 3) for c in mean_color(x[:1])[0].tolist()],
    }


def _sampling_args(p: argparse.ArgumentParser, particles: int, points: int, steps: int) -> None:
    p.add_argument("--particles", type=_positive, default=particles, help="L, clouds sampled in parallel")
    p.add_argument("--points", type=_positive, default=points, help="N, points per cloud")
    p.add_argument("--steps", type=_positive, default=steps, help="T, annealing levels")
    p.add_argument("--mcmc-steps", type=_count(0), default=3, metavar="K", help="Langevin steps per level")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", type=Path, default=DATA_DIR, help="folder with the checkpoints and manifest.json")


def demo(args) -> int:
    out = _writable_dir(args.out)
    axis = load_axis_experts(args.data_dir)
    composed = sphere_experts(axis)
    color = composed[-1]
    noise = sample_noise(args.particles, args.points, generator=torch.Generator().manual_seed(args.seed))
    shown = {"ground truth": sample_spheres(1, args.points, generator=torch.Generator().manual_seed(args.seed))[0]}
    report: dict = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "func"},
                    "methods": {}}

    def record(name, clouds, seconds, **extra):
        report["methods"][name] = {**_summary(clouds), "seconds": round(seconds, 2), **extra}

    for a in "xyz":
        start = time.perf_counter()
        r = euler([axis[a], color], noise, args.steps)
        record(f"{a} expert alone (Euler)", r.particles, time.perf_counter() - start)
        shown[f"{a} alone"] = r.particles[0]
    runs = [("product of experts", None)] + [(f"steered to {c}", c) for c in CHANNELS]
    for name, target in runs:
        start = time.perf_counter()
        g = torch.Generator().manual_seed(args.seed)
        r = annealed_importance_sampling(composed, ColorReward(target) if target else None, noise, args.steps, args.mcmc_steps,
                                         generator=g, keep_trajectory=target == "red", progress=True)
        extra = {"n_resamples": r.n_resamples, "min_ess": round(float(r.ess.min()), 2)}
        if target:
            channel = CHANNELS.index(target)
            extra["best_is_target_dominant"] = bool(has_dominant_channel(r.best[None], channel)[0])
            extra["best_mean_color"] = [round(c, 3) for c in mean_color(r.best[None])[0].tolist()]
        record(f"{name} (AIS)", r.particles, time.perf_counter() - start, **extra)
        shown[name] = r.best
        if target == "red":
            best = int(r.log_rewards.argmax())
            animate_cloud(r.lineage(best), r.times, out / "trajectory_red.gif")

    plot_clouds(shown, columns=4, path=out / "samples.png")
    (out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'method':34s} {'radial err':>10s} {'chamfer':>8s} {'color spread':>12s} {'seconds':>8s}")
    for name, m in report["methods"].items():
        print(f"{name:34s} {m['radial_error']:10.4f} {m['chamfer_distance']:8.4f} {m['color_spread']:12.4f} {m['seconds']:8.2f}")
    print(f"wrote {out / 'samples.png'}, {out / 'trajectory_red.gif'} and {out / 'metrics.json'}")
    return 0


def sample(args) -> int:
    if args.out.suffix.lower() != ".png":
        return _fail(f"--out must be a .png file, got {str(args.out)!r}")
    _writable_dir(args.out.parent)
    reward = ColorReward(args.color, args.strength)
    axis = load_axis_experts(args.data_dir)
    g = torch.Generator().manual_seed(args.seed)
    noise = sample_noise(args.particles, args.points, generator=g)
    r = annealed_importance_sampling(sphere_experts(axis), reward, noise, args.steps,
                                     args.mcmc_steps, weighting=args.weighting, resampling=args.resampling, generator=g,
                                     progress=True)
    plot_clouds({f"best of {args.particles}, target {args.color}": r.best}, columns=1, path=args.out, panel_size=4)
    m = _summary(r.best[None])
    print(f"radial error {m['radial_error']:.4f}, mean color {m['mean_color']}, resampled {r.n_resamples}x -> {args.out}")
    return 0


def train(args) -> int:
    _writable_dir(args.out_dir)
    manifest = train_and_save(TrainingConfig(n_steps=args.train_steps, seed=args.seed), args.out_dir)
    print(f"wrote checkpoints and {manifest}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="poe-demo", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("demo", help="sample every composition, write a PNG grid, a GIF and metrics.json")
    _sampling_args(p, particles=32, points=256, steps=64)
    p.add_argument("--out", type=Path, default=Path("outputs"), help="output folder")
    p.set_defaults(func=demo)
    p = sub.add_parser("sample", help="one cloud steered to a color")
    _sampling_args(p, particles=32, points=512, steps=64)
    p.add_argument("--color", default="red", help=f"palette name ({', '.join(PALETTE)})")
    p.add_argument("--strength", type=float, default=10.0)
    p.add_argument("--weighting", choices=WEIGHTINGS, default="incremental")
    p.add_argument("--resampling", choices=sorted(RESAMPLERS), default="systematic")
    p.add_argument("--out", type=Path, default=Path("outputs/sample.png"))
    p.set_defaults(func=sample)
    p = sub.add_parser("train", help="retrain the axis experts and rewrite the checkpoints and manifest")
    p.add_argument("--train-steps", type=_positive, default=TrainingConfig.n_steps)
    p.add_argument("--seed", type=int, default=TrainingConfig.seed)
    p.add_argument("--out-dir", type=Path, default=DATA_DIR)
    p.set_defaults(func=train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_cpu()
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as exc:  # user mistakes: bad values, checkpoints, paths
        return _fail(str(exc))
