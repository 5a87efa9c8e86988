"""What the secretariat's routes answer when they refuse, and the media they serve.

Every refusal answers with reasons in Spanish and English (`{"code", "field", "message_es",
"message_en"}`), written for the person who will read them. Commands are idempotent by state:
repeating one changes nothing and publishes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status

from shared.contracts.envelope import FieldProblem

PDF = "application/pdf"
PNG = "image/png"

REFUSAL_EXAMPLE = {
    "detail": {
        "field": "quota",
        "code": "delegation_quota_full",
        "message_es": "La delegación «El Salvador» ya tiene sus 10 plazas ocupadas; …",
        "message_en": "The delegation “El Salvador” already fills its 10 seats; …",
    }
}


def refusal(problem: FieldProblem, code: int = status.HTTP_409_CONFLICT) -> HTTPException:
    return HTTPException(code, detail=problem.model_dump())


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "A valid access token is required; `detail` says why, in Spanish and English.",
        403: "Refused; `detail` says why, in Spanish and English.",
        404: "No such participant or delegation.",
        409: "Refused in the current state; `detail` says why, in Spanish and English.",
        503: "Not configured: badges (REGISTRATION_BADGE_SECRET) or parties' links "
        "(FORO_PARTICIPANT_TOKEN_SECRET), as the route says.",
    }
    return {
        code: {
            "description": described[code],
            "content": {"application/json": {"example": REFUSAL_EXAMPLE}},
        }
        for code in codes
    }


def sheet_headers(filename: str, skipped: list[dict[str, str]]) -> dict[str, str]:
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"}
    if skipped:
        headers["X-Foro-Skipped"] = ",".join(f"{s['participant_id']}:{s['code']}" for s in skipped)[
            :4000
        ]
    return headers
