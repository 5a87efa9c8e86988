"""Notification's use cases: what an event, a due reminder, a campaign or a delivery attempt does.

Exactly one message per (cause, person, channel): the message document's id is derived from
the three, so a redelivered event, a reminder fired twice after a crash or a campaign expanded
again finds the document it made and creates nothing. Delivery claims the document (recording the
attempt) before sending, holds it with a lease it renews while it sends, and records the result
before the queue message is acked; a redelivered queue message finds it sent and sends nothing.
A trigger naming a person whose contact has not arrived yet is parked, not failed, and completed
when the contact comes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter, Gauge
from pydantic import AwareDatetime, BaseModel, ConfigDict
from pymongo.errors import ConnectionFailure

from services.notification import attachments, domain
from services.notification.providers import Attachment, Outgoing, Provider, ProviderError
from services.notification.publishers import DeliveryQueue
from services.notification.repository import NotificationRepository
from services.notification.templates import TemplateBook, Trigger
from shared import participant_tokens
from shared.contracts.envelope import derive_id
from shared.contracts.notification import (
    CampaignRequested,
    NotificationFailed,
    NotificationQueued,
    NotificationSent,
)
from shared.decisions import Change
from shared.errors import InvalidMessage, RetryLater
from shared.pack import EventPack

log = structlog.get_logger("foro.notification")

MESSAGES = Counter(
    "foro_notification_messages_total",
    "Messages by channel and final outcome",
    ["channel", "outcome"],
)
ATTEMPTS = Counter(
    "foro_notification_attempts_total",
    "Provider attempts by provider and outcome",
    ["provider", "outcome"],
)
POSSIBLE_DUPLICATES = Counter(
    "foro_notification_possible_duplicates_total",
    "Attempts at a message an earlier attempt may already have delivered (its outcome was lost); "
    "sent with the same Message-ID / idempotency key",
    ["channel"],
)
UNRECORDED = Counter(
    "foro_notification_unrecorded_results_total",
    "Attempt results that could not be written within the patience (database down); left to the sweep",
    ["channel"],
)
PARKED = Counter(
    "foro_notification_parked_total",
    "Triggers parked until a person's contact arrives, and how parked ones ended",
    ["outcome"],
)
WAITING = Gauge(
    "foro_notification_parked_waiting", "Parked triggers still waiting for a person's contact"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class TriggerEnvelope(BaseModel):
    """The envelope fields notification reads from any trigger event; everything else is the
    trigger's own business (read through the mapping's paths), so extra fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    event_id: uuid.UUID
    event_type: str
    occurred_at: AwareDatetime
    correlation_id: str | None = None


@dataclass
class Notification:
    """Everything notification's handlers depend on; built by `bootstrap`."""

    pack: EventPack
    book: TemplateBook
    repository: NotificationRepository
    providers: dict[str, list[Provider]]
    queue: DeliveryQueue
    policy: domain.RetryPolicy
    lease_seconds: float = 10.0
    lease_renew_seconds: float = 3.0
    sweep_seconds: float = 5.0
    record_patience_seconds: float = 60.0
    stale_seconds: float = 120.0
    longest_hop: float = 512.0  # the longest retry tier: one broker-held wait is never longer
    campaign_batch: int = 50
    clock: Callable[[], datetime] = utc_now  # business time: reminders, campaigns
    wall_clock: Callable[[], datetime] = utc_now  # delivery timing, matched to the broker's TTLs
    participant_token_secret: str = ""  # mints the personal token a confirmation hands out


@dataclass(frozen=True)
class Cause:
    """What a message is caused by: an event, a reminder or a campaign."""

    source_id: str
    source_type: str
    correlation_id: str | None
    extra: Mapping[str, Any]  # stored on the message: campaign_id, reminder_id


# --- messages ---------------------------------------------------------------------------------


def _person_view(contact: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: contact.get(name)
        for name in ("given_name", "family_name", "organisation", "category", "country", "language")
    }


def _access_token(secret: str, person_id: str) -> str | None:
    """The participant's own token for participant-facing APIs (session sign-up, meetings); minted
    here, where it is sent, so no token ever travels on the bus."""
    if not secret:
        return None
    token = participant_tokens.mint(secret, person_id)
    return token if participant_tokens.verify(secret, token) else None  # only for participant ids


async def create_messages(
    deps: Notification,
    cause: Cause,
    message_type: str,
    person_id: str,
    contact: Mapping[str, Any],
    *,
    channels: tuple[str, ...],
    essential: bool,
    context: Mapping[str, Any],
    event: Mapping[str, Any],
    attachment_kinds: tuple[str, ...] = (),
) -> dict[str, int]:
    """Render and store the person's messages for one cause; idempotent. Returns counts by status."""
    book, now = deps.book, deps.wall_clock()
    channels = tuple(
        channel for channel in channels if deps.providers.get(channel)
    )  # none configured: not offered
    lang = book.language_for(
        message_type, domain.language_of(contact, deps.pack.forum.default_language)
    )
    values = {**context, "person": _person_view(contact), "event": event}
    if token := _access_token(deps.participant_token_secret, person_id):
        values["access_token"] = token
    plans = domain.plan_channels(
        channels, contact, essential=essential, sms_template=book.has_sms(message_type, lang)
    )
    counts: dict[str, int] = {}
    for plan in plans:
        mid = domain.message_id(cause.source_id, person_id, plan.channel)
        if plan.address is None:
            content: dict[str, Any] = {}
        elif plan.channel == "email":
            rendered = book.render_email(message_type, lang, values)
            content = {
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
                "attachments": attachments.build(attachment_kinds, deps.pack, event, lang, now),
            }
        else:
            content = {"text": book.render_sms(message_type, lang, values)}
        status = domain.SUPPRESSED if plan.suppressed else domain.QUEUED
        fields = {
            "message_type": message_type,
            "channel": plan.channel,
            "person_id": person_id,
            "to": plan.address,
            "language": lang,
            "essential": essential,
            "source_event_id": cause.source_id,
            "source_event_type": cause.source_type,
            "correlation_id": cause.correlation_id,
            **cause.extra,
            "content": content,
            "status": status,
            "suppressed_reason": plan.suppressed,
            "attempts": 0,
            "replays": 0,
            "created_at": now,
            "touched_at": now,
        }
        events = [] if plan.suppressed else [_queued(mid, fields, replays=0)]

        def decide(document: dict[str, Any] | None, fields=fields, events=events) -> Change | None:
            return None if document is not None else Change(set=fields, events=events)

        # Assume it is new (one write); if it exists, the insert fails and `decide` sees it.
        applied = await deps.repository.messages.apply(mid, None, decide, current=None)
        if applied.change is not None:
            counts[status] = counts.get(status, 0) + 1
            if plan.suppressed:
                MESSAGES.labels(plan.channel, "suppressed").inc()
    return counts


def _queued(mid: str, fields: Mapping[str, Any], replays: object) -> NotificationQueued:
    return NotificationQueued(
        event_id=derive_id(mid, "queued", replays),
        producer=domain.PRODUCER,
        correlation_id=fields.get("correlation_id") or mid,
        causation_id=str(fields["source_event_id"])[:100],
        message_id=mid,
        message_type=fields["message_type"],
        channel=fields["channel"],
        recipient_id=fields["person_id"],
    )


# --- triggers ---------------------------------------------------------------------------------


def _add(counts: dict[str, int], more: Mapping[str, int]) -> dict[str, int]:
    for name, n in more.items():
        counts[name] = counts.get(name, 0) + n
    return counts


async def handle_trigger(body: Mapping[str, Any], deps: Notification) -> dict[str, int]:
    """One event from another service: project contacts, create messages, (re)schedule reminders.

    What the event is comes from its envelope (`event_type`), never from how it was routed: a
    retried copy comes back to the queue under the queue's own name and is handled the same."""
    envelope = TriggerEnvelope.model_validate(body)
    trigger = deps.book.triggers.get(envelope.event_type)
    if trigger is None:
        raise InvalidMessage(
            f"event_type: no trigger is configured for {envelope.event_type[:100]!r}"
        )
    repo = deps.repository
    if trigger.erase is not None:
        person_id = domain.dig(body, trigger.erase)
        if not person_id:
            raise InvalidMessage(f"{trigger.erase}: missing")
        await repo.erase_person(str(person_id), envelope.occurred_at)
        log.info("personal data erased", person_id=str(person_id))
        return {"erased": 1}
    recipients = domain.resolve_recipients(body, trigger.recipients)
    if trigger.contact is not None and (
        mapped := domain.mapped_contact(body, trigger.contact.model_dump())
    ):
        recipients.append(mapped)
    if not recipients:
        log.info("trigger names nobody to tell", event_type=envelope.event_type)
        return {}
    counts: dict[str, int] = {}
    for recipient in recipients:
        if recipient.is_snapshot and recipient.contact is not None:
            contact = await repo.project_contact(
                recipient.person_id, recipient.contact, envelope.occurred_at
            )
        else:
            contact = await repo.contact(recipient.person_id)
        if contact is not None and contact.get("erased"):
            _add(counts, {"erased": 1})
            continue  # nothing goes to an erased person
        if recipient.contact is not None:
            contact = {**(contact or {}), **recipient.contact}
        if not domain.reachable(contact):
            # Events from different services race: the person's contact has not been projected
            # yet. Not a failure: the trigger waits for it.
            _add(counts, await _park(deps, envelope, body, recipient.person_id))
            continue
        _add(counts, await _tell(deps, trigger, envelope, body, recipient.person_id, contact))
        if recipient.is_snapshot:
            _add(counts, await complete_parked(deps, recipient.person_id))
    return counts


async def _tell(
    deps: Notification,
    trigger: Trigger,
    envelope: TriggerEnvelope,
    body: Mapping[str, Any],
    person_id: str,
    contact: Mapping[str, Any],
) -> dict[str, int]:
    """What one trigger does for one reachable person; idempotent (derived ids)."""
    counts: dict[str, int] = {}
    if trigger.message_type:
        cause = Cause(
            str(envelope.event_id),
            envelope.event_type,
            envelope.correlation_id or str(envelope.event_id),
            {},
        )
        counts = await create_messages(
            deps,
            cause,
            trigger.message_type,
            person_id,
            contact,
            channels=trigger.channels,
            essential=trigger.essential,
            context={},
            event=body,
            attachment_kinds=trigger.attachments,
        )
    await _reminders(deps, trigger, envelope, body, person_id)
    return counts


async def _park(
    deps: Notification, envelope: TriggerEnvelope, body: Mapping[str, Any], person_id: str
) -> dict[str, int]:
    """Keep the trigger for the person until their contact is projected. Then look again: a
    contact projected between our read and the park found nothing parked, so we complete it."""
    repo = deps.repository
    parked_id = domain.parked_id(envelope.event_id, person_id)
    created = await repo.park(
        parked_id,
        {
            "person_id": person_id,
            "event_id": str(envelope.event_id),
            "event_type": envelope.event_type,
            "event": dict(body),
            "parked_at": deps.wall_clock(),
        },
    )
    if created:
        PARKED.labels("parked").inc()
        log.info(
            "trigger parked until the person's contact arrives",
            person_id=person_id,
            event_type=envelope.event_type,
        )
    contact = await repo.contact(person_id)
    if contact is not None and (contact.get("erased") or domain.reachable(contact)):
        parked = await repo.parked_one(parked_id)
        if parked is not None:
            return await _complete_parked(deps, parked, contact)
    return {"parked": 1}


async def complete_parked(deps: Notification, person_id: str) -> dict[str, int]:
    """The person's contact has arrived: do what the triggers parked for them would have done."""
    repo = deps.repository
    parked = await repo.parked_for(person_id)
    if not parked:
        return {}
    contact = await repo.contact(person_id)
    if contact is None or not (contact.get("erased") or domain.reachable(contact)):
        return {}
    counts: dict[str, int] = {}
    for entry in parked:
        _add(counts, await _complete_parked(deps, entry, contact))
    return counts


async def _complete_parked(
    deps: Notification, parked: Mapping[str, Any], contact: Mapping[str, Any]
) -> dict[str, int]:
    """Messages first, then the parked entry closed: a crash between them completes it again,
    creating nothing twice (message ids are derived from the event, the person and the channel)."""
    trigger = deps.book.triggers.get(parked["event_type"])
    counts: dict[str, int] = {}
    if contact.get("erased"):
        outcome = "erased"
    elif trigger is None:
        outcome = "no_trigger"  # the pack no longer has it
    else:
        body = parked["event"]
        counts = await _tell(
            deps, trigger, TriggerEnvelope.model_validate(body), body, parked["person_id"], contact
        )
        outcome = "completed"
    if await deps.repository.finish_parked(parked["_id"], outcome, deps.wall_clock()):
        PARKED.labels(outcome).inc()
        log.info(
            "parked trigger completed",
            person_id=parked["person_id"],
            event_type=parked["event_type"],
            outcome=outcome,
        )
    return _add(counts, {f"parked_{outcome}": 1})


async def _reminders(
    deps: Notification,
    trigger: Trigger,
    envelope: TriggerEnvelope,
    body: Mapping[str, Any],
    person_id: str,
) -> None:
    repo = deps.repository
    for rule in trigger.reminders:
        key = domain.reminder_key(rule.key, body)
        anchor = (
            datetime.combine(deps.pack.forum.dates[0], datetime.min.time(), deps.pack.forum.tz)
            if rule.anchor == "forum_start"
            else domain.parse_moment(domain.dig_any(body, rule.anchor))
        )
        if key is None or anchor is None:
            continue
        if rule.anchor == "forum_start":
            first = deps.pack.programme.items_on(0)
            if first:
                anchor = deps.pack.item_datetimes(first[0])[0]
        if anchor <= deps.clock():
            continue  # what it reminds of has begun: nothing to remind
        reminder_id = str(derive_id("reminder", key, person_id))
        await repo.schedule_reminder(
            reminder_id,
            {
                "key": key,
                "person_id": person_id,
                "message_type": rule.message_type,
                "anchor": anchor,
                "due_at": domain.reminder_due(anchor, rule.offset_hours),
                "event": _without_people(body, trigger),
                "correlation_id": envelope.correlation_id or str(envelope.event_id),
            },
            scheduled_by=str(envelope.event_id),
            event_at=envelope.occurred_at,
        )
    for template in trigger.cancel_reminders:
        key = domain.reminder_key(template, body)
        if key is not None:
            await repo.cancel_reminder(
                str(derive_id("reminder", key, person_id)), envelope.occurred_at
            )


def _without_people(body: Mapping[str, Any], trigger: Trigger) -> dict[str, Any]:
    """The event as a reminder keeps it: without the people it names (other people's contacts
    must not be copied into each person's reminder)."""
    paths = [*trigger.recipients]
    if trigger.contact is not None:
        paths += [p for p in (trigger.contact.email, trigger.contact.phone) if p]
    people = {
        alternative.split(".")[0]
        for path in paths
        for alternative in path.split("|")
        if alternative
    }
    return {key: value for key, value in body.items() if key not in people}


# --- reminders and campaigns (run by the scheduler) ------------------------------------------


async def fire_due_reminders(deps: Notification) -> int:
    """Turn every due reminder into messages, each exactly once (claimed atomically)."""
    repo, now = deps.repository, deps.clock()
    await repo.recover_reminders(now - timedelta(seconds=deps.stale_seconds))
    fired = 0
    while (reminder := await repo.claim_due_reminder(now)) is not None:
        contact = await repo.contact(reminder["person_id"])
        trigger_channels = ("email", "sms")
        current = (
            reminder["anchor"] > now
        )  # a reminder the service was down for past its anchor is dropped
        if (
            current
            and contact
            and not contact.get("erased")
            and contact.get("status") not in ("cancelled", "rejected")
        ):
            cause = Cause(
                f"{reminder['_id']}:{reminder['scheduled_by']}",
                f"reminder:{reminder['key']}",
                reminder.get("correlation_id"),
                {"reminder_id": reminder["_id"]},
            )
            await create_messages(
                deps,
                cause,
                reminder["message_type"],
                reminder["person_id"],
                contact,
                channels=trigger_channels,
                essential=False,
                context={
                    "reminder": {
                        "key": reminder["key"],
                        "anchor": reminder["anchor"],
                        "due_at": reminder["due_at"],
                    }
                },
                event=reminder.get("event") or {},
            )
        await repo.finish_reminder(reminder["_id"], now)
        log.info("reminder fired", reminder_id=reminder["_id"], person_id=reminder["person_id"])
        fired += 1
    return fired


async def request_campaign(request: CampaignRequested, deps: Notification) -> bool:
    if request.forum_id != deps.pack.forum.id:
        raise InvalidMessage(f"forum_id: this service sends for the forum {deps.pack.forum.id!r}")
    deps.book.templates(
        request.message_type
    )  # an unknown template is refused now, not at send time
    created = await deps.repository.create_campaign(
        {
            "_id": request.campaign_id,
            "request_event_id": str(request.event_id),
            "correlation_id": request.correlation_id or str(request.event_id),
            "message_type": request.message_type,
            "segment": request.segment.model_dump(),
            "channels": list(request.channels),
            "subject": request.subject.model_dump(),
            "body": request.body.model_dump(),
            "essential": request.essential,
            "status": "sending",
            "cursor": None,
            "counts": {},
            "created_at": deps.wall_clock(),
        }
    )
    log.info("campaign requested", campaign_id=request.campaign_id, created=created)
    return created


async def expand_campaigns(deps: Notification) -> int:
    """Create the next batch of each active campaign's messages (the batch size is the throttle)."""
    repo, made = deps.repository, 0
    for campaign in await repo.active_campaigns():
        contacts = await repo.segment(
            campaign["segment"], campaign.get("cursor"), deps.campaign_batch
        )
        counts: dict[str, int] = {}
        cause = Cause(
            f"campaign:{campaign['_id']}",
            "campaign.requested",
            campaign.get("correlation_id"),
            {"campaign_id": campaign["_id"]},
        )
        for contact in contacts:
            result = await create_messages(
                deps,
                cause,
                campaign["message_type"],
                contact["_id"],
                contact,
                channels=tuple(campaign["channels"]),
                essential=campaign["essential"],
                context={"campaign": {"subject": campaign["subject"], "body": campaign["body"]}},
                event={},
            )
            for status, n in result.items():
                counts[status] = counts.get(status, 0) + n
            made += 1
        cursor = contacts[-1]["_id"] if contacts else campaign.get("cursor")
        done = len(contacts) < deps.campaign_batch
        await repo.advance_campaign(campaign["_id"], cursor, counts, done, deps.wall_clock())
        if done:
            log.info("campaign expanded", campaign_id=campaign["_id"])
    return made


async def requeue_stale(deps: Notification) -> int:
    """Safety net: a deliverable message whose queue message was lost is queued again."""
    now = deps.wall_clock()
    stale = await deps.repository.stale(now - timedelta(seconds=deps.stale_seconds))
    for document in stale:
        fields = {**document, "source_event_id": document.get("source_event_id") or document["_id"]}
        await deps.queue.enqueue(_queued(document["_id"], fields, "stale"))
        await deps.repository.touch(document["_id"], now)
    if stale:
        log.warning("stale messages queued again", count=len(stale))
    return len(stale)


async def recover_lapsed(deps: Notification) -> int:
    """Messages whose sender stopped renewing its lease (killed, or cut off from the database for
    longer than a sweep) are *possibly sent*: `domain.after_lapsed_lease` decides (send again with
    the same Message-ID, or fail once the attempts are used up), and they are queued at once.

    A lapse is acted on at the second sweep that sees it, so a worker that only lost the database
    for a moment renews or records its result first."""
    repo, now = deps.repository, deps.wall_clock()
    await repo.notice_lapsed_leases(now)
    recovered = 0
    for document in await repo.lapsed_leases(now, now - timedelta(seconds=deps.sweep_seconds / 2)):
        mid = document["_id"]

        def decide(
            current: dict[str, Any] | None, claimed_at: Any = document["claimed_at"], mid: str = mid
        ) -> Change | None:
            if (
                current is None
                or current.get("status") != domain.SENDING
                or current.get("claimed_at") != claimed_at
                or current.get("lease_until") is None
                or current["lease_until"] >= now
            ):
                return None  # renewed, recorded or recovered meanwhile
            status, fields = domain.after_lapsed_lease(current, deps.policy, now)
            event = _result_event(mid, current, fields, status)
            return Change(set=fields, events=[event] if event else [])

        applied = await repo.messages.apply(mid, None, decide, current=document)
        if applied.change is None:
            continue
        recovered += 1
        status = applied.document["status"]
        log.warning(
            "lease lapsed while sending: the message was possibly sent",
            message_id=mid,
            outcome=status,
            attempts=applied.document["attempts"],
        )
        if status == domain.QUEUED:
            await deps.queue.enqueue(
                _queued(mid, applied.document, f"lapsed-{applied.document['attempts']}")
            )
        else:
            MESSAGES.labels(applied.document["channel"], status).inc()
    return recovered


async def sweep(deps: Notification) -> None:
    """The delivery safety net, every `sweep_seconds`: lapsed leases, lost queue messages, and
    the count of triggers still waiting for a contact."""
    await recover_lapsed(deps)
    await requeue_stale(deps)
    WAITING.set(await deps.repository.waiting_count())


async def replay(message_id: str, deps: Notification) -> dict[str, Any] | None:
    """Queue a failed or suppressed message again (the secretariat's decision)."""

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None or document["status"] not in (domain.FAILED, domain.SUPPRESSED):
            return None
        if document["status"] == domain.SUPPRESSED and not document.get("to"):
            return None  # nothing was rendered: no address then
        replays = int(document.get("replays", 0)) + 1
        fields = {
            "status": domain.QUEUED,
            "attempts": 0,
            "replays": replays,
            "touched_at": deps.wall_clock(),
            "last_error": None,
        }
        return Change(set=fields, events=[_queued(message_id, {**document, **fields}, replays)])

    applied = await deps.repository.messages.apply(message_id, None, decide)
    return applied.document if applied.change else None


# --- delivery ---------------------------------------------------------------------------------


def _outgoing(document: Mapping[str, Any]) -> Outgoing:
    content = document.get("content") or {}
    return Outgoing(
        message_id=document["_id"],
        to=document["to"],
        subject=content.get("subject", ""),
        text=content.get("text", ""),
        html=content.get("html"),
        attachments=[Attachment(**a) for a in content.get("attachments", [])],
        language=document.get("language", "es"),
    )


@asynccontextmanager
async def _lease(deps: Notification, mid: str, claimed_at: datetime) -> AsyncIterator[None]:
    """Hold the claim while sending (and recording): renewed every `lease_renew_seconds`, so a
    slow provider keeps it and a dead worker loses it within `lease_seconds`."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(deps.lease_renew_seconds)
            try:
                until = deps.wall_clock() + timedelta(seconds=deps.lease_seconds)
                if not await deps.repository.renew_lease(mid, claimed_at, until):
                    return  # recorded, or no longer ours
            except ConnectionFailure as error:
                log.warning(
                    "lease not renewed: database unreachable",
                    message_id=mid,
                    error=type(error).__name__,
                )

    renewer = asyncio.create_task(renew(), name=f"lease-{mid}")
    try:
        yield
    finally:
        renewer.cancel()
        with suppress(asyncio.CancelledError):
            await renewer


async def _record(
    deps: Notification,
    mid: str,
    claimed: dict[str, Any],
    fields: Mapping[str, Any],
    event: Any,
    *,
    sent: bool,
) -> bool | None:
    """Write the attempt's result; True if written, False if it was not ours to write any more,
    None if the database stayed unreachable for `record_patience_seconds`.

    A provider that accepted the message must never be asked again because a write failed, so
    the write is retried here, in the process that knows the outcome (the lease is still renewed
    meanwhile), instead of handing the queue message back."""

    def decide(current: dict[str, Any] | None) -> Change | None:
        if not domain.accepts_result(current, claimed["claimed_at"], sent=sent):
            return None
        return Change(set=dict(fields), events=[event] if event else [])

    deadline = time.monotonic() + deps.record_patience_seconds
    pause = 0.1
    while True:
        try:
            applied = await deps.repository.record_result(mid, decide, claimed)
            return applied.change is not None
        except ConnectionFailure as error:
            if time.monotonic() + pause > deadline:
                UNRECORDED.labels(claimed["channel"]).inc()
                log.error(
                    "attempt result not recorded: the sweep will find the lease lapsed and treat the "
                    "message as possibly sent",
                    message_id=mid,
                    sent=sent,
                    error=type(error).__name__,
                )
                return None
            log.warning(
                "recording the attempt result failed; trying again",
                message_id=mid,
                sent=sent,
                error=type(error).__name__,
            )
            await asyncio.sleep(
                pause
            )  # backoff of an in-process write retry, not a wait for an event
            pause = min(pause * 2, 1.0)


async def deliver(queued: NotificationQueued, deps: Notification) -> str:
    """One delivery attempt of one message, through the channel's providers in order."""
    repo, mid, now = deps.repository, str(queued.message_id), deps.wall_clock()
    claimed = await repo.claim(mid, now, now + timedelta(seconds=deps.lease_seconds))
    if claimed is None:
        document = await repo.get(mid)
        if document is None:
            raise InvalidMessage("message_id: no such message")
        if (left := domain.backoff_left(document, now)) is not None:
            # Its backoff is longer than the longest retry tier: wait the rest in another hop.
            raise RetryLater(
                domain.hop(left, deps.longest_hop), reason="backing off", counts_as_attempt=False
            )
        # Sent, failed, suppressed, or being sent by another worker: this copy is a duplicate and
        # is dropped. If that worker dies mid-send, the sweep finds its lease lapsed.
        return "duplicate_" + document["status"]

    # Once claimed, the attempt runs to its recorded end even if this handler is cancelled (a
    # cut broker connection cancels in-flight handlers): a send the provider accepted must be
    # recorded, or the sweep would find the lease lapsed and send it again.
    return await asyncio.shield(asyncio.ensure_future(_attempt(queued, deps, claimed)))


async def _attempt(queued: NotificationQueued, deps: Notification, claimed: dict[str, Any]) -> str:
    """Send a claimed message through the channel's providers in order; record the result."""
    repo, mid = deps.repository, str(queued.message_id)
    outgoing = _outgoing(claimed)
    outcome = domain.AttemptOutcome()
    providers = deps.providers.get(claimed["channel"], [])
    async with _lease(deps, mid, claimed["claimed_at"]):
        for index, provider in enumerate(providers):
            if provider.limiter is not None and not provider.limiter.try_acquire():
                if index == 0 and deps.policy.may_defer(claimed):
                    await repo.unclaim(mid, claimed["claimed_at"], deps.wall_clock())
                    ATTEMPTS.labels(provider.name, "rate_limited").inc()
                    raise RetryLater(
                        max(provider.limiter.wait_seconds(), 0.05),
                        reason="rate limited",
                        counts_as_attempt=False,
                    )
                outcome.errors.append((provider.name, "rate limited", False))
                continue
            if claimed.get("possibly_sent") and not outcome.errors:
                POSSIBLE_DUPLICATES.labels(claimed["channel"]).inc()
                log.warning(
                    "sending a message that was possibly sent already (same Message-ID)",
                    message_id=mid,
                )
            try:
                outcome.provider_message_id = await provider.send(outgoing)
                outcome.provider = provider.name
                ATTEMPTS.labels(provider.name, "sent").inc()
                break
            except ProviderError as error:
                ATTEMPTS.labels(provider.name, "error").inc()
                outcome.errors.append((provider.name, error.reason, error.permanent))
                log.warning(
                    "provider failed",
                    message_id=mid,
                    provider=provider.name,
                    reason=error.reason,
                    permanent=error.permanent,
                )

        status, fields, delay = domain.after_attempt(
            claimed, outcome, deps.policy, deps.wall_clock()
        )
        event = _result_event(mid, claimed, fields, status)
        recorded = await _record(deps, mid, claimed, fields, event, sent=outcome.sent)

    log.info(
        "delivery attempt",
        message_id=mid,
        outcome=status,
        attempts=fields["attempts"],
        provider=outcome.provider,
        recorded=recorded,
    )
    if recorded is None:
        return "unrecorded_" + status
    if not recorded:
        return "superseded_" + status  # our lease lapsed and the sweep took the message over
    if status != domain.RETRYING:
        MESSAGES.labels(claimed["channel"], status).inc()
        return status
    raise RetryLater(
        domain.hop(delay or 0.0, deps.longest_hop),
        reason="every provider failed",
        counts_as_attempt=False,
    )


def _result_event(
    mid: str, document: Mapping[str, Any], fields: Mapping[str, Any], status: str
) -> Any:
    common = {
        "producer": domain.PRODUCER,
        "correlation_id": document.get("correlation_id") or mid,
        "causation_id": str(document.get("source_event_id"))[:100],
        "message_id": mid,
        "message_type": document["message_type"],
        "channel": document["channel"],
        "recipient_id": document["person_id"],
        "source_event_id": str(document.get("source_event_id"))[:2000],
        "attempts": fields["attempts"],
    }
    replays = int(document.get("replays", 0))
    if status == domain.SENT:
        return NotificationSent(
            event_id=derive_id(mid, "sent"),
            provider=fields["provider"],
            provider_message_id=str(fields["provider_message_id"])[:2000],
            **common,
        )
    if status == domain.FAILED:
        return NotificationFailed(
            event_id=derive_id(mid, "failed", replays), reason=fields["last_error"], **common
        )
    return None
