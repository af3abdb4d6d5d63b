"""The rare target of the seconds benchmark: a bold digit, its ink reward and its success test."""

import math

import pytest
import torch
from helpers import gen

from poe_demo.digits.bold import BOLD, InkReward, best_of_n_trial, succeeded, target_rewards, training_share
from poe_demo.digits.checkpoints import load_digit_models
from poe_demo.digits.data import subset, to_model
from poe_demo.digits.grading import ink


@pytest.fixture(scope="module")
def models():
    return load_digit_models()


def test_the_ink_reward_is_a_soft_step_at_its_threshold():
    # images of constant grey g have ink (g + 1) / 2 exactly; log r = strength * log sigmoid((ink - c) / w)
    reward = InkReward(threshold=0.3, width=0.02, strength=2.0)
    grey = torch.tensor([-0.4, 0.0, -1.0, 1.0]).view(4, 1, 1, 1).expand(4, 1, 14, 14)
    inks = (grey[:, 0, 0, 0] + 1) / 2
    expected = 2.0 * torch.log(torch.sigmoid((inks - 0.3) / 0.02))
    torch.testing.assert_close(reward.log_reward(grey), expected)
    assert float(reward.log_reward(grey)[0]) == pytest.approx(2 * math.log(0.5))  # ink 0.3: half way up the step
    with pytest.raises(ValueError, match="0 < threshold < 1"):
        InkReward(threshold=1.5)


def test_bold_digits_are_rare_in_the_training_images():
    pixels, labels = subset("train")
    share = training_share()
    by_hand = [float((pixels[labels == d].flatten(1).mean(1) > BOLD).double().mean()) for d in range(10)]
    assert share == by_hand
    assert max(share) < 0.15 and sum(share) / 10 < 0.05  # the target is rare for every class


def test_success_needs_the_judges_digit_and_for_bold_the_ink(models):
    pixels, labels = subset("test")
    images = to_model(pixels)[:, None]
    judged = models["judge"](images).argmax(1)
    inks = ink(images)
    right = (judged == labels).nonzero().flatten()
    bold = right[inks[right] > BOLD][0]
    thin = right[inks[right] < BOLD][0]
    digit_bold, digit_thin = int(labels[bold]), int(labels[thin])
    assert succeeded(models, images[bold], digit_bold, bold=True)
    assert succeeded(models, images[thin], digit_thin, bold=False)
    assert not succeeded(models, images[thin], digit_thin, bold=True)  # the judge agrees, the ink does not
    assert not succeeded(models, images[bold], (digit_bold + 1) % 10, bold=False)
    assert len(target_rewards(models, 3, bold=True)) == 2 and len(target_rewards(models, 3, bold=False)) == 1


def test_best_of_n_keeps_the_sample_the_rewards_rank_highest(models, monkeypatch):
    # With the ink reward alone (the classifier's made flat), best-of-N must return the inkiest sample.
    import poe_demo.digits.bold as bold_module

    seen = {}
    real = bold_module.succeeded

    def spy(models_, image, digit, bold):
        seen["image"] = image
        return real(models_, image, digit, bold)

    monkeypatch.setattr(bold_module, "succeeded", spy)
    monkeypatch.setattr(bold_module, "target_rewards", lambda m, d, b: [InkReward()])
    best_of_n_trial(models, 3, seed=5, n=6, bold=True, n_steps=4)
    from poe_demo.digits.steering import STEERING, flow_expert, noise
    from poe_demo.samplers import euler

    images = euler([flow_expert(models["flow_all"])], noise(6, gen(5)), 4, time_power=STEERING["time_power"]).particles
    torch.testing.assert_close(seen["image"], images[int(ink(images).argmax())])
