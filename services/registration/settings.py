from __future__ import annotations

import ipaddress
import json
import re
from datetime import date
from typing import Annotated, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.auth.tokens import TokenSigner, decode_pem
from shared.settings import SecretList, ServiceSettings


def _none_if_empty(value: object) -> object:
    return None if value == "" else value  # compose's `${VAR:-}` when unset


def _network_list(value: object) -> object:
    """A JSON list, or addresses and networks separated by commas or spaces; empty: none."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part for part in re.split(r"[,\s]+", text) if part]
    return value


Networks = Annotated[
    list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode, BeforeValidator(_network_list)
]


_HTTP_URL = re.compile(r"^https?://[^/?#\s]+(/[^?#\s]*)?$")


def _base_url(value: str, field: str) -> str:
    """An http(s) URL without query or fragment, its trailing slash dropped."""
    if not _HTTP_URL.fullmatch(value):
        raise ValueError(f"{field}: an http(s) URL without query or fragment is needed")
    return value.rstrip("/")


class OidcSettingsError(RuntimeError):
    """OpenID Connect settings that do not fit together. Not a ValueError on purpose: raised from
    a settings validator it propagates as it is, instead of a ValidationError whose text would
    echo the input, client secrets included."""


class OidcProvider(BaseModel):
    """An organisation's OpenID Connect identity provider (`REGISTRATION_OIDC_PROVIDERS`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,39}$",
        description="In the sign-in URL (/auth/oidc/<name>/login) and in `foro users link --provider`.",
    )
    issuer: str = Field(
        description="The provider's issuer; discovery reads <issuer>/.well-known/openid-configuration."
    )
    client_id: str = Field(min_length=1, max_length=256)
    client_secret: SecretStr = Field(description="The secret the provider issued to foro.")
    scopes: str = Field("openid email profile", description="Space-separated; `openid` included.")

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        return _base_url(value.strip(), "issuer")

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: str) -> str:
        scopes = value.split()
        if "openid" not in scopes:
            raise ValueError("scopes: must include `openid`")
        return " ".join(scopes)


class RegistrationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="REGISTRATION_", extra="ignore", populate_by_name=True
    )

    database: str = "foro_registration"
    http_port: int = 8001
    webhook_secrets: SecretList = Field(
        default_factory=list,
        description="Secrets accepted on the intake webhook (two during a rotation): "
        "`whsec_<base64>` or any text (see shared/webhooks.py).",
    )
    webhook_tolerance_seconds: int = Field(300, ge=1, le=3600)
    webhook_legacy_until: date | None = Field(
        date(2027, 6, 30),
        description="Last day the first signature scheme (X-Foro-Timestamp, X-Foro-Signature) "
        "is accepted beside Standard Webhooks; empty: refused already.",
    )

    @field_validator("webhook_legacy_until", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    fault: str | None = Field(None, description="Fault injection for tests: crash_before_publish.")
    badge_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "REGISTRATION_BADGE_SECRET", "FORO_BADGE_SECRET", "badge_secret"
        ),
        description="HMAC secret signing badge QR tokens (expo verifies with the same one); unset disables badges.",
    )
    badge_previous_secrets: SecretList = Field(
        default_factory=list,
        description="Older badge secrets still accepted at check-in during a rotation.",
    )
    checkin_points: list[str] = Field(
        default_factory=lambda: ["entrance", "expo"],
        description="Named check-in points besides the rooms of the event pack.",
    )

    checkin_margin_hours: float = Field(
        12.0,
        ge=0,
        le=168,
        description="Check-in is accepted from this many hours before the forum's first day until this "
        "many after its last (venue time); outside, scans are refused.",
    )

    auth_signing_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "FORO_AUTH_SIGNING_KEY", "REGISTRATION_AUTH_SIGNING_KEY", "auth_signing_key"
        ),
        description="Ed25519 private key signing access tokens (base64 of the PEM); its public key "
        "goes into every service's FORO_AUTH_PUBLIC_KEYS. Unset: registration signs no tokens.",
    )
    auth_signing_key_id: Annotated[str | None, BeforeValidator(_none_if_empty)] = Field(
        None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        validation_alias=AliasChoices(
            "FORO_AUTH_SIGNING_KEY_ID", "REGISTRATION_AUTH_SIGNING_KEY_ID", "auth_signing_key_id"
        ),
        description="Key id of the signing key (the `kid` of every token it signs, and its key in "
        "FORO_AUTH_PUBLIC_KEYS).",
    )

    trusted_proxies: Networks = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the proxies in front of registration whose "
        "X-Forwarded-For is believed: the web pages' address, an ingress's. Sign-in failures are "
        "throttled per username and client address; behind a proxy every sign-in would have the "
        "proxy's address. Comma-separated or a JSON list; none by default (the peer counts).",
    )

    oidc_providers: list[OidcProvider] = Field(
        default_factory=list,
        description="OpenID Connect identity providers staff may sign in with (a JSON list of "
        "{name, issuer, client_id, client_secret, scopes}); each person's subject is linked to "
        "an account by `foro users link`.",
    )
    public_url: Annotated[str | None, BeforeValidator(_none_if_empty)] = Field(
        None,
        description="Registration's public base URL (e.g. https://foro.example.org): OpenID "
        "Connect redirects to <public_url>/auth/oidc/<provider>/callback.",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return None if value is None else _base_url(value.strip(), "REGISTRATION_PUBLIC_URL")

    @model_validator(mode="after")
    def _oidc_needs(self) -> Self:
        names = [provider.name for provider in self.oidc_providers]
        if len(set(names)) != len(names):
            raise OidcSettingsError("REGISTRATION_OIDC_PROVIDERS: two providers share a name")
        if self.oidc_providers and not self.public_url:
            raise OidcSettingsError(
                "REGISTRATION_PUBLIC_URL: required with REGISTRATION_OIDC_PROVIDERS "
                "(the providers redirect back to it)"
            )
        if (
            self.oidc_providers
            and self.environment == "production"
            and not (self.public_url or "").startswith("https://")
        ):
            raise OidcSettingsError("REGISTRATION_PUBLIC_URL: https is required in production")
        return self

    def token_signer(self) -> TokenSigner | None:
        """The signer of access tokens, or None when no signing key is set. A key that is not an
        Ed25519 private key is refused naming the variable, never echoing the value."""
        if self.auth_signing_key is None or not self.auth_signing_key.get_secret_value():
            return None
        if not self.auth_signing_key_id:
            raise ValueError("FORO_AUTH_SIGNING_KEY_ID: required with FORO_AUTH_SIGNING_KEY")
        try:
            return TokenSigner(
                decode_pem(self.auth_signing_key.get_secret_value()), self.auth_signing_key_id
            )
        except ValueError:
            raise ValueError(
                "FORO_AUTH_SIGNING_KEY: not the base64 of an Ed25519 private key in PEM "
                "(`foro secrets generate` makes one)"
            ) from None

    def badge_verification_secrets(self) -> list[SecretStr]:
        return [
            s
            for s in (self.badge_secret, *self.badge_previous_secrets)
            if s is not None and s.get_secret_value()
        ]
