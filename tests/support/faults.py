"""The fault suite's harness: the platform as real OS processes, faults done to it for real, and
Jepsen-style accounting of what reached people.

- `Platform` runs SecantusDB (its own process, storage and port, so it can be killed with -9 and
  started again on the same path and port), an SMTP sink, and the services as
  `python -m services.<name>.main` processes. The services reach the broker and the database
  through a `TcpProxy` each (network faults), and each names its AMQP connection
  `foro-faults-<namespace>-<service>` (`?name=` in the URL), so `RabbitAdmin.close_connections`
  cuts only this run's connections on a shared node.
- `Vendor` publishes sign-ups as a form vendor does (plain aio-pika, persistent, confirmed,
  mandatory; a failed publish is sent again, the same event), at a steady rate, and lets the test
  wait until the stream is half-way to do the fault there.
- `Platform.account` waits (bounded) for every expected e-mail and for quiescence, then counts:
  sent, participants by status, e-mails per person and type (raw, nothing de-duplicated), lost,
  duplicated, dead letters (every `<ns>.*.dlq`), stuck notification messages, and the time from
  the fault's end to the last expected e-mail. `Accounting.row()` is the one-line table row.
- `PrivateRabbit` is a RabbitMQ node of the test's own (ports, mnesia and logs under a temp dir),
  for restarting a broker without touching the shared one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aio_pika
import yaml
from pymongo import MongoClient

from shared.pack import load_pack
from tests.support import factories
from tests.support.bus import eventually
from tests.support.processes import ROOT, ServiceProcess
from tests.support.servers import free_port, mongo_url_for, secantusd_args
from tests.support.tcp_proxy import TcpProxy

ROW_PREFIX = "FAULT-TABLE"
ROW_HEADER = (
    f"{ROW_PREFIX} | scenario | sent | participants | emails | lost | dup | dlq | stuck | recover_s"
)
ALL_SERVICES = ("registration", "scheduling", "expo", "notification", "reporting")
# The services a sign-up crosses on its way to the person's mailbox.
MAIL_SERVICES = ("registration", "notification")
# What every confirmed sign-up (category business_association: no approval, no capacity) must get.
EXPECTED_TYPES = ("registration_confirmed", "badge_issued")
RECOVERY_BOUND_S = 30.0
# Notification runs on its defaults (a 10 s sending lease renewed while sending, a sweep every
# 5 s): a worker that dies mid-send is taken over within the recovery bound as shipped.

FORUM_ID = load_pack().forum.id
# The services run from this source tree (the repository unless FORO_FAULTS_SOURCE names another,
# e.g. an exported commit while the working tree is mid-edit).
FORUM_START_DATE = (date.today() + timedelta(days=30)).isoformat()
SOURCE = Path(os.environ.get("FORO_FAULTS_SOURCE", str(ROOT))).resolve()


def _die_with_parent() -> None:
    """A child of the test is killed when the test process dies (pytest killed by a timeout)."""
    import ctypes

    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class ServiceRun(ServiceProcess):
    """A service process started from `SOURCE`."""

    def start(self) -> ServiceRun:
        log = open(self.log_path, "ab")
        env = {**self.env, "PYTHONPATH": str(SOURCE)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.service}.main"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=SOURCE,
            preexec_fn=_die_with_parent,
        )
        log.close()
        return self


def _subject_prefixes() -> dict[str, str]:
    """Subject line (up to its first placeholder) → message type, from the pack's templates."""
    folder = ROOT / "shared" / "pack" / "packs" / "crm-2004" / "templates"
    prefixes: dict[str, str] = {}
    for message_type in EXPECTED_TYPES:
        document = yaml.safe_load((folder / f"{message_type}.yaml").read_text())
        for part in document.values():
            if isinstance(part, dict) and part.get("subject"):
                prefix = part["subject"].split("{{")[0].strip()
                if prefix:
                    prefixes[prefix] = message_type
    return prefixes


SUBJECTS = _subject_prefixes()


def message_type_of(subject: str) -> str:
    for prefix, message_type in SUBJECTS.items():
        if subject.startswith(prefix):
            return message_type
    return "other:" + subject[:40]


def signup(run: str, n: int) -> dict[str, Any]:
    return factories.signup(
        producer="fault-form",
        submission_id=f"fault-{run}-{n}",
        category="business_association",
        given_name="Persona",
        family_name=f"Falla {n}",
        email=f"fault.{run}.{n}@example.org",
        organisation="Cámara de Comercio",
        consents={"privacy_policy": True},
    )


# --------------------------------------------------------------------------- processes


async def _exited(process: subprocess.Popen, timeout: float) -> bool:
    async def gone() -> bool:
        return process.poll() is not None

    try:
        await eventually(gone, timeout, "process exit")
        return True
    except AssertionError:
        return False


async def terminate(process: subprocess.Popen | None, timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout` (never blocks the event loop)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    if not await _exited(process, timeout):
        process.kill()
        await _exited(process, 10)


async def kill9(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.kill()
    await _exited(process, 10)


class Database:
    """SecantusDB on a fixed port and storage path, for the life of a test."""

    def __init__(self, root: Path) -> None:
        self.storage = root / "db"
        self.storage.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log_path = root / "secantusdb.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return mongo_url_for(self.port)

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            secantusd_args(self.port, self.storage),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        log.close()

    async def ready(self, timeout: float = 60.0) -> None:
        def ping() -> bool:
            client = MongoClient(self.url, serverSelectionTimeoutMS=300, connectTimeoutMS=300)
            try:
                client.admin.command("ping")
                return True
            except Exception:
                return False
            finally:
                client.close()

        async def answers() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"SecantusDB exited ({self.process.returncode}): {tail(self.log_path)}"
                )
            return await asyncio.to_thread(ping)

        await eventually(answers, timeout, "SecantusDB to answer")

    async def kill9(self) -> None:
        await kill9(self.process)

    async def stop(self) -> None:
        await terminate(self.process, 15)

    def query(self, fn: Any) -> Any:
        client = MongoClient(self.url, serverSelectionTimeoutMS=5000)
        try:
            return fn(client)
        finally:
            client.close()


def tail(path: Path, lines: int = 15) -> str:
    return (
        "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
    )


def notable_log_lines(path: Path, limit: int = 12) -> list[str]:
    """Warnings, errors and tracebacks of a service log: the evidence a failed run reports."""
    if not path.exists():
        return []
    found: list[str] = []
    for line in path.read_text(errors="replace").splitlines():
        if re.search(r'"level": ?"(warning|error|critical)"|Traceback|Error:|Exception', line):
            found.append(line[:400])
    counts = Counter(
        re.sub(r'"(timestamp|message_id|correlation_id|event_id|ms|delay_s)": ?"?[^,"]*"?', "", x)
        for x in found
    )
    # one example of each kind of line, the most frequent first
    seen: dict[str, str] = {}
    for line in found:
        key = re.sub(
            r'"(timestamp|message_id|correlation_id|event_id|ms|delay_s)": ?"?[^,"]*"?', "", line
        )
        seen.setdefault(key, line)
    return [
        f"{counts[key]}× {line}"
        for key, line in sorted(seen.items(), key=lambda kv: -counts[kv[0]])
    ][:limit]


# --------------------------------------------------------------------------- broker admin


# The distribution's own scripts: /usr/sbin's wrappers switch to the rabbitmq user, whose home
# and cookie a private node must not share.
RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")


class RabbitAdmin:
    """`rabbitmqctl` against one node (the shared one unless named), bounded and non-blocking."""

    def __init__(self, node: str | None = None, env: dict[str, str] | None = None) -> None:
        self.node = node
        self.env = env

    async def ctl(self, *args: str, timeout: float = 30.0, check: bool = True) -> str:
        program = str(RABBITMQ_BIN / "rabbitmqctl") if self.env is not None else "rabbitmqctl"
        command = [program, *(["-n", self.node] if self.node else []), *args]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
            cwd=self.env.get("HOME") if self.env else None,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"{' '.join(command)} did not answer within {timeout}s") from None
        if check and process.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} failed ({process.returncode}): {err.decode()[-500:]}"
            )
        return out.decode()

    async def queue_names(self, namespace: str) -> list[str]:
        """This namespace's queues. Names only: `list_queues … messages` waits on every queue of
        the node, and one unresponsive queue of somebody else's would stall it for a minute."""
        out = await self.ctl("-q", "list_queues", "--no-table-headers", "name")
        return [
            line.strip() for line in out.splitlines() if line.strip().startswith(f"{namespace}.")
        ]

    async def queue_depths(self, namespace: str, amqp_url: str) -> dict[str, int]:
        """Ready and unacknowledged messages per queue of the namespace (passive declares)."""
        names = await self.queue_names(namespace)
        depths: dict[str, int] = {}
        connection = await aio_pika.connect(amqp_url, timeout=10)
        async with connection:
            channel = await connection.channel()
            for name in names:
                try:
                    queue = await asyncio.wait_for(channel.declare_queue(name, passive=True), 10)
                    depths[name] = queue.declaration_result.message_count
                except Exception:  # deleted meanwhile: the channel is closed, take another
                    channel = await connection.channel()
        return depths

    async def close_connections(
        self, name_prefix: str, reason: str = "fault suite: connection cut"
    ) -> int:
        """Close the connections whose client-provided name starts with `name_prefix`; how many."""
        out = await self.ctl(
            "-q", "list_connections", "--no-table-headers", "pid", "client_properties"
        )
        pids = []
        for line in out.splitlines():
            pid, _, properties = line.partition("\t")
            match = re.search(r'\{"connection_name","([^"]*)"\}', properties)
            if match and match.group(1).startswith(name_prefix):
                pids.append(pid.strip())
        for pid in pids:
            await self.ctl("close_connection", pid, reason, check=False)
        return len(pids)


class PrivateRabbit:
    """A RabbitMQ node of this test's own: `start()`, `restart()` on the same ports and mnesia
    directory, `kill()` at teardown. Nothing of the shared node is touched."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.node = f"foro-faults-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.mnesia = root / "mnesia"
        self.logs = root / "log"
        self.config = root / "rabbitmq.conf"
        self.plugins = root / "enabled_plugins"
        self.admin = RabbitAdmin(self.node, self._env())
        self.process: subprocess.Popen | None = None
        self.log_path = root / "rabbitmq-server.log"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.mnesia),
            "RABBITMQ_LOG_BASE": str(self.logs),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.plugins),
            "RABBITMQ_CONFIG_FILE": str(self.config.with_suffix("")),  # rabbitmq adds .conf
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.root / "advanced.config"),
            "RABBITMQ_PID_FILE": str(self.root / "node.pid"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(self.root / "feature_flags"),
            # Its own Erlang cookie (generated on first start) and crash dump, nothing shared.
            "HOME": str(self.root),
            "ERL_CRASH_DUMP": str(self.root / "erl_crash.dump"),
        }

    async def start(self, timeout: float = 90.0) -> None:
        self.mnesia.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.plugins.write_text("[].\n")
        (self.root / "rabbitmq-env.conf").write_text("")
        (self.root / "advanced.config").write_text("[].\n")
        self.config.write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            "vm_memory_high_watermark.relative = 0.2\n"
            "disk_free_limit.absolute = 50MB\n"
        )
        # Starting a process is instant; only the wait for it to boot is awaited.
        log = open(self.log_path, "ab")  # noqa: ASYNC230 - the child keeps it open
        # Foreground, as a child we own: killing it by PID always works.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            [str(RABBITMQ_BIN / "rabbitmq-server")],
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"private RabbitMQ exited ({self.process.returncode}): {tail(self.log_path)}"
                )
            try:
                await self.admin.ctl("await_startup", "--timeout", "10", timeout=20)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"private RabbitMQ not up within {timeout}s: {tail(self.log_path)}"
                    ) from None

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop the node (bounded), falling back to killing its process group."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(AssertionError):
            await self.admin.ctl("stop", timeout=timeout, check=False)
        if not await _exited(self.process, 10):
            self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        # epmd may keep the node's name registered; a fresh name each run makes it harmless.

    async def restart(self) -> None:
        await self.stop()
        await self.start()


# --------------------------------------------------------------------------- vendor


class Vendor:
    """A form vendor publishing sign-ups at a steady rate; a failed publish is sent again."""

    def __init__(self, url: str, namespace: str) -> None:
        self.url = url
        self.exchange_name = f"{namespace}.intake"
        self.published = 0
        self.republished = 0
        self._progress = asyncio.Condition()
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None

    async def _channel(self) -> aio_pika.abc.AbstractExchange:
        if self._exchange is None:
            self._connection = await aio_pika.connect(self.url, timeout=5)
            channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._exchange = await channel.get_exchange(self.exchange_name)
        return self._exchange

    async def _reset(self) -> None:
        connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 5)

    async def publish_raw(
        self,
        body: bytes,
        message_id: str,
        content_type: str = "application/json",
        routing_key: str = "registration.submitted",
        deadline_s: float = 90.0,
    ) -> None:
        deadline = time.monotonic() + deadline_s
        backoff = 0.2
        while True:
            try:
                exchange = await self._channel()
                await asyncio.wait_for(
                    exchange.publish(
                        aio_pika.Message(
                            body,
                            content_type=content_type,
                            message_id=message_id,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        ),
                        routing_key=routing_key,
                        mandatory=True,
                    ),
                    10,
                )
                return
            except (
                Exception
            ) as error:  # the broker is down or the publish unconfirmed: send it again
                await self._reset()
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"vendor could not publish for {deadline_s}s: {error!r}"
                    ) from error
                self.republished += 1
                await asyncio.sleep(backoff)  # a vendor's retry pause: there is nothing to await
                backoff = min(backoff * 2, 2.0)

    async def publish(self, body: dict[str, Any]) -> None:
        await self.publish_raw(json.dumps(body).encode(), body["event_id"])
        async with self._progress:
            self.published += 1
            self._progress.notify_all()

    async def stream(self, bodies: list[dict[str, Any]], rate: float) -> None:
        started = time.monotonic()
        for index, body in enumerate(bodies):
            if (wait := started + index / rate - time.monotonic()) > 0:
                await asyncio.sleep(wait)  # the vendor's pace
            await self.publish(body)

    async def reached(self, count: int, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            async with self._progress:
                await self._progress.wait_for(lambda: self.published >= count)

    async def close(self) -> None:
        await self._reset()


# --------------------------------------------------------------------------- mail


class Mailbox:
    """The SMTP sink's folder, read incrementally (headers only)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parsed: dict[str, tuple[str, str, str]] = {}  # file → (recipient, type, Message-ID)
        self._parser = BytesParser(policy=policy.default)

    def scan(self) -> list[tuple[str, str, str]]:
        for path in sorted(self.folder.glob("*.eml")):
            if path.name in self.parsed:
                continue
            with path.open("rb") as handle:
                message = self._parser.parse(handle, headersonly=True)
            recipient = str(message["To"] or "").strip()
            recipient = recipient.split("<")[-1].rstrip(">").strip().lower()
            self.parsed[path.name] = (
                recipient,
                message_type_of(str(message["Subject"] or "")),
                str(message["Message-ID"] or ""),
            )
        return list(self.parsed.values())


# --------------------------------------------------------------------------- accounting


@dataclass
class Accounting:
    scenario: str
    sent: int = 0
    participants: dict[str, int] = field(default_factory=dict)
    emails: int = 0
    emails_by_type: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)  # "person type ×n (k distinct Message-IDs)"
    duplicate_copies: int = 0
    duplicate_distinct_ids: int = 0  # copies with a Message-ID of their own: never excusable
    dlq: dict[str, int] = field(default_factory=dict)
    dlq_reasons: list[str] = field(default_factory=list)
    stuck: dict[str, int] = field(default_factory=dict)
    recover_s: float | None = None
    notes: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)

    @property
    def dead_lettered(self) -> int:
        return sum(self.dlq.values())

    @property
    def stuck_total(self) -> int:
        return sum(self.stuck.values())

    def row(self) -> str:
        people = sum(self.participants.values())
        statuses = ",".join(f"{k}={v}" for k, v in sorted(self.participants.items()))
        recover = "-" if self.recover_s is None else f"{self.recover_s:.1f}"
        return (
            f"{ROW_PREFIX} | {self.scenario} | {self.sent} | {people} ({statuses or 'none'}) | {self.emails} | "
            f"{len(self.lost)} | {self.duplicate_copies} | {self.dead_lettered} | {self.stuck_total} | {recover}"
        )

    def explain(self) -> str:
        lines = [ROW_HEADER, self.row()]
        if self.lost:
            lines.append(
                f"lost ({len(self.lost)}): {', '.join(self.lost[:12])}{' …' if len(self.lost) > 12 else ''}"
            )
        if self.duplicated:
            lines.append(f"duplicated: {', '.join(self.duplicated[:12])}")
        if self.dlq:
            lines.append("dead letters: " + ", ".join(f"{k}={v}" for k, v in self.dlq.items()))
        lines += [f"  dlq reason: {reason}" for reason in self.dlq_reasons[:12]]
        if self.stuck:
            lines.append(
                "stuck notification messages: "
                + ", ".join(f"{k}={v}" for k, v in self.stuck.items())
            )
        lines.append(
            "e-mails by type: "
            + ", ".join(f"{k}={v}" for k, v in sorted(self.emails_by_type.items()))
        )
        lines += [f"note: {note}" for note in self.notes]
        lines += self.evidence
        return "\n".join(lines)

    def assert_guarantees(
        self, *, dlq: int = 0, same_id_copies: int = 0, bound: float = RECOVERY_BOUND_S
    ) -> None:
        """lost = 0, no duplicate (but up to `same_id_copies` copies carrying the original's
        Message-ID: the documented window), `dlq` dead letters, nothing stuck, recovery within `bound`."""
        problems = []
        if self.lost:
            problems.append(f"{len(self.lost)} lost")
        if self.duplicate_distinct_ids:
            problems.append(f"{self.duplicate_distinct_ids} duplicated with a new Message-ID")
        if self.duplicate_copies - self.duplicate_distinct_ids > same_id_copies:
            problems.append(
                f"{self.duplicate_copies - self.duplicate_distinct_ids} same-Message-ID copies (bound {same_id_copies})"
            )
        if self.dead_lettered != dlq:
            problems.append(f"{self.dead_lettered} dead-lettered (expected {dlq})")
        if self.stuck_total:
            problems.append(f"{self.stuck_total} notification messages stuck")
        if self.recover_s is None or self.recover_s > bound:
            problems.append(f"recovery {self.recover_s} s (bound {bound} s)")
        assert not problems, "; ".join(problems) + "\n" + self.explain()


def results_file(base: Path) -> Path:
    return base / "faults-results.txt"


def record(accounting: Accounting, results: Path, rows: list[str]) -> None:
    """Print the row (shown with -s) and keep it for the terminal summary and the results file."""
    row = accounting.row()
    print(row, flush=True)
    rows.append(row)
    with results.open("a") as handle:
        handle.write(row + "\n")


# --------------------------------------------------------------------------- the platform


class Platform:
    def __init__(
        self,
        root: Path,
        namespace: str,
        broker_url: str,
        *,
        services: Iterable[str] = MAIL_SERVICES,
        admin: RabbitAdmin | None = None,
        broker_proxy: bool = True,
        mongo_proxy: bool = True,
    ) -> None:
        self.root = root
        self.namespace = namespace
        self.broker_url = broker_url
        self.services = tuple(services)
        self.admin = admin or RabbitAdmin()
        self.use_broker_proxy = broker_proxy
        self.use_mongo_proxy = mongo_proxy
        self.database = Database(root)
        self.sink = None
        self.mailbox = Mailbox(root / "mail")
        self.broker_proxy: TcpProxy | None = None
        self.mongo_proxy: TcpProxy | None = None
        self.processes: dict[str, ServiceRun] = {}
        self.vendor = Vendor(broker_url, namespace)
        self.run = uuid.uuid4().hex[:8]
        self.people: dict[str, dict[str, Any]] = {}  # e-mail → the sign-up
        self.started_at = time.monotonic()

    def connection_prefix(self) -> str:
        return f"foro-faults-{self.namespace}-"

    def _service_env(self, service: str) -> dict[str, str]:
        broker = (
            self.broker_proxy.url_for(self.broker_url) if self.broker_proxy else self.broker_url
        )
        mongo = (
            self.mongo_proxy.url_for(self.database.url) if self.mongo_proxy else self.database.url
        )
        separator = "&" if "?" in broker else "?"
        token = "fault-suite-token"
        return {
            "FORO_BROKER_URL": f"{broker}{separator}name={self.connection_prefix()}{service}",
            "FORO_MONGO_URL": mongo,
            "FORO_NAMESPACE": self.namespace,
            # Registration closes when the forum ends: the pack's forum (2004) is moved ahead.
            "FORO_FORUM_START_DATE": FORUM_START_DATE,
            "FORO_LOG_FORMAT": "json",
            "FORO_LOG_LEVEL": "INFO",
            "FORO_API_TOKENS": json.dumps([token]),
            f"{service.upper()}_API_TOKENS": json.dumps([token]),
            "FORO_BADGE_SECRET": "fault-suite-badge-secret-0123456789abcdef",
            "FORO_PARTICIPANT_TOKEN_SECRET": "fault-suite-participant-secret-0123456789",
            "NOTIFICATION_SMTP_HOST": "127.0.0.1",
            "NOTIFICATION_SMTP_PORT": str(self.sink.port),
            "PYTHONUNBUFFERED": "1",
        }

    async def start(self) -> Platform:
        from services.notification.sink import SmtpSink

        self.database.start()
        self.sink = SmtpSink(self.root / "mail", port=free_port()).start()
        if self.use_broker_proxy:
            self.broker_proxy = await TcpProxy.for_url(self.broker_url).start()
        if self.use_mongo_proxy:
            self.mongo_proxy = await TcpProxy("127.0.0.1", self.database.port).start()
        await self.database.ready()
        for service in self.services:
            self.processes[service] = ServiceRun(
                service, self._service_env(service), self.root / f"{service}.log"
            )
        for process in self.processes.values():
            process.start()
        await self.ready(*self.services)
        return self

    async def ready(self, *services: str, timeout: float = 90.0) -> None:
        await asyncio.gather(*(self.processes[s].ready(timeout) for s in services or self.services))

    async def kill9(self, service: str) -> None:
        await kill9(self.processes[service].process)

    async def sigterm(self, *services: str, timeout: float = 40.0) -> dict[str, int | None]:
        chosen = services or self.services
        for service in chosen:
            process = self.processes[service].process
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = {}
        for service in chosen:
            process = self.processes[service].process
            codes[service] = process.returncode if await _exited(process, timeout) else None
        return codes

    def start_services(self, *services: str) -> None:
        for service in services or self.services:
            self.processes[service].start()

    async def stop(self) -> None:
        await asyncio.gather(
            *(terminate(p.process, 30) for p in self.processes.values()), return_exceptions=True
        )
        await self.vendor.close()
        for proxy in (self.broker_proxy, self.mongo_proxy):
            if proxy is not None:
                with contextlib.suppress(Exception):
                    await proxy.stop()
        if self.sink is not None:
            self.sink.stop()
        await self.database.stop()

    # ----------------------------------------------------------------- the stream

    def signups(self, count: int) -> list[dict[str, Any]]:
        bodies = [signup(self.run, len(self.people) + n) for n in range(count)]
        for body in bodies:
            self.people[body["email"]] = body
        return bodies

    def stream(self, count: int, rate: float = 10.0) -> asyncio.Task[None]:
        """Publish `count` sign-ups at `rate` per second in the background."""
        return asyncio.create_task(self.vendor.stream(self.signups(count), rate))

    # ----------------------------------------------------------------- accounting

    def mail_counts(self) -> tuple[dict[tuple[str, str], list[str]], int, Counter]:
        """(person, type) → Message-IDs received for this run's people; total; by type."""
        received: dict[tuple[str, str], list[str]] = {}
        by_type: Counter = Counter()
        total = 0
        for recipient, message_type, message_id in self.mailbox.scan():
            if recipient not in self.people:
                continue
            total += 1
            by_type[message_type] += 1
            received.setdefault((recipient, message_type), []).append(message_id)
        return received, total, by_type

    def missing(self) -> list[str]:
        received, _, _ = self.mail_counts()
        return [
            f"{person} {message_type}"
            for person in self.people
            for message_type in EXPECTED_TYPES
            if (person, message_type) not in received
        ]

    def _statuses(self) -> tuple[dict[str, int], dict[str, int]]:
        from services.notification import domain

        def read(client: MongoClient) -> tuple[dict[str, int], dict[str, int]]:
            people = {
                row["_id"] or "?": row["n"]
                for row in client["foro_registration"]["participants"].aggregate(
                    [{"$group": {"_id": "$status", "n": {"$sum": 1}}}]
                )
            }
            stuck = {
                row["_id"] or "?": row["n"]
                for row in client["foro_notification"]["messages"].aggregate(
                    [
                        {"$match": {"status": {"$nin": list(domain.FINAL)}}},
                        {"$group": {"_id": "$status", "n": {"$sum": 1}}},
                    ]
                )
            }
            return people, stuck

        return self.database.query(read)

    async def busy_queues(self) -> dict[str, int]:
        depths = await self.admin.queue_depths(self.namespace, self.broker_url)
        return {
            name: n
            for name, n in depths.items()
            if n and not name.endswith(".dlq") and name != f"{self.namespace}.events.log"
        }

    async def account(
        self,
        scenario: str,
        fault_end: float | None,
        *,
        wait: float = RECOVERY_BOUND_S + 30.0,
        settle: float = 30.0,
    ) -> Accounting:
        """Wait (bounded) for every expected e-mail, then for quiescence, then count."""
        accounting = Accounting(scenario, sent=len(self.people))
        origin = fault_end if fault_end is not None else time.monotonic()
        deadline = origin + wait

        async def complete() -> bool:
            return not await asyncio.to_thread(self.missing)

        try:
            await eventually(
                complete, max(deadline - time.monotonic(), 1.0), "every expected e-mail"
            )
            accounting.recover_s = max(time.monotonic() - origin, 0.0)
        except AssertionError:
            accounting.notes.append(
                f"not every expected e-mail within {wait:.0f}s of the fault's end"
            )

        async def quiet() -> bool:
            _, stuck = await asyncio.to_thread(self._statuses)
            return not stuck and not await self.busy_queues()

        try:
            await eventually(quiet, settle, "quiescence (no queued message, nothing stuck)")
        except AssertionError:
            accounting.notes.append(
                f"not quiescent after {settle:.0f}s more: busy queues {await self.busy_queues()}"
            )

        received, accounting.emails, by_type = await asyncio.to_thread(self.mail_counts)
        accounting.emails_by_type = dict(by_type)
        accounting.lost = [
            f"{person} {t}"
            for person in self.people
            for t in EXPECTED_TYPES
            if (person, t) not in received
        ]
        for (person, message_type), ids in sorted(received.items()):
            if len(ids) > 1:
                distinct = len(set(ids))
                accounting.duplicate_copies += len(ids) - 1
                accounting.duplicate_distinct_ids += distinct - 1
                accounting.duplicated.append(
                    f"{person} {message_type} ×{len(ids)} ({distinct} distinct Message-IDs)"
                )
        accounting.participants, accounting.stuck = await asyncio.to_thread(self._statuses)
        depths = await self.admin.queue_depths(self.namespace, self.broker_url)
        accounting.dlq = {name: n for name, n in depths.items() if name.endswith(".dlq") and n}
        accounting.dlq_reasons = await self.dead_letter_reasons(accounting.dlq)
        if (
            accounting.lost
            or accounting.duplicated
            or accounting.dlq
            or accounting.stuck
            or accounting.recover_s is None
            or accounting.recover_s > RECOVERY_BOUND_S
        ):
            accounting.evidence = self.evidence()
        return accounting

    async def dead_letter_reasons(self, dlqs: dict[str, int]) -> list[str]:
        """Every dead letter's queue, event type and reason (read without taking them)."""
        if not dlqs:
            return []
        reasons = []
        connection = await aio_pika.connect(self.broker_url, timeout=10)
        async with connection:
            channel = await connection.channel()
            for name in dlqs:
                queue = await channel.declare_queue(name, passive=True)
                taken = []
                while (message := await queue.get(fail=False, no_ack=False)) is not None:
                    taken.append(message)
                    headers = message.headers or {}
                    reasons.append(
                        f"{name}: {headers.get('event_type', message.routing_key)} message_id={message.message_id} "
                        f"reason={headers.get('x-foro-dead-letter-reason', headers.get('x-first-death-reason', '?'))}"
                    )
                    if len(taken) >= 50:
                        break
                for message in taken:
                    await message.nack(requeue=True)
        return reasons

    def evidence(self) -> list[str]:
        lines = []
        for service, process in self.processes.items():
            notable = notable_log_lines(process.log_path)
            if notable:
                lines.append(
                    f"--- {service} log ({process.log_path}): warnings/errors, one example of each"
                )
                lines += notable
        return lines


async def proxies_reconnected(
    proxy: TcpProxy, before: int, services: int, timeout: float = 30.0
) -> None:
    """Wait until the services have opened new connections through `proxy` since `before`."""
    await proxy.wait_accepted(before + services, timeout)


def python() -> str:
    return sys.executable


def rabbitmq_available() -> bool:
    return (RABBITMQ_BIN / "rabbitmq-server").exists() and (RABBITMQ_BIN / "rabbitmqctl").exists()
