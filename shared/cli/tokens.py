"""`foro tokens issue|revoke|list`: API tokens for machines (form vendors, CI, monitoring).

The same use cases as registration's `/auth/tokens` API, on registration's database, with the
signing key from the environment (FORO_AUTH_SIGNING_KEY, FORO_AUTH_SIGNING_KEY_ID; `foro
--env-file .foro/foro.env` reads them from a file). `issue` prints the token once, alone on
stdout (`foro tokens issue … > token.txt`); what is stored is its id, name, roles, scope and
expiry. `revoke` writes `access.revoked` to registration's outbox: the running registration
publishes it, and every service refuses the token within seconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Column, Table

from shared.cli.options import ActorOption
from shared.cli.users import DatabaseOption, MongoUrlOption, actor_of, err, out, run

app = typer.Typer(help="API tokens: issue (shown once), revoke, list.", no_args_is_help=True)

EXPIRY = re.compile(r"^(\d{1,4})([dwy]?)$")
DAYS = {"": 1, "d": 1, "w": 7, "y": 365}


def days_of(expires: str) -> int:
    """`90d`, `12w`, `1y` or a number of days."""
    matched = EXPIRY.fullmatch(expires.strip().lower())
    if matched is None:
        raise typer.BadParameter("a number of days: 90d, 12w, 1y", param_hint="--expires")
    return int(matched.group(1)) * DAYS[matched.group(2)]


@app.command()
def issue(
    name: Annotated[str, typer.Option(help="What the token is for.", show_default=False)],
    role: Annotated[
        list[str],
        typer.Option("--role", "-r", help="A role; repeat for several.", show_default=False),
    ],
    expires: Annotated[
        str, typer.Option(help="Lifetime: 90d, 12w, 1y (at most 366 days).", show_default=False)
    ],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="Narrow the roles to this permission; repeat for several."),
    ] = None,
    actor: ActorOption = None,
    mongo_url: MongoUrlOption = None,
    database: DatabaseOption = None,
) -> None:
    """Issue an API token and print it, once, alone on stdout."""
    from services.registration.identity import handlers

    request = handlers.TokenRequest(
        name=name, roles=role, scope=scope, expires_in_days=days_of(expires)
    )
    issued = run(
        mongo_url,
        database,
        lambda identity: handlers.issue_token(
            request, identity, caller=handlers.EVERYTHING, actor=actor_of(actor)
        ),
        actor=actor_of(actor),
    )
    document = issued.document
    err.print(
        f"token {document.id} ({document.name}): roles {', '.join(document.roles)}"
        + (f", scope {', '.join(document.scope)}" if document.scope else "")
        + f", expires {document.expires_at:%Y-%m-%d %H:%M}Z. It is shown once, now:"
    )
    out.print(issued.token)


@app.command()
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (`foro tokens list`).")],
    actor: ActorOption = None,
    mongo_url: MongoUrlOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke an API token: every service refuses it within seconds of the running registration
    publishing `access.revoked`. Revoking it again changes nothing."""
    from services.registration.identity import handlers

    document = run(
        mongo_url,
        database,
        lambda identity: handlers.revoke_token(token_id, identity, actor=actor_of(actor)),
        actor=actor_of(actor),
    )
    out.print(f"token {document.id}: revoked")


@app.command("list")
def list_tokens(mongo_url: MongoUrlOption = None, database: DatabaseOption = None) -> None:
    """Every API token, newest first: never its text."""
    from services.registration.identity import handlers, rules

    tokens = run(mongo_url, database, handlers.list_tokens)
    now = datetime.now(UTC)
    table = Table(
        # Whole, never cut: it is what `foro tokens revoke` takes.
        Column("id", no_wrap=True, min_width=32),
        "name",
        "roles",
        "scope",
        "expires",
        "state",
        "created by",
    )
    for token in tokens:
        table.add_row(
            token.id,
            token.name,
            ", ".join(token.roles),
            ", ".join(token.scope) if token.scope is not None else "(roles)",
            f"{token.expires_at:%Y-%m-%d %H:%M}Z",
            rules.token_status(token, now),
            token.created_by,
        )
    out.print(table)
