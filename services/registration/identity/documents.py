"""The documents identity owns: staff accounts (`accounts`) and API tokens (`api_tokens`).

Neither holds personal data beyond a display name; no e-mail is kept. A token document holds
what was issued, never the token's text (it is shown once, when issued).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.documents import StoredDocument


class IssuedToken(BaseModel):
    """A staff token signed at a sign-in that has not expired yet (`accounts.staff_tokens[]`):
    what disabling the account, or taking a role from it, revokes."""

    model_config = ConfigDict(frozen=True, extra="allow")

    token_id: str
    expires_at: datetime


class AccountDocument(StoredDocument):
    """A staff account (`accounts`); `_id` is the username, lower-cased."""

    id: str = Field(alias="_id")
    display_name: str
    roles: list[str] = Field(default_factory=list)
    # Scope claims the account's tokens carry: a rapporteur's sessions, a focal point's
    # delegation, an exhibitor's id.
    sessions: list[str] = Field(default_factory=list)
    delegation: str | None = None
    exhibitor: str | None = None
    password_hash: str
    totp_secret: str | None = None
    # The last TOTP step a code was accepted for: no step is accepted twice.
    totp_last_step: int | None = None
    disabled: bool = False
    disabled_at: datetime | None = None
    created_at: datetime
    created_by: str
    updated_at: datetime | None = None
    last_sign_in_at: datetime | None = None
    staff_tokens: list[IssuedToken] = Field(default_factory=list)


class ApiTokenDocument(StoredDocument):
    """A machine token (`api_tokens`); `_id` is its jti. Never the token's text."""

    id: str = Field(alias="_id")
    name: str
    roles: list[str] = Field(default_factory=list)
    scope: list[str] | None = None
    expires_at: datetime
    created_at: datetime
    created_by: str
    revoked: bool = False
    revoked_at: datetime | None = None
    revoked_by: str | None = None
