"""Fixed sample data for the visual tests: the same pages on every run and every machine.

No wall clock (fixed dates and `generated_at`), no random ids, the bundled pack. Each builder
returns what the renderer takes plus the source text its PDF must be made of (for the
broken-words check in `words.py`).
"""

from __future__ import annotations

import html
from dataclasses import astuple
from datetime import UTC, date, datetime, timedelta
from functools import cache
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any, cast

from defusedxml import ElementTree as SafeET
from pydantic import SecretStr

from services.expo.booths.floorplan import render_floor_plan
from services.registration.badges.handlers import card
from services.registration.badges.render import BadgeCard, printed
from services.registration.deps import Registration
from services.reporting.budget.rules import budget_summary
from services.reporting.documents import BudgetLine, ParticipantState
from services.reporting.projections.statistics import statistics
from services.reporting.publishing.base_document import build_base_document
from services.reporting.publishing.content import build_memoria
from services.reporting.publishing.labels import LABELS
from services.reporting.publishing.render import render_html
from services.reporting.repository import public_list
from shared.devstack import SAMPLE_EXHIBITORS
from shared.fonts import BOLD, REGULAR
from shared.pack import EventPack, load_pack
from tests.visual.pages import require_module
from tests.visual.words import strings_in

GENERATED_AT = datetime(2004, 11, 22, 15, 0, tzinfo=UTC)
TODAY = date(2004, 11, 22)
BADGE_SECRET = SecretStr("visual-tests-badge-secret")


@cache
def pack() -> EventPack:
    return load_pack()


# --- badges --------------------------------------------------------------------------------------

BADGE_PEOPLE: tuple[dict[str, Any], ...] = (
    {  # a long name, a long organisation: the layout's shrink rule must keep them on the card
        "given_name": "María de los Ángeles Guadalupe",
        "family_name": "Hernández Castañeda de la Cruz Villatoro",
        "organisation": "Asociación de Salvadoreños Emprendedores en el Exterior y sus Familias",
        "country": "US",
        "category": "business_association",
    },
    {  # a name typed over two lines, an official delegate whose organisation is the country
        "given_name": "Ana\nMaría",
        "family_name": "López\r\nGarcía",
        "organisation": "El Salvador",
        "country": "SV",
        "category": "official_delegate",
    },
    {
        "given_name": "John",
        "family_name": "O'Neill",
        "organisation": "Reuters",
        "country": "MX",
        "category": "media",
    },
)


def badge_cards(language: str) -> list[BadgeCard]:
    """The sample people's badges as registration prints them (`badges.handlers.card`)."""
    # card() reads only the pack from registration's dependencies.
    deps = cast(Registration, SimpleNamespace(pack=pack()))
    return [
        card(person | {"badge": {"token_id": f"visual-{number}"}}, deps, BADGE_SECRET, language)
        for number, person in enumerate(BADGE_PEOPLE, start=1)
    ]


def badge_texts(cards: list[BadgeCard]) -> list[str]:
    """What the badges say, as printed (lines collapsed, repeats dropped)."""
    return [field for badge in cards for field in astuple(printed(badge)) if isinstance(field, str)]


# --- floor plan ----------------------------------------------------------------------------------


def sample_booths() -> list[dict[str, Any]]:
    """The pack's booths with the four sample exhibitors `foro up` places, each in the booth it
    asks for (shared/devstack.py: SAMPLE_EXHIBITORS)."""
    held = {sample["booth_preferences"][0]: sample["name"] for sample in SAMPLE_EXHIBITORS}
    return [
        {
            "code": booth.code,
            "zone": booth.zone,
            "tier": booth.tier,
            "x": booth.x,
            "y": booth.y,
            "width": booth.width,
            "height": booth.height,
            "size_m2": str(booth.size_m2),
            "exhibitor_name": held.get(booth.code),
        }
        for booth in pack().booths
    ]


def floor_plan_svg(language: str) -> str:
    return render_floor_plan(pack(), sample_booths(), language)


def floor_plan_html(svg: str, language: str) -> str:
    """An A4 landscape page showing the plan. The SVG asks for `sans-serif`; here that is the
    DejaVu Sans foro ships (shared/fonts), so the page does not depend on the machine's fonts."""
    pinned = svg.replace('font-family="sans-serif"', 'font-family="DejaVu Sans"', 1)
    return f"""<!doctype html>
<html lang="{language}"><head><meta charset="utf-8"><style>
@font-face {{ font-family: "DejaVu Sans"; src: url("{REGULAR.as_uri()}"); font-weight: normal; }}
@font-face {{ font-family: "DejaVu Sans"; src: url("{BOLD.as_uri()}"); font-weight: bold; }}
@page {{ size: A4 landscape; margin: 10mm; }}
body {{ margin: 0; font-family: "DejaVu Sans"; }}
svg {{ display: block; width: 100%; height: auto; }}
</style></head><body>{pinned}</body></html>"""


def floor_plan_pdf(language: str) -> tuple[bytes, list[str]]:
    weasyprint = require_module("weasyprint")
    svg = floor_plan_svg(language)
    texts = [text for text in SafeET.fromstring(svg).itertext() if text.strip()]
    return weasyprint.HTML(string=floor_plan_html(svg, language)).write_pdf(), texts


# --- the Memoria and the base document -----------------------------------------------------------

FAMILY_NAMES = (
    "Rivas", "Núñez", "Hernández", "Martínez", "O'Brien", "García Márquez", "Pérez",
    "Chávez", "Smith", "Ramírez", "Castillo", "Fuentes", "Mejía", "Álvarez", "Brown",
)  # fmt: skip
GIVEN_NAMES = ("Marta", "Íñigo", "Ana", "Luis", "Patricia", "José", "Carmen", "Roberto")
ORGANISATIONS = (
    "Ministerio de Relaciones Exteriores",
    "Asociación de Salvadoreños en Los Ángeles",
    "Cámara de Comercio e Industria",
    "Banco Agrícola",
    "Organización Internacional para las Migraciones (OIM)",
    "Universidad Centroamericana",
    "",
)
CATEGORIES = (
    "official_delegate",
    "official_delegate",
    "business_association",
    "emigrant_association",
    "civil_society",
    "company",
    "international_organisation",
    "media",
)
COUNTRIES = ("SV", "SV", "GT", "HN", "MX", "US", "CR", "NI", "PA", "DO")
STATUSES = ("confirmed",) * 6 + ("waitlisted", "cancelled", "pending_approval")
SESSIONS = ("INAUG", "B1.1", "B1.2", "B2.1", "B2.3", "B3.1", "B4.1", "CLOSE")


def participants() -> list[dict[str, Any]]:
    """54 participants' projected states, across categories, countries, statuses and languages,
    signed up over eleven weeks, most confirmed, many checked in on one or both days."""
    people = []
    for number in range(54):
        status = STATUSES[number % len(STATUSES)]
        checkins: dict[str, Any] = {}
        if status == "confirmed" and number % 4 != 3:
            checkins["entrance:2004-11-18"] = {
                "day": "2004-11-18",
                "point": SESSIONS[number % 4],
                "as_of": f"2004-11-18T15:{number:02d}:00.000000Z|visual-{number}-1",
            }
            if number % 3:
                checkins["entrance:2004-11-19"] = {
                    "day": "2004-11-19",
                    "point": SESSIONS[5 + number % 3],
                    "as_of": f"2004-11-19T15:{number:02d}:00.000000Z|visual-{number}-2",
                }
        signed_up = datetime(2004, 9, 1, 14, tzinfo=UTC) + timedelta(days=number * 4 // 3)
        stamp = f"{signed_up:%Y-%m-%dT%H:%M:%S}.000000Z|visual-{number}-0"
        person = {
            "_id": f"visual-participant-{number:03d}",
            "forum_id": pack().forum.id,
            "status": status,
            "registered_as_of": stamp,  # when the sign-up was first recorded
            "status_as_of": stamp,  # when its latest status was
            "consent_as_of": stamp,
            "category": CATEGORIES[number % len(CATEGORIES)],
            "country": COUNTRIES[number % len(COUNTRIES)],
            "language": "en" if number % 5 == 4 else "es",
            "family_name": FAMILY_NAMES[number % len(FAMILY_NAMES)],
            "given_name": GIVEN_NAMES[number % len(GIVEN_NAMES)],
            "organisation": ORGANISATIONS[number % len(ORGANISATIONS)] or None,
            "listed_publicly": number % 6 != 5,
            "erased": False,
            "checkins": checkins,
        }
        # Shaped as reporting's projection stores a participant (and checked to be).
        people.append(ParticipantState.model_validate(person).model_dump(by_alias=True))
    return people


def entities() -> list[dict[str, Any]]:
    """Sign-ups, a cancelled session, the expo's exhibitors, booths, leads, meetings, the job fair
    and messages, as the reporting projections hold them."""
    found: list[dict[str, Any]] = []

    def add(kind: str, status: str, count: int, **attributes: Any) -> None:
        for number in range(count):
            found.append(
                {
                    "_id": f"visual-{kind}-{len(found)}",
                    "kind": kind,
                    "status": status,
                    "attributes": {key: value for key, value in attributes.items()} | {"n": number},
                }
            )

    for index, code in enumerate(SESSIONS):
        add("session_signup", "confirmed", 6 + 3 * index, session_code=code)
    add("session", "cancelled", 1, session_code="B2.6")
    for sector, count in (("finance_remittances", 2), ("airlines_travel", 1), ("other", 1)):
        add("exhibitor", "approved", count, sector=sector)
    add("booth", "assigned", 4)
    add("lead", "captured", 17)
    add("meeting", "confirmed", 5)
    add("meeting", "requested", 2)
    add("job_post", "open", 3)
    add("job_application", "received", 8)
    add("notification", "sent", 61, channel="email")
    add("notification", "sent", 12, channel="sms")
    add("notification", "failed", 2, channel="sms")
    return found


def conclusions() -> list[dict[str, Any]]:
    def text(title: str, issues: str, discussion: str, forward: str) -> dict[str, str]:
        return {
            "title": title,
            "key_issues": issues,
            "discussion": discussion,
            "way_forward": forward,
        }

    return [
        {
            "_id": "visual-conclusion-1",
            "session_code": "B1.1",
            "texts": {
                "es": text(
                    "Las remesas como motor del desarrollo local",
                    "El costo de enviar remesas sigue siendo alto en los corredores pequeños.",
                    "Los bancos y las cooperativas compartieron experiencias de productos "
                    "financieros para familias receptoras; las asociaciones de migrantes pidieron "
                    "información clara sobre comisiones y tipos de cambio.",
                    "Promover la competencia entre remesadoras y la educación financiera.",
                ),
                "en": text(
                    "Remittances as a driver of local development",
                    "Sending remittances is still expensive in the smaller corridors.",
                    "Banks and cooperatives shared experience with financial products for "
                    "receiving families; migrant associations asked for clear information on "
                    "fees and exchange rates.",
                    "Promote competition among remittance companies and financial education.",
                ),
            },
        },
        {
            "_id": "visual-conclusion-2",
            "session_code": "B2.1",
            "texts": {
                "es": text(
                    "Niñez, señas y acción: la migración y las familias",
                    "La separación familiar afecta a miles de niñas y niños.",
                    "Se discutió el papel de las empresas en programas de reunificación.",
                    "Crear un fondo mixto para proyectos comunitarios.",
                )
            },
        },
        {
            "_id": "visual-conclusion-3",
            "session_code": "B4.1",
            "texts": {
                "es": text(
                    "Inversión productiva de la diáspora",
                    "Faltan instrumentos para invertir desde el exterior.",
                    "Las cámaras de comercio propusieron ventanillas únicas para la diáspora.",
                    "Diseñar un programa piloto de coinversión con los gobiernos locales.",
                ),
                "en": text(
                    "Productive investment by the diaspora",
                    "Instruments to invest from abroad are lacking.",
                    "Chambers of commerce proposed one-stop windows for the diaspora.",
                    "Design a pilot co-investment programme with local governments.",
                ),
            },
        },
    ]


def action_items() -> list[dict[str, Any]]:
    return [
        {
            "_id": "visual-action-1",
            "title": {
                "es": "Estudio de costos de remesas por corredor",
                "en": "Study of remittance costs by corridor",
            },
            "owner": {"name": "El Salvador", "kind": "country"},
            "deadline": "2005-03-31",
            "status": "in_progress",
            "conclusion_ids": ["visual-conclusion-1"],
            "notes": [
                {
                    "at": datetime(2004, 12, 10, 9, 0, tzinfo=UTC),
                    "text": "Términos de referencia aprobados.",
                    "evidence_url": "https://example.org/tdr-remesas",
                }
            ],
        },
        {
            "_id": "visual-action-2",
            "title": {"es": "Fondo mixto para proyectos comunitarios"},
            "owner": {"name": "OIM", "kind": "organisation"},
            "deadline": "2004-11-20",  # before TODAY: shown overdue
            "status": "planned",
            "conclusion_ids": ["visual-conclusion-2"],
        },
        {
            "_id": "visual-action-3",
            "title": {"es": "Ventanilla única para la diáspora", "en": "Diaspora one-stop window"},
            "owner": {"name": "Sector privado", "kind": "sector"},
            "deadline": "2005-06-30",
            "status": "done",
            "conclusion_ids": ["visual-conclusion-3"],
        },
    ]


def budget() -> list[dict[str, Any]]:
    """Budget against plan: one line well spent, one past its 80 % alert, one over plan."""
    the_pack = pack()
    spent = {  # line: (executed, committed) in US$
        "consultancies": (12_000, 3_000),
        "equipment_refreshments": (8_500, 0),
        "panelist_support": (4_200, 1_000),
    }
    lines = []
    for line in the_pack.budget.lines:
        executed, committed = spent.get(line.code, (0, 0))
        entries = {}
        if executed:
            entries["paid"] = {
                "kind": "expense",
                "amount_cents": executed * 100,
                "description": "paid",
                "as_of": "2004-11-20T00:00:00.000000Z|visual",
                "source": "visual",
            }
        if committed:
            entries["committed"] = {
                "kind": "commitment",
                "amount_cents": committed * 100,
                "description": "committed",
                "as_of": "2004-11-20T00:00:00.000000Z|visual",
                "source": "visual",
            }
        lines.append(
            BudgetLine.model_validate(
                {
                    "forum_id": the_pack.forum.id,
                    "line": line.code,
                    "planned_cents": int(line.amount * 100),
                    "currency": the_pack.budget.currency,
                    "entries": entries,
                }
            )
        )
    plan = [(line.code, int(line.amount * 100)) for line in the_pack.budget.lines]
    return budget_summary(lines, plan)


def memoria_inputs() -> dict[str, Any]:
    people = participants()
    listed = public_list(people)  # as the Memoria's handler lists them
    return {
        "statistics": statistics(pack(), people, entities(), {"registration.confirmed": 36}),
        "conclusions": conclusions(),
        "action_items": action_items(),
        "budget": budget(),
        "participants": listed,
    }


def memoria(language: str) -> dict[str, Any]:
    return build_memoria(pack(), language, memoria_inputs(), GENERATED_AT, today=TODAY)


def base_document(language: str) -> dict[str, Any]:
    return build_base_document(pack(), language, GENERATED_AT)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def html_text(markup: str) -> str:
    """The text a page shows, each element's text apart (cells do not run together)."""
    parser = _Text()
    parser.feed(markup)
    return " ".join(parser.chunks)


def document_texts(document: dict[str, Any]) -> list[str]:
    """What a Memoria or base document is made of: its strings, the HTML the same document
    renders to (the template's own words) and the language's labels (running heads, captions)."""
    return [
        *strings_in(document),
        html.unescape(html_text(render_html(document))),
        *strings_in(LABELS[document["lang"]]),
    ]
