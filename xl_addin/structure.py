"""What the template owns, computed from the spec: fixed texts, merged ranges, unlocked cells, derived formulas.

The template builder writes exactly this; the S2 rule compares a workbook against it; the fingerprint
(:mod:`xl_addin.fingerprint`) is a hash of it, so any change of layout changes the fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from . import drafts, expr, spec
from .model import Severity

TITLE_ROW = 1
STATUS_ROW = 2
#: the line under the status line that names the identities that do not hold (live.identity_formula); not
#: merged, so a workbook of an earlier build keeps the template's merges (its text runs on over the empty row)
IDENTITY_ROW = 3


@dataclass(frozen=True)
class Expected:
    #: (sheet, A1) -> fixed text the template writes there
    labels: dict[tuple[str, str], str]
    #: sheet -> merged ranges
    merges: dict[str, frozenset[str]]
    #: sheet -> unlocked (input) cells
    unlocked: dict[str, frozenset[str]]
    #: derived key -> formula
    formulas: dict[str, str]

    @property
    def sheets(self) -> tuple[str, ...]:
        return OWNED_SHEETS


#: the results sheet the tools write findings into (template_builder lays it out, the add-in fills it)
RESULTS_HEADERS = ("规则", "级别", "工作表", "单元格", "行", "列", "说明")
RESULTS_NOT_RUN = ("这里列出“校验”按钮的全面检查结果，目前尚未检查。表格数字已在各表第2行和“校验汇总”中随填随查；"
                   "装有“政务公开年报”加载项的电脑可点“校验”做全面检查，没有加载项的请把工作簿交县政务公开办检查。")
#: the fills that tell input cells from derived ones (RGB hex; the add-in's 清除标记 restores them)
INPUT_COLOR = "FFF9E5"
DERIVED_COLOR = "E7E6E6"
#: the fill of a cell a finding (or a failing live check) marks, by level: the sheet's conditional formats and the
#: add-in's marks use the same colours
MARK_COLORS = {Severity.ERROR: "FFC7CE", Severity.WARNING: "FFE699", Severity.INFO: "DDEBF7"}
#: the cells of an identity that does not hold (A1-A4, X1), apart from a cell holding a bad value (red)
IDENTITY_COLOR = "D9D2E9"
#: the colour legend printed under each table
LEGEND = ("图例：浅黄色＝请填写；灰色＝自动计算的合计；红色＝填写有误；紫色＝所在行或列的勾稽关系不符；"
          "橙色＝警告或尚未填写（没有的请填0）。")

OWNED_SHEETS = (spec.META_SHEET, *(t.sheet for t in spec.TABLES), spec.NARRATIVE_SHEET)
META_TITLE = "政府信息公开工作年度报告——基本信息"
NARRATIVE_TITLE = "政府信息公开工作年度报告——正文（一、五、六部分）"
NARRATIVE_HEADERS = ("部分", "内容", "填写", "按表格数字自动生成的句子（供参考，无需填写）")
#: column C of a draft's own row (the sentence before table 四): nothing to type there
DRAFT_ROW_NOTE = "本部分为表四，无需填写文字。右侧句子随表四数字变化；在“基本信息”中选择导出时使用，它会放在表四之前。"
META_HEADERS = ("项目", "填写", "说明")


#: column heads that may break, and the words they break between (as in the official Word copies); table 四's
#: fifteen columns fit a desktop page only with its four-character heads on two lines
HEAD_WORDS: dict[str, tuple[str, ...]] = {
    "商业企业": ("商业", "企业"),
    "科研机构": ("科研", "机构"),
    "结果维持": ("结果", "维持"),
    "结果纠正": ("结果", "纠正"),
    "其他结果": ("其他", "结果"),
    "尚未审结": ("尚未", "审结"),
    "社会公益组织": ("社会", "公益组织"),
    "法律服务机构": ("法律", "服务机构"),
    "法人或其他组织": ("法人或", "其他组织"),
    "本年制发件数": ("本年", "制发件数"),
    "本年废止件数": ("本年", "废止件数"),
    "现行有效件数": ("现行", "有效件数"),
    "本年处理决定数量": ("本年处理", "决定数量"),
    "本年收费金额（单位：万元）": ("本年收费金额", "（单位：万元）"),
    "未经复议直接起诉": ("未经复议", "直接起诉"),
}
#: the heads the template's table sheets break onto two lines (the others fit their columns)
SHEET_BROKEN_HEADS = ("社会公益组织", "法律服务机构")


def sheet_head(text: str) -> str:
    """A label as the template's sheet shows it: broken between its words where the official copies break it
    (S2 ignores line breaks)."""
    return "\n".join(HEAD_WORDS[text]) if text in SHEET_BROKEN_HEADS else text


#: the width (Excel character units) of the 正文 sheet's text column, and the printable line height of its font
NARRATIVE_TEXT_WIDTH = 80
_LINE_POINTS, _MAX_ROW_POINTS = 16.5, 409.0


def wrapped_lines(text: str, width: float) -> int:
    """Lines a text takes wrapped in a column ``width`` characters (Excel units) wide; a CJK character is two."""
    per_line = max(1, int(width))
    return sum(max(1, -(-sum(2 if ord(ch) > 0x2E80 else 1 for ch in para) // per_line))
               for para in text.splitlines() or [""])


def narrative_row_height(text: str) -> float | None:
    """The row height (points) that shows all of a narrative cell's text, wrapped in its column; None for no text
    (the row is left to grow as the clerk types). Spreadsheets do not re-measure rows of a file written by a
    program, so rows written with text get their height from here."""
    if not text.strip():
        return None
    lines = wrapped_lines(text, NARRATIVE_TEXT_WIDTH - 4)
    return min(_MAX_ROW_POINTS, max(30.0, lines * _LINE_POINTS + 6))


#: the data validation the template puts on an input cell, by what the cell holds (narrative text: "textLength")
VALIDATION_TYPES = {spec.Kind.COUNT: "whole", spec.Kind.MONEY: "decimal", spec.Kind.YEAR: "whole",
                    spec.Kind.DATE: "date", spec.Kind.CHOICE: "list"}
TEXT_VALIDATION = "textLength"


@cache
def expected_validations(version: int = spec.LAYOUT_VERSION) -> dict[tuple[str, str], str]:
    """(sheet, A1) -> the type of data validation on every input cell that has one, in the template of layout
    ``version`` (S2 compares a workbook's)."""
    loc = spec.layout_of(version).locations
    out: dict[tuple[str, str], str] = {}
    for key in spec.INPUT_KEYS:
        where = loc[key]
        out[(where.sheet, where.a1)] = VALIDATION_TYPES[spec.DATA_CELLS[key].kind]
    for f in spec.META_FIELDS:
        if f.kind in VALIDATION_TYPES:
            where = loc[f.key]
            out[(where.sheet, where.a1)] = VALIDATION_TYPES[f.kind]
    for f in spec.fields_of_layout(version):
        where = loc[f.key]
        out[(where.sheet, where.a1)] = TEXT_VALIDATION
    return out


def is_ours(named: int, template_id: str | None) -> bool:
    """Whether a workbook is one of this template's (every reader, the writer and the add-in ask this): its hidden
    sheet names our template, or at least half of the template's input cells are found by their defined names (a
    copy whose hidden sheet was lost is still checked, and its damage reported as S2)."""
    return template_id == spec.TEMPLATE_ID or named >= len(spec.INPUT_KEYS) // 2


def _range(row: int, col: int, rowspan: int, colspan: int) -> str:
    a = f"{spec.col_letter(col)}{row}"
    if rowspan == 1 and colspan == 1:
        return a
    return f"{a}:{spec.col_letter(col + colspan - 1)}{row + rowspan - 1}"


def draft_rows(version: int = spec.LAYOUT_VERSION) -> list[tuple[int, str, str]]:
    """(row, section heading, label) of the drafted sentences with a row of their own on the narrative sheet."""
    return [(row, drafts.section_heading(d.section), d.label) for row, d in drafts.extra_rows(spec.layout_of(version))]


def narrative_section_rows(version: int = spec.LAYOUT_VERSION) -> list[tuple[str, int, int]]:
    """(section heading, first row, number of rows) on the narrative sheet."""
    out: list[tuple[str, int, int]] = []
    row = spec.NARRATIVE_FIRST_ROW
    fields = spec.fields_of_layout(version)
    for sec in spec.SECTIONS:
        if not sec.narrative:
            continue
        n = len([f for f in spec.narrative_fields(sec.number) if f in fields])
        out.append((sec.heading, row, n))
        row += n
    return out


@cache
def expected(version: int = spec.LAYOUT_VERSION) -> Expected:
    """What the template of layout ``version`` owns (this build writes :data:`~xl_addin.spec.LAYOUT_VERSION`; a
    workbook of an earlier layout is compared with its own)."""
    labels: dict[tuple[str, str], str] = {}
    merges: dict[str, set[str]] = {s: set() for s in OWNED_SHEETS}
    unlocked: dict[str, set[str]] = {s: set() for s in OWNED_SHEETS}
    loc = spec.layout_of(version).locations

    for t in spec.TABLES:
        labels[(t.sheet, f"A{TITLE_ROW}")] = t.heading
        merges[t.sheet].add(_range(TITLE_ROW, 1, 1, t.n_cols))
        merges[t.sheet].add(_range(STATUS_ROW, 1, 1, t.n_cols))
        for lab in t.labels:
            r = spec.TABLE_ORIGIN_ROW + lab.row - 1
            labels[(t.sheet, _range(r, lab.col, 1, 1))] = lab.text
            if lab.rowspan > 1 or lab.colspan > 1:
                merges[t.sheet].add(_range(r, lab.col, lab.rowspan, lab.colspan))
        for c in t.cells:
            where = loc[c.key]
            if c.colspan > 1:
                merges[t.sheet].add(where.a1_range)
            if not c.derived:
                unlocked[t.sheet].add(where.a1)

    labels[(spec.META_SHEET, "A1")] = META_TITLE
    merges[spec.META_SHEET].add("A1:C1")
    for i, h in enumerate(META_HEADERS):
        labels[(spec.META_SHEET, f"{spec.col_letter(i + 1)}{spec.META_FIRST_ROW - 1}")] = h
    for f in spec.META_FIELDS:
        where = loc[f.key]
        labels[(spec.META_SHEET, f"A{where.row}")] = f.label
        labels[(spec.META_SHEET, f"C{where.row}")] = f.help
        unlocked[spec.META_SHEET].add(where.a1)

    labels[(spec.NARRATIVE_SHEET, "A1")] = NARRATIVE_TITLE
    merges[spec.NARRATIVE_SHEET].add(f"A1:{spec.col_letter(len(NARRATIVE_HEADERS))}1")
    for i, h in enumerate(NARRATIVE_HEADERS):
        labels[(spec.NARRATIVE_SHEET, f"{spec.col_letter(i + 1)}{spec.NARRATIVE_FIRST_ROW - 1}")] = h
    for heading, row, n in narrative_section_rows(version):
        labels[(spec.NARRATIVE_SHEET, f"A{row}")] = heading
        if n > 1:
            merges[spec.NARRATIVE_SHEET].add(f"A{row}:A{row + n - 1}")
    for f in spec.fields_of_layout(version):
        where = loc[f.key]
        labels[(spec.NARRATIVE_SHEET, f"B{where.row}")] = f.label
        unlocked[spec.NARRATIVE_SHEET].add(where.a1)
    for row, heading, label in draft_rows(version):
        labels[(spec.NARRATIVE_SHEET, f"A{row}")] = heading
        labels[(spec.NARRATIVE_SHEET, f"B{row}")] = label
        labels[(spec.NARRATIVE_SHEET, f"C{row}")] = DRAFT_ROW_NOTE

    formulas = {k: expr.derived_formula(k, loc) for k in spec.DERIVED_KEYS}
    return Expected(labels, {s: frozenset(m) for s, m in merges.items()},
                    {s: frozenset(u) for s, u in unlocked.items()}, formulas)


def normalise_label(v: object) -> str:
    """Label text as compared by S2: white space and line breaks dropped (Word copies break 商业企业 in two)."""
    if v is None:
        return ""
    return "".join(str(v).split())
