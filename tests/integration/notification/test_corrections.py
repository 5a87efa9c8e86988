"""A corrected sign-up tells the person what changed, once, in their language — on the real
broker, database, SMTP sink and SMS gateway; and through the real registration service."""

from __future__ import annotations

import json
from typing import Any

from shared.contracts.envelope import Actor
from shared.contracts.registration import Participant, RegistrationUpdated
from tests.integration.notification.conftest import RunningNotification
from tests.support.bus import eventually, handled_at_least, publish_json
from tests.support.factories import signup
from tests.support.notification import participant


def updated(
    person: dict[str, Any], changed: list[str], actor: Actor | None = None
) -> dict[str, Any]:
    """A `registration.updated` as registration publishes it for a sign-up (no actor)."""
    return RegistrationUpdated(
        producer="registration",
        participant=Participant.model_validate(person),
        changed_fields=changed,
        actor=actor,
    ).model_dump(mode="json")


def plain(email: Any) -> str:
    return str(email.get_body(("plain",)).get_content())


async def test_a_correction_delivered_twice_is_one_email_and_one_sms_in_the_persons_language(
    notification: RunningNotification,
) -> None:
    person = participant(
        language="en",
        phone="+50370009876",
        organisation="OIM",
        country="GT",
        category="official_delegate",
        status="pending_approval",
    )
    correction = updated(person, ["organisation", "country", "phone"])
    await notification.publish(correction)
    await notification.publish(correction)  # a redelivery, or the relay publishing it again

    await handled_at_least(notification.triggers_queue, 2)
    (email,) = await notification.wait_emails(person["email"])
    assert email["Subject"] == "Your registration was updated: Private Sector and Migration Forum"
    assert email["Content-Language"] == "en"
    text = plain(email)
    assert text.startswith("Dear Ana,")
    assert (
        "- Organisation: OIM\n- Country you represent: Guatemala\n- Mobile phone: changed" in text
    )
    assert person["phone"] not in text and "official_delegate" not in text
    flowing = " ".join(text.split())  # wrapped at 78 characters for phones
    assert "the secretariat will review your registration again" in flowing
    html = email.get_body(("html",)).get_content()
    assert '<html lang="en">' in html and "Country you represent: Guatemala" in html

    await notification.wait_all_final(email=person["email"])
    messages = await notification.messages(person_id=person["participant_id"])
    assert sorted((m["channel"], m["message_type"], m["status"]) for m in messages) == [
        ("email", "registration_updated", "sent"),
        ("sms", "registration_updated", "sent"),
    ]
    texts = [
        form["Body"]
        for account in notification.gateway.accounts.values()
        for form in account.received
        if form.get("To") == person["phone"]
    ]
    assert texts == [
        "Private Sector and Migration Forum: your registration details were updated. "
        "We sent you what changed by e-mail."
    ]
    assert len(notification.emails_to(person["email"])) == 1


async def test_a_secretariat_change_or_an_empty_one_tells_nobody_but_keeps_the_contact(
    notification: RunningNotification,
) -> None:
    person = participant(language="es", organisation="OIM")
    registrar = Actor(subject="account:registrar", kind="staff", roles=["registrar"])
    await notification.publish(updated(person, ["organisation"], actor=registrar))
    await notification.publish(updated({**person, "language": "en"}, []))

    # Messages are written while the trigger is handled: once both are handled, none exist.
    await handled_at_least(notification.triggers_queue, 2)
    assert await notification.messages(person_id=person["participant_id"]) == []
    assert notification.emails_to(person["email"]) == []
    contact = await notification.deps.repository.contact(person["participant_id"])
    assert contact is not None and contact["organisation"] == "OIM"


async def test_a_sign_up_corrected_through_registration_reaches_the_person_once(
    notification: RunningNotification, registration_service: Any
) -> None:
    first = signup(language="es")
    intake = registration_service.topology.intake.name
    submitted = next(q for q in registration_service.queue_names if q.endswith("submitted"))
    await publish_json(
        notification.amqp, intake, "registration.submitted", json.dumps(first).encode()
    )
    await eventually(
        lambda: _subjects_start(notification, first["email"], "Inscripción confirmada"),
        what="the confirmation",
    )

    # The same person, a new submission id (another form's), a new organisation and language;
    # the vendor sends it twice.
    corrected = signup(email=first["email"], organisation="OIM", language="en")
    for _ in range(2):
        await publish_json(
            notification.amqp, intake, "registration.submitted", json.dumps(corrected).encode()
        )
    await handled_at_least(submitted, 3)
    await eventually(
        lambda: _subjects_start(notification, first["email"], "Your registration was updated"),
        what="the correction",
    )
    await notification.wait_all_final(email=first["email"])
    emails = notification.emails_to(first["email"])
    (correction,) = [e for e in emails if e["Subject"].startswith("Your registration was updated")]
    assert correction["Content-Language"] == "en"
    assert "- Organisation: OIM\n- Language of your messages: English" in plain(correction)
    # One e-mail per message the person has: nothing was sent twice.
    person_id = (await notification.deps.repository.contacts.find_one({"email": first["email"]}))[
        "_id"
    ]
    assert len(emails) == len(
        [m for m in await notification.messages(person_id=person_id) if m["channel"] == "email"]
    )


async def _subjects_start(notification: RunningNotification, address: str, prefix: str) -> bool:
    return any(e["Subject"].startswith(prefix) for e in notification.emails_to(address))
