"""The draft programme's use cases: seeding it from the pack, adding and editing sessions (each
edit announced with the write that makes it)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import structlog

from services.scheduling.deps import Refused, Scheduling, on_session
from services.scheduling.programme import rules
from services.scheduling.repository import INTERNAL_FIELDS

log = structlog.get_logger("foro.scheduling")


@dataclass(frozen=True)
class Seeded:
    added: int
    updated: int


async def seed_programme(deps: Scheduling) -> Seeded:
    """Put the pack's agenda into the draft: missing items are added; items the secretariat never
    edited follow the pack (moved forum dates); edited items keep the secretariat's version."""
    now, added, updated = deps.clock(), 0, 0
    for item in deps.pack.programme.items:
        document = rules.seed_document(deps.pack, item, now)
        doc_id = deps.session_id(item.code)
        if await deps.repository.insert_if_absent(doc_id, document):
            added += 1
            continue
        applied = await deps.repository.sessions.apply(
            doc_id, None, on_session(partial(rules.resync_from_pack, seeded=document, now=now))
        )
        updated += applied.change is not None
    log.info("programme seeded", added=added, updated=updated, items=len(deps.pack.programme.items))
    return Seeded(added, updated)


async def edit_session(deps: Scheduling, code: str, fields: dict[str, Any]) -> dict[str, Any]:
    now = deps.clock()
    applied = await deps.repository.sessions.apply(
        deps.session_id(code), None, on_session(lambda doc: rules.edit(doc, fields, now))
    )
    if applied.document is None:
        raise Refused(404, "code: no such session")
    return shown(applied.document)


def shown(document: dict[str, Any]) -> dict[str, Any]:
    """A session as the draft shows it: without the store's bookkeeping (`INTERNAL_FIELDS`)."""
    return {k: v for k, v in document.items() if k not in INTERNAL_FIELDS}


async def create_session(deps: Scheduling, fields: dict[str, Any]) -> dict[str, Any]:
    """Add a session to the draft, its `session.draft_created` in the same insert."""
    created = rules.new_session(deps.forum_id, fields, deps.clock())
    doc_id = deps.session_id(created.set["code"])
    if await deps.repository.sessions.create(doc_id, None, created) is None:
        raise Refused(409, "code: a session with this code exists")
    return created.set
