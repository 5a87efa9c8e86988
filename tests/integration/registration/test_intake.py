"""Sign-up intake over AMQP against the real broker and database."""

from __future__ import annotations

import json

from shared.messaging.topology import DEAD_LETTER_REASON_HEADER
from tests.integration.registration.conftest import RunningRegistration
from tests.support.bus import dead_letters, eventually, handled, handled_at_least
from tests.support.factories import signup


async def outbox_empty(service: RunningRegistration) -> bool:
    return await service.deps.repository.collection.count_documents({"outbox_pending": True}) == 0


async def test_same_submission_delivered_three_times_makes_one_participant_and_one_confirmation(
    registration: RunningRegistration,
) -> None:
    body = json.dumps(signup()).encode()
    for _ in range(3):
        await registration.send(body)

    await handled_at_least(registration.submitted_queue, 3)
    await eventually(lambda: outbox_empty(registration), what="outbox published")
    await registration.tap.drain()

    assert len(await registration.participants()) == 1
    confirmed = registration.tap.of_type("registration.confirmed")
    assert len(confirmed) == 1
    assert confirmed[0]["participant"]["status"] == "confirmed"


async def test_resubmission_with_new_event_id_updates_the_same_participant(
    registration: RunningRegistration,
) -> None:
    first = signup()
    await registration.send(json.dumps(first).encode())
    await registration.tap.wait_for("registration.confirmed")

    corrected = {
        **signup(),
        "submission_id": first["submission_id"],
        "email": first["email"],
        "organisation": "OIM",
    }
    await registration.send(json.dumps(corrected).encode())
    updated = await registration.tap.wait_for("registration.updated")

    assert updated[0]["changed_fields"] == ["organisation"]
    participants = await registration.participants()
    assert len(participants) == 1 and participants[0]["organisation"] == "OIM"
    assert len(registration.tap.of_type("registration.confirmed")) == 1


async def test_invalid_json_and_schema_invalid_payloads_are_dead_lettered_with_a_reason(
    registration: RunningRegistration,
) -> None:
    await registration.send(b"{this is not json")
    await registration.send(json.dumps(signup(country="El Salvador", unexpected="x")).encode())
    valid = signup()
    await registration.send(json.dumps(valid).encode())

    confirmed = await registration.tap.wait_for("registration.confirmed")
    assert confirmed[0]["participant"]["email"] == valid["email"]
    await handled_at_least(registration.submitted_queue, 2, outcome="dead_lettered")

    reasons = {
        m.body[:5]: m.headers[DEAD_LETTER_REASON_HEADER]
        for m in await dead_letters(registration.amqp, registration.submitted_queue)
    }
    assert len(reasons) == 2
    assert "not valid JSON" in reasons[b"{this"]
    schema_reason = next(r for body, r in reasons.items() if body != b"{this")
    assert (
        "country:" in schema_reason
        and "unexpected: Extra inputs are not permitted" in schema_reason
    )
    assert "El Salvador" not in schema_reason  # rejected values (possibly personal data) stay out


async def test_operator_and_where_keys_are_rejected_before_any_database_call(
    registration: RunningRegistration,
) -> None:
    calls: list[str] = []
    repository = registration.deps.repository
    original_find, original_apply = repository.find_for_submission, repository.participants.apply

    async def counting_find(*args, **kwargs):
        calls.append("find_for_submission")
        return await original_find(*args, **kwargs)

    async def counting_apply(*args, **kwargs):
        calls.append("apply")
        return await original_apply(*args, **kwargs)

    repository.find_for_submission, repository.participants.apply = counting_find, counting_apply
    await registration.send(json.dumps(signup(email={"$ne": ""})).encode())
    await registration.send(json.dumps(signup(answers={"$where": "sleep(1000)"})).encode())
    await registration.send(json.dumps(signup(answers={"profile.admin": "true"})).encode())
    await handled_at_least(registration.submitted_queue, 3, outcome="dead_lettered")

    assert calls == []
    assert await registration.participants() == []
    reasons = [
        m.headers[DEAD_LETTER_REASON_HEADER]
        for m in await dead_letters(registration.amqp, registration.submitted_queue)
    ]
    assert any(r.startswith("email:") for r in reasons)
    assert sum("may contain only letters" in r for r in reasons) == 2


async def test_refused_sign_up_emits_rejection_with_field_reasons(
    registration: RunningRegistration,
) -> None:
    await registration.send(
        json.dumps(signup(category="astronaut", consents={"privacy_policy": False})).encode()
    )

    rejected = await registration.tap.wait_for("registration.rejected")
    codes = {reason["field"]: reason["code"] for reason in rejected[0]["reasons"]}
    assert codes == {
        "category": "unknown_category",
        "consents.privacy_policy": "privacy_policy_required",
    }
    assert all(reason["message_es"] and reason["message_en"] for reason in rejected[0]["reasons"])
    assert handled(registration.submitted_queue, "dead_lettered") == 0
