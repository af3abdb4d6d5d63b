"""How much memory a sampling run needs, checked before anything is allocated.

A request far beyond the machine (a billion points per cloud, a billion levels) should end in
one clear sentence, not in the kernel killing the process minutes later. The estimate counts
what grows with the request: the particle states the sampler keeps alive at once (the state,
its velocity and score, Langevin proposals, the experts' hidden activations), the trajectory
when it is kept (one state per level), and per-level bookkeeping (the time grid and the
effective sample sizes, Python floats).
"""

from __future__ import annotations

import os

__all__ = ["WORKING_STATES", "available_memory", "sampler_memory", "check_memory", "format_bytes"]

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


def sampler_memory(state_numel: int, n_steps: int, keep_trajectory: bool = False, element_size: int = 4) -> int:
    """Estimated peak bytes of a sampler run whose state has ``state_numel`` numbers ``[L, ...]``."""
    state = state_numel * element_size
    return state * (WORKING_STATES + ((n_steps + 1) if keep_trajectory else 0)) + (n_steps + 1) * _PER_LEVEL_BYTES


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
