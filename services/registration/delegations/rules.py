"""Delegations, free of I/O: who may hold a seat in a country's or an organisation's delegation.

A delegation document is its own quota ledger: `members` lists the participant ids holding one
of its `quota` seats, so "is there a seat?" and "take it" are one single-document write.
    nominate   adds a member while seats are free; refuses with a reason when the quota is used
    substitute replaces a member by another person in the same seat (the delegation never grows)
    withdraw   frees the member's seat
The focal point acts with a link token scoped to the delegation (`issue_focal_point_access`);
issuing a new one revokes every earlier one.
Membership makes every step idempotent: nominating a member again, or replaying a substitution
already made, changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from services.registration.access.rules import issue_time
from services.registration.documents import DelegationDocument
from services.registration.intake.rules import PRODUCER, problem
from shared import i18n
from shared.contracts.registration import (
    DelegationFocalPointAccessIssued,
    DelegationMemberNominated,
    DelegationMemberSubstituted,
    DelegationMemberWithdrawn,
    DelegationNominationRefused,
    DelegationRegistered,
    DelegationUpdated,
)
from shared.decisions import Change, Decision
from shared.pack import EventPack

# What the secretariat may set on a delegation; everything else is derived or kept by foro.
EDITABLE = ("name", "quota", "focal_point", "head_of_delegation_id")


def delegation_id(forum_id: str, code: str) -> str:
    return f"{forum_id}:{code}"


@dataclass(frozen=True)
class DelegationSpec:
    """What the secretariat sends to register or change a delegation (unset = keep / default)."""

    code: str
    name: str | None = None
    quota: int | None = None
    category: str | None = None
    country: str | None = None
    focal_point: dict[str, Any] | None = None
    head_of_delegation_id: str | None = None
    clear_head: bool = False


class DelegationRefused(Exception):
    """A delegation command that cannot be carried out, with reasons in es and en."""

    def __init__(
        self, code: str, message_es: str, message_en: str, field: str = "delegation"
    ) -> None:
        super().__init__(message_en)
        self.problem = problem(field, code, message_es, message_en)


def defaults(spec: DelegationSpec, pack: EventPack) -> dict[str, Any]:
    """The fields of a new delegation: a pack country gets its quota and the quota category."""
    quota_categories = [c.code for c in pack.categories if c.uses_delegation_quota]
    if len(spec.code) == 2:
        country = pack.country(spec.code)
        if country is None:
            raise DelegationRefused(
                "unknown_country",
                "El país no es miembro ni observador de este foro.",
                "The country is neither a member nor an observer of this forum.",
                "code",
            )
        category = spec.category or (quota_categories[0] if quota_categories else None)
        return {
            "kind": "country",
            "country": country.code,
            "name": spec.name or country.name.es,
            "quota": country.delegation_quota if spec.quota is None else spec.quota,
            "category": category,
        }
    if spec.quota is None or spec.category is None or not spec.name:
        raise DelegationRefused(
            "organisation_needs_details",
            "Una delegación de organización necesita nombre, categoría y cupo.",
            "An organisation's delegation needs a name, a category and a quota.",
        )
    return {
        "kind": "organisation",
        "country": spec.country,
        "name": spec.name,
        "quota": spec.quota,
        "category": spec.category,
    }


def register(
    document: DelegationDocument | None,
    doc_id: str,
    forum_id: str,
    spec: DelegationSpec,
    pack: EventPack,
    now: datetime,
) -> Change | None:
    """Create the delegation, or change what the secretariat may change; None when nothing changes."""
    if spec.category is not None and pack.category(spec.category) is None:
        raise DelegationRefused(
            "unknown_category",
            "La categoría no existe en este foro.",
            "The category does not exist in this forum.",
            "category",
        )
    if document is None:
        fields = {
            "forum_id": forum_id,
            "code": spec.code,
            **defaults(spec, pack),
            "members": [],
            "focal_point": spec.focal_point,
            "head_of_delegation_id": None,
            "created_at": now,
            "updated_at": now,
        }
        if fields["category"] is None:
            raise DelegationRefused(
                "no_quota_category",
                "El paquete del foro no tiene una categoría de delegación oficial.",
                "The forum's pack has no official-delegation category.",
                "category",
            )
        if spec.head_of_delegation_id is not None:
            raise _head_not_member()
        return Change(
            set=fields,
            events=[
                DelegationRegistered(
                    producer=PRODUCER,
                    delegation=DelegationDocument.model_validate(
                        {"_id": doc_id, **fields}
                    ).snapshot(),
                )
            ],
        )
    wanted: dict[str, Any] = {}
    if spec.name is not None:
        wanted["name"] = spec.name
    if spec.quota is not None:
        wanted["quota"] = spec.quota
    if spec.focal_point is not None:
        wanted["focal_point"] = spec.focal_point
    if spec.clear_head:
        wanted["head_of_delegation_id"] = None
    elif spec.head_of_delegation_id is not None:
        if spec.head_of_delegation_id not in document.members:
            raise _head_not_member()
        wanted["head_of_delegation_id"] = spec.head_of_delegation_id
    changed = [
        name for name in EDITABLE if name in wanted and getattr(document, name) != wanted[name]
    ]
    if not changed:
        return None
    fields = {name: wanted[name] for name in changed} | {"updated_at": now}
    return Change(
        set=fields,
        events=[
            DelegationUpdated(
                producer=PRODUCER,
                delegation=document.updated(fields).snapshot(),
                changed_fields=changed,
            )
        ],
    )


def _head_not_member() -> DelegationRefused:
    return DelegationRefused(
        "head_not_member",
        "La jefatura de la delegación debe ser uno de sus miembros.",
        "The head of delegation must be one of its members.",
        "head_of_delegation_id",
    )


def full_reason(document: DelegationDocument) -> DelegationRefused:
    quota = document.quota
    seats_es = i18n.plural(
        quota,
        {
            "one": "ocupada su única plaza",
            "other": f"ocupadas sus {i18n.number(quota, 'es')} plazas",
        },
        "es",
    )
    seats_en = i18n.plural(
        quota,
        {"one": "its only seat", "other": f"its {i18n.number(quota, 'en')} seats"},
        "en",
    )
    return DelegationRefused(
        "delegation_quota_full",
        f"La delegación «{document.name}» ya tiene {seats_es}; "
        "sustituya o retire a un miembro para nominar a otra persona.",
        f"The delegation “{document.name}” already fills {seats_en}; "
        "substitute or withdraw a member to nominate someone else.",
        "quota",
    )


Outcome = Literal["nominated", "already_member", "refused"]


def nominate(
    document: DelegationDocument,
    participant_id: str,
    now: datetime,
    nomination_id: str | None = None,
) -> tuple[Change | None, Outcome]:
    """Give the person a seat if one is free; a refusal is recorded as an event for the focal point.

    `nomination_id` is kept under `nominations[participant_id]`: the id of the sign-up the
    nomination makes, so that a retried call completes that very sign-up.
    """
    members = list(document.members)
    if participant_id in members:
        return None, "already_member"
    if len(members) >= document.quota:
        refused = DelegationNominationRefused(
            producer=PRODUCER,
            delegation_id=document.id,
            forum_id=document.forum_id,
            seats_used=len(members),
            quota=document.quota,
            reasons=[full_reason(document).problem],
        )
        return Change(events=[refused]), "refused"
    members.append(participant_id)
    fields: dict[str, Any] = {"members": members, "updated_at": now}
    if nomination_id is not None:
        fields["nominations"] = {**document.nominations, participant_id: nomination_id}
    return (
        Change(
            set=fields,
            events=[
                DelegationMemberNominated(
                    producer=PRODUCER,
                    delegation_id=document.id,
                    forum_id=document.forum_id,
                    participant_id=uuid.UUID(participant_id),
                    seats_used=len(members),
                    quota=document.quota,
                )
            ],
        ),
        "nominated",
    )


def claim_seat(
    document: DelegationDocument, participant_id: str, now: datetime
) -> tuple[Change | None, Outcome]:
    """Like `nominate`, for a sign-up the secretariat accredits: a refusal writes nothing."""
    change, outcome = nominate(document, participant_id, now)
    return (None if outcome == "refused" else change), outcome


def substitute(
    document: DelegationDocument,
    replaced_id: str,
    substitute_id: str,
    now: datetime,
    nomination_id: str | None = None,
) -> Change | None:
    """Put `substitute_id` in `replaced_id`'s seat; None if that was done already."""
    members = list(document.members)
    if substitute_id in members and document.substitutions.get(substitute_id) == replaced_id:
        return None  # done before: a replay of the same substitution
    if replaced_id not in members:
        raise DelegationRefused(
            "not_a_member",
            "La persona sustituida no es miembro de la delegación.",
            "The person being substituted is not a member of the delegation.",
            "replaced_participant_id",
        )
    if substitute_id in members:
        raise DelegationRefused(
            "already_member",
            "La persona sustituta ya es miembro de la delegación.",
            "The substitute is already a member of the delegation.",
            "email",
        )
    members[members.index(replaced_id)] = substitute_id
    fields: dict[str, Any] = {"members": members, "updated_at": now}
    if nomination_id is not None:
        fields["nominations"] = {**document.nominations, substitute_id: nomination_id}
    # Who replaced whom: a replay is recognised, and never cancels anyone outside the delegation.
    fields["substitutions"] = {**document.substitutions, substitute_id: replaced_id}
    if document.head_of_delegation_id == replaced_id:
        fields["head_of_delegation_id"] = substitute_id  # the substitute stands in for the head too
    return Change(
        set=fields,
        events=[
            DelegationMemberSubstituted(
                producer=PRODUCER,
                delegation_id=document.id,
                forum_id=document.forum_id,
                replaced_participant_id=uuid.UUID(replaced_id),
                participant_id=uuid.UUID(substitute_id),
                seats_used=len(members),
                quota=document.quota,
            )
        ],
    )


def withdraw(document: DelegationDocument, participant_id: str, now: datetime) -> Change | None:
    """Free the member's seat; None if they hold none."""
    members = list(document.members)
    if participant_id not in members:
        return None
    members.remove(participant_id)
    fields: dict[str, Any] = {"members": members, "updated_at": now}
    if document.head_of_delegation_id == participant_id:
        fields["head_of_delegation_id"] = None
    return Change(
        set=fields,
        events=[
            DelegationMemberWithdrawn(
                producer=PRODUCER,
                delegation_id=document.id,
                forum_id=document.forum_id,
                participant_id=uuid.UUID(participant_id),
                seats_used=len(members),
                quota=document.quota,
            )
        ],
    )


def focal_point_access_time(document: DelegationDocument, now: datetime) -> datetime:
    """When the focal point's new access may be signed: now, and a second after the previous
    one (`access.rules.issue_time`), so revoking every earlier one never catches it."""
    return issue_time(now, document.focal_point_access_issued_at)


def issue_focal_point_access(
    document: DelegationDocument, issued_at: datetime, token_id: str, expires_at: datetime
) -> Decision[bool]:
    """Record the focal point's new access, signed at `issued_at`, announced
    (`delegation.focal_point_access_issued`: its id and expiry). False, writing nothing, when
    another was issued at that time or later meanwhile (the caller signs again)."""
    previous = document.focal_point_access_issued_at
    if previous is not None and previous >= issued_at:
        return Decision(False)
    return Decision(
        True,
        Change(
            set={
                "focal_point_access_issued_at": issued_at,
                "focal_point_access_expires_at": expires_at,
            },
            events=[
                DelegationFocalPointAccessIssued(
                    producer=PRODUCER,
                    delegation_id=document.id,
                    forum_id=document.forum_id,
                    token_id=token_id,
                    issued_at=issued_at,
                    expires_at=expires_at,
                )
            ],
        ),
    )


def forget_contact(document: DelegationDocument, email: str, now: datetime) -> Change | None:
    """Erasure: drop the focal point's contact when it is the erased person's."""
    focal = document.focal_point or {}
    if focal.get("email") != email:
        return None
    fields = {"focal_point": None, "updated_at": now}
    return Change(
        set=fields,
        events=[
            DelegationUpdated(
                producer=PRODUCER,
                delegation=document.updated(fields).snapshot(),
                changed_fields=["focal_point"],
            )
        ],
    )
