"""The scope-aware roll-up (issue 22): for every 汇总 unit of the registry, the sum of its covered units' tables
二, 三 and 四, and which covered units are in it.

Pure: it works on the roster (:class:`xl_addin.collect.Roster`, with parents and scopes) and one
:class:`UnitReport` per unit (what the coordinator matched to it: a file of the folder, the 汇总 workbook of a
package from below, or nothing), and returns one :class:`UnitRollup` per 汇总 unit, lowest first -- a 汇总 unit that
covers another 汇总 unit of the same roster takes that unit's computed sum. Writing the 汇总 workbook (a real
template, with a coverage sheet) and the package are adapters' (:mod:`xl_addin.adapters.rollup_book`,
:mod:`xl_addin.adapters.package_zip`).

The sum follows the format:

- 规章 (表二 第一行) can only come from 省 and 设区的市 governments (:func:`may_make_rules`): figures another covered
  unit wrote there are left out of the sum, and named (:attr:`UnitRollup.rules_left_out`).
- 现行有效件数 is a stock: the sum of the covered units' stocks only approximates the region's
  (:data:`STOCK_NOTE`, written into the workbook).
- 收费 (万元, 4 decimals) is summed exactly in Decimal (:func:`sum_values`): no float drift however many units.

When a 汇总 unit's own published report comes too, it is compared with the sum; differences are warnings that
state the coverage (:func:`compare`), never errors: a child that did not publish, or vertical units in or out,
explain them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from . import drafts, spec
from .collect import (
    RULE_KEYS,
    TABLE_KEYS,
    Agency,
    FileResult,
    Number,
    Roster,
    TrackerRow,
    Verdict,
    exact_sums,
    name_key,
)

_INDEX: Final = {k: i for i, k in enumerate(TABLE_KEYS)}

STOCK_NOTE: Final = ("表二“现行有效件数”是存量：本表为各纳入单位现行有效件数之和，只是近似值——同一文件由几个单位共同制发、"
                     "或由上级统一清理的，未能剔除。")
RULES_NOTE: Final = "表二“规章”只计省级、设区的市级人民政府（及其汇总）的数字；其他单位填报的规章数未计入。"
MONEY_NOTE: Final = "收费金额（万元）按十进制精确相加，不四舍五入。"


# ---- the states of a covered unit ------------------------------------------------------------------------------

IN, LATE, MISSING, REJECTED = "已纳入", "逾期（已纳入）", "未报送", "未通过（未纳入）"
#: every state, in the order the coverage sheet counts them
STATES: Final = (IN, LATE, MISSING, REJECTED)
#: each state as JSON names it
STATE_CODES: Final = {IN: "in", LATE: "late", MISSING: "missing", REJECTED: "rejected"}


@dataclass(frozen=True)
class UnitReport:
    """What a unit brought: its state and, when it is in the sum, its figures (TABLE_KEYS order)."""

    state: str
    values: tuple[Number | None, ...] = ()
    prior: tuple[Number | None, ...] = ()
    note: str = ""
    #: the file it was read from ("" none); for a package's 汇总 workbook "<package>:<member>"
    source: str = ""

    @property
    def included(self) -> bool:
        return self.state in (IN, LATE)


def report_of(row: TrackerRow | None, file: FileResult | None, *, source: str = "") -> UnitReport:
    """A unit's report as the tracker saw it: passing files are in (late ones too, said so), failing ones are not
    accepted, no file is missing."""
    if row is None or file is None or row.verdict is Verdict.MISSING:
        return UnitReport(MISSING, note=row.note if row is not None else "")
    if row.verdict is not Verdict.PASS:
        return UnitReport(REJECTED, note=f"校验不通过：{row.errors} 个错误", source=source or file.path)
    state = LATE if row.late else IN
    note = f"晚于截止日期 {row.deadline.isoformat()}" if row.late and row.deadline else ""
    return UnitReport(state, file.values, file.prior, note, source or file.path)


@dataclass(frozen=True)
class Covered:
    """One covered unit on the coverage sheet."""

    unit_id: str
    name: str
    kind: str
    level: str
    scope: str
    state: str
    note: str = ""
    source: str = ""

    @property
    def included(self) -> bool:
        return self.state in (IN, LATE)

    def to_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "name": self.name, "kind": self.kind, "level": self.level,
                "scope": self.scope, "state": STATE_CODES[self.state], "state_zh": self.state, "note": self.note,
                "source": self.source}


@dataclass(frozen=True)
class UnitRollup:
    """One 汇总 unit's roll-up."""

    unit: Agency
    #: TABLE_KEYS -> the sum over the included covered units
    values: Mapping[str, Number]
    #: last year's figures summed (spec.PRIOR_KEYS); {} unless every included unit had them
    prior: Mapping[str, Number]
    coverage: tuple[Covered, ...]
    year: int | None = None
    #: covered units whose non-zero 规章 figures were not counted
    rules_left_out: tuple[str, ...] = ()
    #: the comparison with the unit's own published 汇总 report (warnings, Chinese)
    warnings: tuple[str, ...] = field(default=())
    #: the published 汇总 report compared ("" none)
    published: str = ""
    #: how many input cells of the published report differ from the sum
    differences: int = 0

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(x.state for x in self.coverage)
        return {s: c[s] for s in STATES}

    @property
    def included(self) -> tuple[Covered, ...]:
        return tuple(x for x in self.coverage if x.included)

    def coverage_zh(self) -> str:
        """"汇总范围 12 个单位：已纳入 10 个（其中逾期 1 个），未报送 1 个，未通过 1 个。"""
        c = self.counts
        text = f"汇总范围 {len(self.coverage)} 个单位：已纳入 {c[IN] + c[LATE]} 个"
        text += f"（其中逾期 {c[LATE]} 个）" if c[LATE] else ""
        text += f"，未报送 {c[MISSING]} 个" if c[MISSING] else ""
        text += f"，未通过 {c[REJECTED]} 个" if c[REJECTED] else ""
        return text + "。"

    def to_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit.unit_id, "name": self.unit.name, "parent": self.unit.parent,
                "level": self.unit.level, "year": self.year, "coverage": [x.to_dict() for x in self.coverage],
                "counts": {STATE_CODES[s]: n for s, n in self.counts.items()}, "values": dict(self.values),
                "rules_left_out": list(self.rules_left_out),
                "warnings": list(self.warnings), "published": self.published}


# ---- the sum ----------------------------------------------------------------------------------------------------

def may_make_rules(kind: str, level: str) -> bool:
    """Whether a unit's 规章 figures count: a people's government (or its 汇总) above the county."""
    return kind == spec.KIND_GOVERNMENT and level not in spec.LEVELS_WITHOUT_RULES


def sum_values(parts: Iterable[tuple[Sequence[Number | None], bool]]) -> dict[str, Number]:
    """TABLE_KEYS -> the exact sum over ``parts`` ((figures in TABLE_KEYS order, whether its 规章 count)):
    :func:`xl_addin.collect.exact_sums`, the one summer of the flat and the levelled roll-up."""
    return exact_sums(parts)


def _prior_sum(parts: Sequence[Sequence[Number | None]]) -> dict[str, Number]:
    if not parts:
        return {}
    out: dict[str, Number] = dict.fromkeys(spec.PRIOR_KEYS, 0)
    for p in parts:
        if len(p) != len(spec.PRIOR_KEYS) or any(v is None for v in p):
            return {}
        for k, v in zip(spec.PRIOR_KEYS, p, strict=True):
            out[k] += v or 0
    return out


def roll_up(roster: Roster, reports: Mapping[str, UnitReport], *, year: int | None = None,
            published: Mapping[str, FileResult] | None = None) -> tuple[UnitRollup, ...]:
    """Every 汇总 unit of ``roster`` that covers units of it, lowest first. ``reports``: unit_id -> what that unit
    brought (a unit absent is missing); ``published``: unit_id -> the 汇总 unit's own published report, compared
    with the sum."""
    done: dict[str, UnitRollup] = {}
    for unit in roster.summaries():
        coverage: list[Covered] = []
        parts: list[tuple[Sequence[Number | None], bool]] = []
        priors: list[Sequence[Number | None]] = []
        left_out: list[str] = []
        for c in roster.covered(unit.unit_id):
            sub = done.get(c.unit_id)
            if sub is not None:  # computed in this run, from its own covered units
                rep = UnitReport(IN, tuple(sub.values[k] for k in TABLE_KEYS),
                                 tuple(sub.prior.get(k) for k in spec.PRIOR_KEYS) if sub.prior else (),
                                 f"本次汇总：{sub.coverage_zh()}", "本次汇总")
            else:
                rep = reports.get(c.unit_id, UnitReport(MISSING))
            coverage.append(Covered(c.unit_id, c.name, c.kind, c.level, c.scope, rep.state, rep.note, rep.source))
            if not rep.included:
                continue
            rules_count = may_make_rules(c.kind, c.level)
            if not rules_count and any(rep.values[_INDEX[k]] for k in RULE_KEYS if _INDEX[k] < len(rep.values)):
                left_out.append(c.name)
            parts.append((rep.values, rules_count))
            priors.append(rep.prior)
        sums = sum_values(parts)
        r = UnitRollup(unit, sums, _prior_sum(priors), tuple(coverage), year, tuple(left_out))
        pub = (published or {}).get(unit.unit_id)
        if pub is not None and pub.readable:
            diffs = differing(r, pub)
            r = UnitRollup(unit, sums, r.prior, r.coverage, year, r.rules_left_out, tuple(compare(r, diffs)),
                           pub.path, len(diffs))
        done[unit.unit_id] = r
    return tuple(done.values())


#: at most this many differing cells are listed one by one
MAX_LISTED = 30


def differing(r: UnitRollup, published: FileResult) -> list[tuple[str, Number, Number]]:
    """(key, the sum, the published figure) of every input cell where they differ."""
    diffs = []
    for k, theirs in zip(TABLE_KEYS, published.values, strict=False):
        if spec.DATA_CELLS[k].derived:
            continue
        ours = r.values.get(k, 0)
        if theirs is None or _same(ours, theirs):
            continue
        diffs.append((k, ours, theirs))
    return diffs


def compare(r: UnitRollup, diffs: Sequence[tuple[str, Number, Number]]) -> list[str]:
    """Warnings (Chinese) on ``diffs`` (:func:`differing`), the coverage stated first: who is missing or not
    accepted explains a difference; so do vertical units the published report counted or left out."""
    if not diffs:
        return []
    out = [f"本单位发布的汇总报告与汇总范围内各单位报表之和有 {len(diffs)} 处不同（提示，不是错误）。{r.coverage_zh()}"]
    absent = [x.name for x in r.coverage if not x.included]
    if absent:
        out.append("未纳入本次合计的单位：" + "、".join(absent[:20]) + ("等" if len(absent) > 20 else "")
                   + "；发布的汇总报告若计入了它们（或计入了名单外的垂直管理单位），数字会不同。")
    for k, ours, theirs in diffs[:MAX_LISTED]:
        c = spec.DATA_CELLS[k]
        out.append(f"表{_table_no(k)}“{c.row_label}”“{c.col_label}”：各单位之和为 {_show(ours)}，"
                   f"发布的汇总报告为 {_show(theirs)}。")
    if len(diffs) > MAX_LISTED:
        out.append(f"……另有 {len(diffs) - MAX_LISTED} 处不同。")
    return out


def _same(a: Number, b: Number) -> bool:
    return Decimal(repr(a)) == Decimal(repr(b)) if isinstance(a, float) or isinstance(b, float) else a == b


def _show(v: Number) -> str:
    return str(int(v)) if float(v).is_integer() else format(Decimal(repr(v)).normalize(), "f")


def _table_no(key: str) -> str:
    return {"t2": "二", "t3": "三", "t4": "四"}[key.split(".")[0]]


# ---- the 汇总 workbook's values ----------------------------------------------------------------------------------

def workbook_values(r: UnitRollup) -> dict[str, Any]:
    """The input cells of the 汇总 workbook: the unit's facts, the table sums and a narrative that starts from the
    drafts (依申请公开 from the tables) and from the coverage (what is missing is the first problem); every other
    part is a prompt for the unit to complete."""
    u = r.unit
    values: dict[str, Any] = {k: v for k, v in r.values.items() if k in _INPUTS}
    values.update({"meta.agency": u.name, "meta.year": r.year, "meta.kind": u.kind, "meta.level": u.level})
    on_request = drafts.render(drafts.ON_REQUEST, lambda k: r.values.get(k))
    c = r.counts
    absent = c[MISSING] + c[REJECTED]
    values["s1.overview"] = (f"本报告为{u.name}{u.scope}报告，由各单位年度报告汇总而成。{r.coverage_zh()}"
                             f"{STOCK_NOTE}")
    if on_request:
        values["s1.on_request"] = on_request
    if u.kind == spec.KIND_GOVERNMENT:
        values["s1.supervision"] = ("（汇总初稿，请补充）本年度工作考核、社会评议和责任追究结果情况："
                                    "请根据本级掌握的情况填写。")
    late = f"其中逾期报送 {c[LATE]} 个。" if c[LATE] else ""
    values["s5.problems"] = (f"汇总范围内有 {c[MISSING]} 个单位未报送、{c[REJECTED]} 个单位的报告未通过校验，"
                             "未能纳入本次汇总。" if absent else "汇总范围内各单位均已报送并通过校验。") + late + \
        "（汇总初稿，其他问题请补充。）"
    values["s5.measures"] = ("督促未报送、未通过校验的单位限期报送、修改后补充汇总。" if absent else
                             "继续按时组织各单位编制、报送年度报告。") + "（汇总初稿，请补充。）"
    values["s6.fees"] = "信息处理费收取情况见各单位年度报告（汇总初稿，请补充）。"
    return values


_INPUTS: Final = frozenset(spec.INPUT_KEYS)


def unit_key(a: Agency) -> str:
    """How a package's unit is matched on the roster above: its name key (ids differ between rosters)."""
    return name_key(a.name)
