"""Issue 24, items 2 and 4: one number for "how many problems".

The same workbook gives the same counts everywhere (model.Tally, declared once): the status line of each table
sheet and 校验汇总's headline (in-sheet formulas, recalculated by LibreOffice), the add-in's alert (xlwings'
remote engine), the server add-in's answer (over HTTP), and the command line. A row of blank input cells counts
as its blank cells ("尚有 K 格未填"), never as a warning in one place and not in another.

The corpus: a workbook with errors, warnings (table and 正文) and blank cells; one with blank cells only; the
blank template; the clean sample. Also: 校验汇总's headline is red only for errors (amber for a blank form), and
表四's blank-row check names the group that is blank. 校验汇总 pages are kept as PNG in tests/output/counts/.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import cli, need
from pdf_pages import render_png

from xl_addin import api, live, spec
from xl_addin.adapters import office
from xl_addin.model import Tally

xw = pytest.importorskip("xlwings")
from xlwings_payload import payload_from_xlsx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "output" / "counts"
TALLY = re.compile(r"(\d+) 处错误、(\d+) 处警告(?:，尚有 (\d+) 格未填)?")
TABLE_SHEETS = [t.sheet for t in spec.TABLES]

#: errors (a negative count, a decimal), table warnings (fee in 元), blank cells in three tables, 正文 warnings
MIXED = {"t3.new.natural": -1, "t4.review.upheld": 2.5, "t2.fees.amount": 20000,
         "t3.granted.legal": None, "t3.granted.natural": None, "t2.rules.made": None,
         "t4.suit_after_review.upheld": None, "t4.suit_after_review.other": None,
         "s5.problems": "（一）存在的主要问题\n人员不足。", "s1.platform": "依托门户网站。\n（三）政府信息管理\n规范。"}


def tally_of(text: str) -> Tally:
    m = TALLY.search(text)
    assert m, text
    return Tally(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def sheet_tally(text: str) -> Tally:
    """A status line or the headline as a Tally ("本表校验通过" / "…全部 … 项检查通过" is all zero)."""
    return Tally() if "通过" in text and "处错误" not in text else tally_of(text)


@pytest.fixture(scope="module")
def sources(template: Path, sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> the workbook as the clerk has it (written by openpyxl: no formula results saved)."""
    need("soffice")
    src = tmp_path_factory.mktemp("counts-src")
    books = {"mixed": MIXED}
    paths = []
    for name, changes in books.items():
        wb = openpyxl.load_workbook(sample)
        for key, value in changes.items():
            loc = spec.LAYOUT.locations[key]
            wb[loc.sheet][loc.a1] = value
        wb.save(src / f"{name}.xlsx")
        paths.append(src / f"{name}.xlsx")
    (src / "blank.xlsx").write_bytes(template.read_bytes())
    paths += [src / "blank.xlsx"]
    return {p.stem: p for p in paths}


@pytest.fixture(scope="module")
def corpus(sources: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> the workbook recalculated and saved by LibreOffice (formula results inside, as Excel saves them and
    sends them to the server). LibreOffice drops the structure protection (S2.protection): the command line
    checks the clerk's own file (:func:`sources`)."""
    need("soffice")
    out = office.convert(list(sources.values()), "xlsx", tmp_path_factory.mktemp("counts-calc"), recalc=True)
    return {p.stem: p for p in out}


def in_sheet(path: Path) -> tuple[dict[str, str], str]:
    """(table sheet -> its status line, 校验汇总's headline) as LibreOffice computed them."""
    wb = openpyxl.load_workbook(path, data_only=True)
    status = {sheet: str(wb[sheet][f"A{live.STATUS_ROW}"].value) for sheet in TABLE_SHEETS}
    return status, str(wb[live.SHEET][f"A{live.OVERALL_ROW}"].value)


def addin_alert(path: Path) -> tuple[str, Any]:
    from xl_addin import addin

    book = xw.Book(json=payload_from_xlsx(path, data_only=True))
    s = addin.validate(book)
    (alert,) = [a["args"][0] for a in book.json()["actions"] if a["func"] == "alert"]
    return str(alert), s.report


@pytest.fixture(scope="module")
def server_alerts(corpus: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """name -> the alert the server add-in's answer carries for that workbook (xl-addin serve over HTTP)."""
    import json

    from test_server import TOKEN, start, stop

    from xl_addin import server

    running = start(server.Config(data_dir=tmp_path_factory.mktemp("counts-server"), token=TOKEN))
    out = {}
    try:
        for name, path in corpus.items():
            r = running[0].click("validate", payload_from_xlsx(path, data_only=True))
            assert r.status_code == 200, r.text
            out[name] = next(a["args"][0] for a in json.loads(r.text)["actions"] if a["func"] == "alert")
        yield out
    finally:
        stop(*running)


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["mixed", "blank"])
def test_every_place_gives_the_same_counts(sources: dict[str, Path], corpus: dict[str, Path],
                                          server_alerts: dict[str, str], name: str) -> None:
    path = corpus[name]
    report = api.check(sources[name])
    total, table = report.tally, live.table_tally(report.findings)
    status, headline = in_sheet(path)
    # each table sheet's status line is its own part; together they are 校验汇总's headline
    for sheet, text in status.items():
        assert sheet_tally(text) == live.table_tally(report.findings, sheet), (sheet, text)
    summed = [sheet_tally(t) for t in status.values()]
    assert sheet_tally(headline) == table == Tally(sum(t.errors for t in summed), sum(t.warnings for t in summed),
                                                   sum(t.blanks for t in summed)), headline
    assert headline == live.overall_text(table)
    # the failing checks listed on 校验汇总: as many 错误 and 警告 rows as the headline says, blank rows as 未填
    ws = openpyxl.load_workbook(path, data_only=True)[live.SHEET]
    failing = [r for r in ws.iter_rows(min_row=live.FIRST_ROW, values_only=True)
               if r[live.COL_STATE - 1] == live.FAIL]
    levels = [r[live.COL_SEVERITY - 1] for r in failing]
    assert (levels.count("错误"), levels.count("警告")) == (table.errors, table.warnings)
    assert levels.count(live.BLANK_LEVEL) == len([f for f in report.findings if f.rule == live.ROW_CHECK])
    # the command line, the add-in and the server say the whole count, then the table part in the same numbers
    line = live.tally_line(report.findings)
    r = cli("check", sources[name])
    alert, addin_report = addin_alert(path)
    for said in (r.stdout, alert, server_alerts[name]):
        assert line in said, said
        whole, part = said.split("其中")
        assert tally_of(whole) == Tally(total.errors, total.warnings, total.blanks) and tally_of(part) == table
    assert addin_report.tally == total
    # each finding listed under the word it is counted by: a blank row as 未填, never as a 警告
    listed = cli("check", sources[name], "--all").stdout
    blank_rows = len([f for f in report.findings if f.rule == live.ROW_CHECK])
    assert (listed.count("[未填] V3 "), listed.count("[警告] ")) == (blank_rows, total.warnings)
    if name == "mixed":  # the corpus has all three kinds, in the tables and in the 正文
        assert table.errors and table.warnings and table.blanks and total.warnings > table.warnings
        assert report.counts["warning"] != total.warnings  # blank rows are not counted as warnings a second way
    if name == "blank":
        assert table.errors == 0 and table.warnings == 0 and table.blanks == len(spec.INPUT_KEYS)


@pytest.mark.libreoffice
def test_table_four_blank_row_names_the_blank_group(corpus: dict[str, Path]) -> None:
    """In "mixed" only 表四's 复议后起诉 has blank cells (行政复议 holds a bad 2.5, not a blank)."""
    path = corpus["mixed"]
    (finding,) = [f for f in api.check(path).by_rule("V3") if f.sheet == "表四"]
    assert "“行政诉讼 复议后起诉”有 2 个单元格未填写" in finding.message and "行政复议" not in finding.message
    ws = openpyxl.load_workbook(path, data_only=True)[live.SHEET]
    rows = [r for r in ws.iter_rows(min_row=live.FAILING_FIRST_ROW, max_row=live.FAILING_MORE_ROW - 1,
                                     values_only=True) if r[live.COL_RULE - 1] == "V3"]
    t4 = [r[live.COL_ROW - 1] for r in rows if r[live.COL_SHEET - 1] == "表四"]
    assert t4 == ["行政诉讼 复议后起诉"]  # the failing list at the top


def _pixel(ppm: bytes, x: int, y: int) -> tuple[int, int, int]:
    """One pixel of a binary PPM (P6) image."""
    head = ppm.split(b"\n", 3)
    width = int(head[1].split()[0])
    body = head[3]
    i = (y * width + x) * 3
    return body[i], body[i + 1], body[i + 2]


def _headline_colours(xlsxs: list[Path], tmp: Path) -> list[tuple[int, int, int]]:
    """The background colour behind 校验汇总's headline on its printed page (LibreOffice's PDF, at 72 dpi), of
    each workbook (one LibreOffice run)."""
    need("pdftoppm")
    out = []
    for xlsx, pdf in zip(xlsxs, office.convert(xlsxs, "pdf", tmp), strict=True):
        bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                              text=True).stdout
        found = [(n, page, m) for n, page in enumerate(bbox.split("<page ")[1:], start=1)
                 if (m := re.search(r'<word xMin="[\d.]+" yMin="([\d.]+)"[^>]*>表格数字', page))]
        assert found, "no page shows 校验汇总's headline"
        number, page, m = found[0]
        width = float(re.match(r'width="([\d.]+)"', page).group(1))  # type: ignore[union-attr]
        y, x = float(m.group(1)), width * 0.85  # in the headline's row (merged across the table), past its words
        ppm = subprocess.run(["pdftoppm", "-r", "72", "-f", str(number), "-l", str(number), str(pdf)], check=True,
                             capture_output=True).stdout
        OUTPUT.mkdir(parents=True, exist_ok=True)
        render_png(pdf, OUTPUT / f"summary-{xlsx.stem}", first=number, last=number, dpi=70)
        out.append(_pixel(ppm, int(x), int(y) + 4))
    return out


@pytest.mark.heavy
@pytest.mark.libreoffice
def test_headline_is_red_for_errors_and_amber_for_a_blank_form(corpus: dict[str, Path], tmp_path: Path) -> None:
    mixed, blank = _headline_colours([corpus["mixed"], corpus["blank"]], tmp_path)
    r, g, b = mixed
    assert r > 200 and g < 210 and b < 210, mixed  # red (FFC7CE)
    r, g, b = blank
    assert r > 230 and g > 200 and b < 190, blank  # amber (FFEB9C), not red
    assert blank != mixed


def test_headline_colour_rules_red_only_for_errors(template: Path) -> None:
    """The default run's slice of the rendered test above: the headline's first rule (red) tests errors only, the
    next (amber) any other problem, the last green."""
    from xl_addin.adapters import template_builder as tb

    ws = openpyxl.load_workbook(template)[live.SHEET]
    rules = [r for cf in ws.conditional_formatting for r in cf.rules
             if str(cf.sqref).startswith(f"A{live.OVERALL_ROW}:")]
    rules.sort(key=lambda r: r.priority)
    assert [r.dxf.fill.fgColor.rgb[-6:] for r in rules] == [tb._ERR, tb._WARN, "C6EFCE"]
    assert '"错误"' in rules[0].formula[0] and '"警告"' not in rules[0].formula[0]


def test_counting_is_declared_once() -> None:
    """The status lines, the headline and every message take their numbers from model.Tally: a blank row is its
    cells, never also a warning."""
    assert live.ROW_CHECK == "V3" and live.status_text(1, 2, 3) == f"本表有 {Tally(1, 2, 3).zh()}{live.SEE_SUMMARY}"
    assert live.overall_text(Tally(0, 0, 5)) == f"{live.TABLE_PART}有 0 处错误、0 处警告，尚有 5 格未填，不通过的检查列在下面"


# ---- a template built under a rule profile (issue 22 item 6) ------------------------------------------------------

CITY = "示例-某市"
#: a county whose live checks differ from the national ones: 表二's 本年制发 check (A6) off, a blank cell (V3) and the
#: link with last year's 表二 (X2) errors, the fee bar 500 万元
STRICT = ('[profile]\nname = "某县"\ntitle = "某县年报编制要求（测试）"\n[rules]\noff = ["A6"]\n'
          '[severity]\nV3 = "错误"\nX2 = "错误"\n[thresholds]\n"V2.yuan.max_wan" = 500\n')
#: MIXED, plus 表二's 规章 row failing A6 (off under STRICT) and 规范性文件 failing X2 against last year (PRIOR)
STRICT_MIXED = {**{k: v for k, v in MIXED.items() if k != "t2.rules.made"}, "t2.rules.made": 3, "t2.rules.in_force": 1,
                "t2.normative.made": 2, "t2.normative.in_force": 6}
PRIOR = {"t2.normative.in_force": 5}


@pytest.fixture(scope="module")
def profiled(sample_values: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path]]:
    """name -> (its profile, the workbook as the clerk has it, filled into a template built under the profile)."""
    from xl_addin.adapters.template_builder import write_template

    need("soffice")
    src = tmp_path_factory.mktemp("counts-profiled")
    (src / "某县.toml").write_text(STRICT, encoding="utf-8")
    city, strict = api.load_profile(CITY), api.load_profile(src / "某县.toml")
    out = {}
    for name, profile, changes, prior in (("city-mixed", city, MIXED, None), ("strict-mixed", strict, STRICT_MIXED, PRIOR),
                                          ("strict-blank", strict, None, None)):
        values = None if changes is None else {k: v for k, v in {**sample_values, **changes}.items() if v is not None}
        write_template(src / f"{name}.xlsx", values, prior, profile)
        out[name] = (profile, src / f"{name}.xlsx")
    return out


@pytest.fixture(scope="module")
def profiled_corpus(profiled: dict[str, tuple[Any, Path]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = office.convert([p for _, p in profiled.values()], "xlsx", tmp_path_factory.mktemp("counts-profiled-calc"),
                         recalc=True)
    return {p.stem: p for p in out}


@pytest.fixture(scope="module")
def profiled_server_alerts(profiled: dict[str, tuple[Any, Path]], profiled_corpus: dict[str, Path],
                           tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """name -> the alert of `serve --profile` (the workbook's own profile) for its validate button, over HTTP."""
    import json

    from test_server import TOKEN, start, stop

    from xl_addin import server

    out = {}
    for profile in {id(p): p for p, _ in profiled.values()}.values():
        running = start(server.Config(data_dir=tmp_path_factory.mktemp("counts-server-p"), token=TOKEN,
                                      profile=profile))
        try:
            for name, (p, _) in profiled.items():
                if p is profile:
                    r = running[0].click("validate", payload_from_xlsx(profiled_corpus[name], data_only=True))
                    assert r.status_code == 200, r.text
                    out[name] = next(a["args"][0] for a in json.loads(r.text)["actions"] if a["func"] == "alert")
        finally:
            stop(*running)
    yield out


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["city-mixed", "strict-mixed", "strict-blank"])
def test_a_template_built_under_a_profile_counts_as_the_check_under_it(
        profiled: dict[str, tuple[Any, Path]], profiled_corpus: dict[str, Path],
        profiled_server_alerts: dict[str, str], name: str) -> None:
    """`template --profile` and `check --profile` / the add-in / `serve --profile` under the same profile: one count
    in the status lines, 校验汇总 (LibreOffice), the command line, the xlwings remote engine's alert and the server's."""
    from xl_addin import addin

    profile, source = profiled[name]
    path, settings = profiled_corpus[name], live.settings_of(profile)
    report = api.check(source, profile=profile)
    total, table = report.tally, live.table_tally(report.findings)
    assert not report.by_rule("S2"), [f.message for f in report.by_rule("S2")]  # its formulas are the profile's
    status, headline = in_sheet(path)
    for sheet, text in status.items():
        assert sheet_tally(text) == live.table_tally(report.findings, sheet), (sheet, text)
    assert sheet_tally(headline) == table and headline == live.overall_text(table, settings), headline
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb[live.SHEET]
    rows = [r for r in ws.iter_rows(min_row=live.FIRST_ROW, values_only=True) if r[live.COL_ID - 1]]
    levels = [r[live.COL_SEVERITY - 1] for r in rows if r[live.COL_STATE - 1] == live.FAIL]
    assert (levels.count("错误"), levels.count("警告")) == (table.errors, table.warnings)
    # the profile's title on 校验汇总; its record in the hidden sheet
    assert profile.title in str(ws[f"A{live.NOTE_ROW}"].value)
    from xl_addin import hidden

    props = hidden.parse(wb[spec.HIDDEN_SHEET].iter_rows(values_only=True))
    assert (props["profile_name"], props["profile_digest"]) == (profile.name, profile.digest())
    # the command line, the add-in (xlwings' remote engine) and the server: the same numbers
    line = live.tally_line(report.findings)
    r = cli("check", source, "--profile", profile.source)
    book = xw.Book(json=payload_from_xlsx(path, data_only=True))
    s = addin.validate(book, profile=profile)
    (alert,) = [a["args"][0] for a in book.json()["actions"] if a["func"] == "alert"]
    for said in (r.stdout, alert, profiled_server_alerts[name]):
        assert line in said, said
        whole, part = said.split("其中")
        assert tally_of(whole) == Tally(total.errors, total.warnings, total.blanks) and tally_of(part) == table
    assert s.report.tally == total
    if name.startswith("strict"):
        # off: no A6 row; a blank row an error: listed and counted as 错误 (never 未填), no blank cells counted
        assert not [r for r in rows if r[live.COL_RULE - 1] == "A6"]
        v3 = [r for r in rows if r[live.COL_RULE - 1] == "V3"]
        assert v3 and {r[live.COL_SEVERITY - 1] for r in v3} == {"错误"}
        blank_rows = report.by_rule("V3")
        assert blank_rows and table.blanks == 0 and {f.severity.zh for f in blank_rows} == {"错误"}
        listed = cli("check", source, "--profile", profile.source, "--all").stdout
        assert listed.count("[错误] V3 ") == len(blank_rows) and "[未填]" not in listed
        assert len(rows) == len(live.checks(settings)) < len(live.checks())
    if name == "strict-mixed":
        (x2,) = report.by_rule("X2")  # last year's link, an error here: in the table part's errors
        assert x2.severity.zh == "错误" and x2.check in live.check_ids()
        # checked nationally, the same workbook has A6, and is told why the counts differ from its sheets'
        national = api.check(source)
        assert national.by_rule("A6") and not report.by_rule("A6")
        (said,) = [f for f in national.findings if f.code == "S2.profile"]
        assert said.message.startswith(f"本模板按“{profile.name}”生成，当前按“全国”校验") and "指定同一规则配置" in said.message
