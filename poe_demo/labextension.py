"""Is the poe-demo-plotly JupyterLab extension where JupyterLab looks for it, and if not, link it there.

A wheel installs the extension (``jupyterlab_extension/built``) into
``<prefix>/share/jupyter/labextensions/``, and ``make setup`` links it there, but an editable
install (``pip install -e .``) installs no data files. Without the extension, JupyterLab's plotly
renderer writes a picture into every figure it draws, and saving a notebook after a mere visit
changes it. A notebook cannot fix that from its kernel, but it can say so: the first plotly figure
shown in a kernel without the extension prints one line naming the fix,
``python -m poe_demo.labextension``, which links it the way ``make setup`` does.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["NAME", "find", "link", "warn_once_if_missing"]

NAME = "poe-demo-plotly"
SOURCE = Path(__file__).resolve().parents[1] / "jupyterlab_extension" / "built"  # a clone's copy
_warned = False


def _search_path() -> list[Path]:
    """The folders JupyterLab searches for prebuilt extensions (``jupyter --paths``' data dirs)."""
    from jupyter_core.paths import jupyter_path

    return [Path(p) for p in jupyter_path("labextensions")]


def find(search: list[Path] | None = None) -> Path | None:
    """The installed extension's folder, or None where JupyterLab would not find it."""
    for folder in _search_path() if search is None else search:
        if (folder / NAME / "package.json").is_file():
            return folder / NAME
    return None


def link(prefix: Path | None = None, source: Path = SOURCE) -> Path:
    """Link ``source`` into ``<prefix>/share/jupyter/labextensions/`` (default: this Python's
    prefix, the folder a wheel would install it to). Returns the link."""
    if not (source / "package.json").is_file():
        raise ValueError(f"no built extension at {source}: link it from a clone of poe-demo (or install the wheel)")
    target = Path(sys.prefix if prefix is None else prefix) / "share" / "jupyter" / "labextensions" / NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        if target.resolve() == source.resolve():
            return target
        raise ValueError(f"{target} exists and is not a link to {source}; remove it first")
    target.symlink_to(source, target_is_directory=True)
    return target


def warn_once_if_missing(search: list[Path] | None = None) -> bool:
    """Print one line to stderr, once per process, if the extension is missing; True if printed."""
    global _warned
    if _warned or find(search) is not None:
        return False
    _warned = True
    print(
        f"poe-demo: the {NAME} JupyterLab extension is not installed here (an editable install skips it), so "
        "JupyterLab will write pictures into this notebook's figures when you save it. Fix: run "
        "`python -m poe_demo.labextension` in this environment, then reload the page.",
        file=sys.stderr,
    )
    return True


def main() -> int:
    try:
        where = find()
        if where is not None:
            print(f"{NAME} is installed: {where}")
            return 0
        print(f"linked {NAME}: {link()}; reload JupyterLab's page to load it")
        return 0
    except (ValueError, OSError) as exc:
        print(f"poe-demo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
