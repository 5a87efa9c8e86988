"""Triggers' rules, free of I/O: who an event names, and how they can be reached.

A trigger is data (`templates/triggers.yaml`): paths in the event where recipients are —
registration's participant snapshots, ids, inline contacts such as scheduling's `affected`, or a
`contact` mapping for exhibitors and action-plan owners.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.notification.documents import ContactDocument
from services.notification.domain import CONTACT_FIELDS, dig, dig_any
from services.notification.templates import NO_ACTOR, SendWhen
from shared.contracts.envelope import derive_id


class TriggerEnvelope(BaseModel):
    """The envelope fields notification reads from any trigger event; everything else is the
    trigger's own business (read through the mapping's paths), so extra fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    event_id: uuid.UUID
    event_type: str
    occurred_at: AwareDatetime
    correlation_id: str | None = None


@dataclass(frozen=True)
class Recipient:
    """A person an event names: by id (contact looked up) or with their contact details inline."""

    person_id: str
    contact: dict[str, Any] | None = None
    is_snapshot: bool = False  # a registration snapshot: updates the contact projection


def _recipients_in(value: Any, event: Mapping[str, Any]) -> Iterable[Recipient]:
    if isinstance(value, list):
        for item in value:
            yield from _recipients_in(item, event)
    elif isinstance(value, (str, uuid.UUID)) and str(value):
        yield Recipient(str(value))
    elif isinstance(value, Mapping):
        person_id = value.get("participant_id")
        if value.get("email") or value.get("phone"):
            if not person_id:
                # Registration derives participant ids the same way: the person keeps one id.
                forum = value.get("forum_id") or event.get("forum_id") or ""
                person_id = str(
                    derive_id(forum, str(value.get("email") or value.get("phone")).lower())
                )
            contact = {
                name: value.get(name) for name in CONTACT_FIELDS if value.get(name) is not None
            }
            if "given_name" not in contact and value.get("name"):
                contact["given_name"] = value["name"]
            snapshot = "consents" in value and "status" in value and "participant_id" in value
            yield Recipient(str(person_id), contact, is_snapshot=snapshot)
        elif person_id:
            yield Recipient(str(person_id))


def resolve_recipients(event: Mapping[str, Any], paths: Sequence[str]) -> list[Recipient]:
    """Everyone the trigger's paths name, once each (the first, fullest mention wins)."""
    found: dict[str, Recipient] = {}
    for path in paths:
        for recipient in _recipients_in(dig(event, path), event):
            known = found.get(recipient.person_id)
            if known is None or (known.contact is None and recipient.contact is not None):
                found[recipient.person_id] = recipient
    return list(found.values())


def mapped_contact(event: Mapping[str, Any], mapping: Mapping[str, Any]) -> Recipient | None:
    """A contact read through a trigger's `contact` mapping (paths per field)."""
    person_id = dig_any(event, mapping["id"])
    if person_id is None:
        return None
    contact = {
        name: value
        for name in ("email", "phone", "given_name", "language")
        if mapping.get(name) and (value := dig_any(event, mapping[name])) is not None
    }
    if not (contact.get("email") or contact.get("phone")):
        return Recipient(str(person_id))
    return Recipient(str(person_id), contact, is_snapshot=bool(mapping.get("project")))


def contact_for(stored: ContactDocument | None, recipient: Recipient) -> ContactDocument:
    """The person as a message to them is rendered: what is stored, with what the event says of
    them inline on top (scheduling's `affected` names people notification may not know)."""
    if recipient.contact is None:
        return stored or ContactDocument.model_validate({"_id": recipient.person_id})
    base = stored.model_dump(by_alias=True) if stored is not None else {}
    return ContactDocument.model_validate({**base, **recipient.contact, "_id": recipient.person_id})


def sends_message(condition: SendWhen | None, event: Mapping[str, Any]) -> bool:
    """Whether the event meets the trigger's `send_when`: every `present` path holds something,
    and the change was made by one of the `actors` (an event without an actor — a sign-up from a
    form — counts as `no_actor`)."""
    if condition is None:
        return True
    if any(dig(event, path) in (None, "", [], {}) for path in condition.present):
        return False
    if condition.actors is not None:
        kind = dig(event, "actor.kind") or NO_ACTOR
        return kind in condition.actors
    return True
