"""End to end: the launcher supervises what it runs. A service killed with SIGKILL comes back on
its own while the others keep running; SIGTERM to the launcher stops the services before the SMTP
sink and the database; by default the forum starts 30 days from today."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from shared import devstack
from tests.e2e.test_local_platform import mongo_port, port_base
from tests.support.processes import Launcher, alive, answers_ready

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

SERVICES = ("registration", "scheduling", "expo", "notification", "reporting")
INFRA = ("secantusdb", "smtp-sink")


async def test_a_killed_service_is_restarted_and_shutdown_stops_services_before_the_database(
    namespace: str, tmp_path: Path
) -> None:
    data = tmp_path / "foro"
    launcher = Launcher(
        data,
        "--no-sample",
        "--namespace",
        namespace,
        "--mongo-port",
        str(mongo_port(base := port_base())),
        "--port-base",
        str(base),
    )
    pids: dict[str, int] = {}
    try:
        await launcher.line("READY", 180)
        urls = {
            name: (await launcher.line(rf"foro: {name} ready on (\S+)", 1)).group(1)
            for name in SERVICES
        }
        pids = {name: launcher.pid(name) for name in SERVICES + INFRA}
        assert all(alive(pid) for pid in pids.values())

        forum_start = date.today() + timedelta(
            days=30
        )  # no --forum-start-date: a forum in the future
        assert (await launcher.line(r"start date (\S+): today \+ 30 days", 1)).group(
            1
        ) == forum_start.isoformat()
        assert f"{forum_start:%A %d %B %Y} to " in launcher.text()

        victim = "scheduling"
        mark = len(launcher.output)
        os.kill(pids[victim], signal.SIGKILL)
        await launcher.line(
            rf"foro: {victim} \(pid {pids[victim]}\) exited with status -9 \(SIGKILL\)",
            15,
            after=mark,
        )
        back = await launcher.line(
            rf"foro: {victim} ready again on {urls[victim]} \(pid (\d+)\)", 60, after=mark
        )
        new_pid = int(back.group(1))
        assert new_pid != pids[victim] and alive(new_pid)
        assert launcher.pid(victim) == new_pid  # the pid file follows the restart
        assert await asyncio.to_thread(answers_ready, urls[victim])
        # The scheduling service it restarted got the forum date too: the agenda is in the future.
        assert forum_start.isoformat() in await asyncio.to_thread(
            _get, f"{urls[victim]}/agenda.json"
        )

        for name in SERVICES + INFRA:  # nobody else was touched
            if name != victim:
                assert launcher.pid(name) == pids[name] and alive(pids[name]), name
        for name in SERVICES:
            if name != victim:
                assert await asyncio.to_thread(answers_ready, urls[name]), name
        assert launcher.process.poll() is None
        assert not any(
            "exited with status" in line for line in launcher.output[mark:] if victim not in line
        )
        pids[victim] = new_pid
    finally:
        status = launcher.stop(90)

    assert status == 0, launcher.text()
    lines = launcher.output
    stopped = {
        name: next(i for i, line in enumerate(lines) if line.startswith(f"foro: {name} stopped"))
        for name in SERVICES + INFRA
    }
    last_service = max(stopped[name] for name in SERVICES)
    assert last_service < stopped["smtp-sink"] < stopped["secantusdb"], "\n".join(lines)
    assert lines[-1] == "foro: stopped"
    assert not any(alive(pid) for pid in pids.values())
    assert sorted(p.name for p in (data / "run").iterdir()) == []


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_restart_delay_doubles_up_to_its_cap_and_resets_after_a_stable_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The supervisor alone, on a process that always fails (short delays stand in for 1 s → 30 s)."""
    monkeypatch.setattr(devstack, "RESTART_FIRST", 0.05)
    monkeypatch.setattr(devstack, "RESTART_MAX", 0.2)
    monkeypatch.setattr(devstack, "STABLE_AFTER", 5.0)
    stack = devstack.Stack(devstack.UpOptions(data_dir=tmp_path))
    stack.logs.mkdir(parents=True)
    stack.run_dir.mkdir(parents=True)
    crashing = devstack.Supervised(
        "crashy",
        [sys.executable, "-c", "raise SystemExit(3)"],
        dict(os.environ),
        lambda: True,
        "nowhere",
        "service",
        backoff=0.05,
    )
    stack.add(crashing)
    crashing.ever_ready = crashing.ready = True  # it had started once: from now on it is supervised

    def drive(until: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 10
        while not until():
            assert time.monotonic() < deadline, capsys.readouterr().out
            stack.tick()
            time.sleep(0.01)  # the launcher's own polling interval, shortened

    drive(lambda: crashing.restarts == 5 and crashing.restart_at is None)
    crashing.started_at -= 10  # as if this last run had stayed up longer than STABLE_AFTER
    drive(lambda: crashing.restarts == 6)
    stack.stop()
    delays = re.findall(
        r"crashy \(pid \d+\) exited with status 3 after \S+; restarting it in (\S+)s",
        capsys.readouterr().out,
    )
    assert delays == ["0.05", "0.1", "0.2", "0.2", "0.2", "0.05"]
