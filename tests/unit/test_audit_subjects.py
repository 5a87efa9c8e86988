"""The audit trail's subject table and entries, against every event type foro has.

Each contract's own examples (every field of a contract has one) make a sample event of each
type; a type without a row in `audit/subjects.py` fails here, as does a row whose paths find no
id in its own event, and an entry that copies anything of an event but ids, codes and times.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import uuid
from typing import Any

import pytest

import shared.contracts
from services.reporting.audit.rules import (
    CSV_HEADER,
    ERASED,
    SYSTEM,
    UNKNOWN,
    actor_of,
    csv_row,
    entries_of,
    entry_of,
    query_of,
)
from services.reporting.audit.subjects import ID, KINDS, NO_SUBJECT, SUBJECTS, subjects_of
from services.reporting.projections.views import read_event
from shared.contracts.envelope import Event, event_class

for module in pkgutil.iter_modules(shared.contracts.__path__):
    importlib.import_module(f"shared.contracts.{module.name}")


def event_types() -> list[str]:
    """Every event type of `shared/contracts`, from the registry every `Event` subclass joins."""
    found: set[str] = set()
    pending = list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        default = cls.model_fields["event_type"].default
        if isinstance(default, str):
            found.add(default)
    return sorted(found)


def example(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A value for `schema` from the examples its fields carry."""
    if "$ref" in schema:
        return example(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("examples", "default", "const", "enum"):
        if schema.get(key) is not None:
            return schema[key][0] if key in ("examples", "enum") else schema[key]
    if "anyOf" in schema:
        option = next(o for o in schema["anyOf"] if o.get("type") != "null")
        described = ("examples", "const", "enum", "$ref", "properties", "items")
        if "default" in schema and not any(key in option for key in described):
            return None  # an optional field without an example: left out
        return example(option, defs)
    if "properties" in schema:
        return {name: example(field, defs) for name, field in schema["properties"].items()}
    if schema.get("type") == "array":
        return [example(schema.get("items", {}), defs)]
    return {"string": "x", "integer": 1, "number": 1, "boolean": True}.get(schema.get("type", ""))


def sample(event_type: str, **envelope: Any) -> dict[str, Any]:
    """A valid event of `event_type`, as it travels (JSON), built from its contract's examples."""
    cls = event_class(event_type)
    schema = cls.model_json_schema()
    body = example(schema, schema.get("$defs", {}))
    body["event_id"] = str(uuid.uuid4())
    valid = json.loads(cls.model_validate_json(json.dumps(body)).model_dump_json())
    # After validation: the envelope's `actor` is as the raw event carries it, whether or not the
    # contract declares it yet.
    return {**valid, **envelope}


def strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*map(strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(strings, value)) if value else set()
    return {value} if isinstance(value, str) else set()


ALL = event_types()


def test_every_event_type_is_filed_under_a_subject_or_deliberately_under_none() -> None:
    """A new event type fails here until someone decides what its audit entry concerns: a row
    in `SUBJECTS` naming at least one kind, or a line in `NO_SUBJECT` saying why none."""
    assert len(ALL) > 50
    undecided = [t for t in ALL if not SUBJECTS.get(t) and t not in NO_SUBJECT]
    assert not undecided, (
        "event types filed under no audit subject: add a row to SUBJECTS or a reason to "
        f"NO_SUBJECT in services/reporting/audit/subjects.py: {undecided}"
    )
    both = [t for t in ALL if SUBJECTS.get(t) and t in NO_SUBJECT]
    assert not both, f"event types both filed under subjects and under none: {both}"
    assert all(reason.strip() for reason in NO_SUBJECT.values())


PARTY_SUBJECTS = {
    "participant": "participant:0b9d3a36-0d4e-4c55-9d59-5d7e4d1d2f10",
    "exhibitor": "exhibitor:5d7e4d1d-0d4e-4c55-9d59-0b9d3a362f10",
    "delegation": "focal_point:SV",
}


@pytest.mark.parametrize("event_type", ALL)
def test_each_kind_a_row_names_is_found_in_its_own_event(event_type: str) -> None:
    body = sample(event_type)
    if isinstance(body.get("requester"), dict):  # a meeting: a participant asks an exhibitor
        body["requester"]["kind"] = "participant"
    if event_type == "access.subject_revoked":  # one party's subject: each kind in turn
        for kind, subject in PARTY_SUBJECTS.items():
            found = subjects_of(event_type, {**body, "subject": subject})
            assert found == {kind: [subject.partition(":")[2]]}, (kind, found)
        return
    found = subjects_of(event_type, body)
    assert set(found) == set(SUBJECTS.get(event_type, {})), (event_type, found)
    for kind, ids in found.items():
        assert kind in KINDS and ids and all(ID.fullmatch(i) for i in ids), (kind, ids)
        # ids, not words: a participant's and an exhibitor's are uuids
        if kind in ("participant", "exhibitor"):
            assert all(uuid.UUID(i) for i in ids)


@pytest.mark.parametrize("event_type", ALL)
def test_an_entry_copies_nothing_of_the_event_but_ids(event_type: str) -> None:
    """No name, e-mail, phone or free text of any event reaches its entry: every string of the
    entry is the event's id, type, producer, correlation id or time, an actor's id or role, or a
    subject id."""
    body = sample(event_type, correlation_id="corr-1")
    entry = entry_of(read_event(body))
    subjects = {i for kind in KINDS for i in entry.get(kind, ())}
    allowed = subjects | {body["event_id"], event_type, body["producer"], "corr-1", SYSTEM}
    allowed |= {entry["stamp"]} | strings(body.get("actor"))
    assert strings(entry) <= allowed, strings(entry) - allowed
    personal = {v for k, v in flatten(body) if k in PERSONAL}
    assert not personal & strings(entry)
    assert "@" not in json.dumps(entry, default=str)


PERSONAL = {"given_name", "family_name", "email", "phone", "name", "contact_email", "organisation"}


def flatten(value: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in flatten(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in flatten(v, key)]
    return [(key, value)]


def test_a_value_that_is_no_id_is_never_copied() -> None:
    body = sample("attendee.checked_in")
    body["participant_id"] = "ana.perez@example.org"
    assert subjects_of("attendee.checked_in", body) == {}
    body["participant_id"] = "Ana Pérez"
    assert subjects_of("attendee.checked_in", body) == {}


def test_the_actor_is_kept_as_ids_and_the_system_when_none() -> None:
    assert actor_of({}).subject == SYSTEM
    assert actor_of({"actor": None}).subject == SYSTEM
    actor = actor_of(
        {
            "actor": {
                "subject": "account:ana",
                "kind": "staff",
                "roles": ["registrar", "Ana Pérez", "admin"],
                "token_id": "3b1f",
            }
        }
    )
    assert actor.dump() == {
        "subject": "account:ana",
        "kind": "staff",
        "roles": ["admin", "registrar"],
        "token_id": "3b1f",
    }
    by_mail = actor_of({"actor": {"subject": "cli:ana@example.org", "kind": "operator"}})
    assert (by_mail.subject, by_mail.kind) == (UNKNOWN, "operator")
    assert actor_of({"actor": "account:ana"}).subject == UNKNOWN


def test_an_event_without_a_row_still_gets_an_entry_with_no_subjects() -> None:
    body = sample("attendee.checked_in")
    body["event_type"] = "something.new_happened"
    entry = entry_of(read_event(body))
    assert entry["type"] == "something.new_happened"
    assert not set(KINDS) & set(entry)


def test_an_erased_participants_own_actions_name_the_actor_erased() -> None:
    erased = sample("participant.erased")
    person = erased["participant_id"]
    own = sample(
        "registration.cancel_requested",
        actor={"subject": f"participant:{person}", "kind": "participant", "roles": []},
    )
    own["participant_id"] = person
    staff = sample(
        "badge.issued",
        actor={"subject": "account:ana", "kind": "staff", "roles": ["registrar"], "token_id": "t1"},
    )
    entries = {e["type"]: e for e in entries_of(map(read_event, [own, erased, staff]))}
    assert entries["registration.cancel_requested"]["actor"] == {
        "subject": ERASED,
        "kind": ERASED,
        "roles": [],
        "token_id": None,
    }
    assert entries["registration.cancel_requested"]["participant"] == [person]
    assert entries["badge.issued"]["actor"]["subject"] == "account:ana"
    # without the erasure, the participant is the actor
    [alone] = entries_of([read_event(own)])
    assert alone["actor"]["subject"] == f"participant:{person}"


def test_the_same_event_twice_is_one_entry() -> None:
    body = sample("attendee.checked_in")
    assert len(entries_of([read_event(body), read_event(body)])) == 1


def test_filters_become_the_entries_query() -> None:
    assert query_of({"participant": "p1", "session": None, "bogus": "x"}) == {"participant": "p1"}
    assert query_of({"delegation": "crm-2004:SV"}) == {"delegation": "SV"}
    both = query_of({"actor": "account:ana", "session": "B1.2", "delegation": "SV"})
    # the most selective first: its index finds the entries, the others are checked on them
    assert list(both.items()) == [
        ("delegation", "SV"),
        ("session", "B1.2"),
        ("actor.subject", "account:ana"),
    ]


def test_a_csv_row_has_a_column_per_header() -> None:
    body = sample(
        "travel_support.committed",
        actor={"subject": "account:fin", "kind": "staff", "roles": ["finance"], "token_id": "j"},
    )
    entry = entry_of(read_event(body))
    row = dict(zip(CSV_HEADER, csv_row(entry), strict=True))
    assert row["actor"] == "account:fin" and row["actor_roles"] == "finance"
    assert row["budget_line"] == body["budget_line"]
    assert row["session"] == body["session_code"]
    assert row["participant"] == body["participant_id"]
    assert row["exhibitor"] == ""


def test_identity_changes_are_entries_about_the_account_or_the_token_with_their_actor() -> None:
    admin = {"subject": "account:admin", "kind": "staff", "roles": ["admin"], "token_id": "j1"}
    operator: dict[str, Any] = {
        "subject": "cli:root",
        "kind": "operator",
        "roles": [],
        "token_id": None,
    }
    created = sample("account.created", actor=operator)
    created |= {"username": "rapporteur.one", "roles": ["rapporteur"], "sessions": ["B1.2"]}
    changed = sample("account.roles_changed", actor=admin)
    disabled = sample("account.disabled", actor=admin)
    issued = sample("access.token_issued", actor=admin)
    revoked = sample("access.revoked", actor=admin)
    revoked["token_id"] = issued["token_id"]
    entries = {e["type"]: e for e in entries_of(map(read_event, [created, changed, disabled]))}
    entries |= {e["type"]: e for e in entries_of(map(read_event, [issued, revoked]))}

    made = entries["account.created"]
    assert made["account"] == ["rapporteur.one"] and made["session"] == ["B1.2"]
    assert made["delegation"] == [created["delegation"].rsplit(":", 1)[-1]]
    assert made["exhibitor"] == [created["exhibitor"]]
    assert made["actor"] == operator
    for kind in ("account.roles_changed", "account.disabled"):
        assert entries[kind]["account"] == [changed["username"]]
        assert entries[kind]["actor"] == admin
        assert "roles" not in entries[kind]  # what the roles became is the event's, not the entry's
    for kind in ("access.token_issued", "access.revoked"):
        assert entries[kind]["token"] == [issued["token_id"]]
        assert entries[kind]["actor"]["subject"] == "account:admin"
        assert "expires_at" not in entries[kind]

    # `?account=` what was done to an account, `?actor=account:…` what it did; usernames are
    # lower-case
    assert query_of({"account": "Rapporteur.One"}) == {"account": "rapporteur.one"}
    assert list(query_of({"actor": "account:admin", "token": "t1", "session": "B1.2"})) == [
        "token",
        "session",
        "actor.subject",
    ]
