"""Shipped checkpoints: inside the package, hash-checked, loaded from the very bytes that were hashed."""

import io
import json
import shutil

import pytest
import torch

from poe_demo.experts import AxisFlowExpert, CheckpointError, TrainingConfig, load_axis_experts, save_axis_experts
from poe_demo.experts.pretrained import CHECKPOINT_DIR


def test_checkpoints_ship_inside_the_package():
    import poe_demo

    assert CHECKPOINT_DIR.parent == __import__("pathlib").Path(poe_demo.__file__).parent
    manifest = json.loads((CHECKPOINT_DIR / "manifest.json").read_text())
    for axis, entry in manifest["experts"].items():
        assert entry["axis"] == axis and (CHECKPOINT_DIR / entry["file"]).is_file()


def test_each_checkpoint_is_read_once_and_loaded_from_those_bytes(monkeypatch):
    reads, loads = [], []
    real_read, real_load = type(CHECKPOINT_DIR).read_bytes, torch.load

    def read_bytes(path):
        reads.append(path.name)
        return real_read(path)

    def load(source, *args, **kwargs):
        loads.append(source)
        assert kwargs.get("weights_only") is True
        return real_load(source, *args, **kwargs)

    monkeypatch.setattr(type(CHECKPOINT_DIR), "read_bytes", read_bytes)
    monkeypatch.setattr(torch, "load", load)
    load_axis_experts()
    assert sorted(reads) == ["axis_x.pt", "axis_y.pt", "axis_z.pt"]
    assert len(loads) == 3 and all(isinstance(source, io.BytesIO) for source in loads)


def test_save_then_load_round_trips_and_records_axis_and_architecture(tmp_path):
    experts = {a: AxisFlowExpert(a, hidden=8, depth=3) for a in "xyz"}
    save_axis_experts(experts, TrainingConfig(hidden=8, depth=3), tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["experts"]["z"] | {"sha256": None, "bytes": None} == {
        "file": "axis_z.pt",
        "axis": "z",
        "hidden": 8,
        "depth": 3,
        "sha256": None,
        "bytes": None,
    }
    loaded = load_axis_experts(tmp_path)
    for a in "xyz":
        for (k, v), (k2, v2) in zip(experts[a].state_dict().items(), loaded[a].state_dict().items()):
            assert k == k2 and torch.equal(v, v2)
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_a_manifest_that_lies_about_the_architecture_is_refused(tmp_path):
    shutil.copytree(CHECKPOINT_DIR, tmp_path / "c")
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    manifest["experts"]["x"]["hidden"] = 16
    (tmp_path / "c" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=r"holds the 'x' expert \(32 x 2\); the manifest expects 'x' \(16 x 2\)"):
        load_axis_experts(tmp_path / "c")
