"""The secretariat's HTTP API for delegations, accreditation, badges, check-in, consent and erasure.

Every refusal answers with reasons in Spanish and English (`{"code", "field", "message_es",
"message_en"}`), written for the person who will read them. Commands are idempotent by state:
repeating one changes nothing and publishes nothing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.registration import accreditation, badges, checkin, consent, delegations
from services.registration import domain_delegations as delegation_rules
from services.registration.documents import DelegationDocument
from services.registration.handlers import Registration
from services.registration.settings import RegistrationSettings
from shared.contracts.envelope import FieldProblem
from shared.contracts.registration import (
    Consents,
    CountryCode,
    DelegationCode,
    Email,
    FocalPoint,
    FreeText,
    JobTitle,
    Name,
    Organisation,
    ParticipantErasureRequested,
    Phone,
    SingleLineText,
)
from shared.http import _bearer, require_token
from shared.messaging.publishers import publish_event
from shared.messaging.topology import Topology

PDF = "application/pdf"
PNG = "image/png"

REFUSAL_EXAMPLE = {
    "detail": {
        "field": "quota",
        "code": "delegation_quota_full",
        "message_es": "La delegación «El Salvador» ya tiene sus 10 plazas ocupadas; …",
        "message_en": "The delegation “El Salvador” already fills its 10 seats; …",
    }
}


def refusal(problem: FieldProblem, code: int = status.HTTP_409_CONFLICT) -> HTTPException:
    return HTTPException(code, detail=problem.model_dump())


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "A valid secretariat token (or the delegation's focal-point key) is required.",
        403: "Refused; `detail` says why, in Spanish and English.",
        404: "No such participant or delegation.",
        409: "Refused in the current state; `detail` says why, in Spanish and English.",
        503: "Badges are not configured (REGISTRATION_BADGE_SECRET is unset).",
    }
    return {
        code: {
            "description": described[code],
            "content": {"application/json": {"example": REFUSAL_EXAMPLE}},
        }
        for code in codes
    }


# --- bodies and views ----------------------------------------------------------------------------


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
    has_focal_point_key: bool

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
            has_focal_point_key=bool(document.focal_key_sha256),
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


class RejectBody(BaseModel):
    """Why the accreditation is refused — the person reads it, in their language."""

    model_config = ConfigDict(extra="forbid")
    reason_es: FreeText | None = Field(
        None,
        min_length=3,
        max_length=1000,
        examples=["La acreditación de prensa requiere una carta del medio."],
    )
    reason_en: FreeText | None = Field(
        None,
        min_length=3,
        max_length=1000,
        examples=["Press accreditation requires a letter from the media outlet."],
    )


class DecisionView(BaseModel):
    outcome: Literal["approved", "already_decided", "rejected"]
    participant_id: str
    status: str | None


class DelegationAccreditationView(BaseModel):
    approved: list[DecisionView]
    refused: list[dict[str, Any]]


class CheckinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(
        min_length=10, max_length=400, description="The text of the badge's QR code."
    )
    point: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="`entrance`, `expo` or a room code.",
        examples=["entrance"],
    )


class CheckinView(BaseModel):
    checked_in: Literal[True] = True
    first_today: bool = Field(description="False when the badge was already scanned here today.")
    checkin_id: str
    point: str
    day: str
    participant_id: str
    given_name: str
    family_name: str
    category: str
    badge_colour: str


class ConsentsBody(BaseModel):
    """Optional consents to change; the privacy policy can only be withdrawn by erasure."""

    model_config = ConfigDict(extra="forbid")
    listed_publicly: bool | None = None
    photos: bool | None = None
    share_with_exhibitors: bool | None = None
    privacy_policy: Literal[True] | None = Field(
        None, description="Only `true`: to withdraw it, request erasure."
    )


class ConsentsView(BaseModel):
    participant_id: str
    consents: Consents
    changed: list[str]


class ErasureAccepted(BaseModel):
    accepted: bool = True
    event_id: uuid.UUID


# --- routers -------------------------------------------------------------------------------------


def build_depth_routers(
    deps: Registration, settings: RegistrationSettings, broker: Any, topology: Topology
) -> list[APIRouter]:
    secretariat_only = [Depends(require_token(settings.api_tokens))]
    delegation_routes = APIRouter(prefix="/delegations", tags=["delegations"])
    people = APIRouter(
        tags=["accreditation", "badges", "consent", "erasure"], dependencies=secretariat_only
    )
    doors = APIRouter(tags=["check-in"], dependencies=secretariat_only)
    check_secretariat = require_token(settings.api_tokens)

    async def focal_point_or_secretariat(
        code: DelegationCode,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
        x_delegation_key: str | None = Header(
            None, description="The delegation's focal-point key."
        ),
    ) -> None:
        if x_delegation_key is not None:
            document = DelegationDocument.read(
                await deps.repository.get_delegation(
                    delegation_rules.delegation_id(deps.pack.forum.id, code)
                )
            )
            if document is not None and delegations.focal_key_matches(document, x_delegation_key):
                return
        await check_secretariat(credentials)

    def badge_secret() -> SecretStr:
        if settings.badge_secret is None or not settings.badge_secret.get_secret_value():
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, detail="badges are not configured"
            )
        return settings.badge_secret

    async def a_delegation(code: str) -> DelegationDocument:
        try:
            return await delegations.delegation(code, deps)
        except delegations.DelegationNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="delegation not found") from None

    # --- delegations ---

    @delegation_routes.get(
        "",
        response_model=list[DelegationView],
        summary="List delegations",
        dependencies=secretariat_only,
        responses=_responses(401),
    )
    async def list_delegations() -> list[DelegationView]:
        return [
            DelegationView.of(DelegationDocument.model_validate(d))
            for d in await deps.repository.list_delegations(deps.pack.forum.id)
        ]

    @delegation_routes.put(
        "/{code}",
        response_model=DelegationView,
        summary="Register or change a delegation",
        dependencies=secretariat_only,
        responses=_responses(401, 409),
        description=(
            "`code` is a member or observer country of the event pack (`SV`: quota and category from the "
            "pack unless given) or an organisation's slug (`oim`: name, category and quota required). "
            "Publishes `delegation.registered` or `delegation.updated`; nothing when nothing changes."
        ),
    )
    async def put_delegation(
        code: DelegationCode, body: DelegationBody, response: Response
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

    @delegation_routes.get(
        "/{code}",
        response_model=DelegationView,
        summary="One delegation",
        dependencies=[Depends(focal_point_or_secretariat)],
        responses=_responses(401, 404),
    )
    async def get_delegation(code: DelegationCode) -> DelegationView:
        return DelegationView.of(await a_delegation(code))

    @delegation_routes.post(
        "/{code}/focal-point-key",
        summary="Issue the focal point's access key",
        dependencies=secretariat_only,
        responses=_responses(401, 404),
        description="Returns a new key (shown once; the previous one stops working). The focal point sends it as "
        "`X-Delegation-Key` to manage the delegation's members.",
    )
    async def focal_point_key(code: DelegationCode) -> dict[str, str]:
        try:
            return {"key": await delegations.issue_focal_point_key(code, deps)}
        except delegations.DelegationNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="delegation not found") from None

    @delegation_routes.post(
        "/{code}/members",
        response_model=MemberView,
        status_code=status.HTTP_201_CREATED,
        summary="Nominate a member (focal point)",
        dependencies=[Depends(focal_point_or_secretariat)],
        responses=_responses(401, 404, 409),
        description=(
            "Takes one of the delegation's seats and registers the person in the delegation's category "
            "(pending accreditation when the category requires it). Over quota: 409 with the reason, and a "
            "`delegation.nomination_refused` event. Nominating a member again changes nothing (200)."
        ),
    )
    async def nominate(code: DelegationCode, body: NomineeBody, response: Response) -> MemberView:
        await a_delegation(code)
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

    @delegation_routes.post(
        "/{code}/members/{participant_id}/substitute",
        response_model=MemberView,
        summary="Substitute a member (focal point)",
        dependencies=[Depends(focal_point_or_secretariat)],
        responses=_responses(401, 404, 409),
        description="The substitute takes the member's seat (also at full quota: the delegation does not grow); "
        "the member's registration is cancelled. Publishes `delegation.member_substituted`.",
    )
    async def substitute(
        code: DelegationCode, participant_id: uuid.UUID, body: NomineeBody
    ) -> MemberView:
        await a_delegation(code)
        try:
            result = await delegations.substitute_member(
                code, str(participant_id), body.nominee(), deps
            )
        except delegation_rules.DelegationRefused as refused:
            raise refusal(refused.problem) from None
        return MemberView(
            outcome="substituted", participant_id=result.participant_id, status=result.status
        )

    @delegation_routes.delete(
        "/{code}/members/{participant_id}",
        response_model=MemberView,
        summary="Withdraw a member (focal point)",
        dependencies=[Depends(focal_point_or_secretariat)],
        responses=_responses(401, 404, 409),
        description="Frees the seat and cancels the registration. Publishes `delegation.member_withdrawn`.",
    )
    async def withdraw(code: DelegationCode, participant_id: uuid.UUID) -> MemberView:
        await a_delegation(code)
        try:
            result = await delegations.withdraw_member(code, str(participant_id), deps)
        except delegation_rules.DelegationRefused as refused:
            raise refusal(refused.problem) from None
        return MemberView(
            outcome="withdrawn", participant_id=result.participant_id, status=result.status
        )

    @delegation_routes.post(
        "/{code}/accreditation",
        response_model=DelegationAccreditationView,
        summary="Accredit every pending member of a delegation",
        dependencies=secretariat_only,
        responses=_responses(401, 404),
        description="Approves each member still pending (one `accreditation.approved` each); members already "
        "decided are left as they are.",
    )
    async def accredit_delegation(code: DelegationCode) -> DelegationAccreditationView:
        document = await a_delegation(code)
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

    @delegation_routes.get(
        "/{code}/badges.pdf",
        summary="Print the delegation's badges",
        dependencies=secretariat_only,
        response_class=Response,
        responses={200: {"content": {PDF: {}}}, **_responses(401, 404, 503)},
        description="Badges of the members who may have one (confirmed and accredited), as one PDF. "
        "Members skipped are listed in the `X-Foro-Skipped` header (ids only).",
    )
    async def delegation_badges(
        code: DelegationCode, layout: Literal["a4", "a6"] = "a4"
    ) -> Response:
        secret = badge_secret()
        document = await a_delegation(code)
        pdf, skipped = await badges.badge_sheet(document.members, deps, secret, layout)
        return Response(pdf, media_type=PDF, headers=_sheet_headers(f"badges-{code}.pdf", skipped))

    # --- accreditation ---

    @people.post(
        "/participants/{participant_id}/accreditation/approve",
        response_model=DecisionView,
        summary="Approve an accreditation",
        responses=_responses(401, 404, 409),
        description="pending_approval → a seat is allocated (confirmed or waitlisted). Publishes "
        "`accreditation.approved` once: approving again changes nothing. Official delegates also take "
        "a seat of their country's delegation; a full delegation is refused (409).",
    )
    async def approve(participant_id: uuid.UUID) -> DecisionView:
        try:
            decision = await accreditation.approve(str(participant_id), deps)
        except accreditation.ParticipantNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found") from None
        if decision.outcome == "refused":
            raise refusal(decision.reasons[0])
        return DecisionView(
            outcome=decision.outcome, participant_id=decision.participant_id, status=decision.status
        )

    @people.post(
        "/participants/{participant_id}/accreditation/reject",
        response_model=DecisionView,
        summary="Reject an accreditation",
        responses=_responses(401, 404),
        description="The person reads the reason (give it in both languages, or one: it is used for both). "
        "Publishes `accreditation.rejected` once; a held seat is freed and a badge revoked.",
    )
    async def reject(participant_id: uuid.UUID, body: RejectBody) -> DecisionView:
        if not body.reason_es and not body.reason_en:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail="reason_es or reason_en is required"
            )
        reason_es = body.reason_es or body.reason_en or ""
        reason_en = body.reason_en or body.reason_es or ""
        try:
            decision = await accreditation.reject(str(participant_id), reason_es, reason_en, deps)
        except accreditation.ParticipantNotFound:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found") from None
        return DecisionView(
            outcome=decision.outcome, participant_id=decision.participant_id, status=decision.status
        )

    # --- badges ---

    async def participant_badge(participant_id: uuid.UUID) -> None:
        try:
            await badges.ensure_badge(str(participant_id), deps)
        except badges.BadgeRefused as refused:
            unknown = refused.problem.code == "unknown_participant"
            raise refusal(
                refused.problem, status.HTTP_404_NOT_FOUND if unknown else status.HTTP_409_CONFLICT
            ) from None

    @people.get(
        "/participants/{participant_id}/badge.png",
        summary="A participant's badge (PNG)",
        response_class=Response,
        responses={200: {"content": {PNG: {}}}, **_responses(401, 404, 409, 503)},
        description="Only for a confirmed participant who is accredited when the category requires it; "
        "anyone else is refused (409) with the reason.",
    )
    async def badge_png(participant_id: uuid.UUID) -> Response:
        secret = badge_secret()
        await participant_badge(participant_id)
        png = await badges.badge_png(str(participant_id), deps, secret)
        return Response(png, media_type=PNG, headers={"Cache-Control": "no-store"})

    @people.get(
        "/participants/{participant_id}/badge.pdf",
        summary="A participant's badge (printable PDF)",
        response_class=Response,
        responses={200: {"content": {PDF: {}}}, **_responses(401, 404, 409, 503)},
    )
    async def badge_pdf(participant_id: uuid.UUID, layout: Literal["a6", "a4"] = "a6") -> Response:
        secret = badge_secret()
        await participant_badge(participant_id)
        pdf, _ = await badges.badge_sheet([str(participant_id)], deps, secret, layout)
        return Response(pdf, media_type=PDF, headers={"Cache-Control": "no-store"})

    @people.get(
        "/badges/sheet.pdf",
        summary="Print badges in bulk (A4, four per page, or A6)",
        response_class=Response,
        responses={200: {"content": {PDF: {}}}, **_responses(401, 503)},
        description="Confirmed participants of a category, or the ids given; sorted by family name.",
    )
    async def badge_sheet(
        category: str | None = Query(None, max_length=50),
        participant_id: list[uuid.UUID] | None = Query(None),
        layout: Literal["a4", "a6"] = "a4",
        limit: int = Query(200, ge=1, le=500),
    ) -> Response:
        secret = badge_secret()
        ids = [str(p) for p in participant_id] if participant_id else None
        holders = await deps.repository.badge_holders(
            deps.pack.forum.id, participant_ids=ids, category=category, limit=limit
        )
        pdf, skipped = await badges.badge_sheet([h["_id"] for h in holders], deps, secret, layout)
        return Response(pdf, media_type=PDF, headers=_sheet_headers("badges.pdf", skipped))

    # --- check-in ---

    @doors.get("/checkins/points", summary="Check-in points")
    async def checkin_points() -> list[str]:
        return checkin.points(deps, settings.checkin_points)

    @doors.post(
        "/checkins",
        response_model=CheckinView,
        summary="Scan a badge at a check-in point",
        responses={
            201: {"description": "First check-in here today; `attendee.checked_in` is published."},
            **_responses(401, 403, 503),
        },
        status_code=status.HTTP_201_CREATED,
        description="A forged, altered, foreign-forum or revoked badge is refused (403) with the reason; so is "
        "any scan outside the forum's days (venue time, give or take REGISTRATION_CHECKIN_MARGIN_HOURS). "
        "Scanning again at the same point on the same day answers 200 and publishes nothing.",
    )
    async def scan(body: CheckinBody, response: Response) -> CheckinView:
        badge_secret()
        try:
            result = await checkin.check_in(
                body.token,
                body.point,
                deps,
                settings.badge_verification_secrets(),
                settings.checkin_points,
                timedelta(hours=settings.checkin_margin_hours),
            )
        except checkin.CheckinRefused as refused:
            raise refusal(refused.problem, refused.status) from None
        if not result.first:
            response.status_code = status.HTTP_200_OK
        person = result.participant
        category = deps.pack.category(person["category"])
        return CheckinView(
            first_today=result.first,
            checkin_id=result.checkin_id,
            point=result.point,
            day=result.day,
            participant_id=person["_id"],
            given_name=person["given_name"],
            family_name=person["family_name"],
            category=person["category"],
            badge_colour=category.badge_colour if category else "#37474F",
        )

    # --- consent and erasure ---

    @people.patch(
        "/participants/{participant_id}/consents",
        response_model=ConsentsView,
        summary="Change consents",
        responses=_responses(401, 404),
        description="Publishes `participant.consent_changed` with the new consents when something changed.",
    )
    async def change_consents(participant_id: uuid.UUID, body: ConsentsBody) -> ConsentsView:
        current = await deps.repository.get(str(participant_id))
        if current is None or current.get("erased"):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found")
        wanted = body.model_dump(exclude_none=True, exclude={"privacy_policy"})
        document, changed = await consent.change_consents(str(participant_id), wanted, deps)
        consents = (document or current)["consents"]
        return ConsentsView(participant_id=str(participant_id), consents=consents, changed=changed)

    @people.post(
        "/participants/{participant_id}/erasure",
        response_model=ErasureAccepted,
        status_code=status.HTTP_202_ACCEPTED,
        summary="Erase a participant's personal data",
        responses=_responses(401, 404),
        description="Publishes `participant.erasure_requested`; registration anonymises the participant and "
        "publishes `participant.erased`, which tells every other service to do the same. "
        "Counts by category are kept.",
    )
    async def request_erasure(participant_id: uuid.UUID) -> ErasureAccepted:
        current = await deps.repository.get(str(participant_id))
        if current is None or current.get("forum_id") != deps.pack.forum.id:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found")
        event = ParticipantErasureRequested(
            producer="registration-secretariat",
            forum_id=deps.pack.forum.id,
            participant_id=participant_id,
        )
        await publish_event(broker, topology, event)
        return ErasureAccepted(event_id=event.event_id)

    return [delegation_routes, people, doors]


def _sheet_headers(filename: str, skipped: list[dict[str, str]]) -> dict[str, str]:
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"}
    if skipped:
        headers["X-Foro-Skipped"] = ",".join(f"{s['participant_id']}:{s['code']}" for s in skipped)[
            :4000
        ]
    return headers
