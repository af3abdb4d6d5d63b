"""Shipped weights for the axis experts: saved with a SHA-256 manifest, loaded only after checking it.

``data/manifest.json`` records, for each checkpoint, its file name, size and SHA-256, and the
:class:`TrainingConfig` that produced it, so ``poe-demo train`` can regenerate all of it.
Loading verifies the hash before reading a byte with ``torch.load(..., weights_only=True)``,
which refuses to unpickle anything but tensors.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch

from .axis import AxisFlowExpert, TrainingConfig, train_axis_expert

__all__ = ["DATA_DIR", "CheckpointError", "sha256_file", "save_axis_experts", "load_axis_experts", "train_and_save"]

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
MANIFEST = "manifest.json"
AXES = ("x", "y", "z")


class CheckpointError(ValueError):
    """A checkpoint or its manifest is missing, malformed or does not match its recorded hash."""


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_axis_experts(experts: dict[str, AxisFlowExpert], config: TrainingConfig, directory: Path = DATA_DIR) -> Path:
    """Write ``axis_{x,y,z}.pt`` (state dicts) and the manifest; returns the manifest's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for axis, expert in experts.items():
        path = directory / f"axis_{axis}.pt"
        torch.save({k: v.detach().cpu() for k, v in expert.state_dict().items()}, path)
        files[axis] = {"file": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
    manifest = {"experts": files, "training_config": asdict(config), "regenerate": "poe-demo train"}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return directory / MANIFEST


def load_axis_experts(directory: Path | str = DATA_DIR, device: str | torch.device = "cpu") -> dict[str, AxisFlowExpert]:
    """The three pretrained axis experts ``{'x': ..., 'y': ..., 'z': ...}``, each hash-checked."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        entries, config = manifest["experts"], TrainingConfig(**manifest["training_config"])
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint manifest at {directory / MANIFEST}; run `poe-demo train` to create it") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"malformed manifest {directory / MANIFEST}: {exc}") from None
    experts = {}
    for axis in AXES:
        if axis not in entries:
            raise CheckpointError(f"manifest {directory / MANIFEST} has no entry for axis {axis!r}")
        path = directory / entries[axis]["file"]
        if not path.is_file():
            raise CheckpointError(f"missing checkpoint {path}; run `poe-demo train` to regenerate it")
        digest = sha256_file(path)
        if digest != entries[axis]["sha256"]:
            raise CheckpointError(f"checkpoint {path} has SHA-256 {digest[:12]}..., the manifest says "
                                  f"{entries[axis]['sha256'][:12]}...: the file was modified; run `poe-demo train`")
        expert = AxisFlowExpert(axis, config.hidden, config.depth)
        try:
            expert.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as exc:  # a file that matches its hash but is not a state dict of this shape
            raise CheckpointError(f"cannot load {path}: {exc}") from None
        experts[axis] = expert.to(device).eval()
    return experts


def train_and_save(config: TrainingConfig = TrainingConfig(), directory: Path = DATA_DIR, progress: bool = True) -> Path:
    """Train the three axis experts from scratch and write them with their manifest."""
    experts = {axis: train_axis_expert(axis, config, progress=progress)[0] for axis in AXES}
    return save_axis_experts(experts, config, directory)
