"""Job fair: employers post jobs, participants apply with a CV (type and size checked on the
bytes), the CV is readable only by that employer and only as a download; interviews."""

from __future__ import annotations

import io
import zipfile

from tests.integration.expo.conftest import SECRETARIAT, RunningExpo, bearer

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


async def employer_with_job(expo: RunningExpo) -> tuple[str, str, str]:
    employer_id, token, _ = await expo.approved_exhibitor(
        exhibitor_type="job_fair_employer", sector=None, name="Talento de Retorno S.A."
    )
    async with expo.http() as http:
        posted = await http.post(
            "/me/jobs",
            headers=bearer(token),
            json={
                "title": "Ingeniera de software",
                "description": "Desarrollo de plataformas de remesas.",
                "location": "San Salvador",
            },
        )
    assert posted.status_code == 201, posted.text
    return employer_id, token, posted.json()["job_id"]


async def test_cv_too_large_or_of_a_forbidden_type_is_refused_and_an_accepted_one_is_for_that_employer_only(
    expo: RunningExpo,
) -> None:
    employer_id, employer_token, job_id = await employer_with_job(expo)
    _, rival_token, _ = await employer_with_job(expo)
    applicant = await expo.confirmed_participant()
    second = await expo.confirmed_participant()
    token, second_token = (
        await expo.participant_token(applicant),
        await expo.participant_token(second),
    )
    limit = expo.deps.settings.cv_max_bytes
    url = f"/jobs/{job_id}/applications"

    async with expo.http() as http:
        too_large = await http.post(
            url,
            headers=bearer(token),
            files={"cv": ("cv.pdf", PDF + b"0" * limit, "application/pdf")},
        )
        huge = await http.post(
            url,
            headers=bearer(token),
            files={"cv": ("cv.pdf", PDF + b"0" * (limit + 100_000), "application/pdf")},
        )
        html = await http.post(
            url,
            headers=bearer(token),
            files={"cv": ("cv.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")},
        )
        exe = await http.post(
            url,
            headers=bearer(token),
            files={"cv": ("cv.docx", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream")},
        )
        not_word = await http.post(
            url,
            headers=bearer(token),
            files={"cv": ("cv.docx", _zip_without_word(), "application/zip")},
        )
        anonymous = await http.post(url, files={"cv": ("cv.pdf", PDF, "application/pdf")})
        accepted = await http.post(
            url,
            headers=bearer(token),
            data={"note": "Disponible para volver"},
            files={"cv": ("mi <cv>.pdf", PDF, "text/html")},
        )
        duplicate = await http.post(
            url, headers=bearer(token), files={"cv": ("otro.pdf", PDF + b"x", "application/pdf")}
        )
        as_docx = await http.post(
            url,
            headers=bearer(second_token),
            files={"cv": ("cv.docx", docx(), "application/msword")},
        )

        application_id = accepted.json()["application_id"]
        listed = await http.get(f"/me/jobs/{job_id}/applications", headers=bearer(employer_token))
        download = await http.get(
            f"/me/applications/{application_id}/cv", headers=bearer(employer_token)
        )
        by_rival = await http.get(
            f"/me/applications/{application_id}/cv", headers=bearer(rival_token)
        )
        by_applicant = await http.get(
            f"/me/applications/{application_id}/cv", headers=bearer(token)
        )
        interview = await http.post(
            f"/me/applications/{application_id}/interview", headers=bearer(employer_token)
        )
        by_employer = await http.post(
            url,
            headers=bearer(employer_token),
            files={"cv": ("cv.pdf", PDF, "application/pdf")},
        )
        by_staff = await http.post(
            url, headers=SECRETARIAT, files={"cv": ("cv.pdf", PDF, "application/pdf")}
        )

    assert too_large.status_code == 413 and too_large.json()["detail"]["code"] == "cv_too_large"
    assert huge.status_code == 413 and huge.json()["detail"]["code"] == "cv_too_large"
    for refused in (html, exe, not_word):
        assert (
            refused.status_code == 415 and refused.json()["detail"]["code"] == "cv_type_not_allowed"
        )
        assert "PDF" in refused.json()["detail"]["en"] and "PDF" in refused.json()["detail"]["es"]
    assert anonymous.status_code == 401
    assert accepted.status_code == 201, accepted.text
    assert duplicate.status_code == 409
    assert as_docx.status_code == 201
    assert await expo.deps.repository.cvs.count_documents({}) >= 2

    assert [a["application_id"] for a in listed.json()] == [
        application_id,
        as_docx.json()["application_id"],
    ]
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == 'attachment; filename="micv.pdf"'
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    assert by_rival.status_code == 404 and by_applicant.status_code == 403
    assert by_applicant.json()["detail"]["permission"] == "exhibitor:self"
    assert by_employer.status_code == 403
    assert by_employer.json()["detail"]["permission"] == "jobs:apply"
    assert by_staff.status_code == 403
    assert by_staff.json()["detail"]["code"] == "participant_token_required"

    assert interview.status_code == 200 and interview.json()["interview"]["starts_at"]
    received = await expo.wait_events(
        "job_application.received", 2, lambda e: e["job_id"] == job_id
    )
    assert {e["participant_id"] for e in received} == {applicant, second}
    scheduled = await expo.wait_events(
        "interview.scheduled", 1, lambda e: e["application_id"] == application_id
    )
    assert scheduled[0]["exhibitor_id"] == employer_id
    posted = await expo.wait_events("job.posted", 1, lambda e: e["job_id"] == job_id)
    assert posted[0]["employer_name"] == "Talento de Retorno S.A."


async def test_only_job_fair_employers_post_jobs(expo: RunningExpo) -> None:
    _, token, _ = await expo.approved_exhibitor()
    async with expo.http() as http:
        refused = await http.post(
            "/me/jobs",
            headers=bearer(token),
            json={"title": "Cajero", "description": "Atención al cliente en agencia."},
        )
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "not_an_employer"


def _zip_without_word() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", b"MZ")
    return buffer.getvalue()
