"""The official format (国办公开办函〔2021〕30号), declared once, as data.

Everything else -- the template, its formulas, the validator, the exports, the importers -- is generated from
the objects in this module. Labels are the official ones, character for character (see shared/FORMAT.md).

Coordinates inside a :class:`Table` are 1-based and relative to the table's own top-left cell; the template
places each table at :data:`TABLE_ORIGIN_ROW` of its sheet. Every input and derived cell has a stable *key*
(for example ``t3.granted.natural``); the template names each such cell with :func:`defined_name`.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from types import MappingProxyType

FORMAT_VERSION = "2021"
FORMAT_BASIS = "国办公开办函〔2021〕30号"
#: what every page of a report exported without passing the checks says (report_doc writes it, the importer
#: skips it when such a draft is read back)
UNCHECKED_MARK = "未通过校验（草稿）"
UNCHECKED_NOTE_END = "请改正后重新导出。"
#: why a report with error-level findings is not exported unless the clerk asks for a draft (the one place the
#: sentence is written: the command line, the add-in and the exporter say it)
UNPUBLISHABLE = "未通过校验的报告不能发布"
#: the files read as published reports (import, check, collect): suffix -> the kind of reader
REPORT_SUFFIXES: Mapping[str, str] = MappingProxyType({
    ".html": "html", ".htm": "html", ".shtml": "html", ".xhtml": "html", ".pdf": "pdf", ".docx": "docx",
    ".doc": "doc", ".txt": "txt", ".md": "txt", ".text": "txt"})
#: what a user calls each kind of report file
REPORT_KIND_ZH: Mapping[str, str] = MappingProxyType({"html": "网页", "pdf": "PDF", "docx": "Word", "doc": "Word",
                                                      "txt": "文本"})


def report_suffixes_zh() -> str:
    """Every suffix of :data:`REPORT_SUFFIXES`, by what a user calls it: "网页 .html/.htm…、PDF .pdf、…"."""
    by_name: dict[str, list[str]] = {}
    for suffix, kind in REPORT_SUFFIXES.items():
        by_name.setdefault(REPORT_KIND_ZH[kind], []).append(suffix)
    return "、".join(f"{name} {'/'.join(suffixes)}" for name, suffixes in by_name.items())


#: the report years the template accepts (the 2021 format applies from the 2021 report on)
YEAR_MIN, YEAR_MAX = 2021, 2100
TEMPLATE_ID = "xl_addin.gov-info-annual-report"
#: the layout of the template's sheets (where every cell is). Each version a workbook may carry stays readable and
#: checkable (S2 compares a workbook with the layout its hidden sheet names): 1 = the first template; 2 = a row for
#: the lead paragraph of 一 (s1.overview) above （一）, which moved the 正文 rows below it down by one
LAYOUT_VERSIONS: tuple[int, ...] = (1, 2)
LAYOUT_VERSION = LAYOUT_VERSIONS[-1]
NAME_PREFIX = "xa_"


class Kind(enum.StrEnum):
    """What an input cell holds."""

    COUNT = "count"  # a whole number >= 0 (件)
    MONEY = "money"  # an amount >= 0 in 万元, at most 4 decimals
    TEXT = "text"
    DATE = "date"
    YEAR = "year"
    CHOICE = "choice"


@dataclass(frozen=True)
class LabelCell:
    """A fixed label of the official grid (possibly merged)."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1
    header: bool = False


@dataclass(frozen=True)
class DataCell:
    """An input or derived cell of an official table."""

    key: str
    row: int
    col: int
    kind: Kind
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    help: str = ""
    colspan: int = 1
    #: keys whose sum this cell is (a derived total); empty for an input
    sum_of: tuple[str, ...] = ()

    @property
    def derived(self) -> bool:
        return bool(self.sum_of)

    @property
    def row_label(self) -> str:
        """The official row label, shortest unambiguous form (e.g. "（三）不予公开 1.属于国家秘密")."""
        return " ".join(self.row_labels[-2:]) if len(self.row_labels) > 2 else " ".join(self.row_labels)

    @property
    def col_label(self) -> str:
        """The official column label without the table-wide header 申请人情况 (e.g. "法人或其他组织 商业企业")."""
        return " ".join([label for label in self.col_labels if label != T3_APPLICANT][-2:])


@dataclass(frozen=True)
class Table:
    id: str  # "t2", "t3", "t4"
    number: str  # "二"
    title: str  # section heading without the number
    sheet: str
    n_rows: int
    n_cols: int
    header_rows: int
    labels: tuple[LabelCell, ...]
    cells: tuple[DataCell, ...]
    col_widths: tuple[float, ...]
    landscape: bool = False

    @property
    def heading(self) -> str:
        return f"{self.number}、{self.title}"

    @cached_property
    def by_key(self) -> dict[str, DataCell]:
        return {c.key: c for c in self.cells}

    @property
    def inputs(self) -> tuple[DataCell, ...]:
        return tuple(c for c in self.cells if not c.derived)

    @property
    def derived(self) -> tuple[DataCell, ...]:
        return tuple(c for c in self.cells if c.derived)


# --------------------------------------------------------------------------------------------------------------
# Table 二 主动公开政府信息情况
# --------------------------------------------------------------------------------------------------------------

T2_DOC_COLS = (("made", "本年制发件数"), ("repealed", "本年废止件数"), ("in_force", "现行有效件数"))
T2_DOC_ROWS = (
    ("rules", "规章", "本机关制定的规章。只有国务院部门和省级、设区的市级人民政府可以制定规章，县级及以下机关通常填0。"),
    ("normative", "行政规范性文件", "本机关制定的行政规范性文件。"),
)
T2_SINGLE = (
    # (item heading, header of the value column, [(key, label, kind, help)])
    ("第二十条第（五）项", "本年处理决定数量", [
        ("t2.licensing.count", "行政许可", Kind.COUNT, "本年作出的行政许可处理决定数量。"),
    ]),
    ("第二十条第（六）项", "本年处理决定数量", [
        ("t2.penalty.count", "行政处罚", Kind.COUNT, "本年作出的行政处罚决定数量。"),
        ("t2.coercion.count", "行政强制", Kind.COUNT, "本年作出的行政强制决定数量。"),
    ]),
    ("第二十条第（八）项", "本年收费金额（单位：万元）", [
        ("t2.fees.amount", "行政事业性收费", Kind.MONEY,
         "本年行政事业性收费金额，单位为万元（1元=0.0001万元），最多保留4位小数。"),
    ]),
)


def _table2() -> Table:
    labels: list[LabelCell] = [
        LabelCell(1, 1, "第二十条第（一）项", colspan=4, header=True),
        LabelCell(2, 1, "信息内容", header=True),
    ]
    cells: list[DataCell] = []
    for j, (_, col_label) in enumerate(T2_DOC_COLS):
        labels.append(LabelCell(2, 2 + j, col_label, header=True))
    for i, (row_key, row_label, help_text) in enumerate(T2_DOC_ROWS):
        r = 3 + i
        labels.append(LabelCell(r, 1, row_label))
        for j, (col_key, col_label) in enumerate(T2_DOC_COLS):
            cells.append(DataCell(f"t2.{row_key}.{col_key}", r, 2 + j, Kind.COUNT,
                                  ("第二十条第（一）项", row_label), (col_label,), help_text))
    r = 5
    for item, value_header, rows in T2_SINGLE:
        labels.append(LabelCell(r, 1, item, colspan=4, header=True))
        labels.append(LabelCell(r + 1, 1, "信息内容", header=True))
        labels.append(LabelCell(r + 1, 2, value_header, colspan=3, header=True))
        r += 2
        for key, row_label, kind, help_text in rows:
            labels.append(LabelCell(r, 1, row_label))
            cells.append(DataCell(key, r, 2, kind, (item, row_label), (value_header,), help_text, colspan=3))
            r += 1
    return Table("t2", "二", "主动公开政府信息情况", "表二", r - 1, 4, 0, tuple(labels), tuple(cells),
                 col_widths=(28, 20, 20, 20))


# --------------------------------------------------------------------------------------------------------------
# Table 三 收到和处理政府信息公开申请情况
# --------------------------------------------------------------------------------------------------------------

T3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
T3_APPLICANT = "申请人情况"
T3_ORG = "法人或其他组织"
#: data columns (key, label); the last one is the derived 总计
T3_COLS = (
    ("natural", "自然人"),
    ("business", "商业企业"),
    ("research", "科研机构"),
    ("nonprofit", "社会公益组织"),
    ("legal", "法律服务机构"),
    ("other_org", "其他"),
    ("total", "总计"),
)
T3_RESULT = "三、本年度办理结果"

# (group label or None, [(row key, item label, help)])
T3_GROUPS: tuple[tuple[str | None, tuple[tuple[str, str, str], ...]], ...] = (
    (None, (("new", "一、本年新收政府信息公开申请数量",
             "本年1月1日至12月31日新收到的政府信息公开申请（收到日期按条例第三十一条确定）。"),)),
    (None, (("carried_in", "二、上年结转政府信息公开申请数量",
             "上年收到、截至上年12月31日尚未办结的申请，应等于上年报告“四、结转下年度继续办理”。"),)),
    ("（一）予以公开", (("granted", "（一）予以公开", "依条例第三十六条第（一）（二）项予以公开的。"),)),
    ("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", (
        ("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
         "依条例第三十七条区分处理、部分公开的，只计这一情形，不计其他情形。"),)),
    ("（三）不予公开", (
        ("refused_secret", "1.属于国家秘密", "条例第十四条：属于国家秘密。"),
        ("refused_law", "2.其他法律行政法规禁止公开", "条例第十四条：法律、行政法规禁止公开。"),
        ("refused_safety", "3.危及“三安全一稳定”", "条例第十四条：公开后可能危及国家安全、公共安全、经济安全、社会稳定。"),
        ("refused_third_party", "4.保护第三方合法权益", "条例第十五条、第三十二条：涉及商业秘密、个人隐私等第三方合法权益。"),
        ("refused_internal", "5.属于三类内部事务信息", "条例第十六条：人事管理、后勤管理、内部工作流程等内部事务信息。"),
        ("refused_process", "6.属于四类过程性信息", "条例第十六条：讨论记录、过程稿、磋商信函、请示报告等过程性信息。"),
        ("refused_enforcement", "7.属于行政执法案卷", "条例第十六条：行政执法案卷信息。"),
        ("refused_query", "8.属于行政查询事项", "条例第三十六条第（七）项：属于行政查询事项。"),
    )),
    ("（四）无法提供", (
        ("unable_no_info", "1.本机关不掌握相关政府信息", "条例第三十六条第（四）（五）项：本机关不掌握相关信息。"),
        ("unable_need_create", "2.没有现成信息需要另行制作", "条例第三十八条：需要另行制作、加工的。"),
        ("unable_unclear", "3.补正后申请内容仍不明确", "条例第三十条：补正后申请内容仍不明确的。"),
    )),
    ("（五）不予处理", (
        ("ignored_petition", "1.信访举报投诉类申请", "条例第三十九条：以政府信息公开申请形式进行信访、投诉、举报的。"),
        ("ignored_repeat", "2.重复申请", "条例第三十六条第（六）项：重复申请。"),
        ("ignored_publication", "3.要求提供公开出版物", "条例第三十九条：要求提供公开出版物的。"),
        ("ignored_mass", "4.无正当理由大量反复申请", "条例第三十五条：无正当理由大量、反复申请的。"),
        ("ignored_confirm", "5.要求行政机关确认或重新出具已获取信息", "要求行政机关确认或重新出具已获取信息的。"),
    )),
    ("（六）其他处理", (
        ("other_no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
         "条例第三十条：申请人无正当理由逾期不补正的。"),
        ("other_no_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
         "条例第四十二条及国办函〔2020〕109号：逾期未缴纳信息处理费的。"),
        ("other_other", "3.其他", "其他处理情形。"),
    )),
    ("（七）总计", (("total", "（七）总计", "本年度办理结果合计，由（一）至（六）各项相加自动计算。"),)),
    (None, (("carried_out", "四、结转下年度继续办理",
             "截至本年12月31日尚未办结、结转下年度继续办理的申请。"),)),
)

T3_HEADER_ROWS = 3


def _table3() -> Table:
    labels: list[LabelCell] = [
        LabelCell(1, 1, T3_NOTE, rowspan=3, colspan=3, header=True),
        LabelCell(1, 4, T3_APPLICANT, colspan=7, header=True),
        LabelCell(2, 4, T3_COLS[0][1], rowspan=2, header=True),
        LabelCell(2, 5, T3_ORG, colspan=5, header=True),
        LabelCell(2, 10, T3_COLS[-1][1], rowspan=2, header=True),
    ]
    for j, (_, label) in enumerate(T3_COLS[1:6]):
        labels.append(LabelCell(3, 5 + j, label, header=True))
    col_labels = {key: ((T3_APPLICANT, label) if key in ("natural", "total") else (T3_APPLICANT, T3_ORG, label))
                  for key, label in T3_COLS}

    body: list[tuple[str, tuple[str, ...], str]] = []  # (row key, row labels, help)
    r = T3_HEADER_ROWS + 1
    result_first = None
    for group, items in T3_GROUPS:
        if group is None:
            (key, label, help_text), = items
            labels.append(LabelCell(r, 1, label, colspan=3))
            body.append((key, (label,), help_text))
            r += 1
            continue
        if result_first is None:
            result_first = r
        if len(items) == 1 and items[0][1] == group:
            key, label, help_text = items[0]
            labels.append(LabelCell(r, 2, label, colspan=2))
            body.append((key, (T3_RESULT, label), help_text))
            r += 1
            continue
        labels.append(LabelCell(r, 2, group, rowspan=len(items)))
        for key, label, help_text in items:
            labels.append(LabelCell(r, 3, label))
            body.append((key, (T3_RESULT, group, label), help_text))
            r += 1
    assert result_first is not None
    result_rows = [i for i, (_, lab, _) in enumerate(body) if lab[0] == T3_RESULT]
    labels.append(LabelCell(result_first, 1, T3_RESULT, rowspan=len(result_rows)))

    result_keys = [k for k, lab, _ in body if lab[0] == T3_RESULT and k != "total"]
    col_keys = [k for k, _ in T3_COLS]
    cells: list[DataCell] = []
    for i, (row_key, row_labels, help_text) in enumerate(body):
        row = T3_HEADER_ROWS + 1 + i
        for j, col_key in enumerate(col_keys):
            if col_key == "total":
                sum_of = tuple(f"t3.{row_key}.{k}" for k in col_keys[:-1])
            elif row_key == "total":
                sum_of = tuple(f"t3.{k}.{col_key}" for k in result_keys)
            else:
                sum_of = ()
            cells.append(DataCell(f"t3.{row_key}.{col_key}", row, 4 + j, Kind.COUNT, row_labels,
                                  col_labels[col_key], help_text, sum_of=sum_of))
    n_rows = T3_HEADER_ROWS + len(body)
    return Table("t3", "三", "收到和处理政府信息公开申请情况", "表三", n_rows, 10, T3_HEADER_ROWS,
                 tuple(labels), tuple(cells), col_widths=(14, 16, 34, 9, 9, 9, 9, 9, 9, 9))


# --------------------------------------------------------------------------------------------------------------
# Table 四 政府信息公开行政复议、行政诉讼情况
# --------------------------------------------------------------------------------------------------------------

T4_RESULTS = (("upheld", "结果维持"), ("corrected", "结果纠正"), ("other", "其他结果"), ("pending", "尚未审结"),
              ("total", "总计"))
T4_GROUPS = (
    ("review", ("行政复议",)),
    ("suit_direct", ("行政诉讼", "未经复议直接起诉")),
    ("suit_after_review", ("行政诉讼", "复议后起诉")),
)


def _table4() -> Table:
    labels = [
        LabelCell(1, 1, "行政复议", colspan=5, header=True),
        LabelCell(1, 6, "行政诉讼", colspan=10, header=True),
        LabelCell(2, 6, "未经复议直接起诉", colspan=5, header=True),
        LabelCell(2, 11, "复议后起诉", colspan=5, header=True),
    ]
    cells = []
    for g, (group_key, group_labels) in enumerate(T4_GROUPS):
        for j, (res_key, res_label) in enumerate(T4_RESULTS):
            col = 1 + 5 * g + j
            if g == 0:
                labels.append(LabelCell(2, col, res_label, rowspan=2, header=True))
            else:
                labels.append(LabelCell(3, col, res_label, header=True))
            sum_of = tuple(f"t4.{group_key}.{k}" for k, _ in T4_RESULTS[:-1]) if res_key == "total" else ()
            # the body has one row: a cell's "row" is its group (行政复议 / 行政诉讼 未经复议直接起诉 ...), its
            # column the result, so every message and sheet names both
            cells.append(DataCell(f"t4.{group_key}.{res_key}", 4, col, Kind.COUNT, group_labels, (res_label,),
                                  _T4_HELP[group_key] + _T4_RESULT_HELP[res_key], sum_of=sum_of))
    return Table("t4", "四", "政府信息公开行政复议、行政诉讼情况", "表四", 4, 15, 3, tuple(labels), tuple(cells),
                 col_widths=(7,) * 15, landscape=True)


_T4_HELP = {"review": "因政府信息公开引起的行政复议案件，", "suit_direct": "未经复议直接提起的行政诉讼案件，",
            "suit_after_review": "经行政复议后提起的行政诉讼案件，"}
_T4_RESULT_HELP = {"upheld": "结果为维持的件数。", "corrected": "结果为纠正的件数。", "other": "其他结果的件数。",
                   "pending": "截至12月31日尚未审结的件数。", "total": "合计，自动计算。"}

TABLES: tuple[Table, ...] = (_table2(), _table3(), _table4())
TABLE_BY_ID = {t.id: t for t in TABLES}
#: sheet row where each table's grid starts (row 1: title, row 2: status line)
TABLE_ORIGIN_ROW = 4


# --------------------------------------------------------------------------------------------------------------
# Basic facts and narrative sections
# --------------------------------------------------------------------------------------------------------------

AGENCY_KINDS = ("人民政府", "政府部门", "其他授权组织")
#: the kind that publishes by 3月31日 and must report 工作考核、社会评议和责任追究 (T4, P1)
KIND_GOVERNMENT = AGENCY_KINDS[0]
LEVELS = ("省级", "市级", "县级", "乡级")
#: a report's scope (the roster's 报告范围): one body's own handling (本级), or the sum of the units it covers (汇总)
SCOPES = ("本级", "汇总")
#: levels that cannot make 规章 (county and below)
LEVELS_WITHOUT_RULES = LEVELS[2:]
#: what rosters and forms write for a kind or a level, and the official word it means
KIND_SYNONYMS = {"政府": "人民政府", "一级政府": "人民政府", "部门": "政府部门", "政府工作部门": "政府部门",
                 "工作部门": "政府部门", "授权组织": "其他授权组织", "法律法规授权组织": "其他授权组织"}
LEVEL_SYNONYMS = {"省": "省级", "省本级": "省级", "市": "市级", "地市": "市级", "地市级": "市级", "县": "县级",
                  "区": "县级", "县区": "县级", "县市区": "县级", "县级市": "县级", "乡": "乡级", "镇": "乡级",
                  "乡镇": "乡级", "街道": "乡级", "乡镇街道": "乡级"}


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: Kind
    help: str
    choices: tuple[str, ...] = ()
    required: bool = True
    #: the layout version (:data:`LAYOUT_VERSION`) whose template first had this field's cell
    since: int = 1
    #: the lead paragraph of its section: printed under the section heading, before the numbered parts, with no
    #: heading of its own (and the importer reads into it what a report says before its first part)
    lead: bool = False


YES_NO = ("是", "否")
META_SHEET = "基本信息"
META_FIELDS = (
    Field("meta.agency", "机关名称", Kind.TEXT, "填写机关全称，如“将乐县工业和信息化局”。将用作报告标题和落款。"),
    Field("meta.kind", "机关类别", Kind.CHOICE, "人民政府（县、乡镇人民政府本级）、政府部门，或法律法规授权的其他组织。",
          AGENCY_KINDS),
    Field("meta.level", "层级", Kind.CHOICE, "机关所属层级。县级及以下机关无规章制定权。", LEVELS),
    Field("meta.year", "报告年度", Kind.YEAR, "统计期为该年1月1日至12月31日，填4位年份，如2023。"),
    Field("meta.report_date", "发布日期", Kind.DATE,
          "报告发布（落款）日期。部门应于次年1月31日前发布，人民政府本级报告应于3月31日前发布。"),
    Field("meta.contact", "联系人", Kind.TEXT, "年报编制联系人姓名。", required=False),
    Field("meta.phone", "联系电话", Kind.TEXT, "联系人电话。", required=False),
    Field("meta.use_drafts", "导出时使用自动生成的句子", Kind.CHOICE,
          "选“是”：导出报告时，第一部分“依申请公开”和第四部分开头使用“正文”表右侧按表格数字自动生成的句子，"
          "不用自己填写的文字。留空或选“否”则用自己填写的文字。", YES_NO, required=False),
)
USE_DRAFTS_YES = YES_NO[0]
META_FIRST_ROW = 3  # header in row 2, fields from row 3


@dataclass(frozen=True)
class Section:
    number: str
    title: str
    narrative: bool

    @property
    def heading(self) -> str:
        return f"{self.number}、{self.title}"


SECTIONS = (
    Section("一", "总体情况", True),
    Section("二", "主动公开政府信息情况", False),
    Section("三", "收到和处理政府信息公开申请情况", False),
    Section("四", "政府信息公开行政复议、行政诉讼情况", False),
    Section("五", "存在的主要问题及改进情况", True),
    Section("六", "其他需要报告的事项", True),
)

NARRATIVE_SHEET = "正文"
NARRATIVE_FIELDS = (
    # the lead paragraph under the heading 一、总体情况, before （一）: most published reports have one
    Field("s1.overview", "总体情况概述", Kind.TEXT,
          "一、总体情况开头的概述段落，导出时放在“（一）主动公开”之前，不加小标题；没有可不填。",
          required=False, since=2, lead=True),
    Field("s1.proactive", "主动公开", Kind.TEXT, "本年主动公开政府信息的情况：渠道、数量、重点领域。"),
    Field("s1.on_request", "依申请公开", Kind.TEXT, "本年收到、办理政府信息公开申请的情况，数字应与表三一致。"),
    Field("s1.management", "政府信息管理", Kind.TEXT, "政府信息管理情况：审核、发布、规范性文件清理等。"),
    Field("s1.platform", "政府信息公开平台建设", Kind.TEXT, "政府网站、政务新媒体、公开专栏等平台建设情况。"),
    Field("s1.supervision", "监督保障", Kind.TEXT,
          "监督保障情况：组织领导、培训、考核。人民政府须报告工作考核、社会评议和责任追究结果情况。"),
    Field("s5.problems", "主要问题", Kind.TEXT, "本年政府信息公开工作存在的主要问题，应具体，不宜泛化。"),
    Field("s5.measures", "改进措施", Kind.TEXT, "针对上述问题的改进措施。"),
    Field("s5.last_year_fixes", "上年度问题整改情况", Kind.TEXT, "上年度报告所列问题的整改落实情况。",
          required=False),
    Field("s6.fees", "信息处理费收取情况", Kind.TEXT,
          "依据《政府信息公开信息处理费管理办法》收取信息处理费的情况；未收取的写明“本年度未收取信息处理费”。"),
    Field("s6.key_points", "落实上级年度政务公开工作要点情况", Kind.TEXT, "落实上级年度政务公开工作要点的情况。"),
    Field("s6.proposals", "人大代表建议和政协提案办理结果公开情况", Kind.TEXT,
          "人大代表建议和政协提案办理结果公开情况；没有承办任务的也应写明。"),
    Field("s6.innovation", "年度政务公开工作创新情况", Kind.TEXT, "本年度政务公开工作的创新做法。"),
    Field("s6.other", "其他", Kind.TEXT, "其他需要报告的事项。", required=False),
)
NARRATIVE_FIRST_ROW = 3
FIELDS_BY_KEY = {f.key: f for f in META_FIELDS + NARRATIVE_FIELDS}


def narrative_fields(section: str) -> tuple[Field, ...]:
    """The narrative input fields of section "一", "五" or "六"."""
    prefix = {"一": "s1.", "五": "s5.", "六": "s6."}[section]
    return tuple(f for f in NARRATIVE_FIELDS if f.key.startswith(prefix))


def lead_field(section: str) -> Field | None:
    """The lead-paragraph field of narrative section ``section``, if it has one."""
    return next((f for f in narrative_fields(section) if f.lead), None)


def fields_of_layout(version: int) -> tuple[Field, ...]:
    """The narrative fields the template of layout ``version`` has, in row order."""
    return tuple(f for f in NARRATIVE_FIELDS if f.since <= version)


# --------------------------------------------------------------------------------------------------------------
# Last year's figures (for the cross-year rules X1, X2) and the other owned sheets
# --------------------------------------------------------------------------------------------------------------

#: this year's keys whose value from last year's report the cross-year rules need
PRIOR_KEYS = tuple(
    [f"t3.carried_out.{k}" for k, _ in T3_COLS] + [f"t2.{r}.in_force" for r, _, _ in T2_DOC_ROWS]
)


def prior_key(key: str) -> str:
    return f"prior.{key}"


RESULTS_SHEET = "校验结果"
HIDDEN_SHEET = "_xl_addin"
SUMMARY_SHEET = "校验汇总"
#: the properties the hidden sheet carries, in order (key, label)
HIDDEN_PROPS = (
    ("template_id", "模板标识"),
    ("format_version", "格式版本"),
    ("layout_version", "模板版本"),
    ("toolkit_version", "工具版本"),
    ("fingerprint", "模板指纹"),
)

#: a sheet protection password: it guards against mistakes, it is not a secret (documented in README)
PROTECTION_PASSWORD = "gknb2021"

#: strings that mark the old 2019 format (国办公开办函〔2019〕60号)
OLD_FORMAT_MARKERS = ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减",
                      "其他对外管理服务事项", "第二十条第（九）项", "政府集中采购", "采购项目数量", "采购总金额")


# --------------------------------------------------------------------------------------------------------------
# Look-ups
# --------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Location:
    sheet: str
    row: int
    col: int
    colspan: int = 1

    @property
    def a1(self) -> str:
        return f"{col_letter(self.col)}{self.row}"

    @property
    def a1_range(self) -> str:
        if self.colspan == 1:
            return self.a1
        return f"{self.a1}:{col_letter(self.col + self.colspan - 1)}{self.row}"


def col_letter(col: int) -> str:
    s = ""
    while col:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def col_number(letters: str) -> int:
    """The column number of ``letters`` ("A" -> 1, "AA" -> 27); the inverse of :func:`col_letter`."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@lru_cache(maxsize=8192)
def cell_index(a1: str) -> tuple[int, int]:
    """(row, column), 1-based, of an A1 cell reference ("D7" -> (7, 4)); ValueError for anything else. The one
    A1 parser every reader and writer uses."""
    letters = a1.rstrip("0123456789")
    digits = a1[len(letters):]
    if not letters or not digits or not letters.isalpha() or not letters.isascii() or len(letters) > 3:
        raise ValueError(f"not an A1 cell reference: {a1!r}")
    return int(digits), col_number(letters.upper())


def defined_name(key: str) -> str:
    """The workbook-level defined name of a key: ``t3.new.natural`` -> ``xa_t3_new_natural``."""
    return NAME_PREFIX + key.replace(".", "_")


def key_of_name(name: str) -> str | None:
    """Inverse of :func:`defined_name` for the keys the spec knows."""
    return _KEY_BY_NAME.get(name)


@dataclass(frozen=True)
class Layout:
    """Where the template of one layout version puts every key. Readers use the workbook's defined names instead
    of this; they fall back to it (and S2 compares against it) for the version the workbook says it is."""

    locations: dict[str, Location] = field(default_factory=dict)
    version: int = 0


def iter_data_cells() -> Iterator[tuple[Table, DataCell]]:
    for t in TABLES:
        for c in t.cells:
            yield t, c


def table_location(table: Table, cell: DataCell) -> Location:
    return Location(table.sheet, TABLE_ORIGIN_ROW + cell.row - 1, cell.col, cell.colspan)


@cache
def layout_of(version: int) -> Layout:
    """The layout of the template of layout ``version`` (one of :data:`LAYOUT_VERSIONS`)."""
    if version not in LAYOUT_VERSIONS:
        raise ValueError(f"unknown layout version {version!r}")
    loc: dict[str, Location] = {}
    for t, c in iter_data_cells():
        loc[c.key] = table_location(t, c)
    for i, f in enumerate(META_FIELDS):
        loc[f.key] = Location(META_SHEET, META_FIRST_ROW + i, 2)
    for i, f in enumerate(fields_of_layout(version)):
        loc[f.key] = Location(NARRATIVE_SHEET, NARRATIVE_FIRST_ROW + i, 3)
    for i, k in enumerate(PRIOR_KEYS):
        loc[prior_key(k)] = Location(HIDDEN_SHEET, len(HIDDEN_PROPS) + 3 + i, 2)
    return Layout(loc, version)


def stated_layout_version(props: Mapping[str, str]) -> int | None:
    """The layout version a workbook's hidden sheet states, when it is one this build knows. Compared as text:
    a workbook's string is never parsed ("²", 5000 digits)."""
    said = props.get("layout_version", "").strip()
    return next((v for v in LAYOUT_VERSIONS if said == str(v)), None)


def newer_layout_stated(props: Mapping[str, str]) -> bool:
    """Whether a workbook's hidden sheet states a layout version newer than this build knows (a template made by
    a newer build: not damage, though this build reads it by its names)."""
    said = props.get("layout_version", "").strip()
    return said.isascii() and said.isdigit() and len(said) <= 4 and not said.startswith("0") \
        and int(said) > LAYOUT_VERSION


def layout_version(props: Mapping[str, str], named: Collection[str]) -> int:
    """The layout version of a workbook: what its hidden sheet states (:func:`stated_layout_version`); else (hidden
    sheet lost or damaged) the newest version all of whose own keys have a defined name (``named``), else this
    build's. Never more than this build knows, whatever the workbook says."""
    stated = stated_layout_version(props)
    if stated is not None:
        return stated
    if not named:
        return LAYOUT_VERSION
    for version in reversed(LAYOUT_VERSIONS[1:]):
        if all(f.key in named for f in NARRATIVE_FIELDS if f.since == version):
            return version
    return LAYOUT_VERSIONS[0]


LAYOUT = layout_of(LAYOUT_VERSION)
DATA_CELLS: dict[str, DataCell] = {c.key: c for _, c in iter_data_cells()}
TABLE_OF_KEY: dict[str, Table] = {c.key: t for t, c in iter_data_cells()}
INPUT_KEYS = tuple(k for k, c in DATA_CELLS.items() if not c.derived)
DERIVED_KEYS = tuple(k for k, c in DATA_CELLS.items() if c.derived)
ALL_KEYS = tuple(LAYOUT.locations)
_KEY_BY_NAME = {defined_name(k): k for k in ALL_KEYS}


def input_rows() -> tuple[tuple[str, ...], ...]:
    """The input keys of each table row as the template lays them out (one sheet row each), in spec order."""
    rows: dict[tuple[str, int], list[str]] = {}
    for key in INPUT_KEYS:
        loc = LAYOUT.locations[key]
        rows.setdefault((loc.sheet, loc.row), []).append(key)
    return tuple(tuple(keys) for keys in rows.values())


def labels_of(key: str) -> tuple[str, str]:
    """(official row label, official column label) of a table cell or (field label, "") of a field."""
    if key in DATA_CELLS:
        c = DATA_CELLS[key]
        return c.row_label, c.col_label
    if key.startswith("prior."):
        r, c2 = labels_of(key[len("prior."):])
        return f"上年{r}", c2
    return FIELDS_BY_KEY[key].label, ""
