"""What many test modules share. Not in conftest.py: notebooks/ has a conftest.py too, and make test
collects both folders in one run, where ``from conftest import ...`` would find either."""

import torch


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# Standard normal quantile for a two-sided test that a correct implementation fails with
# probability about 6e-5 per check (|z| > 4).
Z = 4.0
