"""Round trip and perturbation: generated reports exported (Word, HTML, text, and the Word file turned into PDF by
LibreOffice, in one batch) import back to the same data; damaged copies of a report never crash the importer,
every damage is reported, and the cells it did not touch are still exact."""

from __future__ import annotations

import concurrent.futures
import random
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import need, shared_file

from xl_addin import api, derive, spec
from xl_addin.adapters import office
from xl_addin.importers import document, parse
from xl_addin.model import CellValue, ReportData

N_REPORTS = 104
SEED = 20240117

_PLACES = ["将乐县", "沭阳县", "洪泽区", "泗洪县", "宿豫区", "明溪县", "清流县", "宁化县"]
_BODIES = ["工业和信息化局", "发展和改革局", "财政局", "自然资源局", "住房和城乡建设局", "交通运输局", "卫生健康委员会",
           "市场监督管理局", "人民政府"]
_SENTENCES = [
    "依托门户网站政务公开专栏主动公开政府信息，做到应公开尽公开。",
    "严格执行信息发布“三审三校”制度，审核记录留存备查。",
    "按季度自查栏目空白和更新不及时问题，确保平台信息准确、链接有效。",
    "将政务公开情况纳入单位内部目标绩效考核，开展业务培训。",
    "部分政务信息发布不够及时，个别栏目更新频次偏低。",
    "加强日常管理，明确专人专责，信息形成后及时提交审核发布。",
    "对照上级年度政务公开工作要点逐项落实，完成主动公开目录的更新。",
    "承办的人大代表建议和政协提案均已按要求办结，办理结果已在门户网站公开。",
    "在政策文件发布时同步配发图解，提升政策解读的可读性。",
]


def _count(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.5:
        return 0
    if r < 0.8:
        return rng.randint(1, 20)
    if r < 0.95:
        return rng.randint(21, 999)
    # up to 4 digits: a wider number wraps inside table 三's narrow cells in a PDF, and the text layer then
    # loses which piece belongs to which cell (a county's counts are far below that; table 二 has 7-digit ones)
    return rng.randint(1000, 9999)


def generate(rng: random.Random, n: int) -> dict[str, CellValue]:
    """One report's values (inputs and the totals they make), as a clerk would fill the workbook."""
    import datetime as dt

    year = rng.randint(2021, 2025)
    agency = rng.choice(_PLACES) + rng.choice(_BODIES)
    v: dict[str, CellValue] = {
        "meta.agency": agency, "meta.kind": "人民政府" if agency.endswith("人民政府") else "政府部门", "meta.level": "县级",
        "meta.year": year, "meta.report_date": dt.date(year + 1, 1, rng.randint(5, 31)),
    }
    for key in spec.INPUT_KEYS:
        cell = spec.DATA_CELLS[key]
        if cell.kind is spec.Kind.MONEY:
            v[key] = rng.choice([0, round(rng.uniform(0, 500), rng.randint(0, 4)), rng.randint(1, 90)])
        elif key.startswith("t2.rules.") and rng.random() < 0.2:
            v[key] = rng.choice(["/", "—", "无"])  # what counties write for 规章: kept as written, not 0
        elif key.startswith("t2.") and rng.random() < 0.3:
            v[key] = rng.randint(1000, 3000000)  # 行政许可 1808595
        else:
            v[key] = _count(rng)
    for f in spec.NARRATIVE_FIELDS:
        if f.key in ("s6.other", "s5.last_year_fixes") and rng.random() < 0.5:
            continue
        v[f.key] = "".join(rng.sample(_SENTENCES, rng.randint(1, 3)))
    v["s6.fees"] = "本年度未收取信息处理费。" if rng.random() < 0.5 else f"本年度收取信息处理费{rng.randint(1, 900)}元。"
    return v


def expected_tables(values: dict[str, CellValue]) -> dict[str, CellValue]:
    """What the published tables show: every number (totals as the rows add up), a non-number as written."""
    nums = derive.effective_values(ReportData(values, formulas={k: "=" for k in spec.DERIVED_KEYS}))
    nums.update(derive.compute_totals({k: nums.get(k) for k in spec.INPUT_KEYS}))
    return {k: (nums[k] if nums.get(k) is not None else values.get(k)) for k in spec.DATA_CELLS}


def workbook_data(values: dict[str, CellValue], source: str) -> ReportData:
    """The report as the export sees a workbook's: every total a live, intact formula."""
    from xl_addin import expr

    formulas = {k: expr.derived_formula(k, spec.LAYOUT.locations) for k in spec.DERIVED_KEYS}
    return ReportData(values, formulas=formulas, source=source)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[dict[str, CellValue], dict[str, Path]]]:
    rng = random.Random(SEED)
    base = tmp_path_factory.mktemp("roundtrip")
    out = []
    for i in range(N_REPORTS):
        values = generate(rng, i)
        folder = base / f"r{i:03d}"
        paths = api.export(workbook_data(values, str(folder / "src.xlsx")), folder, ("docx", "html", "txt"),
                           use_drafts=False, force=True)  # random tables fail checks: marked drafts
        out.append((values, {p.suffix[1:]: p for p in paths}))
    return out


def _assert_same(values: dict[str, CellValue], imp: parse.Imported, fmt: str) -> None:
    want = expected_tables(values)
    got = {k: imp.data.values.get(k) for k in spec.DATA_CELLS}
    assert got == want, (fmt, imp.data.source, {k: (got[k], want[k]) for k in want if got[k] != want[k]})
    for key in ("meta.agency", "meta.year", "meta.report_date"):
        assert imp.data.values.get(key) == values[key], (fmt, key)
    assert imp.format == "2021" and not imp.markers


def _narrative_of(values: dict[str, CellValue], imp: parse.Imported, exact: bool) -> None:
    from xl_addin.narrative import section_text
    from xl_addin.rules import similarity

    for f in spec.NARRATIVE_FIELDS:
        want = str(values.get(f.key) or "")
        if not want:
            continue
        got = re.sub(r"\s+", "", str(imp.data.values.get(f.key) or ""))
        if exact:
            assert got == re.sub(r"\s+", "", want), (imp.data.source, f.key)
    if not exact:
        for number in ("一", "五", "六"):
            assert similarity(section_text(imp.data, number), section_text(ReportData(values), number)) > 0.85


@pytest.mark.parametrize("fmt", ["docx", "html", "txt"])
def test_every_generated_report_imports_back_from_its_export(fmt: str, exported: list[Any]) -> None:
    for values, paths in exported:
        imp = api.import_report(paths[fmt])
        _assert_same(values, imp, fmt)
        _narrative_of(values, imp, exact=True)
        assert not [n for n in imp.notes if n.kind != "meta"], [n.message for n in imp.notes]


@pytest.mark.libreoffice
def test_every_generated_report_imports_back_from_the_pdf_libreoffice_makes(exported: list[Any],
                                                                             tmp_path: Path) -> None:
    need("soffice")
    docs = [paths["docx"] for _, paths in exported]
    # one batch per soffice process, two processes: a copy per report under a unique name
    staged = []
    for i, p in enumerate(docs):
        q = tmp_path / "in" / f"r{i:03d}.docx"
        q.parent.mkdir(exist_ok=True)
        q.write_bytes(p.read_bytes())
        staged.append(q)
    halves = [staged[0::2], staged[1::2]]
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        done = list(ex.map(lambda half: office.convert(half, "pdf", tmp_path / "pdf", recalc=False), halves))
    pdfs = {p.stem: p for half in done for p in half}
    for i, (values, _) in enumerate(exported):
        imp = api.import_report(pdfs[f"r{i:03d}"])
        _assert_same(values, imp, "pdf")
        _narrative_of(values, imp, exact=False)


# ---- perturbation ---------------------------------------------------------------------------------------------

SEED_REPORT = "examples/jiangle-industry-bureau-2023.txt"


def _lines() -> list[str]:
    return shared_file(SEED_REPORT).read_text(encoding="utf-8").split("\n")


def _import_text(text: str) -> parse.Imported:
    return parse.parse(document.from_text(text, source="perturbed.txt"))


def _table_values(imp: parse.Imported) -> dict[str, CellValue]:
    return {k: imp.data.values.get(k) for k in spec.DATA_CELLS}


@pytest.fixture(scope="module")
def pristine() -> dict[str, CellValue]:
    return _table_values(_import_text("\n".join(_lines())))


def _row_keys(label: str) -> set[str]:
    m = parse.match_t3(label)
    assert m is not None
    return {f"t3.{m[0]}.{c}" for c, _ in spec.T3_COLS}


@pytest.mark.parametrize(("label", "typo"), [
    ("2.重复申请", "2.重复申情"), ("5.属于三类内部事务信息", "5.属于三类内部事物信息"), ("行政处罚", "行政处法"),
    ("4.保护第三方合法权益", "4.保护第三方合法权"), ("（七）总计", "（七）总 计"),
])
def test_a_typo_in_a_label_is_read_and_reported(label: str, typo: str, pristine: dict[str, CellValue]) -> None:
    text = "\n".join(line.replace(label, typo) if line.strip() == label else line for line in _lines())
    assert text != "\n".join(_lines())
    imp = _import_text(text)
    assert _table_values(imp) == pristine
    if re.sub(r"\s", "", typo) != label:
        assert any(typo in n.message for n in imp.notes), [n.message for n in imp.notes]


def test_a_blanked_cell_stays_blank_is_reported_and_the_rest_is_exact(pristine: dict[str, CellValue]) -> None:
    lines = _lines()
    i = lines.index("\t二、上年结转政府信息公开申请数量")
    lines[i + 3] = "\t"  # 科研机构 of 二
    imp = _import_text("\n".join(lines))
    got = _table_values(imp)
    assert got["t3.carried_in.research"] is None
    assert {k: v for k, v in got.items() if k != "t3.carried_in.research"} == \
        {k: v for k, v in pristine.items() if k != "t3.carried_in.research"}
    report = api.check_data(imp.data)
    assert any(f.rule == "V3" and f.key == "t3.carried_in.research" for f in report.findings)
    assert any(r.key == "t3.carried_in.research" and "空白" in r.note for r in imp.records)


def test_rewrapped_lines_and_a_table_split_across_pages(pristine: dict[str, CellValue]) -> None:
    lines = _lines()
    # a long label broken over two lines, and the paragraph text re-wrapped at 20 characters
    i = lines.index("\t5.要求行政机关确认或重新出具已获取信息")
    lines[i:i + 1] = ["\t5.要求行政机关确认或重", "新出具已获取信息"]
    # the table continues on a new page that repeats the header rows
    j = lines.index("\t（五）不予处理")
    header = ["", "\t（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "\t申请人情况", "",
              "\t自然人", "\t法人或其他组织", "\t总计", "", "\t商业企业", "\t科研机构", "\t社会公益组织", "\t法律服务机构",
              "\t其他", ""]
    lines[j - 1:j - 1] = ["", "- 3 -", *header]
    imp = _import_text("\n".join(lines))
    assert _table_values(imp) == pristine
    assert not [n for n in imp.notes if n.kind in ("unmatched", "count")]


def test_a_moved_section_is_read_and_reported(pristine: dict[str, CellValue]) -> None:
    lines = _lines()
    start = lines.index("四、政府信息公开行政复议、行政诉讼情况")
    end = next(i for i, line in enumerate(lines) if line.startswith("五、"))
    block = lines[start:end]
    del lines[start:end]
    two = lines.index("二、主动公开政府信息情况")
    lines[two:two] = block  # 四 now before 二
    imp = _import_text("\n".join(lines))
    assert _table_values(imp) == pristine
    s1 = [f for f in api.check_data(imp.data).by_rule("S1") if f.severity.value == "error"]
    assert s1 and "排在" in s1[0].message


def test_a_missing_section_and_a_cut_row_are_reported(pristine: dict[str, CellValue]) -> None:
    lines = _lines()
    start = next(i for i, line in enumerate(lines) if line.startswith("六、"))
    imp = _import_text("\n".join(lines[:start]))
    assert any(f.rule == "S1" and "第六部分" in f.message for f in api.check_data(imp.data).findings)
    lines = _lines()
    i = lines.index("\t2.重复申请")
    del lines[i + 1:i + 3]  # two of its seven numbers lost
    imp = _import_text("\n".join(lines))
    assert any(n.kind == "count" and "重复申请" in n.message for n in imp.notes)
    untouched = {k: v for k, v in pristine.items() if not k.startswith(("t3.ignored_repeat.",))}
    assert {k: _table_values(imp)[k] for k in untouched} == untouched


def test_split_digits_are_joined_when_only_that_balances_and_said() -> None:
    lines = _lines()
    i = lines.index("\t一、本年新收政府信息公开申请数量")
    row = ["\t1", "\t2", "\t0", "\t0", "\t0", "\t0", "\t0", "\t12"]  # 12 extracted as "1", "2"
    lines[i + 1:i + 8] = row
    imp = _import_text("\n".join(lines))
    assert imp.data.values["t3.new.natural"] == 12 and imp.data.values["t3.new.total"] == 12
    (a7,) = api.check_data(imp.data).by_rule("A7")
    assert "拆开" in a7.message and a7.severity.value == "info"


@pytest.mark.parametrize("mangle", ["truncate", "shuffle", "binary", "huge-line"])
def test_mangled_reports_never_crash(mangle: str, tmp_path: Path) -> None:
    text = "\n".join(_lines())
    rng = random.Random(mangle)
    if mangle == "truncate":
        text = text[: len(text) // 3]
    elif mangle == "shuffle":
        ls = text.split("\n")
        rng.shuffle(ls)
        text = "\n".join(ls)
    elif mangle == "binary":
        text = "".join(chr(rng.randint(1, 0x9fff)) for _ in range(5000))
    else:
        text = "一、总体情况\n" + "数" * 200000 + "\n" + text
    p = tmp_path / "m.txt"
    p.write_text(text, encoding="utf-8")
    try:
        imp = api.import_report(p)
    except api.ReadError as exc:
        assert "m.txt" in str(exc)
        return
    api.check_data(imp.data)  # whatever was read, the rules run on it


@pytest.mark.parametrize(("raw", "value"), [
    ("１，８０８，５９５", 1808595), ("1,808,595", 1808595), ("26件", 26), ("57条", 57), ("7730.28", 7730.28),
    ("59237.2449万元", 59237.2449), ("０", 0), ("", None), ("  ", None), ("/", "/"), ("-", "-"), ("—", "—"),
    ("无", "无"), ("251000元", 251000),
])
def test_cells_keep_blank_zero_and_dashes_apart(raw: str, value: CellValue) -> None:
    cell = parse.value_cell(raw)
    assert cell is not None and cell.value == value and type(cell.value) is type(value)
    assert parse.value_cell("自然人") is None and parse.value_cell("2.重复申请") is None


def test_sections_numbered_differently_are_found_and_reported(pristine: dict[str, CellValue]) -> None:
    renumber = {"一、总体情况": "总体情况", "二、主动公开政府信息情况": "一、主动公开政府信息情况",
                "三、收到和处理政府信息公开申请情况": "二、收到和处理政府信息公开申请情况",
                "四、政府信息公开行政复议、行政诉讼情况": "第三部分 政府信息公开行政复议和行政诉讼情况"}
    imp = _import_text("\n".join(renumber.get(line, line) for line in _lines()))
    assert _table_values(imp) == pristine
    assert [h.section for h in imp.headings] == ["一", "二", "三", "四", "五", "六"]
    s1 = api.check_data(imp.data).by_rule("S1")
    assert {f.severity.value for f in s1} == {"warning"} and len(s1) == 4


def test_a_markdown_copy_with_pipe_tables_reads_the_same(tmp_path: Path, pristine: dict[str, CellValue]) -> None:
    out: list[str] = []
    row: list[str] = []
    for line in _lines():
        if line.startswith("\t"):
            row.append(line[1:])
            continue
        if row and line:
            row[-1] += line  # a cell broken over lines
            continue
        if row:
            out += ["| " + " | ".join(row) + " |", "| --- |" if not out or not out[-1].startswith("|") else ""]
            row = []
        out.append("## " + line if re.match(r"^[一二三四五六]、", line) else line)
    p = tmp_path / "将乐.md"
    p.write_text("\n".join(out), encoding="utf-8")
    imp = api.import_report(p)
    assert _table_values(imp) == pristine and imp.data.agency == "将乐县工业和信息化局"


def _findings(report: Any) -> list[tuple[str, str, str, tuple[str, ...], str]]:
    return sorted((f.code, f.sheet, f.cell, f.labels, f.check) for f in report.findings)


@pytest.mark.parametrize("variant", ["moved", "renumbered", "cut", "blank", "typo"])
def test_the_workbook_imported_from_a_perturbed_report_checks_as_the_report(variant: str, tmp_path: Path) -> None:
    """Issue 21, class 7, on damaged copies of the seed: what check finds on the report (S1 order and numbering,
    a lost section, V3 blanks, label drift) it finds on the workbook the import writes of it."""
    lines = _lines()
    if variant == "moved":
        start = lines.index("四、政府信息公开行政复议、行政诉讼情况")
        end = next(i for i, line in enumerate(lines) if line.startswith("五、"))
        block = lines[start:end]
        del lines[start:end]
        two = lines.index("二、主动公开政府信息情况")
        lines[two:two] = block
    elif variant == "renumbered":
        lines = [{"一、总体情况": "总体情况", "二、主动公开政府信息情况": "一、主动公开政府信息情况"}.get(x, x)
                 for x in lines]
    elif variant == "cut":
        lines = lines[:next(i for i, line in enumerate(lines) if line.startswith("六、"))]
    elif variant == "blank":
        i = lines.index("\t二、上年结转政府信息公开申请数量")
        lines[i + 3] = "\t"
    else:
        lines = [x.replace("行政处罚", "行政处法") if x.strip() == "行政处罚" else x for x in lines]
    imp = _import_text("\n".join(lines))
    on_report = _findings(api.check_data(imp.data))
    out = api.write_imported(imp, tmp_path / f"{variant}.xlsx")
    assert _findings(api.check(out)) == on_report
    assert on_report != _findings(api.check_data(_import_text("\n".join(_lines())).data))
