"""What changed between two versions of an agency's workbook: every changed cell and the narrative text changes.

Developer note. Pure (no I/O; import-linter holds it so). :func:`diff` takes two
:class:`~xl_addin.model.ReportData` (the older and the newer version, as read from their workbooks) and returns
a :class:`VersionDiff` for the coordinator's agency page:

- :attr:`VersionDiff.cells`: every input cell of the tables (表二、表三、表四), every field of 基本信息 and the
  last year's figures whose value changed, with sheet, cell, official labels and old -> new. A total (derived
  cell) is listed only when its formula was replaced by a typed number (or back), or two typed numbers differ:
  a total that follows its parts is not a change of its own.
- :attr:`VersionDiff.texts`: every narrative field of 正文 whose text changed, with an inline diff made with
  :mod:`difflib` -- the changed spots, each with a little context -- bounded in size (:data:`MAX_HUNKS` spots,
  :data:`MAX_PIECE` characters a side per spot), so a rewritten section cannot make a page of megabytes.

Values compare as the cell says them: 12 and 12.0 are the same; text is compared with its line endings
normalised and its ends stripped.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from typing import Any, Final

from . import spec
from .model import CellValue, ReportData

#: how many changed spots a field's diff shows, how much of each side of one, and how much context around it
MAX_HUNKS: Final = 8
MAX_PIECE: Final = 120
CONTEXT: Final = 10
#: texts longer than this are compared paragraph by paragraph first (difflib's character matching is quadratic)
MAX_CHARS_INLINE: Final = 4000


@dataclass(frozen=True)
class CellChange:
    key: str
    sheet: str
    cell: str
    labels: tuple[str, ...]  # official labels: (table, row, column) of a table cell; (field,) of a field
    old: str  # as shown ("" for blank)
    new: str

    @property
    def message(self) -> str:
        where = "".join(f"“{label}”" for label in self.labels[1:]) if len(self.labels) > 1 else ""
        what = f"{self.labels[0]}{where}" if where else f"“{self.labels[0]}”"
        return f"{what}（{self.sheet}!{self.cell}）：{self.old or '空白'} → {self.new or '空白'}"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "sheet": self.sheet, "cell": self.cell, "labels": list(self.labels),
                "old": self.old, "new": self.new, "message": self.message}


@dataclass(frozen=True)
class Hunk:
    """One changed spot of a text: ``before`` (context) ``removed`` -> ``added`` ``after`` (context)."""

    before: str
    removed: str
    added: str
    after: str

    @property
    def inline(self) -> str:
        """The spot as one line: …前文[-删去的-]{+新增的+}后文…"""
        out = self.before
        if self.removed:
            out += f"[-{self.removed}-]"
        if self.added:
            out += f"{{+{self.added}+}}"
        return out + self.after

    def to_dict(self) -> dict[str, str]:
        return {"before": self.before, "removed": self.removed, "added": self.added, "after": self.after}


@dataclass(frozen=True)
class TextChange:
    key: str
    section: str  # "一", "五", "六"
    label: str  # the field's label on 正文
    sheet: str
    cell: str
    hunks: tuple[Hunk, ...]
    more: int  # changed spots not shown (past MAX_HUNKS)
    old_chars: int
    new_chars: int

    @property
    def message(self) -> str:
        head = f"正文“{self.label}”（{self.sheet}!{self.cell}）：{self.old_chars} 字 → {self.new_chars} 字"
        return head + ("，另有 " + str(self.more) + " 处改动未列出" if self.more else "")

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "section": self.section, "label": self.label, "sheet": self.sheet, "cell": self.cell,
                "hunks": [h.to_dict() for h in self.hunks], "inline": [h.inline for h in self.hunks],
                "more": self.more, "old_chars": self.old_chars, "new_chars": self.new_chars, "message": self.message}


@dataclass(frozen=True)
class VersionDiff:
    cells: tuple[CellChange, ...]
    texts: tuple[TextChange, ...]

    @property
    def unchanged(self) -> bool:
        return not self.cells and not self.texts

    def summary_zh(self) -> str:
        if self.unchanged:
            return "两个版本内容相同。"
        return f"{len(self.cells)} 个单元格有改动，正文 {len(self.texts)} 处段落有改动。"

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary_zh(), "cells": [c.to_dict() for c in self.cells],
                "texts": [t.to_dict() for t in self.texts]}


# ---- values --------------------------------------------------------------------------------------------------

def shown(v: CellValue) -> str:
    """A cell's value as a person reads it: 12 for 12.0, dates as 2024-01-17, text stripped."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return _text(str(v))


def _text(s: str) -> str:
    return s.replace("\r\n", "\n").replace("\r", "\n").strip()


def _labels(key: str) -> tuple[str, ...]:
    if key in spec.DATA_CELLS:
        row, col = spec.labels_of(key)
        return (f"表{spec.TABLE_OF_KEY[key].number}", row, col)
    if key.startswith("prior."):
        row, col = spec.labels_of(key)
        return ("上年数据", row, col) if col else ("上年数据", row)
    return (spec.FIELDS_BY_KEY[key].label,)


def _as_shown(data: ReportData, key: str) -> str:
    if key in spec.DATA_CELLS and spec.DATA_CELLS[key].derived and key in data.formulas:
        return "（公式）"
    return shown(data.values.get(key))


def _cell_keys() -> tuple[str, ...]:
    return tuple(k for k in spec.ALL_KEYS if not k.startswith(("s1.", "s5.", "s6.")))


def _cell_changes(old: ReportData, new: ReportData) -> list[CellChange]:
    out = []
    for key in _cell_keys():
        a, b = _as_shown(old, key), _as_shown(new, key)
        if a == b:
            continue
        loc = new.location(key) if key not in new.missing else old.location(key)
        out.append(CellChange(key, loc.sheet, loc.a1, _labels(key), a, b))
    return out


# ---- texts ---------------------------------------------------------------------------------------------------

def _cut_left(s: str, n: int) -> str:
    return s if len(s) <= n else "…" + s[-n:]


def _cut_right(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n] + "…"


def text_hunks(old: str, new: str) -> tuple[tuple[Hunk, ...], int]:
    """The changed spots of ``old`` -> ``new`` (at most :data:`MAX_HUNKS`, each bounded) and how many more."""
    if len(old) + len(new) > MAX_CHARS_INLINE:
        spans = _paragraph_spans(old, new)
    else:
        spans = _char_spans(old, new)
    hunks = []
    for i1, i2, j1, j2 in spans[:MAX_HUNKS]:
        hunks.append(Hunk(_cut_left(old[max(0, i1 - CONTEXT):i1], CONTEXT), _cut_right(old[i1:i2], MAX_PIECE),
                          _cut_right(new[j1:j2], MAX_PIECE), _cut_right(old[i2:i2 + CONTEXT], CONTEXT)))
    return tuple(hunks), max(0, len(spans) - MAX_HUNKS)


def _char_spans(old: str, new: str) -> list[tuple[int, int, int, int]]:
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return _merge([(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal"])


def _merge(spans: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Spots closer than the context merged into one (a reworded phrase reads as one change)."""
    out: list[tuple[int, int, int, int]] = []
    for s in spans:
        if out and s[0] - out[-1][1] <= 2:
            p = out.pop()
            s = (p[0], s[1], p[2], s[3])
        out.append(s)
    return out


def _paragraph_spans(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """For long texts: the changed paragraphs (line-level difflib), as character spans."""
    a, b = old.split("\n"), new.split("\n")

    def offsets(lines: list[str]) -> list[int]:
        pos, out = 0, []
        for line in lines:
            out.append(pos)
            pos += len(line) + 1
        out.append(pos)
        return out

    oa, ob = offsets(a), offsets(b)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    spans = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        spans.append((oa[i1], max(oa[i1], oa[i2] - 1), ob[j1], max(ob[j1], ob[j2] - 1)))
    return spans


def _text_changes(old: ReportData, new: ReportData) -> list[TextChange]:
    out = []
    for section in ("一", "五", "六"):
        for f in spec.narrative_fields(section):
            a, b = _text(old.text(f.key)), _text(new.text(f.key))
            if a == b:
                continue
            hunks, more = text_hunks(a, b)
            loc = new.location(f.key) if f.key not in new.missing else old.location(f.key)
            out.append(TextChange(f.key, section, f.label, loc.sheet, loc.a1, hunks, more, len(a), len(b)))
    return out


def diff(old: ReportData, new: ReportData) -> VersionDiff:
    """What changed from ``old`` to ``new`` (two versions of one agency's workbook)."""
    return VersionDiff(tuple(_cell_changes(old, new)), tuple(_text_changes(old, new)))
