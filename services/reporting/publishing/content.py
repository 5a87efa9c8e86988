"""What the Memoria says, in one language — pure, renderer-neutral.

A document is a cover plus sections made of blocks (`paragraph`, `note`, `heading`,
`subheading`, `labelled`, `list`, `table`, `chart`, `people`); `render.py` turns it into HTML and
that same HTML into PDF. Every date, number and amount is written by `shared.i18n`; a chart or a
count with nothing to show is a sentence saying so.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.reporting.publishing.labels import (
    LABELS,
    amount,
    chart,
    conclusion_title,
    cover,
    owner_text,
    status_label,
)
from shared import i18n
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


PROGRAMME_COLUMNS = (  # (label key, relative width, numeric)
    ("time", 13, False),
    ("code", 12, False),
    ("item", 33, False),
    ("room", 15, False),
    ("signed_up", 9, True),
    ("attendance", 9, True),
    ("fill", 9, True),
)


def _programme_as_held(pack: EventPack, lang: str, stats: dict[str, Any]) -> list[dict[str, Any]]:
    """A table per day; the counts' columns only where there is something to count (a forum
    before its first check-in says so in a sentence instead of columns of zeros)."""
    words = LABELS[lang]
    by_code = {row["code"]: row for row in stats["sessions"]}
    attended = any(row["attended"] for row in stats["sessions"])
    signed = any(row["signed_up"] for row in stats["sessions"])
    shown = [
        column
        for column in PROGRAMME_COLUMNS
        if (column[0] != "signed_up" or signed)
        and (column[0] not in ("attendance", "fill") or attended)
    ]
    blocks: list[dict[str, Any]] = []
    if not attended:
        blocks.append({"type": "paragraph", "text": words["no_attendance"]})
    if not signed:
        blocks.append({"type": "paragraph", "text": words["no_signups_sessions"]})
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
                label = f"{label} ({status_label(status, lang)})"
            times = (
                f"{held['starts_at']}–{held['ends_at']}"
                if held
                else f"{i18n.time_text(item.starts_at, lang)}–{i18n.time_text(item.ends_at, lang)}"
            )
            cells = {
                "time": times,
                "code": item.code,
                "item": label,
                "room": room.name.get(lang) if room else "",
                "signed_up": i18n.number(held["signed_up"], lang) if held else "",
                "attendance": i18n.number(held["attended"], lang) if held else "",
                "fill": i18n.percent(held["fill"], lang) if held else "",
            }
            rows.append([cells[key] for key, _, _ in shown])
        day_text = f"{day.title.get(lang)} · {i18n.date_text(pack.forum.dates[day.index], lang)}"
        blocks.append({"type": "heading", "text": day_text})
        blocks.append(
            {
                "type": "table",
                "caption": words["programme_day"].format(
                    day=i18n.date_text(pack.forum.dates[day.index], lang)
                ),
                "columns": [words[key] for key, _, _ in shown],
                "widths": [width for _, width, _ in shown],
                "rows": rows,
                "numeric": [i for i, (_, _, numeric) in enumerate(shown) if numeric],
                "nowrap": [i for i, (key, _, _) in enumerate(shown) if key in ("time", "code")],
            }
        )
    if attended:
        blocks.append(_session_fill(pack, lang, stats["sessions"]))
    return blocks


def _session_fill(pack: EventPack, lang: str, sessions: list[dict[str, Any]]) -> dict[str, Any]:
    def name(code: str) -> str:
        item = pack.programme.item(code)
        title = item.title.get(lang) if item else ""
        return f"{code} · {title}" if title else code

    held = [row for row in sessions if row["capacity"] and row["attended"]]
    held.sort(key=lambda row: (-row["fill"], row["code"]))
    return chart(
        lang,
        LABELS[lang]["session_fill"],
        [(name(row["code"]), row["fill"]) for row in held],
        value_text=lambda value: i18n.percent(value, lang),
        limit=25,
    )


def _participation(pack: EventPack, lang: str, stats: dict[str, Any]) -> list[dict[str, Any]]:
    words, p = LABELS[lang], stats["participants"]

    def category(code: str) -> str:
        found = pack.category(code)
        return found.name.get(lang) if found else words["sectors"].get(code, code)

    def country(code: str) -> str:
        found = pack.country(code) if len(code) == 2 else None
        return found.name.get(lang) if found else words["sectors"].get(code, code)

    def items(counts: dict[str, int], name: Any) -> list[tuple[str, float]]:
        return [(name(key), value) for key, value in counts.items()]

    check_in = p["check_in"]
    figures = [
        [words["registered"], i18n.number(p["registered"], lang)],
        [words["confirmed"], i18n.number(p["confirmed"], lang)],
    ]
    if check_in["checked_in"]:
        figures += [
            [words["checked_in"], i18n.number(check_in["checked_in"], lang)],
            [words["check_in_rate"], i18n.percent(check_in["rate"], lang, 1)],
            *[
                [
                    f"{words['check_in_rate']} · {i18n.date_text(day, lang)}",
                    i18n.percent(v["rate"], lang, 1),
                ]
                for day, v in check_in["by_day"].items()
            ],
        ]
    blocks: list[dict[str, Any]] = [figures_table(words["key_figures"], ["", ""], figures)]
    if not check_in["checked_in"]:
        blocks.append({"type": "paragraph", "text": words["no_checkins"]})
    if p["by_status"]:
        blocks.append(
            figures_table(
                words["statuses_table"],
                [words["status"], words["registered"]],
                [
                    [status_label(status, lang, people=True).capitalize(), i18n.number(n, lang)]
                    for status, n in p["by_status"].items()
                ],
            )
        )
    blocks += [
        chart(lang, words["by_category"], items(p["by_category"], category)),
        chart(lang, words["by_country"], items(p["by_country"], country)),
        chart(
            lang,
            words["by_sector"],
            items(p["by_sector"], lambda s: words["sectors"].get(s, s)),
        ),
    ]
    signups = p.get("signups_by_day") or {}
    if signups:
        total, running = 0, []
        for day, n in signups.items():
            total += n
            running.append((i18n.date_text(day, lang, "d MMM"), total))
        blocks.append(chart(lang, words["signups_over_time"], running, kind="line"))
    if check_in["checked_in"]:
        blocks.append(
            chart(
                lang,
                words["checkins_per_day"],
                [
                    (i18n.date_text(day, lang, "d MMM"), v["checked_in"])
                    for day, v in check_in["by_day"].items()
                ],
                kind="columns",
            )
        )
    if p["by_language"]:
        blocks.append(
            figures_table(
                words["languages_table"],
                [words["language"], words["confirmed"]],
                [
                    [words["languages"].get(code, code), i18n.number(n, lang)]
                    for code, n in p["by_language"].items()
                ],
            )
        )
    return blocks


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
        status = status_label(item["status"], lang)
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
                i18n.date_text(item["deadline"], lang, "medium"),
                status,
            ]
        )
        for note in item.get("notes", []):
            at = i18n.date_text(note.get("at"), lang, "medium")
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
            "caption": words["action_table"],
            "columns": [words["title"], words["owner"], words["deadline"], words["status"]],
            "widths": [46, 24, 14, 16],
            "nowrap": [2],
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

    def n(value: int) -> str:
        return i18n.number(value, lang)

    figures = [
        expo["exhibitors"],
        expo["booths_assigned"],
        expo["launches"],
        expo["leads"],
        expo["meetings"],
        jobs["posts"],
        jobs["applications"],
        messages["sent"],
        messages["failed"],
    ]
    if not any(figures):
        return [{"type": "paragraph", "text": words["no_expo_at_all"]}]
    blocks: list[dict[str, Any]] = [
        figures_table(
            words["expo_figures"],
            ["", ""],
            [
                [words["exhibitors"], n(expo["exhibitors"])],
                [words["booths"], n(expo["booths_assigned"])],
                [words["launches"], n(expo["launches"])],
                [words["leads"], n(expo["leads"])],
                [words["meetings"], f"{n(expo['meetings_confirmed'])} / {n(expo['meetings'])}"],
                [words["job_posts"], n(jobs["posts"])],
                [words["applications"], n(jobs["applications"])],
                [words["notifications"], f"{n(messages['sent'])} / {n(messages['failed'])}"],
            ],
        )
    ]
    if expo["leads"] or expo["meetings"]:
        blocks.append(
            chart(
                lang,
                words["leads_meetings"],
                [
                    (words["leads"], expo["leads"]),
                    (words["meetings_requested"], expo["meetings"]),
                    (words["meetings_confirmed"], expo["meetings_confirmed"]),
                ],
                kind="columns",
            )
        )
    else:
        blocks.append({"type": "paragraph", "text": words["no_expo"]})
    if expo["exhibitors"]:
        by_sector = [(sector(code), v) for code, v in expo["exhibitors_by_sector"].items()]
        blocks.append(chart(lang, words["exhibitors_by_sector"], by_sector))
    return blocks


def _budget(pack: EventPack, lang: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    words, currency = LABELS[lang], pack.budget.currency
    if not rows:
        return [{"type": "paragraph", "text": words["no_budget"]}]
    names = {line.code: line.name.get(lang) for line in pack.budget.lines}

    def spent(value: float) -> str:
        return i18n.percent(value, lang, 1)

    table = [
        [
            names.get(r["line"], r["line"]),
            amount(r["planned_cents"], lang, currency),
            amount(r["committed_cents"], lang, currency),
            amount(r["executed_cents"], lang, currency),
            spent(r["percent"] / 100),
        ]
        for r in rows
    ]
    planned = sum(r["planned_cents"] for r in rows)
    consumed = sum(r["consumed_cents"] for r in rows)
    table.append(
        [
            words["total"],
            amount(planned, lang, currency),
            amount(sum(r["committed_cents"] for r in rows), lang, currency),
            amount(sum(r["executed_cents"] for r in rows), lang, currency),
            spent(consumed / planned if planned else 0.0),
        ]
    )
    consumption = [(names.get(r["line"], r["line"]), r["percent"] / 100) for r in rows]
    return [
        {
            "type": "table",
            "caption": words["budget_table"],
            "columns": [
                words["line"],
                words["planned"],
                words["committed"],
                words["executed"],
                words["percent"],
            ],
            "widths": [32, 17, 17, 17, 17],
            "rows": table,
            "numeric": [1, 2, 3, 4],
            "total": True,
        },
        chart(
            lang,
            words["budget_chart"],
            consumption,
            value_text=spent,
            alerts=[0.8, 1.0],
            reference=1.0,
        ),
    ]


def figures_table(caption: str, columns: list[str], rows: list[list[str]]) -> dict[str, Any]:
    """A two-column table of what and how many: a wide label, a narrow number on the right."""
    return {
        "type": "table",
        "caption": caption,
        "columns": columns,
        "widths": [70, 30],
        "rows": rows,
        "numeric": [1],
    }


def _participant_list(
    pack: EventPack, lang: str, people: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    words = LABELS[lang]
    if not people:
        return [{"type": "paragraph", "text": words["no_participants"]}]
    people_forms = words["count_people"]

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
        {
            "type": "people",
            "note": words["list_note"],
            "count": i18n.number(len(rows), lang)
            + " "
            + people_forms[i18n.plural_index(len(rows), lang, len(people_forms))],
            "columns": [words["name"], words["organisation"], words["country"]],
            "rows": rows,
        },
    ]
