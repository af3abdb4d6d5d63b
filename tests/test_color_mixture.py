"""ColorMixtureExpert and mixture_flow against closed forms: the exact density of a whole noisy cloud."""

import math

import pytest
import torch
from helpers import Z, gen

from poe_demo.data import PALETTE, RGB, sample_noise
from poe_demo.experts import ColorMixtureExpert, mixture_flow
from poe_demo.paths import interpolate, velocity_from_score, x_hat_from_velocity
from poe_demo.samplers import euler

# Three colors close enough that their components overlap at every t: the general case.
NEAR = {"orange": (1.0, 0.5, 0.0), "amber": (0.8, 0.6, 0.1), "brown": (0.6, 0.3, 0.1)}


def cloud_log_density(c: torch.Tensor, t: float, expert: ColorMixtureExpert) -> torch.Tensor:
    """log p_t of colors ``c: [L, N, 3]`` computed directly, without the mean/deviation split.

    Given the component k, each channel of the cloud is Gaussian with mean (1 - t) mu_k 1 and
    covariance (1 - t)^2 std^2 1 1^T + t^2 I (the shared m_0 plus independent noise per point).
    """
    n = c.shape[-2]
    cov = (1 - t) ** 2 * expert.std**2 * torch.ones(n, n, dtype=c.dtype) + t**2 * torch.eye(n, dtype=c.dtype)
    per_k = []
    for mu, log_w in zip(expert.means.to(c), expert.log_weights.to(c)):
        mvn = torch.distributions.MultivariateNormal((1 - t) * mu[:, None].expand(3, n), covariance_matrix=cov)
        per_k.append(log_w + mvn.log_prob(c.transpose(-1, -2)).sum(-1))  # channels independent given k
    return torch.logsumexp(torch.stack(per_k), dim=0)


def noisy_clouds(expert: ColorMixtureExpert, t: float, seed: int, n_clouds: int = 6, n_points: int = 5):
    """x_t for clouds drawn from the expert's own data: one mixture color per cloud, N(0, I) noise."""
    g = gen(seed)
    k = torch.randint(len(expert.names), (n_clouds,), generator=g)
    m0 = expert.means[k] + expert.std * torch.randn(n_clouds, 3, generator=g, dtype=torch.float64)
    x0 = torch.cat([torch.zeros(n_clouds, n_points, 3, dtype=torch.float64), m0[:, None].expand(-1, n_points, -1)], -1)
    return interpolate(x0, torch.randn(n_clouds, n_points, 6, generator=g, dtype=torch.float64), t)


@pytest.mark.parametrize("colors", [None, NEAR], ids=["palette", "overlapping"])
@pytest.mark.parametrize("t", [0.05, 0.4, 0.9, 1.0])
def test_score_is_the_gradient_of_the_exact_cloud_density(colors, t):
    expert = ColorMixtureExpert(std=0.1, colors=colors)
    x = noisy_clouds(expert, t, seed=1).requires_grad_(True)
    (grad,) = torch.autograd.grad(cloud_log_density(x[..., RGB], t, expert).sum(), x)
    score = expert.score(x.detach(), t)
    torch.testing.assert_close(score, grad)
    assert score[..., :3].abs().max() == 0


@pytest.mark.parametrize("colors", [None, NEAR], ids=["palette", "overlapping"])
@pytest.mark.parametrize("t", [0.05, 0.4, 0.9])
def test_velocity_is_the_gaussian_noise_conversion_of_the_exact_score(colors, t):
    # With N(0, I) noise, v = -(x + t score) / (1 - t) (Tweedie); the score here is autograd's.
    expert = ColorMixtureExpert(std=0.1, colors=colors)
    x = noisy_clouds(expert, t, seed=2).requires_grad_(True)
    (grad,) = torch.autograd.grad(cloud_log_density(x[..., RGB], t, expert).sum(), x)
    velocity, score = expert.velocity_and_score(x.detach(), t)
    torch.testing.assert_close(velocity[..., RGB], velocity_from_score(x.detach(), grad, t)[..., RGB])
    torch.testing.assert_close((velocity, score), (expert.velocity(x.detach(), t), expert.score(x.detach(), t)))


@pytest.mark.parametrize("d", [1, 2, 5])
def test_mixture_flow_matches_the_gradient_of_the_mixture_marginal(d):
    g = gen(3)
    means, stds = torch.randn(4, d, generator=g, dtype=torch.float64), torch.tensor([0.2, 0.5, 1.0, 0.3])
    log_w = torch.log_softmax(torch.randn(4, generator=g, dtype=torch.float64), 0)
    u = torch.randn(50, d, generator=g, dtype=torch.float64).requires_grad_(True)
    t = 0.35
    var = (1 - t) ** 2 * stds.double() ** 2 + t**2
    log_p = torch.logsumexp(
        log_w - 0.5 * ((u[:, None] - (1 - t) * means) ** 2).sum(-1) / var - 0.5 * d * torch.log(2 * math.pi * var),
        dim=-1,
    )
    (grad,) = torch.autograd.grad(log_p.sum(), u)
    velocity, score = mixture_flow(u.detach(), t, means, stds, log_w)
    torch.testing.assert_close(score, grad)
    torch.testing.assert_close(velocity, velocity_from_score(u.detach(), grad, t))


def test_x_hat_starts_at_the_palette_average_and_ends_at_the_clouds_palette_color():
    expert = ColorMixtureExpert(std=0.02)
    x1 = sample_noise(8, 64, gen(4), color_noise="gaussian").double()
    x_hat_1 = x_hat_from_velocity(x1, expert.velocity(x1, 1.0), 1.0)[..., RGB]
    torch.testing.assert_close(x_hat_1, torch.full_like(x_hat_1, 0.5))  # nothing decided at t = 1

    t = 1e-3
    x = noisy_clouds(expert, t, seed=5, n_clouds=8, n_points=64)
    x_hat = x_hat_from_velocity(x, expert.velocity(x, t), t)[..., RGB]
    nearest = torch.cdist(x_hat.mean(-2), expert.means).argmin(-1)
    torch.testing.assert_close(x_hat, expert.means[nearest][:, None].expand_as(x_hat), atol=3 * expert.std, rtol=0)
    assert (x_hat - x_hat.mean(-2, keepdim=True)).abs().max() < 1e-9  # one color per cloud


def test_x_hat_decides_the_color_along_the_path():
    # From one noise cloud, x_hat's distance to its final corner shrinks as the flow runs.
    expert = ColorMixtureExpert()
    x = sample_noise(200, 64, gen(6), color_noise="gaussian")
    result = euler([expert], x, 64, keep_trajectory=True)
    final = result.particles[..., RGB].mean(-2)
    times = result.times.tolist()
    gaps = []
    for k in (0, 8, 16, 63):
        xk = result.trajectory[k]
        x_hat = x_hat_from_velocity(xk, expert.velocity(xk, times[k]), times[k])[..., RGB].mean(-2)
        gaps.append((x_hat - final).norm(dim=-1).mean().item())
    assert gaps[0] > 0.5 and gaps[-1] < 0.05
    assert gaps == sorted(gaps, reverse=True)


def test_euler_paints_each_palette_color_equally_often():
    expert = ColorMixtureExpert()
    n = 4000
    out = euler([expert], sample_noise(n, 16, gen(7), color_noise="gaussian"), 64).particles[..., RGB].mean(-2)
    distance, nearest = torch.cdist(out.double(), expert.means).min(-1)
    assert distance.max() < 6 * expert.std  # every cloud ends on a palette color
    counts = torch.bincount(nearest, minlength=len(PALETTE)).double()
    p = 1 / len(PALETTE)
    assert ((counts / n - p).abs() < Z * math.sqrt(p * (1 - p) / n)).all(), counts.tolist()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"std": 0.0}, "std must be a finite number > 0, got 0.0"),
        ({"std": math.inf}, "std must be a finite number > 0"),
        ({"colors": {}}, "colors must be a non-empty dict"),
        ({"colors": {"grey": (0.5, 0.5)}}, "RGB triples"),
    ],
)
def test_bad_arguments_are_refused_with_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ColorMixtureExpert(**kwargs)


def test_sample_noise_gives_gaussian_colors_on_request_and_refuses_unknown_noise():
    x = sample_noise(2000, 8, gen(8), color_noise="gaussian")[..., RGB]
    assert abs(x.mean().item()) < Z / math.sqrt(x.numel())
    assert abs(x.var().item() - 1) < Z * math.sqrt(2 / x.numel())
    with pytest.raises(ValueError, match="color_noise must be one of .*got 'uniform'"):
        sample_noise(1, 4, color_noise="uniform")
