"""Reporting's use cases against an in-memory repository (tests/support/reporting_fakes.py): the
live fold writes what is in flight together, each event once; the rebuild's fold ends where the
live one does; conclusions, the action plan, the budget and the Memoria publish what they should."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.reporting.action_plan.handlers import check_follow_ups, create_action_item
from services.reporting.budget.handlers import budget_execution, record_budget_entry
from services.reporting.common import RuleViolation
from services.reporting.conclusions.handlers import draft_conclusion, move_conclusion
from services.reporting.deps import Reporting
from services.reporting.projections.fold import Fold
from services.reporting.projections.handlers import (
    LiveFold,
    current_statistics,
    event_view,
    fold_events,
    project_event,
)
from services.reporting.publishing.handlers import generate_document, report_content
from shared.errors import InvalidMessage
from shared.pack import load_pack
from tests.integration.reporting import events as ev
from tests.support.reporting_fakes import FakeReportingRepository

NOW = datetime(2005, 1, 12, 15, 0, tzinfo=UTC)
PACK = load_pack()


@pytest.fixture
def deps() -> Reporting:
    return Reporting(pack=PACK, repository=FakeReportingRepository(), clock=lambda: NOW)  # type: ignore[arg-type]


def repo(deps: Reporting) -> FakeReportingRepository:
    assert isinstance(deps.repository, FakeReportingRepository)
    return deps.repository


def forum_history(people: int = 6) -> list[dict[str, Any]]:
    """Sign-ups, changes, check-ins (one scanned twice), a session sign-up, expo activity."""
    who = [ev.person(category=c) for c in ("company", "media", "speaker")] + [
        ev.person() for _ in range(people - 3)
    ]
    history: list[dict[str, Any]] = []
    for minute, person in enumerate(who):
        history.append(ev.registration("registration.confirmed", person, minute))
        history.append(ev.checked_in(person, 30 + minute))
    history.append(ev.checked_in(who[0], 50))  # a second scan: nothing
    history.append(ev.registration("registration.cancelled", who[1], 60, status="cancelled"))
    history.append(ev.consent_changed(who[2], 61, listed=False))
    history.append(
        ev.session("session.signup_confirmed", 7, "B2.1", participant_id=who[0]["participant_id"])
    )
    history.append(ev.expo("exhibitor.approved", 10, exhibitor_id="ex-1", sector="other"))
    history.append(ev.expo("lead.captured", 12, lead_id="lead-1", exhibitor_id="ex-1"))
    return history


async def test_deliveries_in_flight_are_written_together_and_each_event_counts_once(
    deps: Reporting,
) -> None:
    history = forum_history()
    live = LiveFold(deps)
    # Every event delivered twice, all in flight at once: as the broker redelivers.
    await asyncio.gather(*(live.project(body) for body in [*history, *history]))

    calls = repo(deps).calls
    # The first delivery is written alone; the rest wait for it and go as one batch.
    assert calls["bulk_write participants"] <= 2 and calls["insert event_ledger"] <= 2
    stats = await current_statistics(deps)
    assert stats["participants"]["by_status"] == {"confirmed": 5, "cancelled": 1}
    assert stats["participants"]["check_in"]["checked_in"] == 5
    assert stats["participants"]["by_sector"] == {"private": 4, "speakers": 1}
    assert stats["events"]["total"] == len(history)
    assert stats["expo"]["leads"] == 1


async def test_a_delivery_returns_only_once_the_batch_holding_it_is_written(
    deps: Reporting,
) -> None:
    who = ev.person()
    confirmed = ev.registration("registration.confirmed", who, 1)
    await LiveFold(deps).project(confirmed)  # what the consumer acks after
    assert repo(deps).participant(who["participant_id"])["status"] == "confirmed"
    assert confirmed["event_id"] in repo(deps).ledger


async def test_an_event_the_rules_refuse_is_refused_alone(deps: Reporting) -> None:
    good = ev.registration("registration.confirmed", ev.person(), 1)
    bad = ev.registration("registration.confirmed", ev.person(consents="no"), 2)
    live = LiveFold(deps)
    outcomes = await asyncio.gather(live.project(good), live.project(bad), return_exceptions=True)
    assert outcomes[0] == "registration.confirmed"
    assert isinstance(outcomes[1], InvalidMessage) and "participant" in outcomes[1].reason
    assert list(repo(deps).ledger) == [good["event_id"]]
    with pytest.raises(InvalidMessage, match="occurred_at"):
        event_view({**good, "occurred_at": "yesterday"})


async def test_a_document_another_writer_changed_meanwhile_is_folded_again_on_what_it_wrote(
    deps: Reporting,
) -> None:
    who = ev.person()
    pid = who["participant_id"]
    await project_event(ev.registration("registration.confirmed", who, 1), deps)
    fake = repo(deps)
    other = ev.checked_in(who, 5, point="plenary")

    def another_writer(collection: str, writes: Any) -> None:
        fake.before_write = None  # once
        rival = Fold(deps.forum_id)
        rival.read(("participants", pid), fake.participant(pid))
        rival.add(event_view(other))
        [(_, write)] = list(rival.writes())
        stored = fake.participant(pid)
        stored.update(write.fields)
        stored["version"] += 1
        stored["processed"] += list(write.causes)

    fake.before_write = another_writer
    await project_event(ev.checked_in(who, 3, point="entrance"), deps)
    assert set(fake.participant(pid)["checkins"]) == {"2004-11-18__entrance", "2004-11-18__plenary"}
    assert fake.calls["find participants"] == 3  # the first sign-up, this batch, its retry


async def test_the_rebuilds_fold_ends_with_the_documents_the_live_fold_wrote(
    deps: Reporting,
) -> None:
    history = forum_history(20)
    live = repo(deps)
    rng = random.Random(11)
    shuffled = rng.sample(history, len(history))
    for start in range(0, len(shuffled), 5):  # the live way: batches as deliveries arrive
        await fold_events(deps, [event_view(b) for b in shuffled[start : start + 5]])

    rebuilt = Reporting(pack=PACK, repository=FakeReportingRepository(), clock=lambda: NOW)  # type: ignore[arg-type]
    await fold_events(rebuilt, [event_view(b) for b in history], absent=True)  # the rebuild's way

    def contents(fake: FakeReportingRepository) -> dict[str, Any]:
        return {
            name: {
                doc_id: {k: v for k, v in doc.items() if k not in ("version", "processed")}
                for doc_id, doc in documents.items()
            }
            for name, documents in fake.projections.items()
        }

    assert contents(repo(rebuilt)) == contents(live)
    assert set(repo(rebuilt).ledger) == set(live.ledger)
    assert await current_statistics(rebuilt) == await current_statistics(deps)


async def test_panelist_support_is_a_budget_entry_and_alerts_once(deps: Reporting) -> None:
    granted = ev.panelist_support("committed", 1, "sup-1", "4500.00")  # 90 % of 5,000
    await project_event(granted, deps)
    await project_event(granted, deps)
    line = next(row for row in await budget_execution(deps) if row["line"] == "panelist_support")
    assert (line["committed_cents"], line["alerted"]) == (450_000, [80])
    assert repo(deps).published() == ["budget.threshold_crossed"]
    unknown = {**ev.panelist_support("committed", 2, "sup-2", "10.00"), "budget_line": "nope"}
    with pytest.raises(InvalidMessage, match="not a budget line"):
        await project_event(unknown, deps)


async def test_a_secretariat_entry_with_the_same_id_counts_once(deps: Reporting) -> None:
    for _ in range(2):
        await record_budget_entry(deps, "consultancies", "expense", 100_000, "Estudio", "inv-1")
    line = next(row for row in await budget_execution(deps) if row["line"] == "consultancies")
    assert line["executed_cents"] == 100_000
    assert repo(deps).published() == ["budget.entry_recorded"]  # who changed the line: audited
    with pytest.raises(RuleViolation, match="not a budget line"):
        await record_budget_entry(deps, "nope", "expense", 1, "x")


async def test_a_conclusion_is_drafted_submitted_and_approved_once_each(deps: Reporting) -> None:
    texts = {"es": {"title": "Remesas", "key_issues": "", "discussion": "", "way_forward": ""}}
    with pytest.raises(RuleViolation, match="not in the programme"):
        await draft_conclusion(deps, "Z9", texts, None)
    drafted = await draft_conclusion(deps, "B2.1", texts, "Relatoría")
    for action in ("submit", "approve", "approve"):
        await move_conclusion(deps, drafted["_id"], action)  # type: ignore[arg-type]
    assert repo(deps).published() == [
        "conclusion.drafted",
        "conclusion.submitted",
        "conclusion.approved",
    ]


async def test_an_overdue_line_of_action_reminds_its_owner_once(deps: Reporting) -> None:
    with pytest.raises(RuleViolation, match="unknown conclusions"):
        await create_action_item(
            deps, {"es": "x"}, {"kind": "country", "code": "SV", "name": "SV"}, "2005-01-10", ["c"]
        )
    await create_action_item(
        deps,
        {"es": "Fondo", "en": "Fund"},
        {"kind": "country", "code": "SV", "name": "El Salvador", "language": "es"},
        "2005-01-10",
        [],
    )
    assert await check_follow_ups(deps) == 1
    assert await check_follow_ups(deps) == 0
    assert repo(deps).published() == ["action_item.created", "action_item.follow_up_due"]


async def test_the_same_memoria_twice_is_one_version_announced_once(deps: Reporting) -> None:
    who = ev.person(given_name="Íñigo", family_name="Núñez")
    await project_event(ev.registration("registration.confirmed", who, 1), deps)
    first = await generate_document(deps, "memoria", "es")
    again = await generate_document(deps, "memoria", "es")
    assert first["_id"] == again["_id"]
    assert repo(deps).published() == ["report.generated"]
    found = await report_content(deps, first["_id"], "html")
    assert found is not None and "Núñez, Íñigo" in found[0].decode()
    assert (await report_content(deps, first["_id"], "pdf")) is not None
    assert await report_content(deps, str(uuid.uuid4()), "pdf") is None
