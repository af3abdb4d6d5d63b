"""The playground driven headlessly, as the notebook's reader would drive it with the mouse."""

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("plotly")

from poe_demo.widgets import Playground, picker_to_rgb  # noqa: E402


@pytest.fixture(scope="module")
def playground(axis_experts):
    from poe_demo.evaluation import sphere_experts

    return Playground(sphere_experts(axis_experts), n_points=64, n_steps=8, n_mcmc_steps=1)


def test_changing_controls_reruns_the_sampler_and_changes_the_figure(playground):
    runs, figure = playground.n_runs, playground.figure
    playground.controls["n_particles"].value = 5
    assert playground.n_runs == runs + 1 and playground.last_settings["n_particles"] == 5
    assert playground.last_result.particles.shape[0] == 5
    playground.controls["color"].value = "blue"
    assert playground.n_runs == runs + 2 and playground.last_settings["target"] == "blue"
    assert playground.figure is not figure
    assert playground.figure.data[0].marker.color != figure.data[0].marker.color  # the best cloud is repainted
    assert "best particle" in playground.status.value


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
