"""`foro topology`: declare or delete everything a namespace holds on the broker.

    foro topology declare --namespace staging
    foro topology delete --namespace bench1a2b3c [--dry-run] [--force] [--yes]

`declare` is what the five services declare when they start (exchanges, the event log, every
consumer queue with its bindings, retry and dead-letter queues; `shared.messaging.namespace`),
and consumes nothing: run it before the services to keep events published meanwhile.
`delete` removes all of it; a queue holding messages is refused unless `--force`, and the
platform's own namespace (`foro`) also needs `--i-mean-it`.

Exit codes: 0 done; 1 refused (queues hold messages); 2 bad input; 3 the broker cannot be
reached; 4 not confirmed, nothing deleted.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from aio_pika.exceptions import AMQPError
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from shared.cli.options import (
    EXIT_ABORTED,
    EXIT_BROKER,
    EXIT_USAGE,
    ActorOption,
    BrokerUrlOption,
    DryRunOption,
    NamespaceOption,
)
from shared.logging import configure_logging
from shared.messaging.dead_letters import default_actor
from shared.messaging.namespace import (
    DEFAULT_BROKER_URL,
    PROTECTED_NAMESPACES,
    declare_namespace,
    delete_namespace,
    redacted_url,
)

EXIT_REFUSED = 1

app = typer.Typer(
    help="Declare or delete a namespace's exchanges and queues, as the services declare them.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)


def _fail(message: str, code: int) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _broker_error(broker_url: str, error: BaseException) -> typer.Exit:
    return _fail(
        f"cannot reach the broker at {redacted_url(broker_url)}: {type(error).__name__}: {error}",
        EXIT_BROKER,
    )


@app.command()
def declare(
    namespace: NamespaceOption,
    broker_url: BrokerUrlOption = DEFAULT_BROKER_URL,
) -> None:
    """Declare every exchange, queue and binding the services of NAMESPACE declare."""
    configure_logging("foro-cli", "WARNING", "auto")
    try:
        report = asyncio.run(declare_namespace(namespace, broker_url))
    except ValidationError as error:
        raise _fail(f"--namespace or settings refused: {error}", EXIT_USAGE) from error
    except (OSError, AMQPError, TimeoutError) as error:
        raise _broker_error(broker_url, error) from error
    console.print(
        f"namespace {namespace}: declared {len(report.exchanges)} exchanges, "
        f"{len(report.queues)} queues (consumer, retry, dead-letter and the event log) and "
        f"their bindings",
        highlight=False,
    )


@app.command()
def delete(
    namespace: NamespaceOption,
    broker_url: BrokerUrlOption = DEFAULT_BROKER_URL,
    force: Annotated[
        bool, typer.Option("--force", help="Also delete queues that hold messages.")
    ] = False,
    dry_run: DryRunOption = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    i_mean_it: Annotated[
        bool,
        typer.Option(
            "--i-mean-it", help=f"Needed to delete {', '.join(sorted(PROTECTED_NAMESPACES))}."
        ),
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Delete every exchange and queue of NAMESPACE; refuses queues holding messages."""
    configure_logging("foro-cli", "INFO", "auto")
    if namespace in PROTECTED_NAMESPACES and not i_mean_it and not dry_run:
        raise _fail(
            f"{namespace!r} is the platform's own namespace: its event log is the history every "
            "projection is rebuilt from. Add --i-mean-it to delete it anyway.",
            EXIT_USAGE,
        )
    if not dry_run and not yes:
        try:
            confirmed = typer.confirm(
                f"Delete every exchange and queue of namespace {namespace}"
                + (", messages included" if force else "")
                + "?"
            )
        except typer.Abort:
            confirmed = False
        if not confirmed:
            raise _fail("not confirmed; nothing deleted (--yes to skip the question)", EXIT_ABORTED)
    try:
        report = asyncio.run(
            delete_namespace(
                namespace,
                broker_url,
                force=force,
                dry_run=dry_run,
                i_mean_it=i_mean_it or dry_run,
                actor=actor or default_actor(),
            )
        )
    except ValidationError as error:
        raise _fail(f"--namespace or settings refused: {error}", EXIT_USAGE) from error
    except (OSError, AMQPError, TimeoutError) as error:
        raise _broker_error(broker_url, error) from error
    if report.holding:
        table = Table(title="Queues holding messages")
        table.add_column("queue", overflow="fold")
        table.add_column("messages", justify="right")
        for name, count in sorted(report.holding.items()):
            stream = name.endswith(".events.log")  # a stream tells no count; one was read
            table.add_row(name, f"≥{count} (stream)" if stream else str(count))
        console.print(table)
    if report.refused:
        raise _fail(
            f"{len(report.refused)} queue(s) hold messages; nothing deleted. Read them first "
            "(`foro dlq list`), or add --force to delete them with their messages.",
            EXIT_REFUSED,
        )
    verb = "would delete" if dry_run else "deleted"
    console.print(
        f"namespace {namespace}: {verb} {len(report.deleted_queues)} queues and "
        f"{len(report.deleted_exchanges)} exchanges"
        + (f"; {len(report.absent)} names were not there" if report.absent else ""),
        highlight=False,
    )
