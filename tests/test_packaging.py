"""The wheel is a complete package: installed in a fresh environment it samples from any folder,
with the checkpoints it ships, and uninstalling it leaves nothing behind."""

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNBUILT = (".git", ".venv", "build", "*.egg-info", "site", "outputs", "node_modules", "__pycache__", ".pytest_cache")


def run(*args, cwd=None):
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_wheel_installs_samples_from_another_folder_and_uninstalls_cleanly(tmp_path):
    # build offline with the setuptools of this environment, from a copy without build/ or egg-info:
    # setuptools reuses a stale build/lib, which would ship files the package data no longer names
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*UNBUILT))
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, source)
    wheel = next(dist.glob("poe_demo-*.whl"))
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    # the dependencies (torch, matplotlib, ...) come from this environment's site-packages, read-only;
    # poe_demo itself only from the wheel (this environment's editable install is not activated there)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    location = run(python, "-c", "import poe_demo; print(poe_demo.__file__)", cwd=elsewhere)
    assert location.startswith(str(site)), location
    out = run(
        venv / "bin" / "poe-demo",
        "sample",
        "--particles",
        "2",
        "--points",
        "32",
        "--steps",
        "4",
        "--out",
        "s.png",
        cwd=elsewhere,
    )
    assert "mean color" in out and (elsewhere / "s.png").stat().st_size > 1000
    # the digit networks travel in the wheel too, hash-checked on load like the sphere's
    shipped = site / "poe_demo" / "checkpoints" / "digits"
    assert {"flow_all.pt", "flow_01234.pt", "flow_02468.pt", "reward.pt", "judge.pt", "manifest.json"} <= {
        f.name for f in shipped.iterdir()
    }
    run(venv / "bin" / "poe-demo", "digits", "--digit", "3", "--particles", "2", "--steps", "4", "--out", "d.npz",
        cwd=elsewhere)  # fmt: skip
    assert (elsewhere / "d.npz").stat().st_size > 1000
    # the JupyterLab extension that keeps notebooks unchanged, where JupyterLab looks for extensions
    extension = venv / "share" / "jupyter" / "labextensions" / "poe-demo-plotly"
    assert (extension / "package.json").exists() and list((extension / "static").glob("remoteEntry.*.js"))

    run(python, "-m", "pip", "uninstall", "-y", "-q", "poe-demo")
    assert not extension.exists()
    assert not list(site.glob("poe_demo*")) and not (venv / "bin" / "poe-demo").exists()
    assert not (site / "data").exists() and not (site / "checkpoints").exists()


def test_make_lab_passes_allow_root_exactly_when_run_as_root():
    # JupyterLab refuses to start as root without --allow-root ("Running as root is not recommended").
    import os

    done = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    (line,) = [line for line in done.stdout.splitlines() if "jupyter lab notebooks/" in line]
    assert line.rstrip().endswith("--allow-root") == (os.geteuid() == 0), line
