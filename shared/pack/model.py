"""The event pack: one forum described as data.

Everything a service needs to know about *this* forum (its days, rooms, programme, participant
categories, countries and quotas, expo zones and booths, budget and products) lives in a pack, so
that running another forum means writing another pack, not changing code.

Validation happens in two layers. Field types catch malformed values; the model validators catch
what types cannot: references between sections (a programme item's room, a booth's zone), duplicate
codes, times that run backwards, a budget that does not add up. Cross-reference problems are
raised as one `pack_inconsistent` error whose context lists every problem with its own location,
so that `load_pack` can report each one as `file: path.inside[3].pack: reason`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

# --- value types ----------------------------------------------------------------------------

Language = Literal["es", "en"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="snake_case code, stable across languages.",
        examples=["official_delegate"],
    ),
]
# Programme and booth codes are what people read on printed agendas and floor plans.
DisplayCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][A-Z0-9]*(?:[.-][A-Z0-9]+)*$",
        description="Upper-case code as printed on agendas and floor plans.",
        examples=["B1.2"],
    ),
]
CountryCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code.", examples=["SV"]),
]
Slug = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        max_length=80,
        description="Lower-case slug.",
        examples=["crm-foro-sector-privado-migraciones"],
    ),
]
HexColour = Annotated[
    str,
    Field(pattern=r"^#[0-9A-Fa-f]{6}$", description="Colour as #RRGGBB.", examples=["#1F4E79"]),
]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


def _reject_sexagesimal(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 10:30 as the integer 630, which pydantic would then happily
    # accept as 630 seconds after midnight. Refuse numbers so the mistake cannot pass silently.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError(
            "time_not_quoted",
            'write times as quoted "HH:MM" strings (YAML reads an unquoted 10:30 as a number)',
        )
    return value


LocalTime = Annotated[time, BeforeValidator(_reject_sexagesimal)]


def _check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "time_zone", "unknown IANA time zone '{zone}'", {"zone": value}
        ) from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_check_time_zone)]


# --- problem collection ---------------------------------------------------------------------

Loc = tuple[str | int, ...]


def format_loc(loc: Iterable[str | int]) -> str:
    """`('categories', 3, 'capacity')` -> `categories[3].capacity`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Problems:
    """Collects every consistency problem so an author fixes them in one pass, not one per run."""

    def __init__(self) -> None:
        self.items: list[tuple[Loc, str]] = []

    def add(self, loc: Loc, message: str) -> None:
        self.items.append((loc, message))

    def unique_codes(self, loc: Loc, entries: Sequence[Any]) -> None:
        first_at: dict[str, int] = {}
        for index, entry in enumerate(entries):
            code = entry.code
            if code in first_at:
                self.add(
                    (*loc, index, "code"),
                    f"duplicate code {code!r} (first used at index {first_at[code]})",
                )
            else:
                first_at[code] = index

    def raise_if_any(self) -> None:
        if not self.items:
            return
        summary = "; ".join(f"{format_loc(loc)}: {message}" for loc, message in self.items)
        raise PydanticCustomError(
            "pack_inconsistent",
            "{summary}",
            {
                "summary": summary,
                "problems": [{"loc": list(loc), "msg": message} for loc, message in self.items],
            },
        )


# --- models ---------------------------------------------------------------------------------


class PackModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _HasCode(Protocol):
    @property
    def code(self) -> str: ...


def _find[Coded: _HasCode](entries: Iterable[Coded], code: str) -> Coded | None:
    return next((entry for entry in entries if entry.code == code), None)


class Localized(PackModel):
    """Human-facing text in both languages of the forum."""

    es: Text = Field(description="Spanish text.", examples=["Bolsa de trabajo"])
    en: Text = Field(description="English text.", examples=["Job fair"])

    def get(self, lang: str) -> str:
        """The text in `lang`; Spanish for any language the pack does not carry."""
        return self.en if lang == "en" else self.es


class Partner(PackModel):
    code: Code = Field(description="Partner code.", examples=["iom"])
    name: Localized = Field(description="Partner name.")
    kind: Literal["international_organisation", "private_sector", "government", "civil_society"] = (
        Field(description="What kind of partner this is.", examples=["international_organisation"])
    )


class Venue(PackModel):
    name: Text = Field(description="Venue name (a proper noun, not translated).")
    city: Text = Field(description="City.", examples=["San Salvador"])
    country: CountryCode = Field(description="Country of the venue.")
    address: Text | None = Field(None, description="Street address, if known.")


class Forum(PackModel):
    id: Slug = Field(description="Stable forum id; carried as `forum_id` in every event.")
    name: Localized = Field(description="Full forum name.")
    short_name: Localized = Field(description="Short name for SMS, badges and subject lines.")
    convener: Localized = Field(description="The intergovernmental process the forum belongs to.")
    host_country: CountryCode = Field(description="Host country; must be listed in `countries`.")
    partners: tuple[Partner, ...] = Field(description="Organisations co-organising the forum.")
    venue: Venue = Field(description="Where the forum takes place.")
    time_zone: TimeZoneName = Field(
        "America/El_Salvador", description="IANA time zone of the venue; programme times use it."
    )
    start_date: date = Field(description="First day of the forum (local date).")
    days: int = Field(2, ge=1, le=14, description="Number of forum days.")
    format: Localized = Field(description="How the forum is run (conference plus expo).")
    purpose: Localized = Field(description="Objective of the forum.")
    background: Localized = Field(
        description="Background summary; the opening of the base document."
    )
    privacy_notice: tuple[Localized, ...] = Field(
        (),
        description="The privacy notice every sign-up form shows, foro's own and the form "
        "vendors' (paragraphs): who processes the details, what for, who sees them, how to "
        "change or erase them. Empty: foro's pages show a generic notice.",
    )
    default_language: Language = Field("es", description="Language used when none is known.")
    languages: tuple[Language, ...] = Field(
        ("es", "en"), min_length=1, description="Languages the forum communicates in."
    )
    registration_opens_at: AwareDatetime | None = Field(
        None, description="When sign-ups open; unset means open now."
    )
    registration_closes_at: AwareDatetime | None = Field(
        None,
        description="When sign-ups close; unset means when the forum ends (midnight after its last "
        "day, venue time).",
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def dates(self) -> list[date]:
        return [self.start_date + timedelta(days=offset) for offset in range(self.days)]

    @property
    def starts_at(self) -> datetime:
        """Midnight at the venue on the first forum day."""
        return datetime.combine(self.start_date, time(), self.tz)

    @property
    def ends_at(self) -> datetime:
        """Midnight at the venue after the last forum day."""
        return datetime.combine(self.dates[-1] + timedelta(days=1), time(), self.tz)

    @property
    def registration_closes(self) -> datetime:
        """When sign-ups close: the pack's `registration_closes_at`, else the end of the forum."""
        return self.registration_closes_at or self.ends_at

    @model_validator(mode="after")
    def _check(self) -> Forum:
        problems = _Problems()
        if len(set(self.languages)) != len(self.languages):
            problems.add(("languages",), "a language is listed twice")
        if self.default_language not in self.languages:
            problems.add(
                ("default_language",),
                f"{self.default_language!r} is not one of the languages {list(self.languages)}",
            )
        problems.unique_codes(("partners",), self.partners)
        opens, closes = self.registration_opens_at, self.registration_closes_at
        if opens and closes and closes <= opens:
            problems.add(("registration_closes_at",), "must be after registration_opens_at")
        forum_end = self.ends_at
        for field, value in (("registration_opens_at", opens), ("registration_closes_at", closes)):
            if value and value > forum_end:
                problems.add((field,), f"is after the forum ends ({forum_end.isoformat()})")
        problems.raise_if_any()
        return self


class Room(PackModel):
    code: Code = Field(description="Room code.", examples=["plenary"])
    name: Localized = Field(description="Room name.")
    capacity: int = Field(gt=0, description="Seats.", examples=[400])


class OpeningHours(PackModel):
    opens_at: LocalTime = Field(description="Local opening time.", examples=["09:00"])
    closes_at: LocalTime = Field(description="Local closing time.", examples=["18:00"])

    @model_validator(mode="after")
    def _check(self) -> OpeningHours:
        if self.closes_at <= self.opens_at:
            _raise_one(("closes_at",), "must be after opens_at")
        return self


class ProgrammeDay(PackModel):
    index: int = Field(ge=0, description="Day index, 0 for the first forum day.")
    title: Localized = Field(description="Day heading on the agenda.")
    expo_hours: OpeningHours | None = Field(
        None, description="Expo opening hours that day; unset means the expo is closed."
    )


class Topic(PackModel):
    code: DisplayCode = Field(description="Topic code.", examples=["B2.6.1"])
    title: Localized = Field(description="Topic title.")


ItemKind = Literal["inauguration", "expo_opening", "block", "session", "break", "closing"]


class ProgrammeItem(PackModel):
    code: DisplayCode = Field(description="Item code as printed on the agenda.", examples=["B1.2"])
    kind: ItemKind = Field(description="What the item is.", examples=["session"])
    title: Localized = Field(description="Item title.")
    description: Localized | None = Field(None, description="Longer text under the title.")
    day: int = Field(ge=0, description="Day index, 0 for the first forum day.")
    starts_at: LocalTime = Field(description="Local start time.", examples=["10:30"])
    ends_at: LocalTime = Field(description="Local end time.", examples=["11:00"])
    room: Code | None = Field(
        None, description="Room code; unset for items held nowhere in particular (breaks)."
    )
    parent: DisplayCode | None = Field(None, description="Code of the block a session belongs to.")
    expected_audience: int = Field(0, ge=0, description="People expected to attend.")
    topics: tuple[Topic, ...] = Field((), description="Sub-topics treated within the item.")

    @model_validator(mode="after")
    def _check(self) -> ProgrammeItem:
        if self.ends_at <= self.starts_at:
            _raise_one(("ends_at",), "must be after starts_at")
        return self


class Programme(PackModel):
    rooms: tuple[Room, ...] = Field(min_length=1, description="Rooms at the venue.")
    days: tuple[ProgrammeDay, ...] = Field(
        min_length=1, description="Per-day headings and expo hours."
    )
    items: tuple[ProgrammeItem, ...] = Field(
        min_length=1, description="Every agenda item, blocks and their sessions alike."
    )

    def room(self, code: str) -> Room | None:
        return _find(self.rooms, code)

    def item(self, code: str) -> ProgrammeItem | None:
        return _find(self.items, code)

    def items_on(self, day: int) -> list[ProgrammeItem]:
        return sorted((i for i in self.items if i.day == day), key=lambda i: i.starts_at)

    def children(self, code: str) -> list[ProgrammeItem]:
        return [item for item in self.items if item.parent == code]

    @model_validator(mode="after")
    def _check(self) -> Programme:
        problems = _Problems()
        problems.unique_codes(("rooms",), self.rooms)
        problems.unique_codes(("items",), self.items)
        seen_days: set[int] = set()
        for index, day in enumerate(self.days):
            if day.index in seen_days:
                problems.add(("days", index, "index"), f"day {day.index} is listed twice")
            seen_days.add(day.index)

        item_codes = {item.code for item in self.items}
        for index, item in enumerate(self.items):
            for t_index, topic in enumerate(item.topics):
                if topic.code in item_codes:
                    problems.add(
                        ("items", index, "topics", t_index, "code"),
                        f"code {topic.code!r} is also a programme item code",
                    )
        rooms = {room.code: room for room in self.rooms}
        items = {item.code: item for item in self.items}
        for index, item in enumerate(self.items):
            loc: Loc = ("items", index)
            if item.room is not None:
                room = rooms.get(item.room)
                if room is None:
                    problems.add((*loc, "room"), f"unknown room {item.room!r}")
                elif item.expected_audience > room.capacity:
                    problems.add(
                        (*loc, "expected_audience"),
                        f"{item.expected_audience} exceeds the capacity of room "
                        f"{room.code!r} ({room.capacity})",
                    )
            self._check_parent(problems, loc, item, items)
        self._check_room_overlaps(problems)
        problems.raise_if_any()
        return self

    @staticmethod
    def _check_parent(
        problems: _Problems, loc: Loc, item: ProgrammeItem, items: dict[str, ProgrammeItem]
    ) -> None:
        if item.kind != "session":
            if item.parent is not None:
                problems.add((*loc, "parent"), "only sessions belong to a block")
            return
        if item.parent is None:
            problems.add((*loc, "parent"), "a session must name the block it belongs to")
            return
        parent = items.get(item.parent)
        if parent is None:
            problems.add((*loc, "parent"), f"unknown programme item {item.parent!r}")
        elif parent.kind != "block":
            problems.add((*loc, "parent"), f"{item.parent!r} is a {parent.kind}, not a block")
        elif parent.day != item.day:
            problems.add((*loc, "day"), f"is not on the same day as block {parent.code!r}")
        elif item.starts_at < parent.starts_at or item.ends_at > parent.ends_at:
            problems.add(
                (*loc, "starts_at"),
                f"{item.starts_at:%H:%M}-{item.ends_at:%H:%M} falls outside block "
                f"{parent.code!r} ({parent.starts_at:%H:%M}-{parent.ends_at:%H:%M})",
            )

    def _check_room_overlaps(self, problems: _Problems) -> None:
        # A block and its own sessions share a room by design; anything else in the same room at
        # the same time is a double booking.
        indexed = list(enumerate(self.items))
        for a_pos, (a_index, a) in enumerate(indexed):
            for b_index, b in indexed[a_pos + 1 :]:
                if a.room is None or a.room != b.room or a.day != b.day:
                    continue
                if a.parent == b.code or b.parent == a.code:
                    continue
                if a.starts_at < b.ends_at and b.starts_at < a.ends_at:
                    problems.add(
                        ("items", b_index, "starts_at"),
                        f"{b.code} overlaps {a.code} (items[{a_index}]) in room {a.room!r}",
                    )


class Category(PackModel):
    code: Code = Field(description="Category code, carried in registration events.")
    name: Localized = Field(description="Category name.")
    description: Localized | None = Field(None, description="Who belongs to the category.")
    sector: Code | None = Field(
        None,
        description=(
            "The sector its participants are counted under in reports (the Memoria's "
            "participation by sector); unset: counted as `other`."
        ),
        examples=["private"],
    )
    requires_approval: bool = Field(
        description="Sign-ups wait for the secretariat's accreditation before being confirmed."
    )
    capacity: int | None = Field(
        None, ge=0, description="Most confirmed participants; unset means unlimited."
    )
    uses_delegation_quota: bool = Field(
        False, description="Sign-ups count against their country's delegation quota."
    )
    badge_colour: HexColour = Field(description="Badge colour.")
    accreditation_fields: tuple[Code, ...] = Field(
        (),
        description=(
            "Participant fields whose change after approval sends the person back to pending "
            "approval."
        ),
        examples=[["category", "country", "organisation", "given_name", "family_name"]],
    )


class Country(PackModel):
    code: CountryCode = Field(description="ISO 3166-1 alpha-2 code.")
    name: Localized = Field(description="Country name.")
    status: Literal["member", "observer"] = Field(description="Standing in the convening body.")
    delegation_quota: int = Field(
        ge=0, description="Default number of official delegates the country may accredit."
    )


class Zone(PackModel):
    code: Code = Field(description="Expo zone code.", examples=["finance"])
    name: Localized = Field(description="Zone name on the floor plan.")


class ExhibitorType(PackModel):
    code: Code = Field(description="Exhibitor type code.", examples=["company"])
    name: Localized = Field(description="Exhibitor type name.")
    zone: Code = Field(description="Default expo zone for this type.")
    uses_sectors: bool = Field(
        False, description="Exhibitors of this type declare a sector, whose zone wins over `zone`."
    )


class Sector(PackModel):
    code: Code = Field(description="Business sector code.", examples=["finance_remittances"])
    name: Localized = Field(description="Sector name.")
    zone: Code = Field(description="Expo zone where companies of this sector are placed.")


class JobFair(PackModel):
    enabled: bool = Field(description="Whether the job fair runs.")
    name: Localized = Field(description="Job fair name.")
    description: Localized = Field(description="What the job fair offers.")
    zone: Code | None = Field(None, description="Expo zone hosting the job fair.")


class Booth(PackModel):
    code: DisplayCode = Field(description="Booth code on the floor plan.", examples=["F01"])
    zone: Code = Field(description="Expo zone the booth belongs to.")
    x: int = Field(ge=0, description="Left edge on the floor grid.")
    y: int = Field(ge=0, description="Top edge on the floor grid.")
    width: int = Field(gt=0, description="Width in grid units.")
    height: int = Field(gt=0, description="Depth in grid units.")
    size_m2: Decimal = Field(gt=0, description="Floor area in square metres.")
    tier: Literal["standard", "premium", "sponsor"] = Field(description="Booth tier.")
    price_usd: Money = Field(description="Price in US dollars.")

    def overlaps(self, other: Booth) -> bool:
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )


class FloorArea(PackModel):
    x: int = Field(ge=0, description="Left edge on the floor grid.")
    y: int = Field(ge=0, description="Top edge on the floor grid.")
    width: int = Field(gt=0, description="Width in grid units.")
    height: int = Field(gt=0, description="Depth in grid units.")


class Floor(PackModel):
    """The hall around the booths, for the floor plan. Every field is optional: the plan derives
    a hall from the booths' extent, puts the stage past the last row and the entrance on the far
    wall."""

    width: int | None = Field(None, gt=0, description="Hall width in grid units.")
    depth: int | None = Field(None, gt=0, description="Hall depth in grid units.")
    entrance: FloorArea | None = Field(
        None, description="The entrance, an opening on the hall's wall."
    )
    stage: FloorArea | None = Field(None, description="The expo stage.")


class BudgetLine(PackModel):
    code: Code = Field(description="Budget line code.", examples=["consultancies"])
    name: Localized = Field(description="Budget line name.")
    amount: Money = Field(description="Planned amount in the budget currency.")


class Budget(PackModel):
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code.")
    total: Money = Field(description="Total planned cost.")
    lines: tuple[BudgetLine, ...] = Field(min_length=1, description="Planned cost by line.")

    @model_validator(mode="after")
    def _check(self) -> Budget:
        problems = _Problems()
        problems.unique_codes(("lines",), self.lines)
        lines_sum = sum((line.amount for line in self.lines), Decimal(0))
        if lines_sum != self.total:
            problems.add(
                ("total",),
                f"budget lines add up to {lines_sum:,} {self.currency} "
                f"but the total is {self.total:,} {self.currency}",
            )
        problems.raise_if_any()
        return self


class Product(PackModel):
    code: Code = Field(description="Product code.", examples=["memoria"])
    name: Localized = Field(description="Product name.")
    description: Localized = Field(description="What the product contains.")


class EventPack(PackModel):
    """One forum, complete: what every service reads at start-up."""

    forum: Forum = Field(description="Identity, venue, dates and purpose of the forum.")
    programme: Programme = Field(description="Rooms, days and agenda.")
    categories: tuple[Category, ...] = Field(min_length=1, description="Participant categories.")
    countries: tuple[Country, ...] = Field(
        min_length=1, description="Member and observer countries."
    )
    zones: tuple[Zone, ...] = Field(description="Expo zones.")
    exhibitor_types: tuple[ExhibitorType, ...] = Field(description="Kinds of exhibitor.")
    sectors: tuple[Sector, ...] = Field(description="Business sectors of exhibiting companies.")
    job_fair: JobFair = Field(description="The job fair inside the expo.")
    booths: tuple[Booth, ...] = Field(description="Booth inventory of the expo floor.")
    floor: Floor = Field(
        default_factory=Floor, description="The hall, its entrance and stage (floor plan)."
    )
    budget: Budget = Field(description="Planned budget.")
    products: tuple[Product, ...] = Field(description="Documents the forum produces.")

    # -- look-ups --

    def category(self, code: str) -> Category | None:
        return _find(self.categories, code)

    def country(self, code: str) -> Country | None:
        return _find(self.countries, code.upper())

    def zone(self, code: str) -> Zone | None:
        return _find(self.zones, code)

    def exhibitor_type(self, code: str) -> ExhibitorType | None:
        return _find(self.exhibitor_types, code)

    def sector(self, code: str) -> Sector | None:
        return _find(self.sectors, code)

    def booth(self, code: str) -> Booth | None:
        return _find(self.booths, code)

    def product(self, code: str) -> Product | None:
        return _find(self.products, code)

    def forum_dates(self) -> list[date]:
        return self.forum.dates

    def item_datetimes(self, item: ProgrammeItem) -> tuple[datetime, datetime]:
        """Aware start and end of a programme item, in the forum's time zone."""
        day = self.forum.dates[item.day]
        tz = self.forum.tz
        return datetime.combine(day, item.starts_at, tz), datetime.combine(day, item.ends_at, tz)

    def localized(self, text: Localized, lang: str | None = None) -> str:
        """`text` in `lang`, or in the forum's default language when `lang` is not offered."""
        chosen = lang if lang in self.forum.languages else self.forum.default_language
        return text.get(chosen)

    # -- consistency --

    @model_validator(mode="after")
    def _check(self) -> EventPack:
        problems = _Problems()
        for name in (
            "categories",
            "countries",
            "zones",
            "exhibitor_types",
            "sectors",
            "booths",
            "products",
        ):
            problems.unique_codes((name,), getattr(self, name))

        if self.country(self.forum.host_country) is None:
            problems.add(
                ("forum", "host_country"), f"{self.forum.host_country!r} is not in countries"
            )

        days = self.forum.days
        for index, day in enumerate(self.programme.days):
            if day.index >= days:
                problems.add(
                    ("programme", "days", index, "index"),
                    f"day {day.index} is beyond the forum's {days} day(s)",
                )
        for index, item in enumerate(self.programme.items):
            if item.day >= days:
                problems.add(
                    ("programme", "items", index, "day"),
                    f"day {item.day} is beyond the forum's {days} day(s)",
                )

        zones = {zone.code for zone in self.zones}

        def zone_exists(loc: Loc, code: str | None) -> None:
            if code is not None and code not in zones:
                problems.add(loc, f"unknown zone {code!r}")

        for name in ("exhibitor_types", "sectors", "booths"):
            for index, entry in enumerate(getattr(self, name)):
                zone_exists((name, index, "zone"), entry.zone)
        zone_exists(("job_fair", "zone"), self.job_fair.zone)

        for b_pos, booth in enumerate(self.booths):
            for a_pos in range(b_pos):
                if self.booths[a_pos].overlaps(booth):
                    problems.add(
                        ("booths", b_pos),
                        f"{booth.code} overlaps {self.booths[a_pos].code} on the floor grid",
                    )
        problems.raise_if_any()
        return self


def _raise_one(loc: Loc, message: str) -> None:
    problems = _Problems()
    problems.add(loc, message)
    problems.raise_if_any()
