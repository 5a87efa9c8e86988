"""DejaVu Sans (free licence, LICENSE-DejaVu.txt), shipped so badges and PDFs render Spanish text
on a machine without system fonts."""

from pathlib import Path

FONTS = Path(__file__).parent
REGULAR = FONTS / "DejaVuSans.ttf"
BOLD = FONTS / "DejaVuSans-Bold.ttf"
