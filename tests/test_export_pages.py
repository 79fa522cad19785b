"""The Word export as printed pages (issue 15): rendered by LibreOffice to PDF, read back page by page with
pdftotext, and kept as PNG in tests/output/export-pages/ to look at.

- table 三 with every label (三、本年度办理结果, （六）其他处理 …) on one page, wherever the table falls;
- the signature block of GB/T 9704: the date ends four characters in from the right margin, the agency is
  centred over it;
- a report exported despite errors says 未通过校验（草稿） on every page;
- the font table names the fallbacks a stock Windows PC has; no thumbnail; a neutral app.xml.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import need
from lxml import etree
from pdf_pages import render_png

from xl_addin import api, report_doc, spec, structure
from xl_addin.adapters import docx_reference, docx_writer, exporter, office
from xl_addin.model import ReportData

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "output" / "export-pages"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FORMULAS = dict(structure.expected().formulas)
PT_PER_TWIP = 1 / 20
#: the right margin's x on an A4 page in PDF points (26 mm from the right edge)
RIGHT_MARGIN_X = 595.3 - 26 / 25.4 * 72
#: one body character as laid out, in points
CHAR_PT = docx_reference.CHAR_TWIPS * PT_PER_TWIP


def data_of(values: dict[str, Any]) -> ReportData:
    return ReportData(values=dict(values), formulas=FORMULAS)


def page_texts(pdf: Path) -> list[str]:
    """The text of each page in content order, all white space removed (a label wrapped over lines in its cell
    reads as one string)."""
    need("pdftotext")
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = text.split("\f")  # pdftotext ends every page with a form feed
    return [re.sub(r"\s+", "", page) for page in pages[:-1]]


def words(pdf: Path, page: int) -> list[tuple[float, float, float, str]]:
    """(xMin, xMax, yMin, text) of every word pdftotext finds on ``page``."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return [(float(a), float(b), float(y), t) for a, y, b, t in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', html)]


T3_LABELS = [lab.text for lab in spec.TABLE_BY_ID["t3"].labels]
T3_HEADING = next(s.heading for s in spec.SECTIONS if s.number == "三")
#: more text in section 一 moves table 三 down the pages: each variant puts it at another place
PADDING = (0, 3, 7, 11, 15)


@pytest.fixture(scope="module")
def rendered(sample_values: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample, the sample with more text before table 三, and a report with errors exported with force,
    all rendered to PDF by one LibreOffice process."""
    need("soffice")
    tmp = tmp_path_factory.mktemp("pages")
    docs: dict[str, Path] = {}
    for n in PADDING:
        values = dict(sample_values)
        values["s1.proactive"] = str(values["s1.proactive"]) + "".join(f"\n补充说明第{i + 1}段。" for i in range(n))
        p = tmp / f"pad{n}.docx"
        p.write_bytes(docx_writer.to_bytes(report_doc.build(data_of(values))))
        docs[f"pad{n}"] = p
    bad = data_of({**sample_values, "t3.new.natural": -3, "t3.granted.natural": 1.5})
    with pytest.raises(exporter.ExportRefused):
        api.export(bad, tmp / "refused")
    assert not (tmp / "refused").exists() or not list((tmp / "refused").iterdir())
    forced = {p.suffix[1:]: p for p in api.export(bad, tmp / "forced", force=True)}
    docs["forced"] = forced["docx"].rename(tmp / "forced.docx")
    pdfs = office.convert(list(docs.values()), "pdf", tmp)
    out = dict(zip(docs, pdfs, strict=True))
    out["forced-html"], out["forced-txt"] = forced["html"], forced["txt"]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*"):
        old.unlink()
    return out


def _t3_pages(pdf: Path) -> list[int]:
    return [i for i, text in enumerate(page_texts(pdf), start=1) if any(lab in text for lab in T3_LABELS[10:])]


@pytest.mark.libreoffice
@pytest.mark.parametrize("pad", PADDING)
def test_table_3_with_every_group_label_is_on_one_page(rendered: dict[str, Path], pad: int) -> None:
    pdf = rendered[f"pad{pad}"]
    texts = page_texts(pdf)
    pages = _t3_pages(pdf)
    assert len(pages) == 1, f"table 三 spread over pages {pages}"
    text = texts[pages[0] - 1]
    assert T3_HEADING in text  # the heading stays with its table
    missing = [lab for lab in T3_LABELS if lab not in text]
    assert not missing
    # the rows in the official order, each with its seven numbers, from the first to the last
    body = text[text.index("一、本年新收政府信息公开申请数量"):]
    assert body.index("三、本年度办理结果") < body.index("（六）其他处理") < body.index("四、结转下年度继续办理")
    if pad == 0:
        png = render_png(pdf, OUTPUT / "table3", first=pages[0], last=pages[0], dpi=80)
        assert png and png[0].stat().st_size > 20000


T2_ITEMS = ["第二十条第（一）项", "第二十条第（五）项", "第二十条第（六）项", "第二十条第（八）项"]
T2_HEADING = next(s.heading for s in spec.SECTIONS if s.number == "二")


@pytest.mark.libreoffice
@pytest.mark.parametrize("pad", PADDING)
def test_table_2_is_not_split_over_two_pages(rendered: dict[str, Path], pad: int) -> None:
    """Issue 24: keeping table 三 whole used to leave table 二 split over two pages (at pad 0 and 3)."""
    texts = page_texts(rendered[f"pad{pad}"])
    pages = [i for i, text in enumerate(texts, start=1) if any(item in text for item in T2_ITEMS)]
    assert len(pages) == 1, f"table 二 spread over pages {pages}"
    text = texts[pages[0] - 1]
    assert T2_HEADING in text and all(item in text for item in T2_ITEMS)
    if pad == 0:
        render_png(rendered["pad0"], OUTPUT / "table2", first=pages[0], last=pages[0], dpi=80)


@pytest.mark.libreoffice
def test_signature_date_ends_four_characters_in_and_the_agency_is_centred_over_it(rendered: dict[str, Path]) -> None:
    pdf = rendered["pad0"]
    last = len(page_texts(pdf))
    ws = words(pdf, last)
    agency = next(w for w in ws if w[3] == "将乐县工业和信息化局")
    date = [w for w in ws if w[2] > agency[2] + 10 and w[3] in ("2024", "年", "1", "月", "17", "日")]
    assert [w[3] for w in date] == ["2024", "年", "1", "月", "17", "日"]
    date_left, date_right = date[0][0], date[-1][1]
    centre_agency, centre_date = (agency[0] + agency[1]) / 2, (date_left + date_right) / 2
    assert abs(centre_agency - centre_date) < 1.0, (centre_agency, centre_date)  # centred over the date
    # 右空四字; LibreOffice adds a little space between Chinese and digits that Word (autoSpaceDN off) does not
    assert abs((RIGHT_MARGIN_X - date_right) / CHAR_PT - 4) < 0.75, (RIGHT_MARGIN_X - date_right) / CHAR_PT
    render_png(pdf, OUTPUT / "signature", first=last, last=last, dpi=80)


def test_signature_layout_in_the_document_xml(sample_values: dict[str, Any], tmp_path: Path) -> None:
    """Both lines centred in the same box (the agency centred over the date whatever the fonts); the box puts
    the date's end four characters (4 × 315 twips) in from the right margin."""
    path = tmp_path / "r.docx"
    path.write_bytes(docx_writer.to_bytes(report_doc.build(data_of(sample_values))))
    with zipfile.ZipFile(path) as z:
        body = etree.fromstring(z.read("word/document.xml"))
        styles = etree.fromstring(z.read("word/styles.xml"))
    sig = styles.find(f"{W}style[@{W}styleId='Signature']")
    assert sig.find(f"{W}pPr/{W}jc").get(f"{W}val") == "center"
    assert sig.find(f"{W}pPr/{W}autoSpaceDN").get(f"{W}val") == "0"
    assert sig.find(f"{W}pPr/{W}ind").get(f"{W}right") == "0"
    paras = [p for p in body.iter(f"{W}p") if p.find(f"{W}pPr/{W}pStyle[@{W}val='Signature']") is not None]
    texts = ["".join(t.text for t in p.iter(f"{W}t")) for p in paras]
    assert texts == ["将乐县工业和信息化局", "2024年1月17日"]
    lefts = [int(p.find(f"{W}pPr/{W}ind").get(f"{W}left")) for p in paras]
    assert lefts[0] == lefts[1]
    assert all(p.find(f"{W}pPr/{W}ind").get(f"{W}leftChars") == "0" for p in paras)
    date_w = 3 * 315 + 7 * (160 - 5)  # 年 月 日, and 4 + 1 + 2 digits at half an em
    assert docx_writer.text_twips("2024年1月17日") == date_w
    right_space = docx_reference.TEXT_WIDTH - (lefts[1] + (docx_reference.TEXT_WIDTH - lefts[1] + date_w) / 2)
    assert abs(right_space - 4 * 315) <= 1


@pytest.mark.libreoffice
def test_a_forced_export_says_unchecked_on_every_page_of_every_file(rendered: dict[str, Path]) -> None:
    mark = report_doc.UNCHECKED_MARK
    texts = page_texts(rendered["forced"])
    assert len(texts) >= 4 and all(mark in t for t in texts), [i for i, t in enumerate(texts, 1) if mark not in t]
    assert texts[0].index(mark) < texts[0].index("将乐县工业和信息化局2023年政府信息公开工作年度报告")
    assert "工作簿校验发现" in texts[0]  # the note in the title area
    txt = rendered["forced-txt"].read_text(encoding="utf-8-sig").splitlines()
    assert txt[0].startswith(mark)
    html = rendered["forced-html"].read_text(encoding="utf-8")
    body = html[html.index("<body"):]
    assert body.index(mark) < body.index("<h1")  # the banner above the title
    render_png(rendered["forced"], OUTPUT / "forced", first=1, last=2, dpi=60)


def test_the_docx_names_fallback_fonts_and_has_no_thumbnail(sample_values: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "r.docx"
    path.write_bytes(docx_writer.to_bytes(report_doc.build(data_of(sample_values))))
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        fonts = etree.fromstring(z.read("word/fontTable.xml"))
        app = z.read("docProps/app.xml").decode()
        rels = z.read("_rels/.rels").decode()
        styles = z.read("word/styles.xml").decode()
    alt = {f.get(f"{W}name"): (f.find(f"{W}altName").get(f"{W}val") if f.find(f"{W}altName") is not None else "")
           for f in fonts.findall(f"{W}font")}
    assert alt["仿宋_GB2312"] == "仿宋" and alt["楷体_GB2312"] == "楷体" and alt["方正小标宋简体"] == "宋体"
    assert {"仿宋", "楷体", "宋体", "黑体", "Times New Roman"} <= set(alt)
    # every font a style names is in the font table
    assert set(re.findall(r'<w:rFonts [^>]*w:eastAsia="([^"]+)"', styles)) <= set(alt)
    charsets = {f.get(f"{W}name"): f.find(f"{W}charset").get(f"{W}val") for f in fonts.findall(f"{W}font")}
    assert charsets["仿宋_GB2312"] == "86"  # GB2312: Word picks a Chinese substitute
    assert not [n for n in names if "thumbnail" in n] and "thumbnail" not in rels
    assert "<Application>xl_addin</Application>" in app and "Microsoft" not in app and "Macintosh" not in app
