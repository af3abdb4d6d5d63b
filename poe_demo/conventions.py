"""Other paths and other predictions, mapped exactly onto the linear path of :mod:`poe_demo.paths`.

Most models in the wild were trained on a path

    y = alpha x_0 + sigma eps,      eps ~ N(0, I),

with their own (alpha, sigma) per timestep: variance-preserving diffusion has alpha^2 + sigma^2 = 1
(alpha = sqrt(abar)), rectified flow has alpha = 1 - sigma. Two points on two paths carry the
same information about x_0 when their signal-to-noise ratios alpha / sigma agree, and ours is
(1 - t) / t, so the level of ours that matches (alpha, sigma) is

    t = sigma / (alpha + sigma),        x_t = y / (alpha + sigma),

an exact rescaling: (1 - t) = alpha / (alpha + sigma) and t = sigma / (alpha + sigma). The
posterior means E[x_0 | y] and E[eps | y] are therefore the same as on our path at (x_t, t), and
our velocity is their difference, v = E[eps | x_t] - E[x_0 | x_t], whatever the model predicts.
"""

from __future__ import annotations

import math

from torch import Tensor

__all__ = ["PREDICTIONS", "linear_time", "vp_coefficients", "clean_and_noise", "velocity_from_prediction"]

# What a model's output means, for y = alpha x_0 + sigma eps (diffusers' names where it has them):
#   "epsilon": eps;  "sample": x_0;  "v_prediction": alpha eps - sigma x_0;  "flow": eps - x_0 (flow matching)
PREDICTIONS = ("epsilon", "sample", "v_prediction", "flow")


def linear_time(alpha: float, sigma: float) -> float:
    """The time t = sigma / (alpha + sigma) of our path with the signal-to-noise ratio alpha / sigma."""
    return sigma / (alpha + sigma)


def vp_coefficients(t: float) -> tuple[float, float]:
    """(alpha, sigma) of the variance-preserving path (alpha^2 + sigma^2 = 1) at the SNR of our level t:
    alpha = (1 - t) / r, sigma = t / r, r = sqrt((1 - t)^2 + t^2)."""
    r = math.hypot(1 - t, t)
    return (1 - t) / r, t / r


def clean_and_noise(y: Tensor, output: Tensor, alpha: float, sigma: float, prediction: str) -> tuple[Tensor, Tensor]:
    """(x0_hat, eps_hat) from a model's output at y = alpha x_0 + sigma eps, both shaped like y.

    Each prediction and y are two linear equations in (x_0, eps); solving them gives, with
    n = alpha^2 + sigma^2 for "v_prediction" and m = alpha + sigma for "flow",

        epsilon:       x0 = (y - sigma out) / alpha,           eps = out
        sample:        x0 = out,                               eps = (y - alpha out) / sigma
        v_prediction:  x0 = (alpha y - sigma out) / n,         eps = (sigma y + alpha out) / n
        flow:          x0 = (y - sigma out) / m,               eps = (y + alpha out) / m
    """
    if prediction == "epsilon":
        return (y - sigma * output) / alpha, output
    if prediction == "sample":
        return output, (y - alpha * output) / sigma
    if prediction == "v_prediction":
        n = alpha**2 + sigma**2
        return (alpha * y - sigma * output) / n, (sigma * y + alpha * output) / n
    if prediction == "flow":
        m = alpha + sigma
        return (y - sigma * output) / m, (y + alpha * output) / m
    raise ValueError(f"prediction must be one of {', '.join(PREDICTIONS)}; got {prediction!r}")


def velocity_from_prediction(y: Tensor, output: Tensor, alpha: float, sigma: float, prediction: str) -> Tensor:
    """Our velocity v = eps_hat - x0_hat at x_t = y / (alpha + sigma), t = sigma / (alpha + sigma).

    Exact: the posterior means are shared by every path with the same signal-to-noise ratio
    (module docstring), so no approximation enters beyond the model's own."""
    x0_hat, eps_hat = clean_and_noise(y, output, alpha, sigma, prediction)
    return eps_hat - x0_hat
