"""A published report's lines -> values by key, the source of every value, and what was uncertain or unread.

The entry point, :func:`parse`, puts the pieces together: :mod:`.sections` finds the six parts and splits the
narrative, :mod:`.table` is the table model every reader produces (cells with their grid columns where the source
has them), :mod:`.match` maps its rows onto the official tables by their labels and their values onto the
columns. Tables are looked for in their section, and in the whole report when not there (a caption or a
sub-heading may cut a section short). Values are kept as written where they are not plain numbers; "—", "/",
"无" in a read row are 0 and said so (Note kind "zero-as"). Nothing is guessed: a row (or table) whose values do
not fit its columns is UNREAD -- its cells stay empty and the import props list it ("unread") with why and where.
The old 2019 format and the hybrid layout are recognised and named, and every uncertainty is a :class:`Note`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .. import spec
from ..model import IMPORT_PROPS_KEY, CellValue, ReportData, as_date
from .document import Document, Line, squash
from .match import (
    T2_ROWS,
    T3_SINGLE_SIX_MARKER,
    T3_SIX_KEYS,
    T3_SIX_SINGLE,
    T3_WIDTH,
    Fit,
    _ratio,
    _t3_targets,
    between_pages,
    continued,
    fit,
    following_values,
    header_columns,
    header_xs,
    is_subsequence,
    match_t2,
    match_t3,
    split_digit_merge_t4,
    strip_t3_prefixes,
    t3_rows,
    wrapped_values,
    xs_confirmed,
)
from .sections import SECTION_WORDS, Heading, find_headings, paragraphs, regions, split_section1, split_section5, split_section6
from .table import ITEM_START, NOTHING, Cell, Row, is_page_furniture, split_row, value_cell

__all__ = ["MAX_VALUE_ROWS", "NOTHING", "T3_SINGLE_SIX_MARKER", "T3_SIX_KEYS", "T3_SIX_SINGLE", "Heading",
           "Imported", "Note", "Record", "_ratio", "_t3_targets", "import_props", "match_t2", "match_t3", "parse",
           "strip_t3_prefixes", "t3_rows", "value_cell"]

# --------------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """Where one value came from."""

    key: str
    value: CellValue
    source: str  # the text it was read from (the row, the heading, the paragraph's start)
    where: str  # "第12行", "第3页", "表格2第5行"
    note: str = ""  # anything uncertain about it


@dataclass(frozen=True)
class Note:
    """Something uncertain or non-standard found while reading (for the import record and the rules)."""

    #: "label", "glyphs", "count", "split", "wrapped", "padding", "joined", "unmatched", "missing", "unit",
    #: "format", "meta", "zero-as" (a cell of a read row printed as one of NOTHING, or left blank: ``source`` is
    #: what was written, "" for blank)
    kind: str
    message: str  # Chinese, for people
    key: str = ""
    where: str = ""
    source: str = ""
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Unread:
    """A table or row that could not be read: its cells stay empty, and no rule may take them as read."""

    table: str  # "t2", "t3", "t4"
    what: str  # "table" or "row"
    keys: tuple[str, ...]
    why: str  # Chinese: why it could not be read
    where: str  # Chinese: where it was looked for

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "what": self.what, "keys": list(self.keys), "why": self.why, "where": self.where}


@dataclass(frozen=True)
class Imported:
    data: ReportData
    records: tuple[Record, ...]
    notes: tuple[Note, ...]
    headings: tuple[Heading, ...]
    #: "2021", "hybrid" (2021 table 二, 23-row table 三) or "2019"
    format: str
    markers: tuple[str, ...]
    #: the text between the title and 一、总体情况 (the opening paragraph: basis, statistic period)
    intro: str = ""
    #: the tables and rows that could not be read (contract U)
    unread: tuple[Unread, ...] = ()
    #: how zero was written: a Note of kind "zero-as" per cell of a read row printed as one of NOTHING ("—", "/",
    #: "无" …; kept as written) or left blank (None). Facts for the rules (in the props' "notes"), not uncertainties
    #: for people: not in ``notes``
    zero_as: tuple[Note, ...] = ()


def absent_keys(imp: Imported) -> set[str]:
    """Input keys the report's own layout has no cell for (（六）1 and 2 of a 23-row table 三)."""
    if any(m.startswith(T3_SINGLE_SIX_MARKER) for m in imp.markers):
        return {f"t3.{rk}.{ck}" for rk in T3_SIX_KEYS[:-1] for ck, _ in spec.T3_COLS}
    return set()


def unread_keys(imp: Imported) -> set[str]:
    """The cells of the tables and rows that could not be read."""
    return {k for u in imp.unread for k in u.keys}


def import_props(imp: Imported) -> dict[str, str]:
    """What the published-report rules need, as ReportData.props (plain strings)."""
    return {IMPORT_PROPS_KEY: json.dumps({
        "format": imp.format, "markers": list(imp.markers),
        "headings": [[h.section, h.written, h.text, h.where] for h in imp.headings],
        "absent": sorted(absent_keys(imp)),
        "intro": imp.intro,
        "notes": [{"kind": n.kind, "message": n.message, "key": n.key, "where": n.where, "source": n.source,
                   **({"detail": n.detail} if n.detail else {})} for n in (*imp.notes, *imp.zero_as)],
        "unread": [u.as_dict() for u in imp.unread],
    }, ensure_ascii=False)}


#: the rows holding a number a table's section is read for (table 三 has 25, table 二 twelve; a PDF may wrap each
#: over several lines): the rest of a section that holds more is not a statistics table
MAX_VALUE_ROWS = 400
_T3_LABELS = tuple(label for _, label in spec.T3_COLS)
_TABLE_OF = re.compile(r"^(.*?表格\d+)")

# --------------------------------------------------------------------------------------------------------------

_TITLE_A = re.compile(r"(.{2,40}?)[（(]?(20\d\d)[）)]?年度?政府信息公开(?:工作)?年度?报告")
_TITLE_B = re.compile(r"(20\d\d)年度?(.{2,40}?)政府信息公开(?:工作)?年度?报告")
_DATE_CN = re.compile(r"(20\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_DATE_ISO = re.compile(r"(20\d\d)[-/.](\d{1,2})[-/.](\d{1,2})")
_TITLE_END = re.compile(r"年度?报告$")
_PUBLISHED = re.compile(r"(?:发布|公开|成文)(?:日期|时间)[:：]\s*(20\d\d[-/.年]\d{1,2}[-/.月]\d{1,2}日?)")



class _Reader:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        mark = squash(spec.UNCHECKED_MARK)  # a draft's page header, on every page
        self.lines = [ln for ln in doc.lines if ln.cells is not None or not is_page_furniture(ln.text, mark)]
        self.values: dict[str, CellValue] = {}
        self.records: list[Record] = []
        self.notes: list[Note] = []
        self.unread: list[Unread] = []
        self.zero_as: list[Note] = []
        self.split_rows: dict[int, Row] = {}  # line index -> the line as a table row (tables are looked for twice)
        self.markers: list[str] = []
        self.t3_single_six = False

    # ---- helpers -------------------------------------------------------------------------------------------
    def put(self, key: str, value: CellValue, source: str, where: str, note: str = "") -> None:
        self.values[key] = value
        self.records.append(Record(key, value, source, where, note))

    def note(self, kind: str, message: str, *, key: str = "", where: str = "", source: str = "",
             **detail: str) -> None:
        self.notes.append(Note(kind, message, key, where, source, dict(detail)))

    def not_read(self, table: str, what: str, keys: Sequence[str], why: str, where: str) -> None:
        """Record ``keys`` as unread (contract U): they stay empty, whatever was read for them before is taken out."""
        for k in keys:
            self.values.pop(k, None)
        self.records[:] = [r for r in self.records if r.key not in set(keys)]
        self.unread.append(Unread(table, what, tuple(keys), why, where))

    # ---- whole document ------------------------------------------------------------------------------------
    def run(self) -> Imported:
        headings = find_headings(self.lines)
        regs = regions(self.lines, headings)
        for number, _ in SECTION_WORDS:
            if number not in regs:
                self.note("missing", f"未找到第{number}部分“{dict(_TITLE_OF)[number]}”的标题。")
        squashed = squash("\n".join(ln.text for ln in self.lines))
        self.markers = [m for m in spec.OLD_FORMAT_MARKERS if squash(m) in squashed]
        old_t2 = bool(self.markers)
        self.read_meta(headings)
        whole = (0, len(self.lines))
        if old_t2:
            if "二" in regs:
                self.note("format", "表二为旧格式（国办公开办函〔2019〕60号），其栏目与现行格式不同，未读入表二；"
                          "旧格式标志：" + "、".join(self.markers) + "。")
                self.old_t2_units(*regs["二"])
        else:
            self.read_t2(regs.get("二", whole))
        self.read_t3(regs.get("三", whole))
        self.read_t4(regs.get("四", whole))
        self.read_narrative(regs)
        if self.t3_single_six:
            self.markers.append(T3_SINGLE_SIX_MARKER)
        fmt = "2019" if old_t2 else ("hybrid" if self.t3_single_six else "2021")
        for h in headings:
            self.records.append(Record(f"section.{h.section}", h.text, h.text, h.where))
        missing = frozenset(c.key for c in spec.TABLE_BY_ID["t2"].cells) if old_t2 else frozenset()
        data = ReportData(dict(self.values), missing=missing, source=self.doc.source)
        first = min((h.index for h in headings), default=0)
        title_end = max((i + 1 for i, ln in enumerate(self.lines[:min(first, 6)])
                         if _TITLE_END.search(squash(ln.text))), default=0)
        intro = "\n".join(paragraphs(self.lines[title_end:first], self.doc.kind == "pdf"))
        return Imported(data, tuple(self.records), tuple(self.notes), tuple(headings), fmt, tuple(self.markers),
                        intro, tuple(self.unread), tuple(n for n in self.zero_as if n.key in self.values))

    def without_signature(self, paras: list[str]) -> list[str]:
        """The last section's paragraphs without the 落款 (agency name, date) that ends the report."""
        agency = squash(str(self.values.get("meta.agency") or ""))
        while paras:
            last = squash(paras[-1])
            if agency and last.startswith(agency):
                last = last[len(agency):]
            if last and not _SIGNATURE_DATE.match(last):
                break
            paras = paras[:-1]
        return paras

    # ---- meta ----------------------------------------------------------------------------------------------
    def title_lines(self, headings: Sequence[Heading]) -> list[Line]:
        """The lines of the title (before the first heading; a draft's note before it skipped)."""
        first = headings[0].index if headings else min(len(self.lines), 8)
        head_lines: list[Line] = []
        lines = list(self.lines[: max(first, 1)])
        if lines and squash(lines[0].text).lstrip("\ufeff").startswith(squash(spec.UNCHECKED_MARK)):
            # a draft exported without passing the checks: its note (perhaps wrapped) comes before the title
            end = next((i for i, ln in enumerate(lines[:4]) if squash(ln.text).endswith(
                squash(spec.UNCHECKED_NOTE_END))), 0)
            lines = lines[end + 1:]
        for ln in lines[:8]:
            if ln.cells is not None or len(squash(ln.text)) > 40:
                break
            head_lines.append(ln)
            if _TITLE_END.search(squash(ln.text)):  # the title ends here
                break
        return head_lines

    def read_meta(self, headings: Sequence[Heading]) -> None:
        head_lines = self.title_lines(headings)
        candidates: list[tuple[str, str]] = [("".join(squash(ln.text) for ln in head_lines),
                                              head_lines[0].where if head_lines else "")]
        if self.doc.meta.get("title"):
            candidates.append((self.doc.meta["title"], "网页标题"))
        agency, year = "", None
        for text, where in candidates:
            agency, year = _title_of(text)
            if year is not None:
                self.put("meta.year", year, text[:80], where)
                if agency:
                    self.put("meta.agency", agency, text[:80], where)
                break
        if year is None:
            self.year_from_text()
        if not agency:
            agency = self.doc.meta.get("agency", "")
            if agency:
                self.put("meta.agency", agency, agency, "网页信息", "按网页的发布机构填写")
            else:
                self.note("meta", "未找到机关名称（报告标题中没有）。", key="meta.agency")
        if agency:
            kind, level = guess_kind(agency), guess_level(agency)
            if kind:
                self.put("meta.kind", kind, agency, "机关名称", "按机关名称推断，请核对")
            if level:
                self.put("meta.level", level, agency, "机关名称", "按机关名称推断，请核对")
        self.read_date()

    def year_from_text(self) -> None:
        counts: dict[int, int] = {}
        for ln in self.lines[:60]:
            for y in re.findall(r"(20\d\d)\s*年", ln.text):
                counts[int(y)] = counts.get(int(y), 0) + 1
        if not counts:
            self.note("meta", "未找到报告标题和年度。", key="meta.year")
            return
        y = max(counts, key=lambda k: (counts[k], k))
        self.put("meta.year", y, "正文中最常见的年份", "", "报告标题未找到，年度按正文推断")
        self.note("meta", f"未找到报告标题，年度按正文推断为 {y} 年，请核对。", key="meta.year")

    def read_date(self) -> None:
        """The publication date from the report's own text: its signature (落款) date, else a 发布日期/成文日期
        line near the top, else a web page's own publication time. Never a file's creation date (a PDF's or a
        Word file's metadata says when the file was made, not when the report was published): else unknown."""
        tail = [ln for ln in self.lines[-8:] if ln.cells is None]
        for ln in reversed(tail):
            t = squash(ln.text)
            m = _DATE_CN.fullmatch(t) or _DATE_ISO.fullmatch(t)
            if m:
                self.put("meta.report_date", as_date(m.group(0)), ln.text, ln.where, "落款日期")
                return
        for ln in self.lines[:12]:
            m0 = _PUBLISHED.search(squash(ln.text))
            if m0:
                m = _DATE_CN.search(m0.group(1)) or _DATE_ISO.search(m0.group(1))
                if m:
                    self.put("meta.report_date", as_date(m.group(0)), ln.text, ln.where, "报告中的发布日期")
                    return
        d = self.doc.meta.get("date", "") if self.doc.kind == "html" else ""
        m = _DATE_ISO.search(d) or _DATE_CN.search(d)
        if m:
            self.put("meta.report_date", as_date(m.group(0)), d, self.doc.meta.get("date_source", "网页信息"),
                     "报告中没有落款日期，按" + self.doc.meta.get("date_source", "网页信息") + "填写")
        else:
            self.note("meta", "未找到发布（落款）日期。", key="meta.report_date")

    # ---- tables --------------------------------------------------------------------------------------------
    def rows(self, start: int, end: int) -> Iterator[Row]:
        """The rows of lines ``start:end``, up to the :data:`MAX_VALUE_ROWS`-th that holds a value (each is matched
        against the official labels): a page of thousands of lines ending in a number is read in linear, bounded
        time; a note says where reading stopped."""
        valued = 0
        for n in range(start, min(end, len(self.lines))):
            row = self.split_rows.get(n)
            if row is None:
                row = self.split_rows[n] = split_row(self.lines[n])
            ln = row.line
            if row.values:
                valued += 1
                if valued > MAX_VALUE_ROWS:
                    self.note("format", f"表格中带数字的行超过 {MAX_VALUE_ROWS} 行，不像年度报告的统计表格，"
                              "其后的行未读入。", where=ln.where, source=ln.text[:120])
                    return
            yield row

    def looked_in(self, number: str, span: tuple[int, int]) -> str:
        """Where a table was looked for, for people."""
        if span == (0, len(self.lines)):
            return f"全文（未找到第{number}部分的标题）"
        where = self.lines[span[0]].where if span[0] < len(self.lines) else ""
        return f"第{number}部分（{where}起）及全文"

    def label_note(self, row: Row, official: str, score: float, key: str) -> str:
        s = strip_t3_prefixes(row.label) if key.startswith("t3.") else squash(row.label)
        o = squash(official)
        if s == o or score >= 0.999 or (key.startswith("t2.") and s.endswith(o)):
            return ""
        lost = is_subsequence(s, o) and len(o) - len(s) <= 3 and not o.endswith(s)
        kind = "glyphs" if lost else "label"
        msg = (f"标签“{row.label}”缺字（可能是 PDF 文字层丢字），按“{official}”读取" if lost else
               f"标签“{row.label}”与官方表格“{official}”不同，按“{official}”读取")
        self.note(kind, msg + "。", key=key, where=row.line.where, source=row.line.text, actual=row.label,
                  expected=official)
        return msg

    def put_row(self, table: str, keys: Sequence[str], official: str, row: Row, fitted: Fit, note: str) -> None:
        """A matched row's fitted values into ``keys``; a row that did not fit is unread (and said so)."""
        if fitted.cells is None:
            self.note("count", f"“{official}”一行{fitted.why}，本行未读入。", key=keys[0], where=row.line.where,
                      source=row.line.text)
            self.not_read(table, "row", keys, f"“{official}”一行{fitted.why}", row.line.where)
            return
        if fitted.how == "split":
            i, vals = fitted.joined, row.values
            self.note("split", f"“{official}”一行读到 {len(vals)} 个数，把相邻的 {vals[i].raw} 和 "
                      f"{vals[i + 1].raw} 合为 {fitted.cells[i].raw} 后本行恰好平衡：原数字可能在提取时被拆开，请核对。",
                      key=keys[0], where=row.line.where, source=row.line.text)
        elif fitted.how == "padding":
            self.note("padding", f"“{official}”一行有 {len(row.values) - len(keys)} 个多余的空白格，去掉后本行恰为 "
                      f"{len(keys)} 格（去掉哪一个结果都相同）。", key=keys[0], where=row.line.where,
                      source=row.line.text)
        for k, c in zip(keys, fitted.cells, strict=True):
            self.put_cell(k, c, row, note)

    def put_cell(self, key: str, c: Cell, row: Row, note: str) -> None:
        notes = [note] if note else []
        value = c.value
        kind = spec.DATA_CELLS[key].kind
        if c.unit == "元" and kind is spec.Kind.MONEY:
            value = c.raw.strip()
            self.note("unit", f"金额写作“{c.raw.strip()}”（单位：元），表格应以万元填写。", key=key,
                      where=row.line.where, source=row.line.text, value=c.raw.strip())
            notes.append("单位为元")
        elif c.unit in ("万元",) and kind is spec.Kind.COUNT:
            value = c.raw.strip()
        if c.grouped:
            notes.append(f"去掉千位分隔符（原文“{c.raw.strip()}”）")
        if c.nothing:  # kept as written (a workbook holds it so too); the rules count it as 0, once per table
            notes.append(f"原文为“{value}”，不是数字")
            self.zero_as.append(Note("zero-as", f"原文写作“{c.raw.strip()}”，按 0 计。", key, row.line.where,
                                     c.raw.strip()))
        elif isinstance(value, str):
            notes.append(f"原文为“{value}”，不是数字")
        elif value is None:
            notes.append("原文为空白")
            self.zero_as.append(Note("zero-as", "原文为空白。", key, row.line.where, ""))
        self.put(key, value, row.line.text[:120], row.line.where, "；".join(notes))

    # ---- table 二 --------------------------------------------------------------------------------------------
    def read_t2(self, span: tuple[int, int]) -> None:
        found = self.t2_rows(span)
        if not found and span != (0, len(self.lines)):
            found = self.t2_rows((0, len(self.lines)))
        keys_all = [c.key for c in spec.TABLE_BY_ID["t2"].cells]
        if not found:
            self.note("missing", "未找到表二。", key=keys_all[0])
            self.not_read("t2", "table", keys_all, "未找到表二的任何一行", self.looked_in("二", span))
            return
        seen: set[str] = set()
        for (official, key, n, score), row in found:
            if key in seen:
                continue
            seen.add(key)
            keys = [f"{key}.{c}" for c, _ in spec.T2_DOC_COLS] if n == len(spec.T2_DOC_COLS) else [key]
            note = self.label_note(row, official, score, keys[0])
            self.put_row("t2", keys, official, row, fit(row, n, balance=False), note)
        for official, key, n in T2_ROWS:
            if key not in seen:
                keys = [f"{key}.{c}" for c, _ in spec.T2_DOC_COLS] if n == len(spec.T2_DOC_COLS) else [key]
                self.note("missing", f"表二未找到“{official}”一行。", key=keys[0])
                self.not_read("t2", "row", keys, f"表二未找到“{official}”一行", self.looked_in("二", span))

    def t2_rows(self, span: tuple[int, int]) -> list[tuple[tuple[str, str, int, float], Row]]:
        """The rows of table 二 in ``span``: a label and its values; a label on a line of its own (a text layer
        with one cell per line) takes the values of the value-only lines after it, up to the row's width."""
        rows = list(self.rows(*span))
        out = []
        for i, row in enumerate(rows):
            if not row.label or not (row.values or (not row.real_cells and i + 1 < len(rows)
                                                    and not rows[i + 1].label and rows[i + 1].values)):
                continue  # no value, and none on the line after it
            m = match_t2(row.label)
            if m is None:
                continue
            if not row.real_cells and len(row.values) < m[2]:
                row = _with_following_values(row, rows, i + 1, m[2])
            if row.values:
                out.append((m, row))
        return out

    def old_t2_units(self, start: int, end: int) -> None:
        for row in self.rows(start, end):
            for c in row.values:
                if c.unit == "元":
                    self.note("unit", f"表二“{row.label}”的金额写作“{c.raw.strip()}”（单位：元），"
                              "表格中的金额应以万元为单位。", where=row.line.where, source=row.line.text,
                              value=c.raw.strip(), row=row.label)

    # ---- table 三 --------------------------------------------------------------------------------------------
    def read_t3(self, span: tuple[int, int]) -> None:
        rows = list(self.rows(*span))
        found = self.t3_rows(rows)
        if not found and span != (0, len(self.lines)):
            rows = list(self.rows(0, len(self.lines)))
            found = self.t3_rows(rows)
        if not found:
            keys = [c.key for c in spec.TABLE_BY_ID["t3"].cells]
            self.note("missing", "未找到表三。", key=keys[0])
            self.not_read("t3", "table", keys, "未找到表三的任何一行", self.looked_in("三", span))
            return
        grids = _grids(rows)
        xs = header_xs(rows, _T3_LABELS)
        if not xs_confirmed(xs, (row for _, row in found), T3_WIDTH):
            xs = None
        seen: dict[str, str] = {}
        col_keys = [k for k, _ in spec.T3_COLS]
        for (rk, official, score), row in found:
            if rk in seen:
                self.note("unmatched", f"表三“{official}”出现两次，只读入第一次（{seen[rk]}）。", where=row.line.where,
                          source=row.line.text)
                continue
            seen[rk] = row.line.where
            if rk == "six":
                self.t3_single_six = True
                rk = T3_SIX_KEYS[-1]
                self.note("format", "表三“（六）其他处理”只有一行（旧格式 23 行），其数字读入“3.其他”，"
                          "“1.”“2.”两行留空。", key=f"t3.{rk}.natural", where=row.line.where, source=row.line.text)
            keys = [f"t3.{rk}.{ck}" for ck in col_keys]
            note = self.label_note(row, official, score, keys[0])
            columns, width = grids.get(_table_id(row), ({}, None))
            fitted = fit(row, T3_WIDTH, balance=True, columns=columns, width=width, xs=xs)
            self.put_row("t3", keys, official, row, fitted, note)
        for rk, official in t3_rows():
            if rk == "six" or rk in seen or (self.t3_single_six and rk in T3_SIX_KEYS):
                continue
            keys = [f"t3.{rk}.{ck}" for ck in col_keys]
            self.note("missing", f"表三未找到“{official}”一行。", key=keys[0])
            self.not_read("t3", "row", keys, f"表三未找到“{official}”一行", self.looked_in("三", span))

    def t3_rows(self, rows: Sequence[Row]) -> list[tuple[tuple[str, str, float], Row]]:
        """The rows of table 三 among ``rows``, each with its best official row: a label broken over lines (the
        lines before it that hold no value) joined, a PDF row's numbers wrapped onto the next lines gathered, a
        row cut by a page break (its values continued after the page's footer and the repeated header) joined."""
        pending: list[str] = []
        out: list[tuple[tuple[str, str, float], Row]] = []
        i = 0
        while i < len(rows):
            row = rows[i]
            i += 1
            if row.real_cells and row.label and 0 < len(row.values) < T3_WIDTH:
                row, i = continued(row, rows, i)  # a row cut by a page break (its cells blank or not)
            if not row.values or (len(row.values) < T3_WIDTH and all(v.blank for v in row.values)):
                if row.label and not between_pages(row):
                    starts_item = ITEM_START.match(squash(row.label)) is not None
                    pending = [row.label] if starts_item else ([*pending, row.label])[-6:]
                continue
            if len(row.values) < T3_WIDTH and not row.real_cells:
                row, i = self.wrapped(row, rows, i)
            m = match_t3(row.label) if row.label else None
            if (m is None or m[2] < 0.85) and pending:
                m2 = match_t3("".join(pending) + row.label)
                if m2 is not None and (m is None or m2[2] > m[2]):
                    m = m2
                    row = replace(row, label="".join(pending) + row.label)
            pending = []
            if m is None:
                if len(row.values) >= 5:
                    self.note("unmatched", f"表三中有一行（“{row.line.text[:40]}”）无法对应到官方表格的任何一行，未读入。",
                              where=row.line.where, source=row.line.text)
                continue
            out.append((m, row))
        return out

    def wrapped(self, row: Row, rows: Sequence[Row], i: int) -> tuple[Row, int]:
        """A PDF row whose numbers wrapped onto the lines after it (:func:`~.match.wrapped_values`), said."""
        start = i
        cells, i, joined = wrapped_values(row, rows, i)
        if joined:
            self.note("wrapped", f"“{row.label}”一行的数字跨行排列，已把行尾和下一行开头的数字合并"
                      f"（{'、'.join(c.raw for c in cells)}）。", where=row.line.where,
                      source=" / ".join(r.line.text for r in rows[start - 1:i]))
        text = " ".join(r.line.text for r in rows[start - 1:i])
        return Row(row.label, cells, Line(text, None, row.line.where), False), i

    # ---- table 四 --------------------------------------------------------------------------------------------
    def read_t4(self, span: tuple[int, int]) -> None:
        keys = [c.key for c in spec.TABLE_BY_ID["t4"].cells]
        vals, rows = self.t4_values(span)
        if not rows:
            anchor = next((i for i, ln in enumerate(self.lines) if "结果维持" in squash(ln.text)), None)
            if anchor is not None and not span[0] <= anchor < span[1]:
                vals, rows = self.t4_values((anchor, len(self.lines)))
        if not rows:
            self.note("missing", "表四未找到数字。", key=keys[0])
            self.not_read("t4", "table", keys, "未找到表四的数字", self.looked_in("四", span))
            return
        row = Row("", tuple(vals), rows[0].line, rows[0].real_cells)
        fitted = fit(row, len(keys), balance=False)
        if fitted.cells is None and len(vals) > len(keys) and (merged := split_digit_merge_t4(vals)) is not None:
            self.note("split", f"表四读到 {len(vals)} 个数，合并相邻的两个一位数后三组恰好平衡：原数字可能在提取时"
                      "被拆开，请核对。", key=keys[0], where=rows[0].line.where, source=rows[0].line.text)
            fitted = Fit(tuple(merged), "split-t4")
        if fitted.cells is None:
            self.note("count", f"表四读到 {len(vals)} 个数，应为 {len(keys)} 个，未读入。", key=keys[0],
                      where=rows[0].line.where, source=rows[0].line.text)
            self.not_read("t4", "table", keys, f"表四{fitted.why}", rows[0].line.where)
            return
        if fitted.how == "padding":
            self.note("padding", f"表四有 {len(vals) - len(keys)} 个多余的空白格，去掉后恰为 {len(keys)} 格"
                      "（去掉哪一个结果都相同）。", key=keys[0], where=rows[0].line.where, source=rows[0].line.text)
        for k, c in zip(keys, fitted.cells, strict=True):
            self.put_cell(k, c, rows[0], "")

    def t4_values(self, span: tuple[int, int]) -> tuple[list[Cell], list[Row]]:
        vals: list[Cell] = []
        rows: list[Row] = []
        for row in self.rows(*span):
            if row.label or not row.values:
                continue
            if row.real_cells and len(row.values) < 3 and not vals:
                continue
            vals.extend(row.values)
            rows.append(row)
        return vals, rows

    # ---- narrative -----------------------------------------------------------------------------------------
    def read_narrative(self, regs: dict[str, tuple[int, int]]) -> None:
        for number in ("一", "五", "六"):
            if number not in regs:
                continue
            start, end = regs[number]
            paras = paragraphs(self.lines[start:end], self.doc.kind == "pdf")
            if end == len(self.lines):
                paras = self.without_signature(paras)
            where = self.lines[start].where if start < len(self.lines) else ""
            assigned = {"一": split_section1, "五": split_section5, "六": split_section6}[number](paras)
            for key, text in assigned.items():
                if text:
                    self.put(key, text, text[:60], where)


def _table_id(row: Row) -> str:
    m = _TABLE_OF.match(row.line.where)
    return m.group(1) if m else ""


def _grids(rows: Sequence[Row]) -> dict[str, tuple[dict[int, int], int | None]]:
    """Per table of rows with grid columns (a web page's or Word table's): grid column -> table 三 column, from
    its header cells, and the header's width."""
    by_table: dict[str, list[Row]] = {}
    for row in rows:
        if row.width is not None:
            by_table.setdefault(_table_id(row), []).append(row)
    out: dict[str, tuple[dict[int, int], int | None]] = {}
    for tid, rs in by_table.items():
        columns, width = header_columns(rs, _T3_LABELS)
        if columns:
            out[tid] = (columns, width)
    return out


def _with_following_values(row: Row, rows: Sequence[Row], i: int, n: int) -> Row:
    """``row`` (a label on a text line) with the values of the value-only lines after it, up to ``n``."""
    vals, texts, _ = following_values(row, rows, i, n)
    return Row(row.label, vals, Line(" ".join(texts), None, row.line.where), False)


_SIGNATURE_DATE = re.compile(r"^(?:20\d\d\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|20\d\d-\d{1,2}-\d{1,2})$")
_TITLE_OF = tuple((s.number, s.title) for s in spec.SECTIONS)
_GOVERNMENT, _DEPARTMENT, _ = spec.AGENCY_KINDS
_PROVINCE, _CITY, _COUNTY, _TOWNSHIP = spec.LEVELS


def _title_of(text: str) -> tuple[str, int | None]:
    """(agency, year) a report's title names, ("", None) when it is no such title."""
    t = squash(text)
    m = _TITLE_B.search(t)
    if m and not re.search(r"\d", m.group(2)):
        agency, year = m.group(2), int(m.group(1))
    else:
        m2 = _TITLE_A.search(t)
        if m2 is None:
            return "", None
        agency, year = m2.group(1), int(m2.group(2))
    return re.sub(r"^.*?(?:标题[:：])", "", agency).strip("-—_|:：,，。 "), year


def guess_kind(agency: str) -> str:
    if re.search(r"人民政府$|街道办事处$|管委会$|管理委员会$", agency) and "办公" not in agency:
        return _GOVERNMENT
    return _DEPARTMENT


def guess_level(agency: str) -> str:
    if re.match(r"^(?:北京|上海|天津|重庆)市", agency) or "省" in agency[:4] or "自治区" in agency[:6]:
        return _PROVINCE
    if re.search(r"(?:乡|镇|街道)", agency[:12]) and "县" not in agency[:6]:
        return _TOWNSHIP
    if re.search(r"(?:县|区|旗)", agency[:8]):
        return _COUNTY
    if "市" in agency[:6]:
        return _CITY
    return ""


def parse(doc: Document) -> Imported:
    """Read one published report."""
    imp = _Reader(doc).run()
    return replace(imp, data=replace(imp.data, props=import_props(imp)))
