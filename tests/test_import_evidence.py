"""Issue 21, class 7: the workbook `xl-addin import` writes keeps the evidence. `check` on it finds what `check` on
the report finds (same codes, cells and labels) for every example; the printed totals stay as printed; the 正文
cells lose the numbering that repeats the template's own rows; the evidence the rules read travels inside the
workbook, is bound to the cells the import wrote, and a forged or broken one changes nothing on a workbook."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import cli, need, shared_file

from xl_addin import api, spec
from xl_addin.adapters.fast_reader import read_fast
from xl_addin.adapters.xlsx_reader import read_workbook
from xl_addin.importers.record import EVIDENCE_SHEET, RECORD_SHEET
from xl_addin.model import Report
from xl_addin.narrative import strip_numbering

EXAMPLES = ["examples/jiangle-industry-bureau-2023.txt", "examples/published/hongze-district-gov-2023.pdf",
            "examples/published/hongze-district-gov-2023.txt",
            "examples/published/shanghai-municipal-gov-office-2019.txt",
            "examples/published/shuyang-county-drc-2023.html", "examples/published/suqian-city-2023.txt"]
HONGZE = "examples/published/hongze-district-gov-2023.pdf"


def test_every_example_is_listed() -> None:
    """A new example in shared/examples is compared too (the list above is the whole folder)."""
    folder = shared_file("examples/published/README.md").parent
    found = {f"examples/{p.name}" for p in folder.parent.glob("*.txt")} | \
        {f"examples/published/{p.name}" for p in folder.iterdir() if p.is_file() and p.name != "README.md"}
    assert found == set(EXAMPLES)


def findings(report: Report) -> list[tuple[str, str, str, tuple[str, ...], str]]:
    return sorted((f.code, f.sheet, f.cell, f.labels, f.check) for f in report.findings)


def imported_to(name: str, folder: Path) -> Path:
    return api.write_imported(api.import_report(shared_file(name)), folder / (Path(name).name + ".xlsx"))


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("evidence")
    return {name: imported_to(name, folder) for name in EXAMPLES}


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("reader", ["fast", "openpyxl"])
def test_check_on_the_imported_workbook_finds_what_check_on_the_report_finds(
        name: str, reader: str, workbooks: dict[str, Path]) -> None:
    on_report = findings(api.check(shared_file(name)))
    on_workbook = findings(api.check(workbooks[name], reader=reader))
    assert on_workbook == on_report, {"report only": sorted(set(on_report) - set(on_workbook)),
                                      "workbook only": sorted(set(on_workbook) - set(on_report))}
    assert not [f for f in on_workbook if f[0] in ("T9", "S2.literal", "S2.formula")]


def test_the_published_errors_survive_the_import(workbooks: dict[str, Path]) -> None:
    """Hongze prints 行政复议 总计 0 over parts adding up to 11 (复议后起诉 0 vs 5) in a 23-row table 三: the
    workbook keeps the 0 as a number (no formula), A4 still finds both, S3 still names the old layout."""
    out = workbooks[HONGZE]
    report = api.check(out)
    assert {(f.values["lhs"], f.values["rhs"]) for f in report.by_rule("A4")} == {(0, 11), (0, 5)}
    assert [f.code for f in report.by_rule("S3")] == ["S3.hybrid"]
    wb = openpyxl.load_workbook(out)
    where = spec.LAYOUT.locations["t4.review.total"]
    assert wb[where.sheet][where.a1].value == 0 and wb[where.sheet][where.a1].data_type == "n"
    rows = {r[1]: r for r in wb[RECORD_SHEET].iter_rows(min_row=3, values_only=True)}
    note = rows[f"{where.sheet}!{where.a1}"][5]
    assert "报告印的合计为 0，各项之和为 11" in note and "不是公式" in note
    assert "合计为报告所印的数字" in wb[RECORD_SHEET]["A1"].value
    assert wb[EVIDENCE_SHEET].sheet_state == "veryHidden"


def test_the_check_command_agrees_on_report_and_workbook(tmp_path: Path) -> None:
    src = shared_file(HONGZE)
    out = tmp_path / "洪泽.xlsx"
    assert cli("import", src, "-o", out).returncode == 0

    def listed(path: Path) -> list[tuple[str, str, str]]:
        run = cli("check", path, "--json")
        doc = json.loads(run.stdout)
        (one,) = doc["files"]
        return sorted((f["code"], f["sheet"], f["cell"], tuple(f["labels"])) for f in one["findings"])

    assert listed(out) == listed(src) and ("A4", "表四", "E7", ("行政复议", "总计")) in listed(out)


def test_numbering_of_the_reports_own_subheadings_is_not_left_in_the_cells(workbooks: dict[str, Path]) -> None:
    out = workbooks["examples/published/suqian-city-2023.txt"]
    data = api.read(out)
    assert data.text("s1.proactive").startswith("主动公开方面。")
    assert data.text("s1.supervision").startswith("监督保障方面。")
    wb = openpyxl.load_workbook(out)
    where = spec.LAYOUT.locations["s1.proactive"]
    rows = {r[1]: r for r in wb[RECORD_SHEET].iter_rows(min_row=3, values_only=True)}
    assert "去掉了开头的编号“（一）”" in rows[f"{where.sheet}!{where.a1}"][5]


@pytest.mark.parametrize(("key", "text", "want", "removed"), [
    ("s1.proactive", "（一）主动公开与依申请公开信息情况。我局……", "主动公开与依申请公开信息情况。我局……", ["（一）"]),
    ("s1.management", "(二) 政府信息管理情况。", "政府信息管理情况。", ["(二)"]),
    ("s5.problems", "一、存在的主要问题。各科室……", "存在的主要问题。各科室……", ["一、"]),
    ("s5.measures", "2.整改措施：加强……", "整改措施：加强……", ["2."]),
    ("s5.measures", "1、进一步加强日常管理工作。", "1、进一步加强日常管理工作。", []),  # a list, not a heading
    ("s1.proactive", "（三）政府信息管理情况。", "（三）政府信息管理情况。", []),  # another field's heading
    ("s1.overview", "2023年，我局……", "2023年，我局……", []),
    ("s1.proactive", "（一）", "（一）", []),  # nothing after it
])
def test_strip_numbering(key: str, text: str, want: str, removed: list[str]) -> None:
    """The importer's way (keep_heading): only the number goes, the heading's words stay."""
    assert strip_numbering(key, text, keep_heading=True) == (want, removed)


# ---- a clerk's edits, and records not the import's own ----------------------------------------------------------

def _edit(path: Path, out: Path, changes: dict[str, Any]) -> Path:
    wb = openpyxl.load_workbook(path)
    for key, value in changes.items():
        where = spec.LAYOUT.locations[key]
        wb[where.sheet][where.a1] = value
    wb.save(out)
    return out


def test_a_clerks_later_edits_are_checked_as_in_any_workbook(workbooks: dict[str, Path], tmp_path: Path) -> None:
    src = workbooks[HONGZE]
    edited = _edit(src, tmp_path / "edited.xlsx", {"t4.review.total": 7, "s1.overview": "（一）总体情况。本年……",
                                                   "t3.other_no_fee.natural": 2})
    report = api.check(edited)
    assert sorted((f.code, f.key) for f in report.findings if f.rule in ("S2", "T9")) == \
        [("S2.literal", "t4.review.total"), ("T9", "s1.overview")]
    # the untouched printed total is still the published one; the 23-row layout's cell, once typed into, counts
    assert any(f.code == "A4" and f.values["rhs"] == 5 for f in report.findings)
    assert api.read(edited).values["t3.other_no_fee.natural"] == 2
    # 计算合计: the printed totals become formulas, the published error is gone, nothing else complains of them
    api.fill(edited)
    after = api.check(edited)
    assert not after.by_rule("A4") and not [f for f in after.findings if f.rule == "S2"]
    assert after.by_rule("S3")  # the report's old layout is still named


def _forge(path: Path, out: Path, edit: Any) -> Path:
    """``path`` with the payload of its evidence sheet passed through ``edit`` (JSON text -> JSON text)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[EVIDENCE_SHEET]
    for row in ws.iter_rows():
        if row[0].value == "payload":
            row[1].value = edit(row[1].value)
    wb.save(out)
    return out


def test_a_tampered_record_is_ignored(workbooks: dict[str, Path], tmp_path: Path) -> None:
    src = workbooks[HONGZE]
    forged = _forge(src, tmp_path / "forged.xlsx", lambda t: t.replace("hybrid", "2021", 1))
    assert openpyxl.load_workbook(forged)[EVIDENCE_SHEET]["B2"].value != openpyxl.load_workbook(src)[EVIDENCE_SHEET]["B2"].value
    for data in (read_fast(forged), read_workbook(forged)):
        assert "import" not in data.props
    report = api.check(forged)
    assert not report.by_rule("S3") and report.by_rule("A4")
    # an ordinary workbook now: each printed total is a number where a formula belongs
    assert {f.key for f in report.findings if f.code == "S2.literal"} >= {"t4.review.total", "t3.new.total"}


def test_a_record_copied_into_another_workbook_relaxes_nothing(workbooks: dict[str, Path], sample: Path,
                                                               tmp_path: Path) -> None:
    """The import's sealed record pasted into the clerk's own workbook (its totals formulas, one overwritten, a
    正文 cell numbered): every finding of that workbook is still found."""
    mine = _edit(sample, tmp_path / "mine.xlsx", {"t3.new.total": 99, "s1.proactive": "（一）主动公开情况。我局……"})
    plain = findings(api.check(mine))
    assert {f[0] for f in plain} >= {"S2.literal", "T9"}
    wb = openpyxl.load_workbook(mine)
    record = openpyxl.load_workbook(workbooks[HONGZE])[EVIDENCE_SHEET]
    ws = wb.create_sheet(EVIDENCE_SHEET)
    for row in record.iter_rows(values_only=True):
        ws.append(list(row))
    ws.sheet_state = "veryHidden"
    wb.save(tmp_path / "mine+record.xlsx")
    with_record = findings(api.check(tmp_path / "mine+record.xlsx"))
    assert set(plain) <= set(with_record)


def test_a_record_of_another_template_build_is_ignored(workbooks: dict[str, Path], tmp_path: Path) -> None:
    src = workbooks["examples/published/shuyang-county-drc-2023.html"]
    wb = openpyxl.load_workbook(src)
    ws = wb[spec.HIDDEN_SHEET]
    row = next(r for r in ws.iter_rows() if r[0].value == "fingerprint")
    row[1].value = "0" * 16
    wb.save(tmp_path / "other.xlsx")
    assert "import" not in api.read(tmp_path / "other.xlsx").props


# ---- the workbook written fast is the template ------------------------------------------------------------------

def test_the_imported_workbook_keeps_what_the_template_owns(workbooks: dict[str, Path], template: Path) -> None:
    """Sheet protection, data validations, defined names and every formula of the cells the import does not write
    are the template's; the totals are the printed numbers; calamine and openpyxl read the same."""
    out = workbooks[HONGZE]
    a, b = openpyxl.load_workbook(template), openpyxl.load_workbook(out)
    assert b.sheetnames == [*a.sheetnames, RECORD_SHEET, EVIDENCE_SHEET]
    assert {n: d.attr_text for n, d in a.defined_names.items()} == {n: d.attr_text for n, d in b.defined_names.items()}
    assert b.security is not None and b.security.lockStructure
    written = {(spec.LAYOUT.locations[k].sheet, spec.LAYOUT.locations[k].a1)
               for k in (*spec.FIELDS_BY_KEY, *spec.DATA_CELLS)}
    for ws in a.worksheets:
        wb_ws = b[ws.title]
        assert (wb_ws.protection.sheet, wb_ws.protection.password) == (ws.protection.sheet, ws.protection.password)
        assert sorted(str(v.sqref) for v in wb_ws.data_validations.dataValidation) == \
            sorted(str(v.sqref) for v in ws.data_validations.dataValidation)
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" and (ws.title, c.coordinate) not in written:
                    assert wb_ws[c.coordinate].value == c.value, (ws.title, c.coordinate)
    fast, slow = read_fast(out), read_workbook(out)
    assert fast.values == slow.values and fast.formulas == slow.formulas and fast.props == slow.props
    assert not [k for k in spec.DERIVED_KEYS if k in fast.formulas]
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None


@pytest.mark.libreoffice
def test_libreoffice_opens_the_imported_workbook_and_keeps_the_printed_totals(workbooks: dict[str, Path],
                                                                               tmp_path: Path) -> None:
    need("soffice")
    from xl_addin.adapters import office

    (sheets,) = office.recalculated_sheets([workbooks[HONGZE]], tmp_path, workers=1, timeout=300)
    for key, shown in (("t4.review.total", "0"), ("t4.review.upheld", "10"), ("t3.new.natural", "21")):
        where = spec.LAYOUT.locations[key]
        assert sheets[where.sheet][where.row - 1][where.col - 1] == shown, key
    assert any("各项之和为 11" in c for row in sheets[RECORD_SHEET] for c in row)


def _reseal(path: Path, out: Path, edit: Any) -> Path:
    """``path`` with its evidence payload changed by ``edit`` (dict -> None) and sealed again, as a forger who read
    this module would."""
    from xl_addin.importers import record

    wb = openpyxl.load_workbook(path)
    ws = wb[EVIDENCE_SHEET]
    payload = json.loads("".join(r[1] for r in ws.iter_rows(values_only=True) if r[0] == record.PAYLOAD_ROW))
    edit(payload)
    text = record._canonical(payload).decode("utf-8")
    ws.delete_rows(2, ws.max_row)
    for i in range(0, len(text), record.CHUNK):
        ws.append([record.PAYLOAD_ROW, text[i:i + record.CHUNK]])
    ws.append([record.SEAL_ROW, record._seal(payload)])
    wb.save(out)
    return out


HOSTILE_SHAPES = [
    {"notes": [1]}, {"notes": [{"kind": ["split"], "message": "x"}]}, {"headings": "一二三"},
    {"headings": [["一", "一"]]}, {"absent": [{"k": 1}]}, {"unread": [{"table": "t3", "keys": "t3.new.natural"}]},
    {"format": None}, {"extra": {"nested": {}}},
]


def test_a_sealed_record_of_another_shape_gives_the_rules_nothing() -> None:
    """Whatever a (resealed) record holds, the rules only ever meet the shapes the importer gives them."""
    from xl_addin import fingerprint, structure
    from xl_addin.importers import record

    imported = api.import_report(shared_file(HONGZE))
    cells, _ = record.written(imported)
    fp = fingerprint.of(structure.expected())
    rows = record.evidence_rows(imported, cells, fp)
    assert record.evidence(rows, cells, {}, fp) is not None  # the import's own
    payload = json.loads("".join(b for a, b in rows if a == record.PAYLOAD_ROW))
    for hostile in HOSTILE_SHAPES:
        forged = {**payload, "props": json.dumps({**json.loads(payload["props"]), **hostile})}
        text = record._canonical(forged).decode("utf-8")
        assert record.evidence([(record.PAYLOAD_ROW, text), (record.SEAL_ROW, record._seal(forged))], cells, {},
                               fp) is None, hostile


def test_a_sealed_record_of_another_shape_is_ignored_not_crashed_on(workbooks: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    def edit(payload: dict[str, Any]) -> None:
        payload["props"] = json.dumps({**json.loads(payload["props"]), "notes": [1]}, ensure_ascii=False)

    forged = _reseal(workbooks[HONGZE], tmp_path / "hostile.xlsx", edit)
    for data in (read_fast(forged), read_workbook(forged)):
        assert "import" not in data.props
    assert api.check(forged).by_rule("A4")  # checked as an ordinary workbook


def test_a_resealed_record_relaxes_only_cells_still_blank(workbooks: dict[str, Path], tmp_path: Path) -> None:
    """A record (resealed) naming as absent a row the clerk has filled in: the filled cells are checked; a blank
    one is spared V3 (a warning) only in a record of an older layout, whose S3 error is then reported."""
    keys = [f"t3.new.{c}" for c, _ in spec.T3_COLS]

    def edit(payload: dict[str, Any]) -> None:
        props = json.loads(payload["props"])
        payload["props"] = json.dumps({**props, "absent": props["absent"] + keys}, ensure_ascii=False)

    forged = _reseal(workbooks[HONGZE], tmp_path / "absent.xlsx", edit)
    data = api.read(forged)
    info = json.loads(data.props["import"])
    assert not set(keys) & set(info["absent"]) and info["absent"]
    blanked = _edit(forged, tmp_path / "blanked.xlsx", {"t3.new.natural": None})
    info = json.loads(api.read(blanked).props["import"])  # (openpyxl keeps the record: it is still sealed)
    assert "t3.new.natural" in info["absent"] and api.check(blanked).by_rule("S3")

    def new_layout(payload: dict[str, Any]) -> None:
        edit(payload)
        props = json.loads(payload["props"])
        payload["props"] = json.dumps({**props, "format": "2021", "markers": []}, ensure_ascii=False)

    forged = _reseal(blanked, tmp_path / "2021.xlsx", new_layout)
    info = json.loads(api.read(forged).props["import"])
    assert info["absent"] == [] and not api.check(forged).by_rule("S3")
    assert any(f.key == "t3.new.natural" for f in api.check(forged).by_rule("V3"))


def test_what_no_cell_can_hold_is_written_as_text(tmp_path: Path) -> None:
    """Control characters (a space each), a line break written CR LF (LF) and a number no cell holds (its text):
    the workbook is still written, and the evidence still matches what was written."""
    import dataclasses

    imported = api.import_report(shared_file("examples/published/suqian-city-2023.txt"))
    values = {**imported.data.values, "t3.new.natural": float("inf"), "s6.other": "甲\x01乙\r\n丙"}
    odd = dataclasses.replace(imported, data=dataclasses.replace(imported.data, values=values))
    out = api.write_imported(odd, tmp_path / "odd.xlsx")
    data = api.read(out)
    assert data.values["t3.new.natural"] == "inf" and data.values["s6.other"] == "甲 乙\n丙"
    assert "s6.other" in json.loads(data.props["import"])["kept"]


@pytest.mark.parametrize("name", [HONGZE, "examples/jiangle-industry-bureau-2023.txt"])
def test_the_addin_checks_the_imported_workbook_as_the_command_line(name: str, workbooks: dict[str, Path]) -> None:
    """校验 in Excel (the values the VBA client sends, formulas inferred) finds what `check` finds."""
    import xlwings as xw
    from xlwings_payload import payload_from_xlsx

    from xl_addin import addin

    _, data = addin.Session(xw.Book(json=payload_from_xlsx(workbooks[name]))).report_data()
    assert "import" in data.props
    assert findings(api.check_data(data)) == findings(api.check(shared_file(name)))
