"""Scheduling's HTTP API.

- public: the published agenda (JSON) and the iCal feeds (whole programme, per room, per person);
- participants: sign up for a session, give a seat up;
- secretariat (bearer token): the draft, its conflicts, edits, people, invitations, travel
  support, and publishing releases.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.scheduling import domain, feeds, handlers
from services.scheduling.settings import SchedulingSettings
from shared.contracts.registration import Email, Phone
from shared.http import Caller, participant_or_secretariat, require_token

ICAL = "text/calendar; charset=utf-8"
LangQuery = Query(None, description="Language of titles: es or en (default: the forum's).")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Text(Body):
    es: str = Field(min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)


class SessionEdit(Body):
    """Fields to change on a draft session. Times: ISO 8601; without an offset they are venue time."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    room: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,49}$")
    title: Text | None = None
    description: Text | None = None
    expected_audience: int | None = Field(None, ge=0, le=100_000)
    seats: int | None = Field(
        None, ge=0, le=100_000, description="Sign-up capacity; default the room's."
    )


class SessionNew(SessionEdit):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9]*(?:[.-][A-Z0-9]+)*$", examples=["B2.7"])
    kind: Literal["inauguration", "expo_opening", "block", "session", "break", "closing"] = (
        "session"
    )
    parent: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9]*(?:[.-][A-Z0-9]+)*$")
    starts_at: datetime
    ends_at: datetime
    title: Text

    @model_validator(mode="after")
    def _times(self) -> SessionNew:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        return self


class PersonIn(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Ana López"])
    role: Literal["speaker", "panelist", "moderator", "chair", "rapporteur"]
    affiliation: str | None = Field(None, max_length=200, examples=["OIM"])
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", examples=["SV"])
    email: Email | None = None
    phone: Phone | None = None
    language: Literal["es", "en"] | None = Field(
        None, description="Default: the registered participant's, else es."
    )
    person_id: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    participant_id: uuid.UUID | None = None


class CancelBody(Body):
    reason: str | None = Field(None, max_length=500)


class PublishBody(Body):
    note: str | None = Field(None, max_length=500)


class InviteBody(Body):
    travel_support: bool = False


class SupportBody(Body):
    amount: Decimal = Field(gt=0, max_digits=10, decimal_places=2, examples=["850.00"])


class SignupBody(Body):
    participant_id: uuid.UUID


def refused(error: handlers.Refused) -> HTTPException:
    """The refusal as an HTTP error: `detail.reason`, plus the conflicts to fix or what clashed."""
    detail: dict[str, Any] = {"reason": error.reason}
    if isinstance(error.details, list):
        detail["conflicts"] = error.details
    elif isinstance(error.details, dict):
        detail.update(error.details)
    return HTTPException(error.status, detail=detail)


def build_routers(deps: handlers.Scheduling, settings: SchedulingSettings) -> list[APIRouter]:
    public = APIRouter(tags=["agenda and feeds"])
    participants = APIRouter(tags=["session sign-up"])
    participant = participant_or_secretariat(settings)
    secretariat = APIRouter(
        prefix="/programme",
        tags=["secretariat"],
        dependencies=[Depends(require_token(settings.api_tokens))],
    )
    pack = deps.pack

    def base_of(request: Request) -> str:
        """Links point where the caller reached us, unless a public URL is configured."""
        return (
            settings.public_url.rstrip("/")
            if settings.public_url
            else str(request.base_url).rstrip("/")
        )

    def language(lang: str | None) -> str:
        return lang if lang in pack.forum.languages else pack.forum.default_language

    def local(moment: datetime) -> datetime:
        return moment.replace(tzinfo=pack.forum.tz) if moment.tzinfo is None else moment

    async def latest(release: int | None = None) -> dict[str, Any]:
        found = (
            await deps.repository.release(deps.forum_id, release)
            if release
            else await deps.repository.latest_release(deps.forum_id)
        )
        if found is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail="no published release of the programme yet"
            )
        return found

    def ical(body: bytes, filename: str) -> Response:
        return Response(
            body, media_type=ICAL, headers={"Content-Disposition": f'inline; filename="{filename}"'}
        )

    def personal_url(base: str, subject: str) -> str:
        token = deps.feed_token(subject)
        return f"{base}/people/{subject}/agenda.ics" + (f"?token={token}" if token else "")

    # --- public ---

    @public.get("/agenda.json", summary="The published programme (JSON, venue time, es/en)")
    @public.get("/agenda", summary="The published programme (JSON, venue time, es/en)")
    async def get_agenda(
        request: Request, release: int | None = Query(None, ge=1)
    ) -> dict[str, Any]:
        document, base = await latest(release), base_of(request)
        return {
            **feeds.agenda(document, pack),
            "feeds": {
                "ical": f"{base}/agenda.ics",
                "per_room": {
                    r.code: f"{base}/rooms/{r.code}/agenda.ics" for r in pack.programme.rooms
                },
            },
        }

    @public.get(
        "/agenda.ics", summary="The whole published programme (iCalendar)", response_class=Response
    )
    async def programme_ical(lang: str | None = LangQuery) -> Response:
        document, chosen = await latest(), language(lang)
        name = pack.forum.short_name.get(chosen)
        return ical(
            feeds.calendar(
                document["sessions"], pack, lang=chosen, name=name, release=document["number"]
            ),
            "programme.ics",
        )

    @public.get(
        "/rooms/{room}/agenda.ics",
        summary="One room's published programme (iCalendar)",
        response_class=Response,
    )
    async def room_ical(room: str, lang: str | None = LangQuery) -> Response:
        found = pack.programme.room(room)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="room: no such room")
        document, chosen = await latest(), language(lang)
        sessions = [s for s in document["sessions"] if s.get("room") == room]
        name = f"{pack.forum.short_name.get(chosen)} · {found.name.get(chosen)}"
        return ical(
            feeds.calendar(sessions, pack, lang=chosen, name=name, release=document["number"]),
            f"{room}.ics",
        )

    @public.get(
        "/people/{subject}/agenda.ics",
        summary="A person's agenda (iCalendar): sessions they take part in or signed up for",
        description="`subject` is a person id from the programme or a registration participant id. "
        "When the service has a feed secret, the link carries a `token`.",
        response_class=Response,
    )
    async def person_ical(
        subject: str, lang: str | None = LangQuery, token: str | None = Query(None, max_length=64)
    ) -> Response:
        expected = deps.feed_token(subject)
        if expected is not None and not hmac.compare_digest(expected, token or ""):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="token: this personal feed needs the token of its link",
            )
        document = await latest()
        seated = set()
        for code_id in await deps.repository.sessions_with(
            {
                "forum_id": deps.forum_id,
                "$or": [
                    {"confirmed": subject},
                    {"people.person_id": subject},
                    {"people.participant_id": subject},
                ],
            }
        ):
            seated.add(code_id.split(":", 1)[1])
        mine = [
            s
            for s in document["sessions"]
            if s["code"] in seated
            or any(
                subject in (p.get("person_id"), p.get("participant_id"))
                for p in s.get("people", [])
            )
        ]
        chosen = language(lang)
        name = f"{pack.forum.short_name.get(chosen)} · {'mi agenda' if chosen == 'es' else 'my agenda'}"
        return ical(
            feeds.calendar(mine, pack, lang=chosen, name=name, release=document["number"]),
            "agenda.ics",
        )

    # --- participants ---

    @participants.post(
        "/sessions/{code}/signups",
        status_code=status.HTTP_201_CREATED,
        summary="Sign up for a session (confirmed participants)",
    )
    async def sign_up(
        code: str, body: SignupBody, request: Request, caller: Caller = Depends(participant)
    ) -> dict[str, Any]:
        participant_id = str(body.participant_id)
        caller.require(participant_id)
        try:
            outcome = await handlers.sign_up(deps, code, participant_id)
        except handlers.Refused as error:
            raise refused(error) from None
        return {
            "session_code": code,
            "participant_id": participant_id,
            "status": outcome.status,
            "position": outcome.position or None,
            "agenda_ics": personal_url(base_of(request), participant_id),
        }

    @participants.delete(
        "/sessions/{code}/signups/{participant_id}", summary="Give up a seat or waitlist place"
    )
    async def give_up(
        code: str, participant_id: uuid.UUID, caller: Caller = Depends(participant)
    ) -> dict[str, Any]:
        caller.require(str(participant_id))
        try:
            promoted = await handlers.cancel_signup(deps, code, str(participant_id))
        except handlers.Refused as error:
            raise refused(error) from None
        return {"session_code": code, "participant_id": str(participant_id), "promoted": promoted}

    # --- secretariat ---

    @secretariat.get("/draft", summary="The draft programme with people, seats and conflicts")
    async def draft() -> dict[str, Any]:
        documents = await deps.repository.draft(deps.forum_id)
        found = domain.find_conflicts(domain.scheduled(documents), deps.venue)
        return {"sessions": documents, "conflicts": [c.as_dict() for c in found]}

    @secretariat.get("/conflicts", summary="Conflicts of the draft, each with its reason")
    async def list_conflicts() -> dict[str, Any]:
        found = await handlers.conflicts(deps)
        return {
            "errors": [c.as_dict() for c in found if c.severity == "error"],
            "warnings": [c.as_dict() for c in found if c.severity == "warning"],
        }

    @secretariat.post(
        "/sessions", status_code=status.HTTP_201_CREATED, summary="Add a session to the draft"
    )
    async def add_session(body: SessionNew) -> dict[str, Any]:
        fields = body.model_dump(exclude_none=True)
        fields.update(
            starts_at=local(body.starts_at),
            ends_at=local(body.ends_at),
            parent=body.parent,
            description=body.description.model_dump() if body.description else None,
            topics=[],
            expected_audience=body.expected_audience or 0,
            seats=body.seats,
            room=body.room,
        )
        try:
            return await handlers.create_session(deps, fields)
        except handlers.Refused as error:
            raise refused(error) from None

    @secretariat.patch("/sessions/{code}", summary="Move, retitle or resize a draft session")
    async def patch_session(code: str, body: SessionEdit) -> dict[str, Any]:
        fields = body.model_dump(exclude_unset=True)
        for name in ("starts_at", "ends_at", "title", "expected_audience"):
            if name in fields and fields[name] is None:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{name}: may not be null"
                )
        for name in ("starts_at", "ends_at"):
            if name in fields:
                fields[name] = local(fields[name])
        current = await deps.repository.session(deps.session_id(code))
        if current is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="code: no such session")
        if fields.get("starts_at", current["starts_at"]) >= fields.get(
            "ends_at", current["ends_at"]
        ):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail="ends_at: must be after starts_at"
            )
        try:
            return await handlers.edit_session(deps, code, fields)
        except handlers.Refused as error:
            raise refused(error) from None

    @secretariat.post("/sessions/{code}/cancel", summary="Cancel a session in the draft")
    async def cancel_session(code: str, body: CancelBody | None = None) -> dict[str, Any]:
        try:
            return await handlers.edit_session(
                deps,
                code,
                {"status": domain.CANCELLED, "cancel_reason": body.reason if body else None},
            )
        except handlers.Refused as error:
            raise refused(error) from None

    @secretariat.post("/sessions/{code}/restore", summary="Undo a cancellation in the draft")
    async def restore_session(code: str) -> dict[str, Any]:
        try:
            return await handlers.edit_session(
                deps, code, {"status": domain.SCHEDULED, "cancel_reason": None}
            )
        except handlers.Refused as error:
            raise refused(error) from None

    @secretariat.put(
        "/sessions/{code}/people", summary="Set the people on a session, with their roles"
    )
    async def put_people(code: str, people: list[PersonIn]) -> dict[str, Any]:
        entries = [p.model_dump(mode="json") for p in people]
        try:
            return await handlers.set_people(deps, code, entries)
        except handlers.Refused as error:
            raise refused(error) from None

    @secretariat.post(
        "/releases", status_code=status.HTTP_201_CREATED, summary="Publish the draft as a release"
    )
    async def publish(request: Request, body: PublishBody | None = None) -> JSONResponse:
        try:
            release = await handlers.publish(deps, body.note if body else None)
        except handlers.Refused as error:
            raise refused(error) from None
        return JSONResponse(
            {
                "release": release["number"],
                "changes": release["changes"],
                "warnings": release["warnings"],
                "agenda": f"{base_of(request)}/agenda?release={release['number']}",
            },
            status_code=status.HTTP_201_CREATED,
        )

    @secretariat.get("/releases", summary="Published releases with their changelogs")
    async def releases() -> list[dict[str, Any]]:
        return [
            {k: v for k, v in r.items() if k not in ("version", "_id")}
            for r in await deps.repository.release_list(deps.forum_id)
        ]

    @secretariat.post(
        "/sessions/{code}/people/{person_id}/invitation", summary="Invite a person on the session"
    )
    async def invite(code: str, person_id: str, body: InviteBody | None = None) -> dict[str, Any]:
        try:
            return await handlers.move_invitation(
                deps, code, person_id, "invited", bool(body and body.travel_support)
            )
        except handlers.Refused as error:
            raise refused(error) from None

    @secretariat.post(
        "/sessions/{code}/people/{person_id}/invitation/{answer}",
        summary="Record the invited person's answer (accept or decline)",
    )
    async def answer(
        code: str, person_id: str, answer: Literal["accept", "decline"]
    ) -> dict[str, Any]:
        try:
            return await handlers.move_invitation(
                deps, code, person_id, "accepted" if answer == "accept" else "declined"
            )
        except handlers.Refused as error:
            raise refused(error) from None

    @secretariat.post(
        "/sessions/{code}/people/{person_id}/travel-support",
        summary="Commit panelist-support money to an accepted invitation",
    )
    async def travel_support(code: str, person_id: str, body: SupportBody) -> dict[str, Any]:
        try:
            return await handlers.commit_travel_support(deps, code, person_id, body.amount)
        except handlers.Refused as error:
            raise refused(error) from None

    @secretariat.get("/feeds", summary="Where the agenda and the iCal feeds are")
    async def feed_links(
        request: Request, person: str | None = Query(None, max_length=64)
    ) -> dict[str, Any]:
        base = base_of(request)
        links: dict[str, Any] = {
            "agenda": f"{base}/agenda",
            "ical": f"{base}/agenda.ics",
            "rooms": {r.code: f"{base}/rooms/{r.code}/agenda.ics" for r in pack.programme.rooms},
        }
        if person:
            links["person"] = personal_url(base, person)
        return links

    return [public, participants, secretariat]
