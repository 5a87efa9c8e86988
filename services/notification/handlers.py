"""Notification's use cases: what an event, a due reminder, a campaign or a delivery attempt does.

Exactly one message per (cause, person, channel): the message document's id is derived from
the three, so a redelivered event, a reminder fired twice after a crash or a campaign expanded
again finds the document it made and creates nothing. Delivery claims the document before
sending and records the result before the queue message is acked; a redelivered queue message
finds it sent and sends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter
from pydantic import AwareDatetime, BaseModel, ConfigDict

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
from shared.messaging.consumer import InvalidMessage
from shared.pack import EventPack
from shared.persistence.aggregates import Change

log = structlog.get_logger("foro.notification")

MESSAGES = Counter("foro_notification_messages_total", "Messages by channel and final outcome", ["channel", "outcome"])
ATTEMPTS = Counter("foro_notification_attempts_total", "Provider attempts by provider and outcome", ["provider", "outcome"])


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
    claim_seconds: float = 60.0
    stale_seconds: float = 120.0
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
    return {name: contact.get(name) for name in ("given_name", "family_name", "organisation", "category",
                                                 "country", "language")}


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
    channels = tuple(channel for channel in channels if deps.providers.get(channel))  # none configured: not offered
    lang = book.language_for(message_type, domain.language_of(contact, deps.pack.forum.default_language))
    values = {**context, "person": _person_view(contact), "event": event}
    if token := _access_token(deps.participant_token_secret, person_id):
        values["access_token"] = token
    plans = domain.plan_channels(channels, contact, essential=essential, sms_template=book.has_sms(message_type, lang))
    counts: dict[str, int] = {}
    for plan in plans:
        mid = domain.message_id(cause.source_id, person_id, plan.channel)
        if plan.address is None:
            content: dict[str, Any] = {}
        elif plan.channel == "email":
            rendered = book.render_email(message_type, lang, values)
            content = {"subject": rendered.subject, "text": rendered.text, "html": rendered.html,
                       "attachments": attachments.build(attachment_kinds, deps.pack, event, lang, now)}
        else:
            content = {"text": book.render_sms(message_type, lang, values)}
        status = domain.SUPPRESSED if plan.suppressed else domain.QUEUED
        fields = {
            "message_type": message_type, "channel": plan.channel, "person_id": person_id, "to": plan.address,
            "language": lang, "essential": essential, "source_event_id": cause.source_id,
            "source_event_type": cause.source_type, "correlation_id": cause.correlation_id, **cause.extra,
            "content": content, "status": status, "suppressed_reason": plan.suppressed, "attempts": 0,
            "replays": 0, "created_at": now, "touched_at": now,
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


def _queued(mid: str, fields: Mapping[str, Any], replays: int) -> NotificationQueued:
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


class RecipientNotYetKnown(Exception):
    """An event names a person by id before the event carrying their contact arrived: transient,
    the broker redelivers it once; the second time the person is skipped (and logged)."""


async def handle_trigger(routing_key: str, body: Mapping[str, Any], deps: Notification, *,
                         redelivered: bool = True) -> dict[str, int]:
    """One event from another service: project contacts, create messages, (re)schedule reminders."""
    trigger = deps.book.triggers.get(routing_key)
    if trigger is None:
        raise InvalidMessage(f"routing key {routing_key!r}: no trigger is configured for it")
    envelope = TriggerEnvelope.model_validate(body)
    repo = deps.repository
    if trigger.erase is not None:
        person_id = domain.dig(body, trigger.erase)
        if not person_id:
            raise InvalidMessage(f"{trigger.erase}: missing")
        await repo.erase_person(str(person_id), envelope.occurred_at)
        log.info("personal data erased", person_id=str(person_id))
        return {"erased": 1}
    recipients = domain.resolve_recipients(body, trigger.recipients)
    if trigger.contact is not None and (mapped := domain.mapped_contact(body, trigger.contact.model_dump())):
        recipients.append(mapped)
    if not recipients:
        log.info("trigger names nobody to tell", routing_key=routing_key)
        return {}
    counts: dict[str, int] = {}
    for recipient in recipients:
        if recipient.is_snapshot and recipient.contact is not None:
            contact = await repo.project_contact(recipient.person_id, recipient.contact, envelope.occurred_at)
        else:
            contact = await repo.contact(recipient.person_id)
        if contact is not None and contact.get("erased"):
            counts["erased"] = counts.get("erased", 0) + 1
            continue  # nothing goes to an erased person
        if recipient.contact is not None:
            contact = {**(contact or {}), **recipient.contact}
        if contact is None or not (contact.get("email") or contact.get("phone")):
            if not redelivered:
                raise RecipientNotYetKnown(recipient.person_id)
            log.warning("recipient unknown to the contact projection", person_id=recipient.person_id)
            counts["unknown_recipient"] = counts.get("unknown_recipient", 0) + 1
            continue
        if trigger.message_type:
            cause = Cause(str(envelope.event_id), routing_key, envelope.correlation_id or str(envelope.event_id), {})
            made = await create_messages(
                deps, cause, trigger.message_type, recipient.person_id, contact,
                channels=trigger.channels, essential=trigger.essential, context={}, event=body,
                attachment_kinds=trigger.attachments,
            )
            for status, n in made.items():
                counts[status] = counts.get(status, 0) + n
        await _reminders(deps, trigger, envelope, body, recipient.person_id)
    return counts


async def _reminders(deps: Notification, trigger: Trigger, envelope: TriggerEnvelope, body: Mapping[str, Any],
                     person_id: str) -> None:
    repo = deps.repository
    for rule in trigger.reminders:
        key = domain.reminder_key(rule.key, body)
        anchor = (datetime.combine(deps.pack.forum.dates[0], datetime.min.time(), deps.pack.forum.tz)
                  if rule.anchor == "forum_start" else domain.parse_moment(domain.dig_any(body, rule.anchor)))
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
            {"key": key, "person_id": person_id, "message_type": rule.message_type, "anchor": anchor,
             "due_at": domain.reminder_due(anchor, rule.offset_hours), "event": _without_people(body, trigger),
             "correlation_id": envelope.correlation_id or str(envelope.event_id)},
            scheduled_by=str(envelope.event_id),
            event_at=envelope.occurred_at,
        )
    for template in trigger.cancel_reminders:
        key = domain.reminder_key(template, body)
        if key is not None:
            await repo.cancel_reminder(str(derive_id("reminder", key, person_id)), envelope.occurred_at)


def _without_people(body: Mapping[str, Any], trigger: Trigger) -> dict[str, Any]:
    """The event as a reminder keeps it: without the people it names (other people's contacts
    must not be copied into each person's reminder)."""
    paths = [*trigger.recipients]
    if trigger.contact is not None:
        paths += [p for p in (trigger.contact.email, trigger.contact.phone) if p]
    people = {alternative.split(".")[0] for path in paths for alternative in path.split("|") if alternative}
    return {key: value for key, value in body.items() if key not in people}


# --- reminders and campaigns (run by the scheduler) ------------------------------------------


async def fire_due_reminders(deps: Notification) -> int:
    """Turn every due reminder into messages, each exactly once (claimed atomically)."""
    repo, now = deps.repository, deps.clock()
    await repo.recover_reminders(now - timedelta(seconds=deps.claim_seconds))
    fired = 0
    while (reminder := await repo.claim_due_reminder(now)) is not None:
        contact = await repo.contact(reminder["person_id"])
        trigger_channels = ("email", "sms")
        current = reminder["anchor"] > now  # a reminder the service was down for past its anchor is dropped
        if current and contact and not contact.get("erased") and contact.get("status") not in ("cancelled", "rejected"):
            cause = Cause(f"{reminder['_id']}:{reminder['scheduled_by']}", f"reminder:{reminder['key']}",
                          reminder.get("correlation_id"), {"reminder_id": reminder["_id"]})
            await create_messages(
                deps, cause, reminder["message_type"], reminder["person_id"], contact,
                channels=trigger_channels, essential=False,
                context={"reminder": {"key": reminder["key"], "anchor": reminder["anchor"],
                                      "due_at": reminder["due_at"]}},
                event=reminder.get("event") or {},
            )
        await repo.finish_reminder(reminder["_id"], now)
        log.info("reminder fired", reminder_id=reminder["_id"], person_id=reminder["person_id"])
        fired += 1
    return fired


async def request_campaign(request: CampaignRequested, deps: Notification) -> bool:
    if request.forum_id != deps.pack.forum.id:
        raise InvalidMessage(f"forum_id: this service sends for the forum {deps.pack.forum.id!r}")
    deps.book.templates(request.message_type)  # an unknown template is refused now, not at send time
    created = await deps.repository.create_campaign({
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
    })
    log.info("campaign requested", campaign_id=request.campaign_id, created=created)
    return created


async def expand_campaigns(deps: Notification) -> int:
    """Create the next batch of each active campaign's messages (the batch size is the throttle)."""
    repo, made = deps.repository, 0
    for campaign in await repo.active_campaigns():
        contacts = await repo.segment(campaign["segment"], campaign.get("cursor"), deps.campaign_batch)
        counts: dict[str, int] = {}
        cause = Cause(f"campaign:{campaign['_id']}", "campaign.requested", campaign.get("correlation_id"),
                      {"campaign_id": campaign["_id"]})
        for contact in contacts:
            result = await create_messages(
                deps, cause, campaign["message_type"], contact["_id"], contact,
                channels=tuple(campaign["channels"]), essential=campaign["essential"],
                context={"campaign": {"subject": campaign["subject"], "body": campaign["body"]}}, event={},
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
        fields = {**document, "person_id": document["person_id"], "source_event_id": document["_id"]}
        await deps.queue.enqueue(_queued(document["_id"], fields, replays=-1))
        await deps.repository.touch(document["_id"], now)
    if stale:
        log.warning("stale messages queued again", count=len(stale))
    return len(stale)


async def replay(message_id: str, deps: Notification) -> dict[str, Any] | None:
    """Queue a failed or suppressed message again (the secretariat's decision)."""

    def decide(document: dict[str, Any] | None) -> Change | None:
        if document is None or document["status"] not in (domain.FAILED, domain.SUPPRESSED):
            return None
        if document["status"] == domain.SUPPRESSED and not document.get("to"):
            return None  # nothing was rendered: no address then
        replays = int(document.get("replays", 0)) + 1
        fields = {"status": domain.QUEUED, "attempts": 0, "replays": replays, "touched_at": deps.wall_clock(),
                  "last_error": None}
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


async def deliver(queued: NotificationQueued, deps: Notification) -> str:
    """One delivery attempt of one message, through the channel's providers in order."""
    repo, mid, now = deps.repository, str(queued.message_id), deps.wall_clock()
    claimed = await repo.claim(mid, now, now + timedelta(seconds=deps.claim_seconds))
    if claimed is None:
        document = await repo.get(mid)
        if document is None:
            raise InvalidMessage("message_id: no such message")
        # Sent, failed, waiting for its backoff (its copy is in a retry queue) or being sent by
        # another worker: this copy is a duplicate and is dropped. If that worker died mid-send,
        # the stale sweep queues the message again once its claim has expired.
        return "duplicate_" + document["status"]

    previous_status = domain.RETRYING if claimed.get("attempts") else domain.QUEUED

    outgoing = _outgoing(claimed)
    outcome = domain.AttemptOutcome()
    providers = deps.providers.get(claimed["channel"], [])
    for index, provider in enumerate(providers):
        if provider.limiter is not None and not provider.limiter.try_acquire():
            if index == 0:
                await repo.unclaim(mid, previous_status)
                await deps.queue.defer(queued, provider.limiter.wait_seconds())
                ATTEMPTS.labels(provider.name, "rate_limited").inc()
                return "rate_limited"
            outcome.errors.append((provider.name, "rate limited", False))
            continue
        try:
            outcome.provider_message_id = await provider.send(outgoing)
            outcome.provider = provider.name
            ATTEMPTS.labels(provider.name, "sent").inc()
            break
        except ProviderError as error:
            ATTEMPTS.labels(provider.name, "error").inc()
            outcome.errors.append((provider.name, error.reason, error.permanent))
            log.warning("provider failed", message_id=mid, provider=provider.name, reason=error.reason,
                        permanent=error.permanent)

    status, fields, delay = domain.after_attempt(claimed, outcome, deps.policy, deps.wall_clock())
    event = _result_event(mid, claimed, fields, status)

    def decide(current: dict[str, Any] | None) -> Change | None:
        if current is None or current.get("status") != domain.SENDING or current.get("claimed_at") != claimed["claimed_at"]:
            return None  # our claim expired and another worker took over: its result counts
        return Change(set=fields, events=[event] if event else [])

    await repo.messages.apply(mid, None, decide, current=claimed)
    if status == domain.RETRYING and delay is not None:
        await deps.queue.retry(queued, delay, fields["attempts"])
    if status != domain.RETRYING:
        MESSAGES.labels(claimed["channel"], status).inc()
    log.info("delivery attempt", message_id=mid, outcome=status, attempts=fields["attempts"],
             provider=outcome.provider)
    return status


def _result_event(mid: str, document: Mapping[str, Any], fields: Mapping[str, Any], status: str) -> Any:
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
        return NotificationSent(event_id=derive_id(mid, "sent"), provider=fields["provider"],
                                provider_message_id=str(fields["provider_message_id"])[:2000], **common)
    if status == domain.FAILED:
        return NotificationFailed(event_id=derive_id(mid, "failed", replays), reason=fields["last_error"], **common)
    return None
