"""foro on one machine, on embedded defaults: README command 1 ends here.

    devstack.py up            start SecantusDB, the services and (when present) the SMTP sink,
                              send a sample sign-up, print where everything is; Ctrl-C stops all
    devstack.py send-sample   publish one sample sign-up as a form vendor would (plain aio-pika)

RabbitMQ is the machine's own (up.sh starts it when it is down). State lives in `.foro/`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    hints: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return (ROOT / "services" / self.name / "main.py").exists()


SERVICES = (
    Service("registration", 8001, ("secretariat API: {url}/docs (Authorization: Bearer $FORO_API_TOKEN)",)),
    Service(
        "scheduling",
        8002,
        ("agenda: {url}/agenda.json", "iCal: {url}/agenda.ics (English: {url}/agenda.ics?lang=en)",
         "per room: {url}/rooms/plenary/agenda.ics"),
    ),
    Service("expo", 8003, ("floor plan: {url}/floor-plan.svg",)),
    Service("notification", 8004, ("delivery status: {url}/messages (secretariat token)",)),
    Service("reporting", 8005, ("statistics: {url}/statistics (secretariat token)",)),
)


def log(message: str) -> None:
    print(f"foro: {message}", flush=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def load_secrets(path: Path) -> dict[str, str]:
    """Secrets generated once per data folder, so restarts keep tokens and signatures valid."""
    known = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line) if path.exists() else {}
    values = {
        "FORO_API_TOKEN": secrets.token_urlsafe(24),
        "FORO_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "FORO_BADGE_SECRET": secrets.token_urlsafe(32),
        "FORO_FEED_SECRET": secrets.token_urlsafe(32),
        "FORO_PARTICIPANT_TOKEN_SECRET": secrets.token_urlsafe(32),
    }
    values |= known  # keys made by an earlier run stay; keys added since are generated once
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)
    return values


def wait_until(check, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while not check():
        if process is not None and process.poll() is not None:
            raise SystemExit(f"foro: {what} exited with status {process.returncode}; see its log")
        if time.monotonic() > deadline:
            raise SystemExit(f"foro: timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def sample_signup(forum_id: str, email: str | None = None) -> dict:
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
        "consents": {"privacy_policy": True, "listed_publicly": True, "share_with_exhibitors": True},
    }


async def publish_signup(broker_url: str, namespace: str, body: dict) -> None:
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


class Stack:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data = Path(args.data_dir).resolve()
        self.logs = self.data / "logs"
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.mail: Path | None = None

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        output = open(self.logs / f"{name}.log", "ab")
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
        self.processes.append((name, process))
        return process

    def stop(self) -> None:
        for name, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in reversed(self.processes):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        log("stopped")

    def start(self) -> None:
        args = self.args
        self.logs.mkdir(parents=True, exist_ok=True)
        keys = load_secrets(self.data / "secrets.env")
        broker_url = os.environ.get("FORO_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
        mongo_url = os.environ.get("FORO_MONGO_URL")
        if mongo_url is None:
            if port_open("127.0.0.1", args.mongo_port):
                raise SystemExit(f"foro: port {args.mongo_port} is taken; pass --mongo-port or set FORO_MONGO_URL")
            secantusd = Path(sys.executable).with_name("secantusd-py")
            database = self.spawn(
                "secantusdb",
                [str(secantusd), "--host", "127.0.0.1", "--port", str(args.mongo_port),
                 "--storage-path", str(self.data / "db"), "--log-level", "WARNING"],
                dict(os.environ),
            )
            wait_until(lambda: port_open("127.0.0.1", args.mongo_port), 60, "SecantusDB", database)
            mongo_url = f"mongodb://127.0.0.1:{args.mongo_port}/?directConnection=true&retryWrites=false"
            log(f"SecantusDB (embedded MongoDB-compatible server) on {mongo_url}")

        env = {
            **os.environ,
            "FORO_BROKER_URL": broker_url,
            "FORO_MONGO_URL": mongo_url,
            "FORO_NAMESPACE": args.namespace,
            "FORO_LOG_FORMAT": "json",
            "FORO_API_TOKENS": json.dumps([keys["FORO_API_TOKEN"]]),
            "REGISTRATION_API_TOKENS": json.dumps([keys["FORO_API_TOKEN"]]),
            "REGISTRATION_WEBHOOK_SECRETS": json.dumps([keys["FORO_WEBHOOK_SECRET"]]),
            "FORO_BADGE_SECRET": keys["FORO_BADGE_SECRET"],
            "SCHEDULING_FEED_SECRET": keys["FORO_FEED_SECRET"],
            "FORO_PARTICIPANT_TOKEN_SECRET": keys["FORO_PARTICIPANT_TOKEN_SECRET"],
            "PYTHONUNBUFFERED": "1",
        }
        for service in SERVICES:
            env.setdefault(f"{service.name.upper()}_API_TOKENS", json.dumps([keys["FORO_API_TOKEN"]]))
        if args.forum_start_date:
            env["FORO_FORUM_START_DATE"] = args.forum_start_date
        if (ROOT / "services" / "notification" / "sink.py").exists() and "NOTIFICATION_SMTP_HOST" not in os.environ:
            sink_port = args.port_base + 25
            self.spawn(
                "smtp-sink",
                [sys.executable, "-m", "services.notification.sink", "--host", "127.0.0.1", "--port", str(sink_port),
                 "--directory", str(self.data / "mail")],
                env,
            )
            wait_until(lambda: port_open("127.0.0.1", sink_port), 30, "the SMTP sink")
            env |= {"NOTIFICATION_SMTP_HOST": "127.0.0.1", "NOTIFICATION_SMTP_PORT": str(sink_port)}
            self.mail = self.data / "mail"
            log(f"SMTP sink on 127.0.0.1:{sink_port}; e-mails land in {self.mail}")

        started: list[tuple[Service, str, subprocess.Popen]] = []
        for service in SERVICES:
            if not service.available:
                continue
            port = args.port_base + (service.port - 8000)
            url = f"http://127.0.0.1:{port}"
            process = self.spawn(
                service.name,
                [sys.executable, "-m", f"services.{service.name}.main"],
                {**env, f"{service.name.upper()}_HTTP_PORT": str(port)},
            )
            started.append((service, url, process))
        for service, url, process in started:
            wait_until(lambda url=url: ready(url), 90, f"the {service.name} service", process)
            log(f"{service.name} ready on {url}  (log: {self.logs / (service.name + '.log')})")
            for hint in service.hints:
                log("  " + hint.format(url=url))

        from shared.pack import load_pack

        forum_id = load_pack(overrides={"forum.start_date": args.forum_start_date} if args.forum_start_date else None).forum.id
        registration_url = next(url for service, url, _ in started if service.name == "registration")
        log("")
        log("Send a sign-up as a form vendor would (AMQP, plain aio-pika):")
        log(f"  .venv/bin/python deploy/local/devstack.py send-sample --namespace {args.namespace}")
        log("or through the signed webhook:")
        log(f"  body='{json.dumps(sample_signup(forum_id, 'ana@example.org'), ensure_ascii=False)}'")
        log(f"  ts=$(date +%s); sig=$(printf '%s.%s' \"$ts\" \"$body\" | openssl dgst -sha256 -hmac '{keys['FORO_WEBHOOK_SECRET']}' | sed 's/.*= //')")
        log(f"  curl -sS {registration_url}/intake/registrations -H 'Content-Type: application/json' "
            "-H \"X-Foro-Timestamp: $ts\" -H \"X-Foro-Signature: v1=$sig\" -d \"$body\"")
        log(f"Secretariat token (FORO_API_TOKEN): {keys['FORO_API_TOKEN']}")
        log(f"  curl -sS -H 'Authorization: Bearer {keys['FORO_API_TOKEN']}' {registration_url}/participants")
        if args.sample:
            body = sample_signup(forum_id)
            asyncio.run(publish_signup(broker_url, args.namespace, body))
            log(f"sample sign-up sent (event {body['event_id']}): see {registration_url}/participants")
            if self.mail is not None:
                log(f"its confirmation e-mail arrives in {self.mail}/ as an .eml file (open it with any mail client)")
            reporting_url = next((url for service, url, _ in started if service.name == "reporting"), None)
            if reporting_url is not None:
                from services.reporting.memoria import fetch_memoria

                for path in fetch_memoria(reporting_url, keys["FORO_API_TOKEN"], self.data / "memoria", wait_for_participants=1):
                    log(f"Memoria of the sample run: {path}")
        log("READY — Ctrl-C stops everything")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run the platform")
    up.add_argument("--data-dir", default=str(ROOT / ".foro"))
    up.add_argument("--namespace", default=os.environ.get("FORO_NAMESPACE", "foro"))
    up.add_argument("--mongo-port", type=int, default=27117)
    up.add_argument("--port-base", type=int, default=8000, help="services listen on base+1 … base+5")
    up.add_argument("--forum-start-date", default=None, help="move the forum (YYYY-MM-DD)")
    up.add_argument("--no-sample", dest="sample", action="store_false", help="don't send the sample sign-up")
    send = sub.add_parser("send-sample", help="publish one sample sign-up")
    send.add_argument("--namespace", default=os.environ.get("FORO_NAMESPACE", "foro"))
    send.add_argument("--email", default=None)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    if args.command == "send-sample":
        from shared.pack import load_pack

        body = sample_signup(load_pack().forum.id, args.email)
        asyncio.run(publish_signup(os.environ.get("FORO_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/"), args.namespace, body))
        log(f"sent registration.submitted {body['event_id']} for {body['email']}")
        return

    stack = Stack(args)
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        stack.start()
        while not stopping:
            for name, process in stack.processes:
                if process.poll() is not None:
                    log(f"{name} exited with status {process.returncode}; see {stack.logs / (name + '.log')}")
                    stopping = True
            time.sleep(0.5)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
