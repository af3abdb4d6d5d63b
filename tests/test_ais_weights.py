"""The annealed sampler's weights for experts that overlap, against closed forms.

Products of Gaussian experts, a Gaussian-mixture expert times a Gaussian, and the unit sphere
times a Gaussian blob (von Mises-Fisher) all have exact answers. Each statistical check averages
independent runs and compares the average with the truth in units of its standard error,
measured from those runs (Student t; |t| > Z has probability below 0.002 for 15 degrees of
freedom), plus, where stated, the Euler allowance of a finite number of levels.
"""

import math

import pytest
import torch
from helpers import Z, gen

from poe_demo.data import sample_noise
from poe_demo.evaluation import oracle_experts, sphere_experts
from poe_demo.experts import (
    ExactSphereExpert,
    GaussianExpert,
    GaussianMixtureExpert,
    gaussian_product,
    von_mises_fisher_mean,
)
from poe_demo.rewards import GaussianReward
from poe_demo.samplers import (
    AISConfig,
    AISState,
    ais_init,
    ais_step,
    annealed_importance_sampling,
    curvature,
    euler,
    evaluate,
    evaluate_each,
    langevin_refine,
    resample_state,
    start,
    start_log_weights,
    total_exponents,
    velocity_mismatch,
)
from poe_demo.two_modes import exact_answer, two_mode_experts, two_mode_reward, two_mode_run

E1, E2 = GaussianExpert(-0.7, 0.8), GaussianExpert(1.3, 0.5)
REWARD = GaussianReward(1.0, 0.5)


def reward_target():
    """Mean, std and log Z of N(-0.7, 0.8^2) N(1.3, 0.5^2) exp(r), exp(r) = sqrt(2 pi 0.5^2) N(1.0, 0.5^2)."""
    mean, std, log_z = gaussian_product([-0.7, 1.3, 1.0], [0.8, 0.5, 0.5])
    return mean, std, log_z + 0.5 * math.log(2 * math.pi * 0.5**2)


def assert_within(values, truth, allowance=0.0):
    v = torch.tensor(values, dtype=torch.float64)
    error = abs(v.mean().item() - truth)
    assert error < Z * v.std().item() / math.sqrt(len(v)) + allowance, (v.mean().item(), truth, v.std().item())


def weighted_moments(result):
    w, x = result.log_weights.exp(), result.particles.squeeze(1)
    mean = (w * x).sum()
    return mean.item(), (w * (x - mean) ** 2).sum().item()


# --- the velocity mismatch and the start weight ---------------------------------------------


def test_mismatch_is_the_rate_of_change_of_the_transported_log_density():
    # For Gaussian experts log gamma_t, V and div V are closed forms: compare sum_i <s_i, V - v_i>
    # with d/dt [log gamma_t(x_t) + log|det J|] along dx/dt = V, by a central difference in t.
    experts, t, dt = [E1, E2, GaussianExpert(0.2, 1.4)], 0.45, 1e-5
    x = torch.linspace(-3, 3, 7, dtype=torch.float64)[:, None]
    at = evaluate(experts, x, t)

    def log_gamma(y, s):
        return sum(e.log_prob(y, s) for e in experts).squeeze(1)

    def div_v(s):  # each GaussianExpert's velocity is linear in x with this slope
        return sum((s - (1 - s) * e.std**2) / e.marginal(s)[1] ** 2 for e in experts)

    forward = log_gamma(x + dt * at.velocity, t + dt) - log_gamma(x - dt * at.velocity, t - dt)
    rate = forward / (2 * dt) + div_v(t)
    torch.testing.assert_close(at.mismatch, rate, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "experts",
    [sphere_experts(), sphere_experts(batched=False), oracle_experts()],
    ids=["batched", "four experts", "oracle"],
)
def test_mismatch_and_start_weight_are_exactly_zero_on_disjoint_coordinates(experts):
    x = sample_noise(6, 128, generator=gen(1))
    for t in (1.0, 0.5, 0.02):
        assert (evaluate(experts, x, t).mismatch == 0).all()
    total = total_exponents(experts, [s for _, s in evaluate_each(experts, x, 1.0)])
    assert (total == 1).all() and (start_log_weights(total, x) == 0).all()


def test_start_counts_the_experts_on_each_coordinate():
    # A full Gaussian expert on (x, y, z) and a sphere expert on x only: x is modelled twice, so the
    # product at t = 1 has one extra N(x; 0, 1) factor there, and y, z none. The start is the noise
    # itself (never narrower than the product's N(0, 1/2)), weighted by that factor.
    x = torch.randn(5, 3, generator=gen(2), dtype=torch.float64)
    experts = [GaussianExpert(0.3, 0.9), ExactSphereExpert("x")]
    at, total = start(experts, x)
    assert total.tolist() == [[2.0, 1.0, 1.0]] and torch.equal(at.x, x)
    torch.testing.assert_close(start_log_weights(total, x), -0.5 * (x[:, 0] ** 2 + math.log(2 * math.pi)))


def test_ais_without_mcmc_is_importance_sampling_of_the_overlapping_product():
    # K = 0: the particles follow the summed-velocity ODE (biased) and the weights alone must
    # carry the product; they fail if the start weight or the mismatch increments are dropped.
    mean, std, log_z = reward_target()
    runs = [
        annealed_importance_sampling(
            [E1, E2],
            REWARD,
            torch.randn(2000, 1, generator=gen(s), dtype=torch.float64),
            128,
            0,
            generator=gen(100 + s),
        )
        for s in range(16)
    ]
    allowance = 1.5 / 128  # Euler bias of 128 levels: 1.4/T for log Z, 0.5/T for the variance (benchmarks/weights.py)
    assert_within([weighted_moments(r)[0] for r in runs], mean, allowance)
    assert_within([weighted_moments(r)[1] for r in runs], std**2, allowance)
    assert_within([r.log_normalizer for r in runs], log_z, allowance)
    # the particles alone are plain velocity summing, far from the product
    unweighted = torch.stack([r.particles.mean() for r in runs])
    assert (unweighted.mean() - mean).abs() > 10 * unweighted.std() / 4


def test_ais_with_mcmc_matches_the_overlapping_product_and_its_normaliser():
    mean, std, log_z = reward_target()
    runs = [
        annealed_importance_sampling(
            [E1, E2], REWARD, torch.randn(2000, 1, generator=gen(s), dtype=torch.float64), 64, 3, generator=gen(200 + s)
        )
        for s in range(16)
    ]
    allowance = 1.5 / 64
    assert_within([weighted_moments(r)[0] for r in runs], mean, allowance)
    assert_within([weighted_moments(r)[1] for r in runs], std**2, allowance)
    assert_within([r.log_normalizer for r in runs], log_z, allowance)


@pytest.mark.parametrize("n_mcmc_steps", [0, 3])
def test_ais_finds_the_mode_masses_of_a_mixture_times_a_gaussian(n_mcmc_steps):
    # 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2) times N(1, 1.5^2): each component's product has a closed
    # normaliser, so the right mode's mass is exact (0.832). MALA cannot carry mass across the
    # barrier late; only the weights can. Every seed must run: a flat curvature between the modes
    # at some particles is not an error.
    mixture, wide = GaussianMixtureExpert([-2.0, 2.0], [0.5, 0.5]), GaussianExpert(1.0, 1.5)
    log_mass = torch.tensor([gaussian_product([m, 1.0], [0.5, 1.5])[2] for m in (-2.0, 2.0)])
    right = torch.softmax(log_mass, 0)[1].item()
    masses = []
    for s in range(16):
        r = annealed_importance_sampling(
            [mixture, wide],
            None,
            torch.randn(2000, 1, generator=gen(s), dtype=torch.float64),
            128,
            n_mcmc_steps,
            generator=gen(300 + s),
        )
        masses.append((r.log_weights.exp() * (r.particles.squeeze(1) > 0)).sum().item())
    assert_within(masses, right, allowance=1.0 / 128)  # measured bias: +0.005 (K = 0), -0.004 (K = 3)


def test_the_two_mode_products_closed_form_is_the_audited_one():
    assert exact_answer() == pytest.approx((0.14885, -4.93004), abs=5e-6)


def test_the_two_mode_product_closed_form_against_quadrature():
    # An independent check of exact_answer: integrate A B exp(r) on a fine grid.
    a, b = two_mode_experts()
    grid = torch.linspace(-9, 9, 1201, dtype=torch.float64)
    xy = torch.cartesian_prod(grid, grid)
    log_a = torch.logsumexp(
        a.log_weights - 0.5 * ((xy[:, None] - a.means) ** 2).sum(-1) / a.stds**2 - torch.log(2 * math.pi * a.stds**2),
        dim=1,
    )
    log_b = -0.5 * ((xy - b.means[0]) ** 2).sum(-1) / b.stds[0] ** 2 - torch.log(2 * math.pi * b.stds[0] ** 2)
    density = (log_a + log_b + two_mode_reward().log_reward(xy)).exp() * (grid[1] - grid[0]) ** 2
    p_right, log_z = exact_answer()
    assert density.sum().log().item() == pytest.approx(log_z, abs=1e-6)
    assert (density * (xy[:, 0] > 0)).sum().item() / density.sum().item() == pytest.approx(p_right, abs=1e-3)


def test_langevin_keeps_a_curved_product_with_simpson_but_not_with_the_trapezoid():
    # Two-mode expert times a wide Gaussian times a reward, K = 3 (poe_demo.two_modes): the
    # Metropolis test with the trapezoid density ratio keeps a slightly wrong target, and more
    # levels do not remove it (benchmarks/weights.py measures it against T); Simpson's rule is
    # within Monte Carlo error. Tolerances from the spread of 12 independent runs.
    p_right, log_z = exact_answer()
    n_steps, errors = 64, {}
    for rule in ("simpson", "trapezoid"):
        runs = [two_mode_run(400 + s, n_steps, 3, rule) for s in range(12)]
        errors[rule] = [mass - p_right for mass, _ in runs]
        if rule == "simpson":
            assert_within([mass for mass, _ in runs], p_right)
            assert_within([log_z_run for _, log_z_run in runs], log_z, allowance=1.5 / n_steps)
    biased = torch.tensor(errors["trapezoid"])
    assert biased.mean() > 2 * biased.std() / math.sqrt(len(biased)), biased  # the bias Simpson removes


def test_sphere_times_a_gaussian_blob_is_von_mises_fisher():
    # Uniform on the unit sphere times N(mu, sigma^2 I) is von Mises-Fisher with kappa = |mu| / sigma^2;
    # the mean of <x, mu/|mu|> is coth(kappa) - 1/kappa. Summing the velocities overshoots toward the blob.
    blob = GaussianExpert(0.4, 0.5)  # mean (0.4, 0.4, 0.4)
    direction = torch.ones(3, dtype=torch.float64) / math.sqrt(3)
    truth = von_mises_fisher_mean(0.4 * math.sqrt(3) / 0.5**2)
    experts = [ExactSphereExpert(), blob]
    tilted, summed = [], []
    for s in range(8):
        x = torch.randn(4000, 3, generator=gen(s), dtype=torch.float64)
        r = annealed_importance_sampling(experts, None, x, 64, 3, time_power=1.0, generator=gen(400 + s))
        tilted.append((r.log_weights.exp() * (r.particles @ direction)).sum().item())
        summed.append((euler(experts, x, 64, time_power=1.0).particles @ direction).mean().item())
    assert_within(tilted, truth, allowance=0.6 / 64)  # measured bias +0.006 at T = 64, -0.003 at T = 256
    summed_t = torch.tensor(summed)
    assert (summed_t.mean() - truth).abs() > 20 * summed_t.std() / math.sqrt(len(summed)) + 0.6 / 64


# --- the pieces the weights depend on -----------------------------------------------------------


def test_resampling_copies_every_per_particle_field_from_its_ancestor():
    n = 6
    rows = torch.arange(n, dtype=torch.float64)
    state = AISState(
        x=rows[:, None].repeat(1, 2),
        velocity=10 + rows[:, None],
        mismatch=20 + rows,
        log_reward=30 + rows,
        log_weights=torch.log(torch.tensor([0, 0, 1, 0, 0, 1], dtype=torch.float64) / 2),
        log_normalizer=0.0,
        t=0.5,
    )
    new, idx = resample_state(state, "systematic", gen(3))
    assert set(idx.tolist()) == {2, 5}
    torch.testing.assert_close(new.x[:, 0], idx.double())
    torch.testing.assert_close(new.velocity[:, 0], 10 + idx.double())
    torch.testing.assert_close(new.mismatch, 20 + idx.double())
    torch.testing.assert_close(new.log_reward, 30 + idx.double())
    torch.testing.assert_close(new.log_weights.exp(), torch.full((n,), 1 / n, dtype=torch.float64))


def test_rewards_are_evaluated_on_the_predicted_clean_sample():
    # A Gaussian expert's x_hat at t = 1 is its data mean for every x, and at t = 0.25 it is
    # mu + (1 - t) sigma^2 / s_t^2 (x - a_t); r(x) itself would differ at every particle.
    expert, reward = GaussianExpert(0.6, 0.8), GaussianReward(1.0, 0.3)
    x = torch.tensor([[-1.0], [0.0], [2.0]], dtype=torch.float64)
    config = AISConfig(expert, reward, n_mcmc_steps=0, ess_threshold=0.0)
    start, _ = ais_init(x, config)
    torch.testing.assert_close(start.log_reward, reward.log_reward(torch.full_like(x, 0.6)))
    level, _ = ais_step(start, 0.25, config)
    a, s = expert.marginal(0.25)
    x_hat = 0.6 + 0.75 * 0.8**2 / s**2 * (level.x - a)
    torch.testing.assert_close(level.log_reward, reward.log_reward(x_hat))


def test_tempering_scales_the_reward_in_the_weights():
    # One expert (no mismatch), no MCMC: after one level from t = 1 to t = 0.5 the log-weights are
    # lambda(0.5) r(x_hat) up to a constant; lambda = (1 - t)^2 by default, 1 with "none".
    expert, reward = GaussianExpert(0.0, 1.0), GaussianReward(1.0, 0.5)
    x = torch.randn(8, 1, generator=gen(4), dtype=torch.float64)
    for tempering, lam in [("quadratic", 0.25), ("none", 1.0), (lambda t: 1 - t**3, 0.875)]:
        config = AISConfig(expert, reward, n_mcmc_steps=0, ess_threshold=0.0, tempering=tempering)
        level, _ = ais_step(ais_init(x, config)[0], 0.5, config)
        expected = lam * level.log_reward
        torch.testing.assert_close(level.log_weights - level.log_weights[0], expected - expected[0])


def test_tempering_must_end_at_the_full_reward():
    with pytest.raises(ValueError, match=r"lambda\(0\) = 1"):
        annealed_importance_sampling([E1], REWARD, torch.zeros(4, 1), 4, 0, tempering=lambda t: 0.5)
    with pytest.raises(ValueError, match="tempering must be one of"):
        annealed_importance_sampling([E1], REWARD, torch.zeros(4, 1), 4, 0, tempering="cosine")


def test_curvature_may_vanish_at_some_particles_but_not_at_all():
    class Flat:  # a log-density linear in x: zero curvature everywhere
        def velocity(self, x, t):
            return torch.zeros_like(x)

        def score(self, x, t):
            return torch.ones_like(x)

    x = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="flat at every particle"):
        curvature([Flat()], x, 0.5, torch.ones_like(x), gen(5))

    # a Gaussian at one particle, flat at the other: allowed, and the flat one reports 0
    class HalfFlat(Flat):
        def score(self, x, t):
            return torch.where(torch.arange(len(x))[:, None] == 0, -x, torch.ones_like(x))

    kappa = curvature([HalfFlat()], x, 0.5, HalfFlat().score(x, 0.5), gen(5))
    torch.testing.assert_close(kappa, torch.tensor([1.0, 0.0], dtype=torch.float64))


def test_two_expert_shortcut_equals_the_general_mismatch():
    x = torch.randn(4, 5, generator=gen(6), dtype=torch.float64)
    each = evaluate_each([E1, E2], x, 0.3)
    velocity = each[0][0] + each[1][0]
    general = sum(((s * (velocity - v)).sum(1) for v, s in each), torch.zeros(4, dtype=torch.float64))
    torch.testing.assert_close(velocity_mismatch(each, velocity, [1.0, 1.0]), general)


def test_langevin_refinement_returns_the_evaluation_at_the_particles_it_keeps():
    # The next level's trapezoid starts from the mismatch at the particles MALA leaves behind.
    x = torch.randn(200, 1, generator=gen(7), dtype=torch.float64)
    end, accepted, _ = langevin_refine([E1, E2], evaluate([E1, E2], x, 0.3), 0.3, 3, 1.0, gen(8))
    assert 0 < accepted.mean() < 1
    fresh = evaluate([E1, E2], end.x, 0.3)
    for field in ("velocity", "score", "mismatch"):
        torch.testing.assert_close(getattr(end, field), getattr(fresh, field))
