"""The add-in's buttons (xl_addin.addin) against xlwings' own remote engine.

``xw.Book(json=payload)`` gets the request body the VBA client (Remote.bas) sends, built from real template
workbooks; the assertions are on ``book.json()["actions"]``, the list the VBA client would then execute. Every
action must be one the VBA client implements (the allow-list is parsed from the Remote.bas in the wheel).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

xw = pytest.importorskip("xlwings")

from conftest import DATA, Filler  # noqa: E402
from xlwings_payload import payload_from_xlsx  # noqa: E402

from xl_addin import __version__, addin, api, spec, structure  # noqa: E402
from xl_addin.adapters import livebook as lb  # noqa: E402
from xl_addin.model import Severity  # noqa: E402

REMOTE_BAS = Path(xw.__file__).parent / "addin" / "Remote.bas"
MAX_READS, MAX_WRITES = 3, 5


@pytest.fixture(autouse=True)
def _license(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")


def vba_client_actions() -> set[str]:
    """The action names the VBA client runs: ``Sub name(wb As Workbook, action As Dictionary)`` in Remote.bas."""
    text = REMOTE_BAS.read_text(encoding="utf-8", errors="replace")
    return set(re.findall(r"^Sub (\w+)\(wb As Workbook, action As Dictionary\)", text, re.M))


def book_of(path: Path, name: str | None = None) -> Any:
    return xw.Book(json=payload_from_xlsx(path, name=name))


def actions(book: Any) -> list[dict[str, Any]]:
    return list(book.json()["actions"])


def _a1(row0: int, col0: int) -> str:
    return f"{spec.col_letter(col0 + 1)}{row0 + 1}"


def written_cells(book: Any) -> dict[tuple[str, str], Any]:
    """(sheet, A1) -> content of every cell the actions write (setValues and the XaWrite helper)."""
    sheets = [s.name for s in book.sheets]
    out: dict[tuple[str, str], Any] = {}
    for a in actions(book):
        if a["func"] == "setValues":
            sheet = sheets[a["sheet_position"]]
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    out[(sheet, _a1(a["start_row"] + i, a["start_column"] + j))] = v
        elif a["func"] == "runMacro" and a["args"][0].endswith(lb.WRITE_ROWS_MACRO):
            idx, corner = a["args"][1].split("!")
            r0, c0 = spec.cell_index(corner)
            for i, line in enumerate(a["args"][2].split(lb.ROW_SEP)):
                for j, v in enumerate(line.split(lb.CELL_SEP)):
                    out[(sheets[int(idx) - 1], _a1(r0 - 1 + i, c0 - 1 + j))] = v
        elif a["func"] == "runMacro" and a["args"][0].endswith(lb.WRITE_MACRO):
            for item in a["args"][1].split(";"):
                where, content = item.split("|", 1)
                idx, a1 = where.split("!")
                out[(sheets[int(idx) - 1], a1)] = content
    return out


def painted(book: Any) -> dict[tuple[str, str], str]:
    """(sheet, A1) -> final fill colour set by the XaPaint helper."""
    sheets = [s.name for s in book.sheets]
    out: dict[tuple[str, str], str] = {}
    for a in actions(book):
        if a["func"] == "runMacro" and a["args"][0] == lb.PAINT_MACRO:
            for item in a["args"][1].split(";"):
                where, color = item.split("=")
                idx, rng = where.split("!")
                for a1 in lb._cells_of(rng):
                    out[(sheets[int(idx) - 1], a1)] = color
    return out


def alerts(book: Any) -> list[str]:
    return [a["args"][0] for a in actions(book) if a["func"] == "alert"]


def check_actions(book: Any, session: Any) -> None:
    allowed = vba_client_actions()
    assert {"setValues", "runMacro", "alert", "activateSheet"} <= allowed
    used = {a["func"] for a in actions(book)}
    assert used <= allowed, used - allowed
    assert session.reads <= MAX_READS
    assert session.writes <= MAX_WRITES
    assert len(actions(book)) == session.writes
    macros = {a["args"][0].rsplit("!", 1)[-1] for a in actions(book) if a["func"] == "runMacro"}
    assert macros <= {lb.GUARD_MACRO, lb.PAINT_MACRO, lb.WRITE_MACRO, lb.WRITE_ROWS_MACRO}
    for a in actions(book):
        if a["func"] == "runMacro":
            assert len(a["args"]) <= 10  # Remote.bas runMacro takes up to 10
            assert str(a["args"][1]).isascii()  # ASCII specs (sheets by position); the name may carry the add-in's


INPUT_CELLS = {(loc.sheet, loc.a1) for k, loc in spec.LAYOUT.locations.items()
               if k not in spec.DERIVED_KEYS and not k.startswith("prior.")}
DERIVED_CELLS = {(spec.LAYOUT.locations[k].sheet, spec.LAYOUT.locations[k].a1) for k in spec.DERIVED_KEYS}


def finding_keys(findings: Any) -> set[tuple[str, str, str]]:
    return {(f.rule, f.sheet, f.cell) for f in findings if f.rule != "S2" or f.key}


# ---- 校验 --------------------------------------------------------------------------------------------------------

def test_validate_clean_sample(sample: Path) -> None:
    book = book_of(sample)
    s = addin.validate(book)
    check_actions(book, s)
    assert s.report.valid and not s.report.findings
    cells = written_cells(book)
    assert {sheet for sheet, _ in cells} == {spec.RESULTS_SHEET}
    assert not set(cells) & INPUT_CELLS
    assert cells[(spec.RESULTS_SHEET, "A1")] == lb.RESULTS_HEADERS[0]
    assert alerts(book) == [lb.verdict(s.report)]
    assert alerts(book)[0].startswith("校验通过")
    # every input/derived cell gets its template colour back, nothing is marked
    colours = painted(book)
    assert set(colours.values()) == {lb.INPUT_COLOR, lb.DERIVED_COLOR}
    assert {w for w, c in colours.items() if c == lb.DERIVED_COLOR} == DERIVED_CELLS


def test_validate_reports_what_the_command_line_reports(filled: Filler) -> None:
    changes = {"t3.new.natural": -1, "t3.granted.business": "五", "t2.rules.made": 3, "t3.carried_out.legal": 9,
               "t4.review.upheld": 2.5, "meta.level": "县级", "s6.fees": None}
    path = filled(changes)
    book = book_of(path)
    s = addin.validate(book)
    check_actions(book, s)
    cli = api.check(path)
    assert not s.report.valid
    assert finding_keys(s.report.findings) == finding_keys(cli.findings)
    cells = written_cells(book)
    assert not set(cells) & (INPUT_CELLS | DERIVED_CELLS)
    rows = [[cells.get((spec.RESULTS_SHEET, f"{spec.col_letter(c)}{r}")) for c in range(1, 8)]
            for r in range(2, 2 + len(s.report.findings))]
    assert [r[0] for r in rows] == [f.rule for f in s.report.findings]
    link = next(r for r, f in zip(rows, s.report.findings, strict=True) if f.key == "t3.new.natural")
    loc = spec.LAYOUT.locations["t3.new.natural"]
    assert link[3] == f'=HYPERLINK("#\'{loc.sheet}\'!{loc.a1}","{loc.a1}")'
    assert link[1] == "错误" and link[4] and link[6]
    colours = painted(book)
    assert colours[(loc.sheet, loc.a1)] == lb.MARK_COLORS[Severity.ERROR]
    v4 = spec.LAYOUT.locations["t2.rules.made"]
    assert colours[(v4.sheet, v4.a1)] in (lb.MARK_COLORS[Severity.WARNING], lb.MARK_COLORS[Severity.ERROR])
    assert "不通过" in alerts(book)[0]


def test_many_findings_same_number_of_writes(filled: Filler) -> None:
    changes = {k: "x" for k in spec.INPUT_KEYS if spec.DATA_CELLS[k].kind is spec.Kind.COUNT}
    book = book_of(filled(changes))
    s = addin.validate(book)
    check_actions(book, s)
    assert len(s.report.findings) > 150
    assert s.writes == MAX_WRITES and s.reads == MAX_READS


def test_shorter_results_blank_out_older_longer_ones(filled: Filler) -> None:
    path = filled({"t3.new.natural": -1}, edit=lambda wb: [wb[spec.RESULTS_SHEET].cell(r, 1, "旧") for r in range(2, 40)])
    book = book_of(path)
    s = addin.validate(book)
    cells = written_cells(book)
    first_blank = len(s.report.findings) + 2
    assert first_blank < 39
    assert all(cells[(spec.RESULTS_SHEET, f"{c}{r}")] in (None, "") for r in range(first_blank, 40) for c in "ABCDEFG")


def test_derived_total_typed_over_is_reported(filled: Filler) -> None:
    key = "t3.new.total"
    path = filled({key: 999})
    book = book_of(path)
    s = addin.validate(book)
    assert {f.rule for f in s.report.findings if f.key == key} >= {"S2"}
    assert any(f.rule == "A1" for f in s.report.findings)
    assert finding_keys(s.report.findings) == finding_keys(api.check(path).findings)


def test_chinese_book_name(sample: Path) -> None:
    name = "将乐县工业和信息化局2023年政府信息公开工作年度报告（定稿）.xlsx"
    book = book_of(sample, name=name)
    s = addin.validate(book)
    check_actions(book, s)
    assert s.report.path == name


def test_not_our_template_changes_nothing() -> None:
    book = book_of(DATA / "foreign-workbook.xlsx")
    for fn in (addin.validate, addin.fill_totals, addin.clear_marks, addin.export_report):
        before = len(actions(book))
        fn(book)
        new = actions(book)[before:]
        assert [a["func"] for a in new] == ["alert"]
        assert "不是用本工具的年报模板" in new[0]["args"][0]


# ---- 计算合计 -----------------------------------------------------------------------------------------------------

def test_fill_totals_writes_every_derived_formula_and_no_input(filled: Filler) -> None:
    book = book_of(filled({"t3.new.total": 5, "t4.review.total": None}))
    s = addin.fill_totals(book)
    check_actions(book, s)
    cells = written_cells(book)
    assert set(cells) == DERIVED_CELLS
    expected = structure.expected().formulas
    for key in spec.DERIVED_KEYS:
        loc = spec.LAYOUT.locations[key]
        assert cells[(loc.sheet, loc.a1)] == expected[key]
    guard = next(a for a in actions(book) if a["func"] == "runMacro" and a["args"][0] == lb.GUARD_MACRO)
    assert guard["args"][1] == spec.PROTECTION_PASSWORD
    assert actions(book)[0] is guard or actions(book)[0] == guard  # protection first, then the writes
    assert "34" in alerts(book)[0] or str(len(spec.DERIVED_KEYS)) in alerts(book)[0]


def test_writes_follow_the_defined_names(filled: Filler) -> None:
    """A later template may move cells: the add-in finds them by name, not by the layout."""
    key = "t4.review.total"
    def move(wb: Any) -> None:
        dn = wb.defined_names[spec.defined_name(key)]
        dn.attr_text = "'表四'!$E$9"
        wb["表四"]["E9"] = "=SUM(A7:D7)"
    book = book_of(filled(edit=move))
    addin.fill_totals(book)
    cells = written_cells(book)
    assert ("表四", "E9") in cells and ("表四", "E7") not in cells


# ---- 清除标记, 关于, 导出, 汇总 ------------------------------------------------------------------------------------

def test_clear_marks(sample: Path) -> None:
    book = book_of(sample)
    s = addin.clear_marks(book)
    check_actions(book, s)
    assert set(painted(book).values()) == {lb.INPUT_COLOR, lb.DERIVED_COLOR}
    cells = written_cells(book)
    assert {sheet for sheet, _ in cells} == {spec.RESULTS_SHEET}
    assert cells[(spec.RESULTS_SHEET, "A2")] == lb.NOT_RUN


def test_a_workbook_of_layout_1_is_checked_and_painted_at_its_own_cells() -> None:
    """A workbook filled in a template of layout 1 (no lead-paragraph row on 正文; the rows below are one higher):
    校验 finds what the command line finds, and 清除标记 paints exactly layout 1's input cells -- not a cell for a
    field it does not have."""
    path = DATA / "earlier-build-libreoffice-saved.xlsx"
    book = book_of(path)
    s = addin.validate(book)
    check_actions(book, s)
    assert s.report.valid and finding_keys(s.report.findings) == finding_keys(api.check(path).findings)
    book = book_of(path)
    addin.clear_marks(book)
    inputs = {w for w, c in painted(book).items() if c == lb.INPUT_COLOR}
    layout = spec.layout_of(1).locations
    assert inputs == {(layout[k].sheet, a1) for k in layout if not k.startswith("prior.") and k not in spec.DERIVED_KEYS
                      for a1 in lb._cells_of(layout[k].a1_range)}
    assert ("正文", "C16") not in inputs and ("正文", "C15") in inputs


def test_about(sample: Path, tmp_path: Path) -> None:
    book = book_of(sample)
    s = addin.about(book)
    check_actions(book, s)
    text = alerts(book)[0]
    assert __version__ in text and f"模板版本 {spec.LAYOUT_VERSION}" in text and "帮助" in text
    assert "规则配置" not in text
    city = api.build_template(tmp_path / "某市模板.xlsx", profile=api.load_profile("示例-某市"))
    profiled = book_of(city)
    addin.about(profiled)
    assert "模板按规则配置“示例-某市”生成" in alerts(profiled)[0]
    other = book_of(DATA / "foreign-workbook.xlsx")
    addin.about(other)
    assert "不是用本工具的年报模板制作的" in alerts(other)[0]


def test_export_report(sample: Path, tmp_path: Path) -> None:
    book = book_of(sample)
    before = sample.read_bytes()
    s = addin.export_report(book, out_dir=tmp_path)
    check_actions(book, s)
    assert sorted(p.suffix for p in s.exported) == [".docx", ".html"]
    assert all(p.exists() and p.parent == tmp_path for p in s.exported)
    assert all(p.name.startswith("将乐县工业和信息化局2023年") for p in s.exported)
    assert "已导出" in alerts(book)[0] and sample.read_bytes() == before
    unsaved = book_of(sample, name="工作簿1")
    addin.export_report(unsaved)
    assert "请先把工作簿保存" in alerts(unsaved)[0]


def test_export_of_a_failing_workbook_is_refused_where_no_one_can_be_asked(filled: Filler, tmp_path: Path) -> None:
    """The remote route cannot wait for a Yes: a workbook with errors is not exported, no question is put, and
    the clerk is told why and what to do (desktop Excel asks first and, on Yes, exports a draft marked on every
    page). docs/验收清单.md row 38 says the same, so the checklist and the server agree."""
    bad = filled({"t3.new.natural": 7})
    book = book_of(bad)
    out = tmp_path / "out"
    out.mkdir()
    s = addin.export_report(book, out_dir=out)
    check_actions(book, s)
    assert not list(out.iterdir())
    text = alerts(book)[0]
    assert "未导出报告" in text and "错误" in text
    assert [a["args"][2] for a in book.json()["actions"] if a["func"] == "alert"] == ["ok"]  # no yes/no question
    assert lb.EXPORT_REFUSED_REMOTE in text and "不导出核对稿" in text
    checklist = (Path(__file__).resolve().parents[1] / "docs" / "验收清单.md").read_text(encoding="utf-8")
    row = next(ln for ln in checklist.splitlines() if ln.startswith("| 38 |"))
    assert "不导出核对稿" in row and "不询问" in row


def test_collect_folder_writes_the_summary(sample: Path, tmp_path: Path) -> None:
    folder = tmp_path / "收件箱"
    folder.mkdir()
    shutil.copy(sample, folder / "工信局.xlsx")
    shutil.copy(DATA / "foreign-workbook.xlsx", folder / "别的表.xlsx")
    book = book_of(sample)
    s = addin.collect_folder(book, folder=folder)
    check_actions(book, s)
    assert (folder / lb.COLLECT_OUT_NAME).exists() and (folder / lb.COLLECT_OUT_NAME).with_suffix(".html").exists()
    text = alerts(book)[0]
    assert "汇总校验完成" in text and "已提交 1 家" in text and "通过 1 家" in text
    # a second run does not read its own summary as a submission
    s2 = addin.collect_folder(book_of(sample), folder=folder)
    assert s2.collected.counts == s.collected.counts


def test_collect_folder_bad_roster_is_a_message(sample: Path, tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    roster.write_text("单位,类别\n某局,政府部门\n", encoding="utf-8")
    book = book_of(sample)
    addin.collect_folder(book, folder=tmp_path, roster=roster)
    assert "未能汇总校验" in alerts(book)[0] and "机关名称" in alerts(book)[0]
    assert not (tmp_path / lb.COLLECT_OUT_NAME).exists()


def test_collect_folder_without_a_desktop_dialog_changes_nothing(sample: Path) -> None:
    book = book_of(sample)  # the remote engine has no file dialog: nothing chosen, nothing done
    s = addin.collect_folder(book)
    assert actions(book) == [] and s.writes == 0


# ---- the pure helpers ------------------------------------------------------------------------------------------

def test_constants_match_the_template_builder() -> None:
    from xl_addin.adapters import template_builder as tb

    assert tb.RESULTS_HEADERS == lb.RESULTS_HEADERS
    assert tb.INPUT_FILL.fgColor.rgb.endswith(lb.INPUT_COLOR)
    assert tb.DERIVED_FILL.fgColor.rgb.endswith(lb.DERIVED_COLOR)
    assert lb.NOT_RUN in str(_template_results_a2())


def _template_results_a2() -> object:
    from xl_addin.adapters.template_builder import build_workbook

    return build_workbook()[spec.RESULTS_SHEET]["A2"].value


def test_guard_keeps_the_template_protection_options(sample: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(sample)
    o = lb.outline(wb.sheetnames, [])
    for item in lb.guard_spec(o, wb.sheetnames).split(","):
        idx, flags = (int(x) for x in item.split(":"))
        p = wb.worksheets[idx - 1].protection
        assert bool(flags & lb.FLAG_FORMAT_ROWS) == (not p.formatRows)
        assert bool(flags & lb.FLAG_FILTER) == (not p.autoFilter)


def test_paint_spec_is_ascii_and_compact(sample: Path) -> None:
    book = book_of(sample)
    addin.clear_marks(book)
    paint = next(a for a in actions(book) if a["func"] == "runMacro" and a["args"][0] == lb.PAINT_MACRO)
    assert paint["args"][1].isascii()
    assert len(paint["args"][1].split(";")) < 120


def iter_actions(book: Any) -> Iterator[str]:
    yield from (a["func"] for a in actions(book))


# ---- helper macros run in our add-in only --------------------------------------------------------------------

def test_helpers_are_qualified_with_the_addin_name(filled: Filler) -> None:
    """The ribbon passes ThisWorkbook.Name as XaHex; every helper then runs as 'file'!Module.Macro."""
    name = "年报加载项.xlam"
    hex_name = name.encode("utf-16-be").hex().upper()
    book = book_of(filled({"t3.new.natural": -1}))
    addin.validate(book, addin=hex_name)
    macros = [a["args"][0] for a in actions(book) if a["func"] == "runMacro"]
    assert len(macros) == 3
    assert all(m.startswith("'年报加载项.xlam'!XaHelpers.Xa") for m in macros), macros
    assert lb.qualified("XaHelpers.XaGuard", "it's.xlam") == "'it''s.xlam'!XaHelpers.XaGuard"


@pytest.mark.parametrize("bad", ["zz", "0041", "00410042004300440045", "0041005B005D002E0078006C0061006D"])
def test_a_bad_addin_name_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        lb.addin_name(bad)


def test_results_texts_with_separators_stay_in_their_cells() -> None:
    text = lb.rows_text([["A1", "x\x1fy", None], ["=HYPERLINK(\"#'表三'!D7\",\"D7\")", "", "z\x1e"]])
    rows = [r.split(lb.CELL_SEP) for r in text.split(lb.ROW_SEP)]
    assert rows == [["A1", "x y", ""], ["=HYPERLINK(\"#'表三'!D7\",\"D7\")", "", "z "]]
