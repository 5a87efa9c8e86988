"""The job fair's routes: open jobs (anyone), the employer's posts, applications, CVs and
interviews, and a participant's application with a CV."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile, status

from services.expo.access import SAFE_HEADERS, Applicant, Exhibitor, ExpoDeps
from services.expo.documents import ExhibitorDocument
from services.expo.jobfair import handlers
from services.expo.schemas import JobPost

public = APIRouter(tags=["public"])
mine = APIRouter(prefix="/me", tags=["exhibitor"])
people = APIRouter(tags=["participants and exhibitors"])

JOB_FIELDS = ("employer_name", "title", "description", "location", "posted_at")
APPLICATION_FIELDS = ("participant_id", "note", "received_at", "status", "interview", "erased")


@public.get("/jobs", summary="Open jobs of the job fair")
async def jobs(deps: ExpoDeps) -> list[dict[str, Any]]:
    return [
        {"job_id": j["_id"], **{k: j.get(k) for k in JOB_FIELDS}}
        for j in await deps.repository.open_jobs(deps.pack.forum.id)
    ]


@mine.post("/jobs", status_code=status.HTTP_201_CREATED, summary="Post a job (job-fair employers)")
async def post_job(body: JobPost, exhibitor: Exhibitor, deps: ExpoDeps) -> dict[str, Any]:
    employer = ExhibitorDocument.model_validate(exhibitor)
    document = await handlers.post_job(deps, employer, body)
    return {"job_id": document["_id"], "title": document["title"], "status": document["status"]}


@mine.get("/jobs/{job_id}/applications", summary="Applications to one of the employer's jobs")
async def applications(
    job_id: uuid.UUID, exhibitor: Exhibitor, deps: ExpoDeps
) -> list[dict[str, Any]]:
    job = await deps.repository.job(str(job_id))
    if job is None or job["exhibitor_id"] != exhibitor["_id"]:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="job not found")
    return [
        {
            "application_id": a["_id"],
            **{k: a.get(k) for k in APPLICATION_FIELDS},
            "has_cv": bool(a.get("cv_id")),
        }
        for a in await deps.repository.applications_of_job(str(job_id))
    ]


@mine.get(
    "/applications/{application_id}/cv",
    response_class=Response,
    summary="Download a CV sent to this employer",
)
async def download_cv(application_id: uuid.UUID, exhibitor: Exhibitor, deps: ExpoDeps) -> Response:
    employer = ExhibitorDocument.model_validate(exhibitor)
    cv = await handlers.cv_for_employer(deps, employer, str(application_id))
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
    application_id: uuid.UUID, exhibitor: Exhibitor, deps: ExpoDeps
) -> dict[str, Any]:
    employer = ExhibitorDocument.model_validate(exhibitor)
    document = await handlers.schedule_interview(deps, employer, str(application_id))
    return {"application_id": document["_id"], "interview": document.get("interview")}


@people.post(
    "/jobs/{job_id}/applications",
    status_code=status.HTTP_201_CREATED,
    summary="Apply to a job with a CV (PDF or DOCX)",
)
async def apply_job(
    job_id: uuid.UUID,
    participant_id: Applicant,
    deps: ExpoDeps,
    cv: UploadFile = File(...),
    note: str | None = Form(None, max_length=1000),
) -> dict[str, Any]:
    # Never more than one byte past the limit.
    data = await cv.read(deps.settings.cv_max_bytes + 1)
    document = await handlers.apply_to_job(
        deps, str(job_id), participant_id, data, cv.filename, note
    )
    return {"application_id": document["_id"], "status": document["status"]}


ROUTERS = (public, mine, people)
