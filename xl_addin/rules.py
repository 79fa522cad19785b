"""The rule catalogue (IDs and severities of shared/FORMAT.md) and the validator.

Each rule is a few lines of data -- id, group, severity, title, Chinese message templates, basis -- and one
check function that yields findings. Arithmetic rules are generated as :class:`Instance` objects whose
:class:`~xl_addin.expr.Compare` is evaluated here and compiled to an Excel formula for the live checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from . import derive, narrative, quotes, spec, structure
from .expr import Compare, Lin
from .model import CellValue, Finding, ReportData, Severity

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Rule:
    id: str
    group: str  # 数值 / 表内 / 跨年 / 文表 / 结构 / 发布
    severity: Severity
    title: str
    basis: str
    #: message templates by variant ("" is the default), str.format-ed with the finding's values
    templates: Mapping[str, str]
    #: decidable by an in-sheet formula (live checks)
    live: bool = False
    needs_last_year: bool = False


CATALOGUE: dict[str, Rule] = {}


def _rule(id: str, group: str, severity: Severity, title: str, basis: str, templates: Mapping[str, str] | str,
          **kw: Any) -> None:
    tpl = {"": templates} if isinstance(templates, str) else dict(templates)
    CATALOGUE[id] = Rule(id, group, severity, title, basis, tpl, **kw)


# ---- the catalogue ----------------------------------------------------------------------------------------------

_rule("V1", "数值", E, "件数应为不小于0的整数", "国办公开办函〔2021〕30号 表格数据单位为件",
      {"": "“{row}”“{col}”应填写不小于0的整数（单位：件），现为“{value}”。{hint}"}, live=True)
_rule("V2", "数值", E, "收费金额应为不小于0、最多4位小数的万元数", "表二 第二十条第（八）项 单位：万元",
      {"": "“行政事业性收费”本年收费金额应为不小于0、最多4位小数的数字（单位：万元），现为“{value}”。{hint}",
       "yuan": "“行政事业性收费”本年收费金额为 {value} 万元，数额偏大，是否误按“元”填写？1元=0.0001万元，"
               "如3500元应填0.35。",
       "unit": "{value}：金额以“元”为单位，表格中的金额应以万元为单位（1元=0.0001万元）。"}, live=True)
_rule("V3", "数值", W, "应填数字的单元格为空", "公布的表格应显示0，不留空白",
      "“{row}”有 {n} 个单元格未填写（{cells}）。空白按0计算，但公布的表格应显示0，没有的请填0。")
_rule("V4", "数值", W, "县级及以下机关的规章数不为0", "只有国务院部门和省级、设区的市级人民政府可以制定规章",
      "本机关层级为“{level}”，无规章制定权，“规章”“{col}”一般应为0，现为 {value}。请核对是否把行政规范性文件误填在规章行。")
_rule("A1", "表内", E, "表三每行总计等于各类申请人之和", "表三 总计列",
      "“{row}”的总计应为自然人与各类法人或其他组织之和 {rhs}，表中为 {lhs}。请核对本行数字，"
      "或点击“计算合计”恢复合计公式。", live=True)
_rule("A2", "表内", E, "表三（七）总计等于（一）至（六）各项之和", "表三 （七）总计行",
      "“{col}”列的（七）总计应为（一）至（六）各项之和 {rhs}，表中为 {lhs}。请核对本列办理结果各项，"
      "或点击“计算合计”恢复合计公式。", live=True)
_rule("A3", "表内", E, "表三勾稽关系：一＋二＝三＋四", "表三 " + spec.T3_NOTE,
      "“{col}”列不符合勾稽关系：一、本年新收＋二、上年结转＝{lhs}，而（七）总计＋四、结转下年度继续办理＝{rhs}，"
      "相差 {diff}。请核对本列的新收、上年结转、各项办理结果和结转下年度数字。", live=True)
_rule("A4", "表内", E, "表四每组总计等于四种结果之和", "表四 总计列",
      "“{col}”应为结果维持、结果纠正、其他结果、尚未审结之和 {rhs}，表中为 {lhs}。请核对本组数字，"
      "或点击“计算合计”恢复合计公式。", live=True)
_rule("A5", "表内", I, "结转下年度的申请偏多", "只有年末收到、尚在法定期限内的申请才结转下年度",
      "四、结转下年度继续办理（{carried} 件）占本年新收（{new} 件）的比例较高（超过四分之一）。"
      "通常只有12月下旬收到的申请才结转，请确认。")
_rule("A6", "表内", W, "本年制发件数不大于现行有效件数与本年废止件数之和", "表二 第二十条第（一）项",
      "“{row}”本年制发件数 {lhs} 大于现行有效件数与本年废止件数之和 {rhs}，请核对。", live=True)
_rule("X1", "跨年", E, "本年上年结转等于上年结转下年度", "表三 二、上年结转政府信息公开申请数量",
      "“{col}”列本年“二、上年结转政府信息公开申请数量”为 {lhs}，上年报告“四、结转下年度继续办理”为 {rhs}，"
      "两者应相等。", live=True, needs_last_year=True)
_rule("X2", "跨年", W, "现行有效件数与上年衔接", "表二 第二十条第（一）项",
      "“{row}”现行有效件数 {lhs} 不等于上年现行有效件数＋本年制发件数－本年废止件数＝{rhs}，请核对。",
      live=True, needs_last_year=True)
_rule("T1", "文表", E, "正文引用的数字与表格一致", "条例第五十条；国办公开办函〔2021〕30号：内容准确",
      "“{field}”中写“{quote}”，即{topic} {said} 件，而{where}为 {actual} 件，两者应一致。请核对文字或表格。")
_rule("T2", "文表", E, "第六部分须报告信息处理费收取情况", "《政府信息公开信息处理费管理办法》；国办公开办函〔2021〕30号",
      "第六部分未报告信息处理费收取情况。请在“信息处理费收取情况”中写明本年收取的情况；"
      "未收取的也应写明，如“本年度未收取信息处理费”。")
_rule("T3", "文表", W, "第六部分应报告工作要点、建议提案办理和创新情况", "国办公开办函〔2021〕30号 六、其他需要报告的事项",
      "第六部分缺少“{topic}”，请补充；没有相关情况的也应写明。")
_rule("T4", "文表", E, "人民政府须报告工作考核、社会评议和责任追究结果", "国办公开办函〔2021〕30号 一、总体情况（监督保障）",
      "本机关为人民政府，第一部分“监督保障”须报告{missing}结果情况，现缺少。请补充。")
_rule("T5", "文表", W, "第一部分应涵盖五个方面", "国办公开办函〔2021〕30号 一、总体情况",
      "第一部分“总体情况”缺少“{topic}”方面的内容，请补充。")
_rule("T6", "文表", E, "第五部分须写明存在的问题和改进措施", "条例第五十条；不宜泛化",
      {"": "第五部分“存在的主要问题及改进情况”为空或只写了“无”，请具体写明存在的问题和改进措施。",
       "part": "第五部分缺少“{missing}”，请补充。"})
_rule("S2", "结构", E, "模板表格未被改动", "国办公开办函〔2021〕30号：表格不得改动",
      {"sheet": "缺少工作表“{sheet}”，请使用原模板重新填报。",
       "renamed": "工作表“{expected}”被改名为“{sheet}”，请改回原名。",
       "label": "表格文字被改动：应为“{expected}”，现为“{actual}”。官方表格不得改动，请改回或使用原模板。",
       "merge": "合并单元格被改动（{detail}），官方表格不得改动，请使用原模板。",
       "formula": "合计单元格的公式被改动，现为“{actual}”。请点击“计算合计”恢复。",
       "literal": "合计单元格的公式被数值覆盖（现为“{actual}”）。请点击“计算合计”恢复合计公式。",
       "unlocked": "单元格锁定状态被改动（{detail}），请使用原模板。",
       "protection": "模板的保护已被取消（{detail}）。用 WPS 或 LibreOffice 另存后常见；请确认表格未被改动。",
       "fingerprint": "模板版本与本工具不一致（文件 {actual}，本工具 {expected}），请使用最新模板。"})
_rule("S4", "结构", W, "基本信息完整（标题须有机关名称和年度）", "报告标题“<机关名称><年>年政府信息公开工作年度报告”",
      "基本信息“{field}”未填写或不正确（现为“{value}”）。{hint}")
_rule("P1", "发布", E, "按时发布", "条例第四十九条：部门于每年1月31日前、人民政府于3月31日前公布上一年度年报",
      {"": "发布日期 {date} 晚于规定期限 {deadline}：{who}应于次年{deadline_md}前公布年度报告。",
       "missing": "未填写发布日期，无法判断是否按时发布。请在“基本信息”填写发布（落款）日期。"})


# ---- arithmetic instances -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Instance:
    """One place an arithmetic rule applies (A3 for column 自然人, ...)."""

    rule: str
    id: str
    cmp: Compare
    anchor: str  # key of the cell the finding points at
    cells: tuple[str, ...]  # keys to mark
    labels: tuple[str, str]
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return CATALOGUE[self.rule].severity


@cache
def instances() -> tuple[Instance, ...]:
    out: list[Instance] = []
    t3 = spec.TABLE_BY_ID["t3"]
    row_keys = list(dict.fromkeys(c.key.split(".")[1] for c in t3.cells))
    col_keys = [k for k, _ in spec.T3_COLS]
    for rk in row_keys:  # A1: every row of 三
        total = f"t3.{rk}.total"
        parts = spec.DATA_CELLS[total].sum_of
        row, _ = spec.labels_of(total)
        out.append(Instance("A1", f"A1:{rk}", Compare(Lin((total,)), "=", Lin(parts)), total, (total,),
                            (row, "总计"), {"row": row}))
    for ck in col_keys:  # A2, A3: every column of 三
        total = f"t3.total.{ck}"
        if ck != "total":
            parts = spec.DATA_CELLS[total].sum_of
        else:  # the grand total: also the sum of the column above it
            parts = tuple(f"t3.{rk}.total" for rk in row_keys[2:-2])
        col = spec.DATA_CELLS[total].col_label
        out.append(Instance("A2", f"A2:{ck}", Compare(Lin((total,)), "=", Lin(parts)), total, (total,),
                            ("（七）总计", col), {"col": col}))
    for ck in col_keys:
        keys = [f"t3.{rk}.{ck}" for rk in ("new", "carried_in", "total", "carried_out")]
        col = spec.DATA_CELLS[keys[0]].col_label
        out.append(Instance("A3", f"A3:{ck}", Compare(Lin(tuple(keys[:2])), "=", Lin(tuple(keys[2:]))),
                            keys[3], tuple(keys), ("", col), {"col": col}))
    for gk, glabels in spec.T4_GROUPS:  # A4
        total = f"t4.{gk}.total"
        col = spec.DATA_CELLS[total].col_label
        out.append(Instance("A4", f"A4:{gk}", Compare(Lin((total,)), "=", Lin(spec.DATA_CELLS[total].sum_of)),
                            total, (total,), ("", col), {"col": " ".join(glabels) + " 总计"}))
    for rk, rlabel, _ in spec.T2_DOC_ROWS:  # A6, X2
        made, rep, inf = (f"t2.{rk}.{c}" for c, _ in spec.T2_DOC_COLS)
        row = spec.DATA_CELLS[made].row_label
        out.append(Instance("A6", f"A6:{rk}", Compare(Lin((made,)), "<=", Lin((inf, rep))), made,
                            (made, rep, inf), (row, "本年制发件数"), {"row": rlabel}))
        out.append(Instance("X2", f"X2:{rk}", Compare(Lin((inf,)), "=", Lin((spec.prior_key(inf), made), (rep,))),
                            inf, (inf,), (row, "现行有效件数"), {"row": rlabel}))
    for ck in col_keys:  # X1
        this, last = f"t3.carried_in.{ck}", spec.prior_key(f"t3.carried_out.{ck}")
        col = spec.DATA_CELLS[this].col_label
        out.append(Instance("X1", f"X1:{ck}", Compare(Lin((this,)), "=", Lin((last,))), this, (this,),
                            ("二、上年结转政府信息公开申请数量", col), {"col": col}))
    return tuple(out)


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

    def finding(self, rule: str, key: str | None = None, *, variant: str = "", severity: Severity | None = None,
                cell: str | None = None, sheet: str | None = None, labels: tuple[str, ...] | None = None,
                check: str | None = None, **values: Any) -> Finding:
        r = CATALOGUE[rule]
        if key is not None:
            where = self.data.location(key)
            sheet = sheet if sheet is not None else where.sheet
            cell = cell if cell is not None else where.a1
            if labels is None:
                labels = spec.labels_of(key) if not key.startswith("prior.") else ()
        message = r.templates[variant].format(**{"sheet": sheet or "", **values})
        if check is None:
            check = f"{rule}:{key}" if key else rule
        return Finding(rule, severity or r.severity, sheet or "", cell or "", labels or (), values, message,
                       key or "", check)


Check = Callable[[Context], Iterable[Finding]]
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
        yield ctx.finding("V2", key, variant="yuan", severity=W, check=f"V2:{key}:yuan", value=_show(v))


#: a fee at or above this many 万元 (1000万元) looks entered in 元
YUAN_THRESHOLD = 1000


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
        yield ctx.finding("V3", keys[0], cell=rng, labels=(first.row_label, ""), row=first.row_label or
                          first.col_label, n=len(cells), cells="、".join(cells) if len(cells) <= 4 else
                          f"{cells[0]} 至 {cells[-1]}")


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
def _instances_of(rule_id: str) -> tuple[Instance, ...]:
    return tuple(inst for inst in instances() if inst.rule == rule_id)


def _arith(rule_id: str) -> Check:
    def run(ctx: Context) -> Iterator[Finding]:
        number = ctx.numbers.get  # ctx.number, without a call of ours per term
        for inst in _instances_of(rule_id):
            res = inst.cmp.eval(number)
            if res is None or res[0]:
                continue
            _, lhs, rhs = res
            values: dict[str, Any] = {**inst.values, "lhs": lhs, "rhs": rhs, "diff": abs(lhs - rhs)}
            yield ctx.finding(rule_id, inst.anchor, labels=inst.labels, check=inst.id, **values)
    run.__name__ = f"_{rule_id.lower()}"
    return run


for _id in ("A1", "A2", "A3", "A4", "A6", "X1", "X2"):
    CHECKS[_id] = _arith(_id)


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
        for q in quotes.quotes(ctx.data.text(key), ctx.data.year):
            # any reading that matches is right, of the totals as printed or as the rows add up
            if recomputed is None:
                recomputed = {**ctx.values, **derive.compute_totals({k: ctx.values.get(k) for k in spec.INPUT_KEYS})}
            sums = [_sum_of(vals, keys) for vals in (ctx.values, recomputed) for keys in q.topic.readings]
            if sums[0] is None or q.value in sums:
                continue
            actual = sums[len(q.topic.readings)]  # the rows' sum: a blank printed total is no 0
            yield ctx.finding("T1", key, check=f"T1:{key}:{q.topic.id}", field=spec.FIELDS_BY_KEY[key].label,
                              quote=q.sentence or q.text, topic=q.topic.label, said=q.value,
                              actual=sums[0] if actual is None else actual,
                              where=_where(q.topic.keys))


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
    if ctx.data.text("meta.kind") != "人民政府":
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
        yield ctx.finding("T6", key, variant="part", severity=W, missing=label)


@check("S2")
def _s2(ctx: Context) -> Iterator[Finding]:
    data, st = ctx.data, ctx.data.structure
    for key in spec.DERIVED_KEYS:  # derived formulas: readable from any reader
        if key in data.missing:
            continue
        if key in data.formulas:
            if not ctx.intact[key]:  # expr.formula_is_intact, computed once per report
                yield ctx.finding("S2", key, variant="formula", actual=data.formulas[key])
        else:
            yield ctx.finding("S2", key, variant="literal", severity=W, actual=_show(data.get(key)))
    if st is None:
        return
    exp = structure.expected()
    present = set(st.sheets)
    for sheet in exp.sheets:
        if sheet not in present:
            renamed = {data.location(k).sheet for k in spec.ALL_KEYS if spec.LAYOUT.locations[k].sheet == sheet
                       and k not in data.missing} - {sheet}
            if renamed:
                yield ctx.finding("S2", sheet=next(iter(renamed)), cell="", severity=W, variant="renamed",
                                  expected=sheet)
            else:
                yield ctx.finding("S2", sheet=sheet, cell="", variant="sheet")
    for (sheet, a1), text, norm in _labels():
        if (sheet, a1) not in st.labels:
            continue
        actual = st.labels[(sheet, a1)]
        if actual != text and structure.normalise_label(actual) != norm:
            yield ctx.finding("S2", sheet=sheet, cell=a1, variant="label", expected=text, actual=_show(actual))
    for sheet, merges in exp.merges.items():
        if sheet not in st.merges:
            continue
        lost, extra = sorted(merges - st.merges[sheet]), sorted(st.merges[sheet] - merges)
        if lost or extra:
            detail = "；".join(p for p in (_few("缺少", lost), _few("多出", extra)) if p)
            yield ctx.finding("S2", sheet=sheet, cell=(lost or extra)[0], variant="merge", detail=detail)
    for sheet, cells in exp.unlocked.items():
        if sheet not in st.unlocked:
            continue
        locked, opened = sorted(cells - st.unlocked[sheet]), sorted(st.unlocked[sheet] - cells)
        if locked or opened:
            detail = "；".join(p for p in (_few("填报单元格被锁定", locked), _few("表格单元格被解锁", opened)) if p)
            yield ctx.finding("S2", sheet=sheet, cell=(locked or opened)[0], variant="unlocked", detail=detail)
    unprotected = [s for s in exp.sheets if s in st.sheet_protected and not st.sheet_protected[s]]
    if unprotected or not st.structure_locked:
        parts = (["工作表 " + "、".join(unprotected)] if unprotected else []) + \
                ([] if st.structure_locked else ["工作簿结构"])
        yield ctx.finding("S2", sheet="", cell="", severity=W, variant="protection", detail="；".join(parts))
    fp = structure.fingerprint()
    if st.fingerprint and st.fingerprint != fp:
        yield ctx.finding("S2", sheet="", cell="", severity=W, variant="fingerprint", actual=st.fingerprint,
                          expected=fp)


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
        ok = {"meta.agency": bool(d.agency), "meta.year": d.year is not None and 2021 <= d.year <= 2100,
              "meta.kind": d.text(key) in spec.AGENCY_KINDS, "meta.level": d.text(key) in spec.LEVELS}[key]
        if not ok:
            yield ctx.finding("S4", key, field=f.label, value=_show(raw), hint=hint)


def deadline(year: int, kind: str) -> dt.date:
    """The publication deadline of a report for ``year``: 1月31日, or 3月31日 for a 人民政府's own report."""
    return dt.date(year + 1, 3, 31) if kind == "人民政府" else dt.date(year + 1, 1, 31)


@check("P1")
def _p1(ctx: Context) -> Iterator[Finding]:
    d = ctx.data
    if "meta.report_date" in d.missing:
        return
    date, year = d.report_date, d.year
    if date is None:
        yield ctx.finding("P1", "meta.report_date", variant="missing", severity=W)
        return
    if year is None:
        return
    kind = d.text("meta.kind")
    limit = deadline(year, kind)
    if date > limit:
        who = "人民政府本级" if kind == "人民政府" else "政府部门"
        yield ctx.finding("P1", "meta.report_date", date=f"{date.year}年{date.month}月{date.day}日",
                          deadline=f"{limit.year}年{limit.month}月{limit.day}日", who=who,
                          deadline_md=f"{limit.month}月{limit.day}日")


def validate(data: ReportData, rules: Iterable[str] | None = None, *, context: Context | None = None) -> list[Finding]:
    """Every finding of every rule (or of ``rules``) on one report. ``context``: a :class:`Context` of ``data``
    the caller made already (its effective values are then computed once)."""
    ctx = context if context is not None and context.data is data else Context(data)
    out: list[Finding] = []
    for rule_id in rules or CATALOGUE:
        fn = CHECKS.get(rule_id)
        if fn is not None:
            out.extend(fn(ctx))
    return out


def catalogue_rows() -> list[dict[str, Any]]:
    """The catalogue as plain rows (for ``xl-addin rules`` and docs/rules.md)."""
    return [{"id": r.id, "group": r.group, "severity": r.severity.value, "title": r.title, "basis": r.basis,
             "live": r.live, "needs_last_year": r.needs_last_year, "messages": dict(r.templates)}
            for r in CATALOGUE.values()]


# Rules for published reports (S1, S3, X3, T7, T8, A7) and the import notes they raise: see rules_published.
from . import rules_published  # noqa: E402,F401  (registers into CATALOGUE / CHECKS)
