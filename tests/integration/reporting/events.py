"""Events as the other services publish them, for reporting's tests (random ids, explicit times)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.factories import FORUM_ID

T0 = datetime(2004, 11, 18, 14, 0, tzinfo=UTC)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def envelope(event_type: str, minute: int, producer: str, **payload: Any) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "event_id": str(uuid.uuid4()),
        "schema_version": 1,
        "occurred_at": at(minute),
        "producer": producer,
        "correlation_id": None,
        "causation_id": None,
        **payload,
    }


def person(**overrides: Any) -> dict[str, Any]:
    token = uuid.uuid4().hex[:8]
    body = {
        "participant_id": str(uuid.uuid4()),
        "forum_id": FORUM_ID,
        "given_name": "Ana",
        "family_name": f"López-{token}",
        "email": f"ana.{token}@example.org",
        "phone": None,
        "organisation": "Cámara de Comercio",
        "job_title": None,
        "country": "SV",
        "category": "company",
        "language": "es",
        "consents": {
            "privacy_policy": True,
            "listed_publicly": True,
            "photos": False,
            "share_with_exhibitors": False,
        },
        "status": "confirmed",
    }
    body.update(overrides)
    return body


def registration(
    event_type: str, who: dict[str, Any], minute: int, **changes: Any
) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "registration.confirmed": {"submission_id": "form-1"},
        "registration.waitlisted": {"position": 1},
        "registration.cancelled": {"previous_status": "confirmed", "reason": None},
        "registration.updated": {"changed_fields": list(changes)},
    }.get(event_type, {})
    return envelope(event_type, minute, "registration", participant={**who, **changes}, **extra)


def checked_in(
    who: dict[str, Any], minute: int, point: str = "entrance", day: str = "2004-11-18"
) -> dict[str, Any]:
    return envelope(
        "attendee.checked_in",
        minute,
        "registration",
        forum_id=FORUM_ID,
        participant_id=who["participant_id"],
        category=who["category"],
        country=who["country"],
        point=point,
        day=day,
    )


def erased(who: dict[str, Any], minute: int) -> dict[str, Any]:
    return envelope(
        "participant.erased",
        minute,
        "registration",
        forum_id=FORUM_ID,
        participant_id=who["participant_id"],
        category=who["category"],
        country=who["country"],
        previous_status="confirmed",
    )


def expo(event_type: str, minute: int, **payload: Any) -> dict[str, Any]:
    return envelope(event_type, minute, "expo", forum_id=FORUM_ID, **payload)


def notification(
    event_type: str, minute: int, message_id: str, channel: str = "email"
) -> dict[str, Any]:
    return envelope(
        event_type,
        minute,
        "notification",
        message_id=message_id,
        message_type="registration.confirmed",
        channel=channel,
        recipient_id=str(uuid.uuid4()),
    )


def panelist_support(verb: str, minute: int, support_id: str, amount: str) -> dict[str, Any]:
    """scheduling's `travel_support.committed` / `.cancelled` (amounts as decimal text)."""
    return envelope(
        f"travel_support.{verb}",
        minute,
        "scheduling",
        forum_id=FORUM_ID,
        support_id=support_id,
        session_code="B2.1",
        person_id="p-5f2c9a1b0d3e4f56",
        participant_id=None,
        amount=amount,
        currency="USD",
        budget_line="panelist_support",
        committed_total=amount,
        line_amount="5000.00",
    )


def consent_changed(who: dict[str, Any], minute: int, listed: bool) -> dict[str, Any]:
    return envelope(
        "participant.consent_changed",
        minute,
        "registration",
        forum_id=FORUM_ID,
        participant_id=who["participant_id"],
        changed=["listed_publicly"],
        consents={
            "privacy_policy": True,
            "listed_publicly": listed,
            "photos": False,
            "share_with_exhibitors": False,
        },
    )


def session(event_type: str, minute: int, code: str, **payload: Any) -> dict[str, Any]:
    return envelope(
        event_type, minute, "scheduling", forum_id=FORUM_ID, session_code=code, **payload
    )
