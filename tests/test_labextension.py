"""Both ways a learner installs the package leave JupyterLab able to find poe-demo-plotly, or say how.

The wheel's data files are checked in test_packaging.py; here the editable case: ``pip install
-e .`` installs no data files (checked in a real venv below), the first figure a kernel shows
then says so once, and ``python -m poe_demo.labextension`` links the extension where JupyterLab
looks."""

import subprocess
import sys
from pathlib import Path

import pytest

from poe_demo import labextension

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def missing(monkeypatch, tmp_path):
    """A JupyterLab search path without the extension, and a fresh once-per-process flag."""
    monkeypatch.setattr(labextension, "_search_path", lambda: [tmp_path / "share" / "jupyter" / "labextensions"])
    monkeypatch.setattr(labextension, "_warned", False)
    return tmp_path


def test_the_first_figure_without_the_extension_says_so_once(missing, capsys):
    pytest.importorskip("plotly")
    from poe_demo.snapshot import SnapshotFigure

    for _ in range(2):
        SnapshotFigure()._ipython_display_()
    err = capsys.readouterr().err
    assert err.count("poe-demo-plotly JupyterLab extension is not installed") == 1
    assert "python -m poe_demo.labextension" in err


def test_link_puts_it_where_jupyterlab_looks_and_then_nothing_is_said(missing, capsys):
    target = labextension.link(prefix=missing)
    assert target.resolve() == labextension.SOURCE.resolve() and labextension.find() == target
    assert labextension.link(prefix=missing) == target  # a second run changes nothing
    assert not labextension.warn_once_if_missing()
    assert capsys.readouterr().err == ""


def test_link_refuses_a_folder_without_a_built_extension(missing):
    with pytest.raises(ValueError, match="no built extension at"):
        labextension.link(prefix=missing, source=missing / "nowhere")


def test_the_make_setup_environment_has_it():
    assert labextension.find() is not None  # the venv make test runs in: make setup linked it


def test_an_editable_install_lacks_it_until_linked(tmp_path):
    """The real editable install, in a fresh venv: no extension, then the module links it."""
    import site

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # this environment's packages (pip, setuptools, jupyter_core), but not its share/ folder
    inner = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                           capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    Path(inner, "outer.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    install = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*install, "-e", str(ROOT)], check=True, cwd=tmp_path, timeout=300)
    share = venv / "share" / "jupyter" / "labextensions" / labextension.NAME
    assert not share.exists()  # what the guide warns about: no data files
    done = subprocess.run([str(python), "-m", "poe_demo.labextension"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and "linked poe-demo-plotly" in done.stdout, done.stderr
    assert (share / "package.json").is_file()
