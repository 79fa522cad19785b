"""The validator: one check function per rule of the catalogue (:mod:`xl_addin.catalogue`).

A check yields findings by catalogue code (``S2.literal``); what a finding says and how serious it is come from
the catalogue entry alone. The arithmetic rules are the catalogue's :class:`~xl_addin.catalogue.Instance`
objects, evaluated here and compiled to Excel formulas by :mod:`xl_addin.live`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache, cached_property, lru_cache
from typing import Any

from . import catalogue, derive, expr, fingerprint, live, narrative, profiles, quotes, spec, structure
from .catalogue import CATALOGUE, YUAN_MAX_DECIMALS, Instance, instances
from .model import IMPORT_PROPS_KEY, CellValue, Finding, ReportData, Structure
from .similarity import X3_REPEATED_PERCENT, repeated_share

#: ReportData.props key of the report's scope, "本级" or "汇总", when the roster (or the caller) knows it
SCOPE_PROPS_KEY = "report_scope"
SCOPES = spec.SCOPES

# ---- the validator --------------------------------------------------------------------------------------------

class Context:
    def __init__(self, data: ReportData, profile: profiles.Profile | None = None, *,
                 scope: str | None = None) -> None:
        """``profile``: the rule profile (None: the national catalogue). ``scope``: the report's scope
        ("本级"/"汇总") when the caller knows it (the roster's 报告范围); else ``data.props[SCOPE_PROPS_KEY]``,
        else what the import or the text says (:func:`report_scope`)."""
        self.data = data
        #: the rule profile checked against (xl_addin.profiles; the national catalogue by default)
        self.profile = profiles.NATIONAL if profile is None else profile
        #: derived key -> whether its formula is intact (derive.intact_formulas), shared by the checks
        self.intact = derive.intact_formulas(data)
        self.values = derive.effective_values(data, self.intact)
        prior = derive.prior_values(data)
        #: what the importer found, for a published report (None for a workbook)
        self.imported = import_info(data)
        #: table keys of tables and rows the importer could not read (contract U): no rule compares against them
        self.unread_entries = unread_entries(self.imported)
        self.unread = unread_keys(self.unread_entries)
        for key in self.unread:
            self.values[key] = None
        #: table keys a published report wrote 0 as "—", "/", "无" or blank (the importer's "zero-as" notes): read as
        #: 0 by every rule, and said once per table (V3.zero), not once per cell (V1, V3)
        self.zero_as = {k: w for k, w in _zero_as(self).items() if k not in self.unread}
        for key in self.zero_as:
            if self.values.get(key) is None:
                self.values[key] = 0
        self.numbers: dict[str, int | float | None] = dict(self.values)
        self.numbers.update({spec.prior_key(k): v for k, v in prior.items()})
        self._scope = scope

    @cached_property
    def scope(self) -> tuple[str, str]:
        """(the report's scope "本级"/"汇总"/"" unknown, how it is known, in Chinese)."""
        return report_scope(self.data, self.imported, self._scope)

    def number(self, key: str) -> int | float | None:
        return self.numbers.get(key)

    def threshold(self, name: str, default: profiles.Value) -> profiles.Value:
        """The profile's value of threshold ``name`` (declared in profiles.THRESHOLDS), else ``default``: the
        rule's national constant."""
        return self.profile.threshold(name, default)

    def finding(self, code: str, key: str | None = None, *, cell: str | None = None, sheet: str | None = None,
                labels: tuple[str, ...] | None = None, check: str | None = None, **values: Any) -> Finding:
        """A finding of catalogue entry ``code`` at the cell of ``key`` (or at ``sheet``/``cell``)."""
        r = catalogue.entry(code)
        if key is not None:
            where = self.data.location(key)
            sheet = sheet if sheet is not None else where.sheet
            cell = cell if cell is not None else where.a1
            if labels is None:
                labels = spec.labels_of(key) if not key.startswith("prior.") else ()
        message = r.message.format(**{"sheet": sheet or "", **values})
        if check is None:
            check = catalogue.check_id(code, key or "")
        by = self.profile.name if self.profile.asks_for(code) else ""
        return Finding(r.rule, self.profile.severity(code), sheet or "", cell or "", labels or (), values,
                       message + profiles.attribution(self.profile) if by else message, key or "", check, code, by)

    def nationally(self, check: Check) -> set[tuple[str, str]]:
        """(check id, message) of each finding ``check`` raises under the national settings: a finding of a profile
        not among them (raised only under the profile, or saying the profile's deadline) is the profile's."""
        mine = self.profile
        self.profile = profiles.NATIONAL
        try:
            return {(f.check, f.message) for f in check(self)}
        finally:
            self.profile = mine

    def owned(self, f: Finding) -> Finding:
        """``f`` as the profile's: its name on it and at the end of the message."""
        if f.profile:
            return f
        return dataclasses.replace(f, message=f.message + profiles.attribution(self.profile), profile=self.profile.name)


Check = Callable[[Context], Iterable[Finding]]
#: rule id -> the check that raises its findings (of any of its catalogue entries)
CHECKS: dict[str, Check] = {}


#: local requirement id (catalogue.LOCAL) -> its check: run only when a rule profile switches it on
LOCAL_CHECKS: dict[str, Check] = {}


def check(rule_id: str, *, local: bool = False) -> Callable[[Check], Check]:
    def deco(fn: Check) -> Check:
        (LOCAL_CHECKS if local else CHECKS)[rule_id] = fn
        return fn
    return deco


#: how much of a cell's content a message quotes
SHOW_CHARS = 40


def _show(v: CellValue) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    text = "" if v is None else str(v)
    return text if len(text) <= SHOW_CHARS else f"{text[:SHOW_CHARS]}……（共 {len(text)} 字）"


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
        if key in missing or key in ctx.unread:
            continue
        is_formula = key in formulas
        if is_formula or effective.get(key) is None:  # the effective value: derive.count_value(v) of an input
            cell = spec.DATA_CELLS[key]
            v = ctx.data.get(key)
            shown = formulas[key] if is_formula else _show(v)
            yield ctx.finding("V1", key, row=cell.row_label, col=cell.col_label, value=shown,
                              hint=_count_hint(v, is_formula))


#: the one money cell of the tables (表二 行政事业性收费 本年收费金额)
_FEE = next(k for k in spec.INPUT_KEYS if spec.DATA_CELLS[k].kind is spec.Kind.MONEY)


@check("V2")
def _v2(ctx: Context) -> Iterator[Finding]:
    if _FEE not in ctx.data.missing:
        yield from _v2_value(ctx)
    yield from _v2_units(ctx)


def _v2_value(ctx: Context) -> Iterator[Finding]:
    if _FEE in ctx.unread:
        return
    v = ctx.data.get(_FEE)
    is_formula = _FEE in ctx.data.formulas
    if is_formula or derive.money_value(v) is None:
        hint = "请直接填写数字，不要输入公式。" if is_formula else "没有收费的请填0。"
        yield ctx.finding("V2", _FEE, value=ctx.data.formulas.get(_FEE, _show(v)), hint=hint)
    elif isinstance(v, int | float) and v >= _yuan_threshold(ctx) and not _more_decimals_than_yuan(ctx, v):
        yield ctx.finding("V2.yuan", _FEE, value=_show(v))


def _yuan_threshold(ctx: Context) -> float:
    """V2.yuan's bar: :data:`YUAN_THRESHOLD` for a workbook (its in-sheet formula decides the same); for a published
    report, or a report whose scope the caller gives, the bar of its scope and level
    (:func:`catalogue.yuan_threshold`; a profile may set ``V2.yuan.max_wan``)."""
    if ctx.imported is None and ctx._scope is None and SCOPE_PROPS_KEY not in ctx.data.props:
        return live.settings_of(ctx.profile).yuan  # the profile's bar, else YUAN_THRESHOLD: as the sheet's formula
    bar = ctx.threshold("V2.yuan.max_wan", profiles.YUAN_BY_SCOPE)
    if isinstance(bar, int | float) and bar > 0:
        return bar
    return catalogue.yuan_threshold(ctx.scope[0], ctx.data.text("meta.level"))


def _more_decimals_than_yuan(ctx: Context, v: int | float) -> bool:
    """A published fee with more decimals than 元 has (角, 分) is in 万元 (宿迁市 59237.2449)."""
    return ctx.imported is not None and round(v, YUAN_MAX_DECIMALS) != v


#: the first input key of the template row each input cell is in (a row's V3 check is named after it)
_ROW_OF: dict[str, str] = {k: keys[0] for keys in spec.input_rows() for k in keys}


@check("V3")
def _v3(ctx: Context) -> Iterator[Finding]:
    missing, formulas, values = ctx.data.missing, ctx.data.formulas, ctx.data.values
    # a published report: cells its own (older) layout does not have are not blank (S3 names the layout), and its
    # printed totals can be blank too (a workbook's are formulas)
    absent = set((ctx.imported or {}).get("absent", [])) | ctx.unread | set(ctx.zero_as)
    blank = [k for k in spec.INPUT_KEYS
             if k not in missing and k not in formulas and k not in absent and values.get(k) is None]
    yield from _blank_rows(ctx, blank, lambda first: catalogue.check_id("V3", _ROW_OF[first]))
    if ctx.imported is not None:
        totals = [k for k in spec.DERIVED_KEYS if k not in missing and k not in absent and values.get(k) is None]
        yield from _blank_rows(ctx, totals, lambda first: f"V3:{first}")
    yield from _v3_zero(ctx)


def _zero_as(ctx: Context) -> dict[str, str]:
    """Table key -> how a published report wrote its 0 ("—", "/", "无", "" blank): the importer's "zero-as" notes."""
    out: dict[str, str] = {}
    for n in (ctx.imported or {}).get("notes", []):
        if isinstance(n, dict) and n.get("kind") == "zero-as" and n.get("key") in spec.DATA_CELLS:
            out[str(n["key"])] = str(n.get("source") or "").strip()
    return out


def _v3_zero(ctx: Context) -> Iterator[Finding]:
    """One finding per table whose cells wrote 0 as a sign or left it blank (not one per cell)."""
    by_table: dict[str, list[tuple[str, str]]] = {}
    for key, source in ctx.zero_as.items():
        by_table.setdefault(spec.TABLE_OF_KEY[key].id, []).append((key, source))
    for table in spec.TABLES:
        cells = by_table.get(table.id)
        if not cells:
            continue
        cells.sort(key=lambda c: spec.ALL_KEYS.index(c[0]))
        ways: dict[str, int] = {}
        for _, source in cells:
            ways[source] = ways.get(source, 0) + 1
        written = {w: "留空" if not w else f"写作“{w}”" for w in ways}
        how = "、".join(f"{written[w]}（{n} 个）" for w, n in ways.items()) if len(ways) > 1 else written[cells[0][1]]
        rows = list(dict.fromkeys(spec.DATA_CELLS[k].row_label or spec.DATA_CELLS[k].col_label for k, _ in cells))
        shown = "、".join(f"“{r}”" for r in rows[:3]) + (f"等 {len(rows)} 行" if len(rows) > 3 else "")
        yield ctx.finding("V3.zero", cells[0][0], check=f"V3:{table.id}:zero", labels=(f"表{table.number}", ""),
                          table=table.number, n=len(cells), how=how, rows=shown)


def _blank_rows(ctx: Context, keys: Iterable[str], check_of: Callable[[str], str]) -> Iterator[Finding]:
    """One V3 finding per sheet row of blank cells ``keys``; ``check_of(first key of the row)``: its check id."""
    rows: dict[tuple[str, int], list[str]] = {}
    for key in keys:
        where = ctx.data.location(key)
        rows.setdefault((where.sheet, where.row), []).append(key)
    for row_keys in rows.values():
        cells = [ctx.data.location(k).a1 for k in row_keys]
        # every group with blank cells is named (a 表四 row has three: 行政复议 and two of 行政诉讼)
        groups = "、".join(live.blank_groups(row_keys))
        rng = cells[0] if len(cells) == 1 else f"{cells[0]}:{cells[-1]}"
        yield ctx.finding("V3", row_keys[0], cell=rng, labels=(groups, ""), check=check_of(row_keys[0]),
                          row=groups, n=len(cells),
                          cells="、".join(cells) if len(cells) <= 4 else f"{cells[0]} 至 {cells[-1]}")


#: the largest count that is plausible in tables 三 and 四 for a body of each level (applications and cases a
#: year); table 二 (licences, penalties) runs a hundred times larger (宿迁市: 1,808,595 行政许可)
PLAUSIBLE = dict(zip(spec.LEVELS, (10_000_000, 1_000_000, 100_000, 10_000), strict=True))  # 省级 … 乡级
T2_FACTOR = 100


@check("V5")
def _v5(ctx: Context) -> Iterator[Finding]:
    level = ctx.data.text("meta.level")
    base = PLAUSIBLE.get(level, max(PLAUSIBLE.values()))
    for key in _count_inputs():
        n = ctx.values.get(key)
        bound = base * (T2_FACTOR if key.startswith("t2.") else 1)
        if n is not None and n > bound:
            cell = spec.DATA_CELLS[key]
            yield ctx.finding("V5", key, row=cell.row_label, col=cell.col_label, value=_show(n),
                              level=level or spec.LEVELS[0], bound=f"{bound:,}")


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
    recomputed: dict[str, int | float | None] | None = None
    for key in T1_FIELDS:
        if key in ctx.data.missing:
            continue
        text = ctx.data.text(key)
        for q in quotes.quotes(text, ctx.data.year):
            if any(k in ctx.unread for keys in q.topic.readings for k in keys):
                continue  # a table or row never read is not compared with (P2 says it could not be read)
            # any reading that matches is right, of the totals as printed or as the rows add up
            if recomputed is None:
                recomputed = {**ctx.values, **derive.compute_totals({k: ctx.values.get(k) for k in spec.INPUT_KEYS})}
            sums = [_sum_of(vals, keys) for vals in (ctx.values, recomputed) for keys in q.topic.readings]
            if sums[0] is None or q.value in sums:
                continue
            actual = sums[len(q.topic.readings)]  # the rows' sum: a blank printed total is no 0
            values: dict[str, Any] = dict(field=spec.FIELDS_BY_KEY[key].label, quote=q.sentence or q.text,
                                          topic=q.topic.label, said=q.value, where=_where(q.topic.keys),
                                          actual=sums[0] if actual is None else actual)
            yield _t1_finding(ctx, key, q, text, values)


def _t1_finding(ctx: Context, key: str, q: quotes.Quote, text: str, values: dict[str, Any]) -> Finding:
    """T1 for a figure that differs, by whom the sentence and the table count for: an error when both speak for
    the same scope (or a report of one scope only); a warning when they speak for different scopes (T1.scope) or
    when the sentence's scope cannot be told in a report that may count for two (T1.unsure)."""
    check = f"T1:{key}:{q.topic.id}"
    said_scope, words = quotes.scope_of(text, q.start)
    scope, how = ctx.scope
    region = _region_word(ctx)
    if scope and said_scope and said_scope != scope:
        said = f"本机关（“{words}”）" if said_scope == quotes.BENJI else words  # "全县", as the sentence says
        table = f"全{region}" if scope == quotes.HUIZONG else "本机关"
        fix = (f"汇总报告应写明全{region}的数字，请改写或补充全{region}的数字。" if scope == quotes.HUIZONG
               else "本级报告的文字应写本机关自身的数字，请核对。")
        return ctx.finding("T1.scope", key, check=check, said_scope=said, table_scope=table, scope_how=how,
                           fix=fix, **values)
    if not said_scope and scope == quotes.HUIZONG:
        unsure = f"本报告为汇总报告（{how}），表格统计全{region}，而这句话未写明说的是本机关还是全{region}，"
        return ctx.finding("T1.unsure", key, check=check, unsure=unsure, region=region, **values)
    if not scope and said_scope == quotes.BENJI and _may_be_huizong(ctx):
        unsure = (f"这句话说的是本机关（“{words}”），而本报告是本级还是全{region}汇总无从得知"
                  f"（{how or '名册未注明报告范围，正文也未说明'}），")
        return ctx.finding("T1.unsure", key, check=check, unsure=unsure, region=region, **values)
    return ctx.finding("T1", key, check=check, **values)


def _may_be_huizong(ctx: Context) -> bool:
    """Whether a report of unknown scope may count a whole region: a 人民政府's, or one whose kind is unknown."""
    kind = ctx.data.text("meta.kind")
    return kind in ("", spec.KIND_GOVERNMENT) or ctx.data.agency.endswith("人民政府")


#: the region word of each level ("全县", "全市", …) for messages; "县（市、区）" when the level is unknown
_REGION_OF_LEVEL = dict(zip(spec.LEVELS, ("省", "市", "县（市、区）", "乡（镇）"), strict=True))


def _region_word(ctx: Context) -> str:
    """"区" for 洪泽区人民政府, "市" for a report that says "全市…"; else by the level."""
    place = ctx.data.agency.removesuffix("人民政府")
    if place != ctx.data.agency and place[-1:] in "省市县区州旗盟镇乡":
        return place[-1]
    for _, scope, words in quotes.scope_markers(_narrative(ctx.data)):
        if scope == quotes.HUIZONG:
            return words[1:]
    return _REGION_OF_LEVEL.get(ctx.data.text("meta.level"), "县（市、区）")


def _narrative(data: ReportData) -> str:
    return "\n".join(data.text(k) for k in T1_FIELDS if k not in data.missing)


def report_scope(data: ReportData, imported: Mapping[str, Any] | None, given: str | None = None) -> tuple[str, str]:
    """(the report's scope "本级"/"汇总", or "" when it cannot be told; how it is known, in Chinese for messages).

    In order: ``given`` (the caller: the roster's 报告范围), ``data.props[SCOPE_PROPS_KEY]``, the import's "scope";
    a 政府部门's report is 本级; else the text: a report (of a 人民政府, or of a kind not stated) whose narrative gives
    a count for the whole region ("全区受理政府信息公开申请21件") is 汇总. A sentence about the 本级 office does not make
    a report 本级 (汇总 reports have them too), so a 人民政府's report without such a count is of unknown scope."""
    for value, how in ((given, "调用方给定的报告范围"), (data.props.get(SCOPE_PROPS_KEY), "名册“报告范围”"),
                       ((imported or {}).get("scope"), "导入时识别的报告范围")):
        if value in SCOPES:
            return str(value), f"{how}为{value}"
    kind = data.text("meta.kind")
    if kind and kind != spec.KIND_GOVERNMENT:
        return quotes.BENJI, f"机关类别为{kind}，按本级报告"
    for key in T1_FIELDS:
        text = "" if key in data.missing else data.text(key)
        for q in quotes.quotes(text, data.year):
            scope, words = quotes.scope_of(text, q.start)
            if scope == quotes.HUIZONG:  # a count said for the whole region; a 本级 one proves nothing (the issue's
                return scope, f"按正文“{words}”的数字推断为汇总报告"  # 县政府办 sentence in a 汇总 report)
    return "", ""


def _sum_of(values: Mapping[str, int | float | None], keys: tuple[str, ...]) -> int | float | None:
    parts = [values.get(k) for k in keys]
    return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)


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


def as_published(ctx: Context, key: str) -> bool:
    """Whether the cell of ``key`` holds what a published report printed: every cell of a report read by the
    importer; in a workbook the import wrote, the cells it lists as still holding what it wrote ("kept",
    :func:`xl_addin.importers.record.evidence`), not one a clerk has changed since."""
    if ctx.imported is None:
        return False
    kept = ctx.imported.get("kept")
    return kept is None or (isinstance(kept, list) and key in kept)


@check("T9")
def _t9(ctx: Context) -> Iterator[Finding]:
    """A 正文 cell with numbering pasted from a finished report: at its start, or a paragraph inside it numbered
    like the report's own headings ("（三）……"); one finding per cell, at the first (narrative.numbered_paragraphs)."""
    for f in spec.NARRATIVE_FIELDS:
        # a published report keeps its own headings; only the template's cells count
        if f.key in ctx.data.missing or as_published(ctx, f.key):
            continue
        found = narrative.numbered_paragraphs(ctx.data.text(f.key))
        if found:
            n, prefix = found[0]
            yield ctx.finding("T9", f.key, field=f.label, prefix=prefix, where="的内容" if n == 1 else f"第{n}段")


@check("S2")
def _s2(ctx: Context) -> Iterator[Finding]:
    yield from _s2_inputs(ctx)
    yield from _s2_totals(ctx)
    yield from _s2_drift(ctx)
    yield from _s2_profile(ctx)
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
    yield from _s2_hidden(ctx, st)
    yield from _s2_live(ctx, st)
    yield from _s2_validations(ctx, st)
    if st.unnamed:
        names = sorted(spec.defined_name(k) for k in st.unnamed)
        yield ctx.finding("S2.names", sheet="", cell="", n=len(names), detail=_few("", names).strip())


def _built_under(ctx: Context) -> tuple[str, str] | None:
    """(name, digest) of the rule profile a workbook of the template was built under (one without a record: the
    national rules); None for anything else (a published report)."""
    props = ctx.data.props
    if ctx.imported is not None or props.get("template_id") != spec.TEMPLATE_ID:
        return None
    if not props.get("profile_digest"):
        return profiles.NATIONAL.name, profiles.NATIONAL.digest()
    return props.get("profile_name") or "?", props["profile_digest"]


def _s2_profile(ctx: Context) -> Iterator[Finding]:
    """A template built under another rule profile than the check's (or under one, checked nationally, or the
    national template checked under one): its in-sheet counts may differ from the check's, so it is said. The
    workbook never chooses the profile of the check (it could only weaken it)."""
    built = _built_under(ctx)
    if built is not None and built[1] != ctx.profile.digest():
        yield ctx.finding("S2.profile", sheet="", cell="", built=_show(built[0]), current=ctx.profile.name)


def live_settings(ctx: Context) -> live.Settings:
    """The settings the workbook's live formulas are compiled under: the check's profile's when the workbook records
    that profile (so weakened formulas are S2.live), else those it records (a template of another profile: verified
    against what it says it is, S2.profile saying it differs), else the national ones."""
    built = _built_under(ctx)
    if built is not None and built[1] == ctx.profile.digest():
        return live.settings_of(ctx.profile)
    raw = ctx.data.props.get("profile_live")
    if raw:
        try:
            got = live.Settings.from_json(json.loads(raw))
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth (a forged record)
            got = None
        return got if got is not None else live.NATIONAL
    return live.NATIONAL


def _s2_live(ctx: Context, st: Structure) -> Iterator[Finding]:
    """The formulas that show the checks' results (status lines, 校验汇总), compared with what the catalogue
    compiles -- only for a workbook of this build (another build's formulas differ; S2.fingerprint says so)."""
    s = live_settings(ctx)
    if st.fingerprint != fingerprint.fingerprint(s) or not st.live:
        return
    compiled, expected = live.formula_cells(s), _live_formulas(s)
    # a template built under a profile has fewer check rows: the national ones past them hold nothing
    changed = [f"{sheet}!{a1}" for (sheet, a1), found in st.live.items()
               if found != compiled.get((sheet, a1), "")
               and expr.normalise_formula(found) != expected.get((sheet, a1), "")]
    if changed:
        yield ctx.finding("S2.live", sheet=changed[0].split("!")[0], cell=changed[0].split("!")[1],
                          detail=_few("", changed).strip())


def _live_formulas(s: live.Settings = live.NATIONAL) -> dict[tuple[str, str], str]:
    return _live_formulas_of(s)  # one cache entry however it is called (checking._warm calls it bare)


@lru_cache(maxsize=live.SETTINGS_CACHE)
def _live_formulas_of(s: live.Settings) -> dict[tuple[str, str], str]:
    return {at: expr.normalise_formula(f) for at, f in live.formula_cells(s).items()}


def _s2_validations(ctx: Context, st: Structure) -> Iterator[Finding]:
    """Every input cell keeps the data validation the template puts on it."""
    if not st.validations:
        return
    by_sheet: dict[str, list[str]] = {}
    for (sheet, a1), kind in structure.expected_validations(st.layout_version).items():
        if sheet in st.validations and st.validations[sheet].get(a1) != kind:
            by_sheet.setdefault(sheet, []).append(a1)
    for sheet, cells in by_sheet.items():
        yield ctx.finding("S2.validation", sheet=sheet, cell=cells[0], detail=_few(f"{sheet}", cells).strip())


def _s2_hidden(ctx: Context, st: Structure) -> Iterator[Finding]:
    """The hidden sheet: there, and still naming this template and format (it carries last year's figures)."""
    if spec.HIDDEN_SHEET not in st.sheets:
        yield ctx.finding("S2.hidden", sheet=spec.HIDDEN_SHEET, cell="", detail="缺失")
        return
    props = ctx.data.props
    wrong = [f"{key} 应为“{want}”，现为“{_show(props.get(key, ''))}”" for key, want in
             (("template_id", spec.TEMPLATE_ID), ("format_version", spec.FORMAT_VERSION)) if props.get(key) != want]
    # an unknown layout is then known by the workbook's names (spec); a newer build's is no damage
    if spec.stated_layout_version(props) is None and not spec.newer_layout_stated(props):
        known = "或".join(f"“{v}”" for v in spec.LAYOUT_VERSIONS)
        wrong.append(f"layout_version 应为{known}，现为“{_show(props.get('layout_version', ''))}”")
    if wrong:
        yield ctx.finding("S2.hidden", sheet=spec.HIDDEN_SHEET, cell="", detail="被改动（" + "；".join(wrong) + "）")


#: every cell a clerk fills: the tables' inputs, 基本信息 and 正文
_FILLED_KEYS = (*spec.INPUT_KEYS, *spec.FIELDS_BY_KEY)


def _s2_inputs(ctx: Context) -> Iterator[Finding]:
    """A formula in a cell a clerk fills (``=WEBSERVICE(...)`` sends the workbook's data out when it is opened;
    a formula can also show what the file does not hold): never part of a report."""
    data = ctx.data
    for key in _FILLED_KEYS:
        formula = data.formulas.get(key)
        if formula is not None and key not in data.missing:
            labels = spec.labels_of(key)
            yield ctx.finding("S2.input", key, label=" ".join(x for x in labels if x), at=data.location(key).a1,
                              formula=_show(formula))


def _s2_totals(ctx: Context) -> Iterator[Finding]:
    """Derived totals: their formula changed, or overwritten by a value (readable from any reader). A published
    report prints its totals as numbers: that is no overwritten formula (A1/A2/A4 check them)."""
    data = ctx.data
    for key in spec.DERIVED_KEYS:
        if key in data.missing or as_published(ctx, key):
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
    for (sheet, a1), text, norm in _labels(st.layout_version):
        if (sheet, a1) not in st.labels:
            continue
        actual = st.labels[(sheet, a1)]
        if actual != text and structure.normalise_label(actual) != norm:
            yield ctx.finding("S2.label", sheet=sheet, cell=a1, expected=text, actual=_show(actual))


def _s2_merges(ctx: Context, st: Structure) -> Iterator[Finding]:
    for sheet, merges in structure.expected(st.layout_version).merges.items():
        if sheet not in st.merges:
            continue
        lost, extra = sorted(merges - st.merges[sheet]), sorted(st.merges[sheet] - merges)
        if lost or extra:
            detail = "；".join(p for p in (_few("缺少", lost), _few("多出", extra)) if p)
            yield ctx.finding("S2.merge", sheet=sheet, cell=(lost or extra)[0], detail=detail)


def _s2_locks(ctx: Context, st: Structure) -> Iterator[Finding]:
    for sheet, cells in structure.expected(st.layout_version).unlocked.items():
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
    fp = fingerprint.fingerprint(live_settings(ctx))
    if st.fingerprint and st.fingerprint != fp:
        yield ctx.finding("S2.fingerprint", sheet="", cell="", actual=st.fingerprint, expected=fp)


@cache
def _labels(version: int) -> tuple[tuple[tuple[str, str], str, str], ...]:
    """((sheet, A1), text, text as S2 compares it) of every label the template of layout ``version`` writes."""
    return tuple((at, text, structure.normalise_label(text))
                 for at, text in structure.expected(version).labels.items())


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


def deadline(year: int, kind: str, profile: profiles.Profile | None = None) -> dt.date | None:
    """The publication deadline of a report for ``year``: 1月31日, or 3月31日 for a 人民政府's own report, or the
    earlier one a rule ``profile`` sets; None for a year outside the template's range (S4 reports that year; 99999
    has no 1月31日 after it)."""
    if not spec.YEAR_MIN <= year <= spec.YEAR_MAX:
        return None
    government = kind == spec.KIND_GOVERNMENT
    own = profile.deadline("government" if government else "department") if profile is not None else None
    if own is not None:
        return dt.date(year + 1, *own)
    return dt.date(year + 1, 3, 31) if government else dt.date(year + 1, 1, 31)


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
    limit = deadline(year, kind, ctx.profile)
    if limit is not None and date > limit:
        who = f"{spec.KIND_GOVERNMENT}本级" if kind == spec.KIND_GOVERNMENT else "政府部门"
        yield ctx.finding("P1", "meta.report_date", date=f"{date.year}年{date.month}月{date.day}日",
                          deadline=f"{limit.year}年{limit.month}月{limit.day}日", who=who,
                          deadline_md=f"{limit.month}月{limit.day}日")


def validate(data: ReportData, rules: Iterable[str] | None = None, *, context: Context | None = None) -> list[Finding]:
    """Every finding of every rule (or of the rule ids ``rules``) on one report. ``context``: a :class:`Context`
    of ``data`` the caller made already (its effective values are then computed once); its rule profile decides
    which rules run (national ones switched off, local ones switched on), and a finding of a rule the profile
    tunes (a threshold, a deadline) that the national settings would not have raised as it is, is the profile's."""
    ctx = context if context is not None and context.data is data else Context(data)
    profile = ctx.profile
    out: list[Finding] = []
    for rule_id in rules or profile.rule_ids():
        fn = CHECKS[rule_id] if rule_id in CHECKS else LOCAL_CHECKS[rule_id]
        found = list(fn(ctx))
        if found and profile.tunes(rule_id):  # what the national settings would not have raised is the profile's
            national = ctx.nationally(fn)
            found = [f if (f.check, f.message) in national else ctx.owned(f) for f in found]
        out.extend(found)
    return out


# ---- published reports ------------------------------------------------------------------------------------------
# Rules that matter for published reports (read by :mod:`xl_addin.importers`): S1 sections, S3 old or hybrid
# format, X3 year-on-year 雷同, T7 the year the text gives itself, T8 an internal contradiction, A7 a number
# perhaps split in extraction; and the import's own findings of existing rules (S2.drift, V2.unit, V3 blank
# printed totals). The importer leaves what it found in ``ReportData.props["import"]`` (JSON: headings, format
# markers, notes); a workbook has no such entry, so S1, S3, T7's opening part and A7 are silent on workbooks.

def import_info(data: ReportData) -> dict[str, Any] | None:
    """What the importer found in a published report (None for a workbook)."""
    raw = data.props.get(IMPORT_PROPS_KEY)
    if not raw:
        return None
    try:
        info = json.loads(raw)
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def unread_entries(info: Mapping[str, Any] | None) -> tuple[dict[str, Any], ...]:
    """The importer's "unread" entries (contract U) that name a table of the format: {"table", "what", "keys",
    "why", "where"}, each key a table key of that table (an entry of another shape is dropped, never trusted)."""
    out = []
    for u in (info or {}).get("unread") or ():
        if not isinstance(u, dict) or u.get("what") not in ("table", "row"):
            continue
        table = next((t for t in spec.TABLES if t.id == u.get("table")), None)
        if table is None:
            continue
        keys = u.get("keys")
        mine = tuple(k for k in keys if isinstance(k, str) and k in table.by_key) if isinstance(keys, list) else ()
        if u["what"] == "table":
            mine = tuple(table.by_key)
        if mine:
            out.append({"table": table.id, "what": u["what"], "keys": mine, "why": str(u.get("why") or ""),
                        "where": str(u.get("where") or "")})
    return tuple(out)


def unread_keys(entries: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Every table key the entries of :func:`unread_entries` leave unread."""
    return frozenset(k for u in entries for k in u["keys"])


@check("P2")
def _p2(ctx: Context) -> Iterator[Finding]:
    """One finding per table or row the importer could not read: where it looked and why; none of its cells is
    compared by any rule (the Context blanks them)."""
    for u in ctx.unread_entries:
        table = next(t for t in spec.TABLES if t.id == u["table"])
        why = u["why"].rstrip("。") or "未找到与官方表格对应的内容"
        where = u["where"].rstrip("。") or "全文"
        first = u["keys"][0]
        if u["what"] == "table":
            yield ctx.finding("P2", first, check=f"P2:{table.id}", labels=(f"表{table.number}", ""),
                              table=table.number, title=table.title, why=why, where=where)
        else:
            row = spec.DATA_CELLS[first].row_label
            yield ctx.finding("P2.row", first, check=f"P2:{first}", labels=(row, ""), table=table.number,
                              row=row, why=why, where=where)


_TITLES = {s.number: s.title for s in spec.SECTIONS}
_ORDER = tuple(s.number for s in spec.SECTIONS)


@check("S1")
def _s1(ctx: Context) -> Iterator[Finding]:
    info = ctx.imported
    if info is None:
        return
    headings = [tuple(h) for h in info.get("headings", [])]
    found: dict[str, list[tuple[str, ...]]] = {}
    for h in headings:
        found.setdefault(h[0], []).append(h)
    for number in _ORDER:
        title = _TITLES[number]
        if number not in found:
            yield ctx.finding("S1", sheet=spec.NARRATIVE_SHEET, cell="", check=f"S1:{number}:missing", number=number, title=title,
                              problem="缺失", hint="六个部分缺一不可，请补上这一部分。")
        elif len(found[number]) > 1:
            where = "、".join(f"“{h[2]}”" for h in found[number])
            yield ctx.finding("S1", sheet=spec.NARRATIVE_SHEET, cell="", check=f"S1:{number}:twice", number=number, title=title,
                              problem=f"出现了 {len(found[number])} 次（{where}）", hint="请删去重复的部分。")
    seq = [h[0] for h in headings if found[h[0]][0] == h]
    for a, b in itertools.pairwise(seq):
        if _ORDER.index(b) < _ORDER.index(a):
            yield ctx.finding("S1", sheet=spec.NARRATIVE_SHEET, cell="", check=f"S1:{b}:order", number=b, title=_TITLES[b],
                              problem=f"排在第{a}部分之后", hint="请按官方顺序排列六个部分。")
    for number, hs in found.items():
        section, written, text = hs[0][0], hs[0][1], hs[0][2]
        title = _TITLES[section]
        if written != section:  # another number, or none
            yield ctx.finding("S1.numbered", sheet=spec.NARRATIVE_SHEET, cell="",
                              check=f"S1:{number}:numbered", number=number, title=title, text=text)
        elif _squash(text).split("、", 1)[-1] != _squash(title):
            yield ctx.finding("S1.variant", sheet=spec.NARRATIVE_SHEET, cell="",
                              check=f"S1:{number}:variant", number=number, title=title, text=text)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s).replace("(", "（").replace(")", "）").replace(",", "、")


@check("S3")
def _s3(ctx: Context) -> Iterator[Finding]:
    info = ctx.imported
    if info is None or info.get("format") in (None, "2021"):
        return
    markers = "、".join(f"“{m}”" if "表三" not in m else m for m in info.get("markers", []))
    hybrid = info["format"] != "2019"
    yield ctx.finding("S3.hybrid" if hybrid else "S3", sheet="表三" if hybrid else "表二", cell="", markers=markers)


# ---- X3 -----------------------------------------------------------------------------------------------------

#: a section shorter than this (characters, spaces dropped) is not compared: short mandatory sentences repeat
X3_MIN_LENGTH = 60


def _shingles(s: str, n: int = 4) -> set[str]:
    s = re.sub(r"\s+", "", s)
    return {s[i:i + n] for i in range(max(len(s) - n + 1, 0))}


def similarity(a: str, b: str) -> float:
    """Share of 4-character pieces the two texts have in common (Dice), 0..1."""
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return 0.0
    return 2 * len(sa & sb) / (len(sa) + len(sb))


@check("X3")
def _x3(ctx: Context) -> Iterator[Finding]:
    """More than the bar (profile threshold X3.repeated_percent; similarity.X3_REPEATED_PERCENT) of a section's
    own text, boilerplate out, repeats last year's same section (similarity.repeated_share)."""
    bar = ctx.threshold("X3.repeated_percent", X3_REPEATED_PERCENT)
    assert isinstance(bar, int | float)
    for number in narrative.PRIOR_SECTIONS:
        last = ctx.data.prior.get(narrative.prior_text_key(number))
        if not isinstance(last, str):
            continue
        this = narrative.section_text(ctx.data, number)
        length = len(re.sub(r"\s+", "", this))
        if length < X3_MIN_LENGTH or len(re.sub(r"\s+", "", last)) < X3_MIN_LENGTH:
            continue
        share = repeated_share(this, last)
        if share * 100 > bar:
            fields = spec.narrative_fields(number)  # anchored at the section's first cell the workbook has
            key = next((f.key for f in fields if f.key not in ctx.data.missing), fields[0].key)
            yield ctx.finding("X3", key, check=f"X3:{number}", number=number, title=_TITLES[number],
                              percent=_percent(share, bar), length=length)


def _percent(share: float, bar: float) -> int | str:
    """``share`` in percent as a message says it: whole, or to one decimal where whole would not exceed ``bar``."""
    whole = round(share * 100)
    return whole if whole > bar else f"{share * 100:.1f}"


# ---- L1, L2: local requirements a profile switches on (catalogue.LOCAL) -----------------------------------------

@check("L1", local=True)
def _l1(ctx: Context) -> Iterator[Finding]:
    limit = ctx.threshold("L1.max_chars", profiles.L1_MAX_CHARS)
    assert isinstance(limit, int | float)
    length = len(re.sub(r"\s+", "", narrative.section_text(ctx.data, "一")))
    if length > limit:
        key = next((f.key for f in spec.narrative_fields("一") if f.key not in ctx.data.missing), None)
        yield ctx.finding("L1", key, sheet=None if key else spec.NARRATIVE_SHEET, cell=None if key else "",
                          check="L1", length=length, limit=limit)


@check("L2", local=True)
def _l2(ctx: Context) -> Iterator[Finding]:
    keys = ctx.threshold("L2.keys", profiles.L2_KEYS)
    assert isinstance(keys, tuple)
    text = re.sub(r"\s+", "", narrative.section_text(ctx.data, "一")).translate(_DIGITS)
    for key in keys:
        value = ctx.values.get(key)
        if value is None:
            continue
        shown = _show(value)
        if re.search(rf"(?<![0-9.]){re.escape(shown)}(?:件|条|个|项|次|份|起|万元)", text):
            continue
        anchor = next((f.key for f in spec.narrative_fields("一") if f.key not in ctx.data.missing), None)
        yield ctx.finding("L2", anchor, sheet=None if anchor else spec.NARRATIVE_SHEET, cell=None if anchor else "",
                          check=f"L2:{key}", label=_label(key), value=shown)


def _label(key: str) -> str:
    row, col = spec.labels_of(key)
    return f"{row}（{col}）" if col else row


# ---- T7, T8 ---------------------------------------------------------------------------------------------------

_PERIOD = re.compile(r"(20\d\d)\s*年\s*1\s*月\s*1\s*日\s*(?:至|到|起至|—|-|－)\s*(?:(20\d\d)\s*年\s*)?12\s*月\s*31\s*日")
_OPENING = re.compile(r"^\s*(?:[（(][一二三四五][）)][^。]{0,20}?[。．]?)?\s*(20\d\d)\s*年(?:度|以来)?\s*[，,]")
_THIS_YEAR = re.compile(r"(?:本年度|今年|本年)[（(]\s*(20\d\d)\s*年?\s*[)）]")


@check("T7")
def _t7(ctx: Context) -> Iterator[Finding]:
    year = ctx.data.year
    if year is None:
        return
    intro = str((ctx.imported or {}).get("intro") or "")
    parts: list[tuple[str | None, str, str]] = [(None, "报告开头", intro)] if intro else []
    parts += [(f.key, f"第一部分“{f.label}”", ctx.data.text(f.key)) for f in spec.narrative_fields("一")]
    for key, where, text in parts:
        if not text:
            continue
        hits: list[tuple[int, str]] = []
        for m in _PERIOD.finditer(text):
            hits += [(int(y), m.group(0)) for y in m.groups() if y]
        for para in text.split("\n"):
            m2 = _OPENING.match(para)
            if m2:
                hits.append((int(m2.group(1)), para[: m2.end()]))
        hits += [(int(m.group(1)), m.group(0)) for m in _THIS_YEAR.finditer(text)]
        for said, quote in hits:
            if said != year:
                yield ctx.finding("T7", key, sheet=None if key else spec.NARRATIVE_SHEET, cell=None if key else "",
                                  check=f"T7:{key or 'intro'}", where=where, said=said, quote=quote.strip(), year=year)
                break


_ALL_DONE = re.compile(r"(?:所有|全部|均已|均|已全部|全部均)[^，。；]{0,8}(?:申请)?[^，。；]{0,4}(?:办结|办理完毕|答复完毕)"
                       r"|无结转(?:至|到)?下一?年度?")


@check("T8")
def _t8(ctx: Context) -> Iterator[Finding]:
    carried = ctx.values.get("t3.carried_out.total")
    if not carried:
        return
    for f in spec.NARRATIVE_FIELDS:
        if f.key == "s5.last_year_fixes":
            continue
        text = ctx.data.text(f.key)
        for m in _ALL_DONE.finditer(text):
            lo = max(text.rfind(c, 0, m.start()) for c in "。；\n") + 1
            hi = min([i for i in (text.find(c, m.end()) for c in "。；\n") if i >= 0] or [len(text)])
            sentence = text[lo:hi + 1].strip()
            if re.search(r"上年|去年|20\d\d年", sentence) and str(ctx.data.year or "") not in sentence:
                continue
            if "依申请" not in sentence and "申请" not in sentence and "结转" not in sentence:
                continue
            yield ctx.finding("T8", f.key, check=f"T8:{f.key}", field=f.label, quote=sentence, carried=carried)
            return


# ---- the import's own findings ----------------------------------------------------------------------------------

@check("A7")
def _a7(ctx: Context) -> Iterator[Finding]:
    info = ctx.imported
    for n in (info or {}).get("notes", []):
        if n.get("kind") == "split":
            key = n.get("key") or None
            yield ctx.finding("A7", key if key in spec.DATA_CELLS else None, check=f"A7:{key}",
                              message=n["message"] + _at(n))


def _at(n: dict[str, Any]) -> str:
    return f"（原文位置：{n['where']}）" if n.get("where") else ""


def _s2_drift(ctx: Context) -> Iterator[Finding]:
    """A published report's table labels that differ from the official ones (the importer's notes)."""
    for n in (ctx.imported or {}).get("notes", []):
        if n.get("kind") == "label" and n.get("detail"):
            key = n.get("key") or None
            yield ctx.finding("S2.drift", key if key in spec.DATA_CELLS else None,
                              check=f"S2:label:{key}", expected=n["detail"].get("expected", ""),
                              actual=n["detail"].get("actual", ""))


def _v2_units(ctx: Context) -> Iterator[Finding]:
    """A published report's fee written in 元 (the importer's notes)."""
    for n in (ctx.imported or {}).get("notes", []):
        if n.get("kind") == "unit" and not n.get("key"):
            value = n.get("detail", {}).get("value", "")
            row = n.get("detail", {}).get("row", "")
            yield ctx.finding("V2.unit", _FEE, check="V2:import:unit",
                              value=f"表二“{row}”写作“{value}”")


