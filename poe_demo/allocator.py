"""glibc's allocator thresholds: whether freed memory stays in the process or goes back at once.

The samplers allocate and free tensors of a few MB at every step. glibc hands blocks that large
back to the operating system on free, so each new tensor starts on fresh pages and pays a page
fault for every 4 KB it touches: measured, that doubled the time of the annealed sampler
(L = 32, N = 512, T = 128, K = 3: 4.8 s -> 2.4 s on 2 cores). :func:`retain_freed_memory` raises
glibc's mmap and trim thresholds so that freed memory stays for the next tensor
(:func:`~poe_demo.runtime.configure_cpu` calls it). The price is memory: freed blocks that do not
fit the next request stay resident beside it, which the memory estimates count
(:func:`keeps_freed_memory`). A probe of one call's memory needs the opposite,
:func:`freed_memory_returned`. Kept free of torch, so that the CLI can check a request first.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from contextlib import contextmanager
from typing import Iterator

__all__ = ["retain_freed_memory", "keeps_freed_memory", "freed_memory_returned"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
_KEEP = (64 << 20, 256 << 20)  # (mmap, trim) thresholds that keep freed memory
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


def retain_freed_memory() -> bool:
    """Have glibc keep freed blocks (up to 64 MB each, 256 MB at the heap's top) for reuse.
    Changes the whole process; returns False where the allocator cannot be set (not glibc)."""
    return _set_thresholds(*_KEEP)


def keeps_freed_memory() -> bool:
    """Whether :func:`retain_freed_memory` is in force in this process."""
    return _thresholds == _KEEP


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
