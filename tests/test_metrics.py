from itertools import combinations

import pytest
import torch

from poe_demo.data import PALETTE, golden_spiral_sphere, sample_spheres
from poe_demo.metrics import (
    best_of_l_bound,
    chamfer_distance,
    color_distance,
    color_spread,
    dominant_channel,
    dominant_channel_probability,
    has_dominant_channel,
    mean_color,
    radial_error,
)


def test_shape_metrics_are_zero_on_the_reference_sphere():
    x = sample_spheres(2, 100)
    assert radial_error(x).abs().max() < 1e-6
    assert chamfer_distance(x).abs().max() < 1e-4


def test_radial_error_of_a_scaled_sphere():
    x = sample_spheres(1, 50)
    x[..., :3] *= 1.2
    assert radial_error(x).item() == pytest.approx(0.2, abs=1e-6)


def test_chamfer_sees_a_ring_that_radial_error_misses():
    ring = golden_spiral_sphere(200)
    ring[:, 2] = 0
    ring = ring / ring.norm(dim=-1, keepdim=True)
    assert radial_error(ring[None]).item() < 1e-6
    assert chamfer_distance(ring[None]).item() > 0.1


def test_color_metrics():
    x = sample_spheres(1, 30)
    x[..., 3:] = torch.tensor([0.2, 0.9, 0.1])
    assert color_spread(x).item() < 1e-6
    torch.testing.assert_close(mean_color(x)[0], torch.tensor([0.2, 0.9, 0.1]))
    assert dominant_channel(x).item() == 1
    assert color_distance(x, "green").item() == pytest.approx((0.2**2 + 0.1**2 + 0.1**2) ** 0.5, abs=1e-6)


def test_dominant_channel_probability_by_enumeration():
    palette = list(PALETTE.values())
    for channel in range(3):
        wins = 0
        for triple in combinations(palette, 3):
            total = [sum(c[i] for c in triple) for i in range(3)]
            wins += all(total[channel] > total[j] for j in range(3) if j != channel)
        assert dominant_channel_probability(channel) == pytest.approx(wins / 56)


def test_best_of_l_bound():
    assert best_of_l_bound(0.25, 1) == pytest.approx(0.25)
    assert best_of_l_bound(0.25, 2) == pytest.approx(1 - 0.75**2)


def test_has_dominant_channel_needs_a_margin():
    x = sample_spheres(3, 6)
    x[0, :, 3:] = torch.tensor([2 / 3, 1 / 3, 0.0])  # red leads by 1/3
    x[1, :, 3:] = torch.tensor([1 / 3, 1 / 3, 0.0])  # red ties green
    x[2, :, 3:] = torch.tensor([0.0, 1.0, 0.0])
    assert has_dominant_channel(x, 0).tolist() == [True, False, False]
    assert dominant_channel_probability(0) == pytest.approx(10 / 56)
