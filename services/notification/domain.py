"""Notification's vocabulary, free of I/O: a message's states, the ids everything is derived
from, and how an event is read by path. Each capability's rules (`<capability>/rules.py`) build on
it.

A message document (one per cause, person and channel) moves through
    sending ─► sent                                    (created claimed by a trigger: sent inline)
    queued ─► sending ─► sent                          (reminders, campaigns, replays, requeues)
              sending ─► retrying ─► sending …         (every provider failed; broker-side backoff)
              sending ─► failed                        (last attempt; kept for replay)
              sending ─► queued, possibly_sent         (the sender's lease lapsed: outcome unknown)
              sending ─► queued                        (a provider's rate limit: deferred)
    suppressed                                         (opted out, no address): never sent
    failed | suppressed ─► queued                      (replay by the secretariat)

`attempts` counts attempts *begun*: the claim records the attempt before anything is sent, so an
attempt whose worker vanished still counts, and a message that kills its worker cannot loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.contracts.envelope import derive_id

PRODUCER = "notification"

QUEUED, SENDING, SENT, RETRYING, FAILED, SUPPRESSED = (
    "queued",
    "sending",
    "sent",
    "retrying",
    "failed",
    "suppressed",
)
DELIVERABLE = (QUEUED, RETRYING)
FINAL = (SENT, FAILED, SUPPRESSED)

CHANNELS = ("email", "sms")
CONTACT_FIELDS = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "language",
    "category",
    "country",
    "organisation",
    "status",
    "forum_id",
)


def stamp(moment: datetime) -> datetime:
    """`moment` as the database keeps it (milliseconds): a time written and later matched for
    equality (a claim's `claimed_at`) must be the stored one."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# --- ids ------------------------------------------------------------------------------------


def message_id(source_id: object, person_id: str, channel: str) -> str:
    return str(derive_id(source_id, person_id, channel))


def smtp_message_id(message_id: str) -> str:
    """The e-mail's Message-ID: derived from the message, the same on every attempt, so a
    receiving system can drop a copy we could not know we had already sent."""
    return f"<{message_id}@foro.notification>"


def parked_id(event_id: object, person_id: str) -> str:
    """A trigger waiting for a person's contact: one per (event, person), so a redelivered
    trigger parks nothing twice."""
    return str(derive_id("parked", event_id, person_id))


def reminder_id(key: str, person_id: str) -> str:
    return str(derive_id("reminder", key, person_id))


# --- reading events by path -------------------------------------------------------------------


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path ('' is the data itself); None when any step is missing."""
    if path == "":
        return data
    value = data
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


def dig_any(data: Any, alternatives: str) -> Any:
    """The first non-empty value of `a|b|c` paths."""
    for path in alternatives.split("|"):
        value = dig(data, path.strip())
        if value not in (None, "", [], {}):
            return value
    return None


def parse_moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else None
    return None


@dataclass(frozen=True)
class Cause:
    """What a message is caused by: an event, a reminder or a campaign."""

    source_id: str
    source_type: str
    correlation_id: str | None
    extra: Mapping[str, Any]  # stored on the message: campaign_id, reminder_id
