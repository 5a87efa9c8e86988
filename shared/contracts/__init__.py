"""pydantic v2 contracts of every foro event, one module per publisher."""

from shared.contracts.envelope import Event, FieldProblem, derive_id, event_class

__all__ = ["Event", "FieldProblem", "derive_id", "event_class"]
