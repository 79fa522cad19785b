"""The fast reader: python-calamine for cell values, one streaming pass over each owned sheet's XML for what
calamine does not expose (formula text, the locked flag of each cell, sheet protection, merges), and the
workbook part for defined names and structure protection.

It produces exactly the :class:`~xl_addin.model.ReportData` the openpyxl reader does (a test holds them equal)
at a fraction of the cost, so it serves both ``check`` and the bulk ``collect``.
"""

from __future__ import annotations

import bisect
import functools
import io
import os
import posixpath
import re
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


#: parsed parts by their bytes: files made from one template share workbook.xml and styles.xml byte for byte, so
#: a bulk run parses each distinct one once (bounded; a hit compares the bytes, so it is exact)
_CACHE_MAX = 32
_WB_CACHE: dict[tuple[bytes, bytes], tuple[list[tuple[str, str]], dict[str, str], bool]] = {}
_XF_CACHE: dict[bytes, frozenset[int]] = {}
_COVERED_CACHE: dict[frozenset[str], frozenset[str]] = {}


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache[key] = value


def _workbook_parts(zf: zipfile.ZipFile) -> tuple[list[tuple[str, str]], dict[str, str], bool]:
    """([(sheet name, part path)], {defined name: reference}, structure locked)."""
    key = (zf.read("xl/workbook.xml"), zf.read("xl/_rels/workbook.xml.rels"))
    hit = _WB_CACHE.get(key)
    if hit is None:
        hit = _parse_workbook_parts(*key)
        _remember(_WB_CACHE, key, hit)
    sheets, names, locked = hit
    return list(sheets), dict(names), locked


def _parse_workbook_parts(workbook: bytes, rels: bytes) -> tuple[list[tuple[str, str]], dict[str, str], bool]:
    root = ET.fromstring(workbook)
    rels_root = ET.fromstring(rels)
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
    xml = zf.read(part)
    out = _scan_regex(xml) if _regex_safe(xml) else _scan_tree(xml)
    return out


_ROOT_DEFAULT_NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_C = re.compile(rb'<c(?: r="([A-Z]+[0-9]+)"(?: s="([0-9]+)")?(?: t="[a-zA-Z]+")?(/?)>|\b([^>]*)>)')
_C_ATTR = re.compile(rb'(?:^|\s)(r|s)="([^"]*)"')
_F = re.compile(rb"<f\b([^>]*)>")
_F_ATTR = re.compile(rb'(?:^|\s)(t|si)="([^"]*)"')
_MERGE = re.compile(rb"<mergeCell\b([^>]*?)/?>")
_REF_ATTR = re.compile(rb'(?:^|\s)ref="([^"]*)"')
_PROTECTION = re.compile(rb"<sheetProtection\b([^>]*?)/?>")
_SHEET_ATTR = re.compile(rb'(?:^|\s)sheet="([^"]*)"')
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _regex_safe(xml: bytes) -> bool:
    """True for the plain shape every spreadsheet writer we know produces (default namespace, UTF-8, double-quoted
    attributes, no CDATA or comments); anything else goes through the XML parser."""
    head = xml[:400]
    if _ROOT_DEFAULT_NS not in head or (b"encoding=" in head and b'encoding="UTF-8"' not in head.upper()
                                         .replace(b"ENCODING=", b"encoding=")):
        return False
    return b"<![CDATA[" not in xml and b"<!--" not in xml and b"='" not in xml and b"<x:" not in xml


def _unescape(raw: bytes) -> str:
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").decode("utf-8")
    if "&" not in text:
        return text
    if "&#" not in text:
        return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
                .replace("&amp;", "&"))

    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        if e[0] == "#":
            return chr(int(e[2:], 16) if e[1] in "xX" else int(e[1:]))
        return _ENTITIES[e]

    return _ENTITY.sub(one, text)


def _scan_regex(xml: bytes) -> _Sheet:
    """What :func:`_scan_tree` finds, by regular expressions over the bytes (several times faster)."""
    out = _Sheet()
    shared: dict[str, tuple[str, str]] = {}
    pending: list[tuple[str, str]] = []
    starts: list[int] = []  # where each cell's start tag begins
    heads: list[tuple[str, int, bool]] = []  # (ref, end of start tag, self-closing)
    styles = out.styles
    for m in _C.finditer(xml):
        ref_b, style, slash, other = m.groups()
        if ref_b is not None:
            ref = ref_b.decode()
            if style is not None:
                styles[ref] = int(style)
            closed = bool(slash)
        else:  # attributes in another order or others besides r, s, t
            attrs = dict(_C_ATTR.findall(other))
            ref = attrs.get(b"r", b"").decode()
            if b"s" in attrs:
                styles[ref] = int(attrs[b"s"])
            closed = other.endswith(b"/")
        starts.append(m.start())
        heads.append((ref, m.end(), closed))
    for fm in _F.finditer(xml):
        i = bisect.bisect_right(starts, fm.start()) - 1
        if i < 0:
            continue
        ref, head_end, closed = heads[i]
        if closed or not head_end <= fm.start() < _end_of(xml, head_end):
            continue  # not inside a cell
        fhead = fm.group(1)
        fattrs = dict(_F_ATTR.findall(fhead))
        text = ""
        if not fhead.endswith(b"/"):
            fend = xml.find(b"</f>", fm.end())
            text = _unescape(xml[fm.end():fend]) if fend > fm.end() else ""
        if fattrs.get(b"t") == b"shared":
            si = fattrs.get(b"si", b"").decode()
            if text:
                shared[si] = ("=" + text, ref)
                out.formulas[ref] = "=" + text
            else:
                pending.append((ref, si))
        elif text:
            out.formulas[ref] = "=" + text
    for mm in _MERGE.finditer(xml):
        rm = _REF_ATTR.search(mm.group(1))
        out.merges.add(rm.group(1).decode() if rm else "")
    for pm in _PROTECTION.finditer(xml):
        sm = _SHEET_ATTR.search(pm.group(1))
        out.protected = sm is not None and sm.group(1) in (b"1", b"true")
    _resolve_shared(out, shared, pending)
    return out


def _end_of(xml: bytes, pos: int) -> int:
    end = xml.find(b"</c>", pos)
    return end if end >= 0 else len(xml)


def _resolve_shared(out: _Sheet, shared: dict[str, tuple[str, str]], pending: list[tuple[str, str]]) -> None:
    if pending:
        from openpyxl.formula.translate import Translator

        for ref, si in pending:
            if si in shared:
                master, origin = shared[si]
                out.formulas[ref] = Translator(master, origin=origin).translate_formula(ref)


def _scan_tree(xml: bytes) -> _Sheet:
    out = _Sheet()
    shared: dict[str, tuple[str, str]] = {}  # si -> (master formula, master cell)
    pending: list[tuple[str, str]] = []  # (cell, si) of shared-formula dependents
    with io.BytesIO(xml) as fh:
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
    _resolve_shared(out, shared, pending)
    return out


def _unlocked_xfs(zf: zipfile.ZipFile) -> frozenset[int]:
    """Indexes of cell formats whose protection says locked="0"."""
    try:
        raw = zf.read("xl/styles.xml")
    except KeyError:
        return frozenset()
    hit = _XF_CACHE.get(raw)
    if hit is None:
        hit = _parse_unlocked_xfs(raw)
        _remember(_XF_CACHE, raw, hit)
    return hit


def _parse_unlocked_xfs(raw: bytes) -> frozenset[int]:
    root = ET.fromstring(raw)
    xfs = root.find(f"{NS}cellXfs")
    out = set()
    for i, xf in enumerate(xfs if xfs is not None else ()):
        p = xf.find(f"{NS}protection")
        if p is not None and p.get("locked") in ("0", "false"):
            out.add(i)
    return frozenset(out)


def _grid_value(v: Any) -> CellValue:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if v == "":
        return None
    return v  # type: ignore[no-any-return]


def read_fast(path: str | os.PathLike[str], *, with_structure: bool = True, test_members: bool = True) -> ReportData:
    """Read one report workbook (see the module doc). ``test_members=False`` is the bulk mode: the archive is not
    checksum-tested member by member up front (see :func:`~xl_addin.adapters.fileio.sniff`)."""
    kind = sniff(path, test_members=test_members)
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
            unlocked_xfs = _unlocked_xfs(zf) if with_structure else frozenset()
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
        unlocked = {}
        for s in exp.sheets:
            if s in scans:
                covered = _covered(frozenset(scans[s].merges))
                unlocked[s] = frozenset(a for a, x in scans[s].styles.items() if x in unlocked_xfs and a not in covered)
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


@functools.lru_cache(maxsize=8192)
def _rc(a1: str) -> tuple[int, int]:
    i = 0
    col = 0
    while i < len(a1) and a1[i].isalpha():
        col = col * 26 + ord(a1[i].upper()) - 64
        i += 1
    return int(a1[i:]) - 1, col - 1


def _covered(merges: frozenset[str]) -> frozenset[str]:
    """Every cell inside a merged range other than its top-left cell (their own format is not used)."""
    hit = _COVERED_CACHE.get(merges)
    if hit is None:
        cells = set()
        for m in merges:
            if ":" not in m:
                continue
            a, b = m.split(":")
            (r1, c1), (r2, c2) = _rc(a), _rc(b)
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        cells.add(f"{spec.col_letter(c + 1)}{r + 1}")
        hit = frozenset(cells)
        _remember(_COVERED_CACHE, merges, hit)
    return hit


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

