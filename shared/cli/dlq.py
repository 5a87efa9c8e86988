"""`foro dlq`: the dead letters of a namespace — count, read, replay, purge.

    foro dlq list                                   dead letters per queue (reads no message)
    foro dlq show --queue registration --reason "gave up" --older-than 2h
    foro dlq replay --queue foro.registration.badges --reason "gave up" [--dry-run]
    foro dlq purge --queue foro.expo.badge-issued --reason "must not" [--dry-run] [--yes]

`--queue` takes a consumer queue (`foro.registration.badges`), its DLQ (`….dlq`), the name without
the namespace (`registration.badges`) or a service (`registration`: all its queues); repeatable.
Nothing is ever requeued: see `shared.messaging.dead_letters` for why a message that does not
match stays safe however often it is read. Every replay and purge is logged (stderr, JSON off a
terminal) with `--actor` (default: the OS user), the queues, the message ids and the counts.

Exit codes: 0 done; 1 some messages could not be replayed (they stay in their DLQ); 2 bad
input (an unknown queue, a bad duration or pattern, nothing named to replay or purge); 3 the
broker cannot be reached; 4 not confirmed, nothing changed.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import aio_pika
import typer
from aio_pika.abc import AbstractConnection
from pydantic import ValidationError
from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from shared.cli.options import (
    EXIT_ABORTED,
    EXIT_BROKER,
    EXIT_FAILED,
    EXIT_USAGE,
    ActorOption,
    BrokerUrlOption,
    DryRunOption,
    NamespaceOption,
)
from shared.logging import configure_logging
from shared.messaging.dead_letters import (
    EXIT_BEFORE_ACK,
    DeadLetter,
    DeadLetterQueues,
    Outcome,
    Selection,
    default_actor,
    parse_duration,
)
from shared.messaging.namespace import DEFAULT_BROKER_URL, build_plan, queue_depth, redacted_url
from shared.messaging.topology import Topology

app = typer.Typer(
    help="Dead letters: count them, read them, replay them to where they were published, purge them.",
    no_args_is_help=True,
)
console = Console()
errors = Console(stderr=True)

QueueOption = Annotated[
    list[str] | None,
    typer.Option(
        "--queue",
        "-q",
        help="Consumer queue, its .dlq, the name without namespace, or a service; repeatable.",
    ),
]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", help="Text the reason contains (case-insensitive).")
]
ReasonRegexOption = Annotated[
    str | None, typer.Option("--reason-regex", help="Regular expression searched in the reason.")
]
OlderThanOption = Annotated[
    str | None,
    typer.Option("--older-than", help="Dead-lettered longer ago than this: 90s, 30m, 2h, 1d."),
]
NewerThanOption = Annotated[
    str | None, typer.Option("--newer-than", help="Dead-lettered less than this ago: 30m, 2h.")
]
MessageIdOption = Annotated[
    list[str] | None, typer.Option("--message-id", help="Only this message id; repeatable.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON on stdout instead of a table.")]
FaultOption = Annotated[str | None, typer.Option("--fault", envvar="FORO_DLQ_FAULT", hidden=True)]


class Fail(Exception):
    """A message for the operator and the exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _selection(
    reason: str | None,
    reason_regex: str | None,
    older_than: str | None,
    newer_than: str | None,
    message_ids: Sequence[str] | None,
    limit: int | None,
) -> Selection:
    try:
        pattern = re.compile(reason_regex) if reason_regex is not None else None
    except re.error as error:
        raise typer.BadParameter(
            f"not a valid regular expression ({error})", param_hint="--reason-regex"
        ) from error
    ages: dict[str, timedelta | None] = {}
    for option, text in (("--older-than", older_than), ("--newer-than", newer_than)):
        try:
            ages[option] = parse_duration(text) if text is not None else None
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint=option) from error
    return Selection(
        reason=reason,
        reason_pattern=pattern,
        older_than=ages["--older-than"],
        newer_than=ages["--newer-than"],
        message_ids=frozenset(message_ids or ()),
        limit=limit,
    )


async def _resolve(
    connection: AbstractConnection,
    namespace: str,
    by_service: dict[str, list[str]],
    requested: Sequence[str] | None,
) -> list[str]:
    """Consumer queue names for `--queue` values; all of the namespace's when none is given."""
    known = [name for names in by_service.values() for name in names]
    if not requested:
        return known
    chosen: list[str] = []
    for value in requested:
        if value in by_service:
            chosen.extend(by_service[value])
            continue
        name = value.removesuffix(".dlq")
        candidates = [name, f"{namespace}.{name}"]
        found = next((c for c in candidates if c in known), None)
        if found is None:
            # Not a queue the services declare, but a dead-letter queue of this namespace exists.
            for candidate in candidates:
                dlq = Topology.dead_letter_queue_name(candidate)
                if candidate.startswith(f"{namespace}.") and (
                    await queue_depth(connection, dlq) is not None
                ):
                    found = candidate
                    break
        if found is None:
            raise Fail(
                f"--queue: {value!r} is neither a service ({', '.join(by_service)}) nor a queue "
                f"of namespace {namespace!r} with a dead-letter queue; `foro dlq list --all` "
                "lists them",
                EXIT_USAGE,
            )
        chosen.append(found)
    return list(dict.fromkeys(chosen))


@asynccontextmanager
async def _dead_letters(
    namespace: str,
    broker_url: str,
    queues: Sequence[str] | None,
    fault: str | None = None,
) -> AsyncIterator[tuple[DeadLetterQueues, dict[str, list[str]]]]:
    configure_logging("foro-cli", "INFO", "auto")
    try:
        plan = build_plan(namespace, broker_url)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'settings'}: {item['msg']}"
            for item in error.errors(include_input=False, include_url=False)
        )
        raise Fail(f"settings refused ({problems})", EXIT_USAGE) from error
    await plan.close()
    by_service = {service.service: service.queue_names for service in plan.services}
    try:
        connection = await aio_pika.connect(broker_url, timeout=10)
    except (OSError, aio_pika.exceptions.AMQPError, TimeoutError) as error:
        raise Fail(
            f"cannot reach the broker at {redacted_url(broker_url)}: {type(error).__name__}: {error}",
            EXIT_BROKER,
        ) from error
    async with connection:
        names = await _resolve(connection, namespace, by_service, queues)
        yield DeadLetterQueues(connection, names, fault=fault), by_service


def _run(coroutine: Any) -> Any:
    try:
        return asyncio.run(coroutine)
    except Fail as failure:
        errors.print(f"[red]error:[/red] {failure}", highlight=False)
        raise typer.Exit(failure.code) from failure


def _short(queue: str, namespace: str) -> str:
    return queue.removeprefix(f"{namespace}.")


def _age(age: timedelta | None) -> str:
    if age is None:
        return "?"
    days, rest = divmod(max(int(age.total_seconds()), 0), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"


def _letters_table(
    letters: Sequence[DeadLetter], namespace: str, now: datetime, title: str
) -> Table:
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("queue", overflow="fold")
    table.add_column("message id", overflow="fold")
    table.add_column("event type", overflow="fold")
    table.add_column("age", justify="right")
    table.add_column("attempt", justify="right")
    table.add_column("reason", overflow="fold", max_width=60)
    table.add_column("original route", overflow="fold")
    for letter in letters:
        table.add_row(
            _short(letter.queue, namespace),
            letter.key,
            letter.event_type or "?",
            _age(letter.age(now)),
            "" if letter.attempt is None else str(letter.attempt),
            letter.reason,
            f"{letter.original_exchange or '?'} → {letter.original_routing_key or '?'}",
        )
    return table


def _letter_panel(letter: DeadLetter, now: datetime) -> Panel:
    document = letter.to_json(now, body=True)
    body = document.pop("body")
    try:
        body = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        pass
    header = Syntax(json.dumps(document, indent=2, ensure_ascii=False, default=str), "json")
    table = Table.grid()
    table.add_row(header)
    table.add_row(Syntax(body, "json", word_wrap=True))
    return Panel(table, title=f"{letter.dead_letter_queue} · {letter.key}")


@app.command("list")
def list_queues(
    namespace: NamespaceOption = "foro",
    broker_url: BrokerUrlOption = DEFAULT_BROKER_URL,
    queue: QueueOption = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the empty and missing dead-letter queues.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Dead letters waiting in each dead-letter queue (a passive declare: reads no message)."""

    async def run() -> None:
        async with _dead_letters(namespace, broker_url, queue) as (dlqs, by_service):
            counts = await dlqs.counts()
        service_of = {q: s for s, names in by_service.items() for q in names}
        total = sum(n or 0 for n in counts.values())
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "namespace": namespace,
                        "total": total,
                        "queues": [
                            {
                                "queue": name,
                                "dead_letter_queue": Topology.dead_letter_queue_name(name),
                                "service": service_of.get(name),
                                "messages": count,
                            }
                            for name, count in counts.items()
                            if show_all or count
                        ],
                    },
                    indent=2,
                )
            )
            return
        table = Table(title=f"Dead letters in namespace {namespace}")
        table.add_column("service")
        table.add_column("dead-letter queue", overflow="fold")
        table.add_column("messages", justify="right")
        for name, count in counts.items():
            if show_all or count:
                table.add_row(
                    service_of.get(name, "?"),
                    Topology.dead_letter_queue_name(name),
                    "absent" if count is None else str(count),
                )
        if table.row_count:
            console.print(table)
        missing = sum(count is None for count in counts.values())
        console.print(
            f"{total} dead letter(s) in {sum(bool(c) for c in counts.values())} of "
            f"{len(counts)} dead-letter queue(s)"
            + (f"; {missing} not declared yet" if missing else ""),
            highlight=False,
        )

    _run(run())


@app.command()
def show(
    namespace: NamespaceOption = "foro",
    broker_url: BrokerUrlOption = DEFAULT_BROKER_URL,
    queue: QueueOption = None,
    reason: ReasonOption = None,
    reason_regex: ReasonRegexOption = None,
    older_than: OlderThanOption = None,
    newer_than: NewerThanOption = None,
    message_id: MessageIdOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many.")] = 20,
    body: Annotated[
        bool, typer.Option("--body", help="Every header and the body of each message.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The dead letters with their reason, type, age and original route; every message stays."""
    selection = _selection(reason, reason_regex, older_than, newer_than, message_id, limit)

    async def run() -> None:
        async with _dead_letters(namespace, broker_url, queue) as (dlqs, _):
            outcome = await dlqs.browse(selection)
        now = datetime.now(UTC)
        letters = outcome.matched
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "namespace": namespace,
                        "scanned": outcome.scanned,
                        "shown": len(letters),
                        "more": outcome.more,
                        "messages": [letter.to_json(now, body=body) for letter in letters],
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
            return
        if body or message_id:
            for letter in letters:
                console.print(_letter_panel(letter, now))
        elif letters:
            console.print(_letters_table(letters, namespace, now, f"Dead letters in {namespace}"))
        console.print(_summary(outcome, "shown"), highlight=False)

    _run(run())


def _summary(outcome: Outcome, verb: str) -> str:
    queues = sum(not q.absent for q in outcome.queues)
    text = f"{len(outcome.matched)} {verb} of {outcome.scanned} dead letter(s) read in {queues} queue(s)"
    if outcome.more:
        text += f"; {outcome.more} more match (raise --limit)"
    return text


def _require_target(
    selection: Selection, queue: Sequence[str] | None, every: bool, verb: str
) -> None:
    if selection.everything and not queue and not every:
        raise Fail(
            f"name what to {verb}: --queue, --reason, --reason-regex, --older-than, "
            "--newer-than or --message-id (or --all for every dead letter)",
            EXIT_USAGE,
        )


@app.command()
def replay(
    namespace: NamespaceOption = "foro",
    broker_url: BrokerUrlOption = DEFAULT_BROKER_URL,
    queue: QueueOption = None,
    reason: ReasonOption = None,
    reason_regex: ReasonRegexOption = None,
    older_than: OlderThanOption = None,
    newer_than: NewerThanOption = None,
    message_id: MessageIdOption = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Replay at most this many.")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every dead letter of the namespace (no filter).")
    ] = False,
    direct: Annotated[
        bool,
        typer.Option(
            "--direct",
            help="Send each message to the queue that dead-lettered it only, not to its original "
            "exchange (which would also deliver it again to every other queue bound there).",
        ),
    ] = False,
    dry_run: DryRunOption = False,
    actor: ActorOption = None,
    fault: FaultOption = None,
) -> None:
    """Publish the matching dead letters again to their original exchange and routing key.

    Persistent, publisher-confirmed and mandatory; taken out of the DLQ only once the broker
    confirmed the publish. A message nothing would receive stays in its DLQ (exit code 1)."""
    selection = _selection(reason, reason_regex, older_than, newer_than, message_id, limit)
    if fault not in (None, EXIT_BEFORE_ACK):
        raise typer.BadParameter(f"unknown fault {fault!r}", param_hint="--fault")

    async def run() -> None:
        _require_target(selection, queue, every, "replay")
        async with _dead_letters(namespace, broker_url, queue, fault) as (dlqs, _):
            outcome = await dlqs.replay(
                selection, actor=actor or default_actor(), dry_run=dry_run, direct=direct
            )
        now = datetime.now(UTC)
        if dry_run:
            if outcome.matched:
                console.print(
                    _letters_table(
                        outcome.matched, namespace, now, "Would replay (dry run: nothing changed)"
                    )
                )
            console.print(_summary(outcome, "would be replayed"), highlight=False)
            return
        table = Table(title=f"Replayed in {namespace}")
        table.add_column("dead-letter queue", overflow="fold")
        table.add_column("replayed", justify="right")
        table.add_column("kept (failed)", justify="right")
        for result in outcome.queues:
            if result.matched:
                table.add_row(
                    result.dead_letter_queue, str(len(result.replayed)), str(len(result.failed))
                )
        if table.row_count:
            console.print(table)
        for result in outcome.queues:
            for key, why in result.failed.items():
                errors.print(
                    f"[yellow]kept[/yellow] {result.dead_letter_queue} {key}: {why}",
                    highlight=False,
                )
        console.print(
            f"{outcome.replayed} replayed, {outcome.failed} kept; {outcome.scanned} read"
            + (f"; {outcome.more} more match (raise --limit)" if outcome.more else ""),
            highlight=False,
        )
        if outcome.failed:
            raise Fail(
                f"{outcome.failed} message(s) could not be replayed and stay in their DLQ",
                EXIT_FAILED,
            )

    _run(run())


@app.command()
def purge(
    namespace: NamespaceOption = "foro",
    broker_url: BrokerUrlOption = DEFAULT_BROKER_URL,
    queue: QueueOption = None,
    reason: ReasonOption = None,
    reason_regex: ReasonRegexOption = None,
    older_than: OlderThanOption = None,
    newer_than: NewerThanOption = None,
    message_id: MessageIdOption = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Purge at most this many.")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every message of the chosen queues (no filter).")
    ] = False,
    dry_run: DryRunOption = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    actor: ActorOption = None,
) -> None:
    """Delete the matching dead letters for good; the others stay.

    Needs a filter, or `--all` for whole queues; asks for confirmation unless `--yes`."""
    selection = _selection(reason, reason_regex, older_than, newer_than, message_id, limit)

    async def run() -> None:
        if selection.everything and not every:
            raise Fail(
                "name what to purge: --reason, --reason-regex, --older-than, --newer-than or "
                "--message-id, or --all for every message of the chosen queues",
                EXIT_USAGE,
            )
        async with _dead_letters(namespace, broker_url, queue) as (dlqs, _):
            if not dry_run and not yes:
                counts = await dlqs.counts()
                holding = sum(n or 0 for n in counts.values())
                what = (
                    "every message"
                    if selection.everything
                    else "the messages matching "
                    + ", ".join(
                        f"{k}={v}" for k, v in selection.describe().items() if v is not None
                    )
                )
                try:
                    confirmed = typer.confirm(
                        f"Purge {what} from {sum(bool(n) for n in counts.values())} dead-letter "
                        f"queue(s) of namespace {namespace} holding {holding} message(s)?"
                    )
                except typer.Abort:
                    confirmed = False
                if not confirmed:
                    raise Fail(
                        "not confirmed; nothing purged (--yes to skip the question)", EXIT_ABORTED
                    )
            outcome = await dlqs.purge(selection, actor=actor or default_actor(), dry_run=dry_run)
        now = datetime.now(UTC)
        if dry_run:
            if outcome.matched:
                console.print(
                    _letters_table(
                        outcome.matched, namespace, now, "Would purge (dry run: nothing changed)"
                    )
                )
            console.print(_summary(outcome, "would be purged"), highlight=False)
            return
        console.print(
            f"{outcome.purged} purged; {outcome.scanned - outcome.purged} kept of "
            f"{outcome.scanned} read",
            highlight=False,
        )

    _run(run())
