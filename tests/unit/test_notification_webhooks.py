"""Outbound webhooks' rules: what an endpoint receives, the payload, a rotation's grace, and the
endpoint disabled after failures in a row."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from services.notification.webhooks import rules
from services.notification.webhooks.rules import EndpointDocument

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def endpoint(**fields: object) -> EndpointDocument:
    change = rules.register(
        "wh_1", "https://hooks.example.org/x", ["registration.confirmed"], "", "whsec_a", NOW
    )
    return EndpointDocument.model_validate({"_id": "wh_1", **change.set, **fields})


def test_an_endpoint_receives_what_it_chose_while_enabled() -> None:
    assert endpoint().receives("registration.confirmed")
    assert not endpoint().receives("registration.rejected")
    assert endpoint(event_types=["*"]).receives("registration.rejected")
    assert not endpoint(enabled=False).receives("registration.confirmed")


def test_the_payload_is_the_event_whole_under_type_and_timestamp() -> None:
    event = {
        "event_type": "registration.confirmed",
        "occurred_at": "2026-11-18T09:00:00Z",
        "x": "ñ",
    }
    sent = json.loads(rules.payload(event))
    assert sent == {
        "type": "registration.confirmed",
        "timestamp": "2026-11-18T09:00:00Z",
        "data": event,
    }
    assert rules.subject_of({"participant": {"participant_id": "p1"}}, "wh") == "p1"
    assert rules.subject_of({}, "wh") == "wh"


def test_a_rotation_keeps_the_old_secret_signing_for_its_grace_period_only() -> None:
    change = rules.rotate(endpoint(), "whsec_b", NOW)
    assert change is not None
    rotated = endpoint(**change.set)
    assert rotated.signing_secrets(NOW) == ["whsec_b", "whsec_a"]
    later = NOW + rules.OLD_SECRET_GRACE + timedelta(seconds=1)
    assert rotated.signing_secrets(later) == ["whsec_b"]
    assert change.events[0].change == "secret_rotated"
    assert "whsec" not in change.events[0].model_dump_json()


def test_failures_in_a_row_disable_the_endpoint_once() -> None:
    current = endpoint()
    for _ in range(2):
        change = rules.failed_attempt(current, 3, NOW)
        assert change is not None and not change.events
        current = endpoint(**{**current.dump(), **change.set})
    change = rules.failed_attempt(current, 3, NOW)
    assert change is not None and change.set["enabled"] is False
    assert change.set["disabled_reason"] == "3 failed attempts in a row"
    disabled = endpoint(**{**current.dump(), **change.set})
    assert rules.failed_attempt(disabled, 3, NOW) is None
    enabled = rules.amend(disabled, {"enabled": True}, NOW)
    assert enabled is not None and enabled.set["consecutive_failures"] == 0
    assert enabled.events[0].change == "enabled"
