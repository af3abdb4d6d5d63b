"""CPU settings that make the samplers fast. Call :func:`configure_cpu` once per process.

Threads: torch's threads meet at a barrier after every operation, so when another process takes
one of two cores, a thread that the operating system pauses holds up the other: notebook 6 once
took 7 times as long, not twice. :func:`configure_cpu` therefore counts the cores that are idle
right now and uses that many threads (at least one).

Memory: :func:`configure_cpu` also has glibc keep freed memory in the process for the next
tensor (:mod:`poe_demo.allocator`), which halves the annealed sampler's time on 2 cores. It
changes the whole process, so the library never does it on import: the CLI, the notebooks and
the benchmarks call this, and so can you.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Iterator

import torch

from .allocator import retain_freed_memory
from .validation import check_count

__all__ = ["configure_cpu", "free_cores", "torch_threads"]

_DEFAULT_THREADS = torch.get_num_threads()  # torch's own choice: the cores it may use


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all cores together, from /proc/stat (Linux); None elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user .. steal


def free_cores(window: float = 0.25) -> float | None:
    """How many of this machine's cores were idle over the next ``window`` seconds; None if unknown."""
    before = _cpu_times()
    time.sleep(window)
    after = _cpu_times()
    if before is None or after is None or after[1] <= before[1]:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores * (after[0] - before[0]) / (after[1] - before[1])


def configure_cpu(threads: int | None = None, keep_freed_memory: bool = True) -> dict:
    """Set torch's thread count and glibc's allocator thresholds; returns what was set.

    ``threads=None`` uses the cores idle now (:func:`free_cores`), rounded, at least 1 and at most
    torch's default: on a quiet 2-core machine 2, beside one busy process 1."""
    idle = None
    if threads is None:
        idle = free_cores()
        threads = _DEFAULT_THREADS if idle is None else max(1, min(_DEFAULT_THREADS, round(idle)))
    torch.set_num_threads(check_count("threads", threads, 1))
    tuned = keep_freed_memory and retain_freed_memory()
    return {"torch_threads": torch.get_num_threads(), "free_cores": idle, "allocator_tuned": tuned}


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with torch using ``threads`` threads, then restore the previous count.

    For work that shares the machine with another busy process, such as the browser drawing a
    widget's figure: torch's threads meet at a barrier after every operation, so a thread the
    operating system has paused for the other process holds up all of them.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(check_count("threads", threads, 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)
