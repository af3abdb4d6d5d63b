import pytest
import torch
from helpers import gen

from poe_demo.data import (
    COLOR_JITTER,
    PALETTE,
    RGB,
    as_rgb,
    golden_spiral_sphere,
    palette_triple_means,
    sample_noise,
    sample_sphere_points,
    sample_spheres,
)


def test_golden_spiral_points_lie_on_the_unit_sphere_centred_at_the_origin():
    xyz = golden_spiral_sphere(500)
    assert xyz.shape == (500, 3)
    torch.testing.assert_close(xyz.norm(dim=-1), torch.ones(500))
    assert xyz.mean(0).abs().max() < 0.01


def test_uniform_sphere_points_have_unit_norm_and_zero_mean():
    xyz = sample_sphere_points(100_000, generator=gen(0))
    torch.testing.assert_close(xyz.norm(dim=-1), torch.ones(100_000))
    # Each coordinate of a uniform point has variance 1/3; 4 standard errors.
    assert xyz.mean(0).abs().max() < 4 * (1 / 3) ** 0.5 / 100_000**0.5


def test_noise_shape_and_reproducibility():
    a, b = sample_noise(4, 64, generator=gen(1)), sample_noise(4, 64, generator=gen(1))
    assert a.shape == (4, 64, 6)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, sample_noise(4, 64, generator=gen(2)))


def test_each_noise_cloud_uses_three_distinct_palette_colors_in_balanced_thirds():
    x = sample_noise(50, 90, generator=gen(3))
    palette = torch.tensor(list(PALETTE.values()))
    nearest = torch.cdist(x[..., RGB], palette.expand(50, -1, -1)).argmin(-1)  # [L, N]
    for cloud in nearest:
        counts = torch.bincount(cloud, minlength=8)
        assert sorted(counts.tolist())[-3:] == [30, 30, 30] and int((counts > 0).sum()) == 3
    # jitter is small: every color within 5 jitter std of its palette color
    assert (x[..., RGB] - palette[nearest]).abs().max() < 5 * COLOR_JITTER


def test_noise_mean_colors_are_palette_triple_means():
    x = sample_noise(200, 300, generator=gen(4))
    means = x[..., RGB].mean(1)
    distance = torch.cdist(means, palette_triple_means()).min(-1).values
    assert distance.max() < 6 * COLOR_JITTER / 300**0.5 * 3**0.5


def test_training_spheres_are_colored_unit_spheres():
    x = sample_spheres(3, 128, generator=gen(5))
    assert x.shape == (3, 128, 6)
    torch.testing.assert_close(x[..., :3].norm(dim=-1), torch.ones(3, 128))


def test_palette_triple_means_has_all_56_triples():
    assert palette_triple_means().shape == (56, 3)


def test_as_rgb_accepts_names_and_triples():
    torch.testing.assert_close(as_rgb("red"), torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(as_rgb((0.2, 0.4, 0.6)), torch.tensor([0.2, 0.4, 0.6]))


@pytest.mark.parametrize(
    "bad, error, message",
    [
        ("purple", ValueError, "unknown color 'purple'"),
        ((1.0, 0.0), ValueError, "3 values in"),
        ((1.5, 0.0, 0.0), ValueError, "3 values in"),
        (object(), TypeError, "palette name or an RGB triple"),
    ],
)
def test_as_rgb_names_the_bad_value(bad, error, message):
    with pytest.raises(error, match=message):
        as_rgb(bad)


@pytest.mark.parametrize("n_clouds, n_points", [(0, 10), (2, 0), (1.5, 10)])
def test_noise_rejects_bad_sizes(n_clouds, n_points):
    with pytest.raises(ValueError, match="must be an integer >= 1"):
        sample_noise(n_clouds, n_points)
