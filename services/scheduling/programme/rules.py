"""The draft programme: seeded from the pack, edited by the secretariat. Pure rules over
`SessionDocument`; a session's document id is `<forum_id>:<code>` (`documents.session_id`).

What the secretariat does to the draft is announced in the same write (`session.draft_created`,
`session.draft_edited`: the session, the names of the fields changed and the draft's version),
so the audit trail names who changed which session; a pack re-sync at start-up is no one's edit
and announces nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.scheduling.documents import PRODUCER, SCHEDULED, SessionDocument
from shared.contracts.scheduling import SessionDraftCreated, SessionDraftEdited
from shared.decisions import Change
from shared.pack import EventPack, ProgrammeItem

PACK_FIELDS = (
    "kind",
    "parent",
    "title",
    "description",
    "topics",
    "starts_at",
    "ends_at",
    "room",
    "expected_audience",
)


def seed_document(pack: EventPack, item: ProgrammeItem, now: datetime) -> dict[str, Any]:
    """The draft document of one pack agenda item (inserted only when absent)."""
    starts_at, ends_at = pack.item_datetimes(item)
    return {
        "forum_id": pack.forum.id,
        "code": item.code,
        "kind": item.kind,
        "parent": item.parent,
        "title": item.title.model_dump(),
        "description": item.description.model_dump() if item.description else None,
        "topics": [{"code": t.code, "title": t.title.model_dump()} for t in item.topics],
        "starts_at": starts_at.astimezone(ZoneInfo("UTC")),
        "ends_at": ends_at.astimezone(ZoneInfo("UTC")),
        "room": item.room,
        "expected_audience": item.expected_audience,
        "seats": None,
        "status": SCHEDULED,
        "cancel_reason": None,
        "people": [],
        "confirmed": [],
        "waitlist": [],
        "origin": "pack",
        "created_at": now,
        "updated_at": now,
    }


def new_session(forum_id: str, fields: Mapping[str, Any], now: datetime) -> Change:
    """A session the secretariat adds to the draft: nobody on it, no seats taken yet; its
    creation announced."""
    document = {
        **fields,
        "forum_id": forum_id,
        "status": SCHEDULED,
        "cancel_reason": None,
        "people": [],
        "confirmed": [],
        "waitlist": [],
        "origin": "secretariat",
        "created_at": now,
        "updated_at": now,
    }
    created = SessionDraftCreated(
        producer=PRODUCER, forum_id=forum_id, session_code=document["code"], draft_version=1
    )
    return Change(set=document, events=[created])


def _version(doc: SessionDocument) -> int:
    """The store's version of `doc` as read (a seeded document starts at 1)."""
    version = (doc.model_extra or {}).get("version")
    return version if isinstance(version, int) else 1


def resync_from_pack(
    doc: SessionDocument | None, seeded: Mapping[str, Any], now: datetime
) -> Change | None:
    """What the secretariat never edited of a pack item follows the pack (a deployment moved the
    forum's dates, say); a field edited in the draft keeps the secretariat's value."""
    if doc is None or doc.origin != "pack":
        return None
    stored, kept = doc.dump(), set(doc.edited_fields)
    changed = {
        name: seeded[name]
        for name in PACK_FIELDS
        if name not in kept and stored.get(name) != seeded[name]
    }
    return Change(set={**changed, "updated_at": now}) if changed else None


def edit(doc: SessionDocument | None, fields: Mapping[str, Any], now: datetime) -> Change | None:
    """Move, retitle, resize, cancel or restore a draft session; what it changes stays the
    secretariat's (a later pack change leaves it alone)."""
    if doc is None:
        return None
    stored = doc.dump()
    changed = {k: v for k, v in fields.items() if stored.get(k) != v}
    if not changed:
        return None
    edited = sorted(set(doc.edited_fields) | set(changed))
    announced = draft_edited(doc, changed)
    return Change(set={**changed, "edited_fields": edited, "updated_at": now}, events=[announced])


def draft_edited(doc: SessionDocument, fields: Iterable[str]) -> SessionDraftEdited:
    """`session.draft_edited` for a change of `fields` to `doc` (names only, never values)."""
    return SessionDraftEdited.model_validate(
        {
            "producer": PRODUCER,
            "forum_id": doc.forum_id,
            "session_code": doc.code,
            "fields": sorted(fields),
            # the write adds one to the version it read (and is retried on a newer one)
            "draft_version": _version(doc) + 1,
        }
    )
