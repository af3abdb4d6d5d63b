"""The playground: ipywidgets controls around the annealed sampler on the sphere experts.

Every change of a control re-runs the sampler (sliders report on release, so dragging does not
queue runs) and redraws one plotly figure in place: the best particle in 3-D and the ESS over the
levels. The color expert is a control too, each with the sampler settings it was measured with
(:data:`~poe_demo.evaluation.COLOR_EXPERTS`), and a button measures the success rate of the
current settings against best-of-N at equal cost over a batch of seeds, as notebook 4 does. Bad
input, such as a color the picker cannot parse, shows a message instead of a traceback.
"""

from __future__ import annotations

import html
import time

import ipywidgets as w
import torch
from matplotlib.colors import to_rgb

from .data import PALETTE, sample_noise
from .equal_cost import compare_on_seeds, euler_samples_at_equal_cost
from .evaluation import (
    CHANNELS,
    COLOR_EXPERTS,
    best_of_n_trial,
    color_noise_of,
    sphere_experts,
    steering_trial,
)
from .experts import load_axis_experts
from .metrics import color_distance, color_spread, mean_color, radial_error
from .plotting import cube_scene, scatter3d_trace
from .rewards import ColorReward
from .runtime import torch_threads
from .samplers import WEIGHTINGS, annealed_importance_sampling
from .smc import RESAMPLERS
from .validation import check_count

__all__ = ["Playground", "picker_to_rgb"]

DEFAULTS = dict(
    color_expert="mixture",
    n_particles=8,
    color="red",
    strength=10.0,
    n_steps=32,
    n_mcmc_steps=2,
    step_size=0.5,
    resampling="systematic",
    weighting="incremental",
    seed=0,
)
PROGRESS_INTERVAL = 0.1  # seconds between progress bar moves
BATCH_SEEDS, BATCH_POINTS = 24, 64  # the success-rate button: trials per method, points per cloud


def picker_to_rgb(value: str) -> tuple[float, float, float]:
    """A color picker's value ('#rrggbb', '#rgb' or a color name) -> RGB in [0, 1]."""
    try:
        return tuple(float(c) for c in to_rgb(value))
    except ValueError:
        raise ValueError(f"cannot read the picker color {value!r}: use #rrggbb, #rgb or a color name") from None


class Playground:
    """Build with ``Playground()``, show with ``display(playground)``; ``run()`` samples with the current controls.

    ``axis_experts``: the x, y, z experts (the shipped ones by default), composed with each color
    expert of :data:`~poe_demo.evaluation.COLOR_EXPERTS`. ``threads``: torch threads for the runs
    (restored after each). By default one fewer than torch has, leaving a core to the browser,
    which draws while the kernel samples. Keyword arguments set the controls' starting values
    (:data:`DEFAULTS`).
    """

    def __init__(self, axis_experts: dict | None = None, n_points: int = 256, threads: int | None = None, **defaults):
        axis = load_axis_experts() if axis_experts is None else axis_experts
        self.compositions = {name: sphere_experts(axis, color=make()) for name, (make, _) in COLOR_EXPERTS.items()}
        self.n_points = n_points
        self.threads = check_count("threads", max(1, torch.get_num_threads() - 1) if threads is None else threads, 1)
        d = {**DEFAULTS, **defaults}
        # one label width for every control, wide enough that no label is cut ("reward strength")
        label = dict(style={"description_width": "120px"})
        slider = dict(continuous_update=False, **label)
        self.controls = {
            "color_expert": w.Dropdown(
                options=[("mixture: chosen along the path", "mixture"), ("mean: fixed by the noise", "mean")],
                value=d["color_expert"],
                description="color expert",
                **label,
            ),
            "n_particles": w.IntSlider(d["n_particles"], 1, 64, description="particles L", **slider),
            "color": w.Dropdown(
                options=list(PALETTE) + ["picker"], value=d["color"], description="reward color", **label
            ),
            "picker": w.ColorPicker(value="#ff8000", description="picker color", concise=False, **label),
            "strength": w.FloatText(d["strength"], description="reward strength", step=1.0, **label),
            "n_steps": w.IntSlider(d["n_steps"], 2, 256, description="levels T", **slider),
            "n_mcmc_steps": w.IntSlider(d["n_mcmc_steps"], 0, 10, description="MCMC steps K", **slider),
            "step_size": w.FloatSlider(
                d["step_size"],
                min=0.05,
                max=1.95,
                step=0.05,
                description="Langevin step",
                tooltip="in curvature units: h = step / (largest curvature x d^(1/3)); stable below 2",
                **slider,
            ),
            "resampling": w.Dropdown(
                options=sorted(RESAMPLERS), value=d["resampling"], description="resampling", **label
            ),
            "weighting": w.Dropdown(options=list(WEIGHTINGS), value=d["weighting"], description="weighting", **label),
            "seed": w.IntText(d["seed"], description="seed", **label),
        }
        self.progress = w.IntProgress(0, 0, 1, description="sampling", **label)
        self.status = w.HTML()
        self.rates_button = w.Button(
            description=f"success rate, {BATCH_SEEDS} seeds",
            tooltip="the annealed sampler and best-of-N at equal cost, each over a batch of seeded runs",
            layout=w.Layout(width="200px"),
        )
        self.rates_button.on_click(lambda _: self.success_rates())
        self.rates = w.HTML()
        self.plot = _playground_figure()
        self.n_runs, self.last_settings, self.last_result, self.last_rates = 0, None, None, None
        for control in self.controls.values():
            control.observe(lambda change: self.run(), names="value")
        controls = list(self.controls.values())
        self.widget = w.VBox(
            [
                w.HBox([w.VBox(controls[:6]), w.VBox(controls[6:])]),
                w.HBox([self.progress, self.status]),
                w.HBox([self.rates_button, self.rates]),
                self.plot,
            ]
        )
        self.run()

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """The live widget, plus fallbacks for a reader without a kernel (a stored notebook, a rendered
        page): a list of the controls' values instead of ``VBox(children=...``."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        values = [(c.description, c.value) for c in self.controls.values()]
        bundle["text/plain"] = "Playground (run the notebook in Jupyter to use the controls): " + ", ".join(
            f"{name} = {value}" for name, value in values
        )
        rows = "".join(f"<tr><td>{name}</td><td>{html.escape(str(value))}</td></tr>" for name, value in values)
        bundle["text/html"] = (
            '<div class="playground-static"><p><b>Playground controls</b> as last run (a static copy: open this '
            "notebook in Jupyter, e.g. <code>make lab</code>, and run it to use them live).</p>"
            f"<table>{rows}</table><p>{self.status.value}</p><p>{self.rates.value}</p></div>"
        )
        return bundle

    def settings(self) -> dict:
        """The current control values, with the picker resolved to an RGB triple and the color expert's
        sampler settings (``steering``)."""
        s = {name: control.value for name, control in self.controls.items()}
        s["target"] = picker_to_rgb(s["picker"]) if s["color"] == "picker" else s["color"]
        s["steering"] = COLOR_EXPERTS[s["color_expert"]][1]
        return s

    def _message(self, text: str, kind: str = "error") -> None:
        color = {"error": "#b00020", "note": "#8a6d00", "ok": "#2e7d32"}[kind]
        self.status.value = f'<span style="color:{color}">{text}</span>'

    def run(self):
        """Sample with the current settings and redraw; returns the result, or None after showing an error."""
        try:
            s = self.settings()
            reward = ColorReward(s["target"], s["strength"])
        except (ValueError, TypeError) as exc:
            self._message(str(exc))
            return None
        self.progress.description, self.progress.max, self.progress.value = "sampling", s["n_steps"], 0
        start = time.perf_counter()
        g = torch.Generator().manual_seed(int(s["seed"]))
        generative = self.compositions[s["color_expert"]]
        try:
            with torch_threads(self.threads):
                result = annealed_importance_sampling(
                    generative,
                    reward,
                    sample_noise(s["n_particles"], self.n_points, g, color_noise_of(generative)),
                    s["n_steps"],
                    s["n_mcmc_steps"],
                    step_size=s["step_size"],
                    resampling=s["resampling"],
                    weighting=s["weighting"],
                    generator=g,
                    callback=self._progress_callback(s["n_steps"]),
                    **s["steering"],
                )
        except (ValueError, TypeError, FloatingPointError) as exc:
            self._message(str(exc))
            return None
        seconds = time.perf_counter() - start
        self.n_runs, self.last_settings, self.last_result = self.n_runs + 1, s, result
        self._draw(result, s)
        m = self.readout()
        note = (
            "one particle: nothing to select or resample, so the reward cannot steer. " if s["n_particles"] == 1 else ""
        )
        self._message(
            f"{note}best particle: radial error {m['radial_error']:.4f}, mean color {m['mean_color']}, "
            f"distance to target {m['color_distance']:.3f}; Langevin acceptance {m['acceptance']:.2f}; "
            f"resampled {result.n_resamples}x; {seconds:.2f} s",
            "note" if note else "ok",
        )
        return result

    def success_rates(self, n_seeds: int = BATCH_SEEDS) -> dict | None:
        """Steering success at the current settings: the annealed sampler against best-of-N at equal cost.

        Each of ``n_seeds`` seeded trials runs the sampler with the current L, T, K, weighting,
        reward strength and color expert (with its steering settings), on clouds of 64 points, and
        succeeds when the returned cloud's target channel leads by 0.1
        (:func:`~poe_demo.evaluation.steering_trial`); best-of-N gets the same seeds and at least
        the same expert evaluations (:func:`~poe_demo.evaluation.best_of_n_trial`), the two taking
        turns (:func:`~poe_demo.equal_cost.compare_on_seeds`). Shows and returns both rates with
        their standard errors; the target must be red, green or blue.
        """
        s = self.settings()
        if s["target"] not in CHANNELS:
            self.rates.value = f"success rates need a reward color of {', '.join(CHANNELS)}, not {s['target']!r}"
            return None
        generative, color = self.compositions[s["color_expert"]], s["target"]
        common = dict(n_points=BATCH_POINTS, n_steps=s["n_steps"], n_mcmc_steps=s["n_mcmc_steps"])
        strength = s["strength"]
        trials = {
            "annealed": lambda seed: steering_trial(
                generative, color, s["n_particles"], seed, strength=strength, weighting=s["weighting"],
                **s["steering"], **common,
            ),
            "best_of_n": lambda seed: best_of_n_trial(
                generative, color, s["n_particles"], seed, strength=strength, **common
            ),
        }  # fmt: skip
        self.progress.description, self.progress.max, self.progress.value = "success rate", 2 * n_seeds, 0

        def advance():
            self.progress.value += 1

        with torch_threads(self.threads):
            sides = compare_on_seeds(trials, range(n_seeds), on_trial=advance)
        n = euler_samples_at_equal_cost(s["n_particles"], s["n_mcmc_steps"], s["n_steps"])
        rates = {name: side.rates["success"].rate for name, side in sides.items()}
        se = {name: side.rates["success"].se for name, side in sides.items()}
        self.last_rates = {"seeds": n_seeds, "euler_samples": n, "rates": rates, "standard_errors": se}
        self.rates.value = (
            f"{s['color_expert']} color expert, target {color}, {n_seeds} seeds ({BATCH_POINTS} points per cloud): "
            f"annealed sampler <b>{rates['annealed']:.2f}</b> ± {se['annealed']:.2f}, best-of-N with N = {n} "
            f"Euler samples at equal cost <b>{rates['best_of_n']:.2f}</b> ± {se['best_of_n']:.2f}"
        )
        return self.last_rates

    def _progress_callback(self, n_steps: int):
        """The sampler's ``callback``: moves the bar at most ten times a second, and at the last level.

        Each move is a message that the browser draws, on the same cores the run needs."""
        last = [time.perf_counter()]

        def update(k: int, state) -> None:
            now = time.perf_counter()
            if k == n_steps or now - last[0] >= PROGRESS_INTERVAL:
                self.progress.value, last[0] = k, now

        return update

    def readout(self) -> dict:
        """Rounded metrics of the last run's best particle (stable for printing)."""
        best = self.last_result.best[None]
        return {
            "color_expert": self.last_settings["color_expert"],
            "radial_error": round(float(radial_error(best)), 4),
            "color_spread": round(float(color_spread(best)), 4),
            "mean_color": [round(c, 2) for c in mean_color(best)[0].tolist()],
            "color_distance": round(float(color_distance(best, ColorReward(self.last_settings["target"]).target)), 3),
            "acceptance": round(float(self.last_result.acceptance.mean()), 2)
            if len(self.last_result.acceptance)
            else 1.0,
            "n_resamples": self.last_result.n_resamples,
            "min_ess": round(float(self.last_result.ess.min()), 2),
        }

    @property
    def figure(self):
        """The last run's figure as a plain plotly figure (a copy that stores a picture too, so it shows
        without a kernel); ``self.plot`` is the live one."""
        from .snapshot import SnapshotFigure

        # without the widget's random trace ids, so a re-run notebook stores the same figure
        return SnapshotFigure(self.plot).update_traces(uid=None)

    def _draw(self, result, s: dict) -> None:
        """Put the run into the figure's traces: one update message, drawn into the same WebGL scene."""
        best = scatter3d_trace(result.best)
        cloud, ess = self.plot.data
        with self.plot.batch_update():
            cloud.x, cloud.y, cloud.z, cloud.marker.color = best.x, best.y, best.z, best.marker.color
            ess.x, ess.y = result.times.numpy().round(4), result.ess.numpy().round(2)
            self.plot.layout.yaxis.range = [0, s["n_particles"] * 1.05]


def _playground_figure():
    """The playground's figure, built once: the best particle in 3-D beside the ESS over the levels.

    A run updates its traces in place rather than showing a new figure. A new figure makes plotly
    build a new WebGL scene, measured at 1.3 to 2.2 s of the browser's time per run in headless
    Chromium, against under 0.1 s for an update, which also keeps the camera where the reader
    turned it.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        figure=go.FigureWidget(),
        rows=1,
        cols=2,
        column_widths=[0.55, 0.45],
        specs=[[{"type": "scene"}, {"type": "xy"}]],
        subplot_titles=("best particle", "effective sample size"),
    )
    fig.add_trace(go.Scatter3d(mode="markers", marker=dict(size=3), hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(mode="lines"), row=1, col=2)
    fig.update_layout(height=380, width=820, showlegend=False, margin=dict(l=0, r=10, t=30, b=0), scene=cube_scene())
    fig.update_xaxes(title="t (noise -> data)", autorange="reversed", row=1, col=2)
    fig.update_yaxes(title="ESS", row=1, col=2)
    return fig
