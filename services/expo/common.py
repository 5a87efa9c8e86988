"""What every capability's rules share: explanations in both languages, field problems, events
caused by a command, and `Refused` (a command that cannot be done, with what the person can do).

Pure: nothing here does I/O or knows about HTTP, the broker or the database.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.envelope import Event, FieldProblem, derive_id, request_correlation_id
from shared.contracts.expo import Explanation

PRODUCER = "expo"


def problem(field_name: str, code: str, es: str, en: str) -> FieldProblem:
    return FieldProblem(field=field_name, code=code, message_es=es, message_en=en)


def explain(code: str, es: str, en: str) -> Explanation:
    return Explanation(code=code, es=es, en=en)


def new_event[E: Event](
    cls: type[E], *key: object, correlation_id: str | None = None, **payload: Any
) -> E:
    """An event caused by a command (not by another event): its id is derived from `key`, so a
    retried command that decides the same thing writes the same event. Its correlation: the one
    given, else the HTTP request's being served (`X-Correlation-Id`), else its own id."""
    event_id = derive_id(cls.type_name(), *key)
    return cls(
        event_id=event_id,
        producer=PRODUCER,
        correlation_id=correlation_id or request_correlation_id() or str(event_id),
        **payload,
    )


class Refused(Exception):
    """A command that cannot be done, with what the person can do about it (the API answers
    `status` with `detail()`)."""

    def __init__(
        self,
        status: int,
        explanation: Explanation | None = None,
        problems: list[FieldProblem] | None = None,
    ):
        super().__init__(explanation.code if explanation else "invalid")
        self.status = status
        self.explanation = explanation
        self.problems = problems or []

    def detail(self) -> dict[str, Any]:
        if self.explanation is not None:
            return self.explanation.model_dump()
        return {"code": "invalid", "problems": [p.model_dump() for p in self.problems]}


def refused(status: int, code: str, es: str, en: str) -> Refused:
    return Refused(status, explain(code, es, en))


def not_found_exhibitor() -> Refused:
    return refused(404, "not_found", "Expositor desconocido.", "Unknown exhibitor.")
