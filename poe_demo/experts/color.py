"""The analytic color experts, no training: two beliefs about a cloud's color.

``ColorMeanExpert`` (the blog's expert) flows every point's color to its cloud's mean color,
which the palette noise already fixes at t = 1. ``ColorMixtureExpert`` paints each cloud one
palette color that is chosen along the path, from Gaussian noise.

ColorMeanExpert.
For one cloud with colors c_i (i = 1..N) and mean color m, the expert's probability path is

    p_t(c) proportional to q(m) prod_i N(c_i; m, (t s)^2 I),

where s is the spread of the palette noise around its mean and q is the distribution of a
cloud's mean color. Along it,

    velocity  v_i = (c_i - m) / t,
    score     grad_{c_i} log p_t = -(c_i - m) / (t s)^2 + (1/N) grad_m log q(m).

The velocity is exact for the palette noise of :mod:`poe_demo.data`: on the linear path
c_t = (1 - t) m + t eps every deviation from m shrinks like t, and m never moves. So x_hat =
c - t v = m: the predicted clean cloud is painted in its mean color.

Why q: without it the density is flat along the mean color (shifting every color of a cloud
together changes nothing), and the Langevin noise of the sampler would random-walk each
cloud's mean color. q is what the expert knows about the mean: a noise cloud's mean is the mean
of three distinct palette colors, so q is a mixture of narrow Gaussians (std ``mean_std``) at
those 56 equally likely means. It pins the mean; it does not choose it. The flow leaves q alone.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..data import COLOR_JITTER, PALETTE, RGB, palette_triple_means
from ..validation import check_cloud, check_time
from .base import JointExpert
from .gaussian import mixture_flow

__all__ = ["ColorMeanExpert", "ColorMixtureExpert", "PALETTE_NOISE_SPREAD"]

# Per-channel RMS deviation of palette noise from its cloud mean: a channel with k of the three
# colors lit has variance k/3 (1 - k/3); over the 56 triples that averages to 4/21, plus jitter.
PALETTE_NOISE_SPREAD = math.sqrt(4 / 21 + COLOR_JITTER**2)


class ColorMeanExpert(JointExpert):
    """Generative expert on the rgb columns of clouds ``[L, N, 6]``; xyz get zero velocity and score."""

    color_noise = "palette"  # the rgb noise it flows from (:func:`~poe_demo.data.sample_noise`)

    def __init__(self, spread: float = PALETTE_NOISE_SPREAD, mean_std: float = 0.02):
        if not spread > 0 or not mean_std > 0:
            raise ValueError(f"spread and mean_std must be > 0, got {spread!r} and {mean_std!r}")
        self.spread, self.mean_std = float(spread), float(mean_std)
        self._means = palette_triple_means()  # [56, 3]

    def __repr__(self) -> str:
        return f"ColorMeanExpert(spread={self.spread:.3f}, mean_std={self.mean_std})"

    def velocity(self, x: Tensor, t: float) -> Tensor:
        t = check_time(t)
        c = check_cloud(x, "ColorMeanExpert")[..., RGB]
        v = torch.zeros_like(x)
        v[..., RGB] = (c - c.mean(dim=-2, keepdim=True)) / t
        return v

    def grad_log_q(self, m: Tensor) -> Tensor:
        """grad_m log q(m) for mean colors ``m: [..., 3]`` (a softmax-weighted pull to the nearest triple means)."""
        mu = self._means.to(m)  # [56, 3]
        diff = mu - m.unsqueeze(-2)  # [..., 56, 3]
        resp = torch.softmax(-(diff**2).sum(-1) / (2 * self.mean_std**2), dim=-1)  # [..., 56]
        return (resp.unsqueeze(-1) * diff).sum(-2) / self.mean_std**2

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """Both at once, shaped like x (zero on xyz): they share the deviations c_i - m (the samplers' path)."""
        t = check_time(t)
        c = check_cloud(x, "ColorMeanExpert")[..., RGB]
        m = c.mean(dim=-2, keepdim=True)  # [..., 1, 3]
        deviation = c - m
        out = x.new_zeros((2, *x.shape))
        out[0, ..., RGB] = deviation / t
        out[1, ..., RGB] = deviation / -((t * self.spread) ** 2) + self.grad_log_q(m) / c.shape[-2]
        return out[0], out[1]


class ColorMixtureExpert(JointExpert):
    """Each cloud painted one color m_0 ~ sum_k w_k N(mu_k, std^2 I) (the palette corners), from N(0, I) noise.

    On rgb columns of clouds ``[L, N, 6]`` (xyz get zero velocity and score). Point i's color on
    the path is c_i = (1 - t) m_0 + t eps_i, so a cloud splits into its mean and the deviations:

        m_t = (1 - t) m_0 + t eps_bar,   eps_bar ~ N(0, I / N),      d_i = c_i - m_t = t (eps_i - eps_bar).

    The deviations do not depend on m_0: velocity d_i / t and score -d_i / t^2, as for
    ``ColorMeanExpert``. The mean follows the exact flow of the mixture (:func:`mixture_flow`)
    with noise of std 1/sqrt(N); in u = sqrt(N) m that noise is N(0, I), so with (v_u, s_u) the
    mixture flow at u with means sqrt(N) mu_k and std sqrt(N) std,

        velocity  v_i = d_i / t + v_u / sqrt(N),     score  s_i = -d_i / t^2 + s_u / sqrt(N).

    At t = 1 every component has the same marginal, so x_hat = c - t v paints the cloud the
    palette average: nothing is decided. As t falls the components separate (around
    (1 - t) / t ~ 2 / sqrt(N) for neighbouring corners) and x_hat commits to one corner. Until
    then, reweighting and Langevin moves can still change which color a cloud gets.
    """

    color_noise = "gaussian"

    def __init__(self, std: float = 0.05, colors: dict[str, tuple[float, float, float]] | None = None):
        colors = PALETTE if colors is None else colors
        if not 0 < std < math.inf:
            raise ValueError(f"std must be a finite number > 0, got {std!r}")
        if not isinstance(colors, dict) or not colors:
            raise ValueError(f"colors must be a non-empty dict of name -> RGB triple, got {colors!r}")
        self.std, self.names = float(std), list(colors)
        self.means = torch.tensor([colors[n] for n in self.names], dtype=torch.float64)  # [K, 3]
        if self.means.shape[-1] != 3:
            raise ValueError(f"colors must map names to RGB triples, got {colors!r}")
        self.log_weights = torch.full((len(self.names),), -math.log(len(self.names)), dtype=torch.float64)

    def __repr__(self) -> str:
        return f"ColorMixtureExpert(std={self.std}, colors={self.names})"

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        t = check_time(t)
        c = check_cloud(x, "ColorMixtureExpert")[..., RGB]
        root_n = math.sqrt(c.shape[-2])
        m = c.mean(dim=-2, keepdim=True)  # [..., 1, 3]
        deviation = c - m
        stds = torch.full_like(self.log_weights, root_n * self.std)
        v_u, s_u = mixture_flow(root_n * m, t, root_n * self.means, stds, self.log_weights)
        out = x.new_zeros((2, *x.shape))
        out[0, ..., RGB] = deviation / t + v_u / root_n
        out[1, ..., RGB] = -deviation / t**2 + s_u / root_n
        return out[0], out[1]
