"""The secretariat's and focal points' HTTP API for delegations: register and change them, their
focal point's access, their members, accrediting and printing a whole delegation.

Every route requires a permission (`shared.auth.require`). A delegation's focal point acts with
the access the secretariat issued (`POST /delegations/{code}/focal-point-key`: a link token of
role `focal_point`, scoped to the delegation): it reads its own delegation and manages its
members (`delegations:read`, `delegations:members`), and any other delegation answers 403
(`Principal.require_delegation`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.registration.access.api import AccessTokenView, link_signer
from services.registration.accreditation import handlers as accreditation
from services.registration.accreditation.api import DecisionView
from services.registration.badges import handlers as badges
from services.registration.badges.api import badge_secret
from services.registration.delegations import handlers as delegations
from services.registration.delegations import rules as delegation_rules
from services.registration.deps import Deps, Registration, Settings
from services.registration.documents import DelegationDocument
from services.registration.responses import PDF, refusal, responses, sheet_headers
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.auth.revocations import revoke_subject_here
from shared.contracts.envelope import FieldProblem
from shared.contracts.registration import (
    Consents,
    CountryCode,
    DelegationCode,
    Email,
    FocalPoint,
    JobTitle,
    Name,
    Organisation,
    Phone,
    SingleLineText,
)

router = APIRouter(prefix="/delegations", tags=["delegations"])


class DelegationBody(BaseModel):
    """Register a delegation, or change it (fields left out keep their value)."""

    model_config = ConfigDict(extra="forbid")
    name: SingleLineText | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Name on badges; a country's name by default.",
        examples=["Delegación de El Salvador"],
    )
    quota: int | None = Field(
        None,
        ge=0,
        le=500,
        description="Seats; a country's `delegation_quota` from the pack by default.",
        examples=[10],
    )
    category: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="Members' category; the pack's delegation-quota category by default.",
        examples=["official_delegate"],
    )
    country: CountryCode | None = Field(
        None, description="An organisation's country (country delegations: the code)."
    )
    focal_point: FocalPoint | None = None
    head_of_delegation_id: uuid.UUID | None = Field(
        None, description="A member who heads the delegation."
    )
    clear_head: bool = Field(False, description="Remove the head of delegation.")


class DelegationView(BaseModel):
    delegation_id: str
    code: str
    kind: Literal["country", "organisation"]
    name: str
    country: str | None
    category: str
    quota: int
    seats_used: int
    members: list[str]
    head_of_delegation_id: str | None
    focal_point: FocalPoint | None
    focal_point_access_issued_at: datetime | None = Field(
        description="When the focal point's current access was issued; null: never."
    )
    focal_point_access_expires_at: datetime | None = Field(
        description="When the focal point's current access expires."
    )

    @classmethod
    def of(cls, document: DelegationDocument) -> DelegationView:
        return cls(
            delegation_id=document.id,
            code=document.code,
            kind=document.kind,
            name=document.name,
            country=document.country,
            category=document.category,
            quota=document.quota,
            seats_used=len(document.members),
            members=list(document.members),
            head_of_delegation_id=document.head_of_delegation_id,
            focal_point=document.focal_point,
            focal_point_access_issued_at=document.focal_point_access_issued_at,
            focal_point_access_expires_at=document.focal_point_access_expires_at,
        )


class NomineeBody(BaseModel):
    """The person a focal point nominates. Category, country and organisation come from the delegation."""

    model_config = ConfigDict(extra="forbid")
    given_name: Name = Field(examples=["Ana"])
    family_name: Name = Field(examples=["López"])
    email: Email
    phone: Phone | None = None
    job_title: JobTitle | None = Field(None, examples=["Viceministra"])
    organisation: Organisation | None = Field(
        None,
        description="Ministry or agency; the delegation's name by default.",
        examples=["Ministerio de Relaciones Exteriores"],
    )
    country: CountryCode | None = Field(None, description="Only for organisations' delegations.")
    language: Literal["es", "en"] = "es"
    consents: Consents

    def nominee(self) -> delegations.Nominee:
        return delegations.Nominee(**self.model_dump(exclude={"consents"}), consents=self.consents)


class MemberView(BaseModel):
    outcome: Literal["nominated", "already_member", "substituted", "withdrawn"]
    participant_id: str | None
    status: str | None = Field(
        None, description="The participant's registration status after the command."
    )


class DelegationMemberView(BaseModel):
    """A member as their focal point sees them: who, and where their registration stands."""

    participant_id: str
    given_name: str | None = Field(description="Null once the person's data is erased.")
    family_name: str | None
    job_title: str | None
    category: str | None
    status: str | None = Field(
        description="Registration status (`pending_approval`, `confirmed`, `rejected`, "
        "`cancelled`, …); null when the member's record is gone."
    )
    head_of_delegation: bool
    badge_issued: bool
    checked_in_days: list[str] = Field(description="Venue-local dates (ISO 8601) checked in.")
    rejection_reasons: list[FieldProblem] = Field(
        description="Why the accreditation or sign-up was refused, in Spanish and English."
    )


class DelegationAccreditationView(BaseModel):
    approved: list[DecisionView]
    refused: list[dict[str, Any]]


def allowed(permission: Permission) -> list[Any]:
    """A route's `dependencies`: staff holding `permission`."""
    return [Depends(require(permission))]


Reader = Annotated[Principal, Depends(require(Permission.DELEGATIONS_READ))]
MembersManager = Annotated[Principal, Depends(require(Permission.DELEGATION_MEMBERS))]


async def a_delegation(code: str, deps: Registration) -> DelegationDocument:
    try:
        return await delegations.delegation(code, deps)
    except delegations.DelegationNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="delegation not found") from None


@router.get(
    "",
    response_model=list[DelegationView],
    summary="List delegations",
    responses=responses(401, 403),
    description="Every delegation; a focal point sees their own only.",
)
async def list_delegations(deps: Deps, principal: Reader) -> list[DelegationView]:
    documents = [
        DelegationDocument.model_validate(d)
        for d in await deps.repository.list_delegations(deps.pack.forum.id)
    ]
    return [
        DelegationView.of(document)
        for document in documents
        if principal.delegation is None or document.code == principal.delegation
    ]


@router.put(
    "/{code}",
    response_model=DelegationView,
    summary="Register or change a delegation",
    dependencies=allowed(Permission.DELEGATIONS_MANAGE),
    responses=responses(401, 409),
    description=(
        "`code` is a member or observer country of the event pack (`SV`: quota and category from the "
        "pack unless given) or an organisation's slug (`oim`: name, category and quota required). "
        "Publishes `delegation.registered` or `delegation.updated`; nothing when nothing changes."
    ),
)
async def put_delegation(
    code: DelegationCode, body: DelegationBody, response: Response, deps: Deps
) -> DelegationView:
    spec = delegation_rules.DelegationSpec(
        code=code,
        name=body.name,
        quota=body.quota,
        category=body.category,
        country=body.country,
        focal_point=body.focal_point.model_dump() if body.focal_point else None,
        head_of_delegation_id=str(body.head_of_delegation_id)
        if body.head_of_delegation_id
        else None,
        clear_head=body.clear_head,
    )
    existed = await deps.repository.get_delegation(
        delegation_rules.delegation_id(deps.pack.forum.id, code)
    )
    try:
        document, _ = await delegations.register_delegation(spec, deps)
    except delegation_rules.DelegationRefused as refused:
        raise refusal(refused.problem) from None
    response.status_code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
    return DelegationView.of(document)


@router.get(
    "/{code}",
    response_model=DelegationView,
    summary="One delegation",
    responses=responses(401, 403, 404),
    description="A focal point reads their own delegation only (another: 403).",
)
async def get_delegation(code: DelegationCode, deps: Deps, principal: Reader) -> DelegationView:
    principal.require_delegation(code)
    return DelegationView.of(await a_delegation(code, deps))


@router.get(
    "/{code}/members",
    response_model=list[DelegationMemberView],
    summary="The delegation's members and their status",
    responses=responses(401, 403, 404),
    description="Each member in the delegation's order: name, job title, registration status, "
    "whether a badge is issued, the days checked in and any refusal's reasons. No contact "
    "details. A focal point reads their own delegation only (another: 403).",
)
async def delegation_members(
    code: DelegationCode, deps: Deps, principal: Reader
) -> list[DelegationMemberView]:
    principal.require_delegation(code)
    document = await a_delegation(code, deps)
    found = await deps.repository.members(list(document.members)) if document.members else {}
    members = []
    for participant_id in document.members:
        member = found.get(participant_id, {})
        erased = bool(member.get("erased"))
        members.append(
            DelegationMemberView(
                participant_id=participant_id,
                given_name=None if erased else member.get("given_name"),
                family_name=None if erased else member.get("family_name"),
                job_title=None if erased else member.get("job_title"),
                category=member.get("category"),
                status=member.get("status"),
                head_of_delegation=participant_id == document.head_of_delegation_id,
                badge_issued=bool((member.get("badge") or {}).get("issued_at")),
                checked_in_days=sorted({c["day"] for c in member.get("checkins") or []}),
                rejection_reasons=member.get("rejection_reasons") or [],
            )
        )
    return members


@router.post(
    "/{code}/focal-point-key",
    response_model=AccessTokenView,
    summary="Issue the focal point's access",
    dependencies=allowed(Permission.DELEGATIONS_MANAGE),
    responses=responses(401, 403, 404, 503),
    description="Returns the focal point's new access token (shown once; every earlier one of "
    "the delegation stops working at once). The focal point sends it as `Authorization: Bearer "
    "…` to read the delegation and manage its members, and nothing else, until it expires "
    "(FORO_PARTY_TOKEN_DAYS). Publishes `delegation.focal_point_access_issued` (its id and "
    "expiry, never the token). 503 while no link secret is configured "
    "(FORO_PARTICIPANT_TOKEN_SECRET).",
)
async def focal_point_key(
    code: DelegationCode, request: Request, deps: Deps, settings: Settings
) -> AccessTokenView:
    signer = link_signer(settings)
    runtime = request.app.state.runtime

    async def revoke_here(subject: str, before: datetime, expires_at: datetime) -> None:
        # Only registration accepts a focal point's token: its own store is the one to tell.
        await revoke_subject_here(runtime, subject, before, expires_at)

    try:
        issued = await delegations.issue_focal_point_access(code, deps, signer, revoke_here)
    except delegations.DelegationNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="delegation not found") from None
    return AccessTokenView(
        access_token=issued.token, token_id=issued.token_id, expires_at=issued.expires_at
    )


@router.post(
    "/{code}/members",
    response_model=MemberView,
    status_code=status.HTTP_201_CREATED,
    summary="Nominate a member (focal point)",
    responses=responses(401, 403, 404, 409),
    description=(
        "Takes one of the delegation's seats and registers the person in the delegation's category "
        "(pending accreditation when the category requires it). Over quota: 409 with the reason, and a "
        "`delegation.nomination_refused` event. Nominating a member again changes nothing (200)."
    ),
)
async def nominate(
    code: DelegationCode,
    body: NomineeBody,
    response: Response,
    deps: Deps,
    principal: MembersManager,
) -> MemberView:
    principal.require_delegation(code)
    await a_delegation(code, deps)
    try:
        result = await delegations.nominate_member(code, body.nominee(), deps)
    except delegation_rules.DelegationRefused as refused:
        raise refusal(refused.problem) from None
    if result.outcome == "refused":
        raise refusal(result.reasons[0])
    if result.outcome == "already_member":
        response.status_code = status.HTTP_200_OK
    return MemberView(
        outcome=result.outcome, participant_id=result.participant_id, status=result.status
    )


@router.post(
    "/{code}/members/{participant_id}/substitute",
    response_model=MemberView,
    summary="Substitute a member (focal point)",
    responses=responses(401, 403, 404, 409),
    description="The substitute takes the member's seat (also at full quota: the delegation does not grow); "
    "the member's registration is cancelled. Publishes `delegation.member_substituted`.",
)
async def substitute(
    code: DelegationCode,
    participant_id: uuid.UUID,
    body: NomineeBody,
    deps: Deps,
    principal: MembersManager,
) -> MemberView:
    principal.require_delegation(code)
    await a_delegation(code, deps)
    try:
        result = await delegations.substitute_member(
            code, str(participant_id), body.nominee(), deps
        )
    except delegation_rules.DelegationRefused as refused:
        raise refusal(refused.problem) from None
    return MemberView(
        outcome="substituted", participant_id=result.participant_id, status=result.status
    )


@router.delete(
    "/{code}/members/{participant_id}",
    response_model=MemberView,
    summary="Withdraw a member (focal point)",
    responses=responses(401, 403, 404, 409),
    description="Frees the seat and cancels the registration. Publishes `delegation.member_withdrawn`.",
)
async def withdraw(
    code: DelegationCode, participant_id: uuid.UUID, deps: Deps, principal: MembersManager
) -> MemberView:
    principal.require_delegation(code)
    await a_delegation(code, deps)
    try:
        result = await delegations.withdraw_member(code, str(participant_id), deps)
    except delegation_rules.DelegationRefused as refused:
        raise refusal(refused.problem) from None
    return MemberView(
        outcome="withdrawn", participant_id=result.participant_id, status=result.status
    )


@router.post(
    "/{code}/accreditation",
    response_model=DelegationAccreditationView,
    summary="Accredit every pending member of a delegation",
    dependencies=allowed(Permission.ACCREDITATION_DECIDE),
    responses=responses(401, 404),
    description="Approves each member still pending (one `accreditation.approved` each); members already "
    "decided are left as they are.",
)
async def accredit_delegation(code: DelegationCode, deps: Deps) -> DelegationAccreditationView:
    document = await a_delegation(code, deps)
    approved, refused = [], []
    for member in document.members:
        current = await deps.repository.get(member)
        if current is None or current.get("status") != "pending_approval":
            continue
        decision = await accreditation.approve(member, deps)
        if decision.outcome == "refused":
            refused.append({"participant_id": member, **decision.reasons[0].model_dump()})
        else:
            approved.append(
                DecisionView(
                    outcome=decision.outcome, participant_id=member, status=decision.status
                )
            )
    return DelegationAccreditationView(approved=approved, refused=refused)


@router.get(
    "/{code}/badges.pdf",
    summary="Print the delegation's badges",
    dependencies=allowed(Permission.BADGES_PRINT),
    response_class=Response,
    responses={200: {"content": {PDF: {}}}, **responses(401, 404, 503)},
    description="Badges of the members who may have one (confirmed and accredited), as one PDF. "
    "Members skipped are listed in the `X-Foro-Skipped` header (ids only).",
)
async def delegation_badges(
    code: DelegationCode, deps: Deps, settings: Settings, layout: Literal["a4", "a6"] = "a4"
) -> Response:
    secret = badge_secret(settings)
    document = await a_delegation(code, deps)
    pdf, skipped = await badges.badge_sheet(document.members, deps, secret, layout)
    return Response(pdf, media_type=PDF, headers=sheet_headers(f"badges-{code}.pdf", skipped))
