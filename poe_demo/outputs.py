"""Files the commands write: checked before any work, written under temporary names, renamed together.

A run that fails or is interrupted must leave the previous outputs as they were and no partial
file, so every output goes to a temporary file beside its final name and :class:`Outputs`
renames them all once the run has succeeded. Formats: PNG pictures (matplotlib), ``.npz``
arrays (numpy) and ``.ply`` point clouds with colors, which 3-D viewers (MeshLab, Blender,
CloudCompare) open.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import numpy as np

__all__ = [
    "Outputs",
    "writable_dir",
    "check_output_file",
    "check_output_files",
    "write_outputs",
    "save_npz",
    "save_ply",
    "read_ply",
]


def _cannot_write(folder: Path) -> str | None:
    """Why no file can be written in ``folder`` (created if needed), or None if one can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


FILE_ENDINGS = (".png", ".gif", ".jpg", ".jpeg", ".svg", ".pdf", ".json", ".npz", ".ply")


def writable_dir(path: Path, flag: str) -> Path:
    """Create the folder ``path`` if needed and check a file can be written there, before any sampling.

    A new folder named like a file (``samples.png``) is refused: the user meant a file, and would
    get a folder of that name."""
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag} {path}: exists and is not a folder")
    if not path.exists() and path.suffix.lower() in FILE_ENDINGS:
        raise ValueError(
            f"{flag} {path}: names a file, but this command writes several files into a folder; "
            f"give a folder, such as {flag} {path.with_suffix('')}"
        )
    reason = _cannot_write(path)
    if reason:
        raise ValueError(f"{flag} {path}: cannot write in this folder ({reason})")
    return path


def check_output_file(path: Path, flag: str, suffixes: tuple[str, ...]) -> Path:
    """``path`` must end in one of ``suffixes`` and lie in a folder we can write to (created if needed).

    Mistakes name the user's own path: ``--out /proc/red.png: cannot write in /proc (...)``."""
    if path.is_dir():
        raise ValueError(f"{flag} {path}: is a folder; give a file name ending in {', '.join(suffixes)}")
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{flag} {path}: the file name must end in {', '.join(suffixes)}")
    if path.parent.exists() and not path.parent.is_dir():
        raise ValueError(f"{flag} {path}: {path.parent} is not a folder")
    reason = _cannot_write(path.parent)
    if reason:
        raise ValueError(f"{flag} {path}: cannot write in {path.parent} ({reason})")
    return path


def check_output_files(paths: list[Path], flag: str, suffixes: tuple[str, ...]) -> list[Path]:
    """Each of ``paths`` checked by :func:`check_output_file`, and none given twice."""
    if len(set(paths)) != len(paths):
        raise ValueError(f"{flag}: the same file is given twice ({', '.join(map(str, paths))})")
    return [check_output_file(path, flag, suffixes) for path in paths]


def write_outputs(paths: list[Path], writers: dict, extra: dict | None = None) -> None:
    """Write each path with ``writers[its suffix](temporary path)`` (and each ``extra[path]`` likewise), then
    rename them all into place together; on any failure, no file is left behind."""
    outputs = Outputs()
    try:
        for path in paths:
            writers[path.suffix.lower()](outputs.temporary(path))
        for path, write in (extra or {}).items():
            write(outputs.temporary(path))
        outputs.commit()
    finally:
        outputs.discard()


class Outputs:
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


def save_npz(path: Path, **arrays) -> Path:
    """numpy's ``.npz`` of the named arrays (written to ``path`` as given: no ``.npz`` appended)."""
    with open(path, "wb") as f:
        np.savez(f, **{name: np.asarray(value) for name, value in arrays.items()})
    return path


def save_ply(path: Path, xyz: np.ndarray, rgb: np.ndarray) -> Path:
    """An ASCII PLY point cloud: ``xyz [N, 3]`` floats and ``rgb [N, 3]`` in [0, 1] (clipped, stored as 0-255)."""
    xyz, rgb = np.asarray(xyz, dtype=np.float64), np.asarray(rgb, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or rgb.shape != xyz.shape:
        raise ValueError(f"save_ply needs xyz and rgb of shape [N, 3], got {xyz.shape} and {rgb.shape}")
    colors = np.rint(np.clip(rgb, 0, 1) * 255).astype(int)
    header = [
        "ply",
        "format ascii 1.0",
        "comment poe-demo point cloud",
        f"element vertex {len(xyz)}",
        "property float x",
        "property float y",
        "property float z",
        "property uchar red",
        "property uchar green",
        "property uchar blue",
        "end_header",
    ]
    rows = [f"{x:.6g} {y:.6g} {z:.6g} {r} {g} {b}" for (x, y, z), (r, g, b) in zip(xyz, colors)]
    Path(path).write_text("\n".join(header + rows) + "\n")
    return path


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(xyz ``[N, 3]``, rgb ``[N, 3]`` in 0-255) from an ASCII PLY written by :func:`save_ply`."""
    lines = Path(path).read_text().splitlines()
    if lines[:2] != ["ply", "format ascii 1.0"] or "end_header" not in lines:
        raise ValueError(f"{path}: not an ASCII PLY file")
    count = next(int(line.split()[2]) for line in lines if line.startswith("element vertex"))
    body = np.array([line.split() for line in lines[lines.index("end_header") + 1 :]], dtype=np.float64)
    if body.shape != (count, 6):
        raise ValueError(f"{path}: expected {count} vertices of 6 values, got {body.shape}")
    return body[:, :3], body[:, 3:].astype(int)
