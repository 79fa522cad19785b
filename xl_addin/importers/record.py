"""The import record: for every cell, the value read, the source text it came from and anything uncertain --
as rows for the 导入记录 sheet and as JSON (``xl-addin import --json``) -- and the evidence an imported workbook
carries so that ``check`` finds on it what it finds on the report (:func:`evidence_rows`, :func:`evidence`).

What the import writes (:func:`written`): every value as read, the printed totals **as printed** (numbers, not
formulas: a 总计 printed 0 over parts adding up to 11 stays 0, and A1 still finds it), the 正文 texts without the
numbering that repeats the report's own sub-heading (:func:`xl_addin.narrative.strip_numbering`). The workbook
stays a working template: 计算合计 (or a clerk) may put the formulas back; the 导入记录 sheet says which totals
are the published ones.

The evidence (the import props the report rules read: format, markers, headings, absent cells, notes, unread
tables; the cells the layout of the report has not; and what was written into every total and 正文 cell) travels
in the very hidden sheet :data:`EVIDENCE_SHEET`, sealed with a SHA-256 of its payload and bound to the template
build (its fingerprint). A workbook reader gives it back to the rules only through :func:`evidence`, which trusts
nothing in it: a broken seal, another writer or template build, or a payload too large leaves the workbook an
ordinary one; what it relaxes is bound to the cells still holding what the import wrote ("kept": a total still
the printed figure, a 正文 cell still the imported text; cells "absent", "unread" or missing only while still
blank), so a clerk's later edit is checked as any workbook's. What the record adds (S1, S3, S2.drift, A7, …) can
only add findings; cells "absent" or missing count only in a record of an older layout, which S3 (an error)
reports. There is no secret key: a record forged on purpose, seal and all, can at most spare the cells it names
warnings (S2.literal "total overwritten", T9 "numbering", and V3 blanks only next to an S3 error), never an
error (A1-A4 still compare every printed total).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import derive, narrative, spec
from ..model import IMPORT_PROPS_KEY, CellValue

if TYPE_CHECKING:  # (parse is not loaded by a workbook reader that only reads the evidence)
    from .parse import Imported, Record

RECORD_SHEET = "导入记录"
HEADERS = ("项目", "单元格", "读入的值", "原文", "原文位置", "说明（不确定之处）")
#: a total's note when the printed figure does not disagree with its parts (a row with only this note is not
#: marked uncertain on the 导入记录 sheet)
TOTAL_AS_PRINTED = "合计：工作簿中为报告所印的数字（数值，不是公式；点“计算合计”改为公式）"
#: the very hidden sheet holding the evidence (see the module doc)
EVIDENCE_SHEET = "_xl_addin_import"
WRITER, VERSION = "xl_addin.import", 1
#: row labels of the evidence sheet (column A; column B the value)
PAYLOAD_ROW, SEAL_ROW = "payload", "seal"
#: a cell holds at most 32,767 characters: the payload is cut into pieces of this size
CHUNK = 30_000
#: the largest payload read back (a real report's: some 30,000 characters) and the most rows looked at
MAX_PAYLOAD_CHARS, MAX_ROWS = 4_000_000, 200
#: the 正文 keys the import writes
_TEXT_KEYS = frozenset(f.key for f in spec.NARRATIVE_FIELDS)


def _label(key: str) -> str:
    if key.startswith("section."):
        return f"第{key.split('.', 1)[1]}部分标题"
    row, col = spec.labels_of(key)
    table = spec.TABLE_OF_KEY.get(key)
    prefix = f"表{table.number} " if table else ""
    return prefix + " / ".join(p for p in (row, col) if p)


def _cell(key: str) -> str:
    loc = spec.LAYOUT.locations.get(key)
    return f"{loc.sheet}!{loc.a1}" if loc else ""


def _show(v: CellValue) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _notes_of(key: str, imp: Imported, r: Record | None, notes_by_key: dict[str, list[str]],
              computed: dict[str, Any], stripped: dict[str, list[str]]) -> list[str]:
    """What the 导入记录 row of ``key`` says: the record's note, the import's notes on it, why it is empty, that a
    total is kept as printed, the numbering removed from a 正文 cell."""
    notes = list(notes_by_key.get(key, []))
    if r is not None and r.note:
        notes.insert(0, r.note)
    if key in imp.data.missing:
        notes.append("旧格式，未读入")
    if key in spec.DERIVED_KEYS and r is not None:
        calc = computed.get(key)
        printed = derive.count_value(r.value)
        if calc is not None and printed is not None and printed != calc:
            notes.append(f"报告印的合计为 {printed}，各项之和为 {calc}；工作簿中保留所印的 {printed}（数值，不是公式），"
                         "以便校验发现这一错误；点“计算合计”改为公式")
        else:
            notes.append(TOTAL_AS_PRINTED)
    if key in stripped:
        notes.append(f"去掉了开头的编号“{'、'.join(stripped[key])}”（与模板的栏目重复）")
    return notes


def rows(imp: Imported) -> list[tuple[Any, ...]]:
    """One row per key of the template (in spec order: 基本信息, tables, 正文), then one per note."""
    by_key: dict[str, Record] = {}
    for rec in imp.records:
        by_key.setdefault(rec.key, rec)
    notes_by_key: dict[str, list[str]] = {}
    for n in imp.notes:
        if n.key:
            notes_by_key.setdefault(n.key, []).append(n.message)
    for u in imp.unread:  # the row's or table's unread cells say why (the first cell also has the note)
        for k in u.keys:
            notes_by_key.setdefault(k, []).append(f"未读入：{u.why}")
    computed = derive.compute_totals({k: derive.input_value(k, imp.data.values.get(k)) for k in spec.INPUT_KEYS})
    stripped = written(imp)[1]
    out: list[tuple[Any, ...]] = []
    order = [f.key for f in spec.META_FIELDS] + [c.key for t in spec.TABLES for c in t.cells] + \
        [f.key for f in spec.NARRATIVE_FIELDS]
    for key in order:
        r = by_key.get(key)
        notes = _notes_of(key, imp, r, notes_by_key, computed, stripped)
        if r is None and not notes and key not in spec.INPUT_KEYS and key not in spec.DERIVED_KEYS:
            continue
        value = _show(r.value) if r is not None else None
        if isinstance(value, str) and len(value) > 200:
            value = value[:200] + "……"
        out.append((_label(key), _cell(key), value, r.source if r else "", r.where if r else "",
                    "；".join(notes) if notes else ("未找到" if r is None else "")))
    for rec in imp.records:
        if rec.key.startswith("section."):
            out.append((_label(rec.key), "", rec.value, rec.source, rec.where, ""))
    for n in imp.notes:
        if not n.key:
            out.append(("（整份报告）", "", None, n.source[:120], n.where, n.message))
    return out


def to_dict(imp: Imported) -> dict[str, Any]:
    return {
        "path": imp.data.source,
        "format": imp.format,
        "old_format_markers": list(imp.markers),
        "values": {k: _show(v) for k, v in imp.data.values.items()},
        "missing": sorted(imp.data.missing),
        "sources": [{"key": r.key, "value": _show(r.value), "source": r.source, "where": r.where, "note": r.note}
                    for r in imp.records],
        "notes": [{"kind": n.kind, "message": n.message, "key": n.key, "where": n.where, "source": n.source}
                  for n in imp.notes],
        "headings": [{"section": h.section, "written": h.written, "text": h.text, "where": h.where}
                     for h in imp.headings],
        "unread": [u.as_dict() for u in imp.unread],
    }


# ---- what the import writes, and the evidence ----------------------------------------------------------------

#: characters no worksheet cell can hold (XML 1.0): a space each, as template_builder.put does
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _cell_text(v: CellValue) -> CellValue:
    if isinstance(v, float) and not math.isfinite(v):  # no cell holds it: kept as the text it is
        return str(v)
    if isinstance(v, str):
        return _ILLEGAL.sub(" ", v.replace("\r\n", "\n").replace("\r", "\n"))
    return v


def written(imp: Imported) -> tuple[dict[str, CellValue], dict[str, list[str]]]:
    """(key -> what the import writes into the workbook's cell of ``key``, key -> the numbering removed from that
    正文 cell). Every 基本信息 and 正文 key, every input the report's layout has, every total as printed (None:
    printed blank), and None for each table cell the report's layout has not (``missing``)."""
    values = imp.data.values
    out: dict[str, CellValue] = {}
    stripped: dict[str, list[str]] = {}
    for key in spec.FIELDS_BY_KEY:
        v = _cell_text(values.get(key))
        if key in _TEXT_KEYS and isinstance(v, str):
            v, removed = narrative.strip_numbering(key, v, keep_heading=True)
            if removed:
                stripped[key] = removed
        out[key] = v
    for key in (*spec.INPUT_KEYS, *spec.DERIVED_KEYS):
        out[key] = None if key in imp.data.missing else _cell_text(values.get(key))
    return out, stripped


def _norm(v: object) -> Any:
    """A cell's value as the evidence compares it (a reader's 3.0 is 3, a datetime at midnight its date)."""
    if v is None or v == "":
        return None
    if isinstance(v, bool | str):
        return v
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if isinstance(v, int | float):
        return v
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _canonical(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _seal(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(b"xl_addin import evidence\n" + _canonical(payload)).hexdigest()


def evidence_rows(imp: Imported, cells: Mapping[str, CellValue], fingerprint: str) -> list[tuple[str, str]]:
    """The rows (column A, column B) of :data:`EVIDENCE_SHEET` for a workbook the import filled with ``cells``
    (:func:`written`) on the template of ``fingerprint``."""
    payload = {
        "writer": WRITER, "version": VERSION, "fingerprint": fingerprint,
        "props": imp.data.props.get(IMPORT_PROPS_KEY, ""),
        "missing": sorted(imp.data.missing),
        "cells": {k: _norm(cells.get(k)) for k in (*spec.DERIVED_KEYS, *sorted(_TEXT_KEYS))},
    }
    text = _canonical(payload).decode("utf-8")
    rows = [("导入元数据", "由 xl-addin import 写入，请勿修改：改动后校验按普通工作簿进行")]
    rows += [(PAYLOAD_ROW, text[i:i + CHUNK]) for i in range(0, len(text), CHUNK)]
    rows.append((SEAL_ROW, _seal(payload)))
    return rows


def _payload(grid: Iterable[Sequence[object]]) -> dict[str, Any] | None:
    pieces: list[str] = []
    seal = ""
    size = 0
    for n, row in enumerate(grid):
        if n >= MAX_ROWS:  # (what the openpyxl reader reads of the sheet too)
            break
        if len(row) < 2 or not isinstance(row[0], str) or not isinstance(row[1], str):
            continue
        if row[0] == PAYLOAD_ROW:
            size += len(row[1])
            if size > MAX_PAYLOAD_CHARS:
                return None
            pieces.append(row[1])
        elif row[0] == SEAL_ROW:
            seal = row[1]
    try:
        payload = json.loads("".join(pieces)) if pieces else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or payload.get("writer") != WRITER or payload.get("version") != VERSION:
        return None
    if not hmac.compare_digest(seal.encode("ascii", "replace"), _seal(payload).encode("ascii")):
        return None
    return payload


def _str_list(v: object) -> list[str]:
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def _is_strs(v: object, n: int | None = None) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v) and (n is None or len(v) == n)


def _is_str_map(v: object) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


def _is_note(n: object) -> bool:
    return (isinstance(n, dict) and all(isinstance(n.get(f, ""), str) for f in ("kind", "message", "key", "where", "source"))
            and _is_str_map(n.get("detail", {})))


def _is_unread(u: object) -> bool:
    return (isinstance(u, dict) and _is_strs(u.get("keys"))
            and all(isinstance(u.get(f, ""), str) for f in ("table", "what", "why", "where")))


#: the shape of each entry of the import props the rules read (parse.import_props; contract U's "unread"): a
#: record whose entry has another shape is no record of ours
_SHAPES: dict[str, Callable[[object], bool]] = {
    "format": lambda v: isinstance(v, str), "markers": _is_strs, "intro": lambda v: isinstance(v, str),
    "headings": lambda v: isinstance(v, list) and all(_is_strs(h, 4) for h in v), "absent": _is_strs,
    "notes": lambda v: isinstance(v, list) and all(_is_note(n) for n in v),
    "unread": lambda v: isinstance(v, list) and all(_is_unread(u) for u in v),
}


def _well_formed(info: dict[str, Any]) -> bool:
    """Every entry the rules read has the shape the importer gives it; any other entry is plain data (a text, a
    number, a flag or a list of texts) -- a rule reading a record never meets what it does not expect."""
    for key, v in info.items():
        shape = _SHAPES.get(key)
        if shape is not None:
            if not shape(v):
                return False
        elif not (v is None or isinstance(v, str | int | float | bool) or _is_strs(v)):
            return False
    return "format" in info


def evidence(grid: Iterable[Sequence[object]] | None, values: Mapping[str, CellValue], formulas: Mapping[str, str],
             fingerprint: str | None) -> tuple[dict[str, str], frozenset[str]] | None:
    """What a workbook's :data:`EVIDENCE_SHEET` (``grid``: its cell values row by row from A1) gives the rules:
    (the import props, as ReportData.props gets them; the keys the report's layout has not, as ReportData.missing),
    given the workbook's ``values`` and ``formulas`` by key and the template ``fingerprint`` its hidden sheet states.
    None when there is no such sheet or it is not the import's own (see the module doc)."""
    payload = _payload(grid or ())
    if payload is None or not fingerprint or payload.get("fingerprint") != fingerprint:
        return None
    try:
        info = json.loads(payload.get("props") or "")
    except (TypeError, ValueError, RecursionError):
        return None
    if not isinstance(info, dict) or not _well_formed(info):
        return None

    def blank(k: str) -> bool:
        return k not in formulas and _norm(values.get(k)) is None

    cells = payload.get("cells")
    cells = cells if isinstance(cells, dict) else {}
    kept = sorted(k for k, v in cells.items()
                  if (k in spec.DERIVED_KEYS or k in _TEXT_KEYS) and k not in formulas and _norm(values.get(k)) == v)
    info["kept"] = kept
    # cells the report's own (older) layout has not: only in a record naming that layout (S3, an error, says so)
    old_layout = info.get("format") != "2021"
    info["absent"] = [k for k in _str_list(info.get("absent")) if old_layout and k in spec.DATA_CELLS and blank(k)]
    unread = []
    for u in info.get("unread") or []:
        keys = [k for k in u["keys"] if k in spec.DATA_CELLS and blank(k)]
        if keys:
            unread.append({**u, "keys": keys})
    if unread or "unread" in info:
        info["unread"] = unread
    missing = frozenset(k for k in _str_list(payload.get("missing"))
                        if old_layout and k in spec.DATA_CELLS and blank(k))
    return {IMPORT_PROPS_KEY: json.dumps(info, ensure_ascii=False)}, missing
