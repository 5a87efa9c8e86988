"""Statistics projected from other services' events: exact under duplicates, rebuildable from the log."""

from __future__ import annotations

import uuid

from services.reporting.bootstrap import build_deps
from services.reporting.budget.handlers import budget_execution
from services.reporting.projections.handlers import current_statistics
from services.reporting.rebuild import rebuild
from services.reporting.settings import ReportingSettings
from shared.persistence.mongo import create_mongo_client
from tests.integration.reporting import events as ev
from tests.integration.reporting.conftest import RunningReporting


def recorded_history() -> list[dict]:
    """A forum in miniature: sign-ups and their changes, check-ins, expo, job fair, messages,
    an erasure, a duplicate and an out-of-order delivery."""
    ana, ben, carla, dan = (
        ev.person(),
        ev.person(country="MX", language="en", category="civil_society"),
        ev.person(category="official_delegate", status="pending_approval"),
        ev.person(country="GT"),
    )
    late_update = ev.registration("registration.updated", ana, 5, organisation="OIM")
    history = [
        ev.registration("registration.confirmed", ana, 1),
        ev.registration("registration.confirmed", ben, 2),
        ev.registration("accreditation.requested", carla, 3),
        ev.registration("registration.confirmed", dan, 4),
        ev.registration("registration.cancelled", dan, 20, status="cancelled"),
        ev.registration(
            "registration.confirmed", dan, 6
        ),  # arrives after its cancellation: stays cancelled
        ev.checked_in(ana, 30),
        ev.checked_in(ana, 395, point="plenary"),  # 14:35 local in the plenary: B2.1
        ev.checked_in(ben, 32, point="entrance"),
        ev.checked_in(ben, 33, point="entrance"),  # the 2nd scan: nothing
        ev.consent_changed(ana, 35, listed=False),
        ev.erased(ben, 40),
        ev.session("session.signup_confirmed", 7, "B2.1", participant_id=ana["participant_id"]),
        ev.session(
            "session.signup_waitlisted", 8, "B2.1", participant_id=ben["participant_id"], position=1
        ),
        ev.session(
            "session.rescheduled",
            9,
            "B2.2",
            release=2,
            title={"es": "Bienes", "en": "Goods"},
            current={
                "starts_at": "2004-11-18T22:00:00+00:00",
                "ends_at": "2004-11-18T22:30:00+00:00",
                "time_zone": "America/El_Salvador",
                "room": "breakout_a",
            },
            affected=[],
        ),
        ev.expo(
            "exhibitor.approved",
            10,
            exhibitor_id="ex-1",
            sector="finance_remittances",
            zone="finance",
        ),
        ev.expo(
            "exhibitor.applied", 9, exhibitor_id="ex-2", sector="airlines_travel", zone="travel"
        ),
        ev.expo("booth.assigned", 11, booth="F01", exhibitor_id="ex-1"),
        ev.expo("booth.request_refused", 11, exhibitor_id="ex-2", zone="travel"),
        ev.expo("lead.captured", 12, lead_id="lead-1", exhibitor_id="ex-1"),
        ev.expo("lead.captured", 13, lead_id="lead-2", exhibitor_id="ex-1"),
        ev.expo("meeting.requested", 14, meeting_id="m-1"),
        ev.expo("meeting.confirmed", 15, meeting_id="m-1", table=4),
        ev.expo("launch.scheduled", 16, launch_id="l-1"),
        ev.expo("job.posted", 17, job_id="j-1"),
        ev.expo("job_application.received", 18, application_id="a-1", job_id="j-1"),
        ev.notification("notification.failed", 21, "msg-1"),
        ev.notification("notification.sent", 22, "msg-1"),
        ev.notification("notification.failed", 23, "msg-2", channel="sms"),
        ev.panelist_support("committed", 24, "sup-1", "850.00"),
        ev.envelope("something.unheard_of", 24, "vendor-x", forum_id="x"),
        late_update,
    ]
    return [*history, late_update]  # the last one delivered twice


async def fresh_statistics(settings: ReportingSettings) -> dict:
    mongo = create_mongo_client(settings.mongo_url.get_secret_value())
    try:
        return await current_statistics(build_deps(settings, mongo))
    finally:
        await mongo.close()


async def test_replaying_the_recorded_stream_twice_into_a_fresh_database_gives_identical_statistics(
    reporting: RunningReporting, reporting_settings: ReportingSettings, databases: list[str]
) -> None:
    await reporting.publish(*recorded_history())
    await reporting.settled()
    live = await current_statistics(reporting.deps)

    participants = live["participants"]
    assert participants["by_status"] == {"confirmed": 2, "cancelled": 1, "pending_approval": 1}
    assert participants["by_country"] == {"MX": 1, "SV": 1} and participants["erased"] == 1
    assert participants["check_in"]["checked_in"] == 2 and participants["check_in"]["rate"] == 1.0
    sessions = {row["code"]: row for row in live["sessions"]}
    assert (sessions["B2.1"]["attended"], sessions["B2.1"]["signed_up"]) == (1, 1)
    assert (
        sessions["B2.2"]["status"],
        sessions["B2.2"]["room"],
        sessions["B2.2"]["starts_at"],
    ) == ("rescheduled", "breakout_a", "16:00")
    expo = live["expo"]
    assert (expo["exhibitors"], expo["booths_assigned"], expo["launches"], expo["leads"]) == (
        2,
        1,
        1,
        2,
    )
    assert (expo["meetings"], expo["meetings_confirmed"]) == (1, 1)
    assert live["job_fair"] == {"posts": 1, "applications": 1}
    assert (live["notifications"]["sent"], live["notifications"]["failed"]) == (1, 1)
    assert live["events"]["total"] == len(recorded_history()) - 1
    assert live["events"]["by_type"]["something.unheard_of"] == 1
    assert (
        await reporting.deps.repository.public_participants(reporting.deps.forum_id) == []
    )  # ana withdrew, ben erased
    panelists = next(
        row for row in await budget_execution(reporting.deps) if row["line"] == "panelist_support"
    )
    assert panelists["committed_cents"] == 85_000

    fresh = reporting_settings.model_copy(
        update={"database": f"{reporting_settings.database}_rebuilt"}
    )
    databases.append(fresh.database)
    first = await rebuild(fresh)
    once = await fresh_statistics(fresh)
    second = await rebuild(fresh)
    twice = await fresh_statistics(fresh)

    assert first.events == second.events == len(recorded_history())
    assert once == twice == live


async def test_the_same_event_delivered_three_times_counts_once(
    reporting: RunningReporting,
) -> None:
    who = ev.person()
    confirmed, arrived = ev.registration("registration.confirmed", who, 1), ev.checked_in(who, 2)
    lead = ev.expo("lead.captured", 3, exhibitor_id="ex-9")  # no lead id: the event is the lead
    for _ in range(3):
        await reporting.publish(confirmed, arrived, lead)
    await reporting.settled()

    stats = await current_statistics(reporting.deps)
    assert stats["participants"]["confirmed"] == 1
    assert stats["participants"]["check_in"]["checked_in"] == 1
    assert stats["expo"]["leads"] == 1
    assert stats["events"]["by_type"] == {
        "registration.confirmed": 1,
        "attendee.checked_in": 1,
        "lead.captured": 1,
    }


async def test_an_event_that_is_not_an_event_is_dead_lettered_with_a_reason(
    reporting: RunningReporting,
) -> None:
    from tests.support.bus import dead_letters, handled_at_least

    bad = ev.envelope(
        "registration.confirmed",
        1,
        "registration",
        participant={"participant_id": str(uuid.uuid4())},
    )
    bad["occurred_at"] = "yesterday"
    await reporting.publish(bad)
    await handled_at_least(reporting.queue, 1, outcome="dead_lettered")
    [message] = await dead_letters(reporting.amqp, reporting.queue)
    assert "occurred_at" in message.headers["x-foro-dead-letter-reason"]
