"""The publication check: the report an agency put on its portal, read back, against the version the county accepted.

Developer note. Pure (no I/O; import-linter holds it so). The caller hands over two
:class:`~xl_addin.model.ReportData`: ``accepted``, read from the accepted workbook, and ``published``, the
published page, PDF, Word or text file imported by :mod:`xl_addin.importers` (the import notes travel in its
``props``; :func:`xl_addin.adapters.fetch.load_published` reads a file or a URL into it). :func:`compare` returns
a :class:`PublicationCheck`: the :class:`~xl_addin.review.Published` verdict and every :class:`Difference`, each
with one Chinese sentence naming the official labels.

What is compared, and how:

- **Table cells** (表二, 表三, 表四), by the spec's keys: the printed number against the number the accepted
  workbook stands for (:func:`xl_addin.derive.effective_values`, which is also what its export prints). Money to
  4 decimals. A total is listed only when its parts all agree (the total itself was misprinted): one changed
  figure is one difference, not three.
- **Cells that cannot be compared** (无法核对): a cell the importer left blank or did not find, or that holds no
  number ("/", "—"), and every cell of a table or row the importer could not read (its "unread" entries: why
  and where are quoted; an unread blank is never "blank on both sides"). Blank on both sides is no difference:
  the accepted workbook left the cell blank too (for a total: every cell it adds up). A 23-row table 三
  (（六）其他处理 as one row) is compared with the sum of the accepted （六）1–3; a report in the old 2019
  format cannot be compared cell by cell and says so.
- **Narrative** (一、五、六): each section's text as the export writes it from the accepted workbook (the drafted
  sentences when the workbook asks for them; an optional part saying "无" left out) against the section's
  imported text, both normalised: whitespace, full/half-width forms, quotes and dashes, the numbering and
  headings the export adds, paragraphs that say nothing. A differing section names the section and shows the
  first place the texts part, with a short excerpt of both.
- **Agency and year**: when both sides name them, they must be the same.
- **Publication date**: the report's 落款/发布日期 (or the date the page or PDF gives; ``published_on`` overrides)
  against :func:`xl_addin.rules.deadline` for the accepted version's year and kind. Lateness is reported in
  :attr:`PublicationCheck.timing`; it does not change the verdict (the verdict is about content).

Verdict: :attr:`~xl_addin.review.Published.MATCH` only when every cell and section was compared and agrees;
any difference -- a cell that could not be compared included -- gives
:attr:`~xl_addin.review.Published.DIFFERS`. "Cannot tell" is never reported as "the same": a coordinator must
look at those cells (each is listed, marked :attr:`Kind.UNREAD`).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from . import derive, narrative, report_doc, rules, spec
from .importers.parse import T3_SIX_KEYS, T3_SIX_SINGLE
from .model import CellValue, ReportData
from .review import Published

Number = int | float
#: how long an excerpt of a differing text is (characters either side of where the texts part)
EXCERPT_CONTEXT: Final = 12
EXCERPT_CHARS: Final = 40
PREFIX: Final = "发布稿与审核通过稿不一致："


class Kind(enum.StrEnum):
    """What a difference is about (an interface: the server and ``review --json`` show these ids)."""

    CELL = "cell"  # a table cell printed with another number
    UNREAD = "unread"  # a table cell that could not be compared (无法核对)
    TEXT = "text"  # a narrative section's text
    META = "meta"  # agency or year
    FORMAT = "format"  # the published tables are in another format


@dataclass(frozen=True)
class Difference:
    kind: Kind
    message: str  # one Chinese sentence, naming the official labels
    key: str = ""  # the spec key of the cell or field, or the section number ("五")
    sheet: str = ""  # where the accepted workbook holds it
    cell: str = ""
    labels: tuple[str, ...] = ()  # official labels: (table/section, row, column)
    published: str = ""  # the value as printed / an excerpt of the published text
    accepted: str = ""  # the accepted version's value / excerpt

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "message": self.message, "key": self.key, "sheet": self.sheet,
                "cell": self.cell, "labels": list(self.labels), "published": self.published,
                "accepted": self.accepted}


@dataclass(frozen=True)
class Timing:
    """The publication date against the deadline."""

    published_on: dt.date | None
    deadline: dt.date | None
    message: str  # Chinese

    @property
    def late(self) -> bool | None:
        """True: published after the deadline; None: no date or no deadline to judge by."""
        if self.published_on is None or self.deadline is None:
            return None
        return self.published_on > self.deadline

    @property
    def days_late(self) -> int:
        if self.published_on is None or self.deadline is None:
            return 0
        return max(0, (self.published_on - self.deadline).days)

    def to_dict(self) -> dict[str, Any]:
        return {"published_on": self.published_on.isoformat() if self.published_on else None,
                "deadline": self.deadline.isoformat() if self.deadline else None,
                "late": self.late, "days_late": self.days_late, "message": self.message}


@dataclass(frozen=True)
class PublicationCheck:
    published: Published
    differences: tuple[Difference, ...]
    timing: Timing
    compared: int  # table cells compared
    source: str = ""  # the published report's file or URL

    @property
    def unread(self) -> int:
        return sum(d.kind is Kind.UNREAD for d in self.differences)

    def summary_zh(self) -> str:
        """One line for the board and the command line."""
        if self.published is Published.MATCH:
            head = f"{Published.MATCH.zh}：{self.compared} 个表格单元格和正文各部分均与审核通过稿一致。"
        else:
            unread = self.unread
            head = (f"{Published.DIFFERS.zh}：{len(self.differences) - unread} 处不一致"
                    + (f"，{unread} 个单元格无法核对" if unread else "") + "。")
        return head + self.timing.message

    def messages(self) -> list[str]:
        """Every sentence: the differences, then the publication date."""
        return [d.message for d in self.differences] + [self.timing.message]

    def to_dict(self) -> dict[str, Any]:
        return {"published": self.published.value, "summary": self.summary_zh(), "compared": self.compared,
                "unread": self.unread, "differences": [d.to_dict() for d in self.differences],
                "timing": self.timing.to_dict(), "source": self.source}


# ---- the import notes ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _ImportInfo:
    format: str = "2021"
    absent: frozenset[str] = frozenset()
    #: key -> the import note about the cell's row (a row not found, a label read tolerantly)
    notes: Mapping[str, str] = field(default_factory=dict)
    #: key -> "（why）, 查找位置：where": its table or row could not be read (contract U "unread")
    unread: Mapping[str, str] = field(default_factory=dict)


def _import_info(data: ReportData) -> _ImportInfo:
    info = rules.import_info(data)
    if info is None:
        return _ImportInfo()
    notes: dict[str, str] = {}
    for n in info.get("notes") or ():
        if isinstance(n, dict) and n.get("kind") == "missing" and isinstance(n.get("key"), str):
            notes[n["key"]] = str(n.get("message", ""))
    absent = info.get("absent") or ()
    unread: dict[str, str] = {}
    for u in rules.unread_entries(info):
        why = u["why"].rstrip("。") or ("该表未能读取" if u["what"] == "table" else "该行未能读取")
        where = u["where"].rstrip("。")
        unread.update(dict.fromkeys(u["keys"], f"（{why}）" + (f"，查找位置：{where}" if where else "")))
    return _ImportInfo(str(info.get("format") or "2021"), frozenset(str(k) for k in absent), notes, unread)


# ---- table cells ---------------------------------------------------------------------------------------------

def _show(v: CellValue) -> str:
    if v is None:
        return "空白"
    if isinstance(v, int | float) and not isinstance(v, bool):
        return report_doc.format_number(v)
    return f"“{str(v).strip()}”"


def _same(a: Number, b: Number, money: bool) -> bool:
    if money:
        return math.isclose(float(a), float(b), abs_tol=5e-5)
    return a == b


def _where(key: str) -> tuple[str, str, tuple[str, ...]]:
    table = spec.TABLE_OF_KEY[key]
    row, col = spec.labels_of(key)
    loc = spec.LAYOUT.locations[key]
    return loc.sheet, loc.a1, (f"表{table.number}", row, col)


def _cell_name(labels: tuple[str, ...]) -> str:
    table, row, col = labels
    return f"{table}“{row}”“{col}”"


def _printed_number(key: str, v: CellValue) -> Number | None:
    """The number a printed cell says (None: blank or not a number)."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, str):
        s = unicodedata.normalize("NFKC", v).strip().replace(",", "")
        try:
            v = float(s) if "." in s else int(s)
        except ValueError:
            return None
    if not isinstance(v, int | float):
        return None
    return derive.input_value(key, v) if key in spec.INPUT_KEYS else derive.count_value(v)


def _blank(data: ReportData, key: str) -> bool:
    """Whether the accepted workbook left ``key`` blank: an input with nothing in it, a total of such inputs."""
    cell = spec.DATA_CELLS[key]
    if key in data.missing:
        return False
    if cell.derived:
        return all(_blank(data, part) for part in cell.sum_of) if key in data.formulas else data.values.get(key) is None
    return data.values.get(key) is None and key not in data.formulas


def _compare_cells(accepted: ReportData, published: ReportData, info: _ImportInfo) -> tuple[list[Difference], int]:
    acc = derive.effective_values(accepted)
    single_six = {f"t3.{T3_SIX_KEYS[-1]}.{ck}": [f"t3.{rk}.{ck}" for rk in T3_SIX_KEYS] for ck, _ in spec.T3_COLS}
    single_six = single_six if info.absent else {}
    out: list[Difference] = []
    off: set[str] = set()  # keys whose published value differs or cannot be compared
    compared = 0
    derived: list[str] = []
    for key, cell in spec.DATA_CELLS.items():
        if key in info.absent:
            continue
        if cell.derived:
            derived.append(key)
            continue
        parts = single_six.get(key, [key])
        d = _compare_one(key, accepted, published, acc, info, parts)
        compared += 1
        if d is not None:
            out.append(d)
            off.add(key)
    explained: dict[str, bool] = {}

    def explained_by_parts(key: str) -> bool:
        if key not in explained:
            explained[key] = any(p in off or (p in spec.DATA_CELLS and spec.DATA_CELLS[p].derived
                                              and explained_by_parts(p)) or p in info.absent
                                 for p in spec.DATA_CELLS[key].sum_of)
        return explained[key]

    for key in derived:
        d = _compare_one(key, accepted, published, acc, info, [key])
        compared += 1
        if d is None:
            continue
        off.add(key)
        if not explained_by_parts(key):
            out.append(d)
    return out, compared


def _compare_one(key: str, accepted: ReportData, published: ReportData, acc: Mapping[str, Number | None],
                 info: _ImportInfo, parts: list[str]) -> Difference | None:
    sheet, a1, labels = _where(key)
    money = spec.DATA_CELLS[key].kind is spec.Kind.MONEY
    if len(parts) > 1:  # the 23-row table 三: its one （六） row against the sum of the accepted （六）1-3
        labels = (labels[0], f"三、本年度办理结果 {T3_SIX_SINGLE}", labels[2])
    nums = [acc.get(p) for p in parts]
    want: Number | None = None if any(n is None for n in nums) else sum(n for n in nums if n is not None)
    want_text = report_doc.format_number(want) if want is not None else _show(accepted.values.get(key))
    printed = published.values.get(key)
    got = _printed_number(key, printed)
    name = _cell_name(labels)
    if key in info.unread:  # never read: whatever the cell holds, it is no printed number (not even a blank)
        return Difference(Kind.UNREAD, f"无法核对：{name}发布稿中未找到该单元格{info.unread[key]}，通过稿 {want_text}。",
                          key, sheet, a1, labels, "", want_text)
    if got is None:
        if printed is None and key in published.values and len(parts) == 1 and _blank(accepted, key):
            return None
        if key not in published.values:
            row_start = f"t3.{key.split('.')[1]}.natural" if key.startswith("t3.") else key
            why = info.notes.get(key) or info.notes.get(row_start)
            said = "发布稿中未找到该单元格" + (f"（{why.rstrip('。')}）" if why else "")
        elif printed is None:
            said = "发布稿中为空白"
        else:
            said = f"发布稿中为{_show(printed)}，不是数字"
        return Difference(Kind.UNREAD, f"无法核对：{name}{said}，通过稿 {want_text}。", key, sheet, a1, labels,
                          "" if printed is None else str(printed), want_text)
    if want is not None and _same(got, want, money):
        return None
    shown = report_doc.format_number(got)
    return Difference(Kind.CELL, f"{PREFIX}{name}发布 {shown}，通过稿 {want_text}", key, sheet, a1, labels, shown,
                      want_text)


# ---- narrative -----------------------------------------------------------------------------------------------

#: the numbering a paragraph may start with: （一） 一、 1. 1、 (1) -- after NFKC, so brackets are ASCII
_NUMBERING = re.compile(r"^(?:\([一二三四五六七八九十]{1,3}\)|[一二三四五六七八九十]{1,3}[、.]|\(?\d{1,2}[、.)])")
_SPACE = re.compile(r"\s+")
#: after NFKC: quotes and dashes unified, ASCII punctuation back to the Chinese full-width forms people read
_PUNCT = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "—": "-", "–": "-",
                        "－": "-", ",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"})
_HEADING_TAILS = ("", "情况", "方面", "工作", "工作情况")


def _headings() -> frozenset[str]:
    names = {f.label for f in spec.NARRATIVE_FIELDS} | {s.title for s in spec.SECTIONS}
    names |= {"存在的主要问题", "整改措施", "改进措施", "改进情况", "存在的主要问题及整改措施"}
    out = set()
    for name in names:
        for tail in _HEADING_TAILS:
            out.add(_squash(name + tail))
            out.add(_squash("政府信息" + name + tail))
    return frozenset(out)


def _squash(s: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", s)).rstrip("。.：:")


_HEADING_SET: Final = _headings()


def normalise(text: str) -> str:
    """A narrative text as compared: per paragraph NFKC, no whitespace, quotes and dashes unified, punctuation in
    its Chinese form; the numbering a paragraph starts with dropped, a paragraph that is only a heading (the
    export's （一）主动公开 …) or says nothing ("无。") dropped; the paragraphs joined."""
    out = []
    for para in text.replace("\r", "\n").split("\n"):
        p = _SPACE.sub("", unicodedata.normalize("NFKC", para))
        p = _NUMBERING.sub("", p)
        if not p or not narrative.has_text(p) or p.rstrip("。.：:") in _HEADING_SET:
            continue
        if p == _SPACE.sub("", unicodedata.normalize("NFKC", report_doc.EMPTY_SECTION)):
            continue
        out.append(p.translate(_PUNCT))
    return "".join(out)


def accepted_text(data: ReportData, section: str) -> str:
    """Section ``section``'s text as the export writes it from the accepted workbook."""
    wants = report_doc.wants_drafts(data)
    nums = derive.effective_values(data) if wants else None
    return "\n".join(report_doc.field_text(data, f.key, use_drafts=wants, numbers=nums)
                     for f in spec.narrative_fields(section))


def published_text(data: ReportData, section: str) -> str:
    """Section ``section``'s text as imported from the published report."""
    return "\n".join(data.text(f.key) for f in spec.narrative_fields(section))


def excerpts(a: str, b: str) -> tuple[str, str]:
    """Short excerpts of ``a`` and ``b`` around the first place they part (with a little context before)."""
    n = min(len(a), len(b))
    p = next((i for i in range(n) if a[i] != b[i]), n)
    s = 0
    while s < n - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    start = max(0, p - EXCERPT_CONTEXT)

    def cut(t: str) -> str:
        end = min(len(t) - s + EXCERPT_CONTEXT, len(t), start + EXCERPT_CHARS)
        end = max(end, min(len(t), p + 1))
        body = t[start:end]
        return ("…" if start > 0 else "") + body + ("…" if end < len(t) else "")

    return cut(a), cut(b)


def _compare_texts(accepted: ReportData, published: ReportData) -> list[Difference]:
    out = []
    for sec in spec.SECTIONS:
        if not sec.narrative:
            continue
        want, got = normalise(accepted_text(accepted, sec.number)), normalise(published_text(published, sec.number))
        if want == got:
            continue
        pub_x, acc_x = excerpts(got, want)
        if not got:
            pub_x = "（无内容）"
        if not want:
            acc_x = "（无内容）"
        out.append(Difference(Kind.TEXT, f"{PREFIX}正文“{sec.heading}”文字不同。发布稿：“{pub_x}”；通过稿：“{acc_x}”。",
                              sec.number, spec.NARRATIVE_SHEET, "", (sec.heading,), pub_x, acc_x))
    return out


# ---- agency, year, date --------------------------------------------------------------------------------------

def _compare_meta(accepted: ReportData, published: ReportData) -> list[Difference]:
    out = []
    a, p = _squash(accepted.agency), _squash(published.agency)
    if a and p and a != p:
        out.append(Difference(Kind.META, f"{PREFIX}机关名称发布为“{published.agency}”，通过稿为“{accepted.agency}”。",
                              "meta.agency", spec.META_SHEET, "", ("机关名称",), published.agency, accepted.agency))
    if accepted.year and published.year and accepted.year != published.year:
        out.append(Difference(Kind.META, f"{PREFIX}报告年度发布为 {published.year} 年，通过稿为 {accepted.year} 年。",
                              "meta.year", spec.META_SHEET, "", ("报告年度",), str(published.year),
                              str(accepted.year)))
    return out


def _zh_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def timing(accepted: ReportData, published_on: dt.date | None) -> Timing:
    """The publication date against the deadline of the accepted version's year and kind."""
    year = accepted.year
    limit = rules.deadline(year, accepted.text("meta.kind")) if year is not None else None
    if published_on is None:
        return Timing(None, limit, "发布稿中未找到发布日期，无法判断是否按时发布。")
    if limit is None:
        return Timing(published_on, None, f"发布日期 {_zh_date(published_on)}；报告年度不在模板范围内，无法判断是否按时发布。")
    if published_on > limit:
        days = (published_on - limit).days
        return Timing(published_on, limit,
                      f"逾期发布：发布日期 {_zh_date(published_on)}，晚于规定期限 {_zh_date(limit)}（逾期 {days} 天）。")
    return Timing(published_on, limit, f"按时发布：发布日期 {_zh_date(published_on)}，规定期限 {_zh_date(limit)}。")


# ---- the check -----------------------------------------------------------------------------------------------

def compare(accepted: ReportData, published: ReportData, *, published_on: dt.date | None = None) -> PublicationCheck:
    """The published report ``published`` (imported) against the ``accepted`` version. ``published_on``: the
    publication date when the caller knows it better than the report (else the report's own date)."""
    info = _import_info(published)
    diffs: list[Difference] = _compare_meta(accepted, published)
    compared = 0
    if info.format == "2019":
        diffs.append(Difference(Kind.FORMAT, f"{PREFIX}发布稿的表格为旧格式（国办公开办函〔2019〕60号），"
                                f"与通过稿（{spec.FORMAT_BASIS}）格式不同，表格无法逐项核对。"))
    else:
        cells, compared = _compare_cells(accepted, published, info)
        diffs += cells
    diffs += _compare_texts(accepted, published)
    when = published_on if published_on is not None else published.report_date
    verdict = Published.DIFFERS if diffs else Published.MATCH
    return PublicationCheck(verdict, tuple(diffs), timing(accepted, when), compared, published.source)
