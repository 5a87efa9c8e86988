"""Launches on the expo stage, free of I/O: the stage room, when a launch may take place (Expo
hours, not over the programme or another launch, a daily limit per exhibitor), and the day's
launches after it."""

from __future__ import annotations

from datetime import datetime

from services.expo.calendars.rules import Slot, expo_window
from services.expo.common import new_event, problem
from services.expo.documents import ExhibitorDocument, Launch, StageDay
from shared import i18n
from shared.contracts.envelope import FieldProblem
from shared.contracts.expo import LaunchScheduled
from shared.decisions import Change, Decision
from shared.pack import EventPack


def stage_room(pack: EventPack) -> str:
    """The room launches take place in: the one the expo opening uses, else `expo_stage`."""
    opening = next((i for i in pack.programme.items if i.kind == "expo_opening" and i.room), None)
    return opening.room if opening and opening.room else "expo_stage"


def _hours(first: datetime, last: datetime, pack: EventPack, lang: str) -> str:
    """`09:00–10:30`, at the venue (a moment stored in UTC is shown in the forum's zone)."""
    tz = pack.forum.tz
    return (
        f"{i18n.time_text(first.astimezone(tz), lang)}–{i18n.time_text(last.astimezone(tz), lang)}"
    )


def closed_day() -> FieldProblem:
    return problem(
        "day", "expo_closed", "La Expo no abre ese día.", "The Expo is not open that day."
    )


def launch_problems(
    pack: EventPack,
    stage: StageDay | None,
    launch_id: str,
    exhibitor_id: str,
    slot: Slot,
    day: int,
    per_exhibitor: int,
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    window = expo_window(pack, day) if 0 <= day < pack.forum.days else None
    if window is None:
        return [closed_day()]
    if slot.starts_at < window.starts_at or slot.ends_at > window.ends_at:
        problems.append(
            problem(
                "starts_at",
                "outside_expo_hours",
                f"El escenario solo se usa en horario de la Expo "
                f"({_hours(window.starts_at, window.ends_at, pack, 'es')}).",
                f"The stage is used only during Expo hours "
                f"({_hours(window.starts_at, window.ends_at, pack, 'en')}).",
            )
        )
    room = stage_room(pack)
    for item in pack.programme.items:
        if item.room == room and item.day == day:
            start, end = pack.item_datetimes(item)
            if slot.overlaps(start, end):
                problems.append(
                    problem(
                        "starts_at",
                        "stage_in_programme",
                        f"El escenario está ocupado por «{item.title.es}» "
                        f"({_hours(start, end, pack, 'es')}).",
                        f"The stage holds “{item.title.en}” then ({_hours(start, end, pack, 'en')}).",
                    )
                )
    launches = [
        entry for entry in (stage.launches if stage else []) if entry.launch_id != launch_id
    ]
    for other in launches:
        if slot.overlaps(other.starts_at, other.ends_at):
            problems.append(
                problem(
                    "starts_at",
                    "slot_taken",
                    "Ya hay un lanzamiento a esa hora "
                    f"({_hours(other.starts_at, other.ends_at, pack, 'es')}).",
                    f"Another launch holds {_hours(other.starts_at, other.ends_at, pack, 'en')}.",
                )
            )
    if sum(1 for other in launches if other.exhibitor_id == exhibitor_id) >= per_exhibitor:
        problems.append(
            problem(
                "exhibitor_id",
                "launch_limit",
                f"Cada expositor tiene como máximo {per_exhibitor} lanzamientos por día.",
                f"Each exhibitor has at most {per_exhibitor} launches a day.",
            )
        )
    return problems


def schedule(
    stage: StageDay | None,
    pack: EventPack,
    launch: Launch,
    exhibitor: ExhibitorDocument,
    day: int,
    per_exhibitor: int,
) -> Decision[list[FieldProblem]]:
    """The launch on the day's stage, with `launch.scheduled`, or why not (the result)."""
    slot = Slot(launch.starts_at, launch.ends_at)
    problems = launch_problems(
        pack, stage, launch.launch_id, exhibitor.id, slot, day, per_exhibitor
    )
    if problems:
        return Decision(problems)
    event = new_event(
        LaunchScheduled,
        launch.launch_id,
        forum_id=pack.forum.id,
        launch_id=launch.launch_id,
        exhibitor_id=exhibitor.id,
        exhibitor_name=exhibitor.name,
        kind=launch.kind,
        title=launch.title,
        description=launch.description,
        language=launch.language,
        room=stage_room(pack),
        starts_at=launch.starts_at,
        ends_at=launch.ends_at,
    )
    launches = sorted([*(stage.launches if stage else []), launch], key=lambda e: e.starts_at)
    return Decision(
        [],
        Change(
            set={
                "forum_id": pack.forum.id,
                "day": day,
                "launches": [entry.model_dump() for entry in launches],
            },
            events=[event],
        ),
    )
