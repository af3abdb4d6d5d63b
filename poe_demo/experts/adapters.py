"""Your own model as a generative expert: diffusion and flow models trained on other paths.

An expert here speaks our convention (:mod:`poe_demo.paths`): velocity and score on the linear
path x_t = (1 - t) x_0 + t eps, t = 1 the noise. A model trained on y = alpha x_0 + sigma eps
with its own timesteps is wrapped by matching the signal-to-noise ratio
(:mod:`poe_demo.conventions`): at our level t the model sees y = (alpha + sigma) x_t at the
timestep whose alpha / sigma is (1 - t) / t, its prediction becomes our velocity exactly, and the
score follows from the velocity by Tweedie's formula (exact for Gaussian noise).

Two schedules cover what diffusers trains:

- :class:`DiscreteSchedule`, variance-preserving at integer timesteps n = 0..N-1 with
  alpha_n = sqrt(abar_n) (DDPM, DDIM and kin). A t between two trained timesteps gets the
  fractional timestep interpolated linearly in log-SNR, lambda = log(abar / (1 - abar)), with the
  input at t's own noise level: exact at the trained timesteps, and between them as good as the
  model's time embedding is smooth (diffusers' UNets embed float timesteps).
- :class:`FlowSchedule`, rectified flow y = (1 - sigma) x_0 + sigma eps with timestep
  sigma * N: the same path as ours with sigma = t, continuous in t.

Outside the trained range (for DDPM's default betas t < 0.0099 or t > 0.9937, and the sampler
starts at t = 1) the model is evaluated at the nearest trained level, with the input rescaled to
it, and its velocity is carried over to t; the score is then computed at t itself (at t = 1 it is
-x, exactly). The error is of order the gap in t, where the velocity is smooth (near t = 1 the
posterior mean tends to the data mean; near t = 0 the velocity tends to its limit at the data).
``clamp=False`` raises instead.
"""

from __future__ import annotations

import bisect
import math
import weakref
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from ..conventions import PREDICTIONS, linear_time, velocity_from_prediction, vp_coefficients
from ..paths import score_from_velocity
from ..resources import peak_bytes_per_item
from ..validation import check_choice
from .base import JointExpert
from .power import Composable, base_of

__all__ = ["Schedule", "DiscreteSchedule", "FlowSchedule", "ModelExpert", "from_diffusers"]


@runtime_checkable
class Schedule(Protocol):
    """A model's training path y = alpha x_0 + sigma eps, as :class:`ModelExpert` reads it."""

    t_range: tuple[float, float]  # our t for which the model was trained, (low, high)

    def level(self, t: float) -> tuple[float, float, float]:
        """(timestep, alpha, sigma) for our t inside ``t_range``: same SNR, (1 - t) / t = alpha / sigma."""
        ...

    def end(self, t: float) -> tuple[float, float, float]:
        """(timestep, alpha, sigma) of the trained level nearest to a t outside ``t_range`` (the clamp)."""
        ...


class DiscreteSchedule:
    """Variance-preserving timesteps n = 0..N-1 with cumulative alpha products ``alphas_cumprod: [N]``."""

    def __init__(self, alphas_cumprod):
        abar = torch.as_tensor(alphas_cumprod, dtype=torch.float64).flatten()
        if abar.numel() < 2 or not bool(((abar > 0) & (abar < 1)).all()) or not bool((abar[1:] < abar[:-1]).all()):
            raise ValueError(
                "alphas_cumprod must hold at least 2 values strictly inside (0, 1), strictly decreasing with the "
                f"timestep; got {abar.numel()} values from {float(abar[0]):.4g} to {float(abar[-1]):.4g}"
            )
        # log-SNR per timestep, increasing in the list below so bisect can search it
        self._neg_log_snr = (-(abar.log() - (-abar).log1p())).tolist()
        self.alphas_cumprod = abar
        a, s = abar.sqrt(), (1 - abar).sqrt()
        self.t_range = (linear_time(float(a[0]), float(s[0])), linear_time(float(a[-1]), float(s[-1])))

    def __repr__(self) -> str:
        return f"DiscreteSchedule(N={len(self.alphas_cumprod)}, t_range=({self.t_range[0]:.4g}, {self.t_range[1]:.4g}))"

    def level(self, t: float) -> tuple[float, float, float]:
        """(timestep, alpha, sigma) for our t inside ``t_range``: the fractional timestep by linear
        interpolation in log-SNR, (alpha, sigma) exactly at t's SNR (:func:`vp_coefficients`)."""
        target = -2 * (math.log1p(-t) - math.log(t))  # -log SNR at t: SNR = ((1 - t) / t)^2
        table = self._neg_log_snr
        n = min(max(bisect.bisect_left(table, target), 1), len(table) - 1)
        frac = (target - table[n - 1]) / (table[n] - table[n - 1])
        return n - 1 + frac, *vp_coefficients(t)

    def end(self, t: float) -> tuple[float, float, float]:
        """(timestep, alpha, sigma) of the trained level nearest to t, for the clamp."""
        n = 0 if t < self.t_range[0] else len(self.alphas_cumprod) - 1
        abar = float(self.alphas_cumprod[n])
        return float(n), math.sqrt(abar), math.sqrt(1 - abar)


class FlowSchedule:
    """Rectified flow y = (1 - sigma) x_0 + sigma eps at timestep sigma * num_train_timesteps: sigma = t."""

    def __init__(self, num_train_timesteps: int = 1000):
        if not num_train_timesteps > 0:
            raise ValueError(f"num_train_timesteps must be > 0, got {num_train_timesteps!r}")
        self.num_train_timesteps = num_train_timesteps
        self.t_range = (0.0, 1.0)

    def __repr__(self) -> str:
        return f"FlowSchedule(num_train_timesteps={self.num_train_timesteps})"

    def level(self, t: float) -> tuple[float, float, float]:
        return t * self.num_train_timesteps, 1 - t, t

    def end(self, t: float) -> tuple[float, float, float]:
        return self.level(min(max(t, 0.0), 1.0))


class ModelExpert(JointExpert, Composable):
    """A generative expert from ``model(y, timestep)`` trained on another path.

    ``model`` returns a tensor shaped like y or an object with ``.sample`` (diffusers' models);
    ``prediction`` is what that output is (one of ``conventions.PREDICTIONS``); ``schedule`` a
    :class:`Schedule` such as :class:`DiscreteSchedule` or :class:`FlowSchedule`. One model call per level gives both
    velocity and score (``velocity_and_score``). The input is cast to the model's dtype and the
    output back to x's, so float64 states work with a float32 model.
    """

    def __init__(self, model, schedule, prediction: str, clamp: bool = True):
        if not callable(model):
            raise TypeError(f"model must be callable as model(x, timestep), got {type(model).__name__}")
        if not isinstance(schedule, Schedule):
            raise TypeError(
                f"schedule must offer t_range, level(t) and end(t) (a DiscreteSchedule or FlowSchedule), "
                f"got {type(schedule).__name__}"
            )
        self.model, self.schedule, self.clamp = model, schedule, clamp
        self.prediction = check_choice("prediction", prediction, PREDICTIONS)
        if prediction == "epsilon" and isinstance(schedule, FlowSchedule):
            raise ValueError("an epsilon prediction cannot give x_0 at t = 1 on a flow path; use prediction='flow'")

    def __repr__(self) -> str:
        return f"ModelExpert({type(self.model).__name__}, {self.schedule!r}, prediction={self.prediction!r})"

    def _level(self, t: float) -> tuple[float, float, float]:
        low, high = self.schedule.t_range
        if low <= t <= high:
            return self.schedule.level(t)
        if not self.clamp:
            raise ValueError(f"t={t:.6g} is outside the model's trained range [{low:.6g}, {high:.6g}] (clamp=False)")
        return self.schedule.end(t)

    @torch.no_grad()
    def velocity(self, x: Tensor, t: float) -> Tensor:
        """v(x, t) ``[L, ...]`` on our path: the model's prediction converted (conventions.velocity_from_prediction)."""
        timestep, alpha, sigma = self._level(t)
        y = (alpha + sigma) * x
        param = next(iter(self.model.parameters()), None) if isinstance(self.model, torch.nn.Module) else None
        dtype = x.dtype if param is None else param.dtype
        steps = torch.full((x.shape[0],), timestep, dtype=dtype, device=x.device)
        out = self.model(y.to(dtype), steps)
        out = getattr(out, "sample", out).to(x.dtype)
        if out.shape != x.shape:
            name = type(self.model).__name__
            raise ValueError(f"{name} returned shape {tuple(out.shape)} for input shape {tuple(x.shape)}")
        return velocity_from_prediction(y, out, alpha, sigma, self.prediction)

    def velocity_and_score(self, x: Tensor, t: float) -> tuple[Tensor, Tensor]:
        """(v, s) ``[L, ...]``: the score from the velocity (paths.score_from_velocity), t in (0, 1]."""
        v = self.velocity(x, t)
        return v, score_from_velocity(x, v, t)

    def bytes_per_item(self, x: Tensor) -> float:
        """Peak memory of one call per item of a batch shaped like ``x [L, ...]``, measured once per
        item shape with a probe (:func:`~poe_demo.resources.peak_bytes_per_item`); 0 where unmeasurable."""
        try:
            measured = _PROBED.setdefault(self.model, {})  # per network: its experts share the measurement
        except TypeError:  # a model that cannot be weakly referenced: measured at every run
            measured = {}
        key = (tuple(x.shape[1:]), x.dtype, x.device)
        if key not in measured:
            probe = lambda n: self.velocity(torch.zeros(n, *x.shape[1:], dtype=x.dtype, device=x.device), 0.5)  # noqa: E731
            on_cpu = x.device.type == "cpu"  # the probe reads this process's resident memory
            measured[key] = (peak_bytes_per_item(probe) or 0.0) if on_cpu else 0.0
        return measured[key]


_PROBED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {item shape: bytes per item}


def network_memory(experts, x: Tensor, n_particles: int | None = None) -> int:
    """Bytes the largest network call of a sampler run on ``x [L, ...]`` needs beyond the states:
    L (or ``n_particles``, to ask before allocating x) times the most any of ``experts`` needs per
    item (their calls come one at a time)."""
    per_item = [base_of(e).bytes_per_item(x) for e in experts if hasattr(base_of(e), "bytes_per_item")]
    return int(max(per_item, default=0.0) * (x.shape[0] if n_particles is None else n_particles))


def from_diffusers(model, scheduler, clamp: bool = True) -> ModelExpert:
    """Wrap a diffusers model (``UNet2DModel``, a transformer, ...) and its training scheduler as an expert.

    ``FlowMatchEulerDiscreteScheduler`` (and other flow-matching schedulers): the model predicts
    eps - x_0 at timestep sigma * num_train_timesteps, sigma = t. Schedulers with
    ``alphas_cumprod`` (``DDPMScheduler``, ``DDIMScheduler``, ...): variance-preserving, with the
    scheduler's ``prediction_type`` ("epsilon", "v_prediction" or "sample"). Only the
    scheduler's training configuration is read; its inference timesteps do not matter, since
    our sampler sets its own levels. See the module docstring for t between and outside the
    trained timesteps.
    """
    config = getattr(scheduler, "config", None)
    if config is None:
        raise TypeError(f"scheduler must be a diffusers scheduler with a .config, got {type(scheduler).__name__}")
    if "FlowMatch" in type(scheduler).__name__:
        return ModelExpert(model, FlowSchedule(config.num_train_timesteps), "flow", clamp)
    if getattr(scheduler, "alphas_cumprod", None) is None:
        raise TypeError(
            f"{type(scheduler).__name__} is neither a flow-matching scheduler nor one with alphas_cumprod; "
            "wrap the model with ModelExpert and a schedule instead"
        )
    prediction = config.get("prediction_type", "epsilon")
    if prediction not in ("epsilon", "v_prediction", "sample"):
        raise ValueError(
            f"{type(scheduler).__name__}.config.prediction_type={prediction!r} is not supported; "
            "use 'epsilon', 'v_prediction' or 'sample'"
        )
    return ModelExpert(model, DiscreteSchedule(scheduler.alphas_cumprod), prediction, clamp)
