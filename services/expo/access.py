"""Who calls expo's HTTP API, as FastAPI dependencies every capability's router shares.

- anyone: apply to exhibit, see the floor plan (SVG), the booths, the stage programme, open jobs;
- staff (`Authorization: Bearer <access token>`, `shared.auth.dependencies.require`): approve or
  reject exhibitors and rotate their tokens (`expo:manage`), see them (`expo:read`), run / reset
  the allocation and assign booths by hand (`expo:manage`), mint participant tokens
  (`participants:write`);
- an exhibitor (`Bearer <exhibitor token>`, issued once at approval, only its SHA-256 stored;
  the secretariat can rotate it): its booth, launches, badge scans and lead export, job posts,
  the CVs sent to its jobs, interviews;
- a participant (`Bearer <participant token>`, shared/participant_tokens.py; nothing stored):
  meeting requests and answers, job applications.

Staff tokens are checked by `shared.auth` (each route: `dependencies=[Depends(require(
Permission.X))]`), participant tokens by `shared.http.participant`: one check for every service.
Only the exhibitor's token is expo's own. The routers live at module level in each capability's
`api.py`; the service's dependencies reach them through `app.state.deps` (`ExpoDeps`).
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.expo.deps import Expo
from services.expo.exhibitors.rules import hash_token
from shared.contracts.expo import Party
from shared.http import participant

_bearer = HTTPBearer(
    auto_error=False, description="Secretariat, exhibitor or participant access token."
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def expo(request: Request) -> Expo:
    """The service's dependencies, as bootstrap built them."""
    return cast(Expo, request.app.state.deps)


ExpoDeps = Annotated[Expo, Depends(expo)]


def unauthorized(what: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=f"a valid {what} token is required (Authorization: Bearer …)",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _participant_id(request: Request, credentials: Credentials) -> str | None:
    """The participant a participant token names; None for any other token (a static
    secretariat token too: it acts for nobody here)."""
    try:
        caller = await participant(request, credentials)
    except HTTPException:
        return None
    return caller.participant_id


async def current_exhibitor(deps: ExpoDeps, credentials: Credentials) -> dict[str, Any]:
    if credentials is None:
        raise unauthorized("exhibitor")
    document = await deps.repository.exhibitor_by_token(hash_token(credentials.credentials))
    if document is None:
        raise unauthorized("exhibitor")
    return document


async def current_participant(request: Request, credentials: Credentials) -> str:
    participant_id = await _participant_id(request, credentials)
    if participant_id is None:
        raise unauthorized("participant")
    return participant_id


async def current_party(request: Request, deps: ExpoDeps, credentials: Credentials) -> Party:
    """A participant (their token) or an exhibitor (its token): a side of a B2B meeting."""
    if credentials is None:
        raise unauthorized("participant or exhibitor")
    if participant_id := await _participant_id(request, credentials):
        return Party(kind="participant", id=participant_id)
    if document := await deps.repository.exhibitor_by_token(hash_token(credentials.credentials)):
        return Party(kind="exhibitor", id=document["_id"])
    raise unauthorized("participant or exhibitor")


Exhibitor = Annotated[dict[str, Any], Depends(current_exhibitor)]
Participant = Annotated[str, Depends(current_participant)]
MeetingParty = Annotated[Party, Depends(current_party)]

SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
