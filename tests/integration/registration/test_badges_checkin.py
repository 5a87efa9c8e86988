"""Badges (PNG, PDF) with signed QR tokens, and check-in at named points."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from PIL import Image
from pypdf import PdfReader

from shared.badges import sign_badge_token
from tests.integration.registration.conftest import (
    BADGE_SECRET,
    RunningRegistration,
    outbox_published,
    participant_id_of,
)
from tests.support.bus import eventually
from tests.support.factories import FORUM_ID, cancel_request, signup


@pytest.fixture
def registration_settings(badge_settings):
    return badge_settings


async def confirmed_with_badge(
    registration: RunningRegistration, **overrides
) -> tuple[dict, str, str]:
    """A confirmed participant, their id and the token their badge's QR code carries."""
    body = signup(**overrides)
    await registration.send(json.dumps(body).encode())
    participant_id = await participant_id_of(registration, body["email"])
    issued = await badge_issued(registration, participant_id)
    return body, participant_id, sign_badge_token(BADGE_SECRET, FORUM_ID, issued["token_id"])


async def badge_issued(registration: RunningRegistration, participant_id: str) -> dict:
    async def arrived() -> bool:
        await registration.tap.drain()
        return any(
            e["participant_id"] == participant_id for e in registration.tap.of_type("badge.issued")
        )

    await eventually(arrived, what="badge.issued")
    return next(
        e for e in registration.tap.of_type("badge.issued") if e["participant_id"] == participant_id
    )


async def test_badge_png_and_pdf_show_the_participant_and_a_pending_one_gets_none(
    registration, secretariat
) -> None:
    _body, participant_id, _ = await confirmed_with_badge(
        registration,
        given_name="Rigoberta",
        family_name="Menchú Tum",
        organisation="Fundación Tierra",
    )

    png = await secretariat.get(f"/participants/{participant_id}/badge.png")
    pdf = await secretariat.get(f"/participants/{participant_id}/badge.pdf")
    sheet = await secretariat.get(
        "/badges/sheet.pdf", params={"participant_id": participant_id, "layout": "a4"}
    )

    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (1240, 1748)
    for document in (pdf, sheet):
        assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"
        text = "".join(
            page.extract_text() for page in PdfReader(io.BytesIO(document.content)).pages
        )
        assert "Rigoberta" in text and "Menchú Tum" in text and "Fundación Tierra" in text
        assert "SOCIEDAD CIVIL" in text  # the category band

    pending = signup(category="media")
    await registration.send(json.dumps(pending).encode())
    pending_id = await participant_id_of(registration, pending["email"])
    await registration.tap.wait_for("accreditation.requested")
    refused = await secretariat.get(f"/participants/{pending_id}/badge.pdf")
    assert refused.status_code == 409
    assert (
        refused.json()["detail"]["message_en"]
        == "No badge is issued: the accreditation is pending."
    )


async def test_forged_foreign_and_revoked_tokens_are_refused_and_repeated_scans_check_in_once(
    registration: RunningRegistration, secretariat
) -> None:
    _, participant_id, token = await confirmed_with_badge(registration)
    _, revoked_id, revoked_token = await confirmed_with_badge(registration)
    payload, signature = token.split(".")
    foreign = sign_badge_token(BADGE_SECRET, "otro-foro-2005", token_id="q3Vx0cJr5T2m9bYwQe1LZg")
    modified = f"{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
    not_ours = sign_badge_token("someone-else's-secret", FORUM_ID, "q3Vx0cJr5T2m9bYwQe1LZg")

    await registration.send(
        json.dumps(cancel_request(revoked_id)).encode(), routing_key="registration.cancel_requested"
    )
    await registration.tap.wait_for("badge.revoked")

    async def scan(value: str, point: str = "entrance"):
        return await secretariat.post("/checkins", json={"token": value, "point": point})

    refusals = {
        name: await scan(value)
        for name, value in {
            "foreign": foreign,
            "modified": modified,
            "not_ours": not_ours,
            "revoked": revoked_token,
        }.items()
    }
    assert {name: r.status_code for name, r in refusals.items()} == dict.fromkeys(refusals, 403)
    assert refusals["foreign"].json()["detail"]["code"] == "foreign_forum"
    assert refusals["modified"].json()["detail"]["code"] in {"forged_token", "malformed_token"}
    assert refusals["not_ours"].json()["detail"]["code"] == "forged_token"
    assert refusals["revoked"].json()["detail"]["code"] == "revoked_token"
    assert all(r.json()["detail"]["message_es"] for r in refusals.values())

    scans = await asyncio.gather(*(scan(token) for _ in range(5)))  # five scanners at once
    assert sorted(s.status_code for s in scans) == [200, 200, 200, 200, 201]
    first = next(s.json() for s in scans if s.status_code == 201)
    assert first["participant_id"] == participant_id and first["first_today"] is True
    assert len({s.json()["checkin_id"] for s in scans}) == 1
    assert (await scan(token, "expo")).status_code == 201
    assert (await scan(token, "nowhere")).status_code == 422

    await registration.tap.wait_for("attendee.checked_in", 2)
    await outbox_published(registration)
    await registration.tap.drain()
    checked_in = registration.tap.of_type("attendee.checked_in")
    assert sorted(e["point"] for e in checked_in) == ["entrance", "expo"]
    assert all(e["participant_id"] == participant_id for e in checked_in)
    assert "given_name" not in checked_in[0] and "email" not in checked_in[0]
