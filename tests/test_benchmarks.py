"""Smoke tests: the benchmark scripts run end to end at tiny sizes and write their JSON (timings are not asserted)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script, output", [("bench_sampler.py", "bench_sampler_quick.json"),
                                            ("evaluate.py", "evaluate_quick.json"),
                                            ("expert_size.py", "expert_size_quick.json")])
def test_benchmark_script_runs_at_tiny_sizes(tmp_path, script, output):
    args = [sys.executable, script, "--quick", "--out", str(tmp_path)]
    done = subprocess.run(args, cwd=BENCHMARKS, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / output).read_text())
    assert report["machine"]["cores"] >= 1
    if script == "bench_sampler.py":
        assert all(row["seconds"] > 0 and "radial_error" in row for row in report["rows"])
        assert "speedup" in report["rows"][0]
    if script == "evaluate.py":
        assert set(report["steering"]["colors"]) == {"red", "green", "blue"}
        assert "slope_log_rms_vs_log_L" in report["known_answers"]
