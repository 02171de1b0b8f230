"""The monthly report as an XLSX workbook: a sheet per section, RAHASIA in the first row of
every sheet and the header of every printed page, numbers as numbers, every text cell a string
(never a formula: ``build.safe_text``)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from app.indicators.report.build import (
    CONFIDENTIAL,
    CONFIDENTIAL_NOTE,
    CellValue,
    Report,
    safe_text,
)


def _xlsx_value(value: CellValue) -> tuple[Any, str | None]:
    if value is None:
        return "", None
    if isinstance(value, bool):
        return safe_text(str(value)), None
    if isinstance(value, int):
        return value, "#,##0"
    if isinstance(value, Decimal):
        return value, "#,##0.00"
    return safe_text(str(value)), None


def render_xlsx(report: Report) -> bytes:
    # local: openpyxl is loaded only when a spreadsheet report is rendered
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = safe_text(f"{CONFIDENTIAL} — {report.title}")
    workbook.properties.creator = "Simpul"
    red = Font(bold=True, color="C00000", size=12)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDDDDD")
    for section in report.sections:
        sheet = workbook.create_sheet(section.sheet[:31])
        sheet.oddHeader.center.text = CONFIDENTIAL  # printed pages carry the marking too
        sheet.append([CONFIDENTIAL_NOTE])
        sheet["A1"].font = red
        sheet.append([safe_text(report.title)])
        sheet["A2"].font = bold
        sheet.append([safe_text(report.subtitle)])
        sheet.append([safe_text(section.title)])
        sheet["A4"].font = bold
        for line in section.lines:
            sheet.append([safe_text(line)])
        widths: dict[int, int] = {}
        for table in section.tables:
            sheet.append([])
            if table.title:
                sheet.append([safe_text(table.title)])
                sheet.cell(sheet.max_row, 1).font = bold
            sheet.append([safe_text(h) for h in table.header])
            for column in range(1, len(table.header) + 1):
                cell = sheet.cell(sheet.max_row, column)
                cell.font, cell.fill = bold, fill
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for row in table.rows:
                values = [_xlsx_value(v) for v in row]
                sheet.append([v for v, _ in values])
                for column, (v, number_format) in enumerate(values, start=1):
                    cell = sheet.cell(sheet.max_row, column)
                    if number_format:
                        cell.number_format = number_format
                    else:
                        cell.data_type = "s"  # never a formula, whatever the text
                    length = len(str(v))
                    widths[column] = max(widths.get(column, 0), min(length, 60))
        for column, width in widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = max(width + 2, 10)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
