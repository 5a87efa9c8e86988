"""Messages: render what one cause tells one person, and store it once per channel.

Exactly one message per (cause, person, channel): the message document's id is derived from the
three, so a redelivered event, a reminder fired twice after a crash or a campaign expanded again
finds the document it made and creates nothing. A message is written ONCE: rendered, with its
status and — when it is delivered at once (`claim=True`, a trigger) — its claim, so the write
that creates it records the attempt; otherwise (reminders, campaigns) queued with the delivery
queue's work item in its outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from services.notification import attachments
from services.notification.deps import Notification
from services.notification.documents import ContactDocument, MessageDocument
from services.notification.domain import SUPPRESSED, Cause, message_id, stamp
from services.notification.messages.rules import language_of, new_message, plan_channels
from services.notification.metrics import MESSAGES
from shared.auth.tokens import LinkSigner


@dataclass
class Created:
    """What one cause made for one person: counts by status, and the messages claimed for an
    attempt that the caller begins now."""

    counts: dict[str, int] = field(default_factory=dict)
    claimed: list[MessageDocument] = field(default_factory=list)

    def add(self, more: Created) -> Created:
        for name, n in more.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        self.claimed += more.claimed
        return self


def _access_token(signer: LinkSigner | None, person_id: str) -> str | None:
    """The participant's personal code for participant-facing APIs (session sign-up, meetings,
    job applications): a party link that expires and is revoked like any other
    (`shared.auth.tokens.LinkSigner`). Minted here, where it is sent, so no token ever travels on
    the bus. Only a registration participant id (a UUID) gets one, not a programme person id."""
    if signer is None:
        return None
    try:
        uuid.UUID(person_id)
    except ValueError:
        return None
    return signer.participant(person_id).token


async def create_messages(
    deps: Notification,
    cause: Cause,
    message_type: str,
    person_id: str,
    contact: ContactDocument,
    *,
    channels: tuple[str, ...],
    essential: bool,
    context: Mapping[str, Any],
    event: Mapping[str, Any],
    attachment_kinds: tuple[str, ...] = (),
    claim: bool = False,
) -> Created:
    """Render and store the person's messages for one cause; idempotent."""
    book, now = deps.book, stamp(deps.wall_clock())
    channels = tuple(
        channel for channel in channels if deps.providers.get(channel)
    )  # none configured: not offered
    lang = book.language_for(message_type, language_of(contact, deps.pack.forum.default_language))
    values = {**context, "person": contact.person(), "event": event}
    if token := _access_token(deps.link_signer, person_id):
        values["access_token"] = token
    # Non-essential e-mails (campaigns, reminders) unsubscribe in one click (RFC 8058); essential
    # ones (confirmations, badges, accreditation decisions) offer no way out of themselves.
    headers: dict[str, str] = {}
    if not essential and deps.unsubscribe is not None:
        headers = deps.unsubscribe.headers(person_id)
        values["unsubscribe_url"] = deps.unsubscribe.url(person_id)
    plans = plan_channels(
        channels, contact, essential=essential, sms_template=book.has_sms(message_type, lang)
    )
    created = Created()
    until = now + timedelta(seconds=deps.lease_seconds) if claim else None
    for plan in plans:
        mid = message_id(cause.source_id, person_id, plan.channel)
        content: dict[str, Any] = {}
        if plan.address is not None and plan.channel == "email":
            rendered = book.render_email(message_type, lang, values)
            content = {
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
                "attachments": attachments.build(attachment_kinds, deps.pack, event, lang, now),
                "headers": headers,
            }
        elif plan.address is not None:
            content = {"text": book.render_sms(message_type, lang, values)}
        change = new_message(
            mid,
            cause,
            plan,
            message_type=message_type,
            person_id=person_id,
            language=lang,
            essential=essential,
            content=content,
            now=now,
            claim_until=until,
        )
        # One insert; None when it exists already (a redelivery): nothing more to do.
        applied = await deps.repository.messages.create(mid, None, change)
        if applied is None:
            continue
        status = change.set["status"]
        created.counts[status] = created.counts.get(status, 0) + 1
        if status == SUPPRESSED:
            MESSAGES.labels(plan.channel, "suppressed").inc()
        elif until is not None:
            created.claimed.append(MessageDocument.model_validate(applied.document))
    return created
