"""CSV and XLSX exports of what the Memoria shows (the participant list only with consent)."""

from __future__ import annotations

import csv
import io
from typing import Any

# openpyxl ships no type information (its stubs, types-openpyxl, are not a dependency).
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from services.reporting.publishing.labels import conclusion_title, money, owner_text
from shared.pack import EventPack

PARTICIPANT_COLUMNS = ("family_name", "given_name", "organisation", "country", "category")


def _safe_cell(value: Any) -> Any:
    """Spreadsheets run cells starting with = + - @ as formulas; such text is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def participants_csv(people: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PARTICIPANT_COLUMNS)
    for person in people:
        writer.writerow([_safe_cell(person.get(column) or "") for column in PARTICIPANT_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode()  # BOM: spreadsheet programs then read UTF-8 accents


def _sheet(workbook: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_safe_cell(value) for value in row])
    sheet.freeze_panes = "A2"


def workbook(
    pack: EventPack, lang: str, inputs: dict[str, Any], *, only_participants: bool = False
) -> bytes:
    book = Workbook()
    book.remove(book.active)
    people = [[p.get(c) or "" for c in PARTICIPANT_COLUMNS] for p in inputs["participants"]]
    _sheet(book, "participants", list(PARTICIPANT_COLUMNS), people)
    if not only_participants:
        stats = inputs["statistics"]
        rows: list[list[Any]] = []
        for dimension in ("by_status", "by_category", "by_country", "by_sector", "by_language"):
            rows += [
                [dimension, key, value] for key, value in stats["participants"][dimension].items()
            ]
        rows.append(["check_in", "rate", stats["participants"]["check_in"]["rate"]])
        for group in ("expo", "job_fair", "notifications"):
            rows += [
                [group, key, value] for key, value in stats[group].items() if isinstance(value, int)
            ]
        rows += [["events", key, value] for key, value in stats["events"]["by_type"].items()]
        _sheet(book, "statistics", ["dimension", "value", "count"], rows)
        _sheet(
            book,
            "sessions",
            ["code", "day", "starts_at", "room", "capacity", "signed_up", "attended", "fill"],
            [
                [
                    s["code"],
                    s["day"],
                    s["starts_at"],
                    s["room"],
                    s["capacity"],
                    s["signed_up"],
                    s["attended"],
                    s["fill"],
                ]
                for s in stats["sessions"]
            ],
        )
        _sheet(
            book,
            "conclusions",
            ["session", "title", "key_issues", "discussion", "way_forward"],
            [
                [
                    c["session_code"],
                    conclusion_title(c, lang),
                    *(
                        (c["texts"].get(lang) or next(iter(c["texts"].values()))).get(k, "")
                        for k in ("key_issues", "discussion", "way_forward")
                    ),
                ]
                for c in inputs["conclusions"]
            ],
        )
        _sheet(
            book,
            "action_plan",
            ["title", "owner", "deadline", "status", "overdue"],
            [
                [
                    i["title"].get(lang) or next(iter(i["title"].values())),
                    owner_text(i["owner"], lang),
                    i["deadline"],
                    i["status"],
                    bool(i.get("overdue")),
                ]
                for i in inputs["action_items"]
            ],
        )
        currency = pack.budget.currency
        _sheet(
            book,
            "budget",
            ["line", "planned", "committed", "executed", "percent"],
            [
                [
                    b["line"],
                    money(b["planned_cents"], currency),
                    money(b["committed_cents"], currency),
                    money(b["executed_cents"], currency),
                    b["percent"],
                ]
                for b in inputs["budget"]
            ],
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
