"""Discriminative experts: a log-reward per particle, never differentiated by the samplers."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from .data import RGB, as_rgb
from .validation import check_cloud

__all__ = ["ClassifierReward", "ColorReward", "GaussianReward"]


class ColorReward:
    """log r(x) = -strength * mean_i |c_i - target|^2 for a cloud ``[L, N, 6]``: highest for a target-colored cloud.

    ``target`` is a palette name ('red', 'green', ...) or an RGB triple in [0, 1]. Evaluated on
    x_hat, where the color expert paints every point in the cloud's mean color m, this is
    -strength |m - target|^2.
    """

    def __init__(self, target: str | Sequence[float] | Tensor, strength: float = 10.0):
        if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 < strength < math.inf:
            raise ValueError(f"strength must be a finite number > 0, got {strength!r}")
        self.target, self.strength = as_rgb(target), float(strength)

    def __repr__(self) -> str:
        return f"ColorReward(target={[round(c, 3) for c in self.target.tolist()]}, strength={self.strength})"

    def log_reward(self, x: Tensor) -> Tensor:
        check_cloud(x, "ColorReward")
        squared = (x[..., RGB] - self.target.to(x)).pow(2).sum(-1)  # [L, N]
        return -self.strength * squared.mean(-1)


class GaussianReward:
    """log r(x) = -sum_d (x_d - mean)^2 / (2 std^2): a Gaussian-shaped reward for known-answer tests.

    With ``coordinate`` = c it looks at one coordinate of states ``[L, d]`` only:
    log r(x) = -(x_c - mean)^2 / (2 std^2).
    """

    def __init__(self, mean: float, std: float, coordinate: int | None = None):
        if not math.isfinite(mean):
            raise ValueError(f"mean must be a finite number, got {mean!r}")
        if not 0 < std < math.inf:
            raise ValueError(f"std must be a finite number > 0, got {std!r}")
        if coordinate is not None and (isinstance(coordinate, bool) or not isinstance(coordinate, int)):
            raise TypeError(f"coordinate must be an int or None, got {coordinate!r}")
        self.mean, self.std, self.coordinate = float(mean), float(std), coordinate

    def __repr__(self) -> str:
        on = "" if self.coordinate is None else f", coordinate={self.coordinate}"
        return f"GaussianReward(mean={self.mean}, std={self.std}{on})"

    def log_reward(self, x: Tensor) -> Tensor:
        if self.coordinate is not None:
            if x.ndim != 2 or not 0 <= self.coordinate < x.shape[1]:
                raise ValueError(
                    f"GaussianReward(coordinate={self.coordinate}) needs states [L, d] with d > {self.coordinate}, "
                    f"got {tuple(x.shape)}"
                )
            x = x[:, self.coordinate : self.coordinate + 1]
        return -((x - self.mean) ** 2).flatten(1).sum(1) / (2 * self.std**2)


class ClassifierReward:
    """log r(x) = strength * log p(label | x) from a classifier's logits: a discriminative expert.

    ``classifier(x)`` returns logits ``[L, classes]`` for a batch ``[L, ...]``. ``label`` is one
    class index, or several: then the reward is the probability of any of them,
    log sum_{l in labels} p(l | x) (a concept such as "an even digit"). The sampler calls this on
    the predicted clean sample x_hat, so a classifier trained on clean data is the natural one.
    ``strength`` sharpens (> 1) or flattens (< 1) what the classifier says: the target is
    prod_i p_i(x) p(label | x)^strength. It runs under ``torch.no_grad()``: never differentiated.

    ``data_range = (low, high)``, the range of the classifier's training data, clamps x_hat into it
    first: early in sampling x_hat strays outside it, where a classifier has never been trained and
    its verdicts are arbitrary, and particles could win reward with pixels no image has.
    """

    def __init__(
        self,
        classifier,
        label: int | Sequence[int],
        strength: float = 1.0,
        data_range: tuple[float, float] | None = None,
    ):
        if not callable(classifier):
            raise TypeError(f"classifier must be callable on a batch, got {type(classifier).__name__}")
        labels = (label,) if isinstance(label, int) and not isinstance(label, bool) else tuple(label)
        if not labels or any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in labels):
            raise ValueError(f"label must be a class index >= 0 or a non-empty sequence of them, got {label!r}")
        if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 < strength < math.inf:
            raise ValueError(f"strength must be a finite number > 0, got {strength!r}")
        if data_range is not None and not (
            len(data_range) == 2 and all(math.isfinite(v) for v in data_range) and data_range[0] < data_range[1]
        ):
            raise ValueError(f"data_range must be (low, high) with finite low < high, got {data_range!r}")
        self.classifier, self.labels, self.strength = classifier, labels, float(strength)
        self.data_range = None if data_range is None else (float(data_range[0]), float(data_range[1]))

    def __repr__(self) -> str:
        label = self.labels[0] if len(self.labels) == 1 else list(self.labels)
        clamp = "" if self.data_range is None else f", data_range={self.data_range}"
        return f"ClassifierReward({type(self.classifier).__name__}, label={label}, strength={self.strength}{clamp})"

    def log_reward(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            logits = self.classifier(x if self.data_range is None else x.clamp(*self.data_range))
        if logits.ndim != 2 or logits.shape[0] != x.shape[0] or not max(self.labels) < logits.shape[1]:
            raise ValueError(
                f"{type(self.classifier).__name__} returned logits of shape {tuple(logits.shape)} for {x.shape[0]} "
                f"particles; ClassifierReward needs [L, classes] with more than {max(self.labels)} classes"
            )
        log_p = logits.log_softmax(dim=1)[:, list(self.labels)].logsumexp(dim=1)
        return self.strength * log_p.to(x.dtype)
