"""Outbound webhooks' routes (secretariat, `webhooks:manage`): register endpoints with the events
they receive, change, disable, enable, remove them, rotate their secret, read their delivery log
and send a delivery again."""

from __future__ import annotations

import ipaddress
import secrets as random
from datetime import datetime
from functools import partial
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.notification.access import NotificationDeps
from services.notification.deps import on
from services.notification.webhooks import handlers, rules
from services.notification.webhooks.rules import EndpointDocument
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.webhooks import new_secret

router = APIRouter(
    prefix="/webhooks",
    tags=["outbound webhooks"],
    dependencies=[Depends(require(Permission.WEBHOOKS_MANAGE))],
)

EventType = Literal["*"] | rules.WebhookEventType  # `*`: every one of them


def _problem(status_code: int, field: str, code: str, es: str, en: str) -> HTTPException:
    return HTTPException(
        status_code, detail={"field": field, "code": code, "message_es": es, "message_en": en}
    )


def checked_url(url: str, request: Request) -> str:
    """An http(s) URL with a host; https:// required in production (loopback excepted)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _problem(
            422,
            "url",
            "invalid_url",
            "La URL debe ser http(s)://anfitrión/…",
            "The URL must be http(s)://host/…",
        )
    settings = request.app.state.runtime.settings
    required = settings.webhooks_require_https
    if required is None:
        required = settings.environment == "production"
    loopback = parts.hostname == "localhost"
    try:
        loopback = loopback or ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        pass
    if required and parts.scheme != "https" and not loopback:
        raise _problem(
            422,
            "url",
            "https_required",
            "La URL debe usar https://: las entregas llevan datos personales.",
            "The URL must use https://: deliveries carry personal data.",
        )
    return url


class EndpointBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, examples=["https://forms.example.org/foro/outcomes"])
    event_types: list[EventType] = Field(
        min_length=1,
        max_length=20,
        description="The events it receives; `*`: every one of them.",
        examples=[["registration.confirmed", "registration.waitlisted", "registration.rejected"]],
    )
    description: str = Field("", max_length=300, examples=["Formularios Ejemplo S.A."])

    @field_validator("event_types")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class EndpointChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, max_length=2000)
    event_types: list[EventType] | None = Field(None, min_length=1, max_length=20)
    description: str | None = Field(None, max_length=300)
    enabled: bool | None = Field(None, description="false: disable; true: enable again.")


class EndpointView(BaseModel):
    endpoint_id: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    secrets_live: int = Field(description="Secrets signing now (2 right after a rotation).")
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, document: dict[str, Any], now: datetime) -> EndpointView:
        endpoint = EndpointDocument.model_validate(document)
        return cls(
            endpoint_id=endpoint.id,
            url=endpoint.url,
            event_types=list(endpoint.event_types),
            description=endpoint.description,
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            consecutive_failures=endpoint.consecutive_failures,
            secrets_live=len(endpoint.signing_secrets(now)),
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )


class EndpointWithSecret(EndpointView):
    secret: str = Field(
        description="The signing secret (`whsec_…`), shown this once: verify deliveries with "
        "any Standard Webhooks library."
    )


class DeliveryView(BaseModel):
    delivery_id: str = Field(
        validation_alias="_id", description="Also the `webhook-id` header sent."
    )
    event_id: str = Field(validation_alias="source_event_id")
    event_type: str = Field(validation_alias="source_event_type")
    status: str
    attempts: int
    replays: int = 0
    last_error: str | None = None
    provider_message_id: str | None = Field(None, description="The endpoint's answer (HTTP 2xx).")
    created_at: datetime | None = None
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    history: list[dict[str, Any]] = []


async def _endpoint(deps: NotificationDeps, endpoint_id: str) -> dict[str, Any]:
    found = await deps.repository.endpoints.get(endpoint_id)
    if found is None or found.get("disabled_reason") == "removed":
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="endpoint not found")
    return found


@router.post(
    "/endpoints",
    status_code=status.HTTP_201_CREATED,
    response_model=EndpointWithSecret,
    summary="Register an endpoint",
    description="Deliveries are POSTed as `{type, timestamp, data}` (the event whole as `data`), "
    "signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). A "
    "2xx is delivered; anything else is retried with backoff; after "
    "`NOTIFICATION_WEBHOOK_DISABLE_AFTER` failed attempts in a row the endpoint is disabled.",
)
async def register(
    body: EndpointBody, request: Request, deps: NotificationDeps
) -> EndpointWithSecret:
    url = checked_url(body.url, request)
    endpoint_id = f"wh_{random.token_hex(8)}"
    secret, now = new_secret(), deps.wall_clock()
    change = rules.register(endpoint_id, url, body.event_types, body.description, secret, now)
    applied = await deps.repository.endpoints.create(endpoint_id, None, change)
    assert applied is not None and applied.document is not None  # a new random id
    await deps.webhooks.load(deps.repository)  # this replica fans out to it at once
    return EndpointWithSecret(**EndpointView.of(applied.document, now).model_dump(), secret=secret)


@router.get("/endpoints", response_model=list[EndpointView], summary="List the endpoints")
async def list_endpoints(deps: NotificationDeps) -> list[EndpointView]:
    now = deps.wall_clock()
    found = await deps.repository.endpoint_collection.find(
        {"disabled_reason": {"$ne": "removed"}}, sort=[("created_at", 1)]
    ).to_list()
    return [EndpointView.of(document, now) for document in found]


@router.get("/endpoints/{endpoint_id}", response_model=EndpointView, summary="One endpoint")
async def get_endpoint(endpoint_id: str, deps: NotificationDeps) -> EndpointView:
    return EndpointView.of(await _endpoint(deps, endpoint_id), deps.wall_clock())


@router.patch(
    "/endpoints/{endpoint_id}",
    response_model=EndpointView,
    summary="Change, disable or enable an endpoint",
    description="`enabled: true` enables a disabled endpoint again (its failure count restarts); "
    "deliveries that failed meanwhile are sent again with the replay route.",
)
async def change_endpoint(
    endpoint_id: str, body: EndpointChanges, request: Request, deps: NotificationDeps
) -> EndpointView:
    found = await _endpoint(deps, endpoint_id)
    changes = body.model_dump(exclude_none=True)
    if "url" in changes:
        changes["url"] = checked_url(changes["url"], request)
    if "event_types" in changes:
        changes["event_types"] = sorted(set(changes["event_types"]))
    rule = partial(rules.amend, changes=changes, now=deps.wall_clock())
    applied = await deps.repository.endpoints.apply(
        endpoint_id, None, on(EndpointDocument, rule), current=found
    )
    assert applied.document is not None
    await deps.webhooks.load(deps.repository)
    return EndpointView.of(applied.document, deps.wall_clock())


@router.delete(
    "/endpoints/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an endpoint",
    description="It receives nothing more and its secrets are dropped; its delivery log stays.",
)
async def remove_endpoint(endpoint_id: str, deps: NotificationDeps) -> None:
    found = await _endpoint(deps, endpoint_id)
    rule = partial(rules.remove, now=deps.wall_clock())
    await deps.repository.endpoints.apply(
        endpoint_id, None, on(EndpointDocument, rule), current=found
    )
    await deps.webhooks.load(deps.repository)


@router.post(
    "/endpoints/{endpoint_id}/secret",
    response_model=EndpointWithSecret,
    summary="Rotate the endpoint's secret",
    description="The new secret (shown once) signs from now on; the old one keeps signing "
    "beside it for 24 hours (two `v1,…` signatures), so the receiver can switch without "
    "refusing a delivery.",
)
async def rotate_secret(endpoint_id: str, deps: NotificationDeps) -> EndpointWithSecret:
    found = await _endpoint(deps, endpoint_id)
    secret, now = new_secret(), deps.wall_clock()
    rule = partial(rules.rotate, secret=secret, now=now)
    applied = await deps.repository.endpoints.apply(
        endpoint_id, None, on(EndpointDocument, rule), current=found
    )
    assert applied.document is not None
    return EndpointWithSecret(**EndpointView.of(applied.document, now).model_dump(), secret=secret)


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    response_model=list[DeliveryView],
    summary="The endpoint's delivery log, newest first",
)
async def delivery_log(
    endpoint_id: str,
    deps: NotificationDeps,
    status_: Literal["queued", "sending", "retrying", "sent", "failed"] | None = Query(
        None, alias="status"
    ),
    limit: int = Query(50, ge=1, le=500),
) -> list[DeliveryView]:
    await _endpoint(deps, endpoint_id)
    found = await handlers.deliveries(deps, endpoint_id, limit=limit, status=status_)
    return [DeliveryView.model_validate(document) for document in found]


@router.post(
    "/deliveries/{delivery_id}/replay",
    response_model=DeliveryView,
    summary="Send a delivery again",
    description="A failed or a delivered one, with the same `webhook-id` (the receiver may "
    "recognise it). 409 while it is still being delivered.",
)
async def replay_delivery(delivery_id: str, deps: NotificationDeps) -> DeliveryView:
    document = await handlers.resend(deps, delivery_id)
    if document is None:
        if await deps.repository.messages.get(delivery_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="delivery not found")
        raise _problem(
            409,
            "delivery_id",
            "delivery_in_progress",
            "La entrega aún está en curso: espere su resultado.",
            "The delivery is still in progress: wait for its outcome.",
        )
    return DeliveryView.model_validate(document)
