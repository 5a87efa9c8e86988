"""Campaigns' rules, free of I/O: who a campaign's segment reaches, and the campaign document a
request makes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.notification.documents import CampaignDocument, ContactDocument
from services.notification.domain import Cause
from services.notification.messages.rules import language_of
from shared.contracts.notification import CampaignRequested


def in_segment(contact: ContactDocument, segment: Mapping[str, Any]) -> bool:
    """The same rule as the repository's query, for one contact."""
    checks = (
        ("categories", contact.category),
        ("countries", contact.country),
        ("languages", language_of(contact, contact.language or "es")),
        ("statuses", contact.status),
    )
    return all(not segment.get(name) or value in segment[name] for name, value in checks)


def campaign_document(request: CampaignRequested, now: datetime) -> dict[str, Any]:
    """A new campaign, expanded from the start of its segment."""
    return {
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
        "created_at": now,
    }


def campaign_cause(campaign: CampaignDocument) -> Cause:
    """Every message of a campaign has it as its cause: one message per person and channel."""
    return Cause(
        f"campaign:{campaign.id}",
        "campaign.requested",
        campaign.correlation_id,
        {"campaign_id": campaign.id},
    )
