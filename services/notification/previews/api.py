"""Templates' routes (secretariat): the message types, and one rendered with sample data — what
`foro templates render` prints, for the console's preview. Nothing is sent or stored."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, Field

from services.notification.access import NotificationDeps
from services.notification.templates import TemplateBook, TemplateError, sample_for
from shared.auth.dependencies import require
from shared.auth.permissions import Permission

router = APIRouter(tags=["secretariat"])

TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,49}$"


class TemplateSummary(BaseModel):
    message_type: str = Field(examples=["registration_confirmed"])
    languages: list[str] = Field(examples=[["es", "en"]])
    sms_languages: list[str] = Field(
        description="Languages with an SMS text (an SMS is sent only in those).", examples=[["es"]]
    )
    triggers: list[str] = Field(
        description="Routing keys that send it (or schedule it as a reminder); none: campaigns.",
        examples=[["registration.confirmed"]],
    )


class Preview(BaseModel):
    message_type: str
    language: str = Field(description="The language rendered (the forum's when the type lacks it).")
    channel: Literal["email", "sms"]
    subject: str | None = None
    text: str | None = None
    html: str | None = Field(None, description="The whole e-mail, in the layout.")
    sms: str | None = Field(None, description="The SMS text; null when the type sends none.")


def _unknown(message_type: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        detail={
            "code": "template_not_found",
            "message_type": message_type,
            "message_es": f"message_type: no hay plantilla para «{message_type}».",
            "message_en": f"message_type: there is no template for “{message_type}”.",
        },
    )


def _triggers(book: TemplateBook, message_type: str) -> list[str]:
    return sorted(
        key
        for key, trigger in book.triggers.items()
        if trigger.message_type == message_type
        or any(r.message_type == message_type for r in trigger.reminders)
    )


@router.get(
    "/templates",
    response_model=list[TemplateSummary],
    summary="Message types, their languages and what sends them",
    dependencies=[Depends(require(Permission.MESSAGES_READ))],
)
async def list_templates(deps: NotificationDeps) -> list[TemplateSummary]:
    book = deps.book
    found = []
    for message_type in book.message_types():
        languages = book.templates(message_type)
        found.append(
            TemplateSummary(
                message_type=message_type,
                languages=sorted(languages),
                sms_languages=sorted(lang for lang, t in languages.items() if t.sms),
                triggers=_triggers(book, message_type),
            )
        )
    return found


@router.get(
    "/templates/{message_type}/preview",
    response_model=Preview,
    summary="One message type rendered with sample data (nothing is sent)",
    dependencies=[Depends(require(Permission.MESSAGES_READ))],
)
async def preview_template(
    deps: NotificationDeps,
    message_type: str = Path(pattern=TYPE_PATTERN),
    lang: Literal["es", "en"] | None = Query(None, description="Default: the forum's language."),
    channel: Literal["email", "sms"] = "email",
) -> Preview:
    book = deps.book
    if message_type not in book.message_types():
        raise _unknown(message_type)
    try:
        language = book.language_for(message_type, lang or deps.pack.forum.default_language)
        context: dict[str, Any] = sample_for(book, message_type, language)
        if channel == "sms":
            return Preview(
                message_type=message_type,
                language=language,
                channel=channel,
                sms=book.render_sms(message_type, language, context),
            )
        email = book.render_email(message_type, language, context)
    except TemplateError as error:  # checked at start-up; an override folder changed since
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    return Preview(
        message_type=message_type,
        language=language,
        channel=channel,
        subject=email.subject,
        text=email.text,
        html=email.html,
    )
