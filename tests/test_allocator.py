"""glibc's thresholds: freed memory kept for the next tensor, or handed back at once."""

import pytest

from poe_demo import allocator
from poe_demo.resources import _resident


@pytest.fixture
def restored_thresholds():
    before = allocator._thresholds
    yield
    allocator._set_thresholds(*before)


def _drop_on_freeing(n_bytes: int) -> int:
    """Resident bytes given up when an n_bytes block is freed. Measured against the resident size
    while the block is held, not before it was made: a process that already keeps freed memory
    (a test worker after other tests) may build the block on pages that are resident already."""
    block = bytearray(n_bytes)  # zero-filled: every page touched, so resident
    held = _resident()[0]
    del block
    return held - _resident()[0]


def test_freed_blocks_stay_resident_when_kept_and_leave_when_returned(restored_thresholds):
    if allocator._libc() is None or _resident() is None:
        pytest.skip("needs glibc and Linux's /proc")
    size = 32 << 20
    assert allocator.retain_freed_memory() and allocator.keeps_freed_memory()
    kept_drop = _drop_on_freeing(size)
    with allocator.freed_memory_returned() as returned:
        assert returned and not allocator.keeps_freed_memory()
        returned_drop = _drop_on_freeing(size)
    assert allocator.keeps_freed_memory()  # the setting in force before the block is back
    assert kept_drop < size // 8 and returned_drop > size // 2, (kept_drop, returned_drop)
