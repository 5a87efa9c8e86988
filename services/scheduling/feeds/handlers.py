"""What the feeds read: the published release, and a person's sessions in it."""

from __future__ import annotations

from services.scheduling.deps import Refused, Scheduling
from services.scheduling.documents import ReleaseDocument, SessionSnapshot
from services.scheduling.feeds import rules


async def release(deps: Scheduling, number: int | None = None) -> ReleaseDocument:
    """Release `number`, or the latest; refused (404) before the first is published."""
    repo = deps.repository
    found = ReleaseDocument.read(
        await repo.release(deps.forum_id, number)
        if number
        else await repo.latest_release(deps.forum_id)
    )
    if found is None:
        raise Refused(404, "no published release of the programme yet")
    return found


async def personal(deps: Scheduling, subject: str) -> tuple[ReleaseDocument, list[SessionSnapshot]]:
    """The latest release and the sessions of it that concern `subject` (a person id from the
    programme or a registration participant id)."""
    published = await release(deps)
    seated = await deps.repository.seated_codes(deps.forum_id, subject)
    return published, rules.personal(published, subject, seated)
