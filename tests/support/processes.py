"""Services as real processes, started the way the local launcher and the containers start them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.bus import eventually
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    def __init__(self, service: str, env: dict[str, str], log_path: Path) -> None:
        self.service = service
        self.port = free_port()
        self.env = {**os.environ, **env, f"{service.upper()}_HTTP_PORT": str(self.port), "FORO_LOG_FORMAT": "json"}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.service}.main"], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        return self

    async def ready(self, timeout: float = 60.0) -> ServiceProcess:
        async def answers() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.service} exited ({self.process.returncode}): {self.log_tail()}")
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
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:]) if self.log_path.exists() else ""


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
