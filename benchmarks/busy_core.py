"""How much slower the course runs when another process takes one of the two cores.

A learner's laptop is rarely idle: a browser, an editor, another job. Torch's threads meet at a
barrier after every operation, so with two threads on two cores and one core taken, the thread
the operating system pauses holds up the other. ``configure_cpu()`` now counts the cores idle
when it is called and uses that many threads. Measured here, in fresh processes:

- ``poe-demo digits --digit 3`` (16 particles, T = 32, K = 2), quiet and beside a busy loop;
- notebook 6 executed top to bottom (nbconvert), quiet and beside a busy loop;

each with the threads chosen by ``configure_cpu()`` ("idle cores") and, for the digits run, with
two threads forced (``POE_DEMO_BENCH_THREADS=2``, read only by this script's runs: what the library
did before; notebook 6 that way had not finished after 402 s beside a busy loop, 57 s quiet, when it was
a third of its present length, so it is not repeated here).
Goal: at most 2.5x the quiet time with one core taken. Runs alternate quiet and busy so that
drift in the machine's speed falls on both.

Usage: python busy_core.py [--repeats 3] [--notebook]   (the notebook row takes about 15 minutes)
       python busy_core.py --quick --out DIR                 (the test: one repeat, digits only)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import write_json

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# The CLI's own configure_cpu() call, with its thread count optionally pinned: sitecustomize runs
# before the CLI and wraps configure_cpu, so the command itself is untouched.
PIN = """
import os, poe_demo.runtime as runtime
_configure = runtime.configure_cpu
threads = os.environ.get("POE_DEMO_BENCH_THREADS")
runtime.configure_cpu = lambda threads=None if threads is None else int(threads), **kw: _configure(threads, **kw)
"""


def timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - start


def busy_loop() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def measure(command: list[str], threads: str | None, repeats: int, site: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(site), "TQDM_DISABLE": "1"}
    if threads is not None:
        env["POE_DEMO_BENCH_THREADS"] = threads
    quiet, busy = [], []
    for _ in range(repeats):
        quiet.append(timed(command, env))
        spin = busy_loop()
        try:
            time.sleep(0.5)  # the loop is running before the command counts free cores
            busy.append(timed(command, env))
        finally:
            spin.kill()
    q, b = statistics.median(quiet), statistics.median(busy)
    return {"quiet_seconds": quiet, "busy_seconds": busy, "ratio": round(b / q, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--notebook", action="store_true", help="also notebook 6 (about 15 minutes)")
    parser.add_argument("--quick", action="store_true", help="one repeat, a small digits run, no notebook")
    parser.add_argument("--out", type=Path, default=None, help="folder for busy_core[_quick].json")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.notebook = 1, False
    site = Path(tempfile.mkdtemp())
    (site / "sitecustomize.py").write_text(PIN)
    digits = [str(BIN / "poe-demo"), "digits", "--digit", "3", "--out", str(site / "d.npz")]
    if args.quick:
        digits += ["--particles", "4", "--steps", "4"]
    rows = {}
    for threads in (None, "2"):
        name = "idle cores" if threads is None else "2 threads"
        rows[f"poe-demo digits, {name}"] = measure(digits, threads, args.repeats, site)
        print(name, rows[f"poe-demo digits, {name}"], flush=True)
    if args.notebook:
        notebook = [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--output",
                    str(site / "nb6.ipynb"), str(ROOT / "notebooks" / "06_digits.ipynb")]  # fmt: skip
        rows["notebook 6, idle cores"] = measure(notebook, None, 1, site)
        print("notebook 6", rows["notebook 6, idle cores"], flush=True)
    name = "busy_core_quick.json" if args.quick else "busy_core.json"
    write_json(name, {"goal_ratio": 2.5, "rows": rows}, *([args.out] if args.out else []))


if __name__ == "__main__":
    main()
