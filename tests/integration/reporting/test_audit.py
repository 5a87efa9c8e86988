"""The audit trail: who did what, when — from every event reporting consumes, per participant,
delegation, exhibitor, session, budget line, staff account, access token and actor; as pages and
as CSV; one entry per event
however often it is delivered; nothing personal of an erased person left; rebuilt from the log."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.reporting.audit.handlers import audit_export, audit_page
from services.reporting.audit.rules import ERASED, SYSTEM
from services.reporting.deps import Reporting
from services.reporting.projections.handlers import LiveFold
from services.reporting.rebuild import rebuild
from services.reporting.repository import ReportingRepository
from services.reporting.settings import ReportingSettings
from shared.auth.tokens import TokenSigner, encode_pem, generate_key_pair
from shared.contracts.envelope import Actor, acting_as
from shared.contracts.registration import (
    AccessRevoked,
    AccessTokenIssued,
    AccountCreated,
    AccountDisabled,
    AccountRolesChanged,
)
from shared.persistence.mongo import create_mongo_client
from tests.integration.reporting import events as ev
from tests.integration.reporting.conftest import RunningReporting
from tests.support.bus import eventually
from tests.support.factories import FORUM_ID
from tests.support.wire import FilterRecorder, indexes_used, located_by, scans

PRIVATE, PUBLIC = generate_key_pair()
SIGNER = TokenSigner(PRIVATE, "audit-test")


@pytest.fixture
def reporting_settings(reporting_settings: ReportingSettings) -> ReportingSettings:
    """Reporting verifying staff tokens signed with the test key (the development secretariat
    token still works as an admin)."""
    return reporting_settings.model_copy(
        update={"auth_public_keys": {"audit-test": encode_pem(PUBLIC)}}
    )


REGISTRAR: dict[str, Any] = {
    "subject": "account:registrar-1",
    "kind": "staff",
    "roles": ["registrar"],
    "token_id": "6f2d0c1e-jti-registrar",
}
FINANCE_BOT: dict[str, Any] = {
    "subject": "token:9b1c",
    "kind": "machine",
    "roles": ["finance"],
    "token_id": "9b1c",
}


def acting(actor: dict[str, Any] | None, event: dict[str, Any]) -> dict[str, Any]:
    """`event` as caused by `actor` (the envelope's `actor`; None: no person caused it)."""
    return {**event, "actor": actor}


def own(who: dict[str, Any]) -> dict[str, Any]:
    """The actor of a participant acting on their own."""
    return {
        "subject": f"participant:{who['participant_id']}",
        "kind": "participant",
        "roles": [],
        "token_id": f"pt-{who['participant_id'][:8]}",
    }


def member_nominated(delegation: str, who: dict[str, Any], minute: int) -> dict[str, Any]:
    return ev.envelope(
        "delegation.member_nominated",
        minute,
        "registration",
        delegation_id=f"{FORUM_ID}:{delegation}",
        forum_id=FORUM_ID,
        participant_id=who["participant_id"],
        seats_used=1,
        quota=5,
    )


def cancel_requested(who: dict[str, Any], minute: int) -> dict[str, Any]:
    return ev.envelope(
        "registration.cancel_requested",
        minute,
        "registration",
        forum_id=FORUM_ID,
        participant_id=who["participant_id"],
        email=who["email"],
        reason=f"No puedo viajar, {who['given_name']} {who['family_name']}",
    )


async def audit(reporting: RunningReporting, **filters: str) -> list[dict[str, Any]]:
    """Every entry matching `filters`, page by page (two per page, to walk the cursor)."""
    entries: list[dict[str, Any]] = []
    params: dict[str, Any] = {**filters, "limit": 2}
    async with reporting.http() as http:
        while True:
            response = await http.get("/audit", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["entries"]) <= 2
            entries += page["entries"]
            if page["next"] is None:
                return entries
            assert page["next"] == params.get("offset", 0) + 2
            params["offset"] = page["next"]


async def stored_entries(settings: ReportingSettings) -> dict[str, dict[str, Any]]:
    mongo = create_mongo_client(settings.mongo_url.get_secret_value())
    try:
        return {doc["_id"]: doc async for doc in mongo[settings.database]["audit"].find({})}
    finally:
        await mongo.close()


async def test_every_event_is_an_entry_with_its_actor_found_by_each_subject(
    reporting: RunningReporting,
) -> None:
    ana, luis = ev.person(), ev.person()
    exhibitor = str(uuid.uuid4())
    history = [
        acting(REGISTRAR, ev.registration("accreditation.approved", ana, 1)),
        acting(REGISTRAR, member_nominated("SV", ana, 2)),
        acting(None, ev.registration("registration.confirmed", ana, 3)),
        ev.checked_in(ana, 4),  # an envelope without `actor` at all (an older producer)
        acting(
            own(luis),
            ev.session(
                "session.signup_confirmed",
                5,
                "B2.1",
                participant_id=luis["participant_id"],
                title={"es": "Panel", "en": "Panel"},
                slot={},
            ),
        ),
        acting(
            REGISTRAR,
            ev.expo(
                "exhibitor.approved",
                6,
                exhibitor_id=exhibitor,
                name="Acme S.A.",
                contact_email="ventas@acme.example",
            ),
        ),
        acting(
            REGISTRAR,
            ev.expo(
                "lead.captured",
                7,
                lead_id=str(uuid.uuid4()),
                exhibitor_id=exhibitor,
                participant_id=ana["participant_id"],
            ),
        ),
        acting(FINANCE_BOT, ev.panelist_support("committed", 8, "support-1", "800.00")),
    ]
    await reporting.publish(*history)
    await reporting.settled()

    about_ana = await audit(reporting, participant=ana["participant_id"])
    assert [e["type"] for e in about_ana] == [
        "accreditation.approved",
        "delegation.member_nominated",
        "registration.confirmed",
        "attendee.checked_in",
        "lead.captured",
    ]
    assert [e["event_id"] for e in about_ana] == [history[i]["event_id"] for i in (0, 1, 2, 3, 6)]
    first = about_ana[0]
    assert first["actor"] == REGISTRAR
    assert first["occurred_at"].startswith("2004-11-18T14:01:00")
    assert first["participant"] == [ana["participant_id"]]
    # no person caused these: the system did
    assert [e["actor"]["subject"] for e in about_ana[2:4]] == [SYSTEM, SYSTEM]

    assert [e["type"] for e in await audit(reporting, delegation="SV")] == [
        "delegation.member_nominated"
    ]
    assert [e["type"] for e in await audit(reporting, delegation=f"{FORUM_ID}:SV")] == [
        "delegation.member_nominated"
    ]
    assert [e["type"] for e in await audit(reporting, exhibitor=exhibitor)] == [
        "exhibitor.approved",
        "lead.captured",
    ]
    by_session = await audit(reporting, session="B2.1")
    assert [e["type"] for e in by_session] == [
        "session.signup_confirmed",
        "travel_support.committed",
    ]
    assert by_session[0]["actor"]["subject"] == f"participant:{luis['participant_id']}"
    by_line = await audit(reporting, budget_line="panelist_support")
    assert [(e["type"], e["actor"]["subject"]) for e in by_line] == [
        ("travel_support.committed", "token:9b1c")
    ]
    by_registrar = await audit(reporting, actor=REGISTRAR["subject"])
    assert [e["event_id"] for e in by_registrar] == [history[i]["event_id"] for i in (0, 1, 5, 6)]
    assert await audit(reporting, participant=ana["participant_id"], actor=SYSTEM) == about_ana[2:4]
    assert await audit(reporting, participant=str(uuid.uuid4())) == []

    # Nothing personal of anyone was copied: no name, e-mail, company contact.
    stored = json.dumps(list((await stored_entries_of(reporting)).values()), default=str)
    for text in (ana["family_name"], ana["email"], luis["email"], "Acme", "ventas@", "@"):
        assert text not in stored


async def stored_entries_of(reporting: RunningReporting) -> dict[str, dict[str, Any]]:
    return {doc["_id"]: doc async for doc in reporting.deps.repository.audit.entries.find({})}


async def test_identity_changes_are_found_by_account_and_by_token(
    reporting: RunningReporting,
) -> None:
    """Registration's identity events, as its rules make them: who created an account, changed
    its roles, disabled it, issued and revoked an API token — the projections fold them (nothing
    to count) and the trail answers per account and per token, with the actor."""
    operator = Actor(subject="cli:root", kind="operator")
    admin = Actor(subject="account:admin", kind="staff", roles=["admin"], token_id="jti-admin-1")
    expires = datetime(2005, 2, 16, tzinfo=UTC)
    with acting_as(operator):
        created = AccountCreated(
            producer="registration-identity",
            username="door-1",
            roles=["door_staff"],
            delegation=f"{FORUM_ID}:SV",
        )
    with acting_as(admin):
        changed = AccountRolesChanged(
            producer="registration-identity",
            username="door-1",
            previous_roles=["door_staff"],
            roles=["registrar", "door_staff"],
        )
        issued = AccessTokenIssued(
            producer="registration-identity",
            token_id="5f2c9a0e4b7d4c1e9a3f6b2d8c0e1a47",
            roles=["observer"],
            scope=["statistics:read"],
            expires_at=expires,
        )
        revoked = AccessRevoked(
            producer="registration-identity", token_id=issued.token_id, expires_at=expires
        )
        disabled = AccountDisabled(producer="registration-identity", username="door-1")
    history = [
        json.loads(e.model_dump_json()) for e in (created, changed, issued, revoked, disabled)
    ]
    await reporting.publish(*history)
    await reporting.settled()

    about_door = await audit(reporting, account="Door-1")
    assert [(e["type"], e["actor"]["subject"]) for e in about_door] == [
        ("account.created", "cli:root"),
        ("account.roles_changed", "account:admin"),
        ("account.disabled", "account:admin"),
    ]
    assert about_door[0]["delegation"] == ["SV"]  # a focal point's account: the delegation's too
    assert about_door[1]["actor"] == admin.model_dump()
    about_token = await audit(reporting, token=issued.token_id)
    assert [e["type"] for e in about_token] == ["access.token_issued", "access.revoked"]
    by_admin = await audit(reporting, actor="account:admin")
    assert [e["event_id"] for e in by_admin] == [history[i]["event_id"] for i in (1, 2, 3, 4)]
    # what the roles became, the scope, the expiry are the events'; an entry keeps ids
    stored = json.dumps(list((await stored_entries_of(reporting)).values()), default=str)
    assert "statistics:read" not in stored and "registrar" not in stored


async def test_a_filter_is_required_and_each_is_checked(reporting: RunningReporting) -> None:
    async with reporting.http() as http:
        missing = await http.get("/audit")
        assert missing.status_code == 422
        assert missing.json()["detail"]["field"] == "query"
        assert missing.json()["detail"]["message_es"] and missing.json()["detail"]["message_en"]
        shaped = await http.get("/audit", params={"participant": "ana@example.org"})
        assert shaped.status_code == 422
        assert "participant" in shaped.text
        anonymous = await http.get(
            "/audit", params={"participant": "x"}, headers={"Authorization": ""}
        )
        assert anonymous.status_code == 401


async def test_the_export_is_csv_with_a_header_in_order(reporting: RunningReporting) -> None:
    ana = ev.person()
    history = [
        acting(REGISTRAR, ev.registration("accreditation.approved", ana, 1)),
        acting(REGISTRAR, member_nominated("GT", ana, 2)),
        acting(None, ev.registration("registration.confirmed", ana, 3)),
    ]
    await reporting.publish(*history)
    await reporting.settled()
    async with reporting.http() as http:
        response = await http.get(
            "/audit/export.csv", params={"participant": ana["participant_id"]}
        )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "audit.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in history]
    assert [r["actor"] for r in rows] == [REGISTRAR["subject"], REGISTRAR["subject"], SYSTEM]
    assert rows[0]["actor_roles"] == "registrar" and rows[0]["token_id"] == REGISTRAR["token_id"]
    assert rows[1]["delegation"] == "GT"
    assert {r["participant"] for r in rows} == {ana["participant_id"]}


async def test_a_redelivered_event_makes_no_second_entry(reporting: RunningReporting) -> None:
    ana = ev.person()
    event = acting(REGISTRAR, ev.registration("accreditation.approved", ana, 1))
    await reporting.publish(event)
    await reporting.publish(event)
    await reporting.publish(event)
    await reporting.settled()
    assert [e["event_id"] for e in await audit(reporting, participant=ana["participant_id"])] == [
        event["event_id"]
    ]


async def test_an_erased_participant_leaves_ids_and_types_only(
    reporting: RunningReporting, reporting_settings: ReportingSettings
) -> None:
    luis, ana = ev.person(given_name="Luis"), ev.person()
    before = [
        acting(own(luis), ev.registration("registration.updated", luis, 1, organisation="Otra")),
        acting(own(luis), cancel_requested(luis, 2)),
        acting(REGISTRAR, ev.registration("accreditation.approved", ana, 3)),
    ]
    await reporting.publish(*before)
    await reporting.settled()
    assert {
        e["actor"]["subject"] for e in await audit(reporting, participant=luis["participant_id"])
    } == {f"participant:{luis['participant_id']}"}

    erasure = acting(REGISTRAR, ev.erased(luis, 10))
    await reporting.publish(erasure)
    await reporting.settled()
    # an event the participant caused, arriving after the erasure (a retry, a slow queue)
    late = acting(own(luis), ev.checked_in(luis, 5))
    await reporting.publish(late)
    await reporting.settled()

    entries = await audit(reporting, participant=luis["participant_id"])
    assert [e["type"] for e in entries] == [
        "registration.updated",
        "registration.cancel_requested",
        "attendee.checked_in",
        "participant.erased",
    ]
    erased_actor: dict[str, Any] = {
        "subject": ERASED,
        "kind": ERASED,
        "roles": [],
        "token_id": None,
    }
    assert [e["actor"] for e in entries] == [erased_actor] * 3 + [REGISTRAR]
    assert await audit(reporting, actor=f"participant:{luis['participant_id']}") == []
    # someone else's entries keep their actor
    [approval] = await audit(reporting, participant=ana["participant_id"])
    assert approval["actor"] == REGISTRAR

    stored = json.dumps(list((await stored_entries(reporting_settings)).values()), default=str)
    for text in (
        luis["family_name"],
        luis["email"],
        "Luis",
        "Otra",
        "No puedo viajar",
        own(luis)["subject"],
        own(luis)["token_id"],
    ):
        assert text not in stored
    for entry in entries:
        assert set(entry) <= {
            "event_id",
            "type",
            "occurred_at",
            "producer",
            "correlation_id",
            "actor",
            "participant",
        }


async def test_a_rebuild_reproduces_the_entries(
    reporting: RunningReporting, reporting_settings: ReportingSettings, databases: list[str]
) -> None:
    luis, ana = ev.person(), ev.person()
    history = [
        acting(own(luis), cancel_requested(luis, 1)),
        acting(REGISTRAR, ev.registration("accreditation.approved", ana, 2)),
        acting(REGISTRAR, member_nominated("HN", ana, 3)),
        acting(FINANCE_BOT, ev.panelist_support("committed", 4, "support-2", "500.00")),
        acting(None, ev.registration("registration.confirmed", ana, 5)),
        acting(REGISTRAR, ev.erased(luis, 6)),
    ]
    await reporting.publish(*history)
    await reporting.publish(history[1])  # delivered twice
    await reporting.settled()
    live = await stored_entries(reporting_settings)
    assert len(live) == len(history)

    fresh = reporting_settings.model_copy(
        update={"database": f"{reporting_settings.database}_rebuilt"}
    )
    databases.append(fresh.database)
    await rebuild(fresh)
    assert await stored_entries(fresh) == live

    # and in place: a trail that lost its entries, or holds outdated ones, is rewritten
    trail = reporting.deps.repository.audit
    await trail.entries.delete_one({"_id": history[2]["event_id"]})
    await trail.entries.update_one(
        {"_id": history[3]["event_id"]}, {"$set": {"budget_line": ["outdated"]}}
    )
    await rebuild(reporting_settings)
    assert await stored_entries(reporting_settings) == live
    assert live[history[0]["event_id"]]["actor"]["subject"] == ERASED


async def test_every_audit_query_is_answered_from_an_index_each_index_used(
    reporting: RunningReporting, reporting_settings: ReportingSettings, mongo_url: str
) -> None:
    """What the trail sends — the fold's writes with an erasure and a participant acting, each
    filter alone and combined, the export — explained against its own indexes, over a few
    hundred entries."""
    people = [ev.person() for _ in range(60)]
    history = [
        acting(REGISTRAR, ev.registration("accreditation.approved", who, minute))
        for minute, who in enumerate(people)
    ] + [acting(own(who), ev.checked_in(who, 100 + minute)) for minute, who in enumerate(people)]
    await reporting.publish(*history)
    await reporting.settled()

    recorder = FilterRecorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, event_listeners=[recorder], tz_aware=True
    )
    try:
        database = client[reporting_settings.database]
        deps = Reporting(
            pack=reporting.deps.pack,
            repository=ReportingRepository(database),
            clock=reporting.deps.clock,
        )
        luis, ana = people[0], people[1]
        exhibitor = str(uuid.uuid4())
        await LiveFold(deps).project(acting(own(luis), cancel_requested(luis, 300)))
        await LiveFold(deps).project(acting(REGISTRAR, ev.erased(luis, 301)))
        await LiveFold(deps).project(acting(REGISTRAR, member_nominated("SV", ana, 302)))
        await LiveFold(deps).project(
            acting(REGISTRAR, ev.expo("exhibitor.approved", 303, exhibitor_id=exhibitor))
        )
        await LiveFold(deps).project(
            acting(FINANCE_BOT, ev.panelist_support("committed", 304, "s", "1.00"))
        )
        for filters in (
            {"participant": ana["participant_id"]},
            {"delegation": "SV"},
            {"exhibitor": exhibitor},
            {"session": "B2.1"},
            {"budget_line": "panelist_support"},
            {"action_item": str(uuid.uuid4())},
            {"report": "memoria-es-1"},
            {"account": "door-1"},
            {"token": "5f2c9a0e4b7d4c1e9a3f6b2d8c0e1a47"},
            {"actor": REGISTRAR["subject"]},
            {"participant": ana["participant_id"], "actor": REGISTRAR["subject"]},
        ):
            await audit_page(deps, filters, offset=0, limit=10)
            [chunk async for chunk in audit_export(deps, filters)]

        issued = [(name, query) for name, query in recorder.filters if name.startswith("audit")]
        plans = []
        for index, (name, query) in enumerate(recorder.filters):
            if not name.startswith("audit"):
                continue
            cursor = database[name].find(located_by(query))
            if sort := recorder.sorts.get(index):
                cursor = cursor.sort(list(sort.items()))
            plans.append((name, query, await cursor.explain()))
        assert len(plans) == len(issued) >= 20
        scanned = [(name, query) for name, query, plan in plans if scans(plan)]
        assert not scanned, f"collection scans: {scanned}"
        used = set().union(*(indexes_used(plan) for name, _, plan in plans if name == "audit"))
        defined = set(await database["audit"].index_information()) - {"_id_"}
        assert defined and defined <= used, f"indexes no query uses: {sorted(defined - used)}"
        assert set(await database["audit_erasures"].index_information()) == {"_id_"}
    finally:
        await client.close()


async def test_staff_requests_are_audited_with_their_account_role_and_token(
    reporting: RunningReporting,
) -> None:
    """End to end: a signed-in admin adds a line of action over HTTP; the event it causes
    carries the admin as its actor (the request's principal), reporting consumes it, and the
    audit names the account, its role and the token — readable with `audit:read` only."""
    admin = SIGNER.sign(
        subject="account:ana", kind="staff", roles=["admin"], lifetime=timedelta(hours=1)
    )
    observer = SIGNER.sign(
        subject="account:obs", kind="staff", roles=["observer"], lifetime=timedelta(hours=1)
    )
    as_admin = {"Authorization": f"Bearer {admin.token}"}
    async with reporting.http() as http:
        created = await http.post(
            "/action-items",
            headers=as_admin,
            json={
                "title": {"es": "Fondo de remesas", "en": "Remittance fund"},
                "owner": {
                    "kind": "country",
                    "code": "SV",
                    "name": "El Salvador",
                    "contact_email": "focal@rree.gob.sv",
                    "language": "es",
                },
                "deadline": "2005-06-30",
            },
        )
        assert created.status_code == 201, created.text
        item = created.json()["id"]

        async def audited() -> list[dict[str, Any]]:
            page = await http.get("/audit", params={"action_item": item}, headers=as_admin)
            assert page.status_code == 200, page.text
            return list(page.json()["entries"])

        await eventually(lambda: _nonempty(audited()), what="the action item's audit entry")
        [entry] = await audited()
        assert entry["type"] == "action_item.created"
        assert entry["actor"] == {
            "subject": "account:ana",
            "kind": "staff",
            "roles": ["admin"],
            "token_id": admin.jti,
        }
        assert "@" not in json.dumps(entry) and "Fondo" not in json.dumps(entry)
        by_actor = await http.get("/audit", params={"actor": "account:ana"}, headers=as_admin)
        assert [e["event_id"] for e in by_actor.json()["entries"]] == [entry["event_id"]]

        # who changed a budget line: the secretariat's entries are events too
        finance = SIGNER.sign(
            subject="account:fin", kind="staff", roles=["finance"], lifetime=timedelta(hours=1)
        )
        recorded = await http.post(
            "/budget/entries",
            headers={"Authorization": f"Bearer {finance.token}"},
            json={
                "line": "consultancies",
                "kind": "expense",
                "amount": "1250.00",
                "description": "Estudio de Ana López",
                "entry_id": "inv-7",
            },
        )
        assert recorded.status_code == 201, recorded.text

        async def line_audited() -> bool:
            page = await http.get(
                "/audit", params={"budget_line": "consultancies"}, headers=as_admin
            )
            return bool(page.json()["entries"])

        await eventually(line_audited, what="the budget entry's audit entry")
        page = await http.get("/audit", params={"budget_line": "consultancies"}, headers=as_admin)
        [change] = page.json()["entries"]
        assert change["type"] == "budget.entry_recorded"
        assert change["actor"]["subject"] == "account:fin" and change["actor"]["roles"] == [
            "finance"
        ]
        assert "Ana" not in json.dumps(change)

        refused = await http.get(
            "/audit",
            params={"action_item": item},
            headers={"Authorization": f"Bearer {observer.token}"},
        )
        assert refused.status_code == 403
        assert "audit:read" in refused.text


async def _nonempty(entries: Awaitable[list[dict[str, Any]]]) -> bool:
    return bool(await entries)
