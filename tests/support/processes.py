"""Services as real processes, started the way the local launcher and the containers start them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from tests.support.bus import eventually
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
FORO = str(Path(sys.executable).with_name("foro"))  # the `foro` command installed beside python


class ServiceProcess:
    def __init__(self, service: str, env: dict[str, str], log_path: Path) -> None:
        self.service = service
        self.port = free_port()
        self.env = {
            **os.environ,
            **env,
            f"{service.upper()}_HTTP_PORT": str(self.port),
            "FORO_LOG_FORMAT": "json",
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.service}.main"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        return self

    async def ready(self, timeout: float = 60.0) -> ServiceProcess:
        async def answers() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"{self.service} exited ({self.process.returncode}): {self.log_tail()}"
                )
            return await asyncio.to_thread(_ready, self.url)

        await eventually(answers, timeout, f"{self.service} ready")
        return self

    async def exited(self, timeout: float = 30.0) -> int:
        async def gone() -> bool:
            return self.process.poll() is not None

        await eventually(gone, timeout, f"{self.service} to exit")
        return self.process.returncode

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log_tail(self, lines: int = 20) -> str:
        return (
            "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
            if self.log_path.exists()
            else ""
        )


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Launcher:
    """README command 1's launcher (`foro up`, the installed command) as a process whose output lines
    a test can wait for (a reader thread collects them; waiting blocks on a condition, not a sleep)."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir = data_dir
        self.output: list[str] = []
        self._changed = threading.Condition()
        self._eof = False
        self.process = subprocess.Popen(
            [FORO, "up", "--data-dir", str(data_dir), *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, name="launcher-output", daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.output.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def _find(self, pattern: re.Pattern[str], start: int) -> re.Match[str] | None:
        return next((m for line in self.output[start:] if (m := pattern.search(line))), None)

    async def line(self, pattern: str, timeout: float, *, after: int = 0) -> re.Match[str]:
        """The first output line (from index `after` on) matching the regex `pattern`."""
        compiled = re.compile(pattern)

        def wait() -> re.Match[str] | None:
            with self._changed:
                self._changed.wait_for(
                    lambda: self._find(compiled, after) is not None or self._eof, timeout
                )
                return self._find(compiled, after)

        found = await asyncio.to_thread(wait)
        if found is None:
            state = "exited" if self.process.poll() is not None else "still running"
            raise AssertionError(
                f"launcher ({state}) printed no line matching {pattern!r} within {timeout}s:\n"
                + self.text()
            )
        return found

    def text(self) -> str:
        with self._changed:
            return "\n".join(self.output)

    def pid(self, name: str) -> int:
        """From the pid file the launcher keeps for every process it runs."""
        return int((self.data_dir / "run" / f"{name}.pid").read_text())

    def stop(self, timeout: float = 90.0) -> int | None:
        """SIGTERM, as Ctrl-C would; SIGKILL if it does not finish in time. Returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                return None
        with self._changed:  # the reader has seen every line once the pipe is closed
            self._changed.wait_for(lambda: self._eof, 10)
        return self.process.returncode


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def answers_ready(url: str) -> bool:
    """GET <url>/health/ready answers 200."""
    return _ready(url)
