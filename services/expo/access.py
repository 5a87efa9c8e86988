"""Who calls expo's HTTP API, as FastAPI dependencies every capability's router shares.

Every protected route names its permission through the one shared dependency,
`shared.auth.dependencies.require(Permission.X)`; the parties' routes then narrow the principal
to the party it is scoped to:

- anyone: apply to exhibit, see the floor plan (SVG), the booths, the stage programme, open jobs;
- staff (`Bearer <access token>`): see exhibitors (`expo:read`); approve or reject them, issue a
  new access token, run / reset the allocation and assign booths by hand (`expo:manage`);
- an exhibitor (`Bearer <exhibitor token>`: a link-signed token, role `exhibitor`, scoped to it,
  shown once at approval or at a rotation, which revokes the earlier ones): its own `/me`
  routes — booth, launches, badge scans and lead export, job posts, the CVs sent to its jobs,
  interviews (`exhibitor:self`, `Exhibitor`) — and B2B meetings;
- a participant (`Bearer <participant token>`, their personal code: registration mints it):
  B2B meetings (`meetings:take_part`, `MeetingParty`) and job applications (`jobs:apply`,
  `Applicant`).

A principal holding the permission but scoped to no such party (a staff account) is refused
with 403 naming what it lacks: those routes act as the party, never for it. The exhibitor's
document must exist and be approved. The routers live at module level in each capability's
`api.py`; the service's dependencies reach them through `app.state.deps` (`ExpoDeps`).
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, HTTPException, Request, status

from services.expo.deps import Expo
from shared.auth.dependencies import require
from shared.auth.errors import forbidden
from shared.auth.permissions import Permission
from shared.auth.principal import Principal
from shared.contracts.expo import Party


def expo(request: Request) -> Expo:
    """The service's dependencies, as bootstrap built them."""
    return cast(Expo, request.app.state.deps)


ExpoDeps = Annotated[Expo, Depends(expo)]


async def approved_exhibitor(deps: Expo, exhibitor_id: str) -> dict[str, Any]:
    """The exhibitor a token is scoped to: 404 when expo does not know it, 403 unless approved."""
    document = await deps.repository.exhibitor(exhibitor_id)
    if document is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail={
                "code": "exhibitor_unknown",
                "message_es": "Este acceso nombra un expositor que la expo no conoce.",
                "message_en": "This access names an exhibitor the expo does not know.",
            },
        )
    if document.get("status") != "approved":
        raise forbidden(
            "exhibitor_not_approved",
            "El expositor de este acceso no está aprobado.",
            "The exhibitor of this access is not approved.",
        )
    return document


async def current_exhibitor(
    deps: ExpoDeps, principal: Annotated[Principal, Depends(require(Permission.EXHIBITOR_SELF))]
) -> dict[str, Any]:
    """The approved exhibitor the token is scoped to (`own_exhibitor`: 403 for any other)."""
    return await approved_exhibitor(deps, principal.own_exhibitor())


async def current_applicant(
    principal: Annotated[Principal, Depends(require(Permission.JOBS_APPLY))],
) -> str:
    """The participant applying, with their own token (`own_participant`)."""
    return principal.own_participant()


async def current_party(
    deps: ExpoDeps,
    principal: Annotated[Principal, Depends(require(Permission.MEETINGS_TAKE_PART))],
) -> Party:
    """A side of a B2B meeting: the participant or the approved exhibitor the token names."""
    if principal.kind == "participant" and principal.participant is not None:
        return Party(kind="participant", id=principal.participant)
    if principal.exhibitor is not None:
        document = await approved_exhibitor(deps, principal.exhibitor)
        return Party(kind="exhibitor", id=document["_id"])
    raise forbidden(
        "meeting_party_required",
        "Las reuniones B2B las piden y responden participantes y expositores con su propio acceso.",
        "B2B meetings are requested and answered by participants and exhibitors with their own "
        "access.",
    )


Exhibitor = Annotated[dict[str, Any], Depends(current_exhibitor)]
Applicant = Annotated[str, Depends(current_applicant)]
MeetingParty = Annotated[Party, Depends(current_party)]

SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
