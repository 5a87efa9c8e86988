"""`foro pack validate|show`: check an event pack before a deployment mounts it.

`validate` loads the pack with the loader the services use (`shared.pack.load_pack`), so it finds
exactly what would stop a service at start-up: every problem with its place in the file
(`categories[3].capacity`), the reason and the line. Then it checks the notification templates
and triggers against that pack, as notification does at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from shared.pack import EventPack

app = typer.Typer(
    help="Check an event pack (fields, cross-references, templates) or summarise it.",
    no_args_is_help=True,
)

PackArgument = Annotated[
    Path | None,
    typer.Argument(
        envvar="FORO_PACK_PATH",
        show_default=False,
        help="The pack's YAML file (default: the bundled CRM 2004 pack).",
    ),
]


def load_or_report(path: Path) -> EventPack | None:
    """The pack, or None after printing every problem on stdout."""
    from shared.pack import PackError, load_pack

    try:
        return load_pack(path)
    except PackError as error:
        for problem in error.problems:
            where = problem.location or "(file)"
            line = f" (line {problem.line})" if problem.line else ""
            typer.echo(f"✗ {where}: {problem.reason}{line}")
        return None


def templates_folder(path: Path, templates: Path | None) -> Path | None:
    """The override folder to check: the one given, else a `templates/` beside the pack."""
    if templates is not None:
        return templates
    from shared.pack import DEFAULT_PACK

    beside = path.parent / "templates"
    return beside if beside.is_dir() and path.resolve() != DEFAULT_PACK.resolve() else None


@app.command()
def validate(
    path: PackArgument = None,
    templates: Annotated[
        Path | None,
        typer.Option(
            envvar="NOTIFICATION_TEMPLATES_PATH",
            show_default=False,
            help="Template override folder to check with the pack (default: templates/ beside "
            "the pack, if any, over the bundled templates).",
        ),
    ] = None,
    check_templates: Annotated[
        bool,
        typer.Option(
            "--check-templates/--skip-templates", help="Also check templates and triggers."
        ),
    ] = True,
) -> None:
    """Load PATH as the services would and print every problem with its field path and reason; exit 1 on any."""
    from shared.pack import DEFAULT_PACK

    file = path or DEFAULT_PACK
    typer.echo(f"pack {file}")
    pack = load_or_report(file)
    problems = 0
    if pack is None:
        problems += 1
    elif check_templates:
        from shared.cli.templates import template_problems

        folder = templates_folder(file, templates)
        found = template_problems(file, folder)
        label = f"templates ({folder})" if folder else "templates (bundled)"
        for problem in found:
            typer.echo(f"✗ {label}: {problem}")
        problems += len(found)
    if problems:
        typer.echo("invalid: fix the problems above", err=True)
        raise typer.Exit(1)
    assert pack is not None
    typer.echo(
        f"ok: {pack.forum.id}, {len(pack.categories)} categories, "
        f"{len(pack.programme.items)} programme items, {len(pack.booths)} booths"
        + (", templates and triggers" if check_templates else "")
    )


@app.command()
def show(path: PackArgument = None) -> None:
    """Summarise a pack: the forum, its dates, venue, languages and what it holds."""
    from shared.pack import DEFAULT_PACK

    file = path or DEFAULT_PACK
    pack = load_or_report(file)
    if pack is None:
        raise typer.Exit(1)
    forum = pack.forum
    rows = [
        ("file", str(file)),
        ("forum", f"{forum.id}: {forum.name.en} / {forum.name.es}"),
        ("dates", f"{forum.dates[0]} to {forum.dates[-1]} ({forum.days} days, {forum.time_zone})"),
        ("venue", f"{forum.venue.city}"),
        ("languages", f"{', '.join(forum.languages)} (default {forum.default_language})"),
        ("categories", ", ".join(c.code for c in pack.categories)),
        ("programme", f"{len(pack.programme.rooms)} rooms, {len(pack.programme.items)} items"),
        ("countries", str(len(pack.countries))),
        ("expo", f"{len(pack.zones)} zones, {len(pack.booths)} booths"),
        ("products", ", ".join(p.code for p in pack.products)),
    ]
    for name, value in rows:
        typer.echo(f"{name:11} {value}")
