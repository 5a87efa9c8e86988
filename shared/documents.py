"""The base of every service's document models (`services/<name>/documents.py`).

A document model is what a store read, read-only, with the fields no rule declares kept as they
are (`extra="allow"`). Rules take models; a use case turns what the store read into one with
`Model.read(stored)` and looks at the state after a change with `document.updated(change.set)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class StoredDocument(BaseModel):
    """Read-only, extra fields kept: what a store read, as a model."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    @classmethod
    def read(cls, stored: Mapping[str, Any] | None) -> Self | None:
        """The model of a document as the store read it (None stays None)."""
        return None if stored is None else cls.model_validate(stored)

    def dump(self) -> dict[str, Any]:
        """The stored form: the fields read or set, by their stored names."""
        return self.model_dump(by_alias=True, exclude_unset=True)

    def updated(self, fields: Mapping[str, Any]) -> Self:
        """This document after a write setting `fields` (validated, like a read of it)."""
        return self.model_validate({**self.dump(), **fields})
