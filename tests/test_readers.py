"""The fast reader (calamine + XML scan) and the openpyxl reader give the same snapshot of every workbook, and
the fast reader's fallback scan gives what its fast scan gives."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import DATA, Filler, need, rename_sheet

from xl_addin import api, hidden, spec
from xl_addin.adapters import fast_reader, office
from xl_addin.adapters.fast_reader import read_fast
from xl_addin.adapters.fileio import ReadError
from xl_addin.adapters.xlsx_patch import Patcher
from xl_addin.adapters.xlsx_reader import read_workbook
from xl_addin.model import ReportData


def _tamper(wb: Any) -> None:
    wb["表三"]["C11"] = "1.国家秘密"
    wb["表三"].unmerge_cells("B11:B18")
    wb["表三"]["J9"] = "=SUM(D9:H9)"
    wb["表四"]["E7"] = 3
    wb.security.lockStructure = False
    wb["表二"].protection.sheet = False


CASES = {
    "sample": ({}, None),
    "bad values": ({"t3.new.natural": "三", "t3.new.business": -1, "t3.new.research": 2.5, "t3.partial.legal": None,
                    "t3.new.legal": "=1+1", "t2.fees.amount": 0.12345, "meta.report_date": "2024年2月1日"}, None),
    "tampered": ({}, _tamper),
    # a formula in cells a clerk fills (S2.input), beside a text that only starts with "=" (no formula)
    "formulas in input cells": ({"s1.proactive": '=WEBSERVICE("http://evil.example/")', "meta.agency": "=1+1",
                                 "s1.overview": "=HYPERLINK(\"x\")"}, lambda wb: _text_cell(wb, "正文", "C5", "=1+2")),
}


def _text_cell(wb: Any, sheet: str, a1: str, text: str) -> None:
    """A text starting with "=" typed as text (Excel's quote prefix): a string cell, no formula."""
    cell = wb[sheet][a1]
    cell.value = text
    cell.data_type = "s"


@pytest.mark.parametrize("case", list(CASES))
def test_both_readers_agree(filled: Filler, case: str) -> None:
    changes, edit = CASES[case]
    path = filled(changes, edit=edit)
    assert read_fast(path) == read_workbook(path)
    assert api.check(path, reader="fast") == api.check(path, reader="openpyxl")


def test_both_readers_agree_on_a_blank_template(template: Path) -> None:
    assert read_fast(template) == read_workbook(template)


def test_both_readers_agree_on_a_libreoffice_saved_file() -> None:
    path = DATA / "sample-libreoffice-saved.xlsx"
    assert read_fast(path) == read_workbook(path)
    report = api.check(path)
    assert report.valid and [f.rule for f in report.findings] == ["S2"]


def test_shared_formulas_written_by_a_spreadsheet_are_understood(filled: Filler, tmp_path: Path) -> None:
    """A workbook repaired by fill and saved by LibreOffice reads with the same formulas as with openpyxl.

    (Excel stores copied formulas as shared formulas -- one master, dependants with no text --; the LibreOffice
    installed here writes each formula out, so Excel's form is covered by the "shared formulas" workbooks below.)"""
    need("soffice")
    src = filled({"t3.granted.total": 9})  # typed over a total, then repaired by fill -> LibreOffice saves it
    fixed = tmp_path / "fixed.xlsx"
    api.fill(src, fixed)
    out = tmp_path / "lo"
    subprocess.run([shutil.which("soffice") or "soffice", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(fixed)],
                   check=True, capture_output=True, timeout=300)
    saved = out / "fixed.xlsx"
    assert read_fast(saved).formulas == read_workbook(saved).formulas
    assert api.check(saved).valid


# ---- the fallback scan against the fast scan and openpyxl, on every fixture --------------------------------------

def _rename_sheet(wb: Any) -> None:
    rename_sheet(wb, "表三", "申请情况")


def _delete_sheet(wb: Any) -> None:
    del wb["表四"]


def _type_over_props(wb: Any) -> None:
    ws = wb[spec.HIDDEN_SHEET]
    row = {key: hidden.FIRST_ROW + i for i, (key, _) in enumerate(hidden.PROPS)}
    ws.cell(row["layout_version"], 2, 3)
    ws.cell(row["toolkit_version"], 2, 1.5)


#: workbooks saved by openpyxl (as a clerk's edits are in the other tests): (changes, edit)
SAVED_BY_OPENPYXL: dict[str, tuple[dict[str, Any], Callable[[Any], None] | None]] = {
    "bad values": CASES["bad values"],
    "tampered": ({"t3.new.natural": 7}, _tamper),
    "renamed sheet": ({"t3.new.natural": 7}, _rename_sheet),
    "deleted sheet": ({"t3.new.natural": "x"}, _delete_sheet),
    "properties typed over": ({}, _type_over_props),
    "total typed over": ({"t3.granted.total": 9}, None),
}
#: the same workbooks as LibreOffice saves them (one soffice run converts them all)
SAVED_BY_LIBREOFFICE = ("template", "sample", "tampered", "totals repaired")


def _prefixed(xml: bytes) -> bytes:
    """Every element of the main namespace written with the prefix x: (a namespace-aware writer may)."""
    xml = xml.replace(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
                      b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
    return re.sub(rb"<(/?)(?![a-zA-Z]+:|[?!])([A-Za-z]\w*)(?=[\s/>])", rb"<\1x:\2", xml)


_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"([^>]*)><f>([^<]*)</f>')


def _shared(xml: bytes) -> bytes:
    """Formulas copied down a column stored as Excel stores them: one shared-formula master with the text and
    the range, dependants with none."""
    from openpyxl.formula.translate import Translator

    def copied(master: tuple[int, str, str], ref: str, text: str) -> bool:
        return Translator("=" + master[2], origin=master[1]).translate_formula(ref) == "=" + text

    runs: dict[str, list[list[tuple[int, str, str]]]] = {}  # column -> runs of (row, ref, text) down it
    for m in _FORMULA_CELL.finditer(xml):
        col, row, text = m.group(1).decode(), int(m.group(2)), m.group(4).decode()
        ref = f"{col}{row}"
        run = runs.setdefault(col, [[]])[-1]
        if run and run[-1][0] == row - 1 and "&" not in text and copied(run[0], ref, text):
            run.append((row, ref, text))
        else:
            runs[col].append([(row, ref, text)])
    new: dict[str, str] = {}
    for si, run in enumerate(r for col_runs in runs.values() for r in col_runs if len(r) > 1):
        (_, first, text), (_, last, _) = run[0], run[-1]
        new[first] = f'<f t="shared" ref="{first}:{last}" si="{si}">{text}</f>'
        new.update((ref, f'<f t="shared" si="{si}"/>') for _, ref, _ in run[1:])

    def one(m: re.Match[bytes]) -> bytes:
        ref = (m.group(1) + m.group(2)).decode()
        return m.group(0) if ref not in new else b'<c r="%s"%s>%s' % (ref.encode(), m.group(3), new[ref].encode())

    return _FORMULA_CELL.sub(one, xml)


#: sheet parts of shapes the fast scan leaves to the fallback, as other writers may produce them
SHAPES: dict[str, Callable[[bytes], bytes]] = {
    "prefixed": _prefixed,
    "single-quoted": lambda xml: re.sub(rb'(<c [^>]*?)r="([A-Z]+[0-9]+)"', rb"\1r='\2'", xml),
    "comment": lambda xml: xml.replace(b"<sheetData>", b"<sheetData><!-- written by hand -->", 1),
    "comment after the cells": lambda xml: xml.replace(b"</sheetData>", b"</sheetData><!-- written by hand -->", 1),
    "attribute order": lambda xml: re.sub(rb'<c r="([A-Z]+[0-9]+)" s="([0-9]+)"', rb'<c s="\2" r="\1"', xml),
    "cdata": lambda xml: re.sub(rb"<f>([^<]*)</f>", rb"<f><![CDATA[\1]]></f>", xml),
}


def _reshaped(src: Path, out: Path, shape: Callable[[bytes], bytes]) -> Path:
    changed = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            raw = zin.read(info.filename)
            if re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
                reshaped = shape(raw)
                changed += reshaped != raw
                raw = reshaped
            zout.writestr(info, raw)
    assert changed
    return out


DATA_FILES = sorted(str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.is_file() and p.suffix != ".py")
WORKBOOKS = [
    *(f"data/{name}" for name in DATA_FILES),
    "template", "sample", "template with last year's figures", "patched copy", "patched copy, invalid",
    *(f"openpyxl/{name}" for name in SAVED_BY_OPENPYXL),
    *(pytest.param(f"libreoffice/{name}", marks=pytest.mark.libreoffice) for name in SAVED_BY_LIBREOFFICE),
    "shared formulas/sample", "shared formulas/tampered",
    *(f"shape/{shape}/{base}" for shape in SHAPES for base in ("sample", "tampered", "shared formulas")),
]


@pytest.fixture(scope="module")
def workbooks(template: Path, sample: Path, sample_values: dict[str, Any],
              tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """name -> the workbook of that name in WORKBOOKS, made when first asked for."""
    tmp = tmp_path_factory.mktemp("workbooks")
    made: dict[str, Path] = {"template": template, "sample": sample}

    def by_openpyxl(name: str) -> Path:
        changes, edit = SAVED_BY_OPENPYXL[name]
        wb = openpyxl.load_workbook(sample)
        for key, value in changes.items():
            where = spec.LAYOUT.locations[key]
            wb[where.sheet][where.a1] = value
        if edit is not None:
            edit(wb)
        out = tmp / f"openpyxl-{name}.xlsx"
        wb.save(out)
        return out

    def by_libreoffice() -> Iterator[tuple[str, Path]]:
        need("soffice")
        repaired = tmp / "totals repaired.xlsx"  # repaired by fill, then saved by LO: shared formulas
        api.fill(get("openpyxl/total typed over"), repaired)
        sources = {"template": template, "sample": sample, "tampered": get("openpyxl/tampered"),
                   "totals repaired": repaired}
        copies = {}
        for name, src in sources.items():
            copies[name] = tmp / "lo-in" / f"{name}.xlsx"
            copies[name].parent.mkdir(exist_ok=True)
            shutil.copy(src, copies[name])
        saved = office.convert(list(copies.values()), "xlsx", tmp / "lo-out", recalc=False)
        yield from zip(copies, saved, strict=True)

    def get(name: str) -> Path:
        if name in made:
            return made[name]
        kind, _, rest = name.partition("/")
        if kind == "data":
            made[name] = DATA / rest
        elif kind == "openpyxl":
            made[name] = by_openpyxl(rest)
        elif kind == "libreoffice":
            made.update((f"libreoffice/{n}", p) for n, p in by_libreoffice())
        elif kind == "shared formulas":
            made[name] = _reshaped(get(rest if rest == "sample" else f"openpyxl/{rest}"), tmp / f"shared-{rest}.xlsx",
                                   _shared)
        elif kind == "shape":
            shape, _, base = rest.partition("/")
            made[name] = _reshaped(get({"sample": "sample", "tampered": "openpyxl/tampered"}.get(base, f"{base}/sample")),
                                   tmp / f"{shape}-{base}.xlsx", SHAPES[shape])
        elif name == "template with last year's figures":
            made[name] = api.build_template(tmp / "with-prior.xlsx", last_year=sample)
        else:
            patcher = Patcher(template.read_bytes())
            values = dict(sample_values)
            if name.endswith("invalid"):
                values.update({"t3.new.natural": "/", "t3.granted.natural": 40, "meta.report_date": "2024年2月1日"})
            made[name] = tmp / f"{name}.xlsx"
            made[name].write_bytes(patcher.patch(values))
        return made[name]

    return get


def _outcome(read: Callable[[], ReportData]) -> ReportData | tuple[type, str]:
    try:
        return read()
    except ReadError as exc:
        return ReadError, str(exc)


def _types(data: ReportData) -> dict[str, dict[Any, type]]:
    """The Python type of every value read: == holds 1 == 1.0 == True, a reader must not."""
    labels = data.structure.labels if data.structure is not None else {}
    return {"values": {k: type(v) for k, v in data.values.items()}, "prior": {k: type(v) for k, v in data.prior.items()},
            "labels": {k: type(v) for k, v in labels.items()}}


@pytest.mark.parametrize("name", WORKBOOKS)
def test_the_fallback_scan_reads_every_workbook_as_the_fast_scan_and_openpyxl_do(
        name: str, workbooks: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path = workbooks(name)
    used = {"fast": 0, "fallback": 0}
    scan_fast, scan_tree = fast_reader._scan_fast, fast_reader._scan_tree

    def counted_fast(xml: bytes) -> Any:
        out = scan_fast(xml)
        used["fast"] += out is not None
        return out

    def counted_tree(xml: bytes) -> Any:
        used["fallback"] += 1
        return scan_tree(xml)

    monkeypatch.setattr(fast_reader, "_scan_fast", counted_fast)
    monkeypatch.setattr(fast_reader, "_scan_tree", counted_tree)

    fast = _outcome(lambda: read_fast(path))
    by_fast_path = dict(used)
    used.update(fast=0, fallback=0)
    monkeypatch.setattr(fast_reader, "FULL_SCAN_ONLY", True)
    forced = _outcome(lambda: read_fast(path))
    forced_bulk = _outcome(lambda: read_fast(path, data=path.read_bytes(), test_members=False))
    by_fallback = dict(used)
    monkeypatch.setattr(fast_reader, "FULL_SCAN_ONLY", False)
    reference = _outcome(lambda: read_workbook(path))

    assert forced == fast
    assert forced_bulk == fast
    if not isinstance(fast, ReportData):
        assert not isinstance(reference, ReportData), reference
        assert by_fallback["fast"] == 0
        return
    assert fast == reference
    assert _types(fast) == _types(reference)
    assert isinstance(forced, ReportData) and _types(forced) == _types(fast)
    scanned = 2 * by_fast_path["fast"] + 2 * by_fast_path["fallback"]  # two reads forced: a file, its bytes
    assert by_fallback == {"fast": 0, "fallback": scanned} and scanned > 0
    if name.startswith("shape/"):  # a shape the fast scan does not take
        assert by_fast_path["fallback"] > 0
    else:  # every writer's plain shape, LibreOffice's too
        assert by_fast_path["fallback"] == 0


def test_the_fixtures_cover_what_the_scans_decide(workbooks: Callable[[str], Path]) -> None:
    """The differential test above would prove little on workbooks without shared formulas, broken merges or
    unprotected sheets: the fixtures have them."""
    sample = read_fast(workbooks("sample"))
    for name in ("shared formulas/sample", "shape/prefixed/shared formulas"):
        with zipfile.ZipFile(workbooks(name)) as zf:
            sheet = zf.read("xl/worksheets/sheet3.xml")
        assert sheet.count(b't="shared"') > 20 and sheet.count(b't="shared" si="0"/>') > 10
        assert read_fast(workbooks(name)).formulas == sample.formulas
    tampered = read_fast(workbooks("shape/prefixed/tampered"))
    j9 = next(k for k, loc in spec.LAYOUT.locations.items() if (loc.sheet, loc.a1) == ("表三", "J9"))
    assert tampered.structure is not None and tampered.formulas[j9] == "=SUM(D9:H9)"
    assert "B11:B18" not in tampered.structure.merges["表三"] and not tampered.structure.sheet_protected["表二"]


def _reads(name: str) -> bool:
    try:
        read_fast(DATA / name)
    except ReadError:
        return False
    return True


@pytest.mark.parametrize("name", [w for w in WORKBOOKS
                                  if not (isinstance(w, str) and w.startswith("data/") and not _reads(w[5:]))])
def test_the_add_in_reads_the_same_properties(name: str, workbooks: Callable[[str], Path]) -> None:
    """The third reader of the hidden sheet's properties: the add-in, through xlwings."""
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    xw = pytest.importorskip("xlwings")
    from xlwings_payload import payload_from_xlsx

    from xl_addin import addin

    path = workbooks(name)
    _, data = addin.Session(xw.Book(json=payload_from_xlsx(path))).report_data()
    assert data.props == read_fast(path).props == read_workbook(path).props


def test_a_workbook_of_an_earlier_template_build_still_checks() -> None:
    """A clerk who filled last month's template: the same official grid, an older fingerprint -- checked as usual,
    with a warning to use the newest template, never an error."""
    path = DATA / "earlier-build-libreoffice-saved.xlsx"
    report = api.check(path)
    assert report.valid and {f.code for f in report.findings} == {"S2.protection", "S2.fingerprint"}


# ---- layout versions ---------------------------------------------------------------------------------------------
#: a workbook filled in a template of layout 1 (before the row for the lead paragraph of 一), saved by LibreOffice
LAYOUT_1 = DATA / "earlier-build-libreoffice-saved.xlsx"


def test_a_workbook_of_layout_1_is_read_at_its_own_cells() -> None:
    """Layout 2 put a row for the lead paragraph of 一 above （一） and moved the 正文 rows below it down by one.
    A workbook of layout 1 reads every field from its own cell -- with both readers and through the add-in --,
    has no lead paragraph (missing, not blank), and is compared with layout 1: no S2 for the moved rows."""
    import xlwings as xw
    from xlwings_payload import payload_from_xlsx

    from xl_addin import addin

    sample = api.sample_values()
    fast, full = read_fast(LAYOUT_1), read_workbook(LAYOUT_1)
    _, live = addin.Session(xw.Book(json=payload_from_xlsx(LAYOUT_1))).report_data()
    assert fast == full and fast.structure is not None and fast.structure.layout_version == 1
    for data in (fast, live):
        assert data.props["layout_version"] == "1"
        assert "s1.overview" in data.missing and "s1.overview" not in spec.layout_of(1).locations
        moved = [f.key for f in spec.fields_of_layout(1)]
        assert moved and all(data.get(k) == sample[k] for k in moved), "a field read from the wrong row"
    assert fast.location("s1.proactive").a1 == "C3" and spec.LAYOUT.locations["s1.proactive"].a1 == "C4"


def test_a_layout_1_workbook_that_lost_its_hidden_sheet_is_known_by_its_names(tmp_path: Path) -> None:
    """Without the hidden sheet that names the layout, the defined names tell it: no lead-paragraph name, layout 1.
    The loss is reported (S2.hidden); the 正文 rows are not reported as moved."""
    wb = openpyxl.load_workbook(LAYOUT_1)
    del wb[spec.HIDDEN_SHEET]
    path = tmp_path / "no-hidden.xlsx"
    wb.save(path)
    data = read_fast(path)
    assert data.structure is not None and data.structure.layout_version == 1
    assert data.get("s1.proactive") == api.sample_values()["s1.proactive"]
    codes = {f.code for f in api.check(path).findings}
    assert "S2.hidden" in codes and not codes & {"S2.label", "S2.merge", "S2.unlocked", "S2.names", "S2.validation"}


@pytest.mark.parametrize(("said", "codes"), [
    ("1", {"S2.label", "S2.merge", "S2.unlocked"}),  # a false claim: compared with layout 1, the rows differ
    ("99", set()),  # a newer build's template: no damage (its fingerprint differs: S2.fingerprint says so)
    ("0", {"S2.hidden"}),  # unknown: reported, and the layout is taken from the names (2)
    ("02", {"S2.hidden"}),
    ("二", {"S2.hidden"}),
    ("²", {"S2.hidden"}),  # a digit to str.isdigit, not to int()
    ("9" * 5000, {"S2.hidden"}),  # beyond int()'s digit limit
])
def test_the_layout_a_workbook_claims_is_checked(filled: Filler, said: str, codes: set[str]) -> None:
    def claim(wb: Any) -> None:
        ws = wb[spec.HIDDEN_SHEET]
        row = {key: hidden.FIRST_ROW + i for i, (key, _) in enumerate(hidden.PROPS)}
        ws.cell(row["layout_version"], 2, said)

    path = filled(edit=claim)
    assert read_fast(path) == read_workbook(path)
    found = {f.code for f in api.check(path).findings if f.rule == "S2"} - {"S2.fingerprint"}
    assert found == codes


def test_the_layout_1_workbook_fills_and_exports_and_refuses_a_value_it_has_no_cell_for(tmp_path: Path) -> None:
    """fill and export work on it as on a new one (no lead paragraph in the export); putting a lead paragraph
    into it is refused with a message naming the cell it lacks, and the file is not changed."""
    from conftest import cli

    src = tmp_path / "old.xlsx"
    shutil.copy(LAYOUT_1, src)
    before = src.read_bytes()
    assert cli("fill", src, "-o", tmp_path / "filled.xlsx").returncode == 0
    assert cli("export", src, "-o", tmp_path / "out").returncode == 0
    text = next((tmp_path / "out").glob("*.txt")).read_text(encoding="utf-8-sig")
    assert re.search(r"一、总体情况\n（一）主动公开\n", text)
    r = cli("put", src, "--sample", "-o", tmp_path / "put.xlsx")
    assert r.returncode != 0 and "总体情况概述" in r.stderr and not (tmp_path / "put.xlsx").exists()
    assert src.read_bytes() == before


def test_a_finding_on_a_whole_section_points_at_a_cell_the_layout_1_workbook_has() -> None:
    """X3 (the same text as last year) names section 一 at its first cell: in a layout-1 workbook that is 主动公开
    in C3, not the lead paragraph it does not have."""
    x3 = [f for f in api.check(LAYOUT_1, last_year=LAYOUT_1).findings if f.check == "X3:一"]
    assert x3 and {(f.key, f.sheet, f.cell) for f in x3} == {("s1.proactive", spec.NARRATIVE_SHEET, "C3")}


def test_bulk_reads_take_the_check_sheet_of_a_copy_by_its_own_bytes(sample: Path, tmp_path: Path) -> None:
    """Bulk reads remember 校验汇总 by its stored bytes (the copies of one template share it): a copy whose state
    formulas were overwritten is still caught (S2.live), between and after intact copies, and the intact copies
    read after it are read as before."""
    from xl_addin import checking

    part = dict(fast_reader.workbook_parts(zipfile.ZipFile(sample))[0])[spec.SUMMARY_SHEET]
    tampered = tmp_path / "校验汇总被改.xlsx"
    with zipfile.ZipFile(sample) as src, zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == part:
                body = re.sub(rb"<f>[^<]*</f>", b"", body)
            dst.writestr(info, body)

    def live_codes(path: Path) -> list[str]:
        got = checking.check_file(str(path), raw=path.read_bytes(), test_members=False)
        assert got.result.report is not None
        return [f.code for f in got.result.report.findings if f.code == "S2.live"]

    assert [live_codes(p) for p in (sample, tampered, sample, tampered)] == [[], ["S2.live"], [], ["S2.live"]]
    assert read_fast(sample, data=sample.read_bytes(), test_members=False) == read_fast(sample)


def test_a_file_read_whole_even_when_it_grew_after_its_size_was_seen(sample: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The bulk read asks for the size it saw (not the whole limit); a file that grew since is still read whole,
    and one past the limit still stops one byte after it (then refused as too large)."""
    from xl_addin.adapters import fileio

    data = sample.read_bytes()
    seen = fileio.check_regular(sample)
    stale = os.stat_result((seen.st_mode, *tuple(seen)[1:6], 100, *tuple(seen)[7:]))  # as if 100 bytes
    monkeypatch.setattr(fileio, "check_regular", lambda p: stale)
    assert fileio.read_guarded(sample) == (data, stale)
    monkeypatch.setattr(fileio, "MAX_FILE_BYTES", 1000)
    assert len(fileio.read_guarded(sample)[0]) == 1001


def test_the_states_of_a_profile_template_with_fewer_checks_take_the_fast_scan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A template built under a rule profile that switches a live check off has fewer rows on 校验汇总: its state
    formulas are read by the one C-level pass (a full XML parse costs ~8x, paid by every re-saved workbook), with the
    same result as the fallback; a cell in a row after them, however spelled, sends the part to the fallback."""
    from xl_addin import live, profiles

    strict = profiles.parse('[profile]\nname = "某县"\n[rules]\noff = ["A6"]\n', "某县.toml")
    rows = len(live.checks(live.settings_of(strict)))
    assert rows < len(live.checks(live.NATIONAL))

    def states_xml(profile: Any) -> bytes:
        book = api.build_template(tmp_path / "模板.xlsx", api.sample_values(), profile=profile)
        with zipfile.ZipFile(book) as zf:
            part = dict(fast_reader.workbook_parts(zf)[0])[spec.SUMMARY_SHEET]
            return zf.read(part)

    trees = [0]
    tree = fast_reader._tree

    def counted(xml: bytes) -> Any:
        trees[0] += 1
        return tree(xml)

    monkeypatch.setattr(fast_reader, "_tree", counted)
    for profile in (None, strict):
        xml = states_xml(profile)
        fast = fast_reader._scan_states(xml).formulas
        assert trees[0] == 0, profile
        monkeypatch.setattr(fast_reader, "FULL_SCAN_ONLY", True)
        assert fast_reader._scan_states(xml).formulas == fast and len(fast) == (rows if profile else len(
            live.checks(live.NATIONAL)))
        monkeypatch.setattr(fast_reader, "FULL_SCAN_ONLY", False)
        trees[0] = 0
    # the row after the profile's last, present in a spelling the plain pass does not take: the fallback reads it
    after = f"{spec.col_letter(live.COL_STATE)}{live.FIRST_ROW + rows}"
    odd = xml.replace(b"</sheetData>", f'<row r="{live.FIRST_ROW + rows}"><c r=\'{after}\'><f>1+1</f></c></row>'
                      "</sheetData>".encode())
    got = fast_reader._scan_states(odd).formulas
    assert trees[0] == 1 and got[after] == "=1+1" and len(got) == rows + 1
