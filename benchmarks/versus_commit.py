"""The sampler timed against an earlier commit, in alternating processes.

    python benchmarks/versus_commit.py [--setting sphere|digits] [--base COMMIT] [--pairs 9] [--out DIR]

The base commit is checked out into a temporary git worktree; each round runs one fresh process
of each tree (their order alternating from round to round); each process warms up once, then
times its setting. On a machine whose speed drifts, the ratio within a pair is what holds; the
result keeps every pair, the median and minimum of each side and of the ratio, and the quality
each tree reached at those settings.

- ``sphere`` (base 8698d99): the target setting, one run at L = 32, N = 512, T = 128, K = 3,
  steered to red with the shipped experts, plus a third process of this tree with the cheaper
  Metropolis rule (``metropolis="trapezoid"``); quality: the radial error. Writes
  ``versus_commit.json``.
- ``digits`` (base 3cce83f): one digit run at L = 4, T = 32, K = 2 with the shipped flow
  expert and reward classifier, the median over ten runs (digits 0-9, one seed each); quality:
  how many of the ten the judge reads as the digit asked for. Writes ``versus_commit_digits.json``.
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

# Run inside each tree's own process: only names every version of the package has.
SPHERE = """
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

DIGITS = """
import inspect, json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import torch
from poe_demo.runtime import configure_cpu
from poe_demo.digits.checkpoints import load_digit_models
from poe_demo.digits.steering import STEERING, digit_reward, flow_expert, noise, verdicts
from poe_demo.samplers import annealed_importance_sampling
configure_cpu()
models = load_digit_models()
expert = flow_expert(models["flow_all"])
by_models = "models" in inspect.signature(digit_reward).parameters  # 3cce83f took the models dict
reward = lambda d: digit_reward(models if by_models else models["reward"], d)
def run(d):
    g = torch.Generator().manual_seed(d)
    return annealed_importance_sampling([expert], reward(d), noise(4, g), 32, 2, generator=g, **STEERING)
run(0)
seconds, read = [], 0
for d in range(10):
    start = time.perf_counter()
    result = run(d)
    seconds.append(time.perf_counter() - start)
    read += int(verdicts(models["judge"], result.best[None])[0][0] == d)
print(json.dumps({"seconds": statistics.median(seconds), "judge_reads_the_digit": read}))
"""

SETTINGS = {
    "sphere": {"child": SPHERE, "base": "8698d99", "trapezoid": True, "quality": "radial_error",
               "shape": {"L": 32, "N": 512, "T": 128, "K": 3}, "file": "versus_commit.json"},
    "digits": {"child": DIGITS, "base": "3cce83f", "trapezoid": False, "quality": "judge_reads_the_digit",
               "shape": {"L": 4, "T": 32, "K": 2, "runs": 10}, "file": "versus_commit_digits.json"},
}  # fmt: skip


def one_run(child: str, tree: Path, options: dict) -> dict:
    args = [sys.executable, "-c", child, str(tree), json.dumps(options)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(setting: dict, base: str, pairs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(worktree), base], check=True)
        try:
            rows = []
            for i in range(pairs):
                order = [("current", ROOT, {}), ("base", worktree, {})]
                order = order if i % 2 == 0 else order[::-1]
                runs = {name: one_run(setting["child"], tree, options) for name, tree, options in order}
                row = {**runs, "ratio": runs["current"]["seconds"] / runs["base"]["seconds"]}
                if setting["trapezoid"]:
                    row["trapezoid"] = one_run(setting["child"], ROOT, {"metropolis": "trapezoid"})
                    row["trapezoid_ratio"] = row["trapezoid"]["seconds"] / runs["base"]["seconds"]
                rows.append(row)
                print(rows[-1], flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=True)
    side = lambda name: [r[name]["seconds"] for r in rows]  # noqa: E731
    names = ("current", "base", "trapezoid") if setting["trapezoid"] else ("current", "base")
    out = {
        "base": base,
        "setting": setting["shape"],
        "pairs": rows,
        **{f"{name}_seconds": {"median": statistics.median(side(name)), "min": min(side(name))} for name in names},
        "ratio": {"median": statistics.median(r["ratio"] for r in rows), "min": min(r["ratio"] for r in rows)},
        setting["quality"]: {name: rows[-1][name][setting["quality"]] for name in names},
    }
    if setting["trapezoid"]:
        out["trapezoid_ratio"] = {"median": statistics.median(r["trapezoid_ratio"] for r in rows)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="sphere")
    parser.add_argument("--base", help="the commit to compare with (default: the setting's)")
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    setting = SETTINGS[args.setting]
    result = compare(setting, args.base or setting["base"], args.pairs)
    print(f"wrote {write_json(setting['file'], result, directory=args.out)}")


if __name__ == "__main__":
    main()
