"""The README's code example runs as printed, its log Z agrees with the closed form it prints, and the
pictures the READMEs show exist."""

import contextlib
import io
import re
import statistics
from pathlib import Path

import pytest
import torch
from helpers import Z, gen

from poe_demo import GaussianExpert, GaussianReward, annealed_importance_sampling

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_log_normalizer_matches_its_closed_form():
    code = re.search(r"```python\n(import math\n.*?)```", README.read_text(), re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    sampled, exact = map(float, re.search(r"sampled (-?[\d.]+), exact (-?[\d.]+)", out.getvalue()).groups())
    # The spread of one run's log Z, from independent runs at the example's settings; the Euler
    # allowance of 64 levels is the bias measured at K = 3 in the README's weights table.
    spread = statistics.stdev(
        annealed_importance_sampling(
            [GaussianExpert(-0.7, 0.8), GaussianExpert(1.3, 0.5)],
            GaussianReward(1.0, 0.5),
            torch.randn(4000, 1, generator=gen(s)),
            64,
            3,
            generator=gen(50 + s),
        ).log_normalizer
        for s in range(8)
    )
    assert abs(sampled - exact) < Z * spread + 0.01, (sampled, exact, spread)


def test_readme_own_experts_example_runs_as_printed():
    pytest.importorskip("diffusers")
    code = re.search(r"```python\n(import torch\nfrom diffusers .*?)```", README.read_text(), re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    assert out.getvalue().strip() == "images (8, 1, 8, 8) best (1, 8, 8)"


@pytest.mark.parametrize("page", [README, README.parent / "benchmarks" / "README.md"], ids=["README", "benchmarks"])
def test_every_picture_a_readme_shows_exists_beside_it(page):
    """Image paths are relative to the page: benchmarks/README.md once showed
    benchmarks/results/evaluate.png, a path that exists only from the repository's root."""
    pictures = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text())
    assert pictures, f"no pictures found in {page.name}: the pattern is wrong"
    missing = [p for p in pictures if not (page.parent / p).is_file()]
    assert not missing, missing
