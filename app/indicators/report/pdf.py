"""The monthly report as a PDF (landscape A4): RAHASIA at the top of every page, the tables of
``build.Report``. With DejaVu Sans installed (Debian: fonts-dejavu-core) the text is Unicode;
without it the core Helvetica font draws it transliterated to Latin-1."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from app.core import pdf as core_pdf
from app.indicators.math import format_id
from app.indicators.report.build import (
    CONFIDENTIAL,
    CONFIDENTIAL_NOTE,
    ILLEGAL,
    CellValue,
    Report,
)

# Where a Unicode TTF font is looked for (``app.core.pdf``); tests empty it to draw the core font.
FONT_DIRS: tuple[Path, ...] = core_pdf.FONT_DIRS
PDF_COMPRESS = True  # tests switch it off to read the page text
transliterate = core_pdf.transliterate


def find_font() -> tuple[Path, Path] | None:
    """The regular and bold DejaVu Sans files, or None when they are not installed."""
    return core_pdf.find_font(FONT_DIRS)


def _pdf_text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_id(Decimal(value), 0)
    if isinstance(value, Decimal):
        return format_id(value)
    return ILLEGAL.sub("", str(value))


def render_pdf(report: Report) -> tuple[bytes, str]:
    """The PDF and the font used (``DejaVuSans`` or ``Helvetica``)."""
    # local: fpdf2 is loaded only when a PDF report is rendered
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    fonts = find_font()
    family = "DejaVu" if fonts else "Helvetica"
    clean: Callable[[str], str] = (lambda s: s) if fonts else transliterate

    class ReportPDF(FPDF):
        def header(self) -> None:
            self.set_font(family, "B", 11)
            self.set_text_color(192, 0, 0)
            self.cell(0, 6, CONFIDENTIAL, align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_font(family, "", 7)
            self.cell(0, 4, clean(CONFIDENTIAL_NOTE), align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0, 0, 0)
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, "", 7)
            self.cell(
                0,
                5,
                clean(f"{CONFIDENTIAL} — {report.subtitle} — halaman {self.page_no()}/{{nb}}"),
                align="C",
            )

    pdf = ReportPDF(orientation="L", format="A4")
    pdf.set_compression(PDF_COMPRESS)
    if fonts:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
    pdf.set_title(clean(f"{CONFIDENTIAL} — {report.title}"))
    pdf.set_creator("Simpul")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(family, "B", 14)
    pdf.multi_cell(0, 7, clean(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 11)
    pdf.multi_cell(0, 6, clean(report.subtitle), new_x="LMARGIN", new_y="NEXT")
    heading = FontFace(emphasis="BOLD", fill_color=(221, 221, 221))
    for section in report.sections:
        if pdf.get_y() > pdf.h - 50:
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font(family, "B", 12)
        pdf.multi_cell(0, 7, clean(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)
        for line in section.lines:
            pdf.multi_cell(0, 5, clean(line), new_x="LMARGIN", new_y="NEXT")
        for table in section.tables:
            pdf.ln(2)
            if table.title:
                pdf.set_font(family, "B", 10)
                pdf.multi_cell(0, 6, clean(table.title), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(family, "", 8)
            widths = table.widths or [1.0] * len(table.header)
            with pdf.table(
                col_widths=tuple(widths),
                headings_style=heading,
                line_height=4.5,
                text_align="LEFT",
                first_row_as_headings=True,
            ) as grid:
                head = grid.row()
                for text in table.header:
                    head.cell(clean(text))
                for values in table.rows:
                    row = grid.row()
                    for value in values:
                        text = clean(_pdf_text(value))
                        align = "RIGHT" if isinstance(value, int | Decimal) else "LEFT"
                        row.cell(text, align=align)
    return bytes(pdf.output()), "DejaVuSans" if fonts else "Helvetica"
