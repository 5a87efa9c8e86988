"""Templates and triggers as data: every message renders in both languages; overrides win."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.notification.providers import Attachment, Outgoing, limiter_wait, rate_limiter
from services.notification.smtp import email_bytes, email_message
from services.notification.templates import TemplateBook, first_trigger_for, sample_context
from shared.cli.app import app as foro
from shared.pack import load_pack

PACK = load_pack()
BOOK = TemplateBook(PACK)


def test_every_template_and_trigger_loads() -> None:
    assert BOOK.check() == []


@pytest.mark.parametrize("message_type", BOOK.message_types())
@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_message_type_renders_in_both_languages_with_sample_data(
    message_type: str, lang: str
) -> None:
    context = sample_context(BOOK, first_trigger_for(BOOK, message_type), lang)
    context.setdefault("reminder", {"anchor": "2004-11-18T09:00:00-06:00"})
    email = BOOK.render_email(message_type, lang, context)
    assert email.subject and "\n" not in email.subject
    assert email.text.strip() and "None" not in email.text
    assert f'<html lang="{lang}">' in email.html
    greeting = "Estimad" if lang == "es" else "Dear"
    assert email.text.startswith(greeting)


def test_a_language_without_template_falls_back_to_the_forums_default(tmp_path: Path) -> None:
    (tmp_path / "registration_confirmed.yaml").write_text(
        "es:\n  subject: 'Hola {{ person.given_name }}'\n  text: 'Texto'\n", encoding="utf-8"
    )
    book = TemplateBook(PACK, tmp_path)
    assert book.language_for("registration_confirmed", "en") == "es"
    assert (
        book.render_email("registration_confirmed", "en", {"person": {"given_name": "Ana"}}).subject
        == "Hola Ana"
    )
    # The override folder wins file by file: other types still come from the pack.
    assert book.render_email(
        "registration_waitlisted", "en", {"person": {"given_name": "Ann"}}
    ).subject.startswith("Waiting list")


def test_an_override_of_the_layouts_words_is_checked_and_a_third_language_uses_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "_layout.yaml").write_text("en:\n  why: Because.\n", encoding="utf-8")
    problems = TemplateBook(PACK, tmp_path).check()
    assert problems == [
        "_layout.yaml: the default language lacks ['unsubscribe', 'unsubscribe_text', 'why']"
    ]
    words = "\n".join(
        f"{lang}:\n  why: W-{lang}\n  unsubscribe: U-{lang}\n  unsubscribe_text: T-{lang}"
        for lang in ("es", "fr")
    )
    (tmp_path / "_layout.yaml").write_text(words + "\n", encoding="utf-8")
    book = TemplateBook(PACK, tmp_path)
    assert book.check() == [] and "_layout" not in book.message_types()
    assert book.layout_words("fr")["unsubscribe"] == "U-fr"
    assert book.layout_words("de")["unsubscribe"] == "U-es"  # the forum's default language


def test_html_is_autoescaped_and_text_is_not() -> None:
    email = BOOK.render_email(
        "registration_confirmed", "en", {"person": {"given_name": "<script>x</script>"}}
    )
    assert "Dear <script>x</script>," in email.text
    assert "&lt;script&gt;" in email.html and "<script>" not in email.html


def test_sms_is_one_line_and_only_where_a_template_exists() -> None:
    sms = BOOK.render_sms("registration_confirmed", "es", {})
    assert sms and "\n" not in sms
    assert BOOK.render_sms("registration_rejected", "es", {}) is None


@pytest.mark.parametrize("build", ["written", "mime"])
def test_the_email_has_text_and_html_alternatives_and_the_attachment(build: str) -> None:
    outgoing = Outgoing(
        message_id="5c2f0b8e-7a1d-5b6e-9c3f-1f0a2b3c4d5e",
        to="a@x.org",
        subject="Confirmación de su inscripción en el Foro Sector Privado y Migraciones, San Salvador",
        text="Hola, Ana: su inscripción está confirmada.",
        html="<p>Hola, <b>Ana</b></p>",
        attachments=[
            Attachment("foro.ics", "text/calendar", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
        ],
        language="es",
    )
    sender = "Foro <f@x.org>"
    raw = (
        email_bytes(outgoing, sender)
        if build == "written"
        else bytes(email_message(outgoing, sender))
    )
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["Subject"] == outgoing.subject and message["From"] == sender
    assert message["Message-ID"] == "<5c2f0b8e-7a1d-5b6e-9c3f-1f0a2b3c4d5e@foro.notification>"
    assert message["Content-Language"] == "es" and message["Date"]
    types = [part.get_content_type() for part in message.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert message.get_body(("plain",)).get_content() == outgoing.text
    assert message.get_body(("html",)).get_content() == outgoing.html
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "foro.ics"
    assert attachment.get_content().startswith("BEGIN:VCALENDAR")
    assert not message.defects and not any(part.defects for part in message.walk())


async def test_a_rate_limit_gives_a_burst_then_says_how_long_to_wait() -> None:
    limiter = rate_limiter(2)
    assert limiter is not None and rate_limiter(None) is None
    for _ in range(2):
        assert limiter.has_capacity()
        await limiter.acquire()
    assert not limiter.has_capacity()
    assert limiter_wait(limiter) == 0.5
    slow = rate_limiter(0.5)  # one every two seconds
    assert slow is not None and limiter_wait(slow) == 2.0


def test_the_cli_renders_a_template_for_review() -> None:
    runner = CliRunner()
    rendered = runner.invoke(
        foro, ["templates", "render", "session_rescheduled", "--lang", "en", "--part", "text"]
    )
    assert rendered.exit_code == 0, rendered.output
    assert (
        "Session B1.2 “Remittances and financial services” has a new time or room."
        in rendered.stdout
    )
    assert "Now: November 18, 2004, 15:00, Plenary hall" in rendered.stdout
    checked = runner.invoke(foro, ["templates", "check"])
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.strip().endswith("ok")
