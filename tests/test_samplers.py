"""Known-answer tests: Gaussian experts, whose products, posteriors and normalisers are exact."""

import math

import pytest
import torch
from helpers import Z, gen

from poe_demo.experts import GaussianExpert, GaussianMixtureExpert, gaussian_product
from poe_demo.rewards import GaussianReward
from poe_demo.samplers import (
    annealed_importance_sampling,
    curvature,
    euler,
    evaluate,
    langevin_dynamics,
    langevin_refine,
    log_density_difference,
    mala_log_alpha,
    next_curvature,
    rejection_sampling,
    time_grid,
)

E1, E2 = GaussianExpert(-0.7, 0.8), GaussianExpert(1.3, 0.5)
PRODUCT_MEAN, PRODUCT_STD, _ = gaussian_product([-0.7, 1.3], [0.8, 0.5])  # 0.738, 0.424


def product_run(n_mcmc_steps, n_particles=20_000, seed=0):
    g = gen(seed)
    x = torch.randn(n_particles, 1, generator=g, dtype=torch.float64)
    return annealed_importance_sampling([E1, E2], None, x, n_steps=64, n_mcmc_steps=n_mcmc_steps, generator=g)


def test_ais_samples_the_normalised_product_of_two_gaussian_experts():
    result = product_run(n_mcmc_steps=3)
    x = result.particles.squeeze(1)
    n = len(x)
    # The experts overlap, so the weights carry the start weight and the velocity mismatch
    # (test_ais_weights.py checks them); MALA alone already brings the particles to the product.
    assert abs(x.mean().item() - PRODUCT_MEAN) < Z * PRODUCT_STD / math.sqrt(n)
    # sample variance of n Gaussian draws has standard error sigma^2 sqrt(2 / (n - 1))
    assert abs(x.var().item() - PRODUCT_STD**2) < Z * PRODUCT_STD**2 * math.sqrt(2 / (n - 1))


def test_summing_velocities_without_mcmc_is_measurably_biased():
    x = product_run(n_mcmc_steps=0).particles.squeeze(1)
    assert abs(x.mean().item() - PRODUCT_MEAN) > 10 * PRODUCT_STD / math.sqrt(len(x))
    # AIS with K = 0 is exactly the Euler ODE of the summed velocities
    g = gen(0)
    torch.testing.assert_close(
        euler([E1, E2], torch.randn(20_000, 1, generator=g, dtype=torch.float64), 64).particles.squeeze(1), x
    )


def test_incremental_weighting_recovers_the_posterior_and_log_normaliser():
    prior, reward = GaussianExpert(0.5, 1.0), GaussianReward(2.0, 0.6)
    # posterior N(mu, s^2) and Z = E_prior[exp(r)] = sqrt(2 pi 0.6^2) N(0.5; 2.0, 1.0^2 + 0.6^2)
    post_mean, post_std, log_z_product = gaussian_product([0.5, 2.0], [1.0, 0.6])
    log_z = log_z_product + 0.5 * math.log(2 * math.pi * 0.6**2)
    means, variances, log_zs = [], [], []
    for seed in range(16):
        g = gen(100 + seed)
        x = torch.randn(2500, 1, generator=g, dtype=torch.float64)
        r = annealed_importance_sampling(prior, reward, x, n_steps=256, n_mcmc_steps=3, generator=g)
        w, p = r.log_weights.exp(), r.particles.squeeze(1)
        m = (w * p).sum()
        means.append(m.item())
        variances.append((w * (p - m) ** 2).sum().item())
        log_zs.append(r.log_normalizer)
    # 16 independent runs: compare their average with the truth, in units of its standard error
    # (Student t with 15 degrees of freedom: |t| > 4 has probability 0.001).
    for values, truth in [(means, post_mean), (variances, post_std**2), (log_zs, log_z)]:
        v = torch.tensor(values)
        assert abs(v.mean().item() - truth) < Z * v.std().item() / math.sqrt(len(v)), (values, truth)


def test_paper_weighting_is_greedier_than_the_posterior():
    prior, reward = GaussianExpert(0.5, 1.0), GaussianReward(2.0, 0.6)
    post_mean, _, _ = gaussian_product([0.5, 2.0], [1.0, 0.6])
    g = gen(7)
    r = annealed_importance_sampling(
        prior, reward, torch.randn(4000, 1, generator=g), 64, 3, weighting="paper", generator=g
    )
    assert r.log_normalizer is None and r.n_resamples == 65  # resampled at every level, start included
    assert r.particles.mean().item() > post_mean + 0.1  # pulled past the posterior toward the reward's peak


def test_result_fields_shapes_and_best_particle():
    g = gen(8)
    r = annealed_importance_sampling(
        E1, GaussianReward(1.0, 0.3), torch.randn(16, 2, generator=g), 10, 2, generator=g, keep_trajectory=True
    )
    assert r.particles.shape == (16, 2) and r.log_weights.shape == (16,) and r.ess.shape == (11,)
    assert r.trajectory.shape == (11, 16, 2) and r.times.shape == (11,) and r.acceptance.shape == (10,)
    assert r.best.shape == (2,)
    torch.testing.assert_close(r.best, r.particles[r.log_rewards.argmax()])
    assert ((r.ess >= 1 - 1e-4) & (r.ess <= 16 + 1e-4)).all()


def test_same_generator_seed_gives_the_same_samples():
    a = annealed_importance_sampling(
        [E1, E2], GaussianReward(0, 1), torch.randn(32, 1, generator=gen(9)), 8, 2, generator=gen(10)
    )
    b = annealed_importance_sampling(
        [E1, E2], GaussianReward(0, 1), torch.randn(32, 1, generator=gen(9)), 8, 2, generator=gen(10)
    )
    torch.testing.assert_close(a.particles, b.particles)


# --- the pieces -----------------------------------------------------------------------------


def test_time_grid_runs_from_noise_to_data():
    t = time_grid(8)
    assert t[0] == 1 and t[-1] == 0 and (t[1:] < t[:-1]).all()


def test_ais_samples_a_mixture_of_a_narrow_and_a_wide_mode():
    # Curvature differs by 4x between the modes, so one Langevin step must suit both; the trapezoid
    # density ratio is exact only for Gaussians, and a step too long for the narrow mode moves mass.
    weights, means, stds = (0.3, 0.7), (-2.0, 1.5), (0.3, 0.6)
    mixture = GaussianMixtureExpert(list(means), list(stds), list(weights))
    g = gen(20)
    x = annealed_importance_sampling(
        mixture, None, torch.randn(20_000, 1, generator=g, dtype=torch.float64), 64, 3, generator=g
    ).particles.squeeze(1)
    n = len(x)
    phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    p_positive = sum(w * (1 - phi(-m / s)) for w, m, s in zip(weights, means, stds))
    mean = sum(w * m for w, m in zip(weights, means))
    var = sum(w * (s * s + m * m) for w, m, s in zip(weights, means, stds)) - mean**2
    assert abs((x > 0).double().mean().item() - p_positive) < Z * math.sqrt(p_positive * (1 - p_positive) / n)
    assert abs(x.mean().item() - mean) < Z * math.sqrt(var / n)


def test_langevin_step_is_shared_and_set_by_the_sharpest_particle():
    # Particles 1.. sit at the wide mode's centre (score 0), so each proposal moves them by
    # sqrt(2h) xi. Putting particle 0 at the narrow mode's centre must shrink everyone's h by the
    # ratio of the modes' variances at this level; the noise xi is the same in both runs.
    t = 0.2
    mixture = GaussianMixtureExpert([-2.0, 1.5], [0.3, 0.6])
    alone = torch.full((16, 1), (1 - t) * 1.5, dtype=torch.float64)
    with_narrow = alone.clone()
    with_narrow[0] = (1 - t) * -2.0
    moves = []
    for start in (alone, with_narrow):
        end, _, _ = langevin_refine([mixture], evaluate([mixture], start, t), t, 1, 0.5, gen(21))
        moves.append((end.x - start)[1:, 0])
    both = (moves[0] != 0) & (moves[1] != 0)  # accepted in both runs
    assert both.sum() >= 8
    level_var = lambda std: ((1 - t) * std) ** 2 + t**2  # noqa: E731  (GaussianExpert.marginal)
    ratio = math.sqrt(level_var(0.3) / level_var(0.6))
    torch.testing.assert_close(
        moves[1][both] / moves[0][both], torch.full((int(both.sum()),), ratio, dtype=torch.float64), rtol=1e-3, atol=0
    )


def test_ais_counts_its_expert_evaluations_and_its_calls():
    from poe_demo.samplers import ais_calls, ais_evaluations

    class Counting(GaussianExpert):
        rows = calls = 0

        def score(self, x, t):  # evaluate() and the curvature probe both ask every particle for a score
            Counting.rows += x.shape[0]
            Counting.calls += 1
            return super().score(x, t)

    class CountingReward(GaussianReward):
        rows = calls = 0

        def log_reward(self, x):
            CountingReward.rows += x.shape[0]
            CountingReward.calls += 1
            return super().log_reward(x)

    # a bug that evaluated the Simpson midpoint in a call of its own on a small batch, or asked the rewards
    # of w and z apart, would count more calls; one that skipped a midpoint, fewer rows. States of
    # 12,000 numbers make a batch beyond SHARED_CALL_LIMIT: there the midpoint gets its own call.
    for n_particles, n_steps, k, rule, d in [(5, 10, 0, "simpson", 2), (5, 10, 1, "simpson", 2),
                                             (3, 7, 4, "simpson", 2), (3, 7, 2, "trapezoid", 2),
                                             (4, 1, 2, "simpson", 2), (3, 5, 2, "simpson", 12_000)]:  # fmt: skip
        Counting.rows = Counting.calls = CountingReward.rows = CountingReward.calls = 0
        annealed_importance_sampling(
            Counting(0.0, 1.0), CountingReward(0.5, 1.0), torch.zeros(n_particles, d), n_steps, k,
            generator=gen(22), metropolis=rule, ess_threshold=0.0,
        )  # fmt: skip
        calls = ais_calls(n_steps, k, rule, batch_numbers=n_particles * d)
        assert Counting.rows == ais_evaluations(n_particles, n_steps, k, rule)
        assert Counting.calls == calls["generative"]
        assert CountingReward.calls == calls["reward"]
        moved = (n_steps - 1) * (k > 0)  # levels whose reward call covers w and the moved particles
        assert CountingReward.rows == n_particles * (1 + n_steps + moved)


def test_curvature_of_a_gaussian_product_is_its_precision():
    x = torch.randn(5, 1, dtype=torch.float64)
    score = E1.score(x, 0.3) + E2.score(x, 0.3)
    precision = 1 / E1.marginal(0.3)[1] ** 2 + 1 / E2.marginal(0.3)[1] ** 2
    torch.testing.assert_close(
        curvature([E1, E2], x, 0.3, score, gen(0)), torch.full((5,), precision, dtype=torch.float64)
    )


def test_langevin_steps_measure_the_curvature_of_a_gaussian_product_for_free():
    # The secant |s(z) - s(x)| / |z - x| of a linear score is its precision, whatever the step.
    x = torch.randn(7, 3, dtype=torch.float64, generator=gen(30))
    refined = langevin_refine([E1, E2], evaluate([E1, E2], x, 0.3), 0.3, 2, 0.5, gen(31))
    precision = 1 / E1.marginal(0.3)[1] ** 2 + 1 / E2.marginal(0.3)[1] ** 2
    torch.testing.assert_close(refined.curvature, torch.full((7,), precision, dtype=torch.float64))


def test_the_carried_curvature_never_lets_the_step_outgrow_a_gaussian_level():
    # kappa_t t^2 never grows as t falls for Gaussian data, so kappa (t / t_next)^2 bounds the next
    # level's curvature; for data concentrated on a point (std -> 0) the bound is tight.
    times = time_grid(32).tolist()
    for std in (2.0, 0.5, 0.05, 1e-4):
        kappa = [1 / GaussianExpert(0.3, std).marginal(t)[1] ** 2 for t in times[:-1]]
        for k in range(len(kappa) - 1):
            carried = next_curvature(kappa[k], times[k], times[k + 1])
            assert kappa[k + 1] <= carried * (1 + 1e-12)
            if std == 1e-4 and times[k + 1] > 0.01:
                assert carried == pytest.approx(kappa[k + 1], rel=1e-3)
    assert next_curvature(None, 0.5, 0.4) is None and next_curvature(0.0, 0.5, 0.4) is None
    assert next_curvature(float("nan"), 0.5, 0.4) is None


def test_the_sampler_probes_the_curvature_once_and_then_carries_it():
    # A spy on langevin_refine: the first Langevin level gets no kappa (it probes), every later level
    # the previous level's secant curvature times (t / t_next)^2, which for Gaussians is the precision.
    import poe_demo.samplers.levels as levels

    seen = []
    real = levels.langevin_refine

    def spy(experts, start, t, *args):
        seen.append((t, args[-1]))
        return real(experts, start, t, *args)

    try:
        levels.langevin_refine = spy
        annealed_importance_sampling(
            [E1, E2], None, torch.randn(50, 2, generator=gen(32), dtype=torch.float64), 12, 2, generator=gen(33)
        )
    finally:
        levels.langevin_refine = real
    assert seen[0][1] is None and all(kappa is not None for _, kappa in seen[1:])
    for (t, _), (t_next, kappa) in zip(seen, seen[1:]):
        precision = lambda s: 1 / E1.marginal(s)[1] ** 2 + 1 / E2.marginal(s)[1] ** 2  # noqa: E731
        assert kappa == pytest.approx(precision(t) * (t / t_next) ** 2, rel=1e-9)


def test_trapezoid_density_difference_is_exact_for_gaussians():
    x, y = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    exact = (E1.log_prob(y, 0.2) - E1.log_prob(x, 0.2)).sum(1)
    torch.testing.assert_close(log_density_difference(x, y, E1.score(x, 0.2), E1.score(y, 0.2)), exact)


def test_langevin_keeps_a_gaussian_target_at_every_step_size():
    g = gen(11)
    mean, std = E2.marginal(0.4)
    x = mean + std * torch.randn(40_000, 1, generator=g, dtype=torch.float64)
    for step_size in (0.1, 1.0, 1.9):
        end, accepted, _ = langevin_refine([E2], evaluate([E2], x, 0.4), 0.4, 5, step_size, g)
        y = end.x
        n = len(y)
        torch.testing.assert_close(end.velocity, E2.velocity(y, 0.4))
        assert abs(y.mean().item() - mean) < Z * std / math.sqrt(n)
        assert abs(y.var().item() - std**2) < Z * std**2 * math.sqrt(2 / (n - 1))
        assert 0 < accepted.mean().item() <= 1


def test_rejection_sampling_acceptance_is_the_overlap_and_shrinks_with_dimension():
    rates = []
    for dim in (1, 4):
        accept_1d = math.exp(gaussian_product([-0.7, 1.3], [0.8, 0.5])[2]) * math.sqrt(2 * math.pi * 0.5**2)
        n = 200_000
        r = rejection_sampling(
            lambda n, g: -0.7 + 0.8 * torch.randn(n, dim, generator=g, dtype=torch.float64),
            lambda x: -((x - 1.3) ** 2).sum(1) / (2 * 0.5**2),
            n,
            gen(12),
        )
        expected = accept_1d**dim
        assert abs(r.acceptance_rate - expected) < Z * math.sqrt(expected * (1 - expected) / n)
        rates.append(r.acceptance_rate)
        if dim == 1:
            assert abs(r.samples.mean().item() - PRODUCT_MEAN) < Z * PRODUCT_STD / math.sqrt(len(r.samples))
    assert rates[1] < rates[0] ** 3


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(n_steps=0), ValueError, "n_steps must be an integer >= 1, got 0"),
        (dict(n_mcmc_steps=-1), ValueError, "n_mcmc_steps must be an integer >= 0"),
        (dict(step_size=2.5), ValueError, r"step_size must be a number in \(0, 2\)"),
        (dict(ess_threshold=1.5), ValueError, "ess_threshold"),
        (dict(resampling="fancy"), ValueError, "resampling must be one of"),
        (dict(weighting="greedy"), ValueError, "weighting must be one of"),
        (dict(x_init=torch.zeros(0, 1)), ValueError, r"L >= 1 particles, got shape \(0, 1\)"),
        (dict(x_init=torch.tensor([[float("nan")]])), ValueError, "NaN"),
        (dict(x_init=[[0.0]]), TypeError, "must be a torch.Tensor"),
        (dict(generative=[]), ValueError, "at least one expert"),
        (dict(generative=[object()]), TypeError, "is not an expert"),
        (dict(discriminative=[E1]), TypeError, "needs log_reward"),
    ],
)
def test_ais_rejects_bad_arguments_with_clear_errors(kwargs, error, message):
    args = dict(generative=[E1], discriminative=None, x_init=torch.zeros(4, 1), n_steps=4, n_mcmc_steps=1)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        annealed_importance_sampling(**args)


def test_lineage_follows_ancestors_back_to_the_start():
    g = gen(13)
    r = annealed_importance_sampling(
        E1,
        GaussianReward(1.0, 0.2),
        torch.randn(8, 1, generator=g),
        6,
        1,
        weighting="paper",
        generator=g,
        keep_trajectory=True,
    )
    best = int(r.log_rewards.argmax())
    path = r.lineage(best)
    assert path.shape == (7, 1)
    torch.testing.assert_close(path[-1], r.particles[best])
    # every step of the path is a particle that existed at that level
    for k in range(7):
        assert (r.trajectory[k] == path[k]).all(-1).any()


def test_langevin_dynamics_without_noise_climbs_to_the_mode():
    path = langevin_dynamics(E2, torch.tensor([[3.0], [-2.0]]), t=0.0, step_size=0.05, n_steps=400, noise=False)
    torch.testing.assert_close(path[-1], torch.full((2, 1), 1.3), atol=1e-4, rtol=0)


def test_langevin_dynamics_with_noise_has_the_known_step_size_bias():
    # Unadjusted Langevin on N(m, s^2) with step h settles at variance s^2 / (1 - h / (2 s^2)).
    g = gen(14)
    mean, std = E2.marginal(0.5)
    h = 0.4 * std**2
    x = mean + std * torch.randn(20_000, 1, generator=g, dtype=torch.float64)
    y = langevin_dynamics(E2, x, 0.5, h, 60, generator=g)[-1].squeeze(1)
    expected = std**2 / (1 - h / (2 * std**2))
    assert abs(y.var().item() - expected) < Z * expected * math.sqrt(2 / (len(y) - 1))
    assert abs(y.var().item() - std**2) > 5 * std**2 * math.sqrt(2 / (len(y) - 1))  # the bias MALA removes


@pytest.mark.parametrize("rule", ["trapezoid", "simpson"])
def test_mala_log_alpha_equals_the_full_metropolis_hastings_ratio(rule):
    # log alpha = [log p(z) - log p(x)] + log q(x|z) - log q(z|x), written out in full with the
    # rule's density difference; the sampler uses the closed form of mala_log_alpha.
    mixture = GaussianMixtureExpert([-1.0, 2.0], [0.4, 0.7])
    g = gen(15)
    x = torch.randn(6, 3, generator=g, dtype=torch.float64)
    h = 0.3
    xi = torch.randn(6, 3, generator=g, dtype=torch.float64)
    s_x = mixture.score(x, 0.2)
    z = x + h * s_x + math.sqrt(2 * h) * xi
    s_z = mixture.score(z, 0.2)
    s_m = mixture.score(0.5 * (x + z), 0.2) if rule == "simpson" else None
    log_q_forward = -((z - x - h * s_x) ** 2).sum(1) / (4 * h)
    log_q_backward = -((x - z - h * s_z) ** 2).sum(1) / (4 * h)
    full = log_density_difference(x, z, s_x, s_z, s_m) + log_q_backward - log_q_forward
    torch.testing.assert_close(mala_log_alpha(x, z, s_x, s_z, h, s_m), full)


def test_density_difference_errors_shrink_like_h3_for_the_trapezoid_and_h5_for_simpson():
    # A mixture's log-density is curved: halving the step divides the trapezoid's error by about
    # 2^3 = 8 and Simpson's by about 2^5 = 32 (measured: 8.5 and 57 from h = 0.1 to 0.05).
    mixture = GaussianMixtureExpert([-1.0, 2.0], [0.4, 0.7])
    x = torch.linspace(-2, 3, 11, dtype=torch.float64).unsqueeze(1)

    def errors(step):
        y = x + step
        exact = (mixture.log_prob(y, 0.2) - mixture.log_prob(x, 0.2)).squeeze(1)
        s_x, s_y, s_m = (mixture.score(u, 0.2) for u in (x, y, 0.5 * (x + y)))
        return [(log_density_difference(x, y, s_x, s_y, mid) - exact).abs().max().item() for mid in (None, s_m)]

    (trapezoid, simpson), (trapezoid_half, simpson_half) = errors(0.1), errors(0.05)
    assert 6 < trapezoid / trapezoid_half < 11
    assert simpson / simpson_half > 24
    assert simpson < trapezoid / 100


@pytest.mark.parametrize("d", [4, 64, 768])
def test_langevin_acceptance_holds_steady_as_the_dimension_grows(d):
    # h = step_size / (kappa d^(1/3)) keeps MALA's acceptance roughly constant in d (Roberts and
    # Rosenthal, 1998); without the d^(1/3) the acceptance falls to about 0.4 at d = 64, and with a
    # d^(1/2) it creeps toward 1 while the chain slows down. Chains start in the level's target.
    t = 0.3
    mean, std, _ = gaussian_product([E1.marginal(t)[0], E2.marginal(t)[0]], [E1.marginal(t)[1], E2.marginal(t)[1]])
    g = gen(40 + d)
    x = mean + std * torch.randn(400, d, generator=g, dtype=torch.float64)
    _, accepted, _ = langevin_refine([E1, E2], evaluate([E1, E2], x, t), t, 10, 0.5, g)
    assert 0.8 < accepted.mean().item() < 0.97


# --- non-finite values, dtypes and sizes -------------------------------------------------------


class ConstraintReward:
    """log r = 0 where x > 0, -inf elsewhere: a hard constraint."""

    def log_reward(self, x):
        return torch.where(x.flatten(1).min(1).values > 0, 0.0, float("-inf")).to(x)


class NaNReward:
    def log_reward(self, x):
        return torch.full((x.shape[0],), float("nan"), dtype=x.dtype)


def test_a_hard_constraint_removes_the_particles_that_break_it():
    # N(0.5, 1) restricted to x > 0: the -inf particles get zero weight, resampling drops them,
    # and the weighted mean is the truncated Gaussian's, mu + sigma phi(a) / (1 - Phi(a)), a = -mu/sigma.
    g = gen(30)
    r = annealed_importance_sampling(
        GaussianExpert(0.5, 1.0),
        ConstraintReward(),
        torch.randn(20_000, 1, generator=g, dtype=torch.float64),
        64,
        3,
        generator=g,
    )
    w, x = r.log_weights.exp(), r.particles.squeeze(1)
    assert bool(torch.isfinite(r.log_weights[w > 0]).all()) and math.isfinite(r.log_normalizer)
    assert float(w[x <= 0].sum()) == 0
    phi = math.exp(-0.125) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(-0.5 / math.sqrt(2)))
    truncated_mean = 0.5 + phi / (1 - cdf)
    assert abs(float((w * x).sum()) - truncated_mean) < 0.02
    # log Z = log P(x > 0) under N(0.5, 1)
    assert abs(r.log_normalizer - math.log(1 - cdf)) < 0.03


def test_a_constraint_no_particle_meets_is_a_clear_error():
    class Never:
        def log_reward(self, x):
            return torch.full((x.shape[0],), float("-inf"), dtype=x.dtype)

    with pytest.raises(ValueError, match="every particle has zero weight at t="):
        annealed_importance_sampling(E1, Never(), torch.randn(8, 1), 8, 1)


@pytest.mark.parametrize("weighting", ["incremental", "paper"])
def test_nan_rewards_name_the_expert_and_the_level(weighting):
    with pytest.raises(ValueError, match=r"NaNReward.log_reward returned NaN or \+inf for 8 of 8 particles at t=1"):
        annealed_importance_sampling(E1, NaNReward(), torch.randn(8, 1), 8, 1, weighting=weighting)


def test_a_tiny_reward_width_is_an_error_not_nan():
    with pytest.raises(ValueError, match="every particle has zero weight"):
        annealed_importance_sampling(E1, GaussianReward(0.0, 1e-30), torch.randn(8, 1), 8, 1)


class Exploding(GaussianExpert):
    def velocity(self, x, t):
        v = super().velocity(x, t)
        return v if t > 0.5 else v * float("inf")


@pytest.mark.parametrize("sampler", ["euler", "ais"])
def test_non_finite_velocities_name_the_expert_and_the_level(sampler):
    run = (
        (lambda: euler([E1, Exploding(0.0, 1.0)], torch.randn(4, 1), 8))
        if sampler == "euler"
        else (lambda: annealed_importance_sampling([E1, Exploding(0.0, 1.0)], None, torch.randn(4, 1), 8, 1))
    )
    with pytest.raises(ValueError, match=r"not finite at t=0\.\d+: non-finite velocity or score from Exploding"):
        run()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.int64])
def test_unsupported_dtypes_get_a_type_error_naming_the_allowed_ones(dtype):
    with pytest.raises(TypeError, match="must be a float32 or float64 tensor"):
        annealed_importance_sampling(E1, None, torch.zeros(4, 1, dtype=dtype), 4, 1)


def test_oversized_runs_are_refused_before_allocating():
    with pytest.raises(ValueError, match=r"n_steps=1000000000000, keep_trajectory=True needs about .* of memory"):
        annealed_importance_sampling(E1, None, torch.zeros(4, 1), 10**12, 1, keep_trajectory=True)
    with pytest.raises(ValueError, match="euler with state"):
        euler(E1, torch.zeros(4, 1), 10**12)


# --- devices ----------------------------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (skipped on the CPU-only CI)")
def test_the_sampler_runs_on_cuda_where_the_particles_live():
    from poe_demo.data import sample_noise
    from poe_demo.evaluation import sphere_experts
    from poe_demo.experts import load_axis_experts
    from poe_demo.metrics import radial_error
    from poe_demo.rewards import ColorReward

    cuda = torch.device("cuda")
    g = torch.Generator(device=cuda).manual_seed(0)
    x = torch.randn(20_000, 1, generator=g, device=cuda, dtype=torch.float64)
    r = annealed_importance_sampling([E1, E2], None, x, 64, 3, generator=g)
    assert r.particles.device.type == "cuda" and r.log_weights.device.type == "cuda"
    mean = (r.log_weights.exp() * r.particles[:, 0]).sum().item()
    assert abs(mean - PRODUCT_MEAN) < Z * PRODUCT_STD / math.sqrt(len(x)) + 1.5 / 64
    experts = sphere_experts(load_axis_experts(device=cuda))
    noise = sample_noise(4, 128, generator=torch.Generator().manual_seed(1)).to(cuda)
    r = annealed_importance_sampling(experts, ColorReward("red"), noise, 32, 1, generator=g)
    assert r.particles.device.type == "cuda" and float(radial_error(r.particles).mean()) < 0.05


def test_results_flag_particles_far_outside_the_data_range():
    """An undertrained model's [-47, 24] pixels are flagged; a good model's small overshoot is not."""
    from poe_demo.samplers import EulerResult, outside_range

    x = torch.zeros(4, 1, 3, 3)
    x[1, 0, 0, 0] = 1.3  # inside the margin: 1 + 0.25 * 2 = 1.5
    x[2, 0, 2, 1] = -47.0
    x[3, 0, 1, 1] = 1.6
    assert outside_range(x, -1, 1).tolist() == [False, False, True, True]
    assert outside_range(x, -1, 1, margin=0).tolist() == [False, True, True, True]
    result = EulerResult(particles=x, times=torch.tensor([1.0, 0.0]))
    assert result.outside(-1, 1).tolist() == [False, False, True, True]
    with pytest.raises(ValueError, match="low < high"):
        outside_range(x, 1, -1)
    with pytest.raises(ValueError, match="margin must be"):
        outside_range(x, -1, 1, margin=-0.1)


# --- the step API: the driver is nothing but init and step --------------------------------------


def test_driving_init_and_step_by_hand_gives_the_drivers_result():
    # A driver that drifted from the step functions (another resampling rule, a level skipped, the
    # generator used in another order) would give other particles or weights.
    from poe_demo.samplers import AISConfig, ais_init, ais_step

    experts, reward = [E1, GaussianMixtureExpert([-1.0, 1.0], [0.3, 0.5])], GaussianReward(0.5, 0.7)
    x = torch.randn(40, 2, generator=gen(40), dtype=torch.float64)
    for weighting in ("incremental", "paper"):
        result = annealed_importance_sampling(
            experts, reward, x, 12, 2, weighting=weighting, generator=gen(41), keep_trajectory=True
        )
        config = AISConfig(experts, reward, n_mcmc_steps=2, weighting=weighting)
        g = gen(41)
        state, info = ais_init(x, config, g)
        infos = [info]
        for t_next in time_grid(12).tolist()[1:]:
            state, info = ais_step(state, t_next, config, g)
            infos.append(info)
        torch.testing.assert_close(state.x, result.particles, rtol=0, atol=0)
        torch.testing.assert_close(state.log_weights, result.log_weights, rtol=0, atol=0)
        assert result.ess.tolist() == pytest.approx([i.ess for i in infos], rel=1e-6)  # stored as float32
        assert sum(i.resampled for i in infos) == result.n_resamples > 0
        torch.testing.assert_close(torch.stack([i.ancestors for i in infos]), result.ancestors)
        assert infos[0].acceptance is None
        assert result.acceptance.tolist() == pytest.approx([i.acceptance for i in infos[1:]], rel=1e-6)


def test_the_config_is_checked_once_when_made_and_the_step_refuses_a_level_going_up():
    from poe_demo.samplers import AISConfig, ais_init, ais_step

    with pytest.raises(ValueError, match="step_size"):
        AISConfig(E1, step_size=2.5)
    with pytest.raises(ValueError, match="weighting must be one of"):
        AISConfig(E1, weighting="greedy")
    with pytest.raises(TypeError, match="is not an expert"):
        AISConfig("E1")
    config = AISConfig(E1, None)
    assert config.generative == (E1,) and config.discriminative == ()
    state, _ = ais_init(torch.zeros(4, 1, dtype=torch.float64), config)
    state, _ = ais_step(state, 0.5, config, gen(0))
    for bad in (0.5, 0.7, -0.1):
        with pytest.raises(ValueError, match=r"t_next must be in \[0, t\)"):
            ais_step(state, bad, config)


def test_a_proposal_and_its_midpoint_in_one_call_are_the_simpson_step_by_definition():
    # One MALA step rebuilt from its definition, with the midpoint's score asked for on its own,
    # on experts with exponents (-0.5 weighs the second score): a split of the 2L batch in the
    # wrong place, or a midpoint summed without its exponents, gives another acceptance.
    from poe_demo.experts import Power
    from poe_demo.rng import rand, randn_like
    from poe_demo.samplers import summed_score

    experts = [GaussianMixtureExpert([-1.0, 1.2], [0.3, 0.4]), Power(GaussianExpert(0.2, 0.6), -0.5)]
    x = torch.randn(64, 3, generator=gen(50), dtype=torch.float64)
    t, h_scale, kappa = 0.3, 1.5, 4.0
    refined = langevin_refine(experts, evaluate(experts, x, t), t, 1, h_scale, gen(51), "simpson", kappa)
    g, score = gen(51), summed_score(experts, x, t)
    h = h_scale / (kappa * 3 ** (1 / 3))
    z = x + h * score + math.sqrt(2 * h) * randn_like(x, g)
    log_alpha = mala_log_alpha(x, z, score, summed_score(experts, z, t), h, summed_score(experts, (x + z) / 2, t))
    accept = torch.log(rand(64, log_alpha, g)) < log_alpha
    assert 5 < int(accept.sum()) < 59  # both outcomes occur, so both branches are compared
    torch.testing.assert_close(refined.at.x, torch.where(accept[:, None], z, x))
    torch.testing.assert_close(refined.at.score, summed_score(experts, refined.at.x, t))
