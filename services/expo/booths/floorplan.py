"""The floor plan as SVG: booths on the pack's grid, coloured by zone, with exhibitor names.

Built with ElementTree, so every name is escaped by the serializer (an exhibitor called
`<script>` is text, never markup). Pure: takes the pack and the booth documents, returns text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from shared.pack import EventPack

SVG_NS = "http://www.w3.org/2000/svg"
SCALE = 24  # pixels per grid unit (metre)
MARGIN = 24
HEADER = 40
LEGEND_ROW = 18
PALETTE = (
    "#1F4E79",
    "#2E7D32",
    "#6A1B9A",
    "#EF6C00",
    "#00838F",
    "#C62828",
    "#5D4037",
    "#F9A825",
    "#37474F",
    "#AD1457",
    "#558B2F",
    "#283593",
)


def zone_colours(pack: EventPack) -> dict[str, str]:
    return {zone.code: PALETTE[index % len(PALETTE)] for index, zone in enumerate(pack.zones)}


def render_floor_plan(pack: EventPack, booths: Iterable[dict[str, Any]], lang: str = "es") -> str:
    """`booths`: documents with code, zone, x, y, width, height, tier and, when assigned,
    `exhibitor_name`."""
    booths = sorted(booths, key=lambda b: (b["y"], b["x"], b["code"]))
    colours = zone_colours(pack)
    grid_w = max((b["x"] + b["width"] for b in booths), default=10)
    grid_h = max((b["y"] + b["height"] for b in booths), default=10)
    legend_h = LEGEND_ROW * (len(pack.zones) + 1)
    width = grid_w * SCALE + 2 * MARGIN
    height = HEADER + grid_h * SCALE + 2 * MARGIN + legend_h

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
        },
    )
    title = f"{pack.localized(pack.forum.short_name, lang)} · Expo"
    ET.SubElement(svg, f"{{{SVG_NS}}}title").text = title
    ET.SubElement(
        svg,
        f"{{{SVG_NS}}}text",
        {"x": str(MARGIN), "y": "28", "font-size": "18", "font-weight": "bold"},
    ).text = title
    ET.SubElement(
        svg,
        f"{{{SVG_NS}}}rect",
        {
            "x": str(MARGIN),
            "y": str(HEADER + MARGIN),
            "width": str(grid_w * SCALE),
            "height": str(grid_h * SCALE),
            "fill": "#FAFAFA",
            "stroke": "#9E9E9E",
        },
    )

    for booth in booths:
        x, y = MARGIN + booth["x"] * SCALE, HEADER + MARGIN + booth["y"] * SCALE
        w, h = booth["width"] * SCALE, booth["height"] * SCALE
        name = booth.get("exhibitor_name")
        group = ET.SubElement(
            svg,
            f"{{{SVG_NS}}}g",
            {
                "class": "booth assigned" if name else "booth free",
                "id": f"booth-{booth['code']}",
                "data-zone": booth["zone"],
                "data-tier": booth["tier"],
            },
        )
        zone = pack.zone(booth["zone"])
        tooltip = f"{booth['code']} · {pack.localized(zone.name, lang) if zone else booth['zone']} · {booth['tier']}"
        ET.SubElement(group, f"{{{SVG_NS}}}title").text = f"{tooltip} · {name}" if name else tooltip
        ET.SubElement(
            group,
            f"{{{SVG_NS}}}rect",
            {
                "x": str(x + 1),
                "y": str(y + 1),
                "width": str(w - 2),
                "height": str(h - 2),
                "rx": "3",
                "fill": colours.get(booth["zone"], "#757575"),
                "fill-opacity": "0.85" if name else "0.25",
                "stroke": "#212121",
                "stroke-width": "2" if booth["tier"] == "sponsor" else "1",
            },
        )
        ET.SubElement(
            group,
            f"{{{SVG_NS}}}text",
            {"x": str(x + 4), "y": str(y + 14), "font-size": "11", "font-weight": "bold"},
        ).text = booth["code"]
        if name:
            label = ET.SubElement(
                group,
                f"{{{SVG_NS}}}text",
                {"class": "exhibitor", "x": str(x + 4), "y": str(y + h / 2 + 6), "font-size": "10"},
            )
            label.text = name
            if len(name) * 6 > w - 8:  # squeeze long names into the booth instead of cutting them
                label.set("textLength", str(w - 8))
                label.set("lengthAdjust", "spacingAndGlyphs")

    legend_y = HEADER + 2 * MARGIN + grid_h * SCALE
    for index, zone in enumerate(pack.zones):
        y = legend_y + index * LEGEND_ROW
        ET.SubElement(
            svg,
            f"{{{SVG_NS}}}rect",
            {
                "x": str(MARGIN),
                "y": str(y),
                "width": "12",
                "height": "12",
                "fill": colours[zone.code],
            },
        )
        ET.SubElement(
            svg, f"{{{SVG_NS}}}text", {"x": str(MARGIN + 18), "y": str(y + 11), "font-size": "11"}
        ).text = pack.localized(zone.name, lang)
    return ET.tostring(svg, encoding="unicode", xml_declaration=False)
