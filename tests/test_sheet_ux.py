"""What a clerk sees in the template, rendered by LibreOffice as it prints: headers not broken inside a word, long
narrative text shown whole, blank cells counted, decimals shown as typed, a legend and page numbers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from conftest import Filler, need
from pdf_pages import render_png

from xl_addin import api, live, spec, structure
from xl_addin.adapters import office

LONG = ("本年度，本机关坚持以公开为常态、不公开为例外，" * 25)[:765] + "（完）"


def pdf_pages(xlsx: Path, tmp_path: Path) -> list[str]:
    """The text of every printed page of a workbook, as LibreOffice lays it out."""
    need("soffice")
    need("pdftotext")
    (pdf,) = office.convert([xlsx], "pdf", tmp_path / "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


@pytest.mark.libreoffice
def test_printed_template_shows_headers_whole_long_text_whole_legend_and_page_numbers(
        template: Path, sample_values: dict[str, object], tmp_path: Path) -> None:
    path = api.put(template, {**sample_values, "s1.proactive": LONG, "t3.granted.natural": 1.5}, tmp_path / "x.xlsx")
    pages = pdf_pages(path, tmp_path)
    t3 = next(p for p in pages if "收到和处理政府信息公开申请情况" in p)
    # headers break where the official copies break them, never inside 公益组织 / 服务机构
    assert "公益组织" in t3 and "服务机构" in t3
    assert not re.search(r"社会公益组\s*\n", t3) and not re.search(r"法律服务机\s*\n", t3)
    # a decimal typed by mistake shows as typed (not rounded to a valid-looking 2)
    assert "1.5" in t3
    # the legend and a page number are printed under every table
    assert all(structure.LEGEND[:10] in p for p in pages if "情况" in p.split("\n", 1)[0])
    assert all(re.search(r"第 \d+ 页，共 \d+ 页", p) for p in pages if p.strip())
    # the 765 characters of 主动公开 are printed in full, its last words included
    body = "".join("".join(p.split()) for p in pages)
    assert "公开为常态" in body and "（完）" in body


def test_long_text_rows_are_sized_to_their_text_and_empty_rows_left_to_grow(template: Path, tmp_path: Path) -> None:
    out = api.put(template, {"s1.proactive": LONG, "s1.platform": "短。"}, tmp_path / "filled.xlsx")
    ws = openpyxl.load_workbook(out)[spec.NARRATIVE_SHEET]
    long_row = spec.LAYOUT.locations["s1.proactive"].row
    short_row = spec.LAYOUT.locations["s1.platform"].row
    empty_row = spec.LAYOUT.locations["s1.supervision"].row
    lines = -(-len(LONG) * 2 // (structure.NARRATIVE_TEXT_WIDTH - 4))
    assert ws.row_dimensions[long_row].height >= lines * 15  # ~21 lines of 38 characters
    assert ws.row_dimensions[short_row].height == 30
    assert ws.row_dimensions[empty_row].height is None  # grows as the clerk types


def test_pasted_numbering_is_a_warning_at_its_cell(filled: Filler) -> None:
    report = api.check(filled({"s5.problems": "（一）存在的主要问题。一是公开内容不够全面。", "s6.other": "二、其他事项：无。"}))
    t7 = {(f.cell, f.values["prefix"]) for f in report.by_rule("T9")}
    assert t7 == {(spec.LAYOUT.locations["s5.problems"].a1, "（一）"), (spec.LAYOUT.locations["s6.other"].a1, "二、")}
    assert all(f.severity.value == "warning" for f in report.by_rule("T9"))


def test_summary_sheet_speaks_to_the_clerk_and_hides_internal_ids(template: Path) -> None:
    ws = openpyxl.load_workbook(template)[live.SHEET]
    assert "无需宏" not in live.TITLE and "xl-addin" not in live.TITLE and "xl-addin" not in live.NOTE
    assert ws.cell(live.NOTE_ROW, 1).value == live.NOTE and "县政务公开办" in live.NOTE
    assert ws.cell(live.HEADER_ROW, live.COL_SEVERITY).value == "不通过时的级别"
    for col in live.HIDDEN_COLS:  # 检查编号 (V1:t2.rules.made ...) and the ordinal are for the tools
        assert ws.column_dimensions[spec.col_letter(col)].hidden
    t4_rows = [r for r in ws.iter_rows(min_row=live.FIRST_ROW, values_only=True) if r[live.COL_SHEET - 1] == "表四"]
    assert t4_rows and all(r[7] for r in t4_rows)  # every 表四 row names its group (行政复议 ...)
    assert "请点击" not in structure.RESULTS_NOT_RUN and "县政务公开办" in structure.RESULTS_NOT_RUN


def test_a_table_four_message_names_group_and_result(filled: Filler) -> None:
    (f,) = api.check(filled({"t4.suit_direct.corrected": "两件"})).by_rule("V1")
    assert f.labels == ("行政诉讼 未经复议直接起诉", "结果纠正")
    assert "“”" not in f.message and "未经复议直接起诉" in f.message


# ---- issue 24: the printed template -------------------------------------------------------------------------------

OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "output" / "template-print"
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _pages(pdf: Path) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """(width, height, words as (xMin, yMin, xMax, yMax, text)) of every page pdftotext finds."""
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    out = []
    for page in bbox.split("<page ")[1:]:
        w, h = (float(v) for v in re.match(r'width="([\d.]+)" height="([\d.]+)"', page).groups())  # type: ignore[union-attr]
        out.append((w, h, [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in _WORD.findall(page)]))
    return out


def _ink_rows(pdf: Path, page: int, dpi: int) -> list[int]:
    """Per pixel row of ``page`` at ``dpi``: how many pixels are not near white (poppler's PPM output)."""
    ppm = subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-gray", str(pdf)],
                         check=True, capture_output=True).stdout
    head = ppm.split(b"\n", 3)
    width, height = (int(v) for v in head[1].split())
    body = head[3]
    return [sum(1 for v in body[r * width:(r + 1) * width] if v < 160) for r in range(height)]


def _overlaps(words: list[tuple[float, float, float, float, str]]) -> list[tuple[str, str]]:
    """Pairs of words printed over each other (their boxes intersect by more than a sliver)."""
    out = []
    for i, a in enumerate(words):
        for b in words[i + 1:]:
            dx = min(a[2], b[2]) - max(a[0], b[0])
            dy = min(a[3], b[3]) - max(a[1], b[1])
            if dx > 1 and dy > 1.5:
                out.append((a[4], b[4]))
    return out


@pytest.fixture(scope="module")
def blank_pdf(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The blank template as LibreOffice prints it (every check recalculated: 校验汇总 lists the blank rows)."""
    need("soffice")
    need("pdftotext")
    need("pdftoppm")
    (pdf,) = office.convert([template], "pdf", tmp_path_factory.mktemp("blank-pdf"))
    return pdf


@pytest.mark.libreoffice
def test_page_numbers_print_whole(blank_pdf: Path) -> None:
    """Issue 24: a 0.5 in footer inside a 0.6 in margin printed the page numbers cut in half."""
    pages = _pages(blank_pdf)
    for number in (1, len(pages)):
        _, height, words = pages[number - 1]
        foot = [w for w in words if w[1] > height * 0.85 and ("页" in w[4] or w[4].isdigit())]
        assert foot, f"page {number} has no page number"
        top, bottom = min(w[1] for w in foot), max(w[3] for w in foot)
        ink = _ink_rows(blank_pdf, number, 144)
        scale = 144 / 72
        lower = ink[int((top + bottom) / 2 * scale) + 1:int(bottom * scale) + 1]
        upper = ink[int(top * scale):int((top + bottom) / 2 * scale)]
        # the characters' lower halves are printed as well as their upper halves
        assert sum(lower) > 0.4 * sum(upper) > 0, (number, sum(upper), sum(lower))


@pytest.mark.libreoffice
def test_nothing_prints_over_the_next_row_and_the_narrative_sheet_has_a_legend(blank_pdf: Path) -> None:
    from xl_addin.adapters.template_builder import NARRATIVE_LEGEND

    pages = _pages(blank_pdf)
    texts = ["".join(w[4] for w in words) for _, _, words in pages]
    narrative = [i for i, t in enumerate(texts) if "总体情况概述" in t]
    summary = [i for i, t in enumerate(texts) if "不通过的检查" in t]
    assert narrative and summary
    for i in (*narrative, summary[0]):
        assert not _overlaps(pages[i][2]), (i + 1, _overlaps(pages[i][2])[:5])
    narrative_text = "".join(texts[i] for i in narrative)
    assert NARRATIVE_LEGEND.replace(" ", "")[:30] in narrative_text  # the colours of 正文 explained
    labels = {w[4] for i in narrative for w in pages[i][2]}
    assert all(f.label in labels for f in spec.NARRATIVE_FIELDS)  # each label on one line, whole
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*.png"):
        old.unlink()
    render_png(blank_pdf, OUTPUT / "narrative", first=narrative[0] + 1, last=narrative[0] + 1, dpi=70)
    render_png(blank_pdf, OUTPUT / "summary", first=summary[0] + 1, last=summary[0] + 1, dpi=70)
