"""The public pages: the sign-up form and the expo floor plan.

The sign-up form is a form vendor like any other: it posts a signed `registration.submitted`
event to registration's intake webhook (`POST /intake/registrations`, HMAC over
`<unix seconds>.<raw body>` with `WEB_WEBHOOK_SECRET`, one of registration's webhook secrets)
under its own producer name. Registration decides everything else and sends the confirmation
e-mail; the page only checks what a person can fix at once, in their language.

Against robots, without a third-party captcha: the CSRF double submit, a rate limit per client
address (a token bucket, 429), a honeypot field and a minimum fill time (the form carries a
signed timestamp). A robot caught by the last two gets the same page a person does, and nothing
is sent. The form's signed token also names the submission, so sending the form twice is one
sign-up: the same `submission_id`, and the same event id when the body is the same.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import ValidationError

from services.web.backends import Backends
from services.web.i18n import N_, Np_
from services.web.pages import NavItem
from services.web.pages.auth import Who, check_csrf
from services.web.rendering import render
from services.web.session import CSRF_FIELD
from services.web.settings import WebSettings
from shared.contracts.registration import RegistrationSubmitted
from shared.pack import Category, EventPack
from shared.webhooks import signed_headers

log = structlog.get_logger("foro.web.public")

NAV = (
    NavItem(N_("Sign up"), "/signup", "public", order=15),
    NavItem(Np_("menu", "Expo"), "/expo", "public", order=40),
)
router = APIRouter()

HONEYPOT_FIELD = "website"
FORM_TOKEN_FIELD = "form_token"
FORM_SALT = "foro-web public sign-up form"
EVENT_NAMESPACE = uuid.UUID("6f1d0c2e-5b8a-4a57-9d3e-2f0b7c1a9e44")

# What a person reads next to a field the contract refused, keyed by the contract's field.
FIELD_MESSAGES = {
    "given_name": N_("Enter your given name (up to 100 characters)."),
    "family_name": N_("Enter your family name (up to 100 characters)."),
    "email": N_("Enter a valid e-mail address, such as ana@example.org."),
    "phone": N_(
        "Enter a mobile number with its country code, such as +50370001234, or leave it empty."
    ),
    "organisation": N_("The organisation's name can have up to 200 characters."),
    "job_title": N_("The position can have up to 200 characters."),
    "country": N_("Choose the country you represent."),
    "category": N_("Choose how you take part in the forum."),
    "language": N_("Choose the language of your messages."),
    "consents.privacy_policy": N_("You must accept the privacy notice to sign up."),
}
FORM_FIELDS = frozenset(FIELD_MESSAGES)
FORM_EXPIRED = N_("The form had expired. Please check your details and send it again.")
NOT_SENT = N_("Your sign-up could not be sent: {reason}")
UNAVAILABLE = N_("Sign-up is not available right now. Please try again in a few minutes.")


# --- spam gates ------------------------------------------------------------------------------


class AddressLimiter:
    """A token bucket per client address: `rate` sends per `per_seconds`, refilled continuously.
    Kept in this process (the oldest addresses are forgotten past `max_addresses`), so with several
    replicas each counts its own share."""

    def __init__(self, rate: int, per_seconds: float, max_addresses: int = 10_000) -> None:
        self.rate = rate
        self.per_seconds = per_seconds
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, updated = self._buckets.pop(address, (float(self.rate), now))
        tokens = min(float(self.rate), tokens + (now - updated) * self.rate / self.per_seconds)
        allowed = tokens >= 1.0
        self._buckets[address] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)
        return allowed


def _limiter(request: Request) -> AddressLimiter:
    state = request.app.state
    found: AddressLimiter | None = getattr(state, "signup_limiter", None)
    if found is None:
        settings: WebSettings = state.settings
        found = AddressLimiter(settings.signup_rate_limit, settings.signup_rate_window_seconds)
        state.signup_limiter = found
    return found


def _serializer(settings: WebSettings) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and verifies with every one: the cookie keys reversed.
    return URLSafeTimedSerializer(list(reversed(settings.cookie_keys())), salt=FORM_SALT)


def new_form_token(settings: WebSettings) -> str:
    """A signed token for one drawn form: a nonce (the submission's name) and when it was drawn."""
    return str(_serializer(settings).dumps({"n": secrets.token_urlsafe(12), "t": time.time()}))


@dataclass(frozen=True)
class FormToken:
    nonce: str
    drawn_at: float


def open_form_token(settings: WebSettings, token: str) -> FormToken | None:
    """The form's token, or None when forged or older than `signup_form_hours`."""
    try:
        payload = _serializer(settings).loads(token, max_age=int(settings.signup_form_hours * 3600))
        return FormToken(str(payload["n"]), float(payload["t"]))
    except (BadSignature, SignatureExpired, KeyError, TypeError, ValueError):
        return None


# --- the form ------------------------------------------------------------------------------


@dataclass
class SignupForm:
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    phone: str = ""
    organisation: str = ""
    job_title: str = ""
    country: str = ""
    category: str = ""
    language: str = ""
    privacy_policy: bool = False
    listed_publicly: bool = False
    photos: bool = False
    share_with_exhibitors: bool = False

    def event(
        self, pack: EventPack, producer: str, token: FormToken, correlation_id: str
    ) -> dict[str, Any]:
        """The `registration.submitted` body this form sends; its id is the same for the same
        form sent twice with the same content (a double click is one event)."""
        body: dict[str, Any] = {
            "event_type": RegistrationSubmitted.type_name(),
            "producer": producer,
            "forum_id": pack.forum.id,
            "submission_id": f"web-{token.nonce}",
            "category": self.category,
            "given_name": self.given_name.strip(),
            "family_name": self.family_name.strip(),
            "email": self.email.strip(),
            "phone": _none(self.phone.replace(" ", "")),
            "organisation": _none(self.organisation),
            "job_title": _none(self.job_title),
            "country": self.country,
            "language": self.language,
            "consents": {
                "privacy_policy": self.privacy_policy,
                "listed_publicly": self.listed_publicly,
                "photos": self.photos,
                "share_with_exhibitors": self.share_with_exhibitors,
            },
        }
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        body["event_id"] = str(uuid.uuid5(EVENT_NAMESPACE, f"{token.nonce}:{digest}"))
        body["occurred_at"] = datetime.now(UTC).isoformat()
        body["correlation_id"] = correlation_id
        return body


def _none(value: str) -> str | None:
    return value.strip() or None


def public_categories(pack: EventPack) -> list[Category]:
    """The categories a visitor may choose: not official delegates (their country's focal point
    nominates them, against its delegation quota)."""
    return [c for c in pack.categories if not c.uses_delegation_quota]


def registration_window(pack: EventPack, now: datetime) -> tuple[str, datetime] | None:
    """Why sign-ups are not taken now (`not_open` or `closed`, and when, venue time); None when open."""
    forum = pack.forum
    if forum.registration_opens_at is not None and now < forum.registration_opens_at:
        return "not_open", forum.registration_opens_at
    if now >= forum.registration_closes:
        return "closed", forum.registration_closes
    return None


def contract_problems(body: dict[str, Any]) -> dict[str, str]:
    """The contract's own check, before anything is sent: field → the English message id."""
    try:
        RegistrationSubmitted.model_validate(body)
    except ValidationError as error:
        problems: dict[str, str] = {}
        for item in error.errors(include_input=False, include_url=False):
            field = ".".join(str(part) for part in item["loc"])
            problems.setdefault(field, FIELD_MESSAGES.get(field, item["msg"]))
        return problems
    return {}


def webhook_problems(detail: Any) -> list[tuple[str, str | None, str]]:
    """A 422 from the webhook, as (field, message in Spanish or None, message in English): a list
    of FieldProblems, FastAPI's list of errors, or `field: reason; …` text."""
    found: list[tuple[str, str | None, str]] = []
    if isinstance(detail, list):
        for item in detail:
            if not isinstance(item, dict):
                continue
            if "field" in item:
                found.append(
                    (
                        str(item["field"]),
                        item.get("message_es"),
                        str(item.get("message_en") or item.get("code") or ""),
                    )
                )
            elif "loc" in item:
                loc = [str(p) for p in item["loc"] if p != "body"]
                found.append((".".join(loc), None, str(item.get("msg", ""))))
    elif isinstance(detail, str):
        for part in detail.split("; "):
            field, _, reason = part.partition(": ")
            found.append((field.strip(), None, reason.strip() or part))
    elif isinstance(detail, dict):
        found.append(
            (
                str(detail.get("field", "body")),
                detail.get("message_es"),
                str(detail.get("message_en", "")),
            )
        )
    return found


def _translate(request: Request, message: str, **values: object) -> str:
    lang: str = request.state.visitor.lang
    text: str = request.app.state.translations.gettext(lang, message, **values)
    return text


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _draw(
    request: Request,
    form: SignupForm,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings: WebSettings = request.app.state.settings
    pack: EventPack = request.app.state.pack
    lang: str = request.state.visitor.lang
    closed = registration_window(pack, datetime.now(UTC))
    if not form.language:
        form.language = lang
    return render(
        request,
        "public/signup.html",
        {
            "form": form,
            "errors": errors or {},
            "notice": notice,
            "closed": closed,
            "available": settings.webhook_secret is not None
            and bool(settings.webhook_secret.get_secret_value()),
            "form_token": new_form_token(settings),
            "categories": public_categories(pack),
            "countries": sorted(pack.countries, key=lambda c: c.name.get(lang)),
            "honeypot": HONEYPOT_FIELD,
        },
        status_code=status_code,
    )


@router.get("/signup", response_class=HTMLResponse)
async def signup_form(request: Request, who: Who) -> HTMLResponse:
    return _draw(request, SignupForm())


@router.get("/signup/received", response_class=HTMLResponse)
async def signup_received(request: Request) -> HTMLResponse:
    return render(request, "public/received.html")


def _received() -> Response:
    # After a sign-up, and after what a robot sends: the same page, so neither learns a thing.
    return RedirectResponse("/signup/received", status_code=303)


@router.post("/signup", response_class=HTMLResponse)
async def signup(
    request: Request,
    who: Who,
    given_name: Annotated[str, Form(max_length=300)] = "",
    family_name: Annotated[str, Form(max_length=300)] = "",
    email: Annotated[str, Form(max_length=300)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    organisation: Annotated[str, Form(max_length=600)] = "",
    job_title: Annotated[str, Form(max_length=600)] = "",
    country: Annotated[str, Form(max_length=10)] = "",
    category: Annotated[str, Form(max_length=60)] = "",
    language: Annotated[str, Form(max_length=10)] = "",
    privacy_policy: Annotated[str, Form(max_length=10)] = "",
    listed_publicly: Annotated[str, Form(max_length=10)] = "",
    photos: Annotated[str, Form(max_length=10)] = "",
    share_with_exhibitors: Annotated[str, Form(max_length=10)] = "",
    website: Annotated[str, Form(alias=HONEYPOT_FIELD, max_length=1000)] = "",
    form_token: Annotated[str, Form(alias=FORM_TOKEN_FIELD, max_length=500)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    settings: WebSettings = request.app.state.settings
    pack: EventPack = request.app.state.pack
    form = SignupForm(
        given_name=given_name,
        family_name=family_name,
        email=email,
        phone=phone,
        organisation=organisation,
        job_title=job_title,
        country=country,
        category=category,
        language=language,
        privacy_policy=bool(privacy_policy),
        listed_publicly=bool(listed_publicly),
        photos=bool(photos),
        share_with_exhibitors=bool(share_with_exhibitors),
    )
    if not _limiter(request).allow(_client_address(request)):
        log.info("sign-up refused", reason="rate_limited")
        return render(request, "public/too_many.html", status_code=429)
    if not check_csrf(request, who, csrf_token):
        # Drawn again with the token of the cookie this browser holds (a new one if it had none).
        return _draw(request, form, notice=_translate(request, FORM_EXPIRED), status_code=400)
    token = open_form_token(settings, form_token)
    if token is None:
        return _draw(request, form, notice=_translate(request, FORM_EXPIRED), status_code=400)
    if website.strip():
        log.info("sign-up dropped", reason="honeypot")
        return _received()
    if time.time() - token.drawn_at < settings.signup_min_seconds:
        log.info("sign-up dropped", reason="too_fast")
        return _received()
    if registration_window(pack, datetime.now(UTC)) is not None or settings.webhook_secret is None:
        return _draw(request, form, status_code=409)
    if category not in {c.code for c in public_categories(pack)}:
        form.category = ""
    if country not in {c.code for c in pack.countries}:
        form.country = ""
    correlation_id = str(uuid.uuid4())
    body = form.event(pack, settings.signup_producer, token, correlation_id)
    if not form.privacy_policy:
        problems = {"consents.privacy_policy": FIELD_MESSAGES["consents.privacy_policy"]}
    else:
        problems = {}
    problems |= contract_problems(body)
    if problems:
        return _draw(
            request,
            form,
            errors=_field_errors(request, problems),
            status_code=422,
        )
    return await _send(request, form, body, correlation_id)


def _field_errors(request: Request, problems: dict[str, str]) -> dict[str, str]:
    """Field → message in the page's language; what belongs to no field of the form under `_form`."""
    errors: dict[str, str] = {}
    for field, message in problems.items():
        key = field if field in FORM_FIELDS else "_form"
        text = (
            _translate(request, message)
            if message in FIELD_MESSAGES.values()
            else _translate(request, NOT_SENT, reason=message)
        )
        errors.setdefault(key, text)
    return errors


async def _send(
    request: Request, form: SignupForm, body: dict[str, Any], correlation_id: str
) -> Response:
    settings: WebSettings = request.app.state.settings
    backends: Backends = request.app.state.backends
    assert settings.webhook_secret is not None
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Correlation-Id": correlation_id,
        **signed_headers(settings.webhook_secret.get_secret_value(), raw),
    }
    try:
        answer = await backends.client.post(settings.intake_url(), content=raw, headers=headers)
    except httpx.HTTPError as error:
        log.warning("intake webhook not answering", error=type(error).__name__)
        return _draw(request, form, notice=_translate(request, UNAVAILABLE), status_code=503)
    if answer.status_code == 202:
        log.info("sign-up sent", event_id=body["event_id"], submission_id=body["submission_id"])
        return _received()
    detail = _detail(answer)
    if answer.status_code == 422:
        lang: str = request.state.visitor.lang
        errors: dict[str, str] = {}
        for field, es, en in webhook_problems(detail):
            if field in FIELD_MESSAGES:
                errors.setdefault(field, _translate(request, FIELD_MESSAGES[field]))
            else:
                reason = (es if lang == "es" and es else en) or field
                errors.setdefault("_form", _translate(request, NOT_SENT, reason=reason))
        return _draw(request, form, errors=errors, status_code=422)
    # 401 (our signature refused: a secret that is not registration's), 413, 415, 5xx: the
    # operator's problem, never the visitor's.
    log.error("intake webhook refused the sign-up form", status=answer.status_code)
    return _draw(request, form, notice=_translate(request, UNAVAILABLE), status_code=503)


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


# --- the expo floor plan -----------------------------------------------------------------------


@router.get("/expo", response_class=HTMLResponse)
async def expo(request: Request, who: Who) -> HTMLResponse:
    backends: Backends = request.app.state.backends
    pack: EventPack = request.app.state.pack
    booths: list[dict[str, Any]] = await backends.get_json("expo", "/booths")
    zones = []
    for zone in pack.zones:
        inside = sorted((b for b in booths if b.get("zone") == zone.code), key=lambda b: b["code"])
        if inside:
            zones.append({"code": zone.code, "name": zone.name.get(who.lang), "booths": inside})
    taken = sum(1 for b in booths if b.get("exhibitor_name"))
    return render(
        request,
        "public/expo.html",
        {"zones": zones, "total": len(booths), "taken": taken},
    )


@router.get("/expo/floor-plan.svg")
async def floor_plan(request: Request, who: Who) -> Response:
    svg = await request.app.state.backends.get_raw(
        "expo", "/floor-plan.svg", params={"lang": who.lang}
    )
    return Response(
        svg.content,
        media_type="image/svg+xml",
        headers={
            # As expo sends it: the drawing is an image with its own inline styles and no script.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "Cache-Control": "no-cache",
        },
    )
