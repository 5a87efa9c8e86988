"""The job fair's rules, free of I/O: who may post and apply, what a CV may be (judged by its
bytes), and what a post, an application and an interview write."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from services.expo.calendars.rules import Slot
from services.expo.common import Refused, explain, new_event, refused
from services.expo.documents import (
    ApplicationDocument,
    AttendeeDocument,
    ExhibitorDocument,
    JobDocument,
)
from shared.contracts.expo import (
    Explanation,
    InterviewScheduled,
    JobApplicationReceived,
    JobPosted,
)
from shared.decisions import Change

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EMPLOYER = "job_fair_employer"


def cv_refusal(data: bytes, max_bytes: int) -> tuple[str | None, Explanation | None]:
    """(media type, None) for an acceptable CV, or (None, why not). Looks at the bytes, never
    at the name or the declared type a browser sent."""
    if len(data) > max_bytes:
        return None, explain(
            "cv_too_large",
            f"El CV supera el máximo de {max_bytes // 1024} KB.",
            f"The CV is larger than the {max_bytes // 1024} KB limit.",
        )
    if len(data) == 0:
        return None, explain("cv_empty", "El archivo del CV está vacío.", "The CV file is empty.")
    if data.startswith(b"%PDF-"):
        return PDF, None
    if data.startswith(b"PK\x03\x04"):
        try:
            # The directory only; nothing is extracted.
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            names = set()
        if "word/document.xml" in names and "[Content_Types].xml" in names:
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return None, explain(
                    "cv_has_macros",
                    "El documento contiene macros; envíe un PDF o un DOCX sin macros.",
                    "The document contains macros; send a PDF or a macro-free DOCX.",
                )
            return DOCX, None
    return None, explain(
        "cv_type_not_allowed",
        "Solo se aceptan CV en PDF o DOCX.",
        "Only PDF or DOCX CVs are accepted.",
    )


def safe_filename(name: str | None, media_type: str) -> str:
    stem = (
        "".join(
            ch
            for ch in (name or "cv").rsplit(".", 1)[0]
            if ch.isascii() and (ch.isalnum() or ch in "-_")
        )[:60]
        or "cv"
    )
    return f"{stem}.{'pdf' if media_type == PDF else 'docx'}"


def require_employer(employer: ExhibitorDocument) -> None:
    if employer.exhibitor_type != EMPLOYER:
        raise refused(
            403,
            "not_an_employer",
            "Solo los empleadores de la bolsa de trabajo publican ofertas.",
            "Only job-fair employers post jobs.",
        )


def posted(
    document: JobDocument | None,
    job_id: str,
    employer: ExhibitorDocument,
    title: str,
    description: str,
    location: str | None,
    now: datetime,
) -> Change | None:
    """A new job of a job-fair employer (`require_employer`), with `job.posted`."""
    if document is not None:
        return None
    event = new_event(
        JobPosted,
        job_id,
        forum_id=employer.forum_id,
        job_id=job_id,
        exhibitor_id=employer.id,
        employer_name=employer.name,
        title=title,
        location=location,
    )
    return Change(
        set={
            "forum_id": employer.forum_id,
            "exhibitor_id": employer.id,
            "employer_name": employer.name,
            "title": title,
            "description": description,
            "location": location,
            "status": "open",
            "posted_at": now,
        },
        events=[event],
    )


def may_apply(job: JobDocument | None, attendee: AttendeeDocument | None) -> None:
    """Refused unless the job is open and the person's registration is confirmed."""
    if job is None or job.status != "open":
        raise refused(
            404,
            "no_such_job",
            "La oferta no existe o está cerrada.",
            "The job does not exist or is closed.",
        )
    if attendee is None or attendee.status != "confirmed" or attendee.erased:
        raise refused(
            403,
            "not_confirmed",
            "Solo participantes con inscripción confirmada pueden postular.",
            "Only participants with a confirmed registration may apply.",
        )


def received(
    document: ApplicationDocument | None,
    application_id: str,
    job: JobDocument,
    participant_id: str,
    cv_id: str,
    note: str | None,
    now: datetime,
) -> Change | None:
    """The application with its CV, with `job.application_received`; the same CV again is the
    same application, another one is refused."""
    if document is not None:
        if document.cv_id == cv_id:
            return None
        raise refused(
            409,
            "already_applied",
            "Ya postuló a esta oferta.",
            "You have already applied to this job.",
        )
    event = new_event(
        JobApplicationReceived,
        application_id,
        forum_id=job.forum_id,
        application_id=application_id,
        job_id=job.id,
        exhibitor_id=job.exhibitor_id,
        participant_id=participant_id,
    )
    return Change(
        set={
            "forum_id": job.forum_id,
            "job_id": job.id,
            "exhibitor_id": job.exhibitor_id,
            "participant_id": participant_id,
            "cv_id": cv_id,
            "cv_history": [cv_id],
            "note": note,
            "received_at": now,
            "status": "received",
        },
        events=[event],
    )


def interview_refusal(
    application: ApplicationDocument | None, employer: ExhibitorDocument
) -> Refused | None:
    if application is None or application.exhibitor_id != employer.id:
        return refused(404, "not_found", "No existe esa postulación.", "No such application.")
    if application.erased and application.interview is None:
        return refused(
            409,
            "erased",
            "La persona pidió borrar sus datos.",
            "The person asked for their data to be erased.",
        )
    return None


def interview(
    document: ApplicationDocument | None, forum_id: str, slot: Slot, booth: str | None
) -> Change | None:
    """The interview at the employer's booth, with `interview.scheduled`."""
    if document is None or document.interview is not None:
        return None
    event = new_event(
        InterviewScheduled,
        document.id,
        forum_id=forum_id,
        application_id=document.id,
        job_id=document.job_id,
        exhibitor_id=document.exhibitor_id,
        participant_id=document.participant_id,
        booth=booth,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
    )
    return Change(
        set={
            "status": "interview_scheduled",
            "interview": {"starts_at": slot.starts_at, "ends_at": slot.ends_at, "booth": booth},
        },
        events=[event],
    )


def erased(document: ApplicationDocument | None) -> Change | None:
    """The note and the CV gone; the application still counts."""
    return Change(set={"note": None, "cv_id": None, "erased": True}) if document else None
