"""CPU settings that make the samplers fast. Call :func:`configure_cpu` once per process.

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
from contextlib import contextmanager
from typing import Iterator

import torch

from .validation import check_count

__all__ = ["configure_cpu", "torch_threads"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h


def configure_cpu(threads: int | None = None, keep_freed_memory: bool = True) -> dict:
    """Set torch's thread count (if given) and glibc's allocator thresholds; returns what was set."""
    if threads is not None:
        torch.set_num_threads(check_count("threads", threads, 1))
    tuned = False
    if keep_freed_memory:
        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name) if name else None
            mallopt = getattr(libc, "mallopt", None)
        except OSError:
            mallopt = None
        if mallopt is not None:  # glibc (Linux); elsewhere the default allocator stays
            tuned = bool(mallopt(_M_MMAP_THRESHOLD, 64 << 20)) and bool(mallopt(_M_TRIM_THRESHOLD, 256 << 20))
    return {"torch_threads": torch.get_num_threads(), "allocator_tuned": tuned}


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
