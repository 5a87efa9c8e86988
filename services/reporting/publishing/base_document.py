"""The base document: the conceptual framing of the forum, from the pack — pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.reporting.publishing.labels import LABELS, amount, cover
from shared.pack import EventPack


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
                    "caption": words["budget_plan_table"],
                    "columns": [words["line"], words["planned"]],
                    "widths": [70, 30],
                    "numeric": [1],
                    "rows": [
                        [line.name.get(lang), amount(round(line.amount * 100), lang, currency)]
                        for line in pack.budget.lines
                    ]
                    + [[words["total"], amount(round(pack.budget.total * 100), lang, currency)]],
                    "total": True,
                }
            ],
        },
    ]
    return {
        "kind": "base_document",
        "lang": lang,
        "cover": cover(pack, lang, title, generated_at),
        "sections": sections,
        "generated_at": generated_at,
    }
