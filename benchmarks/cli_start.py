"""How long the command line takes to answer ``--help``: fresh processes, as a user starts it.

    python benchmarks/cli_start.py [--quick] [--out DIR]

Times ``poe-demo --help`` and ``poe-demo sample --help`` (the installed entry point, next to
this Python) in fresh processes, interleaved, and lists the heavy modules each one imported:
argparse answers help without torch, matplotlib, plotly or the trainers. Writes ``cli_start.json``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import RESULTS, write_json

ENTRY = Path(sys.executable).with_name("poe-demo")
COMMANDS = {"poe-demo --help": ["--help"], "poe-demo sample --help": ["sample", "--help"]}
TRAINERS = ("poe_demo.experts.pretrained", "poe_demo.digits.train")
HEAVY = ("torch", "matplotlib", "plotly", "tqdm", "ipywidgets", "diffusers", "mlxtend", *TRAINERS)

# The same entry point, run in-process, reporting which heavy modules it imported.
IMPORTED = """
import runpy, sys
sys.argv = [sys.argv[1], *sys.argv[2:]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit:
    pass
heavy = {heavy!r}
print("IMPORTED", ",".join(m for m in heavy if m in sys.modules))
"""


def seconds(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([str(ENTRY), *args], capture_output=True, check=True)
    return time.perf_counter() - start


def heavy_imports(args: list[str]) -> list[str]:
    code = IMPORTED.format(heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code, str(ENTRY), *args], capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("IMPORTED"))
    return [m for m in line.removeprefix("IMPORTED ").split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two runs each (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    runs = 2 if args.quick else 15
    for argv in COMMANDS.values():  # warm the disk cache
        seconds(argv)
    times = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, argv in COMMANDS.items():
            times[name].append(seconds(argv))
    rows = {
        name: {
            "median_seconds": round(statistics.median(times[name]), 4),
            "max_seconds": round(max(times[name]), 4),
            "heavy_modules_imported": heavy_imports(argv),
        }
        for name, argv in COMMANDS.items()
    }
    payload = {"runs": runs, "rows": rows}
    name = "cli_start_quick.json" if args.quick else "cli_start.json"
    print(f"wrote {write_json(name, payload, args.out)}")


if __name__ == "__main__":
    main()
