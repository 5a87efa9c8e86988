"""Messages' rules, free of I/O: which channels a message goes out on, in which language, and
the message document one cause makes for one person and channel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notification.delivery.rules import claimed_fields, queued_event
from services.notification.documents import ContactDocument
from services.notification.domain import CHANNELS, QUEUED, SUPPRESSED, Cause
from shared.decisions import Change


def language_of(contact: ContactDocument, default: str) -> str:
    """The person's preference, else the language registration knows, else the forum's."""
    return contact.preferences.language or contact.language or default


@dataclass(frozen=True)
class Plan:
    """One channel's outcome for one person: an address to send to, or why not."""

    channel: str
    address: str | None
    suppressed: str | None = None


def plan_channels(
    channels: Sequence[str], contact: ContactDocument, *, essential: bool, sms_template: bool
) -> list[Plan]:
    """Which channels a message goes out on.

    Non-essential messages respect the opt-out and the person's channels. Essential ones
    (accreditation decisions, changes to one's own session) go regardless; if the person's
    channels would leave none, e-mail is used.
    """
    preferences = contact.preferences
    chosen = preferences.channels or CHANNELS
    addresses = {"email": contact.email, "sms": contact.phone}
    if not essential and preferences.opt_out_non_essential:
        return [Plan(channel, None, "opted_out") for channel in channels]
    plans: list[Plan] = []
    for channel in channels:
        if channel == "sms" and not sms_template:
            continue
        if channel not in chosen:
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


def new_message(
    mid: str,
    cause: Cause,
    plan: Plan,
    *,
    message_type: str,
    person_id: str,
    language: str,
    essential: bool,
    content: Mapping[str, Any],
    now: datetime,
    claim_until: datetime | None,
) -> Change:
    """The message document, written once: suppressed (never sent); claimed for an attempt that
    begins at once (`claim_until`: its lease), so the write that creates it records the attempt;
    or queued, with the delivery queue's work item in its outbox."""
    fields: dict[str, Any] = {
        "message_type": message_type,
        "channel": plan.channel,
        "person_id": person_id,
        "to": plan.address,
        "language": language,
        "essential": essential,
        "source_event_id": cause.source_id,
        "source_event_type": cause.source_type,
        "correlation_id": cause.correlation_id,
        **cause.extra,
        "content": dict(content),
        "status": SUPPRESSED if plan.suppressed else QUEUED,
        "suppressed_reason": plan.suppressed,
        "attempts": 0,
        "replays": 0,
        "created_at": now,
        "touched_at": now,
        "next_attempt_at": None if plan.suppressed else now,
    }
    if plan.suppressed:
        return Change(set=fields)
    if claim_until is not None:
        return Change(set={**fields, **claimed_fields(0, now, claim_until)})
    event = queued_event(
        mid,
        message_type=message_type,
        channel=plan.channel,
        person_id=person_id,
        correlation_id=cause.correlation_id,
        source_event_id=cause.source_id,
        tag=0,
    )
    return Change(set=fields, events=[event])
