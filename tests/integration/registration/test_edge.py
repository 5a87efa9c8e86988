"""What the intake refuses at the edge, over AMQP and the signed webhook: oversized bodies, bodies
labelled as something other than JSON, and person text with control characters or lone surrogates.
Each is refused at once with the field named — never retried, never stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aio_pika
import httpx

from shared.messaging.topology import DEAD_LETTER_REASON_HEADER
from shared.webhooks import signed_headers
from tests.integration.registration.conftest import WEBHOOK_SECRET, RunningRegistration
from tests.support.bus import dead_letters, handled, handled_at_least, tap_exchange
from tests.support.factories import signup

LIMIT = 65_536  # FORO_MAX_INTAKE_BYTES by default


def client(registration: RunningRegistration) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registration.app), base_url="http://registration"
    )


async def send_raw(
    registration: RunningRegistration, body: bytes, content_type: str | None
) -> None:
    """Publish as a careless form vendor might: any content type, or none."""
    channel = await registration.amqp.channel(publisher_confirms=True, on_return_raises=True)
    exchange = await channel.get_exchange(registration.runtime.topology.intake.name)
    await exchange.publish(
        aio_pika.Message(
            body, content_type=content_type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
        ),
        routing_key="registration.submitted",
        mandatory=True,
    )
    await channel.close()


async def dead_letter_reasons(registration: RunningRegistration, count: int) -> dict[str, str]:
    """Reasons of the first `count` dead letters, by the submission id of their body."""
    await handled_at_least(registration.submitted_queue, count, outcome="dead_lettered")
    found = await dead_letters(registration.amqp, registration.submitted_queue)
    assert len(found) == count
    return {
        json.loads(m.body)["submission_id"]: m.headers[DEAD_LETTER_REASON_HEADER] for m in found
    }


# --- AMQP -----------------------------------------------------------------------------------------


async def test_oversized_and_non_json_labelled_messages_are_dead_lettered_with_the_reason(
    registration: RunningRegistration,
) -> None:
    oversized = signup()
    padded = json.dumps(oversized).encode()
    padded = (
        padded[:-1] + b" " * (LIMIT + 10 - len(padded)) + b"}"
    )  # still valid JSON, 10 bytes too long
    xml_labelled = signup()
    await send_raw(registration, padded, "application/json")
    await send_raw(registration, json.dumps(xml_labelled).encode(), "application/xml")
    unlabelled = signup()  # many AMQP clients set no content type: accepted, the body is JSON
    await send_raw(registration, json.dumps(unlabelled).encode(), None)

    confirmed = await registration.tap.wait_for("registration.confirmed")
    assert confirmed[0]["participant"]["email"] == unlabelled["email"]
    reasons = await dead_letter_reasons(registration, 2)
    assert (
        reasons[oversized["submission_id"]]
        == f"body: larger than {LIMIT} bytes ({LIMIT + 10} bytes)"
    )
    assert reasons[xml_labelled["submission_id"]] == (
        "content_type: 'application/xml' is not accepted; send the body as application/json"
    )
    assert [p["email"] for p in await registration.participants()] == [unlabelled["email"]]
    assert handled(registration.submitted_queue, "retry") == 0


async def test_control_characters_and_lone_surrogates_in_names_are_dead_lettered_at_once(
    registration: RunningRegistration,
) -> None:
    header_injection = signup(given_name="Ana\r\nBcc: everyone@example.org")
    nul = signup(organisation="Cámara\x00")
    surrogate = signup(
        family_name="L\ud800pez"
    )  # json.dumps escapes it; the consumer decodes it back
    for body in (header_injection, nul, surrogate):
        await registration.send(json.dumps(body).encode())

    reasons = await dead_letter_reasons(registration, 3)
    assert reasons[header_injection["submission_id"]].startswith(
        "given_name: must be one line of printable text"
    )
    assert reasons[nul["submission_id"]].startswith(
        "organisation: must be one line of printable text"
    )
    assert reasons[surrogate["submission_id"]].startswith(
        "family_name: must be one line of printable text"
    )
    assert not any(
        "Bcc" in reason or "Cámara" in reason for reason in reasons.values()
    )  # no values
    assert handled(registration.submitted_queue, "retry") == 0  # refused, not retried five times
    assert await registration.participants() == []


# --- the signed webhook ---------------------------------------------------------------------------


async def test_a_huge_streamed_body_is_refused_with_413_before_it_is_read(
    registration: RunningRegistration,
) -> None:
    chunk, total = b" " * 65_536, 200 * 1024 * 1024  # 200 MB, unsigned
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(total // len(chunk)):
            sent.append(len(chunk))
            yield chunk

    intake = await tap_exchange(registration.amqp, registration.runtime.topology.intake.name)
    async with client(registration) as http:
        streamed = await http.post(
            "/intake/registrations", content=endless()
        )  # chunked: no Content-Length
        streamed_bytes = sum(sent)
        sent.clear()
        declared = await http.post(
            "/intake/registrations", content=endless(), headers={"Content-Length": str(total)}
        )

    assert streamed.status_code == 413
    detail = streamed.json()["detail"]
    assert (
        detail["field"] == "body"
        and detail["code"] == "body_too_large"
        and detail["limit_bytes"] == LIMIT
    )
    assert (
        str(LIMIT) in detail["message_es"]
        and detail["message_en"] == f"body: larger than {LIMIT} bytes"
    )
    assert streamed_bytes <= LIMIT + len(chunk)  # read up to the limit plus one chunk, not 200 MB
    assert declared.status_code == 413 and declared.json()["detail"]["code"] == "body_too_large"
    assert sum(sent) <= len(chunk)  # refused on the declared length, before reading
    assert await intake.drain() == []


async def test_a_signed_body_just_over_the_limit_is_refused_and_one_at_the_limit_is_accepted(
    registration: RunningRegistration,
) -> None:
    person = signup()
    compact = json.dumps(person).encode()
    at_limit = compact[:-1] + b" " * (LIMIT - len(compact)) + b"}"
    over = compact[:-1] + b" " * (LIMIT + 1 - len(compact)) + b"}"
    async with client(registration) as http:
        refused = await http.post(
            "/intake/registrations", content=over, headers=signed_headers(WEBHOOK_SECRET, over)
        )
        accepted = await http.post(
            "/intake/registrations",
            content=at_limit,
            headers=signed_headers(WEBHOOK_SECRET, at_limit),
        )
    assert (refused.status_code, accepted.status_code) == (413, 202)
    await registration.tap.wait_for("registration.confirmed")


async def test_a_json_body_labelled_as_xml_gets_415_naming_the_content_type(
    registration: RunningRegistration,
) -> None:
    body = json.dumps(signup()).encode()
    intake = await tap_exchange(registration.amqp, registration.runtime.topology.intake.name)
    async with client(registration) as http:
        xml = await http.post(
            "/intake/registrations",
            content=body,
            headers={**signed_headers(WEBHOOK_SECRET, body), "Content-Type": "application/xml"},
        )
        form = await http.post(
            "/intake/cancellations",
            content=body,
            headers={
                **signed_headers(WEBHOOK_SECRET, body),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert await intake.drain() == []
        json_with_charset = await http.post(
            "/intake/registrations",
            content=body,
            headers={
                **signed_headers(WEBHOOK_SECRET, body),
                "Content-Type": "application/json; charset=utf-8",
            },
        )

    assert xml.status_code == 415 and form.status_code == 415
    detail = xml.json()["detail"]
    assert detail["field"] == "content_type" and detail["code"] == "unsupported_media_type"
    assert (
        detail["message_en"]
        == "content_type: 'application/xml' is not accepted; send the body as application/json"
    )
    assert "application/json" in detail["message_es"]
    assert "must be a JSON object" not in xml.text
    assert json_with_charset.status_code == 202


async def test_webhook_names_with_control_characters_or_lone_surrogates_get_422_naming_the_field(
    registration: RunningRegistration,
) -> None:
    intake = await tap_exchange(registration.amqp, registration.runtime.topology.intake.name)
    async with client(registration) as http:
        answers = {}
        for field, value in (
            ("given_name", "Ana\nBcc: x"),
            ("family_name", "\ud800"),
            ("job_title", "Jefa\x85"),
        ):
            body = json.dumps(
                signup(**{field: value})
            ).encode()  # ensure_ascii: "\ud800" travels escaped
            answers[field] = await http.post(
                "/intake/registrations", content=body, headers=signed_headers(WEBHOOK_SECRET, body)
            )
    for field, response in answers.items():
        assert response.status_code == 422, field
        assert response.json()["detail"].startswith(f"{field}: must be one line of printable text")
    assert await intake.drain() == []
