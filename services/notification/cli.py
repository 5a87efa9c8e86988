"""Review templates without sending anything.

    python -m services.notification.cli list
    python -m services.notification.cli render registration_confirmed --lang en [--part html|text|sms|all]
    python -m services.notification.cli check [--templates DIR]

Renders with the trigger's sample event from triggers.yaml and a sample person. `--templates`
points at an override folder (the same one NOTIFICATION_TEMPLATES_PATH names).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from services.notification.domain import dig_any
from services.notification.templates import (
    TemplateBook,
    TemplateError,
    first_trigger_for,
    sample_context,
)
from shared.pack import load_pack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.notification.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--templates", type=Path, help="Override folder (wins file by file over the pack's)."
    )
    parser.add_argument("--pack", type=Path, help="Event pack file (the bundled one when unset).")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="Message types, their languages and triggers.")
    commands.add_parser("check", help="Load every template and trigger; print every problem.")
    render = commands.add_parser("render", help="Render one message type with sample data.")
    render.add_argument("message_type")
    render.add_argument("--lang", default=None, help="es or en (the forum's default when unset).")
    render.add_argument("--part", choices=["all", "subject", "text", "html", "sms"], default="all")
    args = parser.parse_args(argv)

    book = TemplateBook(load_pack(args.pack), args.templates)
    out = sys.stdout
    try:
        if args.command == "check":
            problems = book.check()
            for problem in problems:
                print(problem, file=out)
            print("ok" if not problems else f"{len(problems)} problem(s)", file=out)
            return 1 if problems else 0
        if args.command == "list":
            for message_type in book.message_types():
                keys = [
                    k
                    for k, t in book.triggers.items()
                    if t.message_type == message_type
                    or any(r.message_type == message_type for r in t.reminders)
                ]
                langs = ",".join(book.templates(message_type))
                print(f"{message_type:30} {langs:6} {' '.join(keys) or '(campaigns)'}", file=out)
            return 0
        lang = book.language_for(args.message_type, args.lang or book.pack.forum.default_language)
        context = sample_context(book, first_trigger_for(book, args.message_type), lang)
        if args.message_type.endswith("_reminder"):
            anchor = dig_any(context["event"], "slot.starts_at|current.starts_at") or str(
                book.pack.forum.dates[0]
            )
            context["reminder"] = {"anchor": anchor}
        email = book.render_email(args.message_type, lang, context)
        sms = book.render_sms(args.message_type, lang, context)
        parts = {
            "subject": email.subject,
            "text": email.text,
            "html": email.html,
            "sms": sms or "(no SMS)",
        }
        if args.part != "all":
            print(parts[args.part], file=out)
        else:
            for name in ("subject", "text", "sms", "html"):
                print(f"===== {name} ({lang}) =====\n{parts[name]}", file=out)
        return 0
    except TemplateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
