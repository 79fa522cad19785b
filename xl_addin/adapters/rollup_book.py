"""Writes a 汇总 unit's roll-up (:class:`xl_addin.rollup.UnitRollup`) as a real template workbook -- the tables
二, 三, 四 holding the sums, the narrative started from the drafts -- plus a 汇总范围 sheet (which covered units are
in, missing, late, not accepted; the notes on 规章, 现行有效件数 and 收费; the comparison with the unit's own
published report). It checks, fills and exports like any agency's workbook: the checks ignore a sheet they do not
know. The coverage also goes out as CSV (for the package)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from openpyxl.styles import Alignment, Font

from .. import rollup
from ..rollup import UnitRollup
from .fileio import atomic_write
from .template_builder import build_workbook

COVERAGE_SHEET = "汇总范围"
COVERAGE_HEADERS = ("序号", "单位编号", "单位名称", "机关类别", "层级", "报告范围", "状态", "说明", "来源")


def coverage_rows(r: UnitRollup) -> list[list[str | int]]:
    return [[i, c.unit_id, c.name, c.kind, c.level, c.scope, c.state, c.note, c.source]
            for i, c in enumerate(r.coverage, start=1)]


def notes(r: UnitRollup) -> list[str]:
    """What the sheet says about the sum, above the list."""
    out = [r.coverage_zh(), rollup.STOCK_NOTE, rollup.RULES_NOTE, rollup.MONEY_NOTE]
    if r.rules_left_out:
        out.append("以下单位填报的规章数未计入：" + "、".join(r.rules_left_out) + "。")
    return out


def write_rollup_book(r: UnitRollup, out: str | os.PathLike[str]) -> Path:
    """The 汇总 workbook of ``r`` at ``out`` (atomically)."""
    wb = build_workbook(rollup.workbook_values(r), r.prior or None)
    ws = wb.create_sheet(COVERAGE_SHEET)
    ws["A1"] = f"{r.year or ''}年度{r.unit.name}政府信息公开工作年度报告汇总范围"
    ws["A1"].font = Font(bold=True, size=14)
    row = 2
    for line in notes(r):
        ws.cell(row, 1, line).alignment = Alignment(wrap_text=False)
        row += 1
    row += 1
    for j, h in enumerate(COVERAGE_HEADERS, start=1):
        ws.cell(row, j, h).font = Font(bold=True)
    for values in coverage_rows(r):
        row += 1
        for j, v in enumerate(values, start=1):
            ws.cell(row, j, v)
    if r.warnings:
        row += 2
        ws.cell(row, 1, f"与本单位发布的汇总报告（{r.published}）核对（提示，不是错误）").font = Font(bold=True)
        for w in r.warnings:
            row += 1
            ws.cell(row, 1, w)
    for col, width in zip("ABCDEFGHI", (6, 20, 30, 12, 8, 10, 14, 40, 40), strict=True):
        ws.column_dimensions[col].width = width
    return atomic_write(out, wb.save)


def coverage_csv(r: UnitRollup) -> bytes:
    """The coverage as CSV (UTF-8 with BOM: Excel opens it with the Chinese intact)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for line in notes(r):
        w.writerow([line])
    w.writerow(COVERAGE_HEADERS)
    w.writerows(coverage_rows(r))
    for line in r.warnings:
        w.writerow([line])
    return buf.getvalue().encode("utf-8-sig")
