"""Registration's HTTP API: the signed intake webhook and the secretariat's read API."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time
from email.utils import format_datetime
from typing import Any, Literal

import structlog
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
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
from shared.webhooks import (
    ID_HEADER,
    LEGACY_SIGNATURE_HEADER,
    LEGACY_TIMESTAMP_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRejected,
    verify_request,
)

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


# Why a signature was refused, for the vendor's developer, in both languages (by `code`).
SIGNATURE_FIELDS = {
    "unsigned": SIGNATURE_HEADER,
    "timestamp": TIMESTAMP_HEADER,
    "signature": SIGNATURE_HEADER,
    "legacy_ended": LEGACY_SIGNATURE_HEADER,
    "not_configured": SIGNATURE_HEADER,
}
SIGNATURE_ES = {
    "unsigned": "Faltan las cabeceras de firma: envíe webhook-id, webhook-timestamp y "
    "webhook-signature (Standard Webhooks).",
    "timestamp": "La marca de tiempo webhook-timestamp falta, no es un número de segundos o se "
    "aleja demasiado de la hora actual.",
    "signature": "La firma no corresponde al cuerpo con ninguno de los secretos vigentes.",
    "legacy_ended": "El esquema de firma X-Foro-Signature terminó: firme con Standard Webhooks.",
    "not_configured": "El webhook no tiene secretos configurados: consulte a la secretaría.",
}
DEPRECATED_SCHEME = (
    f"The {LEGACY_TIMESTAMP_HEADER}/{LEGACY_SIGNATURE_HEADER} signature is deprecated: sign with "
    f"Standard Webhooks ({ID_HEADER}, {TIMESTAMP_HEADER}, {SIGNATURE_HEADER})."
)


def problem(field: str, code: str, es: str, en: str) -> dict[str, str]:
    return {"field": field, "code": code, "message_es": es, "message_en": en}


async def signed_event(
    request: Request, response: Response, model: type[Event], settings: RegistrationSettings
) -> Event:
    if reason := content_type_reason(request.headers.get("content-type")):
        refused(request, "content_type")
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=problem(
                "content_type",
                "unsupported_media_type",
                "El tipo de contenido no se acepta: envíe el cuerpo como application/json.",
                reason,
            ),
        )
    body = await request.body()  # at most settings.max_intake_bytes: BodyLimit stops it there
    try:
        verified = verify_request(
            settings.webhook_secrets,
            request.headers,
            body,
            tolerance_seconds=settings.webhook_tolerance_seconds,
            legacy_until=settings.webhook_legacy_until,
        )
    except SignatureRejected as rejected:
        log.warning("webhook refused", reason=str(rejected), code=rejected.code)
        refused(request, rejected.code)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=problem(
                SIGNATURE_FIELDS.get(rejected.code, SIGNATURE_HEADER),
                f"signature_{rejected.code}",
                SIGNATURE_ES.get(rejected.code, SIGNATURE_ES["signature"]),
                str(rejected),
            ),
        ) from None
    if verified.scheme == "legacy" and settings.webhook_legacy_until is not None:
        # RFC 9745 (Deprecation) and RFC 8594 (Sunset): the scheme works, and until when.
        response.headers["Deprecation"] = "true"
        response.headers["Sunset"] = format_datetime(
            datetime.combine(settings.webhook_legacy_until, time(23, 59, 59), UTC), usegmt=True
        )
        response.headers["Warning"] = f'299 - "{DEPRECATED_SCHEME}"'
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


# The bodies OpenAPI shows (tests/unit/test_intake_openapi.py checks the models accept them).
REGISTRATION_EXAMPLE: dict[str, Any] = {
    "event_type": "registration.submitted",
    "event_id": "0f8b8f5e-6a4c-4f59-9d53-3c1f1a0f2b11",
    "occurred_at": "2026-10-01T14:05:00+00:00",
    "producer": "forms-vendor",
    "forum_id": "crm-foro-sector-privado-migraciones",
    "submission_id": "vendor-submission-81723",
    "category": "business_association",
    "given_name": "María",
    "family_name": "Hernández",
    "email": "maria.hernandez@camara.example",
    "phone": "+50370001234",
    "organisation": "Cámara de Comercio e Industria de El Salvador",
    "job_title": "Directora de Proyectos",
    "country": "SV",
    "language": "es",
    "consents": {"privacy_policy": True, "listed_publicly": True, "share_with_exhibitors": False},
    "answers": {"dietary_needs": "vegetariano"},
}
CANCELLATION_EXAMPLE: dict[str, Any] = {
    "event_type": "registration.cancel_requested",
    "event_id": "5b0d7c2a-2f6e-4a51-8b1e-0c9f3d7e6a42",
    "occurred_at": "2026-10-20T09:30:00+00:00",
    "producer": "forms-vendor",
    "forum_id": "crm-foro-sector-privado-migraciones",
    "email": "maria.hernandez@camara.example",
    "reason": "Cambio de agenda",
}


SECURITY_SCHEME = "standardWebhooks"
TOLERANCE_MINUTES = 5  # REGISTRATION_WEBHOOK_TOLERANCE_SECONDS's default
SIGNATURE_DOC = (
    "Signed with [Standard Webhooks](https://www.standardwebhooks.com): send "
    f"`{ID_HEADER}` (your message id), `{TIMESTAMP_HEADER}` (unix seconds, within "
    f"{TOLERANCE_MINUTES} minutes of now) and `{SIGNATURE_HEADER}`: `v1,` and the base64 "
    "HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<raw body>` with your secret "
    "(`whsec_…`: the key is the base64 after the prefix). Any Standard Webhooks library signs "
    "it (Python: `standardwebhooks`); docs/vendors.md shows it with curl and openssl. The first "
    f"scheme (`{LEGACY_TIMESTAMP_HEADER}`, `{LEGACY_SIGNATURE_HEADER}: v1=<hex HMAC-SHA256 of "
    "`<timestamp>.<body>`>`) is still accepted until `REGISTRATION_WEBHOOK_LEGACY_UNTIL` "
    "(2027-06-30 by default), answered with `Deprecation` and `Sunset` headers; after that "
    "date it is refused with 401. Sending the same event again is harmless (the `event_id` and "
    "`submission_id` make it idempotent). Content-Type, when sent, must be JSON; a body larger "
    "than the intake limit (`FORO_MAX_INTAKE_BYTES`, 64 KiB by default) is refused before it "
    "is read whole."
)


def _header(
    name: str, description: str, example: str, *, deprecated: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": not deprecated,
        "deprecated": deprecated,
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }


def _problem_response(description: str, example: dict[str, str]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"example": {"detail": example}}},
    }


def webhook_openapi(model: type[Event], example: dict[str, Any]) -> dict[str, Any]:
    """A signed intake route as OpenAPI tells it: its security scheme, headers, body (the event's
    schema, put in the components by `install_webhook_schemas`) and example."""
    return {
        "security": [{SECURITY_SCHEME: []}],
        "parameters": [
            _header(
                ID_HEADER,
                "Your message's unique id (kept across retries).",
                "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
            ),
            _header(TIMESTAMP_HEADER, "When you signed it: unix seconds.", "1764720000"),
            _header(
                SIGNATURE_HEADER,
                "`v1,<base64 HMAC-SHA256>`; several separated by spaces while you rotate.",
                "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
            ),
            _header(
                LEGACY_TIMESTAMP_HEADER,
                "Deprecated scheme: unix seconds.",
                "1764720000",
                deprecated=True,
            ),
            _header(
                LEGACY_SIGNATURE_HEADER,
                "Deprecated scheme: `v1=<hex HMAC-SHA256 of <timestamp>.<body>>`.",
                "v1=5d41402abc4b2a76b9719d911017c592",
                deprecated=True,
            ),
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{model.__name__}"},
                    "examples": {"event": {"summary": model.__name__, "value": example}},
                }
            },
        },
    }


WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Accepted: the event is on the bus (published with a broker confirm). "
        "With the deprecated scheme the answer carries `Deprecation: true` and `Sunset`.",
    },
    401: _problem_response(
        "The signature is missing, stale, wrong, or of the ended scheme; `detail` names the "
        "header and says why in Spanish and English. `code`: signature_unsigned, "
        "signature_timestamp, signature_signature, signature_legacy_ended, "
        "signature_not_configured.",
        {
            "field": SIGNATURE_HEADER,
            "code": "signature_signature",
            "message_es": SIGNATURE_ES["signature"],
            "message_en": "signature does not match",
        },
    ),
    413: {
        "description": "The body is over the intake limit (`FORO_MAX_INTAKE_BYTES`), refused "
        "before it is read whole.",
        "content": {
            "application/json": {
                "example": {
                    "detail": {
                        "field": "body",
                        "code": "body_too_large",
                        "limit_bytes": 65536,
                        "message_es": "El cuerpo supera el límite de 65536 bytes.",
                        "message_en": "The body is larger than the 65536-byte limit.",
                    }
                }
            }
        },
    },
    415: _problem_response(
        "The Content-Type is not JSON.",
        {
            "field": "content_type",
            "code": "unsupported_media_type",
            "message_es": "El tipo de contenido no se acepta: envíe el cuerpo como application/json.",
            "message_en": "content type text/plain is not JSON",
        },
    ),
    422: {
        "description": "The body is not JSON or breaks the contract: `detail` lists "
        "`field: reason` for every problem (never the values sent).",
        "content": {
            "application/json": {
                "example": {
                    "detail": "email: value is not a valid email address; consents.privacy_policy: Field required"
                }
            }
        },
    },
    503: {"description": "The broker is not answering: nothing was accepted; send it again."},
}


@router.post(
    "/registrations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Submit a sign-up (signed webhook)",
    description="Body: a `registration.submitted` event (see the AsyncAPI document "
    "deploy/asyncapi/registration.json). " + SIGNATURE_DOC,
    responses=WEBHOOK_RESPONSES,
    openapi_extra=webhook_openapi(RegistrationSubmitted, REGISTRATION_EXAMPLE),
)
async def submit_registration(
    request: Request, response: Response, settings: Settings, publish: Publish
) -> Accepted:
    event = await signed_event(request, response, RegistrationSubmitted, settings)
    await publish(event)
    return Accepted(event_id=event.event_id)


@router.post(
    "/cancellations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    summary="Request a cancellation (signed webhook)",
    description="Body: a `registration.cancel_requested` event naming the participant by "
    "`participant_id` or by `email`. " + SIGNATURE_DOC,
    responses=WEBHOOK_RESPONSES,
    openapi_extra=webhook_openapi(RegistrationCancelRequested, CANCELLATION_EXAMPLE),
)
async def request_cancellation(
    request: Request, response: Response, settings: Settings, publish: Publish
) -> Accepted:
    event = await signed_event(request, response, RegistrationCancelRequested, settings)
    await publish(event)
    return Accepted(event_id=event.event_id)


class PrivacyNotice(BaseModel):
    forum_id: str
    forum_name: dict[str, str]
    paragraphs: list[dict[str, str]] = Field(
        description="The notice every sign-up form shows, paragraph by paragraph, `es` and `en`."
    )


@router.get(
    "/privacy-notice",
    response_model=PrivacyNotice,
    summary="The privacy notice a sign-up form must show",
    description="From the event pack (`forum.privacy_notice`); public. A form vendor shows it, "
    "in the person's language, beside the privacy-policy consent (`consents.privacy_policy`).",
)
async def privacy_notice(deps: Deps) -> PrivacyNotice:
    forum = deps.pack.forum
    return PrivacyNotice(
        forum_id=forum.id,
        forum_name={"es": forum.name.get("es"), "en": forum.name.get("en")},
        paragraphs=[{"es": p.get("es"), "en": p.get("en")} for p in forum.privacy_notice],
    )


def install_webhook_schemas(app: FastAPI) -> None:
    """Put the webhook bodies' schemas and the signature's security scheme in the OpenAPI
    document: the routes read their bodies by hand (the signature is checked first), so FastAPI
    does not see them."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        components = document.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for model in (RegistrationSubmitted, RegistrationCancelRequested):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
            "type": "apiKey",
            "in": "header",
            "name": SIGNATURE_HEADER,
            "description": SIGNATURE_DOC,
        }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


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
