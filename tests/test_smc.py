import math

import pytest
import torch
from helpers import Z, gen

from poe_demo.smc import RESAMPLERS, effective_sample_size, normalize_log_weights, resample, reweight


def test_ess_is_l_for_equal_weights_and_one_for_a_dominant_weight():
    assert effective_sample_size(torch.zeros(64)).item() == pytest.approx(64)
    dominant = torch.full((64,), -1e4)
    dominant[7] = 0.0
    assert effective_sample_size(dominant).item() == pytest.approx(1.0)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_ess_and_normalisation_stay_finite_for_huge_log_weights(scale):
    log_w = scale * torch.tensor([1.0, 0.5, 0.999, 0.2])
    ess = effective_sample_size(log_w)
    assert torch.isfinite(ess) and 1.0 <= ess.item() <= 4.0
    assert torch.isfinite(normalize_log_weights(log_w)).all()
    # float32 keeps about 7 digits: at magnitude 1e4 the rounding is eps * 1e4 ~ 1e-3
    rounding = 4 * torch.finfo(torch.float32).eps * abs(scale)
    assert torch.logsumexp(normalize_log_weights(log_w), 0).item() == pytest.approx(0.0, abs=rounding)
    # equal huge weights: ESS = L, not NaN
    assert effective_sample_size(torch.full((5,), scale)).item() == pytest.approx(5.0)


@pytest.mark.parametrize("scheme", sorted(RESAMPLERS))
def test_resampling_offspring_counts_match_l_times_w(scheme):
    g = gen(0)
    weights = torch.tensor([0.5, 0.25, 0.125, 0.0625, 0.0625], dtype=torch.float64)
    n, reps = len(weights), 20_000
    counts = torch.zeros(n, dtype=torch.float64)
    sq = torch.zeros(n, dtype=torch.float64)
    for _ in range(reps):
        c = torch.bincount(RESAMPLERS[scheme](weights, n, g), minlength=n).double()
        counts += c
        sq += c**2
    mean = counts / reps
    var = sq / reps - mean**2
    se = torch.sqrt(var.clamp_min(1e-12) / reps)
    expected = n * weights
    assert ((mean - expected).abs() <= Z * se + 1e-9).all(), (scheme, mean, expected)


def test_systematic_and_residual_give_floor_or_ceil_copies():
    weights = torch.tensor([0.43, 0.31, 0.26])
    for scheme in ("systematic", "residual"):
        for seed in range(50):
            counts = torch.bincount(RESAMPLERS[scheme](weights, 3, gen(seed)), minlength=3)
            assert (counts >= torch.floor(3 * weights)).all()
    for seed in range(50):
        counts = torch.bincount(RESAMPLERS["systematic"](weights, 3, gen(seed)), minlength=3)
        assert (counts <= torch.ceil(3 * weights)).all()


def test_resample_takes_log_weights_and_rejects_unknown_schemes():
    log_w = torch.tensor([0.0, -1e4, -1e4])
    assert resample(log_w, "multinomial", gen(1)).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="unknown resampling scheme 'fancy'"):
        resample(log_w, "fancy")


def test_reweight_returns_normalised_weights_and_the_normaliser_ratio():
    log_w = normalize_log_weights(torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64))
    increment = torch.tensor([0.5, -0.5, 0.1], dtype=torch.float64)
    new, log_ratio = reweight(log_w, increment)
    expected_ratio = (log_w.exp() * increment.exp()).sum().log()
    assert log_ratio.item() == pytest.approx(expected_ratio.item())
    assert torch.logsumexp(new, 0).item() == pytest.approx(0.0, abs=1e-12)
    assert math.isfinite(log_ratio.item())
