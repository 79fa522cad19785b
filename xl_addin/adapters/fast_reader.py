"""The fast reader: python-calamine for cell values, a scan of each owned sheet's XML for what calamine does not
expose (formula text, the locked flag of each cell, sheet protection, merges), and the workbook part for defined
names and structure protection.

It produces exactly the :class:`~xl_addin.model.ReportData` the openpyxl reader does (a test holds them equal)
at a fraction of the cost, so it serves both ``check`` and the bulk ``collect``.

Where the time goes in bulk (``collect``) and what keeps it small, all without skipping anything:

- the file is read once; the zip, calamine and the hash all work from those bytes (:func:`read_fast` ``data``);
- parts that are byte for byte those of an earlier file (workbook.xml with its names, styles.xml) are parsed
  once per process, told by their stored records (:func:`_parsed`);
- a sheet is scanned by :func:`_scan_fast`: one C-level regex pass over the cells when every tag has the plain
  shape writers produce, the part after ``</sheetData>`` (merges, protection, then conditional formats and
  validations, most of the bytes and the same in every copy of a template) looked up by its bytes; any other
  shape goes to the fallback, :func:`_scan_tree` (the XML parser), which decides the same for every shape.
  :data:`FULL_SCAN_ONLY` sends every sheet to the fallback: the tests hold both equal on every fixture.
"""

from __future__ import annotations

import functools
import io
import itertools
import operator
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from typing import Any
from xml.etree import ElementTree as ET

from .. import hidden, live, spec, structure
from ..importers.record import EVIDENCE_SHEET
from ..model import CellValue, ReportData, Structure
from .fileio import (
    ReadError,
    first_bad_member,
    open_archive,
    outside_grid,
    oversized_merges,
    validated_cells,
    without_outside,
)
from .fileio import beyond as fileio_beyond
from .xlsx_reader import ODS, Reads, assemble, parse_ref, reads, unnamed

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RNS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PNS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class _Sheet:
    """What a scan of a worksheet part yields."""

    __slots__ = ("cells", "formulas", "merges", "outside", "protected", "styles", "validations")

    def __init__(self) -> None:
        self.formulas: dict[str, str] = {}
        #: A1 -> type of the data validation on the cell
        self.validations: dict[str, str] = {}
        #: cells beyond the grid and oversized merges (fileio.outside_grid)
        self.outside: list[str] = []
        self.styles: dict[str, int] = {}
        #: the fast scan's cells (ref, style index, formula: see _HEAD), in document order, instead of ``styles``
        self.cells: list[tuple[bytes, bytes, bytes]] | None = None
        self.merges: set[str] = set()
        self.protected = False

    def unlocked(self, xfs: frozenset[int], covered: frozenset[str]) -> frozenset[str]:
        """Cells whose own format is one of ``xfs`` (unlocked), outside ``covered``."""
        if self.cells is None:
            return frozenset(a for a, x in self.styles.items() if x in xfs and a not in covered)
        wanted = _xf_bytes(xfs)
        last = dict(map(_REF_STYLE, self.cells))  # a cell written twice counts as written last, as in ``styles``
        refs = itertools.compress(last.keys(), map(wanted.__contains__, last.values()))
        return frozenset(a for r in refs if (a := r.decode()) not in covered)


_REF_STYLE = operator.itemgetter(0, 1)


@functools.lru_cache(maxsize=64)
def _xf_bytes(xfs: frozenset[int]) -> frozenset[bytes]:
    return frozenset(str(i).encode() for i in xfs)


#: parsed parts by their bytes: files made from one template share workbook.xml and styles.xml byte for byte, so
#: a bulk run parses each distinct one once (bounded; a hit compares the bytes, so it is exact)
_CACHE_MAX = 32
_WB_CACHE: dict[tuple[object, ...], _Book] = {}
_XF_CACHE: dict[tuple[object, ...], frozenset[int]] = {}
_COVERED_CACHE: dict[frozenset[str], frozenset[str]] = {}


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache[key] = value


def _parsed(zf: zipfile.ZipFile, data: bytes | None, names: tuple[str, ...], cache: dict[tuple[object, ...], Any],
            parse: Callable[..., Any]) -> Any:
    """``parse(*contents of the members names)``, remembered in ``cache``: by the members' stored records when the
    archive is in memory (identical records -- local header, compressed bytes, directory entry -- decompress to
    identical contents and pass the same checks, so nothing is inflated again), else by their contents."""
    records = _records(zf, data, names) if data is not None else None
    if records is not None:
        hit = cache.get(records)
        if hit is not None:
            return hit
    contents = tuple(_read(zf, data, n) for n in names)
    hit = cache.get(contents)
    if hit is None:
        hit = parse(*contents)
        _remember(cache, contents, hit)
    if records is not None:
        _remember(cache, records, hit)
    return hit


_LOCAL_HEADER = struct.Struct("<4s22xHH")


def _read(zf: zipfile.ZipFile, data: bytes | None, name: str) -> bytes:
    """``zf.read(name)``; from ``data`` (the archive in memory) with one zlib call when the member is plainly
    deflated or stored and its checksum and size come out right -- anything else (and every error) is left to
    zipfile, so what is read and what is refused stay exactly zipfile's."""
    info = zf.NameToInfo.get(name) if data is not None else None
    if data is None or info is None or info.flag_bits & ~0x80E or info.compress_type not in (0, 8):
        return zf.read(name)
    at = info.header_offset
    head = data[at:at + _LOCAL_HEADER.size]
    if len(head) == _LOCAL_HEADER.size:
        sig, n_name, n_extra = _LOCAL_HEADER.unpack(head)
        start = at + _LOCAL_HEADER.size + n_name + n_extra
        stored_name = data[at + _LOCAL_HEADER.size:at + _LOCAL_HEADER.size + n_name]
        if sig == b"PK\x03\x04" and stored_name == info.orig_filename.encode("utf-8" if info.flag_bits & 0x800
                                                                              else "cp437", "replace"):
            body = memoryview(data)[start:start + info.compress_size]
            try:
                out = zlib.decompress(body, -15) if info.compress_type == 8 else bytes(body)
            except zlib.error:
                out = None
            if out is not None and len(out) == info.file_size and zlib.crc32(out) == info.CRC:
                return out
    return zf.read(name)


def _records(zf: zipfile.ZipFile, data: bytes, names: tuple[str, ...]) -> tuple[object, ...] | None:
    """("record", then per member its directory entry and its stored bytes (local header and compressed data)), or
    None when a member is missing or stored in a way not looked into (encrypted, or not where the directory says)."""
    out: list[object] = ["record"]
    for name in names:
        info = zf.NameToInfo.get(name)
        if info is None or info.flag_bits & 0x1:
            return None
        at = info.header_offset
        head = data[at:at + _LOCAL_HEADER.size]
        if len(head) != _LOCAL_HEADER.size:
            return None
        sig, n_name, n_extra = _LOCAL_HEADER.unpack(head)
        end = at + _LOCAL_HEADER.size + n_name + n_extra + info.compress_size
        if sig != b"PK\x03\x04" or end > len(data):
            return None
        out += [name, info.flag_bits, info.compress_type, info.CRC, info.file_size, info.compress_size, data[at:end]]
    return tuple(out)


class _Book:
    """What the workbook part and its relationships say, and what follows from it alone."""

    __slots__ = ("_reads", "dests", "locked", "owned", "sheet_names", "sheet_parts")

    def __init__(self, workbook: bytes, rels: bytes) -> None:
        self.sheet_parts, names, self.locked = _parse_workbook_parts(workbook, rels)
        self.sheet_names = [n for n, _ in self.sheet_parts]
        #: key -> (sheet, A1) of every defined name the spec knows
        self.dests: dict[str, tuple[str, str]] = {}
        for name, ref in names.items():
            key = spec.key_of_name(name)
            parsed = parse_ref(ref) if key is not None else None
            if key is not None and parsed is not None:
                self.dests[key] = parsed
        #: the sheets read: the template's own and every sheet a name points at
        self.owned = frozenset(structure.OWNED_SHEETS) | {d[0] for d in self.dests.values()}
        self._reads: dict[int, Reads] = {}

    def reads(self, version: int) -> Reads:
        """Where each key is read in a workbook of layout ``version`` (for assemble; made when first asked for,
        where assemble would make it)."""
        got = self._reads.get(version)
        if got is None:
            got = self._reads[version] = reads(self.dests, set(self.sheet_names), version)
        return got


def _book(zf: zipfile.ZipFile, data: bytes | None = None) -> _Book:
    """The workbook part, parsed once per distinct content (callers do not modify it)."""
    return _parsed(zf, data, ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"), _WB_CACHE, _Book)  # type: ignore[no-any-return]


def workbook_parts(zf: zipfile.ZipFile) -> tuple[list[tuple[str, str]], dict[str, str], bool]:
    """([(sheet name, part path)], {defined name: reference}, structure locked)."""
    return _parse_workbook_parts(zf.read("xl/workbook.xml"), zf.read("xl/_rels/workbook.xml.rels"))


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


#: True sends every sheet to the fallback scan (:func:`_scan_tree`) instead of trying :func:`_scan_fast` first:
#: the tests set it to hold the two equal on every fixture
FULL_SCAN_ONLY = False


def _scan_sheet(zf: zipfile.ZipFile, part: str, data: bytes | None = None) -> _Sheet:
    """The fast scan of a sheet part, or the fallback when the part is not of the shape the fast scan takes."""
    xml = _read(zf, data, part)
    fast = None if FULL_SCAN_ONLY else _scan_fast(xml)
    out = fast if fast is not None else _scan_tree(xml)
    end = xml.rfind(b"</sheetData>")
    out.validations = _validations(xml[end:] if end >= 0 else xml)
    out.outside = _outside(out) if fast is not None else outside_grid(xml)
    return out


def _outside(scan: _Sheet) -> list[str]:
    """fileio.outside_grid from what the fast scan found: a reference of two letters or a row of four digits is a
    candidate (the rare case, looked at exactly); merges by their own (cached) check."""
    refs = [r for r, _, _ in scan.cells or ()]
    far = [r.decode() for r in refs if len(r) > 4 or r[1:2].isalpha()]
    out = [ref for ref in far if fileio_beyond(ref)]
    if scan.merges:
        out += oversized_merges(frozenset(scan.merges))
    return out


_DV = re.compile(rb'<(?:\w+:)?dataValidation\b([^>]*)>')
_DV_TYPE = re.compile(rb'\stype=["\']([^"\']*)["\']')
_DV_SQREF = re.compile(rb'\ssqref=["\']([^"\']*)["\']')


@functools.lru_cache(maxsize=64)
def _validations(tail: bytes) -> dict[str, str]:
    """A1 -> type of the data validation covering it (the part after the cells; the same bytes in every copy of a
    template, so parsed once). A range larger than the grid is left out (S2 then finds the cells unvalidated)."""
    out: dict[str, str] = {}
    for m in _DV.finditer(tail):
        t, q = _DV_TYPE.search(m.group(1)), _DV_SQREF.search(m.group(1))
        kind = t.group(1).decode() if t else "none"
        for ref in (q.group(1).decode().split() if q else ()):
            out.update(dict.fromkeys(validated_cells(ref), kind))
    return out

_ROOT_DEFAULT_NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_F_ATTR = re.compile(rb'(?:^|\s)(t|si)="([^"]*)"')
_REF_ATTR = re.compile(rb'(?:^|\s)ref="([^"]*)"')
_SHEET_ATTR = re.compile(rb'(?:^|\s)sheet="([^"]*)"')
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _plain_head(xml: bytes) -> bool:
    """The root in the default namespace, UTF-8."""
    head = xml[:400]
    return _ROOT_DEFAULT_NS in head and not (b"encoding=" in head and b'encoding="UTF-8"' not in head.upper()
                                             .replace(b"ENCODING=", b"encoding="))


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


#: before </sheetData>, in one pass: (ref, style, formula element) of each cell start tag of the one shape the
#: fast scan takes (the shape Excel, openpyxl and our own patcher write), with its formula if that is the first
#: thing in the cell (the schema's order); ("", "", "") for any other cell or formula tag and for what sends a part
#: to the fallback (CDATA, comments, tags prefixed "x:"; merges or protection among the cells)
_HEAD = re.compile(rb'<c r="([A-Z]{1,3}[1-9][0-9]*)"(?: s="(0|[1-9][0-9]*)")?(?: t="[a-zA-Z]+")?'
                   rb"(?:/>|>(<f\b[^<>]*(?:/>|>[^<]*</f>))?)"
                   rb"|<(?:[cf]\b|!|x:|mergeCell\b|sheetProtection\b)")
_OTHER = (b"", b"", b"")
_FORMULA = operator.itemgetter(2)
_SINGLE_QUOTED = re.compile(rb"='")
#: after </sheetData>: merges and protection, and anything that sends the part to the fallback
_TAIL = re.compile(rb"<(?:mergeCell\b([^>]*?)/?>|sheetProtection\b([^>]*?)/?>|[cf]\b|!|x:)")
#: what the part after </sheetData> (merges, protection, then conditional formats, validations, page setup: most
#: of a sheet's bytes, and the same in every copy of a template) says, by its bytes; None: the fallback decides
_TAILS: dict[bytes, tuple[frozenset[str], bool] | None] = {}
_TAILS_MAX_BYTES = 32 << 20  # what the remembered tails may hold together (memory stays flat)


def _scan_fast(xml: bytes) -> _Sheet | None:
    """What :func:`_scan_tree` finds, for the plain shape of sheet every writer we know produces (root in the
    default namespace, UTF-8, double-quoted attributes, no CDATA, comments or "x:" tags): cell start tags all
    canonical, each formula the first thing in its cell, merges and protection after the cells -- told by
    matching every tag that matters, so nothing is missed; else None (the fallback decides).

    One C-level pass over the cells instead of Python work per cell, the rest of the part looked up by its bytes
    (or one more pass)."""
    if not _plain_head(xml):
        return None
    end = xml.find(b"</sheetData>")
    if end < 0 or _SINGLE_QUOTED.search(xml, 0, end):
        return None
    tail_bytes = xml[end:]
    if tail_bytes in _TAILS:
        tail = _TAILS[tail_bytes]
    else:
        tail = _scan_tail(tail_bytes)
        if len(tail_bytes) <= _TAILS_MAX_BYTES // 16:
            if len(_TAILS) >= 4 * _CACHE_MAX or sum(map(len, _TAILS)) + len(tail_bytes) > _TAILS_MAX_BYTES:
                _TAILS.clear()
            _TAILS[tail_bytes] = tail
    if tail is None:
        return None
    cells = _HEAD.findall(xml, 0, end)
    if _OTHER in cells:
        return None  # a cell or formula tag of another shape, or something the fallback must see
    out = _Sheet()
    out.cells = cells
    out.merges, out.protected = set(tail[0]), tail[1]
    shared: dict[str, tuple[str, str]] = {}
    pending: list[tuple[str, str]] = []
    for ref_b, _, f in filter(_FORMULA, cells):
        head_end = f.index(b">")
        fhead = f[2:head_end]  # attributes, and "/" when self-closing
        raw = b"" if fhead.endswith(b"/") else f[head_end + 1:-4]
        ref = ref_b.decode()
        fattrs = dict(_F_ATTR.findall(fhead)) if fhead else {}
        if fattrs.get(b"t") == b"shared":
            si = fattrs.get(b"si", b"").decode()
            if raw:
                text = "=" + _unescape(raw)
                shared[si] = (text, ref)
                out.formulas[ref] = text
            else:
                pending.append((ref, si))
        elif raw:
            out.formulas[ref] = _formula_text(raw)
    _resolve_shared(out, shared, pending)
    return out


@functools.lru_cache(maxsize=4096)
def _formula_text(raw: bytes) -> str:
    """"=" and the formula text of a stored ``<f>`` element's content: copies of a template repeat their formulas
    (totals, status lines) word for word, so each distinct one is unescaped once."""
    return "=" + _unescape(raw)


def _scan_tail(tail: bytes) -> tuple[frozenset[str], bool] | None:
    """(merged ranges, sheet protected) of the part after </sheetData>; None when it has a cell or formula tag,
    a single-quoted attribute, CDATA, a comment or a tag prefixed "x:"."""
    if _SINGLE_QUOTED.search(tail):
        return None
    merges: set[str] = set()
    protected = False
    for m in _TAIL.finditer(tail):
        merge, protection = m.group(1, 2)
        if merge is not None:
            rm = _REF_ATTR.search(merge)
            merges.add(rm.group(1).decode() if rm else "")
        elif protection is not None:
            sm = _SHEET_ATTR.search(protection)
            protected = sm is not None and sm.group(1) in (b"1", b"true")
        else:
            return None
    return frozenset(merges), protected


def _add_formula(out: _Sheet, shared: dict[str, tuple[str, str]], pending: list[tuple[str, str]], ref: str,
                 text: str, si: str | None) -> None:
    """Record the formula of cell ``ref``; ``si``: its shared-formula group (a master has the text, a dependent
    is resolved later by :func:`_resolve_shared`)."""
    if si is not None:
        if text:
            shared[si] = ("=" + text, ref)
            out.formulas[ref] = "=" + text
        else:
            pending.append((ref, si))
    elif text:
        out.formulas[ref] = "=" + text


def _resolve_shared(out: _Sheet, shared: dict[str, tuple[str, str]], pending: list[tuple[str, str]]) -> None:
    if pending:
        from openpyxl.formula.translate import Translator

        for ref, si in pending:
            if si in shared:
                master, origin = shared[si]
                out.formulas[ref] = Translator(master, origin=origin).translate_formula(ref)


def _scan_tree(xml: bytes) -> _Sheet:
    """The fallback scan of a sheet part (the XML parser)."""
    return _tree(xml)


def _tree(xml: bytes) -> _Sheet:
    """The fallback: formulas, the format of each cell, merges and protection of any well-formed sheet part, by
    the XML parser (namespaces, entities, CDATA and comments as XML says)."""
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
                    si = f.get("si", "") if f.get("t") == "shared" else None
                    _add_formula(out, shared, pending, ref, f.text or "", si)
                el.clear()
            elif tag == f"{NS}row":
                el.clear()
            elif tag == f"{NS}mergeCell":
                out.merges.add(el.get("ref", ""))
            elif tag == f"{NS}sheetProtection":
                out.protected = el.get("sheet") in ("1", "true")
    _resolve_shared(out, shared, pending)
    return out


def _unlocked_xfs(zf: zipfile.ZipFile, data: bytes | None = None) -> frozenset[int]:
    """Indexes of cell formats whose protection says locked="0"."""
    try:
        return _parsed(zf, data, ("xl/styles.xml",), _XF_CACHE, _parse_unlocked_xfs)  # type: ignore[no-any-return]
    except KeyError:
        return frozenset()


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


def read_fast(path: str | os.PathLike[str], *, with_structure: bool = True, test_members: bool = True,
              data: bytes | None = None) -> ReportData:
    """Read one report workbook (see the module doc). ``test_members=False`` is the bulk mode: the archive is not
    checksum-tested member by member up front (see :func:`~xl_addin.adapters.fileio.open_archive`). ``data``: the
    file's bytes when the caller has read them already (bulk: they are hashed too); both the zip scan and
    calamine then read from memory."""
    kind, zf = open_archive(path, test_members=test_members, data=data)
    raw = data
    if kind == "ods":
        zf.close()
        raise ReadError(path, ODS)
    import python_calamine as pc

    outside: dict[str, tuple[str, ...]] = {}
    try:
        with zf:
            book = _book(zf, data)
            scans = _scan_sheets(zf, data, book)
            far = _far(zf, data, book, scans)
            if far:  # cells far beyond the grid: read the workbook without them (S2 says what)
                cleaned = without_outside(zf, list(far), far)
                assert cleaned is not None
                data, left_out = cleaned
                part_sheet = {part: name for name, part in book.sheet_parts}
                outside = {part_sheet[part]: tuple(refs) for part, refs in left_out.items()}
                with zipfile.ZipFile(io.BytesIO(data)) as clean:
                    scans = _scan_sheets(clean, data, book)
                    unlocked_xfs = _unlocked_xfs(clean, data) if with_structure else frozenset()
            else:
                unlocked_xfs = _unlocked_xfs(zf, data) if with_structure else frozenset()
        grids = _grids(path, data, book)
    except ReadError:
        raise
    except (zlib.error, zipfile.BadZipFile) as exc:  # bulk mode: a damaged part is found as it is read
        bad = _damaged_member(path, raw)
        raise ReadError(path, "corrupt" if bad is None else "bad-member",
                        detail=type(exc).__name__ if bad is None else bad) from None
    except (ET.ParseError, KeyError, OSError, pc.CalamineError, ValueError) as exc:
        raise ReadError(path, "corrupt", detail=type(exc).__name__) from None
    found = _Found(book, scans, unlocked_xfs, grids, outside)
    return assemble(str(path), book.dests, set(book.sheet_names), found.cell, hidden.parse(grids.get(spec.HIDDEN_SHEET)),
                    found.structure if with_structure else None, plan=book.reads, cells=found.cells,
                    evidence=grids.get(EVIDENCE_SHEET))


def _damaged_member(path: str | os.PathLike[str], data: bytes | None) -> str | None:
    """The first member of the archive whose data is damaged, if that is what broke its read."""
    try:
        with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as zf:
            return first_bad_member(zf)
    except (zipfile.BadZipFile, OSError):
        return None


def _far(zf: zipfile.ZipFile, data: bytes | None, book: _Book, scans: dict[str, _Sheet]) -> dict[str, list[str]]:
    """part -> cells beyond the grid and oversized merges, of the sheets scanned (found by their scan) and of the
    hidden sheet (which calamine reads)."""
    part_of = dict(book.sheet_parts)
    far = {part_of[n]: s.outside for n, s in scans.items() if s.outside}
    for sheet in (spec.HIDDEN_SHEET, EVIDENCE_SHEET):  # the sheets calamine reads that were not scanned
        hidden_part = part_of.get(sheet)
        if hidden_part is not None and hidden_part in zf.NameToInfo:
            refs = outside_grid(_read(zf, data, hidden_part))
            if refs:
                far[hidden_part] = refs
    return far


def _scan_sheets(zf: zipfile.ZipFile, data: bytes | None, book: _Book) -> dict[str, _Sheet]:
    """sheet name -> scan of its part, for each sheet read (:attr:`_Book.owned`) whose part is in the archive."""
    members = zf.NameToInfo
    out = {n: _scan_sheet(zf, p, data) for n, p in book.sheet_parts if n in book.owned and p in members}
    for n, p in book.sheet_parts:  # 校验汇总: only the formulas that show each check's state (S2.live)
        if n == spec.SUMMARY_SHEET and n not in out and p in members:
            out[n] = _states(zf, data, p)
    return out


_STATES_CACHE: dict[tuple[object, ...], _Sheet] = {}


def _states(zf: zipfile.ZipFile, data: bytes | None, part: str) -> _Sheet:
    """:func:`_scan_states` of the 校验汇总 part, remembered by the part's stored record when the archive is in memory
    (bulk): that sheet is the template's own, which no one types into, so the copies made from one template (the
    distributed templates, imported reports, 汇总 workbooks) hold it byte for byte -- a hit (identical record, so
    identical contents: see :func:`_parsed`) skips inflating and scanning its ~400 KB. A copy saved again by Excel
    or WPS has a record of its own: scanned as before (looking the record up costs some microseconds). Callers do
    not modify the scan."""
    records = _records(zf, data, (part,)) if data is not None and not FULL_SCAN_ONLY else None
    hit = _STATES_CACHE.get(records) if records is not None else None
    if hit is None:
        hit = _scan_states(_read(zf, data, part))
        if records is not None:
            _remember(_STATES_CACHE, records, hit)
    return hit


def _scan_states(xml: bytes) -> _Sheet:
    """The formulas of the state column of 校验汇总 (the rest of that sheet is not read): one C-level pass over the
    plain shape when it finds every row -- or, for a template built under a rule profile that switched checks off
    (fewer rows), the first rows, when nothing at all stands in the cells of the rows after them -- else the
    fallback's XML parse."""
    out = _Sheet()
    found = {} if FULL_SCAN_ONLY else {ref.decode(): raw for ref, raw in _STATE_CELL.findall(xml)}
    refs = _state_rows()
    k = 0
    while k < len(refs) and refs[k] in found:
        k += 1
    if k == len(refs) or (k and _none_of(xml, refs[k:])):
        out.formulas = {ref: _formula_text(found[ref]) for ref in refs[:k]}
    else:
        out.formulas = {ref: f for ref, f in _tree(xml).formulas.items() if ref in _state_refs()}
    return out  # (calamine never reads this sheet: cells beyond the grid there harm nothing)


def _none_of(xml: bytes, refs: Sequence[str]) -> bool:
    """No cell ``refs`` in the part, in any spelling the fallback would read (a reference written with a character
    reference: the fallback decides)."""
    if _REF_ESCAPED.search(xml):
        return False
    return not any(f'"{ref}"'.encode() in xml or f"'{ref}'".encode() in xml for ref in refs)


_REF_ESCAPED = re.compile(rb"""\sr\s*=\s*["'][^"'<>]*&""")


@functools.cache
def _state_refs() -> frozenset[str]:
    """The state cells of 校验汇总 S2.live compares."""
    return frozenset(_state_rows())


@functools.cache
def _state_rows() -> tuple[str, ...]:
    """:func:`_state_refs` in row order (a profile's template has the first of them)."""
    return tuple(sorted((a1 for sheet, a1 in live.formula_cells() if sheet == spec.SUMMARY_SHEET),
                        key=lambda a1: spec.cell_index(a1)))


_STATE_COLUMN = spec.col_letter(live.COL_STATE).encode()
#: a literal start, so the search runs at C speed; the prefixed form for writers that prefix their tags
_STATE_CELL = re.compile(rb'<c r="(' + _STATE_COLUMN + rb'[0-9]+)"[^>]*>\s*<f(?:\s[^>]*)?>([^<]*)</f>')



def _grids(path: str | os.PathLike[str], data: bytes | None, book: _Book) -> dict[str, list[list[Any]]]:
    """sheet name -> calamine's cell values from A1, of each sheet read, the hidden sheet and the import's evidence."""
    import python_calamine as pc

    cal = (pc.CalamineWorkbook.from_path(str(path)) if data is None
           else pc.CalamineWorkbook.from_filelike(io.BytesIO(data)))
    try:
        return {n: cal.get_sheet_by_name(n).to_python(skip_empty_area=False)
                for n in book.sheet_names if n in book.owned or n in (spec.HIDDEN_SHEET, EVIDENCE_SHEET)}
    finally:
        cal.close()


class _Found:
    """What was read from one workbook, and the cells and structure :func:`assemble` asks of it: a cell's formula
    from the sheet scan, else its value from calamine's grid."""

    __slots__ = ("book", "grids", "outside", "scans", "unlocked_xfs")

    def __init__(self, book: _Book, scans: dict[str, _Sheet], unlocked_xfs: frozenset[int],
                 grids: dict[str, list[list[Any]]], outside: dict[str, tuple[str, ...]]) -> None:
        self.book = book
        self.scans = scans
        self.unlocked_xfs = unlocked_xfs
        self.grids = grids
        self.outside = outside

    def cell(self, sheet: str, a1: str) -> tuple[CellValue, str | None]:
        scan = self.scans.get(sheet)
        if scan is not None and a1 in scan.formulas:
            return None, scan.formulas[a1]
        grid = self.grids.get(sheet)
        if grid is not None:
            r, c = _rc(a1)
            if r < len(grid):
                row = grid[r]
                if c < len(row):
                    return _grid_value(row[c]), None
        return None, None

    def cells(self, places: Sequence[tuple[str, str, int, int]]) -> list[tuple[CellValue, str | None]]:
        """cell() of each place, without a call per cell."""
        grids, scans = self.grids, self.scans
        out: list[tuple[CellValue, str | None]] = []
        at_sheet = None
        grid: list[list[Any]] = []
        scan: _Sheet | None = None
        for sheet, a1, r, c in places:
            if sheet != at_sheet:
                at_sheet, grid, scan = sheet, grids.get(sheet) or [], scans.get(sheet)
            if scan is not None and a1 in scan.formulas:
                out.append((None, scan.formulas[a1]))
                continue
            v: Any = None
            if r < len(grid):
                row = grid[r]
                if c < len(row):
                    v = row[c]  # as _grid_value
                    if isinstance(v, float):
                        if v.is_integer() and abs(v) < 2**53:
                            v = int(v)
                    elif v == "":
                        v = None
            out.append((v, None))
        return out

    def labels(self, version: int) -> dict[tuple[str, str], CellValue]:
        """(sheet, A1) -> value of each label cell the template of layout ``version`` writes, as cell() gives it,
        on the sheets read."""
        labels: dict[tuple[str, str], CellValue] = {}
        for s, cells in _label_cells(version).items():  # as cell(s, a)[0], without a call per label
            grid = self.grids.get(s)
            if grid is None:
                continue
            scan = self.scans.get(s)
            with_formula = scan.formulas if scan is not None else {}
            for at, r, c in cells:
                v = None
                if at[1] not in with_formula and r < len(grid):
                    row = grid[r]
                    if c < len(row):
                        v = _grid_value(row[c])
                labels[at] = v
        return labels

    def structure(self, props: dict[str, str], version: int) -> Structure:
        """What the template of layout ``version`` owns, as found (S2): sheets, labels, merges, unlocked cells,
        protection."""
        exp, scans = structure.expected(version), self.scans
        merges = {s: frozenset(scans[s].merges) for s in exp.sheets if s in scans}
        unlocked = {s: scans[s].unlocked(self.unlocked_xfs, _covered(merges[s])) for s in exp.sheets if s in scans}
        protected = {s: scans[s].protected for s in exp.sheets if s in scans}
        validations = {s: dict(scans[s].validations) for s in exp.sheets if s in scans}
        return Structure(tuple(self.book.sheet_names), self.labels(version), merges, unlocked, protected,
                         self.book.locked, props.get("fingerprint"), self.outside, unnamed(self.book.dests, version),
                         {(s, a): scans[s].formulas.get(a, "") for s, a in live.formula_cells() if s in scans},
                         validations, version)


@functools.cache
def _label_cells(version: int) -> dict[str, list[tuple[tuple[str, str], int, int]]]:
    """sheet -> ((sheet, A1), row index, column index) of each label the template of layout ``version`` writes
    there."""
    out: dict[str, list[tuple[tuple[str, str], int, int]]] = {}
    for s, a in structure.expected(version).labels:
        out.setdefault(s, []).append(((s, a), *_rc(a)))
    return out


def _rc(a1: str) -> tuple[int, int]:
    """0-based (row, column) of an A1 reference (spec.cell_index, the one parser)."""
    r, c = spec.cell_index(a1)
    return r - 1, c - 1


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



