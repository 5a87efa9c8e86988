"""The words of reporting's documents — English here, other languages from gettext catalogues —
and the small pieces every document is built of (cover, charts, amounts, status names) — pure; dates, numbers and money
through `shared.i18n`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from shared import i18n
from shared.pack import EventPack

# The source: every word in English, in code beside where it is used. Other languages come from
# `services/reporting/locale/<lang>.po`, one entry per word: msgctxt its key here (`statuses.held`),
# msgid this English, msgstr the translation; a pair (one, other) is an entry with a plural.
WORDS: dict[str, Any] = {
    "contents": "Contents",
    "language": "Language",
    "figure": "Figure",
    "table": "Table",
    "key_figures": "Participation in figures",
    "programme_day": "Programme of {day}",
    "session_fill": "Session fill (attendance against capacity)",
    "no_attendance": "No check-ins were recorded at the sessions yet; attendance and fill will show once they are.",
    "no_signups_sessions": "No session took sign-ups in advance.",
    "no_checkins": "No check-ins were recorded on site yet.",
    "checkins_per_day": "On-site check-ins per day",
    "signups_over_time": "Registrations to date, by day",
    "no_data": "No data yet for “{caption}”.",
    "others": "Others ({count})",
    "expo_figures": "Expo and job fair in figures",
    "leads_meetings": "Leads and business meetings",
    "meetings_requested": "Meetings requested",
    "meetings_confirmed": "Meetings confirmed",
    "no_expo": "No leads or business meetings were recorded yet.",
    "no_expo_at_all": "No exhibitors, booths, leads, meetings, job posts or messages were recorded yet.",
    "budget_table": "Execution by budget line",
    "budget_chart": "Budget consumed by line (alerts at 80% and 100%)",
    "no_budget": "No budget entries were recorded yet.",
    "action_table": "Lines of action",
    "statuses_table": "Registrations by status",
    "languages_table": "Confirmed participants by language",
    "budget_plan_table": "Estimated budget by line",
    "count_people": ("person", "people"),
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
        "withdrawn": "withdrawn",
        "declined": "declined",
        "removed": "removed",
        "registered": "registered",
        "unknown": "no status",
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
    "languages": {
        "es": "Spanish",
        "en": "English",
        "fr": "French",
        "pt": "Portuguese",
        "unknown": "Not stated",
    },
}

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"


LABELS = i18n.Words(WORDS, LOCALE_DIR)


def money(cents: int, currency: str) -> str:
    """An amount for a spreadsheet cell (`exports.py`): the currency code and two decimals."""
    return f"{currency} {cents / 100:,.2f}"


def amount(cents: int, lang: str, currency: str) -> str:
    """An amount as the reader's language writes it: `1.500,00 US$`, `US$1,500.00`."""
    return i18n.money(cents / 100, lang, currency)


def status_label(status: str | None, lang: str, *, people: bool = False) -> str:
    """A status code in words (`confirmed` → `confirmados`); never the raw code, even for one
    this table does not know (its underscores become spaces)."""
    statuses = LABELS[lang]["statuses"]
    code = status or "unknown"
    if people and code == "cancelled":
        code = "cancelled_p"
    return str(statuses.get(code) or code.replace("_", " "))


def cover(pack: EventPack, lang: str, title: str, generated_at: datetime) -> dict[str, Any]:
    forum, words = pack.forum, LABELS[lang]
    first, last = forum.dates[0], forum.dates[-1]
    moment = i18n.datetime_text(generated_at, lang, forum.tz)
    return {
        "title": title,
        "forum_name": forum.name.get(lang),
        "convener": f"{words['convener']}: {forum.convener.get(lang)}",
        "venue": f"{forum.venue.name}, {forum.venue.city}",
        "dates": i18n.date_range(first, last, lang),
        "partners": f"{words['partners']}: " + "; ".join(p.name.get(lang) for p in forum.partners),
        "generated": f"{words['generated']} {moment} ({forum.time_zone})",
    }


def chart(
    lang: str,
    caption: str,
    items: list[tuple[str, float]],
    *,
    kind: str = "bars",
    value_text: Callable[[float], str] | None = None,
    limit: int = 15,
    **extra: Any,
) -> dict[str, Any]:
    """A chart block, or — with nothing to draw — a sentence saying there is no data yet.

    Past `limit` bars, the rest are summed into one "Others (n)" bar. `alt` says every number
    the chart shows, for a reader who cannot see it."""
    if not items or not any(value for _, value in items):
        return {"type": "paragraph", "text": LABELS[lang]["no_data"].format(caption=caption)}
    if kind == "bars" and len(items) > limit:
        rest = items[limit - 1 :]
        items = [
            *items[: limit - 1],
            (LABELS[lang]["others"].format(count=len(rest)), sum(v for _, v in rest)),
        ]
    text = value_text or (lambda value: i18n.number(value, lang))
    labels = [label for label, _ in items]
    values = [float(value) for _, value in items]
    texts = [text(value) for value in values]
    alt = f"{caption}: " + "; ".join(
        f"{label} {value}" for label, value in zip(labels, texts, strict=True)
    )
    return {
        "type": "chart",
        "chart": kind,
        "caption": caption,
        "labels": labels,  # a long one wraps beside its bar (charts.py), never cut mid-word
        "values": values,
        "value_labels": texts,
        "alt": alt + ".",
        **extra,
    }


def conclusion_title(conclusion: dict[str, Any], lang: str) -> str:
    texts = conclusion["texts"]
    return str((texts.get(lang) or next(iter(texts.values())))["title"])


def owner_text(owner: dict[str, Any], lang: str) -> str:
    return f"{owner['name']} ({LABELS[lang]['owner_kinds'].get(owner['kind'], owner['kind'])})"
