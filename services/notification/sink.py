"""A local SMTP sink: accepts every message and keeps it as an .eml file under a folder.

For tests and the local stack (`python -m services.notification.sink --port 1025 --directory .foro/mail`);
nothing leaves the machine. Open the .eml files with any mail client.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import threading
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.saved = 0  # messages written so far (cheaper to watch than the folder)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            name = f"{time.time_ns()}-{next(self._counter):06d}.eml"
        data = envelope.original_content or envelope.content
        (self.folder / f"{name}.part").write_bytes(
            data if isinstance(data, bytes) else data.encode()
        )
        (self.folder / f"{name}.part").rename(self.folder / name)  # readers never see half a file
        with self._lock:
            self.saved += 1
        return "250 Message accepted for delivery"


class SmtpSink:
    """`start()` listens on host:port, `stop()` stops; `messages()` reads what arrived."""

    def __init__(self, folder: str | Path, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.folder = Path(folder)
        self.host = host
        self.port = port
        self._controller: Controller | None = None
        self._handler = _SaveToFolder(self.folder)

    def start(self) -> SmtpSink:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(
            self._handler,
            hostname=self.host,
            port=self.port,
            enable_SMTPUTF8=True,
            data_size_limit=10 * 1024 * 1024,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def saved(self) -> int:
        """Messages accepted and written since this sink was made."""
        return self._handler.saved

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml"))

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(path.read_bytes()) for path in self.files()]

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="SMTP sink: keeps every message as an .eml file.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument(
        "--directory",
        "--dir",
        dest="directory",
        default=".foro/mail",
        help="Folder for the .eml files (created).",
    )
    args = parser.parse_args()
    sink = SmtpSink(args.directory, args.host, args.port).start()
    print(
        f"SMTP sink on {args.host}:{args.port}; e-mails are saved in {sink.folder.resolve()}",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    sink.stop()


if __name__ == "__main__":
    main()
