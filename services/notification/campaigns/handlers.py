"""Campaigns: the secretariat's information campaigns, expanded a batch of recipients per
scheduler pass (the batch size is the throttle); their messages are queued for the delivery
workers. Non-essential: opted-out people get a `suppressed` record, no message."""

from __future__ import annotations

import structlog

from services.notification.campaigns.rules import campaign_cause, campaign_document
from services.notification.deps import Notification
from services.notification.documents import CampaignDocument, ContactDocument
from services.notification.messages.handlers import Created, create_messages
from shared.contracts.notification import CampaignRequested
from shared.errors import InvalidMessage

log = structlog.get_logger("foro.notification")


async def request_campaign(request: CampaignRequested, deps: Notification) -> bool:
    if request.forum_id != deps.pack.forum.id:
        raise InvalidMessage(f"forum_id: this service sends for the forum {deps.pack.forum.id!r}")
    deps.book.templates(request.message_type)  # an unknown template is refused now, not at send
    created = await deps.repository.create_campaign(campaign_document(request, deps.wall_clock()))
    log.info("campaign requested", campaign_id=request.campaign_id, created=created)
    return created


async def expand_campaigns(deps: Notification) -> int:
    """Create the next batch of each active campaign's messages."""
    repo, made = deps.repository, 0
    for stored in await repo.active_campaigns():
        campaign = CampaignDocument.model_validate(stored)
        contacts = await repo.segment(campaign.segment, campaign.cursor, deps.campaign_batch)
        created = Created()
        for found in contacts:
            contact = ContactDocument.model_validate(found)
            created.add(
                await create_messages(
                    deps,
                    campaign_cause(campaign),
                    campaign.message_type,
                    contact.id,
                    contact,
                    channels=campaign.channels,
                    essential=campaign.essential,
                    context={"campaign": {"subject": campaign.subject, "body": campaign.body}},
                    event={},
                )
            )
            made += 1
        cursor = contacts[-1]["_id"] if contacts else campaign.cursor
        done = len(contacts) < deps.campaign_batch
        await repo.advance_campaign(campaign.id, cursor, created.counts, done, deps.wall_clock())
        if done:
            log.info("campaign expanded", campaign_id=campaign.id)
    return made
