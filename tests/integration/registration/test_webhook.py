"""The signed HTTPS intake: signature, tolerance, rotation and replay."""

from __future__ import annotations

import json
import time

import httpx

from shared.webhooks import legacy_signed_headers, signed_headers
from tests.integration.registration.conftest import (
    OLD_WEBHOOK_SECRET,
    WEBHOOK_SECRET,
    RunningRegistration,
)
from tests.support.bus import eventually, tap_exchange
from tests.support.factories import signup


def client(registration: RunningRegistration) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registration.app), base_url="http://registration"
    )


async def test_bad_and_stale_signatures_are_refused_and_nothing_is_published(
    registration: RunningRegistration,
) -> None:
    intake = await tap_exchange(registration.amqp, registration.runtime.topology.intake.name)
    body = json.dumps(signup()).encode()
    async with client(registration) as http:
        forged = await http.post(
            "/intake/registrations", content=body, headers=signed_headers("guessed-secret", body)
        )
        stale = await http.post(
            "/intake/registrations",
            content=body,
            headers=signed_headers(WEBHOOK_SECRET, body, timestamp=int(time.time()) - 301),
        )
        unsigned = await http.post("/intake/registrations", content=body)
        tampered = await http.post(
            "/intake/registrations",
            content=body.replace(b"Ana", b"Eva"),
            headers=signed_headers(WEBHOOK_SECRET, body),
        )

    assert [r.status_code for r in (forged, stale, unsigned, tampered)] == [401, 401, 401, 401]
    assert "tolerance" in stale.json()["detail"]["message_en"]
    assert stale.json()["detail"]["field"] == "webhook-timestamp"
    assert forged.json()["detail"]["code"] == "signature_signature"
    assert unsigned.json()["detail"]["code"] == "signature_unsigned"
    assert all(r.json()["detail"]["message_es"] for r in (forged, stale, unsigned, tampered))
    # Every publish is confirmed before a 202, so anything published would be in the tap by now.
    assert await intake.drain() == []


async def test_replayed_valid_request_makes_one_participant_and_both_rotation_secrets_work(
    registration: RunningRegistration,
) -> None:
    first, second = signup(), signup()
    async with client(registration) as http:
        body = json.dumps(first).encode()
        headers = signed_headers(WEBHOOK_SECRET, body)
        responses = [
            await http.post("/intake/registrations", content=body, headers=headers)
            for _ in range(3)
        ]
        other = json.dumps(second).encode()
        rotated = await http.post(
            "/intake/registrations",
            content=other,
            headers=signed_headers(OLD_WEBHOOK_SECRET, other),
        )

    assert [r.status_code for r in responses] == [202, 202, 202] and rotated.status_code == 202
    assert responses[0].json()["event_id"] == first["event_id"]
    await registration.tap.wait_for("registration.confirmed", 2)

    async def all_handled() -> bool:
        found = await registration.participants()
        return len(found) == 2 and not any(p.get("outbox_pending") for p in found)

    await eventually(all_handled, what="both participants recorded")
    await registration.tap.drain()
    emails = sorted(
        e["participant"]["email"] for e in registration.tap.of_type("registration.confirmed")
    )
    assert emails == sorted([first["email"], second["email"]])


async def test_schema_invalid_webhook_body_gets_422_naming_the_field(
    registration: RunningRegistration,
) -> None:
    body = json.dumps(signup(email="not-an-email")).encode()
    async with client(registration) as http:
        response = await http.post(
            "/intake/registrations", content=body, headers=signed_headers(WEBHOOK_SECRET, body)
        )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("email:")


async def test_secretariat_api_lists_and_filters_participants(
    registration: RunningRegistration,
) -> None:
    from tests.integration.registration.conftest import API_TOKEN

    people = [signup(country="GT"), signup(country="MX", language="en")]
    async with client(registration) as http:
        for person in people:
            body = json.dumps(person).encode()
            assert (
                await http.post(
                    "/intake/registrations",
                    content=body,
                    headers=signed_headers(WEBHOOK_SECRET, body),
                )
            ).status_code == 202
        await registration.tap.wait_for("registration.confirmed", 2)
        auth = {"Authorization": f"Bearer {API_TOKEN}"}
        assert (await http.get("/participants")).status_code == 401
        page = (await http.get("/participants", params={"country": "MX"}, headers=auth)).json()
        assert page["total"] == 1 and page["items"][0]["email"] == people[1]["email"]
        one = await http.get(f"/participants/{page['items'][0]['participant_id']}", headers=auth)
        assert one.status_code == 200 and one.json()["language"] == "en"
        injected = await http.get("/participants", params={"q": ".*"}, headers=auth)
        assert injected.json()["total"] == 0  # searched literally, not as a pattern


async def test_the_first_scheme_works_until_its_end_date_and_says_it_is_deprecated(
    registration: RunningRegistration,
) -> None:
    body = json.dumps(signup()).encode()
    settings = registration.app.state.runtime.settings
    async with client(registration) as http:
        legacy = await http.post(
            "/intake/registrations",
            content=body,
            headers=legacy_signed_headers(WEBHOOK_SECRET, body),
        )
        assert legacy.status_code == 202, legacy.text
        assert legacy.headers["Deprecation"] == "true"
        assert legacy.headers["Sunset"] == "Wed, 30 Jun 2027 23:59:59 GMT"
        assert "Standard Webhooks" in legacy.headers["Warning"]
        standard = await http.post(
            "/intake/registrations", content=body, headers=signed_headers(WEBHOOK_SECRET, body)
        )
        assert standard.status_code == 202 and "Deprecation" not in standard.headers

        saved = settings.webhook_legacy_until
        settings.webhook_legacy_until = None  # the window has ended
        try:
            ended = await http.post(
                "/intake/registrations",
                content=body,
                headers=legacy_signed_headers(WEBHOOK_SECRET, body),
            )
        finally:
            settings.webhook_legacy_until = saved
    assert ended.status_code == 401
    assert ended.json()["detail"]["code"] == "signature_legacy_ended"
    assert ended.json()["detail"]["field"] == "X-Foro-Signature"


async def test_the_privacy_notice_every_form_shows_is_public(
    registration: RunningRegistration,
) -> None:
    async with client(registration) as http:
        notice = await http.get("/intake/privacy-notice")
    assert notice.status_code == 200
    paragraphs = notice.json()["paragraphs"]
    assert paragraphs and all(p["es"] and p["en"] for p in paragraphs)
