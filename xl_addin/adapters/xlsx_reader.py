"""Reads a filled workbook into a :class:`~xl_addin.model.ReportData` with openpyxl.

Cells are found by their defined names (see :func:`xl_addin.spec.defined_name`), never by coordinates, so a
later template version may move them. Formulas are read as text; cached values are never trusted.
:func:`assemble` is shared with the fast reader, so both produce the same snapshot.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

from .. import spec, structure
from ..model import CellValue, ReportData, Structure
from .fileio import ReadError, sniff

#: (sheet, A1) -> (value, formula text or None)
CellGetter = Callable[[str, str], tuple[CellValue, str | None]]

NOT_OURS = ("不是用本工具的年报模板填写的工作簿（找不到模板的命名单元格）。"
            "请使用县政务公开办下发的模板填报，或用 xl-addin template 生成模板。")
ODS = "这是 OpenDocument（.ods）文件，请在 WPS 或 LibreOffice 中“另存为”Excel 2007-365（.xlsx）格式后再检查。"


def parse_ref(ref: str) -> tuple[str, str] | None:
    """``'表三'!$D$7`` -> ("表三", "D7"); None for anything else (#REF!, ranges on several sheets)."""
    if "!" not in ref:
        return None
    sheet, cell = ref.rsplit("!", 1)
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    cell = cell.replace("$", "").split(":")[0]
    if not cell[:1].isalpha() or not cell[-1:].isdigit() or "#" in sheet:
        return None
    return sheet, cell


def assemble(path: str, dests: dict[str, tuple[str, str]], sheets: set[str], cell: CellGetter,
             props: dict[str, str], build_structure: Callable[[dict[str, str]], Structure] | None) -> ReportData:
    ours = props.get("template_id") == spec.TEMPLATE_ID or len(dests) >= len(spec.INPUT_KEYS) // 2
    if not ours:
        raise ReadError(path, NOT_OURS)
    values: dict[str, CellValue] = {}
    formulas: dict[str, str] = {}
    locations = dict(spec.LAYOUT.locations)
    missing: set[str] = set()
    prior: dict[str, CellValue] = {}
    for key in spec.ALL_KEYS:
        default = spec.LAYOUT.locations[key]
        sheet, a1 = dests.get(key, (default.sheet, default.a1))
        if sheet not in sheets:
            if not key.startswith("prior."):
                missing.add(key)
            continue
        value, formula = cell(sheet, a1)
        if isinstance(value, dt.datetime) and value.time() == dt.time():
            value = value.date()  # openpyxl gives datetimes, calamine dates, for the same date cell
        if key.startswith("prior."):
            prior[key[len("prior."):]] = value
            continue
        r, c = _rc(a1)
        locations[key] = spec.Location(sheet, r, c, default.colspan)
        values[key] = value
        if formula is not None:
            formulas[key] = formula
    st = build_structure(props) if build_structure is not None else None
    return ReportData(values=values, formulas=formulas, locations=locations, missing=frozenset(missing),
                      prior=prior, props=props, structure=st, source=path)


def _rc(a1: str) -> tuple[int, int]:
    letters = a1.rstrip("0123456789")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch.upper()) - 64
    return int(a1[len(letters):]), col


def _load(path: str | os.PathLike[str]) -> Any:
    if sniff(path) == "ods":
        raise ReadError(path, ODS)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops (we only read)
            return openpyxl.load_workbook(path, data_only=False, keep_links=False, rich_text=False)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, IndexError, AttributeError) as exc:
        raise ReadError(path, f"文件已损坏或不是有效的 .xlsx 工作簿，无法读取（{type(exc).__name__}）。"
                              "请重新保存或重新发送。") from None


def cell_value(v: Any) -> tuple[CellValue, str | None]:
    """(value, formula text or None) of an openpyxl cell value."""
    if isinstance(v, str):
        return (None, v) if v.startswith("=") else ((v if v != "" else None), None)
    if v is None or isinstance(v, int | float | bool):
        return v, None
    text = getattr(v, "text", None)  # ArrayFormula / DataTableFormula
    if isinstance(text, str):
        return None, text if text.startswith("=") else "=" + text
    if hasattr(v, "isoformat"):
        return v, None
    return str(v), None


def name_destinations(wb: Any) -> dict[str, tuple[str, str]]:
    """key -> (sheet, A1) for every workbook-level defined name the spec knows."""
    out: dict[str, tuple[str, str]] = {}
    for name, dn in wb.defined_names.items():
        key = spec.key_of_name(name)
        parsed = parse_ref(dn.attr_text or "") if key is not None else None
        if key is not None and parsed is not None:
            out[key] = parsed
    return out


def read_workbook(path: str | os.PathLike[str], *, with_structure: bool = True) -> ReportData:
    """Read one report workbook with openpyxl. Raises ReadError (Chinese, naming the file) when it cannot be
    read or was not made from our template."""
    wb = _load(path)
    try:
        sheets = {ws.title: ws for ws in wb.worksheets}

        def cell(sheet: str, a1: str) -> tuple[CellValue, str | None]:
            return cell_value(sheets[sheet][a1].value)

        def build_structure(props: dict[str, str]) -> Structure:
            return _structure(wb, sheets, props)

        return assemble(str(path), name_destinations(wb), set(sheets), cell, _props(sheets.get(spec.HIDDEN_SHEET)),
                        build_structure if with_structure else None)
    finally:
        wb.close()


def _props(ws: Any) -> dict[str, str]:
    if ws is None:
        return {}
    out: dict[str, str] = {}
    known = {k for k, _ in spec.HIDDEN_PROPS}
    for row in ws.iter_rows(min_row=2, max_row=1 + len(spec.HIDDEN_PROPS), max_col=2, values_only=True):
        if row and row[0] in known and row[1] is not None:
            out[str(row[0])] = str(row[1])
    return out


def _structure(wb: Any, sheets: dict[str, Any], props: dict[str, str]) -> Structure:
    from openpyxl.cell.cell import MergedCell

    exp = structure.expected()
    labels = {(s, a): cell_value(sheets[s][a].value)[0] for s, a in exp.labels if s in sheets}
    merges: dict[str, frozenset[str]] = {}
    unlocked: dict[str, frozenset[str]] = {}
    protected: dict[str, bool] = {}
    for sheet in exp.sheets:
        ws = sheets.get(sheet)
        if ws is None:
            continue
        merges[sheet] = frozenset(str(r) for r in ws.merged_cells.ranges)
        unlocked[sheet] = frozenset(c.coordinate for row in ws.iter_rows() for c in row
                                    if not isinstance(c, MergedCell) and c.has_style and c.protection.locked is False)
        protected[sheet] = bool(ws.protection.sheet)
    sec = wb.security
    return Structure(sheets=tuple(sheets), labels=labels, merges=merges, unlocked=unlocked,
                     sheet_protected=protected, structure_locked=bool(sec is not None and sec.lockStructure),
                     fingerprint=props.get("fingerprint"))
