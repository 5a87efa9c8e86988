"""Leads' use cases: an exhibitor scans an attendee's badge; consent withdrawn or an erasure
wipes the contact from every lead of the person.

A scan costs the token's lookup in the attendee projection and one write: the first scan of a
person by an exhibitor inserts the lead (`AggregateStore.create`, with `lead.captured`); a later
one merges into it with one atomic update (`ExpoRepository.merge_scan`), no read first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from services.expo.common import explain
from services.expo.deps import Expo, on
from services.expo.documents import AttendeeDocument, LeadDocument
from services.expo.leads import rules
from shared.badges import BadgeTokenRefused, verify_badge_token
from shared.contracts.expo import Explanation


@dataclass
class ScanAnswer:
    stored: bool
    explanation: Explanation
    lead_id: str | None = None
    merged: bool = False
    scans: int = 0


async def resolve_scan(deps: Expo, code: str) -> tuple[AttendeeDocument | None, Explanation | None]:
    """Who a scanned code names. A signed badge token (`<payload>.<signature>`) is verified with
    the shared badge secret, then its token id looked up in the projection of `badge.issued`
    (revoked tokens are gone from it); a bare token id is looked up the same way; a participant
    id is accepted when the settings allow it."""
    repo = deps.repository
    code = code.strip()
    if "." in code:
        secrets_ = deps.settings.badge_verification_secrets()
        if not secrets_:
            return None, explain(
                "badge_unverifiable",
                "Expo no tiene configurada la clave de las credenciales.",
                "Expo has no badge secret configured to verify this badge.",
            )
        try:
            token = verify_badge_token(secrets_, code, forum_id=deps.pack.forum.id)
        except BadgeTokenRefused as refusal:
            return None, explain(refusal.code, refusal.message_es, refusal.message_en)
        return AttendeeDocument.read(await repo.attendee_by_token(token.token_id)), None
    if deps.settings.accept_participant_id_scans:
        try:
            participant_id = str(uuid.UUID(code))
        except ValueError:
            pass
        else:
            return AttendeeDocument.read(await repo.attendee(participant_id)), None
    return AttendeeDocument.read(await repo.attendee_by_token(code)), None


async def scan_badge(deps: Expo, exhibitor_id: str, code: str, note: str | None) -> ScanAnswer:
    repo, now = deps.repository, deps.clock()
    attendee, why_not = await resolve_scan(deps, code)
    why_not = why_not or rules.scan_refusal(attendee)
    if why_not is not None or attendee is None:
        assert why_not is not None
        return ScanAnswer(False, why_not)
    lead_id, first = rules.captured(deps.pack.forum.id, exhibitor_id, attendee, note, now)
    if await repo.leads.create(lead_id, None, first) is not None:
        return ScanAnswer(True, rules.CAPTURED, lead_id, False, 1)
    merged = await repo.merge_scan(lead_id, rules.contact_of(attendee), note, now, rules.NOTES_KEPT)
    return ScanAnswer(True, rules.MERGED, lead_id, True, LeadDocument.model_validate(merged).scans)


async def wipe_leads(deps: Expo, participant_id: str, cause: str, flags: dict[str, Any]) -> None:
    repo = deps.repository
    for lead_id in await repo.lead_ids_of_participant(participant_id):
        await repo.leads.apply(lead_id, cause, on(LeadDocument, partial(rules.wiped, flags=flags)))
