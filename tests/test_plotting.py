"""Pictures as the reader sees them: rendered to pixels where it matters, not only built."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from poe_demo import plotting  # noqa: E402
from poe_demo.data import sample_spheres  # noqa: E402


def pixels(draw) -> np.ndarray:
    """Luminance [H, W] in [0, 1] of a 3-D panel drawn by ``draw(ax)``."""
    fig = plt.figure(figsize=(2.6, 2.6), dpi=100)
    draw(fig.add_subplot(projection="3d"))
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255
    plt.close(fig)
    return image.mean(axis=-1)


def test_a_near_white_cloud_stands_out_from_the_grey_pane():
    cloud = sample_spheres(1, 256, generator=torch.Generator().manual_seed(0))[0]
    cloud[:, 3:] = torch.tensor([0.93, 1.0, 0.90])  # the demo's near-white unsteered cloud
    empty = pixels(lambda ax: plotting.draw_cloud(ax, cloud[:0]))
    drawn = pixels(lambda ax: plotting.draw_cloud(ax, cloud))
    # white points alone only lighten the pane (luminance 0.78) a little; their rims darken it
    assert ((empty - drawn) > 0.1).sum() > 500


def test_plot_levels_marks_each_resample_inside_the_axes_on_a_level_axis():
    times = torch.linspace(1, 0, 33) ** 2
    ess = torch.linspace(32, 10, 33)
    log_weights = torch.randn(33, 32, generator=torch.Generator().manual_seed(0))
    fig = plotting.plot_levels(ess, log_weights, times, 32, resampled=[15, 32])
    for ax in fig.axes[:2]:
        marks = [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--"]
        assert marks == [15, 32]
        low, high = ax.get_xlim()
        assert low <= 0 and high > 32  # the last level's resample is inside, not on the frame
        assert [t.get_text() for t in ax.texts] == ["resampled", "resampled"]
    plt.close(fig)
