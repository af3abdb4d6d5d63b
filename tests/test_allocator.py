"""glibc's thresholds: freed memory kept for the next tensor, or handed back at once."""

import pytest

from poe_demo import allocator
from poe_demo.resources import _resident


@pytest.fixture
def restored_thresholds():
    before = allocator._thresholds
    yield
    allocator._set_thresholds(*before)


def _resident_after_freeing(n_bytes: int) -> int:
    block = bytearray(n_bytes)  # zero-filled: every page touched, so resident
    del block
    return _resident()[0]


def test_freed_blocks_stay_resident_when_kept_and_leave_when_returned(restored_thresholds):
    if allocator._libc() is None or _resident() is None:
        pytest.skip("needs glibc and Linux's /proc")
    size = 32 << 20
    assert allocator.retain_freed_memory() and allocator.keeps_freed_memory()
    start = _resident()[0]
    kept = _resident_after_freeing(size) - start
    with allocator.freed_memory_returned() as returned:
        assert returned and not allocator.keeps_freed_memory()
        start = _resident()[0]
        handed_back = _resident_after_freeing(size) - start
    assert allocator.keeps_freed_memory()  # the setting in force before the block is back
    assert kept > size // 2 and handed_back < size // 8, (kept, handed_back)
