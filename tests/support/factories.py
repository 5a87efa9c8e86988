"""Sign-ups as a form vendor sends them, with random ids so tests never collide."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from shared.pack import load_pack

FORUM_ID = load_pack().forum.id


def signup(**overrides: Any) -> dict[str, Any]:
    token = uuid.uuid4().hex[:10]
    body: dict[str, Any] = {
        "event_type": "registration.submitted",
        "event_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "test-form",
        "forum_id": FORUM_ID,
        "submission_id": f"form-{token}",
        "category": "civil_society",
        "given_name": "Ana",
        "family_name": "López",
        "email": f"ana.{token}@example.org",
        "country": "SV",
        "language": "es",
        "consents": {"privacy_policy": True, "listed_publicly": True},
    }
    body.update(overrides)
    return body


def cancel_request(participant_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_type": "registration.cancel_requested",
        "event_id": str(uuid.uuid4()),
        "producer": "test-form",
        "forum_id": FORUM_ID,
        "participant_id": participant_id,
    }
    body.update(overrides)
    return body
