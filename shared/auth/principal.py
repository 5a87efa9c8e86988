"""Who is calling: what a verified token says, with the permissions it grants."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.auth.errors import forbidden
from shared.auth.permissions import Permission, Role
from shared.contracts.envelope import Actor

PrincipalKind = Literal["staff", "machine", "static", "participant", "exhibitor", "focal_point"]
"""Staff sign-ins, machines' API tokens and (development only) static tokens act for the
secretariat; the others are a party's own links (`shared.auth.tokens.LinkSigner`): a participant,
an exhibitor or a delegation's focal point, acting for themselves only."""
PARTY_KINDS: frozenset[str] = frozenset({"participant", "exhibitor", "focal_point"})


class Principal(BaseModel):
    """A verified caller. `permissions` are its roles' permissions narrowed to its token's scope.

    `sessions`, `delegation`, `exhibitor` and `participant` narrow it further where a route acts
    on one of them: a rapporteur writes the conclusions of the sessions assigned to them only
    (`require_session`), a participant signs themselves up only (`require_participant`).
    """

    model_config = ConfigDict(frozen=True)

    subject: str
    kind: PrincipalKind
    roles: frozenset[Role]
    permissions: frozenset[Permission]
    token_id: str
    sessions: frozenset[str] = frozenset()
    delegation: str | None = None
    exhibitor: str | None = None
    participant: str | None = None
    issued_at: datetime | None = None

    def actor(self) -> Actor:
        """The principal as the envelope of the events it causes names it."""
        return Actor(
            subject=self.subject,
            kind=self.kind,
            roles=sorted(role.value for role in self.roles),
            token_id=self.token_id,
        )

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require_session(self, code: str) -> None:
        """403 unless the token is not limited to sessions, or `code` is one of its sessions."""
        if self.sessions and code not in self.sessions:
            raise forbidden(
                "session_not_assigned",
                f"Su acceso no incluye la sesión «{code}».",
                f"Your access does not include the session “{code}”.",
            )

    def require_participant(self, participant_id: str) -> None:
        """403 when the token is a participant's own and `participant_id` is someone else
        (staff with the route's permission act for anyone)."""
        if self.kind == "participant" and self.participant != participant_id:
            raise forbidden(
                "participant_not_assigned",
                "Este acceso pertenece a otra persona participante.",
                "This access belongs to another participant.",
            )

    def own_participant(self) -> str:
        """The participant a participant's own token names; 403 for any other token (the
        route acts as a participant, and staff are not one)."""
        if self.kind != "participant" or self.participant is None:
            raise forbidden(
                "participant_token_required",
                "Esta acción la realiza la persona participante con su propio acceso.",
                "A participant takes this action with their own access.",
            )
        return self.participant

    def own_exhibitor(self) -> str:
        """The exhibitor the token is scoped to; 403 for a token scoped to none."""
        if self.exhibitor is None:
            raise forbidden(
                "exhibitor_token_required",
                "Esta acción la realiza un expositor con su propio acceso.",
                "An exhibitor takes this action with its own access.",
            )
        return self.exhibitor

    def require_delegation(self, delegation_id: str) -> None:
        """403 when the token is limited to another delegation."""
        if self.delegation is not None and self.delegation != delegation_id:
            raise forbidden(
                "delegation_not_assigned",
                "Su acceso se limita a otra delegación.",
                "Your access is limited to another delegation.",
            )

    def require_exhibitor(self, exhibitor_id: str) -> None:
        """403 when the token is limited to another exhibitor."""
        if self.exhibitor is not None and self.exhibitor != exhibitor_id:
            raise forbidden(
                "exhibitor_not_assigned",
                "Su acceso se limita a otro expositor.",
                "Your access is limited to another exhibitor.",
            )
