"""The finished report (issue 5): Word, HTML and plain text exports, drafted sentences and rule T1.

The expected table grids are generated from xl_addin/spec.py; the exported files are parsed back with
python-docx and html.parser and must give the workbook's numbers and narrative (a hypothesis property)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import re
import tempfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from conftest import DATA, SHARED, Filler, cli, need
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pdf_pages import render_png

from xl_addin import api, derive, drafts, narrative, quotes, report_doc, rules, spec, structure
from xl_addin.adapters import docx_reference, exporter, office
from xl_addin.model import ReportData, Severity

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "export-sample.txt"
OUTPUT = ROOT / "tests" / "output" / "export"
EXAMPLE = SHARED / "examples" / "jiangle-industry-bureau-2023.txt"
FORMULAS = dict(structure.expected().formulas)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def report_data(values: dict[str, Any], source: str = "") -> ReportData:
    """A snapshot as a reader gives it for an untouched template filled with ``values``."""
    return ReportData(values=dict(values), formulas=FORMULAS, source=source)


# ---- reading the exports back ---------------------------------------------------------------------------------

Grid = dict[tuple[int, int], tuple[int, int, str]]  # (row, col) of an origin -> (rowspan, colspan, text)


def expected_grid(table: spec.Table, numbers: dict[str, Any]) -> Grid:
    """The official grid straight from the spec: labels with their merges, data cells with the numbers."""
    g: Grid = {(lab.row, lab.col): (lab.rowspan, lab.colspan, lab.text) for lab in table.labels}
    for c in table.cells:
        g[(c.row, c.col)] = (1, c.colspan, numbers[c.key])
    return g


def shown(v: Any) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.4f}".rstrip("0")


def docx_grid(tbl: Any) -> Grid:
    g: Grid = {}
    owner: dict[int, tuple[int, int]] = {}
    for r, tr in enumerate(tbl.tr_lst, start=1):
        col = 1
        for tc in tr.tc_lst:
            span = tc.grid_span
            text = "".join(t.text or "" for t in tc.iter(qn("w:t")))
            if tc.vMerge == "continue":
                key = owner[col]
                rs, cs, t = g[key]
                g[key] = (rs + 1, cs, t)
                assert text == "" and cs == span
            else:
                key = (r, col)
                g[key] = (1, span, text)
            for c in range(col, col + span):
                owner[c] = key
            col += span
    return g


class Page(HTMLParser):
    """Headings, paragraphs and tables of the exported page, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, Any, str]] = []
        self.title = ""
        self._text: list[str] | None = None
        self._tag, self._cls = "", ""
        self._rows: list[list[tuple[str, int, int, str]]] = []
        self._cell: tuple[str, int, int] = ("", 1, 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("h1", "h2", "h3", "p", "title"):
            self._text, self._tag, self._cls = [], tag, a.get("class") or ""
        elif tag == "br" and self._text is not None:
            self._text.append("\n")
        elif tag == "table":
            self._rows = []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._text = []
            self._cell = (tag, int(a.get("rowspan") or 1), int(a.get("colspan") or 1))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3", "p", "title") and self._text is not None:
            if tag == "title":
                self.title = "".join(self._text)
            else:
                self.blocks.append((tag, "".join(self._text), self._cls))
            self._text = None
        elif tag in ("td", "th") and self._text is not None:
            self._rows[-1].append((*self._cell, "".join(self._text)))
            self._text = None
        elif tag == "table":
            self.blocks.append(("table", self._rows, ""))

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def html_grid(rows: list[list[tuple[str, int, int, str]]]) -> Grid:
    g: Grid = {}
    taken: set[tuple[int, int]] = set()
    for r, row in enumerate(rows, start=1):
        c = 1
        for _, rs, cs, text in row:
            while (r, c) in taken:
                c += 1
            g[(r, c)] = (rs, cs, text)
            taken |= {(i, j) for i in range(r, r + rs) for j in range(c, c + cs)}
            c += cs
    return g


FIELD_BY_LABEL = {(sec, f.label): f.key for sec in ("一", "五", "六") for f in spec.narrative_fields(sec)}
#: lead-paragraph field -> its section (printed under the section heading, with no heading of its own)
LEAD_SECTION = {f.key: sec for sec in ("一", "五", "六") for f in spec.narrative_fields(sec) if f.lead}


class Parsed:
    """What a reader of an exported report sees: title, narrative by field, tables' grids, signature."""

    def __init__(self) -> None:
        self.title = ""
        self.fields: dict[str, list[str]] = {}
        self.section_paras: dict[str, list[str]] = {}
        self.headings: list[str] = []
        self.grids: dict[str, Grid] = {}
        self.signature: list[str] = []
        self._section, self._field = "", ""

    def heading1(self, text: str) -> None:
        self.headings.append(text)
        self._section, self._field = text.split("、")[0], ""

    def heading2(self, text: str) -> None:
        label = re.sub(r"^（[一二三四五六七八九十]+）", "", text)
        self._field = FIELD_BY_LABEL[(self._section, label)]
        self.fields[self._field] = []

    def para(self, text: str) -> None:
        if self._field:
            self.fields[self._field].append(text)
        else:
            self.section_paras.setdefault(self._section, []).append(text)

    def table(self, grid: Grid) -> None:
        self.grids[self._section] = grid

    def text_of(self, key: str) -> str:
        """A field's text; a section's lead paragraph is what the section says before its first part."""
        lead = LEAD_SECTION.get(key)
        if lead is not None:
            return "\n".join(p for p in self.section_paras.get(lead, []) if p != report_doc.EMPTY_SECTION)
        return "\n".join(self.fields.get(key, []))


def parse_docx(path: Path) -> Parsed:
    d = docx.Document(str(path))
    out = Parsed()
    tables = iter(d.tables)
    for el in d.element.body.iterchildren():
        if el.tag == qn("w:tbl"):
            out.table(docx_grid(next(tables)._tbl))
            continue
        if el.tag != qn("w:p"):
            continue
        p = docx.text.paragraph.Paragraph(el, d._body)
        style = p.style.name if p.style is not None else ""
        if style == "Title":
            out.title = p.text
        elif style == "Heading 1":
            out.heading1(p.text)
        elif style == "Heading 2":
            out.heading2(p.text)
        elif style == "Signature":
            out.signature.append(p.text)
        elif p.text:
            out.para(p.text)
    return out


def parse_html(path: Path) -> Parsed:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    out = Parsed()
    for tag, content, cls in page.blocks:
        if tag == "h1":
            out.title = content
        elif tag == "h2":
            out.heading1(content)
        elif tag == "h3":
            out.heading2(content)
        elif tag == "table":
            out.table(html_grid(content))
        elif "sign" in cls:
            out.signature.append(content)
        elif cls in ("swipe", "unchecked"):  # the phone hint above a wide table; the banner of a forced export
            continue
        else:
            out.para(content)
    assert page.title == out.title.replace("\n", "")
    return out


def expected_text(key: str, data: ReportData) -> str:
    """A narrative cell as a reader of the report sees it: one paragraph a line, blank lines and surrounding
    spaces dropped, control characters gone; an optional cell that says nothing ("无。") is left out."""
    raw = data.values.get(key)
    text = "" if raw is None else str(raw)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x07", "")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not spec.FIELDS_BY_KEY[key].required and not narrative.has_text("\n".join(lines)):
        return ""
    return "\n".join(lines)


def assert_same_report(parsed: Parsed, data: ReportData) -> None:
    numbers = derive.effective_values(data)
    texts = report_doc.table_texts(data)
    assert parsed.headings == [s.heading for s in spec.SECTIONS]
    for table in spec.TABLES:
        got = parsed.grids[table.number]
        want = expected_grid(table, texts)
        assert set(got) == set(want), table.id
        for pos, (rs, cs, text) in want.items():
            assert got[pos][:2] == (rs, cs), (table.id, pos)
            c = next((c for c in table.cells if (c.row, c.col) == pos), None)
            if c is not None and numbers[c.key] is not None:
                assert float(got[pos][2]) == pytest.approx(numbers[c.key], abs=1e-9), c.key
            else:
                assert got[pos][2] == text, (table.id, pos)
    for f in spec.NARRATIVE_FIELDS:
        assert parsed.text_of(f.key) == expected_text(f.key, data), f.key
    agency = data.agency
    year = data.year
    rest = f"{year}年政府信息公开工作年度报告" if year else "政府信息公开工作年度报告"
    assert parsed.title == (f"{agency}\n{rest}" if agency else rest)
    d = data.report_date
    date = f"{d.year}年{d.month}月{d.day}日" if d else report_doc.DATE_BLANK
    assert parsed.signature == ([agency] if agency else []) + [date]


# ---- the sample ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def exported(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("export")
    paths = api.export(sample, out)
    return {p.suffix[1:]: p for p in paths}


def test_export_writes_three_files_named_after_the_agency_and_year(exported: dict[str, Path]) -> None:
    assert sorted(exported) == ["docx", "html", "txt"]
    for p in exported.values():
        assert p.stem == "将乐县工业和信息化局2023年政府信息公开工作年度报告"
        assert p.stat().st_size > 1000
    assert not list(exported["docx"].parent.glob(".*tmp"))  # atomic writes leave nothing behind


@pytest.mark.parametrize("kind", ["docx", "html"])
def test_export_round_trips_the_sample(exported: dict[str, Path], sample: Path, kind: str) -> None:
    parsed = parse_docx(exported["docx"]) if kind == "docx" else parse_html(exported["html"])
    assert_same_report(parsed, api.read(sample))


@pytest.mark.parametrize("kind", ["docx", "html", "txt"])
def test_table_grids_equal_the_official_grid_cell_for_cell(exported: dict[str, Path], kind: str) -> None:
    """Rows, columns, merged spans and labels, generated from spec.py; zeros shown as 0."""
    ones = {f"t3.{row}.{col}" for row in ("new", "granted", "total") for col in ("natural", "total")}
    zeros = {k: "1" if k in ones else "0" for k in spec.DATA_CELLS}  # the sample's figures
    if kind == "txt":
        raw = exported["txt"].read_bytes()
        assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw  # Notepad-friendly: BOM and CRLF
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
        for table in spec.TABLES:
            block = report_doc.grid(table, zeros)
            assert "\n".join(report_doc.table_text_lines(block)) in text
        return
    parsed = parse_docx(exported["docx"]) if kind == "docx" else parse_html(exported["html"])
    for table in spec.TABLES:
        assert parsed.grids[table.number] == expected_grid(table, zeros), table.id


def test_the_grid_covers_every_position_exactly_once() -> None:
    for table in spec.TABLES:
        block = report_doc.grid(table, {})
        seen: list[tuple[int, int]] = []
        for c in block.cells:
            seen += [(r, k) for r in range(c.row, c.row + c.rowspan) for k in range(c.col, c.col + c.colspan)]
        assert sorted(seen) == [(r, k) for r in range(1, table.n_rows + 1) for k in range(1, table.n_cols + 1)]


def test_text_export_matches_the_golden_file(exported: dict[str, Path]) -> None:
    """Regenerate with UPDATE_GOLDEN=1 and review the diff."""
    got = exported["txt"].read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(got, encoding="utf-8")
    assert got == GOLDEN.read_text(encoding="utf-8")


def test_text_export_has_the_shape_of_the_published_example(exported: dict[str, Path]) -> None:
    """Tables flattened one cell per line exactly as in shared/examples (same figures as the sample)."""
    if not EXAMPLE.exists():
        pytest.skip(f"{EXAMPLE} is missing")
    lines: list[str] = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if lines and line and not line.startswith("\t") and lines[-1].startswith("\t") and lines[-1] != "\t":
            lines[-1] += line  # a label Word broke over two lines ("商业" / "企业")
        else:
            lines.append(line)
    example = "\n".join(lines)
    ours = exported["txt"].read_text(encoding="utf-8-sig").replace("\r\n", "\n")

    def tables(text: str) -> str:
        return text[text.index("二、主动公开政府信息情况"):text.index("五、存在的主要问题及改进情况")]

    assert tables(ours) == tables(example)
    head = ours.splitlines()
    assert head[:3] == ["将乐县工业和信息化局", "2023年政府信息公开工作年度报告", ""]
    assert ours.rstrip().splitlines()[-2:] == ["将乐县工业和信息化局", "2024年1月17日"]


def test_opening_paragraph_names_the_basis_the_six_parts_and_the_period(exported: dict[str, Path]) -> None:
    parsed = parse_docx(exported["docx"])
    opening = parsed.section_paras[""][0]
    for s in ("《中华人民共和国政府信息公开条例》", "国办公开办函〔2021〕30号", "2023年1月1日至12月31日", "六部分"):
        assert s in opening
    assert all(f"“{sec.title}”" in opening for sec in spec.SECTIONS)


# ---- the Word layout -------------------------------------------------------------------------------------------

def _xml(path: Path, part: str) -> Any:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read(part))


def _style(styles: Any, style_id: str) -> Any:
    found = styles.find(f"{W}style[@{W}styleId='{style_id}']")
    assert found is not None, style_id
    return found


def _fonts(style: Any) -> dict[str, str]:
    rf = style.find(f"{W}rPr/{W}rFonts")
    return {k.replace(W, ""): v for k, v in rf.attrib.items()}


def test_docx_writes_the_gb9704_fonts_sizes_and_page(exported: dict[str, Path]) -> None:
    """The official fonts do not exist on Linux: assert the names written in the XML (incl. eastAsia)."""
    path = exported["docx"]
    styles = _xml(path, "word/styles.xml")
    tnr = {"ascii": "Times New Roman", "hAnsi": "Times New Roman"}
    for sid, east, size in (("Normal", "仿宋_GB2312", "32"), ("Title", "方正小标宋简体", "44"),
                            ("Heading1", "黑体", "32"), ("Heading2", "楷体_GB2312", "32"),
                            ("TableText", "仿宋_GB2312", "21")):
        s = _style(styles, sid)
        assert _fonts(s) == {**tnr, "eastAsia": east, "cs": "Times New Roman"}, sid
        assert s.find(f"{W}rPr/{W}sz").get(f"{W}val") == size, sid
    normal = _style(styles, "Normal")
    assert normal.find(f"{W}pPr/{W}ind").get(f"{W}firstLineChars") == "200"
    assert normal.find(f"{W}pPr/{W}spacing").get(f"{W}line") == "579"
    assert _style(styles, "Title").find(f"{W}pPr/{W}jc").get(f"{W}val") == "center"
    assert _style(styles, "TableHeader").find(f"{W}rPr/{W}b") is not None
    footer = _style(styles, "Footer")
    assert set(_fonts(footer).values()) == {"宋体"} and footer.find(f"{W}rPr/{W}sz").get(f"{W}val") == "28"

    document = _xml(path, "word/document.xml")
    sect = document.find(f"{W}body/{W}sectPr")
    size = sect.find(f"{W}pgSz")
    assert (size.get(f"{W}w"), size.get(f"{W}h")) == ("11906", "16838")  # A4 portrait
    mar = sect.find(f"{W}pgMar")
    mm = {side: round(int(mar.get(f"{W}{side}")) / 1440 * 25.4) for side in ("top", "left", "bottom", "right")}
    assert mm == {"top": 37, "left": 28, "bottom": 35, "right": 26}
    grid = sect.find(f"{W}docGrid")
    assert int(grid.get(f"{W}linePitch")) * 22 <= 12756 < int(grid.get(f"{W}linePitch")) * 23  # 22 lines of 225 mm
    assert int(grid.get(f"{W}charSpace")) < 0
    refs = {r.get(f"{W}type") for r in sect.findall(f"{W}footerReference")}
    assert refs == {"default", "even"}
    assert _xml(path, "word/settings.xml").find(f"{W}evenAndOddHeaders") is not None

    with zipfile.ZipFile(path) as z:
        rels = z.read("word/_rels/document.xml.rels").decode()
        footers = {}
        for r in sect.findall(f"{W}footerReference"):
            rid = r.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
            target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"', rels)
            assert target is not None
            footers[r.get(f"{W}type")] = etree.fromstring(z.read("word/" + (target.group(1) or target.group(2))))
    for kind, align in (("default", "right"), ("even", "left")):
        f = footers[kind]
        assert f.find(f".//{W}jc").get(f"{W}val") == align
        texts = "".join(t.text for t in f.iter(f"{W}t"))
        assert texts == "— 1 —"
        assert "PAGE" in "".join(t.text for t in f.iter(f"{W}instrText"))


def test_docx_tables_use_official_merges_and_repeat_headers(exported: dict[str, Path]) -> None:
    d = docx.Document(str(exported["docx"]))
    assert len(d.tables) == 3
    t3 = d.tables[1]._tbl
    assert len(t3.tr_lst) == spec.TABLE_BY_ID["t3"].n_rows
    headers = [tr for tr in t3.tr_lst if tr.find(f"{W}trPr/{W}tblHeader") is not None]
    assert len(headers) == spec.T3_HEADER_ROWS


def test_checked_in_reference_equals_a_fresh_build() -> None:
    """Regenerate with: python -m xl_addin.adapters.docx_reference"""
    fresh = docx_reference.reference_bytes()
    shipped = docx_reference.REFERENCE.read_bytes()
    import io

    with zipfile.ZipFile(io.BytesIO(fresh)) as a, zipfile.ZipFile(docx_reference.REFERENCE) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        for name in a.namelist():
            if name != "docProps/core.xml":
                assert a.read(name) == b.read(name), name
    assert shipped


@pytest.mark.libreoffice
def test_docx_renders_as_a4_pages_in_libreoffice(exported: dict[str, Path]) -> None:
    """Word -> PDF with LibreOffice, the first pages and the last -> PNG in tests/output/export/ to look at."""
    need("soffice")
    need("pdftoppm")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*"):
        old.unlink()
    src = OUTPUT / "sample.docx"
    src.write_bytes(exported["docx"].read_bytes())
    pdf = office.convert([src], "pdf", OUTPUT)[0]
    raw = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", raw)
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", raw))
    assert 4 <= pages <= 8, pages
    assert boxes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes)  # A4 in pt
    pngs = render_png(pdf, OUTPUT / "page", first=1, last=2)
    pngs += render_png(pdf, OUTPUT / "last", first=pages, last=pages)
    assert len(pngs) == 3 and all(p.stat().st_size > 5000 for p in pngs)


# ---- the HTML page ---------------------------------------------------------------------------------------------

def test_html_is_one_self_contained_phone_friendly_page(exported: dict[str, Path]) -> None:
    html = exported["html"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    assert 'name="viewport"' in html and "<style>" in html and "overflow-x:auto" in html
    assert not re.search(r"<script|<link|src=|@import|url\(", html)
    assert html.count("<table") == 3 and 'rowspan="22"' in html  # 三、本年度办理结果 spans 22 rows
    assert "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）" in html
    assert "危及“三安全一稳定”" in html


# ---- bad input ---------------------------------------------------------------------------------------------------

NASTY = "第一行 <b>粗体</b> & “引号” 'single' \"double\" 😀👍🏻\r\n\n  第二行\t制表\x07响铃  \n" + "很长的文字。" * 3000


def test_nasty_text_empty_sections_and_missing_facts_give_a_sensible_document(sample_values: dict[str, Any],
                                                                            tmp_path: Path) -> None:
    values = dict(sample_values)
    for f in spec.NARRATIVE_FIELDS:
        values[f.key] = None
    values["s1.proactive"] = NASTY
    values["t3.new.natural"] = "/"  # not a number: shown as typed, the check reports it
    values["meta.agency"] = "某局"
    values["meta.report_date"] = None
    data = report_data(values, source=str(tmp_path / "某局年报.xlsx"))
    paths = api.export(data, tmp_path / "out", force=True)  # "/" in a count is an error: exported as a draft
    assert [p.name for p in paths] == [f"某局2023年政府信息公开工作年度报告.{x}" for x in ("docx", "html", "txt")]
    for kind in ("docx", "html"):
        parsed = parse_docx(paths[0]) if kind == "docx" else parse_html(paths[1])
        assert_same_report(parsed, data)
        assert parsed.section_paras["五"] == [report_doc.EMPTY_SECTION]
        assert parsed.section_paras["六"] == [report_doc.EMPTY_SECTION]
        assert parsed.grids["三"][(4, 4)][2] == "/"
    html = paths[1].read_text(encoding="utf-8")
    assert "<b>粗体" not in html and "&lt;b&gt;粗体&lt;/b&gt; &amp; “引号”" in html and "😀" in html
    assert "\x07" not in paths[2].read_text(encoding="utf-8-sig")


def test_unsafe_agency_names_make_safe_file_names(sample_values: dict[str, Any], tmp_path: Path) -> None:
    values = {**sample_values, "meta.agency": ' 某县/某局:办公室*?"<>| '}
    paths = api.export(report_data(values), tmp_path, formats=["txt"], force=True)
    assert [p.name for p in paths] == ["某县_某局_办公室_2023年政府信息公开工作年度报告.txt"]
    assert paths[0].parent == tmp_path
    long = {**sample_values, "meta.agency": "很长的机关名称" * 40}
    (p,) = api.export(report_data(long), tmp_path, formats=("html",), force=True)
    assert len(p.name.encode()) < 255 and p.name.endswith("2023年政府信息公开工作年度报告.html")


def test_bad_requests_raise_a_chinese_message(sample_values: dict[str, Any], tmp_path: Path) -> None:
    data = report_data(sample_values)
    with pytest.raises(exporter.ExportError, match="不支持的导出格式“pdf”"):
        api.export(data, tmp_path, formats=["pdf"])
    (tmp_path / "file").write_text("x")
    with pytest.raises(exporter.ExportError, match="是一个文件"):
        api.export(data, tmp_path / "file")
    with pytest.raises(api.ReadError, match="文件不存在"):
        api.export(tmp_path / "无此文件.xlsx", tmp_path)


run = cli


def test_cli_export_never_writes_the_workbook(filled: Filler, tmp_path: Path) -> None:
    src = filled({"meta.agency": "某局", "meta.report_date": None}, name="无名.xlsx")
    before = (hashlib.sha256(src.read_bytes()).hexdigest(), src.stat().st_mtime_ns)
    r = run("export", src, "-f", "docx", "-f", "txt", "--drafts")
    assert r.returncode == 0, r.stderr
    assert "未填写发布日期" in r.stderr and "Traceback" not in r.stderr
    names = sorted(p.name for p in src.parent.iterdir() if p.suffix in (".docx", ".txt"))
    assert names == ["某局2023年政府信息公开工作年度报告.docx", "某局2023年政府信息公开工作年度报告.txt"]
    assert (hashlib.sha256(src.read_bytes()).hexdigest(), src.stat().st_mtime_ns) == before
    text = (src.parent / names[1]).read_text(encoding="utf-8-sig")
    assert "本年度新收政府信息公开申请1件" in text and "本年度未发生政府信息公开行政复议案件" in text


# ---- no unchecked report published -------------------------------------------------------------------------------

#: a clerk's typing errors the check reports as errors: a negative count, a decimal count, "/" for none
BAD = {"t3.new.natural": -3, "t3.granted.natural": 1.5, "t2.rules.made": "/"}


def test_cli_export_refuses_a_workbook_with_errors_and_lists_them_as_check_does(filled: Filler, tmp_path: Path) -> None:
    src = filled(BAD, name="有错.xlsx")
    out = tmp_path / "out"
    r = run("export", src, "-o", out)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert not out.exists() or not list(out.iterdir())  # nothing written
    assert "未导出报告" in r.stderr and "--force" in r.stderr and "未通过校验（草稿）" in r.stderr
    checked = run("check", src)
    assert checked.returncode == 1
    # the same lines as xl-addin check prints, the errors first
    assert r.stdout.splitlines() == checked.stdout.splitlines()
    assert sum("[错误]" in line for line in r.stdout.splitlines()) >= 3
    errors = re.search(r"共 (\d+) 处错误", checked.stdout)  # the refusal counts them in check's words
    assert errors is not None and f"校验发现 {errors[1]} 处错误，未导出报告" in r.stderr, r.stderr


def test_cli_export_with_force_writes_drafts_marked_unchecked(filled: Filler, tmp_path: Path) -> None:
    src = filled(BAD, name="有错.xlsx")
    r = run("export", src, "-o", tmp_path, "--force")
    assert r.returncode == 0, r.stderr
    assert "未通过校验（草稿）" in r.stderr and "不得发布" in r.stderr
    written = {p.suffix: p for p in tmp_path.iterdir() if p.suffix in (".docx", ".html", ".txt")}
    assert sorted(written) == [".docx", ".html", ".txt"]
    assert written[".txt"].read_text(encoding="utf-8-sig").splitlines()[0].startswith("未通过校验（草稿）")
    d = docx.Document(str(written[".docx"]))
    s = d.sections[0]
    for header in (s.header, s.even_page_header):  # every page: odd (incl. the first) and even
        assert not header.is_linked_to_previous and "未通过校验（草稿）" in header.paragraphs[0].text
    assert d.paragraphs[0].text.startswith("未通过校验（草稿）")  # the title area
    html = written[".html"].read_text(encoding="utf-8")
    assert '<p class="unchecked" role="note"' in html and '@top-center{content:"未通过校验（草稿）"' in html


def test_api_export_refuses_unless_forced(sample_values: dict[str, Any], tmp_path: Path) -> None:
    bad = report_data({**sample_values, **BAD})
    with pytest.raises(exporter.ExportRefused) as refused:
        api.export(bad, tmp_path / "a")
    assert refused.value.errors == refused.value.report.counts["error"] >= 3
    assert {f.rule for f in refused.value.report.findings if f.severity is Severity.ERROR} >= {"V1"}
    assert isinstance(refused.value, exporter.ExportError)  # callers catching ExportError stay safe
    assert not (tmp_path / "a").exists()
    assert len(api.export(bad, tmp_path / "b", force=True)) == 3
    # a report that passes is never marked, forced or not
    for force in (False, True):
        (txt,) = api.export(report_data(sample_values), tmp_path / f"ok{force}", formats=["txt"], force=force)
        assert "未通过校验" not in txt.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("name", ["not-a-workbook.xlsx", "broken-truncated.xlsx", "sample-encrypted.xlsx"])
def test_cli_export_of_an_unreadable_file_exits_2_in_chinese(name: str, tmp_path: Path) -> None:
    r = run("export", DATA / name, "-o", tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("错误：") and "Traceback" not in r.stderr
    assert not list(tmp_path.iterdir())


def test_cli_export_reports_a_bad_output_folder(sample: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    r = run("export", sample, "-o", blocker / "sub")
    assert r.returncode == 2 and "错误：" in r.stderr and "Traceback" not in r.stderr
    r = run("export", sample, "-o", tmp_path / "out", "-f", "html")
    assert r.returncode == 0 and "已导出" in r.stdout


# ---- round trip over generated reports ---------------------------------------------------------------------------

_CHARS = st.sampled_from([*"政府信息公开申请件年月日我局本年度，。；：“”（）abcXYZ0123456789", "<", ">", "&", '"', "'",
                          "😀", "👍🏻", "\n", " ", "\u3000", "\t", "\r\n", "&amp;", "<p>", "\x07", "无"])
_TEXT = st.one_of(st.just(""), st.lists(_CHARS, max_size=30).map("".join))
_AGENCY = st.lists(st.sampled_from([*"某县财政局人民政府办公室", " ", "<", "&", "/", '"', "😀"]), max_size=12).map("".join)


@st.composite
def reports(draw: st.DrawFn) -> ReportData:
    values: dict[str, Any] = {}
    for key in spec.INPUT_KEYS:
        if spec.DATA_CELLS[key].kind is spec.Kind.MONEY:
            values[key] = draw(st.decimals(min_value=0, max_value=9999, places=4).map(float))
        else:
            values[key] = draw(st.integers(min_value=0, max_value=10**6))
    for f in spec.NARRATIVE_FIELDS:
        values[f.key] = draw(_TEXT)
    values["meta.agency"] = draw(_AGENCY)
    values["meta.year"] = draw(st.none() | st.integers(min_value=2021, max_value=2030))
    values["meta.report_date"] = draw(st.none() | st.dates(dt.date(2022, 1, 1), dt.date(2031, 12, 31)))
    return report_data(values)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_export_round_trips_generated_reports(data: ReportData) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if not data.agency.strip() or data.year is None:  # a title without agency or year: refused, nothing written
            with pytest.raises(exporter.ExportIncomplete, match="未导出报告"):
                api.export(data, tmp, formats=("docx", "html"), force=True)
            assert list(Path(tmp).iterdir()) == []
            return
        paths = api.export(data, tmp, formats=("docx", "html"), force=True)
        assert_same_report(parse_docx(paths[0]), data)
        assert_same_report(parse_html(paths[1]), data)


# ---- drafted sentences ---------------------------------------------------------------------------------------------

def test_drafts_of_the_sample(sample_values: dict[str, Any]) -> None:
    nums = derive.effective_values(report_data(sample_values))
    assert drafts.render(drafts.ON_REQUEST, nums.get) == (
        "本年度新收政府信息公开申请1件，无上年结转申请。本年度办结1件，予以公开1件。无结转下年度继续办理的申请。")
    assert drafts.render(drafts.REVIEWS_AND_SUITS, nums.get) == (
        "本年度未发生政府信息公开行政复议案件；未发生政府信息公开行政诉讼案件。")
    nums["t4.suit_direct.total"], nums["t4.suit_direct.pending"] = 2, 2
    assert drafts.render(drafts.REVIEWS_AND_SUITS, nums.get) == (
        "本年度未发生政府信息公开行政复议案件；发生政府信息公开行政诉讼案件2件，尚未审结2件。")
    nums["t3.new.total"] = None
    assert drafts.render(drafts.ON_REQUEST, nums.get) is None


def test_export_uses_drafts_only_when_asked(sample_values: dict[str, Any], tmp_path: Path) -> None:
    data = report_data({**sample_values, "s1.on_request": "经办人的文字。"})
    plain = parse_html(api.export(data, tmp_path / "a", formats=["html"])[0])
    assert plain.text_of("s1.on_request") == "经办人的文字。" and "四" not in plain.section_paras
    drafted = parse_html(api.export(data, tmp_path / "b", formats=["html"], use_drafts=True)[0])
    assert drafted.text_of("s1.on_request").startswith("本年度新收政府信息公开申请1件")
    assert drafted.section_paras["四"] == ["本年度未发生政府信息公开行政复议案件；未发生政府信息公开行政诉讼案件。"]
    # the clerk's choice on 基本信息 decides when the caller does not
    chosen = report_data({**sample_values, "s1.on_request": "经办人的文字。", "meta.use_drafts": "是"})
    by_choice = parse_html(api.export(chosen, tmp_path / "c", formats=["html"])[0])
    assert by_choice.text_of("s1.on_request") == drafted.text_of("s1.on_request")
    overridden = parse_html(api.export(chosen, tmp_path / "d", formats=["html"], use_drafts=False)[0])
    assert overridden.text_of("s1.on_request") == "经办人的文字。"


def test_draft_formulas_use_only_literals_names_plus_and_if() -> None:
    for d in drafts.DRAFTS:
        f = drafts.draft_formula(d)
        assert f.startswith("=") and len(f) < drafts.MAX_FORMULA
        code = re.sub(r'"(?:[^"]|"")*"', '""', f[1:])  # drop the literals
        assert set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*(?=\()", code)) == {"IF"}
        names = set(re.findall(r"xa_[a-z0-9_]+", code))
        assert names == {spec.defined_name(k) for k in d.keys}
        assert re.fullmatch(r"[A-Za-z0-9_()&+,>\"]*", code), code


def _draft_values(rng: random.Random) -> dict[str, Any]:
    values = dict(sorted((k, rng.choice([0, 0, 0, 1, 2, 7, 15])) for k in spec.INPUT_KEYS
                         if spec.DATA_CELLS[k].kind is spec.Kind.COUNT))
    if rng.random() < 0.3:  # blank cells read as 0 in both
        values[rng.choice(list(values))] = None
    return values


@pytest.mark.libreoffice
def test_draft_formulas_compute_the_python_text_in_libreoffice(sample: Path, tmp_path: Path) -> None:
    need("soffice")
    rng = random.Random(5)
    cases = [_draft_values(rng) for _ in range(8)]
    files = []
    for i, values in enumerate(cases):
        wb = openpyxl.load_workbook(sample)
        for key, v in values.items():
            loc = spec.LAYOUT.locations[key]
            wb[loc.sheet][loc.a1] = v
        files.append(tmp_path / f"w{i}.xlsx")
        wb.save(files[-1])
    sheets = office.recalculated_sheets(files, tmp_path / "lo", workers=1)
    for values, got in zip(cases, sheets, strict=True):
        nums = derive.effective_values(report_data(values))
        want = [drafts.render(d, nums.get) for d in drafts.DRAFTS]
        shown = []
        for d in drafts.DRAFTS:  # the template's own draft cells, beside the clerk's text on 正文
            sheet, a1 = drafts.draft_cells()[d.id]
            col, row = openpyxl.utils.cell.coordinate_from_string(a1)
            shown.append(got[sheet][row - 1][openpyxl.utils.cell.column_index_from_string(col) - 1])
        assert shown == want


# ---- T1 -----------------------------------------------------------------------------------------------------------

def test_t1_holds_on_the_sample_and_pins_a_mismatch_to_the_narrative_cell(sample_values: dict[str, Any]) -> None:
    assert not rules.validate(report_data(sample_values), ["T1"])
    values = {**sample_values, "t3.new.natural": 3, "t3.granted.natural": 3}
    (f,) = [f for f in rules.validate(report_data(values), ["T1"])]
    loc = spec.LAYOUT.locations["s1.on_request"]
    assert (f.rule, f.severity, f.sheet, f.cell, f.key) == ("T1", Severity.ERROR, loc.sheet, loc.a1, "s1.on_request")
    assert "新收政府信息公开申请1件" in f.message and " 1 件" in f.message and " 3 件" in f.message
    assert "表三“一、本年新收政府信息公开申请数量 总计”" in f.message


def test_t1_in_the_whole_check(filled: Filler) -> None:
    report = api.check(filled({"s6.other": "本年度发生政府信息公开行政复议案件2件，行政诉讼1件。"}))
    got = {(f.cell, f.values["said"], f.values["actual"]) for f in report.by_rule("T1")}
    loc = spec.LAYOUT.locations["s6.other"].a1
    assert got == {(loc, 2, 0), (loc, 1, 0)}


@pytest.mark.parametrize(("text", "year", "want"), [
    ("本年度共收到政府信息公开申请５件，办结4件，结转下年度1件。", 2023, [("new", 5), ("concluded", 4), ("carried_out", 1)]),
    ("无上年结转申请，无结转下年度申请。", 2023, [("carried_in", 0), ("carried_out", 0)]),
    ("未发生因政府信息公开引起的行政复议和行政诉讼案件。", 2023, [("review", 0), ("suit", 0)]),
    ("新收申请较上年增加2件。2022年新收申请9件。上年度新收申请3件。", 2023, []),
    ("受理申请两件，予以公开十二件。", None, [("new", 2), ("granted", 12)]),
    ("本年制发行政规范性文件3件，废止规范性文件1件，制定规章0件。", 2023,
     [("normative_made", 3), ("normative_repealed", 1), ("rules_made", 0)]),
    ("主动公开政府信息57条，办结率100%。", 2023, []),
    ("新收申请6件（其中自然人5件、法人1件）。", 2023, [("new", 6)]),
])
def test_quotes_reads_the_figures_a_narrative_quotes(text: str, year: int | None, want: list[tuple[str, int]]) -> None:
    assert [(q.topic.id, q.value) for q in quotes.quotes(text, year)] == want


_COUNTS = st.integers(min_value=0, max_value=30)


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({k: _COUNTS for k in spec.INPUT_KEYS if spec.DATA_CELLS[k].kind is spec.Kind.COUNT}),
       st.sampled_from(["t3.new.legal", "t3.carried_in.natural", "t3.granted.other_org", "t3.carried_out.research",
                        "t4.review.upheld", "t4.suit_after_review.pending", "t3.refused_secret.natural"]))
def test_t1_never_contradicts_a_draft_and_catches_a_changed_table(values: dict[str, Any], changed: str) -> None:
    nums = derive.effective_values(report_data(values))
    text = {"s1.on_request": drafts.render(drafts.ON_REQUEST, nums.get),
            "s6.other": drafts.render(drafts.REVIEWS_AND_SUITS, nums.get)}
    assert not rules.validate(report_data({**values, **text}), ["T1"])
    bumped = report_data({**values, **text, changed: values[changed] + 1})
    found = rules.validate(bumped, ["T1"])
    assert found and {f.key for f in found} <= {"s1.on_request", "s6.other"}
    for f in found:
        assert f.values["said"] != f.values["actual"] and str(f.values["said"]) in f.message
