"""What the ``poe-demo`` commands do, once :mod:`poe_demo.cli` has parsed and checked their arguments.

Kept apart from the parser so that ``poe-demo --help`` answers without importing torch,
matplotlib or the trainers. Every output goes through :class:`~poe_demo.outputs.Outputs`:
temporary files renamed into place once the run has succeeded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from .data import as_rgb, sample_noise, sample_spheres
from .digits import command as digit_command
from .evaluation import CHANNELS, COLOR_EXPERTS, sphere_experts
from .experts import TrainingConfig, load_axis_experts, train_and_save
from .experts.pretrained import CHECKPOINT_DIR
from .metrics import chamfer_distance, color_spread, has_dominant_channel, mean_color, radial_error
from .outputs import Outputs, check_output_files, save_npz, save_ply, writable_dir, write_outputs
from .plotting import animate_cloud, cloud_colors, plot_clouds
from .resources import check_memory, sampler_memory
from .rewards import ColorReward
from .samplers import annealed_importance_sampling, euler
from .video import command as video_command
from .video.expert import train_and_save_video_net

__all__ = ["SAMPLE_FORMATS", "demo", "sample", "train", "digits", "train_digits", "video", "train_video"]

SAMPLE_FORMATS = (".png", ".npz", ".ply")


def _settings(args) -> dict:
    """The parsed arguments as JSON values: paths and devices as text, lists as lists."""

    def plain(value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return str(value)

    return {name: plain(value) for name, value in vars(args).items()}


def _check_size(args, keep_trajectory: bool) -> None:
    """Refuse, before allocating, a run larger than the memory available (one line naming the flags)."""
    numel = args.particles * args.points * 6
    check_memory(
        sampler_memory(numel, args.steps, keep_trajectory),
        f"--particles {args.particles} --points {args.points} --steps {args.steps}",
    )


def _rgb(x: torch.Tensor) -> list[float]:
    """Mean color of one cloud ``[N, 6]``, raw (it may leave [0, 1] a little), rounded for JSON."""
    return [round(c, 3) for c in mean_color(x[None])[0].tolist()]


def _shown(rgb: list[float]) -> str:
    """A mean color for a title, clipped to [0, 1] as the picture shows it."""
    return "(" + ", ".join(f"{min(max(c, 0.0), 1.0):.2f}" for c in rgb) + ")"


def _summary(x: torch.Tensor, returned: torch.Tensor) -> dict:
    """Metrics of clouds ``[L, N, 6]`` averaged over L, and the raw mean color of the ``returned`` cloud ``[N, 6]``."""
    return {
        "radial_error": round(float(radial_error(x).mean()), 5),
        "chamfer_distance": round(float(chamfer_distance(x).mean()), 5),
        "color_spread": round(float(color_spread(x).mean()), 5),
        "returned_mean_color": _rgb(returned),
    }


def _arrays(r) -> dict:
    """An annealed result as the arrays of an ``.npz``: particles ``[L, N, 6]``, log_weights, log_rewards ``[L]``."""
    return {
        "particles": r.particles.cpu().numpy(),
        "log_weights": r.log_weights.cpu().numpy(),
        "log_rewards": r.log_rewards.cpu().numpy(),
        "best_index": r.best_index,
    }


def _ply(path: Path, cloud: torch.Tensor) -> None:
    save_ply(path, cloud[..., :3].cpu().numpy(), cloud_colors(cloud))


def demo(args) -> int:
    _check_size(args, keep_trajectory=True)
    out = writable_dir(args.out, "--out")
    outputs = Outputs()
    try:
        return _demo(args, out, outputs)
    finally:
        outputs.discard()


UNSTEERED_SHOWN = 4  # unsteered clouds in the figure: each one color, the colors differ between clouds

DEMO_CAPTION = (
    "Color expert: ColorMixtureExpert (one palette color per cloud, chosen along the path). The x, y and z runs "
    "share one noise, so they share its color,\nand each is seen side-on: own coordinate against distance from its "
    "axis. Titles give each cloud's mean color clipped to [0, 1]; metrics.json keeps the raw means."
)


def _demo(args, out: Path, outputs: Outputs) -> int:
    """Ground truth, each axis expert alone (side-on), four unsteered clouds of the product, and the
    product steered to red, green and blue. The color expert is ``ColorMixtureExpert``, which
    decides a cloud's color along the path, so the steered runs use an even time grid and an
    untempered reward: the reward acts on the early levels, where the color is still open."""
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
    shown = {f"data: three palette colors\nmean rgb {_shown(_rgb(truth))}": truth}
    side_on, arrays = {}, {}
    report: dict = {
        "settings": _settings(args),
        "color_expert": repr(color),
        "methods": {},
    }

    def record(name, clouds, returned, seconds, **extra):
        report["methods"][name] = {**_summary(clouds, returned), "seconds": round(seconds, 2), **extra}

    for a in "xyz":
        start = time.perf_counter()
        r = euler([axis[a], color], noise, args.steps)
        record(f"{a} expert alone (Euler)", r.particles, r.particles[0], time.perf_counter() - start)
        title = f"{a} expert alone, side-on\nmean rgb {_shown(_rgb(r.particles[0]))}"
        shown[title], side_on[title] = r.particles[0], a
        arrays[f"{a}_alone.particles"] = r.particles.cpu().numpy()
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
        slug = name.replace(" ", "_").replace("product_of_experts", "product")
        arrays.update({f"{slug}.{key}": value for key, value in _arrays(r).items()})
        _ply(outputs.temporary(out / f"{slug}.ply"), r.best)
        extra = {"n_resamples": r.n_resamples, "min_ess": round(float(r.ess.min()), 2), **settings}
        if target:
            extra["returned_is_target_dominant"] = bool(has_dominant_channel(r.best[None], CHANNELS.index(target))[0])
            shown[f"{name}\nmean rgb {_shown(_rgb(r.best))}"] = r.best
        else:
            extra["shown_mean_colors"] = [_rgb(x) for x in r.particles[:UNSTEERED_SHOWN]]
            for i, x in enumerate(r.particles[:UNSTEERED_SHOWN]):
                shown[f"unsteered product, cloud {i + 1}\nmean rgb {_shown(_rgb(x))}"] = x
        record(f"{name} (AIS)", r.particles, r.best, time.perf_counter() - start, **extra)
        if target == "red":
            animate_cloud(r.lineage(r.best_index).cpu(), r.times, outputs.temporary(out / "trajectory_red.gif"))

    plot_clouds(
        {name: cloud.cpu() for name, cloud in shown.items()},
        columns=4,
        path=outputs.temporary(out / "samples.png"),
        side_on=side_on,
        caption=DEMO_CAPTION,
    )
    save_npz(outputs.temporary(out / "clouds.npz"), **arrays)
    outputs.temporary(out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    outputs.commit()
    print(f"{'method':34s} {'radial err':>10s} {'chamfer':>8s} {'returned mean rgb':>20s} {'seconds':>8s}")
    for name, m in report["methods"].items():
        rgb = "(" + ", ".join(f"{c:.2f}" for c in m["returned_mean_color"]) + ")"
        print(f"{name:34s} {m['radial_error']:10.4f} {m['chamfer_distance']:8.4f} {rgb:>20s} {m['seconds']:8.2f}")
    print(f"wrote samples.png, trajectory_red.gif, metrics.json, clouds.npz and the returned clouds (.ply) to {out}")
    return 0


def sample(args) -> int:
    paths = check_output_files(args.out or [Path("outputs/sample.png")], "--out", SAMPLE_FORMATS)
    metrics_path = paths[0].with_suffix(".json")
    reward = ColorReward(args.color, args.strength)
    _check_size(args, keep_trajectory=False)
    axis = load_axis_experts(args.data_dir or CHECKPOINT_DIR, args.device)
    expert, steering = COLOR_EXPERTS[args.color_expert]
    color = expert()
    g = torch.Generator().manual_seed(args.seed)
    noise = sample_noise(args.particles, args.points, g, color.color_noise).to(args.device)
    start = time.perf_counter()
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
    seconds = time.perf_counter() - start
    reached = _rgb(r.best)
    metrics = {
        "settings": _settings(args),
        "color_expert": repr(color),
        "target_rgb": [round(c, 3) for c in as_rgb(args.color).tolist()],
        "returned_index": r.best_index,
        **_summary(r.best[None], r.best),
        "mean_radial_error_all_particles": round(float(radial_error(r.particles).mean()), 5),
        "n_resamples": r.n_resamples,
        "min_ess": round(float(r.ess.min()), 2),
        "acceptance": round(float(r.acceptance.mean()), 4),
        "log_normalizer": None if r.log_normalizer is None else round(r.log_normalizer, 4),
        "seconds": round(seconds, 2),
        **steering,
    }
    title = (
        f"{type(color).__name__}, steered to {args.color} {_shown(metrics['target_rgb'])}\n"
        f"reached mean rgb {_shown(reached)}\nhighest reward of {args.particles} particles"
    )
    write_outputs(
        paths,
        {
            ".png": lambda path: plot_clouds({title: r.best.cpu()}, columns=1, path=path, panel_size=4),
            ".npz": lambda path: save_npz(path, **_arrays(r)),
            ".ply": lambda path: _ply(path, r.best),
        },
        {metrics_path: lambda path: path.write_text(json.dumps(metrics, indent=2) + "\n")},
    )
    print(
        f"radial error {metrics['radial_error']:.4f}, mean color {reached}, resampled {r.n_resamples}x -> "
        f"{', '.join(map(str, paths))} and {metrics_path}"
    )
    return 0


def train(args) -> int:
    writable_dir(args.out_dir, "--out-dir")
    manifest = train_and_save(args.out_dir, TrainingConfig(n_steps=args.train_steps, seed=args.seed))
    print(f"wrote checkpoints and {manifest}; sample with them: poe-demo sample --data-dir {args.out_dir}")
    return 0


def digits(args) -> int:
    args.out = args.out or [Path("outputs/digits.png")]
    return digit_command.digits(args)


def train_digits(args) -> int:
    return digit_command.train_digits(args)


def video(args) -> int:
    args.out = args.out or [Path("outputs/video.gif")]
    return video_command.video(args)


def train_video(args) -> int:
    writable_dir(args.out_dir, "--out-dir")
    manifest = train_and_save_video_net(args.out_dir)
    print(f"wrote the video network and {manifest}")
    return 0
