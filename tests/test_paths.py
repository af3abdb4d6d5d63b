"""The velocity/score/x_hat conversions against a Gaussian data distribution, where all three are known."""

import math

import pytest
import torch
from helpers import Z

from poe_demo.experts import GaussianExpert
from poe_demo.paths import interpolate, score_from_velocity, velocity_from_score, velocity_target, x_hat_from_velocity
from poe_demo.validation import check_time


@pytest.mark.parametrize("t", [0.05, 0.3, 0.5, 0.8, 1.0])
def test_score_from_velocity_matches_closed_form_gaussian_score(t):
    expert = GaussianExpert(mean=0.7, std=0.4)
    x = torch.linspace(-3, 3, 41, dtype=torch.float64)
    # p_t = N((1-t) mu, (1-t)^2 sigma^2 + t^2): the score written out independently of the expert.
    var = (1 - t) ** 2 * 0.4**2 + t**2
    closed_form = -(x - (1 - t) * 0.7) / var
    torch.testing.assert_close(score_from_velocity(x, expert.velocity(x, t), t), closed_form)


@pytest.mark.parametrize("t", [0.1, 0.5, 0.9])
def test_velocity_from_score_inverts_score_from_velocity(t):
    x, v = torch.randn(100, dtype=torch.float64), torch.randn(100, dtype=torch.float64)
    torch.testing.assert_close(velocity_from_score(x, score_from_velocity(x, v, t), t), v)


@pytest.mark.parametrize("t", [0.2, 0.6])
def test_x_hat_is_the_posterior_mean_for_gaussian_data(t):
    # Regress x_0 on x_t by Monte Carlo: E[x_0 | x_t] is linear, slope cov / var.
    g = torch.Generator().manual_seed(0)
    n = 400_000
    x_0 = 0.7 + 0.4 * torch.randn(n, generator=g, dtype=torch.float64)
    x_t = interpolate(x_0, torch.randn(n, generator=g, dtype=torch.float64), t)
    mc_slope = float(torch.cov(torch.stack([x_t, x_0]))[0, 1] / x_t.var())
    rho = float(torch.corrcoef(torch.stack([x_t, x_0]))[0, 1])
    standard_error = math.sqrt((1 - rho**2) / (n - 2)) * float(x_0.std() / x_t.std())
    x = torch.tensor([0.0, 1.0], dtype=torch.float64)
    predicted = x_hat_from_velocity(x, GaussianExpert(0.7, 0.4).velocity(x, t), t)
    exact_slope = float(predicted[1] - predicted[0])
    assert abs(mc_slope - exact_slope) < Z * standard_error


def test_velocity_target_is_the_time_derivative_of_the_path():
    x_0, eps = torch.randn(5), torch.randn(5)
    dt = 1e-3
    finite_difference = (interpolate(x_0, eps, 0.5 + dt) - interpolate(x_0, eps, 0.5 - dt)) / (2 * dt)
    torch.testing.assert_close(finite_difference, velocity_target(x_0, eps), atol=1e-3, rtol=0)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan"), "0.5", True])
def test_check_time_rejects_times_outside_zero_one(bad):
    with pytest.raises(ValueError, match="t must be a number in"):
        check_time(bad)
