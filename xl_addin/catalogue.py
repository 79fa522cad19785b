"""The catalogue: every kind of finding a check can raise, and every reason a file cannot be read, as data.

One :class:`Entry` per variant of a rule (``S2.literal`` is a warning while ``S2.formula`` is an error), each with
its stable rule id of shared/FORMAT.md, group, severity, title, message template, basis, and whether an in-sheet
formula decides it (live). The validator (:mod:`xl_addin.rules`), the live checks (:mod:`xl_addin.live`), the
add-in and docs/rules.md read only this; a check cannot choose a severity of its own.

Like frictionless' error classes, each :class:`FileError` names one reason a file cannot be checked at all, with
a message template and the fix; the readers raise them by code and the batch check reports them by code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

from . import spec
from .expr import Compare, Lin
from .model import Severity

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
_OWN, _REGION = spec.SCOPES
_PROVINCE, _CITY, _COUNTY, _TOWNSHIP = spec.LEVELS

#: a fee at or above this many 万元 (1000万元) looks entered in 元 (V2.yuan): the threshold of a workbook (the
#: in-sheet formula uses it) and of a published 本级 report of a county-level body. A published report is judged by
#: :data:`YUAN_THRESHOLD_BY_SCOPE` instead (its scope and level), see :func:`yuan_threshold`.
YUAN_THRESHOLD = 1000

#: (报告范围, 层级) -> the V2.yuan threshold in 万元 for a published report. Reasoning and sources:
#: - the mistake it catches is a fee typed in 元 into the 万元 cell, which makes it 10,000 times too large: a county
#:   department's few 万元 of fees become tens of thousands. A threshold is a bar no real fee of that kind of report
#:   reaches, so that what passes it is almost surely 元.
#: - real 汇总 (region-wide) reports collect the fees of every body of the region: 淮安市洪泽区 2023 (a district,
#:   县级 汇总) prints 7730.28 万元, 宿迁市 2023 (市级 汇总) 59237.2449 万元 (../shared/examples/published). With the
#:   old flat 1000 万元 both warned, though both are right. A region's fee scales with its size: about ten times from
#:   county to city and from city to province, so the 汇总 bars are ten times those observed, rounded up:
#:   县级 100,000, 市级 1,000,000, 省级 10,000,000 万元 (乡级: a township's own 汇总 stays far below a county's).
#: - a 本级 report counts one body's own fees: a county department's are a few 万元 to hundreds (沭阳县发改局,
#:   将乐县工信局 2023: 0), so 1000 万元 stays the bar for 县级 and 乡级; a city's or a province's own departments
#:   (自然资源, 住建) collect more, ten and a hundred times the county bar.
#: - an unknown level takes the largest bar of its scope (precision first: no warning on a guess).
#: Profiles may override these (contract P: ``V2.yuan.max_wan``).
YUAN_THRESHOLD_BY_SCOPE: Mapping[tuple[str, str], float] = MappingProxyType({
    (_OWN, _PROVINCE): 100_000, (_OWN, _CITY): 10_000, (_OWN, _COUNTY): YUAN_THRESHOLD, (_OWN, _TOWNSHIP): YUAN_THRESHOLD,
    (_REGION, _PROVINCE): 10_000_000, (_REGION, _CITY): 1_000_000, (_REGION, _COUNTY): 100_000, (_REGION, _TOWNSHIP): 10_000,
})
#: a fee written with more decimals than this cannot be in 元 (元 has at most 2: 角 and 分); a published fee with 3
#: or 4 decimals is 万元 whatever its size (宿迁市: 59237.2449)
YUAN_MAX_DECIMALS = 2


def yuan_threshold(scope: str, level: str) -> float:
    """The V2.yuan threshold (万元) of a published report of ``scope`` ("本级"/"汇总"/"" unknown) and ``level``
    (spec.LEVELS or "" unknown): the largest bar of what is known."""
    bars = [v for (s, lv), v in YUAN_THRESHOLD_BY_SCOPE.items() if s == (scope or s) and lv == (level or lv)]
    return max(bars) if bars else max(YUAN_THRESHOLD_BY_SCOPE.values())


class Group(enum.StrEnum):
    VALUE = "value"
    TABLE = "table"
    YEAR = "year"
    TEXT = "text"
    STRUCTURE = "structure"
    PUBLICATION = "publication"

    @property
    def zh(self) -> str:
        return GROUP_ZH[self]


GROUP_ZH: Mapping[Group, str] = MappingProxyType({
    Group.VALUE: "数值", Group.TABLE: "表内", Group.YEAR: "跨年", Group.TEXT: "文表", Group.STRUCTURE: "结构",
    Group.PUBLICATION: "发布"})


@dataclass(frozen=True)
class Entry:
    """One variant of one rule: what a finding of it says and how serious it is."""

    code: str  # "S2.literal"; the rule id alone for a rule's main variant ("A3")
    rule: str  # the stable id of FORMAT.md ("S2")
    group: Group
    severity: Severity
    title: str
    basis: str
    message: str  # str.format-ed with the finding's values
    live: bool = False  # decided by an in-sheet formula too (xl_addin.live)
    needs_last_year: bool = False
    #: an identity in a few words, shown on the table sheet beside its status line while it fails
    short: str = ""

    @property
    def variant(self) -> str:
        return self.code.partition(".")[2]


CATALOGUE: dict[str, Entry] = {}


def _rule(rule: str, group: Group, basis: str, *variants: tuple[str, Severity, str, str],
          live: bool = False, needs_last_year: bool = False, live_variants: tuple[str, ...] = (),
          short: str = "", into: dict[str, Entry] = CATALOGUE) -> None:
    """Declare a rule (in ``into``: the national catalogue, or :data:`LOCAL`): one (variant, severity, title,
    message) per variant; "" is the main variant."""
    for variant, severity, title, message in variants:
        code = f"{rule}.{variant}" if variant else rule
        into[code] = Entry(code, rule, group, severity, title, basis, message,
                                live=live or variant in live_variants, needs_last_year=needs_last_year,
                                short=short if not variant else "")


def yuan_title(bar: int | float) -> str:
    """V2.yuan's title at fee bar ``bar`` (万元): the catalogue's at :data:`YUAN_THRESHOLD`, a profile's at its
    ``V2.yuan.max_wan`` (the template's 校验汇总 row and ``rules --profile``)."""
    shown = str(int(bar)) if float(bar).is_integer() else repr(bar)
    return f"收费金额疑似按元填写（≥{shown}万元）"


_rule("V1", Group.VALUE, "国办公开办函〔2021〕30号 表格数据单位为件",
      ("", E, "件数应为不小于0的整数", "“{row}”“{col}”应填写不小于0的整数（单位：件），现为“{value}”。{hint}"), live=True)
_rule("V2", Group.VALUE, "表二 第二十条第（八）项 单位：万元",
      ("", E, "收费金额应为不小于0、最多4位小数的万元数",
       "“行政事业性收费”本年收费金额应为不小于0、最多4位小数的数字（单位：万元），现为“{value}”。{hint}"),
      ("yuan", W, yuan_title(YUAN_THRESHOLD),
       "“行政事业性收费”本年收费金额为 {value} 万元，数额偏大，是否误按“元”填写？1元=0.0001万元，如3500元应填0.35。"),
      ("unit", W, "发布的报告中金额以元为单位", "{value}：金额以“元”为单位，表格中的金额应以万元为单位（1元=0.0001万元）。"),
      live_variants=("", "yuan"))
_rule("V5", Group.VALUE, "按机关层级，件数不可能这么大",
      ("", W, "件数大得不合常理", "“{row}”“{col}”为 {value}，对{level}机关而言大得不合常理（一般不超过 {bound}），"
       "请核对是否多打了数字或误填了金额。"))
_rule("V3", Group.VALUE, "公布的表格应显示0，不留空白",
      ("", W, "应填数字的单元格为空", "“{row}”有 {n} 个单元格未填写（{cells}）。空白按0计算，但公布的表格应显示0，没有的请填0。"),
      ("zero", W, "发布的报告中以符号或空白表示0",
       "表{table}有 {n} 个单元格没有写数字，而是{how}（{rows}），已按 0 读取。公布的表格应直接填写 0，请把这些单元格改为 0。"),
      live_variants=("",))
_rule("V4", Group.VALUE, "只有国务院部门和省级、设区的市级人民政府可以制定规章",
      ("", W, "县级及以下机关的规章数不为0",
       "本机关层级为“{level}”，无规章制定权，“规章”“{col}”一般应为0，现为 {value}。请核对是否把行政规范性文件误填在规章行。"))
_rule("A1", Group.TABLE, "表三 总计列",
      ("", E, "表三每行总计等于各类申请人之和",
       "“{row}”的总计应为自然人与各类法人或其他组织之和 {rhs}，表中为 {lhs}。请核对本行数字，或点击“计算合计”恢复合计公式。"),
      live=True, short="“{row}”行：总计≠各类申请人之和")
_rule("A2", Group.TABLE, "表三 （七）总计行",
      ("", E, "表三（七）总计等于（一）至（六）各项之和",
       "“{col}”列的（七）总计应为（一）至（六）各项之和 {rhs}，表中为 {lhs}。请核对本列办理结果各项，"
       "或点击“计算合计”恢复合计公式。"), live=True, short="“{col}”列：（七）总计≠（一）至（六）之和")
_rule("A3", Group.TABLE, "表三 " + spec.T3_NOTE,
      ("", E, "表三勾稽关系：一＋二＝三＋四",
       "“{col}”列不符合勾稽关系：一、本年新收＋二、上年结转＝{lhs}，而（七）总计＋四、结转下年度继续办理＝{rhs}，"
       "相差 {diff}。请核对本列的新收、上年结转、各项办理结果和结转下年度数字。"), live=True,
      short="“{col}”列：一＋二≠（七）总计＋四")
_rule("A4", Group.TABLE, "表四 总计列",
      ("", E, "表四每组总计等于四种结果之和",
       "“{col}”应为结果维持、结果纠正、其他结果、尚未审结之和 {rhs}，表中为 {lhs}。请核对本组数字，"
       "或点击“计算合计”恢复合计公式。"), live=True, short="“{col}”≠四种结果之和")
_rule("A5", Group.TABLE, "只有年末收到、尚在法定期限内的申请才结转下年度",
      ("", I, "结转下年度的申请偏多",
       "四、结转下年度继续办理（{carried} 件）占本年新收（{new} 件）的比例较高（超过四分之一）。"
       "通常只有12月下旬收到的申请才结转，请确认。"))
_rule("A7", Group.TABLE, "导入发布的报告时的核对提示",
      ("", I, "数字可能在提取时被拆开（导入提示）", "导入提示：{message}"))
_rule("A6", Group.TABLE, "表二 第二十条第（一）项",
      ("", W, "本年制发件数不大于现行有效件数与本年废止件数之和",
       "“{row}”本年制发件数 {lhs} 大于现行有效件数与本年废止件数之和 {rhs}，请核对。"), live=True,
      short="“{row}”：本年制发＞现行有效＋本年废止")
_rule("X1", Group.YEAR, "表三 二、上年结转政府信息公开申请数量",
      ("", E, "本年上年结转等于上年结转下年度",
       "“{col}”列本年“二、上年结转政府信息公开申请数量”为 {lhs}，上年报告“四、结转下年度继续办理”为 {rhs}，"
       "两者应相等。"), live=True, needs_last_year=True, short="“{col}”列：上年结转≠上年报告的结转下年度")
_rule("X2", Group.YEAR, "表二 第二十条第（一）项",
      ("", W, "现行有效件数与上年衔接",
       "“{row}”现行有效件数 {lhs} 不等于上年现行有效件数＋本年制发件数－本年废止件数＝{rhs}，请核对。"),
      live=True, needs_last_year=True, short="“{row}”：现行有效≠上年现行有效＋本年制发－本年废止")
_rule("X3", Group.YEAR, "国办公开办函〔2021〕30号：内容雷同属应予纠正的问题",
      ("", E, "正文与上年报告不雷同",
       "第{number}部分“{title}”与上年报告的同一部分 {percent}% 相同（{length} 字），内容雷同。请按本年度实际情况撰写。"),
      needs_last_year=True)
_rule("T1", Group.TEXT, "条例第五十条；国办公开办函〔2021〕30号：内容准确",
      ("", E, "正文引用的数字与表格一致",
       "“{field}”中写“{quote}”，即{topic} {said} 件，而{where}为 {actual} 件，两者应一致。请核对文字或表格。"),
      ("scope", W, "正文与表格的统计范围不同",
       "“{field}”中写“{quote}”，说的是{said_scope}的{topic} {said} 件，而{where}为 {actual} 件，统计的是"
       "{table_scope}（{scope_how}）。文字与表格的统计范围不同，不按数字不一致处理。{fix}"),
      ("unsure", W, "无法判断正文数字的统计范围",
       "“{field}”中写“{quote}”，即{topic} {said} 件，而{where}为 {actual} 件。{unsure}无法判断两者是否应一致，"
       "未按数字不一致处理。请在文字中写明统计范围（本机关或全{region}），并核对数字。"))
_rule("T2", Group.TEXT, "《政府信息公开信息处理费管理办法》；国办公开办函〔2021〕30号",
      ("", E, "第六部分须报告信息处理费收取情况",
       "第六部分未报告信息处理费收取情况。请在“信息处理费收取情况”中写明本年收取的情况；"
       "未收取的也应写明，如“本年度未收取信息处理费”。"))
_rule("T3", Group.TEXT, "国办公开办函〔2021〕30号 六、其他需要报告的事项",
      ("", W, "第六部分应报告工作要点、建议提案办理和创新情况", "第六部分缺少“{topic}”，请补充；没有相关情况的也应写明。"))
_rule("T4", Group.TEXT, "国办公开办函〔2021〕30号 一、总体情况（监督保障）",
      ("", E, "人民政府须报告工作考核、社会评议和责任追究结果",
       "本机关为人民政府，第一部分“监督保障”须报告{missing}结果情况，现缺少。请补充。"))
_rule("T5", Group.TEXT, "国办公开办函〔2021〕30号 一、总体情况",
      ("", W, "第一部分应涵盖五个方面", "第一部分“总体情况”缺少“{topic}”方面的内容，请补充。"))
_rule("T6", Group.TEXT, "条例第五十条；不宜泛化",
      ("", E, "第五部分须写明存在的问题和改进措施",
       "第五部分“存在的主要问题及改进情况”为空或只写了“无”，请具体写明存在的问题和改进措施。"),
      ("part", W, "第五部分应同时写明问题和改进措施", "第五部分缺少“{missing}”，请补充。"))
_rule("T7", Group.TEXT, "统计期为报告年度1月1日至12月31日",
      ("", W, "正文所述年度与报告年度一致",
       "{where}写的是 {said} 年（“{quote}”），而本报告为 {year} 年度报告。请核对是否沿用了往年的文字。"))
_rule("T8", Group.TEXT, "条例第五十条；内容准确",
      ("", E, "正文前后不矛盾", "“{field}”中写“{quote}”，但表三“四、结转下年度继续办理”为 {carried} 件，两者矛盾。"))
_rule("T9", Group.TEXT, "导出时由本工具统一加注各部分和各方面的序号",
      ("", W, "正文内容不要自带序号", "“{field}”{where}以“{prefix}”开头，像是连同原报告的序号一起粘贴的。导出时会自动加序号，"
       "请删去开头的序号和标题，只保留正文。"))
_rule("S1", Group.STRUCTURE, "国办公开办函〔2021〕30号：六个部分，按序排列",
      ("", E, "六个部分齐全、顺序正确", "第{number}部分“{title}”{problem}。{hint}"),
      ("variant", W, "部分标题的写法与官方不同", "第{number}部分的标题写作“{text}”，官方为“{number}、{title}”。"),
      ("numbered", W, "部分编号与官方不同",
       "标题“{text}”的编号与官方不同：应为第{number}部分（“{number}、{title}”），请按官方编号。"))
_rule("S2", Group.STRUCTURE, "国办公开办函〔2021〕30号：表格不得改动",
      ("sheet", E, "模板工作表缺失", "缺少工作表“{sheet}”，请使用原模板重新填报。"),
      ("renamed", W, "模板工作表被改名", "工作表“{expected}”被改名为“{sheet}”，请改回原名。"),
      ("label", E, "表格文字被改动", "表格文字被改动：应为“{expected}”，现为“{actual}”。官方表格不得改动，请改回或使用原模板。"),
      ("drift", W, "发布的报告中表格文字与官方不同",
       "表格文字与官方不同：应为“{expected}”，报告中为“{actual}”。官方表格不得改动。"),
      ("merge", E, "合并单元格被改动", "合并单元格被改动（{detail}），官方表格不得改动，请使用原模板。"),
      ("formula", E, "合计公式被改动", "合计单元格的公式被改动，现为“{actual}”。请点击“计算合计”恢复。"),
      ("literal", W, "合计公式被数值覆盖", "合计单元格的公式被数值覆盖（现为“{actual}”）。请点击“计算合计”恢复合计公式。"),
      ("input", E, "填报单元格中有公式",
       "“{label}”（工作表“{sheet}”{at}）中是公式“{formula}”，不是填写的内容。填报单元格只能直接填写数字或文字："
       "公式可能在打开文件时访问网络、把表中数据发送出去，或让显示的内容与实际不符。请删除公式，直接填写内容。"),
      ("unlocked", E, "单元格锁定状态被改动", "单元格锁定状态被改动（{detail}），请使用原模板。"),
      ("protection", W, "模板保护被取消",
       "模板的保护已被取消（{detail}）。用 WPS 或 LibreOffice 另存后常见；请确认表格未被改动。"),
      ("outside", E, "表格范围外有内容",
       "工作表“{sheet}”在远超出模板表格的位置有内容或合并单元格（{detail}），检查时已略去。请删去，或用原模板重新填报。"),
      ("live", E, "校验结果的公式被改动",
       "显示校验结果的公式被改动或被文字代替（{detail}），表中显示的“通过”不可信。请使用原模板重新填报。"),
      ("validation", E, "填报单元格的数据验证被删除或改动",
       "填报单元格的数据验证（输入限制）被删除或改动（{detail}），Excel 不再当场提示填错。请使用原模板重新填报。"),
      ("hidden", E, "模板的隐藏工作表缺失或被改动",
       "模板的隐藏工作表“{sheet}”{detail}，它记录模板的版本和上年数字。请使用原模板重新填报。"),
      ("names", E, "模板的命名单元格被删除",
       "模板的命名单元格有 {n} 个被删除或改动（{detail}），本工具已按模板原位置读取。请使用原模板重新填报。"),
      ("fingerprint", W, "模板版本与本工具不一致",
       "模板版本与本工具不一致（文件 {actual}，本工具 {expected}），请使用最新模板。"),
      ("profile", W, "模板生成时的规则配置与本次校验不同",
       "本模板按“{built}”生成，当前按“{current}”校验：两者的规则设置不同，工作簿中“校验汇总”和各表状态行的计数"
       "可能与本次校验结果不一致。请使用县政务公开办下发的模板或指定同一规则配置。"))
_rule("S3", Group.STRUCTURE, "国办公开办函〔2021〕30号 自2021年度报告起施行",
      ("", E, "使用现行格式（国办公开办函〔2021〕30号）",
       "报告使用了旧格式（国办公开办函〔2019〕60号）：{markers}。请按国办公开办函〔2021〕30号格式编制；能对应的数字已读入，其余未读入。"),
      ("hybrid", E, "表格混用新旧格式", "报告的表格混用新旧格式：{markers}。请按国办公开办函〔2021〕30号格式编制。"))
_rule("S4", Group.STRUCTURE, "报告标题“<机关名称><年>年政府信息公开工作年度报告”",
      ("", W, "基本信息完整（标题须有机关名称和年度）", "基本信息“{field}”未填写或不正确（现为“{value}”）。{hint}"))
_rule("P1", Group.PUBLICATION, "条例第四十九条：部门于每年1月31日前、人民政府于3月31日前公布上一年度年报",
      ("", E, "按时发布", "发布日期 {date} 晚于规定期限 {deadline}：{who}应于次年{deadline_md}前公布年度报告。"),
      ("missing", W, "未填写发布日期", "未填写发布日期，无法判断是否按时发布。请在“基本信息”填写发布（落款）日期。"))
_rule("P2", Group.PUBLICATION, "发布的报告须能逐项核对；无法读取的表格不能视为核对通过",
      ("", E, "发布的报告中有表格未能读取",
       "表{table}“{title}”未能读取：{why}（查找位置：{where}）。本表的数字未核对，也未与正文比对，不能据此判定本报告合格。"
       "请对照原报告人工核对表{table}，或取得可读取的版本（网页或 Word 原件）后重新检查。"),
      ("row", E, "发布的报告中表格有行未能读取",
       "表{table}“{row}”一行未能读取：{why}（查找位置：{where}）。该行的数字未核对，涉及该行的合计、勾稽关系和正文比对也未进行。"
       "请对照原报告人工核对这一行。"))


# ---- local requirements ------------------------------------------------------------------------------------------
# What no national rule asks and a local notice may (issue 22): switched on only by a rule profile
# (xl_addin.profiles), so they are not part of the national catalogue above (nor of docs/rules.md);
# ``xl-addin rules --profile F`` lists them with the profile's settings. Their findings carry the profile's name.

#: code -> entry of the requirements only a profile switches on
LOCAL: dict[str, Entry] = {}


_rule("L1", Group.TEXT, "地方要求：第一部分“总体情况”的字数上限",
      ("", E, "第一部分“总体情况”不超过规定字数",
       "第一部分“总体情况”共 {length} 字，超过了规定的 {limit} 字。请精简，突出本年度的主要工作和数据。"), into=LOCAL)
_rule("L2", Group.TEXT, "地方要求：正文须写明规定的统计数字",
      ("", E, "正文写明规定的统计数字",
       "正文未写明“{label}”（表中为 {value}）。按要求须在第一部分“总体情况”中写明这个数字。"), into=LOCAL)


def entry(code: str) -> Entry:
    """The entry of ``code``, national (:data:`CATALOGUE`) or local (:data:`LOCAL`)."""
    return CATALOGUE[code] if code in CATALOGUE else LOCAL[code]


def local_rule_ids() -> tuple[str, ...]:
    return tuple(dict.fromkeys(e.rule for e in LOCAL.values()))


def rule_ids() -> tuple[str, ...]:
    """The rule ids in catalogue order (each once)."""
    return tuple(dict.fromkeys(e.rule for e in CATALOGUE.values()))


def entries_of(rule: str) -> tuple[Entry, ...]:
    return tuple(e for e in CATALOGUE.values() if e.rule == rule)


def check_id(code: str, key: str = "") -> str:
    """The id of the check of entry ``code`` at the cell of ``key``: "V1:t3.new.natural", "V2:t2.fees.amount:yuan",
    "S2:protection" (also the 检查编号 of a live check's row on 校验汇总)."""
    e = entry(code)
    return ":".join(p for p in (e.rule, key, e.variant) if p)


def live_codes() -> tuple[str, ...]:
    """The entries the template decides by formula (the live checks)."""
    return tuple(code for code, e in CATALOGUE.items() if e.live)


def rows() -> list[dict[str, object]]:
    """The catalogue as plain rows with English keys (``xl-addin rules --json``)."""
    return [{"code": e.code, "id": e.rule, "variant": e.variant, "group": e.group.value, "severity": e.severity.value,
             "title": e.title, "basis": e.basis, "message": e.message, "live": e.live,
             "needs_last_year": e.needs_last_year} for e in CATALOGUE.values()]


# ---- arithmetic instances -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Instance:
    """One place an arithmetic rule applies (A3 for column 自然人, ...)."""

    code: str  # the catalogue entry ("A3")
    id: str  # the instance ("A3:natural"): the check id of its findings and of its row on 校验汇总
    cmp: Compare
    anchor: str  # key of the cell the finding points at
    cells: tuple[str, ...]  # keys to mark
    labels: tuple[str, str]
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return CATALOGUE[self.code].severity

    @property
    def rule(self) -> str:
        return CATALOGUE[self.code].rule


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
                            (spec.DATA_CELLS[total].row_labels[-1], col), {"col": col}))
    for ck in col_keys:
        keys = [f"t3.{rk}.{ck}" for rk in ("new", "carried_in", "total", "carried_out")]
        col = spec.DATA_CELLS[keys[0]].col_label
        out.append(Instance("A3", f"A3:{ck}", Compare(Lin(tuple(keys[:2])), "=", Lin(tuple(keys[2:]))),
                            keys[3], tuple(keys), ("", col), {"col": col}))
    for gk, glabels in spec.T4_GROUPS:  # A4
        total = f"t4.{gk}.total"
        out.append(Instance("A4", f"A4:{gk}", Compare(Lin((total,)), "=", Lin(spec.DATA_CELLS[total].sum_of)),
                            total, (total,), spec.labels_of(total), {"col": " ".join(glabels) + " 总计"}))
    for rk, rlabel, _ in spec.T2_DOC_ROWS:  # A6, X2
        made, rep, inf = (f"t2.{rk}.{c}" for c, _ in spec.T2_DOC_COLS)
        out.append(Instance("A6", f"A6:{rk}", Compare(Lin((made,)), "<=", Lin((inf, rep))), made,
                            (made, rep, inf), spec.labels_of(made), {"row": rlabel}))
        out.append(Instance("X2", f"X2:{rk}", Compare(Lin((inf,)), "=", Lin((spec.prior_key(inf), made), (rep,))),
                            inf, (inf,), spec.labels_of(inf), {"row": rlabel}))
    for ck in col_keys:  # X1
        this, last = f"t3.carried_in.{ck}", spec.prior_key(f"t3.carried_out.{ck}")
        col = spec.DATA_CELLS[this].col_label
        out.append(Instance("X1", f"X1:{ck}", Compare(Lin((this,)), "=", Lin((last,))), this, (this,),
                            spec.labels_of(this), {"col": col}))
    return tuple(out)



# ---- file-level errors --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileError:
    """One reason a file cannot be checked at all."""

    code: str
    message: str  # what is wrong (str.format-ed with the error's values)
    fix: str  # what to do

    def text(self, **values: object) -> str:
        return self.message.format(**values) + self.fix


FILE_ERRORS: dict[str, FileError] = {}


def _file_error(code: str, message: str, fix: str = "") -> None:
    FILE_ERRORS[code] = FileError(code, message, fix)


_file_error("not-found", "文件不存在。")
_file_error("directory", "这是一个文件夹，不是 Excel 工作簿。")
_file_error("unopenable", "无法打开文件（{detail}）。")
_file_error("empty", "文件是空的（0 字节），可能没有保存完整，", "请重新保存或重新发送。")
_file_error("encrypted", "文件设置了打开密码（已加密），无法检查。", "请在 Excel 中取消密码后另存为 .xlsx。")
_file_error("legacy-xls", "这是旧版 Excel 97-2003 格式（.xls），", "请用本模板填写，或在 Excel 中“另存为”.xlsx 格式。")
_file_error("not-xlsx", "不是 Excel 工作簿（.xlsx），", "请使用下发的年报模板。")
_file_error("not-workbook", "不是 Excel 工作簿（压缩包中没有工作簿内容），", "请使用下发的年报模板。")
_file_error("bad-zip", "文件已损坏（不是完整的 .xlsx 压缩包），", "请重新保存或重新发送。")
_file_error("bad-member", "文件已损坏（{detail} 校验失败），", "请重新保存或重新发送。")
_file_error("corrupt", "文件已损坏或不是有效的 .xlsx 工作簿，无法读取（{detail}）。", "请重新保存或重新发送。")
_file_error("ods", "这是 OpenDocument（.ods）文件，", "请在 WPS 或 LibreOffice 中“另存为”Excel 2007-365（.xlsx）格式后再检查。")
_file_error("not-ours", "不是用本工具的年报模板填写的工作簿（找不到模板的命名单元格）。",
            "请使用县政务公开办下发的模板填报，或用 xl-addin template 生成模板。")
_file_error("unexpected", "读取时出现意外错误（{detail}），", "请在 Excel 中打开后另存再发送。")
_file_error("not-regular", "这不是普通文件（可能是管道、设备或快捷方式），无法检查。", "请发送工作簿文件本身。")
_file_error("too-large", "文件过大（{detail}），", "请删去多余的工作表和粘贴的数据，只保留年报模板的内容后重新保存。")
_file_error("zip-bomb", "文件的压缩内容异常（{detail}），可能已损坏或被恶意构造，未予读取。", "请用原模板重新填报后发送。")
_file_error("strict-ooxml", "文件是以“Strict Open XML 电子表格”格式保存的，",
            "请在 Excel 中“另存为”普通的“Excel 工作簿（*.xlsx）”格式后再发送。")
# published reports (xl-addin import)
_file_error("not-importable", f"不是可导入的年报文件（支持{spec.report_suffixes_zh()}）。")
_file_error("not-a-report", "不像政府信息公开工作年度报告：没有找到“一、总体情况”等部分标题，也没有找到统计表格。")
_file_error("report-corrupt", "文件已损坏或格式不对，无法读取（{detail}）。")
_file_error("no-text", "文件中没有可读的文字（扫描件或图片版 PDF 需要先做文字识别）。")
_file_error("empty-page", "网页是空的。")
_file_error("bad-pdf", "不是有效的 PDF 文件。")
_file_error("too-many-pages", "PDF 有 {detail} 页，不像一份年度报告。")
_file_error("doc-misnamed", "这是旧版 Word 97-2003 文件（.doc），", "请把扩展名改为 .doc 后再导入。")
_file_error("bad-docx", "不是有效的 Word 文件（.docx）。")
_file_error("not-docx", "不是 Word 文档（缺少 word/document.xml）。")
_file_error("docx-too-large", "Word 文档内容过大。")
_file_error("docx-part-too-large", "Word 文档中的部件过大或压缩异常（{detail}），可能被恶意构造，未予读取。",
            "请在 Word 中删去过大的图片等内容，另存为 .docx 后再导入。")
_file_error("report-too-long", "报告的文字过多（{detail}），不像一份年度报告，未予读取。",
            "请只保留年度报告本身（正文和统计表格）后再导入。")
_file_error("bad-doc", "不是有效的 Word 97-2003 文件（.doc）。")
_file_error("doc-convert", "无法用 LibreOffice 转换这个旧版 Word 文件（.doc）：{detail}，",
            "请在 Word 或 WPS 中打开后“另存为”.docx 再导入。")
_file_error("word-encrypted", "Word 文件设置了打开密码（已加密），无法读取。",
            "请在 Word 或 WPS 中打开，取消密码后另存为 .docx 再导入。")
_file_error("pdf-encrypted", "PDF 设置了密码（已加密），无法读取其中的文字。",
            "请取得不加密的版本，或在 PDF 阅读器中输入密码后“另存为”不加密的 PDF 再导入。")
_file_error("report-too-large", "文件过大（{detail}），不像一份年度报告，",
            "请确认选的是年报本身；网页可在浏览器中打开后复制正文，另存为 .txt 再导入。")
_file_error("html-too-deep", "网页的标签嵌套超过 {detail} 层，超出部分无法读取，未予导入（否则会缺少后面的内容）。",
            "请在浏览器中打开网页，复制正文另存为 .txt 后再导入。")
_file_error("outside-grid", "表格中有远超出模板范围的内容或合并单元格（{detail}），无法处理，",
            "请删去这些内容，或用原模板重新填报。")
_file_error("crashed", "读取时程序异常退出（{detail}），文件可能已损坏或内容异常，", "请在 Excel 中打开检查后另存再发送。")
_file_error("timeout", "读取超过 {detail} 秒仍未完成，已停止，文件可能过大或内容异常，", "请删除多余内容后另存再发送。")
_file_error("out-of-memory", "读取所需内存超过 {detail}，已停止，文件可能过大或内容异常，", "请删除多余内容后另存再发送。")


def file_error(code: str) -> FileError:
    return FILE_ERRORS[code]
