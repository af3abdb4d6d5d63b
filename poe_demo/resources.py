"""How much memory a sampling run needs, checked before anything is allocated.

A request far beyond the machine (a billion points per cloud, a billion levels) should end in
one clear sentence, not in the kernel killing the process minutes later. The estimate counts
what grows with the request: the particle states the sampler keeps alive at once (the state,
its velocity and score, Langevin proposals, the experts' hidden activations), the trajectory
when it is kept (one state per level), and per-level bookkeeping (the time grid and the
effective sample sizes, Python floats). An expert built on a network (``ModelExpert``) adds its
activations, which grow with the batch: :func:`peak_bytes_per_item` measures them with a probe.

The probe measures one call with freed memory handed back. In a run whose allocator keeps freed
memory (:func:`~poe_demo.runtime.configure_cpu`, for speed), the blocks a call freed stay
resident beside the next call's when they do not fit its requests, so the activations count
twice: ``tests/test_resources.py`` measures real runs both ways against the estimate (with kept
memory the resident peak came to 1.5-2.3 times the peak with freed memory handed back).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from .allocator import freed_memory_returned, keeps_freed_memory

__all__ = [
    "WORKING_STATES",
    "available_memory",
    "sampler_memory",
    "peak_bytes_per_item",
    "check_memory",
    "format_bytes",
]

# Peak memory of one annealed run in units of one state's size: measured at L = 32 and
# N = 65,536 with the shipped experts (K = 3), where the experts' hidden activations (32 wide, per
# point, per axis network) dominate. Rounded up.
WORKING_STATES = 48
_PER_LEVEL_BYTES = 128  # time grid (float64 tensor and Python list), ESS and acceptance lists


def available_memory() -> int | None:
    """Bytes the system can give this process without swapping (Linux: MemAvailable); None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def sampler_memory(
    state_numel: int, n_steps: int, keep_trajectory: bool = False, element_size: int = 4, network_bytes: int = 0
) -> int:
    """Estimated peak bytes of a sampler run whose state has ``state_numel`` numbers ``[L, ...]``, plus
    ``network_bytes``: the activations of the largest network call (per item x items per call),
    counted twice where the allocator keeps freed memory (see the module docstring)."""
    state = state_numel * element_size
    levels = (n_steps + 1) * _PER_LEVEL_BYTES
    activations = network_bytes * (2 if keeps_freed_memory() else 1)
    return state * (WORKING_STATES + ((n_steps + 1) if keep_trajectory else 0)) + levels + activations


def _resident() -> tuple[int, int] | None:
    """(VmRSS, VmHWM) bytes of this process (Linux), or None."""
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f if line.startswith(("VmRSS", "VmHWM")))
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def _peak_during(run: Callable[[], object]) -> int | None:
    """Bytes by which this process's resident memory peaked above its level before ``run()`` (Linux:
    writing 5 to /proc/self/clear_refs resets the peak, VmHWM); None where that cannot be read."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    before = _resident()
    run()
    after = _resident()
    return None if before is None or after is None else max(0, after[1] - before[0])


def peak_bytes_per_item(run: Callable[[int], object], sizes: tuple[int, int] = (8, 40)) -> float | None:
    """Memory a network call needs per batch item, measured: ``run(n)`` makes one call on ``n`` items,
    at the two ``sizes``; the slope of the peaks. Fixed costs (weights, the allocator's arenas)
    cancel in the difference. Measured with the allocator returning freed memory (else the peak
    hides in memory kept from earlier calls). None where the peak cannot be measured (not glibc
    on Linux)."""
    small, large = sizes
    run(small)  # warm up: first-call allocations are not per item
    with freed_memory_returned() as returned:
        peaks = [_peak_during(lambda n=n: run(n)) for n in (small, large)] if returned else [None]
    if None in peaks:
        return None
    return max(0.0, (peaks[1] - peaks[0]) / (large - small))


def format_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1000
    raise AssertionError("unreachable")


def check_memory(needed: int, request: str) -> None:
    """Raise ValueError naming ``request`` if ``needed`` bytes exceed the memory available now."""
    limit = available_memory()
    if limit is not None and needed > limit:
        raise ValueError(
            f"{request} needs about {format_bytes(needed)} of memory, more than the {format_bytes(limit)} available"
        )
