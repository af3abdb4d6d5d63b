"""The command line: the main job's files, and one clear line with exit code 2 for every user mistake."""

import json
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from poe_demo.cli import main
from poe_demo.evaluation import CHANNELS, COLOR_EXPERTS
from poe_demo.experts.pretrained import CHECKPOINT_DIR
from poe_demo.metrics import has_dominant_channel
from poe_demo.outputs import read_ply
from poe_demo.samplers import annealed_importance_sampling

TINY = ["--particles", "2", "--points", "32", "--steps", "4"]  # a run of a second or two


def one_point_clouds(colors: list) -> torch.Tensor:
    """Clouds ``[k, 1, 6]`` of one point each, at the origin, in the given mean colors."""
    rgb = torch.tensor(colors, dtype=torch.float32).view(-1, 1, 3)
    return torch.cat([torch.zeros_like(rgb), rgb], dim=-1)


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own exits (--help) and our one-line parser errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_demo_writes_png_gif_and_metrics(tmp_path, capsys):
    code, out, _ = run(
        capsys,
        "demo",
        "--particles",
        "4",
        "--points",
        "64",
        "--steps",
        "8",
        "--mcmc-steps",
        "1",
        "--out",
        str(tmp_path),
    )
    assert code == 0
    assert (tmp_path / "samples.png").stat().st_size > 1000
    assert (tmp_path / "trajectory_red.gif").read_bytes()[:3] == b"GIF"
    report = json.loads((tmp_path / "metrics.json").read_text())
    clouds = np.load(tmp_path / "clouds.npz")
    for slug, name in [("product", "product of experts"), *[(f"steered_to_{c}", f"steered to {c}") for c in CHANNELS]]:
        particles, best = clouds[f"{slug}.particles"], int(clouds[f"{slug}.best_index"])
        assert particles.shape == (4, 64, 6) and clouds[f"{slug}.log_weights"].shape == (4,)
        xyz, rgb = read_ply(tmp_path / f"{slug}.ply")  # the returned cloud, the one metrics.json describes
        np.testing.assert_allclose(xyz, particles[best, :, :3], atol=1e-5)
        np.testing.assert_array_equal(rgb, np.rint(np.clip(particles[best, :, 3:], 0, 1) * 255))
        np.testing.assert_allclose(
            particles[best, :, 3:].mean(0), report["methods"][f"{name} (AIS)"]["returned_mean_color"], atol=6e-4
        )
    assert clouds["x_alone.particles"].shape == (4, 64, 6)
    assert set(report["methods"]) >= {"product of experts (AIS)", "steered to red (AIS)", "x expert alone (Euler)"}
    assert len(report["methods"]["product of experts (AIS)"]["shown_mean_colors"]) == 4
    for channel, color in enumerate(CHANNELS):
        steered = report["methods"][f"steered to {color} (AIS)"]
        dominant = has_dominant_channel(one_point_clouds([steered["returned_mean_color"]]), channel)
        assert steered["returned_is_target_dominant"] == bool(dominant[0])
    assert "radial err" in out


def test_demo_at_its_defaults_shows_unsteered_clouds_beside_steered_ones_of_each_target(tmp_path, capsys):
    # The figure's promise, at the settings `make demo` uses: every steered panel is its target
    # color, and beside it the unsteered product shows at least one cloud that is not.
    code, _, _ = run(capsys, "demo", "--out", str(tmp_path))
    assert code == 0
    methods = json.loads((tmp_path / "metrics.json").read_text())["methods"]
    unsteered = one_point_clouds(methods["product of experts (AIS)"]["shown_mean_colors"])
    for channel, color in enumerate(CHANNELS):
        assert methods[f"steered to {color} (AIS)"]["returned_is_target_dominant"], methods
        assert not bool(has_dominant_channel(unsteered, channel).all()), unsteered


def test_sample_writes_a_png(tmp_path, capsys):
    code, out, _ = run(
        capsys,
        "sample",
        "--color",
        "blue",
        "--particles",
        "4",
        "--points",
        "64",
        "--steps",
        "8",
        "--out",
        str(tmp_path / "blue.png"),
    )
    assert code == 0 and (tmp_path / "blue.png").exists() and "mean color" in out


def test_sample_exports_npz_ply_and_metrics_that_agree(tmp_path, capsys, monkeypatch):
    import poe_demo.commands

    titles = []
    real = poe_demo.commands.plot_clouds
    monkeypatch.setattr(
        poe_demo.commands, "plot_clouds", lambda clouds, **kw: titles.extend(clouds) or real(clouds, **kw)
    )
    outs = [tmp_path / f"run.{suffix}" for suffix in ("npz", "ply", "png")]
    argv = ["sample", "--color", "#f80", "--color-expert", "mixture", *TINY, "--mcmc-steps", "1"]
    code, out, _ = run(capsys, *argv, *[a for o in outs for a in ("--out", str(o))])
    assert code == 0 and all(o.exists() for o in outs)
    saved = np.load(outs[0])
    particles, weights, rewards = saved["particles"], saved["log_weights"], saved["log_rewards"]
    assert particles.shape == (2, 32, 6) and weights.shape == rewards.shape == (2,)
    assert np.isclose(np.logaddexp.reduce(weights), 0, atol=1e-5)  # normalised log-weights
    best = int(saved["best_index"])
    assert best == int(np.argmax(rewards))  # the returned cloud is the highest-reward particle
    xyz, rgb = read_ply(outs[1])
    np.testing.assert_allclose(xyz, particles[best, :, :3], atol=1e-5)
    np.testing.assert_array_equal(rgb, np.rint(np.clip(particles[best, :, 3:], 0, 1) * 255))
    metrics = json.loads((tmp_path / "run.json").read_text())  # beside the first --out
    assert metrics["returned_index"] == best and metrics["color_expert"].startswith("ColorMixtureExpert")
    np.testing.assert_allclose(metrics["returned_mean_color"], particles[best, :, 3:].mean(0), atol=6e-4)
    assert metrics["target_rgb"] == [1.0, 0.533, 0.0] and metrics["settings"]["out"] == [str(o) for o in outs]
    (title,) = titles  # the PNG names the color expert, the target and the color reached, clipped to [0, 1]
    shown = ", ".join(f"{min(max(c, 0), 1):.2f}" for c in metrics["returned_mean_color"])
    assert "ColorMixtureExpert" in title and "#f80" in title and f"reached mean rgb ({shown})" in title


@pytest.mark.parametrize("choice", ["mean", "mixture"])
def test_sample_runs_the_chosen_color_expert_from_its_own_noise_with_its_steering_settings(
    tmp_path, capsys, monkeypatch, choice
):
    import poe_demo.commands
    from poe_demo.data import sample_noise

    calls = []

    def spy(generative, reward, x_init, *args, **kwargs):
        calls.append((generative, x_init, kwargs))
        return annealed_importance_sampling(generative, reward, x_init, *args, **kwargs)

    monkeypatch.setattr(poe_demo.commands, "annealed_importance_sampling", spy)
    code, out, _ = run(capsys, "sample", "--color-expert", choice, *TINY, "--out", str(tmp_path / "s.png"))
    assert code == 0 and (tmp_path / "s.png").exists() and "mean color" in out
    ((generative, x_init, kwargs),) = calls
    expert, steering = COLOR_EXPERTS[choice]
    assert type(generative[-1]) is expert
    # the expert's own noise (Gaussian or palette rgb), drawn first from the run's seed
    assert torch.equal(x_init, sample_noise(2, 32, torch.Generator().manual_seed(0), expert.color_noise))
    assert {k: kwargs[k] for k in steering} == steering


def one_line_error(capsys, *argv, contains):
    """The mistake as a user meets it: the installed entry point in a fresh process, one stderr line, exit 2."""
    done = subprocess.run([sys.executable, "-m", "poe_demo", *argv], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("poe-demo: error:") and contains in lines[0], done.stderr


@pytest.mark.parametrize(
    "argv, contains",
    [
        (["sample", "--color", "purple"], "unknown color 'purple'"),
        (["sample", "--color-expert", "blob"], "invalid choice: 'blob'"),
        (["sample", "--particles", "0"], "must be an integer >= 1, got 0"),
        (["sample", "--steps", "0"], "must be an integer >= 1, got 0"),
        (["demo", "--particles", "-3"], "must be an integer >= 1, got -3"),
        (["sample", "--strength", "0"], "must be a finite number > 0, got 0"),
        (["sample", "--strength", "inf"], "must be a finite number > 0, got inf"),
        (["sample", "--seed", str(2**70)], "must be an integer in [0, 2^63)"),
        (["sample", "--seed", "-1"], "must be an integer in [0, 2^63)"),
        (["sample", "--seed", "one"], "must be an integer in [0, 2^63), got 'one'"),
        (["sample", "--strength", "strong"], "must be a finite number > 0, got 'strong'"),
        (["sample", "--color", "red", "--color", "blue"], "--color is given twice; give it once"),
        (["sample", "--color", "1,0"], "unknown color '1,0'"),
        (["sample", "--color", "2,0,0"], "3 values in [0, 1]"),
        (["sample", "--color", "#ff00zz"], "unknown color '#ff00zz'"),
        (["sample", "--device", "tpu"], "use cpu or cuda"),
        (["train"], "--out-dir"),
        (["sample", "--points", "1000000000000"], "of memory, more than the"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_values_get_one_line_and_exit_code_2(capsys, argv, contains):
    one_line_error(capsys, *argv, contains=contains)


def copy_checkpoints(tmp_path):
    target = tmp_path / "checkpoints"
    shutil.copytree(CHECKPOINT_DIR, target)
    return target


def test_missing_checkpoint(tmp_path, capsys):
    data = copy_checkpoints(tmp_path)
    (data / "axis_y.pt").unlink()
    one_line_error(
        capsys, "sample", "--data-dir", str(data), "--out", str(tmp_path / "a.png"), contains="missing checkpoint"
    )


def test_missing_manifest(tmp_path, capsys):
    one_line_error(
        capsys,
        "sample",
        "--data-dir",
        str(tmp_path),
        "--out",
        str(tmp_path / "a.png"),
        contains="no checkpoint manifest",
    )


def test_tampered_checkpoint(tmp_path, capsys):
    data = copy_checkpoints(tmp_path)
    blob = bytearray((data / "axis_x.pt").read_bytes())
    blob[-20] ^= 0xFF
    (data / "axis_x.pt").write_bytes(bytes(blob))
    one_line_error(capsys, "sample", "--data-dir", str(data), "--out", str(tmp_path / "a.png"), contains="SHA-256")


def test_unwritable_output_names_the_users_own_path(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    one_line_error(capsys, "demo", "--out", str(blocker / "sub"), contains=str(blocker / "sub"))
    one_line_error(capsys, "sample", "--out", str(tmp_path / "x.jpg"), contains="must end in .png, .npz, .ply")
    one_line_error(capsys, "sample", "--out", str(blocker / "red.png"), contains=f"{blocker / 'red.png'}: {blocker}")
    one_line_error(capsys, "sample", "--out", "/proc/red.png", contains="--out /proc/red.png: cannot write in /proc")
    one_line_error(capsys, "sample", "--out", str(tmp_path), contains="is a folder")
    one_line_error(capsys, "demo", "--out", str(tmp_path / "samples.png"), contains="names a file")
    assert not (tmp_path / "samples.png").exists()
    twice = str(tmp_path / "a.png")
    one_line_error(capsys, "sample", "--out", twice, "--out", twice, contains="the same file is given twice")


def test_module_entry_point_exit_code():
    result = subprocess.run(
        [sys.executable, "-m", "poe_demo", "sample", "--color", "nope"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "poe-demo: error: argument --color: unknown color 'nope'; use one of black, red, green, blue, yellow, cyan, "
        "magenta, white, an RGB triple in [0, 1] such as 1,0,0, or a hex color such as #ff0000 or #f00"
    ]


def test_train_writes_loadable_checkpoints_with_a_manifest(tmp_path, capsys):
    from poe_demo.experts import load_axis_experts

    code, out, _ = run(capsys, "train", "--train-steps", "3", "--out-dir", str(tmp_path))
    assert code == 0 and "manifest.json" in out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["training_config"]["n_steps"] == 3 and set(manifest["experts"]) == {"x", "y", "z"}
    assert set(load_axis_experts(tmp_path)) == {"x", "y", "z"}


def test_negative_mcmc_steps_get_one_line(capsys):
    one_line_error(capsys, "sample", "--mcmc-steps", "-1", contains="must be an integer >= 0, got -1")


# --- issue 12: sizes, devices, colors, outputs, interruptions ------------------------------------


@pytest.mark.parametrize("flag", ["--particles", "--points", "--steps"])
def test_oversized_requests_are_refused_before_allocating(capsys, tmp_path, flag):
    code, _, err = run(capsys, "sample", flag, "1000000000000", "--out", str(tmp_path / "big.png"))
    assert code == 2 and err.count("\n") == 1
    assert f"{flag} 1000000000000" in err and "of memory, more than the" in err and "available" in err
    assert not (tmp_path / "big.png").exists()


@pytest.mark.parametrize("color", ["1,0,0", "#ff0000", "0.9, 0.1, 0.1"])
def test_rgb_triples_and_hex_colors_are_accepted(tmp_path, capsys, color):
    code, out, err = run(
        capsys,
        "sample",
        "--color",
        color,
        *TINY,
        "--out",
        str(tmp_path / "c.png"),
    )
    assert code == 0, err
    assert (tmp_path / "c.png").exists()


def test_version_and_plain_help():
    from poe_demo import __version__

    def entry_point(*argv):
        done = subprocess.run([sys.executable, "-m", "poe_demo", *argv], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert entry_point("--version").strip() == f"poe-demo {__version__}"
    help_text = entry_point("--help")
    assert "``" not in help_text and "--version" in help_text
    description = help_text.split("positional arguments")[0]
    assert "sphere" in description and "digits" in description  # both lessons, since both have commands


def test_device_cuda_without_cuda_is_one_line(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    one_line_error(capsys, "sample", "--device", "cuda", contains="CUDA is not available here")


def test_device_cpu_is_accepted(tmp_path, capsys):
    code, _, err = run(
        capsys,
        "sample",
        "--device",
        "cpu",
        *TINY,
        "--out",
        str(tmp_path / "d.png"),
    )
    assert code == 0, err


def test_bad_color_creates_no_folder(tmp_path, capsys):
    one_line_error(capsys, "sample", "--color", "purple", "--out", str(tmp_path / "new" / "a.png"), contains="purple")
    assert not (tmp_path / "new").exists()


def test_out_pointing_at_a_directory_fails_before_sampling(tmp_path, capsys):
    (tmp_path / "dir.png").mkdir()
    one_line_error(capsys, "sample", "--out", str(tmp_path / "dir.png"), contains="dir.png: is a folder")


@pytest.mark.parametrize("key", ["sha256", "axis", "file"])
def test_manifest_without_a_key_is_one_line_naming_it(tmp_path, capsys, key):
    data = copy_checkpoints(tmp_path)
    manifest = json.loads((data / "manifest.json").read_text())
    del manifest["experts"]["y"][key]
    (data / "manifest.json").write_text(json.dumps(manifest))
    one_line_error(
        capsys,
        "sample",
        "--data-dir",
        str(data),
        "--out",
        str(tmp_path / "a.png"),
        contains=f"malformed manifest {data / 'manifest.json'}: missing key 'experts.y.{key}'",
    )


def test_swapped_checkpoints_are_caught_even_with_swapped_hashes(tmp_path, capsys):
    data = copy_checkpoints(tmp_path)
    manifest = json.loads((data / "manifest.json").read_text())
    x, y = manifest["experts"]["x"], manifest["experts"]["y"]
    x["file"], y["file"] = y["file"], x["file"]
    x["sha256"], y["sha256"] = y["sha256"], x["sha256"]
    (data / "manifest.json").write_text(json.dumps(manifest))
    one_line_error(
        capsys, "sample", "--data-dir", str(data), "--out", str(tmp_path / "a.png"), contains="holds the 'y' expert"
    )


def _start(tmp_path, *argv):
    import os

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "poe_demo", *argv],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


INTERRUPTED_WHILE_IMPORTING = """
import importlib.abc, os, signal, sys
from poe_demo import cli

class CtrlC(importlib.abc.MetaPathFinder):  # presses Ctrl-C as the module is looked up
    def find_spec(self, name, path, target=None):
        if name == sys.argv[1] and not hasattr(self, "pressed"):
            self.pressed = os.kill(os.getpid(), signal.SIGINT)

sys.meta_path.insert(0, CtrlC())
sys.exit(cli.main(["sample", "--points", "64", "--particles", "2", "--steps", "3", "--out", "x.png"]))
"""


@pytest.mark.parametrize("module", ["numpy", "numpy.linalg", "matplotlib.pyplot"])
def test_ctrl_c_during_the_imports_ends_the_run(tmp_path, module):
    # torch's C extension imports numpy and clears any error, KeyboardInterrupt included: a Ctrl-C
    # there was swallowed and the run finished (exit 0); one in numpy.linalg left numpy half-built
    # and ended in a traceback. The CLI notes a Ctrl-C until its imports are done.
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_WHILE_IMPORTING, module], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 130, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == "poe-demo: interrupted" and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_ends_with_one_line_exit_130_and_leaves_previous_outputs(tmp_path):
    out = tmp_path / "outputs"
    out.mkdir()
    # a previous run's files (their content does not matter: they must come through untouched)
    for name in ("samples.png", "trajectory_red.gif", "metrics.json", "clouds.npz", "product.ply"):
        (out / name).write_bytes(name.encode() * 100)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    slow = _start(
        tmp_path, "demo", "--particles", "64", "--points", "2048", "--steps", "400", "--seed", "5", "--out", str(out)
    )
    # well into the sampling: wait for the annealed sampler's progress bar (on a loaded machine the
    # imports alone can take seconds), then press Ctrl-C
    seen, started = [], time.monotonic()
    while not any("(AIS)" in chunk for chunk in seen) and time.monotonic() - started < 240:
        seen.append(slow.stderr.read(64))
        assert seen[-1] or slow.poll() is None, "".join(seen)
    time.sleep(1)
    assert slow.poll() is None, slow.communicate()
    slow.send_signal(signal.SIGINT)
    stdout, stderr = slow.communicate(timeout=60)
    stderr = "".join(seen) + stderr
    assert slow.returncode == 130
    assert stderr.strip().splitlines()[-1] == "poe-demo: interrupted" and "Traceback" not in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no new, partial or temporary file


def test_the_parsers_names_are_the_librarys():
    from poe_demo import cli
    from poe_demo.data import PALETTE
    from poe_demo.experts import TrainingConfig
    from poe_demo.samplers import WEIGHTINGS
    from poe_demo.smc import RESAMPLERS

    assert cli.WEIGHTINGS == WEIGHTINGS
    assert cli.RESAMPLERS == tuple(sorted(RESAMPLERS))
    assert cli.PALETTE_NAMES == tuple(PALETTE)
    assert cli.COLOR_EXPERT_NAMES == tuple(COLOR_EXPERTS)
    assert cli.TRAIN_DEFAULTS == {"n_steps": TrainingConfig.n_steps, "seed": TrainingConfig.seed}


def test_every_flag_has_help_and_shows_its_default():
    from poe_demo.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    for name, command in sub.choices.items():
        text = command.format_help()
        for action in command._actions:
            if action.dest == "help":
                continue
            assert action.help, f"{name} {action.option_strings} has no help text"
            if action.default is not None and not action.required:
                assert f"(default: {action.default})" in " ".join(text.split()), (name, action.option_strings)


def test_help_answers_without_importing_torch():
    # --help must start fast: torch, matplotlib and the trainers load only when a command runs
    code = (
        "import sys\n"
        "from poe_demo.cli import main\n"
        "try:\n    main(['sample', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'plotly') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--color-expert" in done.stdout and done.stdout.strip().endswith("[]"), done.stdout


@pytest.mark.parametrize("color, rgb", [("green", (0, 1, 0)), ("#f0f", (1, 0, 1))])
def test_sample_with_its_defaults_gives_the_color_it_names(tmp_path, color, rgb):
    """The README's `poe-demo sample --color green`, defaults untouched: a green cloud, not the
    noise's nearest mixed color (ColorMeanExpert's teal)."""
    done = subprocess.run([sys.executable, "-m", "poe_demo", "sample", "--color", color, "--out", "s.png"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    reached = json.loads((tmp_path / "s.json").read_text())["returned_mean_color"]
    assert max(abs(a - b) for a, b in zip(reached, rgb)) < 0.1, reached


STUCK = """
import sys, time
from poe_demo import cli, commands
cli.EXIT_WITHIN = {within}
def stuck(args):  # a command that ignores the interrupt and hangs, as the 1 in 173 did
    started = False
    while True:
        try:
            if not started:
                started = True
                print("started", flush=True)
            time.sleep(60)
        except KeyboardInterrupt:
            pass
commands.demo = stuck
sys.exit(cli.main(["demo", "--out", {out!r}]))
"""


@pytest.mark.parametrize("presses, within", [(1, 2.0), (2, 600.0)])
def test_a_run_that_hangs_after_ctrl_c_prints_its_stacks_and_exits(tmp_path, presses, within):
    """The watchdog (after EXIT_WITHIN seconds) and a second Ctrl-C both end a stuck run with exit
    130 and every thread's stack on stderr: where a hang is, instead of a terminal that never returns."""
    script = STUCK.format(within=within, out=str(tmp_path / "out"))
    stuck = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert stuck.stdout.readline().strip() == "started"
    for _ in range(presses):
        stuck.send_signal(signal.SIGINT)
        time.sleep(0.5)
    _, stderr = stuck.communicate(timeout=60)
    assert stuck.returncode == 130, stderr
    reason = "interrupted twice" if presses == 2 else "still running 2 s after Ctrl-C"
    assert f"poe-demo: {reason}; the threads' stacks" in stderr and "in stuck" in stderr, stderr
