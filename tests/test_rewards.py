import pytest
import torch

from poe_demo.data import PALETTE, sample_spheres
from poe_demo.rewards import ColorReward, GaussianReward


def test_color_reward_is_zero_for_a_cloud_of_the_target_color_and_negative_otherwise():
    x = sample_spheres(2, 10)
    x[0, :, 3:] = torch.tensor(PALETTE["red"])
    x[1, :, 3:] = torch.tensor(PALETTE["cyan"])
    r = ColorReward("red", strength=2.0).log_reward(x)
    assert r[0] == 0 and r[1] == pytest.approx(-2.0 * 3)  # |cyan - red|^2 = 3


def test_color_reward_accepts_an_rgb_triple():
    x = sample_spheres(1, 4)
    x[..., 3:] = 0.5
    assert ColorReward((0.5, 0.5, 0.5)).log_reward(x).item() == 0


@pytest.mark.parametrize(
    "target, strength, message",
    [
        ("purple", 1.0, "unknown color"),
        ("red", 0.0, "strength must be"),
        ("red", -1.0, "strength must be"),
        ((2, 0, 0), 1.0, "in \\[0, 1\\]"),
    ],
)
def test_color_reward_rejects_bad_arguments(target, strength, message):
    with pytest.raises(ValueError, match=message):
        ColorReward(target, strength)


def test_color_reward_needs_clouds():
    with pytest.raises(ValueError, match=r"\[L, N, 6\]"):
        ColorReward("red").log_reward(torch.zeros(3, 4))


def test_gaussian_reward_sums_over_coordinates():
    r = GaussianReward(1.0, 0.5).log_reward(torch.tensor([[1.0, 2.0], [0.0, 1.0]]))
    torch.testing.assert_close(r, torch.tensor([-2.0, -2.0]))


def test_gaussian_reward_on_one_coordinate_ignores_the_others():
    x = torch.tensor([[1.0, 5.0], [0.0, -3.0]])
    torch.testing.assert_close(GaussianReward(1.0, 0.5, coordinate=0).log_reward(x), torch.tensor([0.0, -2.0]))
    torch.testing.assert_close(GaussianReward(1.0, 0.5, coordinate=1).log_reward(x), torch.tensor([-32.0, -32.0]))
    with pytest.raises(ValueError, match=r"needs states \[L, d\] with d > 2, got \(2, 2\)"):
        GaussianReward(0.0, 1.0, coordinate=2).log_reward(x)
    with pytest.raises(TypeError, match="coordinate must be an int"):
        GaussianReward(0.0, 1.0, coordinate=0.5)


def test_rewards_refuse_non_finite_parameters_and_wrong_shapes():
    import math

    with pytest.raises(ValueError, match="finite number > 0"):
        ColorReward("red", strength=math.inf)
    with pytest.raises(ValueError, match="finite number > 0"):
        GaussianReward(0.0, math.inf)
    with pytest.raises(ValueError, match="finite number"):
        GaussianReward(math.nan, 1.0)
    with pytest.raises(ValueError, match=r"ColorReward needs clouds of shape \[L, N, 6\], got shape \(64, 6\)"):
        ColorReward("red").log_reward(torch.zeros(64, 6))


@pytest.mark.parametrize(
    "text, rgb",
    [
        ("1,0,0", [1.0, 0.0, 0.0]),
        ("#00ff00", [0.0, 1.0, 0.0]),
        ("0.5, 0.25, 1", [0.5, 0.25, 1.0]),
        ("#f80", [1.0, 0x88 / 255, 0.0]),  # CSS shorthand: #f80 is #ff8800
        ("#0F8", [0.0, 1.0, 0x88 / 255]),
    ],
)
def test_colors_parse_from_text(text, rgb):
    torch.testing.assert_close(ColorReward(text).target, torch.tensor(rgb))


def test_classifier_reward_is_the_scaled_log_probability_of_its_labels():
    from poe_demo.rewards import ClassifierReward

    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    classifier = lambda x: logits[: len(x)]  # noqa: E731  (any callable giving logits [L, classes])
    x = torch.zeros(2, 5)
    log_p = logits.log_softmax(1)
    torch.testing.assert_close(ClassifierReward(classifier, 1, strength=3.0).log_reward(x), 3 * log_p[:, 1])
    # several labels: the probability of any of them
    either = ClassifierReward(classifier, [0, 2]).log_reward(x)
    torch.testing.assert_close(either, (log_p[:, 0].exp() + log_p[:, 2].exp()).log())
    with pytest.raises(ValueError, match="more than 3 classes"):
        ClassifierReward(classifier, 3).log_reward(x)
    with pytest.raises(ValueError, match="label must be a class index"):
        ClassifierReward(classifier, [])
    with pytest.raises(ValueError, match="strength must be a finite number > 0"):
        ClassifierReward(classifier, 0, strength=0)


def test_classifier_reward_clamps_x_hat_to_the_classifiers_data_range():
    """Pixels beyond the data's range cannot buy reward: the classifier sees them clamped, as the
    judge's verdicts do (a classifier linear in its input would otherwise be gamed without bound)."""
    from poe_demo.rewards import ClassifierReward

    classifier = lambda x: torch.stack([x.sum(1), -x.sum(1)], dim=1)  # noqa: E731  (more ink -> class 0)
    inside, beyond = torch.full((1, 4), 1.0), torch.full((1, 4), 40.0)
    clamped = ClassifierReward(classifier, 0, data_range=(-1, 1))
    torch.testing.assert_close(clamped.log_reward(beyond), clamped.log_reward(inside))
    raw = ClassifierReward(classifier, 0)
    assert raw.log_reward(beyond) > raw.log_reward(inside)
    assert "data_range=(-1.0, 1.0)" in repr(clamped)
    for bad in [(1, -1), (0, float("nan")), (0,)]:
        with pytest.raises(ValueError, match="data_range must be"):
            ClassifierReward(classifier, 0, data_range=bad)
