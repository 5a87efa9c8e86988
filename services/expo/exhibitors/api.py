"""Exhibitors' routes: apply (anyone), the secretariat's decisions, the exhibitor's own view."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status

from services.expo.access import Exhibitor, ExpoDeps
from services.expo.exhibitors import handlers
from services.expo.schemas import ExhibitorApplication, Rejection
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.auth.tokens import SignedToken

# `token_hash`: the hashed key of exhibitors approved before their access was signed (unused).
PRIVATE_FIELDS = ("token_hash", "processed", "outbox", "outbox_pending", "version")

public = APIRouter(tags=["public"])
secretariat_router = APIRouter(tags=["secretariat"])
mine = APIRouter(prefix="/me", tags=["exhibitor"])


def exhibitor_view(document: dict[str, Any]) -> dict[str, Any]:
    view = {
        key: value for key, value in document.items() if key not in PRIVATE_FIELDS and key != "_id"
    }
    return {"exhibitor_id": document["_id"], **view}


def access_view(signed: SignedToken) -> dict[str, Any]:
    """An access token as it is handed out, once: the text, its id (revocation, audit), expiry."""
    return {
        "access_token": signed.token,
        "token_id": signed.jti,
        "expires_at": signed.expires_at,
    }


@public.post(
    "/exhibitors/applications", status_code=status.HTTP_202_ACCEPTED, summary="Apply to exhibit"
)
async def apply(application: ExhibitorApplication, deps: ExpoDeps) -> dict[str, Any]:
    document = await handlers.submit_application(application, deps)
    return {"exhibitor_id": document["_id"], "status": document["status"], "zone": document["zone"]}


@secretariat_router.get(
    "/exhibitors",
    summary="Exhibitors and applications",
    dependencies=[Depends(require(Permission.EXPO_READ))],
)
async def list_exhibitors(
    deps: ExpoDeps,
    status_: Literal["applied", "approved", "rejected"] | None = Query(None, alias="status"),
) -> list[dict[str, Any]]:
    found = await deps.repository.list_exhibitors(deps.pack.forum.id, status_)
    return [exhibitor_view(d) for d in found]


@secretariat_router.get(
    "/exhibitors/{exhibitor_id}",
    summary="One exhibitor",
    dependencies=[Depends(require(Permission.EXPO_READ))],
)
async def get_exhibitor(exhibitor_id: uuid.UUID, deps: ExpoDeps) -> dict[str, Any]:
    document = await deps.repository.exhibitor(str(exhibitor_id))
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="exhibitor not found")
    return exhibitor_view(document)


@secretariat_router.post(
    "/exhibitors/{exhibitor_id}/approve",
    summary="Approve; returns the exhibitor's access token once",
    dependencies=[Depends(require(Permission.EXPO_MANAGE))],
)
async def approve(exhibitor_id: uuid.UUID, deps: ExpoDeps) -> dict[str, Any]:
    document, signed = await handlers.approve_exhibitor(str(exhibitor_id), deps)
    return {"exhibitor": exhibitor_view(document), **access_view(signed)}


@secretariat_router.post(
    "/exhibitors/{exhibitor_id}/reject",
    summary="Reject with a reason",
    dependencies=[Depends(require(Permission.EXPO_MANAGE))],
)
async def reject(exhibitor_id: uuid.UUID, body: Rejection, deps: ExpoDeps) -> dict[str, Any]:
    return exhibitor_view(await handlers.reject_exhibitor(str(exhibitor_id), body.reason, deps))


@secretariat_router.post(
    "/exhibitors/{exhibitor_id}/token",
    summary="Issue a new access token, shown once (every earlier one is revoked)",
    dependencies=[Depends(require(Permission.EXPO_MANAGE))],
)
async def rotate(exhibitor_id: uuid.UUID, deps: ExpoDeps) -> dict[str, Any]:
    return access_view(await handlers.rotate_access(str(exhibitor_id), deps))


@mine.get("", summary="The exhibitor this token is scoped to")
async def me(exhibitor: Exhibitor) -> dict[str, Any]:
    return exhibitor_view(exhibitor)


ROUTERS = (public, secretariat_router, mine)
