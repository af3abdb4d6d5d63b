"""The sphere, end to end: the shipped experts composed by the samplers."""

import pytest
from helpers import gen

from poe_demo.data import sample_noise
from poe_demo.evaluation import sphere_experts, success_rate
from poe_demo.experts import ColorMeanExpert
from poe_demo.metrics import chamfer_distance, color_spread, radial_error
from poe_demo.samplers import annealed_importance_sampling, euler


@pytest.fixture(scope="module")
def composed(axis_experts):
    """What users get: the three axis experts batched into one call, and the color expert."""
    return sphere_experts(axis_experts)


def test_ais_with_all_experts_rebuilds_a_single_colored_sphere(composed):
    g = gen(0)
    r = annealed_importance_sampling(
        composed, None, sample_noise(8, 256, generator=g), n_steps=64, n_mcmc_steps=3, generator=g
    )
    assert radial_error(r.particles).mean() <= 0.01
    assert color_spread(r.particles).max() < 1e-3
    assert r.acceptance.mean() > 0.5  # the Langevin steps do move


def test_each_axis_expert_alone_leaves_a_radial_error_several_times_larger(axis_experts, composed):
    noise = sample_noise(8, 256, generator=gen(1))
    together = radial_error(euler(composed, noise, 64).particles).mean()
    for axis in "xyz":
        alone = euler([axis_experts[axis], ColorMeanExpert()], noise, 64).particles
        assert radial_error(alone).mean() > 10 * together
        assert chamfer_distance(alone).mean() > 2 * chamfer_distance(euler(composed, noise, 64).particles).mean()


@pytest.mark.parametrize("color", ["red", "green", "blue"])
def test_color_reward_steers_the_best_particle_to_the_target(composed, color):
    # The bound for L = 32 is 1 - (1 - 10/56)^32 = 0.998; 95 % of 20 seeds is 19.
    assert success_rate(composed, color, n_particles=32, seeds=range(20)) >= 0.95


def test_one_shared_start_cannot_steer_beyond_one_particle(composed):
    # L rollouts of one start share its mean color, so they succeed together with probability
    # p = 10/56; P(Binomial(20, p) >= 11) is about 1e-4.
    shared = success_rate(composed, "red", n_particles=32, seeds=range(20), shared_start=True)
    assert shared <= 0.5


def test_rejection_with_the_same_budget_succeeds_less_often_than_smc(composed):
    from poe_demo.evaluation import rejection_trial

    rejection = success_rate(composed, "red", n_particles=8, seeds=range(20), trial=rejection_trial)
    smc = success_rate(composed, "red", n_particles=8, seeds=range(20))
    assert 0 <= rejection <= 1 and smc >= rejection


def test_trials_need_a_primary_target_color(composed):
    from poe_demo.evaluation import best_of_n_trial, rejection_trial, steering_trial

    for trial in (steering_trial, rejection_trial, best_of_n_trial):
        with pytest.raises(ValueError, match="color must be one of"):
            trial(composed, "yellow", 2, seed=0)


def test_sphere_experts_batches_the_axis_experts_or_lists_them(axis_experts):
    batched, separate = sphere_experts(axis_experts), sphere_experts(axis_experts, batched=False)
    assert [type(e).__name__ for e in batched] == ["BatchedAxisExperts", "ColorMeanExpert"]
    assert [getattr(e, "axis", None) for e in separate[:3]] == ["x", "y", "z"] and len(separate) == 4
    with pytest.raises(ValueError, match="keys 'x', 'y', 'z'"):
        sphere_experts({"x": axis_experts["x"]})


def test_baselines_get_the_annealed_runs_number_of_expert_evaluations(composed):
    # Count the clouds every expert call sees, for the annealed run and for each baseline; the
    # baselines' Euler samples (T calls each) must cost at least the run's count, and within one
    # sample of it.
    from poe_demo.equal_cost import euler_samples_at_equal_cost
    from poe_demo.evaluation import best_of_n_trial, rejection_trial, steering_trial

    color_expert = composed[-1]
    seen = []

    class Counting(type(color_expert)):
        def velocity(self, x, t):
            seen.append(x.shape[0])
            return super().velocity(x, t)

        def velocity_and_score(self, x, t):
            seen.append(x.shape[0])
            return super().velocity_and_score(x, t)

    experts = [composed[0], Counting()]
    for n_particles, k in [(3, 1), (5, 2)]:
        counts = {}
        for trial in (steering_trial, best_of_n_trial, rejection_trial):
            seen.clear()
            trial(experts, "red", n_particles, seed=0, n_points=16, n_steps=8, n_mcmc_steps=k)
            counts[trial.__name__] = sum(seen)
        n = euler_samples_at_equal_cost(n_particles, k, 8)
        assert counts["best_of_n_trial"] == counts["rejection_trial"] == n * 8
        assert counts["steering_trial"] <= n * 8 < counts["steering_trial"] + 8
