"""Many events folded into the projections in memory, then written once per document — pure.

The live consumer folds what it has in flight (a few to a few hundred deliveries) and the
rebuild folds the whole event log this way; both run the same rules (`projections/rules.py`), so
they end with the same documents. A `Fold` holds each document it touched — as it was read (or
known absent) and as it is now — and says what to write: a new document whole, or the fields
that changed on an existing one, with the consumed event ids and a check on the version read.

Each document keeps the ids of the events it consumed (`processed`, the last `PROCESSED_KEPT`),
so an event folded twice — redelivered, in the same batch twice, replayed by a rebuild while the
service runs — changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.reporting.documents import STORAGE_FIELDS, EntityState, ParticipantState
from services.reporting.projections.rules import (
    PARTICIPANTS,
    Target,
    fold_entity,
    fold_participant,
    targets,
)
from services.reporting.projections.views import EventView
from shared.decisions import Change
from shared.persistence.aggregates import PROCESSED_KEPT

type Key = tuple[str, str]  # (collection, document id)


@dataclass(frozen=True)
class ProjectionWrite:
    """One document's write: a new document whole (`version` None), or the fields that changed
    on the version read (`version`), with the event ids it consumed."""

    doc_id: str
    version: int | None
    fields: dict[str, Any]
    causes: tuple[str, ...]


@dataclass
class Folded:
    """One projection document during a fold."""

    collection: str
    doc_id: str
    stored: dict[str, Any] | None  # as read; None: absent when read
    fields: dict[str, Any] = field(default_factory=dict)
    processed: set[str] = field(default_factory=set)
    causes: list[str] = field(default_factory=list)  # consumed during this fold, in order
    changed: set[str] = field(default_factory=set)
    _model: ParticipantState | EntityState | None = None

    @classmethod
    def of(cls, key: Key, stored: Mapping[str, Any] | None) -> Folded:
        collection, doc_id = key
        if stored is None:
            return cls(collection, doc_id, None)
        fields = {k: v for k, v in stored.items() if k != "_id" and k not in STORAGE_FIELDS}
        return cls(collection, doc_id, dict(stored), fields, set(stored.get("processed") or ()))

    @property
    def exists(self) -> bool:
        return bool(self.fields)

    def model(self) -> ParticipantState | EntityState | None:
        if self._model is None and self.exists:
            kind = ParticipantState if self.collection == PARTICIPANTS else EntityState
            self._model = kind.model_validate({"_id": self.doc_id, **self.fields})
        return self._model

    def decide(self, event: EventView, target: Target, forum_id: str) -> Change | None:
        model = self.model()
        if self.collection == PARTICIPANTS:
            assert model is None or isinstance(model, ParticipantState)
            return fold_participant(model, event, self.doc_id, forum_id)
        assert model is None or isinstance(model, EntityState)
        return fold_entity(model, event, target, forum_id)

    def commit(self, cause: str, change: Change | None) -> None:
        if change is not None and change.set:
            self.fields.update(change.set)
            self.changed.update(change.set)
            self._model = None
        if self.exists:  # an absent document a refused change leaves absent records nothing
            self.processed.add(cause)
            self.causes.append(cause)

    def write(self) -> ProjectionWrite | None:
        if not self.causes:
            return None
        causes = tuple(self.causes)
        if self.stored is None:
            return ProjectionWrite(self.doc_id, None, dict(self.fields), causes)
        changed = {name: self.fields[name] for name in sorted(self.changed)}
        return ProjectionWrite(self.doc_id, int(self.stored.get("version") or 0), changed, causes)

    def document(self) -> dict[str, Any]:
        """The document as it stands: its fields and the last event ids it consumed."""
        earlier = list((self.stored or {}).get("processed") or ())
        return {
            "_id": self.doc_id,
            **self.fields,
            "processed": [*earlier, *self.causes][-PROCESSED_KEPT:],
        }


class Fold:
    """Events folded into the documents they target, in memory."""

    def __init__(self, forum_id: str) -> None:
        self.forum_id = forum_id
        self.documents: dict[Key, Folded] = {}

    def read(self, key: Key, stored: Mapping[str, Any] | None) -> None:
        """Start `key` from what the store holds (None: it holds nothing)."""
        self.documents[key] = Folded.of(key, stored)

    def add(self, event: EventView, *, only: Container[Key] | None = None) -> None:
        """Fold `event` into every document it targets (or those of them in `only`): all or
        none, so an event a rule refuses (`RuleViolation`) leaves every document as it was.
        A document not read first is taken to be absent."""
        cause = str(event.event_id)
        decided: list[tuple[Folded, Change | None]] = []
        for target in targets(event):
            key = (target.collection, target.doc_id)
            if only is not None and key not in only:
                continue
            folded = self.documents.get(key)
            if folded is None:
                folded = self.documents[key] = Folded.of(key, None)
            if cause in folded.processed:
                continue  # folded before: changes nothing
            decided.append((folded, folded.decide(event, target, self.forum_id)))
        for folded, change in decided:
            folded.commit(cause, change)

    def writes(self) -> Iterator[tuple[str, ProjectionWrite]]:
        """(collection, write) for every document this fold changed or made consume an event."""
        for folded in self.documents.values():
            write = folded.write()
            if write is not None:
                yield folded.collection, write


def keys_of(event: EventView) -> list[Key]:
    return [(target.collection, target.doc_id) for target in targets(event)]
