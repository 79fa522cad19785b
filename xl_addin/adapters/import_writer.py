"""An imported report as our template filled (inputs by key, totals left to their formulas) plus the 导入记录
sheet: every cell's source text and what was uncertain. The report's text is written as text everywhere (a line
starting with "=" never becomes a formula: template_builder.put). Written atomically."""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill

from .. import spec
from ..importers.parse import Imported
from ..importers.record import HEADERS, RECORD_SHEET, TOTAL_BY_FORMULA, rows
from .fileio import atomic_write
from .template_builder import build_workbook, put

_UNCERTAIN = PatternFill("solid", fgColor="FFF2CC")


def write_imported(imported: Imported, out: str | os.PathLike[str]) -> Path:
    values = {k: v for k, v in imported.data.values.items()
              if k in spec.FIELDS_BY_KEY or (k in spec.INPUT_KEYS and k not in imported.data.missing)}
    wb = build_workbook(values, None)
    ws = wb.create_sheet(RECORD_SHEET)
    ws.append([f"导入自：{Path(imported.data.source).name}　格式：{imported.format}"
               + (f"　旧格式标志：{'、'.join(imported.markers)}" if imported.markers else "")])
    ws.append(list(HEADERS))
    for c in ws[2]:
        c.font = Font(bold=True)
    for at, row in enumerate(rows(imported), start=ws.max_row + 1):
        uncertain = bool(row[-1]) and row[-1] != TOTAL_BY_FORMULA
        for n, value in enumerate(row, start=1):
            cell = ws.cell(at, n)
            put(cell, value)  # the report's text as text: never a formula
            if uncertain:
                cell.fill = _UNCERTAIN
    for col, width in zip("ABCDEF", (40, 14, 16, 60, 14, 60), strict=True):
        ws.column_dimensions[col].width = width
    for r in ws.iter_rows(min_row=3):
        for c in r:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A3"
    return atomic_write(out, wb.save)
