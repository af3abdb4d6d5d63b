"""Settings for every pytest run here: the library tests (tests/) and the notebooks (nbval, notebooks/)."""

import os


def pytest_configure(config):
    from poe_demo.runtime import configure_cpu

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        # make test runs two workers side by side: each takes its share of the cores, and so do the
        # processes it starts (CLI runs, notebook kernels), which read torch's default from this variable.
        # Threads beyond the free cores wait for each other at every operation (see runtime.torch_threads).
        share = max(1, len(os.sched_getaffinity(0)) // workers)
        os.environ["OMP_NUM_THREADS"] = str(share)
        configure_cpu(share)
    else:
        configure_cpu()
