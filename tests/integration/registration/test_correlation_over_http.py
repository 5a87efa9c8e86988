"""A secretariat command over HTTP: every event it causes — the decision and the seat steps the
decision causes in turn — carries the request's `X-Correlation-Id`."""

from __future__ import annotations

import pytest

from tests.integration.registration.conftest import RunningRegistration, outbox_published
from tests.integration.registration.test_accreditation import pending_media


@pytest.fixture
def registration_settings(badge_settings):
    return badge_settings


async def test_an_approval_and_the_confirmation_it_causes_carry_the_request_s_correlation_id(
    registration: RunningRegistration, secretariat
) -> None:
    _, participant_id = await pending_media(registration)
    approved = await secretariat.post(
        f"/participants/{participant_id}/accreditation/approve",
        headers={"X-Correlation-Id": "desk-3:approve-0042"},
    )
    assert approved.status_code == 200
    assert approved.headers["x-correlation-id"] == "desk-3:approve-0042"

    (decision,) = await registration.tap.wait_for("accreditation.approved")
    (confirmed,) = await registration.tap.wait_for("registration.confirmed")
    await outbox_published(registration)
    assert decision["correlation_id"] == "desk-3:approve-0042"
    assert confirmed["correlation_id"] == "desk-3:approve-0042"
