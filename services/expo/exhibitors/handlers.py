"""Exhibitors' use cases: an application, the secretariat's approval or rejection, a new access
token. Each is one write of the exhibitor document (with its events) through its store.

An exhibitor's access token is a link-signed JWT (`shared.auth.tokens.LinkSigner.exhibitor`:
role `exhibitor`, scoped to it, expiring after `FORO_PARTY_TOKEN_DAYS`), shown once; the
document keeps its id and expiry only. A new one revokes every earlier one (`revoke_subject`:
only expo accepts them, so the revocation is expo's own, without an event).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import structlog

from services.expo.common import Refused, refused
from services.expo.deps import Expo, on
from services.expo.documents import ExhibitorAccess, ExhibitorDocument
from services.expo.exhibitors import rules
from services.expo.schemas import ExhibitorApplication
from shared.auth.tokens import LinkSigner, SignedToken, party_subject

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


def link_signer(deps: Expo) -> LinkSigner:
    """What signs exhibitors' access; 503 while no link secret is configured (nothing is
    approved or rotated then, so no access is lost)."""
    signer = deps.settings.link_signer()
    if signer is None:
        raise refused(
            503,
            "link_secret_missing",
            "No se pueden emitir accesos de expositor: falta configurar "
            "FORO_PARTICIPANT_TOKEN_SECRET.",
            "Exhibitor access cannot be issued: FORO_PARTICIPANT_TOKEN_SECRET is not configured.",
        )
    return signer


def _access(signed: SignedToken, issued_at: datetime) -> ExhibitorAccess:
    return ExhibitorAccess(token_id=signed.jti, issued_at=issued_at, expires_at=signed.expires_at)


async def approve_exhibitor(exhibitor_id: str, deps: Expo) -> tuple[dict[str, Any], SignedToken]:
    """Approve; returns the exhibitor and its access token (shown once; its id is stored).
    Staff sign-ups for registration are written in the same document write as the approval."""
    signer, now = link_signer(deps), deps.clock()
    issued_at = now.replace(microsecond=0)  # what the token's `iat` says
    signed = signer.exhibitor(exhibitor_id, now=issued_at)
    with_staff = deps.pack.category(rules.STAFF_CATEGORY) is not None
    applied = await deps.repository.exhibitors.apply(
        exhibitor_id,
        None,
        on(
            ExhibitorDocument,
            partial(
                rules.approve,
                access=_access(signed, issued_at),
                with_staff=with_staff,
                now=now,
            ),
        ),
    )
    log.info(
        "exhibitor approved",
        exhibitor_id=exhibitor_id,
        token_id=signed.jti,
        staff=len((applied.document or {}).get("staff", [])),
    )
    return applied.document or {}, signed


async def reject_exhibitor(exhibitor_id: str, reason: str, deps: Expo) -> dict[str, Any]:
    applied = await deps.repository.exhibitors.apply(
        exhibitor_id,
        None,
        on(ExhibitorDocument, partial(rules.reject, reason=reason, now=deps.clock())),
    )
    return applied.document or {}


async def rotate_access(exhibitor_id: str, deps: Expo) -> SignedToken:
    """A new access token for an approved exhibitor; every earlier one is refused from now on
    (this replica at once, the others within their revocations' refresh). The revocation is
    recorded before the new token is signed, so a failure leaves the old tokens refused rather
    than alive; the secretariat rotates again."""
    signer, now = link_signer(deps), deps.clock()
    document = ExhibitorDocument.read(await deps.repository.exhibitor(exhibitor_id))
    rotation = rules.plan_rotation(document, now, signer.lifetime)
    await deps.revoke_subject(
        party_subject("exhibitor", exhibitor_id), rotation.revoke_before, rotation.keep_until
    )
    signed = signer.exhibitor(exhibitor_id, now=rotation.issue_at)
    await deps.repository.exhibitors.apply(
        exhibitor_id,
        None,
        on(
            ExhibitorDocument,
            partial(
                rules.replace_access,
                access=_access(signed, rotation.issue_at),
                replacing=rotation.replacing,
                now=now,
            ),
        ),
    )
    log.info(
        "exhibitor access rotated",
        exhibitor_id=exhibitor_id,
        token_id=signed.jti,
        revoked=rotation.replacing,
    )
    return signed
