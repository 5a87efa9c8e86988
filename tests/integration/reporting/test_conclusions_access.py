"""A rapporteur's access to conclusions: they list their sessions' conclusions only, draft and
submit their own for review; approving or returning one is the secretariat's
(`conclusions:review`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.reporting.settings import ReportingSettings
from shared.auth.permissions import Role
from shared.auth.tokens import TokenSigner, encode_pem, generate_key_pair
from tests.integration.reporting.conftest import RunningReporting

PRIVATE, PUBLIC = generate_key_pair()
SIGNER = TokenSigner(PRIVATE, "conclusions-test")


@pytest.fixture
def reporting_settings(reporting_settings: ReportingSettings) -> ReportingSettings:
    return reporting_settings.model_copy(
        update={"auth_public_keys": {"conclusions-test": encode_pem(PUBLIC)}}
    )


def bearer(*roles: Role, sessions: list[str] | None = None, name: str = "r1") -> dict[str, str]:
    token = SIGNER.sign(
        subject=f"account:{name}",
        kind="staff",
        roles=roles,
        lifetime=timedelta(hours=1),
        sessions=sessions or (),
    ).token
    return {"Authorization": f"Bearer {token}"}


def body(session: str, title: str) -> dict[str, Any]:
    return {"session_code": session, "texts": {"es": {"title": title}}, "rapporteur": "R"}


async def test_a_rapporteur_lists_and_submits_their_own_sessions_conclusions_only(
    reporting: RunningReporting,
) -> None:
    rapporteur = bearer(Role.RAPPORTEUR, sessions=["B1.1"])
    reviewer = bearer(Role.ADMIN, name="secretariat")
    async with reporting.http() as http:
        theirs = await http.post("/conclusions", json=body("B1.1", "Suya"), headers=rapporteur)
        assert theirs.status_code == 201, theirs.text
        other = await http.post("/conclusions", json=body("B1.2", "Ajena"), headers=reviewer)
        assert other.status_code == 201, other.text
        theirs_id, other_id = theirs.json()["id"], other.json()["id"]

        listed = await http.get("/conclusions", headers=rapporteur)
        assert listed.status_code == 200, listed.text
        assert [c["id"] for c in listed.json()] == [theirs_id]
        everyone = await http.get("/conclusions", headers=reviewer)
        assert {c["id"] for c in everyone.json()} == {theirs_id, other_id}

        # another session's conclusion: not theirs to submit
        refused = await http.post(f"/conclusions/{other_id}/submit", headers=rapporteur)
        assert refused.status_code == 403
        assert refused.json()["detail"]["code"] == "session_not_assigned"
        submitted = await http.post(f"/conclusions/{theirs_id}/submit", headers=rapporteur)
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["status"] == "submitted"

        # approving or returning is the secretariat's
        for action in ("approve", "return"):
            denied = await http.post(f"/conclusions/{theirs_id}/{action}", headers=rapporteur)
            assert denied.status_code == 403
            assert denied.json()["detail"]["permission"] == "conclusions:review"
        approved = await http.post(f"/conclusions/{theirs_id}/approve", headers=reviewer)
        assert approved.json()["status"] == "approved"
        approved_only = await http.get(
            "/conclusions", params={"status": "approved"}, headers=rapporteur
        )
        assert [c["id"] for c in approved_only.json()] == [theirs_id]

        missing = await http.post(
            "/conclusions/00000000-0000-0000-0000-000000000001/submit", headers=rapporteur
        )
        assert missing.status_code == 404
