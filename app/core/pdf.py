"""What every PDF of the application shares: where a Unicode font (DejaVu Sans) is found, and
the text the core Helvetica font can draw when none is installed. The monthly report
(``app.indicators.report.pdf``) and the case summary (``app.casework.summary_pdf``) use it."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path

# Where a Unicode TTF font is looked for (Debian: fonts-dejavu-core). Without one, a PDF uses
# the core Helvetica font and the text is transliterated to Latin-1.
FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


def find_font(directories: Iterable[Path] = FONT_DIRS) -> tuple[Path, Path] | None:
    """The regular and bold DejaVu Sans files, or None when they are not installed."""
    for directory in directories:
        regular, bold = (directory / name for name in FONT_FILES)
        if regular.is_file():
            return regular, bold if bold.is_file() else regular
    return None


_LATIN = {
    "\u2014": "-",  # em dash
    "\u2013": "-",  # en dash
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u2265": ">=",
    "\u2264": "<=",
    "\u00d7": "x",
    "\u2022": "*",  # bullet
}


def transliterate(text: str) -> str:
    """Text the core (Latin-1) fonts can draw."""
    for source, target in _LATIN.items():
        text = text.replace(source, target)
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(plain or "?")
    return "".join(out)
