"""The success-per-second picture draws each side's measured points where the rows put them."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from poe_demo.cost_plots import plot_success_against_seconds  # noqa: E402


def _row(k, n_particles, n, annealed, best):
    side = lambda rate, seconds: {"rate": rate, "se": 0.05, "seconds_per_run": seconds}  # noqa: E731
    return {"K": k, "L": n_particles, "N": n, "annealed": side(*annealed), "best_of_n": side(*best)}


def test_each_side_is_one_curve_per_k_in_order_of_seconds(tmp_path):
    rows = {
        "bold": [_row(2, 16, 113, (0.63, 2.1), (0.17, 2.2)), _row(2, 4, 51, (0.28, 1.0), (0.08, 1.1)),
                 _row(0, 4, 8, (0.0, 0.36), (0.02, 0.36))],
        "d": [_row(2, 4, 44, (0.95, 1.06), (0.95, 1.02))],
    }  # fmt: skip
    fig = plot_success_against_seconds(rows, {"bold": "a bold d"}, path=tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 0
    left, right = fig.axes
    assert (left.get_title(), right.get_title(), left.get_xscale()) == ("a bold d", "d", "log")
    lines = {bars.get_label(): bars.lines[0] for bars in left.containers}
    lines["best-of-N"] = lines.pop("best-of-N (N set per row)")  # errorbar: (data line, caps, bars)
    assert list(lines["annealed, K = 2"].get_xdata()) == [1.0, 2.1]  # sorted by seconds, not by row order
    assert list(lines["annealed, K = 2"].get_ydata()) == [0.28, 0.63]
    assert list(lines["annealed, K = 0"].get_ydata()) == [0.0]
    assert list(lines["best-of-N"].get_xdata()) == [0.36, 1.1, 2.2]
    assert list(lines["best-of-N"].get_ydata()) == [0.02, 0.08, 0.17]
    assert {t.get_text() for t in left.texts} == {"L=16", "L=4"}
    assert [t.get_text() for t in left.get_legend().get_texts()] == [
        "best-of-N (N set per row)", "annealed, K = 0", "annealed, K = 2"]  # fmt: skip


def test_no_targets_is_refused():
    with pytest.raises(ValueError, match="at least one target"):
        plot_success_against_seconds({})
