"""`foro rebuild` and `foro memoria`, the installed command, against the real broker and database:
they take their connection from FORO_* variables or options and show their progress per step; the
rebuild writes exactly what the live fold wrote, the Memoria every document asked for."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from services.reporting.settings import ReportingSettings
from tests.integration.reporting.conftest import (  # noqa: F401  (fixtures used below)
    RunningReporting,
    databases,
    reporting,
    reporting_settings,
)
from tests.integration.reporting.test_audit import stored_entries
from tests.integration.reporting.test_projections import recorded_history
from tests.integration.reporting.test_rebuild import projection_contents

FORO = str(Path(sys.executable).with_name("foro"))


async def run_foro(*args: str, env: dict[str, str], timeout: float = 120) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        FORO,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_foro_rebuild_shows_its_progress_and_rebuilds_what_the_live_fold_wrote(
    reporting: RunningReporting,  # noqa: F811
    reporting_settings: ReportingSettings,  # noqa: F811
    databases: list[str],  # noqa: F811
) -> None:
    history = recorded_history()
    await reporting.publish(*history)
    await reporting.settled()

    rebuilt = f"{reporting_settings.database}_cli"
    databases.append(rebuilt)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FORO_", "REPORTING_"))
    } | {
        # The connection from the variables the help names; the rest as options.
        "FORO_MONGO_URL": reporting_settings.mongo_url.get_secret_value(),
        "FORO_BROKER_URL": reporting_settings.broker_url.get_secret_value(),
        "FORO_LOG_FORMAT": "json",
    }
    status, out, err = await run_foro(
        "rebuild", "--namespace", reporting_settings.namespace, "--database", rebuilt, env=env
    )

    assert status == 0, out + err
    assert f"rebuilt namespace {reporting_settings.namespace} from {len(history)} events" in out
    # The progress display (its last frame, off a terminal): every message read of a known total,
    # then every document, audit entry and ledger entry written.
    read = re.search(r"reading and folding the event log\D*?(\d+)/(\d+)", err)
    assert read is not None, err
    assert int(read.group(1)) == int(read.group(2)) >= len(history)
    written = re.search(r"writing documents, the audit trail and the ledger\D*?(\d+)/(\d+)", err)
    assert written is not None, err
    assert int(written.group(1)) == int(written.group(2)) > len(history)
    assert await projection_contents(
        reporting_settings.model_copy(update={"database": rebuilt})
    ) == await projection_contents(reporting_settings)
    audit = await stored_entries(reporting_settings.model_copy(update={"database": rebuilt}))
    assert audit and audit == await stored_entries(reporting_settings)  # the audit trail too


async def test_foro_rebuild_refuses_a_bad_namespace_naming_the_field() -> None:
    status, out, err = await run_foro(
        "rebuild", "--namespace", "Not A Namespace", env=dict(os.environ), timeout=60
    )
    assert status == 2
    assert "namespace" in err and "pattern" in err, out + err


async def test_foro_memoria_writes_every_document_from_the_database_with_progress(
    reporting: RunningReporting,  # noqa: F811
    reporting_settings: ReportingSettings,  # noqa: F811
    tmp_path: Path,
) -> None:
    await reporting.publish(*recorded_history())
    await reporting.settled()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FORO_", "REPORTING_"))
    } | {
        "FORO_MONGO_URL": reporting_settings.mongo_url.get_secret_value(),
        "FORO_NAMESPACE": reporting_settings.namespace,
        "REPORTING_DATABASE": reporting_settings.database,
        "FORO_LOG_FORMAT": "json",
    }
    out_dir = tmp_path / "memoria"
    status, out, err = await run_foro(
        "memoria", "--out", str(out_dir), "--lang", "es", "--lang", "en", "--base-document", env=env
    )

    assert status == 0, out + err
    written = [Path(line) for line in out.splitlines() if line.strip()]
    assert sorted(path.suffix for path in written) == [".html"] * 4 + [".pdf"] * 4
    assert all(path.parent == out_dir and path.exists() for path in written)
    assert all(path.read_bytes().startswith(b"%PDF") for path in written if path.suffix == ".pdf")
    assert re.search(r"done\D*4/4", err), err  # one step per document, all four done
