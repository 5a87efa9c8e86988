"""How reporting folds other services' events into its read models — pure rules, no I/O.

Every statistic is *derived from per-entity state* (one document per participant, exhibitor,
session sign-up, message…), never from blind increments: a duplicated event finds its id in the
document it already changed, and an event older than the state it would overwrite is ignored
(last writer wins by `occurred_at`, then `event_id`). So the fold is idempotent and does not depend
on delivery order, and replaying the whole event log yields the same numbers.

Other services' contracts are read through small, tolerant views: only the fields reporting needs,
unknown fields ignored, unknown event types counted by type and nothing more.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.decisions import Change

# Categories are the pack's; the sector a category belongs to is reporting's grouping for charts.
SECTOR_OF_CATEGORY = {
    "official_delegate": "public",
    "business_association": "private",
    "company": "private",
    "exhibitor_staff": "private",
    "emigrant_association": "civil_society",
    "civil_society": "civil_society",
    "international_organisation": "international",
    "media": "media",
    "speaker": "speakers",
}

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

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


class EventView(BaseModel):
    """The envelope every foro event carries; the payload is kept as-is in `extra`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    event_id: uuid.UUID
    event_type: str = Field(min_length=1, max_length=120)
    occurred_at: AwareDatetime
    producer: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @property
    def stamp(self) -> str:
        """Orders events: UTC time to the microsecond, then the id for ties."""
        return (
            f"{self.occurred_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|{self.event_id}"
        )

    @property
    def verb(self) -> str:
        return self.event_type.rsplit(".", 1)[-1]


class ParticipantSnapshot(BaseModel):
    """What reporting reads from registration's `participant` snapshot."""

    model_config = ConfigDict(extra="ignore")

    participant_id: uuid.UUID
    forum_id: str | None = None
    status: str
    category: str | None = None
    country: str | None = None
    language: str | None = None
    sector: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    organisation: str | None = None
    consents: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """One document an event changes: in `participants` or in `entities`."""

    collection: str  # "participants" | "entities"
    doc_id: str
    kind: str = ""


def safe(key: object) -> str:
    return _UNSAFE.sub("_", str(key))[:64] or "_"


def _find(payload: dict[str, Any], names: tuple[str, ...], nested: tuple[str, ...] = ()) -> Any:
    for name in names:
        if payload.get(name) not in (None, ""):
            return payload[name]
    for holder in nested:
        inner = payload.get(holder)
        if isinstance(inner, dict):
            for name in names:
                if inner.get(name) not in (None, ""):
                    return inner[name]
    return None


def _participant_id(payload: dict[str, Any]) -> str | None:
    found = _find(payload, ("participant_id",), ("participant", "attendee"))
    return str(found) if found else None


# --- routing: which documents an event changes ------------------------------------------------

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


def targets(event: EventView) -> list[Target]:
    """The documents `event` changes; empty for types reporting only counts."""
    payload, kind = event.payload, event.event_type
    found: list[Target] = []
    participant_id = _participant_id(payload)
    if (
        isinstance(payload.get("participant"), dict)
        and participant_id
        and payload["participant"].get("status")
    ):
        found.append(Target("participants", participant_id))
    elif (
        kind in ("participant.erased", "participant.consent_changed", "attendee.checked_in")
        and participant_id
    ):
        found.append(Target("participants", participant_id))

    if kind.startswith("session."):
        session = _find(payload, SESSION_IDS, ("session",))
        if session is not None and participant_id:
            found.append(
                Target("entities", f"session_signup:{session}:{participant_id}", "session_signup")
            )
        elif session is not None:
            found.append(Target("entities", f"session:{session}", "session"))
        return found
    if kind.startswith(("panelist.", "speaker.", "travel_support.")) or "support" in kind:
        return found  # budget entries, see `budget_entry_from`
    for prefix, entity, ids in ENTITY_RULES:
        if kind.startswith(prefix):
            entity_id = _find(payload, ids, (entity, prefix.rstrip(".")))
            # An entity without its own id (a lead scan, say) is one entity per event.
            found.append(Target("entities", f"{entity}:{entity_id or event.event_id}", entity))
            break
    return found


# --- folds -----------------------------------------------------------------------------------


def _new_participant(forum_id: str) -> dict[str, Any]:
    """The fields every participant document has, whichever event creates it."""
    return {
        "forum_id": forum_id,
        "status": None,
        "status_as_of": "",
        "consent_as_of": "",
        "category": None,
        "country": None,
        "language": None,
        "sector": None,
        "listed_publicly": False,
        "erased": False,
        "checkins": {},
        "given_name": None,
        "family_name": None,
        "organisation": None,
    }


def fold_participant(
    document: dict[str, Any] | None, event: EventView, forum_id: str
) -> Change | None:
    """A participant's reporting state after `event`."""
    payload = event.payload
    change = _participant_change(
        document or _new_participant(payload.get("forum_id") or forum_id), event
    )
    if change is None or document is not None:
        return change
    created = _new_participant(payload.get("forum_id") or forum_id)
    for key, value in change.set.items():  # dotted paths (`checkins.<day>`) into the new document
        if "." in key:
            outer, inner = key.split(".", 1)
            created[outer] = {**created[outer], inner: value}
        else:
            created[key] = value
    return Change(set=created)


def _participant_change(doc: dict[str, Any], event: EventView) -> Change | None:
    payload = event.payload
    erased = bool(doc.get("erased"))
    if event.event_type == "participant.erased":
        if erased:
            return None
        fields = {"erased": True, "given_name": None, "family_name": None, "organisation": None}
        for name in ("category", "country"):  # kept by registration for statistics
            if not doc.get(name) and payload.get(name):
                fields[name] = payload[name]
        return Change(set=fields)
    if event.event_type == "attendee.checked_in":
        day = str(payload.get("day") or event.occurred_at.date().isoformat())
        point = str(payload.get("point") or "")
        key = safe(f"{day}__{point}")
        current = (doc.get("checkins") or {}).get(key)
        if current is not None and current["as_of"] <= event.stamp:
            return None  # the first scan at a point on a day counts; later scans change nothing
        return Change(set={f"checkins.{key}": {"day": day, "point": point, "as_of": event.stamp}})
    if event.event_type == "participant.consent_changed":
        if doc.get("consent_as_of", "") >= event.stamp:
            return None
        listed = bool((payload.get("consents") or {}).get("listed_publicly"))
        fields = {"listed_publicly": listed, "consent_as_of": event.stamp}
        if not listed:
            fields |= {"given_name": None, "family_name": None, "organisation": None}
        return Change(set=fields)

    snapshot = ParticipantSnapshot.model_validate(payload["participant"])
    newer_status = doc.get("status_as_of", "") < event.stamp
    newer_consent = doc.get("consent_as_of", "") < event.stamp
    if not (newer_status or newer_consent):
        return None  # older than what we hold (a late redelivery): the newer state stands
    fields: dict[str, Any] = {}
    if newer_status:
        fields |= {
            "status": snapshot.status,
            "category": snapshot.category,
            "country": snapshot.country,
            "language": snapshot.language,
            "sector": snapshot.sector or SECTOR_OF_CATEGORY.get(snapshot.category or "", "other"),
            "status_as_of": event.stamp,
        }
    if newer_consent:
        listed = bool(snapshot.consents.get("listed_publicly"))
        public = listed and not erased
        fields |= {
            "listed_publicly": listed,
            # Names are kept only for people who agreed to appear in the published list.
            "given_name": snapshot.given_name if public else None,
            "family_name": snapshot.family_name if public else None,
            "organisation": snapshot.organisation if public else None,
            "consent_as_of": event.stamp,
        }
    return Change(set=fields)


def fold_entity(
    document: dict[str, Any] | None, event: EventView, target: Target, forum_id: str
) -> Change | None:
    """Any other service's entity: its latest status (the event's verb) and a few attributes.

    The status is the newest event's; each attribute is the newest event's *that carries it*
    (stamped one by one), so an older event arriving late still adds what only it knew (the
    exhibitor of a meeting request that the confirmation overtook), whatever the order."""
    payload = event.payload
    attributes = dict((document or {}).get("attributes") or {})
    stamps = dict((document or {}).get("attributes_as_of") or {})
    for name in ENTITY_ATTRIBUTES:
        # `current`: where a rescheduled session now is (scheduling's slot).
        value = _find(payload, (name,), ("current", target.kind))
        if (
            isinstance(value, (str, int, float, bool))
            or (name == "title" and isinstance(value, dict))
        ) and stamps.get(name, "") < event.stamp:
            attributes[name], stamps[name] = value, event.stamp
    newer = document is None or document.get("as_of", "") < event.stamp
    if not newer:
        if stamps == ((document or {}).get("attributes_as_of") or {}):
            return None
        return Change(set={"attributes": attributes, "attributes_as_of": stamps})
    fields = {
        "forum_id": payload.get("forum_id") or (document or {}).get("forum_id") or forum_id,
        "kind": target.kind,
        "status": event.verb,
        "last_event": event.event_type,
        "attributes": attributes,
        "attributes_as_of": stamps,
        "as_of": event.stamp,
    }
    return Change(set=fields)


# --- budget entries from other services' events ------------------------------------------------

PANELIST_LINE = "panelist_support"
_RELEASED = {"cancelled", "withdrawn", "revoked", "rejected", "declined"}
_PAID = {"paid", "reimbursed", "settled", "disbursed"}


def amount_cents(payload: dict[str, Any]) -> int | None:
    """An amount from a tolerant payload: `amount_cents`, or `amount`/`amount_usd` in units."""
    if isinstance(payload.get("amount_cents"), int):
        return payload["amount_cents"]
    for name in ("amount_usd", "amount", "cost_usd", "cost"):
        value = payload.get(name)
        if isinstance(value, (int, float)) or (
            isinstance(value, str) and re.fullmatch(r"\d+(\.\d{1,2})?", value)
        ):
            return round(float(value) * 100)
        if isinstance(value, dict) and isinstance(value.get("amount"), (int, float, str)):
            return amount_cents({"amount": value["amount"]})
    return None


@dataclass(frozen=True)
class BudgetEntry:
    line: str
    entry_id: str
    kind: str  # "commitment" | "expense"
    amount_cents: int
    description: str
    as_of: str
    source: str


def budget_entry_from(event: EventView) -> BudgetEntry | None:
    """Panelist support granted, paid or cancelled becomes one budget entry, replaced as it moves."""
    kind = event.event_type
    if not ("support" in kind or kind.startswith(("panelist.", "speaker.", "travel_support."))):
        return None
    payload = event.payload
    cents = amount_cents(payload)
    if cents is None:
        return None
    support = _find(payload, ("support_id", "grant_id", "request_id", "travel_support_id")) or (
        f"{_participant_id(payload) or ''}:{_find(payload, SESSION_IDS) or ''}"
    )
    if event.verb in _RELEASED:
        entry_kind, cents = "commitment", 0
    elif event.verb in _PAID:
        entry_kind = "expense"
    else:
        entry_kind = "commitment"
    line = str(payload.get("budget_line") or PANELIST_LINE)
    return BudgetEntry(
        line=line,
        entry_id=safe(f"support-{support}"),
        kind=entry_kind,
        amount_cents=cents,
        description=kind,
        as_of=event.stamp,
        source=str(event.event_id),
    )


def now_stamp(at: datetime) -> str:
    return f"{at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}|~"
