"""What each event concerns: the subjects of its audit entry, one row per event type — pure.

A row names, per subject kind, where the event's payload holds the ids (a path of field names;
a list on the way is walked item by item). Only ids are ever taken, and only values shaped like
one (`ID`): a name, an e-mail or a sentence in an id's place is dropped, never copied.

Every event type of `shared/contracts` is decided here (`tests/unit/test_audit_subjects.py`
fails on a new type without a decision): filed under at least one subject (`SUBJECTS`), or
deliberately about no one (`NO_SUBJECT`, with why). An event of a type without a row still gets
its entry, with no subjects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

PARTICIPANT = "participant"
DELEGATION = "delegation"
EXHIBITOR = "exhibitor"
SESSION = "session"
BUDGET_LINE = "budget_line"
ACTION_ITEM = "action_item"
REPORT = "report"
ACCOUNT = "account"  # a staff account's username: `account:<username>` as an actor
TOKEN = "token"  # an access token's id (its jti): `token:<id>` as an actor, for an API token

KINDS = (
    PARTICIPANT,
    DELEGATION,
    EXHIBITOR,
    SESSION,
    BUDGET_LINE,
    ACTION_ITEM,
    REPORT,
    ACCOUNT,
    TOKEN,
)
"""The subject kinds, each a field of an audit entry (a list of ids, absent when empty)."""

ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
"""What an id looks like: no spaces, no `@`; anything else is not copied into the audit."""

type Getter = Callable[[Mapping[str, Any]], Iterator[str]]
type Row = Mapping[str, tuple[Getter, ...]]


def _walk(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _walk(item, path)
        return
    if not path:
        if value is not None:
            yield value
        return
    if isinstance(value, Mapping):
        yield from _walk(value.get(path[0]), path[1:])


def at(*path: str) -> Getter:
    """The ids at `path` (`at("participant", "participant_id")`; lists walked item by item)."""

    def get(payload: Mapping[str, Any]) -> Iterator[str]:
        for value in _walk(payload, path):
            if isinstance(value, str | int) and not isinstance(value, bool):
                yield str(value)

    return get


def code_at(*path: str) -> Getter:
    """A delegation's code from its id (`<forum_id>:<code>`) at `path`."""
    inner = at(*path)

    def get(payload: Mapping[str, Any]) -> Iterator[str]:
        for value in inner(payload):
            yield value.rsplit(":", 1)[-1]

    return get


def party_subject(name: str, prefix: str) -> Getter:
    """The id of a party's subject (`participant:<id>`, `exhibitor:<id>`,
    `focal_point:<delegation code>`) at `name` when it starts with `prefix:`."""

    def get(payload: Mapping[str, Any]) -> Iterator[str]:
        found = payload.get(name)
        if isinstance(found, str) and found.startswith(f"{prefix}:"):
            yield found.removeprefix(f"{prefix}:")

    return get


def party(name: str, kind: str) -> Getter:
    """The id of an expo party (`{kind, id}`) at `name` when it is of `kind`."""

    def get(payload: Mapping[str, Any]) -> Iterator[str]:
        found = payload.get(name)
        if isinstance(found, Mapping) and found.get("kind") == kind and found.get("id"):
            yield str(found["id"])

    return get


# --- the table ---------------------------------------------------------------------------------

_SNAPSHOT: Row = {PARTICIPANT: (at("participant", "participant_id"),)}
_PARTICIPANT: Row = {PARTICIPANT: (at("participant_id"),)}
_EXHIBITOR: Row = {EXHIBITOR: (at("exhibitor_id"),)}
_EXHIBITOR_AND_PARTICIPANT: Row = {
    EXHIBITOR: (at("exhibitor_id"),),
    PARTICIPANT: (at("participant_id"),),
}
_MEETING: Row = {
    PARTICIPANT: (party("requester", "participant"), party("invitee", "participant")),
    EXHIBITOR: (party("requester", "exhibitor"), party("invitee", "exhibitor")),
}
_DELEGATION: Row = {DELEGATION: (at("delegation", "code"),)}
_MEMBER: Row = {DELEGATION: (code_at("delegation_id"),), PARTICIPANT: (at("participant_id"),)}
_SESSION: Row = {SESSION: (at("session_code"),)}
_SIGNUP: Row = {SESSION: (at("session_code"),), PARTICIPANT: (at("participant_id"),)}
_SUPPORT: Row = {
    SESSION: (at("session_code"),),
    PARTICIPANT: (at("participant_id"),),
    BUDGET_LINE: (at("budget_line"),),
}
_RECIPIENT: Row = {PARTICIPANT: (at("recipient_id"),)}
_ACTION_ITEM: Row = {ACTION_ITEM: (at("action_item_id"),)}
_ACCOUNT: Row = {ACCOUNT: (at("username"),)}
_TOKEN: Row = {TOKEN: (at("token_id"),)}
_NONE: Row = {}

NO_SUBJECT: Mapping[str, str] = {
    "registration.submitted": "a form's sign-up has no participant id yet (registration derives "
    "it); its registration.confirmed, waitlisted or rejected names the participant",
    "campaign.requested": "a campaign is sent to a segment, not to people; each message's "
    "notification.queued names its recipient",
    "webhook.endpoint_changed": "an outbound webhook endpoint is a machine's address, about no "
    "participant, delegation, exhibitor, session or budget line (the entry names the actor and "
    "the endpoint id)",
}
"""Event types deliberately filed under no subject, with why (an entry still names the actor)."""

SUBJECTS: Mapping[str, Row] = {
    # registration
    "registration.rejected": _PARTICIPANT,
    "registration.confirmed": _SNAPSHOT,
    "registration.waitlisted": _SNAPSHOT,
    "registration.promoted": _SNAPSHOT,
    "registration.updated": _SNAPSHOT,
    "registration.cancelled": _SNAPSHOT,
    "registration.cancel_requested": _PARTICIPANT,
    "accreditation.requested": _SNAPSHOT,
    "accreditation.approved": _SNAPSHOT,
    "accreditation.rejected": _SNAPSHOT,
    "participant.consent_changed": _PARTICIPANT,
    "participant.erasure_requested": _PARTICIPANT,
    "participant.erased": _PARTICIPANT,
    "badge.issued": _PARTICIPANT,
    "badge.revoked": _PARTICIPANT,
    "attendee.checked_in": _PARTICIPANT,
    "delegation.registered": _DELEGATION,
    "delegation.updated": _DELEGATION,
    "delegation.member_nominated": _MEMBER,
    "delegation.member_withdrawn": _MEMBER,
    "delegation.member_substituted": {
        DELEGATION: (code_at("delegation_id"),),
        PARTICIPANT: (at("replaced_participant_id"), at("participant_id")),
    },
    "delegation.nomination_refused": {DELEGATION: (code_at("delegation_id"),)},
    # parties' own access: issued (its token id, never its text) and revoked by whose it is
    "participant.access_issued": {PARTICIPANT: (at("participant_id"),), TOKEN: (at("token_id"),)},
    "delegation.focal_point_access_issued": {
        DELEGATION: (code_at("delegation_id"),),
        TOKEN: (at("token_id"),),
    },
    "exhibitor.access_issued": {EXHIBITOR: (at("exhibitor_id"),), TOKEN: (at("token_id"),)},
    "access.subject_revoked": {
        PARTICIPANT: (party_subject("subject", "participant"),),
        EXHIBITOR: (party_subject("subject", "exhibitor"),),
        DELEGATION: (party_subject("subject", "focal_point"),),
    },
    # identity: who made an account, gave it roles, disabled it, issued or revoked a token is
    # the entry's actor; an account's scope claims (its sessions, delegation, exhibitor) are
    # what its creation concerns too
    "account.created": {
        ACCOUNT: (at("username"),),
        SESSION: (at("sessions"),),
        DELEGATION: (code_at("delegation"),),
        EXHIBITOR: (at("exhibitor"),),
    },
    "account.roles_changed": _ACCOUNT,
    "account.disabled": _ACCOUNT,
    "account.linked": _ACCOUNT,  # to an identity provider: named, not the person's subject there
    "access.token_issued": _TOKEN,
    "access.revoked": _TOKEN,  # an API token's, or a staff sign-in's
    # scheduling
    "programme.published": {
        SESSION: tuple(
            at("changes", name)
            for name in ("added", "moved", "cancelled", "people_changed", "updated")
        )
    },
    "session.draft_created": _SESSION,  # the draft: official once a release publishes it
    "session.draft_edited": _SESSION,
    "session.cancelled": _SESSION,  # the people affected have their own sign-up events
    "session.rescheduled": _SESSION,
    "session.signup_confirmed": _SIGNUP,
    "session.signup_waitlisted": _SIGNUP,
    "session.signup_promoted": _SIGNUP,
    "session.signup_cancelled": _SIGNUP,
    "panelist.invited": _SIGNUP,
    "panelist.accepted": _SIGNUP,
    "panelist.declined": _SIGNUP,
    "travel_support.committed": _SUPPORT,
    "travel_support.cancelled": _SUPPORT,
    # expo
    "exhibitor.applied": _EXHIBITOR,
    "exhibitor.approved": _EXHIBITOR,
    "exhibitor.rejected": _EXHIBITOR,
    "booth.assigned": _EXHIBITOR,
    "booth.released": _EXHIBITOR,
    "booth.request_refused": _EXHIBITOR,
    "launch.scheduled": _EXHIBITOR,
    "lead.captured": _EXHIBITOR_AND_PARTICIPANT,
    "meeting.requested": _MEETING,
    "meeting.confirmed": _MEETING,
    "meeting.declined": _MEETING,
    "job.posted": _EXHIBITOR,
    "job_application.received": _EXHIBITOR_AND_PARTICIPANT,
    "interview.scheduled": _EXHIBITOR_AND_PARTICIPANT,
    # notification
    "notification.queued": _RECIPIENT,
    "notification.sent": _RECIPIENT,
    "notification.failed": _RECIPIENT,
    "contact.preferences_changed": {PARTICIPANT: (at("person_id"),)},
    # reporting
    "conclusion.drafted": _SESSION,
    "conclusion.submitted": _SESSION,
    "conclusion.approved": _SESSION,
    "action_item.created": _ACTION_ITEM,
    "action_item.updated": _ACTION_ITEM,
    "action_item.follow_up_due": _ACTION_ITEM,
    "budget.threshold_crossed": {BUDGET_LINE: (at("line"),)},
    "budget.entry_recorded": {BUDGET_LINE: (at("line"),)},
    "report.generated": {REPORT: (at("report_id"),)},
}


def subjects_of(event_type: str, payload: Mapping[str, Any]) -> dict[str, list[str]]:
    """The ids `payload` concerns, by kind (kinds without any left out), each list sorted and
    without repeats; values not shaped like an id are dropped."""
    found: dict[str, list[str]] = {}
    for kind, getters in SUBJECTS.get(event_type, _NONE).items():
        ids = {value for get in getters for value in get(payload) if ID.fullmatch(value)}
        if ids:
            found[kind] = sorted(ids)
    return found
