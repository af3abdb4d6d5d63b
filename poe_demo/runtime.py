"""CPU settings that make the samplers fast. Call :func:`configure_cpu` once per process.

Threads: torch's threads meet at a barrier after every operation, so when another process takes
one of two cores, a thread that the operating system pauses holds up the other: notebook 6 once
took 7 times as long, not twice. :func:`configure_cpu` therefore counts the cores that are idle
right now and uses that many threads (at least one).

The samplers allocate and free tensors of a few MB at every step. glibc hands blocks that large
back to the operating system on free, so each new tensor starts on fresh pages and pays a page
fault for every 4 KB it touches: measured, that doubled the time of the annealed sampler
(L = 32, N = 512, T = 128, K = 3: 4.8 s -> 2.4 s on 2 cores). Raising glibc's mmap and trim
thresholds keeps freed memory in the process for the next tensor. It changes the whole
process, so the library never does it on import: the CLI, the notebooks and the benchmarks call
this, and so can you.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import time
from contextlib import contextmanager
from typing import Iterator

import torch

from .validation import check_count

__all__ = ["configure_cpu", "free_cores", "freed_memory_returned", "torch_threads"]

_DEFAULT_THREADS = torch.get_num_threads()  # torch's own choice: the cores it may use

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
_KEEP = (64 << 20, 256 << 20)  # (mmap, trim) thresholds that keep freed memory: configure_cpu
_RETURN = (64 << 10, 128 << 10)  # thresholds that hand freed blocks back at once
_GLIBC_DEFAULTS = (128 << 10, 128 << 10)
_thresholds = _GLIBC_DEFAULTS


def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if getattr(libc, "mallopt", None) is not None else None  # glibc (Linux) only


def _set_thresholds(mmap: int, trim: int) -> bool:
    global _thresholds
    libc = _libc()
    if libc is None or not (libc.mallopt(_M_MMAP_THRESHOLD, mmap) and libc.mallopt(_M_TRIM_THRESHOLD, trim)):
        return False
    _thresholds = (mmap, trim)
    return True


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
    tuned = keep_freed_memory and _set_thresholds(*_KEEP)
    return {"torch_threads": torch.get_num_threads(), "free_cores": idle, "allocator_tuned": tuned}


@contextmanager
def freed_memory_returned() -> Iterator[bool]:
    """Run the block with glibc handing freed blocks of 64 KB and more back to the system, so that
    the resident memory follows what is in use (a probe of a network's peak memory needs that),
    then restore the thresholds in force. Yields False where the allocator cannot be set."""
    before = _thresholds
    libc = _libc()
    if libc is None or not _set_thresholds(*_RETURN):
        yield False
        return
    libc.malloc_trim(0)
    try:
        yield True
    finally:
        _set_thresholds(*before)


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
