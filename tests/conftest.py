import pytest

from poe_demo.experts import load_axis_experts


@pytest.fixture(scope="session")
def axis_experts():
    """The shipped, hash-checked axis experts."""
    return load_axis_experts()
