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
