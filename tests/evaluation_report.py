"""Evaluation sets' scores, printed in the summary of every test run (`make test` included).

An evaluation test calls the `evaluation_scores` fixture with its set's name and the lines to
show ("add: 24/25 (96 %)"). The lines travel with the test's report, so they reach the summary
from any pytest-xdist worker, and are printed whether the test passed or failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

_KEY = "evaluation_scores"
_scores: dict[str, list[str]] = {}

Record = Callable[[str, Sequence[str]], None]


@pytest.fixture
def evaluation_scores(record_property: Callable[[str, Any], None]) -> Record:
    """Record one evaluation set's score lines for the run's summary."""

    def record(name: str, lines: Sequence[str]) -> None:
        record_property(_KEY, {"name": name, "lines": list(lines)})

    return record


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, value in report.user_properties:
        if key == _KEY and report.when == "call":
            _scores[value["name"]] = value["lines"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _scores:
        return
    terminalreporter.section("evaluation sets")
    for name in sorted(_scores):
        terminalreporter.write_line(f"{name}:")
        for line in _scores[name]:
            terminalreporter.write_line(f"  {line}")
