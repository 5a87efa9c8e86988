"""What the Memoria says, in one language — pure, renderer-neutral.

A document is a cover plus sections made of blocks (`paragraph`, `heading`, `labelled`, `table`,
`bars`); `render.py` turns the same document into HTML and into PDF, so both always agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.reporting.publishing.labels import (
    LABELS,
    bars,
    conclusion_title,
    cover,
    money,
    owner_text,
    percent,
)
from shared.pack import EventPack, ProgrammeItem


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
        "cover": cover(pack, lang, title, generated_at),
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
        bars(words["by_status"], p["by_status"], lambda s: status_names.get(s, s)),
        bars(words["by_category"], p["by_category"], category),
        bars(words["by_country"], p["by_country"], country),
        bars(words["by_sector"], p["by_sector"], lambda s: words["sectors"].get(s, s)),
        bars(words["by_language"], p["by_language"], lambda s: words["languages"].get(s, s)),
    ]


def _conclusions(
    pack: EventPack, lang: str, conclusions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    words = LABELS[lang]
    by_session: dict[str, list[dict[str, Any]]] = {}
    for conclusion in conclusions:
        by_session.setdefault(conclusion["session_code"], []).append(conclusion)
    blocks: list[dict[str, Any]] = []
    placed: set[str] = set()
    groups: list[tuple[ProgrammeItem | None, list[str]]] = [
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
        [bars(words["exhibitors_by_sector"], expo["exhibitors_by_sector"], sector)]
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

    # Looked up once per country, not once per person (thousands of them).
    countries = {c.code: c.name.get(lang) for c in pack.countries}
    rows = [
        [
            f"{p['family_name']}, {p.get('given_name') or ''}".strip(", "),
            p.get("organisation") or "",
            countries.get((p.get("country") or "").upper()) or p.get("country") or "",
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
