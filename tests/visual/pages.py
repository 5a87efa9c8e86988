"""PDF pages as pictures, compared with the committed references.

A PDF is rasterised by poppler's `pdftoppm -r <dpi> -png` (the same tool on every machine, so a
reference made here matches there), and each page is compared with
`tests/visual/references/<name>-p<N>.png`:

- the page count and each page's size must match;
- a pixel differs when one of its channels differs by more than `CHANNEL_THRESHOLD` (anti-aliasing
  and poppler's rounding move edges by a few levels; a moved, missing or recoloured glyph moves
  them by far more);
- a page passes when at most `MAX_DIFFERING` of its pixels differ (0.5 %: a line of text that
  moved or a bar of another length is well above it at these resolutions), and no `TILE` x `TILE`
  patch has more than `MAX_DIFFERING_IN_TILE` of its pixels differing (a changed word or digit is
  a few dozen pixels, far below 0.5 % of a page, but they are all in one place; the scattered
  edge pixels another poppler's anti-aliasing moves are not).

On a failure the actual page and a diff image (the reference faded, the differing pixels red) are
written under `FORO_VISUAL_ARTIFACTS` (default: `<tmp>/foro-visual`), and the assertion names them.

`FORO_UPDATE_REFERENCES=1` rewrites the references instead of comparing (see README.md here).
Without pdftoppm the comparison is skipped, except under `CI=true`, where it fails.
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NoReturn, cast

import pytest
from PIL import Image, ImageChops

REFERENCES = Path(__file__).parent / "references"
CHANNEL_THRESHOLD = 48
MAX_DIFFERING = 0.005
TILE = 8
MAX_DIFFERING_IN_TILE = 0.10
PALETTE_ERROR = 24  # a reference stored in 256 colours is at most this far from the page
TIMEOUT_SECONDS = 120


def updating() -> bool:
    return os.environ.get("FORO_UPDATE_REFERENCES") == "1"


def artifacts_dir() -> Path:
    return Path(
        os.environ.get("FORO_VISUAL_ARTIFACTS") or Path(tempfile.gettempdir()) / "foro-visual"
    )


def missing(what: str) -> NoReturn:
    """Skips the test for want of `what`, or fails it under CI=true, where the setup installs
    everything (deploy/local/lib.sh installs poppler-utils), so missing means broken."""
    message = f"{what} is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def require_tool(name: str) -> str:
    """The path of a poppler tool (see `missing`)."""
    return shutil.which(name) or missing(f"{name} (poppler-utils)")


def require_module(name: str) -> ModuleType:
    """A Python package only some cases need, such as WeasyPrint (see `missing`)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"the Python package {name}")


def pdf_to_pngs(pdf: bytes, dpi: int, first_pages: int | None = None) -> list[Image.Image]:
    """Every page of `pdf` (or its first `first_pages`) as an RGB image at `dpi`."""
    pdftoppm = require_tool("pdftoppm")
    with tempfile.TemporaryDirectory(prefix="foro-pdftoppm-") as work:
        source = Path(work) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                pdftoppm,
                *(["-l", str(first_pages)] if first_pages else []),
                *("-r", str(dpi), "-png", str(source), str(Path(work) / "page")),
            ],
            check=True,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
        )
        # page-1.png … or page-01.png … (poppler pads to the page count's digits)
        files = sorted(Path(work).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [Image.open(path).convert("RGB") for path in files]


@dataclass(frozen=True)
class PageDifference:
    page: int
    differing: float  # fraction of the page's pixels
    in_tile: float  # the largest fraction in one tile
    actual: Path
    diff: Path

    def __str__(self) -> str:
        return (
            f"page {self.page}: {self.differing:.2%} of the pixels differ, up to "
            f"{self.in_tile:.0%} of a {TILE}x{TILE} patch (actual {self.actual}, diff {self.diff})"
        )


def differing_fraction(reference: Image.Image, actual: Image.Image) -> tuple[float, Image.Image]:
    """The fraction of pixels whose largest channel difference exceeds the threshold, and the
    mask of those pixels (255 where they differ)."""
    difference = ImageChops.difference(reference.convert("RGB"), actual.convert("RGB"))
    red, green, blue = difference.split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    mask = largest.point(lambda value: 255 if value > CHANNEL_THRESHOLD else 0)
    differing = mask.histogram()[255]
    return differing / (mask.width * mask.height), mask


def differing_in_tile(mask: Image.Image) -> float:
    """The largest fraction of differing pixels in one `TILE` x `TILE` patch of the mask, over
    the patches of two grids half a patch apart (a glyph across a grid line is whole in one)."""
    half = TILE // 2
    shifted = mask.crop((half, half, mask.width, mask.height))
    highest = [cast(tuple[int, int], grid.reduce(TILE).getextrema())[1] for grid in (mask, shifted)]
    return max(highest) / 255


def diff_image(reference: Image.Image, mask: Image.Image) -> Image.Image:
    faded = Image.blend(reference.convert("RGB"), Image.new("RGB", reference.size, "white"), 0.7)
    faded.paste(Image.new("RGB", reference.size, (220, 0, 0)), mask=mask)
    return faded


def save_png(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    path.write_bytes(buffer.getvalue())


def reference_path(name: str, page: int) -> Path:
    return REFERENCES / f"{name}-p{page}.png"


def compact(page: Image.Image) -> Image.Image:
    """The page in 256 colours when that changes no pixel by more than `PALETTE_ERROR` (a page
    of text and a few flat colours: the file is less than half the size), else as it is."""
    palette = page.quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    bands = ImageChops.difference(palette.convert("RGB"), page.convert("RGB")).getextrema()
    error = max(high for _, high in cast(tuple[tuple[int, int], ...], bands))
    return palette if error <= PALETTE_ERROR else page


def write_references(name: str, pages: list[Image.Image]) -> None:
    for stale in REFERENCES.glob(f"{name}-p*.png"):
        stale.unlink()
    for number, page in enumerate(pages, start=1):
        save_png(compact(page), reference_path(name, number))


def assert_matches_references(
    name: str, pdf: bytes, dpi: int, first_pages: int | None = None
) -> None:
    """The PDF's pages (or its first `first_pages`) look like `references/<name>-p<N>.png`
    (see the module's docstring)."""
    pages = pdf_to_pngs(pdf, dpi, first_pages)
    if updating():
        write_references(name, pages)
        return
    references = sorted(
        REFERENCES.glob(f"{name}-p*.png"), key=lambda p: int(p.stem.rsplit("-p", 1)[1])
    )
    out = artifacts_dir() / name
    if not references:
        for number, page in enumerate(pages, start=1):
            save_png(page, out / f"actual-p{number}.png")
        pytest.fail(
            f"no reference images for {name!r}; the pages are in {out}. Review them, then "
            "write the references with FORO_UPDATE_REFERENCES=1 (tests/visual/README.md)"
        )
    problems: list[str] = []
    if len(references) != len(pages):
        problems.append(f"{len(pages)} pages, the references have {len(references)}")
    for number, (path, page) in enumerate(zip(references, pages, strict=False), start=1):
        reference = Image.open(path)
        actual_path = out / f"actual-p{number}.png"
        if reference.size != page.size:
            save_png(page, actual_path)
            problems.append(
                f"page {number}: {page.size[0]}x{page.size[1]} px, "
                f"the reference {reference.size[0]}x{reference.size[1]} ({actual_path})"
            )
            continue
        fraction, mask = differing_fraction(reference, page)
        in_tile = differing_in_tile(mask)
        if fraction > MAX_DIFFERING or in_tile > MAX_DIFFERING_IN_TILE:
            diff_path = out / f"diff-p{number}.png"
            save_png(page, actual_path)
            save_png(diff_image(reference, mask), diff_path)
            problems.append(str(PageDifference(number, fraction, in_tile, actual_path, diff_path)))
    for number, page in enumerate(pages[len(references) :], start=len(references) + 1):
        save_png(page, out / f"actual-p{number}.png")
    assert not problems, (
        f"{name} does not look like its references (more than {MAX_DIFFERING:.1%} of a page's "
        f"pixels or {MAX_DIFFERING_IN_TILE:.1%} of a patch's differ, or the pages changed):\n  "
        + "\n  ".join(problems)
    )
