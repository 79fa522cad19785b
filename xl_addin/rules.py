"""The validator: one check function per rule of the catalogue (:mod:`xl_addin.catalogue`).

A check yields findings by catalogue code (``S2.literal``); what a finding says and how serious it is come from
the catalogue entry alone. The arithmetic rules are the catalogue's :class:`~xl_addin.catalogue.Instance`
objects, evaluated here and compiled to Excel formulas by :mod:`xl_addin.live`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

from . import catalogue, derive, fingerprint, narrative, quotes, spec, structure
from .catalogue import CATALOGUE, YUAN_THRESHOLD, Instance, instances
from .model import CellValue, Finding, ReportData, Structure

# ---- the validator --------------------------------------------------------------------------------------------

class Context:
    def __init__(self, data: ReportData) -> None:
        self.data = data
        #: derived key -> whether its formula is intact (derive.intact_formulas), shared by the checks
        self.intact = derive.intact_formulas(data)
        self.values = derive.effective_values(data, self.intact)
        prior = derive.prior_values(data)
        self.numbers: dict[str, int | float | None] = dict(self.values)
        self.numbers.update({spec.prior_key(k): v for k, v in prior.items()})

    def number(self, key: str) -> int | float | None:
        return self.numbers.get(key)

    def finding(self, code: str, key: str | None = None, *, cell: str | None = None, sheet: str | None = None,
                labels: tuple[str, ...] | None = None, check: str | None = None, **values: Any) -> Finding:
        """A finding of catalogue entry ``code`` at the cell of ``key`` (or at ``sheet``/``cell``)."""
        r = CATALOGUE[code]
        if key is not None:
            where = self.data.location(key)
            sheet = sheet if sheet is not None else where.sheet
            cell = cell if cell is not None else where.a1
            if labels is None:
                labels = spec.labels_of(key) if not key.startswith("prior.") else ()
        message = r.message.format(**{"sheet": sheet or "", **values})
        if check is None:
            check = catalogue.check_id(code, key or "")
        return Finding(r.rule, r.severity, sheet or "", cell or "", labels or (), values, message,
                       key or "", check, code)


Check = Callable[[Context], Iterable[Finding]]
#: rule id -> the check that raises its findings (of any of its catalogue entries)
CHECKS: dict[str, Check] = {}


def check(rule_id: str) -> Callable[[Check], Check]:
    def deco(fn: Check) -> Check:
        CHECKS[rule_id] = fn
        return fn
    return deco


def _show(v: CellValue) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v)


def _count_hint(v: CellValue, is_formula: bool) -> str:
    if is_formula:
        return "请直接填写数字，不要在填报单元格中输入公式。"
    if isinstance(v, str):
        s = v.strip()
        if s in ("/", "／", "-", "—", "无", "－"):
            return "没有的请填0，不要填“/”“无”等符号。"
        if s.translate(_DIGITS).isdigit():
            return "单元格中是文本格式的数字，请删除后重新输入数字。"
        return "请删除文字，只填写数字；没有的填0。"
    if isinstance(v, bool):
        return "请填写数字。"
    if isinstance(v, int | float) and v < 0:
        return "件数不能为负数。"
    if isinstance(v, int | float):
        return "件数不能有小数，请填写整数。"
    return "请填写数字。"


_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789", " ,，")


@cache
def _count_inputs() -> tuple[str, ...]:
    return tuple(k for k in spec.INPUT_KEYS if spec.DATA_CELLS[k].kind is spec.Kind.COUNT)


@check("V1")
def _v1(ctx: Context) -> Iterator[Finding]:
    missing, formulas, effective = ctx.data.missing, ctx.data.formulas, ctx.values
    for key in _count_inputs():
        if key in missing:
            continue
        is_formula = key in formulas
        if is_formula or effective.get(key) is None:  # the effective value: derive.count_value(v) of an input
            cell = spec.DATA_CELLS[key]
            v = ctx.data.get(key)
            shown = formulas[key] if is_formula else _show(v)
            yield ctx.finding("V1", key, row=cell.row_label, col=cell.col_label, value=shown,
                              hint=_count_hint(v, is_formula))


@check("V2")
def _v2(ctx: Context) -> Iterator[Finding]:
    key = "t2.fees.amount"
    if key in ctx.data.missing:
        return
    v = ctx.data.get(key)
    is_formula = key in ctx.data.formulas
    if is_formula or derive.money_value(v) is None:
        hint = "请直接填写数字，不要输入公式。" if is_formula else "没有收费的请填0。"
        yield ctx.finding("V2", key, value=ctx.data.formulas.get(key, _show(v)), hint=hint)
    elif isinstance(v, int | float) and v >= YUAN_THRESHOLD:
        yield ctx.finding("V2.yuan", key, value=_show(v))


#: the first input key of the template row each input cell is in (a row's V3 check is named after it)
_ROW_OF: dict[str, str] = {k: keys[0] for keys in spec.input_rows() for k in keys}


@check("V3")
def _v3(ctx: Context) -> Iterator[Finding]:
    rows: dict[tuple[str, int], list[str]] = {}
    missing, formulas, values = ctx.data.missing, ctx.data.formulas, ctx.data.values
    for key in spec.INPUT_KEYS:
        if key in missing or key in formulas or values.get(key) is not None:
            continue
        where = ctx.data.location(key)
        rows.setdefault((where.sheet, where.row), []).append(key)
    for keys in rows.values():
        cells = [ctx.data.location(k).a1 for k in keys]
        first = spec.DATA_CELLS[keys[0]]
        rng = cells[0] if len(cells) == 1 else f"{cells[0]}:{cells[-1]}"
        yield ctx.finding("V3", keys[0], cell=rng, labels=(first.row_label, ""), check=catalogue.check_id(
                          "V3", _ROW_OF[keys[0]]), row=first.row_label or first.col_label, n=len(cells),
                          cells="、".join(cells) if len(cells) <= 4 else f"{cells[0]} 至 {cells[-1]}")


@check("V4")
def _v4(ctx: Context) -> Iterator[Finding]:
    level = ctx.data.text("meta.level")
    if level not in spec.LEVELS_WITHOUT_RULES:
        return
    for col_key, col_label in spec.T2_DOC_COLS:
        key = f"t2.rules.{col_key}"
        n = ctx.values.get(key)
        if n:
            yield ctx.finding("V4", key, level=level, col=col_label, value=n)


@cache
def _instances_of(code: str) -> tuple[Instance, ...]:
    return tuple(inst for inst in instances() if inst.code == code)


def _arith(code: str) -> Check:
    def run(ctx: Context) -> Iterator[Finding]:
        number = ctx.numbers.get  # ctx.number, without a call of ours per term
        for inst in _instances_of(code):
            res = inst.cmp.eval(number)
            if res is None or res[0]:
                continue
            _, lhs, rhs = res
            values: dict[str, Any] = {**inst.values, "lhs": lhs, "rhs": rhs, "diff": abs(lhs - rhs)}
            yield ctx.finding(code, inst.anchor, labels=inst.labels, check=inst.id, **values)
    run.__name__ = f"_{code.lower()}"
    return run


for _code in dict.fromkeys(inst.code for inst in instances()):
    CHECKS[CATALOGUE[_code].rule] = _arith(_code)


@check("A5")
def _a5(ctx: Context) -> Iterator[Finding]:
    new, carried = ctx.values.get("t3.new.total"), ctx.values.get("t3.carried_out.total")
    if new is not None and carried is not None and carried >= 3 and carried * 4 > new:
        yield ctx.finding("A5", "t3.carried_out.total", new=new, carried=carried)


#: the narrative fields T1 reads (上年度问题整改情况 quotes last year's figures)
T1_FIELDS = tuple(f.key for f in spec.NARRATIVE_FIELDS if f.key != "s5.last_year_fixes")


def _where(keys: tuple[str, ...]) -> str:
    names = [" ".join(p for p in spec.labels_of(k) if p) for k in keys]
    table = spec.TABLE_OF_KEY[keys[0]].number
    return f"表{table}" + "与".join(f"“{n}”" for n in names) + ("之和" if len(keys) > 1 else "")


@check("T1")
def _t1(ctx: Context) -> Iterator[Finding]:
    for key in T1_FIELDS:
        if key in ctx.data.missing:
            continue
        for q in quotes.quotes(ctx.data.text(key), ctx.data.year):
            parts = [ctx.values.get(k) for k in q.topic.keys]
            if any(p is None for p in parts):
                continue
            actual = sum(p for p in parts if p is not None)
            if q.value != actual:
                yield ctx.finding("T1", key, check=f"T1:{key}:{q.topic.id}", field=spec.FIELDS_BY_KEY[key].label,
                                  quote=q.text, topic=q.topic.label, said=q.value, actual=actual,
                                  where=_where(q.topic.keys))


@check("T2")
def _t2(ctx: Context) -> Iterator[Finding]:
    if not narrative.reports_fee(ctx.data):
        yield ctx.finding("T2", "s6.fees")


@check("T3")
def _t3(ctx: Context) -> Iterator[Finding]:
    for key, topic in narrative.missing_section6_topics(ctx.data):
        yield ctx.finding("T3", key, topic=topic)


@check("T4")
def _t4(ctx: Context) -> Iterator[Finding]:
    if ctx.data.text("meta.kind") != spec.KIND_GOVERNMENT:
        return
    missing = narrative.missing_government_items(ctx.data)
    if missing:
        yield ctx.finding("T4", "s1.supervision", missing="、".join(missing))


@check("T5")
def _t5(ctx: Context) -> Iterator[Finding]:
    for key, topic in narrative.missing_section1_topics(ctx.data):
        yield ctx.finding("T5", key, topic=topic)


@check("T6")
def _t6(ctx: Context) -> Iterator[Finding]:
    state = narrative.section5_state(ctx.data)
    if state == "empty":
        yield ctx.finding("T6", "s5.problems")
    elif isinstance(state, tuple):
        key, label = state
        yield ctx.finding("T6.part", key, missing=label)


#: a paragraph that starts with its own numbering, as pasted from a finished report: （二） / 二、 / (2) / 2.
_NUMBERED = re.compile(r"^\s*((?:[（(][一二三四五六七八九十\d]{1,3}[）)])|(?:[一二三四五六七八九十]{1,3}[、．.])"
                       r"|(?:\d{1,2}[、．.](?!\d)))")


@check("T9")
def _t7(ctx: Context) -> Iterator[Finding]:
    for f in spec.NARRATIVE_FIELDS:
        if f.key in ctx.data.missing:
            continue
        m = _NUMBERED.match(ctx.data.text(f.key))
        if m:
            yield ctx.finding("T9", f.key, field=f.label, prefix=m.group(1))


@check("S2")
def _s2(ctx: Context) -> Iterator[Finding]:
    yield from _s2_totals(ctx)
    st = ctx.data.structure
    if st is None:  # a reader that sees values only (the add-in's payload)
        return
    yield from _s2_sheets(ctx, st)
    yield from _s2_labels(ctx, st)
    yield from _s2_merges(ctx, st)
    yield from _s2_locks(ctx, st)
    yield from _s2_protection(ctx, st)
    for sheet, refs in st.outside.items():
        yield ctx.finding("S2.outside", sheet=sheet, cell=refs[0], detail=_few("", list(refs)).strip())


def _s2_totals(ctx: Context) -> Iterator[Finding]:
    """Derived totals: their formula changed, or overwritten by a value (readable from any reader)."""
    data = ctx.data
    for key in spec.DERIVED_KEYS:
        if key in data.missing:
            continue
        if key in data.formulas:
            if not ctx.intact[key]:  # expr.formula_is_intact, computed once per report
                yield ctx.finding("S2.formula", key, actual=data.formulas[key])
        else:
            yield ctx.finding("S2.literal", key, actual=_show(data.get(key)))


def _s2_sheets(ctx: Context, st: Structure) -> Iterator[Finding]:
    present = set(st.sheets)
    for sheet in structure.OWNED_SHEETS:
        if sheet in present:
            continue
        renamed = {ctx.data.location(k).sheet for k in spec.ALL_KEYS if spec.LAYOUT.locations[k].sheet == sheet
                   and k not in ctx.data.missing} - {sheet}
        if renamed:
            yield ctx.finding("S2.renamed", sheet=next(iter(renamed)), cell="", expected=sheet)
        else:
            yield ctx.finding("S2.sheet", sheet=sheet, cell="")


def _s2_labels(ctx: Context, st: Structure) -> Iterator[Finding]:
    for (sheet, a1), text, norm in _labels():
        if (sheet, a1) not in st.labels:
            continue
        actual = st.labels[(sheet, a1)]
        if actual != text and structure.normalise_label(actual) != norm:
            yield ctx.finding("S2.label", sheet=sheet, cell=a1, expected=text, actual=_show(actual))


def _s2_merges(ctx: Context, st: Structure) -> Iterator[Finding]:
    for sheet, merges in structure.expected().merges.items():
        if sheet not in st.merges:
            continue
        lost, extra = sorted(merges - st.merges[sheet]), sorted(st.merges[sheet] - merges)
        if lost or extra:
            detail = "；".join(p for p in (_few("缺少", lost), _few("多出", extra)) if p)
            yield ctx.finding("S2.merge", sheet=sheet, cell=(lost or extra)[0], detail=detail)


def _s2_locks(ctx: Context, st: Structure) -> Iterator[Finding]:
    for sheet, cells in structure.expected().unlocked.items():
        if sheet not in st.unlocked:
            continue
        locked, opened = sorted(cells - st.unlocked[sheet]), sorted(st.unlocked[sheet] - cells)
        if locked or opened:
            detail = "；".join(p for p in (_few("填报单元格被锁定", locked), _few("表格单元格被解锁", opened)) if p)
            yield ctx.finding("S2.unlocked", sheet=sheet, cell=(locked or opened)[0], detail=detail)


def _s2_protection(ctx: Context, st: Structure) -> Iterator[Finding]:
    unprotected = [s for s in structure.OWNED_SHEETS if s in st.sheet_protected and not st.sheet_protected[s]]
    if unprotected or not st.structure_locked:
        parts = (["工作表 " + "、".join(unprotected)] if unprotected else []) + \
                ([] if st.structure_locked else ["工作簿结构"])
        yield ctx.finding("S2.protection", sheet="", cell="", detail="；".join(parts))
    fp = fingerprint.fingerprint()
    if st.fingerprint and st.fingerprint != fp:
        yield ctx.finding("S2.fingerprint", sheet="", cell="", actual=st.fingerprint, expected=fp)


@cache
def _labels() -> tuple[tuple[tuple[str, str], str, str], ...]:
    """((sheet, A1), text, text as S2 compares it) of every label the template writes."""
    return tuple((at, text, structure.normalise_label(text)) for at, text in structure.expected().labels.items())


def _few(prefix: str, items: list[str]) -> str:
    if not items:
        return ""
    shown = "、".join(items[:6]) + (f" 等 {len(items)} 处" if len(items) > 6 else "")
    return f"{prefix} {shown}"


@check("S4")
def _s4(ctx: Context) -> Iterator[Finding]:
    d = ctx.data
    hints = {"meta.agency": "报告标题和落款需要机关全称。", "meta.year": "报告标题和统计期需要4位年份，如2023。",
             "meta.kind": "请从下拉列表选择。", "meta.level": "请从下拉列表选择。"}
    for key, hint in hints.items():
        if key in d.missing:
            continue
        raw = d.get(key)
        f = spec.FIELDS_BY_KEY[key]
        ok = {"meta.agency": bool(d.agency), "meta.year": d.year is not None and spec.YEAR_MIN <= d.year <= spec.YEAR_MAX,
              "meta.kind": d.text(key) in spec.AGENCY_KINDS, "meta.level": d.text(key) in spec.LEVELS}[key]
        if not ok:
            yield ctx.finding("S4", key, field=f.label, value=_show(raw), hint=hint)


def deadline(year: int, kind: str) -> dt.date:
    """The publication deadline of a report for ``year``: 1月31日, or 3月31日 for a 人民政府's own report."""
    return dt.date(year + 1, 3, 31) if kind == spec.KIND_GOVERNMENT else dt.date(year + 1, 1, 31)


@check("P1")
def _p1(ctx: Context) -> Iterator[Finding]:
    d = ctx.data
    if "meta.report_date" in d.missing:
        return
    date, year = d.report_date, d.year
    if date is None:
        yield ctx.finding("P1.missing", "meta.report_date")
        return
    if year is None:
        return
    kind = d.text("meta.kind")
    limit = deadline(year, kind)
    if date > limit:
        who = f"{spec.KIND_GOVERNMENT}本级" if kind == spec.KIND_GOVERNMENT else "政府部门"
        yield ctx.finding("P1", "meta.report_date", date=f"{date.year}年{date.month}月{date.day}日",
                          deadline=f"{limit.year}年{limit.month}月{limit.day}日", who=who,
                          deadline_md=f"{limit.month}月{limit.day}日")


def validate(data: ReportData, rules: Iterable[str] | None = None, *, context: Context | None = None) -> list[Finding]:
    """Every finding of every rule (or of the rule ids ``rules``) on one report. ``context``: a :class:`Context`
    of ``data`` the caller made already (its effective values are then computed once)."""
    ctx = context if context is not None and context.data is data else Context(data)
    out: list[Finding] = []
    for rule_id in rules or catalogue.rule_ids():
        out.extend(CHECKS[rule_id](ctx))
    return out
