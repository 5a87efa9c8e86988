"""Every rendered message reads right, line by line, in both languages: no runs of blank lines,
no trailing spaces, no "None", no raw Jinja left over; text parts read on a phone (no line over
78 characters unless it is a single address, no HTML tags or entities); a non-essential
message's unsubscribe link is a real link in the HTML and an address on its own line in the
text, and previews show a sample one; the venue reads right where it is spliced."""

from __future__ import annotations

import html
import re

import pytest

from services.notification.templates import (
    SAMPLE_UNSUBSCRIBE_URL,
    TemplateBook,
    first_trigger_for,
    is_essential,
    sample_for,
    wrap_text,
)
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
    text = _rendered(message_type, lang, token)["text"]
    for line in text.splitlines():
        single_word = len(line.split()) == 1
        assert len(line) <= 78 or single_word, f"{message_type}/{lang}/text: long line {line!r}"
    assert not re.search(r"</?[a-zA-Z][^>]*>", text), f"{message_type}/{lang}/text: an HTML tag"
    assert not re.search(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);", text), (
        f"{message_type}/{lang}/text: an HTML entity"
    )


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("message_type", BOOK.message_types())
def test_a_non_essential_message_ends_with_a_real_unsubscribe_link(
    message_type: str, lang: str
) -> None:
    context = sample_for(BOOK, message_type, lang)  # what the previews render
    context.setdefault("reminder", {"anchor": "2004-11-18T09:00:00-06:00"})
    essential = is_essential(first_trigger_for(BOOK, message_type), message_type)
    assert ("unsubscribe_url" in context) is not essential, "previews show the sample link"
    email = BOOK.render_email(message_type, lang, context)
    url = SAMPLE_UNSUBSCRIBE_URL
    if essential:
        assert url not in email.text and url not in email.html
        return
    label = "Darse de baja de los mensajes informativos" if lang == "es" else "Unsubscribe"
    anchors = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', email.html)
    assert any(html.unescape(href) == url and text.startswith(label) for href, text in anchors), (
        f"{message_type}/{lang}: no <a href> unsubscribe link in {anchors}"
    )
    assert f"\n{url}\n" in email.text, "the address stands on its own line"
    assert email.text.count(url) == 1, "said once"


def test_text_is_wrapped_between_words_and_an_address_stays_whole() -> None:
    address = "https://foro.example.org/notification/unsubscribe?token=" + "x" * 60
    wrapped = wrap_text(("palabra " * 20).strip() + "\n" + address)
    assert all(len(line) <= 78 for line in wrapped.splitlines()[:-1])
    assert wrapped.splitlines()[-1] == address
    assert wrapped.replace("\n", " ").split() == (("palabra " * 20) + address).split()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_personal_code_stands_in_its_own_paragraph(lang: str) -> None:
    text = _rendered("registration_confirmed", lang, CODE)["text"]
    paragraphs = text.split("\n\n")
    holding = [p for p in paragraphs if CODE in p]
    # Its label on one line, the code alone on the next: whole, and easy to copy on a phone.
    assert len(holding) == 1 and holding[0].splitlines()[1:] == [CODE]
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
