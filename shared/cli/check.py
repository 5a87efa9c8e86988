"""`foro check`: is this environment fit to run foro? Each check answers ok, warn or fail.

It reads the environment the services read (their settings classes: FORO_BROKER_URL,
FORO_MONGO_URL, FORO_NAMESPACE, the NOTIFICATION_SMTP_*/SMS settings, every secret) and asks:
- broker: an AMQP handshake, the server's version, the namespace's exchanges and event log;
- database: a ping, the server's version, each service's database answering;
- SMTP relays: connect and EHLO (no mail sent, no login), STARTTLS offered where configured;
- SMS gateways: an HTTP answer from each gateway's base URL (any status: it is reachable);
- secrets: the production policy (shared/secrets_policy.py); FORO_ENVIRONMENT=production makes a
  finding a failure, development a warning;
- versions: python, foro and its main libraries, RabbitMQ and MongoDB.
Every network check is bounded by --timeout. Exit code 1 when any check fails.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import platform
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console
from rich.table import Table

from shared.cli.secrets import read_env
from shared.secrets_policy import local_service_environment

if TYPE_CHECKING:
    from services.notification.settings import NotificationSettings
    from shared.settings import ServiceSettings

Status = Literal["ok", "warn", "fail"]
SERVICES = ("registration", "scheduling", "expo", "notification", "reporting")
LIBRARIES = ("foro", "faststream", "pymongo", "aio-pika", "pydantic", "fastapi")
STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


@dataclass
class Outcome:
    check: str
    status: Status
    detail: str


class _Environment(BaseSettings):
    """Only FORO_ENVIRONMENT: whether a weak secret is a warning or a failure."""

    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development", validation_alias=AliasChoices("FORO_ENVIRONMENT")
    )


@dataclass
class Context:
    """What the checks read: every service's settings, built from the environment."""

    environment: str
    settings: dict[str, ServiceSettings]
    timeout: float
    versions: dict[str, str]

    @property
    def any(self) -> ServiceSettings:
        return next(iter(self.settings.values()))


def _settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    found: type[ServiceSettings] = getattr(module, f"{service.capitalize()}Settings")
    return found


def load_settings() -> tuple[Context | None, list[Outcome]]:
    """Every service's settings as its process would read them; never refused here, whatever
    FORO_ENVIRONMENT says (the secrets check reports what production would refuse)."""
    outcomes: list[Outcome] = []
    try:
        environment = _Environment().environment
    except ValidationError:
        environment = "production"  # unknown: judge as strictly as production does
        outcomes.append(
            Outcome("settings", "fail", "FORO_ENVIRONMENT: must be development or production")
        )
    loaded: dict[str, ServiceSettings] = {}
    for service in SERVICES:
        try:
            loaded[service] = _settings_class(service)(environment="development")
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
                for e in error.errors(include_input=False, include_url=False)
            )
            outcomes.append(Outcome(f"settings ({service})", "fail", problems))
        except RuntimeError as error:  # a refusal worded without the values (OIDC providers, …)
            outcomes.append(Outcome(f"settings ({service})", "fail", str(error)))
    if not loaded:
        return None, outcomes
    return Context(environment, loaded, 0.0, {}), outcomes


# --- broker -------------------------------------------------------------------------------------


async def check_broker(context: Context) -> list[Outcome]:
    import aio_pika
    from aio_pika.exceptions import ChannelClosed

    from shared.messaging.topology import Topology

    settings = context.any
    url = settings.broker_url.get_secret_value()
    where = _redacted(url)
    # aio-pika logs a refused connection itself; the outcome below says it once.
    logging.getLogger("aio_pika").setLevel(logging.CRITICAL)
    logging.getLogger("aiormq").setLevel(logging.CRITICAL)
    try:
        connection = await aio_pika.connect(url, timeout=context.timeout)
    except Exception as error:  # any failure to connect is this check's answer
        return [Outcome("broker", "fail", f"{where}: {_reason(error)}")]
    try:
        transport = connection.transport
        properties = transport.connection.server_properties if transport else {}
        product = str(properties.get("product", "AMQP broker"))
        version = str(properties.get("version", "?"))
        context.versions["RabbitMQ" if product == "RabbitMQ" else product] = version
        outcomes = [Outcome("broker", "ok", f"{where}: {product} {version}")]
        topology = Topology(namespace=settings.namespace)
        missing = []
        for exchange in (topology.events, topology.intake, topology.dead_letters):
            channel = await connection.channel()
            try:
                await channel.get_exchange(exchange.name, ensure=True)
            except ChannelClosed:
                missing.append(exchange.name)
            finally:
                if not channel.is_closed:
                    await channel.close()
        channel = await connection.channel()
        try:
            await channel.get_queue(topology.event_log_name, ensure=True)
        except ChannelClosed:
            missing.append(topology.event_log_name)
        finally:
            if not channel.is_closed:
                await channel.close()
        if missing:
            outcomes.append(
                Outcome(
                    "broker topology",
                    "warn",
                    f"namespace {settings.namespace!r}: not declared yet: {', '.join(missing)} "
                    "(no service has started in it; `foro topology declare` declares them)",
                )
            )
        else:
            outcomes.append(
                Outcome(
                    "broker topology",
                    "ok",
                    f"namespace {settings.namespace!r}: exchanges events, intake, dlx and the "
                    "event log present",
                )
            )
        return outcomes
    finally:
        await connection.close()


# --- database -----------------------------------------------------------------------------------


async def check_database(context: Context) -> list[Outcome]:
    from pymongo import AsyncMongoClient

    url = context.any.mongo_url.get_secret_value()
    where = _redacted(url)
    milliseconds = int(context.timeout * 1000)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=milliseconds,
        connectTimeoutMS=milliseconds,
        socketTimeoutMS=milliseconds,
        appname="foro-check",
    )
    try:
        try:
            await client.admin.command("ping")
            info = await client.server_info()
        except Exception as error:
            return [Outcome("database", "fail", f"{where}: {_reason(error)}")]
        version = str(info.get("version", "?"))
        context.versions["MongoDB"] = version
        outcomes = [Outcome("database", "ok", f"{where}: MongoDB-compatible server {version}")]
        answered, failed = [], []
        for service, settings in context.settings.items():
            try:
                await client[settings.database].list_collection_names()
                answered.append(settings.database)
            except Exception as error:
                failed.append(f"{service} ({settings.database}): {_reason(error)}")
        if failed:
            outcomes.append(Outcome("service databases", "fail", "; ".join(failed)))
        else:
            outcomes.append(Outcome("service databases", "ok", ", ".join(answered)))
        return outcomes
    finally:
        await client.close()


# --- SMTP and SMS -------------------------------------------------------------------------------


async def check_smtp(context: Context) -> list[Outcome]:
    import aiosmtplib

    from services.notification.smtp import smtp_providers

    notification = context.settings.get("notification")
    if notification is None:
        return [Outcome("smtp", "fail", "notification settings did not load")]
    outcomes = []
    for relay in smtp_providers(_notification(notification)):
        name = f"smtp {relay.name}"
        session = aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            use_tls=relay.security == "tls",
            start_tls=False,
            validate_certs=relay.validate_certs,
            timeout=min(context.timeout, relay.timeout_seconds),
        )
        where = f"{relay.host}:{relay.port} ({relay.security})"
        try:
            await session.connect()
            await session.ehlo()
        except Exception as error:
            outcomes.append(Outcome(name, "fail", f"{where}: {_reason(error)}"))
            continue
        starttls = session.supports_extension("starttls")
        auth = session.supports_extension("auth")
        try:
            await session.quit()
        except Exception:  # the answer is in; a rude goodbye does not change it
            session.close()
        if relay.security == "starttls" and not starttls:
            outcomes.append(Outcome(name, "fail", f"{where}: EHLO ok, but STARTTLS not offered"))
        elif relay.username and not auth and relay.security != "starttls":
            outcomes.append(
                Outcome(name, "warn", f"{where}: EHLO ok, but AUTH not offered for the user")
            )
        elif relay.security == "none" and starttls:
            outcomes.append(
                Outcome(
                    name,
                    "warn",
                    f"{where}: EHLO ok; the relay offers STARTTLS but security is none: "
                    "mail leaves unencrypted",
                )
            )
        else:
            offered = ", STARTTLS offered" if starttls else ""
            outcomes.append(Outcome(name, "ok", f"{where}: EHLO ok{offered}"))
    return outcomes


async def check_sms(context: Context) -> list[Outcome]:
    import httpx

    notification = context.settings.get("notification")
    if notification is None:
        return [Outcome("sms", "fail", "notification settings did not load")]
    gateways = _notification(notification).sms_providers
    if not gateways:
        return [Outcome("sms", "ok", "no SMS gateway configured (e-mail only)")]
    outcomes = []
    async with httpx.AsyncClient(timeout=context.timeout, follow_redirects=False) as client:
        for gateway in gateways:
            name = f"sms {gateway.name}"
            try:
                response = await client.get(gateway.base_url)
            except Exception as error:
                outcomes.append(Outcome(name, "fail", f"{gateway.base_url}: {_reason(error)}"))
                continue
            outcomes.append(
                Outcome(name, "ok", f"{gateway.base_url}: reachable (HTTP {response.status_code})")
            )
    return outcomes


def _notification(settings: ServiceSettings) -> NotificationSettings:
    from services.notification.settings import NotificationSettings

    assert isinstance(settings, NotificationSettings)
    return settings


# --- secrets and versions -----------------------------------------------------------------------


def check_secrets(context: Context) -> list[Outcome]:
    findings: dict[str, str] = {}
    for settings in context.settings.values():
        for problem in settings.secret_problems():
            findings.setdefault(problem.variable, problem.reason)
    if not findings:
        return [Outcome("secrets", "ok", "every secret present and strong")]
    status: Status = "fail" if context.environment == "production" else "warn"
    suffix = "" if status == "fail" else " (production would refuse to start)"
    return [
        Outcome(f"secret {variable}", status, reason + suffix)
        for variable, reason in sorted(findings.items())
    ]


def check_versions(context: Context) -> list[Outcome]:
    parts = [f"python {platform.python_version()}"]
    for library in LIBRARIES:
        try:
            parts.append(f"{library} {metadata.version(library)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{library} (not installed)")
    parts += [f"{name} {version}" for name, version in context.versions.items()]
    rabbit = context.versions.get("RabbitMQ", "")
    if rabbit and rabbit.split(".")[0].isdigit() and int(rabbit.split(".")[0]) < 4:
        return [
            Outcome(
                "versions",
                "warn",
                ", ".join(parts) + f" — RabbitMQ {rabbit} is past community support; run 4.x",
            )
        ]
    return [Outcome("versions", "ok", ", ".join(parts))]


# --- running ------------------------------------------------------------------------------------


def _reason(error: BaseException) -> str:
    """The error in one short line (PyMongo's selection errors append the whole topology)."""
    text = str(error).strip().split(" (configured timeouts")[0].split(", Timeout:")[0]
    text = text if len(text) <= 200 else text[:199] + "…"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _redacted(url: str) -> str:
    """The URL without its credentials: where, never who or with what password."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an invalid URL)"
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}{parts.path}"


async def _bounded(
    name: str, check: Callable[[Context], Awaitable[list[Outcome]]], context: Context
) -> list[Outcome]:
    # The check's own timeouts bound each step; this bounds the whole of it.
    try:
        return await asyncio.wait_for(check(context), timeout=context.timeout * 3 + 1)
    except TimeoutError:
        return [Outcome(name, "fail", f"no answer within {context.timeout * 3 + 1:.0f} s")]
    except Exception as error:
        return [Outcome(name, "fail", _reason(error))]


async def run_checks(context: Context) -> list[Outcome]:
    network = await asyncio.gather(
        _bounded("broker", check_broker, context),
        _bounded("database", check_database, context),
        _bounded("smtp", check_smtp, context),
        _bounded("sms", check_sms, context),
    )
    outcomes = [outcome for group in network for outcome in group]
    return outcomes + check_secrets(context) + check_versions(context)


def report(outcomes: list[Outcome]) -> None:
    table = Table(title="foro check", show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for outcome in outcomes:
        style = STYLE[outcome.status]
        table.add_row(outcome.check, f"[{style}]{outcome.status}[/{style}]", outcome.detail)
    Console().print(table)


def check(
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds each network step may take.")
    ] = 5.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the outcomes as JSON instead of a table.")
    ] = False,
    secrets_file: Annotated[
        Path | None,
        typer.Option(
            "--secrets-file",
            help="Also read the secrets the services get from this file: `.foro/secrets.env` "
            "(what `foro up` passes them) or an env file of service variables; the environment "
            "wins over it.",
        ),
    ] = None,
) -> None:
    """Check the broker, the database, SMTP relays, SMS gateways, secret strength and versions,
    with the environment the services read. Exit code 1 when any check fails."""
    if secrets_file is not None:
        if not secrets_file.is_file():
            typer.echo(f"error: --secrets-file: {secrets_file} is not a file", err=True)
            raise typer.Exit(2)
        values = read_env(secrets_file.read_text())
        for name, value in (values | local_service_environment(values)).items():
            os.environ.setdefault(name, value)
    context, outcomes = load_settings()
    if context is not None:
        context.timeout = timeout
        outcomes += asyncio.run(run_checks(context))
    if as_json:
        typer.echo(json.dumps([asdict(outcome) for outcome in outcomes], indent=2))
    else:
        report(outcomes)
    if any(outcome.status == "fail" for outcome in outcomes):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Adds `foro check` to the root `foro` command."""
    app.command("check")(check)
