"""The one-click unsubscribe route (RFC 8058), open to anyone holding a signed link: no sign-in.

`GET /unsubscribe?token=…` shows, in Spanish and English, what unsubscribing does, with a
button; it changes nothing (mail scanners open links). `POST /unsubscribe?token=…` (what a mail
client sends, `List-Unsubscribe=One-Click`, or the page's button) sets the person's opt-out of
non-essential messages, announced as `contact.preferences_changed` like the secretariat's change;
a second POST changes nothing more.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Query, status
from fastapi.responses import HTMLResponse

from services.notification.access import NotificationDeps
from services.notification.documents import ContactDocument
from services.notification.people.handlers import set_preferences_of
from services.notification.people.unsubscribe import ONE_CLICK

router = APIRouter(tags=["public"])

TokenParam = Query(min_length=1, max_length=400, description="The signed link's token.")

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}button{font-size:1rem;padding:.5rem 1rem}"
    "hr{border:0;border-top:1px solid #ddd;margin:1.5rem 0}"
)


def _page(title: str, es: str, en: str, code: int = status.HTTP_200_OK) -> HTMLResponse:
    html = (
        '<!doctype html>\n<html lang="es">\n<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        f'{es}\n<hr>\n<div lang="en">\n{en}\n</div>\n</body>\n</html>\n'
    )
    return HTMLResponse(html, status_code=code, headers={"Cache-Control": "no-store"})


def _refused() -> HTMLResponse:
    return _page(
        "Enlace no válido · Invalid link",
        "<h1>Enlace no válido</h1><p>Este enlace para darse de baja no es válido. Pida la baja "
        "a la Secretaría del foro.</p>",
        "<h1>Invalid link</h1><p>This unsubscribe link is not valid. Ask the forum secretariat "
        "to unsubscribe you.</p>",
        status.HTTP_400_BAD_REQUEST,
    )


@router.get(
    "/unsubscribe",
    response_class=HTMLResponse,
    summary="What the one-click unsubscribe link does (changes nothing)",
)
async def unsubscribe_page(deps: NotificationDeps, token: str = TokenParam) -> HTMLResponse:
    if deps.unsubscribe is None or deps.unsubscribe.person_of(token) is None:
        return _refused()
    name, value = ONE_CLICK.split("=")
    button = (
        f'<form method="post"><input type="hidden" name="{name}" value="{value}">'
        "<button>{}</button></form>"
    )
    return _page(
        "Darse de baja · Unsubscribe",
        "<h1>Darse de baja de los mensajes informativos</h1>"
        "<p>Dejará de recibir los mensajes informativos del foro (campañas, novedades). Los "
        "mensajes sobre su propia inscripción, como confirmaciones, su gafete o cambios en sus "
        "sesiones, le seguirán llegando.</p>" + button.format("Darme de baja"),
        "<h1>Unsubscribe from information messages</h1>"
        "<p>You will no longer receive the forum's information messages (campaigns, news). "
        "Messages about your own registration, such as confirmations, your badge or changes to "
        "your sessions, will still reach you.</p>" + button.format("Unsubscribe me"),
    )


@router.post(
    "/unsubscribe",
    response_class=HTMLResponse,
    summary="One-click unsubscribe (RFC 8058): opt out of non-essential messages",
)
async def unsubscribe(deps: NotificationDeps, token: str = TokenParam) -> HTMLResponse:
    person_id = deps.unsubscribe.person_of(token) if deps.unsubscribe is not None else None
    if person_id is None:
        return _refused()
    stored = await deps.repository.contact(person_id)
    contact = ContactDocument.model_validate(stored) if stored else None
    if contact is None or not contact.preferences.opt_out_non_essential:
        await set_preferences_of(deps, person_id, {"opt_out_non_essential": True})
    return _page(
        "Baja registrada · Unsubscribed",
        "<h1>Baja registrada</h1><p>Ya no recibirá mensajes informativos del foro. Los mensajes "
        "sobre su inscripción le seguirán llegando. Para volver a recibirlos, escriba a la "
        "Secretaría del foro.</p>",
        "<h1>You are unsubscribed</h1><p>You will no longer receive the forum's information "
        "messages. Messages about your registration will still reach you. To receive them again, "
        "write to the forum secretariat.</p>",
    )
