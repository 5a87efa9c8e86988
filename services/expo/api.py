"""Expo's HTTP API.

Who may call what:
- anyone: apply to exhibit, see the floor plan (SVG), the booths, the stage programme, open jobs;
- the secretariat (`Authorization: Bearer <secretariat token>`, from settings): approve or reject
  exhibitors, run / reset the allocation, assign booths by hand, mint participant tokens;
- an exhibitor (`Bearer <exhibitor token>`, issued once at approval, only its SHA-256 stored;
  the secretariat can rotate it): its booth, launches, badge scans and lead export, job posts,
  the CVs sent to its jobs, interviews;
- a participant (`Bearer <participant token>`, an HMAC of the participant id the secretariat or
  the notification flow hands out; nothing stored): meeting requests and answers, job applications.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Response,
    UploadFile,
    status,
)
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.expo import handlers
from services.expo.domain import explain
from services.expo.domain import leads_csv as leads_csv_text
from services.expo.floorplan import render_floor_plan
from services.expo.handlers import Expo, hash_token
from services.expo.schemas import (
    BoothRequest,
    ExhibitorApplication,
    JobPost,
    LaunchRequest,
    ManualAssignment,
    MeetingRequest,
    Rejection,
    ReleaseBooth,
    Scan,
)
from services.expo.settings import ExpoSettings
from shared.contracts.expo import Party
from shared.http import require_token
from shared.participant_tokens import mint as participant_token
from shared.participant_tokens import verify as verify_participant_token

_bearer = HTTPBearer(auto_error=False, description="Exhibitor or participant access token.")

SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
PRIVATE_FIELDS = ("token_hash", "processed", "outbox", "outbox_pending", "version")


def exhibitor_view(document: dict[str, Any]) -> dict[str, Any]:
    view = {
        key: value for key, value in document.items() if key not in PRIVATE_FIELDS and key != "_id"
    }
    return {"exhibitor_id": document["_id"], **view}


def answer_view(answer: handlers.BoothAnswer) -> dict[str, Any]:
    return {
        "exhibitor_id": answer.exhibitor_id,
        "booth": answer.booth,
        "manual": answer.manual,
        "explanation": answer.explanation.model_dump(),
    }


def unauthorized(what: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=f"a valid {what} token is required (Authorization: Bearer …)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def build_routers(deps: Expo, settings: ExpoSettings) -> list[APIRouter]:
    repo = deps.repository
    secret = (
        settings.participant_token_secret.get_secret_value()
        if settings.participant_token_secret
        else ""
    )
    public = APIRouter(tags=["public"])
    secretariat = APIRouter(
        tags=["secretariat"], dependencies=[Depends(require_token(settings.api_tokens))]
    )
    mine = APIRouter(prefix="/me", tags=["exhibitor"])
    people = APIRouter(tags=["participants and exhibitors"])

    async def current_exhibitor(
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> dict[str, Any]:
        if credentials is None:
            raise unauthorized("exhibitor")
        document = await repo.exhibitor_by_token(hash_token(credentials.credentials))
        if document is None:
            raise unauthorized("exhibitor")
        return document

    async def current_participant(
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> str:
        participant_id = (
            verify_participant_token(secret, credentials.credentials) if credentials else None
        )
        if participant_id is None:
            raise unauthorized("participant")
        return participant_id

    async def current_party(
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> Party:
        if credentials is None:
            raise unauthorized("participant or exhibitor")
        if participant_id := verify_participant_token(secret, credentials.credentials):
            return Party(kind="participant", id=participant_id)
        if document := await repo.exhibitor_by_token(hash_token(credentials.credentials)):
            return Party(kind="exhibitor", id=document["_id"])
        raise unauthorized("participant or exhibitor")

    # --- public ---

    @public.post(
        "/exhibitors/applications", status_code=status.HTTP_202_ACCEPTED, summary="Apply to exhibit"
    )
    async def apply(application: ExhibitorApplication) -> dict[str, Any]:
        document = await handlers.submit_application(application, deps)
        return {
            "exhibitor_id": document["_id"],
            "status": document["status"],
            "zone": document["zone"],
        }

    @public.get(
        "/floor-plan.svg",
        response_class=Response,
        summary="The floor plan with exhibitor names (SVG)",
    )
    @public.get(
        "/floorplan.svg", response_class=Response, include_in_schema=False
    )  # the name the launcher prints
    async def floor_plan(lang: Literal["es", "en"] = "es") -> Response:
        svg = render_floor_plan(deps.pack, await repo.all_booths(), lang)
        return Response(
            svg,
            media_type="image/svg+xml",
            headers={
                **SAFE_HEADERS,
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            },
        )

    @public.get("/booths", summary="Booths, who holds them and why")
    async def booths() -> list[dict[str, Any]]:
        return [
            {
                "code": b["_id"],
                **{
                    k: b.get(k)
                    for k in (
                        "zone",
                        "tier",
                        "size_m2",
                        "price_usd",
                        "x",
                        "y",
                        "width",
                        "height",
                        "exhibitor_id",
                        "exhibitor_name",
                        "manual",
                    )
                },
            }
            for b in await repo.all_booths()
        ]

    @public.get("/launches", summary="Launches on the expo stage")
    async def launches() -> list[dict[str, Any]]:
        found = await repo.stage.collection.find(
            {"forum_id": deps.pack.forum.id}, {"launches": 1}
        ).to_list()
        return sorted(
            (entry for day in found for entry in day.get("launches", [])),
            key=lambda e: e["starts_at"],
        )

    @public.get("/jobs", summary="Open jobs of the job fair")
    async def jobs() -> list[dict[str, Any]]:
        return [
            {
                "job_id": j["_id"],
                **{
                    k: j.get(k)
                    for k in ("employer_name", "title", "description", "location", "posted_at")
                },
            }
            for j in await repo.open_jobs(deps.pack.forum.id)
        ]

    # --- secretariat ---

    @secretariat.get("/exhibitors", summary="Exhibitors and applications")
    async def list_exhibitors(
        status_: Literal["applied", "approved", "rejected"] | None = Query(None, alias="status"),
    ) -> list[dict[str, Any]]:
        return [exhibitor_view(d) for d in await repo.list_exhibitors(deps.pack.forum.id, status_)]

    @secretariat.get("/exhibitors/{exhibitor_id}", summary="One exhibitor")
    async def get_exhibitor(exhibitor_id: uuid.UUID) -> dict[str, Any]:
        document = await repo.exhibitor(str(exhibitor_id))
        if document is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="exhibitor not found")
        return exhibitor_view(document)

    @secretariat.post(
        "/exhibitors/{exhibitor_id}/approve",
        summary="Approve; returns the exhibitor's access token once",
    )
    async def approve(exhibitor_id: uuid.UUID) -> dict[str, Any]:
        document, token = await handlers.approve_exhibitor(str(exhibitor_id), deps)
        return {"exhibitor": exhibitor_view(document), "access_token": token}

    @secretariat.post("/exhibitors/{exhibitor_id}/reject", summary="Reject with a reason")
    async def reject(exhibitor_id: uuid.UUID, body: Rejection) -> dict[str, Any]:
        return exhibitor_view(await handlers.reject_exhibitor(str(exhibitor_id), body.reason, deps))

    @secretariat.post(
        "/exhibitors/{exhibitor_id}/token",
        summary="Issue a new access token (the old one stops working)",
    )
    async def rotate(exhibitor_id: uuid.UUID) -> dict[str, str]:
        return {"access_token": await handlers.rotate_token(str(exhibitor_id), deps)}

    @secretariat.post(
        "/allocation/run", summary="Allocate booths to every approved exhibitor without one"
    )
    async def run_allocation() -> list[dict[str, Any]]:
        return [answer_view(a) for a in await handlers.allocate_floor(deps)]

    @secretariat.post(
        "/allocation/reset", summary="Free every booth the rules assigned (manual ones stay)"
    )
    async def reset_allocation(body: ReleaseBooth) -> dict[str, int]:
        return {"released": await handlers.reset_allocation(deps, body.reason)}

    @secretariat.put(
        "/booths/{code}/assignment", summary="Assign a booth by hand (overrides the rules)"
    )
    async def assign(code: str, body: ManualAssignment) -> dict[str, Any]:
        return answer_view(
            await handlers.assign_manually(
                deps, code, str(body.exhibitor_id), body.reason, body.displace
            )
        )

    @secretariat.delete("/booths/{code}/assignment", summary="Free a booth")
    async def release(
        code: str, reason: str = Query(min_length=3, max_length=500)
    ) -> dict[str, str]:
        await handlers.release_manually(deps, code, reason)
        return {"booth": code, "status": "free"}

    @secretariat.post(
        "/participants/{participant_id}/token", summary="A participant's expo access token"
    )
    async def mint(participant_id: uuid.UUID) -> dict[str, str]:
        if not secret:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail="FORO_PARTICIPANT_TOKEN_SECRET is not set",
            )
        return {"access_token": participant_token(secret, str(participant_id))}

    # --- exhibitors ---

    @mine.get("", summary="The exhibitor this token belongs to")
    async def me(exhibitor: dict[str, Any] = Depends(current_exhibitor)) -> dict[str, Any]:
        return exhibitor_view(exhibitor)

    @mine.post("/booth-request", summary="Ask for a booth (answered at once, with the reason)")
    async def booth_request(
        response: Response,
        body: BoothRequest | None = None,
        exhibitor: dict[str, Any] = Depends(current_exhibitor),
    ) -> dict[str, Any]:
        answer = await handlers.request_booth(
            exhibitor["_id"], deps, body.booth_preferences if body else None
        )
        if answer.booth is None:
            response.status_code = status.HTTP_409_CONFLICT
        return answer_view(answer)

    @mine.post(
        "/launches",
        status_code=status.HTTP_201_CREATED,
        summary="Book a launch slot on the expo stage",
    )
    async def launch(
        body: LaunchRequest, exhibitor: dict[str, Any] = Depends(current_exhibitor)
    ) -> dict[str, Any]:
        return await handlers.schedule_launch(deps, exhibitor, body)

    @mine.post("/leads/scans", summary="Scan an attendee's badge")
    async def scan(
        body: Scan, response: Response, exhibitor: dict[str, Any] = Depends(current_exhibitor)
    ) -> dict[str, Any]:
        answer = await handlers.scan_badge(deps, exhibitor, body.code, body.note)
        if answer.stored and not answer.merged:
            response.status_code = status.HTTP_201_CREATED
        return {
            "stored": answer.stored,
            "lead_id": answer.lead_id,
            "merged": answer.merged,
            "scans": answer.scans,
            "explanation": answer.explanation.model_dump(),
        }

    @mine.get("/leads.csv", response_class=Response, summary="The exhibitor's leads as CSV")
    async def leads_csv(exhibitor: dict[str, Any] = Depends(current_exhibitor)) -> Response:
        text = leads_csv_text(await repo.leads_of(exhibitor["_id"]))
        return Response(
            text.encode("utf-8-sig"),
            media_type="text/csv; charset=utf-8",
            headers={**SAFE_HEADERS, "Content-Disposition": 'attachment; filename="leads.csv"'},
        )

    @mine.post(
        "/jobs", status_code=status.HTTP_201_CREATED, summary="Post a job (job-fair employers)"
    )
    async def post_job(
        body: JobPost, exhibitor: dict[str, Any] = Depends(current_exhibitor)
    ) -> dict[str, Any]:
        document = await handlers.post_job(deps, exhibitor, body)
        return {"job_id": document["_id"], "title": document["title"], "status": document["status"]}

    @mine.get("/jobs/{job_id}/applications", summary="Applications to one of the employer's jobs")
    async def applications(
        job_id: uuid.UUID, exhibitor: dict[str, Any] = Depends(current_exhibitor)
    ) -> list[dict[str, Any]]:
        job = await repo.job(str(job_id))
        if job is None or job["exhibitor_id"] != exhibitor["_id"]:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="job not found")
        return [
            {
                "application_id": a["_id"],
                **{
                    k: a.get(k)
                    for k in (
                        "participant_id",
                        "note",
                        "received_at",
                        "status",
                        "interview",
                        "erased",
                    )
                },
                "has_cv": bool(a.get("cv_id")),
            }
            for a in await repo.applications_of_job(str(job_id))
        ]

    @mine.get(
        "/applications/{application_id}/cv",
        response_class=Response,
        summary="Download a CV sent to this employer",
    )
    async def download_cv(
        application_id: uuid.UUID, exhibitor: dict[str, Any] = Depends(current_exhibitor)
    ) -> Response:
        cv = await handlers.cv_for_employer(deps, exhibitor, str(application_id))
        # Always a download, never rendered: no HTML, no sniffing, no scripts even if opened inline.
        return Response(
            bytes(cv["data"]),
            media_type=cv["media_type"],
            headers={
                **SAFE_HEADERS,
                "Content-Disposition": f'attachment; filename="{cv["filename"]}"',
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    @mine.post(
        "/applications/{application_id}/interview",
        summary="Schedule an interview at the employer's booth",
    )
    async def interview(
        application_id: uuid.UUID, exhibitor: dict[str, Any] = Depends(current_exhibitor)
    ) -> dict[str, Any]:
        document = await handlers.schedule_interview(deps, exhibitor, str(application_id))
        return {"application_id": document["_id"], "interview": document.get("interview")}

    # --- participants and exhibitors ---

    @people.post(
        "/meetings", status_code=status.HTTP_201_CREATED, summary="Ask someone for a B2B meeting"
    )
    async def request_meeting(
        body: MeetingRequest, party: Party = Depends(current_party)
    ) -> dict[str, Any]:
        document = await handlers.request_meeting(deps, party, body)
        return meeting_view(document)

    @people.post(
        "/meetings/{meeting_id}/accept", summary="Accept: the meeting gets a slot and a table"
    )
    async def accept(
        meeting_id: uuid.UUID, party: Party = Depends(current_party)
    ) -> dict[str, Any]:
        return meeting_view(await handlers.accept_meeting(deps, str(meeting_id), party))

    @people.post("/meetings/{meeting_id}/decline", summary="Decline a meeting request")
    async def decline(
        meeting_id: uuid.UUID, party: Party = Depends(current_party)
    ) -> dict[str, Any]:
        explanation = explain(
            "declined", "La otra parte declinó la reunión.", "The other party declined."
        )
        return meeting_view(
            await handlers.decline_meeting(deps, str(meeting_id), party, explanation)
        )

    @people.get("/meetings", summary="My meetings")
    async def my_meetings(party: Party = Depends(current_party)) -> list[dict[str, Any]]:
        found = await repo.meetings.collection.find(
            {"parties": handlers.calendar_id(party.kind, str(party.id))}
        ).to_list()
        return [meeting_view(m) for m in found]

    @people.post(
        "/jobs/{job_id}/applications",
        status_code=status.HTTP_201_CREATED,
        summary="Apply to a job with a CV (PDF or DOCX)",
    )
    async def apply_job(
        job_id: uuid.UUID,
        cv: UploadFile = File(...),
        note: str | None = Form(None, max_length=1000),
        participant_id: str = Depends(current_participant),
    ) -> dict[str, Any]:
        data = await cv.read(settings.cv_max_bytes + 1)  # never more than one byte past the limit
        document = await handlers.apply_to_job(
            deps, str(job_id), participant_id, data, cv.filename, note
        )
        return {"application_id": document["_id"], "status": document["status"]}

    return [public, secretariat, mine, people]


def meeting_view(document: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "status",
        "requester",
        "invitee",
        "topic",
        "starts_at",
        "ends_at",
        "table",
        "explanation",
        "requested_at",
    )
    return {"meeting_id": document["_id"], **{k: document.get(k) for k in keys}}
