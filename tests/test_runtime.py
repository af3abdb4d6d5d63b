import pytest
import torch

from poe_demo.runtime import configure_cpu


def test_configure_cpu_reports_what_it_set():
    before = torch.get_num_threads()
    try:
        report = configure_cpu(threads=1)
        assert report["torch_threads"] == 1 and torch.get_num_threads() == 1
        assert isinstance(report["allocator_tuned"], bool)
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_configure_cpu_rejects_bad_thread_counts(bad):
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        configure_cpu(threads=bad)


def test_torch_threads_sets_the_count_inside_and_restores_it_after_an_error():
    from poe_demo.runtime import torch_threads

    before = torch.get_num_threads()
    with pytest.raises(RuntimeError, match="inside"):
        with torch_threads(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads must be an integer >= 1, got 0"):
        with torch_threads(0):
            pass
    assert torch.get_num_threads() == before


def test_configure_cpu_uses_the_cores_idle_now(monkeypatch):
    import torch

    from poe_demo import runtime

    before = torch.get_num_threads()
    try:
        for idle, threads in [(0.2, 1), (1.3, 1), (1.6, 2), (None, runtime._DEFAULT_THREADS)]:
            monkeypatch.setattr(runtime, "free_cores", lambda idle=idle: idle)
            assert runtime.configure_cpu()["torch_threads"] == min(threads, runtime._DEFAULT_THREADS)
        assert runtime.configure_cpu(threads=1)["free_cores"] is None  # asked for: no measuring
    finally:
        torch.set_num_threads(before)


def test_free_cores_sees_a_busy_process():
    """One process spinning takes one core: what a browser or another job does to a reader's laptop."""
    import os
    import subprocess
    import sys

    from poe_demo.runtime import free_cores

    cores = len(os.sched_getaffinity(0))
    if cores < 2 or free_cores() is None:
        pytest.skip("needs /proc/stat and two cores")
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = min(free_cores(0.5) for _ in range(3))
    finally:
        spin.kill()
    assert busy < cores - 0.6, busy
