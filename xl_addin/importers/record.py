"""The import record: for every cell, the value read, the source text it came from and anything uncertain --
as rows for the 导入记录 sheet and as JSON (``xl-addin import --json``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import derive, spec
from ..model import CellValue
from .parse import Imported, Record

RECORD_SHEET = "导入记录"
HEADERS = ("项目", "单元格", "读入的值", "原文", "原文位置", "说明（不确定之处）")
#: a total's note when the printed figure does not disagree with its parts (a row with only this note is not
#: marked uncertain on the 导入记录 sheet)
TOTAL_BY_FORMULA = "合计：工作簿中按公式计算"


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
              computed: dict[str, Any]) -> list[str]:
    """What the 导入记录 row of ``key`` says: the record's note, the import's notes on it, why it is empty."""
    notes = list(notes_by_key.get(key, []))
    if r is not None and r.note:
        notes.insert(0, r.note)
    if key in imp.data.missing:
        notes.append("旧格式，未读入")
    if key in spec.DERIVED_KEYS and r is not None:
        calc = computed.get(key)
        printed = derive.count_value(r.value)
        if calc is not None and printed is not None and printed != calc:
            notes.append(f"报告印的合计为 {printed}，各项之和为 {calc}；工作簿中的合计按公式计算")
        else:
            notes.append(TOTAL_BY_FORMULA)
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
    out: list[tuple[Any, ...]] = []
    order = [f.key for f in spec.META_FIELDS] + [c.key for t in spec.TABLES for c in t.cells] + \
        [f.key for f in spec.NARRATIVE_FIELDS]
    for key in order:
        r = by_key.get(key)
        notes = _notes_of(key, imp, r, notes_by_key, computed)
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
