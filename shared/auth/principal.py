"""Who is calling: what a verified token says, with the permissions it grants."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.auth.errors import forbidden
from shared.auth.permissions import Permission, Role
from shared.contracts.envelope import Actor

PrincipalKind = Literal["staff", "machine", "static"]


class Principal(BaseModel):
    """A verified caller. `permissions` are its roles' permissions narrowed to its token's scope.

    `sessions`, `delegation` and `exhibitor` narrow it further where a route acts on one of them:
    a rapporteur writes the conclusions of the sessions assigned to them only (`require_session`).
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
