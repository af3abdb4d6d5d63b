"""The sphere, end to end: the shipped experts composed by the samplers."""
import pytest
import torch

from conftest import gen
from poe_demo.data import sample_noise
from poe_demo.experts import ColorMeanExpert
from poe_demo.metrics import chamfer_distance, color_spread, dominant_channel, radial_error
from poe_demo.rewards import ColorReward
from poe_demo.samplers import annealed_importance_sampling, euler


@pytest.fixture(scope="module")
def composed(axis_experts):
    return [axis_experts["x"], axis_experts["y"], axis_experts["z"], ColorMeanExpert()]


def test_ais_with_all_experts_rebuilds_a_single_colored_sphere(composed):
    g = gen(0)
    r = annealed_importance_sampling(composed, None, sample_noise(8, 256, generator=g), n_steps=64, n_mcmc_steps=3, generator=g)
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


@pytest.mark.parametrize("channel, color", [(0, "red"), (1, "green"), (2, "blue")])
def test_color_reward_steers_the_best_particle_to_the_target(composed, channel, color):
    successes = 0
    for seed in range(20):
        g = gen(1000 * channel + seed)
        r = annealed_importance_sampling(composed, ColorReward(color), sample_noise(32, 64, generator=g), n_steps=16,
                                         n_mcmc_steps=1, generator=g)
        successes += int(dominant_channel(r.best[None])[0] == channel)
    assert successes >= 19  # >= 95 % of 20 seeds
