"""make test's nbval run: how long each notebook took (all its cells, kernel start included), printed at the end.

The README promises each notebook runs in under two minutes on 2 cores; this is where a reader,
or CI, sees whether it still does."""

from collections import defaultdict

_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    _seconds[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _seconds:
        return
    terminalreporter.section("seconds per notebook")
    for name, seconds in sorted(_seconds.items()):
        terminalreporter.write_line(f"{seconds:6.1f} s  {name}")
    terminalreporter.write_line(f"{sum(_seconds.values()):6.1f} s  in all")
