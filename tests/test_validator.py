"""The validator on real workbooks built by the template builder and filled with openpyxl."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from conftest import Filler, rename_sheet

from xl_addin import api, spec
from xl_addin.model import Finding, Report


def where(key: str) -> str:
    return spec.LAYOUT.locations[key].a1


def rules_at(report: Report, *rules: str) -> set[tuple[str, str, str]]:
    return {(f.rule, f.sheet, f.cell) for f in report.findings if f.rule in rules}


def only(report: Report, rule: str) -> Finding:
    found = report.by_rule(rule)
    assert len(found) == 1, [f.message for f in report.findings]
    return found[0]


def test_the_bundled_sample_passes_without_any_finding(sample: Path) -> None:
    report = api.check(sample)
    assert report.valid
    assert report.findings == ()


def test_a_blank_template_reports_every_missing_part_and_never_stops_early(template: Path) -> None:
    report = api.check(template)
    assert not report.valid
    rules = {f.rule for f in report.findings}
    assert {"V3", "T2", "T3", "T5", "T6", "S4", "P1"} <= rules
    v3_rows = [f for f in report.findings if f.rule == "V3" and f.sheet == "表三"]
    assert len(v3_rows) == 24  # every body row of 三 but （七）总计, whose cells are all derived
    assert not rules & {"A1", "A2", "A3", "A4", "V1", "S2"}


@pytest.mark.parametrize(("value", "hint"), [
    ("三", "删除文字"), ("/", "不要填“/”"), (-1, "不能为负数"), (2.5, "不能有小数"), ("=1+2", "不要在填报单元格中输入公式"),
    ("12", "文本格式的数字"), (" ", "删除文字"),
])
def test_a_bad_count_is_v1_at_its_cell_with_official_labels_and_the_fix(filled: Filler, value: Any, hint: str) -> None:
    key = "t3.refused_third_party.business"
    report = api.check(filled({key: value}))
    f = only(report, "V1")
    assert (f.severity.value, f.sheet, f.cell) == ("error", "表三", where(key))
    assert f.labels == ("（三）不予公开 4.保护第三方合法权益", "法人或其他组织 商业企业")
    assert "4.保护第三方合法权益" in f.message and "商业企业" in f.message and hint in f.message
    # the bad cell makes the identities of its row and column undecidable; V1 says what to fix
    assert not rules_at(report, "A1", "A2", "A3")


@pytest.mark.parametrize(("value", "severity", "variant_text"), [
    (-1, "error", "不小于0"), (0.12345, "error", "最多4位小数"), ("五千", "error", "不小于0"), (3500, "warning", "按“元”填写"),
])
def test_the_fee_is_checked_as_money_in_wan_yuan(filled: Filler, value: Any, severity: str, variant_text: str) -> None:
    f = only(api.check(filled({"t2.fees.amount": value})), "V2")
    assert (f.severity.value, f.sheet, f.cell) == (severity, "表二", "B17")
    assert variant_text in f.message


def test_fee_with_four_decimals_is_fine(filled: Filler) -> None:
    assert api.check(filled({"t2.fees.amount": 0.1234})).findings == ()


def test_blank_cells_are_one_v3_warning_per_row(filled: Filler) -> None:
    report = api.check(filled({"t3.partial.natural": None, "t3.partial.legal": None}))
    f = only(report, "V3")
    assert (f.severity.value, f.sheet, f.cell) == ("warning", "表三", "D10:H10")
    assert "（二）部分公开" in f.message and "D10、H10" in f.message
    assert report.valid  # blank reads as 0: the identities still hold


def test_rules_for_a_county_body_are_v4(filled: Filler) -> None:
    report = api.check(filled({"t2.rules.made": 2, "t2.rules.in_force": 2}))
    assert rules_at(report, "V4") == {("V4", "表二", "B6"), ("V4", "表二", "D6")}
    f = report.by_rule("V4")[0]
    assert f.severity.value == "warning" and "县级" in f.message and "规章" in f.message
    assert not api.check(filled({"t2.rules.made": 2, "t2.rules.in_force": 2, "meta.level": "市级"})).by_rule("V4")


def test_a3_the_printed_identity_per_column(filled: Filler) -> None:
    report = api.check(filled({"t3.new.research": 2}))
    assert rules_at(report, "A1", "A2", "A3") == {("A3", "表三", "F31"), ("A3", "表三", "J31")}
    f = next(f for f in report.by_rule("A3") if f.cell == "F31")
    assert f.values["lhs"] == 2 and f.values["rhs"] == 0
    assert "科研机构" in f.message and "＝2" in f.message and "＝0" in f.message


def test_an_overwritten_total_is_checked_against_its_parts(filled: Filler) -> None:
    report = api.check(filled({"t3.granted.total": 5}))
    a1 = only(report, "A1")
    assert (a1.sheet, a1.cell, a1.values["lhs"], a1.values["rhs"]) == ("表三", "J9", 5, 1)
    assert "（一）予以公开" in a1.message and "计算合计" in a1.message
    assert rules_at(report, "A2") == {("A2", "表三", "J30")}
    s2 = only(report, "S2")
    assert (s2.severity.value, s2.cell) == ("warning", "J9")


def test_an_overwritten_total_that_is_right_only_warns(filled: Filler) -> None:
    report = api.check(filled({"t3.granted.total": 1}))
    assert [(f.rule, f.severity.value) for f in report.findings] == [("S2", "warning")]


def test_a2_column_total_overwritten(filled: Filler) -> None:
    report = api.check(filled({"t3.total.natural": 3}))
    assert rules_at(report, "A1", "A2", "A3") == {("A2", "表三", "D30"), ("A1", "表三", "J30"), ("A3", "表三", "D31")}


def test_a4_review_and_litigation_totals(filled: Filler) -> None:
    report = api.check(filled({"t4.suit_direct.upheld": 1, "t4.suit_direct.total": 0}))
    f = only(report, "A4")
    assert (f.sheet, f.cell) == ("表四", "J7")
    assert "未经复议直接起诉" in f.message


def test_a5_many_carried_over_is_info(filled: Filler) -> None:
    report = api.check(filled({"t3.new.natural": 10, "t3.granted.natural": 6, "t3.carried_out.natural": 4,
                               "s1.on_request": "本年度新收政府信息公开申请10件，结转下年度4件。"}))
    f = only(report, "A5")
    assert f.severity.value == "info" and report.valid


def test_a6_made_more_than_in_force_plus_repealed(filled: Filler) -> None:
    f = only(api.check(filled({"t2.normative.made": 3, "t2.normative.in_force": 1})), "A6")
    assert (f.severity.value, f.cell) == ("warning", "B7")
    assert "行政规范性文件" in f.message


@pytest.mark.parametrize(("key", "value", "rule", "severity"), [
    ("s6.fees", "", "T2", "error"),
    ("s6.innovation", "无", "T3", "warning"),
    ("s1.platform", None, "T5", "warning"),
    ("s5.measures", "", "T6", "warning"),
])
def test_narrative_presence(filled: Filler, key: str, value: Any, rule: str, severity: str) -> None:
    f = only(api.check(filled({key: value})), rule)
    assert (f.severity.value, f.sheet, f.cell) == (severity, "正文", where(key))


def test_fee_mentioned_elsewhere_in_section_six_counts(filled: Filler) -> None:
    report = api.check(filled({"s6.fees": None, "s6.other": "本年度未收取信息处理费。"}))
    assert not report.by_rule("T2")


def test_section_five_empty_or_none_is_an_error(filled: Filler) -> None:
    report = api.check(filled({"s5.problems": "无", "s5.measures": "无。", "s5.last_year_fixes": None}))
    f = only(report, "T6")
    assert f.severity.value == "error"


def test_a_government_must_report_assessment_evaluation_and_accountability(filled: Filler) -> None:
    report = api.check(filled({"meta.kind": "人民政府"}))
    f = only(report, "T4")
    assert "社会评议" in f.message and "责任追究" in f.message and "工作考核" not in f.values["missing"]
    fixed = filled({"meta.kind": "人民政府", "s1.supervision": "开展工作考核和社会评议，本年度未发生责任追究情况。"})
    assert not api.check(fixed).by_rule("T4")


@pytest.mark.parametrize(("kind", "date", "late"), [
    ("政府部门", dt.date(2024, 1, 31), False), ("政府部门", dt.date(2024, 2, 1), True),
    ("人民政府", dt.date(2024, 3, 31), False), ("人民政府", dt.date(2024, 4, 1), True),
    ("政府部门", "2024年2月5日", True),
])
def test_p1_publication_deadline(filled: Filler, kind: str, date: Any, late: bool) -> None:
    changes: dict[str, Any] = {"meta.kind": kind, "meta.report_date": date}
    if kind == "人民政府":
        changes["s1.supervision"] = "工作考核、社会评议、责任追究均已落实。"
    report = api.check(filled(changes))
    assert bool(report.by_rule("P1")) == late
    if late:
        assert "1月31日" in report.by_rule("P1")[0].message or "3月31日" in report.by_rule("P1")[0].message


def test_missing_basic_facts_are_s4(filled: Filler) -> None:
    report = api.check(filled({"meta.agency": None, "meta.year": "二〇二三", "meta.report_date": None}))
    assert rules_at(report, "S4") == {("S4", "基本信息", "B3"), ("S4", "基本信息", "B6")}
    assert only(report, "P1").severity.value == "warning"


# ---- S2: template tampering ---------------------------------------------------------------------------------

def _unprotect(wb: Any) -> None:
    wb.security.lockStructure = False
    wb["表三"].protection.sheet = False


def test_unprotected_after_a_foreign_save_is_only_a_warning(filled: Filler) -> None:
    report = api.check(filled(edit=_unprotect))
    f = only(report, "S2")
    assert f.severity.value == "warning" and "表三" in f.message and "工作簿结构" in f.message
    assert report.valid


def test_a_changed_label_is_an_error_at_its_cell(filled: Filler) -> None:
    def edit(wb: Any) -> None:
        wb["表三"]["C11"] = "1.国家秘密"
    f = only(api.check(filled(edit=edit)), "S2")
    assert (f.severity.value, f.sheet, f.cell) == ("error", "表三", "C11")
    assert "1.属于国家秘密" in f.message


def test_a_label_broken_over_two_lines_is_not_tampering(filled: Filler) -> None:
    def edit(wb: Any) -> None:
        wb["表三"]["E6"] = "商业\n企业"
    assert api.check(filled(edit=edit)).findings == ()


def test_unmerged_cells_and_a_changed_formula_are_errors(filled: Filler) -> None:
    def edit(wb: Any) -> None:
        wb["表三"].unmerge_cells("B11:B18")
        wb["表三"]["J9"] = "=SUM(D9:H9)"
    report = api.check(filled(edit=edit))
    assert rules_at(report, "S2") == {("S2", "表三", "B11:B18"), ("S2", "表三", "J9")}
    assert all(f.severity.value == "error" for f in report.by_rule("S2"))


def test_an_equivalent_formula_is_accepted(filled: Filler) -> None:
    def edit(wb: Any) -> None:
        wb["表三"]["J9"] = "=D9+E9+F9+$G$9+SUM(H9:I9)"
    assert api.check(filled(edit=edit)).findings == ()


def test_a_locked_input_or_an_unlocked_label_is_an_error(filled: Filler) -> None:
    from openpyxl.styles import Protection

    def edit(wb: Any) -> None:
        wb["表三"]["D9"].protection = Protection(locked=True)
        wb["表三"]["C11"].protection = Protection(locked=False)
    f = only(api.check(filled(edit=edit)), "S2")
    assert "D9" in f.message and "C11" in f.message


def test_a_deleted_sheet_is_an_error_and_the_rest_is_still_checked(filled: Filler) -> None:
    def edit(wb: Any) -> None:
        del wb["表四"]
    report = api.check(filled({"t3.new.natural": "x"}, edit=edit))
    assert ("S2", "表四", "") in rules_at(report, "S2")
    assert rules_at(report, "V1") == {("V1", "表三", "D7")}


def test_a_renamed_sheet_is_read_through_its_names_and_warned(filled: Filler) -> None:
    def edit(wb: Any) -> None:
        rename_sheet(wb, "表三", "申请情况")
    report = api.check(filled({"t3.new.natural": 7}, edit=edit))
    assert ("S2", "申请情况", "") in rules_at(report, "S2")
    assert {f.cell for f in report.by_rule("A3")} == {"D31", "J31"}
    assert all(f.sheet == "申请情况" for f in report.by_rule("A3"))


# ---- X1/X2: across years -------------------------------------------------------------------------------------

def test_cross_year_rules_with_last_years_workbook(filled: Filler) -> None:
    last = filled({"t3.carried_out.natural": 2, "t3.new.natural": 3, "t3.granted.natural": 1,
                   "t2.normative.in_force": 5}, name="last.xlsx")
    this = filled({"t2.normative.made": 2, "t2.normative.in_force": 6, "t2.normative.repealed": 0}, name="this.xlsx")
    report = api.check(this, last_year=last)
    assert rules_at(report, "X1") == {("X1", "表三", "D8"), ("X1", "表三", "J8")}
    x1 = report.by_rule("X1")[0]
    assert (x1.values["lhs"], x1.values["rhs"]) == (0, 2) and "自然人" in x1.message
    x2 = only(report, "X2")
    assert (x2.cell, x2.values["lhs"], x2.values["rhs"], x2.severity.value) == ("D7", 6, 7, "warning")
    assert not api.check(this).by_rule("X1")  # no last year, no cross-year finding


def test_last_years_figures_prefilled_in_the_template_are_used(tmp_path: Path, sample_values: dict[str, Any]) -> None:
    path = tmp_path / "with-prior.xlsx"
    from xl_addin.adapters.template_builder import write_template

    write_template(path, sample_values, prior={"t3.carried_out.natural": 1, "t3.carried_out.total": 1})
    report = api.check(path)
    assert {f.cell for f in report.by_rule("X1")} == {"D8", "J8"}


def test_every_check_result_replaced_by_the_text_passed_is_caught(filled: Filler) -> None:
    """The sheet would then say 通过 to the clerk and to anyone who opens it: S2 compares every formula that
    shows a result with what the catalogue compiles."""
    from xl_addin import live

    def edit(wb: Any) -> None:
        for sheet, a1 in live.formula_cells():
            wb[sheet][a1] = "通过"

    report = api.check(filled({"t3.new.natural": 9}, edit=edit))
    (f,) = report.by_rule("S2")
    assert f.code == "S2.live" and f.severity.value == "error" and "不可信" in f.message
    assert report.by_rule("A3")  # and the tables are still checked
