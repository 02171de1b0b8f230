"""The case summary as a PDF (portrait A4): RAHASIA at the top of every page with the case
reference, and at the foot who printed it, when, and "page x of y". DejaVu Sans when installed
(``app.core.pdf``), else the core Helvetica font with the text transliterated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.casework.summary import Block, CaseSummary
from app.core import pdf as core_pdf
from app.core.i18n import gettext as _

CONFIDENTIAL = "RAHASIA"
FONT_DIRS: tuple[Path, ...] = core_pdf.FONT_DIRS  # tests empty it to draw the core font
PDF_COMPRESS = True  # tests switch it off to read the page text
LABEL_WIDTH = 0.3  # of the text width: the labels of label/value pairs


def render_summary_pdf(summary: CaseSummary) -> bytes:
    """The PDF of ``summary``."""
    # local: fpdf2 is loaded only when a PDF is made
    from fpdf import FPDF
    from fpdf.enums import TableBordersLayout

    fonts = core_pdf.find_font(FONT_DIRS)
    family = "DejaVu" if fonts else "Helvetica"
    clean: Callable[[str], str] = (lambda s: s) if fonts else core_pdf.transliterate
    note = _("Confidential: for the recipient's work with this case only. Do not copy or pass on.")
    printed = _("Printed by %(name)s on %(when)s", name=summary.printed_by, when=summary.printed_at)

    class SummaryPDF(FPDF):
        def header(self) -> None:
            self.set_font(family, "B", 12)
            self.set_text_color(192, 0, 0)
            self.cell(0, 6, CONFIDENTIAL, align="C", new_x="LMARGIN", new_y="NEXT")
            self.set_font(family, "", 7)
            self.cell(
                0,
                4,
                clean(f"{summary.reference} — {note}"),
                align="C",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            self.set_text_color(0, 0, 0)
            self.ln(3)

        def footer(self) -> None:
            self.set_y(-13)
            self.set_font(family, "", 7)
            page = _("page %(page)s of %(pages)s", page=self.page_no(), pages="{nb}")
            self.cell(0, 4, clean(f"{CONFIDENTIAL} — {printed} — {page}"), align="C")

    pdf = SummaryPDF(orientation="P", format="A4")
    pdf.set_compression(PDF_COMPRESS)
    if fonts:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
    pdf.set_title(clean(f"{CONFIDENTIAL} — {summary.title}"))
    pdf.set_creator("Simpul")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font(family, "B", 15)
    pdf.multi_cell(0, 8, clean(summary.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)

    def pairs(rows: tuple[tuple[str, str], ...]) -> None:
        if not rows:
            return
        pdf.set_font(family, "", 9)
        width = LABEL_WIDTH
        with pdf.table(
            col_widths=(width, 1 - width),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            first_row_as_headings=False,
            line_height=4.6,
            text_align="LEFT",
            padding=0.8,
        ) as grid:
            for name, value in rows:
                row = grid.row()
                row.cell(clean(name))
                row.cell(clean(value))
        pdf.ln(1)

    def block(item: Block) -> None:
        if item.heading:
            if pdf.get_y() > pdf.h - 40:
                pdf.add_page()
            pdf.set_font(family, "B", 10)
            pdf.multi_cell(0, 5.5, clean(item.heading), new_x="LMARGIN", new_y="NEXT")
        pairs(item.pairs)
        if item.paragraphs:
            pdf.set_font(family, "", 9)
            for paragraph in item.paragraphs:
                pdf.multi_cell(0, 4.6, clean(paragraph), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)

    pairs(summary.overview)
    if summary.masked_note:
        pdf.set_font(family, "", 8)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(0, 4, clean(summary.masked_note), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    for part in summary.parts:
        if pdf.get_y() > pdf.h - 50:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font(family, "B", 12)
        pdf.set_fill_color(230, 230, 230)
        pdf.multi_cell(0, 7, clean(part.title), fill=True, new_x="LMARGIN", new_y="NEXT")
        pdf.set_fill_color(255, 255, 255)  # the tables below are not shaded
        pdf.ln(1)
        for item in part.blocks:
            block(item)
    return bytes(pdf.output())
