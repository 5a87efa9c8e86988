"""A document's `chart` blocks drawn as SVG with matplotlib — deterministic, no display needed.

The figure is built on matplotlib's object API with the SVG canvas (no pyplot, no global
backend), inside an `rc_context`, so rendering in a worker thread touches no shared state. Text
is drawn as paths in DejaVu Sans (matplotlib ships it): the SVG looks the same on every machine.
Ids are salted with a fixed string and the date is left out, so equal data give equal bytes —
and the Memoria's content hash stays stable.
"""

from __future__ import annotations

import base64
import io
import textwrap
import threading
from typing import Any

from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

BLUE = "#1F4E79"
GREEN = "#2E7D32"
AMBER = "#EF6C00"
RED = "#C62828"
GREY = "#5B6B7C"
RULE = "#DDE3EA"

STYLE: dict[Any, Any] = {  # matplotlib's rcParams keys are typed as one Literal
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "svg.fonttype": "path",
    "svg.hashsalt": "foro-memoria",
    "axes.edgecolor": RULE,
    "axes.linewidth": 0.8,
    "xtick.color": GREY,
    "ytick.color": "#1D2733",
    "xtick.major.size": 0,
    "ytick.major.size": 0,
}
# `rc_context` sets matplotlib's global rcParams for the duration: one chart at a time, so two
# documents rendered in two worker threads never restore each other's style mid-drawing.
_DRAWING = threading.Lock()
WIDTH = 6.85  # inches: the text block of an A4 page with 18 mm margins (174 mm), drawn 1:1
BAR_LABEL_CHARS = 40  # a bar's name wraps past this many characters, onto a second line
CHAR = 0.068  # inches: an average character of 8.5 pt DejaVu Sans, to size the label column


def bar_colour(block: dict[str, Any], value: float) -> str:
    """Blue; amber and red from the block's `alerts` thresholds (the budget's 80 % and 100 %)."""
    warn, over = block.get("alerts") or (None, None)
    if over is not None and value >= over:
        return RED
    if warn is not None and value >= warn:
        return AMBER
    return GREEN if block.get("alerts") else BLUE


def chart_svg(block: dict[str, Any]) -> str:
    """The chart as an SVG document."""
    with _DRAWING, rc_context(STYLE):
        figure = DRAW[block["chart"]](block)
        out = io.StringIO()
        FigureCanvasSVG(figure)
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def chart_uri(block: dict[str, Any]) -> str:
    """The chart as a `data:` URI for an `<img>`: the HTML file stands alone."""
    svg = chart_svg(block).encode()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _bars(block: dict[str, Any]) -> Figure:
    """Horizontal bars, one per label, the largest on top, each with its value written beside it."""
    values, texts = block["values"], block["value_labels"]
    labels = [bar_label(label) for label in block["labels"]]
    lines = max(label.count("\n") + 1 for label in labels)
    height = 0.25 + (0.25 + 0.13 * (lines - 1)) * len(labels)
    figure = Figure(figsize=(WIDTH, height))
    label_width = CHAR * max(len(line) for label in labels for line in label.split("\n")) + 0.15
    figure.subplots_adjust(
        left=min(label_width / WIDTH, 0.5), right=0.97, top=1 - 0.1 / height, bottom=0.1 / height
    )
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    colours = [bar_colour(block, value) for value in values]
    axes.barh(positions, values, height=0.62, color=colours)
    axes.set_yticks(positions, labels)
    top = max([*values, block.get("reference") or 0, 0]) or 1
    axes.set_xlim(0, top * 1.16)
    for position, value, text in zip(positions, values, texts, strict=True):
        axes.text(value + top * 0.01, position, text, va="center", fontsize=7.5, color="#1D2733")
    if block.get("reference") is not None:
        axes.axvline(block["reference"], color=GREY, linewidth=0.8, linestyle="--")
    axes.set_xticks([])
    _plain(axes)
    return figure


def bar_label(label: str) -> str:
    """A bar's name on at most two lines, broken between words: a longer one ends its second
    line with "…" after a whole word (the alt text and the tables keep it whole)."""
    return textwrap.fill(label, BAR_LABEL_CHARS, max_lines=2, placeholder=" …")


def _columns(block: dict[str, Any]) -> Figure:
    """Vertical columns for a few categories or days, each with its value written above it."""
    labels, values, texts = block["labels"], block["values"], block["value_labels"]
    figure = Figure(figsize=(WIDTH, 2.0))
    figure.subplots_adjust(left=0.03, right=0.97, top=0.95, bottom=0.2)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    pad = max(0.6, (6 - len(labels)) / 2)  # a few columns keep a column's width, centred
    axes.set_xlim(-pad, len(labels) - 1 + pad)
    axes.bar(positions, values, width=0.6, color=[bar_colour(block, v) for v in values])
    # a label wider than its column goes on two or three lines, not over its neighbour's
    axes.set_xticks(positions, [textwrap.fill(label, 16) for label in labels])
    top = max([*values, 0]) or 1
    axes.set_ylim(0, top * 1.18)
    for position, value, text in zip(positions, values, texts, strict=True):
        axes.text(position, value + top * 0.02, text, ha="center", fontsize=7.5)
    axes.set_yticks([])
    _plain(axes)
    return figure


def _line(block: dict[str, Any]) -> Figure:
    """A running total over days (sign-ups over time), the last value written at its end."""
    labels, values, texts = block["labels"], block["values"], block["value_labels"]
    figure = Figure(figsize=(WIDTH, 2.2))
    figure.subplots_adjust(left=0.07, right=0.97, top=0.95, bottom=0.13)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    axes.plot(positions, values, color=BLUE, linewidth=1.6, marker="o", markersize=2.5)
    axes.fill_between(positions, values, color=BLUE, alpha=0.12, linewidth=0)
    step = max(1, len(labels) // 8)
    shown = positions[::step]
    axes.set_xticks(shown, [labels[i] for i in shown])
    top = max([*values, 0]) or 1
    axes.set_ylim(0, top * 1.18)
    axes.text(positions[-1], values[-1] + top * 0.03, texts[-1], ha="right", fontsize=7.5)
    axes.yaxis.grid(True, color=RULE, linewidth=0.6)
    axes.set_axisbelow(True)
    _plain(axes, keep_left=True)
    return figure


def _plain(axes: Any, *, keep_left: bool = False) -> None:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["left"].set_visible(keep_left)


DRAW = {"bars": _bars, "columns": _columns, "line": _line}
