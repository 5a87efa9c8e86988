"""A corrected sign-up (`registration.updated`) tells the person what changed: by label, in their
language, once; a change the secretariat made, or one that changed nothing, tells nobody."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from services.notification.delivery.rules import RetryPolicy
from services.notification.deps import Notification
from services.notification.templates import SendWhen, TemplateBook
from services.notification.triggers.handlers import handle_trigger
from services.notification.triggers.rules import sends_message
from shared.contracts.envelope import Actor
from shared.contracts.registration import Participant, RegistrationUpdated
from shared.pack import load_pack
from tests.support.notification import participant
from tests.support.notification_fakes import FakeNotificationRepository, FakeProvider

PACK = load_pack()
BOOK = TemplateBook(PACK)
NOW = datetime(2004, 11, 10, 12, tzinfo=UTC)
EVERY_FIELD = [
    "given_name",
    "family_name",
    "organisation",
    "job_title",
    "country",
    "category",
    "language",
    "email",
    "phone",
    "consents",
    "answers",
]
# What must never reach the person: field, category and consent codes, statuses (the codes
# that are also plain words, "phone" or "email", are checked by their labels instead).
RAW_CODES = [
    *(field for field in EVERY_FIELD if "_" in field),
    "official_delegate",
    "listed_publicly",
    "share_with_exhibitors",
    "privacy_policy",
    "pending_approval",
    "confirmed",
    "None",
    "GT",
]


def person(**overrides: Any) -> dict[str, Any]:
    details: dict[str, Any] = {
        "given_name": "Lucía",
        "family_name": "Pérez Gómez",
        "organisation": "Cámara de Comercio",
        "job_title": "Directora",
        "phone": "+50370001234",
        "country": "GT",
        "category": "official_delegate",
        "consents": {
            "privacy_policy": True,
            "listed_publicly": True,
            "photos": False,
            "share_with_exhibitors": True,
        },
    }
    return participant(**(details | overrides))


def updated(
    snapshot: dict[str, Any], changed: list[str], actor: Actor | None = None
) -> dict[str, Any]:
    """A `registration.updated` as registration publishes it (a sign-up's: no actor)."""
    event = RegistrationUpdated(
        producer="registration",
        participant=Participant.model_validate(snapshot),
        changed_fields=changed,
        actor=actor,
        occurred_at=NOW,
    )
    return event.model_dump(mode="json")


def render(snapshot: dict[str, Any], changed: list[str], lang: str) -> tuple[str, str, str]:
    email = BOOK.render_email(
        "registration_updated",
        lang,
        {"person": {"given_name": snapshot["given_name"]}, "event": updated(snapshot, changed)},
    )
    return email.subject, email.text, email.html


LABELS = {
    "es": [
        "Nombre(s): Lucía",
        "Apellidos: Pérez Gómez",
        "Organización: Cámara de Comercio",
        "Cargo: Directora",
        "País que representa: Guatemala",
        "Categoría: Delegación oficial",
        "Idioma de sus mensajes: inglés",
        "Correo electrónico: cambió",
        "Teléfono móvil: cambió",
        "aparecer en la lista publicada de participantes: sí",
        "aparecer en las fotos del foro: no",
        "que los expositores que escaneen su gafete guarden sus datos de contacto: sí",
        "Otras respuestas del formulario: cambiaron",
    ],
    "en": [
        "Given name(s): Lucía",
        "Family name(s): Pérez Gómez",
        "Organisation: Cámara de Comercio",
        "Position: Directora",
        "Country you represent: Guatemala",
        "Category: Official delegate",
        "Language of your messages: English",
        "E-mail address: changed",
        "Mobile phone: changed",
        "appear in the published list of participants: yes",
        "appear in the forum's photos: no",
        "exhibitors who scan your badge may keep your contact details: yes",
        "Other answers in the form: changed",
    ],
}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_change_is_told_by_its_label_with_its_new_value_and_no_code(lang: str) -> None:
    snapshot = person(language="en", status="confirmed")
    subject, text, html = render(snapshot, EVERY_FIELD, lang)

    assert subject == (
        "Su inscripción fue actualizada: Foro Sector Privado y Migraciones"
        if lang == "es"
        else "Your registration was updated: Private Sector and Migration Forum"
    )
    assert text.startswith("Estimada/o Lucía:" if lang == "es" else "Dear Lucía,")
    flowing = " ".join(text.split())  # a long line is wrapped at 78 characters for phones
    for line in LABELS[lang]:
        assert line in flowing, line
    # Contact details are said to have changed, never shown.
    assert snapshot["email"] not in text and snapshot["phone"] not in text
    words = set(re.findall(r"[A-Za-z_]+", text))
    assert not [code for code in RAW_CODES if code in words], text
    # Nothing about a review: the person was not sent back to it.
    assert ("revisará" if lang == "es" else "review") not in text
    _no_blank_line_oddities(text)
    assert f'<html lang="{lang}">' in html
    assert "Lucía" in html and "{{" not in html and "{%" not in html


@pytest.mark.parametrize("lang", ["es", "en"])
def test_one_change_is_one_line_between_the_greeting_and_the_signature(lang: str) -> None:
    _, text, html = render(person(status="confirmed"), ["organisation"], lang)
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert lines == [
        "- Organización: Cámara de Comercio"
        if lang == "es"
        else "- Organisation: Cámara de Comercio"
    ]
    _no_blank_line_oddities(text)
    assert text.endswith("Secretaría del foro\n" if lang == "es" else "The forum secretariat\n")
    # The HTML is the text's paragraphs: the list is one paragraph of lines.
    assert html.count("<p>") == len([p for p in text.split("\n\n") if p.strip()])


@pytest.mark.parametrize("lang", ["es", "en"])
def test_an_accredited_field_changed_back_to_pending_says_the_secretariat_reviews_it_again(
    lang: str,
) -> None:
    _, text, _ = render(person(status="pending_approval"), ["organisation", "phone"], lang)
    flowing = " ".join(text.split())  # wrapped at 78 characters for phones
    assert (
        "la Secretaría revisará de nuevo su inscripción" in flowing
        if lang == "es"
        else "the secretariat will review your registration again" in flowing
    )
    _no_blank_line_oddities(text)
    # A pending person who changed only their phone is not told of a review it did not cause.
    _, text, _ = render(person(status="pending_approval"), ["phone"], lang)
    assert ("revisará" if lang == "es" else "review") not in text


@pytest.mark.parametrize("lang", ["es", "en"])
def test_removed_details_and_fields_it_does_not_know_are_named_without_codes(lang: str) -> None:
    snapshot = person(status="confirmed", organisation=None, phone=None)
    _, text, _ = render(snapshot, ["organisation", "phone", "badge_name"], lang)
    expected = (
        [
            "- Organización: ya no figura",
            "- Teléfono móvil: ya no figura",
            "- Otros datos: cambiaron",
        ]
        if lang == "es"
        else ["- Organisation: removed", "- Mobile phone: removed", "- Other details: changed"]
    )
    assert [line for line in text.splitlines() if line.startswith("- ")] == expected
    assert "badge_name" not in text


def test_a_country_or_category_the_pack_does_not_list_keeps_its_code() -> None:
    assert BOOK.country_name("SV", "en") == "El Salvador"
    assert BOOK.country_name("DE", "es") == "DE"
    assert BOOK.category_name("media", "es") == "Medios de comunicación"
    assert BOOK.category_name("nope", "en") == "nope"
    assert "organisation" in BOOK.accreditation_fields("official_delegate")
    assert BOOK.accreditation_fields("nope") == []


def test_the_sms_says_only_that_something_changed() -> None:
    sms = BOOK.render_sms("registration_updated", "en", {"event": updated(person(), ["phone"])})
    assert sms == (
        "Private Sector and Migration Forum: your registration details were updated. "
        "We sent you what changed by e-mail."
    )


def _no_blank_line_oddities(text: str) -> None:
    assert "\n\n\n" not in text, text
    assert not re.search(r"[ \t]+\n", text), text  # no trailing spaces
    assert not text.startswith(("\n", " ")) and text.endswith("\n") and not text.endswith("\n\n")


# --- when it is sent -------------------------------------------------------------------------

TRIGGER = BOOK.triggers["registration.updated"]
STAFF = Actor(subject="account:registrar", kind="staff", roles=["registrar"])
FOCAL_POINT = Actor(subject="focal_point:SV", kind="focal_point")


@pytest.mark.parametrize(
    ("changed", "actor", "sent"),
    [
        (["phone"], None, True),  # a form's correction
        (["phone"], FOCAL_POINT, True),  # a focal point changed a member's details
        (["phone"], STAFF, False),  # the secretariat's own change
        ([], None, False),  # nothing changed
    ],
)
def test_the_trigger_tells_sign_up_corrections_that_changed_something(
    changed: list[str], actor: Actor | None, sent: bool
) -> None:
    assert sends_message(TRIGGER.send_when, updated(person(), changed, actor)) is sent


def test_a_condition_left_unset_always_sends() -> None:
    assert sends_message(None, {})
    assert sends_message(SendWhen(present=("a.b",)), {"a": {"b": [1]}})
    assert not sends_message(SendWhen(present=("a.b",)), {"a": {"b": {}}})
    # A pack naming an actor kind the envelope does not have fails at load, not silently.
    with pytest.raises(ValueError, match="unknown actor kind"):
        SendWhen(actors=("secretary",))


def notification() -> Notification:
    """The use cases on an in-memory repository and a recording e-mail provider."""
    return Notification(
        pack=PACK,
        book=BOOK,
        repository=FakeNotificationRepository(),  # type: ignore[arg-type]
        providers={"email": [FakeProvider("smtp")], "sms": []},
        policy=RetryPolicy(max_attempts=3, base_seconds=5, jitter=0),
        clock=lambda: NOW,
        wall_clock=lambda: NOW,
    )


def repo(deps: Notification) -> FakeNotificationRepository:
    assert isinstance(deps.repository, FakeNotificationRepository)
    return deps.repository


def smtp(deps: Notification) -> FakeProvider:
    provider = deps.providers["email"][0]
    assert isinstance(provider, FakeProvider)
    return provider


def _event(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "occurred_at": NOW.isoformat()}


async def test_a_correction_delivered_twice_sends_one_email_in_the_persons_language() -> None:
    deps: Notification = notification()
    snapshot = person(language="en", status="confirmed")
    body = _event(updated(snapshot, ["organisation", "language"]))
    await handle_trigger(body, deps)
    await handle_trigger(body, deps)
    (sent,) = smtp(deps).sent
    assert sent.to == snapshot["email"]
    assert sent.subject.startswith("Your registration was updated")
    assert "- Organisation: Cámara de Comercio" in sent.text
    (message,) = repo(deps).of(snapshot["participant_id"])
    assert (message["message_type"], message["essential"]) == ("registration_updated", True)


@pytest.mark.parametrize(("changed", "actor"), [([], None), (["organisation"], STAFF)])
async def test_no_message_but_the_contact_is_kept_current(
    changed: list[str], actor: Actor | None
) -> None:
    deps: Notification = notification()
    snapshot = person(language="en", organisation="OIM")
    assert await handle_trigger(_event(updated(snapshot, changed, actor)), deps) == {}
    assert smtp(deps).sent == [] and repo(deps).of(snapshot["participant_id"]) == []
    contact = repo(deps).contacts[snapshot["participant_id"]]
    assert (contact["organisation"], contact["language"]) == ("OIM", "en")
