"""A sign-up, through the real registration service, reaches the person's inbox in their language."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.auth.permissions import PARTICIPANT_PERMISSIONS
from shared.auth.tokens import TokenVerifier
from tests.integration.notification.conftest import PARTICIPANT_SECRET, RunningNotification
from tests.support.bus import publish_json
from tests.support.factories import signup


def parts(email: Any) -> dict[str, str]:
    found = {}
    for part in email.walk():
        if (
            part.get_content_type() in ("text/plain", "text/html", "text/calendar")
            and part.get_content_type() not in found
        ):
            found[part.get_content_type()] = part.get_content()
    return found


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "html_phrase"),
    [
        ("es", "Inscripción confirmada", "Estimada/o Ana:", "está confirmada"),
        ("en", "Registration confirmed", "Dear Ana,", "is confirmed"),
    ],
)
async def test_a_signup_gets_one_confirmation_email_in_its_language_with_text_and_html(
    notification: RunningNotification,
    registration_service: Any,
    language: str,
    subject: str,
    greeting: str,
    html_phrase: str,
) -> None:
    form = signup(language=language)
    await publish_json(
        notification.amqp,
        registration_service.topology.intake.name,
        "registration.submitted",
        json.dumps(form).encode(),
    )

    await notification.wait_emails(form["email"])
    person_id = await notification.wait_all_final(email=form["email"])

    confirmations = [
        m
        for m in await notification.messages(person_id=person_id)
        if m["message_type"] == "registration_confirmed"
    ]
    assert [(m["channel"], m["status"]) for m in confirmations] == [("email", "sent")]
    emails = notification.emails_to(form["email"])
    ours = [e for e in emails if e["Message-ID"] == confirmations[0]["provider_message_id"]]
    assert len(ours) == 1
    assert len(emails) == len(
        await notification.messages(person_id=person_id)
    )  # one each, no copies
    email = ours[0]
    assert email["Subject"].startswith(subject)
    assert email["Content-Language"] == language
    found = parts(email)
    assert found["text/plain"].startswith(greeting)
    assert html_phrase in found["text/html"] and f'<html lang="{language}">' in found["text/html"]
    assert "BEGIN:VEVENT" in found["text/calendar"]  # the forum, for the person's calendar
    # The personal code for participant-facing APIs: minted when sent, for this person only.
    # Its label on one line, the code alone on the next (whole, easy to copy on a phone).
    lines = found["text/plain"].splitlines()
    [label] = [index for index, line in enumerate(lines) if "personal" in line]
    token = lines[label + 1].strip()
    principal = TokenVerifier({}, link_secrets=[PARTICIPANT_SECRET]).verify(token)
    assert (principal.kind, principal.participant) == ("participant", person_id)
    assert principal.subject == f"participant:{person_id}"
    assert principal.permissions == PARTICIPANT_PERMISSIONS


async def test_html_is_autoescaped_but_text_is_not(notification: RunningNotification) -> None:
    from tests.support.notification import confirmed, participant

    person = participant(given_name="<b>Ana</b> & Co", language="en")
    await notification.publish(confirmed(person))
    email = (await notification.wait_emails(person["email"]))[0]
    found = parts(email)
    assert "Dear <b>Ana</b> & Co," in found["text/plain"]
    assert (
        "&lt;b&gt;Ana&lt;/b&gt; &amp; Co" in found["text/html"]
        and "<b>Ana</b>" not in found["text/html"]
    )
