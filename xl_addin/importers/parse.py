"""A published report's lines -> values by key, the source of every value, and what was uncertain.

Sections are found by what their headings say (not by their numbers: reports number them differently); each
table is read from the rows of its section. A row is its label cells followed by its value cells; the label is
matched to the official one tolerantly (lost glyphs, variant wording, labels broken over lines or split into
runs), the values are kept as written where they are not plain numbers ("/", "-", "—", "无" stay text, a blank
stays blank: the rules tell them apart). Nothing is forced into the 2021 grid silently: the old 2019 format and
the hybrid layout are recognised and named, and every guess is written down as a :class:`Note`.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache

from .. import spec
from ..model import IMPORT_PROPS_KEY, CellValue, ReportData, as_date
from .document import Document, Line, squash

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

    kind: str  # "label", "count", "split", "unmatched", "missing", "unit", "format", "meta"
    message: str  # Chinese, for people
    key: str = ""
    where: str = ""
    source: str = ""
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Heading:
    section: str  # the statutory number the heading stands for ("二")
    written: str  # the number as written ("一", "" when none)
    text: str
    index: int  # line index
    where: str


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


def absent_keys(imp: Imported) -> set[str]:
    """Input keys the report's own layout has no cell for (（六）1 and 2 of a 23-row table 三)."""
    if any(m.startswith(T3_SINGLE_SIX_MARKER) for m in imp.markers):
        return {f"t3.{rk}.{ck}" for rk in T3_SIX_KEYS[:-1] for ck, _ in spec.T3_COLS}
    return set()


def import_props(imp: Imported) -> dict[str, str]:
    """What the published-report rules need, as ReportData.props (plain strings)."""
    return {IMPORT_PROPS_KEY: json.dumps({
        "format": imp.format, "markers": list(imp.markers),
        "headings": [[h.section, h.written, h.text, h.where] for h in imp.headings],
        "absent": sorted(absent_keys(imp)),
        "intro": imp.intro,
        "notes": [{"kind": n.kind, "message": n.message, "key": n.key, "where": n.where, "source": n.source,
                   **({"detail": n.detail} if n.detail else {})} for n in imp.notes],
    }, ensure_ascii=False)}


# --------------------------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------------------------

#: what a heading of each statutory section says (any one of these)
SECTION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("一", ("总体情况", "基本情况", "总体概况")),
    ("二", ("主动公开政府信息", "主动公开情况")),
    ("三", ("收到和处理", "处理政府信息公开申请", "公开申请情况", "依申请公开政府信息情况")),
    ("四", ("行政复议、行政诉讼", "行政复议和行政诉讼", "行政复议及行政诉讼", "复议、诉讼")),
    ("五", ("存在的主要问题", "存在问题", "主要问题及", "问题及改进", "问题和改进", "问题及整改")),
    ("六", ("其他需要报告", "其他需报告")),
)
_NUMERAL = "一二三四五六七八九十"
_HEADING = re.compile(rf"^(?:第([{_NUMERAL}]+)部分[、.:：\s]*|([{_NUMERAL}]+)\s*[、.．:：]\s*|)(.*)$")
_SUBHEADING = re.compile(rf"^\s*[（(]([{_NUMERAL}]+)[）)]")


def find_headings(lines: Sequence[Line]) -> list[Heading]:
    out: list[Heading] = []
    for i, line in enumerate(lines):
        if line.cells is not None:
            continue
        text = squash(line.text)
        if not text or len(text) > 40 or _SUBHEADING.match(line.text):
            continue
        m = _HEADING.match(text)
        if m is None:
            continue
        written = m.group(1) or m.group(2) or ""
        if not written and (len(text) > 24 or re.search(r"\d", text) or not text.endswith(("情况", "事项", "问题"))):
            continue
        body = m.group(3)
        for number, words in SECTION_WORDS:
            if any(squash(w) in body for w in words):
                if number == "三" and ("数量" in body or "结转" in body):
                    break  # a row label of table 三 written as a paragraph
                out.append(Heading(number, written, line.text, i, line.where))
                break
    return out


def regions(lines: Sequence[Line], headings: Sequence[Heading]) -> dict[str, tuple[int, int]]:
    """Statutory section -> (first line, end line) of its body, for the first heading of each section."""
    out: dict[str, tuple[int, int]] = {}
    ordered = sorted(headings, key=lambda h: h.index)
    for n, h in enumerate(ordered):
        end = ordered[n + 1].index if n + 1 < len(ordered) else len(lines)
        out.setdefault(h.section, (h.index + 1, end))
    return out


# --------------------------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------------------------

#: cell texts that are not numbers but say "nothing" -- kept as written (the rules tell them apart from 0)
NOTHING = ("/", "／", "-", "－", "—", "——", "–", "无", "空", "\\")
#: the most digits a number of a table may have before its point: a spreadsheet holds 15 significant digits, and
#: a longer run of digits (400, 5,000) is no count but junk, kept as the text printed
MAX_DIGITS = 15
_NUMBER = re.compile(r"^([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(件|条|个|项|宗|起|万元|元)?$")
_ITEM_START = re.compile(r"^(?:\d+[.．]|[(（][一二三四五六七][)）]|[一二三四]、)")
_PAGE_NUMBER = re.compile(r"^[-—–－]\s*\d{1,3}\s*[-—–－]$|^第?\d{1,3}页(?:共\d+页)?$|^\d{1,3}/\d{1,3}$")


@dataclass(frozen=True)
class Cell:
    raw: str
    value: CellValue
    unit: str = ""
    grouped: bool = False  # thousands separators removed


def value_cell(raw: str) -> Cell | None:
    """The cell as a table value, or None when it is a label."""
    s = squash(raw)
    if s == "":
        return Cell(raw, None)
    if s in NOTHING or raw.strip() in NOTHING:
        return Cell(raw, raw.strip())
    m = _NUMBER.match(s)
    if m is None:
        return None
    num, unit = m.group(1), m.group(2) or ""
    grouped = "," in num
    num = num.replace(",", "")
    if len(num.partition(".")[0].lstrip("+-")) > MAX_DIGITS:  # no count: kept as printed (V1 says so)
        return Cell(raw, raw.strip(), unit, grouped)
    v: CellValue = float(num) if "." in num else int(num)
    return Cell(raw, v, unit, grouped)


@dataclass(frozen=True)
class Row:
    label: str  # label cells joined
    values: tuple[Cell, ...]
    line: Line
    #: cells are real (HTML, Word, flattened text): blanks are kept; False for a PDF text line split at spaces
    real_cells: bool


def split_row(line: Line) -> Row:
    if line.cells is not None:
        cells, real = list(line.cells), True
    else:
        cells, real = line.text.split(), False
    parsed = [value_cell(c) for c in cells]
    last_label = max((i for i, p in enumerate(parsed) if p is None), default=-1)
    label = "".join(c for c in cells[: last_label + 1] if c)
    values = tuple(p for p in parsed[last_label + 1:] if p is not None)
    if not real and last_label >= 0:  # split at spaces: a blank can't be seen, so no blank values
        values = tuple(v for v in values if v.raw != "")
    return Row(label, values, line, real)


# --------------------------------------------------------------------------------------------------------------
# Label matching
# --------------------------------------------------------------------------------------------------------------

#: table 三's values per row (its columns, 总计 last)
_T3_WIDTH = len(spec.T3_COLS)
#: the rows holding a number a table's section is read for (table 三 has 25, table 二 twelve; a PDF may wrap each
#: over several lines): the rest of a section that holds more is not a statistics table
MAX_VALUE_ROWS = 400
#: table 三's group （六）其他处理 and its rows' keys ("3.其他" last): the 2019 format has the group as one row
T3_SIX_SINGLE, T3_SIX_KEYS = next((group, tuple(key for key, _, _ in items)) for group, items in spec.T3_GROUPS
                                  if group is not None and group.startswith("（六）"))
#: what the import says (a marker) when table 三 has （六） as one row (23 rows)
T3_SINGLE_SIX_MARKER = f"表三“{T3_SIX_SINGLE}”为一行（23行）"
#: group labels that may precede an item label in the same row ("（三）不予公开1.属于国家秘密"): 三、本年度办理结果
#: (with and without its number) and the groups of more than one row
_T3_PREFIXES = tuple(squash(s) for s in (spec.T3_RESULT, spec.T3_RESULT.partition("、")[2],
                                         *(g for g, items in spec.T3_GROUPS if g is not None and len(items) > 1)))
#: header texts that may precede a label: the column headers, except "其他" (the start of item labels)
_T3_NOISE = tuple(squash(s) for s in (spec.T3_NOTE, spec.T3_APPLICANT, spec.T3_ORG,
                                      *(label for key, label in spec.T3_COLS if key != "other_org")))


@cache
def t3_rows() -> tuple[tuple[str, str], ...]:
    """(row key, official item label) of table 三's 25 rows, plus ("six", "（六）其他处理") for the 2019 single row."""
    out = []
    for _group, items in spec.T3_GROUPS:
        for key, label, _ in items:
            out.append((key, label))
    out.append(("six", T3_SIX_SINGLE))
    return tuple(out)


@cache
def _t3_targets() -> tuple[tuple[str, str, str], ...]:
    """(row key, official label, the label squashed) of :func:`t3_rows`."""
    return tuple((key, official, squash(official)) for key, official in t3_rows())


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def strip_t3_prefixes(label: str) -> str:
    s = squash(label)
    changed = True
    while changed:
        changed = False
        for p in _T3_PREFIXES:
            if s.startswith(p) and len(s) > len(p):
                s, changed = s[len(p):], True
        for p in _T3_NOISE:
            if s.startswith(p) and len(s) > len(p):
                s, changed = s[len(p):], True
    return s


def match_t3(label: str) -> tuple[str, str, float] | None:
    """(row key, official label, score) of the best official row for ``label``, or None. The first row of the
    highest score wins; a row whose score cannot reach the best so far (nor 0.6) is not compared character by
    character (:func:`_ratio_bound`): a page of lines ending in a number costs a few microseconds a line."""
    return _match_t3(strip_t3_prefixes(label))


@lru_cache(maxsize=4096)
def _match_t3(s: str) -> tuple[str, str, float] | None:
    if not s:
        return None
    counts = Counter(s)
    best: tuple[str, str, float] | None = None
    for (key, official, o), o_counts in zip(_t3_targets(), _t3_counts(), strict=True):
        cut = short = len(s) >= 6 and s != o and o.startswith(s)  # a long official label cut short ("（二）部分公开")
        bound = 1.0 if s == o or cut else _ratio_bound(s, counts, o, o_counts)
        if bound < 0.6 or (best is not None and bound <= best[2]):
            continue  # cannot reach the threshold, or cannot beat the best so far
        score = 1.0 if s == o else _ratio(s, o)
        if short:
            score = max(score, 0.9)
        if best is None or score > best[2]:
            best = (key, official, score)
    if best is None or best[2] < 0.6:
        return None
    return best


@cache
def _t3_counts() -> tuple[Counter[str], ...]:
    return tuple(Counter(o) for _key, _official, o in _t3_targets())


def _ratio_bound(a: str, a_counts: Counter[str], b: str, b_counts: Counter[str]) -> float:
    """An upper bound of :func:`_ratio`, computed as the ratio is (2 x matches / total length), so that the bound is
    never below it: the matches are at most the shorter length, at most each side's characters the other lacks
    taken away (set operations, in C), and at most the characters the two share as a multiset (difflib's
    ``quick_ratio``) -- each only computed when the cheaper one before it has not already ruled the pair out."""
    total = len(a) + len(b)
    if not total:
        return 1.0
    bound = 2.0 * min(len(a), len(b)) / total
    if bound < 0.6:
        return bound
    a_keys, b_keys = a_counts.keys(), b_counts.keys()
    bound = 2.0 * min(len(a) - len(a_keys - b_keys), len(b) - len(b_keys - a_keys)) / total
    if bound < 0.6:
        return bound
    return 2.0 * sum(min(a_counts[c], b_counts[c]) for c in a_keys & b_keys) / total


#: table 二: official row label -> (key prefix, number of values): the document rows (a value per column), then
#: the single-value rows (the key itself); known variants
T2_ROWS: tuple[tuple[str, str, int], ...] = (
    *((label, f"t2.{key}", len(spec.T2_DOC_COLS)) for key, label, _ in spec.T2_DOC_ROWS),
    *((label, key, 1) for _, _, rows in spec.T2_SINGLE for key, label, _, _ in rows),
)
T2_VARIANTS = {"规范性文件": "行政规范性文件", "其他规范性文件": "行政规范性文件", "政府规章": "规章"}


def match_t2(label: str) -> tuple[str, str, int, float] | None:
    s = squash(label)
    s = re.sub(r"^(?:第二十条第[(（][一二三四五六七八九][)）]项|信息内容)+", "", s)
    if not s:
        return None
    if s in T2_VARIANTS:
        official = T2_VARIANTS[s]
        row = next(r for r in T2_ROWS if r[0] == official)
        return row[0], row[1], row[2], 0.8
    best: tuple[str, str, int, float] | None = None
    for official, key, n in T2_ROWS:
        score = 1.0 if s == official else _ratio(s, official)
        if best is None or score > best[3]:
            best = (official, key, n, score)
    if best is None or best[3] < 0.75:
        return None
    return best


# --------------------------------------------------------------------------------------------------------------
# The parser
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
        self.lines = [ln for ln in doc.lines if ln.cells is not None
                      or not (_PAGE_NUMBER.match(s := squash(ln.text)) or s == mark)]
        self.values: dict[str, CellValue] = {}
        self.records: list[Record] = []
        self.notes: list[Note] = []
        self.markers: list[str] = []
        self.t3_single_six = False

    # ---- helpers -------------------------------------------------------------------------------------------
    def put(self, key: str, value: CellValue, source: str, where: str, note: str = "") -> None:
        self.values[key] = value
        self.records.append(Record(key, value, source, where, note))

    def note(self, kind: str, message: str, *, key: str = "", where: str = "", source: str = "",
             **detail: str) -> None:
        self.notes.append(Note(kind, message, key, where, source, dict(detail)))

    # ---- whole document ------------------------------------------------------------------------------------
    def run(self) -> Imported:
        headings = find_headings(self.lines)
        regs = regions(self.lines, headings)
        for number, _ in SECTION_WORDS:
            if number not in regs:
                self.note("missing", f"未找到第{number}部分“{dict(_TITLE_OF)[number]}”的标题。")
        all_text = "\n".join(ln.text for ln in self.lines)
        squashed = squash(all_text)
        self.markers = [m for m in spec.OLD_FORMAT_MARKERS if squash(m) in squashed]
        old_t2 = bool(self.markers)
        self.read_meta(headings)
        if "二" in regs:
            if old_t2:
                self.note("format", "表二为旧格式（国办公开办函〔2019〕60号），其栏目与现行格式不同，未读入表二；"
                          "旧格式标志：" + "、".join(self.markers) + "。")
                self.old_t2_units(*regs["二"])
            else:
                self.read_t2(*regs["二"])
        if "三" in regs:
            self.read_t3(*regs["三"])
        else:
            self.read_t3(0, len(self.lines))
        if "四" in regs:
            self.read_t4(*regs["四"])
        self.read_narrative(regs)
        if self.t3_single_six:
            self.markers.append(T3_SINGLE_SIX_MARKER)
        fmt = "2019" if old_t2 else ("hybrid" if self.t3_single_six else "2021")
        for h in headings:
            self.put_heading_record(h)
        missing = frozenset(c.key for c in spec.TABLE_BY_ID["t2"].cells) if old_t2 else frozenset()
        data = ReportData(dict(self.values), missing=missing, source=self.doc.source)
        first = min((h.index for h in headings), default=0)
        title_end = max((i + 1 for i, ln in enumerate(self.lines[:min(first, 6)])
                         if _TITLE_END.search(squash(ln.text))), default=0)
        intro = "\n".join(paragraphs(self.lines[title_end:first], self.doc.kind == "pdf"))
        return Imported(data, tuple(self.records), tuple(self.notes), tuple(headings), fmt, tuple(self.markers),
                        intro)

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

    def put_heading_record(self, h: Heading) -> None:
        self.records.append(Record(f"section.{h.section}", h.text, h.text, h.where))

    # ---- meta ----------------------------------------------------------------------------------------------
    def read_meta(self, headings: Sequence[Heading]) -> None:
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
        candidates: list[tuple[str, str]] = []
        if self.doc.meta.get("title"):
            candidates.append((self.doc.meta["title"], "网页标题"))
        joined = "".join(squash(ln.text) for ln in head_lines)
        candidates.insert(0, (joined, head_lines[0].where if head_lines else ""))
        agency, year = "", None
        for text, where in candidates:
            t = squash(text)
            m = _TITLE_B.search(t)
            if m and not re.search(r"\d", m.group(2)):
                agency, year = m.group(2), int(m.group(1))
            else:
                m2 = _TITLE_A.search(t)
                if m2:
                    agency, year = m2.group(1), int(m2.group(2))
            if year is not None:
                agency = re.sub(r"^.*?(?:标题[:：])", "", agency).strip("-—_|:：,，。 ")
                self.put("meta.year", year, text[:80], where)
                if agency:
                    self.put("meta.agency", agency, text[:80], where)
                break
        if year is None:
            y = self.guess_year()
            if y is not None:
                self.put("meta.year", y, "正文中最常见的年份", "", "报告标题未找到，年度按正文推断")
                self.note("meta", f"未找到报告标题，年度按正文推断为 {y} 年，请核对。", key="meta.year")
            else:
                self.note("meta", "未找到报告标题和年度。", key="meta.year")
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

    def guess_year(self) -> int | None:
        counts: dict[int, int] = {}
        for ln in self.lines[:60]:
            for y in re.findall(r"(20\d\d)\s*年", ln.text):
                counts[int(y)] = counts.get(int(y), 0) + 1
        return max(counts, key=lambda k: (counts[k], k)) if counts else None

    def read_date(self) -> None:
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
        d = self.doc.meta.get("date", "")
        m = _DATE_ISO.search(d) or _DATE_CN.search(d)
        if m:
            self.put("meta.report_date", as_date(m.group(0)), d, self.doc.meta.get("date_source", "文件信息"),
                     "报告中没有落款日期，按" + self.doc.meta.get("date_source", "文件信息") + "填写")
        else:
            self.note("meta", "未找到发布（落款）日期。", key="meta.report_date")

    # ---- tables --------------------------------------------------------------------------------------------
    def rows(self, start: int, end: int) -> Iterator[Row]:
        """The rows of lines ``start:end``, up to the :data:`MAX_VALUE_ROWS`-th that holds a value (each is matched
        against the official labels): a page of thousands of lines ending in a number is read in linear, bounded
        time; a note says where reading stopped."""
        valued = 0
        for ln in self.lines[start:end]:
            row = split_row(ln)
            if row.values:
                valued += 1
                if valued > MAX_VALUE_ROWS:
                    self.note("format", f"表格中带数字的行超过 {MAX_VALUE_ROWS} 行，不像年度报告的统计表格，"
                              "其后的行未读入。", where=ln.where, source=ln.text[:120])
                    return
            yield row

    def read_t2(self, start: int, end: int) -> None:
        seen: set[str] = set()
        for row in self.rows(start, end):
            if not row.values or not row.label:
                continue
            m = match_t2(row.label)
            if m is None:
                continue
            official, key, n, score = m
            if key in seen:
                continue
            seen.add(key)
            keys = [f"{key}.{c}" for c, _ in spec.T2_DOC_COLS] if n == len(spec.T2_DOC_COLS) else [key]
            note = self.label_note(row, official, score, keys[0])
            cells = self.fit(row, n, keys[0], official)
            for k, c in zip(keys, cells, strict=False):
                self.put_cell(k, c, row, note)
        for official, key, n in T2_ROWS:
            if key not in seen:
                self.note("missing", f"表二未找到“{official}”一行。",
                          key=key if n == 1 else f"{key}.{spec.T2_DOC_COLS[0][0]}")

    def old_t2_units(self, start: int, end: int) -> None:
        for row in self.rows(start, end):
            for c in row.values:
                if c.unit == "元":
                    self.note("unit", f"表二“{row.label}”的金额写作“{c.raw.strip()}”（单位：元），"
                              "表格中的金额应以万元为单位。", where=row.line.where, source=row.line.text,
                              value=c.raw.strip(), row=row.label)

    def label_note(self, row: Row, official: str, score: float, key: str) -> str:
        s = strip_t3_prefixes(row.label) if key.startswith("t3.") else squash(row.label)
        o = squash(official)
        if s == o or score >= 0.999 or (key.startswith("t2.") and s.endswith(o)):
            return ""
        lost = _is_subsequence(s, o) and len(o) - len(s) <= 3 and not o.endswith(s)
        kind = "glyphs" if lost else "label"
        msg = (f"标签“{row.label}”缺字（可能是 PDF 文字层丢字），按“{official}”读取" if lost else
               f"标签“{row.label}”与官方表格“{official}”不同，按“{official}”读取")
        self.note(kind, msg + "。", key=key, where=row.line.where, source=row.line.text, actual=row.label,
                  expected=official)
        return msg

    def fit(self, row: Row, n: int, key: str, official: str) -> list[Cell]:
        vals = list(row.values)
        if len(vals) == n:
            return vals
        if len(vals) > n:
            merged = split_digit_merge(vals, n, key.startswith("t3."))
            if merged is not None:
                cells, i = merged
                self.note("split", f"“{official}”一行读到 {len(vals)} 个数，把相邻的 {vals[i].raw} 和 "
                          f"{vals[i + 1].raw} 合为 {cells[i].raw} 后本行恰好平衡：原数字可能在提取时被拆开，请核对。",
                          key=key, where=row.line.where, source=row.line.text)
                return cells
            self.note("count", f"“{official}”一行读到 {len(vals)} 个数，应为 {n} 个，取最后 {n} 个，请核对。",
                      key=key, where=row.line.where, source=row.line.text)
            return vals[-n:]
        self.note("count", f"“{official}”一行只读到 {len(vals)} 个数，应为 {n} 个，请核对。", key=key,
                  where=row.line.where, source=row.line.text)
        return vals

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
        if isinstance(value, str):
            notes.append(f"原文为“{value}”，不是数字")
        elif value is None:
            notes.append("原文为空白")
        self.put(key, value, row.line.text[:120], row.line.where, "；".join(notes))

    def read_t3(self, start: int, end: int) -> None:
        pending: list[str] = []
        seen: dict[str, str] = {}
        col_keys = [k for k, _ in spec.T3_COLS]
        rows = list(self.rows(start, end))
        i = 0
        while i < len(rows):
            row = rows[i]
            i += 1
            if not row.values or (len(row.values) < _T3_WIDTH and all(v.value is None for v in row.values)):
                if row.label:
                    starts_item = _ITEM_START.match(squash(row.label)) is not None
                    pending = [row.label] if starts_item else ([*pending, row.label])[-6:]
                continue
            if not row.real_cells and len(row.values) < _T3_WIDTH:  # a PDF row whose numbers wrapped onto more lines
                row, i = self.wrapped_values(row, rows, i)
            m = match_t3(row.label) if row.label else None
            if (m is None or m[2] < 0.85) and pending:
                m2 = match_t3("".join(pending) + row.label)
                if m2 is not None and (m is None or m2[2] > m[2]):
                    m = m2
                    row = Row("".join(pending) + row.label, row.values, row.line, row.real_cells)
            pending = []
            if m is None:
                if len(row.values) >= 5:
                    self.note("unmatched", f"表三中有一行（“{row.line.text[:40]}”）无法对应到官方表格的任何一行，未读入。",
                              where=row.line.where, source=row.line.text)
                continue
            rk, official, score = m
            if rk in seen:
                self.note("unmatched", f"表三“{official}”出现两次，只读入第一次（{seen[rk]}）。", where=row.line.where,
                          source=row.line.text)
                continue
            seen[rk] = row.line.where
            if rk == "six":
                self.t3_single_six = True
                first = f"t3.{T3_SIX_KEYS[-1]}.natural"
                note = self.label_note(row, official, score, first)
                cells = self.fit(row, _T3_WIDTH, first, official)
                for ck, c in zip(col_keys, cells, strict=False):
                    self.put_cell(f"t3.{T3_SIX_KEYS[-1]}.{ck}", c, row, note)
                self.note("format", "表三“（六）其他处理”只有一行（旧格式 23 行），其数字读入“3.其他”，"
                          "“1.”“2.”两行留空。", key=first, where=row.line.where, source=row.line.text)
                continue
            first = f"t3.{rk}.natural"
            note = self.label_note(row, official, score, first)
            cells = self.fit(row, _T3_WIDTH, first, official)
            for ck, c in zip(col_keys, cells, strict=False):
                self.put_cell(f"t3.{rk}.{ck}", c, row, note)
        for rk, official in t3_rows():
            if rk == "six" or rk in seen:
                continue
            if self.t3_single_six and rk in T3_SIX_KEYS:
                continue
            self.note("missing", f"表三未找到“{official}”一行。", key=f"t3.{rk}.natural")

    def wrapped_values(self, row: Row, rows: Sequence[Row], i: int) -> tuple[Row, int]:
        """``row`` with the numbers of the value-only lines after it, up to 7; a number cut by the line end
        ("123" / "4") joined again when that is the only way to get 7 that balance (parts = 总计)."""
        pieces = [list(row.values)]
        while i < len(rows) and not rows[i].label and rows[i].values and sum(map(len, pieces)) < _T3_WIDTH:
            pieces.append(list(rows[i].values))
            i += 1
        flat = [c for p in pieces for c in p]
        extra = len(flat) - _T3_WIDTH
        if extra > 0:
            bounds = list(itertools.accumulate(len(p) for p in pieces))[:-1]  # index of each line's first value
            for joins in itertools.combinations(bounds, extra):
                cells = list(flat)
                for b in sorted(joins, reverse=True):
                    a, c = cells[b - 1], cells[b]
                    if not (isinstance(a.value, int) and isinstance(c.value, int)):
                        break
                    cells[b - 1:b + 1] = [Cell(a.raw.strip() + c.raw.strip(), int(f"{a.value}{c.value}"))]
                else:
                    nums = [c.value for c in cells]
                    if all(isinstance(x, int) for x in nums) and sum(nums[:-1]) == nums[-1]:  # type: ignore[arg-type]
                        self.note("wrapped", f"“{row.label}”一行的数字跨行排列，已把行尾和下一行开头的数字合并"
                                  f"（{'、'.join(c.raw for c in cells)}）。", where=row.line.where,
                                  source=" / ".join(r.line.text for r in rows[i - len(pieces) + 1:i]))
                        flat = cells
                        break
        text = row.line.text + " " + " ".join(rows[j].line.text for j in range(i - len(pieces) + 1, i))
        return Row(row.label, tuple(flat), Line(text, None, row.line.where), False), i

    def read_t4(self, start: int, end: int) -> None:
        vals: list[Cell] = []
        rows: list[Row] = []
        for row in self.rows(start, end):
            if row.label or not row.values:
                continue
            if row.real_cells and len(row.values) < 3 and not vals:
                continue
            vals.extend(row.values)
            rows.append(row)
        keys = [c.key for c in spec.TABLE_BY_ID["t4"].cells]
        if not rows:
            self.note("missing", "表四未找到数字。", key=keys[0])
            return
        if len(vals) != len(keys):
            merged = split_digit_merge_t4(vals) if len(vals) > len(keys) else None
            if merged is not None:
                self.note("split", f"表四读到 {len(vals)} 个数，合并相邻的两个一位数后三组恰好平衡：原数字可能在提取时"
                          "被拆开，请核对。", key=keys[0], where=rows[0].line.where, source=rows[0].line.text)
                vals = merged
            else:
                self.note("count", f"表四读到 {len(vals)} 个数，应为 {len(keys)} 个，请核对。", key=keys[0],
                          where=rows[0].line.where, source=rows[0].line.text)
        for k, c in zip(keys, vals, strict=False):
            self.put_cell(k, c, rows[0], "")

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


_SIGNATURE_DATE = re.compile(r"^(?:20\d\d\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|20\d\d-\d{1,2}-\d{1,2})$")


_TITLE_OF = tuple((s.number, s.title) for s in spec.SECTIONS)


_GOVERNMENT, _DEPARTMENT, _ = spec.AGENCY_KINDS
_PROVINCE, _CITY, _COUNTY, _TOWNSHIP = spec.LEVELS


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


def split_digit_merge(vals: Sequence[Cell], n: int, is_t3: bool) -> tuple[list[Cell], int] | None:
    """When a row has one number too many and joining two adjacent one-digit numbers makes it balance (parts sum
    to the 总计 for table 三), the row with them joined and the index joined."""
    if len(vals) != n + 1 or not is_t3:
        return None
    found: list[tuple[list[Cell], int]] = []
    for i in range(len(vals) - 1):
        a, b = vals[i], vals[i + 1]
        if not (isinstance(a.value, int) and isinstance(b.value, int) and 0 <= a.value <= 9 and 0 <= b.value <= 9):
            continue
        joined = Cell(f"{a.raw.strip()}{b.raw.strip()}", a.value * 10 + b.value)
        cells = [*vals[:i], joined, *vals[i + 2:]]
        nums = [c.value for c in cells]
        if all(isinstance(x, int) for x in nums) and sum(nums[:-1]) == nums[-1]:  # type: ignore[arg-type]
            found.append((cells, i))
    return found[0] if len(found) == 1 else None


def split_digit_merge_t4(vals: Sequence[Cell]) -> list[Cell] | None:
    """When table 四 has one number too many and joining two adjacent one-digit numbers makes each group balance
    (its results sum to its 总计), the numbers with them joined."""
    width = len(spec.T4_RESULTS)  # a group's results, 总计 last
    if len(vals) != width * len(spec.T4_GROUPS) + 1:
        return None
    found = []
    for i in range(len(vals) - 1):
        a, b = vals[i], vals[i + 1]
        if not (isinstance(a.value, int) and isinstance(b.value, int) and 0 <= a.value <= 9 and 0 <= b.value <= 9):
            continue
        cells = [*vals[:i], Cell(f"{a.raw}{b.raw}", a.value * 10 + b.value), *vals[i + 2:]]
        nums = [c.value if isinstance(c.value, int) else 0 for c in cells]
        if all(sum(nums[g * width: g * width + width - 1]) == nums[g * width + width - 1]
               for g in range(len(spec.T4_GROUPS))):
            found.append(cells)
    return found[0] if len(found) == 1 else None


# --------------------------------------------------------------------------------------------------------------
# Narrative splitting
# --------------------------------------------------------------------------------------------------------------

_PARA_START = re.compile(rf"^\s*(?:[（(][{_NUMERAL}]+[）)]|[{_NUMERAL}]+是|\d+[.、．])")


def paragraphs(lines: Sequence[Line], wrapped: bool) -> list[str]:
    """The section's paragraphs. ``wrapped``: lines are a PDF's, cut at the page width -- joined, and a new
    paragraph starts at a numbered sub-heading or after a line ending a sentence well short of the width."""
    texts = [ln.text if ln.cells is None else " ".join(c for c in ln.cells if c) for ln in lines]
    texts = [t.strip() for t in texts if t.strip()]
    if not wrapped:
        return texts
    out: list[str] = []
    width = max((len(t) for t in texts), default=0)
    last_line = ""
    for t in texts:
        ends_short = last_line.endswith(("。", "：", ":", "；")) and len(last_line) < width * 0.9
        heading_before = bool(out) and _HEADING_ONLY.match(out[-1]) is not None and (
            len(last_line) < width * 0.7 or _names_a_field(out[-1]))
        if out and not _PARA_START.match(t) and not ends_short and not heading_before:
            out[-1] += t
        else:
            out.append(t)
        last_line = t
    return [_unspace(p) for p in out]


@cache
def _part_labels(section: str = "") -> tuple[tuple[str, str], ...]:
    """(label squashed, key) of the narrative fields that are parts (not a lead paragraph): of ``section``, or of
    every section."""
    fields = spec.narrative_fields(section) if section else spec.NARRATIVE_FIELDS
    return tuple((squash(f.label), f.key) for f in fields if not f.lead)


def _names_a_field(heading: str) -> bool:
    m = _HEADING_ONLY.match(heading)
    head = squash(m.group(1)) if m else ""
    return any(_ratio(head, label) >= 0.9 for label, _ in _part_labels())


def _unspace(s: str) -> str:
    """Spaces a PDF puts between CJK characters and around digits dropped ("2023 年" -> "2023年")."""
    return re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+(?=\d)|(?<=\d)\s+(?=[^\x00-\x7f])", "", s)


_S1_TOPICS = (("s1.on_request", ("依申请",)), ("s1.proactive", ("主动公开",)),
              ("s1.management", ("信息管理", "政府信息管理")),
              ("s1.platform", ("平台",)), ("s1.supervision", ("监督", "保障")))
_S5_TOPICS = (("s5.last_year_fixes", ("上年度问题", "上一年度问题", "上年度存在问题", "整改情况")),
              ("s5.measures", ("措施", "改进", "整改", "下一步", "工作打算", "计划")),
              ("s5.problems", ("问题", "不足")))
_S6_TOPICS = (("s6.fees", ("处理费", "收费", "收取")), ("s6.key_points", ("工作要点", "政务公开要点")),
              ("s6.proposals", ("建议", "提案")), ("s6.innovation", ("创新", "特色")))
_TOPICS = {"一": _S1_TOPICS, "五": _S5_TOPICS, "六": _S6_TOPICS}
_HEADING_ONLY = re.compile(rf"^\s*(?:[（(][{_NUMERAL}]+[）)]|[{_NUMERAL}]+[、.．])\s*([^。；;]{{1,40}}?)[。.]?\s*$")


def _heading_field(p: str, section: str) -> str | None:
    """The field a paragraph that is only a sub-heading ("（二）依申请公开") opens: by the official field label,
    else by topic words."""
    m = _HEADING_ONLY.match(p)
    if m is None:
        return None
    head = squash(m.group(1))
    best = max(((_ratio(head, label), key) for label, key in _part_labels(section)), default=(0.0, ""))
    if best[0] >= 0.75:
        return best[1]
    hits = [(head.find(w), key) for key, words in _TOPICS[section] for w in words if w in head]
    return min(hits)[1] if hits else None


def _subheading_topic(p: str, topics: Sequence[tuple[str, tuple[str, ...]]], span: int = 24) -> str | None:
    m = _SUBHEADING.match(p) or re.match(rf"^\s*[{_NUMERAL}]+[、.．]|^\s*\d+[.、．]", p)
    if not m:
        return None
    head = p[: m.end() + span]
    head = re.split(r"[。；]", head)[0]
    hits = [(head.find(w), key) for key, words in topics for w in words if w in head]
    return min(hits)[1] if hits else None


def _split_parts(paras: Sequence[str], section: str, span: int,
                 before: Callable[[str, dict[str, list[str]]], str]) -> dict[str, str]:
    """A narrative section's paragraphs by field: a part's sub-heading (by its official label, else by topic
    words within ``span`` characters of its numbering) opens that field, and the paragraphs after it follow;
    ``before(p, out)`` places a paragraph that comes before any part and gives the field that continues after it
    ("" for none yet)."""
    out: dict[str, list[str]] = {}
    current = ""
    for p in paras:
        h = _heading_field(p, section)
        if h is not None:
            current = h
            continue
        t = _subheading_topic(p, _TOPICS[section], span)
        if t is not None:
            current = t
        if current:
            out.setdefault(current, []).append(p)
        else:
            current = before(p, out)
    return {k: "\n".join(v) for k, v in out.items()}


def _lead(section: str) -> Callable[[str, dict[str, list[str]]], str]:
    """What a section says before its first part is its lead paragraph (or, with no lead field, its first part)."""
    lead = spec.lead_field(section)
    key = lead.key if lead is not None else spec.narrative_fields(section)[0].key

    def place(p: str, out: dict[str, list[str]]) -> str:
        out.setdefault(key, []).append(p)
        return ""

    return place


def split_section1(paras: Sequence[str]) -> dict[str, str]:
    return _split_parts(paras, "一", 24, _lead("一"))


_MEASURES_START = re.compile(r"下一步|针对[^。]{0,12}问题|改进措施|整改措施|今后|新的一年|20\d\d年[，,]?(?:我|本)?[^。]{0,6}将")


def _problems_then_measures(p: str, out: dict[str, list[str]]) -> str:
    """Section 五 without sub-headings: problems until the measures start (下一步, 针对……问题 …), then measures."""
    m = _MEASURES_START.search(p)
    if m is None:
        out.setdefault("s5.problems", []).append(p)
        return ""
    cut = max(p.rfind("。", 0, m.start()) + 1, 0)
    if p[:cut].strip():
        out.setdefault("s5.problems", []).append(p[:cut])
    out.setdefault("s5.measures", []).append(p[cut:])
    return "s5.measures"


def split_section5(paras: Sequence[str]) -> dict[str, str]:
    return _split_parts(paras, "五", 12, _problems_then_measures)


def split_section6(paras: Sequence[str]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    current = ""
    for p in paras:
        h = _heading_field(p, "六")
        if h is not None:
            current = h
            continue
        if current:  # the report has the official sub-headings: paragraphs follow them
            out.setdefault(current, []).append(p)
            continue
        for sentence in re.findall(r"[^。；;]+[。；;]?", p):
            s = sentence.strip()
            if not s:
                continue
            key = next((k for k, words in _S6_TOPICS if any(w in s for w in words)), "s6.other")
            out.setdefault(key, []).append(s)
    return {k: "\n".join(v) if current else "".join(v) for k, v in out.items()}


def parse(doc: Document) -> Imported:
    """Read one published report."""
    imp = _Reader(doc).run()
    return replace(imp, data=replace(imp.data, props=import_props(imp)))
