"""The fault suite: each test runs the platform as real processes, does one fault to it, and
accounts for what reached people. Rows are printed, kept in `<pytest basetemp>/faults-results.txt`
and repeated in the terminal summary, so a run's table can be pasted into a note."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.support.faults import ROW_HEADER, Accounting, Platform, record, results_file

_ROWS: list[str] = []
_RESULTS: list[Path] = []


@pytest.fixture(scope="session")
def fault_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = results_file(tmp_path_factory.getbasetemp())
    _RESULTS.append(path)
    return path


@pytest.fixture
def report(fault_results: Path) -> Callable[[Accounting], None]:
    def keep(accounting: Accounting) -> None:
        record(accounting, fault_results, _ROWS)

    return keep


@pytest.fixture
async def platform(tmp_path: Path, namespace: str, amqp_url: str) -> AsyncIterator[Callable[..., Platform]]:
    """A factory: `await platform(services=...)` gives a started platform, stopped at the end."""
    started: list[Platform] = []

    async def make(**options) -> Platform:
        options.setdefault("broker_url", amqp_url)
        running = Platform(tmp_path, namespace, **options)
        started.append(running)
        return await running.start()

    yield make
    for running in started:
        await running.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001 - pytest's hook
    if not _ROWS:
        return
    terminalreporter.section("fault suite accounting")
    terminalreporter.write_line(ROW_HEADER)
    for row in _ROWS:
        terminalreporter.write_line(row)
    if _RESULTS:
        terminalreporter.write_line(f"(also in {_RESULTS[0]})")
