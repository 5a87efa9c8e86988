"""Permissions (`resource:action`) and the roles that grant them.

A token carries role names and, optionally, a scope (a list of permissions): what it may do is
what its roles grant, narrowed to its scope (`permissions_of`). A machine token for a form vendor
holds, say, the registrar role scoped to `participants:write` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType


class Permission(StrEnum):
    """What a route requires; `resource:action`."""

    PARTICIPANTS_READ = "participants:read"
    PARTICIPANTS_WRITE = "participants:write"
    ACCREDITATION_DECIDE = "accreditation:decide"
    DELEGATIONS_READ = "delegations:read"
    DELEGATIONS_MANAGE = "delegations:manage"  # create and amend, accredit, the focal point's key
    DELEGATION_MEMBERS = "delegations:members"  # nominate, substitute, withdraw members
    BADGES_PRINT = "badges:print"
    CHECKIN_SCAN = "checkin:scan"
    PRIVACY_ERASE = "privacy:erase"
    PROGRAMME_READ = "programme:read"
    AGENDA_READ = "agenda:read"  # a person's agenda feed (a participant: their own)
    SIGNUPS_WRITE = "signups:write"  # session sign-ups (a participant: their own)
    PROGRAMME_EDIT = "programme:edit"
    PROGRAMME_PUBLISH = "programme:publish"
    EXPO_READ = "expo:read"
    EXPO_MANAGE = "expo:manage"
    EXHIBITOR_SELF = "exhibitor:self"  # an exhibitor's own booth, launches, leads and jobs
    MEETINGS_TAKE_PART = "meetings:take_part"  # B2B meetings, as a participant or an exhibitor
    JOBS_APPLY = "jobs:apply"  # a participant applying to a job-fair post
    MESSAGES_READ = "messages:read"
    MESSAGES_SEND = "messages:send"  # resends, campaigns
    CONCLUSIONS_READ = "conclusions:read"
    CONCLUSIONS_WRITE = "conclusions:write"
    CONCLUSIONS_REVIEW = "conclusions:review"
    ACTION_PLAN_WRITE = "action_plan:write"
    BUDGET_READ = "budget:read"
    BUDGET_WRITE = "budget:write"
    REPORTS_READ = "reports:read"
    REPORTS_BUILD = "reports:build"
    REPORTS_PUBLISH = "reports:publish"
    STATISTICS_READ = "statistics:read"
    AUDIT_READ = "audit:read"
    ACCOUNTS_MANAGE = "accounts:manage"
    TOKENS_MANAGE = "tokens:manage"
    WEBHOOKS_MANAGE = "webhooks:manage"  # outbound webhook endpoints, their deliveries

    @property
    def resource(self) -> str:
        return self.value.partition(":")[0]

    @property
    def action(self) -> str:
        return self.value.partition(":")[2]


class Role(StrEnum):
    """A job at the forum; what it may do is `ROLES[role]`."""

    ADMIN = "admin"
    REGISTRAR = "registrar"
    DOOR_STAFF = "door_staff"
    PROGRAMME_EDITOR = "programme_editor"
    EXPO_MANAGER = "expo_manager"
    RAPPORTEUR = "rapporteur"
    FINANCE = "finance"
    COMMUNICATIONS = "communications"
    OBSERVER = "observer"
    # Scoped to one party: a token with these roles names its delegation or exhibitor
    # (`Principal.own_delegation`, `Principal.own_exhibitor`).
    FOCAL_POINT = "focal_point"
    EXHIBITOR = "exhibitor"


def _on(*resources: str) -> frozenset[Permission]:
    """Every permission on `resources`."""
    return frozenset(p for p in Permission if p.resource in resources)


P = Permission

ROLES: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.ADMIN: frozenset(Permission),
        Role.REGISTRAR: frozenset(
            {
                P.PARTICIPANTS_READ,
                P.PARTICIPANTS_WRITE,
                P.ACCREDITATION_DECIDE,
                P.DELEGATIONS_READ,
                P.DELEGATIONS_MANAGE,
                P.DELEGATION_MEMBERS,
                P.BADGES_PRINT,
                P.CHECKIN_SCAN,
                P.SIGNUPS_WRITE,
                P.AGENDA_READ,
            }
        ),
        # The scan's answer shows what the door needs; no reading of the participant list.
        Role.DOOR_STAFF: frozenset({P.CHECKIN_SCAN}),
        Role.PROGRAMME_EDITOR: _on("programme") | {P.SIGNUPS_WRITE, P.AGENDA_READ},
        Role.EXPO_MANAGER: _on("expo"),
        # Only the sessions assigned to them: the token's `sessions` claim
        # (`Principal.require_session`).
        Role.RAPPORTEUR: frozenset({P.CONCLUSIONS_READ, P.CONCLUSIONS_WRITE, P.PROGRAMME_READ}),
        Role.FINANCE: _on("budget"),
        Role.COMMUNICATIONS: _on("messages"),
        Role.OBSERVER: frozenset(
            p for p in Permission if p.action == "read" and p is not P.AUDIT_READ
        ),
        # Their own delegation only: the token's `delegation` claim.
        Role.FOCAL_POINT: frozenset({P.DELEGATIONS_READ, P.DELEGATION_MEMBERS}),
        # Their own exhibitor only: the token's `exhibitor` claim.
        Role.EXHIBITOR: frozenset({P.EXHIBITOR_SELF, P.MEETINGS_TAKE_PART}),
    }
)

PARTICIPANT_PERMISSIONS: frozenset[Permission] = frozenset(
    {P.SIGNUPS_WRITE, P.AGENDA_READ, P.MEETINGS_TAKE_PART, P.JOBS_APPLY}
)
"""What a participant's own token may do, for themselves only (the token's `participant`
claim, `Principal.require_participant`). Participants hold no role: they have no account."""

PARTY_ROLES: frozenset[Role] = frozenset({Role.FOCAL_POINT, Role.EXHIBITOR})
"""Roles that mean nothing without the party they are scoped to."""


def permissions_of(
    roles: Iterable[Role], scope: Iterable[Permission] | None = None
) -> frozenset[Permission]:
    """What `roles` grant together, narrowed to `scope` when there is one (a scope never adds
    a permission the roles do not grant)."""
    granted: frozenset[Permission] = frozenset().union(*(ROLES[Role(r)] for r in roles))
    return granted if scope is None else granted & frozenset(scope)
