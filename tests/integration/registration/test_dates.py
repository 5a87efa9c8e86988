"""The forum's dates at the venue: sign-ups close when the forum ends (no window in the pack), and
badges are scanned on the forum's days only, give or take REGISTRATION_CHECKIN_MARGIN_HOURS."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from shared import i18n
from shared.badges import sign_badge_token
from tests.integration.registration.conftest import (
    BADGE_SECRET,
    RunningRegistration,
    participant_id_of,
    today_at_venue,
)
from tests.support.bus import eventually, handled
from tests.support.factories import FORUM_ID, signup


@pytest.fixture
def checkin_margin_hours() -> float:
    return 12.0  # REGISTRATION_CHECKIN_MARGIN_HOURS by default


@pytest.fixture
def registration_settings(badge_settings, checkin_margin_hours):
    return badge_settings.model_copy(update={"checkin_margin_hours": checkin_margin_hours})


LAST_WEEK = (today_at_venue() - timedelta(days=7)).isoformat()


@pytest.mark.parametrize("forum_start_date", [LAST_WEEK])
async def test_a_sign_up_after_the_forum_ended_is_rejected_in_both_languages(
    registration: RunningRegistration,
) -> None:
    late = signup()
    await registration.send(json.dumps(late).encode())

    rejected = await registration.tap.wait_for("registration.rejected")
    assert rejected[0]["email"] == late["email"]
    [reason] = rejected[0]["reasons"]
    assert (reason["field"], reason["code"]) == ("occurred_at", "registration_closed")
    forum = registration.deps.pack.forum
    ended = i18n.datetime_text(forum.ends_at, "en", forum.tz)  # "November 20, 2026, 00:00"
    assert reason["message_en"] == f"Registration closed on {ended} (America/El_Salvador)."
    assert reason["message_es"].startswith("La inscripción está cerrada desde el ")
    [stored] = await registration.participants()
    assert stored["status"] == "rejected"
    assert registration.tap.of_type("registration.confirmed") == []
    assert (
        handled(registration.submitted_queue, "dead_lettered") == 0
    )  # refused with reasons, not dead-lettered


async def badge_token(registration: RunningRegistration) -> str:
    person = signup()
    await registration.send(json.dumps(person).encode())
    participant_id = await participant_id_of(registration, person["email"])

    async def issued() -> bool:
        await registration.tap.drain()
        return any(
            e["participant_id"] == participant_id for e in registration.tap.of_type("badge.issued")
        )

    await eventually(issued, what="badge.issued")
    token_id = next(
        e["token_id"]
        for e in registration.tap.of_type("badge.issued")
        if e["participant_id"] == participant_id
    )
    return sign_badge_token(BADGE_SECRET, FORUM_ID, token_id)


async def test_check_in_is_refused_before_and_after_the_forum_days_and_taken_within_the_margin(
    registration: RunningRegistration, secretariat
) -> None:
    token = await badge_token(registration)  # the forum starts today at the venue (conftest)
    forum = registration.deps.pack.forum

    async def scan_at(moment: datetime):
        registration.deps.clock = lambda: moment
        return await secretariat.post("/checkins", json={"token": token, "point": "entrance"})

    early = await scan_at(forum.starts_at - timedelta(hours=12, minutes=1))
    evening_before = await scan_at(forum.starts_at - timedelta(hours=11))
    late_closing = await scan_at(forum.ends_at + timedelta(hours=11))
    after = await scan_at(forum.ends_at + timedelta(hours=12))

    assert [r.status_code for r in (early, evening_before, late_closing, after)] == [
        403,
        201,
        201,
        403,
    ]
    assert early.json()["detail"]["code"] == "checkin_not_open"
    assert after.json()["detail"]["code"] == "checkin_closed"
    for refused in (early, after):
        detail = refused.json()["detail"]
        assert detail["field"] == "day" and forum.dates[0].isoformat() in detail["message_es"]
        assert forum.dates[-1].isoformat() in detail["message_en"]
    # The day recorded is the venue's: the evening before is the day before, in San Salvador.
    assert evening_before.json()["day"] == (forum.dates[0] - timedelta(days=1)).isoformat()
    assert late_closing.json()["day"] == (forum.dates[-1] + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("checkin_margin_hours", [0.0])
async def test_the_margin_is_a_setting(registration: RunningRegistration, secretariat) -> None:
    token = await badge_token(registration)
    forum = registration.deps.pack.forum
    registration.deps.clock = lambda: forum.starts_at - timedelta(minutes=1)
    refused = await secretariat.post("/checkins", json={"token": token, "point": "entrance"})
    registration.deps.clock = lambda: forum.starts_at
    taken = await secretariat.post("/checkins", json={"token": token, "point": "entrance"})
    assert (refused.status_code, refused.json()["detail"]["code"], taken.status_code) == (
        403,
        "checkin_not_open",
        201,
    )
