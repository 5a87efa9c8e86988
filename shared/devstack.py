"""foro on one machine, on embedded defaults: README command 1 (`deploy/local/up.sh`) ends here.

    foro up            start SecantusDB, the services and the SMTP sink, send a sample sign-up,
                       place a few sample exhibitors on the expo floor, print where everything
                       is; Ctrl-C stops all (`run(UpOptions(...))`)
    foro send-sample   publish one sample sign-up as a form vendor would (plain aio-pika)

The commands are in `shared/cli/stack.py`; this module is the launcher they run. RabbitMQ is the
machine's own (up.sh starts it when it is down). State lives in `.foro/` under the current
directory: the database, logs, secrets, mail, and `run/<name>.pid` for every process the launcher
runs.

`up` supervises what it starts: a process that dies after it was ready is restarted (after 1 s,
doubling to 30 s while it keeps dying; back to 1 s once it has stayed up for a minute) and the
platform keeps running. Ctrl-C or SIGTERM stops the services first — each gets SIGTERM and its
graceful timeout to finish in-flight messages while the broker and the database are still up —
then the SMTP sink, then the database.

The forum starts 30 days after the first run by default (kept in `.foro/forum-start-date` while it
is still ahead, so restarts agree on the programme); `--forum-start-date` or FORO_FORUM_START_DATE
moves it anywhere.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO, Any

import httpx

from shared.secrets_policy import decode_list, generate_local_secrets, local_service_environment
from shared.webhooks import secret_key

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    hints: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return importlib.util.find_spec(f"services.{self.name}.main") is not None


SERVICES = (
    Service(
        "registration",
        8001,
        ("secretariat API: {url}/docs (Authorization: Bearer $FORO_API_TOKEN)",),
    ),
    Service(
        "scheduling",
        8002,
        (
            "agenda: {url}/agenda.json",
            "iCal: {url}/agenda.ics (English: {url}/agenda.ics?lang=en)",
            "per room: {url}/rooms/plenary/agenda.ics",
        ),
    ),
    Service("expo", 8003, ("floor plan: {url}/floor-plan.svg",)),
    Service("notification", 8004, ("delivery status: {url}/messages (secretariat token)",)),
    Service("reporting", 8005, ("statistics: {url}/statistics (secretariat token)",)),
    # The pages (services/web): a backend-for-frontend calling the five above; last, so every
    # service it links to is started before it.
    Service(
        "web",
        8006,
        (
            "secretariat console: {url}/console (an account: .venv/bin/foro users add NAME --role registrar)",
            "public programme: {url}/programme (English: {url}/programme?lang=en)",
            "public sign-up form: {url}/signup · expo floor plan: {url}/expo",
        ),
    ),
)


def log(message: str) -> None:
    print(f"foro: {message}", flush=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


# What `.foro/foro.env` keeps of the services' environment: `foro --env-file .foro/foro.env …`
# runs operator commands against this stack.
OPERATOR_PREFIXES = (
    "FORO_",
    "REGISTRATION_",
    "SCHEDULING_",
    "EXPO_",
    "NOTIFICATION_",
    "REPORTING_",
)


def load_secrets(path: Path) -> dict[str, str]:
    """Secrets generated once per data folder, so restarts keep tokens and signatures valid."""
    known = (
        dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        if path.exists()
        else {}
    )
    values = generate_local_secrets()  # `foro secrets generate` makes the same keys
    values |= known  # keys made by an earlier run stay; keys added since are generated once
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)
    return values


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def sample_signup(forum_id: str, email: str | None = None) -> dict[str, Any]:
    token = uuid.uuid4().hex[:8]
    return {
        "event_type": "registration.submitted",
        "event_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "sample-form",
        "forum_id": forum_id,
        "submission_id": f"sample-{token}",
        "category": "business_association",
        "given_name": "María",
        "family_name": "Hernández",
        "email": email or f"maria.hernandez.{token}@example.org",
        "organisation": "Cámara de Comercio e Industria de El Salvador",
        "country": "SV",
        "language": "es",
        "consents": {
            "privacy_policy": True,
            "listed_publicly": True,
            "share_with_exhibitors": True,
        },
    }


async def publish_signup(broker_url: str, namespace: str, body: dict[str, Any]) -> None:
    """Exactly what a form vendor does: plain aio-pika, persistent, confirmed, mandatory."""
    import aio_pika

    connection = await aio_pika.connect(broker_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(f"{namespace}.intake")
        await exchange.publish(
            aio_pika.Message(
                json.dumps(body).encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=body["event_id"],
            ),
            routing_key="registration.submitted",
            mandatory=True,
        )


FORUM_LEAD_DAYS = 30  # the default forum starts this many days after the first run
RESTART_FIRST = 1.0  # seconds before the first restart of a process that died
RESTART_MAX = 30.0  # the delay doubles up to this while the process keeps dying
STABLE_AFTER = 60.0  # a process up this long before it dies starts again from RESTART_FIRST
SHUTDOWN_MARGIN = 10.0  # seconds a service gets beyond its graceful timeout before SIGKILL
INFRA_STOP_TIMEOUT = 15.0  # the SMTP sink and the database


class StopRequested(Exception):
    """Ctrl-C or SIGTERM while the platform is still starting."""


class StartupFailed(Exception):
    """The platform cannot start: what was started is stopped again and the launcher exits with 1."""


def describe_status(status: int) -> str:
    if status < 0:
        try:
            return f"{status} ({signal.Signals(-status).name})"
        except ValueError:
            return f"{status} (signal {-status})"
    return str(status)


def graceful_timeout(service: str) -> float:
    """The service's own graceful timeout (ServiceSettings.graceful_timeout), as it will read it."""
    try:
        return float(os.environ.get(f"{service.upper()}_GRACEFUL_TIMEOUT", "15"))
    except ValueError:
        return 15.0


def parent_death_signal() -> Callable[[], None] | None:
    """Linux: a child armed with this gets SIGTERM if the launcher dies without stopping it (SIGKILL).

    prctl is looked up here, in the parent: the returned function runs in the child between fork
    and exec, where it must not import anything."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    sigterm = int(signal.SIGTERM)

    def arm() -> None:
        prctl(1, sigterm)  # PR_SET_PDEATHSIG

    return arm


@dataclass
class Supervised:
    """One process the launcher runs and restarts: SecantusDB, the SMTP sink or a service."""

    name: str
    command: list[str]
    env: dict[str, str]
    is_ready: Callable[[], bool]
    where: str
    role: str  # "service" or "infra"; services stop first
    stop_timeout: float = INFRA_STOP_TIMEOUT
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    ever_ready: bool = False
    ready: bool = False
    backoff: float = RESTART_FIRST
    restart_at: float | None = None
    restarts: int = 0
    next_probe: float = 0.0
    log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    @property
    def running(self) -> subprocess.Popen[bytes]:
        assert self.process is not None, f"{self.name} was never started"
        return self.process


@dataclass(frozen=True)
class UpOptions:
    """What `foro up` takes (shared/cli/stack.py holds the options and their help)."""

    data_dir: Path = Path(".foro")
    namespace: str = "foro"
    mongo_port: int = 27117
    port_base: int = 8000
    forum_start_date: str | None = None
    sample: bool = True
    broker_url: str = DEFAULT_BROKER_URL
    mongo_url: str | None = None  # an existing server; SecantusDB is started when None


class Stack:
    def __init__(self, options: UpOptions) -> None:
        self.args = options
        self.data = Path(options.data_dir).resolve()
        self.logs = self.data / "logs"
        self.run_dir = self.data / "run"
        self.supervised: list[Supervised] = []
        self.mail: Path | None = None
        self.stopping = False
        self.hurry = False  # a second Ctrl-C during the shutdown: stop waiting, kill
        self.arm_child = parent_death_signal()

    # -- processes ------------------------------------------------------------------------------

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def spawn(self, item: Supervised) -> None:
        if item.log_file is not None:
            item.log_file.close()
        item.log_file = open(self.logs / f"{item.name}.log", "ab")
        item.process = subprocess.Popen(
            item.command,
            env=item.env,
            stdin=subprocess.DEVNULL,
            stdout=item.log_file,
            stderr=subprocess.STDOUT,
            # Its own process group: a Ctrl-C in the terminal reaches the launcher only, which then
            # stops everything in order (services before the database) instead of all at once.
            process_group=0,
            preexec_fn=self.arm_child,
        )
        item.started_at = time.monotonic()
        item.ready = False
        self.pid_file(item.name).write_text(f"{item.pid}\n")

    def add(self, item: Supervised) -> Supervised:
        self.supervised.append(item)
        self.spawn(item)
        return item

    def tick(self) -> None:
        """Notice processes that died, restart them when their backoff is over, log when they are back."""
        now = time.monotonic()
        for item in self.supervised:
            if self.stopping:
                return
            if (
                item.restart_at is None
                and item.process is not None
                and item.process.poll() is not None
            ):
                status = describe_status(item.process.returncode)
                log_path = self.logs / f"{item.name}.log"
                self.pid_file(item.name).unlink(missing_ok=True)
                if not item.ever_ready:
                    raise StartupFailed(
                        f"{item.name} exited with status {status} before it was ready; see {log_path}"
                    )
                uptime = now - item.started_at
                if uptime >= STABLE_AFTER:
                    item.backoff = RESTART_FIRST
                delay, item.backoff = item.backoff, min(item.backoff * 2, RESTART_MAX)
                item.restart_at, item.ready = now + delay, False
                item.restarts += 1
                log(
                    f"{item.name} (pid {item.pid}) exited with status {status} after {uptime:.0f}s; "
                    f"restarting it in {delay:g}s (restart {item.restarts}; log: {log_path})"
                )
            elif item.restart_at is not None and now >= item.restart_at:
                item.restart_at = None
                self.spawn(item)
                item.next_probe = now
                log(f"{item.name} restarted (pid {item.pid})")
            elif (
                item.ever_ready
                and not item.ready
                and item.restart_at is None
                and now >= item.next_probe
            ):
                item.next_probe = now + 0.5
                if item.is_ready():
                    item.ready = True
                    log(f"{item.name} ready again on {item.where} (pid {item.pid})")

    def wait_ready(self, item: Supervised, timeout: float) -> None:
        """Wait until the process answers, supervising all the others meanwhile."""
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            self.tick()
            if item.alive and item.restart_at is None and item.is_ready():
                item.ever_ready = item.ready = True
                return
            if time.monotonic() > deadline:
                raise StartupFailed(
                    f"timed out after {timeout:g}s waiting for {item.name}; see {self.logs / (item.name + '.log')}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def supervise(self) -> None:
        while not self.stopping:
            self.tick()
            time.sleep(0.2)

    def _terminate(self, items: list[Supervised], what: str) -> None:
        """SIGTERM to all of `items` at once, then wait for each within its own budget, then SIGKILL."""
        running = [item for item in items if item.alive]
        if not running:
            return
        budget = max(item.stop_timeout for item in running)
        log(
            f"stopping {what} (SIGTERM; up to {budget:g}s to finish): {', '.join(item.name for item in running)}"
        )
        started = time.monotonic()
        for item in running:
            item.running.send_signal(signal.SIGTERM)
        for item in running:
            deadline = started + item.stop_timeout
            while item.running.poll() is None and time.monotonic() < deadline and not self.hurry:
                time.sleep(0.05)
            if item.running.poll() is None:
                item.running.kill()
                item.running.wait()
                log(f"{item.name} did not stop in time: killed")
            log(
                f"{item.name} stopped (status {describe_status(item.running.returncode)}, "
                f"after {time.monotonic() - started:.1f}s)"
            )
            self.pid_file(item.name).unlink(missing_ok=True)

    def stop(self) -> None:
        """Services first, while the broker and the database still serve their in-flight work;
        then the SMTP sink and the database, last started first stopped."""
        self.stopping = True
        self._terminate(
            [item for item in self.supervised if item.role == "service"], "the services"
        )
        for item in reversed([item for item in self.supervised if item.role == "infra"]):
            self._terminate([item], item.name)
        for item in self.supervised:
            if item.log_file is not None:
                item.log_file.close()
            self.pid_file(item.name).unlink(
                missing_ok=True
            )  # also of one that died just now, unnoticed
        self.pid_file("devstack").unlink(missing_ok=True)
        log("stopped")

    # -- the platform ---------------------------------------------------------------------------

    def forum_start(self) -> tuple[str, str]:
        """The forum's first day and where it comes from."""
        if self.args.forum_start_date:
            try:
                date.fromisoformat(self.args.forum_start_date)
            except ValueError:
                raise StartupFailed(
                    f"--forum-start-date {self.args.forum_start_date!r} is not a YYYY-MM-DD date"
                ) from None
            return self.args.forum_start_date, "--forum-start-date / FORO_FORUM_START_DATE"
        remembered = self.data / "forum-start-date"
        today = date.today()
        if remembered.exists():
            try:
                kept = date.fromisoformat(remembered.read_text().strip())
            except ValueError:
                kept = None
            if kept is not None and kept > today:
                return kept.isoformat(), f"chosen by an earlier run, kept in {remembered}"
        start = today + timedelta(days=FORUM_LEAD_DAYS)
        remembered.write_text(start.isoformat() + "\n")
        return start.isoformat(), f"today + {FORUM_LEAD_DAYS} days, kept in {remembered}"

    def write_operator_env(self, env: dict[str, str]) -> None:
        """The services' foro variables, secrets included (mode 0600), for operator commands."""
        path = self.data / "foro.env"
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(
            "# Written by `foro up`: the variables its services get. Operator commands against\n"
            "# this stack: .venv/bin/foro --env-file .foro/foro.env <command>\n"
            + "".join(
                f"{name}={value}\n"
                for name, value in sorted(env.items())
                if name.startswith(OPERATOR_PREFIXES) and name != "FORO_LOG_FORMAT"
            )
        )

    def start(self) -> None:
        args = self.args
        self.logs.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.pid_file("devstack").write_text(f"{os.getpid()}\n")
        keys = load_secrets(self.data / "secrets.env")
        start_date, start_origin = self.forum_start()
        broker_url = args.broker_url
        mongo_url = args.mongo_url
        if mongo_url is None:
            if port_open("127.0.0.1", args.mongo_port):
                raise StartupFailed(
                    f"port {args.mongo_port} is taken; pass --mongo-port or set FORO_MONGO_URL"
                )
            secantusd = Path(sys.executable).with_name("secantusd-py")
            address = f"127.0.0.1:{args.mongo_port}"
            database = self.add(
                Supervised(
                    "secantusdb",
                    [
                        str(secantusd),
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(args.mongo_port),
                        "--storage-path",
                        str(self.data / "db"),
                        "--log-level",
                        "WARNING",
                    ],
                    dict(os.environ),
                    lambda: port_open("127.0.0.1", args.mongo_port),
                    address,
                    "infra",
                )
            )
            self.wait_ready(database, 60)
            mongo_url = f"mongodb://{address}/?directConnection=true&retryWrites=false"
            log(
                f"SecantusDB (embedded MongoDB-compatible server) on {mongo_url} (pid {database.pid})"
            )

        env = {
            **os.environ,
            "FORO_BROKER_URL": broker_url,
            "FORO_MONGO_URL": mongo_url,
            "FORO_NAMESPACE": args.namespace,
            "FORO_LOG_FORMAT": "json",
            "FORO_FORUM_START_DATE": start_date,
            "PYTHONUNBUFFERED": "1",
        }
        # The secrets as each service reads them, a rotation's lists included (`foro secrets
        # rotate`); a variable already set in the environment wins.
        for name, value in local_service_environment(keys).items():
            env.setdefault(name, value)
        if (
            importlib.util.find_spec("services.notification.sink") is not None
            and "NOTIFICATION_SMTP_HOST" not in os.environ
        ):
            sink_port = args.port_base + 25
            sink = self.add(
                Supervised(
                    "smtp-sink",
                    [
                        sys.executable,
                        "-m",
                        "services.notification.sink",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(sink_port),
                        "--directory",
                        str(self.data / "mail"),
                    ],
                    env,
                    lambda: port_open("127.0.0.1", sink_port),
                    f"127.0.0.1:{sink_port}",
                    "infra",
                )
            )
            self.wait_ready(sink, 30)
            env |= {"NOTIFICATION_SMTP_HOST": "127.0.0.1", "NOTIFICATION_SMTP_PORT": str(sink_port)}
            self.mail = self.data / "mail"
            log(f"SMTP sink on 127.0.0.1:{sink_port}; e-mails land in {self.mail} (pid {sink.pid})")

        self.write_operator_env(env)
        # The web pages (on 127.0.0.1) tell registration the browser's address (sign-in throttle).
        env.setdefault("REGISTRATION_TRUSTED_PROXIES", "127.0.0.1")
        # Where the web pages find the services, on this run's ports.
        for service in SERVICES:
            if service.name != "web":
                env.setdefault(
                    f"WEB_{service.name.upper()}_URL",
                    f"http://127.0.0.1:{args.port_base + (service.port - 8000)}",
                )
        # The public sign-up form is a form vendor: it signs the intake webhook with the newest
        # of the vendors' secrets (registration accepts every one during a rotation).
        if webhook_secrets := decode_list(keys.get("FORO_WEBHOOK_SECRET", "")):
            env.setdefault("WEB_WEBHOOK_SECRET", webhook_secrets[0])
        started: list[tuple[Service, str, Supervised]] = []
        for service in SERVICES:
            if not service.available:
                continue
            port = args.port_base + (service.port - 8000)
            url = f"http://127.0.0.1:{port}"
            item = self.add(
                Supervised(
                    service.name,
                    [sys.executable, "-m", f"services.{service.name}.main"],
                    {**env, f"{service.name.upper()}_HTTP_PORT": str(port)},
                    functools.partial(ready, url),
                    url,
                    "service",
                    stop_timeout=graceful_timeout(service.name) + SHUTDOWN_MARGIN,
                )
            )
            started.append((service, url, item))
        for service, url, item in started:
            self.wait_ready(item, 90)
            log(
                f"{service.name} ready on {url}  (pid {item.pid}; log: {self.logs / (service.name + '.log')})"
            )
            for hint in service.hints:
                log("  " + hint.format(url=url))

        from shared.pack import load_pack

        forum = load_pack(overrides={"forum.start_date": start_date}).forum
        registration_url = next(
            url for service, url, _ in started if service.name == "registration"
        )
        log("")
        log(
            f"Forum: {forum.short_name.get('en')} ({forum.id}), {forum.venue.city}: "
            f"{forum.dates[0]:%A %d %B %Y} to {forum.dates[-1]:%A %d %B %Y}"
        )
        log(f"  start date {start_date}: {start_origin}")
        log("Send a sign-up as a form vendor would (AMQP, plain aio-pika):")
        log(f"  .venv/bin/foro send-sample --namespace {args.namespace}")
        log("or through the signed webhook:")
        log(
            f"  body='{json.dumps(sample_signup(forum.id, 'ana@example.org'), ensure_ascii=False)}'"
        )
        # Standard Webhooks, with curl and openssl (docs/vendors.md): the key in hex.
        key = secret_key(decode_list(keys["FORO_WEBHOOK_SECRET"])[0]).hex()
        log('  id="msg_$(date +%s%N)"; ts=$(date +%s)')
        log(
            '  sig=$(printf \'%s.%s.%s\' "$id" "$ts" "$body" | openssl dgst -sha256 -mac HMAC '
            f"-macopt hexkey:{key} -binary | openssl base64 -A)"
        )
        log(
            f"  curl -sS {registration_url}/intake/registrations -H 'Content-Type: application/json' "
            '-H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" '
            '-d "$body"'
        )
        token = decode_list(keys["FORO_API_TOKEN"])[0]  # the newest, during a rotation
        log(f"Secretariat token (FORO_API_TOKEN): {token}")
        log(f"  curl -sS -H 'Authorization: Bearer {token}' {registration_url}/participants")
        log(f"Process ids: {self.run_dir}/<name>.pid; a process that dies is restarted")
        log("Operator commands against this stack (.venv/bin/foro --help):")
        log(f"  .venv/bin/foro --env-file {self.data / 'foro.env'} check")
        if args.sample:
            body = sample_signup(forum.id)
            asyncio.run(publish_signup(broker_url, args.namespace, body))
            log(
                f"sample sign-up sent (event {body['event_id']}): see {registration_url}/participants"
            )
            if self.mail is not None:
                log(
                    f"its confirmation e-mail arrives in {self.mail}/ as an .eml file (open it with any mail client)"
                )
            expo_url = next((url for service, url, _ in started if service.name == "expo"), None)
            if expo_url is not None:
                held = asyncio.run(sample_floor(expo_url, token))
                log(
                    f"sample exhibitors placed on booths {', '.join(held)}: {expo_url}/floor-plan.svg"
                )
            reporting_url = next(
                (url for service, url, _ in started if service.name == "reporting"), None
            )
            if reporting_url is not None:
                from services.reporting.memoria import fetch_memoria

                for path in fetch_memoria(
                    reporting_url,
                    token,
                    self.data / "memoria",
                    wait_for_participants=1,
                ):
                    log(f"Memoria of the sample run: {path}")
        log("READY — Ctrl-C stops everything")


SAMPLE_EXHIBITORS: tuple[dict[str, Any], ...] = (
    {
        "name": "Banco Agrícola",
        "exhibitor_type": "company",
        "sector": "finance_remittances",
        "country": "SV",
        "tier": "sponsor",
        "booth_preferences": ["F01"],
    },
    {
        "name": "Aerolíneas del Istmo",
        "exhibitor_type": "company",
        "sector": "airlines_travel",
        "country": "GT",
        "tier": "premium",
        "booth_preferences": ["T02"],
    },
    {
        "name": "Ministerio de Relaciones Exteriores de El Salvador",
        "exhibitor_type": "government",
        "country": "SV",
        "booth_preferences": ["G01"],
    },
    {
        "name": "Organización Internacional para las Migraciones (OIM)",
        "exhibitor_type": "international_organisation",
        "country": "CR",
        "tier": "premium",
        "booth_preferences": ["I01"],
    },
)


async def seed_sample_exhibitors(expo: httpx.AsyncClient, token: str) -> list[str]:
    """The sample run's expo floor: apply for the sample exhibitors through expo's public API,
    approve them as the secretariat and run the allocation, so the floor plan shows something.
    Idempotent (fixed application ids; an application already decided is left as it is);
    returns the codes of the booths held afterwards."""
    secretariat = {"Authorization": f"Bearer {token}"}
    for number, sample in enumerate(SAMPLE_EXHIBITORS, start=1):
        application = {
            "application_id": f"sample-exhibitor-{number}",
            "language": "es",
            "contact": {"name": "Expo", "email": f"expo.sample{number}@example.org"},
            **sample,
        }
        applied = await expo.post("/exhibitors/applications", json=application)
        if applied.status_code == 409:  # decided on an earlier run
            continue
        applied.raise_for_status()
        if applied.json()["status"] == "applied":
            approved = await expo.post(
                f"/exhibitors/{applied.json()['exhibitor_id']}/approve", headers=secretariat
            )
            approved.raise_for_status()
    (await expo.post("/allocation/run", headers=secretariat)).raise_for_status()
    booths = (await expo.get("/booths")).json()
    return sorted(b["code"] for b in booths if b.get("exhibitor_id"))


async def sample_floor(expo_url: str, token: str) -> list[str]:
    async with httpx.AsyncClient(base_url=expo_url, timeout=30) as expo:
        return await seed_sample_exhibitors(expo, token)


def send_sample(broker_url: str, namespace: str, email: str | None = None) -> dict[str, Any]:
    """Publish one sample sign-up for the bundled pack's forum; returns what was sent."""
    from shared.pack import load_pack

    body = sample_signup(load_pack().forum.id, email)
    asyncio.run(publish_signup(broker_url, namespace, body))
    return body


def run(options: UpOptions) -> int:
    """Start the platform and supervise it until Ctrl-C or SIGTERM; the exit status (1: it could
    not start)."""
    stack = Stack(options)
    phase = "starting"
    failed = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal phase
        if phase == "stopping":
            if not stack.hurry:
                stack.hurry = True
                log(f"{signal.Signals(signum).name} again: killing what is left")
            return
        log(f"{signal.Signals(signum).name}: stopping")
        stack.stopping = True
        if phase == "starting":
            phase = "stopping"
            raise StopRequested

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        stack.start()
        phase = "running"
        stack.supervise()
    except StopRequested:
        pass
    except StartupFailed as failure:
        log(f"error: {failure}")
        failed = True
    finally:
        phase = "stopping"
        stack.stop()
    return 1 if failed else 0
