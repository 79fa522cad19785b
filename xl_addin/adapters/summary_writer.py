"""Writes the coordinator's summary workbook (进度, 问题清单, 汇总); the HTML tracker beside it is
:mod:`xl_addin.adapters.tracker_html`.

openpyxl in write-only mode: rows stream out, so ten thousand agencies and their findings cost seconds, not
minutes. The 汇总 sheet reproduces the official grid of tables 二, 三 and 四 from the spec (labels, merges, the
template's fonts and fills), so it can go straight into the county's own report; its cells also carry defined
names ``hz_<key>`` (``hz_t3_new_natural``) so a program can read the roll-up by key.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from copy import copy
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.defined_name import DefinedName

from .. import spec, structure
from ..collect import (
    ROLLUP_SHEET,
    TRACKER_COLUMNS,
    CollectResult,
    Count,
    Rollup,
    State,
    TrackerRow,
    Verdict,
    rollup_end_row,
    rollup_layout,
    zh,
)
from ..model import Severity, severity_counts
from .fileio import atomic_path
from .template_builder import (
    BORDER,
    CENTER,
    COUNT_FORMAT,
    DERIVED_FILL,
    ERROR_FILL,
    ERROR_FONT,
    HEADER_FILL,
    HEADER_FONT,
    INPUT_FONT,
    LABEL_FONT,
    LEFT,
    MONEY_FORMAT,
    OK_FILL,
    OK_FONT,
    TITLE_FONT,
    WARNING_FILL,
    WARNING_FONT,
    print_setup,
)

TRACKER_SHEET, FINDINGS_SHEET = "进度", "问题清单"
TRACKER_HEADERS = tuple(TRACKER_COLUMNS.values())
#: the tracker's column (0-based) of each TRACKER_COLUMNS key
_COL = {key: i for i, key in enumerate(TRACKER_COLUMNS)}
#: the number formats of the tracker's date columns
_DATE_FORMATS = {"submitted": "yyyy-mm-dd hh:mm", "report_date": "yyyy-mm-dd", "deadline": "yyyy-mm-dd"}
TRACKER_WIDTHS = (6, 30, 12, 8, 10, 9, 11, 10, 18, 12, 12, 6, 6, 6, 50, 50, 20)
#: the totals of 进度, in this order (headed by their Chinese)
TOTALS = tuple(Count)
#: 进度: totals header and values rows, and the header row of the table
TOTALS_ROW, TRACKER_HEADER_ROW = 3, 6
FINDINGS_HEADERS = ("机关名称", "文件", "是否采用", *structure.RESULTS_HEADERS)
FINDINGS_WIDTHS = (30, 45, 9, 6, 6, 9, 10, 34, 24, 90)
GREY_FILL = PatternFill("solid", fgColor="EDEDED")
PLAIN = Font(name="宋体", size=11)
WRAP = Alignment(vertical="center", wrap_text=True)

_VERDICT_STYLE = {Verdict.PASS: (OK_FILL, OK_FONT), Verdict.FAIL: (ERROR_FILL, ERROR_FONT),
                  Verdict.MISSING: (WARNING_FILL, WARNING_FONT)}


def write_summary(result: CollectResult, out: str | os.PathLike[str]) -> Path:
    """The summary workbook at ``out``, written atomically."""
    wb = new_workbook()
    bulk = [_tracker(wb, result), _findings(wb, result), _rollup(wb, result)]
    if result.similar:
        bulk.append(_similar(wb, result))
    return save_workbook(wb, bulk, out)


def new_workbook() -> Workbook:
    """A write-only workbook to fill with :func:`cell` and :class:`Rows` and write with
    :func:`save_workbook` (one at a time: the style cache is reset, its style arrays index into one workbook's
    style tables)."""
    _STYLES.clear()
    return Workbook(write_only=True)


def save_workbook(wb: Workbook, bulk: Sequence[Rows], out: str | os.PathLike[str]) -> Path:
    """``wb`` (from :func:`new_workbook`) with each sheet's bulk rows spliced in, written atomically at ``out``."""
    buf = io.BytesIO()
    wb.save(buf)
    with atomic_path(out) as tmp:
        _splice(buf.getvalue(), bulk, tmp)
    return Path(out)


class Rows:
    """The many plain rows of one sheet (one per agency, one per finding), written as sheet XML text and spliced
    in after the rows openpyxl wrote (:func:`_splice`): openpyxl's write-only mode spends some 20 µs a cell, and a
    county has hundreds of thousands. Cells are written as openpyxl writes them (style index, inline strings,
    numbers as "%.16g", dates as serial numbers), except that text is always text (openpyxl would turn a text
    starting with "=" into a formula) and control characters, which XML cannot hold, are dropped (openpyxl
    refuses the whole workbook)."""

    def __init__(self, ws: Any, first_row: int, n_cols: int) -> None:
        self.ws = ws
        self.row = first_row
        self.refs = [spec.col_letter(i + 1) for i in range(n_cols)]
        self.chunks: list[str] = []

    def style(self, **kw: Any) -> str:
        """The ` s="n"` attribute of a style (as :func:`cell` takes it), registering it in the workbook."""
        c = cell(self.ws, None, **kw)
        return f' s="{c.style_id}"' if c.has_style else ""

    def append(self, cells: Sequence[tuple[Any, str]]) -> None:
        """One row of (value, style attribute) pairs, from column A."""
        r = self.row
        out = [f'<row r="{r}">']
        for ref, (v, s) in zip(self.refs, cells, strict=False):
            t = type(v)  # the usual cases inline, as _cell_xml writes them
            if (t is str and v and len(v) <= 32767 and not v[0].isspace() and not v[-1].isspace()
                    and not _ILLEGAL.search(v)):
                out.append(f'<c r="{ref}{r}"{s} t="inlineStr"><is><t>{v.translate(_ESCAPE)}</t></is></c>')
            elif v is None:
                if s:
                    out.append(f'<c r="{ref}{r}"{s}/>')
            elif t is int:
                out.append(f'<c r="{ref}{r}"{s} t="n"><v>{v:.16g}</v></c>')
            else:
                out.append(_cell_xml(f"{ref}{r}", v, s))
        out.append("</row>")
        self.chunks.append("".join(out))
        self.row = r + 1


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _cell_xml(ref: str, v: Any, s: str) -> str:
    if v is None:
        return f'<c r="{ref}"{s}/>' if s else ""
    if isinstance(v, str):
        if not v:
            return f'<c r="{ref}"{s} t="inlineStr"/>'
        v = v[:32767]
        if _ILLEGAL.search(v):
            v = _ILLEGAL.sub("", v)
        space = ' xml:space="preserve"' if v != v.strip() else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{v.translate(_ESCAPE)}</t></is></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>'
    if isinstance(v, dt.date | dt.datetime):
        v = to_excel(v)
    if isinstance(v, int | float):
        text = "" if isinstance(v, float) and (math.isnan(v) or math.isinf(v)) else f"{v:.16g}"
        return f'<c r="{ref}"{s} t="n"><v>{text}</v></c>'
    return _cell_xml(ref, str(v), s)


def _splice(data: bytes, bulk: Sequence[Rows], out: Path) -> None:
    """The workbook openpyxl wrote (``data``), with each sheet's bulk rows put after its own, into ``out``."""
    parts = {b.ws.path.lstrip("/"): b for b in bulk}  # the part names are given out as the workbook is saved
    # the bulk rows are big and plain: fast compression (level 1) is several times faster, the file a bit larger
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            rows = parts.get(info.filename)
            if rows is None:
                dst.writestr(info, body)
                continue
            if b"</sheetData>" not in body:  # no row of openpyxl's own: an empty element to open
                body = body.replace(b"<sheetData/>", b"<sheetData></sheetData>", 1)
            at = body.rindex(b"</sheetData>")
            with dst.open(info.filename, "w") as fh:
                fh.write(body[:at])
                for i in range(0, len(rows.chunks), 2000):
                    fh.write("".join(rows.chunks[i:i + 2000]).encode())
                fh.write(body[at:])


_STYLES: dict[tuple[Any, ...], Any] = {}


def cell(ws: Any, value: Any, *, font: Font | None = None, fill: PatternFill | None = None,
         align: Alignment | None = None, border: bool = False, fmt: str | None = None) -> WriteOnlyCell:
    """A write-only cell of ``ws`` holding ``value`` (a text starting with "=" stays a text), styled."""
    c = WriteOnlyCell(ws, value=value)
    if c.data_type == "f":  # a text starting with "=" (an agency's name) stays a text
        c.data_type = "s"
    # assigning styles is the slow part of writing a cell: each combination is resolved once per workbook and
    # its style array copied (openpyxl <3.2 is pinned; _style is its per-cell StyleArray)
    key = (id(font), id(fill), id(align), border, fmt)
    cached = _STYLES.get(key)
    if cached is not None:
        c._style = copy(cached)
        return c
    if font is not None:
        c.font = font
    if fill is not None:
        c.fill = fill
    if align is not None:
        c.alignment = align
    if border:
        c.border = BORDER
    if fmt is not None:
        c.number_format = fmt
    _STYLES[key] = copy(c._style)
    return c


def _widths(ws: Any, widths: Sequence[float]) -> None:
    for i, w in enumerate(widths):
        ws.column_dimensions[spec.col_letter(i + 1)].width = w


def _tracker(wb: Workbook, result: CollectResult) -> Rows:
    ws = _new_sheet(wb, TRACKER_SHEET)
    _widths(ws, TRACKER_WIDTHS)
    last = spec.col_letter(len(TRACKER_HEADERS))
    ws.merged_cells.add(f"A1:{last}1")
    ws.freeze_panes = f"C{TRACKER_HEADER_ROW + 1}"
    ws.append([cell(ws, result.title("提交与校验进度"), font=TITLE_FONT)])
    limits = sorted({r.deadline for r in result.rows if r.deadline})
    limit_text = "、".join(d.isoformat() for d in limits) or "未定"
    late, overdue = result.late_split
    split = f"逾期 {late + overdue} 个中，逾期提交 {late} 个，逾期未交 {overdue} 个。" if overdue else ""
    ws.append([cell(ws, f"生成时间：{dt.datetime.now():%Y-%m-%d %H:%M}；截止日期：{limit_text}（按文件时间判断是否按时）。"
                        f"{split}结论为“通过”的机关纳入“汇总”表；问题明细见“问题清单”。", font=PLAIN)])
    counts = result.counts
    ws.append([cell(ws, h.zh, font=HEADER_FONT, fill=HEADER_FILL, align=CENTER, border=True) for h in TOTALS])
    ws.append([cell(ws, counts[h], font=INPUT_FONT, align=CENTER, border=True) for h in TOTALS])
    ws.append([])
    ws.append([cell(ws, h, font=HEADER_FONT, fill=HEADER_FILL, align=CENTER, border=True) for h in TRACKER_HEADERS])
    rows = Rows(ws, TRACKER_HEADER_ROW + 1, len(TRACKER_HEADERS))
    styles = _TrackerStyles(rows)
    for r in result.rows:
        rows.append(_tracker_cells(styles, r))
    n = len(result.rows)
    ws.auto_filter.ref = f"A{TRACKER_HEADER_ROW}:{last}{TRACKER_HEADER_ROW + max(n, 1)}"
    # a small chart of the states of the roster agencies: 通过 / 不通过 / 未提交
    chart = PieChart()
    chart.title = "提交与校验状态"
    first = TOTALS.index(Count.PASSED) + 1
    data = Reference(ws, min_col=first, max_col=first + 2, min_row=TOTALS_ROW + 1)
    cats = Reference(ws, min_col=first, max_col=first + 2, min_row=TOTALS_ROW)
    chart.add_data(data, from_rows=True, titles_from_data=False)
    chart.set_categories(cats)
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.height, chart.width = 6.5, 9.5
    # right of the table, never over it (the table starts at the top left and is as wide as its columns); not
    # printed: the print area is the table
    ws.add_chart(chart, f"{spec.col_letter(len(TRACKER_HEADERS) + 2)}1")
    _print(ws, f"{TRACKER_HEADER_ROW}:{TRACKER_HEADER_ROW}",
           f"A1:{spec.col_letter(TRACKER_PRINTED)}{TRACKER_HEADER_ROW + max(n, 1)}")
    return rows


#: the tracker's columns on paper: up to 说明 (the file path and its SHA-256 are for the screen and programs)
TRACKER_PRINTED = _COL["note"] + 1


def _new_sheet(wb: Workbook, title: str) -> Any:
    """A sheet of the summary, fitted to the page's width when printed (:func:`_print`; a write-only sheet writes
    its properties with its first row, so this is set before any)."""
    ws = wb.create_sheet(title)
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return ws


def _print(ws: Any, title_rows: str | None, area: str) -> None:
    """A sheet of the summary printed as the template's are: A4 landscape, as wide as the page, as many pages
    down as it takes, the header repeated on each, page numbers in the footer."""
    print_setup(ws, True, title_rows, area)


class _TrackerStyles:
    """The style attributes of the tracker's cells, each registered once."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        self.late = rows.style(font=ERROR_FONT, fill=ERROR_FILL, align=CENTER, border=True)
        #: per column: the plain style (dates with their number format; 说明 wrapped)
        self.plain = [rows.style(font=PLAIN, align=WRAP if key == "note" else None, border=True,
                                 fmt=_DATE_FORMATS.get(key)) for key in TRACKER_COLUMNS]
        self._verdict: dict[tuple[int, int], str] = {}

    def verdict(self, fill: PatternFill, font: Font) -> str:
        key = (id(fill), id(font))
        if key not in self._verdict:
            self._verdict[key] = self.rows.style(font=font, fill=fill, align=CENTER, border=True)
        return self._verdict[key]


def _tracker_cells(styles: _TrackerStyles, r: TrackerRow) -> list[tuple[Any, str]]:
    fill, font = _VERDICT_STYLE.get(r.verdict, (GREY_FILL, PLAIN))
    counted = r.state is not State.MISSING
    values: list[Any] = [r.seq or None, r.agency, r.kind, r.level, r.contact, r.state.zh, r.verdict.zh, zh(r.timely),
                         r.submitted.replace(microsecond=0) if r.submitted else None, r.report_date, r.deadline,
                         r.errors if counted else None, r.warnings if counted else None,
                         r.infos if counted else None, r.note, r.path, r.sha256]
    cells = list(zip(values, styles.plain, strict=True))
    cells[_COL["verdict"]] = (r.verdict.zh, styles.verdict(fill, font))
    if r.late:
        cells[_COL["timely"]] = (zh(r.timely), styles.late)
    return cells


def _findings(wb: Workbook, result: CollectResult) -> Rows:
    ws = _new_sheet(wb, FINDINGS_SHEET)
    _widths(ws, FINDINGS_WIDTHS)
    ws.freeze_panes = "C2"
    ws.append([cell(ws, h, font=HEADER_FONT, fill=HEADER_FILL, align=CENTER, border=True) for h in FINDINGS_HEADERS])
    rows = Rows(ws, 2, len(FINDINGS_HEADERS))
    for x in result.findings:
        f = x.finding
        rows.append([(x.agency, ""), (x.path, ""), ("是" if x.used else "否", ""), (f.rule, ""), (f.severity.zh, ""),
                     (f.sheet, ""), (f.cell, ""), (f.labels[0] if f.labels else "", ""),
                     (f.labels[1] if len(f.labels) > 1 else "", ""), (f.message, "")])
    ws.auto_filter.ref = f"A1:{spec.col_letter(len(FINDINGS_HEADERS))}{len(result.findings) + 1}"
    _print(ws, "1:1", f"A1:{spec.col_letter(len(FINDINGS_HEADERS))}{len(result.findings) + 1}")
    return rows


#: the sheet of units whose narrative sections are near copies of each other's (collect.copying), when any are
SIMILAR_SHEET = "内容雷同"
SIMILAR_HEADERS = ("序号", "单位甲", "单位乙", "部分", "甲与乙重复", "乙与甲重复", "单位甲的原文", "单位乙的原文")
SIMILAR_WIDTHS = (6, 26, 26, 22, 11, 11, 70, 70)
_SECTION_TITLES = {s.number: s.title for s in spec.SECTIONS}


def _similar(wb: Workbook, result: CollectResult) -> Rows:
    """内容雷同: one row per passage of each pair, the two units' texts side by side (as sheet XML, :class:`Rows`:
    a county whose units all copied one model report has a pair per unit)."""
    ws = _new_sheet(wb, SIMILAR_SHEET)
    _widths(ws, SIMILAR_WIDTHS)
    ws.freeze_panes = "A3"
    n_rows = sum(len(pair.passages) or 1 for pair in result.similar)
    _print(ws, "1:2", f"A1:{spec.col_letter(len(SIMILAR_HEADERS))}{n_rows + 2}")
    ws.append([cell(ws, result.title("同一上级单位之间内容雷同的报告"), font=TITLE_FONT)])
    ws.append([cell(ws, h, font=HEADER_FONT, fill=HEADER_FILL, align=CENTER, border=True) for h in SIMILAR_HEADERS])
    rows = Rows(ws, 3, len(SIMILAR_HEADERS))
    style = rows.style(font=PLAIN, align=WRAP, border=True)
    # units whose section is the very same text share one passage (similarity.similar_pairs pairs each with the
    # first of them): its text is shown once, the later rows point to it
    shown_at: dict[int, int] = {}
    for n, pair in enumerate(result.similar, 1):
        for k, p in enumerate(pair.passages or (None,)):
            head = (n, pair.a.name, pair.b.name, f"{pair.section}、{_SECTION_TITLES[pair.section]}",
                    f"{pair.share_a:.0%}", f"{pair.share_b:.0%}") if k == 0 else ("",) * 6
            if p is None:
                texts: tuple[str, str] = ("", "")
            elif id(p) in shown_at:
                texts = (f"（全文与第 {shown_at[id(p)]} 行相同）",) * 2
            else:
                shown_at[id(p)] = rows.row
                texts = p.shown()
            rows.append([(v, style) for v in (*head, *texts)])
    return rows


class _Grid:
    """The laid-out top of a sheet: cells placed by (row, column), merged ranges bordered throughout; appended to
    the sheet row by row once complete (a write-only sheet takes its rows in order)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.cells: dict[tuple[int, int], WriteOnlyCell] = {}

    def put(self, row: int, col: int, top_left: WriteOnlyCell, rowspan: int = 1, colspan: int = 1) -> None:
        self.cells[(row, col)] = top_left
        if rowspan > 1 or colspan > 1:
            self.ws.merged_cells.add(
                f"{spec.col_letter(col)}{row}:{spec.col_letter(col + colspan - 1)}{row + rowspan - 1}")
            for r in range(row, row + rowspan):
                for c in range(col, col + colspan):
                    if (r, c) != (row, col):
                        self.cells[(r, c)] = cell(self.ws, None, border=True)

    def write(self, n_cols: int) -> None:
        for row in range(1, max(r for r, _ in self.cells) + 1):
            self.ws.append([self.cells.get((row, col)) for col in range(1, n_cols + 1)])


def _rollup(wb: Workbook, result: CollectResult) -> Rows:
    """汇总: a heading, tables 二, 三 and 四 in the official grid holding the roll-up, then the agencies left out
    and the re-check's findings."""
    ws = _new_sheet(wb, ROLLUP_SHEET)
    n_cols = max(t.n_cols for t in spec.TABLES)
    _widths(ws, [max((t.col_widths[i] if i < len(t.col_widths) else 0) for t in spec.TABLES) for i in range(n_cols)])
    grid = _Grid(ws)
    _rollup_heading(grid, result, n_cols)
    _rollup_tables(grid, wb, result.rollup.values)
    first = rollup_end_row() + 2
    grid.put(first, 1, cell(ws, f"未纳入汇总的机关（{len(result.rollup.excluded)} 个）", font=HEADER_FONT, align=LEFT),
             colspan=n_cols)
    # the lists below are not merged (thousands of merged ranges make openpyxl quadratic); column C is wide
    for i, h in enumerate(("序号", "机关名称", "原因")):
        grid.put(first + 1, i + 1, cell(ws, h, font=HEADER_FONT, fill=HEADER_FILL, align=CENTER, border=True))
    grid.write(n_cols)
    rows = _rollup_lists(ws, result.rollup, first + 2, n_cols)
    _print(ws, None, f"A1:{spec.col_letter(n_cols)}{rollup_end_row()}")
    return rows


def _rollup_heading(grid: _Grid, result: CollectResult, n_cols: int) -> None:
    """Rows 1-3 of 汇总: title, scope, the re-check's verdict."""
    ws, ro = grid.ws, result.rollup
    grid.put(1, 1, cell(ws, result.title("汇总表（二、三、四部分）"), font=TITLE_FONT), colspan=n_cols)
    rostered = sum(1 for r in result.rows if r.seq)
    grid.put(2, 1, cell(ws, f"汇总范围：校验通过的 {len(ro.included)} 个机关（名单共 {rostered} 个）。各单元格为纳入机关报表"
                            "对应单元格之和；未纳入的机关及原因见表后。", font=PLAIN, align=LEFT), colspan=n_cols)
    verdict = "汇总表复核：通过（表内勾稽关系成立）。" if ro.valid else \
        f"汇总表复核：不通过，{severity_counts(ro.findings)[Severity.ERROR]} 个错误，见表后“汇总表复核”。"
    grid.put(3, 1, cell(ws, verdict, font=OK_FONT if ro.valid else ERROR_FONT, fill=OK_FILL if ro.valid else ERROR_FILL,
                        align=LEFT), colspan=n_cols)


def _rollup_tables(grid: _Grid, wb: Workbook, values: Mapping[str, float]) -> None:
    """Tables 二, 三 and 四 as the template lays them out (labels, merges, fonts, fills), each cell holding the
    roll-up and named ``hz_<key>``."""
    ws = grid.ws
    heads, loc = rollup_layout()
    for t in spec.TABLES:
        h = heads[t.id]
        grid.put(h, 1, cell(ws, t.heading, font=TITLE_FONT, align=LEFT), colspan=t.n_cols)
        for lab in t.labels:
            grid.put(h + lab.row, lab.col, cell(ws, lab.text, font=HEADER_FONT if lab.header else LABEL_FONT,
                                                fill=HEADER_FILL if lab.header else None, border=True,
                                                align=CENTER if lab.header or lab.col < 3 or lab.colspan > 1 else LEFT),
                     lab.rowspan, lab.colspan)
        for c in t.cells:
            where = loc[c.key]
            money = c.kind is spec.Kind.MONEY
            grid.put(where.row, where.col, cell(ws, values.get(c.key, 0), font=INPUT_FONT, border=True, align=CENTER,
                                                fill=DERIVED_FILL if c.derived else None,
                                                fmt=MONEY_FORMAT if money else COUNT_FORMAT), 1, c.colspan)
            name = f"hz_{c.key.replace('.', '_')}"
            wb.defined_names[name] = DefinedName(
                name, attr_text=f"'{ROLLUP_SHEET}'!${spec.col_letter(where.col)}${where.row}")


def _rollup_lists(ws: Any, ro: Rollup, first_row: int, n_cols: int) -> Rows:
    """The agencies left out (one row each, written as the tracker's rows are) and the re-check's findings."""
    rows = Rows(ws, first_row, n_cols)
    number, plain = rows.style(font=PLAIN, border=True, align=CENTER), rows.style(font=PLAIN, border=True)
    for i, (agency, why) in enumerate(ro.excluded, start=1):
        rows.append([(i, number), (agency, plain), (why, plain)])
    if ro.findings:
        rows.append([])
        r = rows.row
        ws.merged_cells.add(f"A{r}:{spec.col_letter(n_cols)}{r}")
        rows.append([("汇总表复核", rows.style(font=HEADER_FONT, align=LEFT))]
                    + [(None, rows.style(border=True))] * (n_cols - 1))
        error, warning, text = (rows.style(font=ERROR_FONT), rows.style(font=WARNING_FONT), rows.style(font=PLAIN))
        for f in ro.findings:
            rows.append([(f.severity.zh, error if f.severity is Severity.ERROR else warning), (f.cell, text),
                         (f.message, text)])
    return rows
