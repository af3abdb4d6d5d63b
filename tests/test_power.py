"""Exponents on experts (poe_demo.experts.power) and what the samplers make of them, against closed forms.

prod_i N(mu_i, sigma_i^2)^(w_i) is Gaussian with a closed-form normaliser (``gaussian_product``),
so AND (A B / U), tempering (A^0.5, A^2) and guidance (U^-1 A^2) have exact means, stds and
log Z. Statistical checks average 16 independent runs and allow Z standard errors of that
average (helpers.Z), plus the stated allowance for a finite number of levels.

At K = 0 the sampler is importance sampling whose proposal is the flow of V = sum_i w_i v_i;
its estimates converge only where that proposal covers the target. The K = 0 cases below are
chosen so that it does, and one test shows the case where it does not (and K = 3 is right).
"""

import math

import pytest
import torch
from helpers import Z, gen

from poe_demo.experts import GaussianExpert, GaussianMixtureExpert, Power, Product, gaussian_product, power
from poe_demo.samplers import (
    ais_evaluations,
    annealed_importance_sampling,
    euler,
    evaluate,
    evaluate_each,
    start,
    start_log_weights,
    total_exponents,
)

A, B, U = GaussianExpert(-0.5, 0.8), GaussianExpert(0.8, 0.9), GaussianExpert(0.1, 1.2)


def truth(terms):
    """(mean, std, log Z) of prod over (expert, w) in terms of N(mean, std^2)^w."""
    return gaussian_product([e.mean for e, _ in terms], [e.std for e, _ in terms], [w for _, w in terms])


def product(terms) -> Product:
    return Product([power(e, w) for e, w in terms])


def runs(terms, n_steps, n_mcmc_steps, seeds=range(16), n=1000):
    out = []
    for s in seeds:
        r = annealed_importance_sampling(
            product(terms), None, torch.randn(n, 1, generator=gen(s), dtype=torch.float64), n_steps, n_mcmc_steps,
            generator=gen(1000 + s),
        )  # fmt: skip
        w, x = r.log_weights.exp(), r.particles[:, 0]
        mean = (w * x).sum().item()
        out.append((mean, (w * (x - mean) ** 2).sum().sqrt().item(), r.log_normalizer))
    return out


def assert_within(values, exact, allowance=0.0):
    v = torch.tensor(values, dtype=torch.float64)
    error = abs(v.mean().item() - exact)
    assert error < Z * v.std().item() / math.sqrt(len(v)) + allowance, (v.mean().item(), exact, v.std().item())


# --- the algebra ------------------------------------------------------------------------------


def test_products_collect_exponents_per_expert():
    p = A * B / U
    assert isinstance(p, Product) and [(q.expert, q.exponent) for q in p] == [(A, 1.0), (B, 1.0), (U, -1.0)]
    assert [(q.expert, q.exponent) for q in A * A] == [(A, 2.0)]  # one term, evaluated once
    assert [(q.expert, q.exponent) for q in U**-1 * A**2] == [(U, -1.0), (A, 2.0)]
    root = (A**2) ** 0.5
    assert root.exponent == 1.0 and root.expert is A
    assert [(q.expert, q.exponent) for q in (A * B) ** 2] == [(A, 2.0), (B, 2.0)]
    assert len(A / A) == 0
    guidance = U ** (1 - 2.0) * A**2.0  # p_U^(1 - g) p_A^g
    assert [q.exponent for q in guidance] == [-1.0, 2.0]


def test_any_expert_can_be_raised_with_power():
    class Mine:  # a user's expert: the protocol, no mixin
        def velocity(self, x, t):
            return A.velocity(x, t)

        def score(self, x, t):
            return A.score(x, t)

    mine = Mine()
    composed = power(mine) * B / U
    assert [(q.expert, q.exponent) for q in composed] == [(mine, 1.0), (B, 1.0), (U, -1.0)]
    assert [(q.expert, q.exponent) for q in B * power(mine, 2)] == [(B, 1.0), (mine, 2.0)]


def test_a_powers_velocity_and_score_are_the_experts_times_the_exponent():
    x = torch.randn(7, 1, generator=gen(0), dtype=torch.float64)
    p = Power(A, -1.5)
    torch.testing.assert_close(p.score(x, 0.4), -1.5 * A.score(x, 0.4))
    torch.testing.assert_close(p.velocity(x, 0.4), -1.5 * A.velocity(x, 0.4))
    v, s = p.velocity_and_score(x, 0.4)
    torch.testing.assert_close((v, s), (p.velocity(x, 0.4), p.score(x, 0.4)))
    # evaluate_each returns the expert's own (v_i, s_i); evaluate weights them
    torch.testing.assert_close(evaluate_each([p], x, 0.4)[0], (A.velocity(x, 0.4), A.score(x, 0.4)))
    torch.testing.assert_close(evaluate([p], x, 0.4).score, -1.5 * A.score(x, 0.4))


@pytest.mark.parametrize(
    "exponent, error, words",
    [
        (0, ValueError, "non-zero"),
        (float("nan"), ValueError, "finite"),
        (float("inf"), ValueError, "finite"),
        ("2", TypeError, "real number"),
        (True, TypeError, "real number"),
    ],
)
def test_bad_exponents_are_refused(exponent, error, words):
    with pytest.raises(error, match=words):
        power(A, exponent)


def test_a_product_whose_exponents_do_not_sum_above_zero_is_refused():
    x = torch.randn(10, 1, generator=gen(1), dtype=torch.float64)
    for bad in (U**-1, A / B, A**0.5 / B):
        with pytest.raises(ValueError, match="not normalizable"):
            annealed_importance_sampling(bad, None, x, 8, 1)
        with pytest.raises(ValueError, match="not normalizable"):
            euler(bad, x, 8)
    with pytest.raises(ValueError, match="at least one expert"):
        annealed_importance_sampling(A / A, None, x, 8, 1)


def test_a_gaussian_product_with_a_negative_precision_is_refused_before_sampling():
    # A^2 / U with a narrow U: the exponents sum to 1 (fine at t = 1), but at t = 0 the
    # precision 2 / 0.8^2 - 1 / 0.4^2 < 0 (no finite integral)
    narrow = GaussianExpert(0.0, 0.4)
    with pytest.raises(ValueError, match=r"not normalizable at t=0.*precision"):
        annealed_importance_sampling(A**2 / narrow, None, torch.randn(10, 1, dtype=torch.float64), 8, 1)
    with pytest.raises(ValueError, match="not normalizable"):
        gaussian_product([-0.5, 0.0], [0.8, 0.4], [2, -1])


# --- the weights: rate, identity, start -------------------------------------------------------


@pytest.mark.parametrize("terms", [[(A, 1), (B, 1), (U, -1)], [(U, -1), (A, 2)], [(A, 0.5)], [(A, 2), (B, 0.3)]])
def test_weighted_mismatch_is_the_rate_of_change_of_the_transported_log_density(terms):
    # d/dt [sum_i w_i log p_i,t(x_t) + log|det J|] along dx/dt = V = sum_i w_i v_i, by a central
    # difference, against sum_i w_i <s_i, V - v_i>; div V = sum_i w_i (slope of v_i) for Gaussians.
    experts, t, dt = product(terms), 0.45, 1e-5
    x = torch.linspace(-3, 3, 7, dtype=torch.float64)[:, None]
    at = evaluate(experts, x, t)

    def log_gamma(y, s):
        return sum(w * e.log_prob(y, s) for e, w in terms).squeeze(1)

    div_v = sum(w * (t - (1 - t) * e.std**2) / e.marginal(t)[1] ** 2 for e, w in terms)
    forward = log_gamma(x + dt * at.velocity, t + dt) - log_gamma(x - dt * at.velocity, t - dt)
    torch.testing.assert_close(at.mismatch, forward / (2 * dt) + div_v, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("terms", [[(A, 1), (B, 1), (U, -1)], [(U, -1), (A, 2)], [(U, 2), (A, -1)]])
def test_when_the_exponents_sum_to_one_the_rate_is_the_experts_disagreement(terms):
    # sum_i w_i <s_i, V - v_i> = ((1 - t) / t) sum_i w_i |v_i - V|^2 (Tweedie on the linear path)
    x = torch.randn(9, 1, generator=gen(2), dtype=torch.float64)
    for t in (0.9, 0.5, 0.1):
        at = evaluate(product(terms), x, t)
        spread = sum(w * ((e.velocity(x, t) - at.velocity) ** 2).sum(1) for e, w in terms)
        torch.testing.assert_close(at.mismatch, (1 - t) / t * spread)


def test_the_start_is_never_narrower_than_the_noise_and_its_weight_is_gamma_1_over_q():
    # A^2 B^0.5 on one coordinate: W = 2.5. The start is the noise, q = N(0, 1), weighted by
    # gamma_1 / q. A^0.5 alone (W = 0.5) must widen: q = N(0, 2), and the weight is a constant.
    x_init = torch.randn(6, 1, generator=gen(3), dtype=torch.float64)

    def log_gamma(terms, x):
        return sum(w * e.log_prob(x, 1.0) for e, w in terms).squeeze(1)

    def log_normal(x, var):
        return (-0.5 * x**2 / var - 0.5 * math.log(2 * math.pi * var)).squeeze(1)

    terms = [(A, 2.0), (B, 0.5)]
    at, total = start(product(terms), x_init)
    assert total.tolist() == [[2.5]] and torch.equal(at.x, x_init)
    torch.testing.assert_close(start_log_weights(total, at.x), log_gamma(terms, at.x) - log_normal(at.x, 1.0))
    at, total = start([A**0.5], x_init)
    torch.testing.assert_close(at.x, x_init * math.sqrt(2))
    torch.testing.assert_close(start_log_weights(total, at.x), log_gamma([(A, 0.5)], at.x) - log_normal(at.x, 2.0))


def test_a_coordinate_whose_exponents_sum_below_zero_is_named():
    class OnFirst:
        def velocity(self, x, t):
            return torch.cat([A.velocity(x[:, :1], t), torch.zeros_like(x[:, 1:])], 1)

        def score(self, x, t):
            return torch.cat([A.score(x[:, :1], t), torch.zeros_like(x[:, 1:])], 1)

    x = torch.randn(4, 2, generator=gen(4), dtype=torch.float64)
    good = [power(OnFirst(), 2), power(B, 0.5)]
    assert total_exponents(good, [s for _, s in evaluate_each(good, x, 1.0)]).tolist() == [[2.5, 0.5]]
    bad = [power(OnFirst(), 2), power(B, -0.5)]  # coordinate 1 sums to -0.5
    with pytest.raises(ValueError, match="sum to -0.5"):
        total_exponents(bad, [s for _, s in evaluate_each(bad, x, 1.0)])
    # exponents summing to 1 everywhere: the start is the noise itself, no second evaluation
    at, total = start(A * B / U, x[:, :1])
    assert bool((total == 1).all()) and torch.equal(at.x, x[:, :1])


def test_euler_follows_the_weighted_velocity_from_the_widened_start():
    x = torch.randn(5, 1, generator=gen(5), dtype=torch.float64)
    r = euler(A**0.25 * B**0.5, x, 4, keep_trajectory=True)
    torch.testing.assert_close(r.trajectory[0], x / math.sqrt(0.75))  # W = 0.75: N(0, 1 / 0.75)
    t0, t1 = r.times[:2].tolist()
    v = 0.25 * A.velocity(r.trajectory[0], t0) + 0.5 * B.velocity(r.trajectory[0], t0)
    torch.testing.assert_close(r.trajectory[1], r.trajectory[0] + (t1 - t0) * v)
    torch.testing.assert_close(euler(A**2 * B, x, 4, keep_trajectory=True).trajectory[0], x)  # W = 3: the noise


def test_a_rescaled_start_costs_one_more_evaluation_per_particle():
    class Counting(GaussianExpert):
        rows = 0

        def score(self, x, t):
            Counting.rows += x.shape[0]
            return super().score(x, t)

    for expert, rescaled in ((Counting(0.0, 1.0) ** 0.5, True), (Counting(0.0, 1.0) ** 2, False)):
        Counting.rows = 0
        x = torch.randn(5, 2, generator=gen(6))  # not zeros: a score of exactly 0 reads as "not modelled"
        annealed_importance_sampling(expert, None, x, 10, 1, generator=gen(6))
        assert Counting.rows == ais_evaluations(5, 10, 1, rescaled_start=rescaled)


# --- the sampler against closed forms ----------------------------------------------------------

AND = [(A, 1), (B, 1), (U, -1)]
TEMPER_DOWN = [(GaussianExpert(0.5, 0.6), 0.5)]
TEMPER_UP = [(GaussianExpert(0.5, 1.5), 2)]
GUIDANCE = [(U, -1), (A, 2)]


@pytest.mark.parametrize("terms", [AND, TEMPER_DOWN, TEMPER_UP, GUIDANCE], ids=["AND", "A^0.5", "A^2", "U^-1 A^2"])
@pytest.mark.parametrize("n_mcmc_steps", [0, 3])
def test_ais_meets_the_closed_form_of_a_product_with_exponents(terms, n_mcmc_steps):
    mean, std, log_z = truth(terms)
    results = runs(terms, 128, n_mcmc_steps)
    allowance = 2.0 / 128  # levels: the K = 0 errors shrink like 1/T (next test)
    assert_within([m for m, _, _ in results], mean, allowance)
    assert_within([s for _, s, _ in results], std, allowance * std)
    assert_within([z for _, _, z in results], log_z, allowance)


def test_at_k0_the_errors_shrink_as_the_levels_grow():
    # the std and log Z of the guidance product, 8 runs each at T = 16 and T = 256
    mean, std, log_z = truth(GUIDANCE)
    coarse, fine = runs(GUIDANCE, 16, 0, range(8)), runs(GUIDANCE, 256, 0, range(8))
    for index, exact in ((1, std), (2, log_z)):
        error_coarse = abs(sum(r[index] for r in coarse) / 8 - exact)
        error_fine = abs(sum(r[index] for r in fine) / 8 - exact)
        assert error_fine < error_coarse / 4, (error_coarse, error_fine)


def test_without_mcmc_a_proposal_narrower_than_the_target_stays_biased_and_mcmc_fixes_it():
    # A^2 with a sharp A (std 0.3): the flow of 2 v lands narrower than A^2 (std 0.21) even from
    # the wide start, importance weights cannot widen it, and more levels do not help; three
    # Langevin steps per level do.
    sharp = [(GaussianExpert(0.5, 0.3), 2)]
    mean, std, _ = truth(sharp)
    for n_steps in (64, 256):
        stds = [s for _, s, _ in runs(sharp, n_steps, 0, range(4))]
        assert sum(stds) / 4 < 0.8 * std
    assert_within([s for _, s, _ in runs(sharp, 64, 3)], std, 2.0 / 64 * std)


@pytest.mark.parametrize("exponent", [0.5, 2.0])
def test_a_tempered_two_mode_expert_has_the_mode_mass_of_its_quadrature(exponent):
    # p = 0.3 N(-1.5, 0.5^2) + 0.7 N(1.5, 0.5^2) raised to w: the right mode's mass and log Z of
    # p^w by quadrature on a fine grid. Tempering moves mass: toward even at w = 0.5, toward the
    # heavier mode at w = 2.
    mixture = GaussianMixtureExpert([-1.5, 1.5], [0.5, 0.5], [0.3, 0.7])
    grid = torch.linspace(-8, 8, 16001, dtype=torch.float64)
    density = (exponent * mixture.log_prob(grid, 0.0)).exp()
    log_z = (density.sum() * (grid[1] - grid[0])).log().item()
    right = ((density * (grid > 0)).sum() / density.sum()).item()
    masses, log_zs = [], []
    for s in range(12):
        r = annealed_importance_sampling(
            mixture**exponent, None, torch.randn(1000, 1, generator=gen(s), dtype=torch.float64), 64, 3,
            generator=gen(500 + s),
        )  # fmt: skip
        masses.append((r.log_weights.exp() * (r.particles[:, 0] > 0)).sum().item())
        log_zs.append(r.log_normalizer)
    assert_within(masses, right, 1.0 / 64)
    assert_within(log_zs, log_z, 2.0 / 64)
