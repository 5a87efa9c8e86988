"""What the benches measure besides time: CPU per process and database commands per message.

CPU comes from /proc (user + system time of a process: the database server, the broker, this
process); commands from PyMongo's command monitoring, by command name and collection.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pymongo import monitoring


def pid_of(*needles: str) -> int | None:
    """The first process whose command line holds every needle (the database, the broker)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if all(needle in command for needle in needles):
            return int(entry.name)
    return None


def broker_pid() -> int | None:
    """The machine's RabbitMQ node (the one every bench and service shares)."""
    return pid_of("beam.smp", "-s rabbit boot", "/var/lib/rabbitmq")


def database_pid(port: int | str) -> int | None:
    return pid_of("secantusd", f"--port {port}")


def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU seconds of the database server, the broker and this process (service + driver)."""

    database_pid: int | None
    broker_pid: int | None
    last: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, float]:
        return {
            "database": cpu_seconds(self.database_pid),
            "broker": cpu_seconds(self.broker_pid),
            "bench process": time.process_time(),
        }

    def since(self, before: dict[str, float]) -> Counter[str]:
        after = self.snapshot()
        self.last = Counter({name: after[name] - before[name] for name in before})
        return self.last


class CommandCounter(monitoring.CommandListener):
    """Commands sent to `database` while it is set, by command name and collection."""

    def __init__(self) -> None:
        self.database: str | None = None
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.database_name == self.database:
            target = event.command.get(event.command_name)
            name = event.command_name
            self.counts[f"{name} {target}" if isinstance(target, str) else name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass
