"""The playground driven headlessly, as the notebook's reader would drive it with the mouse."""

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("plotly")

import numpy as np  # noqa: E402

from poe_demo.plotting import scatter3d_trace  # noqa: E402
from poe_demo.samplers import annealed_importance_sampling  # noqa: E402
from poe_demo.widgets import Playground, picker_to_rgb  # noqa: E402


@pytest.fixture(scope="module")
def playground(axis_experts):
    return Playground(axis_experts, n_points=64, n_steps=8, n_mcmc_steps=1)


def test_changing_controls_reruns_the_sampler_and_changes_the_figure(playground):
    runs, plot = playground.n_runs, playground.plot
    colors = playground.plot.data[0].marker.color
    playground.controls["n_particles"].value = 5
    assert playground.n_runs == runs + 1 and playground.last_settings["n_particles"] == 5
    assert playground.last_result.particles.shape[0] == 5
    playground.controls["color"].value = "blue"
    assert playground.n_runs == runs + 2 and playground.last_settings["target"] == "blue"
    assert playground.plot is plot  # updated in place, not replaced
    assert playground.plot.data[0].marker.color != colors  # the best cloud is repainted
    assert "best particle" in playground.status.value


def test_the_figure_shows_the_last_run_and_keeps_the_readers_camera(playground):
    # Every field the run writes into the live figure, against the result it came from.
    playground.plot.layout.scene.camera.eye = dict(x=0.2, y=-0.1, z=2.0)  # as a reader's drag leaves it
    playground.controls["n_steps"].value = 6
    assert playground.plot.layout.scene.camera.eye.to_plotly_json() == dict(x=0.2, y=-0.1, z=2.0)
    result, (cloud, ess) = playground.last_result, playground.plot.data
    best = result.best.numpy()
    for axis, column in zip("xyz", range(3)):
        assert np.allclose(getattr(cloud, axis), best[:, column], atol=5e-4), axis
    assert cloud.marker.color == tuple(scatter3d_trace(result.best).marker.color)
    assert np.allclose(ess.x, result.times.numpy(), atol=5e-5) and np.allclose(ess.y, result.ess.numpy(), atol=5e-3)
    assert playground.plot.layout.yaxis.range == (0, playground.last_settings["n_particles"] * 1.05)
    copy = playground.figure  # the plain figure a notebook stores: the same traces
    assert type(copy).__name__ == "SnapshotFigure" and np.array_equal(copy.data[0].z, cloud.z)


def test_two_executions_store_the_same_figure(axis_experts):
    # What a re-run notebook stores: each execution builds a new live figure, with new trace ids
    first, second = (Playground(axis_experts, n_points=16, n_steps=2).figure for _ in range(2))
    assert first.to_dict() == second.to_dict()  # the dict a notebook stores (to_json leaves out trace ids)


@pytest.fixture
def sampler_calls(monkeypatch):
    """Every call the playground makes to the sampler: its start x_init and torch's thread count then."""
    import torch

    import poe_demo.widgets

    calls = []

    def spy(generative, reward, x_init, *args, **kwargs):
        calls.append(dict(x_init=x_init, threads=torch.get_num_threads(), generative=generative, kwargs=kwargs))
        return annealed_importance_sampling(generative, reward, x_init, *args, **kwargs)

    monkeypatch.setattr(poe_demo.widgets, "annealed_importance_sampling", spy)
    return calls


def test_runs_use_the_playgrounds_thread_count_and_restore_it(axis_experts, sampler_calls):
    import torch

    before = torch.get_num_threads()
    playground = Playground(axis_experts, n_points=16, threads=1, n_steps=4, n_mcmc_steps=0)
    playground.controls["seed"].value = 1
    assert [call["threads"] for call in sampler_calls] == [1, 1] and torch.get_num_threads() == before
    assert Playground(axis_experts, n_points=16, n_steps=2).threads == max(1, before - 1)
    with pytest.raises(ValueError, match="threads must be an integer >= 1, got 0"):
        Playground(axis_experts, threads=0)


@pytest.mark.parametrize("choice", ["mixture", "mean"])
def test_the_color_expert_control_runs_that_expert_from_its_noise_with_its_settings(
    axis_experts, sampler_calls, choice
):
    import torch

    from poe_demo.data import sample_noise
    from poe_demo.evaluation import COLOR_EXPERTS

    other = "mean" if choice == "mixture" else "mixture"
    playground = Playground(axis_experts, n_points=16, n_particles=3, n_steps=2, color_expert=other)
    playground.controls["color_expert"].value = choice
    call = sampler_calls[-1]
    expert, steering = COLOR_EXPERTS[choice]
    assert type(call["generative"][-1]) is expert and playground.readout()["color_expert"] == choice
    # the expert's own noise (Gaussian or palette rgb), and the sampler settings it was measured with
    assert torch.equal(call["x_init"], sample_noise(3, 16, torch.Generator().manual_seed(0), expert.color_noise))
    for key in ("tempering", "time_power"):
        assert call["kwargs"].get(key) == steering.get(key)


def test_the_success_rate_button_runs_both_methods_on_the_same_seeds_at_equal_cost(axis_experts, monkeypatch):
    import poe_demo.widgets
    from poe_demo.equal_cost import euler_samples_at_equal_cost
    from poe_demo.evaluation import COLOR_EXPERTS

    playground = Playground(axis_experts, n_points=16, n_particles=2, n_steps=4, n_mcmc_steps=1)
    calls = []
    for name in ("steering_trial", "best_of_n_trial"):
        real = getattr(poe_demo.widgets, name)
        monkeypatch.setattr(
            poe_demo.widgets,
            name,
            lambda *a, _name=name, _real=real, **kw: calls.append((_name, a, kw)) or _real(*a, **kw),
        )
    playground.rates_button.click()
    rates = playground.last_rates
    annealed = [c for c in calls if c[0] == "steering_trial"]
    baseline = [c for c in calls if c[0] == "best_of_n_trial"]
    seeds = list(range(poe_demo.widgets.BATCH_SEEDS))
    assert [c[1][3] for c in annealed] == [c[1][3] for c in baseline] == seeds  # the same seeds
    for _, args, kwargs in annealed:  # the current settings, and the color expert's steering settings
        assert args[1:3] == ("red", 2) and kwargs["n_steps"] == 4 and kwargs["n_mcmc_steps"] == 1
        assert {k: kwargs[k] for k in COLOR_EXPERTS["mixture"][1]} == COLOR_EXPERTS["mixture"][1]
    assert rates["euler_samples"] == euler_samples_at_equal_cost(2, 1, 4)
    for name in ("annealed", "best_of_n"):
        p = rates["rates"][name]
        assert 0 <= p <= 1 and rates["standard_errors"][name] == pytest.approx((p * (1 - p) / len(seeds)) ** 0.5)
        assert f"{p:.2f}" in playground.rates.value
    assert playground.progress.value == playground.progress.max == 2 * len(seeds)
    playground.controls["color"].value = "yellow"
    assert playground.success_rates() is None and "need a reward color of red, green, blue" in playground.rates.value


def test_the_playground_opens_at_its_documented_defaults():
    from poe_demo.widgets import DEFAULTS

    playground = Playground(n_points=16, n_steps=2)
    for name, value in DEFAULTS.items():
        expected = 2 if name == "n_steps" else value
        assert playground.controls[name].value == expected, name


def test_the_progress_bar_moves_at_most_ten_times_a_second_and_ends_full(playground, monkeypatch):
    import poe_demo.widgets

    # a level every 30 ms: 90 ms is too soon for a move, 120 ms is not, so the bar moves every 4th level
    clock = iter([0.0] + [0.03 * k for k in range(1, 102)])  # the callback's start, then the levels
    monkeypatch.setattr(poe_demo.widgets.time, "perf_counter", lambda: next(clock))
    moves = []
    playground.progress.max = 101
    playground.progress.observe(lambda change: moves.append(change["new"]), names="value")
    update = playground._progress_callback(101)
    for k in range(1, 102):
        update(k, None)
    assert moves == list(range(4, 101, 4)) + [101]  # and the last level, whenever it comes


def test_picker_color_is_used_and_a_bad_value_shows_a_message(playground):
    playground.controls["picker"].value = "#00ff00"
    playground.controls["color"].value = "picker"
    assert playground.last_settings["target"] == (0.0, 1.0, 0.0)
    runs = playground.n_runs
    playground.controls["picker"].value = "hsl(120,50%,50%)"  # a valid HTML color the reward cannot read
    assert playground.n_runs == runs and "cannot read the picker color" in playground.status.value


def test_bad_strength_and_one_particle_show_messages(playground):
    playground.controls["color"].value = "red"
    runs = playground.n_runs
    playground.controls["strength"].value = 0.0
    assert playground.n_runs == runs and "strength must be a finite number > 0" in playground.status.value
    playground.controls["strength"].value = 10.0
    playground.controls["n_particles"].value = 1
    assert playground.last_result.particles.shape[0] == 1 and "one particle" in playground.status.value


def test_picker_to_rgb():
    assert picker_to_rgb("#ff0080") == (1.0, 0.0, 128 / 255)
    assert picker_to_rgb("purple") == pytest.approx((128 / 255, 0.0, 128 / 255))
    with pytest.raises(ValueError, match="cannot read the picker color"):
        picker_to_rgb("transparent")


def test_every_control_label_has_room_for_its_text():
    # ipywidgets cuts a label longer than its description_width ("reward co..."); about 7 px per
    # character at the default font size.
    from poe_demo.widgets import Playground

    for name, control in Playground().controls.items():
        width = control.style.description_width
        assert width.endswith("px") and int(width[:-2]) >= 7 * len(control.description), (name, width)


def test_a_stored_playground_reads_as_its_controls_not_as_a_widget_tree():
    # What a reader without a kernel sees: the text and HTML fallbacks beside the live widget view.
    from poe_demo.widgets import Playground

    playground = Playground(n_particles=2, n_steps=4)
    bundle = playground._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert not bundle["text/plain"].startswith("VBox")
    for control in playground.controls.values():
        assert f"{control.description} = {control.value}" in bundle["text/plain"]
        assert f"<td>{control.description}</td>" in bundle["text/html"]
    assert "radial error" in bundle["text/html"]  # the last run's readout line


def test_after_run_all_the_notebooks_playground_is_at_its_documented_defaults():
    # Run All on notebook 5, then ask the kernel for the displayed playground's controls.
    import json
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    from poe_demo.widgets import DEFAULTS

    path = Path(__file__).resolve().parents[1] / "notebooks" / "05_playground.ipynb"
    nb = nbformat.read(path, as_version=4)
    probe = "import json; print(json.dumps({name: c.value for name, c in playground.controls.items()}))"
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    controls = json.loads(nb.cells[-1].outputs[0]["text"])
    assert {name: controls[name] for name in DEFAULTS} == DEFAULTS
