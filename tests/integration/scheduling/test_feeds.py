"""Agenda feeds: iCal (RFC 5545, venue time zone) read by two independent parsers."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import vobject

from tests.integration.scheduling.conftest import RunningScheduling

VENUE = ZoneInfo("America/El_Salvador")


def by_uid_icalendar(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["uid"]).split("@")[0]: e for e in calendar.walk("VEVENT")}


def by_uid_vobject(body: bytes) -> dict[str, object]:
    calendar = vobject.readOne(body.decode())
    return {e.uid.value.split("@")[0]: e for e in calendar.vevent_list}


async def test_the_whole_programme_parses_with_icalendar_and_vobject_in_venue_time(
    scheduling: RunningScheduling,
) -> None:
    await scheduling.tap.wait_for("programme.published")
    response = await scheduling.http.get("/agenda.ics", params={"lang": "en"})
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/calendar"
    )
    body = response.content

    calendar = icalendar.Calendar.from_ical(body)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["America/El_Salvador"]
    events = by_uid_icalendar(body)
    assert len(events) == 25
    inauguration = events["INAUG"]
    start = inauguration.decoded("dtstart")
    assert start == datetime(2004, 11, 18, 9, 0, tzinfo=VENUE)
    assert start.astimezone(UTC) == datetime(2004, 11, 18, 15, 0, tzinfo=UTC)
    assert inauguration["dtstart"].params["TZID"] == "America/El_Salvador"
    assert str(inauguration["summary"]) == "INAUG · Opening of the forum"
    assert "Inauguración del foro" in str(inauguration["description"])  # the other language too
    close = events["CLOSE"]
    assert close.decoded("dtend").astimezone(UTC) == datetime(2004, 11, 19, 23, 30, tzinfo=UTC)

    parsed = by_uid_vobject(body)
    assert set(parsed) == set(events)
    v_start = parsed["INAUG"].dtstart.value
    assert v_start.utcoffset().total_seconds() == -6 * 3600
    assert v_start.replace(tzinfo=None) == datetime(2004, 11, 18, 9, 0)
    b26 = parsed["B2.6"]
    assert (b26.dtstart.value.hour, b26.dtstart.value.minute) == (16, 50)
    assert "Humanitarian assistance / Ayuda humanitaria" in b26.description.value
    assert "Plenary hall" in b26.location.value

    spanish = by_uid_icalendar((await scheduling.http.get("/agenda.ics")).content)
    assert str(spanish["INAUG"]["summary"]) == "INAUG · Inauguración del foro"


async def test_room_and_person_feeds(scheduling: RunningScheduling) -> None:
    await scheduling.tap.wait_for("programme.published")
    http, auth = scheduling.http, scheduling.secretariat

    expo = await http.get("/rooms/expo_stage/agenda.ics")
    assert set(by_uid_icalendar(expo.content)) == {"EXPO-OPEN"}
    assert set(by_uid_vobject(expo.content)) == {"EXPO-OPEN"}
    assert (await http.get("/rooms/attic/agenda.ics")).status_code == 404

    [participant] = await scheduling.confirm_many(1)
    await http.put(
        "/programme/sessions/B3.1/people",
        headers=auth,
        json=[{"name": "Eva Ruiz", "role": "speaker", "email": "eva@example.org"}],
    )
    signed = await http.post(
        "/sessions/B2.2/signups",
        json={"participant_id": participant},
        headers=scheduling.as_participant(participant),
    )
    await http.post("/programme/releases", headers=auth)

    # The participant's link (from the sign-up answer) carries its token; without it: refused.
    link = signed.json()["agenda_ics"]
    assert "token=" in link
    assert (await http.get(f"/people/{participant}/agenda.ics")).status_code == 401
    mine = await http.get(link.removeprefix("http://scheduling.test"))
    assert set(by_uid_icalendar(mine.content)) == {"B2.2"}
    v_event = by_uid_vobject(mine.content)["B2.2"]
    assert v_event.dtstart.value.astimezone(VENUE).strftime("%H:%M") == "15:00"

    draft = (await http.get("/programme/draft", headers=auth)).json()
    eva = next(s for s in draft["sessions"] if s["code"] == "B3.1")["people"][0]["person_id"]
    links = (await http.get("/programme/feeds", headers=auth, params={"person": eva})).json()
    speaker = await http.get(links["person"].removeprefix("http://scheduling.test") + "&lang=en")
    events = by_uid_icalendar(speaker.content)
    assert set(events) == {"B3.1"}
    assert "Speaker: Eva Ruiz" in str(events["B3.1"]["description"])  # the part, named
    assert events["B3.1"].decoded("dtstart") == datetime(2004, 11, 19, 9, 0, tzinfo=VENUE)
