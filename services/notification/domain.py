"""Notification's rules, free of I/O: who an event reaches, on which channels, when to retry.

A message document (one per cause, person and channel) moves through
    queued ─► sending ─► sent
              sending ─► retrying ─► sending …        (every provider failed; broker-side backoff)
              sending ─► failed                        (last attempt; kept for replay)
              sending ─► queued, possibly_sent         (the sender's lease lapsed: outcome unknown)
    suppressed                                         (opted out, no address): never sent
    failed | suppressed ─► queued                      (replay by the secretariat)

`attempts` counts attempts *begun*: the claim records the attempt before anything is sent, so an
attempt whose worker vanished still counts, and a message that kills its worker cannot loop.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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


_KEY_FIELD = re.compile(r"\{([^{}]+)\}")


def reminder_key(template: str, event: Mapping[str, Any]) -> str | None:
    """'session:{session_id|session.code}' with the event's values; None when one is missing."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = dig_any(event, match.group(1))
        if found is None or isinstance(found, (dict, list)):
            missing = True
            return ""
        return str(found)

    key = _KEY_FIELD.sub(value, template)
    return None if missing else key


@dataclass(frozen=True)
class Recipient:
    """A person an event names: by id (contact looked up) or with their contact details inline."""

    person_id: str
    contact: dict[str, Any] | None = None
    is_snapshot: bool = False  # a registration snapshot: updates the contact projection


def _recipients_in(value: Any, event: Mapping[str, Any]) -> Iterable[Recipient]:
    if isinstance(value, list):
        for item in value:
            yield from _recipients_in(item, event)
    elif isinstance(value, (str, uuid.UUID)) and str(value):
        yield Recipient(str(value))
    elif isinstance(value, Mapping):
        person_id = value.get("participant_id")
        if value.get("email") or value.get("phone"):
            if not person_id:
                # Registration derives participant ids the same way: the person keeps one id.
                forum = value.get("forum_id") or event.get("forum_id") or ""
                person_id = str(
                    derive_id(forum, str(value.get("email") or value.get("phone")).lower())
                )
            contact = {
                name: value.get(name) for name in CONTACT_FIELDS if value.get(name) is not None
            }
            if "given_name" not in contact and value.get("name"):
                contact["given_name"] = value["name"]
            snapshot = "consents" in value and "status" in value and "participant_id" in value
            yield Recipient(str(person_id), contact, is_snapshot=snapshot)
        elif person_id:
            yield Recipient(str(person_id))


def resolve_recipients(event: Mapping[str, Any], paths: Sequence[str]) -> list[Recipient]:
    """Everyone the trigger's paths name, once each (the first, fullest mention wins)."""
    found: dict[str, Recipient] = {}
    for path in paths:
        for recipient in _recipients_in(dig(event, path), event):
            known = found.get(recipient.person_id)
            if known is None or (known.contact is None and recipient.contact is not None):
                found[recipient.person_id] = recipient
    return list(found.values())


def mapped_contact(event: Mapping[str, Any], mapping: Mapping[str, Any]) -> Recipient | None:
    """A contact read through a trigger's `contact` mapping (paths per field)."""
    person_id = dig_any(event, mapping["id"])
    if person_id is None:
        return None
    contact = {
        name: value
        for name in ("email", "phone", "given_name", "language")
        if mapping.get(name) and (value := dig_any(event, mapping[name])) is not None
    }
    if not (contact.get("email") or contact.get("phone")):
        return Recipient(str(person_id))
    return Recipient(str(person_id), contact, is_snapshot=bool(mapping.get("project")))


# --- preferences and channels ---------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    language: str | None = None
    channels: tuple[str, ...] = CHANNELS
    opted_out: bool = False  # of non-essential messages

    @classmethod
    def of(cls, contact: Mapping[str, Any] | None) -> Preferences:
        saved = (contact or {}).get("preferences") or {}
        return cls(
            language=saved.get("language"),
            channels=tuple(saved.get("channels") or CHANNELS),
            opted_out=bool(saved.get("opt_out_non_essential", False)),
        )


def language_of(contact: Mapping[str, Any], default: str) -> str:
    return Preferences.of(contact).language or contact.get("language") or default


@dataclass(frozen=True)
class Plan:
    """One channel's outcome for one person: an address to send to, or why not."""

    channel: str
    address: str | None
    suppressed: str | None = None


def plan_channels(
    channels: Sequence[str], contact: Mapping[str, Any], *, essential: bool, sms_template: bool
) -> list[Plan]:
    """Which channels a message goes out on.

    Non-essential messages respect the opt-out and the person's channels. Essential ones
    (accreditation decisions, changes to one's own session) go regardless; if the person's
    channels would leave none, e-mail is used.
    """
    prefs = Preferences.of(contact)
    addresses = {"email": contact.get("email"), "sms": contact.get("phone")}
    if not essential and prefs.opted_out:
        return [Plan(channel, None, "opted_out") for channel in channels]
    plans: list[Plan] = []
    for channel in channels:
        if channel == "sms" and not sms_template:
            continue
        if channel not in prefs.channels:
            plans.append(Plan(channel, None, "channel_declined"))
        elif not addresses.get(channel):
            continue  # no phone (or e-mail): nothing to record
        else:
            plans.append(Plan(channel, addresses[channel]))
    if (
        essential
        and not any(p.address for p in plans)
        and addresses["email"]
        and "email" in channels
    ):
        plans = [p for p in plans if p.channel != "email"] + [Plan("email", addresses["email"])]
    return plans


def message_id(source_id: object, person_id: str, channel: str) -> str:
    return str(derive_id(source_id, person_id, channel))


def smtp_message_id(message_id: str) -> str:
    """The e-mail's Message-ID: derived from the message, the same on every attempt, so a
    receiving system can drop a copy we could not know we had already sent."""
    return f"<{message_id}@foro.notification>"


# --- order independence ----------------------------------------------------------------------


def reachable(contact: Mapping[str, Any] | None) -> bool:
    """A contact a message can be sent to (an e-mail address or a phone number)."""
    return bool(contact) and bool(contact.get("email") or contact.get("phone"))


def parked_id(event_id: object, person_id: str) -> str:
    """A trigger waiting for a person's contact: one per (event, person), so a redelivered
    trigger parks nothing twice."""
    return str(derive_id("parked", event_id, person_id))


# --- delivery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 5.0
    max_seconds: float = 3600.0
    jitter: float = 0.25
    # Rate-limit deferrals of one attempt before the busy provider counts as a failed one: waits
    # that use no attempt are bounded here, not by the broker's retry budget.
    max_deferrals: int = 100

    def may_defer(self, document: Mapping[str, Any]) -> bool:
        return int(document.get("deferrals", 0)) < self.max_deferrals

    def delay(self, attempts_made: int, rng: random.Random | None = None) -> float:
        """Backoff after `attempts_made` failed attempts: base·2^(n-1), plus up to `jitter` of it."""
        rng = rng or random
        delay = min(self.base_seconds * 2 ** max(attempts_made - 1, 0), self.max_seconds)
        return delay + delay * self.jitter * rng.random()


@dataclass
class AttemptOutcome:
    """What one pass through the provider chain produced."""

    provider: str | None = None
    provider_message_id: str | None = None
    errors: list[tuple[str, str, bool]] = field(
        default_factory=list
    )  # (provider, reason, permanent)

    @property
    def sent(self) -> bool:
        return self.provider_message_id is not None

    @property
    def permanent(self) -> bool:
        return bool(self.errors) and all(permanent for _, _, permanent in self.errors)

    def reason(self) -> str:
        return (
            "; ".join(f"{name}: {reason}" for name, reason, _ in self.errors)[:500]
            or "no provider configured"
        )


def after_attempt(
    document: Mapping[str, Any],
    outcome: AttemptOutcome,
    policy: RetryPolicy,
    now: datetime,
    rng: random.Random | None = None,
) -> tuple[str, dict[str, Any], float | None]:
    """New status, fields to set and (when retrying) the delay before the next attempt.

    `document` is the claimed message: its `attempts` already counts this attempt."""
    attempts = max(int(document.get("attempts", 0)), 1)
    entry = {
        "attempt": attempts,
        "at": now,
        "provider": outcome.provider,
        "errors": [{"provider": p, "reason": r} for p, r, _ in outcome.errors],
    }
    if document.get("possibly_sent"):
        entry["possible_duplicate"] = True
    history = [*document.get("history", []), entry][-20:]
    common = {
        "attempts": attempts,
        "history": history,
        "lease_until": None,
        "possibly_sent": False,
        "deferrals": 0,
    }
    if outcome.sent:
        return (
            SENT,
            {
                **common,
                "status": SENT,
                "provider": outcome.provider,
                "provider_message_id": outcome.provider_message_id,
                "sent_at": now,
                "last_error": None,
            },
            None,
        )
    base = {**common, "last_error": outcome.reason()}
    if attempts >= policy.max_attempts or outcome.permanent:
        return FAILED, {**base, "status": FAILED, "failed_at": now}, None
    delay = policy.delay(attempts, rng)
    return (
        RETRYING,
        {**base, "status": RETRYING, "next_attempt_at": now + timedelta(seconds=delay)},
        delay,
    )


LOST_WORKER = "outcome unknown: the worker's lease lapsed while sending; it may have been delivered"


def after_lapsed_lease(
    document: Mapping[str, Any], policy: RetryPolicy, now: datetime
) -> tuple[str, dict[str, Any]]:
    """A message found `sending` whose lease lapsed: its worker died (or lost the database) during
    an attempt whose outcome nobody recorded, so it was *possibly sent*.

    The rule: send it again, with the same Message-ID (SMS: the same idempotency key), so a
    receiver can drop the copy; the lost attempt counts, so a message that kills its worker every
    time ends `failed` instead of looping. The next attempt is counted as a possible duplicate.
    """
    attempts = max(int(document.get("attempts", 0)), 1)
    entry = {"attempt": attempts, "at": now, "provider": None, "errors": [], "outcome": "unknown"}
    history = [*document.get("history", []), entry][-20:]
    base = {
        "attempts": attempts,
        "history": history,
        "lease_until": None,
        "lapse_noticed_at": None,
        "possibly_sent": True,
        "last_error": LOST_WORKER,
        "touched_at": now,
    }
    if attempts >= policy.max_attempts:
        return FAILED, {**base, "status": FAILED, "failed_at": now}
    return QUEUED, {**base, "status": QUEUED}


def accepts_result(current: Mapping[str, Any] | None, claimed_at: Any, *, sent: bool) -> bool:
    """Whether an attempt's result may be written over the message as it now is.

    A result is ours to write while our claim holds. A provider's acceptance is written even when
    our lease lapsed and the message was queued again (or claimed by another worker): it is the
    truth, and writing it stops a second send that has not started yet."""
    if current is None:
        return False
    if current.get("status") == SENDING and current.get("claimed_at") == claimed_at:
        return True
    return sent and current.get("status") in (QUEUED, RETRYING, SENDING)


def backoff_left(document: Mapping[str, Any], now: datetime) -> float | None:
    """Seconds until a retrying message may be attempted again; None when it is not waiting."""
    if document.get("status") != RETRYING or document.get("next_attempt_at") is None:
        return None
    due = document["next_attempt_at"]
    if due.tzinfo is None:
        due = due.replace(tzinfo=now.tzinfo)
    left = (due - now).total_seconds()
    return left if left > 0 else None


def hop(wait: float, longest: float) -> float:
    """One broker-held wait toward `wait`: no longer than the longest retry tier, so a long backoff
    never sits at the head of a retry queue in front of shorter ones."""
    return max(0.0, min(wait, longest))


# --- reminders and campaigns -----------------------------------------------------------------


def reminder_due(anchor: datetime, offset_hours: float) -> datetime:
    return anchor + timedelta(hours=offset_hours)


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


def in_segment(contact: Mapping[str, Any], segment: Mapping[str, Any]) -> bool:
    """The same rule as the repository's query, for one contact."""
    checks = (
        ("categories", contact.get("category")),
        ("countries", contact.get("country")),
        ("languages", language_of(contact, contact.get("language") or "es")),
        ("statuses", contact.get("status")),
    )
    return all(not segment.get(name) or value in segment[name] for name, value in checks)
