"""Launches' use case: an exhibitor books a slot on the expo stage; the day's launches are one
document, so overlaps and the per-exhibitor limit are checked in the same write."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from services.expo.common import Refused
from services.expo.deps import Expo, on
from services.expo.documents import ExhibitorDocument, Launch, StageDay
from services.expo.launches import rules
from services.expo.schemas import LaunchRequest
from shared.contracts.envelope import FieldProblem


async def schedule_launch(
    deps: Expo, exhibitor: ExhibitorDocument, request: LaunchRequest
) -> dict[str, Any]:
    pack = deps.pack
    if not 0 <= request.day < pack.forum.days:
        raise Refused(422, problems=[rules.closed_day()])
    hour, minute = (int(part) for part in request.starts_at.split(":"))
    start = datetime.combine(
        pack.forum.dates[request.day], datetime.min.time(), pack.forum.tz
    ).replace(hour=hour, minute=minute)
    launch = Launch(
        launch_id=str(uuid.uuid4()),
        exhibitor_id=exhibitor.id,
        exhibitor_name=exhibitor.name,
        kind=request.kind,
        title=request.title,
        description=request.description,
        language=request.language,
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(minutes=request.minutes)).astimezone(UTC),
    )
    rule = partial(
        rules.schedule,
        pack=pack,
        launch=launch,
        exhibitor=exhibitor,
        day=request.day,
        per_exhibitor=deps.settings.launches_per_exhibitor,
    )
    applied = await deps.repository.stage.apply(
        f"{pack.forum.id}:{request.day}", None, on(StageDay, rule)
    )
    problems: list[FieldProblem] = applied.result
    if problems:
        raise Refused(409, problems=problems)
    return {
        "launch_id": launch.launch_id,
        "room": rules.stage_room(pack),
        "starts_at": launch.starts_at,
        "ends_at": launch.ends_at,
    }
