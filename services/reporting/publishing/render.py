"""One document, one layout: HTML (Jinja2, autoescaped, print CSS), and the PDF is that HTML
rendered by WeasyPrint.

The template lays the document out like a publication when printed (`@media print`): a cover
without running header, a table of contents with page numbers (`target-counter`), sections that
flow, the forum's name and the section's title at the top of every page (`string-set`), page
numbers, numbered tables and figures. Charts are matplotlib SVGs embedded as `data:` URIs, so
the HTML file stands alone. The PDF embeds DejaVu Sans from `shared/fonts/` through `@font-face`
(file URLs, given only to WeasyPrint): it looks the same on every machine, whatever fonts the
system has.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from services.reporting.publishing.charts import chart_uri
from services.reporting.publishing.labels import LABELS
from shared.fonts import BOLD, REGULAR

HERE = Path(__file__).parent
# A family name of its own: the PDF never picks a system font of the same name instead.
FONT_FACES = f"""
@font-face {{ font-family: "foro-sans"; font-weight: normal; src: url("{REGULAR.as_uri()}"); }}
@font-face {{ font-family: "foro-sans"; font-weight: bold; src: url("{BOLD.as_uri()}"); }}
html, body {{ font-family: "foro-sans" !important; }}  /* over the template's list */
"""


@cache
def _templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["table_rows"] = table_rows
    environment.globals["people_rows"] = people_rows
    return environment


def table_rows(block: dict[str, Any]) -> Markup:
    """A table's rows, every cell escaped: written here rather than by the template's loops,
    which take several times longer over a large forum's thousands of rows."""
    classes = block["classes"]
    last = len(block["rows"]) - 1 if block.get("total") else -1
    rows = []
    for number, row in enumerate(block["rows"]):
        cells = "".join(
            f'<td class="{classes[index]}">{escape(cell)}</td>'
            if index in classes
            else f"<td>{escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        rows.append(f'<tr class="total">{cells}</tr>' if number == last else f"<tr>{cells}</tr>")
    return Markup("\n".join(rows))


def people_rows(block: dict[str, Any]) -> Markup:
    """The participant list, a line a person (name — organisation · country). Thousands of
    lines: one plain paragraph each (no inline markup), which WeasyPrint lays out in two thirds
    of the time of the same lines with the name in bold, and in about half the time and memory
    of a table of the same rows."""
    lines = []
    for name, organisation, country in block["rows"]:
        rest = " · ".join(str(escape(part)) for part in (organisation, country) if part)
        lines.append(f"<p>{escape(name)} — {rest}</p>" if rest else f"<p>{escape(name)}</p>")
    return Markup("\n".join(lines))


def laid_out(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The sections with what the layout adds to their blocks: the tables' and figures' numbers
    ("Cuadro 1.", "Figure 2."), the tables' column widths and cell classes, the charts' SVGs."""
    words = LABELS.get(document["lang"], LABELS["en"])
    tables = figures = 0
    sections = []
    for section in document["sections"]:
        blocks = []
        for block in section["blocks"]:
            if block["type"] == "table":
                tables += 1
                widths = block.get("widths") or [1] * len(block["columns"])
                classes = {index: "nowrap" for index in block.get("nowrap") or ()}
                classes |= {index: "num" for index in block.get("numeric") or ()}
                block = {
                    **block,
                    "number": f"{words['table']} {tables}.",
                    "percents": [round(100 * w / sum(widths), 1) for w in widths],
                    "classes": classes,
                }
            elif block["type"] == "chart":
                figures += 1
                block = {
                    **block,
                    "number": f"{words['figure']} {figures}.",
                    "src": chart_uri(block),
                }
            blocks.append(block)
        sections.append({**section, "blocks": blocks})
    return sections


def render_html(document: dict[str, Any]) -> str:
    return (
        _templates()
        .get_template("document.html.j2")
        .render(
            doc=document,
            sections=laid_out(document),
            words=LABELS.get(document["lang"], LABELS["en"]),
            created=document["generated_at"].isoformat(),
        )
    )


def html_to_pdf(html: str) -> bytes:
    """`render_html`'s output as a PDF (WeasyPrint, print media, the bundled fonts)."""
    # Imported when first needed: it loads pango. WeasyPrint ships no type information.
    from weasyprint import CSS, HTML  # type: ignore[import-untyped]
    from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    fonts = FontConfiguration()
    # The document needs its data: charts and the bundled font files, nothing from a network.
    local = URLFetcher(allowed_protocols={"data", "file"})
    return bytes(
        HTML(string=html, base_url=str(HERE), media_type="print", url_fetcher=local).write_pdf(
            stylesheets=[CSS(string=FONT_FACES, font_config=fonts, url_fetcher=local)],
            font_config=fonts,
            uncompressed_pdf=False,
        )
    )


def render_pdf(document: dict[str, Any]) -> bytes:
    """`document` as a PDF: the very HTML `render_html` writes, printed."""
    return html_to_pdf(render_html(document))
