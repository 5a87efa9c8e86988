"""What a rule returns: the change to the one document it owns, and what it decided.

Rules (`services/*/domain*.py`) import this and the contracts, nothing from persistence or
messaging. `AggregateStore.apply` writes a `Change` in one document update; a `Decision` also
carries the rule's typed result back to the use case (`Applied.result`), so no result is
smuggled out of a decision callback through a mutable list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.contracts.envelope import Event


@dataclass
class Change:
    """What a decision does to one document: fields to set, events to publish."""

    set: dict[str, Any] = field(default_factory=dict)
    events: Sequence[Event] = ()

    def then(self, later: Change | None) -> Change:
        """This change followed by `later` on the same document, as one write: `later`'s fields
        win, events keep their order."""
        if later is None:
            return self
        return Change({**self.set, **later.set}, [*self.events, *later.events])


@dataclass(frozen=True)
class Decision[R]:
    """A rule's typed result with the change it makes (None: the document stays as it is)."""

    result: R
    change: Change | None = None
