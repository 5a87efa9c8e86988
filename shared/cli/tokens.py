"""`foro tokens issue|revoke|list`: API tokens for machines (form vendors, CI, monitoring), and
revoking a participant's own links (`revoke --participant`).

The same use cases as registration's `/auth/tokens` API, on registration's database, with the
signing key from the environment (FORO_AUTH_SIGNING_KEY, FORO_AUTH_SIGNING_KEY_ID; `foro
--env-file .foro/foro.env` reads them from a file). `issue` prints the token once, alone on
stdout (`foro tokens issue … > token.txt`); what is stored is its id, name, roles, scope and
expiry. `revoke` writes `access.revoked` (or, with `--participant`, `access.subject_revoked`) to
registration's outbox: the running registration publishes it, and every service refuses the
token (the participant's links) within seconds.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Column, Table

from shared.cli.options import ActorOption
from shared.cli.users import (
    DatabaseOption,
    MongoUrlOption,
    actor_of,
    err,
    fail,
    out,
    registration_settings,
    run,
)

if TYPE_CHECKING:
    from services.registration.identity.handlers import Identity

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
    token_id: Annotated[
        str | None,
        typer.Argument(help="The token's id (`foro tokens list`).", show_default=False),
    ] = None,
    participant: Annotated[
        str | None,
        typer.Option(
            "--participant",
            help="Instead of one token: every link of this participant issued so far "
            "(personal codes, agenda feeds, e-mailed ones included).",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = None,
    mongo_url: MongoUrlOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke an API token (`access.revoked`) or, with --participant, a participant's links
    (`access.subject_revoked`): every service refuses them within seconds of the running
    registration publishing the event. Revoking a token again changes nothing."""
    if (token_id is None) == (participant is None):
        raise typer.BadParameter(
            "give a token id or --participant PARTICIPANT_ID, not both", param_hint="TOKEN_ID"
        )
    if participant is not None:
        revoke_participant(participant, actor, mongo_url, database)
        return
    from services.registration.identity import handlers

    assert token_id is not None
    document = run(
        mongo_url,
        database,
        lambda identity: handlers.revoke_token(token_id, identity, actor=actor_of(actor)),
        actor=actor_of(actor),
    )
    out.print(f"token {document.id}: revoked")


def revoke_participant(
    participant: str, actor: str | None, mongo_url: str | None, database: str | None
) -> None:
    """`revoke --participant`: the same use case as `POST /participants/{id}/access/revoke`,
    written with its event to the participant's outbox (the running registration publishes it)."""
    from services.registration.access import handlers as access
    from shared.persistence.aggregates import AggregateStore

    try:
        participant_id = str(uuid.UUID(participant.strip()))
    except ValueError:
        raise typer.BadParameter("a participant id (a UUID)", param_hint="--participant") from None
    settings = registration_settings(mongo_url=mongo_url, database=database)
    lifetime = timedelta(days=settings.party_token_days)

    async def use(identity: Identity) -> datetime:
        participants = AggregateStore(identity.store.accounts.collection.database["participants"])
        return await access.revoke_participant_access(
            participant_id, participants, identity.clock, lifetime
        )

    try:
        before = run(mongo_url, database, use, actor=actor_of(actor))
    except access.ParticipantUnknown:
        fail(f"--participant: no participant {participant_id}")
    out.print(
        f"participant {participant_id}: links issued up to {before:%Y-%m-%d %H:%M:%S}Z revoked"
    )


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
