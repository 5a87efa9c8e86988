"""The `foro` command as an operator runs it: a subprocess of the installed entry point."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

FORO = Path(sys.executable).parent / "foro"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


async def foro(*args: str, env: dict[str, str] | None = None, timeout: float = 60.0) -> Run:
    """`foro ARGS` with stdin closed (so a confirmation question is answered "no")."""
    process = await asyncio.create_subprocess_exec(
        str(FORO),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    try:
        async with asyncio.timeout(timeout):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())
