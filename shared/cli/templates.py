"""`foro templates list|render|check`: review notification templates without sending anything.

Renders with the trigger's sample event from triggers.yaml and a sample person. `--templates`
points at an override folder (the one NOTIFICATION_TEMPLATES_PATH names), which wins file by file
over the bundled templates. Notification is imported inside the commands.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from services.notification.templates import TemplateBook

app = typer.Typer(
    help="Review notification templates (list, render with sample data, check) without sending.",
    no_args_is_help=True,
)

TemplatesOption = Annotated[
    Path | None,
    typer.Option(
        "--templates",
        envvar="NOTIFICATION_TEMPLATES_PATH",
        show_default=False,
        help="Override folder of templates and triggers.yaml (wins file by file over the bundled ones).",
    ),
]
PackOption = Annotated[
    Path | None,
    typer.Option(
        "--pack",
        envvar="FORO_PACK_PATH",
        show_default=False,
        help="Event pack file (default: the bundled one).",
    ),
]


class Part(StrEnum):
    all = "all"
    subject = "subject"
    text = "text"
    html = "html"
    sms = "sms"


def template_book(pack: Path | None, templates: Path | None) -> TemplateBook:
    from services.notification.templates import TemplateBook
    from shared.pack import PackError, load_pack

    try:
        return TemplateBook(load_pack(pack), templates)
    except PackError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def template_problems(pack: Path | None, templates: Path | None) -> list[str]:
    """Every problem of every template and trigger (what notification checks at start-up)."""
    return template_book(pack, templates).check()


@app.command("list")
def list_templates(templates: TemplatesOption = None, pack: PackOption = None) -> None:
    """Message types, their languages and the triggers that send them."""
    from services.notification.templates import TemplateError

    book = template_book(pack, templates)
    try:
        for message_type in book.message_types():
            keys = [
                key
                for key, trigger in book.triggers.items()
                if trigger.message_type == message_type
                or any(r.message_type == message_type for r in trigger.reminders)
            ]
            langs = ",".join(book.templates(message_type))
            typer.echo(f"{message_type:30} {langs:6} {' '.join(keys) or '(campaigns)'}")
    except TemplateError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


@app.command()
def render(
    message_type: Annotated[str, typer.Argument(help="e.g. registration_confirmed")],
    lang: Annotated[
        str | None,
        typer.Option(show_default=False, help="es or en (default: the forum's language)."),
    ] = None,
    part: Annotated[Part, typer.Option(help="What to print.")] = Part.all,
    templates: TemplatesOption = None,
    pack: PackOption = None,
) -> None:
    """Render one message type with its trigger's sample event and a sample person."""
    from services.notification.templates import TemplateError, sample_for

    book = template_book(pack, templates)
    try:
        language = book.language_for(message_type, lang or book.pack.forum.default_language)
        # The preview's own sample: a reminder's moment, a non-essential type's unsubscribe link.
        context = sample_for(book, message_type, language)
        email = book.render_email(message_type, language, context)
        sms = book.render_sms(message_type, language, context)
    except TemplateError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    parts = {
        "subject": email.subject,
        "text": email.text,
        "html": email.html,
        "sms": sms or "(no SMS)",
    }
    if part is not Part.all:
        typer.echo(parts[part.value])
        return
    for name in ("subject", "text", "sms", "html"):
        typer.echo(f"===== {name} ({language}) =====\n{parts[name]}")


@app.command()
def check(templates: TemplatesOption = None, pack: PackOption = None) -> None:
    """Load every template and trigger and render every part; print every problem (exit 1 if any)."""
    problems = template_problems(pack, templates)
    for problem in problems:
        typer.echo(problem)
    typer.echo("ok" if not problems else f"{len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)
