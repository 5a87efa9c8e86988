"""The job fair's use cases: an employer posts a job, a participant applies with a CV, the
employer reads the CV and schedules an interview at its booth (a slot free in both calendars)."""

from __future__ import annotations

import hashlib
import uuid
from functools import partial
from typing import Any

from services.expo.calendars import booking
from services.expo.common import Refused, refused
from services.expo.deps import Expo, calendar_id, on
from services.expo.documents import (
    ApplicationDocument,
    AttendeeDocument,
    ExhibitorDocument,
    JobDocument,
)
from services.expo.jobfair import rules
from services.expo.schemas import JobPost
from shared.contracts.envelope import derive_id


async def post_job(deps: Expo, employer: ExhibitorDocument, post: JobPost) -> dict[str, Any]:
    rules.require_employer(employer)
    job_id = str(uuid.uuid4())
    change = rules.posted(
        None, job_id, employer, post.title, post.description, post.location, deps.clock()
    )
    assert change is not None  # a new job always writes
    applied = await deps.repository.jobs.create(job_id, None, change)
    assert applied is not None and applied.document is not None  # a fresh id is free
    return applied.document


async def apply_to_job(
    deps: Expo,
    job_id: str,
    participant_id: str,
    data: bytes,
    filename: str | None,
    note: str | None,
) -> dict[str, Any]:
    repo = deps.repository
    job = JobDocument.read(await repo.job(job_id))
    rules.may_apply(job, AttendeeDocument.read(await repo.attendee(participant_id)))
    assert job is not None
    media_type, why_not = rules.cv_refusal(data, deps.settings.cv_max_bytes)
    if why_not is not None or media_type is None:
        assert why_not is not None
        raise Refused(413 if why_not.code == "cv_too_large" else 415, why_not)
    application_id = str(derive_id("application", job_id, participant_id))
    digest = hashlib.sha256(data).hexdigest()
    cv_id = str(derive_id(application_id, digest))
    await repo.store_cv(
        cv_id,
        data,
        media_type=media_type,
        filename=rules.safe_filename(filename, media_type),
        sha256=digest,
    )
    rule = partial(
        rules.received,
        application_id=application_id,
        job=job,
        participant_id=participant_id,
        cv_id=cv_id,
        note=note,
        now=deps.clock(),
    )
    applied = await repo.applications.apply(application_id, None, on(ApplicationDocument, rule))
    return applied.document or {}


async def cv_for_employer(
    deps: Expo, employer: ExhibitorDocument, application_id: str
) -> dict[str, Any]:
    application = ApplicationDocument.read(await deps.repository.application(application_id))
    # Another employer's application and a missing one look the same: nothing to learn by probing.
    if application is None or application.exhibitor_id != employer.id or not application.cv_id:
        raise refused(404, "not_found", "No existe ese CV.", "No such CV.")
    cv = await deps.repository.cv(application.cv_id)
    if cv is None:
        raise refused(404, "not_found", "No existe ese CV.", "No such CV.")
    return cv


async def schedule_interview(
    deps: Expo, employer: ExhibitorDocument, application_id: str
) -> dict[str, Any]:
    stored = await deps.repository.application(application_id)
    application = ApplicationDocument.read(stored)
    if (why_not := rules.interview_refusal(application, employer)) is not None:
        raise why_not
    assert stored is not None and application is not None
    if application.interview is not None:
        return stored
    hold_id = f"interview:{application_id}"
    parties = [
        calendar_id("participant", application.participant_id),
        calendar_id("exhibitor", employer.id),
    ]
    placed = await booking.place(
        deps, hold_id, parties, deps.settings.interview_minutes, table=False, kind="interview"
    )
    if placed is None:
        raise refused(
            409,
            "no_common_slot",
            "No queda un horario libre común durante la Expo.",
            "No common free slot is left during the Expo.",
        )
    slot, _ = placed
    rule = partial(rules.interview, forum_id=deps.pack.forum.id, slot=slot, booth=employer.booth)
    applied = await deps.repository.applications.apply(
        application_id, None, on(ApplicationDocument, rule)
    )
    return applied.document or {}
