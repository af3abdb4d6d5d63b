import math

import pytest
import torch
from helpers import Z, gen
from torch import Tensor

from poe_demo.data import RGB, sample_noise, sample_sphere_points
from poe_demo.experts import (
    PALETTE_NOISE_SPREAD,
    AxisFlowExpert,
    BatchedAxisExperts,
    ColorMeanExpert,
    ExactSphereExpert,
    GaussianExpert,
    GaussianMixtureExpert,
    GenerativeExpert,
    IsotropicMixtureExpert,
    TrainingConfig,
    gaussian_product,
    sphere_posterior_mean,
    train_axis_expert,
)
from poe_demo.metrics import relative_velocity_error
from poe_demo.paths import interpolate, score_from_velocity
from poe_demo.samplers import euler

# --- Gaussian experts -------------------------------------------------------------------


def test_euler_on_a_gaussian_expert_transports_noise_to_its_data_distribution():
    x = torch.randn(50_000, 1, generator=gen(0), dtype=torch.float64)
    out = euler(GaussianExpert(mean=1.5, std=0.3), x, n_steps=400).particles
    n = len(out)
    assert abs(out.mean().item() - 1.5) < Z * 0.3 / math.sqrt(n)
    assert abs(out.std().item() - 0.3) < Z * 0.3 / math.sqrt(2 * n) + 2e-3  # + O(1/T) Euler error


def test_gaussian_product_normaliser_matches_numerical_integral():
    mean, std, log_z = gaussian_product([-0.7, 1.3, 0.2], [0.8, 0.5, 1.1])
    x = torch.linspace(-10, 10, 200_001, dtype=torch.float64)
    density = sum(GaussianExpert(m, s).log_prob(x, 0.0) for m, s in [(-0.7, 0.8), (1.3, 0.5), (0.2, 1.1)]).exp()
    dx = float(x[1] - x[0])
    z = float(density.sum() * dx)
    assert math.log(z) == pytest.approx(log_z, abs=1e-8)
    assert float((x * density).sum() * dx / z) == pytest.approx(mean, abs=1e-8)
    assert float(((x - mean) ** 2 * density).sum() * dx / z) == pytest.approx(std**2, abs=1e-8)


# --- exact sphere oracle ------------------------------------------------------------------


@pytest.mark.parametrize("t", [0.05, 0.2, 0.5, 0.9])
def test_sphere_oracle_matches_importance_sampled_posterior_mean(t):
    g = gen(1)
    y = sample_sphere_points(200_000, generator=g).double()  # uniform proposals on the sphere
    x = interpolate(
        sample_sphere_points(4, generator=g).double(), torch.randn(4, 3, generator=g, dtype=torch.float64), t
    )
    exact = sphere_posterior_mean(x, t)
    for xi, ei in zip(x, exact):
        w = torch.softmax(-((xi - (1 - t) * y) ** 2).sum(-1) / (2 * t * t), dim=0)
        estimate = (w[:, None] * y).sum(0)
        # self-normalised IS standard error: sqrt(sum w^2 (y - estimate)^2) per coordinate
        se = torch.sqrt((w[:, None] ** 2 * (y - estimate) ** 2).sum(0))
        assert ((estimate - ei).abs() <= Z * se + 1e-9).all(), (t, estimate, ei, se)


def test_sphere_oracle_is_finite_and_stable_at_extremes():
    x = torch.tensor([[0.0, 0.0, 0.0], [1e-8, 0.0, 0.0], [2.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    for t in [1.0, 0.5, 1e-2, 1e-4]:
        m = sphere_posterior_mean(x, t)
        assert torch.isfinite(m).all()
        assert m.norm(dim=-1).max() <= 1.0 + 1e-6  # a posterior mean of sphere points lies inside the ball
    # small t, away from the origin: the posterior mean is the radial projection
    torch.testing.assert_close(sphere_posterior_mean(x[2:], 1e-4), torch.tensor([[1.0, 0.0, 0.0]] * 2))
    # t = 1: x_t carries no information, the posterior mean is the sphere's centre
    torch.testing.assert_close(sphere_posterior_mean(x, 1.0), torch.zeros(4, 3))


def test_axis_oracle_moves_only_its_column():
    x = sample_noise(2, 16, generator=gen(2))
    v = ExactSphereExpert("y").velocity(x, 0.4)
    assert v[..., [0, 2, 3, 4, 5]].abs().max() == 0
    torch.testing.assert_close(v[..., 1], ExactSphereExpert().velocity(x, 0.4)[..., 1])


# --- color expert -------------------------------------------------------------------------


def test_color_velocity_flows_to_the_cloud_mean_and_x_hat_is_the_mean():
    x = sample_noise(3, 32, generator=gen(3))
    expert = ColorMeanExpert()
    v = expert.velocity(x, 0.3)
    m = x[..., RGB].mean(-2, keepdim=True)
    torch.testing.assert_close(v[..., RGB], (x[..., RGB] - m) / 0.3)
    assert v[..., :3].abs().max() == 0
    torch.testing.assert_close((x - 0.3 * v)[..., RGB], m.expand(-1, 32, -1))


@pytest.mark.parametrize("t", [0.05, 0.5, 1.0])
def test_color_score_is_the_gradient_of_the_stated_log_density(t):
    expert = ColorMeanExpert()
    x = sample_noise(2, 12, generator=gen(4)).double().requires_grad_(True)
    c = x[..., RGB]
    m = c.mean(-2)
    means = expert._means.double()
    log_q = torch.logsumexp(-((m[:, None, :] - means) ** 2).sum(-1) / (2 * expert.mean_std**2), dim=-1)
    log_p = log_q - ((c - m[:, None, :]) ** 2).sum((-1, -2)) / (2 * (t * expert.spread) ** 2)
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    torch.testing.assert_close(expert.score(x.detach(), t), grad)


def test_palette_noise_spread_matches_sampled_noise():
    x = sample_noise(4000, 60, generator=gen(5))
    c = x[..., RGB]
    per_cloud = (c - c.mean(-2, keepdim=True)).pow(2).mean((-1, -2))  # [L], per-channel variance
    estimate = per_cloud.mean().sqrt().item()
    se = (per_cloud.std() / math.sqrt(len(per_cloud))).item() / (2 * PALETTE_NOISE_SPREAD)  # delta method for sqrt
    # Balanced thirds make the palette part exact; measuring the jitter around the cloud's own
    # mean loses its 1/N share, jitter^2 / N in variance, a known offset.
    assert abs(estimate - PALETTE_NOISE_SPREAD) < Z * se + 0.05**2 / 60


# --- trained axis experts -----------------------------------------------------------------

# Measured for the shipped weights (ReLU 32x2): at most 0.151 over t in [0.05, 1] (y at t = 0.3).
SHIPPED_MAX_RELATIVE_ERROR = 0.2


@pytest.mark.parametrize("axis", "xyz")
def test_shipped_axis_experts_match_the_exact_oracle(axis_experts, axis):
    expert = axis_experts[axis]
    errors = [relative_velocity_error(expert, ExactSphereExpert(axis), t) for t in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)]
    assert max(errors) < SHIPPED_MAX_RELATIVE_ERROR, errors


def test_axis_expert_follows_the_protocol_and_moves_only_its_axis(axis_experts):
    expert = axis_experts["z"]
    assert isinstance(expert, GenerativeExpert)
    x = sample_noise(2, 8, generator=gen(7))
    with torch.no_grad():
        v, s = expert.velocity(x, 0.5), expert.score(x, 0.5)
    assert v[..., :2].abs().max() == 0 and v[..., 3:].abs().max() == 0
    torch.testing.assert_close(s[..., 2], -(x[..., 2] + 0.5 * v[..., 2]) / 0.5)


def test_training_is_reproducible_and_learns():
    config = TrainingConfig(hidden=16, depth=1, n_steps=60, batch_size=256, seed=3)
    a, losses = train_axis_expert("x", config, progress=False)
    b, _ = train_axis_expert("x", config, progress=False)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb)
    assert sum(losses[-10:]) < sum(losses[:10])


# --- batched axis experts -----------------------------------------------------------------


def _float32_tolerance(reference: Tensor) -> float:
    """Bias folding changes the order of float32 sums: allow a few hundred ulps of the largest entry."""
    return 300 * torch.finfo(torch.float32).eps * float(reference.abs().max())


@pytest.mark.parametrize("axes", ["xyz", "zx", "y"])
@pytest.mark.parametrize("t", [1.0, 0.3, 0.02])
def test_batched_axis_experts_equal_the_sum_of_the_experts(axis_experts, axes, t):
    experts = [axis_experts[a] for a in axes]
    batched = BatchedAxisExperts(experts)
    for x in (sample_noise(3, 40, generator=gen(8)), torch.randn(5, 7, 3, generator=gen(9))):
        with torch.no_grad():
            v, s = batched.velocity_and_score(x, t)
            v_sum = sum(e.velocity(x, t) for e in experts)
        torch.testing.assert_close(v, v_sum, rtol=0, atol=_float32_tolerance(v_sum))
        # the score is the velocity's, on the experts' columns only
        columns = sorted(e.column for e in experts)
        others = [c for c in range(x.shape[-1]) if c not in columns]
        torch.testing.assert_close(s[..., columns], score_from_velocity(x[..., columns], v[..., columns], t))
        assert (v[..., others] == 0).all() and (s[..., others] == 0).all()


@pytest.mark.parametrize("sizes", [[(8, 1)] * 3, [(8, 3)] * 3, [(8, 1), (16, 3), (4, 2)]])
def test_batched_axis_experts_fold_every_layer_of_any_size(sizes):
    torch.manual_seed(0)  # random untrained weights, biases included
    experts = [AxisFlowExpert(a, hidden=hidden, depth=depth) for a, (hidden, depth) in zip("xyz", sizes)]
    x = torch.randn(4, 9, 3, generator=gen(10))
    with torch.no_grad():
        expected = torch.stack([e(x, 0.4) for e in experts], dim=-1)
        got = BatchedAxisExperts(experts)(x, 0.4)
    torch.testing.assert_close(got, expected, rtol=0, atol=_float32_tolerance(expected))


def test_batched_axis_experts_is_a_snapshot_and_an_expert(axis_experts):
    copy = AxisFlowExpert("x")
    copy.load_state_dict(axis_experts["x"].state_dict())
    batched = BatchedAxisExperts([copy])
    assert isinstance(batched, GenerativeExpert)
    x = torch.randn(6, 3, generator=gen(11))
    with torch.no_grad():
        before = batched.velocity(x, 0.5)
        for p in copy.parameters():
            p.add_(1.0)
        torch.testing.assert_close(batched.velocity(x, 0.5), before)  # built from the weights it was given


@pytest.mark.parametrize(
    "experts, error, message",
    [
        ([], ValueError, r"distinct axes, got axes \[\]"),
        (lambda ax: [ax["x"], ax["x"]], ValueError, r"distinct axes, got axes \['x', 'x'\]"),
        ([ColorMeanExpert()], TypeError, "takes AxisFlowExpert objects, got ColorMeanExpert"),
    ],
)
def test_batched_axis_experts_reject_bad_groups(axis_experts, experts, error, message):
    with pytest.raises(error, match=message):
        BatchedAxisExperts(experts(axis_experts) if callable(experts) else experts)


@pytest.mark.parametrize(
    "make",
    [
        lambda: AxisFlowExpert("w"),
        lambda: ExactSphereExpert("q"),
        lambda: ColorMeanExpert(spread=0),
        lambda: GaussianExpert(0.0, -1.0),
    ],
)
def test_experts_reject_bad_arguments(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("t", [0.0, 0.3, 0.9])
def test_mixture_score_is_the_gradient_of_its_log_density(t):
    expert = GaussianMixtureExpert([-2.0, 1.5], [0.3, 0.6], [0.3, 0.7])
    x = torch.linspace(-4, 4, 33, dtype=torch.float64).requires_grad_(True)
    (grad,) = torch.autograd.grad(expert.log_prob(x, t).sum(), x)
    torch.testing.assert_close(expert.score(x.detach(), t), grad)


@pytest.mark.parametrize("t", [0.2, 0.6])
def test_mixture_velocity_and_score_satisfy_the_gaussian_noise_conversion(t):
    from poe_demo.paths import score_from_velocity

    expert = GaussianMixtureExpert([-2.0, 1.5], [0.3, 0.6], [0.3, 0.7])
    x = torch.linspace(-4, 4, 33, dtype=torch.float64)
    torch.testing.assert_close(score_from_velocity(x, expert.velocity(x, t), t), expert.score(x, t))


@pytest.mark.parametrize("t", [0.05, 0.4, 0.9])
def test_isotropic_mixture_score_is_the_gradient_of_its_log_density_in_the_plane(t):
    # p_t = sum_k w_k N((1 - t) mu_k, s_k^2 I), s_k^2 = (1 - t)^2 sigma_k^2 + t^2, written out here
    expert = IsotropicMixtureExpert([[-2.0, 0.0], [2.0, 1.0]], [0.4, 0.7], [0.3, 0.7])
    x = torch.randn(16, 2, dtype=torch.float64, generator=gen(5)).mul(2).requires_grad_(True)
    var = (1 - t) ** 2 * expert.stds**2 + t**2
    log_p = torch.logsumexp(
        expert.log_weights - 0.5 * ((x[:, None] - (1 - t) * expert.means) ** 2).sum(-1) / var - torch.log(var), dim=1
    )
    (grad,) = torch.autograd.grad(log_p.sum(), x)
    torch.testing.assert_close(expert.score(x.detach(), t), grad)
    torch.testing.assert_close(score_from_velocity(x.detach(), expert.velocity(x.detach(), t), t), grad)


def test_isotropic_mixture_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"means must be \[K, d\]"):
        IsotropicMixtureExpert([[0.0, 0.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="must be > 0"):
        IsotropicMixtureExpert([[0.0], [1.0]], [1.0, 0.0])


def test_relative_velocity_error_is_zero_for_the_reference_and_one_for_zero():
    oracle = ExactSphereExpert("y")
    assert relative_velocity_error(oracle, oracle, 0.3) == 0.0
    assert relative_velocity_error(GaussianExpert(0.0, 1.0), oracle, 1.0) == pytest.approx(
        0.0, abs=1e-6
    )  # both are v = x at t = 1


# --- dtypes and shapes ---------------------------------------------------------------------------


def test_sphere_composition_runs_in_float64_and_agrees_with_float32(axis_experts):
    from poe_demo.data import sample_noise
    from poe_demo.evaluation import sphere_experts
    from poe_demo.samplers import annealed_importance_sampling

    # K = 0: no random draws (their streams differ between dtypes), so the two runs must agree to rounding
    noise = sample_noise(2, 64, generator=torch.Generator().manual_seed(0))
    results = {}
    for dtype in (torch.float32, torch.float64):
        for batched in (True, False):
            r = annealed_importance_sampling(sphere_experts(axis_experts, batched=batched), None, noise.to(dtype), 8, 0)
            assert r.particles.dtype == dtype
            results[dtype, batched] = r.particles
    for batched in (True, False):
        torch.testing.assert_close(
            results[torch.float64, batched].float(), results[torch.float32, batched], rtol=1e-3, atol=1e-3
        )


@pytest.mark.parametrize("shape", [(64, 6), (2, 64, 5), (2, 3, 64, 6)])
def test_sphere_experts_show_the_shape_they_received(axis_experts, shape):
    from poe_demo.evaluation import sphere_experts

    x = torch.zeros(shape)
    for expert in sphere_experts(axis_experts):
        with pytest.raises(ValueError, match=rf"got shape \({', '.join(map(str, shape))}\)"):
            expert.velocity_and_score(x, 0.5)


def test_an_expert_that_defines_only_velocity_and_score_gets_the_other_two():
    # JointExpert's velocity and score are the two halves of velocity_and_score (swapped halves, or a
    # mixin that forgot to pass t, would differ from the mixture's exact flow at every t).
    from poe_demo.experts import JointExpert, mixture_flow

    means, stds, log_w = (
        torch.tensor([[-1.0, 0.5], [1.0, 0.0]]),
        torch.tensor([0.3, 0.6]),
        torch.tensor([0.4, 0.6]).log(),
    )

    class Mine(JointExpert):
        def velocity_and_score(self, x, t):
            return mixture_flow(x, t, means, stds, log_w)

    x = torch.randn(6, 2)
    for t in (0.9, 0.4):
        v, s = mixture_flow(x, t, means, stds, log_w)
        torch.testing.assert_close(Mine().velocity(x, t), v)
        torch.testing.assert_close(Mine().score(x, t), s)
    with pytest.raises(NotImplementedError, match="must define velocity_and_score"):
        JointExpert().score(x, 0.5)
