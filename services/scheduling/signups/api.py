"""Session sign-up for participants: a participant with their own personal code signs
themselves up only; staff holding `signups:write` act for anyone."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, status

from services.scheduling.deps import Deps, Refused
from services.scheduling.programme.api import Body
from services.scheduling.signups import handlers
from shared.auth.dependencies import require
from shared.auth.permissions import Permission
from shared.auth.principal import Principal

router = APIRouter(tags=["session sign-up"])


class SignupBody(Body):
    participant_id: uuid.UUID


@router.post(
    "/sessions/{code}/signups",
    status_code=status.HTTP_201_CREATED,
    summary="Sign up for a session (confirmed participants)",
)
async def sign_up(
    code: str,
    body: SignupBody,
    request: Request,
    deps: Deps,
    principal: Principal = Depends(require(Permission.SIGNUPS_WRITE)),
) -> dict[str, Any]:
    participant_id = str(body.participant_id)
    principal.require_participant(participant_id)
    try:
        outcome = await handlers.sign_up(deps, code, participant_id)
    except Refused as error:
        raise error.as_http() from None
    return {
        "session_code": code,
        "participant_id": participant_id,
        "status": outcome.status,
        "position": outcome.position or None,
        "agenda_ics": deps.personal_feed_url(deps.public_base(request), participant_id),
    }


@router.delete(
    "/sessions/{code}/signups/{participant_id}", summary="Give up a seat or waitlist place"
)
async def give_up(
    code: str,
    participant_id: uuid.UUID,
    deps: Deps,
    principal: Principal = Depends(require(Permission.SIGNUPS_WRITE)),
) -> dict[str, Any]:
    principal.require_participant(str(participant_id))
    try:
        promoted = await handlers.cancel_signup(deps, code, str(participant_id))
    except Refused as error:
        raise error.as_http() from None
    return {"session_code": code, "participant_id": str(participant_id), "promoted": promoted}
