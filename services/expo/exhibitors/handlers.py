"""Exhibitors' use cases: an application, the secretariat's approval or rejection, a new access
token. Each is one write of the exhibitor document (with its events) through its store."""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

import structlog

from services.expo.common import Refused
from services.expo.deps import Expo, on
from services.expo.documents import ExhibitorDocument
from services.expo.exhibitors import rules
from services.expo.schemas import ExhibitorApplication

log = structlog.get_logger("foro.expo")


async def submit_application(application: ExhibitorApplication, deps: Expo) -> dict[str, Any]:
    pack, now = deps.pack, deps.clock()
    problems = rules.application_problems(
        pack,
        exhibitor_type=application.exhibitor_type,
        sector=application.sector,
        preferences=application.booth_preferences,
        staff=len(application.staff),
    )
    if application.staff and not application.staff_consented:
        problems.append(rules.staff_consent_problem())
    if problems:
        raise Refused(422, problems=problems)
    exhibitor_id = rules.exhibitor_id_for(pack.forum.id, application.application_id)
    fields = {
        "forum_id": pack.forum.id,
        "application_id": application.application_id,
        "name": application.name,
        "exhibitor_type": application.exhibitor_type,
        "sector": application.sector,
        "zone": rules.exhibitor_zone(pack, application.exhibitor_type, application.sector),
        "country": application.country,
        "language": application.language,
        "description": application.description,
        "contact": application.contact.model_dump(),
        "staff": [s.model_dump() for s in application.staff],
        "tier": application.tier,
        "booth_preferences": list(application.booth_preferences),
        "updated_at": now,
    }
    applied = await deps.repository.exhibitors.apply(
        exhibitor_id,
        None,
        on(
            ExhibitorDocument,
            partial(rules.record_application, exhibitor_id=exhibitor_id, fields=fields, now=now),
        ),
    )
    log.info("exhibitor application recorded", exhibitor_id=exhibitor_id)
    return applied.document or {}


async def approve_exhibitor(exhibitor_id: str, deps: Expo) -> tuple[dict[str, Any], str]:
    """Approve; returns the exhibitor and its access token (shown once, stored as a hash).
    Staff sign-ups for registration are written in the same document write as the approval."""
    now, token = deps.clock(), secrets.token_urlsafe(32)
    with_staff = deps.pack.category(rules.STAFF_CATEGORY) is not None
    applied = await deps.repository.exhibitors.apply(
        exhibitor_id,
        None,
        on(
            ExhibitorDocument,
            partial(
                rules.approve, token_hash=rules.hash_token(token), with_staff=with_staff, now=now
            ),
        ),
    )
    log.info(
        "exhibitor approved",
        exhibitor_id=exhibitor_id,
        staff=len((applied.document or {}).get("staff", [])),
    )
    return applied.document or {}, token


async def reject_exhibitor(exhibitor_id: str, reason: str, deps: Expo) -> dict[str, Any]:
    applied = await deps.repository.exhibitors.apply(
        exhibitor_id,
        None,
        on(ExhibitorDocument, partial(rules.reject, reason=reason, now=deps.clock())),
    )
    return applied.document or {}


async def rotate_token(exhibitor_id: str, deps: Expo) -> str:
    token = secrets.token_urlsafe(32)
    await deps.repository.exhibitors.apply(
        exhibitor_id,
        None,
        on(ExhibitorDocument, partial(rules.rotate_token, token_hash=rules.hash_token(token))),
    )
    return token
