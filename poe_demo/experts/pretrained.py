"""Shipped weights for the axis experts: saved with a SHA-256 manifest, loaded only after checking it.

The checkpoints ship inside the package (``poe_demo/checkpoints/``), so an installed wheel has
them. ``manifest.json`` records, for each checkpoint, its file name, size and SHA-256, the axis
and architecture of its expert, and the :class:`TrainingConfig` that produced it, so
``poe-demo train`` can regenerate all of it. Loading reads each file once, checks the hash of
those bytes and unpickles the same bytes with ``torch.load(..., weights_only=True)``, which
refuses anything but tensors and plain containers: a file swapped after the check is never
loaded. Each checkpoint also records its own axis, so swapped files are caught even with their
hashes swapped in the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

from .axis import AxisFlowExpert, TrainingConfig, train_axis_expert

__all__ = [
    "CHECKPOINT_DIR",
    "CheckpointError",
    "atomic_write",
    "checkpoint_bytes",
    "verified_bytes",
    "save_axis_experts",
    "load_axis_experts",
    "train_and_save",
]

CHECKPOINT_DIR = Path(__file__).resolve().parents[1] / "checkpoints"
MANIFEST = "manifest.json"
AXES = ("x", "y", "z")


class CheckpointError(ValueError):
    """A checkpoint or its manifest is missing, malformed or does not match its recorded hash."""


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place: a failed or
    interrupted write leaves the old file (or none), never a partial one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def checkpoint_bytes(payload: dict) -> tuple[bytes, dict]:
    """``torch.save`` of ``payload`` as bytes, and the manifest fields that vouch for them (bytes, sha256)."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getvalue()
    return data, {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def verified_bytes(path: Path, sha256: str, regenerate: str) -> bytes:
    """The bytes of ``path``, read once, if their SHA-256 is ``sha256``; else a :class:`CheckpointError`
    that says how to ``regenerate`` them. Unpickle these bytes, not the file again."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise CheckpointError(f"missing checkpoint {path}; run `{regenerate}` to regenerate it") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise CheckpointError(
            f"checkpoint {path} has SHA-256 {digest[:12]}..., the manifest says "
            f"{str(sha256)[:12]}...: the file was modified; run `{regenerate}`"
        )
    return data


def save_axis_experts(experts: dict[str, AxisFlowExpert], config: TrainingConfig, directory: Path) -> Path:
    """Write ``axis_{x,y,z}.pt`` and the manifest into ``directory``; returns the manifest's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for axis, expert in experts.items():
        data, vouch = checkpoint_bytes(
            {
                "axis": axis,
                "hidden": expert.hidden,
                "depth": expert.depth,
                "state_dict": {k: v.detach().cpu() for k, v in expert.state_dict().items()},
            }
        )
        atomic_write(directory / f"axis_{axis}.pt", data)
        files[axis] = {
            "file": f"axis_{axis}.pt",
            **vouch,
            "axis": axis,
            "hidden": expert.hidden,
            "depth": expert.depth,
        }
    manifest = {"experts": files, "training_config": asdict(config), "regenerate": "poe-demo train --out-dir DIR"}
    atomic_write(directory / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return directory / MANIFEST


def _read_manifest(path: Path) -> tuple[dict, TrainingConfig]:
    try:
        manifest = json.loads(path.read_text())
        entries, config = manifest["experts"], TrainingConfig(**manifest["training_config"])
        for axis in AXES:
            missing = [key for key in ("file", "sha256", "axis", "hidden", "depth") if key not in entries[axis]]
            if missing:
                raise KeyError(f"experts.{axis}.{missing[0]}")
    except FileNotFoundError:
        raise CheckpointError(
            f"no checkpoint manifest at {path}; run `poe-demo train --out-dir DIR` to create one"
        ) from None
    except KeyError as exc:
        raise CheckpointError(f"malformed manifest {path}: missing key {exc}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"malformed manifest {path}: {exc}") from None
    return entries, config


def load_axis_experts(
    directory: Path | str = CHECKPOINT_DIR, device: str | torch.device = "cpu"
) -> dict[str, AxisFlowExpert]:
    """The three pretrained axis experts ``{'x': ..., 'y': ..., 'z': ...}``, each hash-checked."""
    directory = Path(directory)
    entries, _ = _read_manifest(directory / MANIFEST)
    experts = {}
    for axis in AXES:
        entry = entries[axis]
        if entry["axis"] != axis:
            raise CheckpointError(
                f"manifest {directory / MANIFEST}: the entry for axis {axis!r} says axis {entry['axis']!r}"
            )
        path = directory / entry["file"]
        data = verified_bytes(path, entry["sha256"], "poe-demo train --out-dir DIR")
        try:  # the bytes just hashed, not the file again
            saved = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
            recorded = (saved["axis"], saved["hidden"], saved["depth"])
            if recorded != (axis, entry["hidden"], entry["depth"]):
                raise CheckpointError(
                    f"checkpoint {path} holds the {saved['axis']!r} expert ({saved['hidden']} x "
                    f"{saved['depth']}); the manifest expects {axis!r} ({entry['hidden']} x {entry['depth']})"
                )
            expert = AxisFlowExpert(axis, entry["hidden"], entry["depth"])
            expert.load_state_dict(saved["state_dict"])
        except CheckpointError:
            raise
        except Exception as exc:  # a file that matches its hash but is not a checkpoint of this shape
            raise CheckpointError(f"cannot load {path}: {exc}") from None
        experts[axis] = expert.to(device).eval()
    return experts


def train_and_save(directory: Path, config: TrainingConfig = TrainingConfig(), progress: bool = True) -> Path:
    """Train the three axis experts from scratch and write them with their manifest into ``directory``."""
    experts = {axis: train_axis_expert(axis, config, progress=progress)[0] for axis in AXES}
    return save_axis_experts(experts, config, directory)
