"""Live checks inside the template: compiled from the catalogue, and equal to the validator when a real
spreadsheet engine (LibreOffice) recalculates them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine
from conftest import DATA, EXAMPLES_SHARE, IN_CI, need
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pdf_pages import render_png

from xl_addin import api, catalogue, derive, drafts, live, spec
from xl_addin.adapters import office
from xl_addin.model import Severity

OUTPUT = Path(__file__).parent / "output"
REGRESSIONS = DATA / "live"
#: what Excel 2010, WPS and LibreOffice compute alike (the issue's list and the comparison helpers)
ALLOWED = {"IF", "AND", "OR", "NOT", "ISNUMBER", "ISLOGICAL", "ISBLANK", "INT", "ABS", "ROUND", "SUM", "COUNTIF",
           "COUNTIFS", "COUNTBLANK", "LEFT", "MID", "LEN", "TRIM", "INDEX", "MATCH", "IFERROR"}


def formulas_of(wb: openpyxl.Workbook) -> list[str]:
    """Every cell formula and every conditional-formatting formula of the workbook."""
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            out += [c.value for c in row if isinstance(c.value, str) and c.value.startswith("=")]
        for cf in ws.conditional_formatting:
            out += ["=" + f for rule in cf.rules for f in rule.formula]
    return out


def test_one_live_check_per_rule_instance_compiled_from_the_catalogue() -> None:
    ids = [c.id for c in live.checks()]
    assert len(ids) == len(set(ids))
    arithmetic = {i.id for i in catalogue.instances()}
    assert arithmetic <= set(ids)
    assert {i.split(":")[0] for i in arithmetic} == {"A1", "A2", "A3", "A4", "A6", "X1", "X2"}
    assert len([i for i in arithmetic if i.startswith("A3:")]) == len(spec.T3_COLS)  # one per column of 三
    counts = {k for k in spec.INPUT_KEYS if spec.DATA_CELLS[k].kind is spec.Kind.COUNT}
    assert {i[3:] for i in ids if i.startswith("V1:")} == counts
    assert {c.code for c in live.checks()} == set(catalogue.live_codes())
    for c in live.checks():  # the severity shown is the catalogue entry's (the fee in 元 is the V2 warning variant)
        assert c.severity is catalogue.CATALOGUE[c.code].severity
    assert {c.severity for c in live.checks() if c.kind == "yuan"} == {Severity.WARNING}


def test_the_template_carries_the_compiled_checks(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    ws = wb[live.SHEET]
    assert [c.value for c in ws[live.HEADER_ROW]] == list(live.HEADERS)
    got = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=live.FIRST_ROW)]
    assert got == live.summary_rows()
    for t in spec.TABLES:
        assert wb[t.sheet].cell(live.STATUS_ROW, 1).value == live.status_formula(t.sheet)
    # every cell a check covers is coloured by a rule that points at that check's state
    coloured: dict[tuple[str, str], str] = {}
    for sheet in wb.worksheets:
        for cf in sheet.conditional_formatting:
            for rule in cf.rules:
                for rng in cf.sqref.ranges:
                    for row in sheet[rng.coord] if ":" in rng.coord else ((sheet[rng.coord],),):
                        for cell in row:
                            coloured[(sheet.title, cell.coordinate)] = coloured.get((sheet.title, cell.coordinate),
                                                                                    "") + rule.formula[0]
    for c in live.checks():
        for k in c.marks:
            where = spec.LAYOUT.locations[k]
            if c.kind == "blank":  # a blank input is amber by itself
                assert "LEN(" in coloured[(where.sheet, where.a1)], (c.id, k)
            else:
                assert live.state_ref(c.id) in coloured[(where.sheet, where.a1)], (c.id, k)


def test_check_formulas_use_only_portable_functions_and_fit_excel_limits(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    found = set()
    for f in formulas_of(wb):
        assert len(f) < 8192  # Excel's formula length limit
        found |= set(re.findall(r"([A-Z][A-Z0-9.]*)\(", re.sub(r'"[^"]*"', "", f)))
        depth = max_depth = 0
        for ch in f:
            depth += ch == "("
            depth -= ch == ")"
            max_depth = max(max_depth, depth)
        assert max_depth <= 64  # Excel's nesting limit
    assert found <= ALLOWED, found - ALLOWED
    assert not any(x in f for f in formulas_of(wb) for x in ("_xlfn.", "LET(", "LAMBDA(", "XLOOKUP(", "FILTER("))


def test_template_stays_small(template: Path) -> None:
    assert template.stat().st_size < 300_000


# ---- generated workbooks ----------------------------------------------------------------------------------------

T3_ROWS = list(dict.fromkeys(k.split(".")[1] for k in spec.DATA_CELLS if k.startswith("t3.")))
T3_COLS = [k for k, _ in spec.T3_COLS if k != "total"]
COUNT_INPUTS = [k for k in spec.INPUT_KEYS if spec.DATA_CELLS[k].kind is spec.Kind.COUNT]
BAD_VALUES = st.one_of(
    st.integers(-50, -1), st.floats(0.1, 99.9).map(lambda x: round(x, 2)), st.sampled_from(["abc", "12", " ", "五", "/", "—"]),
    st.none(), st.integers(0, 30), st.just(1e7))
FEES = st.one_of(st.none(), st.integers(0, 5), st.decimals("0", "50", places=4).map(float),
                 st.decimals("0", "5", places=6).map(float), st.floats(-10, -0.01), st.integers(1000, 50000),
                 st.just("免收"))


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    """Consistent tables (A3 holds, X1/X2 meet last year), then a few perturbed cells."""
    v: dict[str, Any] = {}
    small = st.integers(0, 12)
    for ck in T3_COLS:
        for rk in T3_ROWS:
            key = f"t3.{rk}.{ck}"
            if key in spec.INPUT_KEYS and rk != "carried_out":
                v[key] = draw(small)
        concluded = sum(v.get(f"t3.{rk}.{ck}", 0) for rk in T3_ROWS
                        if f"t3.{rk}.{ck}" in spec.INPUT_KEYS and rk not in ("new", "carried_in", "carried_out"))
        v[f"t3.new.{ck}"] += max(0, concluded - v[f"t3.new.{ck}"] - v[f"t3.carried_in.{ck}"])
        v[f"t3.carried_out.{ck}"] = v[f"t3.new.{ck}"] + v[f"t3.carried_in.{ck}"] - concluded
    for key in spec.INPUT_KEYS:
        if key.startswith(("t4.", "t2.")) and spec.DATA_CELLS[key].kind is spec.Kind.COUNT:
            v[key] = draw(small)
    for rk, _, _ in spec.T2_DOC_ROWS:
        made, rep = v[f"t2.{rk}.made"], v[f"t2.{rk}.repealed"]
        v[f"t2.{rk}.in_force"] = made + draw(small)
        v[f"prior.t2.{rk}.in_force"] = v[f"t2.{rk}.in_force"] - made + rep
    for ck in T3_COLS:
        v[f"prior.t3.carried_out.{ck}"] = v[f"t3.carried_in.{ck}"]
    v["prior.t3.carried_out.total"] = sum(v[f"t3.carried_in.{ck}"] for ck in T3_COLS)
    v["t2.fees.amount"] = draw(FEES)
    for key in draw(st.lists(st.sampled_from(COUNT_INPUTS), max_size=4, unique=True)):
        v[key] = draw(BAD_VALUES)
    for key in draw(st.lists(st.sampled_from([k for k in v if k.startswith("prior.")]), max_size=2, unique=True)):
        v[key] = draw(st.one_of(st.none(), st.integers(0, 40), st.just("无"), st.integers(-3, -1)))
    if draw(st.integers(0, 4)) == 0:  # no last-year workbook at all
        v = {k: x for k, x in v.items() if not k.startswith("prior.")}
    return v


def write(values: dict[str, Any], base: openpyxl.Workbook, path: Path) -> None:
    cells = []
    for key, value in values.items():
        where = spec.LAYOUT.locations[key]
        cell = base[where.sheet][where.a1]
        cells.append((cell, cell.value))
        cell.value = value
    base.save(path)
    for cell, old in cells:
        cell.value = old


Lines = dict[str, tuple[str, str]]


def sheet_states(sheets: dict[str, list[list[Any]]]) -> tuple[set[str], Lines]:
    """(ids of failing checks, table sheet -> (status line, identity line)) as the recalculated workbook shows
    them; also holds the failing list at the top of 校验汇总 to exactly the failing checks, in order."""
    rows = sheets[live.SHEET]
    by_id = {r[live.COL_ID - 1]: r[live.COL_STATE - 1] for r in rows[live.FIRST_ROW - 1:]}
    assert set(by_id.values()) <= {live.PASS, live.FAIL}, set(by_id.values())
    failing = [r for r in rows[live.FIRST_ROW - 1:] if r[live.COL_STATE - 1] == live.FAIL]
    listed = [r[live.COL_TITLE - 1] for r in rows[live.FAILING_FIRST_ROW - 1:live.FAILING_MORE_ROW - 1]]
    want = [r[live.COL_TITLE - 1] for r in failing[:live.FAILING_ROWS]]
    assert listed == want + [""] * (live.FAILING_ROWS - len(want)), (listed, want)
    more = rows[live.FAILING_MORE_ROW - 1][0]
    assert (str(len(failing) - live.FAILING_ROWS) in more) if len(failing) > live.FAILING_ROWS else more == ""
    status = {t.sheet: (sheets[t.sheet][live.STATUS_ROW - 1][0], sheets[t.sheet][live.IDENTITY_ROW - 1][0])
              for t in spec.TABLES}
    return {i for i, s in by_id.items() if s == live.FAIL}, status


def calamine_sheets(path: Path) -> dict[str, list[list[Any]]]:
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def validator_states(path: Path) -> tuple[set[str], Lines]:
    report = api.check(path)
    found = [f for f in report.findings if catalogue.CATALOGUE[f.code].live]
    failing = {f.check for f in found}
    status = {}
    for t in spec.TABLES:
        mine = [f for f in found if f.sheet == t.sheet]
        e = sum(f.severity is Severity.ERROR for f in mine)
        w = sum(f.severity is Severity.WARNING and f.rule != live.ROW_CHECK for f in mine)
        k = sum(f.values["n"] for f in mine if f.rule == live.ROW_CHECK)
        status[t.sheet] = (live.status_text(e, w, k), live.identity_text(failing, t.sheet))
    return failing, status


def draft_texts(path: Path, sheets: dict[str, list[list[Any]]]) -> dict[str, tuple[Any, str | None]]:
    """draft id -> (the text its formula shows after recalculation, the text drafts.render gives in Python)."""
    numbers = derive.effective_values(api.read(path))
    out = {}
    for d in drafts.DRAFTS:
        sheet, a1 = drafts.draft_cells()[d.id]
        col, row = openpyxl.utils.cell.coordinate_from_string(a1)
        shown = sheets[sheet][row - 1][openpyxl.utils.cell.column_index_from_string(col) - 1]
        out[d.id] = (shown, drafts.render(d, numbers.get))
    return out


def differential(cases: list[dict[str, Any]], template: Path, work: Path) -> None:
    need("soffice")
    src = work / "src"
    src.mkdir()
    base = openpyxl.load_workbook(template)
    paths = []
    for i, values in enumerate(cases):
        paths.append(src / f"case-{i:03d}.xlsx")
        write(values, base, paths[-1])
    paths += sorted(REGRESSIONS.glob("*.xlsx"))
    recalculated = office.recalculated_sheets(paths, work / "lo")
    bad, drafted = [], 0
    for path, sheets in zip(paths, recalculated, strict=True):
        sheet, python = sheet_states(sheets), validator_states(path)
        if sheet != python:
            bad.append((path, sheet, python))
        for draft_id, (shown, expected) in draft_texts(path, sheets).items():
            if expected is not None:  # a number the draft needs is unusable: V1 already says so
                drafted += 1
                assert shown == expected, f"{path.name}: draft {draft_id} shows {shown!r}, Python says {expected!r}"
    assert drafted >= len(paths)  # most workbooks have usable numbers: the drafts were really compared
    if bad:
        keep = OUTPUT / "live-mismatch"
        keep.mkdir(parents=True, exist_ok=True)
        for path, *_ in bad:
            shutil.copy(path, keep / path.name)
        path, (s_ids, s_status), (p_ids, p_status) = bad[0]
        pytest.fail(f"{len(bad)} of {len(paths)} workbooks disagree (kept in {keep}; move one to {REGRESSIONS}). "
                    f"{path.name}: only in the sheet {sorted(s_ids - p_ids)}, only in the validator "
                    f"{sorted(p_ids - s_ids)}, status sheet {s_status} vs validator {p_status}")


#: workbooks the differential draws: 220 in CI (the "ci" hypothesis profile), fewer locally (conftest.py)
N_GENERATED = round(220 * EXAMPLES_SHARE)


def generated(n: int) -> list[dict[str, Any]]:
    """n reports drawn by hypothesis (generation only: the check runs once over all of them, because one
    LibreOffice process recalculating many files is what makes the differential affordable)."""
    cases: list[dict[str, Any]] = []

    @settings(max_examples=n, phases=[Phase.generate], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(reports())
    def draw(values: dict[str, Any]) -> None:
        cases.append(values)

    draw()
    return cases


@pytest.mark.libreoffice
def test_sheet_checks_equal_the_validator_on_generated_workbooks(template: Path, tmp_path: Path) -> None:
    """>= 200 generated workbooks, recalculated by LibreOffice in one process: for every one, the set of checks
    the sheet shows as 不通过 (and each table's status line) equals what the validator reports."""
    need("soffice")
    cases = generated(N_GENERATED)
    assert len(cases) >= N_GENERATED * 0.9 and (N_GENERATED >= 200 or not IN_CI)
    differential(cases, template, tmp_path)


@pytest.mark.libreoffice
def test_rendered_valid_and_invalid_workbooks(sample: Path, filled: Any, tmp_path: Path) -> None:
    """Valid and invalid sample, recalculated and printed by LibreOffice, for a developer to look at."""
    need("soffice")
    need("pdftoppm")
    invalid = filled({"t3.new.natural": 5, "t3.granted.business": "一件", "t2.fees.amount": 1200,
                      "t4.review.upheld": -1}, name="invalid.xlsx")
    valid = tmp_path / "valid.xlsx"
    shutil.copy(sample, valid)
    out = OUTPUT / "live"
    if out.exists():
        shutil.rmtree(out)
    pdfs = office.convert([valid, invalid], "pdf", tmp_path / "pdf")
    pages = {}
    for pdf in pdfs:
        pages[pdf.stem] = render_png(pdf, out / pdf.stem, first=1, last=8, dpi=60)
        assert pages[pdf.stem]
    # the invalid workbook's status lines say what is wrong; the valid one passes
    calc = office.convert([valid, invalid], "xlsx", tmp_path / "calc")
    ok_fail, ok_status = sheet_states(calamine_sheets(calc[0]))
    bad_fail, bad_status = sheet_states(calamine_sheets(calc[1]))
    assert not ok_fail and set(ok_status.values()) == {(live.TABLE_OK, "")}
    assert bad_status["表三"][0] == "本表有 2 处错误、0 处警告，详见“校验汇总”"
    assert bad_status["表三"][1].startswith("勾稽关系不符") and "自然人" in bad_status["表三"][1]
    assert bad_status["表二"] == ("本表有 0 处错误、1 处警告，详见“校验汇总”", "")
    assert bad_fail == validator_states(invalid)[0]
    (out / "README.txt").write_text(json.dumps({k: [p.name for p in v] for k, v in pages.items()},
                                               ensure_ascii=False, indent=1), encoding="utf-8")


@pytest.mark.libreoffice
def test_template_opens_in_libreoffice_and_the_checks_compute(template: Path, tmp_path: Path) -> None:
    need("soffice")
    (calc,) = office.convert([template], "xlsx", tmp_path)
    wb = python_calamine.CalamineWorkbook.from_path(str(calc))
    assert wb.sheet_names[: len(spec.TABLES) + 3] == [spec.META_SHEET, *(t.sheet for t in spec.TABLES),
                                                      spec.NARRATIVE_SHEET, live.SHEET]
    failing, status = sheet_states(calamine_sheets(calc))
    # an empty template: nothing is wrong yet, but nothing is filled in either -- never green
    assert failing and {c.split(":")[0] for c in failing} == {"V3"}
    blanks = {sheet: sum(1 for k in spec.INPUT_KEYS if spec.LAYOUT.locations[k].sheet == sheet) for sheet in status}
    for sheet, (line, identity) in status.items():
        assert line == f"本表有 0 处错误、0 处警告，尚有 {blanks[sheet]} 格未填，详见“校验汇总”" and identity == ""


def test_last_year_figures_prefilled_make_x1_live(tmp_path: Path, sample: Path) -> None:
    """template --last-year puts last year's 结转下年度 and 现行有效件数 into the hidden cells X1/X2 read."""
    out = api.build_template(tmp_path / "next.xlsx", last_year=sample)
    wb = openpyxl.load_workbook(out)
    carried = api.last_year_figures(sample)
    assert len(carried) == len(spec.PRIOR_KEYS)
    for key, value in carried.items():
        where = spec.LAYOUT.locations[spec.prior_key(key)]
        assert wb[where.sheet][where.a1].value == value
        assert wb[where.sheet].sheet_state == "hidden"


def test_true_or_false_in_a_count_cell_is_v1_and_the_sheet_formula_says_so_too(filled: Any) -> None:
    """LibreOffice stores TRUE/FALSE as 1/0, so the differential cannot cover them; the formula still tests
    ISLOGICAL first (Excel keeps booleans apart), and the validator always reports them."""
    path = filled({"t3.granted.natural": True})
    assert "V1:t3.granted.natural" in {f.check for f in api.check(path).findings}
    check = next(c for c in live.checks() if c.id == "V1:t3.granted.natural")
    f = live.formula(check)
    assert f.index("ISLOGICAL") < f.index("ISNUMBER")
