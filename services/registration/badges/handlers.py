"""Badge use cases: keep each participant's badge in step with their registration; print badges.

`sync_badge` runs on every `registration.*` event registration publishes (its own `badges`
queue): a participant who became confirmed (and is accredited) gets a badge with a random token
id (`badge.issued`), one who stopped being so loses it (`badge.revoked`). The printed artwork is
made on request from the current document, so a corrected name needs no new token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import structlog
from pydantic import SecretStr

from services.registration.badges import rules as domain_badges
from services.registration.badges.render import (
    BadgeCard,
    Layout,
    forum_dates,
    render_pdf,
    render_png,
)
from services.registration.deps import Registration, on_participant
from services.registration.documents import ParticipantDocument
from shared.badges import new_token_id, sign_badge_token
from shared.contracts.envelope import FieldProblem

log = structlog.get_logger("foro.registration.badges")


class BadgeRefused(Exception):
    def __init__(self, problem: FieldProblem) -> None:
        super().__init__(problem.message_en)
        self.problem = problem


def needs_accreditation(deps: Registration, document: ParticipantDocument | None) -> bool:
    if document is None:
        return False
    category = deps.pack.category(document.category or "")
    return bool(category and category.requires_approval)


async def sync_badge(participant_id: str, deps: Registration) -> None:
    """Issue or revoke the participant's badge to match their current state; idempotent."""
    token_id = new_token_id()  # drawn once, outside the (possibly retried) decision
    # Idempotent by state (issue only without a badge, revoke only with one): no cause id is
    # recorded, so an event that changes nothing costs no write.
    applied = await deps.repository.participants.apply(
        participant_id,
        None,
        on_participant(
            lambda doc: domain_badges.sync(
                doc, needs_accreditation(deps, doc), token_id, deps.clock()
            )
        ),
    )
    for event in applied.events:
        log.info("badge changed", participant_id=participant_id, event_type=event.event_type)


async def ensure_badge(participant_id: str, deps: Registration) -> dict[str, Any]:
    """The participant's document with a live badge; BadgeRefused when they may not have one."""
    document = await deps.repository.get(participant_id)
    if document is not None and document.get("forum_id") != deps.pack.forum.id:
        document = None
    participant = ParticipantDocument.read(document)
    refused = domain_badges.badge_refusal(participant, needs_accreditation(deps, participant))
    if refused is not None:
        raise BadgeRefused(refused)
    assert document is not None
    if not document.get("badge"):
        await sync_badge(participant_id, deps)
        document = await deps.repository.get(participant_id) or document
        if not document.get("badge"):
            raise BadgeRefused(domain_badges.unknown_participant())  # erased meanwhile
    return document


def card(
    document: dict[str, Any], deps: Registration, secret: SecretStr, language: str = "es"
) -> BadgeCard:
    pack, forum = deps.pack, deps.pack.forum
    category = pack.category(document["category"])
    country = pack.country(document["country"])
    return BadgeCard(
        given_name=document["given_name"],
        family_name=document["family_name"],
        organisation=document.get("organisation"),
        country=country.name.get(language) if country else document["country"],
        category_es=category.name.es if category else document["category"],
        category_en=category.name.en if category else document["category"],
        colour=category.badge_colour if category else "#37474F",
        forum_name=forum.short_name.get(language),
        forum_dates=forum_dates(forum.start_date, forum.days, forum.venue.city, language),
        token=sign_badge_token(secret, forum.id, document["badge"]["token_id"]),
    )


async def badge_png(participant_id: str, deps: Registration, secret: SecretStr) -> bytes:
    document = await ensure_badge(participant_id, deps)
    # Drawing takes a fraction of a second: off the event loop, so consumers keep flowing.
    return await asyncio.to_thread(
        render_png, card(document, deps, secret, document.get("language", "es"))
    )


async def badge_sheet(
    participant_ids: Sequence[str], deps: Registration, secret: SecretStr, layout: Layout
) -> tuple[bytes, list[dict[str, str]]]:
    """A PDF of the badges of everyone in `participant_ids` who may have one; and who was skipped, why."""
    cards: list[BadgeCard] = []
    skipped: list[dict[str, str]] = []
    for participant_id in participant_ids:
        try:
            document = await ensure_badge(participant_id, deps)
        except BadgeRefused as refused:
            skipped.append({"participant_id": participant_id, "code": refused.problem.code})
            continue
        cards.append(card(document, deps, secret, document.get("language", "es")))
    return await asyncio.to_thread(render_pdf, cards, layout), skipped
