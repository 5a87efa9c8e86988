"""The envelope every foro event carries, and the vocabulary shared by the contracts.

Routing key = `event_type` = `<subject>.<past_tense>`; the Python class is the same name in
PascalCase. Additive changes keep `schema_version`; a breaking change is a new type (`….v2`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol, Self, cast

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

# Namespace for ids derived from events (uuid5): a retry derives the same id.
FORO_NAMESPACE = uuid.UUID("6f1c1f9e-4a39-4d0e-9a57-3c7d5e3b2a10")

Language = Literal["es", "en"]

EventId = Annotated[
    uuid.UUID,
    Field(
        strict=False,
        description="Unique id of this event.",
        examples=["0b9d3a36-0d4e-4c55-9d59-5d7e4d1d2f10"],
    ),
]
Timestamp = Annotated[
    AwareDatetime,
    Field(
        strict=False,
        description="UTC date and time (ISO 8601 with offset).",
        examples=["2026-11-18T14:03:00Z"],
    ),
]

SAFE_KEY_MAX_LENGTH = 64
SAFE_KEY_PATTERN = rf"^[A-Za-z0-9_\-]{{1,{SAFE_KEY_MAX_LENGTH}}}$"
"""What `safe_key` accepts, and what the JSON schema of a map with such keys says (one constant)."""
_SAFE_KEY = re.compile(SAFE_KEY_PATTERN)
SAFE_KEYS_SCHEMA: dict[str, Any] = {
    "propertyNames": {
        "type": "string",
        "minLength": 1,
        "maxLength": SAFE_KEY_MAX_LENGTH,
        "pattern": SAFE_KEY_PATTERN,
    }
}
"""`json_schema_extra` of a map whose keys pass `safe_key`: pydantic would say nothing of them."""

# C0 controls, DEL, C1 controls and UTF-16 surrogates (a lone one, "\\ud800", is valid JSON but
# cannot be encoded for the database: refused here, it is dead-lettered at once with the field's
# name instead of failing at the write and being retried). Written as regular-expression text,
# valid in Python and in ECMAScript alike: the validators compile it, and the JSON schemas of the
# contracts carry it (`_TextSchema`), so the published contract refuses what the code refuses.
_NOT_IN_ONE_LINE = r"\x00-\x1f\x7f-\x9f\ud800-\udfff"
# What multi-line free text may keep of the above: tab, line feed, carriage return.
_NOT_IN_FREE_TEXT = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
CONTROL_OR_SURROGATE = re.compile(f"[{_NOT_IN_ONE_LINE}]")
_CONTROL_OR_SURROGATE_BUT_LINES = re.compile(f"[{_NOT_IN_FREE_TEXT}]")


def _single_line(value: object) -> object:
    # Before the string checks (and before whitespace is stripped), so "Ana\n" is refused too.
    if isinstance(value, str) and CONTROL_OR_SURROGATE.search(value):
        raise PydanticCustomError(
            "single_line_text",
            "must be one line of printable text: control characters (CR, LF, tab, NUL, …) and "
            "unpaired surrogates are not accepted",
        )
    return value


def _free_text(value: object) -> object:
    if isinstance(value, str) and _CONTROL_OR_SURROGATE_BUT_LINES.search(value):
        raise PydanticCustomError(
            "printable_text",
            "must be printable text: control characters other than tab and line breaks (NUL, …) "
            "and unpaired surrogates are not accepted",
        )
    return value


class _TextSchema:
    """The JSON schema of a text type says what its validator refuses, from the same characters:
    none of `forbidden`, and, where the field needs at least one character, one that is not
    whitespace (whitespace is stripped before the length is checked, so "   " is empty)."""

    def __init__(self, forbidden: str) -> None:
        self.forbidden = forbidden

    def patterns(self) -> tuple[str, str]:
        """(any text of the type, the same with at least one character that is not whitespace)."""
        f = self.forbidden
        return rf"^[^{f}]*$", rf"^[^\S{f}]*[^\s{f}][^{f}]*$"

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        any_text, non_blank = self.patterns()
        json_schema["pattern"] = non_blank if json_schema.get("minLength", 0) >= 1 else any_text
        return json_schema


SINGLE_LINE_SCHEMA = _TextSchema(_NOT_IN_ONE_LINE)
FREE_TEXT_SCHEMA = _TextSchema(_NOT_IN_FREE_TEXT)

SingleLineText = Annotated[str, BeforeValidator(_single_line), SINGLE_LINE_SCHEMA]
"""One line of printable text: names, organisations, job titles — whatever a badge or a list shows."""
PersonText = SingleLineText
"""A free-text field about a person (name, organisation, job title): one printable line."""
FreeText = Annotated[str, BeforeValidator(_free_text), FREE_TEXT_SCHEMA]
"""Printable text that may run over several lines (form answers, reasons)."""


# The correlation id of the HTTP request being served (shared/observability.py sets it): an
# event built while serving it, without a correlation of its own, takes this one.
_REQUEST_CORRELATION: ContextVar[str | None] = ContextVar("foro_request_correlation", default=None)


def request_correlation_id() -> str | None:
    """The correlation id of the HTTP request being served, if any."""
    return _REQUEST_CORRELATION.get()


@contextmanager
def correlating(correlation_id: str) -> Iterator[None]:
    """Every event built inside without a correlation id gets `correlation_id`."""
    token = _REQUEST_CORRELATION.set(correlation_id)
    try:
        yield
    finally:
        _REQUEST_CORRELATION.reset(token)


def derive_id(*parts: object) -> uuid.UUID:
    """A deterministic id from its parts, so a redelivered event finds the document it made."""
    return uuid.uuid5(FORO_NAMESPACE, "|".join(str(p) for p in parts))


def safe_key(key: str) -> str:
    """Keys that may become MongoDB field names: no `$` operators, no dotted paths."""
    if not _SAFE_KEY.fullmatch(key):
        raise ValueError(
            f"key {key[:40]!r} may contain only letters, digits, '_' and '-' (1-64 characters)"
        )
    return key


class Contract(BaseModel):
    """Base of every message model: strict types, unknown keys refused, immutable."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, str_strip_whitespace=True, str_max_length=2000
    )


class Actor(Contract):
    """Who made a change: the principal of the request that caused it (a staff account, a
    machine's API token, the development secretariat token) or an operator at the `foro`
    command. Ids only, no personal data: an audit entry names the account, not the person."""

    subject: SingleLineText = Field(
        min_length=1,
        max_length=128,
        description="`account:<id>`, `token:<id>`, `static:secretariat`, `cli:<operator>`, "
        "`participant:<id>`, `exhibitor:<id>` or `focal_point:<delegation code>`.",
        examples=["account:ana-lopez"],
    )
    kind: Literal[
        "staff", "machine", "static", "operator", "participant", "exhibitor", "focal_point"
    ] = Field(
        description="A staff sign-in, a machine's API token, a development secretariat token, "
        "an operator's command, or a party acting for themselves with their own link: a "
        "participant, an exhibitor, a delegation's focal point.",
        examples=["staff"],
    )
    roles: list[Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,39}$", max_length=40)]] = Field(
        default_factory=list,
        max_length=20,
        description="The roles the actor held when acting.",
        examples=[["registrar"]],
    )
    token_id: SingleLineText | None = Field(
        None,
        max_length=100,
        description="The access token used (its `jti`): revocable one by one.",
        examples=["5f2c9a0e4b7d4c1e9a3f6b2d8c0e1a47"],
    )


# The actor of the HTTP request being served (shared/auth/dependencies.py sets it once the
# request's principal is admitted): an event built while serving it takes this actor.
_REQUEST_ACTOR: ContextVar[Actor | None] = ContextVar("foro_request_actor", default=None)


def request_actor() -> Actor | None:
    """The actor of the request being served, if any."""
    return _REQUEST_ACTOR.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    """Every event built inside without an actor of its own gets `actor`."""
    token = _REQUEST_ACTOR.set(actor)
    try:
        yield
    finally:
        _REQUEST_ACTOR.reset(token)


class Cause(Protocol):
    """What an event caused by another needs of it: an event, or a record rebuilt from one
    (registration's `ApprovalCause`) so that a resumed step derives the very same ids. An
    `actor` attribute, when the cause has one, passes on to the events it causes."""

    @property
    def event_id(self) -> uuid.UUID: ...

    @property
    def correlation_id(self) -> str | None: ...


class Event(Contract):
    """Envelope fields, carried by every domain event."""

    exchange: ClassVar[Literal["events", "intake"]] = "events"
    """Where the outbox publishes it: domain events, or the intake of external sign-ups (a
    service that signs people up, like expo for exhibitor staff, acts as a form there)."""

    event_type: str = Field(
        description="Routing key and type of the event, `<subject>.<past_tense>`.",
        examples=["registration.submitted"],
    )
    schema_version: int = Field(1, ge=1, description="Version of this event type's schema.")
    event_id: EventId = Field(default_factory=uuid.uuid4)
    occurred_at: Timestamp = Field(default_factory=lambda: datetime.now(UTC))
    producer: SingleLineText = Field(
        description="Who produced the event: a foro service or a form vendor's name.",
        examples=["registration", "formvendor-typeform"],
        min_length=1,
        max_length=80,
    )
    correlation_id: SingleLineText | None = Field(
        None,
        description="Id shared by every event of one business flow (defaults to the first event's "
        "id; an event taken over HTTP without one gets the request's `X-Correlation-Id`).",
        examples=["0b9d3a36-0d4e-4c55-9d59-5d7e4d1d2f10"],
        max_length=128,
    )
    causation_id: SingleLineText | None = Field(
        None,
        description="event_id of the event that caused this one.",
        examples=["7d6b5e2c-0b0c-4cf4-8f1f-3f0ab7c4b6c1"],
        max_length=100,
    )
    actor: Actor | None = Field(
        None,
        description="Who made the change (the account or token of the request that caused it; "
        "an event caused by another keeps its cause's actor). None for what no one asked for: "
        "a sign-up from a form, a timer.",
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        default = cls.model_fields["event_type"].default
        if isinstance(default, str):
            _REGISTRY[default] = cls

    @classmethod
    def type_name(cls) -> str:
        # A concrete event declares `event_type: Literal["x.y"] = "x.y"`; pydantic types defaults Any.
        return cast(str, cls.model_fields["event_type"].default)

    @classmethod
    def caused_by(cls, cause: Cause, *, producer: str, key: object = "", **payload: Any) -> Self:
        """An event caused by `cause`: same correlation and actor, deterministic id (uuid5 of
        cause+type+key)."""
        payload.setdefault("actor", getattr(cause, "actor", None))
        return cls(
            event_id=derive_id(cause.event_id, cls.type_name(), key),
            producer=producer,
            correlation_id=cause.correlation_id or str(cause.event_id),
            causation_id=str(cause.event_id),
            **payload,
        )

    @model_validator(mode="before")
    @classmethod
    def _request_correlation(cls, data: Any) -> Any:
        # The one place an event caused by an HTTP request gets that request's correlation id
        # and actor, whichever route built it; an explicit one (an event's cause's) is kept.
        if isinstance(data, dict) and data.get("correlation_id") is None:
            if (correlation := _REQUEST_CORRELATION.get()) is not None:
                data = {**data, "correlation_id": correlation}
        # Likewise its actor: the request's principal, unless the event names one (its cause's).
        if isinstance(data, dict) and data.get("actor") is None:
            if (actor := _REQUEST_ACTOR.get()) is not None:
                data = {**data, "actor": actor}
        return data

    @field_validator("correlation_id", "causation_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, uuid.UUID) else value


_REGISTRY: dict[str, type[Event]] = {}


def event_class(event_type: str) -> type[Event]:
    """The contract class for a routing key; KeyError when foro has no such event."""
    return _REGISTRY[event_type]


class FieldProblem(Contract):
    """Why one field was refused, in words the person can act on."""

    field: str = Field(description="Dotted path of the field.", examples=["category"])
    code: str = Field(description="Machine-readable reason.", examples=["unknown_category"])
    message_es: str = Field(
        description="Explanation in Spanish.", examples=["Categoría desconocida."]
    )
    message_en: str = Field(description="Explanation in English.", examples=["Unknown category."])
