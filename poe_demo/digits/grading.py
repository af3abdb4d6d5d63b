"""Grading sampled digits against real ones with models the samplers never optimized.

A composition such as AND asks for a set of classes, so a grade needs more than "is it the right
class": how the judge spreads the samples over the classes, how sure it is, whether the strokes
have the ink of real digits, whether the samples look like real images of those classes to the
judge's features (a Fréchet distance, as FID does with Inception features), and whether they
copy training images (the distance to the nearest one). Real held-out images of the same
classes, graded the same way, are the reference for every number.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .data import subset, to_model, to_pixels
from .steering import verdicts

__all__ = [
    "GRADE_HEADER",
    "Grade",
    "in_set",
    "ink",
    "judge_features",
    "frechet_distance",
    "nearest_distance",
    "grade",
    "real_images",
]


def ink(images: Tensor) -> Tensor:
    """The mean pixel of each image ``[n, 1, 14, 14]`` in [-1, 1], as [0, 1] ink: ``[n]`` (training digits: 0.13)."""
    return to_pixels(images).flatten(1).mean(1)


def in_set(judge: torch.nn.Module, images: Tensor, asked: tuple[int, ...]) -> float:
    """The share of images ``[n, 1, 14, 14]`` that ``judge`` puts in one of the classes ``asked``."""
    label, _ = verdicts(judge, images)
    return float(torch.isin(label, torch.tensor(asked, device=label.device)).double().mean())


@torch.no_grad()
def judge_features(judge: torch.nn.Module, images: Tensor) -> Tensor:
    """The judge's penultimate activations ``[n, hidden]`` for images ``[n, 1, 14, 14]`` in [-1, 1]."""
    return judge.net[:-1](images.clamp(-1, 1))


def frechet_distance(a: Tensor, b: Tensor) -> float:
    """|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2) between Gaussians fitted to features
    ``a: [n, d]`` and ``b: [m, d]``: the Fréchet (2-Wasserstein) distance of FID, on any features."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp_min(0).sqrt().sum()
    return float(((mu_a - mu_b) ** 2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * cross)


def nearest_distance(images: Tensor, reference: Tensor) -> Tensor:
    """The L2 distance from each image ``[n, 1, 14, 14]`` to its nearest in ``reference [m, 1, 14, 14]``: ``[n]``."""
    return torch.cdist(images.flatten(1).float(), reference.flatten(1).float()).min(1).values


def real_images(part: str, digits: tuple[int, ...]) -> Tensor:
    """Real images of ``digits`` from one part of the split, ``[n, 1, 14, 14]`` in [-1, 1]."""
    return to_model(subset(part, digits)[0])[:, None]


GRADE_HEADER = "judge's classes 0-9 (%)           in set        conf.  ink    Fréchet  nearest"


@dataclass(frozen=True)
class Grade:
    """What the judge and the data say of a set of images asked to show ``asked``."""

    classes: list[float]  # [10] the judge's share of the images in each class
    in_set: float  # the share the judge puts in ``asked``
    confidence: float  # the judge's mean probability for the label it gives
    ink: float  # mean [0, 1] ink
    frechet: float  # on the judge's features, against held-out real images of ``asked``
    nearest_train: float  # mean L2 distance to the nearest training image

    def line(self, se: float | None = None) -> str:
        """One row under :data:`GRADE_HEADER`; ``se`` the in-set share's standard error, where known."""
        classes = " ".join(f"{round(100 * c):2d}" for c in self.classes)
        share = f"{self.in_set:.2f}" + ("      " if se is None else f" ± {se:.2f}")
        scores = f"{self.confidence:.2f}   {self.ink:.3f}  {self.frechet:6.1f}   {self.nearest_train:.2f}"
        return f"{classes}   {share}   {scores}"


def grade(judge: torch.nn.Module, images: Tensor, asked: tuple[int, ...], against: str = "test") -> Grade:
    """Grade images ``[n, 1, 14, 14]`` (equally weighted: resample weighted ones first) asked to show ``asked``
    by ``judge`` (the shipped ``load_digit_models()["judge"]``); the Fréchet distance is to real images of
    ``asked`` from the part ``against`` of the split (grading the held-out images themselves, pass "train")."""
    label, confidence = verdicts(judge, images)
    real = real_images(against, asked)
    return Grade(
        classes=(torch.bincount(label, minlength=10).double() / len(label)).tolist(),
        in_set=in_set(judge, images, asked),
        confidence=float(confidence.mean()),
        ink=float(ink(images).mean()),
        frechet=frechet_distance(judge_features(judge, images), judge_features(judge, real)),
        nearest_train=float(nearest_distance(images, real_images("train", tuple(range(10)))).mean()),
    )
