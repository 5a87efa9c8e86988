"""The expo floor plan (services/expo/booths/floorplan.py), read as a visitor would: entrance,
stage, aisles and a scale; the legend in the booths' own colours; booth numbers; an index of
every assigned booth; accessible; in Spanish and in English."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from defusedxml import ElementTree as SafeET

from services.expo.booths.floorplan import FLOOR_WORDS, metres_per_unit, render_floor_plan
from shared.pack import load_pack
from shared.pack.model import Floor

PACK = load_pack()
NS = "{http://www.w3.org/2000/svg}"
NAMES = {
    "G04": "Textiles del Istmo",
    "F01": "Banco Agrícola",
    "C01": "Zeta & <Co>",
    "T02": "Aerovías",
}


def booth_documents(names: dict[str, str] = NAMES) -> list[dict[str, Any]]:
    return [
        {
            "code": b.code,
            "zone": b.zone,
            "tier": b.tier,
            "x": b.x,
            "y": b.y,
            "width": b.width,
            "height": b.height,
            "exhibitor_name": names.get(b.code),
        }
        for b in PACK.booths
    ]


def render(lang: str = "es", names: dict[str, str] = NAMES, pack: Any = PACK) -> ET.Element:
    root: ET.Element = SafeET.fromstring(render_floor_plan(pack, booth_documents(names), lang))
    return root


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if name in (el.get("class") or "").split()]


def texts(element: ET.Element) -> list[str]:
    return [el.text or "" for el in element.iter(f"{NS}text")]


def test_legend_colours_are_the_booth_fills_of_each_zone() -> None:
    root = render()
    fills: dict[str, set[str]] = {}
    for booth in by_class(root, "booth"):
        (rect,) = by_class(booth, "booth-fill")
        fills.setdefault(booth.get("data-zone", ""), set()).add(rect.get("fill", ""))
    legend = {
        item.get("data-zone"): item.find(f"{NS}rect").get("fill")  # type: ignore[union-attr]
        for item in by_class(root, "legend-item")
    }
    assert set(legend) == {zone.code for zone in PACK.zones}
    for zone, colours in fills.items():
        assert colours == {legend[zone]}, zone  # one colour per zone, the legend's very one
    assert len(set(legend.values())) == len(legend)  # zones told apart


def test_entrance_stage_aisles_and_scale_are_drawn() -> None:
    root = render("en")
    (entrance,) = by_class(root, "entrance")
    (stage,) = by_class(root, "stage")
    assert "Entrance" in texts(entrance) and "Stage" in texts(stage)
    aisles = by_class(root, "aisle")
    assert len(aisles) >= 3  # between the four rows of booths, and before the entrance
    (scale,) = by_class(root, "scale-bar")
    metres = int(scale.get("data-metres", "0"))
    assert f"{metres} m" in texts(scale)
    bar = max(float(rect.get("width", "0")) for rect in scale.iter(f"{NS}rect"))
    assert bar == metres / metres_per_unit(PACK) * 20  # 20 px per grid unit


def test_one_grid_unit_is_one_metre_in_the_bundled_pack() -> None:
    assert metres_per_unit(PACK) == 1.0


def test_every_booth_shows_its_number() -> None:
    root = render()
    numbers = [text for b in by_class(root, "booth") for text in texts(b)[:1]]
    assert sorted(numbers) == sorted(b.code for b in PACK.booths)


def test_the_index_lists_every_assigned_booth_sorted_by_booth() -> None:
    root = render()
    (index,) = by_class(root, "exhibitor-index")
    entries = [(e.get("data-booth"), texts(e)) for e in by_class(index, "index-entry")]
    assert entries == [(code, [code, NAMES[code]]) for code in sorted(NAMES)]


def test_an_empty_floor_says_so_in_the_index() -> None:
    (index,) = by_class(render("en", names={}), "exhibitor-index")
    assert FLOOR_WORDS["en"]["no_exhibitors"] in texts(index)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_labels_are_in_the_requested_language(lang: str) -> None:
    root = render(lang)
    words = set(texts(root))
    for key in ("entrance", "stage", "aisle", "legend", "index", "free", "scale"):
        assert FLOOR_WORDS[lang][key] in words, key
    other = "en" if lang == "es" else "es"
    for key in ("entrance", "stage", "index"):
        assert FLOOR_WORDS[other][key] not in words
    zone_names = {PACK.localized(zone.name, lang) for zone in PACK.zones}
    assert zone_names <= words


@pytest.mark.parametrize("lang", ["es", "en"])
def test_accessible_svg(lang: str) -> None:
    root = render(lang)
    assert root.get("role") == "img" and root.get("lang") == lang
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and title.text and desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert f"{len(PACK.booths)} " in desc.text and " 4 " in desc.text


def test_a_pack_without_a_floor_section_still_gets_an_entrance_and_a_stage() -> None:
    bare = PACK.model_copy(update={"floor": Floor()})
    root = render("es", pack=bare)
    assert by_class(root, "entrance") and by_class(root, "stage") and by_class(root, "aisle")


def test_a_name_too_long_for_its_booth_is_left_to_the_index() -> None:
    long_name = "Organización Internacional para las Migraciones (OIM)"
    root = render("es", names={"G02": long_name, "I01": "Aerolíneas del Istmo"})
    (small,) = [b for b in by_class(root, "booth") if b.get("id") == "booth-G02"]
    assert texts(small) == ["G02"]  # its number only; the name is in its title and the index
    assert long_name in (small.findtext(f"{NS}title") or "")
    (wide,) = [b for b in by_class(root, "booth") if b.get("id") == "booth-I01"]
    assert texts(wide) == ["I01", "Aerolíneas del Istmo"]
    (index,) = by_class(root, "exhibitor-index")
    assert long_name in texts(index)
