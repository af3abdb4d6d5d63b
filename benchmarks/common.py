"""Shared helpers for the benchmark scripts: machine facts, timing, results on disk."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def median_seconds(fn, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of fn() over ``repeats`` runs after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_json(name: str, payload: dict, directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    partial = path.with_name(f".{name}.partial")  # renamed into place: an interrupted run leaves the old file
    partial.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    partial.replace(path)
    return path
