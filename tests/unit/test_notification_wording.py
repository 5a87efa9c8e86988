"""Every rendered message reads right, line by line, in both languages: no runs of blank lines,
no trailing spaces, no "None", no raw Jinja left over; the venue reads right where it is spliced."""

from __future__ import annotations

import re

import pytest

from services.notification.templates import TemplateBook, sample_for
from shared.pack import load_pack

PACK = load_pack()
BOOK = TemplateBook(PACK)
CODE = "eyJhbGciOiJIUzI1NiJ9.personal-code.signature"


def _rendered(message_type: str, lang: str, token: str | None) -> dict[str, str]:
    context = sample_for(BOOK, message_type, lang)
    context.setdefault("reminder", {"anchor": "2004-11-18T09:00:00-06:00"})
    if token:
        context["access_token"] = token
        context["unsubscribe_url"] = "https://foro.example.org/notification/unsubscribe?token=t.s"
    email = BOOK.render_email(message_type, lang, context)
    parts = {"subject": email.subject, "text": email.text, "html": email.html}
    if sms := BOOK.render_sms(message_type, lang, context):
        parts["sms"] = sms
    return parts


@pytest.mark.parametrize("token", [None, CODE], ids=["no-code", "with-code-and-link"])
@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("message_type", BOOK.message_types())
def test_every_template_reads_clean(message_type: str, lang: str, token: str | None) -> None:
    for part, value in _rendered(message_type, lang, token).items():
        where = f"{message_type}/{lang}/{part}"
        assert "\n\n\n" not in value, f"{where}: a run of blank lines"
        assert not re.search(r"[ \t]+$", value, re.MULTILINE), f"{where}: trailing spaces"
        assert "None" not in value, f"{where}: 'None'"
        assert "{{" not in value and "{%" not in value, f"{where}: raw Jinja"
        assert not value.startswith(("\n", " ")), f"{where}: leading blank"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_personal_code_stands_in_its_own_paragraph(lang: str) -> None:
    text = _rendered("registration_confirmed", lang, CODE)["text"]
    paragraphs = text.split("\n\n")
    holding = [p for p in paragraphs if CODE in p]
    assert len(holding) == 1 and holding[0].count("\n") == 0
    index = paragraphs.index(holding[0])
    assert paragraphs[index - 1].strip() and paragraphs[index + 1].strip()


def test_the_badge_email_names_the_venue_the_way_each_language_reads() -> None:
    venue = PACK.forum.venue.name
    es = _rendered("badge_issued", "es", None)["text"]
    en = _rendered("badge_issued", "en", None)["text"]
    # Spliced after "de", a venue whose name wants an article ("el Centro…") read wrong; it
    # stands on a line of its own instead, whatever the pack's venue is called.
    assert f"de {venue}" not in es
    assert f"Lugar: {venue}, {PACK.forum.venue.city}" in es.splitlines()
    assert f"Venue: {venue}, {PACK.forum.venue.city}" in en.splitlines()
