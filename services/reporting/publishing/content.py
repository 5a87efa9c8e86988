"""What the Memoria and the base document say, in one language — pure, renderer-neutral.

A document is a cover plus sections made of blocks (`paragraph`, `heading`, `labelled`, `table`,
`bars`); `render.py` turns the same document into HTML and into PDF, so both always agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shared.pack import EventPack

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "generated": "Generado el",
        "purpose": "Propósito del foro",
        "background": "Antecedentes",
        "format": "Formato",
        "programme": "Programa tal como se realizó",
        "day": "Día",
        "time": "Hora",
        "code": "Código",
        "item": "Actividad",
        "room": "Sala",
        "attendance": "Asistencia",
        "signed_up": "Inscritos",
        "fill": "Ocupación",
        "participation": "Participación",
        "registered": "Inscritos",
        "confirmed": "Confirmados",
        "checked_in": "Acreditados en sitio",
        "check_in_rate": "Tasa de acreditación",
        "by_category": "Participantes confirmados por categoría",
        "by_country": "Participantes confirmados por país",
        "by_sector": "Participantes confirmados por sector",
        "by_language": "Participantes confirmados por idioma",
        "by_status": "Inscripciones por estado",
        "conclusions": "Conclusiones por bloque",
        "key_issues": "Temas clave planteados",
        "discussion": "Discusión",
        "way_forward": "Camino a seguir",
        "no_conclusions": "Sin conclusiones aprobadas.",
        "original_language": "Texto original en inglés",
        "action_plan": "Plan de acción (líneas de acción)",
        "title": "Línea de acción",
        "owner": "Responsable",
        "deadline": "Plazo",
        "status": "Estado",
        "overdue": "VENCIDA",
        "progress": "Avances",
        "no_actions": "Sin líneas de acción registradas.",
        "evidence": "Evidencia",
        "expo": "Expo y bolsa de trabajo",
        "exhibitors": "Expositores",
        "booths": "Stands asignados",
        "launches": "Lanzamientos",
        "leads": "Contactos captados",
        "meetings": "Reuniones de negocios (confirmadas / solicitadas)",
        "job_posts": "Ofertas de empleo",
        "exhibitors_by_sector": "Expositores por sector",
        "applications": "Postulaciones",
        "notifications": "Mensajes enviados / fallidos",
        "budget": "Ejecución presupuestaria",
        "line": "Rubro",
        "planned": "Planificado",
        "committed": "Comprometido",
        "executed": "Ejecutado",
        "percent": "% consumido",
        "total": "Total",
        "participant_list": "Lista de participantes",
        "name": "Nombre",
        "organisation": "Organización",
        "country": "País",
        "list_note": "Solo figuran quienes consintieron aparecer en la lista publicada.",
        "no_participants": "Ningún participante consintió figurar en la lista.",
        "structure": "Temática y estructura",
        "topics": "Subtemas",
        "participants": "Participantes",
        "expo_structure": "Exposición",
        "products": "Productos del evento",
        "budget_plan": "Presupuesto estimado",
        "venue": "Sede",
        "dates": "Fechas",
        "partners": "Con la colaboración de",
        "convener": "Convoca",
        "statuses": {
            "planned": "planificada",
            "in_progress": "en curso",
            "done": "cumplida",
            "cancelled": "cancelada",
            "held": "realizada",
            "rescheduled": "reprogramada",
            "confirmed": "confirmados",
            "waitlisted": "en lista de espera",
            "pending_approval": "pendientes de aprobación",
            "cancelled_p": "cancelados",
            "rejected": "rechazados",
        },
        "owner_kinds": {"country": "país", "organisation": "organización", "sector": "sector"},
        "sectors": {
            "public": "Sector público",
            "private": "Sector privado",
            "civil_society": "Sociedad civil",
            "international": "Organismos internacionales",
            "media": "Medios",
            "speakers": "Panelistas",
            "other": "Otros",
            "unknown": "Sin dato",
        },
        "languages": {"es": "Español", "en": "Inglés"},
    },
    "en": {
        "generated": "Generated on",
        "purpose": "Purpose of the forum",
        "background": "Background",
        "format": "Format",
        "programme": "The programme as held",
        "day": "Day",
        "time": "Time",
        "code": "Code",
        "item": "Item",
        "room": "Room",
        "attendance": "Attended",
        "signed_up": "Signed up",
        "fill": "Fill",
        "participation": "Participation",
        "registered": "Registered",
        "confirmed": "Confirmed",
        "checked_in": "Checked in on site",
        "check_in_rate": "Check-in rate",
        "by_category": "Confirmed participants by category",
        "by_country": "Confirmed participants by country",
        "by_sector": "Confirmed participants by sector",
        "by_language": "Confirmed participants by language",
        "by_status": "Registrations by status",
        "conclusions": "Conclusions by block",
        "key_issues": "Key issues raised",
        "discussion": "Discussion",
        "way_forward": "The way forward",
        "no_conclusions": "No approved conclusions.",
        "original_language": "Original text in Spanish",
        "action_plan": "Action plan (lines of action)",
        "title": "Line of action",
        "owner": "Owner",
        "deadline": "Deadline",
        "status": "Status",
        "overdue": "OVERDUE",
        "progress": "Progress",
        "no_actions": "No lines of action recorded.",
        "evidence": "Evidence",
        "expo": "Expo and job fair",
        "exhibitors": "Exhibitors",
        "booths": "Booths assigned",
        "launches": "Launches",
        "leads": "Leads captured",
        "meetings": "Business meetings (confirmed / requested)",
        "job_posts": "Job posts",
        "exhibitors_by_sector": "Exhibitors by sector",
        "applications": "Applications",
        "notifications": "Messages sent / failed",
        "budget": "Budget execution",
        "line": "Line",
        "planned": "Planned",
        "committed": "Committed",
        "executed": "Executed",
        "percent": "% consumed",
        "total": "Total",
        "participant_list": "List of participants",
        "name": "Name",
        "organisation": "Organisation",
        "country": "Country",
        "list_note": "Only people who agreed to appear in the published list are listed.",
        "no_participants": "No participant agreed to be listed.",
        "structure": "Themes and structure",
        "topics": "Sub-topics",
        "participants": "Participants",
        "expo_structure": "Exhibition",
        "products": "Products of the event",
        "budget_plan": "Estimated budget",
        "venue": "Venue",
        "dates": "Dates",
        "partners": "In collaboration with",
        "convener": "Convened by",
        "statuses": {
            "planned": "planned",
            "in_progress": "in progress",
            "done": "done",
            "cancelled": "cancelled",
            "held": "held",
            "rescheduled": "rescheduled",
            "confirmed": "confirmed",
            "waitlisted": "waitlisted",
            "pending_approval": "pending approval",
            "cancelled_p": "cancelled",
            "rejected": "rejected",
        },
        "owner_kinds": {"country": "country", "organisation": "organisation", "sector": "sector"},
        "sectors": {
            "public": "Public sector",
            "private": "Private sector",
            "civil_society": "Civil society",
            "international": "International organisations",
            "media": "Media",
            "speakers": "Speakers",
            "other": "Other",
            "unknown": "Not stated",
        },
        "languages": {"es": "Spanish", "en": "English"},
    },
}


def money(cents: int, currency: str) -> str:
    return f"{currency} {cents / 100:,.2f}"


def percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def _cover(pack: EventPack, lang: str, title: str, generated_at: datetime) -> dict[str, Any]:
    forum, words = pack.forum, LABELS[lang]
    first, last = forum.dates[0], forum.dates[-1]
    return {
        "title": title,
        "forum_name": forum.name.get(lang),
        "convener": f"{words['convener']}: {forum.convener.get(lang)}",
        "venue": f"{forum.venue.name}, {forum.venue.city}",
        "dates": f"{first.isoformat()} – {last.isoformat()}",
        "partners": f"{words['partners']}: " + "; ".join(p.name.get(lang) for p in forum.partners),
        "generated": f"{words['generated']} {generated_at.astimezone(forum.tz).strftime('%Y-%m-%d %H:%M')} ({forum.time_zone})",
    }


def _bars(title: str, counts: dict[str, int], name: Any = str, limit: int = 20) -> dict[str, Any]:
    items = [(name(key), value) for key, value in list(counts.items())[:limit]]
    return {
        "type": "bars",
        "title": title,
        "items": items,
        "max": max((v for _, v in items), default=0),
    }


def build_memoria(
    pack: EventPack, lang: str, inputs: dict[str, Any], generated_at: datetime, *, today: date
) -> dict[str, Any]:
    """The Memoria, conclusions and action plan; `inputs` come from `handlers.memoria_inputs`."""
    words, forum = LABELS[lang], pack.forum
    stats = inputs["statistics"]
    product = pack.product("memoria")
    title = product.name.get(lang) if product else words["conclusions"]
    sections = [
        {
            "title": words["purpose"],
            "blocks": [
                {"type": "paragraph", "text": forum.purpose.get(lang)},
                {"type": "labelled", "label": words["format"], "text": forum.format.get(lang)},
            ],
        },
        {"title": words["programme"], "blocks": _programme_as_held(pack, lang, stats)},
        {"title": words["participation"], "blocks": _participation(pack, lang, stats)},
        {"title": words["conclusions"], "blocks": _conclusions(pack, lang, inputs["conclusions"])},
        {
            "title": words["action_plan"],
            "blocks": _action_plan(lang, inputs["action_items"], inputs["conclusions"], today),
        },
        {"title": words["expo"], "blocks": _expo(pack, lang, stats)},
        {"title": words["budget"], "blocks": _budget(pack, lang, inputs["budget"])},
        {
            "title": words["participant_list"],
            "blocks": _participant_list(pack, lang, inputs["participants"]),
        },
    ]
    return {
        "kind": "memoria",
        "lang": lang,
        "cover": _cover(pack, lang, title, generated_at),
        "sections": sections,
        "generated_at": generated_at,
    }


def _programme_as_held(pack: EventPack, lang: str, stats: dict[str, Any]) -> list[dict[str, Any]]:
    words = LABELS[lang]
    by_code = {row["code"]: row for row in stats["sessions"]}
    blocks: list[dict[str, Any]] = []
    for day in pack.programme.days:
        rows = []
        for item in pack.programme.items_on(day.index):
            if item.kind == "break":
                continue
            held = by_code.get(item.code)
            room = pack.programme.room(held["room"] if held else item.room) if item.room else None
            status = held["status"] if held else "held"
            label = item.title.get(lang)
            if status != "held":
                label = f"{label} ({words['statuses'].get(status, status)})"
            times = (
                f"{held['starts_at']}–{held['ends_at']}"
                if held
                else f"{item.starts_at:%H:%M}–{item.ends_at:%H:%M}"
            )
            rows.append(
                [
                    times,
                    item.code,
                    label,
                    room.name.get(lang) if room else "",
                    str(held["signed_up"]) if held else "",
                    str(held["attended"]) if held else "",
                    percent(held["fill"]) if held else "",
                ]
            )
        date_text = pack.forum.dates[day.index].isoformat()
        blocks.append({"type": "heading", "text": f"{day.title.get(lang)} · {date_text}"})
        blocks.append(
            {
                "type": "table",
                "columns": [
                    words["time"],
                    words["code"],
                    words["item"],
                    words["room"],
                    words["signed_up"],
                    words["attendance"],
                    words["fill"],
                ],
                "widths": [13.5, 8.5, 27.5, 14, 12, 12, 12.5],
                "rows": rows,
                "numeric": [4, 5, 6],
            }
        )
    return blocks


def _participation(pack: EventPack, lang: str, stats: dict[str, Any]) -> list[dict[str, Any]]:
    words, p = LABELS[lang], stats["participants"]

    def category(code: str) -> str:
        found = pack.category(code)
        return found.name.get(lang) if found else code

    def country(code: str) -> str:
        found = pack.country(code) if len(code) == 2 else None
        return found.name.get(lang) if found else code

    status_names = {**words["statuses"], "cancelled": words["statuses"]["cancelled_p"]}
    check_in = p["check_in"]
    return [
        {
            "type": "table",
            "columns": ["", ""],
            "widths": [60, 40],
            "rows": [
                [words["registered"], str(p["registered"])],
                [words["confirmed"], str(p["confirmed"])],
                [words["checked_in"], str(check_in["checked_in"])],
                [words["check_in_rate"], percent(check_in["rate"])],
                *[
                    [f"{words['check_in_rate']} · {day}", percent(v["rate"])]
                    for day, v in check_in["by_day"].items()
                ],
            ],
        },
        _bars(words["by_status"], p["by_status"], lambda s: status_names.get(s, s)),
        _bars(words["by_category"], p["by_category"], category),
        _bars(words["by_country"], p["by_country"], country),
        _bars(words["by_sector"], p["by_sector"], lambda s: words["sectors"].get(s, s)),
        _bars(words["by_language"], p["by_language"], lambda s: words["languages"].get(s, s)),
    ]


def conclusion_title(conclusion: dict[str, Any], lang: str) -> str:
    texts = conclusion["texts"]
    return (texts.get(lang) or next(iter(texts.values())))["title"]


def _conclusions(
    pack: EventPack, lang: str, conclusions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    words = LABELS[lang]
    by_session: dict[str, list[dict[str, Any]]] = {}
    for conclusion in conclusions:
        by_session.setdefault(conclusion["session_code"], []).append(conclusion)
    blocks: list[dict[str, Any]] = []
    placed: set[str] = set()
    groups = [
        (block, [block.code, *(c.code for c in pack.programme.children(block.code))])
        for block in pack.programme.items
        if block.kind == "block"
    ]
    groups.append(
        (None, [i.code for i in pack.programme.items if i.kind != "block" and i.parent is None])
    )
    for block, codes in groups:
        found = [c for code in codes for c in by_session.get(code, [])]
        if not found:
            continue
        if block is not None:
            blocks.append({"type": "heading", "text": f"{block.code}. {block.title.get(lang)}"})
        for conclusion in found:
            placed.add(conclusion["_id"])
            blocks.extend(_conclusion_blocks(pack, lang, conclusion))
    for conclusion in conclusions:  # sessions a future programme change removed from the pack
        if conclusion["_id"] not in placed:
            blocks.extend(_conclusion_blocks(pack, lang, conclusion))
    return blocks or [{"type": "paragraph", "text": words["no_conclusions"]}]


def _conclusion_blocks(
    pack: EventPack, lang: str, conclusion: dict[str, Any]
) -> list[dict[str, Any]]:
    words = LABELS[lang]
    texts = conclusion["texts"]
    text = texts.get(lang) or next(iter(texts.values()))
    item = pack.programme.item(conclusion["session_code"])
    session = (
        f"{conclusion['session_code']} · {item.title.get(lang)}"
        if item
        else conclusion["session_code"]
    )
    blocks: list[dict[str, Any]] = [
        {"type": "subheading", "text": text["title"], "note": session},
    ]
    if lang not in texts:
        blocks.append({"type": "note", "text": words["original_language"]})
    for key in ("key_issues", "discussion", "way_forward"):
        if text.get(key):
            blocks.append({"type": "labelled", "label": words[key], "text": text[key]})
    return blocks


def owner_text(owner: dict[str, Any], lang: str) -> str:
    return f"{owner['name']} ({LABELS[lang]['owner_kinds'].get(owner['kind'], owner['kind'])})"


def _action_plan(
    lang: str, items: list[dict[str, Any]], conclusions: list[dict[str, Any]], today: date
) -> list[dict[str, Any]]:
    words = LABELS[lang]
    if not items:
        return [{"type": "paragraph", "text": words["no_actions"]}]
    titles = {c["_id"]: conclusion_title(c, lang) for c in conclusions}
    rows = []
    notes: list[dict[str, Any]] = []
    for item in items:
        title = item["title"].get(lang) or next(iter(item["title"].values()))
        status = words["statuses"].get(item["status"], item["status"])
        overdue = (
            item["status"] in ("planned", "in_progress")
            and date.fromisoformat(item["deadline"]) < today
        )
        if overdue:
            status = f"{status} · {words['overdue']}"
        linked = "; ".join(titles[c] for c in item.get("conclusion_ids", []) if c in titles)
        rows.append(
            [
                title + (f" — {linked}" if linked else ""),
                owner_text(item["owner"], lang),
                item["deadline"],
                status,
            ]
        )
        for note in item.get("notes", []):
            at = (
                note["at"].strftime("%Y-%m-%d")
                if isinstance(note.get("at"), datetime)
                else str(note.get("at", ""))[:10]
            )
            evidence = (
                f" ({words['evidence']}: {note['evidence_url']})"
                if note.get("evidence_url")
                else ""
            )
            notes.append(
                {
                    "type": "labelled",
                    "label": f"{title} · {at}",
                    "text": f"{note.get('text', '')}{evidence}",
                }
            )
    blocks: list[dict[str, Any]] = [
        {
            "type": "table",
            "columns": [words["title"], words["owner"], words["deadline"], words["status"]],
            "widths": [48, 24, 12, 16],
            "rows": rows,
        }
    ]
    if notes:
        blocks.append({"type": "heading", "text": words["progress"]})
        blocks.extend(notes)
    return blocks


def _expo(pack: EventPack, lang: str, stats: dict[str, Any]) -> list[dict[str, Any]]:
    words, expo, jobs, messages = (
        LABELS[lang],
        stats["expo"],
        stats["job_fair"],
        stats["notifications"],
    )

    def sector(code: str) -> str:
        found = pack.sector(code)
        return found.name.get(lang) if found else words["sectors"].get(code, code)

    by_sector = (
        [_bars(words["exhibitors_by_sector"], expo["exhibitors_by_sector"], sector)]
        if expo["exhibitors"]
        else []
    )
    return [
        {
            "type": "table",
            "columns": ["", ""],
            "widths": [60, 40],
            "rows": [
                [words["exhibitors"], str(expo["exhibitors"])],
                [words["booths"], str(expo["booths_assigned"])],
                [words["launches"], str(expo["launches"])],
                [words["leads"], str(expo["leads"])],
                [words["meetings"], f"{expo['meetings_confirmed']} / {expo['meetings']}"],
                [words["job_posts"], str(jobs["posts"])],
                [words["applications"], str(jobs["applications"])],
                [words["notifications"], f"{messages['sent']} / {messages['failed']}"],
            ],
        },
        *by_sector,
    ]


def _budget(pack: EventPack, lang: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    words, currency = LABELS[lang], pack.budget.currency
    names = {line.code: line.name.get(lang) for line in pack.budget.lines}
    table = [
        [
            names.get(r["line"], r["line"]),
            money(r["planned_cents"], currency),
            money(r["committed_cents"], currency),
            money(r["executed_cents"], currency),
            f"{r['percent']:.1f} %",
        ]
        for r in rows
    ]
    planned = sum(r["planned_cents"] for r in rows)
    consumed = sum(r["consumed_cents"] for r in rows)
    table.append(
        [
            words["total"],
            money(planned, currency),
            money(sum(r["committed_cents"] for r in rows), currency),
            money(sum(r["executed_cents"] for r in rows), currency),
            f"{consumed * 100 / planned:.1f} %" if planned else "0.0 %",
        ]
    )
    return [
        {
            "type": "table",
            "columns": [
                words["line"],
                words["planned"],
                words["committed"],
                words["executed"],
                words["percent"],
            ],
            "widths": [36, 16, 16, 16, 16],
            "rows": table,
            "numeric": [1, 2, 3, 4],
        },
        {
            "type": "bars",
            "title": words["percent"],
            "items": [(names.get(r["line"], r["line"]), r["percent"]) for r in rows],
            "max": 100.0,
            "unit": " %",
            "alerts": [80, 100],
        },
    ]


def _participant_list(
    pack: EventPack, lang: str, people: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    words = LABELS[lang]
    if not people:
        return [{"type": "paragraph", "text": words["no_participants"]}]

    def country(code: str | None) -> str:
        found = pack.country(code) if code and len(code) == 2 else None
        return found.name.get(lang) if found else (code or "")

    rows = [
        [
            f"{p['family_name']}, {p.get('given_name') or ''}".strip(", "),
            p.get("organisation") or "",
            country(p.get("country")),
        ]
        for p in people
    ]
    return [
        {"type": "note", "text": words["list_note"]},
        {
            "type": "table",
            "columns": [words["name"], words["organisation"], words["country"]],
            "widths": [38, 42, 20],
            "rows": rows,
        },
    ]


def build_base_document(pack: EventPack, lang: str, generated_at: datetime) -> dict[str, Any]:
    """The base document: the conceptual framing of the forum, from the pack."""
    words, forum = LABELS[lang], pack.forum
    product = pack.product("base_document")
    title = product.name.get(lang) if product else words["background"]
    structure: list[dict[str, Any]] = []
    for block in (i for i in pack.programme.items if i.kind == "block"):
        structure.append({"type": "heading", "text": f"{block.code}. {block.title.get(lang)}"})
        if block.description:
            structure.append({"type": "paragraph", "text": block.description.get(lang)})
        for session in pack.programme.children(block.code):
            topics = "; ".join(t.title.get(lang) for t in session.topics)
            text = (session.description.get(lang) + ". " if session.description else "") + (
                f"{words['topics']}: {topics}" if topics else ""
            )
            structure.append(
                {
                    "type": "labelled",
                    "label": f"{session.code} {session.title.get(lang)}",
                    "text": text,
                }
            )
    expo = [
        {"type": "paragraph", "text": forum.format.get(lang)},
        {"type": "list", "items": [t.name.get(lang) for t in pack.exhibitor_types]},
        {"type": "list", "items": [s.name.get(lang) for s in pack.sectors]},
    ]
    if pack.job_fair.enabled:
        expo.append(
            {
                "type": "labelled",
                "label": pack.job_fair.name.get(lang),
                "text": pack.job_fair.description.get(lang),
            }
        )
    currency = pack.budget.currency
    sections = [
        {
            "title": words["background"],
            "blocks": [{"type": "paragraph", "text": forum.background.get(lang)}],
        },
        {
            "title": words["purpose"],
            "blocks": [{"type": "paragraph", "text": forum.purpose.get(lang)}],
        },
        {"title": words["structure"], "blocks": structure},
        {"title": words["expo_structure"], "blocks": expo},
        {
            "title": words["participants"],
            "blocks": [
                {
                    "type": "list",
                    "items": [
                        f"{c.name.get(lang)}"
                        + (f": {c.description.get(lang)}" if c.description else "")
                        for c in pack.categories
                    ],
                }
            ],
        },
        {
            "title": words["products"],
            "blocks": [
                {"type": "labelled", "label": p.name.get(lang), "text": p.description.get(lang)}
                for p in pack.products
            ],
        },
        {
            "title": words["budget_plan"],
            "blocks": [
                {
                    "type": "table",
                    "columns": [words["line"], words["planned"]],
                    "widths": [70, 30],
                    "numeric": [1],
                    "rows": [
                        [line.name.get(lang), money(int(line.amount * 100), currency)]
                        for line in pack.budget.lines
                    ]
                    + [[words["total"], money(int(pack.budget.total * 100), currency)]],
                }
            ],
        },
    ]
    return {
        "kind": "base_document",
        "lang": lang,
        "cover": _cover(pack, lang, title, generated_at),
        "sections": sections,
        "generated_at": generated_at,
    }
