"""Importing the real published reports in shared/examples: every table cell equal to expected/*.json (blanks as
blanks), the findings each README describes, the command line, and bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import SHARED, shared_file

from xl_addin import api, spec
from xl_addin.importers import parse
from xl_addin.importers.record import RECORD_SHEET

PUBLISHED = "examples/published"
EXAMPLES = ["hongze-district-gov-2023.pdf", "hongze-district-gov-2023.txt", "shanghai-municipal-gov-office-2019.txt",
            "shuyang-county-drc-2023.html", "suqian-city-2023.txt"]
T2_KEYS = ["t2.rules.made", "t2.rules.repealed", "t2.rules.in_force", "t2.normative.made", "t2.normative.repealed",
           "t2.normative.in_force", "t2.licensing.count", "t2.penalty.count", "t2.coercion.count", "t2.fees.amount"]
T3_ROWS = [k for k, _ in parse.t3_rows() if k != "six"]
T3_COLS = [k for k, _ in spec.T3_COLS]
T4_KEYS = [c.key for c in spec.TABLE_BY_ID["t4"].cells]


def expected_cells(exp: dict[str, Any]) -> dict[str, Any]:
    """expected/*.json as values by key. A 23-row table 三 has （六） as one row: it is read into （六）3.其他, and
    （六）1 and 2 stay blank."""
    out: dict[str, Any] = {}
    rows = T3_ROWS if exp["t3_rows"] == 25 else [r for r in T3_ROWS if r not in ("other_no_correction", "other_no_fee")]
    assert len(rows) == len(exp["t3"])
    for rk, vals in zip(rows, exp["t3"], strict=True):
        out.update({f"t3.{rk}.{ck}": v for ck, v in zip(T3_COLS, vals, strict=True)})
    if exp["t3_rows"] == 23:
        out.update({f"t3.{rk}.{ck}": None for rk in ("other_no_correction", "other_no_fee") for ck in T3_COLS})
    out.update(zip(T4_KEYS, exp["t4"], strict=True))
    t2 = exp["t2"]
    if t2 is None:
        out.update(dict.fromkeys(T2_KEYS))
    else:
        out.update(zip(T2_KEYS, [*t2["reg"], *t2["norm"], t2["lic"], t2["pun"], t2["coe"], t2["fee"]], strict=True))
    return out


@pytest.fixture(scope="module")
def imported() -> dict[str, parse.Imported]:
    return {name: api.import_report(shared_file(f"{PUBLISHED}/{name}")) for name in EXAMPLES}


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_table_cell_equals_the_expected_value(name: str, imported: dict[str, parse.Imported]) -> None:
    exp = json.loads(shared_file(f"{PUBLISHED}/expected/{Path(name).stem}.json").read_text(encoding="utf-8"))
    values = imported[name].data.values
    want = expected_cells(exp)
    got = {k: values.get(k) for k in want}
    assert got == want
    # blanks are blanks and numbers are numbers of the right kind (0 is not None, 5 is not "5")
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}
    assert len(want) == len(spec.TABLE_BY_ID["t3"].cells) + 15 + 10


def test_the_seed_report_imports_to_the_bundled_sample() -> None:
    imp = api.import_report(shared_file("examples/jiangle-industry-bureau-2023.txt"))
    sample = api.sample_values()
    assert {k: imp.data.values.get(k) for k in spec.INPUT_KEYS} == {k: sample.get(k) for k in spec.INPUT_KEYS}
    for key in ("meta.agency", "meta.year", "meta.report_date", "meta.kind", "meta.level"):
        assert imp.data.values[key] == sample[key], key
    assert imp.format == "2021" and not imp.notes
    assert api.check_data(imp.data).valid


def test_meta_comes_from_the_title_the_signature_or_the_page(imported: dict[str, parse.Imported]) -> None:
    import datetime as dt

    meta = {n: {k: imp.data.values.get(k) for k in ("meta.agency", "meta.year", "meta.report_date", "meta.kind")}
            for n, imp in imported.items()}
    assert meta["shuyang-county-drc-2023.html"] == {"meta.agency": "沭阳县发展和改革局", "meta.year": 2023,
                                                    "meta.report_date": dt.date(2024, 1, 17), "meta.kind": "政府部门"}
    assert meta["shanghai-municipal-gov-office-2019.txt"]["meta.report_date"] == dt.date(2020, 1, 31)
    assert meta["shanghai-municipal-gov-office-2019.txt"]["meta.agency"] == "上海市人民政府办公厅"
    assert meta["hongze-district-gov-2023.pdf"]["meta.agency"] == "洪泽区人民政府"
    assert meta["hongze-district-gov-2023.pdf"]["meta.kind"] == "人民政府"
    # Suqian's text starts at 一、总体情况: the year is inferred and said to be, the agency is not invented
    suqian = imported["suqian-city-2023.txt"]
    assert meta["suqian-city-2023.txt"]["meta.year"] == 2023 and meta["suqian-city-2023.txt"]["meta.agency"] is None
    assert any(n.key == "meta.year" for n in suqian.notes)


def test_the_narrative_is_split_into_the_parts(imported: dict[str, parse.Imported]) -> None:
    v = imported["suqian-city-2023.txt"].data.values
    assert "依申请公开" in str(v["s1.on_request"]) and "3607件" in str(v["s1.on_request"])
    assert "信息处理费" in str(v["s6.fees"])
    sh = imported["shanghai-municipal-gov-office-2019.txt"].data.values
    assert str(sh["s5.problems"]).startswith("一是新《条例》实施后") and str(sh["s5.measures"]).startswith("一是深入做好")
    assert sh["s6.other"] == "无。"
    hz = imported["hongze-district-gov-2023.pdf"].data.values
    assert "收取政府信息公开信息处理费0元" in str(hz["s6.fees"])  # the PDF's spaces around digits dropped


#: how the lead paragraph of 一 (before （一）) begins in each example, as published
LEADS = {
    "shuyang-county-drc-2023.html": "2023年，县发展和改革局认真贯彻执行",
    "hongze-district-gov-2023.pdf": "2023年，洪泽区人民政府坚持以",
    "shanghai-municipal-gov-office-2019.txt": "2019年，上海市人民政府办公厅坚持以",
    "suqian-city-2023.txt": "2023年，我市以习近平新时代",
}


@pytest.mark.parametrize("name", sorted(LEADS))
def test_the_lead_paragraph_of_section_one_has_its_own_cell(name: str, imported: dict[str, parse.Imported]) -> None:
    """What a report says under 一、总体情况 before its first part goes to the lead-paragraph cell (one
    paragraph), and the first part (主动公开) holds its own text, not the lead."""
    v = imported[name].data.values
    lead, proactive = str(v.get("s1.overview") or ""), str(v.get("s1.proactive") or "")
    assert lead.startswith(LEADS[name]) and "\n" not in lead.strip()
    assert proactive and lead[:20] not in proactive


def test_the_seed_report_lead_paragraph() -> None:
    v = api.import_report(shared_file("examples/jiangle-industry-bureau-2023.txt")).data.values
    assert str(v["s1.overview"]).startswith("2023年，在县委、县政府的正确领导下")
    assert str(v["s1.overview"]).endswith("现将有关情况报告如下")
    assert str(v["s1.proactive"]).startswith("（一）主动公开与依申请公开信息情况。我局信息公开主要是通过")


_DATA: dict[str, Any] = {}


def r_data(report: Any) -> Any:
    return _DATA[report.path]


def _rules(report: Any, severity: str | None = None) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in report.findings:
        if severity is None or f.severity.value == severity:
            out[f.rule] = out.get(f.rule, 0) + 1
    return out


@pytest.fixture(scope="module")
def reports(imported: dict[str, parse.Imported]) -> dict[str, Any]:
    _DATA.update({imp.data.source: imp.data for imp in imported.values()})
    return {n: api.check_data(imp.data) for n, imp in imported.items()}


def test_shuyang_findings_are_those_its_readme_describes(reports: dict[str, Any]) -> None:
    r = reports["shuyang-county-drc-2023.html"]
    assert _rules(r, "error") == {}  # A1-A4, A6 pass with blanks as 0; T1 26 = 一; T2 fee reported; P1 on time
    v3 = r.by_rule("V3")
    blank = [k for k in spec.TABLE_BY_ID["t3"].by_key if r_data(r).values.get(k) is None]
    assert len(blank) == 125  # the five 法人或其他组织 columns, every row
    # V3 names every blank cell, the printed （七）总计 row's too
    assert sum(f.values["n"] for f in v3) == 125 and {f.cell[0] for f in v3} == {"E"}
    (s2,) = r.by_rule("S2")
    assert s2.severity.value == "warning" and s2.values["actual"] == "规范性文件"
    (s1,) = r.by_rule("S1")
    assert s1.severity.value == "warning" and "五、存在的主要问题及整改措施" in s1.message
    assert not r.by_rule("T1") and not r.by_rule("T2") and not r.by_rule("P1")


def test_suqian_is_consistent_and_the_receipt_trap_is_not_sprung(reports: dict[str, Any]) -> None:
    r = reports["suqian-city-2023.txt"]
    assert _rules(r, "error") == {}
    assert not r.by_rule("T1")  # 收办 3607 = 一 + 二; 1191/328/142/1078/406 all match
    assert not r.by_rule("A1") and not r.by_rule("A2") and not r.by_rule("A3")


def test_shanghai_old_format_and_its_real_errors(reports: dict[str, Any]) -> None:
    r = reports["shanghai-municipal-gov-office-2019.txt"]
    errors = _rules(r, "error")
    assert errors == {"S3": 1, "A1": 11, "A2": 1, "T1": 1, "T2": 1}
    (s3,) = r.by_rule("S3")
    assert "本年新制作数量" in s3.message and "第二十条第（九）项" in s3.message
    assert r.by_rule("A2")[0].values["col"] == "总计"
    (t1,) = r.by_rule("T1")
    assert t1.values["said"] == 258 and t1.values["actual"] == 275 and "予以公开及部分公开258件" in t1.message
    assert any("251000元" in f.message for f in r.by_rule("V2"))
    exp = expected_cells(json.loads(shared_file(f"{PUBLISHED}/expected/shanghai-municipal-gov-office-2019.json")
                                    .read_text(encoding="utf-8")))
    t3 = spec.TABLE_BY_ID["t3"]
    assert sum(1 for c in t3.cells if exp[c.key] is None) == 126 + 14  # README: 126 of 161; + （六）1, 2 absent
    # V3 names every blank cell the report has (126 in table 三, totals included); （六）1 and 2 are absent
    # from its layout, not blank
    assert sum(f.values["n"] for f in r.by_rule("V3") if f.sheet == "表三") == 126
    assert not any(f.sheet == "表二" for f in r.by_rule("V3"))  # the 2019 table 二 is not read, not "blank"


@pytest.mark.parametrize("name", ["hongze-district-gov-2023.pdf", "hongze-district-gov-2023.txt"])
def test_hongze_hybrid_format_and_its_two_wrong_totals(name: str, reports: dict[str, Any]) -> None:
    r = reports[name]
    errors = _rules(r, "error")
    # T4: a 人民政府's own report whose 监督保障 names no 考核/评议/追究 -- true of the report, not in its README
    assert errors == {"A4": 2, "S3": 1, "T4": 1}
    assert {(f.values["lhs"], f.values["rhs"]) for f in r.by_rule("A4")} == {(0, 11), (0, 5)}
    assert "（六）其他处理" in r.by_rule("S3")[0].message
    assert not r.by_rule("T1") and not r.by_rule("S2")  # 受理 21 = 一; the lost glyphs are no altered label


def test_import_writes_the_template_filled_with_an_import_record(tmp_path: Path, template: Path) -> None:
    src = shared_file(f"{PUBLISHED}/shuyang-county-drc-2023.html")
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "沭阳.xlsx"
    done = subprocess.run([sys.executable, "-m", "xl_addin", "import", str(src), "-o", str(out)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "规范性文件" in done.stdout and hashlib.sha256(src.read_bytes()).hexdigest() == before
    data = api.read(out)
    want = expected_cells(json.loads(shared_file(f"{PUBLISHED}/expected/shuyang-county-drc-2023.json")
                                     .read_text(encoding="utf-8")))
    assert {k: data.values.get(k) for k in spec.INPUT_KEYS} == {k: want[k] for k in spec.INPUT_KEYS}
    assert data.agency == "沭阳县发展和改革局" and data.year == 2023
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = list(wb[RECORD_SHEET].iter_rows(values_only=True))
    by_label = {r[0]: r for r in rows[2:]}
    row = by_label["表二 第二十条第（一）项 行政规范性文件 / 本年制发件数"]
    assert row[1] == "表二!B7" and row[2] == 8 and "规范性文件" in row[3] and "按“行政规范性文件”读取" in row[5]
    blank = by_label["表三 一、本年新收政府信息公开申请数量 / 法人或其他组织 商业企业"]
    assert blank[2] is None and "原文为空白" in blank[5]
    # the workbook is a real report workbook: check reads it (its totals are live formulas)
    assert api.check(out).valid


def test_import_json_lists_every_value_with_its_source(tmp_path: Path) -> None:
    src = shared_file(f"{PUBLISHED}/hongze-district-gov-2023.pdf")
    done = subprocess.run([sys.executable, "-m", "xl_addin", "import", str(src), "--json"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["format"] == "hybrid" and out["values"]["t3.new.natural"] == 21
    src_of = {s["key"]: s for s in out["sources"]}
    assert "2.其他法律行政止公开" in src_of["t3.refused_law.natural"]["source"]
    assert "缺字" in src_of["t3.refused_law.natural"]["note"] and src_of["t3.refused_law.natural"]["where"] == "第3页"


def test_check_reads_published_reports_directly() -> None:
    files = [str(shared_file(f"{PUBLISHED}/{n}")) for n in ("shuyang-county-drc-2023.html", "suqian-city-2023.txt")]
    done = subprocess.run([sys.executable, "-m", "xl_addin", "check", *files, "--json"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)["files"]
    assert [f["valid"] for f in got] == [True, True]
    hongze = str(shared_file(f"{PUBLISHED}/hongze-district-gov-2023.pdf"))
    done = subprocess.run([sys.executable, "-m", "xl_addin", "check", hongze], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 1 and "A4 表四!E7" in done.stdout


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("空.html", b"", "文件是空的"),
    ("坏.pdf", b"%PDF-1.4 garbage", "无法读取"),
    ("假.pdf", b"hello", "不是有效的 PDF"),
    ("坏.docx", b"PK\x03\x04broken", "无法读取"),
    ("表.xls.doc", b"plain text, not a Word file", "不是有效的 Word 97-2003"),
    ("扫描.html", b"<html><body><img src=x></body></html>", "没有可读的文字"),
])
def test_a_bad_report_gives_a_chinese_reason_naming_the_file(tmp_path: Path, name: str, content: bytes,
                                                             reason: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    for args in (["import", str(p), "-o", str(tmp_path / "out.xlsx")], ["check", str(p)]):
        done = subprocess.run([sys.executable, "-m", "xl_addin", *args], capture_output=True, text=True, check=False)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert reason in done.stderr and name in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out.xlsx").exists() and p.read_bytes() == content


def test_gb18030_page_and_declared_encoding(tmp_path: Path) -> None:
    text = shared_file("examples/jiangle-industry-bureau-2023.txt").read_text(encoding="utf-8")
    body = "".join(f"<p>{line}</p>" for line in text.split("\n") if not line.startswith("\t"))
    for declared, enc in (("gb2312", "gb18030"), ("", "gb18030"), ("utf-8", "utf-8")):
        meta = f'<meta charset="{declared}">' if declared else ""
        page = tmp_path / f"p-{declared or 'none'}.shtml"
        page.write_bytes(f"<html><head>{meta}<title>x</title></head><body>{body}</body></html>".encode(enc))
        data = api.import_report(page).data
        assert data.agency == "将乐县工业和信息化局" and "57条" in str(data.values["s1.proactive"])


def test_last_year_may_be_a_published_report(tmp_path: Path) -> None:
    last = shared_file(f"{PUBLISHED}/suqian-city-2023.txt")
    prior = api.last_year_figures(last)
    assert prior["t3.carried_out.total"] == 121 and prior["t2.normative.in_force"] == 597
    out = tmp_path / "模板.xlsx"
    done = subprocess.run([sys.executable, "-m", "xl_addin", "template", "-o", str(out), "--year", "2024",
                           "--last-year", str(last)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert api.read(out).prior["t3.carried_out.natural"] == 118


def test_x3_fires_on_a_copied_section_and_not_on_a_short_fee_sentence() -> None:
    this = api.import_report(shared_file(f"{PUBLISHED}/suqian-city-2023.txt")).data
    prior = api.last_year_prior(shared_file(f"{PUBLISHED}/suqian-city-2023.txt"))
    found = api.check_data(this, prior=prior).by_rule("X3")
    assert {f.check for f in found} == {"X3:一", "X3:五", "X3:六"}
    short = {**prior, "text.六": "本年度未收取信息处理费。"}
    data = dataclasses_replace(this, {"s6.fees": "本年度未收取信息处理费。"}, only_six=True)
    assert not [f for f in api.check_data(data, prior=short).by_rule("X3") if f.check == "X3:六"]


def dataclasses_replace(data: Any, values: dict[str, Any], *, only_six: bool) -> Any:
    import dataclasses

    keep = {k: v for k, v in data.values.items() if not (only_six and k.startswith("s6."))}
    return dataclasses.replace(data, values={**keep, **values})


def test_shared_examples_are_where_the_tests_expect() -> None:
    assert (SHARED / PUBLISHED / "README.md").exists() or not SHARED.exists()


def test_collect_takes_a_folder_mixing_workbooks_and_published_reports(tmp_path: Path, sample: Path) -> None:
    folder = tmp_path / "收件"
    folder.mkdir()
    (folder / "将乐工信局.xlsx").write_bytes(sample.read_bytes())
    for name in ("shuyang-county-drc-2023.html", "hongze-district-gov-2023.pdf", "suqian-city-2023.txt"):
        (folder / name).write_bytes(shared_file(f"{PUBLISHED}/{name}").read_bytes())
    res = api.collect(folder, None, tmp_path / "汇总.xlsx", workers=1, year=2023)
    by_file = {Path(r.path).name: r for r in res.files}
    assert set(by_file) == {"将乐工信局.xlsx", "shuyang-county-drc-2023.html", "hongze-district-gov-2023.pdf",
                            "suqian-city-2023.txt"}
    assert all(r.readable for r in by_file.values())
    assert by_file["shuyang-county-drc-2023.html"].agency == "沭阳县发展和改革局"
    # the same findings as check gives on each file alone
    for name in ("shuyang-county-drc-2023.html", "hongze-district-gov-2023.pdf"):
        alone = api.check(folder / name)
        got = [x.finding.rule for x in res.findings if Path(x.path).name == name]
        assert sorted(got) == sorted(f.rule for f in alone.findings), name


def test_collect_takes_every_kind_of_report_check_takes(tmp_path: Path) -> None:
    """What ``check`` reads as a published report, ``collect`` finds in a folder too (.xhtml pages, .text files)."""
    folder = tmp_path / "收件"
    folder.mkdir()
    (folder / "沭阳.xhtml").write_bytes(shared_file(f"{PUBLISHED}/shuyang-county-drc-2023.html").read_bytes())
    (folder / "宿迁.text").write_bytes(shared_file(f"{PUBLISHED}/suqian-city-2023.txt").read_bytes())
    res = api.collect(folder, None, tmp_path / "汇总.xlsx", workers=1, year=2023)
    by_file = {Path(r.path).name: r for r in res.files}
    assert set(by_file) == {"沭阳.xhtml", "宿迁.text"} and all(r.readable for r in by_file.values())
    assert by_file["沭阳.xhtml"].agency == "沭阳县发展和改革局"
    assert api.check(folder / "沭阳.xhtml").findings  # and check reads them alike


@pytest.mark.libreoffice
def test_a_legacy_doc_is_read_through_libreoffice(tmp_path: Path, sample: Path) -> None:
    from conftest import need

    from xl_addin.adapters import office

    need("soffice")
    (docx,) = api.export(sample, tmp_path / "out", ("docx",))
    (doc,) = office.convert([docx], "doc:MS Word 97", tmp_path / "doc", recalc=False)
    assert doc.suffix == ".doc" and doc.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    imp = api.import_report(doc)
    values = api.sample_values()
    assert {k: imp.data.values.get(k) for k in spec.INPUT_KEYS} == {k: values.get(k) for k in spec.INPUT_KEYS}
    assert imp.data.agency == values["meta.agency"]


def _with_text(key: str, text: str, **values: Any) -> Any:
    data = api.import_report(shared_file("examples/jiangle-industry-bureau-2023.txt")).data
    import dataclasses

    return dataclasses.replace(data, values={**data.values, key: text, **values})


def test_t7_the_year_the_text_gives_itself() -> None:
    data = _with_text("s1.proactive", "2022年，我局依托门户网站主动公开政府信息57条。")
    (t7,) = api.check_data(data).by_rule("T7")
    assert t7.values["said"] == 2022 and t7.values["year"] == 2023 and "2022年，" in t7.message
    ok = _with_text("s1.proactive", "2023年1月1日至2023年12月31日，我局主动公开政府信息57条。")
    assert not api.check_data(ok).by_rule("T7")


def test_t8_all_done_while_some_carry_over() -> None:
    data = _with_text("s1.on_request", "本年度共收到申请1件，所有申请均已办结。",
                      **{"t3.carried_out.natural": 1, "t3.carried_out.total": 1, "t3.new.natural": 2, "t3.new.total": 2})
    (t8,) = api.check_data(data).by_rule("T8")
    assert t8.severity.value == "error" and t8.values["carried"] == 1 and "所有申请均已办结" in t8.message
    assert not api.check_data(_with_text("s1.on_request", "本年度共收到申请1件，所有申请均已办结。")).by_rule("T8")


def test_t1_quotes_the_sentence_and_takes_counts_in_tiao() -> None:
    data = _with_text("s1.on_request", "本年度共受理政府信息公开申请3条，均已答复。")
    (t1,) = api.check_data(data).by_rule("T1")
    assert t1.values["said"] == 3 and t1.values["actual"] == 1 and "本年度共受理政府信息公开申请3条" in t1.message
    # 受理 meaning 一 + 二 (the Suqian reading) is accepted
    both = _with_text("s1.on_request", "全年共收办政府信息公开申请2件。", **{"t3.carried_in.natural": 1})
    assert not api.check_data(both).by_rule("T1")


def test_t7_reads_the_statistic_period_of_the_opening_paragraph(tmp_path: Path) -> None:
    text = shared_file(f"{PUBLISHED}/hongze-district-gov-2023.txt").read_text(encoding="utf-8")
    assert "统计期限自 2023 年 1 月 1 日" in text
    p = tmp_path / "hongze.txt"
    p.write_text(text.replace("统计期限自 2023 年 1 月 1 日", "统计期限自 2022 年 1 月 1 日"), encoding="utf-8")
    (t7,) = api.check(p).by_rule("T7")
    assert t7.values["said"] == 2022 and t7.values["where"] == "报告开头"


def test_check_with_last_year_given_as_a_published_report() -> None:
    this = str(shared_file(f"{PUBLISHED}/suqian-city-2023.txt"))
    done = subprocess.run([sys.executable, "-m", "xl_addin", "check", this, "--last-year", this, "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)["files"][0]["findings"]
    # the same report as "last year": its text is 雷同 (X3), its 上年结转 96 is not last year's 结转 121 (X1)
    assert {f["rule"] for f in found if f["severity"] == "error"} == {"X1", "X3"}


def test_t1_reads_the_carry_over_phrasings_of_real_reports(imported: dict[str, parse.Imported]) -> None:
    from xl_addin import quotes

    said = {q.topic.id: q.value for q in quotes.quotes(str(imported["suqian-city-2023.txt"].data.values["s1.on_request"]))}
    assert said["carried_out"] == 121 and said["new"] == 3607 and said["unable"] == 1078
