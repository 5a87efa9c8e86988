"""`foro vendors add|remove|list`: a form vendor's write-only broker user.

    foro vendors add acme [--password-file F] [--vhost /] [--namespace foro]
    foro vendors remove acme
    foro vendors list

`add` creates the RabbitMQ user `vendor-<NAME>` that may publish to the intake exchange
(`<namespace>.intake`) with routing keys `registration.submitted` and
`registration.cancel_requested`, and do nothing else: permissions configure `^$`, write
`^<namespace>\\.intake$`, read `^$`, plus topic permissions on the intake exchange limiting the
routing keys (so the other events on the intake, an erasure request say, stay out of reach). It
prints, once, what the vendor is given: the AMQP URL with the password (generated, or read from
`--password-file`), the exchange and routing keys, and the secret of the signed HTTPS intake
(the newest FORO_WEBHOOK_SECRET entry in the Standard Webhooks form, `whsec_…`). foro stores
none of it.

With `--management-url` (FORO_RABBITMQ_MANAGEMENT_URL; Kubernetes: `kubectl port-forward
svc/rabbitmq 15672`) the commands use the management HTTP API with the URL's credentials; without
it, `rabbitmqctl` on this host (as root, or a user allowed to run it).

Exit codes: 0 done; 1 refused (the user exists; no such vendor); 2 bad input; 3 the broker or
rabbitmqctl cannot be reached.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, Protocol
from urllib.parse import quote

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from yarl import URL

from shared.cli.options import EXIT_BROKER, EXIT_FAILED, EXIT_USAGE, BrokerUrlOption
from shared.messaging.namespace import DEFAULT_BROKER_URL, redacted_url
from shared.secrets_policy import decode_list
from shared.webhooks import vendor_secret

USER_PREFIX = "vendor-"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")
NAMESPACE = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")  # as ServiceSettings.namespace
# What a form publishes (shared/contracts/registration.py: RegistrationSubmitted,
# RegistrationCancelRequested); nothing else on the intake exchange.
ROUTING_KEYS = ("registration.submitted", "registration.cancel_requested")
ROUTING_KEY_PATTERN = r"^registration\.(submitted|cancel_requested)$"
NOTHING = "^$"
AMQPS_PORT = 5671

app = typer.Typer(
    help="Form vendors' broker users: publish to the intake exchange and nothing else.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


class BrokerUnavailable(Exception):
    """rabbitmqctl or the management API could not do what was asked (said in a line)."""


class NoSuchUser(Exception):
    pass


class UserExists(Exception):
    pass


@dataclass(frozen=True)
class Grant:
    """What a vendor's user may do on `vhost`: write to `<namespace>.intake` with the forms'
    routing keys; configure and read nothing."""

    namespace: str
    vhost: str = "/"

    @property
    def exchange(self) -> str:
        return f"{self.namespace}.intake"

    @property
    def write(self) -> str:
        # The namespace is letters, digits, '_' and '-' (NAMESPACE): nothing to escape.
        return f"^{self.namespace}\\.intake$"


@dataclass(frozen=True)
class Permission:
    vhost: str
    configure: str
    write: str
    read: str


@dataclass(frozen=True)
class TopicPermission:
    vhost: str
    exchange: str
    write: str
    read: str


class BrokerUsers(Protocol):
    """Users, permissions and connections on the broker: rabbitmqctl or the management API."""

    def users(self) -> list[str]: ...
    def add(self, user: str, password: str) -> None: ...
    def grant(self, user: str, grant: Grant) -> None: ...
    def permissions(self, user: str) -> list[Permission]: ...
    def topic_permissions(self, user: str) -> list[TopicPermission]: ...
    def close_connections(self, user: str, reason: str) -> None: ...
    def delete(self, user: str) -> None: ...


class Rabbitmqctl:
    """`rabbitmqctl` on this host; passwords go through standard input, never the arguments."""

    # rabbitmqctl's exit codes (sysexits): no such user, and "already exists".
    NO_USER = (67, 69)
    EXISTS = 70

    def __init__(self, command: str = "rabbitmqctl", timeout: float = 60.0) -> None:
        found = shutil.which(command)
        if found is None:
            raise BrokerUnavailable(
                f"{command} is not on PATH: run this on the broker's host, or give "
                "--management-url (FORO_RABBITMQ_MANAGEMENT_URL)"
            )
        self.command = found
        self.timeout = timeout

    def run(self, *args: str, stdin: str | None = None) -> str:
        try:
            done = subprocess.run(
                [self.command, "-q", *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BrokerUnavailable(
                f"rabbitmqctl {args[0]}: no answer in {self.timeout:g} s"
            ) from None
        if done.returncode in self.NO_USER:
            raise NoSuchUser
        if done.returncode == self.EXISTS and args[0] == "add_user":
            raise UserExists
        if done.returncode != 0:
            said = " ".join((done.stderr or done.stdout).split()) or f"exit {done.returncode}"
            raise BrokerUnavailable(f"rabbitmqctl {args[0]}: {said}")
        return done.stdout

    def rows(self, *args: str) -> list[dict[str, Any]]:
        text = self.run(*args, "--formatter", "json").strip()
        return list(json.loads(text)) if text else []

    def users(self) -> list[str]:
        return [str(row["user"]) for row in self.rows("list_users")]

    def add(self, user: str, password: str) -> None:
        self.run("add_user", user, stdin=password)

    def grant(self, user: str, grant: Grant) -> None:
        vhost = ("-p", grant.vhost)
        self.run("set_permissions", *vhost, user, NOTHING, grant.write, NOTHING)
        self.run(
            "set_topic_permissions", *vhost, user, grant.exchange, ROUTING_KEY_PATTERN, NOTHING
        )

    def permissions(self, user: str) -> list[Permission]:
        return [
            Permission(row["vhost"], row["configure"], row["write"], row["read"])
            for row in self.rows("list_user_permissions", user)
        ]

    def topic_permissions(self, user: str) -> list[TopicPermission]:
        return [
            TopicPermission(row["vhost"], row["exchange"], row["write"], row["read"])
            for row in self.rows("list_user_topic_permissions", user)
        ]

    def close_connections(self, user: str, reason: str) -> None:
        self.run("close_all_user_connections", user, reason)

    def delete(self, user: str) -> None:
        self.run("delete_user", user)


class ManagementApi:
    """RabbitMQ's management HTTP API (`http(s)://user:password@host:15672`)."""

    def __init__(self, url: str, *, timeout: float = 30.0, transport: Any = None) -> None:
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError("an http(s):// URL of the management API")
        if not parsed.user:
            raise ValueError("the URL names no user: http://USER:PASSWORD@host:15672")
        self.where = str(parsed.with_user(None))
        self.client = httpx.Client(
            base_url=str(parsed.with_user(None).with_path(parsed.path.rstrip("/") + "/api/")),
            auth=(parsed.user, parsed.password or ""),
            timeout=timeout,
            transport=transport,
        )

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        reason: str | None = None,
    ) -> Any:
        try:
            answer = self.client.request(
                method,
                path,
                json=body,
                params=params,
                headers={"X-Reason": reason} if reason else None,
            )
        except httpx.HTTPError as error:
            raise BrokerUnavailable(f"{self.where}: {type(error).__name__}: {error}") from error
        if answer.status_code == 404:
            raise NoSuchUser
        if answer.is_error:
            raise BrokerUnavailable(
                f"{method} {self.where}api/{path}: {answer.status_code} {answer.text[:200]}"
            )
        return answer.json() if answer.content else None

    @staticmethod
    def part(value: str) -> str:
        return quote(value, safe="")

    def users(self) -> list[str]:
        return [str(row["name"]) for row in self.call("GET", "users")]

    def add(self, user: str, password: str) -> None:
        try:
            self.call("GET", f"users/{self.part(user)}")
        except NoSuchUser:
            self.call("PUT", f"users/{self.part(user)}", {"password": password, "tags": ""})
            return
        raise UserExists

    def grant(self, user: str, grant: Grant) -> None:
        where = f"{self.part(grant.vhost)}/{self.part(user)}"
        self.call(
            "PUT",
            f"permissions/{where}",
            {"configure": NOTHING, "write": grant.write, "read": NOTHING},
        )
        self.call(
            "PUT",
            f"topic-permissions/{where}",
            {"exchange": grant.exchange, "write": ROUTING_KEY_PATTERN, "read": NOTHING},
        )

    def permissions(self, user: str) -> list[Permission]:
        return [
            Permission(row["vhost"], row["configure"], row["write"], row["read"])
            for row in self.call("GET", f"users/{self.part(user)}/permissions")
        ]

    def topic_permissions(self, user: str) -> list[TopicPermission]:
        return [
            TopicPermission(row["vhost"], row["exchange"], row["write"], row["read"])
            for row in self.call("GET", f"users/{self.part(user)}/topic-permissions")
        ]

    def close_connections(self, user: str, reason: str) -> None:
        for connection in self.call("GET", "connections", params={"columns": "name,user"}):
            if connection.get("user") == user:
                try:
                    self.call(
                        "DELETE", f"connections/{self.part(connection['name'])}", reason=reason
                    )
                except NoSuchUser:  # closed meanwhile
                    pass

    def delete(self, user: str) -> None:
        self.call("DELETE", f"users/{self.part(user)}")


ManagementUrlOption = Annotated[
    str | None,
    typer.Option(
        "--management-url",
        envvar="FORO_RABBITMQ_MANAGEMENT_URL",
        show_default=False,
        help="RabbitMQ's management API, http(s)://USER:PASSWORD@host:15672 (Kubernetes: "
        "`kubectl port-forward svc/rabbitmq 15672`). Unset: rabbitmqctl on this host."
        " A URL with a password is better set in the variable (arguments show in `ps`).",
    ),
]
VhostOption = Annotated[str, typer.Option("--vhost", help="The broker's virtual host.")]
NamespaceOption = Annotated[
    str,
    typer.Option(
        "--namespace", envvar="FORO_NAMESPACE", help="The platform's namespace: <ns>.intake."
    ),
]


def broker_users(management_url: str | None) -> BrokerUsers:
    try:
        if management_url:
            return ManagementApi(management_url)
        return Rabbitmqctl()
    except ValueError as error:
        fail(f"--management-url: {error}", EXIT_USAGE)
    except BrokerUnavailable as error:
        fail(str(error), EXIT_BROKER)


def user_of(name: str) -> str:
    """`vendor-<name>`; a name given with its prefix is taken as meant."""
    name = name.strip().lower().removeprefix(USER_PREFIX)
    if not NAME.fullmatch(name):
        raise typer.BadParameter(
            "1 to 41 lower-case letters, digits, '_' or '-', starting with a letter or digit",
            param_hint="NAME",
        )
    return USER_PREFIX + name


def read_password_file(path: Path) -> str:
    """The file's one line (a trailing newline is not part of it)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(str(error), param_hint="--password-file") from None
    if len(lines) != 1 or not lines[0]:
        raise typer.BadParameter(
            "the file must hold the password on one line", param_hint="--password-file"
        )
    if len(lines[0]) < 16:
        raise typer.BadParameter("at least 16 characters", param_hint="--password-file")
    return lines[0]


def vendor_amqp_url(public_url: str, user: str, password: str, vhost: str) -> str:
    """The URL the vendor connects with: the broker's public address, their credentials, the
    vhost (`/` is the URL's bare `/`, as FORO_BROKER_URL writes it)."""
    base = URL(public_url)
    path = "/" if vhost == "/" else "/" + quote(vhost, safe="")
    host = base.raw_host or "localhost"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if base.explicit_port is not None:
        netloc += f":{base.explicit_port}"
    return f"{base.scheme}://{netloc}{path}"


def public_broker_url(given: str | None, broker_url: str, management_url: str | None) -> str:
    """Where vendors reach the broker: `--public-url`; else the management host over amqps
    (production); else FORO_BROKER_URL's address."""
    if given:
        return given
    if management_url:
        return str(URL.build(scheme="amqps", host=URL(management_url).host or "", port=AMQPS_PORT))
    return redacted_url(broker_url)


def vendor_webhook_secret(entries: str | None) -> str | None:
    """The newest intake webhook secret (the first entry), as a vendor's Standard Webhooks
    library takes it."""
    try:
        listed = decode_list(entries) if entries else []
    except ValueError as error:
        fail(f"FORO_WEBHOOK_SECRET: {error} (a JSON list, newest first, or one value)", EXIT_USAGE)
    return vendor_secret(listed[0]) if listed else None


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="The vendor, e.g. acme: the user is vendor-acme.")],
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help="Read the password from this file's one line (default: a new random one).",
            show_default=False,
        ),
    ] = None,
    vhost: VhostOption = "/",
    namespace: NamespaceOption = "foro",
    management_url: ManagementUrlOption = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            envvar="FORO_VENDOR_BROKER_URL",
            show_default=False,
            help="The broker as vendors reach it, e.g. amqps://broker.example.org:5671 (default: "
            "amqps on the management URL's host, else FORO_BROKER_URL's address).",
        ),
    ] = None,
    broker_url: BrokerUrlOption = DEFAULT_BROKER_URL,
    webhook_secrets: Annotated[
        str | None,
        typer.Option(
            "--webhook-secret",
            envvar=["FORO_WEBHOOK_SECRET", "REGISTRATION_WEBHOOK_SECRETS"],
            show_default=False,
            hidden=True,
            help="The intake webhook's secrets (a JSON list, newest first); from the variable.",
        ),
    ] = None,
) -> None:
    """Create vendor-NAME: may publish registration.submitted and registration.cancel_requested
    to <namespace>.intake, nothing else. Prints its credentials once."""
    user = user_of(name)
    if not NAMESPACE.fullmatch(namespace):
        raise typer.BadParameter(
            "lower-case letters, digits, '_' or '-', starting with a letter",
            param_hint="--namespace",
        )
    password = read_password_file(password_file) if password_file else secrets.token_urlsafe(32)
    webhook_secret = vendor_webhook_secret(webhook_secrets)
    grant = Grant(namespace=namespace, vhost=vhost)
    broker = broker_users(management_url)
    try:
        broker.add(user, password)
    except UserExists:
        fail(f"{user} exists: `foro vendors remove {user.removeprefix(USER_PREFIX)}` first")
    except BrokerUnavailable as error:
        fail(str(error), EXIT_BROKER)
    try:
        broker.grant(user, grant)
    except (BrokerUnavailable, NoSuchUser) as error:
        # A user without its permissions is useless: take it away again, say why.
        try:
            broker.delete(user)
        except (BrokerUnavailable, NoSuchUser):
            pass
        fail(f"{user}: permissions not set, user removed again: {error}", EXIT_BROKER)
    url = vendor_amqp_url(
        public_broker_url(public_url, broker_url, management_url), user, password, vhost
    )
    err.print(
        f"{user} created on vhost {vhost}: may publish to {grant.exchange} with routing keys "
        f"{', '.join(ROUTING_KEYS)}; may not configure, read or consume anything.",
        markup=False,
    )
    err.print(
        "Give the vendor these (over a safe channel); foro keeps none of them, they are not "
        "shown again:",
        markup=False,
    )
    lines = [
        f"amqp_url: {url}",
        f"exchange: {grant.exchange}",
        f"routing_keys: {' '.join(ROUTING_KEYS)}",
    ]
    if webhook_secret:
        lines.append(f"webhook_secret: {webhook_secret}")
    for line in lines:
        out.print(line, markup=False)
    if not webhook_secret:
        err.print(
            "No FORO_WEBHOOK_SECRET (or REGISTRATION_WEBHOOK_SECRETS) set: no webhook secret "
            "printed (`foro --env-file .foro/foro.env vendors add …` reads it from a file).",
            markup=False,
        )
    if URL(url).scheme != "amqps" and URL(url).host not in ("127.0.0.1", "localhost", "::1"):
        err.print(
            "warning: the URL is not amqps: outside this host a vendor should reach the broker "
            "over TLS (--public-url amqps://…).",
            markup=False,
        )


@app.command()
def remove(
    name: Annotated[str, typer.Argument(help="The vendor, e.g. acme (vendor-acme).")],
    management_url: ManagementUrlOption = None,
) -> None:
    """Close vendor-NAME's connections and delete the user."""
    user = user_of(name)
    broker = broker_users(management_url)
    try:
        broker.close_connections(user, "foro: this vendor's broker user was removed")
        broker.delete(user)
    except NoSuchUser:
        fail(f"{user}: no such user, nothing removed")
    except BrokerUnavailable as error:
        fail(str(error), EXIT_BROKER)
    out.print(f"{user}: connections closed, user removed", markup=False)


def write_only(permissions: list[Permission], topics: list[TopicPermission]) -> bool:
    """Whether a user can do no more than `foro vendors add` grants: configure and read nothing,
    write to intake exchanges only, each bound to the forms' routing keys."""
    bounded = {
        (topic.vhost, Grant(topic.exchange.removesuffix(".intake"), topic.vhost).write)
        for topic in topics
        if topic.exchange.endswith(".intake")
        and topic.write == ROUTING_KEY_PATTERN
        and topic.read == NOTHING
    }
    return all(
        p.configure == NOTHING and p.read == NOTHING and (p.vhost, p.write) in bounded
        for p in permissions
    )


@app.command("list")
def list_vendors(management_url: ManagementUrlOption = None) -> None:
    """Every vendor-* user: what it may write, with which routing keys, and whether that is all."""
    broker = broker_users(management_url)
    table = Table("user", "vhost", "configure", "write", "read", "topic permissions", "write-only")
    try:
        for user in sorted(u for u in broker.users() if u.startswith(USER_PREFIX)):
            permissions = broker.permissions(user)
            topics = broker.topic_permissions(user)
            limited = "yes" if write_only(permissions, topics) else "[red]NO[/red]"
            for p in permissions or [Permission("-", "-", "-", "-")]:
                keys = "\n".join(
                    f"{t.exchange}: write {t.write}, read {t.read}"
                    for t in topics
                    if t.vhost == p.vhost
                )
                table.add_row(
                    *(escape(v) for v in (user, p.vhost, p.configure, p.write, p.read, keys)),
                    limited,
                )
    except NoSuchUser:
        fail("a user went away while listing; run it again")
    except BrokerUnavailable as error:
        fail(str(error), EXIT_BROKER)
    out.print(table)
