"""`foro check` against the real broker, a real SecantusDB and a local SMTP server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from faststream.rabbit import RabbitBroker

from shared.messaging.topology import Topology
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[3]
PREFIXES = ("FORO_", "REGISTRATION_", "SCHEDULING_", "EXPO_", "NOTIFICATION_", "REPORTING_")


@pytest.fixture
def smtp_port() -> Iterator[int]:
    controller = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port
    controller.stop()


@pytest.fixture
def declared(amqp_url: str, namespace: str) -> str:
    """The namespace's exchanges and event log, as a service declares them at start-up."""

    async def declare() -> None:
        broker = RabbitBroker(amqp_url)
        await broker.connect()
        try:
            await Topology(namespace=namespace).declare(broker, [])
        finally:
            await broker.stop()

    asyncio.run(declare())
    return namespace


def foro_check(*options: str, **env: str) -> tuple[int, list[dict[str, Any]]]:
    """Run `foro check --json` as an operator would, with exactly this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith(PREFIXES)}
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.app", "check", "--json", "--timeout", "3", *options],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def by_check(outcomes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {outcome["check"]: outcome for outcome in outcomes}


def test_a_reachable_platform_checks_out(
    amqp_url: str, mongo_url: str, declared: str, smtp_port: int
) -> None:
    code, outcomes = foro_check(
        FORO_BROKER_URL=amqp_url,
        FORO_MONGO_URL=mongo_url,
        FORO_NAMESPACE=declared,
        NOTIFICATION_SMTP_HOST="127.0.0.1",
        NOTIFICATION_SMTP_PORT=str(smtp_port),
    )
    checks = by_check(outcomes)
    assert code == 0, outcomes
    assert checks["broker"]["status"] == "ok" and "RabbitMQ" in checks["broker"]["detail"]
    assert checks["broker topology"]["status"] == "ok"
    assert declared in checks["broker topology"]["detail"]
    assert checks["database"]["status"] == "ok"
    assert checks["service databases"]["status"] == "ok"
    assert "foro_registration" in checks["service databases"]["detail"]
    assert checks["smtp smtp"]["status"] == "ok"
    assert f"127.0.0.1:{smtp_port}" in checks["smtp smtp"]["detail"]
    assert checks["sms"]["status"] == "ok"
    # Development: weak secrets are warnings, naming the variable.
    assert checks["secret REGISTRATION_WEBHOOK_SECRETS"]["status"] == "warn"
    assert "missing" in checks["secret REGISTRATION_WEBHOOK_SECRETS"]["detail"]
    versions = checks["versions"]["detail"]
    for name in ("python", "foro", "faststream", "pymongo", "aio-pika", "RabbitMQ", "MongoDB"):
        assert name in versions
    assert not [o for o in outcomes if o["status"] == "fail"]


def test_production_fails_on_weak_secrets(
    amqp_url: str, mongo_url: str, declared: str, smtp_port: int
) -> None:
    code, outcomes = foro_check(
        FORO_ENVIRONMENT="production",
        FORO_BROKER_URL=amqp_url,
        FORO_MONGO_URL=mongo_url,
        FORO_NAMESPACE=declared,
        FORO_BADGE_SECRET="local-badge-secret-change-me",
        NOTIFICATION_SMTP_HOST="127.0.0.1",
        NOTIFICATION_SMTP_PORT=str(smtp_port),
    )
    checks = by_check(outcomes)
    assert code == 1
    assert checks["broker"]["status"] == "ok"  # the check itself ran, not refused
    assert checks["secret FORO_BADGE_SECRET"] == {
        "check": "secret FORO_BADGE_SECRET",
        "status": "fail",
        "detail": "a known default or placeholder value",
    }
    assert checks["secret FORO_BROKER_URL"]["status"] == "fail"
    assert "guest" in checks["secret FORO_BROKER_URL"]["detail"]


def test_a_wrong_broker_port_fails_naming_the_broker(
    amqp_url: str, mongo_url: str, smtp_port: int
) -> None:
    wrong = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    code, outcomes = foro_check(
        FORO_BROKER_URL=wrong,
        FORO_MONGO_URL=mongo_url,
        NOTIFICATION_SMTP_HOST="127.0.0.1",
        NOTIFICATION_SMTP_PORT=str(smtp_port),
        # STARTTLS demanded from a relay that does not offer it.
        NOTIFICATION_SMTP_SECURITY="starttls",
    )
    checks = by_check(outcomes)
    assert code == 1
    assert checks["broker"]["status"] == "fail"
    assert wrong.split("@")[1] in checks["broker"]["detail"]
    assert "guest" not in checks["broker"]["detail"]  # credentials never printed
    assert checks["database"]["status"] == "ok"
    assert checks["smtp smtp"]["status"] == "fail"
    assert "STARTTLS not offered" in checks["smtp smtp"]["detail"]


def test_the_local_secrets_file_is_judged_as_the_services_get_it(
    amqp_url: str, mongo_url: str, declared: str, smtp_port: int, tmp_path: Path
) -> None:
    """`foro up` keeps its secrets in `.foro/secrets.env` under its own keys; `--secrets-file`
    checks them as the services receive them, so a local run's secrets are found, and strong."""
    secrets_file = tmp_path / "secrets.env"
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli.app",
            "secrets",
            "generate",
            "--output",
            str(secrets_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert generated.returncode == 0, generated.stderr
    env = {
        "FORO_BROKER_URL": amqp_url,
        "FORO_MONGO_URL": mongo_url,
        "FORO_NAMESPACE": declared,
        "NOTIFICATION_SMTP_HOST": "127.0.0.1",
        "NOTIFICATION_SMTP_PORT": str(smtp_port),
    }
    _, without = foro_check(**env)
    _, with_file = foro_check("--secrets-file", str(secrets_file), **env)
    assert by_check(without)["secret FORO_AUTH_PUBLIC_KEYS"]["status"] == "warn"
    secret_rows = {k: v for k, v in by_check(with_file).items() if k.startswith("secret ")}
    # Left: the broker's `guest` user (the local broker's, not a secret foro makes) and the
    # development secretariat tokens, which production refuses.
    static = {
        f"secret {service}_API_TOKENS"
        for service in ("REGISTRATION", "SCHEDULING", "EXPO", "NOTIFICATION", "REPORTING")
    }
    assert set(secret_rows) == {"secret FORO_BROKER_URL", *static}, secret_rows
    assert all("static secretariat tokens" in secret_rows[row]["detail"] for row in static)
