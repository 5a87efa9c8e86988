"""How reporting folds other services' events into its read models — pure rules, no I/O.

Every statistic is *derived from per-entity state* (one document per participant, exhibitor,
session sign-up, message…), never from blind increments: a duplicated event finds its id in the
document it already changed, and an event older than the state it would overwrite is ignored
(last writer wins by `occurred_at`, then `event_id`). So the fold is idempotent and does not depend
on delivery order, and replaying the whole event log yields the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.reporting.documents import EntityState, ParticipantState
from services.reporting.projections.views import (
    EventView,
    find,
    participant_id_of,
    read_snapshot,
    safe,
)
from shared.decisions import Change

PARTICIPANTS, ENTITIES = "participants", "entities"

# Fields copied onto an entity document (no personal data: names, e-mails and phones stay out).
ENTITY_ATTRIBUTES = (
    "sector",
    "zone",
    "exhibitor_type",
    "type",
    "channel",
    "capacity",
    "room",
    "day",
    "point",
    "session_code",
    "code",
    "booth_code",
    "exhibitor_id",
    "job_id",
    "participant_id",
    "title",
    "starts_at",
    "ends_at",
    "message_type",
    "kind",
    "category",
    "country",
    "language",
    "booth",
)

# (routing-key prefix, entity kind, id fields), first match wins. Kinds are what the Memoria counts.
ENTITY_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("exhibitor.", "exhibitor", ("exhibitor_id",)),
    ("booth.", "booth", ("booth_code", "booth_id", "booth")),
    ("launch.", "launch", ("launch_id",)),
    ("product_launch.", "launch", ("launch_id",)),
    ("lead.", "lead", ("lead_id",)),
    ("meeting.", "meeting", ("meeting_id", "request_id")),
    ("job_application.", "job_application", ("application_id",)),
    ("job.application", "job_application", ("application_id",)),
    ("job.applied", "job_application", ("application_id",)),
    ("job_post.", "job_post", ("job_id", "job_post_id", "post_id")),
    ("job.", "job_post", ("job_id", "job_post_id", "post_id")),
    ("notification.", "notification", ("notification_id", "message_id")),
    ("message.", "notification", ("notification_id", "message_id")),
)

SESSION_IDS = ("session_code", "session_id", "code", "item_code")
BUDGET_PREFIXES = ("panelist.", "speaker.", "travel_support.")


@dataclass(frozen=True)
class Target:
    """One document an event changes: in `participants` or in `entities`."""

    collection: str  # PARTICIPANTS | ENTITIES
    doc_id: str
    kind: str = ""


def targets(event: EventView) -> list[Target]:
    """The documents `event` changes; empty for types reporting only counts."""
    payload, kind = event.payload, event.event_type
    found: list[Target] = []
    participant_id = participant_id_of(payload)
    if (
        isinstance(payload.get("participant"), dict)
        and participant_id
        and payload["participant"].get("status")
    ):
        found.append(Target(PARTICIPANTS, participant_id))
    elif (
        kind in ("participant.erased", "participant.consent_changed", "attendee.checked_in")
        and participant_id
    ):
        found.append(Target(PARTICIPANTS, participant_id))

    if kind.startswith("session."):
        session = find(payload, SESSION_IDS, ("session",))
        if session is not None and participant_id:
            found.append(
                Target(ENTITIES, f"session_signup:{session}:{participant_id}", "session_signup")
            )
        elif session is not None:
            found.append(Target(ENTITIES, f"session:{session}", "session"))
        return found
    if kind.startswith(BUDGET_PREFIXES) or "support" in kind:
        return found  # budget entries, see `budget.rules.budget_entry_from`
    for prefix, entity, ids in ENTITY_RULES:
        if kind.startswith(prefix):
            entity_id = find(payload, ids, (entity, prefix.rstrip(".")))
            # An entity without its own id (a lead scan, say) is one entity per event.
            found.append(Target(ENTITIES, f"{entity}:{entity_id or event.event_id}", entity))
            break
    return found


# --- participants ------------------------------------------------------------------------------


def fold_participant(
    document: ParticipantState | None, event: EventView, doc_id: str, forum_id: str
) -> Change | None:
    """A participant's reporting state after `event`; a new document is written whole."""
    current = document or ParticipantState.blank(doc_id, event.payload.get("forum_id") or forum_id)
    change = _participant_change(current, event)
    if change is None or document is not None:
        return change
    created = current.updated(change.set).dump()
    del created["_id"]
    return Change(set=created)


def _participant_change(doc: ParticipantState, event: EventView) -> Change | None:
    payload = event.payload
    if event.event_type == "participant.erased":
        if doc.erased:
            return None
        fields: dict[str, Any] = {
            "erased": True,
            "given_name": None,
            "family_name": None,
            "organisation": None,
        }
        for name in ("category", "country"):  # kept by registration for statistics
            if not getattr(doc, name) and payload.get(name):
                fields[name] = payload[name]
        return Change(set=fields)
    if event.event_type == "attendee.checked_in":
        day = str(payload.get("day") or event.occurred_at.date().isoformat())
        point = str(payload.get("point") or "")
        key = safe(f"{day}__{point}")
        current = doc.checkins.get(key)
        if current is not None and current.as_of <= event.stamp:
            return None  # the first scan at a point on a day counts; later scans change nothing
        checkins = {name: scan.dump() for name, scan in doc.checkins.items()}
        checkins[key] = {"day": day, "point": point, "as_of": event.stamp}
        return Change(set={"checkins": checkins})
    if event.event_type == "participant.consent_changed":
        if doc.consent_as_of >= event.stamp:
            return None
        listed = bool((payload.get("consents") or {}).get("listed_publicly"))
        fields = {"listed_publicly": listed, "consent_as_of": event.stamp}
        if not listed:
            fields |= {"given_name": None, "family_name": None, "organisation": None}
        return Change(set=fields)

    snapshot = read_snapshot(payload)
    newer_status = doc.status_as_of < event.stamp
    newer_consent = doc.consent_as_of < event.stamp
    earlier = not doc.registered_as_of or event.stamp < doc.registered_as_of
    if not (newer_status or newer_consent or earlier):
        return None  # older than what we hold (a late redelivery): the newer state stands
    fields = {"registered_as_of": event.stamp} if earlier else {}
    if newer_status:
        fields |= {
            "status": snapshot.status,
            "category": snapshot.category,
            "country": snapshot.country,
            "language": snapshot.language,
            "status_as_of": event.stamp,
        }
    if newer_consent:
        listed = bool(snapshot.consents.get("listed_publicly"))
        public = listed and not doc.erased
        fields |= {
            "listed_publicly": listed,
            # Names are kept only for people who agreed to appear in the published list.
            "given_name": snapshot.given_name if public else None,
            "family_name": snapshot.family_name if public else None,
            "organisation": snapshot.organisation if public else None,
            "consent_as_of": event.stamp,
        }
    return Change(set=fields)


# --- other services' entities --------------------------------------------------------------------


def fold_entity(
    document: EntityState | None, event: EventView, target: Target, forum_id: str
) -> Change | None:
    """Any other service's entity: its latest status (the event's verb) and a few attributes.

    The status is the newest event's; each attribute is the newest event's *that carries it*
    (stamped one by one), so an older event arriving late still adds what only it knew (the
    exhibitor of a meeting request that the confirmation overtook), whatever the order."""
    payload = event.payload
    attributes = dict(document.attributes) if document else {}
    stamps = dict(document.attributes_as_of) if document else {}
    for name in ENTITY_ATTRIBUTES:
        # `current`: where a rescheduled session now is (scheduling's slot).
        value = find(payload, (name,), ("current", target.kind))
        if (
            isinstance(value, (str, int, float, bool))
            or (name == "title" and isinstance(value, dict))
        ) and stamps.get(name, "") < event.stamp:
            attributes[name], stamps[name] = value, event.stamp
    if document is not None and document.as_of >= event.stamp:
        if stamps == document.attributes_as_of:
            return None
        return Change(set={"attributes": attributes, "attributes_as_of": stamps})
    return Change(
        set={
            "forum_id": payload.get("forum_id") or (document.forum_id if document else forum_id),
            "kind": target.kind,
            "status": event.verb,
            "last_event": event.event_type,
            "attributes": attributes,
            "attributes_as_of": stamps,
            "as_of": event.stamp,
        }
    )
