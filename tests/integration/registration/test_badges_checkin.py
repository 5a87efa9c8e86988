"""Badges (PNG, PDF) with signed QR tokens, and check-in at named points."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import UTC, datetime, time, timedelta

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


async def test_a_queued_scan_counts_for_its_own_day_and_its_replay_is_recognised(
    registration: RunningRegistration, secretariat
) -> None:
    """A door scanner offline over midnight syncs a scan made the evening before: `scanned_at`
    makes it count for that day; sending it again (same `scan_id`) records nothing new."""
    _, participant_id, token = await confirmed_with_badge(
        registration, organisation="Fundación Tierra"
    )
    forum = registration.deps.pack.forum
    first_day, second_day = forum.dates[0], forum.dates[1]
    midnight = datetime.combine(second_day, time(0, 0), forum.tz)
    registration.deps.clock = lambda: midnight + timedelta(minutes=10)  # synced after midnight
    scanned_at = (midnight - timedelta(minutes=5)).astimezone(UTC)  # scanned before it
    scan_id = str(uuid.uuid4())

    async def scan(**extra: object):
        body = {"token": token, "point": "entrance", **extra}
        return await secretariat.post("/checkins", json=body)

    queued = await scan(scanned_at=scanned_at.isoformat(), scan_id=scan_id)
    assert queued.status_code == 201, queued.text
    assert queued.json()["day"] == first_day.isoformat()
    assert queued.json()["first_today"] is True and queued.json()["replayed"] is False
    assert queued.json()["organisation"] == "Fundación Tierra"
    assert queued.json()["delegation"] is None
    assert datetime.fromisoformat(queued.json()["scanned_at"]) == scanned_at

    replays = await asyncio.gather(
        *(scan(scanned_at=scanned_at.isoformat(), scan_id=scan_id) for _ in range(3))
    )
    assert [r.status_code for r in replays] == [200, 200, 200]
    assert all(r.json()["replayed"] and r.json()["first_today"] for r in replays)
    assert {r.json()["checkin_id"] for r in replays} == {queued.json()["checkin_id"]}
    another = await scan(scanned_at=scanned_at.isoformat(), scan_id=str(uuid.uuid4()))
    assert another.status_code == 200
    assert (another.json()["first_today"], another.json()["replayed"]) == (False, False)

    now = await scan()  # scanned now, after midnight: the second day's first check-in
    assert now.status_code == 201 and now.json()["day"] == second_day.isoformat()

    await registration.tap.wait_for("attendee.checked_in", 2)
    await outbox_published(registration)
    await registration.tap.drain()
    checked_in = [
        e
        for e in registration.tap.of_type("attendee.checked_in")
        if e["participant_id"] == participant_id
    ]
    assert sorted(e["day"] for e in checked_in) == [first_day.isoformat(), second_day.isoformat()]
    stored = await registration.participants(_id=participant_id)
    assert [c.get("scan_id") for c in stored[0]["checkins"]] == [scan_id, None]


@pytest.mark.parametrize(
    ("scanned_at", "code"),
    [
        (timedelta(minutes=2), "scanned_at_in_future"),
        (timedelta(hours=-25), "scanned_at_too_old"),
        (None, "scanned_at_without_offset"),
    ],
)
async def test_a_scan_time_in_the_future_too_old_or_without_offset_is_refused_naming_the_field(
    registration: RunningRegistration, secretariat, scanned_at: timedelta | None, code: str
) -> None:
    _, participant_id, token = await confirmed_with_badge(registration)
    forum = registration.deps.pack.forum
    now = forum.starts_at + timedelta(hours=30)
    registration.deps.clock = lambda: now
    when = (now + scanned_at).isoformat() if scanned_at else "2025-05-12T09:30:00"
    refused = await secretariat.post(
        "/checkins", json={"token": token, "point": "entrance", "scanned_at": when}
    )
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert (detail["field"], detail["code"]) == ("scanned_at", code)
    assert detail["message_es"] and detail["message_en"]
    a_minute_ahead = await secretariat.post(
        "/checkins",
        json={
            "token": token,
            "point": "entrance",
            "scanned_at": (now + timedelta(seconds=50)).isoformat(),
        },
    )
    assert a_minute_ahead.status_code == 201, a_minute_ahead.text
    stored = await registration.participants(_id=participant_id)
    assert len(stored[0]["checkins"]) == 1
