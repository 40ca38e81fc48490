"""For the nbval passes over the chapters: print each notebook's time, slowest first.

The book promises that every chapter runs in under two minutes on an idle two-core
CPU; this prints the figure on every ``make test`` instead of asserting a time in a
test (the machine is shared and noisy). A notebook's time is the sum over its cells
of nbval's set-up, run and tear-down, so it includes starting the kernel.
"""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

_seconds: defaultdict[str, float] = defaultdict(float)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Add one cell's wall time to its notebook's total.

    Args:
        item: the test item (for nbval, one cell of a notebook).
        nextitem: the next item, unused.
    """
    start = time.perf_counter()
    yield
    _seconds[item.path.name] += time.perf_counter() - start


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print each notebook's wall time, slowest first.

    Args:
        terminalreporter: pytest's reporter, which writes the lines.
    """
    notebooks = {name: s for name, s in _seconds.items() if name.endswith(".ipynb")}
    if not notebooks:
        return
    terminalreporter.section("seconds per notebook (kernel start included)")
    for name, seconds in sorted(notebooks.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:7.1f}  {name}")
