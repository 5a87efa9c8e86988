"""Registration's HTTP API: the signed intake webhook and the secretariat's read API."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.registration.deps import Deps, Publish, Settings
from services.registration.intake.metrics import refused
from services.registration.repository import ParticipantFilter
from services.registration.settings import RegistrationSettings
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.contracts.envelope import Event
from shared.contracts.registration import (
    Consents,
    FreeText,
    ParticipantStatus,
    RegistrationCancelRequested,
    RegistrationSubmitted,
)
from shared.messaging.consumer import content_type_reason, describe_validation_error
from shared.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureRejected, verify

log = structlog.get_logger("foro.registration.api")

INTAKE_PREFIX = "/intake"
"""The signed webhook's routes; the bootstrap limits their bodies (`shared.http_limits.BodyLimit`)."""

router = APIRouter(prefix=INTAKE_PREFIX, tags=["intake webhook"])
participants = APIRouter(tags=["secretariat"])


class Accepted(BaseModel):
    accepted: bool = True
    event_id: uuid.UUID


class ParticipantView(BaseModel):
    """A participant as the secretariat sees it."""

    model_config = ConfigDict(populate_by_name=True)

    participant_id: str = Field(validation_alias="_id")
    forum_id: str
    status: ParticipantStatus | Literal["allocating"]
    category: str
    given_name: str
    family_name: str
    email: str
    phone: str | None = None
    organisation: str | None = None
    job_title: str | None = None
    country: str
    language: str
    consents: Consents
    answers: dict[str, str] = {}
    submission_ids: list[str] = []
    rejection_reasons: list[dict[str, str]] = []
    accreditation: dict[str, Any] | None = Field(
        None, description="Secretariat's decision: status, decided_at."
    )
    badge: dict[str, Any] | None = Field(
        None, description="The live badge: token_id, issued_at, category."
    )
    erased: bool = Field(
        False, description="Personal data erased on request; the record stays for statistics."
    )
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ParticipantPage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[ParticipantView]


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: FreeText | None = Field(None, max_length=500)


async def signed_event(
    request: Request, model: type[Event], settings: RegistrationSettings
) -> Event:
    if reason := content_type_reason(request.headers.get("content-type")):
        refused(request, "content_type")
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail={
                "field": "content_type",
                "code": "unsupported_media_type",
                "message_es": "El tipo de contenido no se acepta: envíe el cuerpo como application/json.",
                "message_en": reason,
            },
        )
    body = await request.body()  # at most settings.max_intake_bytes: BodyLimit stops it there
    try:
        verify(
            settings.webhook_secrets,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            tolerance_seconds=settings.webhook_tolerance_seconds,
        )
    except SignatureRejected as rejected:
        log.warning("webhook refused", reason=str(rejected), code=rejected.code)
        refused(request, rejected.code)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=str(rejected)) from None
    try:
        return model.model_validate(json.loads(body))
    except json.JSONDecodeError as error:
        refused(request, "invalid_body")
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"body: not valid JSON ({error.msg})"
        ) from None
    except ValidationError as error:
        refused(request, "invalid_body")
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=describe_validation_error(error)
        ) from None


@router.post(
    "/registrations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Submit a sign-up (signed webhook)",
    description=(
        "Body: a `registration.submitted` event (see the AsyncAPI document). Sign it with "
        f"HMAC-SHA256 over `<unix seconds>.<raw body>` and send `{TIMESTAMP_HEADER}` and "
        f"`{SIGNATURE_HEADER}: v1=<hex>`. Sending the same event again is harmless. "
        "Content-Type, when sent, must be JSON (else 415); a body larger than the intake limit "
        "(`FORO_MAX_INTAKE_BYTES`, 64 KiB by default) is refused with 413 before it is read whole."
    ),
)
async def submit_registration(request: Request, settings: Settings, publish: Publish) -> Accepted:
    event = await signed_event(request, RegistrationSubmitted, settings)
    await publish(event)
    return Accepted(event_id=event.event_id)


@router.post(
    "/cancellations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Request a cancellation (signed webhook)",
)
async def request_cancellation(request: Request, settings: Settings, publish: Publish) -> Accepted:
    event = await signed_event(request, RegistrationCancelRequested, settings)
    await publish(event)
    return Accepted(event_id=event.event_id)


@participants.get(
    "/participants",
    response_model=ParticipantPage,
    summary="List participants",
    dependencies=[Depends(require(Permission.PARTICIPANTS_READ))],
)
async def list_participants(
    deps: Deps,
    category: str | None = Query(None, max_length=50),
    status_: ParticipantStatus | None = Query(None, alias="status"),
    country: str | None = Query(None, pattern=r"^[A-Z]{2}$"),
    language: Literal["es", "en"] | None = None,
    q: str | None = Query(
        None, min_length=2, max_length=100, description="Text in name, e-mail or organisation."
    ),
    offset: int = Query(0, ge=0, le=100_000),
    limit: int = Query(50, ge=1, le=200),
) -> ParticipantPage:
    where = ParticipantFilter(
        forum_id=deps.pack.forum.id,
        category=category,
        status=status_,
        country=country,
        language=language,
        search=q,
    )
    total, items = await deps.repository.page(where, offset=offset, limit=limit)
    return ParticipantPage(
        total=total,
        offset=offset,
        limit=limit,
        items=[ParticipantView.model_validate(i) for i in items],
    )


@participants.get(
    "/participants/{participant_id}",
    response_model=ParticipantView,
    summary="One participant",
    dependencies=[Depends(require(Permission.PARTICIPANTS_READ))],
)
async def get_participant(participant_id: uuid.UUID, deps: Deps) -> ParticipantView:
    document = await deps.repository.get(str(participant_id))
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found")
    return ParticipantView.model_validate(document)


@participants.post(
    "/participants/{participant_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Cancel a registration",
    dependencies=[Depends(require(Permission.PARTICIPANTS_WRITE))],
)
async def cancel_participant(
    participant_id: uuid.UUID, deps: Deps, publish: Publish, body: CancelBody | None = None
) -> Accepted:
    if await deps.repository.get(str(participant_id)) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="participant not found")
    event = RegistrationCancelRequested(
        producer="registration-secretariat",
        forum_id=deps.pack.forum.id,
        participant_id=participant_id,
        reason=body.reason if body else None,
    )
    await publish(event)
    return Accepted(event_id=event.event_id)


@participants.get(
    "/statistics/categories",
    summary="Participants by category and status",
    dependencies=[Depends(require(Permission.STATISTICS_READ))],
)
async def category_counts(deps: Deps) -> dict[str, dict[str, int]]:
    return await deps.repository.counts_by_category(deps.pack.forum.id)
