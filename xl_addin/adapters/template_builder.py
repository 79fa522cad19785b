"""Builds the locked Excel template from the spec (openpyxl). Everything it writes comes from
:mod:`xl_addin.spec` and :mod:`xl_addin.structure`."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .. import drafts, fingerprint, hidden, live, profiles, spec, structure
from ..model import CellValue, Severity
from .fileio import atomic_write

LABEL_FONT = Font(name="宋体", size=11)
HEADER_FONT = Font(name="宋体", size=11, bold=True)
TITLE_FONT = Font(name="黑体", size=14)
INPUT_FONT = Font(name="Times New Roman", size=11)
TEXT_FONT = Font(name="仿宋", size=12)
INPUT_FILL = PatternFill("solid", fgColor=structure.INPUT_COLOR)
DERIVED_FILL = PatternFill("solid", fgColor=structure.DERIVED_COLOR)
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
TOP_LEFT = Alignment(horizontal="left", vertical="top", wrap_text=True)
ONE_LINE = Alignment(horizontal="left", vertical="center")
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)
#: General, not "0": a decimal typed by mistake (1.5) shows as typed instead of rounded to 2
COUNT_FORMAT = "General"
MONEY_FORMAT = "0.00##"

_ERR, _WARN = structure.MARK_COLORS[Severity.ERROR], structure.MARK_COLORS[Severity.WARNING]
ERROR_FILL = PatternFill("solid", fgColor=_ERR, bgColor=_ERR)
WARNING_FILL = PatternFill("solid", fgColor=_WARN, bgColor=_WARN)
OK_FILL = PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE")
ERROR_FONT = Font(color="9C0006", bold=True)
WARNING_FONT = Font(color="7F6000")
OK_FONT = Font(color="006100", bold=True)
IDENTITY_FILL = PatternFill("solid", fgColor=structure.IDENTITY_COLOR, bgColor=structure.IDENTITY_COLOR)
IDENTITY_FONT = Font(color="3F3151", bold=True)
#: how each kind of live mark looks (live.Mark)
MARK_STYLES = {live.Mark.VALUE: (ERROR_FILL, ERROR_FONT), live.Mark.IDENTITY: (IDENTITY_FILL, IDENTITY_FONT),
               live.Mark.WARNING: (WARNING_FILL, WARNING_FONT), live.Mark.BLANK: (WARNING_FILL, WARNING_FONT)}
FOOTER = "第 &P 页，共 &N 页"
STATUS_FONT = Font(name="黑体", size=12)
LEGEND_FONT = Font(size=9, color="595959")

RESULTS_HEADERS = structure.RESULTS_HEADERS
#: what starts a formula when typed into a spreadsheet: a text starting so is kept a text (put)
FORMULA_STARTS = ("=", "+", "-", "@")


def put(cell: Any, value: CellValue) -> None:
    """Write ``value`` into an openpyxl cell, a text always as a text: openpyxl writes a str starting with "=" as a
    live formula, and a report's ``=WEBSERVICE(...)`` line would then send the workbook's data out when it is
    opened. Such a text is a string cell with Excel's quote prefix (editing it keeps it a text too). Control
    characters no cell can hold become spaces."""
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):  # openpyxl refuses them: a space each
        value = ILLEGAL_CHARACTERS_RE.sub(" ", value)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True


def build_workbook(values: Mapping[str, CellValue] | None = None,
                   prior: Mapping[str, CellValue] | None = None,
                   profile: profiles.Profile | None = None) -> Workbook:
    """The template as an openpyxl Workbook, optionally pre-filled with input ``values`` (by key) and last
    year's figures ``prior`` (by this year's key, see spec.PRIOR_KEYS), its live checks compiled under rule
    ``profile`` (None or a national one: the national template, unchanged): a rule it switches off has no row on
    校验汇总, a level it changes is shown and counted, its fee bar is the formula's; the hidden sheet records the
    profile (name, title, digest, live settings) and 校验汇总 shows its title."""
    values = dict(values or {})
    s = live.settings_of(profile)
    under = profile if profile is not None and not profile.national else None
    exp = structure.expected()
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = "政府信息公开工作年度报告"
    wb.properties.creator = "xl_addin"
    wb.properties.description = f"{spec.TEMPLATE_ID} {spec.FORMAT_BASIS}"

    _meta_sheet(wb.create_sheet(spec.META_SHEET), values, exp)
    for t in spec.TABLES:
        _table_sheet(wb.create_sheet(t.sheet), t, values, exp, s)
    _narrative_sheet(wb.create_sheet(spec.NARRATIVE_SHEET), values, exp)
    _unlock(wb, exp)
    _summary_sheet(wb.create_sheet(spec.SUMMARY_SHEET), s, under)
    _colour_checks(wb, s)
    _results_sheet(wb.create_sheet(spec.RESULTS_SHEET))
    _hidden_sheet(wb.create_sheet(spec.HIDDEN_SHEET), prior or {}, fingerprint.of(exp, s), under, s)

    for key, where in spec.LAYOUT.locations.items():
        ref = f"{_quote(where.sheet)}!${spec.col_letter(where.col)}${where.row}"
        wb.defined_names[spec.defined_name(key)] = DefinedName(spec.defined_name(key), attr_text=ref)

    for ws in wb.worksheets:
        _protect(ws)
    wb.security = WorkbookProtection(workbookPassword=spec.PROTECTION_PASSWORD, lockStructure=True)
    wb.active = 0
    return wb


def write_template(path: str | os.PathLike[str], values: Mapping[str, CellValue] | None = None,
                   prior: Mapping[str, CellValue] | None = None, profile: profiles.Profile | None = None) -> None:
    wb = build_workbook(values, prior, profile)
    atomic_write(path, wb.save)


def _owned(ws: Worksheet, exp: structure.Expected) -> None:
    """What the template owns on this sheet, exactly as :func:`xl_addin.structure.expected` declares it (and S2
    compares): merged ranges, fixed texts and the derived formulas (the unlocked input cells: :func:`_unlock`).
    The sheet builders only style and add what S2 does not judge."""
    for rng in sorted(exp.merges.get(ws.title, ())):
        ws.merge_cells(rng)
    for (sheet, a1), text in exp.labels.items():
        if sheet == ws.title:
            ws[a1.split(":")[0]] = structure.sheet_head(text)
    for key, formula in exp.formulas.items():
        where = spec.LAYOUT.locations[key]
        if where.sheet == ws.title:
            ws[where.a1] = formula


def _unlock(wb: Workbook, exp: structure.Expected) -> None:
    """The input cells :func:`xl_addin.structure.expected` declares unlocked (after styling, which locks)."""
    for sheet, cells in exp.unlocked.items():
        for a1 in sorted(cells):
            wb[sheet][a1].protection = UNLOCKED


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _protect(ws: Worksheet) -> None:
    p = ws.protection
    p.sheet = True
    p.objects = True
    p.scenarios = True
    p.password = spec.PROTECTION_PASSWORD
    p.selectLockedCells = False
    p.selectUnlockedCells = False
    p.formatRows = ws.title != spec.NARRATIVE_SHEET  # the clerk may enlarge narrative rows
    p.autoFilter = ws.title != spec.SUMMARY_SHEET  # and filter the check list


def _box(ws: Worksheet, rng: str, font: Font, align: Alignment, fill: PatternFill | None = None) -> None:
    for row in ws[rng] if ":" in rng else ((ws[rng],),):
        for c in row:
            c.border = BORDER
            c.font = font
            c.alignment = align
            c.protection = LOCKED
            if fill is not None:
                c.fill = fill


#: page margins (inches): the footer (page numbers) 0.3 in from the paper's edge inside a 0.8 in bottom margin, so
#: it has room for its line (a 0.5 in footer inside a 0.6 in margin printed the page numbers cut in half)
MARGINS = {"left": 0.5, "right": 0.5, "top": 0.6, "bottom": 0.8, "header": 0.3, "footer": 0.3}


def print_margins(ws: Any) -> None:
    """:data:`MARGINS` on a sheet (the template's and the coordinator's summary workbook's)."""
    for side, inches in MARGINS.items():
        setattr(ws.page_margins, side, inches)


def print_setup(ws: Worksheet, landscape: bool, title_rows: str | None, area: str) -> None:
    """A4, as wide as the page, as many pages down as it takes, centred, :data:`MARGINS`, the title rows repeated,
    page numbers in the footer (the template's sheets and the coordinator's summary workbook's)."""
    ws.page_setup.paperSize = "9"  # A4 (Worksheet.PAPERSIZE_A4; a write-only sheet has no such attribute)
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    print_margins(ws)
    if title_rows:
        ws.print_title_rows = title_rows
    ws.print_area = area
    ws.oddFooter.center.text = FOOTER
    ws.evenFooter.center.text = FOOTER


def _table_sheet(ws: Worksheet, t: spec.Table, values: Mapping[str, CellValue], exp: structure.Expected,
                 s: live.Settings = live.NATIONAL) -> None:
    o = spec.TABLE_ORIGIN_ROW
    last_col = spec.col_letter(t.n_cols)
    for i, w in enumerate(t.col_widths):
        ws.column_dimensions[spec.col_letter(i + 1)].width = w
    _owned(ws, exp)
    ws["A1"].font = TITLE_FONT
    ws["A1"].alignment = LEFT
    ws.row_dimensions[1].height = 24
    ws.row_dimensions[live.STATUS_ROW].height = 20
    status = ws.cell(live.STATUS_ROW, 1, live.status_formula(t.sheet, s))
    status.font = STATUS_FONT
    status.alignment = LEFT
    rng = f"A{live.STATUS_ROW}:{last_col}{live.STATUS_ROW}"
    ws.conditional_formatting.add(rng, FormulaRule(formula=[f'$A${live.STATUS_ROW}="{live.TABLE_OK}"'], fill=OK_FILL,
                                                   font=OK_FONT, stopIfTrue=True))
    n = len(live.TABLE_WARNINGS_ONLY)
    ws.conditional_formatting.add(rng, FormulaRule(
        formula=[f'LEFT($A${live.STATUS_ROW},{n})="{live.TABLE_WARNINGS_ONLY}"'], fill=WARNING_FILL,
        font=WARNING_FONT, stopIfTrue=True))
    ws.conditional_formatting.add(rng, FormulaRule(formula=[f'$A${live.STATUS_ROW}<>"{live.TABLE_OK}"'],
                                                   fill=ERROR_FILL, font=ERROR_FONT, stopIfTrue=True))
    identity = ws.cell(live.IDENTITY_ROW, 1, live.identity_formula(t.sheet, s) or None)
    identity.font = IDENTITY_FONT
    identity.alignment = ONE_LINE
    ws.row_dimensions[live.IDENTITY_ROW].height = 18
    for lab in t.labels:
        r = o + lab.row - 1
        a = f"{spec.col_letter(lab.col)}{r}"
        end = f"{spec.col_letter(lab.col + lab.colspan - 1)}{r + lab.rowspan - 1}"
        rng = a if end == a else f"{a}:{end}"
        if lab.header:
            _box(ws, rng, HEADER_FONT, CENTER, HEADER_FILL)
        else:
            _box(ws, rng, LABEL_FONT, CENTER if lab.col < 3 or lab.colspan > 1 else LEFT)
    for c in t.cells:
        where = spec.LAYOUT.locations[c.key]
        _box(ws, where.a1_range, INPUT_FONT, CENTER, DERIVED_FILL if c.derived else INPUT_FILL)
        cell = ws[where.a1]
        cell.number_format = MONEY_FORMAT if c.kind is spec.Kind.MONEY else COUNT_FORMAT
        if not c.derived and c.key in values:
            put(cell, values[c.key])
    _data_validations(ws, t)
    for r in range(o, o + t.n_rows):
        ws.row_dimensions[r].height = 30 if t.id == "t3" else 22
    if t.id == "t3":
        ws.row_dimensions[o].height = 24
        ws.freeze_panes = f"D{o + t.header_rows}"
    legend_row = o + t.n_rows + 1
    ws.cell(legend_row, 1, structure.LEGEND).font = LEGEND_FONT
    title_rows = f"{o}:{o + t.header_rows - 1}" if t.header_rows else None
    print_setup(ws, t.landscape, title_rows, f"A1:{last_col}{legend_row}")


def _data_validations(ws: Worksheet, t: spec.Table) -> None:
    """One validation per row of inputs sharing a meaning, with that meaning as its input message."""
    by_row: dict[tuple[int, spec.Kind, str], list[spec.DataCell]] = {}
    for c in t.inputs:
        by_row.setdefault((c.row, c.kind, c.help), []).append(c)
    for (_, kind, _), cells in by_row.items():
        first = cells[0]
        title = (first.row_labels[-1] if first.row_labels else " ".join(first.col_labels[-2:]))[:32]
        dv = DataValidation(type=structure.VALIDATION_TYPES[kind], operator="greaterThanOrEqual", formula1="0",
                            allow_blank=True)
        if kind is spec.Kind.MONEY:
            dv.error = "请输入不小于0的数字，单位为万元（1元=0.0001万元），最多4位小数。没有收费的填0。"
        else:
            dv.error = "请输入不小于0的整数（单位：件）。没有的填0，不要填“/”或文字。"
        dv.errorTitle = "数字不符合要求"
        dv.errorStyle = "stop"
        dv.promptTitle = title
        dv.prompt = (first.help or title)[:250]
        dv.showInputMessage = dv.showErrorMessage = True
        for c in cells:
            dv.add(spec.LAYOUT.locations[c.key].a1)
        ws.add_data_validation(dv)


def _meta_sheet(ws: Worksheet, values: Mapping[str, CellValue], exp: structure.Expected) -> None:
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 70
    _owned(ws, exp)
    ws["A1"].font = TITLE_FONT
    ws.row_dimensions[1].height = 28
    hr = spec.META_FIRST_ROW - 1
    for i in range(len(structure.META_HEADERS)):
        _box(ws, f"{spec.col_letter(i + 1)}{hr}", HEADER_FONT, CENTER, HEADER_FILL)
    for f in spec.META_FIELDS:
        where = spec.LAYOUT.locations[f.key]
        r = where.row
        _box(ws, f"A{r}", HEADER_FONT, CENTER)
        _box(ws, f"C{r}", LABEL_FONT, LEFT)
        _box(ws, f"B{r}", TEXT_FONT, LEFT, INPUT_FILL)
        cell = ws[where.a1]
        if f.key in values:
            put(cell, values[f.key])
        dv: DataValidation | None = None
        if f.kind is spec.Kind.CHOICE:
            dv = DataValidation(type=structure.VALIDATION_TYPES[f.kind], formula1='"' + ",".join(f.choices) + '"',
                                allow_blank=True)
            dv.error = "请从下拉列表中选择：" + "、".join(f.choices)
        elif f.kind is spec.Kind.YEAR:
            dv = DataValidation(type=structure.VALIDATION_TYPES[f.kind], operator="between",
                                formula1=str(spec.YEAR_MIN), formula2=str(spec.YEAR_MAX), allow_blank=True)
            dv.error = f"请填写4位年份，如2023（本格式自{spec.YEAR_MIN}年度起适用）。"
        elif f.kind is spec.Kind.DATE:
            dv = DataValidation(type=structure.VALIDATION_TYPES[f.kind], operator="greaterThan",
                                formula1=str(int(to_excel(dt.date(spec.YEAR_MIN, 1, 1)))), allow_blank=True)
            dv.error = "请填写日期，如2024-1-17。"
            cell.number_format = "yyyy\"年\"m\"月\"d\"日\""
        if dv is not None:
            dv.errorTitle = "填写不符合要求"
            dv.promptTitle = f.label
            dv.prompt = f.help[:250]
            dv.showInputMessage = dv.showErrorMessage = True
            dv.add(where.a1)
            ws.add_data_validation(dv)
        ws.row_dimensions[r].height = 30
    print_setup(ws, False, None, f"A1:C{spec.META_FIRST_ROW + len(spec.META_FIELDS) - 1}")


def _narrative_sheet(ws: Worksheet, values: Mapping[str, CellValue], exp: structure.Expected) -> None:
    n_cols = len(structure.NARRATIVE_HEADERS)
    draft_col = spec.col_letter(drafts.DRAFT_COL)
    for col, width in zip("ABCD", (16, NARRATIVE_LABEL_WIDTH, structure.NARRATIVE_TEXT_WIDTH, 60), strict=True):
        ws.column_dimensions[col].width = width
    _owned(ws, exp)
    ws["A1"].font = TITLE_FONT
    ws.row_dimensions[1].height = 28
    hr = spec.NARRATIVE_FIRST_ROW - 1
    for i in range(len(structure.NARRATIVE_HEADERS)):
        _box(ws, f"{spec.col_letter(i + 1)}{hr}", HEADER_FONT, CENTER, HEADER_FILL)
    for _, row, n in structure.narrative_section_rows():
        _box(ws, f"A{row}:A{row + n - 1}", HEADER_FONT, CENTER)
    for f in spec.NARRATIVE_FIELDS:
        where = spec.LAYOUT.locations[f.key]
        _box(ws, f"B{where.row}", LABEL_FONT, LEFT)
        _box(ws, where.a1, TEXT_FONT, TOP_LEFT, INPUT_FILL)
        _box(ws, f"{draft_col}{where.row}", LABEL_FONT, TOP_LEFT)
        cell = ws[where.a1]
        if f.key in values:
            put(cell, values[f.key])
        dv = DataValidation(type=structure.TEXT_VALIDATION, operator="lessThanOrEqual", formula1="32000", allow_blank=True)
        dv.promptTitle = f.label[:32]
        dv.prompt = f.help[:250]
        dv.showInputMessage = True
        dv.add(where.a1)
        ws.add_data_validation(dv)
        # a row with text is as tall as the text; an empty one has no fixed height, so it grows as the clerk types
        ws.row_dimensions[where.row].height = structure.narrative_row_height(str(values.get(f.key) or ""))
        # No conditional format here: T9 (pasted numbering) needs Unicode whitespace and character classes no
        # portable formula has, so a colour could only approximate it and disagree with the rule; 校验 marks it.
    last = spec.NARRATIVE_FIRST_ROW + len(spec.NARRATIVE_FIELDS) - 1
    for row, _, _ in structure.draft_rows():
        _box(ws, f"A{row}", HEADER_FONT, CENTER)
        _box(ws, f"B{row}", LABEL_FONT, LEFT)
        _box(ws, f"C{row}", LABEL_FONT, TOP_LEFT)
        ws.row_dimensions[row].height = 90
        last = max(last, row)
    cells = drafts.draft_cells()
    for d in drafts.DRAFTS:
        _, a1 = cells[d.id]
        ws[a1] = drafts.draft_formula(d)
        _box(ws, a1, LABEL_FONT, TOP_LEFT, DERIVED_FILL)
    legend_row = last + 2
    ws.cell(legend_row, 1, NARRATIVE_LEGEND).font = LEGEND_FONT
    print_setup(ws, True, f"{hr}:{hr}", f"A1:{spec.col_letter(n_cols)}{legend_row}")


#: the colour legend printed under the 正文 rows (its colours: the input cells, the drafted sentences, and the
#: marks the 校验 button leaves on a cell a finding names)
NARRATIVE_LEGEND = ("图例：浅黄色＝请填写；灰色＝按表格数字自动生成的句子（供参考）；点“校验”后，红色＝有错误，"
                    "橙色＝警告（如正文自带序号），蓝色＝提示。")
#: column B of 正文 (the field labels): the longest label on one line, so that a row left to grow as the clerk
#: types still prints its label whole
NARRATIVE_LABEL_WIDTH = 2 * max(len(f.label) for f in spec.NARRATIVE_FIELDS) + 4


#: the columns of 校验汇总 shown centred (序号 and the short ones)
_CENTRED = (1, live.COL_RULE, live.COL_SEVERITY, live.COL_SHEET, live.COL_STATE)


def _check_row(ws: Worksheet, r: int, row: Sequence[object]) -> None:
    """One row of checks on 校验汇总 (the failing list at the top or the full list), boxed."""
    for c, v in enumerate(row, start=1):
        cell = ws.cell(r, c, v)
        cell.border = BORDER
        cell.font = LABEL_FONT
        cell.alignment = CENTER if c in _CENTRED else LEFT


def _row_lines(row: Sequence[object]) -> int:
    """Lines the tallest shown text of a 校验汇总 row takes wrapped in its column (a formula's texts: the longest
    string it can give, e.g. every group of a 表四 blank row; hidden columns aside)."""
    lines = [1]
    for c, v in enumerate(row, start=1):
        if c in live.HIDDEN_COLS or not isinstance(v, str):
            continue
        texts = [max(re.findall(r'"([^"]*)"', v), key=len)] if v.startswith("=") and c == live.COL_ROW else [v]
        lines += [structure.wrapped_lines(t, live.WIDTHS[c - 1] - 1) for t in texts if not t.startswith("=")]
    return max(lines)


def profile_note(profile: profiles.Profile) -> str:
    """What 校验汇总's note adds in a template built under a rule profile (Chinese): the profile's title."""
    return f"本模板按规则配置“{profile.title}”（{profile.name}）生成，表中检查的级别和范围按该配置。"


def _summary_sheet(ws: Worksheet, s: live.Settings = live.NATIONAL, profile: profiles.Profile | None = None) -> None:
    """校验汇总: the failing checks listed at the top (by formulas), then one row per live check, its state computed
    by a formula compiled from the catalogue (under the settings ``s`` of ``profile``, named in the note)."""
    n_cols = len(live.HEADERS)
    last_col = spec.col_letter(n_cols)
    for i, w in enumerate(live.WIDTHS):
        ws.column_dimensions[spec.col_letter(i + 1)].width = w
    for c in live.HIDDEN_COLS:
        ws.column_dimensions[spec.col_letter(c)].hidden = True
    note = live.NOTE if profile is None else profile_note(profile) + live.NOTE
    note_lines = structure.wrapped_lines(note, sum(w for c, w in enumerate(live.WIDTHS, 1) if c not in live.HIDDEN_COLS))
    lines = ((live.TITLE_ROW, live.TITLE, TITLE_FONT, 26), (live.OVERALL_ROW, live.overall_formula(s), STATUS_FONT, 20),
             (live.NOTE_ROW, note, LABEL_FONT, 30 if profile is None else 15 * note_lines + 2),
             (live.FAILING_TITLE_ROW, f"不通过的检查（最多列出前 {live.FAILING_ROWS} 项）", HEADER_FONT, 18),
             (live.FAILING_MORE_ROW, live.failing_more_formula(s), LABEL_FONT, 16),
             (live.ALL_TITLE_ROW, "全部检查（可在“状态”列筛选“不通过”）", HEADER_FONT, 18))
    for at, text, font, height in lines:
        ws.merge_cells(f"A{at}:{last_col}{at}")
        line = ws.cell(at, 1, text)
        line.font = font
        line.alignment = LEFT
        ws.row_dimensions[at].height = height
    for header_row in (live.FAILING_HEADER_ROW, live.HEADER_ROW):
        ws.row_dimensions[header_row].height = 30
        for i, h in enumerate(live.HEADERS):
            ws.cell(header_row, i + 1, h)
            _box(ws, f"{spec.col_letter(i + 1)}{header_row}", HEADER_FONT, CENTER, HEADER_FILL)
    rows = live.summary_rows(s)
    # the list at the top shows any check's texts (by formulas): each row is as tall as the tallest of them, so no
    # long label prints over the row below
    top = max(_row_lines(row) for row in rows)
    for r, row in enumerate(live.failing_rows(s), start=live.FAILING_FIRST_ROW):
        _check_row(ws, r, row)
        ws.row_dimensions[r].height = 14 * top + 2
    for r, row in enumerate(rows, start=live.FIRST_ROW):
        _check_row(ws, r, row)
        # a long official label wraps: the row is made tall enough to show it whole (spreadsheets do not
        # re-measure rows of a file a program wrote)
        tallest = _row_lines(row)
        if tallest > 1:
            ws.row_dimensions[r].height = 14 * tallest + 2
    last = live.FIRST_ROW + len(rows) - 1
    state = spec.col_letter(live.COL_STATE)
    for first_row, last_row in ((live.FIRST_ROW, last),
                                (live.FAILING_FIRST_ROW, live.FAILING_FIRST_ROW + live.FAILING_ROWS - 1)):
        rng = f"{state}{first_row}:{state}{last_row}"
        first = f"{state}{first_row}"
        ws.conditional_formatting.add(rng, FormulaRule(formula=[f'{first}="{live.FAIL}"'], fill=ERROR_FILL,
                                                       font=ERROR_FONT, stopIfTrue=True))
    ws.conditional_formatting.add(f"{state}{live.FIRST_ROW}:{state}{last}",
                                  FormulaRule(formula=[f'{state}{live.FIRST_ROW}="{live.PASS}"'], fill=OK_FILL,
                                              font=OK_FONT))
    # the headline: red for errors, amber for warnings or blank cells only (a blank form is not "wrong"), green
    severity = spec.col_letter(live.COL_SEVERITY)
    headline = f"A{live.OVERALL_ROW}:{last_col}{live.OVERALL_ROW}"
    errors = (f'COUNTIFS(${severity}${live.FIRST_ROW}:${severity}${last},"{Severity.ERROR.zh}",'
              f'${state}${live.FIRST_ROW}:${state}${last},"{live.FAIL}")>0')
    ws.conditional_formatting.add(headline, FormulaRule(formula=[errors], fill=ERROR_FILL, font=ERROR_FONT,
                                                        stopIfTrue=True))
    not_clean = f'LEFT($A${live.OVERALL_ROW},{len(live.TABLE_PART) + 1})="{live.TABLE_PART}有"'
    ws.conditional_formatting.add(headline, FormulaRule(formula=[not_clean], fill=WARNING_FILL, font=WARNING_FONT,
                                                        stopIfTrue=True))
    ws.conditional_formatting.add(headline, FormulaRule(formula=["TRUE"], fill=OK_FILL, font=OK_FONT))
    ws.auto_filter.ref = f"A{live.HEADER_ROW}:{last_col}{last}"
    ws.freeze_panes = f"A{live.FAILING_FIRST_ROW}"
    print_setup(ws, True, f"{live.HEADER_ROW}:{live.HEADER_ROW}", f"A1:{last_col}{last}")


def _colour_checks(wb: Workbook, s: live.Settings = live.NATIONAL) -> None:
    """The cells a failing live check covers: red (bad value), purple (an identity), amber (warning, blank)."""
    for c in live.colourings(s):
        fill, font = MARK_STYLES[c.mark]
        wb[c.sheet].conditional_formatting.add(c.ranges, FormulaRule(formula=[c.formula], fill=fill, font=font,
                                                                      stopIfTrue=True))


def _results_sheet(ws: Worksheet) -> None:
    widths = (6, 6, 8, 10, 30, 22, 80)
    for i, (h, w) in enumerate(zip(RESULTS_HEADERS, widths, strict=True)):
        ws.column_dimensions[spec.col_letter(i + 1)].width = w
        ws.cell(1, i + 1, h)
        _box(ws, f"{spec.col_letter(i + 1)}1", HEADER_FONT, CENTER, HEADER_FILL)
    ws["A2"] = structure.RESULTS_NOT_RUN
    ws.freeze_panes = "A2"
    print_setup(ws, True, "1:1", "A1:G200")


def _hidden_sheet(ws: Worksheet, prior: Mapping[str, CellValue], fingerprint: str,
                  profile: profiles.Profile | None = None, s: live.Settings = live.NATIONAL) -> None:
    for r, row in enumerate(hidden.rows(hidden.values(fingerprint)), start=1):
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
    if profile is not None:  # the profile built under, where the clerk cannot edit it (hidden, protected)
        props = {"profile_name": profile.name, "profile_title": profile.title, "profile_digest": profile.digest(),
                 "profile_live": json.dumps(s.to_json(), ensure_ascii=False, sort_keys=True)}
        for r, key, value, label in hidden.profile_rows(props):
            ws.cell(r, 1, key)
            put(ws.cell(r, 2), value)
            ws.cell(r, 3, label)
    for key in spec.PRIOR_KEYS:
        where = spec.LAYOUT.locations[spec.prior_key(key)]
        ws.cell(where.row, 1, spec.prior_key(key))
        ws.cell(where.row, 3, "上年" + "".join(spec.labels_of(key)))
        if prior.get(key) is not None:
            put(ws.cell(where.row, 2), prior[key])
    ws.sheet_state = "hidden"
