"""Builds the locked Excel template from the spec (openpyxl). Everything it writes comes from
:mod:`xl_addin.spec` and :mod:`xl_addin.structure`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .. import drafts, hidden, live, spec, structure
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
ONE_LINE_CENTER = Alignment(horizontal="center", vertical="center")
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)
COUNT_FORMAT = "0"
MONEY_FORMAT = "0.00##"

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFE699", bgColor="FFE699")
OK_FILL = PatternFill("solid", fgColor="C6EFCE", bgColor="C6EFCE")
ERROR_FONT = Font(color="9C0006", bold=True)
WARNING_FONT = Font(color="7F6000")
OK_FONT = Font(color="006100", bold=True)
STATUS_FONT = Font(name="黑体", size=12)

RESULTS_HEADERS = structure.RESULTS_HEADERS


def build_workbook(values: Mapping[str, CellValue] | None = None,
                   prior: Mapping[str, CellValue] | None = None) -> Workbook:
    """The template as an openpyxl Workbook, optionally pre-filled with input ``values`` (by key) and last
    year's figures ``prior`` (by this year's key, see spec.PRIOR_KEYS)."""
    values = dict(values or {})
    exp = structure.expected()
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.title = "政府信息公开工作年度报告"
    wb.properties.creator = "xl_addin"
    wb.properties.description = f"{spec.TEMPLATE_ID} {spec.FORMAT_BASIS}"

    _meta_sheet(wb.create_sheet(spec.META_SHEET), values)
    for t in spec.TABLES:
        _table_sheet(wb.create_sheet(t.sheet), t, values, exp)
    _narrative_sheet(wb.create_sheet(spec.NARRATIVE_SHEET), values)
    _summary_sheet(wb.create_sheet(spec.SUMMARY_SHEET))
    _colour_checks(wb)
    _results_sheet(wb.create_sheet(spec.RESULTS_SHEET))
    _hidden_sheet(wb.create_sheet(spec.HIDDEN_SHEET), prior or {}, exp.fingerprint())

    for key, where in spec.LAYOUT.locations.items():
        ref = f"{_quote(where.sheet)}!${spec.col_letter(where.col)}${where.row}"
        wb.defined_names[spec.defined_name(key)] = DefinedName(spec.defined_name(key), attr_text=ref)

    for ws in wb.worksheets:
        _protect(ws)
    wb.security = WorkbookProtection(workbookPassword=spec.PROTECTION_PASSWORD, lockStructure=True)
    wb.active = 0
    return wb


def write_template(path: str | os.PathLike[str], values: Mapping[str, CellValue] | None = None,
                   prior: Mapping[str, CellValue] | None = None) -> None:
    wb = build_workbook(values, prior)
    atomic_write(path, wb.save)


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


def _print_setup(ws: Worksheet, landscape: bool, title_rows: str | None, area: str) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    if title_rows:
        ws.print_title_rows = title_rows
    ws.print_area = area


def _table_sheet(ws: Worksheet, t: spec.Table, values: Mapping[str, CellValue], exp: structure.Expected) -> None:
    o = spec.TABLE_ORIGIN_ROW
    last_col = spec.col_letter(t.n_cols)
    for i, w in enumerate(t.col_widths):
        ws.column_dimensions[spec.col_letter(i + 1)].width = w
    ws["A1"] = t.heading
    ws["A1"].font = TITLE_FONT
    ws["A1"].alignment = LEFT
    ws.row_dimensions[1].height = 24
    ws.row_dimensions[live.STATUS_ROW].height = 20
    status = ws.cell(live.STATUS_ROW, 1, live.status_formula(t.sheet))
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
    for rng in sorted(exp.merges[t.sheet]):
        ws.merge_cells(rng)
    for lab in t.labels:
        r = o + lab.row - 1
        a = f"{spec.col_letter(lab.col)}{r}"
        ws[a] = lab.text
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
        if c.derived:
            cell.value = exp.formulas[c.key]
        else:
            cell.protection = UNLOCKED
            if c.key in values:
                cell.value = values[c.key]
    _data_validations(ws, t)
    for r in range(o, o + t.n_rows):
        ws.row_dimensions[r].height = 30 if t.id == "t3" else 22
    if t.id == "t3":
        ws.row_dimensions[o].height = 24
        ws.freeze_panes = f"D{o + t.header_rows}"
    title_rows = f"{o}:{o + t.header_rows - 1}" if t.header_rows else None
    _print_setup(ws, t.landscape, title_rows, f"A1:{last_col}{o + t.n_rows - 1}")


def _data_validations(ws: Worksheet, t: spec.Table) -> None:
    """One validation per row of inputs sharing a meaning, with that meaning as its input message."""
    by_row: dict[tuple[int, spec.Kind, str], list[spec.DataCell]] = {}
    for c in t.inputs:
        by_row.setdefault((c.row, c.kind, c.help), []).append(c)
    for (_, kind, _), cells in by_row.items():
        first = cells[0]
        title = (first.row_labels[-1] if first.row_labels else " ".join(first.col_labels[-2:]))[:32]
        if kind is spec.Kind.MONEY:
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
            dv.error = "请输入不小于0的数字，单位为万元（1元=0.0001万元），最多4位小数。没有收费的填0。"
        else:
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
            dv.error = "请输入不小于0的整数（单位：件）。没有的填0，不要填“/”或文字。"
        dv.errorTitle = "数字不符合要求"
        dv.errorStyle = "stop"
        dv.promptTitle = title
        dv.prompt = (first.help or title)[:250]
        dv.showInputMessage = dv.showErrorMessage = True
        for c in cells:
            dv.add(spec.LAYOUT.locations[c.key].a1)
        ws.add_data_validation(dv)


def _meta_sheet(ws: Worksheet, values: Mapping[str, CellValue]) -> None:
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 36
    ws.column_dimensions["C"].width = 70
    ws.merge_cells("A1:C1")
    ws["A1"] = structure.META_TITLE
    ws["A1"].font = TITLE_FONT
    ws.row_dimensions[1].height = 28
    hr = spec.META_FIRST_ROW - 1
    for i, h in enumerate(structure.META_HEADERS):
        ws.cell(hr, i + 1, h)
        _box(ws, f"{spec.col_letter(i + 1)}{hr}", HEADER_FONT, CENTER, HEADER_FILL)
    for f in spec.META_FIELDS:
        where = spec.LAYOUT.locations[f.key]
        r = where.row
        ws.cell(r, 1, f.label)
        _box(ws, f"A{r}", HEADER_FONT, CENTER)
        ws.cell(r, 3, f.help)
        _box(ws, f"C{r}", LABEL_FONT, LEFT)
        _box(ws, f"B{r}", TEXT_FONT, LEFT, INPUT_FILL)
        cell = ws[where.a1]
        cell.protection = UNLOCKED
        if f.key in values:
            cell.value = values[f.key]
        dv: DataValidation | None = None
        if f.kind is spec.Kind.CHOICE:
            dv = DataValidation(type="list", formula1='"' + ",".join(f.choices) + '"', allow_blank=True)
            dv.error = "请从下拉列表中选择：" + "、".join(f.choices)
        elif f.kind is spec.Kind.YEAR:
            dv = DataValidation(type="whole", operator="between", formula1="2021", formula2="2100",
                                allow_blank=True)
            dv.error = "请填写4位年份，如2023（本格式自2021年度起适用）。"
        elif f.kind is spec.Kind.DATE:
            dv = DataValidation(type="date", operator="greaterThan", formula1="44197", allow_blank=True)
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
    _print_setup(ws, False, None, f"A1:C{spec.META_FIRST_ROW + len(spec.META_FIELDS) - 1}")


def _narrative_sheet(ws: Worksheet, values: Mapping[str, CellValue]) -> None:
    n_cols = len(structure.NARRATIVE_HEADERS)
    draft_col = spec.col_letter(drafts.DRAFT_COL)
    for col, width in zip("ABCD", (16, 22, 80, 60), strict=True):
        ws.column_dimensions[col].width = width
    ws.merge_cells(f"A1:{spec.col_letter(n_cols)}1")
    ws["A1"] = structure.NARRATIVE_TITLE
    ws["A1"].font = TITLE_FONT
    ws.row_dimensions[1].height = 28
    hr = spec.NARRATIVE_FIRST_ROW - 1
    for i, h in enumerate(structure.NARRATIVE_HEADERS):
        ws.cell(hr, i + 1, h)
        _box(ws, f"{spec.col_letter(i + 1)}{hr}", HEADER_FONT, CENTER, HEADER_FILL)
    for heading, row, n in structure.narrative_section_rows():
        if n > 1:
            ws.merge_cells(f"A{row}:A{row + n - 1}")
        ws.cell(row, 1, heading)
        _box(ws, f"A{row}:A{row + n - 1}", HEADER_FONT, CENTER)
    for f in spec.NARRATIVE_FIELDS:
        where = spec.LAYOUT.locations[f.key]
        ws.cell(where.row, 2, f.label)
        _box(ws, f"B{where.row}", LABEL_FONT, LEFT)
        _box(ws, where.a1, TEXT_FONT, TOP_LEFT, INPUT_FILL)
        _box(ws, f"{draft_col}{where.row}", LABEL_FONT, TOP_LEFT)
        cell = ws[where.a1]
        cell.protection = UNLOCKED
        if f.key in values:
            cell.value = values[f.key]
        dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="32000", allow_blank=True)
        dv.promptTitle = f.label[:32]
        dv.prompt = f.help[:250]
        dv.showInputMessage = True
        dv.add(where.a1)
        ws.add_data_validation(dv)
        ws.row_dimensions[where.row].height = 120
    last = spec.NARRATIVE_FIRST_ROW + len(spec.NARRATIVE_FIELDS) - 1
    for row, heading, label in structure.draft_rows():
        ws.cell(row, 1, heading)
        _box(ws, f"A{row}", HEADER_FONT, CENTER)
        ws.cell(row, 2, label)
        _box(ws, f"B{row}", LABEL_FONT, LEFT)
        ws.cell(row, 3, structure.DRAFT_ROW_NOTE)
        _box(ws, f"C{row}", LABEL_FONT, TOP_LEFT)
        ws.row_dimensions[row].height = 90
        last = max(last, row)
    cells = drafts.draft_cells()
    for d in drafts.DRAFTS:
        _, a1 = cells[d.id]
        ws[a1] = drafts.draft_formula(d)
        _box(ws, a1, LABEL_FONT, TOP_LEFT, DERIVED_FILL)
    _print_setup(ws, True, f"{hr}:{hr}", f"A1:{spec.col_letter(n_cols)}{last}")


def _summary_sheet(ws: Worksheet) -> None:
    """校验汇总: one row per live check, its state computed by a formula compiled from the rule catalogue."""
    n_cols = len(live.HEADERS)
    last_col = spec.col_letter(n_cols)
    for i, w in enumerate(live.WIDTHS):
        ws.column_dimensions[spec.col_letter(i + 1)].width = w
    ws.merge_cells(f"A{live.TITLE_ROW}:{last_col}{live.TITLE_ROW}")
    ws.cell(live.TITLE_ROW, 1, live.TITLE).font = TITLE_FONT
    ws.merge_cells(f"A{live.OVERALL_ROW}:{last_col}{live.OVERALL_ROW}")
    overall = ws.cell(live.OVERALL_ROW, 1, live.overall_formula())
    overall.font = STATUS_FONT
    ws.row_dimensions[live.TITLE_ROW].height = 26
    ws.row_dimensions[live.OVERALL_ROW].height = 20
    for i, h in enumerate(live.HEADERS):
        ws.cell(live.HEADER_ROW, i + 1, h)
        _box(ws, f"{spec.col_letter(i + 1)}{live.HEADER_ROW}", HEADER_FONT, CENTER, HEADER_FILL)
    rows = live.summary_rows()
    for r, row in enumerate(rows, start=live.FIRST_ROW):
        for c, v in enumerate(row, start=1):
            cell = ws.cell(r, c, v)
            cell.border = BORDER
            cell.font = LABEL_FONT
            cell.alignment = ONE_LINE_CENTER if c in (1, 3, 4, 6, len(row)) else ONE_LINE
    last = live.FIRST_ROW + len(rows) - 1
    state = spec.col_letter(live.COL_STATE)
    rng = f"{state}{live.FIRST_ROW}:{state}{last}"
    first = f"{state}{live.FIRST_ROW}"
    ws.conditional_formatting.add(rng, FormulaRule(formula=[f'{first}="{live.FAIL}"'], fill=ERROR_FILL,
                                                   font=ERROR_FONT, stopIfTrue=True))
    ws.conditional_formatting.add(rng, FormulaRule(formula=[f'{first}="{live.PASS}"'], fill=OK_FILL, font=OK_FONT))
    ws.conditional_formatting.add(f"A{live.OVERALL_ROW}:{last_col}{live.OVERALL_ROW}",
                                  FormulaRule(formula=[f'COUNTIF(${state}${live.FIRST_ROW}:${state}${last},"{live.FAIL}")>0'],
                                              fill=ERROR_FILL, font=ERROR_FONT, stopIfTrue=True))
    ws.auto_filter.ref = f"A{live.HEADER_ROW}:{last_col}{last}"
    ws.freeze_panes = f"C{live.FIRST_ROW}"
    _print_setup(ws, True, f"{live.HEADER_ROW}:{live.HEADER_ROW}", f"A1:{last_col}{last}")


def _colour_checks(wb: Workbook) -> None:
    """Red (error) or amber (warning) on the cells a failing live check covers."""
    for c in live.colourings():
        fill, font = (ERROR_FILL, ERROR_FONT) if c.severity is Severity.ERROR else (WARNING_FILL, WARNING_FONT)
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
    _print_setup(ws, True, "1:1", "A1:G200")


def _hidden_sheet(ws: Worksheet, prior: Mapping[str, CellValue], fingerprint: str) -> None:
    for r, row in enumerate(hidden.rows(hidden.values(fingerprint)), start=1):
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
    for key in spec.PRIOR_KEYS:
        where = spec.LAYOUT.locations[spec.prior_key(key)]
        ws.cell(where.row, 1, spec.prior_key(key))
        ws.cell(where.row, 3, "上年" + "".join(spec.labels_of(key)))
        if prior.get(key) is not None:
            ws.cell(where.row, 2, prior[key])
    ws.sheet_state = "hidden"
