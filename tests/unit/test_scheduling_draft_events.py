"""The secretariat's edits of the draft programme are announced with the write that makes them:
which session, the names of the fields changed (never their values) and the draft's version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.scheduling.documents import CANCELLED, SessionDocument
from services.scheduling.programme import rules
from shared.contracts.scheduling import SessionDraftCreated, SessionDraftEdited
from shared.pack import load_pack

PACK = load_pack()
NOW = datetime(2004, 11, 1, tzinfo=UTC)


def stored(code: str, version: int) -> SessionDocument:
    item = PACK.programme.item(code)
    assert item is not None
    document = rules.seed_document(PACK, item, NOW)
    return SessionDocument.model_validate({**document, "_id": code, "version": version})


def test_a_new_session_is_announced_as_draft_version_one() -> None:
    starts = datetime(2004, 11, 18, 20, tzinfo=UTC)
    change = rules.new_session(
        PACK.forum.id,
        {"code": "B2.9", "kind": "session", "title": {"es": "T", "en": "T"}, "starts_at": starts},
        NOW,
    )
    [event] = change.events
    assert isinstance(event, SessionDraftCreated)
    assert (event.session_code, event.draft_version, event.forum_id) == ("B2.9", 1, PACK.forum.id)
    assert change.set["code"] == "B2.9" and change.set["origin"] == "secretariat"


def test_an_edit_names_the_fields_it_changed_and_the_version_it_makes() -> None:
    doc = stored("B2.1", version=4)
    later = doc.starts_at + timedelta(hours=1), doc.ends_at + timedelta(hours=1)
    change = rules.edit(
        doc,
        {"starts_at": later[0], "ends_at": later[1], "room": doc.room, "title": {"es": "Nuevo"}},
        NOW,
    )
    assert change is not None
    [event] = change.events
    assert isinstance(event, SessionDraftEdited)
    # the unchanged room is not named; no value is carried
    assert event.fields == ["ends_at", "starts_at", "title"]
    assert (event.session_code, event.draft_version) == ("B2.1", 5)
    assert "Nuevo" not in event.model_dump_json()


def test_a_cancellation_in_the_draft_is_an_edit_of_its_status() -> None:
    change = rules.edit(
        stored("B2.1", version=1), {"status": CANCELLED, "cancel_reason": "Fuerza mayor"}, NOW
    )
    assert change is not None
    [event] = change.events
    assert isinstance(event, SessionDraftEdited)
    assert event.fields == ["cancel_reason", "status"]
    assert "Fuerza mayor" not in event.model_dump_json()


def test_an_edit_that_changes_nothing_announces_nothing() -> None:
    doc = stored("B2.1", version=2)
    assert rules.edit(doc, {"room": doc.room}, NOW) is None
