"""Memory estimates that refuse oversized runs before anything is allocated."""

import pytest

from poe_demo.resources import WORKING_STATES, available_memory, check_memory, format_bytes, sampler_memory


def test_estimate_grows_with_the_state_the_trajectory_and_the_levels():
    base = sampler_memory(1000, 10)
    assert base == 1000 * 4 * WORKING_STATES + 11 * 128
    assert sampler_memory(1000, 10, keep_trajectory=True) - base == 1000 * 4 * 11
    assert sampler_memory(1000, 10, element_size=8) > base


def test_check_names_the_request_and_the_limit():
    assert available_memory() > 0
    check_memory(1, "a tiny run")
    with pytest.raises(ValueError, match=r"^--points 7 needs about 1e\+06 TB of memory, more than the .* available$"):
        check_memory(10**18, "--points 7")


@pytest.mark.parametrize("n, text", [(512, "512 B"), (1500, "1.5 KB"), (2.5e9, "2.5 GB"), (3e15, "3e+03 TB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text
