"""Templates and triggers, read from the event pack's `templates/` folder (data, not code).

- `triggers.yaml` maps a routing key to what it causes: the message type, where in the event the
  recipients are, channels, whether the message is essential, attachments, reminders it
  (re)schedules or cancels, and a sample event for the review CLI.
- `<message_type>.yaml` holds, per language, `subject`, `text`, optional `html` (else the text's
  paragraphs) and optional `sms` (else no SMS for that type). Jinja2; HTML is autoescaped.
- `_layout.html.j2` wraps every HTML part; `_layout.yaml` holds its words per language (why
  the person receives the message, the unsubscribe link's label), so a third language is a
  file's entry, not a change to the layout.

A non-essential e-mail (a campaign, a reminder) given an `unsubscribe_url` ends, in both parts,
with the link: a real `<a href>` in the HTML, the label and then the address on a line of its
own in the text. Text parts are wrapped at 78 characters (a phone's mail app, RFC 5322's line
length); a line that is a single word, such as an address, is left whole.

An override folder (`NOTIFICATION_TEMPLATES_PATH`) wins file by file over the pack's folder, so
the secretariat can reword one message without touching code or the rest of the pack.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from jinja2 import BaseLoader, ChainableUndefined, Environment, TemplateNotFound
from markupsafe import Markup, escape
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.notification.domain import dig_any
from shared import i18n
from shared.contracts.envelope import Actor
from shared.pack import DEFAULT_PACK, EventPack

DEFAULT_TEMPLATES = DEFAULT_PACK.parent / "templates"
LAYOUT = "_layout.html.j2"
LAYOUT_WORDS = "_layout.yaml"
LAYOUT_KEYS = {"why", "unsubscribe", "unsubscribe_text"}
TEXT_WIDTH = 78
# What a preview shows as the link of a non-essential message (the real one is signed per person).
SAMPLE_UNSUBSCRIBE_URL = "https://foro.example.org/notification/unsubscribe?token=sample"
TRIGGERS_FILE = "triggers.yaml"

Channel = Literal["email", "sms"]


class TemplateError(Exception):
    """A template or trigger file cannot be used; the message names the file and the reason."""


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReminderRule(_Data):
    """A reminder a trigger (re)schedules for each of its recipients."""

    message_type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")
    key: str = Field(
        description="Reminder key, formatted with the event's fields: 'session:{session_id}'."
    )
    anchor: str = Field(description="'forum_start', or a dotted path to a date-time in the event.")
    offset_hours: float = Field(description="Hours from the anchor; -24 is the day before.")


class ContactMapping(_Data):
    """Where an event carries a contact that is not a participant snapshot (an exhibitor, an
    action-plan owner): `a|b` paths for each field."""

    id: str
    email: str | None = None
    phone: str | None = None
    given_name: str | None = None
    language: str | None = None
    project: bool = Field(
        False, description="Keep it in the contact projection, for later events naming the id."
    )


NO_ACTOR = "no_actor"
ACTOR_KINDS = (NO_ACTOR, *get_args(Actor.model_fields["kind"].annotation))
"""Who made the change an event reports: the envelope's `actor.kind`, or `no_actor` for what no
one asked for (a sign-up from a form, over AMQP or the webhook; a timer)."""


class SendWhen(_Data):
    """When a trigger's message goes out. The trigger's other effects (the contact projection,
    reminders) happen regardless: `registration.updated` keeps the contact current even when it
    tells the person nothing."""

    present: tuple[str, ...] = Field(
        (), description="Dotted paths that must hold a non-empty value ('changed_fields')."
    )
    actors: tuple[str, ...] | None = Field(
        None,
        description=f"Only changes made by these kinds of actor ({', '.join(ACTOR_KINDS)}); "
        "unset: anyone's.",
    )

    @field_validator("actors")
    @classmethod
    def _known_kinds(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        unknown = sorted(set(value or ()) - set(ACTOR_KINDS))
        if unknown:
            raise ValueError(f"unknown actor kind(s) {unknown}: use {', '.join(ACTOR_KINDS)}")
        return value


class Trigger(_Data):
    message_type: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,49}$")
    send_when: SendWhen | None = Field(
        None, description="Conditions on the event for the message to go out; unset: always."
    )
    recipients: tuple[str, ...] = Field(
        (),
        description="Dotted paths to a participant snapshot, an id, or a list of either; '' is the event itself.",
    )
    contact: ContactMapping | None = None
    erase: str | None = Field(
        None, description="Path to a participant id whose personal data is erased."
    )
    channels: tuple[Channel, ...] = ("email", "sms")
    essential: bool = False
    attachments: tuple[Literal["forum_ical", "session_ical"], ...] = ()
    reminders: tuple[ReminderRule, ...] = ()
    cancel_reminders: tuple[str, ...] = ()
    sample: dict[str, Any] = Field(
        default_factory=dict, description="An example event for the review CLI."
    )


class TriggerTable(_Data):
    triggers: dict[str, Trigger]


class LanguageTemplate(_Data):
    subject: str
    text: str
    html: str | None = None
    sms: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def translate(value: Any, lang: str = "es") -> str:
    """Text that other services send either plain or as {es, en}."""
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("es") or next(iter(value.values()), ""))
    if value is None or isinstance(value, ChainableUndefined):
        return ""
    return str(value)


class TemplateBook:
    """Triggers and templates of one folder (plus the pack's, for what the folder lacks)."""

    def __init__(self, pack: EventPack, folder: Path | None = None) -> None:
        self.pack = pack
        self.folders = [Path(folder)] if folder else []
        if DEFAULT_TEMPLATES not in self.folders:
            self.folders.append(DEFAULT_TEMPLATES)
        self._cache: dict[str, dict[str, LanguageTemplate]] = {}
        self.env = Environment(
            autoescape=lambda name: name is not None and name.endswith(("/html", ".html.j2")),
            undefined=ChainableUndefined,
            keep_trailing_newline=False,
        )
        self.env.loader = _BookLoader(self)
        self.env.filters["when"] = self.format_when
        self.env.filters["day"] = self.format_day
        self.env.filters["days"] = self.format_days
        self.env.filters["number"] = lambda value, lang="es", digits=None: i18n.number(
            value, lang, digits
        )
        self.env.filters["money"] = lambda amount, lang="es": i18n.money(amount, lang)
        self.env.filters["language_name"] = lambda code, lang="es": i18n.language_name(
            str(code), lang
        )
        self.env.filters["count"] = lambda value, one, other, lang="es": i18n.count(
            value, one, other, lang
        )
        self.env.filters["tr"] = translate
        self.env.filters["country_name"] = self.country_name
        self.env.filters["category_name"] = self.category_name
        self.env.filters["accreditation_fields"] = self.accreditation_fields

    # -- files --

    def _file(self, name: str) -> Path | None:
        return next((folder / name for folder in self.folders if (folder / name).is_file()), None)

    def _yaml(self, path: Path) -> Any:
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise TemplateError(f"{path}: {error}") from None

    @cached_property
    def triggers(self) -> dict[str, Trigger]:
        path = self._file(TRIGGERS_FILE)
        if path is None:
            raise TemplateError(f"{TRIGGERS_FILE} not found in {', '.join(map(str, self.folders))}")
        try:
            return TriggerTable.model_validate(self._yaml(path)).triggers
        except ValidationError as error:
            raise TemplateError(f"{path}: {error}") from None

    def message_types(self) -> list[str]:
        names = {
            p.stem for folder in self.folders if folder.is_dir() for p in folder.glob("*.yaml")
        }
        return sorted(n for n in names - {Path(TRIGGERS_FILE).stem} if not n.startswith("_"))

    def templates(self, message_type: str) -> dict[str, LanguageTemplate]:
        if message_type not in self._cache:
            path = self._file(f"{message_type}.yaml")
            if path is None:
                raise TemplateError(f"no template for message type {message_type!r}")
            data = self._yaml(path)
            if not isinstance(data, dict) or not data:
                raise TemplateError(
                    f"{path}: expected a mapping of language → subject/text/html/sms"
                )
            try:
                self._cache[message_type] = {
                    lang: LanguageTemplate.model_validate(v) for lang, v in data.items()
                }
            except ValidationError as error:
                raise TemplateError(f"{path}: {error}") from None
        return self._cache[message_type]

    def check(self) -> list[str]:
        """Every problem of every template and trigger (for start-up and the CLI)."""
        problems = []
        try:
            triggers = self.triggers
        except TemplateError as error:
            return [str(error)]
        wanted = {t.message_type for t in triggers.values() if t.message_type}
        wanted |= {r.message_type for t in triggers.values() for r in t.reminders}
        for message_type in sorted(wanted | set(self.message_types())):
            try:
                languages = self.templates(message_type)
                if self.pack.forum.default_language not in languages:
                    problems.append(f"{message_type}: no template in the forum's default language")
                for lang in languages:
                    for part in ("subject", "text", "html", "sms"):
                        self.env.get_template(f"{message_type}/{lang}/{part}")
            except Exception as error:
                problems.append(f"{message_type}: {error}")
        try:
            missing = LAYOUT_KEYS - set(self.layout_words(self.pack.forum.default_language))
            if missing:
                problems.append(f"{LAYOUT_WORDS}: the default language lacks {sorted(missing)}")
        except TemplateError as error:
            problems.append(str(error))
        return problems

    # -- rendering --

    def language_for(self, message_type: str, wanted: str | None) -> str:
        """The recipient's language when the type has it, else the forum's default."""
        available = self.templates(message_type)
        if wanted in available:
            return wanted
        return self.pack.forum.default_language

    def has_sms(self, message_type: str, lang: str) -> bool:
        return bool(self.templates(message_type)[self.language_for(message_type, lang)].sms)

    def render_email(self, message_type: str, lang: str, context: Mapping[str, Any]) -> Rendered:
        lang = self.language_for(message_type, lang)
        source = self.templates(message_type)[lang]
        values = self.context(lang, context)
        subject = " ".join(
            self.env.get_template(f"{message_type}/{lang}/subject").render(values).split()
        )
        words = self.layout_words(lang)
        written = self.env.get_template(f"{message_type}/{lang}/text").render(values).strip()
        text = written
        if unsubscribe := values.get("unsubscribe_url"):
            text += f"\n\n{words['unsubscribe_text']}\n{unsubscribe}"  # the HTML's is the layout's
        text = wrap_text(text) + "\n"
        if source.html:
            body = Markup(self.env.get_template(f"{message_type}/{lang}/html").render(values))
        else:
            body = Markup("\n").join(
                Markup("<p>{}</p>").format(
                    Markup("<br>\n").join(escape(line) for line in para.splitlines())
                )
                for para in written.split("\n\n")
                if para.strip()
            )
        html = self.env.get_template(LAYOUT).render(
            {**values, "subject": subject, "body": body, "words": words}
        )
        return Rendered(subject=subject, text=text, html=html)

    def layout_words(self, lang: str) -> dict[str, str]:
        """The layout's words in `lang` (the forum's default language's where `lang` has none)."""
        data = self._layout_words
        found = data.get(lang) or data.get(self.pack.forum.default_language) or {}
        return {str(key): str(value) for key, value in found.items()}

    @cached_property
    def _layout_words(self) -> dict[str, dict[str, str]]:
        path = self._file(LAYOUT_WORDS)
        data = self._yaml(path) if path else None
        if not isinstance(data, dict):
            raise TemplateError(f"{LAYOUT_WORDS}: expected a mapping of language → words")
        return data

    def render_sms(self, message_type: str, lang: str, context: Mapping[str, Any]) -> str | None:
        lang = self.language_for(message_type, lang)
        if not self.templates(message_type)[lang].sms:
            return None
        rendered = self.env.get_template(f"{message_type}/{lang}/sms").render(
            self.context(lang, context)
        )
        return " ".join(rendered.split())

    def context(self, lang: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        forum = self.pack.forum
        return {
            "lang": lang,
            "forum": {
                "id": forum.id,
                "name": forum.name.get(lang),
                "short_name": forum.short_name.get(lang),
                "venue": forum.venue.name,
                "city": forum.venue.city,
                "address": forum.venue.address,
                "start_date": forum.dates[0],
                "end_date": forum.dates[-1],
            },
            **extra,
        }

    def country_name(self, code: Any, lang: str = "es") -> str:
        """A country's name from the pack; a country the pack does not list keeps its code."""
        country = self.pack.country(str(code)) if code else None
        return country.name.get(lang) if country else translate(code)

    def category_name(self, code: Any, lang: str = "es") -> str:
        """A participant category's name from the pack (its code if the pack has no such one)."""
        category = self.pack.category(str(code)) if code else None
        return category.name.get(lang) if category else translate(code)

    def accreditation_fields(self, code: Any) -> list[str]:
        """The fields whose change after approval sends a person of the category back to the
        secretariat's review (the pack's `accreditation_fields`; none for an unknown category)."""
        category = self.pack.category(str(code)) if code else None
        return list(category.accreditation_fields) if category else []

    def format_when(self, value: Any, lang: str = "es") -> str:
        """A date-time in the forum's time zone, written the way the language writes it
        (`18 de noviembre de 2026, 09:00`); a bare day is written as a day."""
        if _is_day(value):
            return self.format_day(value, lang)
        return i18n.datetime_text(value, lang, self.pack.forum.tz)

    def format_day(self, value: Any, lang: str = "es") -> str:
        """A day as the language writes it: `18 de noviembre de 2026`, `November 18, 2026`."""
        return (
            ""
            if value is None or isinstance(value, ChainableUndefined)
            else i18n.date_text(value, lang)
        )

    def format_days(self, first: Any, last: Any, lang: str = "es") -> str:
        """Two days as one span: `18–19 de noviembre de 2026`."""
        return i18n.date_range(first, last, lang)


def wrap_text(text: str, width: int = TEXT_WIDTH) -> str:
    """Every line of a text part at most `width` characters, broken between words; a word
    longer than that (an address) stands whole on a line of its own."""
    lines: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            lines.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if line.lstrip().startswith(("- ", "• ")):
            indent += "  "  # a list item's next lines under its text, not under its dash
        lines.extend(
            textwrap.wrap(
                line,
                width,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def _is_day(value: Any) -> bool:
    """A day without a time of day (a date, or an ISO `2026-11-18`)."""
    if isinstance(value, str):
        return len(value) == 10
    return isinstance(value, date) and not isinstance(value, datetime)


class _BookLoader(BaseLoader):
    """Jinja loader over the YAML templates (`type/lang/part`) and plain files (the layout)."""

    def __init__(self, book: TemplateBook) -> None:
        self.book = book

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        parts = template.split("/")
        if len(parts) == 3:
            message_type, lang, part = parts
            try:
                value = getattr(self.book.templates(message_type)[lang], part, None)
            except (KeyError, TemplateError):
                raise TemplateNotFound(template) from None
            if value is None and part in {"html", "sms"}:
                value = ""
            if value is None:
                raise TemplateNotFound(template)
            return value, None, lambda: True
        path = self.book._file(template)
        if path is None:
            raise TemplateNotFound(template)
        return path.read_text(encoding="utf-8"), str(path), lambda: True


def sample_context(book: TemplateBook, trigger: Trigger | None, lang: str) -> dict[str, Any]:
    """What the review CLI renders a template with."""
    event = dict(trigger.sample) if trigger else {}
    person = {
        "given_name": "Ana" if lang == "es" else "Anne",
        "family_name": "López",
        "language": lang,
        "category": "civil_society",
        "country": "SV",
    }
    return {
        "event": event,
        "person": person,
        "campaign": {
            "subject": "Horario de la exposición" if lang == "es" else "Expo opening hours",
            "body": "La exposición abre a las 9:00.\n\nLes esperamos."
            if lang == "es"
            else "The expo opens at 9:00.\n\nSee you there.",
        },
    }


def first_trigger_for(book: TemplateBook, message_type: str) -> Trigger | None:
    for trigger in book.triggers.values():
        if trigger.message_type == message_type or any(
            r.message_type == message_type for r in trigger.reminders
        ):
            return trigger
    return None


def is_essential(trigger: Trigger | None, message_type: str) -> bool:
    """Whether `message_type` goes out as essential (no unsubscribe link): a trigger's own
    message when the trigger says so; never a reminder it schedules, nor a campaign."""
    if trigger is None or trigger.message_type != message_type:
        return False
    return trigger.essential


def sample_for(book: TemplateBook, message_type: str, lang: str) -> dict[str, Any]:
    """The sample a preview renders `message_type` with in `lang`: its trigger's sample event,
    a sample person and campaign, and for a reminder the moment it reminds of."""
    trigger = first_trigger_for(book, message_type)
    context = sample_context(book, trigger, lang)
    if not is_essential(trigger, message_type):
        context["unsubscribe_url"] = SAMPLE_UNSUBSCRIBE_URL
    if message_type.endswith("_reminder"):
        anchor = dig_any(context["event"], "slot.starts_at|current.starts_at") or str(
            book.pack.forum.dates[0]
        )
        context["reminder"] = {"anchor": anchor}
    return context
