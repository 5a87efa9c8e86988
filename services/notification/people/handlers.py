"""People's use cases: the secretariat sets a person's preferences, announced with the write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.notification.deps import Notification
from services.notification.domain import PRODUCER
from shared.contracts.notification import ContactPreferencesChanged


async def set_preferences_of(
    deps: Notification, person_id: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Set `changes` (language, channels, opt-out) on the person's contact, creating it when
    notification does not know them yet; `contact.preferences_changed` in the same write."""
    announced = ContactPreferencesChanged.model_validate(
        {"producer": PRODUCER, "person_id": person_id, "fields": sorted(changes), **changes}
    )
    return await deps.repository.set_preferences(person_id, changes, announced)
