"""The fast reader: python-calamine for cell values, one streaming pass over each owned sheet's XML for what
calamine does not expose (formula text, the locked flag of each cell, sheet protection, merges), and the
workbook part for defined names and structure protection.

It produces exactly the :class:`~xl_addin.model.ReportData` the openpyxl reader does (a test holds them equal)
at a fraction of the cost, so it serves both ``check`` and the bulk ``collect``.
"""

from __future__ import annotations

import os
import posixpath
import zipfile
from typing import Any
from xml.etree import ElementTree as ET

from .. import spec, structure
from ..model import CellValue, ReportData, Structure
from .fileio import ReadError, sniff
from .xlsx_reader import ODS, assemble, parse_ref

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RNS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PNS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class _Sheet:
    """What one streaming pass over a worksheet part yields."""

    __slots__ = ("formulas", "merges", "protected", "styles")

    def __init__(self) -> None:
        self.formulas: dict[str, str] = {}
        self.styles: dict[str, int] = {}
        self.merges: set[str] = set()
        self.protected = False


def _workbook_parts(zf: zipfile.ZipFile) -> tuple[list[tuple[str, str]], dict[str, str], bool]:
    """([(sheet name, part path)], {defined name: reference}, structure locked)."""
    root = ET.fromstring(zf.read("xl/workbook.xml"))
    rels_root = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels_root.iter(f"{PNS}Relationship")}
    sheets = []
    for s in root.iter(f"{NS}sheet"):
        target = targets.get(s.get(f"{RNS}id"), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        sheets.append((s.get("name", ""), part))
    names = {d.get("name", ""): (d.text or "") for d in root.iter(f"{NS}definedName")
             if d.get("localSheetId") is None}
    prot = root.find(f"{NS}workbookProtection")
    locked = prot is not None and prot.get("lockStructure") in ("1", "true")
    return sheets, names, locked


def _scan_sheet(zf: zipfile.ZipFile, part: str) -> _Sheet:
    out = _Sheet()
    shared: dict[str, tuple[str, str]] = {}  # si -> (master formula, master cell)
    pending: list[tuple[str, str]] = []  # (cell, si) of shared-formula dependents
    with zf.open(part) as fh:
        for _, el in ET.iterparse(fh, events=("end",)):
            tag = el.tag
            if tag == f"{NS}c":
                ref = el.get("r", "")
                s = el.get("s")
                if s is not None:
                    out.styles[ref] = int(s)
                f = el.find(f"{NS}f")
                if f is not None:
                    text = f.text or ""
                    if f.get("t") == "shared":
                        si = f.get("si", "")
                        if text:
                            shared[si] = ("=" + text, ref)
                            out.formulas[ref] = "=" + text
                        else:
                            pending.append((ref, si))
                    elif text:
                        out.formulas[ref] = "=" + text
                el.clear()
            elif tag == f"{NS}row":
                el.clear()
            elif tag == f"{NS}mergeCell":
                out.merges.add(el.get("ref", ""))
            elif tag == f"{NS}sheetProtection":
                out.protected = el.get("sheet") in ("1", "true")
    if pending:
        from openpyxl.formula.translate import Translator

        for ref, si in pending:
            if si in shared:
                master, origin = shared[si]
                out.formulas[ref] = Translator(master, origin=origin).translate_formula(ref)
    return out


def _unlocked_xfs(zf: zipfile.ZipFile) -> set[int]:
    """Indexes of cell formats whose protection says locked="0"."""
    try:
        root = ET.fromstring(zf.read("xl/styles.xml"))
    except KeyError:
        return set()
    xfs = root.find(f"{NS}cellXfs")
    out = set()
    for i, xf in enumerate(xfs if xfs is not None else ()):
        p = xf.find(f"{NS}protection")
        if p is not None and p.get("locked") in ("0", "false"):
            out.add(i)
    return out


def _grid_value(v: Any) -> CellValue:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if v == "":
        return None
    return v  # type: ignore[no-any-return]


def read_fast(path: str | os.PathLike[str], *, with_structure: bool = True) -> ReportData:
    kind = sniff(path)
    if kind == "ods":
        raise ReadError(path, ODS)
    import python_calamine as pc

    try:
        with zipfile.ZipFile(path) as zf:
            sheet_parts, names, structure_locked = _workbook_parts(zf)
            sheet_names = [n for n, _ in sheet_parts]
            dests = {}
            for name, ref in names.items():
                key = spec.key_of_name(name)
                parsed = parse_ref(ref) if key is not None else None
                if key is not None and parsed is not None:
                    dests[key] = parsed
            owned = set(structure.OWNED_SHEETS) | {d[0] for d in dests.values()}
            scans = {n: _scan_sheet(zf, p) for n, p in sheet_parts if n in owned and p in zf.namelist()}
            unlocked_xfs = _unlocked_xfs(zf) if with_structure else set()
        cal = pc.CalamineWorkbook.from_path(str(path))
        try:
            grids = {n: cal.get_sheet_by_name(n).to_python(skip_empty_area=False)
                     for n in sheet_names if n in owned or n == spec.HIDDEN_SHEET}
        finally:
            cal.close()
    except ReadError:
        raise
    except (zipfile.BadZipFile, ET.ParseError, KeyError, OSError, pc.CalamineError, ValueError) as exc:
        raise ReadError(path, f"文件已损坏或不是有效的 .xlsx 工作簿，无法读取（{type(exc).__name__}）。"
                              "请重新保存或重新发送。") from None

    def cell(sheet: str, a1: str) -> tuple[CellValue, str | None]:
        grid = grids.get(sheet)
        r, c = _rc(a1)
        v: CellValue = None
        if grid is not None and r < len(grid) and c < len(grid[r]):
            v = _grid_value(grid[r][c])
        scan = scans.get(sheet)
        formula = scan.formulas.get(a1) if scan is not None else None
        return (None if formula is not None else v), formula

    def build_structure(props: dict[str, str]) -> Structure:
        exp = structure.expected()
        labels = {(s, a): cell(s, a)[0] for s, a in exp.labels if s in grids}
        merges = {s: frozenset(scans[s].merges) for s in exp.sheets if s in scans}
        unlocked = {s: frozenset(a for a, x in scans[s].styles.items()
                                 if x in unlocked_xfs and not _inside_merge(a, scans[s].merges))
                    for s in exp.sheets if s in scans}
        protected = {s: scans[s].protected for s in exp.sheets if s in scans}
        return Structure(tuple(sheet_names), labels, merges, unlocked, protected, structure_locked,
                         props.get("fingerprint"))

    return assemble(str(path), dests, set(sheet_names), cell, _hidden_props(grids.get(spec.HIDDEN_SHEET)),
                    build_structure if with_structure else None)


def _hidden_props(grid: list[list[Any]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if not grid:
        return out
    known = {k for k, _ in spec.HIDDEN_PROPS}
    for row in grid[1:1 + len(spec.HIDDEN_PROPS)]:
        if len(row) >= 2 and row[0] in known and row[1] != "":
            out[str(row[0])] = str(_grid_value(row[1]))
    return out


def _rc(a1: str) -> tuple[int, int]:
    i = 0
    col = 0
    while i < len(a1) and a1[i].isalpha():
        col = col * 26 + ord(a1[i].upper()) - 64
        i += 1
    return int(a1[i:]) - 1, col - 1


def _inside_merge(a1: str, merges: set[str]) -> bool:
    """True for a cell inside a merged range other than its top-left cell (its own format is not used)."""
    r, c = _rc(a1)
    for m in merges:
        if ":" not in m:
            continue
        a, b = m.split(":")
        (r1, c1), (r2, c2) = _rc(a), _rc(b)
        if r1 <= r <= r2 and c1 <= c <= c2 and (r, c) != (r1, c1):
            return True
    return False

