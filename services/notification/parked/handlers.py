"""Parked triggers: a trigger naming a person whose contact has not arrived yet waits for it.

Events from different services race: `badge.issued` can arrive before registration's snapshot of
the person. That is not a failure: the trigger is parked in `parked` (id = uuid5("parked",
event_id, person), so a redelivery parks nothing twice) and the person's contact is marked
(`parked_triggers`, creating a contact without an address if none exists). The race is closed on
that one contact document: the parking handler marks it *then* reads it, and completes the
trigger itself if the person is reachable by then; a projection that finds the mark completes
what waits. A projection that creates the contact knows nothing waits (a mark would have created
it), so the common case — the snapshot first — costs no look-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from services.notification.deps import Notification
from services.notification.documents import ContactDocument, ParkedTrigger
from services.notification.domain import parked_id
from services.notification.messages.handlers import Created
from services.notification.metrics import PARKED
from services.notification.triggers.rules import TriggerEnvelope
from services.notification.triggers.tell import tell

log = structlog.get_logger("foro.notification")


async def park(
    deps: Notification, envelope: TriggerEnvelope, body: Mapping[str, Any], person_id: str
) -> Created:
    """Keep the trigger for the person until their contact is projected; complete it now if
    a projection made them reachable meanwhile."""
    repo = deps.repository
    pid = parked_id(envelope.event_id, person_id)
    fields = {
        "person_id": person_id,
        "event_id": str(envelope.event_id),
        "event_type": envelope.event_type,
        "event": dict(body),
        "parked_at": deps.wall_clock(),
    }
    if await repo.park(pid, fields):
        PARKED.labels("parked").inc()
        log.info(
            "trigger parked until the person's contact arrives",
            person_id=person_id,
            event_type=envelope.event_type,
        )
    contact = ContactDocument.read(await repo.flag_parked(person_id))
    if contact is not None and (contact.erased or contact.reachable):
        parked = ParkedTrigger.read(await repo.parked_one(pid))
        if parked is not None:
            return await _complete(deps, parked, contact)
    return Created({"parked": 1})


async def complete_parked(deps: Notification, contact: ContactDocument) -> Created:
    """The person's contact has arrived: do what the triggers parked for them would have done,
    then clear the mark (a trigger parking meanwhile completes its own: it reads the contact
    after marking it)."""
    repo = deps.repository
    created = Created()
    for stored in await repo.parked_for(contact.id):
        created.add(await _complete(deps, ParkedTrigger.model_validate(stored), contact))
    await repo.clear_parked_flag(contact.id)
    return created


async def _complete(deps: Notification, parked: ParkedTrigger, contact: ContactDocument) -> Created:
    """Messages first, then the parked entry closed: a crash between them completes it again,
    creating nothing twice (message ids are derived from the event, the person and the channel)."""
    trigger = deps.book.triggers.get(parked.event_type)
    created = Created()
    if contact.erased:
        outcome = "erased"
    elif trigger is None:
        outcome = "no_trigger"  # the pack no longer has it
    else:
        envelope = TriggerEnvelope.model_validate(parked.event)
        created = await tell(deps, trigger, envelope, parked.event, parked.person_id, contact)
        outcome = "completed"
    if await deps.repository.finish_parked(parked.id, outcome, deps.wall_clock()):
        PARKED.labels(outcome).inc()
        log.info(
            "parked trigger completed",
            person_id=parked.person_id,
            event_type=parked.event_type,
            outcome=outcome,
        )
    return created.add(Created({f"parked_{outcome}": 1}))


async def mark_waiting_people(deps: Notification) -> int:
    """At start-up: mark the contact of everyone a trigger waits for (triggers parked before
    contacts carried the mark), so their projection completes them."""
    people = await deps.repository.waiting_people()
    for person_id in people:
        await deps.repository.flag_parked(person_id)
    return len(people)
