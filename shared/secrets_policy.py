"""What makes a secret acceptable in production, and how new ones are made.

A secret is acceptable when it is present, is not a known default or placeholder (`CHANGE-ME`,
`*-change-me`, `secret`, `guest`, …), is at least 32 characters long and looks random enough. For
a URL (the broker's, the database's) the same holds for the password inside it.

"Random enough" is estimated simply, on purpose: these are machine-made tokens, not passwords a
person chose, so a dictionary-based estimator (zxcvbn) would add megabytes of word lists to the
image for nothing. The estimate is the empirical Shannon entropy of the characters times the
length, with a floor per character (a long run of few characters is weak) and a check for runs
of consecutive characters (`abcdef…`). `secrets.token_urlsafe(32)` scores about 210 bits.

The settings' secret fields are found generically: every `SecretStr` field (optional or a list)
of a settings object, and of the models nested in it (SMTP relays, SMS gateways), is checked, so a
new secret setting is covered without editing this module. Whether an unset one is a problem is
decided by `_optional`: rotation lists (`*_previous_secrets`), a password whose user name is unset,
an SMS token of a gateway kind that needs none, and the database's credentials may stay unset.
A credential a provider issues (nested relay and gateway models, `smtp_*`/`sms_*` fields) is held to
a lighter rule (`issued_weakness`): its length is not ours to choose.

Access control has rules of its own (`auth_problems`): a static secretariat token
(`<SERVICE>_API_TOKENS`) is a problem whenever one is set — development accepts them, production
refuses to start — every service needs `FORO_AUTH_PUBLIC_KEYS`, and registration a signing key
that is an Ed25519 private key, with an id, whose public key those hold under that id.
"""

from __future__ import annotations

import itertools
import json
import math
import secrets
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, BaseModel, SecretStr

MIN_LENGTH = 32
MIN_BITS = 96.0
MIN_BITS_PER_CHAR = 3.0
# A credential a provider issues (an SMTP relay's password, an SMS gateway's token): its length is
# the provider's choice, so only emptiness, placeholders and very short values are refused.
MIN_ISSUED_LENGTH = 12

# Compared after lower-casing; `guest` is RabbitMQ's default user and password.
KNOWN_DEFAULTS = frozenset(
    {
        "secret",
        "password",
        "passwd",
        "guest",
        "admin",
        "root",
        "test",
        "foro",
        "default",
        "token",
        "changeit",
        "example",
        "xxx",
    }
)
PLACEHOLDER_MARKS = ("change-me", "changeme", "change_me", "replace-me", "replace_me", "todo")


class InsecureSettingsError(RuntimeError):
    """Production settings with a missing, default or weak secret (one line per problem).

    Not a ValueError on purpose: raised from a settings validator it propagates as it is, instead
    of becoming a pydantic ValidationError, whose text would echo the input — the secrets.
    """

    def __init__(self, problems: list[SecretProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            "FORO_ENVIRONMENT=production refuses to start with these secrets "
            f"(`foro secrets generate` makes good ones):\n{lines}"
        )


@dataclass(frozen=True)
class SecretProblem:
    variable: str  # the environment variable to fix, e.g. REGISTRATION_WEBHOOK_SECRETS
    reason: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.reason}"


# --- one value ---------------------------------------------------------------------------------


def estimated_bits(value: str) -> float:
    """Length × empirical Shannon entropy per character: a rough upper bound of the strength."""
    if not value:
        return 0.0
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def _runs_of_consecutive(value: str) -> bool:
    """Most neighbours one code point apart (`abcdef`, `123456`, `zyxw`)."""
    steps = [abs(ord(b) - ord(a)) == 1 for a, b in itertools.pairwise(value)]
    return len(steps) > 0 and sum(steps) / len(steps) > 0.5


def weakness(value: str) -> str | None:
    """Why `value` is not an acceptable secret, or None when it is."""
    if not value:
        return "missing (empty)"
    lowered = value.lower()
    if lowered in KNOWN_DEFAULTS or any(mark in lowered for mark in PLACEHOLDER_MARKS):
        return "a known default or placeholder value"
    if len(value) < MIN_LENGTH:
        return f"too short: {len(value)} characters, at least {MIN_LENGTH} needed"
    bits = estimated_bits(value)
    if bits < MIN_BITS or bits / len(value) < MIN_BITS_PER_CHAR or _runs_of_consecutive(value):
        return f"too predictable: about {bits:.0f} bits of entropy, at least {MIN_BITS:.0f} needed"
    return None


def issued_weakness(value: str) -> str | None:
    """Why a credential a provider issued is not acceptable, or None."""
    if not value:
        return "missing (empty)"
    lowered = value.lower()
    if lowered in KNOWN_DEFAULTS or any(mark in lowered for mark in PLACEHOLDER_MARKS):
        return "a known default or placeholder value"
    if len(value) < MIN_ISSUED_LENGTH:
        return f"too short: {len(value)} characters, at least {MIN_ISSUED_LENGTH} needed"
    return None


def url_weakness(url: str, *, password_required: bool = True) -> str | None:
    """Why the credentials inside a broker or database URL are not acceptable, or None."""
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return "not a valid URL"
    if password is None:
        return "no password in the URL" if password_required else None
    password = unquote(password)
    if user is not None and unquote(user).lower() == "guest":
        return "uses RabbitMQ's default user `guest`"
    reason = weakness(password)
    return None if reason is None else f"the password inside the URL is {reason}"


# --- the secret fields of a settings object ----------------------------------------------------


@dataclass(frozen=True)
class SecretSetting:
    """One secret field as it is set: where it comes from, and its values (none when unset)."""

    variable: str
    field: str
    values: tuple[str, ...]
    optional: bool
    is_url: bool
    # Issued by a provider (an SMTP relay's password, an SMS gateway's token), not made by us.
    issued: bool = False


def _mentions(annotation: Any, kind: type) -> bool:
    if annotation is kind:
        return True
    if isinstance(annotation, type) and issubclass(annotation, kind):
        return True
    return any(_mentions(arg, kind) for arg in get_args(annotation))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def variable_name(model: type[BaseModel], field: str) -> str:
    """The environment variable an operator sets for a settings field (the platform-wide
    `FORO_*` one when the field accepts it)."""
    info = model.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        names = [choice for choice in alias.choices if isinstance(choice, str)]
        upper = [name for name in names if name.isupper()]
        foro = [name for name in upper if name.startswith("FORO_")]
        if foro or upper:
            return (foro or upper)[0]
    if isinstance(alias, str) and alias.isupper():
        return alias
    prefix = str(model.model_config.get("env_prefix", "") or "")
    return f"{prefix}{field}".upper()


def _secret_values(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, SecretStr):
        return (value.get_secret_value(),)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(v.get_secret_value() for v in value if isinstance(v, SecretStr))
    return ()


def _optional(owner: BaseModel, field: str) -> bool:
    """May this secret stay unset in production? Rotation lists, credentials of a relay or a
    gateway that does not use them, and the database's credentials (a URL without any)."""
    if "previous" in field or field == "mongo_url":
        return True
    if field in ("api_tokens", "auth_signing_key"):
        return True  # judged by `auth_problems`: refused when set, or checked as a key
    if field.endswith("password"):
        # A password pairs with the user name beside it: `smtp_password` with `smtp_username`.
        user_field = field.removesuffix("password") + "username"
        return not getattr(owner, user_field, None)
    if field == "auth_token":
        # A gateway's token; only the Twilio kind authenticates with one (the json kind may not).
        return getattr(owner, "kind", "twilio") != "twilio"
    return False


def secret_settings(settings: BaseModel) -> Iterator[SecretSetting]:
    """Every secret field of `settings`, nested models (SMTP relays, SMS gateways) included."""
    model = type(settings)
    for field, info in model.model_fields.items():
        annotation, value = info.annotation, getattr(settings, field)
        if _mentions(annotation, SecretStr):
            yield SecretSetting(
                variable=variable_name(model, field),
                field=field,
                values=_secret_values(value),
                optional=_optional(settings, field),
                is_url=field.endswith("_url"),
                issued=field.startswith(("smtp_", "sms_")),
            )
        for nested_model in _models_in(annotation):
            if not any(
                _mentions(f.annotation, SecretStr) for f in nested_model.model_fields.values()
            ):
                continue
            items = value if isinstance(value, list | tuple) else [value]
            for index, item in enumerate(items):
                if not isinstance(item, BaseModel):
                    continue
                label = getattr(item, "name", None) or str(index)
                for nested in secret_settings(item):
                    yield SecretSetting(
                        variable=f"{variable_name(model, field)}[{label}].{nested.field}",
                        field=nested.field,
                        values=nested.values,
                        optional=nested.optional,
                        is_url=nested.is_url,
                        # A nested model is a relay or gateway: its credentials are issued to us.
                        issued=True,
                    )


def setting_problems(setting: SecretSetting) -> list[SecretProblem]:
    if not setting.values or not any(setting.values):
        return [] if setting.optional else [SecretProblem(setting.variable, "missing")]
    problems = []
    for position, value in enumerate(setting.values):
        if setting.is_url:
            reason = url_weakness(value, password_required=not setting.optional)
        elif setting.issued:
            reason = issued_weakness(value)
        else:
            reason = weakness(value)
        if reason is not None:
            where = (
                f" (value {position + 1} of {len(setting.values)})"
                if len(setting.values) > 1
                else ""
            )
            problems.append(SecretProblem(setting.variable, reason + where))
    return problems


STATIC_TOKENS_REFUSED = (
    "static secretariat tokens are for development; use accounts and API tokens "
    "(foro users add, foro tokens issue)"
)


def _signing_key_problems(
    settings: BaseModel, public_keys: Mapping[str, str]
) -> list[SecretProblem]:
    """The signing key must be an Ed25519 private key with an id, whose public key the services
    hold under that id (or every token it signs would be refused)."""
    from shared.auth.tokens import decode_pem, public_pem_of

    key = getattr(settings, "auth_signing_key", None)
    if not isinstance(key, SecretStr) or not key.get_secret_value():
        return [
            SecretProblem(
                "FORO_AUTH_SIGNING_KEY", "missing: registration signs access tokens with it"
            )
        ]
    try:
        public_pem = public_pem_of(decode_pem(key.get_secret_value()))
    except ValueError:
        return [
            SecretProblem(
                "FORO_AUTH_SIGNING_KEY", "not the base64 of an Ed25519 private key in PEM"
            )
        ]
    kid = getattr(settings, "auth_signing_key_id", None)
    if not kid:
        return [SecretProblem("FORO_AUTH_SIGNING_KEY_ID", "missing: the id of the signing key")]
    try:
        published = decode_pem(public_keys[kid]) if kid in public_keys else None
    except ValueError:
        published = None
    if published is None or published.strip() != public_pem.strip():
        return [
            SecretProblem(
                "FORO_AUTH_PUBLIC_KEYS",
                f"has no public key of FORO_AUTH_SIGNING_KEY under its id {kid!r}: every token "
                "registration signs would be refused",
            )
        ]
    return []


def auth_problems(settings: BaseModel) -> list[SecretProblem]:
    """What access control needs in production: no static secretariat tokens, the public keys
    that verify access tokens, and — registration's — a signing key those keys match."""
    fields = type(settings).model_fields
    problems: list[SecretProblem] = []
    if "api_tokens" in fields and any(_secret_values(getattr(settings, "api_tokens", None))):
        problems.append(
            SecretProblem(variable_name(type(settings), "api_tokens"), STATIC_TOKENS_REFUSED)
        )
    public_keys: Mapping[str, str] = getattr(settings, "auth_public_keys", None) or {}
    if "auth_public_keys" in fields and not public_keys:
        problems.append(
            SecretProblem(
                "FORO_AUTH_PUBLIC_KEYS",
                "missing: services verify access tokens with registration's public keys",
            )
        )
    if "auth_signing_key" in fields:
        problems.extend(_signing_key_problems(settings, public_keys))
    return problems


def check_settings(settings: BaseModel) -> list[SecretProblem]:
    """Every problem with the secrets of `settings`: the variable to fix and why."""
    return [
        *(problem for s in secret_settings(settings) for problem in setting_problems(s)),
        *auth_problems(settings),
    ]


# --- the catalog: what `foro secrets generate` writes and `rotate` knows -------------------------

Kind = Literal["list", "single", "url", "provider", "signing_key", "derived"]
"""`signing_key`: the access tokens' key pair (FORO_AUTH_SIGNING_KEY), rotated with its id and
the public keys; `derived`: a value made from another (`follows`; those two by default), never
rotated by itself."""


@dataclass(frozen=True)
class SecretVariable:
    name: str
    kind: Kind
    about: str
    # What replacing a single value breaks; rotation then needs --yes.
    rotating_breaks: str | None = None
    # What finishing a list's rotation breaks (dropping the old values); --finish then needs --yes.
    finishing_breaks: str | None = None
    # Where the old value goes during a rotation so it keeps working (badge secrets).
    previous: tuple[str, ...] = ()
    # A derived value's source: it is the newest value of that list (the web's webhook secret).
    follows: str | None = None


SERVICES = ("registration", "scheduling", "expo", "notification", "reporting")
BROKER_URL_TEMPLATE = "amqp://foro:{password}@rabbitmq:5672/"
MONGO_URL_TEMPLATE = (
    "mongodb://foro:{password}@mongodb-0.mongodb-svc:27017,mongodb-1.mongodb-svc:27017,"
    "mongodb-2.mongodb-svc:27017/?replicaSet=mongodb&authSource=admin"
)
_LINKS_ABOUT = (
    "signs parties' own links: participants' personal codes and agenda feeds, exhibitors' and "
    "focal points' access"
)
_LINKS_FINISH_BREAKS = (
    "every link the older value(s) signed stops working: participants' personal codes and "
    "subscribed agenda feeds, exhibitors' and focal points' access sent before the rotation; "
    "those parties must be sent new links (or their links must have expired, "
    "FORO_PARTY_TOKEN_DAYS)"
)
_COOKIE_ABOUT = (
    "seals the web pages' sign-in cookie (the staff token inside): the first value seals, every "
    "one opens"
)
_COOKIE_FINISH_BREAKS = (
    "everyone signed in to the web pages with a cookie the older value(s) sealed must sign in again"
)
_BROKER_BREAKS = (
    "the broker user's password must be changed to the same value at the same time "
    "(rabbitmqctl change_password USER), then every service restarted"
)
_MONGO_BREAKS = (
    "the database user's password must be changed to the same value at the same time "
    "(db.changeUserPassword), then every service restarted"
)

# Access tokens' keys: the same names in both formats.
AUTH_VARIABLES: tuple[SecretVariable, ...] = (
    SecretVariable(
        "FORO_AUTH_SIGNING_KEY",
        "signing_key",
        "signs access tokens (registration): base64 of an Ed25519 private key in PEM",
    ),
    SecretVariable("FORO_AUTH_SIGNING_KEY_ID", "derived", "the id (kid) of the signing key"),
    SecretVariable(
        "FORO_AUTH_PUBLIC_KEYS",
        "derived",
        "verify access tokens (every service): JSON {key id: base64 PEM}",
    ),
)

# The keys of a Kubernetes Secret (deploy/k8s/secret.example.yaml): the services' own variables.
SERVICE_VARIABLES: tuple[SecretVariable, ...] = (
    SecretVariable("FORO_BROKER_URL", "url", "AMQP URL of RabbitMQ", _BROKER_BREAKS),
    SecretVariable("FORO_MONGO_URL", "url", "MongoDB URL", _MONGO_BREAKS),
    SecretVariable(
        "REGISTRATION_WEBHOOK_SECRETS", "list", "HMAC secrets accepted on the intake webhook"
    ),
    SecretVariable(
        "WEB_WEBHOOK_SECRET",
        "derived",
        "the web's public sign-up form signs the intake webhook with it: the newest of "
        "REGISTRATION_WEBHOOK_SECRETS",
        follows="REGISTRATION_WEBHOOK_SECRETS",
    ),
    SecretVariable(
        "WEB_COOKIE_SECRET", "list", _COOKIE_ABOUT, finishing_breaks=_COOKIE_FINISH_BREAKS
    ),
    # No <SERVICE>_API_TOKENS: production refuses static secretariat tokens (auth_problems).
    *AUTH_VARIABLES,
    SecretVariable(
        "FORO_BADGE_SECRET",
        "single",
        "signs badge QR codes (registration) and verifies them (expo)",
        previous=("REGISTRATION_BADGE_PREVIOUS_SECRETS", "EXPO_BADGE_PREVIOUS_SECRETS"),
    ),
    SecretVariable(
        "FORO_PARTICIPANT_TOKEN_SECRET",
        "list",
        _LINKS_ABOUT,
        finishing_breaks=_LINKS_FINISH_BREAKS,
    ),
)

# The keys of `.foro/secrets.env`: what the local launcher (`foro up`) and docker compose read.
# One secretariat token serves all five services; a list value is a JSON list during a rotation.
LOCAL_VARIABLES: tuple[SecretVariable, ...] = (
    SecretVariable(
        "FORO_API_TOKEN", "list", "the development secretariat token of all five services"
    ),
    *AUTH_VARIABLES,
    SecretVariable("FORO_WEBHOOK_SECRET", "list", "HMAC secret of the intake webhook"),
    SecretVariable(
        "WEB_COOKIE_SECRET", "list", _COOKIE_ABOUT, finishing_breaks=_COOKIE_FINISH_BREAKS
    ),
    SecretVariable(
        "FORO_BADGE_SECRET",
        "single",
        "signs and verifies badge QR codes",
        previous=("FORO_BADGE_PREVIOUS_SECRETS",),
    ),
    SecretVariable(
        "FORO_PARTICIPANT_TOKEN_SECRET",
        "list",
        _LINKS_ABOUT,
        finishing_breaks=_LINKS_FINISH_BREAKS,
    ),
    SecretVariable(
        "FORO_BROKER_PASSWORD", "single", "docker compose's RabbitMQ user password", _BROKER_BREAKS
    ),
)

# Credentials a provider issues: never generated, only checked.
PROVIDER_VARIABLES: tuple[SecretVariable, ...] = (
    SecretVariable("NOTIFICATION_SMTP_PASSWORD", "provider", "the SMTP relay's password"),
    SecretVariable("NOTIFICATION_SMTP_PROVIDERS", "provider", "SMTP relays, passwords inside"),
    SecretVariable("NOTIFICATION_SMS_PROVIDERS", "provider", "SMS gateways, tokens inside"),
)


def known_variable(name: str, *, local: bool = False) -> SecretVariable | None:
    """The catalog entry of `name`: among the local keys first when `local` (the badge secret's
    name is the same in both, its rotation is not)."""
    first, then = (
        (LOCAL_VARIABLES, SERVICE_VARIABLES) if local else (SERVICE_VARIABLES, LOCAL_VARIABLES)
    )
    for variable in (*first, *then, *PROVIDER_VARIABLES):
        if variable.name == name:
            return variable
    return None


def new_secret() -> str:
    """A fresh random secret: 32 bytes, URL-safe base64 (43 characters, ~256 bits)."""
    return secrets.token_urlsafe(32)


def encode_list(values: list[str]) -> str:
    """A list-valued secret as the services read it: a JSON list."""
    return json.dumps(values, separators=(",", ":"))


def decode_list(value: str) -> list[str]:
    """A list-valued secret from a file: a JSON list, or a bare single value."""
    text = value.strip()
    if text.startswith("["):
        loaded = json.loads(text)
        if not isinstance(loaded, list) or not all(isinstance(v, str) for v in loaded):
            raise ValueError("expected a JSON list of strings")
        return loaded
    return [text] if text else []


def generate_service_secrets(
    broker_url: str = BROKER_URL_TEMPLATE, mongo_url: str = MONGO_URL_TEMPLATE
) -> dict[str, str]:
    """A value for every key of the Kubernetes Secret; URL templates take `{password}`."""
    values: dict[str, str] = {}
    for variable in SERVICE_VARIABLES:
        if variable.kind == "signing_key":
            values |= generate_auth_keys()
        elif variable.kind == "derived":
            continue  # made with the signing key, or from the list it follows (below)
        elif variable.name == "FORO_BROKER_URL":
            values[variable.name] = broker_url.format(password=new_secret())
        elif variable.name == "FORO_MONGO_URL":
            values[variable.name] = mongo_url.format(password=new_secret())
        elif variable.kind == "list":
            values[variable.name] = encode_list([new_secret()])
        else:
            values[variable.name] = new_secret()
    for variable in SERVICE_VARIABLES:
        if variable.follows:
            values[variable.name] = decode_list(values[variable.follows])[0]
    return values


def followers(name: str, variables: tuple[SecretVariable, ...]) -> list[SecretVariable]:
    """The derived variables that are the newest value of the list `name`."""
    return [variable for variable in variables if variable.follows == name]


def generate_auth_keys(previous_public_keys: Mapping[str, str] | None = None) -> dict[str, str]:
    """A new access-token key pair: FORO_AUTH_SIGNING_KEY (base64 PEM), its id, and
    FORO_AUTH_PUBLIC_KEYS with its public key — beside `previous_public_keys` during a rotation."""
    from shared.auth.tokens import encode_pem, generate_key_pair, new_key_id

    private_pem, public_pem = generate_key_pair()
    kid = new_key_id()
    public_keys = {**(previous_public_keys or {}), kid: encode_pem(public_pem)}
    return {
        "FORO_AUTH_SIGNING_KEY": encode_pem(private_pem),
        "FORO_AUTH_SIGNING_KEY_ID": kid,
        "FORO_AUTH_PUBLIC_KEYS": json.dumps(public_keys, separators=(",", ":")),
    }


def generate_local_secrets() -> dict[str, str]:
    """A value for every key of `.foro/secrets.env` (the local launcher and docker compose)."""
    values: dict[str, str] = {}
    for variable in LOCAL_VARIABLES:
        if variable.kind == "signing_key":
            values |= generate_auth_keys()
        elif variable.kind != "derived":
            values[variable.name] = new_secret()
    return values


def local_service_environment(keys: Mapping[str, str]) -> dict[str, str]:
    """The services' variables from `.foro/secrets.env`'s keys, a rotation's lists included: what
    the local launcher passes to each service process."""
    env: dict[str, str] = {}
    if "FORO_API_TOKEN" in keys:
        tokens = encode_list(decode_list(keys["FORO_API_TOKEN"]))
        env |= {f"{service.upper()}_API_TOKENS": tokens for service in SERVICES}
    if "FORO_WEBHOOK_SECRET" in keys:
        webhook = decode_list(keys["FORO_WEBHOOK_SECRET"])
        env["REGISTRATION_WEBHOOK_SECRETS"] = encode_list(webhook)
        if webhook:  # the web's sign-up form signs with the newest
            env["WEB_WEBHOOK_SECRET"] = webhook[0]
    if "WEB_COOKIE_SECRET" in keys:
        env["WEB_COOKIE_SECRET"] = encode_list(decode_list(keys["WEB_COOKIE_SECRET"]))
    if "FORO_BADGE_SECRET" in keys:
        env["FORO_BADGE_SECRET"] = keys["FORO_BADGE_SECRET"]
    if previous := keys.get("FORO_BADGE_PREVIOUS_SECRETS"):
        encoded = encode_list(decode_list(previous))
        env |= {
            "REGISTRATION_BADGE_PREVIOUS_SECRETS": encoded,
            "EXPO_BADGE_PREVIOUS_SECRETS": encoded,
        }
    if "FORO_PARTICIPANT_TOKEN_SECRET" in keys:
        env["FORO_PARTICIPANT_TOKEN_SECRET"] = keys["FORO_PARTICIPANT_TOKEN_SECRET"]
    # Access tokens: registration signs, every service verifies (the same names everywhere).
    for name in ("FORO_AUTH_SIGNING_KEY", "FORO_AUTH_SIGNING_KEY_ID", "FORO_AUTH_PUBLIC_KEYS"):
        if name in keys:
            env[name] = keys[name]
    return env
