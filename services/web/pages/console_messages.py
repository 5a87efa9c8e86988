"""The console's messages: delivery status and resend, template previews (es/en, HTML, text,
SMS), and a campaign to a segment, counted before it is sent. Everything is notification's
(`/messages`, `/templates`, `/campaigns`), called with the signed-in person's token."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.web.backends import BackendError, passes_on
from services.web.i18n import N_
from services.web.pages import NavItem
from services.web.pages.auth import FORM_EXPIRED, Who, check_csrf
from services.web.pages.console import Staff
from services.web.pages.console_shared import DELIVERY_STATUSES, SUPPRESSED_REASONS
from services.web.rendering import backends_of, is_htmx, render, translate
from services.web.session import CSRF_FIELD
from shared.auth.permissions import Permission
from shared.pack import EventPack

NAV = (
    NavItem(
        N_("Messages"),
        "/console/messages",
        "staff",
        order=60,
        permissions=(Permission.MESSAGES_READ,),
    ),
)
router = APIRouter(prefix="/console/messages")

PAGE_SIZE = 50
MESSAGE_TYPE = r"^[a-z][a-z0-9_]{0,49}$"
CAMPAIGN_ID = r"^[A-Za-z0-9_\-]{1,64}$"

DeliveryStatus = Literal["queued", "sending", "retrying", "sent", "failed", "suppressed"]
CHANNELS = {"email": N_("E-mail"), "sms": N_("SMS")}
SEGMENT_STATUSES = {
    "confirmed": N_("Confirmed"),
    "waitlisted": N_("Waitlisted"),
    "pending_approval": N_("Pending approval"),
}
CAMPAIGN_TEXTS = {
    "subject_es": N_("Subject in Spanish"),
    "subject_en": N_("Subject in English"),
    "body_es": N_("Message in Spanish"),
    "body_en": N_("Message in English"),
}
TEXTS_NEEDED = N_("Write the subject and the message in both languages; missing: {fields}.")

# An e-mail's HTML shown inside the console: no script, no form, nothing fetched; only its own
# inline styles. The iframe is sandboxed as well.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)


@router.get("", response_class=HTMLResponse)
async def delivery(
    request: Request,
    session: Staff,
    status: DeliveryStatus | None = None,
    channel: Literal["email", "sms"] | None = None,
    message_type: Annotated[str | None, Query(pattern=MESSAGE_TYPE)] = None,
    campaign_id: Annotated[str | None, Query(pattern=CAMPAIGN_ID)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    backends = backends_of(request)
    page = await backends.get_json(
        "notification",
        "/messages",
        token=session.token,
        params={
            "status": status,
            "channel": channel,
            "message_type": message_type,
            "campaign_id": campaign_id,
            "offset": offset,
            "limit": PAGE_SIZE,
        },
    )
    summary = await backends.get_json(
        "notification",
        "/messages/summary",
        token=session.token,
        params={"campaign_id": campaign_id},
    )
    filters = {
        "status": status or "",
        "channel": channel or "",
        "message_type": message_type or "",
        "campaign_id": campaign_id or "",
    }
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(
        request,
        "console_messages/delivery.html",
        {
            "page": page,
            "summary": summary,
            "filters": filters,
            "query": query,
            "statuses": DELIVERY_STATUSES,
            "suppressed_reasons": SUPPRESSED_REASONS,
            "channels": CHANNELS,
            "previous_offset": max(offset - PAGE_SIZE, 0) if offset else None,
            "next_offset": offset + PAGE_SIZE if offset + PAGE_SIZE < page["total"] else None,
        },
    )


@router.post("/{message_id}/replay")
async def replay(
    request: Request,
    who: Who,
    session: Staff,
    message_id: uuid.UUID,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    error: str | None = None
    message: dict[str, Any] | None = None
    if not check_csrf(request, who, csrf_token):
        error = translate(request, FORM_EXPIRED)
    else:
        try:
            message = await backends_of(request).post_json(
                "notification", f"/messages/{message_id}/replay", token=session.token
            )
        except BackendError as refused:
            if passes_on(refused):
                raise
            error = refused.message(who.lang)
    if not is_htmx(request):
        if error is not None:
            return render(
                request,
                "console_messages/replayed.html",
                {"error": error, "message": None, "statuses": DELIVERY_STATUSES},
                status_code=409,
            )
        return RedirectResponse("/console/messages?status=queued", status_code=303)
    return render(
        request,
        "console_messages/_replayed.html",
        {"error": error, "message": message, "statuses": DELIVERY_STATUSES},
    )


# --- templates --------------------------------------------------------------------------------


@router.get("/templates", response_class=HTMLResponse)
async def templates(request: Request, session: Staff) -> HTMLResponse:
    found = await backends_of(request).get_json("notification", "/templates", token=session.token)
    return render(request, "console_messages/templates.html", {"templates": found})


@router.get("/templates/{message_type}", response_class=HTMLResponse)
async def template_preview(
    request: Request,
    session: Staff,
    message_type: Annotated[str, Path(pattern=MESSAGE_TYPE)],
    language: Literal["es", "en"] = "es",
) -> HTMLResponse:
    # `language` is the message's; the page's own language stays `?lang=` (the switch).
    backends = backends_of(request)
    path = f"/templates/{message_type}/preview"
    email = await backends.get_json(
        "notification", path, token=session.token, params={"lang": language}
    )
    sms = await backends.get_json(
        "notification", path, token=session.token, params={"lang": language, "channel": "sms"}
    )
    return render(
        request,
        "console_messages/preview.html",
        {
            "message_type": message_type,
            "language": language,
            "email": email,
            "sms": sms,
            "message_languages": [("es", "Español"), ("en", "English")],
        },
    )


@router.get("/templates/{message_type}/email.html")
async def template_html(
    request: Request,
    session: Staff,
    message_type: Annotated[str, Path(pattern=MESSAGE_TYPE)],
    language: Literal["es", "en"] = "es",
) -> Response:
    email = await backends_of(request).get_json(
        "notification",
        f"/templates/{message_type}/preview",
        token=session.token,
        params={"lang": language},
    )
    return Response(
        email.get("html") or "",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": PREVIEW_POLICY, "Cache-Control": "no-store"},
    )


# --- campaigns --------------------------------------------------------------------------------


def _campaign_form(request: Request, lang: str, **context: Any) -> dict[str, Any]:
    pack: EventPack = request.app.state.pack
    return {
        "category_choices": pack.categories,
        "country_choices": pack.countries,
        "segment_statuses": SEGMENT_STATUSES,
        "channels": CHANNELS,
        "form": {},
        "audience": None,
        "error": None,
        **context,
    }


@router.get("/campaigns/new", response_class=HTMLResponse)
async def new_campaign(request: Request, who: Who, session: Staff) -> HTMLResponse:
    return render(request, "console_messages/campaign_form.html", _campaign_form(request, who.lang))


@router.post("/campaigns", response_class=HTMLResponse)
async def campaign(
    request: Request,
    who: Who,
    session: Staff,
    step: Annotated[Literal["count", "send"], Form()] = "count",
    campaign_id: Annotated[str, Form(max_length=64)] = "",
    categories: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006 (FastAPI copies it)
    countries: Annotated[list[str], Form(max_length=100)] = [],  # noqa: B006
    languages: Annotated[list[Literal["es", "en"]], Form(max_length=2)] = [],  # noqa: B006
    statuses: Annotated[list[str], Form(max_length=3)] = [],  # noqa: B006
    channels: Annotated[list[Literal["email", "sms"]], Form(max_length=2)] = [],  # noqa: B006
    subject_es: Annotated[str, Form(max_length=2000)] = "",
    subject_en: Annotated[str, Form(max_length=2000)] = "",
    body_es: Annotated[str, Form(max_length=2000)] = "",
    body_en: Annotated[str, Form(max_length=2000)] = "",
    essential: Annotated[bool, Form()] = False,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    """Step 1 counts the segment (nothing sent) and shows the count with a send button; step 2
    sends the same form. The campaign id is fixed at step 1, so a second click sends nothing new."""
    campaign_id = campaign_id.strip() or (
        f"campaign-{datetime.now(UTC):%Y%m%d-%H%M}-{secrets.token_hex(2)}"
    )
    form = {
        "campaign_id": campaign_id,
        "categories": categories,
        "countries": countries,
        "languages": languages,
        "statuses": statuses or ["confirmed"],
        "channels": channels or ["email"],
        "subject_es": subject_es.strip(),
        "subject_en": subject_en.strip(),
        "body_es": body_es.strip(),
        "body_en": body_en.strip(),
        "essential": essential,
    }

    def again(error: str | None, audience: Any = None, status_code: int = 200) -> HTMLResponse:
        return render(
            request,
            "console_messages/campaign_form.html",
            _campaign_form(request, who.lang, form=form, error=error, audience=audience),
            status_code=status_code,
        )

    if not check_csrf(request, who, csrf_token):
        return again(translate(request, FORM_EXPIRED), status_code=400)
    missing = [
        translate(request, label) for name, label in CAMPAIGN_TEXTS.items() if not form[name]
    ]
    if missing:
        text = translate(request, TEXTS_NEEDED).replace("{fields}", ", ".join(missing))
        return again(text, status_code=422)
    segment = {
        "categories": categories,
        "countries": countries,
        "languages": languages,
        "statuses": form["statuses"],
    }
    backends = backends_of(request)
    try:
        if step == "count":
            audience = await backends.get_json(
                "notification", "/campaigns/audience", token=session.token, params=segment
            )
            return again(None, audience)
        await backends.post_json(
            "notification",
            "/campaigns",
            token=session.token,
            json={
                "campaign_id": campaign_id,
                "segment": segment,
                "channels": form["channels"],
                "subject": {"es": form["subject_es"], "en": form["subject_en"]},
                "body": {"es": form["body_es"], "en": form["body_en"]},
                "essential": essential,
            },
        )
    except BackendError as refused:
        if passes_on(refused):
            raise
        return again(refused.message(who.lang), status_code=422)
    return RedirectResponse(f"/console/messages/campaigns/{campaign_id}", status_code=303)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
async def campaign_progress(
    request: Request,
    session: Staff,
    campaign_id: Annotated[str, Path(pattern=CAMPAIGN_ID)],
) -> HTMLResponse:
    try:
        found = await backends_of(request).get_json(
            "notification", f"/campaigns/{campaign_id}", token=session.token
        )
    except BackendError as refused:
        if refused.status != 404:
            raise
        found = None  # requested, not yet taken in by the scheduler
    return render(
        request,
        "console_messages/campaign.html",
        {"campaign_id": campaign_id, "campaign": found, "statuses": DELIVERY_STATUSES},
    )
