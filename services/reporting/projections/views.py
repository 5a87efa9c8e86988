"""How reporting reads other services' events: small, tolerant views — pure.

Only the fields reporting needs; unknown fields ignored, unknown event types counted by type and
nothing more. What an event is comes from its envelope's `event_type`, never from how it was
routed (a retried message comes back with its queue's name as routing key).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from services.reporting.common import RuleViolation

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


class EventView(BaseModel):
    """The envelope every foro event carries; the payload is kept as-is in `extra`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event_id: uuid.UUID
    event_type: str = Field(min_length=1, max_length=120)
    occurred_at: AwareDatetime
    producer: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        return self.model_extra or {}

    @property
    def stamp(self) -> str:
        """Orders events: UTC time to the microsecond, then the id for ties."""
        return (
            f"{self.occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{self.event_id}"
        )

    @property
    def verb(self) -> str:
        return self.event_type.rsplit(".", 1)[-1]


def read_event(body: Any) -> EventView:
    """The envelope of a consumed body; `RuleViolation("field: reason")` when it is none."""
    try:
        return EventView.model_validate(body)
    except ValidationError as error:
        raise RuleViolation(
            "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in error.errors(include_input=False)
            )
        ) from None


class ParticipantSnapshot(BaseModel):
    """What reporting reads from registration's `participant` snapshot."""

    model_config = ConfigDict(extra="ignore")

    participant_id: uuid.UUID
    forum_id: str | None = None
    status: str
    category: str | None = None
    country: str | None = None
    language: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    organisation: str | None = None
    consents: dict[str, Any] = Field(default_factory=dict)


def read_snapshot(payload: dict[str, Any]) -> ParticipantSnapshot:
    try:
        return ParticipantSnapshot.model_validate(payload["participant"])
    except ValidationError as error:
        raise RuleViolation(f"participant: {error.errors(include_input=False)[0]['msg']}") from None


def safe(key: object) -> str:
    """`key` as a document-id or field-name fragment: letters, digits, `_` and `-`, at most 64."""
    return _UNSAFE.sub("_", str(key))[:64] or "_"


def find(payload: dict[str, Any], names: tuple[str, ...], nested: tuple[str, ...] = ()) -> Any:
    """The first of `names` with a value in `payload`, or else in one of its `nested` objects."""
    for name in names:
        if payload.get(name) not in (None, ""):
            return payload[name]
    for holder in nested:
        inner = payload.get(holder)
        if isinstance(inner, dict):
            for name in names:
                if inner.get(name) not in (None, ""):
                    return inner[name]
    return None


def participant_id_of(payload: dict[str, Any]) -> str | None:
    found = find(payload, ("participant_id",), ("participant", "attendee"))
    return str(found) if found else None


def now_stamp(at: datetime) -> str:
    """A stamp for a change made now by the secretariat: after every event of that instant."""
    return f"{at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|~"
