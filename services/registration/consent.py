"""Consent use case: the secretariat records a change of the participant's optional consents.

The privacy policy cannot be withdrawn here: withdrawing it means erasure (see `erasure.py`).
"""

from __future__ import annotations

from typing import Any

import structlog

from services.registration import domain_privacy
from services.registration.handlers import Registration, on_participant

log = structlog.get_logger("foro.registration.consent")


async def change_consents(
    participant_id: str, wanted: dict[str, bool], deps: Registration
) -> tuple[dict[str, Any] | None, list[str]]:
    applied = await deps.repository.participants.apply(
        participant_id,
        None,
        on_participant(lambda doc: domain_privacy.change_consents(doc, wanted, deps.clock())),
    )
    changed = list(applied.events[0].changed) if applied.events else []  # type: ignore[attr-defined]
    log.info("consents recorded", participant_id=participant_id, changed=changed)
    return await deps.repository.get(participant_id), changed
