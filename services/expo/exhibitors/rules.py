"""Exhibitors' rules: where an exhibitor belongs, what makes an application valid, and what an
application, an approval, a rejection and a new access token change. Pure: no I/O.

    (new) ─► applied ─► approved ─► (booth assigned, see booths)
                    └─► rejected
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from services.expo.common import Refused, new_event, not_found_exhibitor, problem, refused
from services.expo.documents import ExhibitorAccess, ExhibitorDocument
from shared.contracts.envelope import Event, FieldProblem, derive_id
from shared.contracts.expo import (
    ExhibitorAccessIssued,
    ExhibitorApplied,
    ExhibitorApproved,
    ExhibitorRejected,
)
from shared.contracts.registration import Consents, RegistrationSubmitted
from shared.decisions import Change
from shared.pack import EventPack

STAFF_CATEGORY = "exhibitor_staff"


def exhibitor_id_for(forum_id: str, application_id: str) -> str:
    return str(derive_id(forum_id, "exhibitor", application_id))


def exhibitor_zone(pack: EventPack, exhibitor_type: str, sector: str | None) -> str:
    """The zone an exhibitor belongs to: its sector's zone for types that use sectors, else its
    type's zone."""
    kind = pack.exhibitor_type(exhibitor_type)
    if kind is None:
        raise ValueError(f"unknown exhibitor type {exhibitor_type!r}")
    if kind.uses_sectors and sector:
        found = pack.sector(sector)
        if found is not None:
            return found.zone
    return kind.zone


def application_problems(
    pack: EventPack,
    *,
    exhibitor_type: str,
    sector: str | None,
    preferences: Sequence[str],
    staff: int,
) -> list[FieldProblem]:
    """Why an application cannot be recorded; empty when it can."""
    problems: list[FieldProblem] = []
    kind = pack.exhibitor_type(exhibitor_type)
    if kind is None:
        codes = ", ".join(t.code for t in pack.exhibitor_types)
        problems.append(
            problem(
                "exhibitor_type",
                "unknown_exhibitor_type",
                f"Tipo de expositor desconocido; use uno de: {codes}.",
                f"Unknown exhibitor type; use one of: {codes}.",
            )
        )
    elif kind.uses_sectors:
        if sector is None or pack.sector(sector) is None:
            codes = ", ".join(s.code for s in pack.sectors)
            problems.append(
                problem(
                    "sector",
                    "sector_required",
                    f"Las empresas deben indicar su sector: {codes}.",
                    f"Companies must state their sector: {codes}.",
                )
            )
    elif sector is not None:
        problems.append(
            problem(
                "sector",
                "sector_not_applicable",
                "Solo las empresas indican un sector.",
                "Only companies state a sector.",
            )
        )
    if kind is not None and kind.code == "job_fair_employer" and not pack.job_fair.enabled:
        problems.append(
            problem(
                "exhibitor_type",
                "job_fair_closed",
                "Este foro no tiene bolsa de trabajo.",
                "This forum has no job fair.",
            )
        )
    for index, code in enumerate(preferences):
        if pack.booth(code) is None:
            problems.append(
                problem(
                    f"booth_preferences[{index}]",
                    "unknown_booth",
                    f"El stand {code} no existe en el plano.",
                    f"Booth {code} is not on the floor plan.",
                )
            )
    if staff > 10:
        problems.append(
            problem(
                "staff",
                "too_many_staff",
                "Un expositor registra como máximo 10 personas.",
                "An exhibitor registers at most 10 staff.",
            )
        )
    return problems


def staff_consent_problem() -> FieldProblem:
    return problem(
        "staff_consented",
        "staff_consent_required",
        "Confirme que su personal aceptó la política de privacidad del foro.",
        "Confirm that your staff accepted the forum's privacy policy.",
    )


def _payload(document: ExhibitorDocument) -> dict[str, Any]:
    return {
        "forum_id": document.forum_id,
        "exhibitor_id": document.id,
        "name": document.name,
        "exhibitor_type": document.exhibitor_type,
        "sector": document.sector,
        "zone": document.zone,
        "language": document.language,
    }


def _already_decided(document: ExhibitorDocument) -> Refused:
    return refused(
        409,
        "already_decided",
        f"La solicitud ya está en estado «{document.status}».",
        f"The application is already {document.status}.",
    )


def record_application(
    document: ExhibitorDocument | None, exhibitor_id: str, fields: dict[str, Any], now: datetime
) -> Change:
    """A new application (with `exhibitor.applied`), or a correction while it waits."""
    if document is None:
        new = {**fields, "status": "applied", "applied_at": now, "booth": None}
        created = ExhibitorDocument.model_validate({"_id": exhibitor_id, **new})
        event = new_event(
            ExhibitorApplied,
            exhibitor_id,
            **_payload(created),
            staff_count=len(created.staff),
        )
        return Change(set=new, events=[event])
    if document.status != "applied":
        raise refused(
            409,
            "already_decided",
            "La secretaría ya resolvió esta solicitud.",
            "The secretariat has already decided on this application.",
        )
    return Change(set=fields)


def approve(
    document: ExhibitorDocument | None, access: ExhibitorAccess, with_staff: bool, now: datetime
) -> Change:
    """Approved with its first access token (`access`, by id), with `exhibitor.approved` and
    (`with_staff`) one sign-up per staff member for registration, in the same write."""
    if document is None:
        raise not_found_exhibitor()
    if document.status != "applied":
        raise _already_decided(document)
    events: list[Event] = [
        new_event(
            ExhibitorApproved,
            document.id,
            **_payload(document),
            contact_email=document.contact.email,
            staff_count=len(document.staff),
        )
    ]
    events.append(access_issued(document, access, replacing=None))
    if with_staff:
        events += staff_signups(document)
    return Change(
        set={
            "status": "approved",
            "approved_at": now,
            "access": access.model_dump(),
            "updated_at": now,
        },
        events=events,
    )


def staff_signups(document: ExhibitorDocument) -> list[RegistrationSubmitted]:
    """One `registration.submitted` per staff member, with ids derived from the exhibitor and the
    person, so a repeated approval write publishes the same events and registration dedups them."""
    signups = []
    for index, member in enumerate(document.staff):
        event_id = derive_id(document.id, "staff", member.email)
        signups.append(
            RegistrationSubmitted(
                event_id=event_id,
                producer="expo",
                correlation_id=str(derive_id(ExhibitorApproved.type_name(), document.id)),
                forum_id=document.forum_id,
                submission_id=f"expo:{document.id}:{index}",
                category=STAFF_CATEGORY,
                given_name=member.given_name,
                family_name=member.family_name,
                email=member.email,
                phone=member.phone,
                organisation=document.name[:200],
                job_title=member.job_title,
                country=document.country,
                language=member.language,
                consents=Consents(privacy_policy=True),
            )
        )
    return signups


def reject(document: ExhibitorDocument | None, reason: str, now: datetime) -> Change | None:
    if document is None:
        raise not_found_exhibitor()
    if document.status == "rejected" and document.rejection_reason == reason:
        return None
    if document.status != "applied":
        raise _already_decided(document)
    event = new_event(
        ExhibitorRejected,
        document.id,
        **_payload(document),
        contact_email=document.contact.email,
        reason=reason,
    )
    return Change(
        set={"status": "rejected", "rejection_reason": reason, "updated_at": now}, events=[event]
    )


def _approved(document: ExhibitorDocument | None) -> ExhibitorDocument:
    if document is None or document.status != "approved":
        raise refused(
            404,
            "not_found",
            "No hay expositor aprobado con ese id.",
            "No approved exhibitor has that id.",
        )
    return document


class Rotation(NamedTuple):
    """How a new access token replaces an exhibitor's others (`plan_rotation`)."""

    revoke_before: datetime  # every token of the exhibitor issued up to this time is revoked
    keep_until: datetime  # … and the revocation is kept until they have all expired
    issue_at: datetime  # the new token's issue time, after the cut
    replacing: str | None  # the current token's id, which the write expects to find


def plan_rotation(
    document: ExhibitorDocument | None, now: datetime, lifetime: timedelta
) -> Rotation:
    """A new access token for an approved exhibitor (404 otherwise). Tokens carry whole seconds,
    so the new one is issued the second after the cut — after the current token's issue time,
    should that be later (two rotations in one second) — and no older token passes for it."""
    current = _approved(document).access
    cut = now.replace(microsecond=0)
    keep_until = cut + lifetime
    if current is not None:
        cut = max(cut, current.issued_at)
        keep_until = max(keep_until, current.expires_at)
    return Rotation(
        revoke_before=cut,
        keep_until=keep_until,
        issue_at=cut + timedelta(seconds=1),
        replacing=current.token_id if current is not None else None,
    )


def replace_access(
    document: ExhibitorDocument | None,
    access: ExhibitorAccess,
    replacing: str | None,
    now: datetime,
) -> Change:
    """The exhibitor's new access token (by id), in place of `replacing` (the token id read
    before the older ones were revoked); 409 when another rotation replaced it meanwhile, so
    the token that lost the race is never handed out."""
    current = _approved(document).access
    if (current.token_id if current is not None else None) != replacing:
        raise refused(
            409,
            "access_rotated_meanwhile",
            "Otra persona acaba de emitir un nuevo acceso para este expositor; inténtelo de nuevo.",
            "Someone else has just issued a new access for this exhibitor; try again.",
        )
    return Change(
        set={"access": access.model_dump(), "updated_at": now},
        events=[access_issued(_approved(document), access, replacing=replacing)],
    )


def access_issued(
    document: ExhibitorDocument, access: ExhibitorAccess, replacing: str | None
) -> ExhibitorAccessIssued:
    """`exhibitor.access_issued` for the audit trail: whose access, which token, which one it
    replaces (its id derived from the new token's, so a retried write publishes it once)."""
    return new_event(
        ExhibitorAccessIssued,
        document.id,
        access.token_id,
        forum_id=document.forum_id,
        exhibitor_id=document.id,
        token_id=access.token_id,
        replaced_token_id=replacing,
        expires_at=access.expires_at,
    )
