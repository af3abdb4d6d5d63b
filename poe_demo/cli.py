"""``poe-demo`` / ``python -m poe_demo``: the main job (demo), one steered sample, digits, and retraining.

This module only parses and checks the command line; :mod:`poe_demo.commands` does the work and
is imported after parsing, so ``--help`` and argument mistakes answer without loading torch. A
user mistake (unknown color, n < 1, a request larger than the memory available, a missing or
tampered checkpoint, an unusable output path, an absent CUDA device) prints one line on stderr
and exits with code 2; Ctrl-C prints one line and exits with 130. Every output file is written
under a temporary name and renamed into place once the run has succeeded, so a failed or
interrupted run leaves the previous outputs as they were and no partial file.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from . import __version__
from .colors import PALETTE, parse_color

__all__ = ["main", "build_parser"]

# The library's names, spelled out here so the parser needs no torch; tests/test_cli.py checks
# each against its home (samplers.WEIGHTINGS, smc.RESAMPLERS, evaluation.COLOR_EXPERTS,
# TrainingConfig).
WEIGHTINGS = ("incremental", "paper")
RESAMPLERS = ("multinomial", "residual", "stratified", "systematic")
PALETTE_NAMES = tuple(PALETTE)
COLOR_EXPERT_NAMES = ("mean", "mixture")
TRAIN_DEFAULTS = {"n_steps": 3000, "seed": 0}


class _Once(argparse.Action):
    """A flag that takes one value: given twice, it is a mistake (the last one would silently win)."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_given", set())
        if self.dest in given:
            parser.error(f"{option_string} is given twice; give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + message
        raise SystemExit(_fail(message))

    def add_argument(self, *args, **kwargs):
        if args and args[0].startswith("--") and "action" not in kwargs:
            kwargs["action"] = _Once
        return super().add_argument(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        parsed.__dict__.pop("_given", None)
        return parsed


def _fail(message: str) -> int:
    print(f"poe-demo: error: {message}", file=sys.stderr)
    return 2


def _integer(text: str, allowed: str) -> int:
    """``text`` as an int, or the user's mistake named with what is allowed (not argparse's
    ``invalid parse value``, which names our function)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}") from None


def _count(minimum: int):
    def parse(text: str) -> int:
        value = _integer(text, f"an integer >= {minimum}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse


_positive = _count(1)


def _seed(text: str) -> int:
    value = _integer(text, "an integer in [0, 2^63)")
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2^63), got {value}")
    return value


def _strength(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _color(text: str) -> str:
    try:
        parse_color(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _digit(text: str) -> int:
    value = _integer(text, "a digit from 0 to 9")
    if not 0 <= value <= 9:
        raise argparse.ArgumentTypeError(f"must be a digit from 0 to 9, got {value}")
    return value


def _device(text: str):
    import torch

    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"{text}: CUDA is not available here (torch {torch.__version__})")
    if device.type not in ("cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"unsupported device {text!r}; use cpu or cuda")
    return device


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Each flag's help ends with its default, except where there is none to show."""

    def _get_help_string(self, action):
        return action.help if action.default is None or action.required else super()._get_help_string(action)


def _sampling_args(
    p: argparse.ArgumentParser, particles: int, steps: int, mcmc_steps: int, what: str, networks: str, points=None
) -> None:
    """The flags every sampling command shares; ``what`` names a particle ("clouds", "images")."""
    p.add_argument("--particles", type=_positive, default=particles, help=f"L, {what} sampled in parallel")
    if points is not None:
        p.add_argument("--points", type=_positive, default=points, help="N, points per cloud")
    p.add_argument("--steps", type=_positive, default=steps, help="T, annealing levels")
    p.add_argument("--mcmc-steps", type=_count(0), default=mcmc_steps, metavar="K", help="Langevin steps per level")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the noise and the sampler, in [0, 2^63)")
    p.add_argument("--device", type=_device, default="cpu", help="cpu or cuda")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"folder with {networks} and manifest.json (default: the ones shipped in the package)",
    )


def build_parser() -> argparse.ArgumentParser:
    defaults = _Defaults
    parser = _Parser(
        prog="poe-demo",
        description="Product of Experts for Visual Generation, taught on three lessons. The sphere: every "
        "composition of the point-cloud experts (demo), one cloud steered to a color (sample), retraining them "
        "(train). Handwritten digits: samples steered to a digit or composed from digit experts (digits), "
        "retraining the digit networks (train-digits). A bouncing ball: clips from a video expert composed with a "
        "physics engine and a goal (video), retraining the video network (train-video).",
    )
    parser.add_argument("--version", action="version", version=f"poe-demo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser(
        "demo",
        formatter_class=defaults,
        help="sample every composition (color expert: ColorMixtureExpert): a picture, a GIF, metrics, the clouds",
    )
    _sampling_args(p, 32, 64, 3, "clouds", "the axis experts' checkpoints", points=256)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("outputs"),
        help="output folder for samples.png, trajectory_red.gif, metrics.json, clouds.npz (every run's particles, "
        "weights, rewards, best index) and one .ply per returned cloud",
    )
    p.set_defaults(command="demo")
    p = sub.add_parser("sample", formatter_class=defaults, help="one cloud steered to a color")
    _sampling_args(p, 32, 64, 3, "clouds", "the axis experts' checkpoints", points=512)
    p.add_argument(
        "--color",
        type=_color,
        default="red",
        help=f"palette name ({', '.join(PALETTE_NAMES)}), an RGB triple such as 1,0,0, or a hex color such as "
        "#ff8000 or #f80",
    )
    p.add_argument("--strength", type=_strength, default=10.0, help="reward strength, a finite number > 0")
    p.add_argument(
        "--color-expert",
        choices=COLOR_EXPERT_NAMES,
        default="mixture",
        help="mixture: ColorMixtureExpert, one palette color decided along the path (steered untempered, on an "
        "even time grid; reaches the asked color); mean: ColorMeanExpert, the color fixed by the noise, so "
        "steering can only pick among the noise's colors (a green run lands near teal)",
    )
    p.add_argument(
        "--weighting",
        choices=WEIGHTINGS,
        default="incremental",
        help="incremental: full annealed importance weights (the sampler's default); paper: the paper's sketch",
    )
    p.add_argument(
        "--resampling", choices=RESAMPLERS, default="systematic", help="how particles are resampled when the ESS drops"
    )
    p.add_argument(
        "--out",
        type=Path,
        action="append",
        help="output file, by its ending: .png (the highest-reward cloud, titled with the color reached), .npz "
        "(particles [L, N, 6], log_weights, log_rewards, best_index) or .ply (the highest-reward cloud, colored, for "
        "3-D viewers); repeat it for several (default: outputs/sample.png); metrics go beside the first, as .json",
    )
    p.set_defaults(command="sample")
    p = sub.add_parser(
        "train", formatter_class=defaults, help="retrain the axis experts and rewrite the checkpoints and manifest"
    )
    p.add_argument(
        "--train-steps", type=_positive, default=TRAIN_DEFAULTS["n_steps"], help="optimizer steps per axis expert"
    )
    p.add_argument("--seed", type=_seed, default=TRAIN_DEFAULTS["seed"], help="training seed, in [0, 2^63)")
    p.add_argument("--out-dir", type=Path, required=True, help="folder for the checkpoints and manifest.json")
    p.set_defaults(command="train")
    p = sub.add_parser(
        "digits",
        formatter_class=defaults,
        help="handwritten digits from the shipped flow expert, steered to a digit by a classifier, graded by a judge",
    )
    p.add_argument("--digit", type=_digit, default=None, help="the digit to steer to, 0-9 (absent: unconditional)")
    p.add_argument(
        "--product",
        metavar="EXPR",
        help="sample a product of the digit experts instead of flow_all, with *, / and ^: "
        "'flow_01234 * flow_02468 / flow_all' (AND: 0, 2 or 4), 'flow_all^2 / flow_01234' (NOT: 5-9), "
        "'flow_none^-1 * flow_7^2' (guidance 2 toward a 7); experts: flow_all, flow_01234, flow_02468, "
        "flow_0 ... flow_9 (told the digit), flow_none (told no digit)",
    )
    _sampling_args(p, 16, 32, 2, "images", "the digit networks")
    p.add_argument(
        "--out",
        type=Path,
        action="append",
        help="output file, by its ending: .png (the particles as a grid, the returned one framed, each labelled by "
        "the judge) or .npz (images [L, H, W] in [0, 1] in the sampler's order, log_weights [L], best [H, W]); "
        "repeat it for both (default: outputs/digits.png)",
    )
    p.set_defaults(command="digits")
    p = sub.add_parser(
        "train-digits",
        formatter_class=defaults,
        help="retrain the digit networks (four flow experts, the reward classifier, the judge) and their manifest",
    )
    p.add_argument("--out-dir", type=Path, required=True, help="folder for the networks and manifest.json")
    p.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="retrain just this network (repeatable), keeping the others already in --out-dir",
    )
    p.set_defaults(command="train_digits")
    p = sub.add_parser(
        "video",
        formatter_class=defaults,
        help="clips of a bouncing ball from the shipped video expert, composed with the physics engine and a goal",
    )
    p.add_argument(
        "--goal",
        choices=("none", "left-third", "middle-third", "right-third"),
        default="none",
        help="where the ball should end, horizontally (a designer's wish, blind to physics)",
    )
    p.add_argument(
        "--physics",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compose the physics engine as an expert (--no-physics: the video expert and the goal alone)",
    )
    _sampling_args(p, 8, 16, 1, "clips", "the video network")
    p.add_argument(
        "--out",
        type=Path,
        action="append",
        help="output file, by its ending: .gif (every particle's clip playing, the returned one framed) or .npz "
        "(clips [L, F, H, W] in [-1, 1], log_weights [L], best [F, H, W]); repeat it for both "
        "(default: outputs/video.gif)",
    )
    p.set_defaults(command="video")
    p = sub.add_parser(
        "train-video",
        formatter_class=defaults,
        help="retrain the video lesson's flow network over clips (about half an hour on 2 cores) and its manifest",
    )
    p.add_argument("--out-dir", type=Path, required=True, help="folder for the network and manifest.json")
    p.set_defaults(command="train_video")
    return parser


# After Ctrl-C a run should end in moments. If it has not after this many seconds, or at a second
# Ctrl-C, the CLI prints every thread's stack to stderr, so that a hang can be found, and leaves.
# (It found one: a Ctrl-C swallowed during the imports, see main.)
EXIT_WITHIN = 20.0


def _stuck(reason: str) -> None:
    import faulthandler
    import os

    print(f"poe-demo: {reason}; the threads' stacks, for a bug report:", file=sys.stderr, flush=True)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    os._exit(130)


def _on_interrupt(signum, frame) -> None:
    """First Ctrl-C: KeyboardInterrupt, as Python's default does, and a watchdog; second: give up now."""
    import threading

    if getattr(_on_interrupt, "pressed", False):
        _stuck("interrupted twice")
    _on_interrupt.pressed = True
    watchdog = threading.Timer(EXIT_WITHIN, _stuck, args=(f"still running {EXIT_WITHIN:g} s after Ctrl-C",))
    watchdog.daemon = True  # a run that ends normally is not held up by it
    watchdog.start()
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    in_main_thread = threading.current_thread() is threading.main_thread()  # where signal handlers live
    pressed = []
    if in_main_thread:
        # Until the imports are done, Ctrl-C is only noted. A KeyboardInterrupt raised inside a module
        # being imported (numpy, torch) was swallowed there, so the run went on, or left the module
        # half-built, so a later import failed ("cannot load module more than once per process"): 4 of
        # 200 interrupts in benchmarks/ctrl_c_stress.py, all within the first second.
        _on_interrupt.pressed = False
        signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        args = build_parser().parse_args(argv)
        from . import commands
        from .runtime import configure_cpu

        if in_main_thread:
            signal.signal(signal.SIGINT, _on_interrupt)
        if pressed:
            raise KeyboardInterrupt
        configure_cpu()
        return getattr(commands, args.command)(args)
    except (ValueError, TypeError, OSError, ImportError) as exc:  # user mistakes: values, files, memory, extras
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("poe-demo: interrupted", file=sys.stderr)
        return 130
