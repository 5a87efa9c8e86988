"""Outbound webhooks' rules: what an endpoint receives, what is sent, and when foro gives up on
an endpoint. Pure: no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from services.notification.documents import Document
from shared.contracts.notification import WebhookChange, WebhookEndpointChanged
from shared.decisions import Change

CHANNEL = "webhook"
MESSAGE_TYPE = "webhook"
ALL = "*"
# What an endpoint may receive: the outcomes of a sign-up and the changes a form vendor follows.
WebhookEventType = Literal[
    "registration.confirmed",
    "registration.waitlisted",
    "registration.promoted",
    "registration.rejected",
    "registration.cancelled",
    "registration.updated",
    "accreditation.approved",
    "accreditation.rejected",
]
WEBHOOK_EVENTS: tuple[str, ...] = get_args(WebhookEventType)
OLD_SECRET_GRACE = timedelta(hours=24)
"""After a rotation the old secret still signs beside the new one this long (two signatures)."""


class Secret(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: str
    created_at: datetime
    expires_at: datetime | None = None


class EndpointDocument(Document):
    """One endpoint (`webhook_endpoints`)."""

    id: str = Field(alias="_id")
    url: str
    event_types: tuple[str, ...]
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    secrets: tuple[Secret, ...] = ()
    consecutive_failures: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def receives(self, event_type: str) -> bool:
        return self.enabled and (ALL in self.event_types or event_type in self.event_types)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The newest secret first, then any older one still in its grace period."""
        live = [s for s in self.secrets if s.expires_at is None or s.expires_at > now]
        return [s.value for s in sorted(live, key=lambda s: s.created_at, reverse=True)]


def payload(body: Mapping[str, Any]) -> str:
    """What is POSTed: the Standard Webhooks payload shape, the event whole as `data`."""
    return json.dumps(
        {"type": body.get("event_type"), "timestamp": body.get("occurred_at"), "data": body},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def subject_of(body: Mapping[str, Any], fallback: str) -> str:
    """The person the event is about (their deliveries are emptied when they are erased)."""
    participant = body.get("participant")
    if isinstance(participant, Mapping) and participant.get("participant_id"):
        return str(participant["participant_id"])
    return str(body.get("participant_id") or fallback)


def _changed(
    endpoint: EndpointDocument | Mapping[str, Any], change: WebhookChange, **extra: Any
) -> WebhookEndpointChanged:
    data = endpoint if isinstance(endpoint, Mapping) else endpoint.model_dump(by_alias=True)
    return WebhookEndpointChanged(
        producer="notification",
        endpoint_id=data["_id"],
        change=change,
        url_host=urlsplit(data["url"]).hostname or "",
        event_types=list(data["event_types"]),
        enabled=bool(data.get("enabled", True)),
        **extra,
    )


def register(
    endpoint_id: str,
    url: str,
    event_types: Sequence[str],
    description: str,
    secret: str,
    now: datetime,
) -> Change:
    fields: dict[str, Any] = {
        "url": url,
        "event_types": list(event_types),
        "description": description,
        "enabled": True,
        "disabled_reason": None,
        "secrets": [{"value": secret, "created_at": now, "expires_at": None}],
        "consecutive_failures": 0,
        "created_at": now,
        "updated_at": now,
    }
    return Change(set=fields, events=[_changed({"_id": endpoint_id, **fields}, "registered")])


def amend(
    endpoint: EndpointDocument | None, changes: Mapping[str, Any], now: datetime
) -> Change | None:
    """The secretariat changes an endpoint (url, event types, description, enabled)."""
    if endpoint is None:
        return None
    fields = {
        name: list(value) if isinstance(value, (list, tuple)) else value
        for name, value in changes.items()
        if getattr(endpoint, name) != (tuple(value) if isinstance(value, list) else value)
    }
    if not fields:
        return None
    change: WebhookChange = "changed"
    if fields.get("enabled") is True:
        fields |= {"disabled_reason": None, "consecutive_failures": 0}
        change = "enabled"
    elif fields.get("enabled") is False:
        fields["disabled_reason"] = "disabled by the secretariat"
        change = "disabled"
    fields["updated_at"] = now
    after = {**endpoint.model_dump(by_alias=True), **fields}
    return Change(set=fields, events=[_changed(after, change, reason=after.get("disabled_reason"))])


def rotate(endpoint: EndpointDocument | None, secret: str, now: datetime) -> Change | None:
    """A new secret signs from now on; the old ones keep signing beside it for the grace period."""
    if endpoint is None:
        return None
    kept = [
        {**s.model_dump(), "expires_at": s.expires_at or now + OLD_SECRET_GRACE}
        for s in endpoint.secrets
        if s.expires_at is None or s.expires_at > now
    ]
    fields = {
        "secrets": [{"value": secret, "created_at": now, "expires_at": None}, *kept],
        "updated_at": now,
    }
    return Change(set=fields, events=[_changed(endpoint, "secret_rotated")])


def remove(endpoint: EndpointDocument | None, now: datetime) -> Change | None:
    """Removed: it receives nothing more and its secrets are dropped; its deliveries stay."""
    if endpoint is None or endpoint.disabled_reason == "removed":
        return None
    fields = {
        "enabled": False,
        "disabled_reason": "removed",
        "secrets": [],
        "updated_at": now,
    }
    after = {**endpoint.model_dump(by_alias=True), **fields}
    return Change(set=fields, events=[_changed(after, "removed")])


def failed_attempt(
    endpoint: EndpointDocument | None, disable_after: int, now: datetime
) -> Change | None:
    """One more failed attempt in a row; at `disable_after` the endpoint is disabled."""
    if endpoint is None or not endpoint.enabled:
        return None
    failures = endpoint.consecutive_failures + 1
    if failures < disable_after:
        return Change(set={"consecutive_failures": failures})
    reason = f"{failures} failed attempts in a row"
    fields = {
        "consecutive_failures": failures,
        "enabled": False,
        "disabled_reason": reason,
        "updated_at": now,
    }
    after = {**endpoint.model_dump(by_alias=True), **fields}
    return Change(set=fields, events=[_changed(after, "disabled", reason=reason)])
