"""Other paths' predictions map onto ours: each inverse recovers (x_0, eps), and the SNR-matched level is ours."""

import pytest
import torch
from helpers import gen

from poe_demo.conventions import PREDICTIONS, clean_and_noise, linear_time, velocity_from_prediction, vp_coefficients
from poe_demo.paths import interpolate, velocity_target


def _target(prediction, x_0, eps, alpha, sigma):
    """What a perfect model of each kind outputs for this one (x_0, eps) pair."""
    return {
        "epsilon": eps,
        "sample": x_0,
        "v_prediction": alpha * eps - sigma * x_0,
        "flow": eps - x_0,
    }[prediction]


# variance-preserving, rectified-flow and an arbitrary path: the formulas must not assume any of them
COEFFICIENTS = [(0.8, 0.6), (0.3, 0.7), (0.35, 1.9), (0.999, 0.02)]


@pytest.mark.parametrize("prediction", PREDICTIONS)
@pytest.mark.parametrize("alpha, sigma", COEFFICIENTS)
def test_each_prediction_is_inverted_exactly(prediction, alpha, sigma):
    x_0 = torch.randn(5, 3, generator=gen(0), dtype=torch.float64)
    eps = torch.randn(5, 3, generator=gen(1), dtype=torch.float64)
    y = alpha * x_0 + sigma * eps
    x0_hat, eps_hat = clean_and_noise(y, _target(prediction, x_0, eps, alpha, sigma), alpha, sigma, prediction)
    torch.testing.assert_close(x0_hat, x_0, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(eps_hat, eps, rtol=1e-12, atol=1e-12)
    v = velocity_from_prediction(y, _target(prediction, x_0, eps, alpha, sigma), alpha, sigma, prediction)
    torch.testing.assert_close(v, velocity_target(x_0, eps), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("alpha, sigma", COEFFICIENTS)
def test_the_matching_level_is_a_rescaling_of_our_path(alpha, sigma):
    x_0 = torch.randn(4, 2, generator=gen(2), dtype=torch.float64)
    eps = torch.randn(4, 2, generator=gen(3), dtype=torch.float64)
    t = linear_time(alpha, sigma)
    torch.testing.assert_close((alpha * x_0 + sigma * eps) / (alpha + sigma), interpolate(x_0, eps, t))


@pytest.mark.parametrize("t", [0.01, 0.3, 0.5, 0.97])
def test_vp_coefficients_are_variance_preserving_at_t_s_snr(t):
    alpha, sigma = vp_coefficients(t)
    assert alpha**2 + sigma**2 == pytest.approx(1, abs=1e-14)
    assert linear_time(alpha, sigma) == pytest.approx(t, abs=1e-14)


def test_an_unknown_prediction_names_the_allowed_ones():
    with pytest.raises(ValueError, match="epsilon, sample, v_prediction, flow; got 'x0'"):
        clean_and_noise(torch.zeros(1, 1), torch.zeros(1, 1), 0.5, 0.5, "x0")
