"""make test's nbval run: how long each notebook took (all its cells, kernel start included), printed at the end.

The README states how long each notebook takes; this is where a reader, or CI, sees whether it
still does. make test runs the notebooks beside the library tests with one torch thread each, so
its times are longer than a quiet machine's; ``make test TEST_WORKERS=1`` runs them one at a time."""

from collections import defaultdict

_seconds: dict[str, float] = defaultdict(float)


def _notebook(nodeid: str) -> str | None:
    path = nodeid.split("::")[0]
    return path if path.endswith(".ipynb") else None


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
