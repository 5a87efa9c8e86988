"""`foro rebuild` and `foro memoria`: reporting's long-running jobs, with progress.

Both import services.reporting inside the command, so `foro --help` imports no service. Every
connection setting is an option that falls back to the variable the service itself reads (named in
`--help`); prefer the variables for URLs holding passwords: arguments are visible in `ps`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from shared.cli.options import SECRET_NOTE, MongoUrlOption

if TYPE_CHECKING:
    from services.reporting.settings import ReportingSettings


NamespaceOption = Annotated[
    str | None,
    typer.Option(
        envvar="FORO_NAMESPACE",
        show_default=False,
        help="Prefix of the platform's exchanges and queues (default: foro).",
    ),
]
BrokerUrlOption = Annotated[
    str | None,
    typer.Option(
        envvar="FORO_BROKER_URL",
        show_default=False,
        help="RabbitMQ's AMQP URL (default: the local broker)." + SECRET_NOTE,
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        envvar="REPORTING_DATABASE",
        show_default=False,
        help="Reporting's database (default: foro_reporting).",
    ),
]
PackOption = Annotated[
    Path | None,
    typer.Option(
        envvar="FORO_PACK_PATH",
        show_default=False,
        help="The event pack file (default: the bundled one).",
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]

console = Console()
progress_console = Console(stderr=True)


def reporting_settings(**given: Any) -> ReportingSettings:
    """Reporting's settings: the options given, then REPORTING_*/FORO_* variables, then defaults."""
    from pydantic import ValidationError

    from services.reporting.settings import ReportingSettings

    try:
        return ReportingSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as error:
        for problem in error.errors(include_url=False):
            field = ".".join(str(part) for part in problem["loc"])
            progress_console.print(f"[red]error:[/red] {field}: {problem['msg']}")
        raise typer.Exit(2) from None


@contextmanager
def progress_bars(quiet: bool) -> Iterator[Progress]:
    """A rich display on stderr: a bar when the total is known, a spinner and a count while not."""
    display = Progress(
        SpinnerColumn(finished_text="✓"),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=progress_console,
        disable=quiet,
    )
    with display:
        yield display


class StepBars:
    """Turns `(step, done, total)` callbacks into one progress bar per step."""

    def __init__(self, display: Progress, descriptions: dict[str, str] | None = None) -> None:
        self.display = display
        self.descriptions = descriptions or {}
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, step: str, done: int, total: int | None) -> None:
        if step not in self.tasks:
            self.tasks[step] = self.display.add_task(self.descriptions.get(step, step), total=total)
        self.display.update(self.tasks[step], completed=done, total=total)


def rebuild(
    namespace: NamespaceOption = None,
    mongo_url: MongoUrlOption = None,
    broker_url: BrokerUrlOption = None,
    database: DatabaseOption = None,
    pack: PackOption = None,
    quiet: QuietOption = False,
) -> None:
    """Rebuild reporting's projections (participants, entities, the event ledger) and its audit trail from the event log.

    Drops the projections, reads `<namespace>.events.log` from its first message to the end it marks first, folds every event and writes each document once. The audit trail is rewritten entry by entry, not dropped: it keeps the entries of events the bounded log no longer holds. Conclusions, the action plan, budget records and generated documents are kept. Safe while the service consumes."""
    from services.reporting.rebuild import STEPS
    from services.reporting.rebuild import rebuild as run_rebuild
    from shared.logging import configure_logging

    settings = reporting_settings(
        namespace=namespace,
        mongo_url=mongo_url,
        broker_url=broker_url,
        database=database,
        pack_path=pack,
    )
    configure_logging("reporting-rebuild", settings.log_level, settings.log_format)
    with progress_bars(quiet) as display:
        outcome = asyncio.run(run_rebuild(settings, progress=StepBars(display, STEPS)))
    console.print(
        f"rebuilt namespace {settings.namespace} from {outcome.events} events "
        f"({outcome.skipped} skipped)"
    )


def memoria(
    out: Annotated[Path, typer.Option(help="Directory the files are written into.")] = Path(
        "build/memoria"
    ),
    lang: Annotated[
        list[str] | None,
        typer.Option(help="es or en; repeat for several (default: es and en)."),
    ] = None,
    final: Annotated[
        bool, typer.Option("--final", help="The published, end-of-forum version.")
    ] = False,
    base_document: Annotated[
        bool, typer.Option("--base-document", help="Also write the base document.")
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(help="Ask this running reporting service instead of its database."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="FORO_API_TOKEN",
            show_default=False,
            help="Secretariat token for --url.",
        ),
    ] = None,
    namespace: NamespaceOption = None,
    mongo_url: MongoUrlOption = None,
    database: DatabaseOption = None,
    pack: PackOption = None,
    quiet: QuietOption = False,
) -> None:
    """Write the Memoria (HTML and PDF per language) into a directory.

    From reporting's database, or with --url from a running reporting service. Each version is stored with its content hash and announced with `report.generated`."""
    languages = lang or ["es", "en"]
    unknown = [language for language in languages if language not in ("es", "en")]
    if unknown:
        raise typer.BadParameter(f"{', '.join(unknown)}: not es or en", param_hint="--lang")
    if url and (base_document or final):
        raise typer.BadParameter(
            "--final and --base-document work on the database, not with --url", param_hint="--url"
        )
    from services.reporting.memoria import fetch_memoria, write_memoria_with

    written: list[Path] = []
    with progress_bars(quiet) as display:
        task = display.add_task("memoria", total=None)

        def progress(step: str, done: int, total: int) -> None:
            display.update(task, description=step, completed=done, total=total)

        if url:
            written = fetch_memoria(url, token or "", out, languages, progress=progress)
        else:
            from shared.logging import configure_logging

            settings = reporting_settings(
                namespace=namespace, mongo_url=mongo_url, database=database, pack_path=pack
            )
            configure_logging("reporting-memoria", settings.log_level, settings.log_format)
            documents = asyncio.run(
                write_memoria_with(
                    settings,
                    out,
                    languages,
                    final=final,
                    base_document=base_document,
                    progress=progress,
                )
            )
            written = [path for paths in documents.values() for path in paths.values()]
    for path in written:
        console.print(str(path), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Adds `foro rebuild` and `foro memoria` to the root `foro` command."""
    app.command("rebuild")(rebuild)
    app.command("memoria")(memoria)
