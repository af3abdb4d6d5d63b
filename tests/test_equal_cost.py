"""The one equal-cost comparison every lesson uses: budget, turns, success rates and their errors."""

import pytest
import torch
from helpers import gen

from poe_demo.equal_cost import Rate, compare_on_seeds, euler_samples_at_equal_cost
from poe_demo.samplers import ais_evaluations


def test_the_standard_error_is_the_spread_of_the_rate_over_repeated_experiments():
    # 4000 independent experiments of 50 Bernoulli(0.3) trials: the rates' standard deviation is
    # what Rate.se claims for one experiment (a formula missing its square root, or dividing by
    # n - 1 twice, lands far outside the 3% that 4000 repeats allow).
    draws = torch.rand(4000, 50, generator=gen(0)) < 0.3
    rates = [Rate.of(row.tolist()) for row in draws]
    spread = torch.tensor([r.rate for r in rates]).std().item()
    mean_se = sum(r.se for r in rates) / len(rates)
    assert mean_se == pytest.approx(spread, rel=0.03)
    assert Rate(3, 4).rate == 0.75 and Rate(3, 4).se == pytest.approx((0.75 * 0.25 / 4) ** 0.5)
    with pytest.raises(ValueError, match="at least one trial"):
        Rate.of([])


def test_both_samplers_run_on_the_same_seeds_taking_turns():
    order = []

    def annealed(seed):
        order.append(("annealed", seed))
        return {"judge": seed % 2 == 0, "reward": True}

    def baseline(seed):
        order.append(("baseline", seed))
        return {"judge": seed < 1, "reward": False}

    ticks = []
    sides = compare_on_seeds({"annealed": annealed, "baseline": baseline}, [5, 6, 0], on_trial=lambda: ticks.append(1))
    # turns seed by seed: a drifting machine charges both sides alike
    assert order == [(name, seed) for seed in (5, 6, 0) for name in ("annealed", "baseline")]
    assert len(ticks) == 6
    assert sides["annealed"].rates == {"judge": Rate(2, 3), "reward": Rate(3, 3)}
    assert sides["baseline"].rates == {"judge": Rate(1, 3), "reward": Rate(0, 3)}
    assert all(side.seconds >= 0 for side in sides.values())
    plain = compare_on_seeds({"a": lambda seed: seed > 1}, range(4))
    assert plain["a"].rates == {"success": Rate(2, 4)}
    with pytest.raises(ValueError, match="at least one seed"):
        compare_on_seeds({"a": lambda seed: True}, [])


@pytest.mark.parametrize("exponent_sum", [1.0, 0.5])
def test_the_baseline_never_gets_fewer_evaluations_than_the_annealed_run(exponent_sum):
    widened = exponent_sum < 1
    for n_particles, k, n_steps in [(1, 0, 4), (4, 2, 32), (7, 3, 16), (32, 1, 64)]:
        n = euler_samples_at_equal_cost(n_particles, k, n_steps, exponent_sum=exponent_sum)
        annealed = ais_evaluations(n_particles, n_steps, k, rescaled_start=widened)
        per_sample = n_steps + widened
        assert n * per_sample >= annealed > (n - 1) * per_sample
