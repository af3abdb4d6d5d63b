"""The command line: the main job's files, and one clear line with exit code 2 for every user mistake."""
import json
import shutil
import subprocess
import sys

import pytest

from poe_demo.cli import main
from poe_demo.experts.pretrained import DATA_DIR


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own exits (--help) and our one-line parser errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_demo_writes_png_gif_and_metrics(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", "--particles", "4", "--points", "64", "--steps", "8", "--mcmc-steps", "1",
                       "--out", str(tmp_path))
    assert code == 0
    assert (tmp_path / "samples.png").stat().st_size > 1000
    assert (tmp_path / "trajectory_red.gif").read_bytes()[:3] == b"GIF"
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert set(report["methods"]) >= {"product of experts (AIS)", "steered to red (AIS)", "x expert alone (Euler)"}
    assert "radial err" in out


def test_sample_writes_a_png(tmp_path, capsys):
    code, out, _ = run(capsys, "sample", "--color", "blue", "--particles", "4", "--points", "64", "--steps", "8",
                       "--out", str(tmp_path / "blue.png"))
    assert code == 0 and (tmp_path / "blue.png").exists() and "mean color" in out


def one_line_error(capsys, *argv, contains):
    code, _, err = run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("poe-demo: error:") and contains in lines[0], err


@pytest.mark.parametrize(
    "argv, contains",
    [
        (["sample", "--color", "purple"], "unknown color 'purple'"),
        (["sample", "--particles", "0"], "must be an integer >= 1, got 0"),
        (["sample", "--steps", "0"], "must be an integer >= 1, got 0"),
        (["demo", "--particles", "-3"], "must be an integer >= 1, got -3"),
        (["sample", "--strength", "0"], "strength must be a number > 0"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_values_get_one_line_and_exit_code_2(capsys, argv, contains):
    one_line_error(capsys, *argv, contains=contains)


def copy_checkpoints(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_missing_checkpoint(tmp_path, capsys):
    data = copy_checkpoints(tmp_path)
    (data / "axis_y.pt").unlink()
    one_line_error(capsys, "sample", "--data-dir", str(data), "--out", str(tmp_path / "a.png"), contains="missing checkpoint")


def test_missing_manifest(tmp_path, capsys):
    one_line_error(capsys, "sample", "--data-dir", str(tmp_path), "--out", str(tmp_path / "a.png"), contains="no checkpoint manifest")


def test_tampered_checkpoint(tmp_path, capsys):
    data = copy_checkpoints(tmp_path)
    blob = bytearray((data / "axis_x.pt").read_bytes())
    blob[-20] ^= 0xFF
    (data / "axis_x.pt").write_bytes(bytes(blob))
    one_line_error(capsys, "sample", "--data-dir", str(data), "--out", str(tmp_path / "a.png"), contains="SHA-256")


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    one_line_error(capsys, "demo", "--out", str(blocker / "sub"), contains=str(blocker))
    one_line_error(capsys, "sample", "--out", str(tmp_path / "x.jpg"), contains="must be a .png")


def test_module_entry_point_exit_code():
    result = subprocess.run([sys.executable, "-m", "poe_demo", "sample", "--color", "nope"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["poe-demo: error: unknown color 'nope'; use one of black, red, green, "
                                                  "blue, yellow, cyan, magenta, white or an RGB triple in [0, 1]"]


def test_train_writes_loadable_checkpoints_with_a_manifest(tmp_path, capsys):
    from poe_demo.experts import load_axis_experts

    code, out, _ = run(capsys, "train", "--train-steps", "3", "--out-dir", str(tmp_path))
    assert code == 0 and "manifest.json" in out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["training_config"]["n_steps"] == 3 and set(manifest["experts"]) == {"x", "y", "z"}
    assert set(load_axis_experts(tmp_path)) == {"x", "y", "z"}


def test_negative_mcmc_steps_get_one_line(capsys):
    one_line_error(capsys, "sample", "--mcmc-steps", "-1", contains="must be an integer >= 0, got -1")
