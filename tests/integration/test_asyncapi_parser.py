"""The committed AsyncAPI documents pass the official AsyncAPI parser with no error and no warning.

The parser is npm's `@asyncapi/parser`, pinned below, installed once into a cache directory outside
the repository (FORO_ASYNCAPI_PARSER_DIR, else ~/.cache/foro/asyncapi-parser-<version>; about 15 s
and 55 MB the first time) and reused after. tests/support/asyncapi_parser.cjs parses every
document and also validates each message example against its payload schema with the parser's
own Ajv (ECMAScript regular expressions, as a JavaScript form vendor's validator runs them).

Without node or npm the test is skipped and says so; under CI=true it fails instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.asyncapi import OUT

PARSER_VERSION = "3.6.6"
SCRIPT = Path(__file__).resolve().parents[1] / "support" / "asyncapi_parser.cjs"
INSTALL_SECONDS = 300
PARSE_SECONDS = 120
SEVERITY = {0: "error", 1: "warning", 2: "information", 3: "hint"}


def parser_dir() -> Path:
    configured = os.environ.get("FORO_ASYNCAPI_PARSER_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "foro" / f"asyncapi-parser-{PARSER_VERSION}"


def installed(directory: Path) -> bool:
    manifest = directory / "node_modules" / "@asyncapi" / "parser" / "package.json"
    if not manifest.exists():
        return False
    return json.loads(manifest.read_text(encoding="utf-8")).get("version") == PARSER_VERSION


def ensure_parser(directory: Path) -> None:
    """Install the pinned parser into `directory` unless it is there (one installer at a time)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory.parent / f"{directory.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed(directory):
            return
        # --ignore-scripts: nothing of the package runs at install time (one dependency would
        # phone home from a postinstall script).
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(directory),
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                f"@asyncapi/parser@{PARSER_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=INSTALL_SECONDS,
        )
        assert installed(directory), f"npm installed no @asyncapi/parser {PARSER_VERSION}"


def test_documents_pass_the_official_asyncapi_parser_without_errors_or_warnings() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        message = f"{' and '.join(missing)} not found: the official AsyncAPI parser cannot run"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    directory = parser_dir()
    ensure_parser(directory)
    documents = sorted(OUT.glob("*.json"))
    assert documents, f"no AsyncAPI document in {OUT}"
    done = subprocess.run(
        ["node", str(SCRIPT), *map(str, documents)],
        env={**os.environ, "FORO_ASYNCAPI_PARSER_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=PARSE_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    diagnostics = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    problems = [
        f"{Path(d['file']).name}: {SEVERITY.get(d['severity'], d['severity'])} {d['code']} "
        f"at {d['path'] or '/'}: {d['message']}"
        for d in diagnostics
        if d["severity"] <= 1
    ]
    assert problems == [], "\n".join(problems)
    # Every document was read: the parser reports at least its version notice for each.
    assert {Path(d["file"]).name for d in diagnostics} <= {path.name for path in documents}
