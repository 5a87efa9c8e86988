"""The action plan's follow-ups and the budget's alerts, through the API and the bus."""

from __future__ import annotations

from datetime import UTC, datetime

from services.reporting.action_plan.handlers import check_follow_ups
from tests.integration.reporting import events as ev
from tests.integration.reporting.conftest import RunningReporting


def distinct(events: list[dict]) -> list[dict]:
    """Events by id, in arrival order: the bus delivers at least once, a consumer dedups by id."""
    return list({event["event_id"]: event for event in events}.values())


OWNER = {
    "kind": "country",
    "code": "SV",
    "name": "El Salvador",
    "contact_email": "focal@rree.gob.sv",
    "language": "en",
}


async def test_an_action_item_past_its_deadline_is_flagged_and_its_owner_gets_one_follow_up(
    reporting: RunningReporting,
) -> None:
    async with reporting.http() as http:
        created = await http.post(
            "/action-items",
            json={
                "title": {"es": "Fondo de remesas productivas", "en": "Productive remittance fund"},
                "owner": OWNER,
                "deadline": "2005-01-10",
            },
        )
        assert created.status_code == 201, created.text
        item_id = created.json()["id"]

        assert await check_follow_ups(reporting.deps) == 0  # 5 January: not due yet
        reporting.clock.now = datetime(2005, 1, 12, 9, 0, tzinfo=UTC)
        assert await check_follow_ups(reporting.deps) == 1
        assert await check_follow_ups(reporting.deps) == 0  # checked again: no second reminder
        listed = (await http.get("/action-items")).json()
        assert [(i["id"], i["overdue"]) for i in listed] == [(item_id, True)]

        await reporting.settled()
        await reporting.tap.drain()
        [follow_up] = distinct(reporting.tap.of_type("action_item.follow_up_due"))
        assert follow_up["action_item_id"] == item_id
        assert (
            follow_up["owner"]["contact_email"] == "focal@rree.gob.sv"
            and follow_up["owner"]["language"] == "en"
        )
        assert follow_up["title"] == "Productive remittance fund" and follow_up["days_overdue"] == 2

        # A new deadline is a new promise: progress noted, and one reminder when it too passes.
        patched = await http.patch(
            f"/action-items/{item_id}",
            json={
                "deadline": "2005-02-01",
                "status": "in_progress",
                "note": "Borrador de convenio",
                "evidence_url": "https://example.org/convenio.pdf",
            },
        )
        assert patched.status_code == 200 and patched.json()["overdue"] is False
        reporting.clock.now = datetime(2005, 2, 3, 9, 0, tzinfo=UTC)
        assert await check_follow_ups(reporting.deps) == 1
    await reporting.settled()
    await reporting.tap.drain()
    assert [
        f["deadline"] for f in distinct(reporting.tap.of_type("action_item.follow_up_due"))
    ] == ["2005-01-10", "2005-02-01"]
    assert len(distinct(reporting.tap.of_type("action_item.created"))) == 1


async def test_a_budget_line_crossing_80_percent_emits_one_alert(
    reporting: RunningReporting,
) -> None:
    granted = ev.panelist_support(
        "committed", 1, "sup-1", "3000.00"
    )  # 60 % of the 5,000 panelist-support line
    await reporting.publish(granted)
    await reporting.settled()
    async with reporting.http() as http:
        for _ in range(2):  # the same expense recorded twice (a retried request) counts once
            response = await http.post(
                "/budget/entries",
                json={
                    "line": "panelist_support",
                    "kind": "expense",
                    "amount": "1100.00",
                    "description": "Hotel de panelistas",
                    "entry_id": "hotel-b3",
                },
            )
            assert response.status_code == 201, response.text
        await reporting.publish(granted)  # and the grant delivered again
        await reporting.settled()
        budget = (await http.get("/budget")).json()

    line = next(row for row in budget["lines"] if row["line"] == "panelist_support")
    assert (line["consumed_cents"], line["executed_cents"], line["percent"]) == (
        410_000,
        110_000,
        82.0,
    )
    await reporting.tap.drain()
    [alert] = distinct(reporting.tap.of_type("budget.threshold_crossed"))
    assert (alert["line"], alert["threshold_percent"], alert["consumed_cents"]) == (
        "panelist_support",
        80,
        410_000,
    )
