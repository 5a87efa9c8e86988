"""The event pack: the bundled CRM forum loads, and a broken pack says where and why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from shared.pack import DEFAULT_PACK, EventPack, PackError, load_pack

# libyaml keeps these tests fast; the pure-Python fallback only matters where it is missing.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

CRM_MEMBERS = {"BZ", "CA", "CR", "DO", "SV", "GT", "HN", "MX", "NI", "PA", "US"}


@pytest.fixture(scope="module")
def pack() -> EventPack:
    return load_pack()


def default_data() -> dict[str, Any]:
    return yaml.load(DEFAULT_PACK.read_text(encoding="utf-8"), Loader=_Loader)


def write_pack(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = default_data()
    change(data)
    path = tmp_path / "pack.yaml"
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def pack_error(path: Path, **kwargs: Any) -> str:
    with pytest.raises(PackError) as caught:
        load_pack(path, **kwargs)
    return str(caught.value)


# --- the default pack ---------------------------------------------------------------------


def test_default_pack_loads_with_forum_identity(pack: EventPack) -> None:
    forum = pack.forum
    assert forum.id == "crm-foro-sector-privado-migraciones"
    assert forum.name.es == "Foro: El Sector Privado y las Migraciones"
    assert forum.host_country == "SV"
    assert forum.venue.city == "San Salvador" and forum.venue.country == "SV"
    assert forum.time_zone == "America/El_Salvador"
    assert forum.days == 2
    assert forum.default_language == "es" and forum.languages == ("es", "en")
    assert {partner.code for partner in forum.partners} == {"iom", "sv_private_sector"}
    assert pack.forum_dates() == [date(2004, 11, 18), date(2004, 11, 19)]


def test_budget_adds_up_to_forty_thousand_dollars(pack: EventPack) -> None:
    assert pack.budget.currency == "USD"
    assert pack.budget.total == Decimal(40000)
    amounts = {line.code: line.amount for line in pack.budget.lines}
    assert amounts == {
        "consultancies": 20000,
        "equipment_refreshments": 10000,
        "panelist_support": 5000,
        "communications_publication": 5000,
    }
    assert sum(amounts.values()) == pack.budget.total


def test_four_thematic_blocks_carry_their_sub_topics(pack: EventPack) -> None:
    programme = pack.programme
    blocks = [item for item in programme.items if item.kind == "block"]
    assert [block.code for block in blocks] == ["B1", "B2", "B3", "B4"]
    assert [block.day for block in blocks] == [0, 0, 1, 1]
    assert blocks[0].title.es == "Entendiéndonos: Algunos Criterios Básicos"
    assert blocks[1].title.es == "El sector privado como socio del binomio migración-desarrollo"
    assert blocks[2].title.es.startswith("Experiencias Exitosas de Alianzas Público-Privadas")
    assert blocks[3].title.es.startswith("Construyendo un mejor futuro para nuestros migrantes")

    def session_titles(code: str) -> list[str]:
        return [item.title.es for item in programme.children(code)]

    assert session_titles("B1") == [
        "El Fenómeno Migratorio",
        "Incidencia en países de origen",
        "Impacto en países de destino",
        "Oportunidades y amenazas en torno al fenómeno migratorio",
    ]
    assert len(session_titles("B2")) == 6 and "Las remesas" in session_titles("B2")
    solidarity = programme.item("B2.6")
    assert solidarity is not None and solidarity.title.es == "Solidaridad empresarial"
    assert [topic.title.es for topic in solidarity.topics] == [
        "Ayuda humanitaria",
        "Campañas de información",
        "Retorno y reinserción",
        "Repatriación",
        "Educación y cultura",
    ]
    assert len(session_titles("B3")) == 1
    assert session_titles("B4") == ["Conclusiones y algunas líneas de acción"]


def test_forum_and_expo_open_on_day_one_and_close_on_day_two(pack: EventPack) -> None:
    kinds = {item.kind: item.day for item in pack.programme.items}
    assert kinds["inauguration"] == 0 and kinds["expo_opening"] == 0 and kinds["closing"] == 1
    assert all(day.expo_hours is not None for day in pack.programme.days)


def test_every_crm_member_country_is_present(pack: EventPack) -> None:
    members = {country.code for country in pack.countries if country.status == "member"}
    assert members == CRM_MEMBERS
    observers = {country.code for country in pack.countries if country.status == "observer"}
    assert observers == {"AR", "CO", "EC", "JM", "PE"}
    host = pack.country("sv")
    assert host is not None and host.delegation_quota == 10 and host.name.en == "El Salvador"


def test_categories_match_the_concept_note(pack: EventPack) -> None:
    codes = {category.code for category in pack.categories}
    assert {
        "official_delegate",
        "business_association",
        "emigrant_association",
        "civil_society",
        "company",
        "international_organisation",
        "media",
        "speaker",
        "exhibitor_staff",
    } == codes
    approval = {category.code for category in pack.categories if category.requires_approval}
    assert approval == {"official_delegate", "media"}
    media = pack.category("media")
    assert media is not None and media.capacity == 40
    delegate = pack.category("official_delegate")
    assert delegate is not None and delegate.uses_delegation_quota
    assert "country" in delegate.accreditation_fields
    assert pack.category("tourist") is None


def test_every_category_says_the_sector_reports_count_it_under(pack: EventPack) -> None:
    sectors = {category.code: category.sector for category in pack.categories}
    assert sectors == {
        "official_delegate": "public",
        "business_association": "private",
        "company": "private",
        "exhibitor_staff": "private",
        "emigrant_association": "civil_society",
        "civil_society": "civil_society",
        "international_organisation": "international",
        "media": "media",
        "speaker": "speakers",
    }


def test_a_category_without_a_sector_loads(tmp_path: Path) -> None:
    def drop_sector(data: dict[str, Any]) -> None:
        del data["categories"][0]["sector"]

    pack = load_pack(write_pack(tmp_path, drop_sector))
    assert pack.categories[0].sector is None


def test_expo_sections_reference_existing_zones(pack: EventPack) -> None:
    zones = {zone.code for zone in pack.zones}
    assert 25 <= len(pack.booths) <= 40
    assert {booth.zone for booth in pack.booths} <= zones
    assert {sector.code for sector in pack.sectors} >= {
        "finance_remittances",
        "airlines_travel",
        "telephony_media",
        "real_estate",
        "paperwork_agencies",
        "trade_nostalgic_goods",
    }
    assert pack.job_fair.enabled and pack.job_fair.name.es == "Bolsa de trabajo"
    assert {product.code for product in pack.products} == {"base_document", "memoria"}


def test_localized_falls_back_to_the_default_language(pack: EventPack) -> None:
    assert pack.localized(pack.job_fair.name, "en") == "Job fair"
    assert pack.localized(pack.job_fair.name, "fr") == "Bolsa de trabajo"
    assert pack.localized(pack.job_fair.name) == "Bolsa de trabajo"


def test_programme_times_are_aware_in_the_forum_time_zone(pack: EventPack) -> None:
    opening = pack.programme.item("INAUG")
    assert opening is not None
    starts, _ = pack.item_datetimes(opening)
    assert starts == datetime(2004, 11, 18, 9, 0, tzinfo=ZoneInfo("America/El_Salvador"))


def test_pack_survives_a_json_round_trip(pack: EventPack) -> None:
    assert EventPack.model_validate(pack.model_dump(mode="json")) == pack


# --- overrides ----------------------------------------------------------------------------


def test_override_moves_the_forum_dates() -> None:
    moved = load_pack(overrides={"forum.start_date": "2026-11-18"})
    assert moved.forum_dates() == [date(2026, 11, 18), date(2026, 11, 19)]
    assert load_pack().forum.start_date == date(2004, 11, 18)


def test_override_addresses_list_entries() -> None:
    moved = load_pack(overrides={"categories[6].capacity": "25", "countries.0.delegation_quota": 2})
    assert moved.categories[6].capacity == 25
    assert moved.countries[0].delegation_quota == 2


def test_invalid_override_value_is_reported_as_such() -> None:
    message = pack_error(DEFAULT_PACK, overrides={"forum.start_date": "18/11/2026"})
    assert "pack.yaml: forum.start_date:" in message
    assert "(set by override)" in message


def test_override_into_a_missing_list_entry_fails() -> None:
    message = pack_error(DEFAULT_PACK, overrides={"categories[99].capacity": 1})
    assert "categories[99]" in message and "no such list entry" in message


# --- broken packs ---------------------------------------------------------------------------


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text("forum:\n  id: x\n name: [unclosed\n", encoding="utf-8")
    message = pack_error(path)
    assert message.startswith(f"{path}: line 3, column 2: invalid YAML")


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text("forum:\n  id: a\n  id: b\n", encoding="utf-8")
    assert "duplicate key 'id'" in pack_error(path)


def test_non_mapping_pack_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    assert "must be a mapping" in pack_error(path)


def test_missing_file_is_a_pack_error(tmp_path: Path) -> None:
    assert "cannot read the pack" in pack_error(tmp_path / "absent.yaml")


def test_wrong_type_names_file_path_and_reason(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["categories"][3]["capacity"] = "lots"

    path = write_pack(tmp_path, change)
    message = pack_error(path)
    assert f"{path}: categories[3].capacity: Input should be a valid integer" in message
    assert "(line " in message


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["countries"][2]["flag"] = "CR.png"

    message = pack_error(write_pack(tmp_path, change))
    assert "pack.yaml: countries[2].flag: Extra inputs are not permitted" in message


def test_every_problem_gets_its_own_line(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["categories"][0]["badge_colour"] = "blue"
        data["zones"][1]["name"]["en"] = ""

    lines = pack_error(write_pack(tmp_path, change)).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{tmp_path / 'pack.yaml'}: categories[0].badge_colour:")
    assert lines[1].startswith(f"{tmp_path / 'pack.yaml'}: zones[1].name.en:")


def test_budget_that_does_not_add_up_names_both_numbers(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["budget"]["lines"][0]["amount"] = 15000

    message = pack_error(write_pack(tmp_path, change))
    assert "pack.yaml: budget.total:" in message
    assert "35,000" in message and "40,000" in message


def test_dangling_room_reference_is_refused(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["programme"]["items"][3]["room"] = "ballroom"

    message = pack_error(write_pack(tmp_path, change))
    assert "pack.yaml: programme.items[3].room: unknown room 'ballroom'" in message


def test_cross_references_between_sections_are_checked(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["booths"][1]["zone"] = "nowhere"
        data["sectors"][0]["zone"] = "nowhere"
        data["countries"][4]["code"] = "GT"  # drops the host, duplicates Guatemala
        data["programme"]["items"][0]["day"] = 2

    message = pack_error(write_pack(tmp_path, change))
    assert "booths[1].zone: unknown zone 'nowhere'" in message
    assert "sectors[0].zone: unknown zone 'nowhere'" in message
    assert "countries[5].code: duplicate code 'GT'" in message
    assert "forum.host_country: 'SV' is not in countries" in message
    assert "programme.items[0].day: day 2 is beyond the forum's 2 day(s)" in message


def test_item_must_end_after_it_starts(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["programme"]["items"][0]["ends_at"] = "08:00"

    message = pack_error(write_pack(tmp_path, change))
    assert "programme.items[0].ends_at: must be after starts_at" in message


def test_sessions_stay_inside_their_block_and_rooms_are_not_double_booked(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        items = data["programme"]["items"]
        items[4]["starts_at"] = "10:00"  # B1.1 before its block B1 starts
        items[1].update(room="plenary", starts_at="09:30")  # expo opening during the inauguration

    message = pack_error(write_pack(tmp_path, change))
    assert "programme.items[4].starts_at: 10:00-11:00 falls outside block 'B1'" in message
    assert (
        "programme.items[1].starts_at: EXPO-OPEN overlaps INAUG (items[0]) in room 'plenary'"
        in message
    )


def test_unquoted_time_is_refused_rather_than_read_as_seconds(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    text = DEFAULT_PACK.read_text(encoding="utf-8")
    text = text.replace('starts_at: "10:30"', "starts_at: 10:30", 1)
    path.write_text(text, encoding="utf-8")
    assert 'write times as quoted "HH:MM" strings' in pack_error(path)


def test_unknown_time_zone_is_refused() -> None:
    message = pack_error(DEFAULT_PACK, overrides={"forum.time_zone": "America/Atlantis"})
    assert "forum.time_zone: unknown IANA time zone 'America/Atlantis'" in message


def test_registration_window_must_be_ordered_and_before_the_end() -> None:
    message = pack_error(
        DEFAULT_PACK,
        overrides={
            "forum.registration_opens_at": "2004-11-01T08:00:00-06:00",
            "forum.registration_closes_at": "2004-10-01T08:00:00-06:00",
        },
    )
    assert "forum.registration_closes_at: must be after registration_opens_at" in message
    naive = pack_error(DEFAULT_PACK, overrides={"forum.registration_opens_at": "2004-11-01T08:00"})
    assert "forum.registration_opens_at: Input should have timezone info" in naive


def test_unset_registration_close_means_the_end_of_the_forum_at_the_venue() -> None:
    forum = load_pack(overrides={"forum.start_date": "2026-11-18"}).forum
    venue = ZoneInfo("America/El_Salvador")
    assert forum.starts_at == datetime(2026, 11, 18, tzinfo=venue)
    assert forum.ends_at == datetime(2026, 11, 20, tzinfo=venue)  # midnight after the last day
    assert forum.registration_closes_at is None and forum.registration_closes == forum.ends_at
    windowed = load_pack(
        overrides={
            "forum.start_date": "2026-11-18",
            "forum.registration_closes_at": "2026-11-10T18:00:00-06:00",
        }
    ).forum
    assert windowed.registration_closes == datetime(2026, 11, 10, 18, tzinfo=venue)
    late = pack_error(
        DEFAULT_PACK, overrides={"forum.registration_closes_at": "2004-11-20T00:00:01-06:00"}
    )
    assert (
        "forum.registration_closes_at: is after the forum ends (2004-11-20T00:00:00-06:00)" in late
    )
