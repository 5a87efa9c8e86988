"""The floor plan as SVG: the hall with its entrance, stage and aisles, the booths coloured by
zone with their numbers, a scale bar, the zone legend and an exhibitor index beside the plan.

Built with ElementTree, so every name is escaped by the serializer (an exhibitor called
`<script>` is text, never markup). Pure: takes the pack and the booth documents, returns text.

One grid unit of the pack's floor is one metre in the bundled pack (a 3 x 3 booth is 9 m2); the
scale bar does not assume it but reads it from the booths' `size_m2` against their grid size.
Colours come from one place (`zone_colours`): a booth is filled with its zone's colour and the
legend's swatch is that very colour; a booth still free is hatched over, not paler.
"""

from __future__ import annotations

import itertools
import math
import statistics
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shared import i18n
from shared.pack import EventPack
from shared.pack.model import FloorArea

SVG_NS = "http://www.w3.org/2000/svg"
SCALE = 20  # pixels per grid unit
MARGIN = 24
HEADER = 44
ROW = 18  # legend and index line height
INDEX_GAP = 32
INDEX_WIDTH = 300
FREE_PATTERN = "free-booth"
# Mid-tone tints: dark text stays readable on every one of them.
PALETTE = (
    "#90CAF9",
    "#A5D6A7",
    "#CE93D8",
    "#FFCC80",
    "#80DEEA",
    "#EF9A9A",
    "#BCAAA4",
    "#FFF59D",
    "#B0BEC5",
    "#F48FB1",
    "#C5E1A5",
    "#9FA8DA",
)
UNKNOWN_ZONE = "#E0E0E0"
FREE_SWATCH = "#9E9E9E"  # the legend's "available" sample: no zone's colour
AISLE = "#ECEFF1"
STAGE = "#37474F"
ENTRANCE = "#2E7D32"

# The plan's words: English here, the other languages from `services/expo/locale/<lang>.po`.
WORDS: dict[str, str] = {
    "plan": "Expo floor plan",
    "entrance": "Entrance",
    "stage": "Stage",
    "aisle": "Aisle",
    "legend": "Zones",
    "free": "Available booth (hatched)",
    "index": "Exhibitor index",
    "no_exhibitors": "No booths assigned yet.",
    "scale": "Scale",
    "desc": (
        "Expo floor plan: {booths} booths in {zones} zones, {assigned} assigned. "
        "The entrance, the stage, the aisles and a scale in metres are shown; "
        "the exhibitor index is to the right of the plan."
    ),
}
FLOOR_WORDS = i18n.Words(WORDS, Path(__file__).resolve().parents[1] / "locale")


def label(key: str, lang: str) -> str:
    return str(FLOOR_WORDS[lang][key])


def zone_colours(pack: EventPack) -> dict[str, str]:
    """The one colour source: booths and legend both read it."""
    return {zone.code: PALETTE[index % len(PALETTE)] for index, zone in enumerate(pack.zones)}


def metres_per_unit(pack: EventPack) -> float:
    """From the booths' declared areas against their grid sizes (1.0 when there are none)."""
    ratios = [math.sqrt(float(b.size_m2) / (b.width * b.height)) for b in pack.booths]
    return statistics.median(ratios) if ratios else 1.0


def _el(parent: ET.Element, tag: str, attrs: dict[str, Any], text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{SVG_NS}}}{tag}", {k: str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _aisles(booths: list[dict[str, Any]], depth: int) -> list[tuple[int, int]]:
    """Horizontal bands (top, bottom) free of booths between and after the booth rows."""
    bands: list[list[int]] = []
    for top, bottom in sorted((b["y"], b["y"] + b["height"]) for b in booths):
        if bands and top <= bands[-1][1]:
            bands[-1][1] = max(bands[-1][1], bottom)
        else:
            bands.append([top, bottom])
    gaps = [(a[1], b[0]) for a, b in itertools.pairwise(bands)]
    if bands and bands[-1][1] < depth:
        gaps.append((bands[-1][1], depth))
    return gaps


def render_floor_plan(pack: EventPack, booths: Iterable[dict[str, Any]], lang: str = "es") -> str:
    """`booths`: documents with code, zone, x, y, width, height, tier and, when assigned,
    `exhibitor_name`."""
    booths = sorted(booths, key=lambda b: (b["y"], b["x"], b["code"]))
    colours = zone_colours(pack)
    floor = pack.floor
    extent_w = max((b["x"] + b["width"] for b in booths), default=10)
    extent_h = max((b["y"] + b["height"] for b in booths), default=10)
    hall_w = max(floor.width or extent_w, extent_w)
    hall_d = max(floor.depth or extent_h + 6, extent_h)
    # Without the pack's word: the stage past the last row, the entrance on the far wall.
    stage = floor.stage or FloorArea(
        x=0, y=min(extent_h + 2, hall_d - 1), width=min(8, hall_w), height=1
    )
    entrance = floor.entrance or FloorArea(
        x=max(0, hall_w - 5), y=hall_d - 1, width=min(4, hall_w), height=1
    )
    unit_m = metres_per_unit(pack)

    plan_x, plan_y = MARGIN, HEADER
    plan_w, plan_h = hall_w * SCALE, hall_d * SCALE
    index_x = plan_x + plan_w + INDEX_GAP
    assigned = sorted(
        ((b["code"], b["exhibitor_name"]) for b in booths if b.get("exhibitor_name")),
        key=lambda pair: pair[0],
    )
    scale_y = plan_y + plan_h + 40
    index_h = ROW * (max(len(assigned), 1) + 1)
    # The legend goes under the index, in the column beside the plan.
    legend_x, legend_y = index_x, plan_y + 12 + index_h + 24
    legend_h = ROW * (len(pack.zones) + 2)
    width = index_x + INDEX_WIDTH + MARGIN
    height = max(legend_y + legend_h, scale_y + 12) + MARGIN

    ET.register_namespace("", SVG_NS)
    svg = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "font-family": "sans-serif",
            "role": "img",
            "lang": lang,
            "aria-labelledby": "floor-plan-title floor-plan-desc",
        },
    )
    title = f"{pack.localized(pack.forum.short_name, lang)} · {label('plan', lang)}"
    _el(svg, "title", {"id": "floor-plan-title"}, title)
    description = label("desc", lang).format(
        booths=len(booths), zones=len(pack.zones), assigned=len(assigned)
    )
    _el(svg, "desc", {"id": "floor-plan-desc"}, description)
    defs = _el(svg, "defs", {})
    pattern = _el(
        defs,
        "pattern",
        {
            "id": FREE_PATTERN,
            "width": 6,
            "height": 6,
            "patternUnits": "userSpaceOnUse",
            "patternTransform": "rotate(45)",
        },
    )
    _el(pattern, "rect", {"width": 2, "height": 6, "fill": "#FFFFFF", "fill-opacity": "0.75"})
    _el(svg, "text", {"x": MARGIN, "y": 28, "font-size": 18, "font-weight": "bold"}, title)

    def px(x: float, y: float) -> tuple[float, float]:
        return plan_x + x * SCALE, plan_y + y * SCALE

    # The hall (its walls are drawn over the aisles, further down).
    hall = {"x": plan_x, "y": plan_y, "width": plan_w, "height": plan_h}
    _el(svg, "rect", hall | {"class": "hall", "fill": "#FAFAFA"})

    # Aisles between (and after) the booth rows.
    for top, bottom in _aisles(booths, hall_d):
        x, y = px(0, top)
        _el(
            svg,
            "rect",
            {"class": "aisle", "x": x, "y": y, "width": plan_w, "height": (bottom - top) * SCALE}
            | {"fill": AISLE},
        )
        _el(
            svg,
            "text",
            {"class": "aisle-label", "x": x + 6, "y": y + (bottom - top) * SCALE / 2 + 4}
            | {"font-size": 10, "fill": "#607D8B"},
            label("aisle", lang),
        )

    # The stage.
    sx, sy = px(stage.x, stage.y)
    group = _el(svg, "g", {"class": "stage", "id": "stage"})
    _el(
        group,
        "rect",
        {"x": sx, "y": sy, "width": stage.width * SCALE, "height": stage.height * SCALE}
        | {"rx": 4, "fill": STAGE},
    )
    _el(
        group,
        "text",
        {"x": sx + stage.width * SCALE / 2, "y": sy + stage.height * SCALE / 2 + 5}
        | {"font-size": 14, "font-weight": "bold", "fill": "#FFFFFF", "text-anchor": "middle"},
        label("stage", lang),
    )

    # Booths: zone colour, numbers, and the exhibitor's name when assigned.
    for booth in booths:
        x, y = px(booth["x"], booth["y"])
        w, h = booth["width"] * SCALE, booth["height"] * SCALE
        name = booth.get("exhibitor_name")
        group = _el(
            svg,
            "g",
            {
                "class": "booth assigned" if name else "booth free",
                "id": f"booth-{booth['code']}",
                "data-zone": booth["zone"],
                "data-tier": booth["tier"],
            },
        )
        zone = pack.zone(booth["zone"])
        tooltip = f"{booth['code']} · {pack.localized(zone.name, lang) if zone else booth['zone']} · {booth['tier']}"
        _el(group, "title", {}, f"{tooltip} · {name}" if name else tooltip)
        box = {"x": x + 1, "y": y + 1, "width": w - 2, "height": h - 2, "rx": 3}
        _el(
            group,
            "rect",
            box
            | {
                "class": "booth-fill",
                "fill": colours.get(booth["zone"], UNKNOWN_ZONE),
                "stroke": "#212121",
                "stroke-width": 2 if booth["tier"] == "sponsor" else 1,
            },
        )
        if not name:
            _el(group, "rect", box | {"class": "free-hatch", "fill": f"url(#{FREE_PATTERN})"})
        _el(
            group,
            "text",
            {"class": "booth-number", "x": x + 4, "y": y + 14}
            | {"font-size": 11, "font-weight": "bold", "fill": "#212121"},
            booth["code"],
        )
        # A name that would have to be squeezed to less than half its width is left to the index
        # beside the plan (and the booth's title): unreadable text helps nobody.
        if name and len(name) * 5.5 <= 2 * (w - 8):
            text = _el(
                group,
                "text",
                {"class": "exhibitor", "x": x + 4, "y": y + h / 2 + 8, "font-size": 9}
                | {"fill": "#212121"},
                name,
            )
            if len(name) * 5.5 > w - 8:  # squeeze long names into the booth instead of cutting
                text.set("textLength", str(w - 8))
                text.set("lengthAdjust", "spacingAndGlyphs")

    _el(
        svg,
        "rect",
        hall | {"class": "walls", "fill": "none", "stroke": "#616161"} | {"stroke-width": 3},
    )

    # The entrance: an opening in the wall, an arrow pointing in, its name outside.
    ex, ey = px(entrance.x, entrance.y)
    ew, eh = entrance.width * SCALE, entrance.height * SCALE
    group = _el(svg, "g", {"class": "entrance", "id": "entrance"})
    _el(
        group,
        "rect",
        {"x": ex, "y": ey, "width": ew, "height": eh, "fill": "#FFFFFF"}
        | {"stroke": ENTRANCE, "stroke-width": 3},
    )
    cx = ex + ew / 2
    on_bottom = entrance.y + entrance.height >= hall_d
    tip, base = (ey - 4, ey + eh - 2) if on_bottom else (ey + eh + 4, ey + 2)
    _el(
        group,
        "path",
        {"d": f"M {cx - 8} {base} L {cx + 8} {base} L {cx} {tip} Z", "fill": ENTRANCE},
    )
    _el(
        group,
        "text",
        {"x": cx, "y": (ey + eh + 18) if on_bottom else (ey - 6), "text-anchor": "middle"}
        | {"font-size": 12, "font-weight": "bold", "fill": ENTRANCE},
        label("entrance", lang),
    )

    # Scale bar: a round number of metres, at most about ten metres' worth of grid.
    metres = next((m for m in (20, 10, 5, 2, 1) if m / unit_m * SCALE <= min(240, plan_w)), 1)
    bar = metres / unit_m * SCALE
    group = _el(svg, "g", {"class": "scale-bar", "id": "scale-bar", "data-metres": metres})
    _el(group, "rect", {"x": MARGIN, "y": scale_y, "width": bar, "height": 6, "fill": "#212121"})
    _el(
        group,
        "rect",
        {"x": MARGIN, "y": scale_y, "width": bar / 2, "height": 6, "fill": "#FFFFFF"}
        | {"stroke": "#212121"},
    )
    _el(group, "text", {"x": MARGIN, "y": scale_y - 4, "font-size": 10}, "0")
    _el(
        group,
        "text",
        {"x": MARGIN + bar, "y": scale_y - 4, "font-size": 10, "text-anchor": "middle"},
        f"{metres} m",
    )
    _el(
        group,
        "text",
        {"x": MARGIN + bar + 16, "y": scale_y + 7, "font-size": 10, "fill": "#616161"},
        label("scale", lang),
    )

    # Zone legend, in the booths' own colours.
    legend = _el(svg, "g", {"class": "legend", "id": "legend"})
    _el(
        legend,
        "text",
        {"x": legend_x, "y": legend_y, "font-size": 12, "font-weight": "bold"},
        label("legend", lang),
    )
    for index, zone in enumerate(pack.zones):
        y = legend_y + (index + 1) * ROW - 10
        item = _el(legend, "g", {"class": "legend-item", "data-zone": zone.code})
        _el(
            item,
            "rect",
            {"x": legend_x, "y": y, "width": 14, "height": 12, "fill": colours[zone.code]}
            | {"stroke": "#212121", "stroke-width": 0.5},
        )
        _el(
            item,
            "text",
            {"x": legend_x + 20, "y": y + 10, "font-size": 11},
            pack.localized(zone.name, lang),
        )
    y = legend_y + (len(pack.zones) + 1) * ROW - 10
    item = _el(legend, "g", {"class": "legend-free"})
    _el(
        item,
        "rect",
        {"x": legend_x, "y": y, "width": 14, "height": 12, "fill": FREE_SWATCH, "stroke": "#212121"}
        | {"stroke-width": 0.5},
    )
    _el(
        item,
        "rect",
        {"x": legend_x, "y": y, "width": 14, "height": 12} | {"fill": f"url(#{FREE_PATTERN})"},
    )
    _el(item, "text", {"x": legend_x + 20, "y": y + 10, "font-size": 11}, label("free", lang))

    # Exhibitor index beside the plan: booth → exhibitor, by booth number.
    index_group = _el(svg, "g", {"class": "exhibitor-index", "id": "exhibitor-index"})
    _el(
        index_group,
        "text",
        {"x": index_x, "y": plan_y + 12, "font-size": 13, "font-weight": "bold"},
        label("index", lang),
    )
    if not assigned:
        _el(
            index_group,
            "text",
            {"x": index_x, "y": plan_y + 12 + ROW, "font-size": 11, "fill": "#616161"},
            label("no_exhibitors", lang),
        )
    for row, (code, name) in enumerate(assigned, start=1):
        y = plan_y + 12 + row * ROW
        entry = _el(index_group, "g", {"class": "index-entry", "data-booth": code})
        _el(entry, "text", {"x": index_x, "y": y, "font-size": 11, "font-weight": "bold"}, code)
        text = _el(
            entry,
            "text",
            {"class": "index-name", "x": index_x + 40, "y": y} | {"font-size": 11},
            name,
        )
        if len(name) * 6 > INDEX_WIDTH - 44:
            text.set("textLength", str(INDEX_WIDTH - 44))
            text.set("lengthAdjust", "spacingAndGlyphs")
    return ET.tostring(svg, encoding="unicode", xml_declaration=False)
