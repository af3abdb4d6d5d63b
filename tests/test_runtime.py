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
