"""The image lesson's shipped networks: three flow experts, the reward classifier and the judge.

They live in ``poe_demo/checkpoints/digits/`` with a ``manifest.json`` that records, for each
file, its size and SHA-256, the network's kind and size, the :class:`DigitTraining` that made it,
and how long the training took. Loading works as for the axis experts
(:mod:`poe_demo.experts.pretrained`): each file is read once, its hash checked, and the same
bytes unpickled with ``weights_only=True``; each file also records its own name, so swapped files
are caught. ``make weights`` (``poe-demo train-digits --out-dir DIR``) regenerates them.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict
from pathlib import Path

import torch

from ..experts.pretrained import CHECKPOINT_DIR, CheckpointError, atomic_write, checkpoint_bytes, verified_bytes
from .nets import NETS
from .train import FLOW_KINDS, DigitTraining, accuracy, train_classifier, train_flow

__all__ = ["DIGIT_DIR", "TRAININGS", "save_digit_models", "load_digit_models", "train_digit_models"]

DIGIT_DIR = CHECKPOINT_DIR / "digits"
MANIFEST = "manifest.json"
REGENERATE = "poe-demo train-digits --out-dir DIR"

# The shipped networks: a flow expert on every digit, two on subsets that share 0, 2 and 4 (the
# product lesson), the reward classifier (trained on the experts' images) and the judge (a
# different architecture, trained on other images).
TRAININGS = {
    "flow_all": DigitTraining("flow"),
    "flow_01234": DigitTraining("flow", digits=(0, 1, 2, 3, 4)),
    "flow_02468": DigitTraining("flow", digits=(0, 2, 4, 6, 8)),
    # classifier-free guidance: p(x | c) and p(x) from one network (the label dropped for 1 image in 5)
    "flow_conditional": DigitTraining("conditional_flow", label_dropout=0.2),
    "reward": DigitTraining("reward", width=16, n_steps=3000),
    "judge": DigitTraining("judge", part="judge", width=256, n_steps=3000, lr=1e-3),
}


def _size_key(kind: str) -> str:
    return "hidden" if kind == "judge" else "width"


def save_digit_models(
    models: dict[str, torch.nn.Module],
    records: dict[str, dict],
    directory: Path,
    kept: dict[str, dict] | None = None,
    order: list[str] | None = None,
) -> Path:
    """Write ``NAME.pt`` for each network and the manifest; ``records[name]`` holds its training and measurements.
    ``kept`` holds manifest entries of networks already in ``directory`` that stay as they are; ``order`` the
    manifest's order of names (default: the kept ones, then the new)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    entries = dict(kept or {})
    for name, net in models.items():
        training = records[name]["training"]
        size = getattr(net, _size_key(training["kind"]))
        state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
        data, vouch = checkpoint_bytes({"name": name, "kind": training["kind"], "size": size, "state_dict": state})
        atomic_write(directory / f"{name}.pt", data)
        entries[name] = {"file": f"{name}.pt", **vouch, "kind": training["kind"], "size": size, **records[name]}
    order = order or [*entries]
    manifest = {"networks": {name: entries[name] for name in order}, "regenerate": REGENERATE}
    atomic_write(directory / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return directory / MANIFEST


def load_digit_models(
    directory: Path | str = DIGIT_DIR, device: str | torch.device = "cpu"
) -> dict[str, torch.nn.Module]:
    """{name: network in eval mode} for every entry of the manifest, each hash-checked (see the module docstring)."""
    directory = Path(directory)
    try:
        entries = json.loads((directory / MANIFEST).read_text())["networks"]
    except FileNotFoundError:
        raise CheckpointError(f"no digit checkpoint manifest at {directory / MANIFEST}; run `{REGENERATE}`") from None
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"malformed manifest {directory / MANIFEST}: {exc}") from None
    models = {}
    for name, entry in entries.items():
        missing = [key for key in ("file", "sha256", "kind", "size") if key not in entry]
        if missing:
            raise CheckpointError(
                f"malformed manifest {directory / MANIFEST}: missing key networks.{name}.{missing[0]}"
            )
        path = directory / entry["file"]
        data = verified_bytes(path, entry["sha256"], REGENERATE)
        try:  # the bytes just hashed, not the file again
            saved = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
            if (saved["name"], saved["kind"], saved["size"]) != (name, entry["kind"], entry["size"]):
                raise CheckpointError(
                    f"checkpoint {path} holds {saved['name']!r} ({saved['kind']}, size {saved['size']}); the manifest "
                    f"expects {name!r} ({entry['kind']}, size {entry['size']})"
                )
            net = NETS[entry["kind"]](**{_size_key(entry["kind"]): entry["size"]})
            net.load_state_dict(saved["state_dict"])
        except CheckpointError:
            raise
        except Exception as exc:  # a file that matches its hash but is not a checkpoint of this shape
            raise CheckpointError(f"cannot load {path}: {exc}") from None
        models[name] = net.to(device).eval().requires_grad_(False)
    return models


def _kept(directory: Path, names) -> dict[str, dict]:
    """The manifest entries of the networks ``names`` already in ``directory``, each file checked against its hash."""
    if not names:
        return {}
    load_digit_models(directory)  # every file as its manifest vouches
    entries = json.loads((Path(directory) / MANIFEST).read_text())["networks"]
    return {n: entries[n] for n in names}


def train_digit_models(
    directory: Path, trainings: dict[str, DigitTraining] = TRAININGS, progress: bool = True, only=None
) -> Path:
    """Train every network of ``trainings`` from scratch, measure the classifiers on the held-out images, and
    write them with their manifest (training seconds included) into ``directory``. ``only`` (names) retrains
    just those and keeps the others, hash-checked, from ``directory``."""
    from .data import subset

    only = list(trainings) if only is None else list(only)
    unknown = [n for n in only if n not in trainings]
    if unknown:
        raise ValueError(f"no network named {unknown[0]!r}; the digit networks are {', '.join(trainings)}")
    kept, models, records = _kept(directory, [n for n in trainings if n not in only]), {}, {}
    test_images, test_labels = subset("test")
    for name, training in trainings.items():
        if name not in only:
            continue
        trainer = train_flow if training.kind in FLOW_KINDS else train_classifier
        start = time.perf_counter()
        net, losses, _ = trainer(training, progress=progress)
        record = {"training": {**asdict(training), "digits": list(training.digits)}}
        record["seconds"] = round(time.perf_counter() - start, 1)
        record["final_loss"] = round(sum(losses[-100:]) / len(losses[-100:]), 5)
        if training.kind not in FLOW_KINDS:
            record["held_out_accuracy"] = round(accuracy(net, test_images, test_labels), 4)
        models[name], records[name] = net, record
    return save_digit_models(models, records, directory, kept, order=list(trainings))
