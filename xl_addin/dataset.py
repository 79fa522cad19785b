"""The dataset: every collected or imported report as rows of one tidy table, and the indicators offices compare
units by.

Pure: plain values in (one :class:`Entry` per report: a unit's year), plain values out. Writing Parquet or CSV is
:mod:`xl_addin.adapters.dataset_io`; analysts read the file with pandas (``read_dataset``).

The table has one row per report × table cell of 二, 三 and 四 (inputs and derived totals, in spec order), with
the official labels from :mod:`xl_addin.spec`: :data:`COLUMNS`. ``value`` is the cell's number (None: blank,
unread or not a usable number).

The indicators are declared once, as data (:data:`INDICATORS`): a name, the Chinese label, the numerator's and
the denominator's cell keys. A rate is given only when its denominator reaches :data:`MIN_COUNT` (1 of 2 is not
50 %); otherwise the row says why there is none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from . import spec
from .model import CellValue, ReportData

Number = int | float

#: the scopes a report can have (contract R): 本级 (the unit's own handling) or 汇总 (the region it covers)
SCOPES: Final = spec.SCOPES
#: what :attr:`Entry.verdict` says ("" : not checked)
VERDICTS: Final = ("通过", "不通过", "无法读取")

#: the cell keys the dataset has, in spec order (tables 二, 三, 四; inputs and derived totals)
KEYS: Final[tuple[str, ...]] = tuple(c.key for t in spec.TABLES for c in t.cells)

#: the columns of the tidy table, in order
UNIT_COLUMNS: Final = ("unit", "unit_id", "parent", "scope", "level", "year")
KEY_COLUMNS: Final = ("key", "table", "row_label", "col_label")
COLUMNS: Final = (*UNIT_COLUMNS, *KEY_COLUMNS, "value", "source", "verdict")


@dataclass(frozen=True)
class Entry:
    """One report: a unit's year (contract D)."""

    #: the unit's name as the roster/report gives it
    unit: str
    year: int | None
    #: spec cell key -> value (None: blank or unread); keys other than :data:`KEYS` are ignored
    values: Mapping[str, CellValue] = field(default_factory=dict)
    #: registry id / 统一社会信用代码 ("" unknown)
    unit_id: str = ""
    #: parent unit id or name ("" unknown)
    parent: str = ""
    #: "本级" | "汇总" | ""
    scope: str = ""
    #: spec's level words as the roster uses them ("" unknown)
    level: str = ""
    #: file path or URL it was read from
    source: str = ""
    #: "通过" | "不通过" | "无法读取" | "" (not checked)
    verdict: str = ""


def entry_of(data: ReportData, values: Mapping[str, CellValue] | None = None, *, unit: str = "", unit_id: str = "",
             parent: str = "", scope: str = "", level: str = "", source: str = "", verdict: str = "") -> Entry:
    """The entry of one report read (a workbook or an imported published report): its 机关名称, year, level and
    source unless given; ``values``: the figures to use (``derive.effective_values(data)`` for recomputed
    totals; default the values as read, an unread cell None)."""
    return Entry(unit or data.agency, data.year, data.values if values is None else values, unit_id=unit_id,
                 parent=parent, scope=scope, level=level or data.text("meta.level"), source=source or data.source,
                 verdict=verdict)


@dataclass(frozen=True)
class KeyLabels:
    """What the table says about one cell key: its table's heading and its official row and column labels."""

    key: str
    table: str
    row_label: str
    col_label: str


def _key_labels() -> tuple[KeyLabels, ...]:
    out = []
    for key in KEYS:
        cell, table = spec.DATA_CELLS[key], spec.TABLE_OF_KEY[key]
        out.append(KeyLabels(key, table.heading, cell.row_label, cell.col_label))
    return tuple(out)


#: the labels of every key of :data:`KEYS`, in the same order
KEY_LABELS: Final[tuple[KeyLabels, ...]] = _key_labels()


#: the largest whole number a float64 (the dataset's value column) holds exactly
EXACT: Final = 2**53


def number(v: CellValue) -> Number | None:
    """The number a cell holds, as the dataset's float64 value column can hold it: an int within ±2**53 as it is,
    a larger one as the nearest float (None beyond the float range), a finite float; None for a blank, text, a
    truth value or a non-finite float. (A workbook is untrusted: a count may be 10**400.)"""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if -EXACT <= v <= EXACT:
        return v
    try:
        return float(v)
    except OverflowError:
        return None


def unit_fields(e: Entry) -> tuple[str, str, str, str, str, int | None]:
    """The :data:`UNIT_COLUMNS` of ``e``, in order."""
    return e.unit, e.unit_id, e.parent, e.scope, e.level, e.year


def tidy_rows(entries: Iterable[Entry]) -> Iterator[dict[str, Any]]:
    """One dict per report × cell key of :data:`KEYS`, keyed by :data:`COLUMNS` (entry order, then spec order)."""
    for e in entries:
        unit = dict(zip(UNIT_COLUMNS, unit_fields(e), strict=True))
        vals = e.values
        for kl in KEY_LABELS:
            yield {**unit, "key": kl.key, "table": kl.table, "row_label": kl.row_label, "col_label": kl.col_label,
                   "value": number(vals.get(kl.key)), "source": e.source, "verdict": e.verdict}


@dataclass(frozen=True)
class Columns:
    """The tidy table in columns without repeating anything: per entry its unit fields, per key its labels, and
    the values entry-major (row ``i * len(keys) + j`` is entry ``i``, key ``j``), so a writer builds each column
    by repeating or tiling (what :func:`tidy_rows` gives, row for row)."""

    units: Mapping[str, list[Any]]  # UNIT_COLUMNS + source, verdict -> one item per entry
    keys: tuple[KeyLabels, ...]
    values: list[Number | None]

    @property
    def n_entries(self) -> int:
        return len(self.units["unit"])

    @property
    def n_rows(self) -> int:
        return self.n_entries * len(self.keys)


def columns(entries: Iterable[Entry]) -> Columns:
    """The table of ``entries`` as :class:`Columns`."""
    names = (*UNIT_COLUMNS, "source", "verdict")
    units: dict[str, list[Any]] = {n: [] for n in names}
    values: list[Number | None] = []
    for e in entries:
        for n, v in zip(names, (*unit_fields(e), e.source, e.verdict), strict=True):
            units[n].append(v)
        # (an int within ±2**53 is taken as it is -- type(), not isinstance: True is no count -- the rest through
        # number())
        values += [v if type(v) is int and -EXACT <= v <= EXACT else number(v) for v in map(e.values.get, KEYS)]
    return Columns(units, KEY_LABELS, values)


def by_parent(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    """``entries`` split by parent unit (the shards of a national run: each machine writes its parents' shard;
    "" holds the entries whose parent is not known)."""
    out: dict[str, list[Entry]] = {}
    for e in entries:
        out.setdefault(e.parent, []).append(e)
    return out


# ---- indicators -------------------------------------------------------------------------------------------------

def _t3(*rows: str) -> tuple[str, ...]:
    return tuple(f"t3.{r}.total" for r in rows)


def _t3_group(prefix: str) -> tuple[str, ...]:
    return tuple(k for k in KEYS if k.startswith(f"t3.{prefix}_") and k.endswith(".total"))


def _t4_decided(*groups: str) -> tuple[str, ...]:
    """The cases of ``groups`` decided (审结): 维持 + 纠正 + 其他结果, i.e. 总计 less 尚未审结."""
    return tuple(f"t4.{g}.{r}" for g in groups for r in ("upheld", "corrected", "other"))


@dataclass(frozen=True)
class Indicator:
    """A rate: the sum of the numerator's cells over the sum of the denominator's."""

    name: str
    label: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    #: the formula in words, as a user reads it
    formula: str
    #: what the denominator counts, in words (for the reason a rate is not given)
    denominator_label: str


#: 办结: the applications handled this year (表三 三、本年度办理结果 （七）总计)
HANDLED = _t3("total")
INDICATORS: Final[tuple[Indicator, ...]] = (
    Indicator("disclosed_rate", "实质公开率", _t3("granted", "partial"), HANDLED,
              "（予以公开＋部分公开）÷办结", "本年办结申请"),
    Indicator("unable_share", "无法提供占比", _t3_group("unable"), HANDLED, "无法提供÷办结", "本年办结申请"),
    Indicator("ignored_share", "不予处理占比", _t3_group("ignored"), HANDLED, "不予处理÷办结", "本年办结申请"),
    Indicator("review_corrected_rate", "复议纠错率", ("t4.review.corrected",), _t4_decided("review"),
              "行政复议结果纠正÷已审结（维持＋纠正＋其他结果）", "已审结行政复议案件"),
    Indicator("suit_corrected_rate", "诉讼纠错率", ("t4.suit_direct.corrected", "t4.suit_after_review.corrected"),
              _t4_decided("suit_direct", "suit_after_review"),
              "行政诉讼结果纠正÷已审结（维持＋纠正＋其他结果，含直接起诉和复议后起诉）", "已审结行政诉讼案件"),
    Indicator("carried_out_rate", "结转率", _t3("carried_out"), _t3("new", "carried_in"),
              "结转下年度继续办理÷（本年新收＋上年结转）", "本年新收和上年结转申请"),
)
INDICATOR_BY_NAME: Final = {i.name: i for i in INDICATORS}

#: the least denominator a rate is given for: below it the rate says more about chance than about the unit
MIN_COUNT: Final = 10

#: the columns of :func:`indicators`, in order
INDICATOR_COLUMNS: Final = (*UNIT_COLUMNS, "indicator", "label", "numerator", "denominator", "rate", "note",
                            "prior_rate", "change")


@dataclass(frozen=True)
class Rate:
    numerator: Number | None
    denominator: Number | None
    rate: float | None
    #: why there is no rate ("" when there is one)
    note: str


def _sum(values: Mapping[str, CellValue], keys: Sequence[str]) -> tuple[Number | None, list[str]]:
    """The sum of ``keys``' numbers, and the keys without a number (then the sum is None)."""
    total: Number = 0
    lacking = []
    for k in keys:
        v = number(values.get(k))
        if v is None:
            lacking.append(k)
        else:
            total += v
    return (None if lacking else total), lacking


def rate(ind: Indicator, values: Mapping[str, CellValue], *, min_count: int = MIN_COUNT) -> Rate:
    """``ind`` of one report's ``values``: the rate in [0, 1], or None with the reason (Chinese)."""
    num, lacking_n = _sum(values, ind.numerator)
    den, lacking_d = _sum(values, ind.denominator)
    lacking = lacking_n + [k for k in lacking_d if k not in lacking_n]
    if lacking:
        shown = "、".join(_cell_zh(k) for k in lacking[:3]) + ("等" if len(lacking) > 3 else "")
        return Rate(num, den, None, f"缺少{shown}的数字，不计算{ind.label}。")
    assert num is not None and den is not None
    if num < 0 or den < 0:
        return Rate(num, den, None, f"数字为负，不计算{ind.label}。")
    if den == 0:
        return Rate(num, den, None, f"{ind.denominator_label}为0，不计算{ind.label}。")
    if den < min_count:
        return Rate(num, den, None,
                    f"{ind.denominator_label}仅{_n(den)}件，少于{min_count}件，不计算{ind.label}（比率没有意义）。")
    if num > den:
        return Rate(num, den, None, f"分子（{_n(num)}）大于分母（{_n(den)}），数字不一致，不计算{ind.label}。")
    return Rate(num, den, num / den, "")


def _n(v: Number) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _cell_zh(key: str) -> str:
    """表三“（七）总计”“总计”: where a user finds the cell."""
    kl = KEY_LABELS[KEYS.index(key)]
    return f"表{spec.TABLE_OF_KEY[key].number}“{kl.row_label}”“{kl.col_label}”"


def unit_key(e: Entry) -> tuple[str, str]:
    """Who a report is of, across years: its registry id, else its name within its parent (names are not keys)."""
    return ("id", e.unit_id) if e.unit_id else (e.parent, "".join(e.unit.split()))


def indicators(entries: Iterable[Entry], *, min_count: int = MIN_COUNT) -> list[dict[str, Any]]:
    """One row per report × indicator (:data:`INDICATOR_COLUMNS`): the rate (None with ``note`` saying why),
    last year's rate of the same unit (:func:`unit_key`, year − 1) and the change (rate − prior rate, both
    fractions; None unless both are known)."""
    items = list(entries)
    if min_count < 1:
        raise ValueError("min_count must be at least 1")
    mine_all = [[rate(ind, e.values, min_count=min_count) for ind in INDICATORS] for e in items]
    by_year = {(unit_key(e), e.year): mine for e, mine in zip(items, mine_all, strict=True)}
    out: list[dict[str, Any]] = []
    for e, mine in zip(items, mine_all, strict=True):
        prior = by_year.get((unit_key(e), e.year - 1)) if e.year is not None else None
        unit = dict(zip(UNIT_COLUMNS, unit_fields(e), strict=True))
        for i, (ind, r) in enumerate(zip(INDICATORS, mine, strict=True)):
            p = prior[i].rate if prior is not None else None
            change = r.rate - p if r.rate is not None and p is not None else None
            out.append({**unit, "indicator": ind.name, "label": ind.label, "numerator": r.numerator,
                        "denominator": r.denominator, "rate": r.rate, "note": r.note, "prior_rate": p,
                        "change": change})
    return out
