"""Scheduling's events in participants' busy calendars: a session sign-up holds its time, a
cancellation frees it, a rescheduled or cancelled session moves or frees every attendee's hold.
Meetings give way to sessions (`meetings.handlers.move_meetings_off`).

Each event is one write per calendar through `AggregateStore.apply`, keyed by the event's id;
the rules (`rules.session_hold`, `session_release`) make the newest news win whatever order the
events arrive in.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from services.expo.calendars import rules
from services.expo.deps import Expo, calendar_id, on
from services.expo.documents import CalendarDocument
from services.expo.meetings.handlers import move_meetings_off
from shared.contracts.envelope import Event
from shared.contracts.scheduling import (
    SessionCancelled,
    SessionRescheduled,
    SessionSignupCancelled,
    SessionSignupConfirmed,
    SessionSignupPromoted,
)


async def _move_meetings_off_hold(
    deps: Expo, party: str, stored: dict[str, Any] | None, hold_id: str, cause: Event
) -> None:
    """Meetings give way to the session's hold as it stands now, not as the (maybe older) cause
    placed it; also after a redelivery, which finishes a move a crash cut short."""
    calendar = CalendarDocument.read(stored)
    hold = calendar.hold(hold_id) if calendar else None
    if hold is not None:
        await move_meetings_off(deps, party, rules.Slot(hold.starts_at, hold.ends_at), cause)


async def hold_session(event: SessionSignupConfirmed | SessionSignupPromoted, deps: Expo) -> None:
    """session.signup_confirmed / promoted: the participant is busy during the session; a
    meeting already placed at that time moves (sessions win). A cancellation or reschedule that
    overtook this event stands (see `rules.session_hold`)."""
    hold_id = f"session:{event.session_code}"
    slot = rules.Slot(event.slot.starts_at, event.slot.ends_at)
    participant = calendar_id("participant", str(event.participant_id))
    applied = await deps.repository.calendars.apply(
        participant,
        str(event.event_id),
        on(
            CalendarDocument,
            partial(rules.session_hold, hold_id=hold_id, slot=slot, at=event.occurred_at),
        ),
    )
    await _move_meetings_off_hold(deps, participant, applied.document, hold_id, event)


async def free_session(event: SessionSignupCancelled, deps: Expo) -> None:
    """session.signup_cancelled: the session no longer blocks; a tombstone keeps an older,
    late sign-up from placing the hold again."""
    hold_id = f"session:{event.session_code}"
    await deps.repository.calendars.apply(
        calendar_id("participant", str(event.participant_id)),
        str(event.event_id),
        on(CalendarDocument, partial(rules.session_release, hold_id=hold_id, at=event.occurred_at)),
    )


async def move_session(event: SessionRescheduled | SessionCancelled, deps: Expo) -> None:
    """session.rescheduled / cancelled: every attendee's hold follows the session, as of the
    event; a sign-up or cancellation of the attendee newer than it stands."""
    hold_id, at = f"session:{event.session_code}", event.occurred_at
    for person in event.affected:
        if person.participant_id is None:
            continue
        if isinstance(event, SessionCancelled):
            rule: Any = partial(rules.session_release, hold_id=hold_id, at=at)
        else:
            slot = rules.Slot(event.current.starts_at, event.current.ends_at)
            attendee = person.relation == "attendee"
            rule = partial(
                rules.session_moved, hold_id=hold_id, slot=slot, at=at, attendee=attendee
            )
        participant = calendar_id("participant", str(person.participant_id))
        applied = await deps.repository.calendars.apply(
            participant, str(event.event_id), on(CalendarDocument, rule)
        )
        if not isinstance(event, SessionCancelled):
            await _move_meetings_off_hold(deps, participant, applied.document, hold_id, event)
