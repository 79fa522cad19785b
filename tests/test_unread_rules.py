"""Issue 21 class 3 ("checked as if read") and class 5 (zero written as a sign): the rules' side of contract U.

When the importer cannot read a table or a row of a published report, it leaves the cells None and says so in the
import props ("unread": [{"table", "what", "keys", "why", "where"}]). No rule may then compare against those cells
(no T1 "表三…为 0 件", no A1–A4 over blanks never read, no V1/V3 on them); one P2 finding per table or row says it
could not be read and where it was looked for. Cells printed "—", "/", "无" or blank ("zero-as" notes) are one
V3.zero finding per table, not one per cell.

The tests build the props shape of contract U directly (the importer produces it on another branch), on real
reports: the seed and the examples of ../shared, some perturbed the way real reports are misread today.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from functools import cache
from typing import Any

import pytest
from conftest import shared_file

from xl_addin import api, rules, spec
from xl_addin.model import IMPORT_PROPS_KEY, Report, ReportData, Severity

T3 = next(t for t in spec.TABLES if t.id == "t3")
T4 = next(t for t in spec.TABLES if t.id == "t4")
WHY = "表格的列数与官方表格不符"
WHERE = "第三部分标题“三、收到和处理政府信息公开申请情况”之后至第四部分之前"


@cache
def _imported(name: str) -> ReportData:
    """A real report of ../shared, imported."""
    return api.import_report(shared_file(f"examples/{name}")).data


def lost(data: ReportData, table: spec.Table) -> ReportData:
    """``data`` with every cell of ``table`` None and no word about it: what the importer left before contract U
    when it lost a table (Hongze and Suqian 2023 with a sub-heading "四、政府信息公开申请情况" right after section
    三's heading lost their whole table 三 so)."""
    return dataclasses.replace(data, values={**data.values, **dict.fromkeys(table.by_key)})


def with_import(data: ReportData, **changes: Any) -> ReportData:
    """``data`` with its import props changed as contract U says; the cells of "unread" entries left None."""
    info = json.loads(data.props[IMPORT_PROPS_KEY])
    info.update(changes)
    values = dict(data.values)
    for u in changes.get("unread", []):
        table = next(t for t in spec.TABLES if t.id == u["table"])
        for key in (table.by_key if u["what"] == "table" else u["keys"]):
            values[key] = None
    return dataclasses.replace(data, values=values, props={**data.props, IMPORT_PROPS_KEY: json.dumps(info)})


def unread_table(table: str = "t3") -> dict[str, Any]:
    return {"table": table, "what": "table", "keys": [], "why": WHY, "where": WHERE}


def on_table(report: Report, table: spec.Table, *rule_ids: str) -> list[str]:
    """The codes of findings of ``rule_ids`` at a cell of ``table`` or naming it."""
    return [f.code for f in report.findings if f.rule in rule_ids
            and (f.key in table.by_key or f"表{table.number}" in f.message)]


# ---- a whole table unread -------------------------------------------------------------------------------------

def test_an_unread_table_three_is_said_once_and_never_checked_as_zeros() -> None:
    # Hongze 2023 with its table 三 lost: checked as zeros, a false T1 and ~50 V3 on cells never read
    data = _imported("published/hongze-district-gov-2023.txt")
    before = api.check_data(lost(data, T3))
    assert [f.code for f in before.by_rule("T1")] == ["T1"]  # "受理…21件" vs "表三…为 0 件": what the user sees today
    assert "为 0 件" in before.by_rule("T1")[0].message
    assert len(on_table(before, T3, "V3")) > 40

    after = api.check_data(with_import(data, unread=[unread_table()]))
    assert on_table(after, T3, "T1", "A1", "A2", "A3", "V1", "V3", "A5", "T8") == []
    (p2,) = after.by_rule("P2")
    assert (p2.code, p2.severity, p2.sheet) == ("P2", Severity.ERROR, "表三")
    assert p2.message.startswith(f"表三“收到和处理政府信息公开申请情况”未能读取：{WHY}（查找位置：{WHERE}）。")
    assert "人工核对" in p2.message and p2.check == "P2:t3"
    # what was read is still checked: table 四's two real A4 errors stay
    assert Counter(f.code for f in after.findings)["A4"] == 2


def test_an_unread_table_quoted_by_many_sentences_raises_no_t1() -> None:
    # Suqian 2023 (汇总) with its table 三 lost: 7 false T1 "表三…为 0 件"
    data = _imported("published/suqian-city-2023.txt")
    assert api.check_data(data).by_rule("T1") == []
    assert len(api.check_data(lost(data, T3)).by_rule("T1")) == 7
    after = api.check_data(with_import(data, unread=[unread_table()]))
    assert after.by_rule("T1") == [] and [f.code for f in after.by_rule("P2")] == ["P2"]


def test_an_unread_table_four_keeps_table_three_checked() -> None:
    data = _imported("published/hongze-district-gov-2023.txt")
    after = api.check_data(with_import(data, unread=[unread_table("t4")]))
    assert after.by_rule("A4") == []  # the two A4 were about table 四, now unread
    assert [(f.code, f.sheet) for f in after.by_rule("P2")] == [("P2", "表四")]
    assert "表四“政府信息公开行政复议、行政诉讼情况”未能读取" in after.by_rule("P2")[0].message
    # table 三 is still compared with the text: a wrong figure is still a T1
    wrong = dataclasses.replace(data, values={**data.values, "s1.on_request": "2023年全区受理政府信息公开申请22件。"})
    assert [f.code for f in api.check_data(with_import(wrong, unread=[unread_table("t4")])).by_rule("T1")] == ["T1"]


# ---- one row unread ---------------------------------------------------------------------------------------------

def test_an_unread_row_is_one_finding_and_no_identity_uses_it() -> None:
    data = _imported("jiangle-industry-bureau-2023.txt")
    keys = [k for k in T3.by_key if k.startswith("t3.granted.")]
    row = {"table": "t3", "what": "row", "keys": keys, "why": "该行被分页截断", "where": "第3页末至第4页首"}
    # the seed: 1 application, granted; the row left blank, A2 fails on it and V3 names it
    blank = dataclasses.replace(data, values={**data.values, **dict.fromkeys(keys)})
    assert {"A2", "V3"} <= {f.code for f in api.check_data(blank).findings}
    after = api.check_data(with_import(data, unread=[row]))
    assert not {"A1", "A2", "A3", "V1", "V3"} & {f.code for f in after.findings}
    (p2,) = after.by_rule("P2")
    assert (p2.code, p2.cell, p2.check) == ("P2.row", "D9", "P2:t3.granted.natural")
    assert p2.message.startswith(
        "表三“三、本年度办理结果 （一）予以公开”一行未能读取：该行被分页截断（查找位置：第3页末至第4页首）。")


def test_a_sentence_quoting_an_unread_row_is_not_compared() -> None:
    data = _imported("jiangle-industry-bureau-2023.txt")
    keys = [k for k in T3.by_key if k.startswith("t3.granted.")]
    said = dataclasses.replace(data, values={**data.values, "s1.on_request": "本年度予以公开5件。"})
    assert [f.code for f in api.check_data(said).by_rule("T1")] == ["T1"]
    row = {"table": "t3", "what": "row", "keys": keys, "why": WHY, "where": WHERE}
    assert api.check_data(with_import(said, unread=[row])).by_rule("T1") == []


@pytest.mark.parametrize("entry", [
    {"table": "t9", "what": "table"}, {"table": "t3", "what": "cell", "keys": ["t3.new.natural"]},
    {"table": "t3", "what": "row", "keys": ["t4.review.total", 3, "nonsense"]}, "t3", None,
])
def test_an_unread_entry_of_another_shape_is_not_trusted(entry: Any) -> None:
    data = _imported("jiangle-industry-bureau-2023.txt")
    report = api.check_data(with_import(data, unread=[]))
    info = json.loads(data.props[IMPORT_PROPS_KEY]) | {"unread": [entry]}
    odd = dataclasses.replace(data, props={**data.props, IMPORT_PROPS_KEY: json.dumps(info)})
    assert api.check_data(odd).findings == report.findings
    assert rules.unread_entries(info) == ()


def test_a_workbook_and_a_report_without_unread_are_unchanged() -> None:
    data = _imported("jiangle-industry-bureau-2023.txt")
    assert api.check_data(with_import(data, unread=[])).findings == api.check_data(data).findings
    assert api.check_data(with_import(data)).by_rule("P2") == []


# ---- zero written as a sign or left blank: one finding per table ---------------------------------------------------

def _zero_notes(keys: list[str], source: str) -> list[dict[str, str]]:
    return [{"kind": "zero-as", "message": "", "key": k, "where": "", "source": source} for k in keys]


def test_zero_written_as_a_dash_is_one_finding_per_table_not_one_per_cell() -> None:
    data = _imported("jiangle-industry-bureau-2023.txt")
    zero3 = [k for k in spec.INPUT_KEYS if k.startswith("t3.") and data.values.get(k) == 0][:30]
    zero4 = [k for k in spec.INPUT_KEYS if k.startswith("t4.") and data.values.get(k) == 0][:5]
    assert len(zero3) == 30 and len(zero4) == 5
    notes = [*_other_notes(data), *_zero_notes(zero3[:20], "—"), *_zero_notes(zero3[20:], ""), *_zero_notes(zero4, "/")]
    report = api.check_data(with_import(data, notes=notes))
    found = [(f.code, f.sheet, f.values["n"]) for f in report.findings if f.code.startswith("V3")]
    assert found == [("V3.zero", "表三", 30), ("V3.zero", "表四", 5)]
    t3 = next(f for f in report.findings if f.code == "V3.zero" and f.sheet == "表三")
    assert t3.severity is Severity.WARNING and t3.check == "V3:t3:zero"
    assert t3.message.startswith("表三有 30 个单元格没有写数字，而是写作“—”（20 个）、留空（10 个）（“")
    assert t3.message.endswith("已按 0 读取。公布的表格应直接填写 0，请把这些单元格改为 0。")
    assert not report.by_rule("V1")


def test_blank_cells_read_as_zero_are_one_finding_not_one_v3_per_row() -> None:
    # Shuyang 2023: 125 blank cells of table 三. Left None without a word they are 25 V3 findings (one per row);
    # read as 0 with a "zero-as" note each (contract U) they are one V3.zero
    data = _imported("published/shuyang-county-drc-2023.html")
    noted = {n["key"] for n in json.loads(data.props[IMPORT_PROPS_KEY])["notes"] if n.get("kind") == "zero-as"}
    blank = [k for k in T3.by_key if data.values.get(k) is None or k in noted]
    assert len(blank) == 125
    info = json.loads(data.props[IMPORT_PROPS_KEY])
    before = dataclasses.replace(data, values={**data.values, **dict.fromkeys(blank)})
    before = with_import(before, notes=_other_notes(data))
    assert len([f for f in api.check_data(before).by_rule("V3") if f.sheet == "表三"]) == 25
    zeroed = dataclasses.replace(data, values={**data.values, **dict.fromkeys(blank, 0)})
    report = api.check_data(with_import(zeroed, notes=[*_other_notes(data), *_zero_notes(blank, "")]))
    assert [(f.code, f.sheet) for f in report.by_rule("V3")] == [("V3.zero", "表三")]
    assert "表三有 125 个单元格没有写数字，而是留空（“" in report.by_rule("V3")[0].message
    assert info["format"] == "2021"


def _other_notes(data: ReportData) -> list[dict[str, Any]]:
    """The import notes of ``data`` but its own "zero-as" ones."""
    return [n for n in json.loads(data.props[IMPORT_PROPS_KEY])["notes"] if n.get("kind") != "zero-as"]
