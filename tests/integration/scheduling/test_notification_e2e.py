"""Moving a session, end to end: scheduling publishes, the real notification service tells each
affected person once (in-process, same broker namespace, SMTP sink)."""

from __future__ import annotations

from tests.integration.notification.conftest import (  # noqa: F401 - fixtures
    RunningNotification,
    clock,
    gateway,
    notification,
    notification_overrides,
    notification_providers,
    notification_settings,
    sink,
)
from tests.integration.scheduling.conftest import SLOW, RunningScheduling
from tests.support.bus import eventually


async def test_each_person_affected_by_a_move_is_told_once(
    notification: RunningNotification,  # noqa: F811 - the fixture imported above
    scheduling: RunningScheduling,
) -> None:
    http, auth = scheduling.http, scheduling.secretariat
    attendee = await scheduling.confirmed_participant(given_name="Pedro", language="en")
    await scheduling.projected(str(attendee.participant_id))
    people = [
        {
            "name": "Sam Speaker",
            "role": "speaker",
            "email": "sam.e2e@example.org",
            "language": "en",
        },
        {"name": "Rita Relatora", "role": "rapporteur", "email": "rita.e2e@example.org"},
    ]
    await http.put("/programme/sessions/B2.3/people", headers=auth, json=people)
    assert (
        await http.post(
            "/sessions/B2.3/signups",
            json={"participant_id": str(attendee.participant_id)},
            headers=scheduling.as_participant(str(attendee.participant_id)),
        )
    ).status_code == 201
    assert (await http.post("/programme/releases", headers=auth)).status_code == 201

    await http.patch(
        "/programme/sessions/B2.3",
        headers=auth,
        json={"room": "breakout_b", "expected_audience": 100},
    )
    assert (await http.post("/programme/releases", headers=auth)).status_code == 201
    [event] = await scheduling.tap.wait_for("session.rescheduled")
    assert len(event["affected"]) == 3

    told = {
        "sam.e2e@example.org": "Schedule change",
        "rita.e2e@example.org": "Cambio de horario",
        attendee.email: "Schedule change",
    }  # each in their own language

    def changes_to(address: str) -> list:
        return [m for m in notification.emails_to(address) if told[address] in str(m["Subject"])]

    async def everyone_told() -> bool:
        return all(changes_to(address) for address in told)

    await eventually(everyone_told, SLOW, what="every affected person told")
    await eventually(scheduling.outbox_empty, SLOW, what="outbox published")
    await notification.wait_ticks(2)  # a duplicate would have been sent by now
    for address in told:
        [message] = changes_to(address)
        assert "B2.3" in message.get_body(("plain",)).get_content()
