"""T1 on real wording (issue 21 class 4) and T1 knowing the scope (issue 22 item 4).

Precision first: a number in a slogan, an approximation, a count of part of a row, a negation restricted to part
of a row is no claim about the table; a sentence about the 本级 office against a 汇总 table (or the reverse) is a
warning that the two speak for different scopes, quoting both numbers; where the scope cannot be told, it is said,
not raised as an error. Every true T1 is kept: the corpus below pairs each real-wording sentence with its outcome,
and the real reports of ../shared (the 2019 Shanghai report has a real T1) are checked whole.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

import pytest
from conftest import shared_file

from xl_addin import api, quotes, rules
from xl_addin.model import CellValue, Report, ReportData, Severity

#: the sample, with a table a sentence can disagree with: 3 new applications (自然人), 3 granted; 行政复议 2
#: (维持), 行政诉讼 1 (直接起诉, 维持)
TABLE: dict[str, Any] = {"t3.new.natural": 3, "t3.granted.natural": 3, "t4.review.upheld": 2,
                         "t4.suit_direct.upheld": 1}


@cache
def _sample() -> dict[str, CellValue]:
    return dict(api.sample_values())


def check(text: str, changes: dict[str, Any] | None = None, *, props: dict[str, str] | None = None) -> Report:
    from test_rule_pins import data
    d = data({**TABLE, "s1.on_request": text, **(changes or {})})
    return api.check_data(dataclasses.replace(d, props={**d.props, **(props or {})}))


def t1(report: Report) -> list[tuple[str, Severity]]:
    return [(f.code, f.severity) for f in report.by_rule("T1")]


E = [("T1", Severity.ERROR)]

#: real wording -> T1 findings expected against TABLE. "was": what the rule said before (a false positive gone,
#: or a true one kept)
CORPUS: list[tuple[str, list[tuple[str, Severity]], str]] = [
    # slogans: a number inside is no count
    ("本机关受理政府信息公开申请坚持办一件事、解决一个问题。", [], "T1 (1 件)"),
    ("受理的政府信息公开申请与相关部门一起会商办理。", [], "T1 (1 件)"),
    ("收到政府信息公开申请后实行一条龙办理，推动一网通办、一次办好。", [], "T1 (1 条)"),
    ("全年受理政府信息公开申请3件，坚持办一件事、解决一个问题。", [], "none"),
    ("全年受理政府信息公开申请5件，坚持办一件事、解决一个问题。", E, "T1 (5 件)"),
    # negations restricted to part of a row: no 0 for the row
    ("全年未发生因政府信息公开被行政复议纠错的情况。", [], "T1 (0 件)"),
    ("没有发生行政诉讼败诉案件。", [], "T1 (0 件)"),
    ("全年未发生政府信息公开行政复议被撤销的情况。", [], "T1 (0 件)"),
    ("全年未发生政府信息公开方面责任追究结果情况。", [], "none"),  # 沭阳县发改局 2023: no topic
    ("全年未发生政府信息公开行政复议案件。", E, "T1 (0 件)"),  # a true claim of 0, wrong: kept
    ("本年度未收到政府信息公开申请。", E, "T1 (0 件)"),
    # a part of a row (applicant, channel, subject): not the row's total
    ("通过网上平台收到政府信息公开申请2件。", [], "T1 (2 件)"),
    ("收到自然人提出的政府信息公开申请2件。", [], "T1 (2 件)"),
    ("收到涉及征地拆迁的政府信息公开申请2件。", [], "T1 (2 件)"),
    # approximations
    ("全年收到政府信息公开申请100件以上。", [], "T1 (100 件)"),
    ("全年收到政府信息公开申请约5件。", [], "T1 (5 件)"),
    ("全年收到政府信息公开申请数百件。", [], "T1 (100 件)"),
    ("全年收到的政府信息公开申请数12件。", E, "T1 (12 件)"),  # a count, not "数百"
    # the real sentences of the examples (their own figures as the table here: a mismatch is a true T1)
    ("2023年度我局共收到依申请信息公开26件，及时回复申请人。", E, "T1 (26 件)"),  # 沭阳县发改局: 26 vs 3
    ("本年度共收到政府信息公开申请99件。", E, "T1 (99 件)"),
    ("本年度共收到政府信息公开申请3件，予以公开3件。", [], "none"),
]


@pytest.mark.parametrize(("text", "expected", "was"), CORPUS, ids=[f"corpus{i}" for i in range(len(CORPUS))])
def test_t1_on_real_wording(text: str, expected: list[tuple[str, Severity]], was: str) -> None:
    assert t1(check(text)) == expected, was


def test_a_slogan_keeps_the_sentence_shown_as_written() -> None:
    (f,) = check("本机关受理政府信息公开申请5件，办一件事。").by_rule("T1")
    assert "“本机关受理政府信息公开申请5件，办一件事。”" in f.message and "申请 5 件" in f.message


# ---- the real reports ------------------------------------------------------------------------------------------

@cache
def _report(name: str) -> Report:
    return api.check(shared_file(f"examples/{name}"))


@pytest.mark.parametrize(("name", "expected"), [
    ("published/shanghai-municipal-gov-office-2019.txt", E),  # 予以公开及部分公开258件 vs 272 + 3
    ("published/suqian-city-2023.txt", []),
    ("published/hongze-district-gov-2023.txt", []),
    ("published/shuyang-county-drc-2023.html", []),
    ("jiangle-industry-bureau-2023.txt", []),
])
def test_t1_on_the_real_reports(name: str, expected: list[tuple[str, Severity]]) -> None:
    assert t1(_report(name)) == expected


def test_the_real_t1_of_shanghai_2019_is_kept_word_for_word() -> None:
    (f,) = _report("published/shanghai-municipal-gov-office-2019.txt").by_rule("T1")
    assert f.message == ("“依申请公开”中写“予以公开及部分公开258件，占33.9%；”，即予以公开及部分公开的申请 258 件，"
                         "而表三“三、本年度办理结果 （一）予以公开 总计”与“三、本年度办理结果 （二）部分公开（区分处理的，"
                         "只计这一情形，不计其他情形） 总计”之和为 275 件，两者应一致。请核对文字或表格。")


# ---- scope: 本级 sentences, 汇总 tables ---------------------------------------------------------------------------

GOV: dict[str, Any] = {"meta.kind": "人民政府", "meta.agency": "某某县人民政府"}
OWN = "县政府办代表县政府受理政府信息公开申请1件。"  # the 本级 office; the table counts 3 (the whole county)


def test_a_benji_sentence_against_a_huizong_table_is_a_warning_quoting_both() -> None:
    report = check(OWN, GOV, props={rules.SCOPE_PROPS_KEY: "汇总"})
    (f,) = report.by_rule("T1")
    assert (f.code, f.severity, f.check) == ("T1.scope", Severity.WARNING, "T1:s1.on_request:new")
    assert f.message == ("“依申请公开”中写“县政府办代表县政府受理政府信息公开申请1件。”，说的是本机关（“县政府办”）的"
                         "本年新收的政府信息公开申请 1 件，而表三“一、本年新收政府信息公开申请数量 总计”为 3 件，统计的是"
                         "全县（名册“报告范围”为汇总）。文字与表格的统计范围不同，不按数字不一致处理。"
                         "汇总报告应写明全县的数字，请改写或补充全县的数字。")


def test_the_scope_can_come_from_the_text_and_says_so() -> None:
    text = "全县共受理政府信息公开申请3件。其中，县政府办代表县政府受理政府信息公开申请1件。"
    (f,) = check(text, GOV).by_rule("T1")
    assert f.code == "T1.scope" and "（按正文“全县”的数字推断为汇总报告）" in f.message
    assert rules.report_scope(_gov_data(text), None) == ("汇总", "按正文“全县”的数字推断为汇总报告")


def test_a_huizong_sentence_against_a_benji_table_is_the_same_warning() -> None:
    (f,) = check("全县共受理政府信息公开申请40件。", GOV, props={rules.SCOPE_PROPS_KEY: "本级"}).by_rule("T1")
    assert f.code == "T1.scope" and "说的是全县的本年新收" in f.message
    assert "统计的是本机关（名册“报告范围”为本级）" in f.message
    assert f.message.endswith("本级报告的文字应写本机关自身的数字，请核对。")


def test_same_scope_and_a_different_number_is_still_an_error() -> None:
    assert t1(check("全县共受理政府信息公开申请4件。", GOV, props={rules.SCOPE_PROPS_KEY: "汇总"})) == E
    assert t1(check(OWN, GOV, props={rules.SCOPE_PROPS_KEY: "本级"})) == E
    assert t1(check("我局共收到政府信息公开申请1件。")) == E  # a department's report is 本级


def test_a_sentence_whose_scope_cannot_be_told_is_said_not_raised() -> None:
    (f,) = check("共受理政府信息公开申请1件。", GOV, props={rules.SCOPE_PROPS_KEY: "汇总"}).by_rule("T1")
    assert (f.code, f.severity) == ("T1.unsure", Severity.WARNING)
    assert "本报告为汇总报告（名册“报告范围”为汇总），表格统计全县，而这句话未写明说的是本机关还是全县，" in f.message
    assert "请在文字中写明统计范围（本机关或全县）" in f.message


def test_a_government_report_of_unknown_scope_with_a_benji_sentence_is_unsure() -> None:
    (f,) = check(OWN, GOV).by_rule("T1")
    assert f.code == "T1.unsure" and "而本报告是本级还是全县汇总无从得知（名册未注明报告范围，正文也未说明）" in f.message


def test_the_caller_may_give_the_scope() -> None:
    from test_rule_pins import data
    d = data({**TABLE, **GOV, "s1.on_request": OWN})
    ctx = rules.Context(d, scope="汇总")
    (f,) = [f for f in rules.validate(d, ["T1"], context=ctx)]
    assert f.code == "T1.scope" and "调用方给定的报告范围为汇总" in f.message


def _gov_data(text: str) -> ReportData:
    from test_rule_pins import data
    return data({**TABLE, **GOV, "s1.on_request": text})


def test_a_real_huizong_report_with_a_benji_sentence_is_a_scope_warning() -> None:
    # 宿迁市 2023 (全市 汇总): its figures are the city's; a sentence about the 市政府办 alone is not an error
    path = shared_file("examples/published/suqian-city-2023.txt")
    data = api.import_report(path).data
    assert rules.report_scope(data, rules.import_info(data))[0] == "汇总"
    extra = "市政府办公室代表市政府受理政府信息公开申请349件。"
    text = data.text("s1.on_request") + "\n" + extra
    report = api.check_data(dataclasses.replace(data, values={**data.values, "s1.on_request": text}))
    (f,) = report.by_rule("T1")
    assert f.code == "T1.scope" and "349 件" in f.message and "为 3511 件" in f.message
    assert "（按正文“全市”的数字推断为汇总报告）" in f.message


@pytest.mark.parametrize(("text", "scope"), [
    ("全区受理政府信息公开申请21件。", ("汇总", "全区")),
    ("市政府办公厅代表市政府共受理政府信息公开申请859件。", ("本级", "市政府办公厅")),
    ("我局共收到申请2件。", ("本级", "我局")),
    ("共受理政府信息公开申请5件。", ("", "")),
    ("全县政务公开工作有序推进。县政府办受理申请1件。", ("本级", "县政府办")),
])
def test_scope_of_a_sentence(text: str, scope: tuple[str, str]) -> None:
    q = next(q for q in quotes.quotes(text) if q.value)
    assert quotes.scope_of(text, q.start) == scope


#: every figure T1 reads in the real reports of ../shared (field, topic, value): the regression corpus of real
#: wording. Suqian's "（市政府349件、市各有关部门933件…）" breakdown, Shanghai's "一网通办" slogans and
#: Shuyang's "未发生…责任追究结果情况" read nothing.
REAL_QUOTES = {
    "published/hongze-district-gov-2023.txt": [("s1.on_request", "new", 21)],
    "published/shanghai-municipal-gov-office-2019.txt": [
        ("s1.on_request", "new", 859), ("s1.on_request", "concluded", 805), ("s1.on_request", "carried_in", 18),
        ("s1.on_request", "granted_partial", 258), ("s1.on_request", "refused", 35), ("s1.on_request", "unable", 265),
        ("s1.on_request", "ignored", 158), ("s1.on_request", "other_handled", 0), ("s1.on_request", "review", 7)],
    "published/suqian-city-2023.txt": [
        ("s1.on_request", "new", 3607), ("s1.on_request", "granted", 1191), ("s1.on_request", "partial", 328),
        ("s1.on_request", "refused", 142), ("s1.on_request", "unable", 1078), ("s1.on_request", "ignored", 406),
        ("s1.on_request", "carried_out", 121)],
    "published/shuyang-county-drc-2023.html": [("s1.on_request", "new", 26)],
    "jiangle-industry-bureau-2023.txt": [],
}


@pytest.mark.parametrize("name", list(REAL_QUOTES))
def test_the_figures_read_from_the_real_reports(name: str) -> None:
    data = api.import_report(shared_file(f"examples/{name}")).data
    found = [(key, q.topic.id, q.value) for key in rules.T1_FIELDS for q in quotes.quotes(data.text(key), data.year)]
    assert found == REAL_QUOTES[name]
    # and whom they count for: Hongze's and Suqian's are the region's, Shanghai's the 办公厅's own
    scopes = {quotes.scope_of(data.text(key), q.start)[0] for key in rules.T1_FIELDS
              for q in quotes.quotes(data.text(key), data.year)}
    assert scopes <= {"本级", "汇总", ""}
    if "hongze" in name or "suqian" in name:
        assert rules.report_scope(data, rules.import_info(data))[0] == "汇总"
    elif found:
        assert rules.report_scope(data, rules.import_info(data)) == ("本级", "机关类别为政府部门，按本级报告")
