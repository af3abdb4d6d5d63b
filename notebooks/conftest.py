"""make test's nbval run: how long each notebook took (all its cells, kernel start included), printed at the end.

The README promises each notebook runs in under two minutes on 2 cores; this is where a reader,
or CI, sees whether it still does."""

from collections import defaultdict

import pytest

_seconds: dict[str, float] = defaultdict(float)


def _notebook(nodeid: str) -> str | None:
    path = nodeid.split("::")[0]
    return path if path.endswith(".ipynb") else None


def pytest_collection_modifyitems(items):
    # make test runs tests and notebooks side by side (pytest-xdist, --dist loadgroup): a notebook's
    # cells share one kernel, so they must run in order on one worker
    for item in items:
        if _notebook(item.nodeid):
            item.add_marker(pytest.mark.xdist_group(_notebook(item.nodeid)))


def pytest_runtest_logreport(report):
    if _notebook(report.nodeid):
        _seconds[_notebook(report.nodeid)] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    terminalreporter.section("seconds per notebook")
    for name, seconds in sorted(_seconds.items()):
        terminalreporter.write_line(f"{seconds:6.1f} s  {name}")
    terminalreporter.write_line(f"{sum(_seconds.values()):6.1f} s  in all")
