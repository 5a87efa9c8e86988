"""Leads' rules, free of I/O: whether a scanned attendee may become a lead, one lead per
exhibitor and attendee (scanning again merges into it), and the exhibitor's CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from services.expo.attendees.rules import CONTACT_FIELDS
from services.expo.common import explain, new_event
from services.expo.documents import AttendeeDocument, LeadDocument
from shared.contracts.envelope import derive_id
from shared.contracts.expo import Explanation, LeadCaptured
from shared.decisions import Change

NOTES_KEPT = 20

CAPTURED = explain("lead_captured", "Contacto guardado.", "Contact captured.")
MERGED = explain(
    "lead_merged",
    "Contacto ya registrado: se sumó este escaneo.",
    "Contact already captured: this scan was merged into it.",
)


def lead_id(exhibitor_id: str, participant_id: str) -> str:
    """One lead per exhibitor and attendee: scanning again merges into it."""
    return str(derive_id("lead", exhibitor_id, participant_id))


def scan_refusal(attendee: AttendeeDocument | None) -> Explanation | None:
    """Why a scan stores no lead; None when it may."""
    if attendee is None or not attendee.status:
        return explain(
            "unknown_badge",
            "Esta credencial no corresponde a ningún participante conocido.",
            "This badge does not belong to any known participant.",
        )
    if attendee.erased:
        return explain(
            "erased",
            "Los datos de esta persona fueron borrados a su pedido.",
            "This person's data was erased at their request.",
        )
    if attendee.status not in {"confirmed"}:
        return explain(
            "not_confirmed",
            "La inscripción de esta persona no está confirmada.",
            "This person's registration is not confirmed.",
        )
    if not attendee.shares_contact:
        return explain(
            "no_consent",
            "La persona no autorizó compartir sus datos de contacto con expositores; no se guarda nada.",
            "The attendee did not consent to share contact details with exhibitors; nothing is stored.",
        )
    return None


def contact_of(attendee: AttendeeDocument) -> dict[str, Any]:
    return {name: getattr(attendee, name) for name in CONTACT_FIELDS}


def captured(
    forum_id: str, exhibitor_id: str, attendee: AttendeeDocument, note: str | None, now: datetime
) -> tuple[str, Change]:
    """A first scan: the new lead's id and document, with `lead.captured`."""
    new_id = lead_id(exhibitor_id, attendee.id)
    event = new_event(
        LeadCaptured,
        new_id,
        forum_id=forum_id,
        lead_id=new_id,
        exhibitor_id=exhibitor_id,
        participant_id=attendee.id,
        scanned_at=now,
    )
    return new_id, Change(
        set={
            "exhibitor_id": exhibitor_id,
            "participant_id": attendee.id,
            "contact": contact_of(attendee),
            "scans": 1,
            "first_scanned_at": now,
            "last_scanned_at": now,
            "notes": [note] if note else [],
        },
        events=[event],
    )


def wiped(document: LeadDocument | None, flags: dict[str, Any]) -> Change | None:
    """The contact and notes gone (consent withdrawn, erasure); the lead still counts."""
    return Change(set={"contact": None, "notes": [], **flags}) if document else None


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def leads_csv(leads: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "lead_id",
            "participant_id",
            *CONTACT_FIELDS,
            "scans",
            "first_scanned_at",
            "last_scanned_at",
            "notes",
        ]
    )
    for lead in leads:
        contact = lead.get("contact") or {}
        writer.writerow(
            [
                _cell(lead["_id"]),
                _cell(lead["participant_id"]),
                *(_cell(contact.get(name)) for name in CONTACT_FIELDS),
                lead.get("scans", 1),
                _cell(_iso(lead.get("first_scanned_at"))),
                _cell(_iso(lead.get("last_scanned_at"))),
                _cell(" | ".join(lead.get("notes", []))),
            ]
        )
    return out.getvalue()


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
