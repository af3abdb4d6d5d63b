"""The sampler's target setting timed against an earlier commit, in alternating processes.

    python benchmarks/versus_commit.py [--base 8698d99] [--pairs 9] [--out DIR]

The base commit is checked out into a temporary git worktree; each round runs one fresh process
of each tree (their order alternating from round to round), and a third of this tree with the
cheaper Metropolis rule (``metropolis="trapezoid"``); each process warms up once and
then times one run of the target setting (L = 32, N = 512, T = 128, K = 3, steered to red,
shipped experts). On a machine whose speed drifts, the ratio within a pair is what holds;
the result keeps every pair, the median and minimum of each side and of the ratio, and the
radial error each tree reached. Writes ``versus_commit.json``; the README quotes it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import RESULTS, write_json

ROOT = Path(__file__).resolve().parents[1]

# Runs inside each tree's own process: only names every version of the package has.
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import torch
from poe_demo.runtime import configure_cpu
from poe_demo.data import sample_noise
from poe_demo.evaluation import sphere_experts
from poe_demo.experts import load_axis_experts
from poe_demo.metrics import radial_error
from poe_demo.rewards import ColorReward
from poe_demo.samplers import annealed_importance_sampling
configure_cpu()
options = json.loads(sys.argv[2])  # the base commit's sampler takes no "metropolis"
experts, reward = sphere_experts(load_axis_experts()), ColorReward("red")
noise = sample_noise(32, 512, generator=torch.Generator().manual_seed(0))
g = lambda: torch.Generator().manual_seed(1)
run = lambda: annealed_importance_sampling(experts, reward, noise, 128, 3, generator=g(), **options)
run()
start = time.perf_counter()
result = run()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "radial_error": float(radial_error(result.particles).mean())}))
"""


def one_run(tree: Path, options: dict) -> dict:
    args = [sys.executable, "-c", CHILD, str(tree), json.dumps(options)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(base: str, pairs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), base], check=True)
        try:
            rows = []
            for i in range(pairs):
                order = [("current", ROOT, {}), ("base", worktree, {})]
                order = order if i % 2 == 0 else order[::-1]
                runs = {name: one_run(tree, options) for name, tree, options in order}
                runs["trapezoid"] = one_run(ROOT, {"metropolis": "trapezoid"})
                rows.append({
                    **runs,
                    "ratio": runs["current"]["seconds"] / runs["base"]["seconds"],
                    "trapezoid_ratio": runs["trapezoid"]["seconds"] / runs["base"]["seconds"],
                })  # fmt: skip
                print(rows[-1], flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=True)
    side = lambda name: [r[name]["seconds"] for r in rows]  # noqa: E731
    return {
        "base": base,
        "setting": {"L": 32, "N": 512, "T": 128, "K": 3},
        "pairs": rows,
        "current_seconds": {"median": statistics.median(side("current")), "min": min(side("current"))},
        "base_seconds": {"median": statistics.median(side("base")), "min": min(side("base"))},
        "trapezoid_seconds": {"median": statistics.median(side("trapezoid")), "min": min(side("trapezoid"))},
        "ratio": {"median": statistics.median(r["ratio"] for r in rows), "min": min(r["ratio"] for r in rows)},
        "trapezoid_ratio": {"median": statistics.median(r["trapezoid_ratio"] for r in rows)},
        "radial_error": {name: rows[-1][name]["radial_error"] for name in ("current", "base", "trapezoid")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="8698d99", help="the commit to compare with")
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    print(f"wrote {write_json('versus_commit.json', compare(args.base, args.pairs), directory=args.out)}")


if __name__ == "__main__":
    main()
