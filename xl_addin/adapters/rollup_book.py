"""Writes a 汇总 unit's roll-up (:class:`xl_addin.rollup.UnitRollup`) as a real template workbook -- the tables
二, 三, 四 holding the sums, the narrative started from the drafts -- plus a 汇总范围 sheet (which covered units are
in, missing, late, not accepted; the notes on 规章, 现行有效件数 and 收费; the comparison with the unit's own
published report). It checks, fills and exports like any agency's workbook: the checks ignore a sheet they do not
know. The coverage also goes out as CSV (for the package)."""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

from .. import rollup, spec
from ..rollup import UnitRollup
from .fast_reader import workbook_parts
from .fileio import atomic_write_bytes
from .summary_writer import Rows
from .template_builder import build_workbook
from .xlsx_patch import Patcher

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


@functools.lru_cache(maxsize=1)
def _maker() -> tuple[Patcher, str]:
    """The template with an empty 汇总范围 sheet, built once with openpyxl: a patcher for its named cells, and the
    coverage sheet's part (left out of the patcher's copy: each book appends its own)."""
    wb = build_workbook()
    wb.create_sheet(COVERAGE_SHEET)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        sheet_parts, _, _ = workbook_parts(zf)
        part = dict(sheet_parts)[COVERAGE_SHEET]
        stripped = io.BytesIO()
        with zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as out:
            for info in zf.infolist():
                if info.filename != part:
                    out.writestr(info, zf.read(info.filename))
    return Patcher(stripped.getvalue()), part


def _coverage_sheet_xml(r: UnitRollup) -> bytes:
    """The 汇总范围 sheet: the title, the notes, the covered units, the comparison (inline strings)."""
    lines: list[Sequence[str | int]] = [[f"{r.year or ''}年度{r.unit.name}政府信息公开工作年度报告汇总范围"]]
    lines += [[n] for n in notes(r)]
    lines += [[], COVERAGE_HEADERS, *coverage_rows(r)]
    if r.warnings:
        lines += [[], [f"与本单位发布的汇总报告（{r.published}）核对（提示，不是错误）"], *([w] for w in r.warnings)]
    rows = Rows(None, 1, max(map(len, lines)))  # the summary workbook's row writer (no style: no sheet needed)
    for line in lines:
        rows.append([(_plain(v) if isinstance(v, str) and v else v if isinstance(v, int) else None, "")
                     for v in line])
    cols = "".join(f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>'
                   for j, w in enumerate((6, 20, 30, 12, 8, 10, 14, 40, 40), start=1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<cols>{cols}</cols><sheetData>{"".join(rows.chunks)}</sheetData></worksheet>').encode()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def _plain(text: str) -> str:
    """Text XML 1.0 can carry (a roster or a report may hold control characters): each one a space (the row
    writer would drop them; a space keeps the words of a roster's name apart, as this sheet always has)."""
    return _CONTROL.sub(" ", text)


def write_rollup_book(r: UnitRollup, out: str | os.PathLike[str]) -> Path:
    """The 汇总 workbook of ``r`` at ``out`` (atomically): the template's cells patched in the sheet XML (no
    openpyxl per book: a few milliseconds), the 汇总范围 sheet appended."""
    patcher, part = _maker()
    values = dict(rollup.workbook_values(r))
    values.update({spec.prior_key(k): v for k, v in r.prior.items()})
    data = io.BytesIO(patcher.patch(values))
    with zipfile.ZipFile(data, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(part, _coverage_sheet_xml(r))
    return atomic_write_bytes(out, data.getvalue())


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
