"""`foro users add|roles|disable|link|list`: staff accounts, on registration's database.

The same use cases as registration's `/accounts` API (services/registration/identity), run by an
operator who holds the database's credentials: no token is needed, and the command may grant
every role (`foro users add admin --role admin` makes the first admin). Connection settings are
the service's own variables (FORO_MONGO_URL, REGISTRATION_DATABASE; `foro --env-file
.foro/foro.env` reads them from a file). Passwords come from a prompt (asked twice) or from
standard input (`--password-stdin`), never from an argument (arguments show in `ps`).

Service modules are imported inside the commands, so `foro --help` imports no service.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from shared.cli.options import ActorOption, MongoUrlOption

if TYPE_CHECKING:
    from services.registration.identity.handlers import Identity
    from services.registration.settings import RegistrationSettings

app = typer.Typer(
    help="Staff accounts: create, change roles, disable, link to an identity provider, list.",
    no_args_is_help=True,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        envvar="REGISTRATION_DATABASE",
        show_default=False,
        help="Registration's database (default: foro_registration).",
    ),
]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def actor_of(actor: str | None) -> str:
    """Who runs the command, for the record: `cli:<--actor or FORO_ACTOR or the OS user>`."""
    return f"cli:{actor or getpass.getuser()}"


def registration_settings(**given: Any) -> RegistrationSettings:
    """Registration's settings: the options given, then REGISTRATION_*/FORO_* variables."""
    from pydantic import ValidationError

    from services.registration.settings import RegistrationSettings

    try:
        return RegistrationSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as error:
        for problem in error.errors(include_url=False):
            field = ".".join(str(part) for part in problem["loc"])
            err.print(f"[red]error:[/red] {field}: {problem['msg']}")
        raise typer.Exit(2) from None
    except RuntimeError as error:  # a refusal worded without the values (OIDC providers, …)
        err.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(2) from None


def run[T](
    mongo_url: str | None,
    database: str | None,
    use: Callable[[Identity], Awaitable[T]],
    *,
    actor: str | None = None,
) -> T:
    """Run one use case on registration's database; its refusals become one line and exit 1.
    The events it publishes (revocations) name `actor` as an operator, for the audit trail."""
    import structlog

    from services.registration.identity import handlers, rules
    from services.registration.identity.standalone import standalone_identity
    from shared.contracts.envelope import Actor, acting_as
    from shared.logging import configure_logging

    settings = registration_settings(mongo_url=mongo_url, database=database)
    if not structlog.is_configured():
        # Log lines (who did what, by id) go to stderr: stdout holds only what is asked for.
        configure_logging("foro-cli", settings.log_level, settings.log_format)

    async def session() -> T:
        async with standalone_identity(settings) as identity:
            if actor is None:
                return await use(identity)
            with acting_as(Actor(subject=actor, kind="operator")):
                return await use(identity)

    try:
        return asyncio.run(session())
    except ValueError as error:  # the signing key's settings, named without their value
        fail(str(error), 2)
    except rules.IdentityRefused as refused:
        fail(f"{refused.problem.field}: {refused.problem.message_en}")
    except handlers.SigningUnavailable:
        fail("FORO_AUTH_SIGNING_KEY is unset: no token can be signed (see `foro secrets`)", 2)
    except handlers.NotFound as missing:
        fail(f"{missing}: not found")
    except handlers.AccountExists as exists:
        fail(f"{exists}: an account with that username exists")


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            fail("--password-stdin: standard input held no password", 2)
        return password
    prompted: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return prompted


@app.command()
def add(
    username: Annotated[str, typer.Argument(help="Letters, digits, . _ -; kept lower-cased.")],
    role: Annotated[
        list[str],
        typer.Option("--role", "-r", help="A role; repeat for several.", show_default=False),
    ],
    name: Annotated[str, typer.Option("--name", help="Display name (default: the username).")] = "",
    totp: Annotated[
        bool, typer.Option("--totp", help="Require a TOTP code at sign-in; prints its URI once.")
    ] = False,
    session: Annotated[
        list[str] | None,
        typer.Option("--session", help="A rapporteur's session code; repeat for several."),
    ] = None,
    delegation: Annotated[
        str | None,
        typer.Option(
            help="A focal point's delegation code (SV, oim); required with --role focal_point.",
            show_default=False,
        ),
    ] = None,
    exhibitor: Annotated[
        str | None,
        typer.Option(help="An exhibitor's id; required with --role exhibitor.", show_default=False),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input's first line."
        ),
    ] = False,
    actor: ActorOption = None,
    mongo_url: MongoUrlOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create a staff account. The first admin: `foro users add admin --role admin`."""
    from services.registration.identity import handlers

    new = handlers.NewAccount(
        username=username,
        display_name=name,
        roles=role,
        password=read_password(password_stdin),
        sessions=tuple(session or ()),
        delegation=delegation,
        exhibitor=exhibitor,
        totp=totp,
    )
    created = run(
        mongo_url,
        database,
        lambda identity: handlers.create_account(
            new, identity, caller=handlers.EVERYTHING, actor=actor_of(actor)
        ),
        actor=actor_of(actor),
    )
    err.print(f"account {created.account.id} created, roles: {', '.join(created.account.roles)}")
    if created.totp_uri:
        err.print("TOTP: add this URI to an authenticator app now; it is not shown again:")
        out.print(created.totp_uri)


@app.command()
def roles(
    username: str,
    add: Annotated[
        list[str] | None, typer.Option("--add", help="A role to give; repeat for several.")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A role to take; repeat for several.")
    ] = None,
    actor: ActorOption = None,
    mongo_url: MongoUrlOption = None,
    database: DatabaseOption = None,
) -> None:
    """Give or take roles. Taking one revokes the account's live sign-ins (they sign in again)."""
    from services.registration.identity import handlers

    if not add and not remove:
        raise typer.BadParameter("give --add or --remove", param_hint="--add/--remove")
    now_roles = run(
        mongo_url,
        database,
        lambda identity: handlers.change_roles(
            username,
            add or [],
            remove or [],
            identity,
            caller=handlers.EVERYTHING,
            actor=actor_of(actor),
        ),
        actor=actor_of(actor),
    )
    out.print(f"{username.lower()}: {', '.join(now_roles)}")


@app.command()
def disable(
    username: str,
    actor: ActorOption = None,
    mongo_url: MongoUrlOption = None,
    database: DatabaseOption = None,
) -> None:
    """Disable an account: no sign-in from now on; its live sign-ins are revoked within seconds (the running registration publishes the revocations)."""
    from services.registration.identity import handlers

    changed = run(
        mongo_url,
        database,
        lambda identity: handlers.disable_account(
            username, identity, caller=handlers.EVERYTHING, actor=actor_of(actor)
        ),
        actor=actor_of(actor),
    )
    out.print(f"{username.lower()}: {'disabled' if changed else 'was disabled already'}")


@app.command()
def link(
    username: str,
    provider: Annotated[
        str,
        typer.Option(
            "--provider", help="The identity provider's name in REGISTRATION_OIDC_PROVIDERS."
        ),
    ],
    subject: Annotated[
        str,
        typer.Option("--subject", help="The person's `sub` at that provider (its ID tokens')."),
    ],
    actor: ActorOption = None,
    mongo_url: MongoUrlOption = None,
    database: DatabaseOption = None,
) -> None:
    """Link a person's identity at an OpenID Connect provider to an account: they sign in there
    (/auth/oidc/PROVIDER/login) and get the account's roles. Nobody gets an account by signing in."""
    from services.registration.identity import oidc

    configured = [p.name for p in registration_settings().oidc_providers]
    if provider not in configured:
        fail(
            f"--provider: {provider!r} is not in REGISTRATION_OIDC_PROVIDERS "
            f"(configured: {', '.join(configured) or 'none'})",
            2,
        )
    try:
        linked = run(
            mongo_url,
            database,
            lambda identity: oidc.link(
                username, provider, subject, identity, actor=actor_of(actor)
            ),
            actor=actor_of(actor),
        )
    except oidc.LinkedElsewhere:
        fail(f"--subject: linked to another account at {provider} already")
    out.print(
        f"{username.lower()}: {'linked to' if linked else 'was linked already to'} "
        f"{provider} subject {subject.strip()}"
    )


@app.command("list")
def list_accounts(mongo_url: MongoUrlOption = None, database: DatabaseOption = None) -> None:
    """Every staff account: roles, scope claims, TOTP, state, last sign-in."""
    from services.registration.identity import handlers

    accounts = run(mongo_url, database, handlers.list_accounts)
    table = Table("username", "name", "roles", "scope", "totp", "state", "last sign-in")
    for account in accounts:
        scope = [
            *(f"session:{code}" for code in account.sessions),
            *([f"delegation:{account.delegation}"] if account.delegation else []),
            *([f"exhibitor:{account.exhibitor}"] if account.exhibitor else []),
        ]
        table.add_row(
            account.id,
            account.display_name,
            ", ".join(account.roles),
            ", ".join(scope),
            "yes" if account.totp_secret else "",
            "disabled" if account.disabled else "active",
            f"{account.last_sign_in_at:%Y-%m-%d %H:%M}Z" if account.last_sign_in_at else "",
        )
    out.print(table)
