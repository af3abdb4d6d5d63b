import pytest
import torch

from poe_demo.experts import load_axis_experts


@pytest.fixture(scope="session")
def axis_experts():
    """The shipped, hash-checked axis experts."""
    return load_axis_experts()


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# Standard normal quantile for a two-sided test that a correct implementation fails with
# probability about 6e-5 per check (|z| > 4).
Z = 4.0


def pytest_configure(config):
    from poe_demo.runtime import configure_cpu

    configure_cpu()
