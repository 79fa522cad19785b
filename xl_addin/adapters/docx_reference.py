"""Builds ``xl_addin/templates/reference.docx``: the Word reference document the exporter opens.

It carries the page and the styles of GB/T 9704-2012 《党政机关公文格式》 and nothing else (an empty body):
A4, margins top 37 mm / left 28 mm / bottom 35 mm / right 26 mm (text block 156 × 225 mm), a document grid of
22 lines × 28 characters; title 2号 (22 pt) 方正小标宋简体 centred; body 3号 (16 pt) 仿宋_GB2312 with a
two-character first-line indent and fixed 28.95 pt lines (a line grid; characters condensed 0.25 pt so
28 fit a line, see GRID_TYPE); 一、 headings 黑体, （一） headings 楷体_GB2312; digits and
Latin in Times New Roman; tables 五号 (10.5 pt) 仿宋_GB2312, header bold; page numbers "— 1 —" in 4号 宋体 in the
footers, odd pages right and even pages left (``w:evenAndOddHeaders``), one character in from the edge.

The official fonts exist on Chinese government PCs (they come with WPS and the 公文 font packs); a stock Windows
PC has only 仿宋, 楷体, 宋体 and 黑体. The font table therefore names each official font with its usual fallback
(``w:altName``: 仿宋_GB2312 → 仿宋, 楷体_GB2312 → 楷体, 方正小标宋简体 → 宋体) and its GB2312 character set and
PANOSE class, so Word substitutes the look-alike instead of a Western font.

The package carries no preview thumbnail and a neutral ``docProps/app.xml`` (Application xl_addin), not the
blank page and "Microsoft Macintosh Word" of python-docx's default template.

Regenerate after changing this file (a test compares the checked-in copy with a fresh build)::

    python -m xl_addin.adapters.docx_reference
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm

from .. import report_doc as rd

REFERENCE = Path(__file__).resolve().parents[1] / "templates" / "reference.docx"

# fonts (the names Chinese government templates use)
LATIN = "Times New Roman"
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
H1_FONT = "黑体"
H2_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"

#: the font table: name -> (fallback on a PC without it, PANOSE-1, charset, family); charset 86 is GB2312
FONT_TABLE: dict[str, tuple[str, str, str, str]] = {
    LATIN: ("", "02020603050405020304", "00", "roman"),
    "宋体": ("SimSun", "02010600030101010101", "86", "auto"),
    "黑体": ("SimHei", "02010609060101010101", "86", "modern"),
    "仿宋": ("FangSong", "02010609060101010101", "86", "modern"),
    "楷体": ("KaiTi", "02010609060101010101", "86", "modern"),
    BODY_FONT: ("仿宋", "02010609030101010101", "86", "modern"),
    H2_FONT: ("楷体", "02010609030101010101", "86", "modern"),
    TITLE_FONT: ("宋体", "02000000000000000000", "86", "auto"),
}

# sizes in half-points
TITLE_SIZE, BODY_SIZE, TABLE_SIZE, PAGE_NUMBER_SIZE = 44, 32, 21, 28

# page geometry in millimetres
PAGE_W, PAGE_H = 210, 297
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 37, 35, 28, 26
LINES, CHARS = 22, 28
#: the page number's line sits 7 mm below the text block: its bottom ≈ 35 − 7 − 5 mm above the page's edge
FOOTER_DISTANCE = 23
HEADER_DISTANCE = 15


def twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)


#: the text block's width in twips (156 mm): the exporter sizes its tables to it
TEXT_WIDTH = twips(PAGE_W) - twips(MARGIN_LEFT) - twips(MARGIN_RIGHT)
#: 225 mm / 22 lines = 28.95 pt per line (579 twips), the body's exact line height; rounded down, or Word fits
#: only 21 lines
LINE_PITCH = math.floor(twips(PAGE_H - MARGIN_TOP - MARGIN_BOTTOM) / LINES)
#: Word's character pitch is the body size plus charSpace/4096 pt: 156 mm / 28 characters = 15.79 pt (rounded
#: down, or Word fits only 27). Recorded in w:docGrid, but see GRID_TYPE.
CHAR_SPACE = math.floor((TEXT_WIDTH / 20 / CHARS - BODY_SIZE / 2) * 4096)
#: The grid snaps lines only. With "linesAndChars" Word squeezes 28 characters of 16 pt into the 15.79 pt pitch,
#: but LibreOffice gives every character that is wider than the pitch two cells (14 a line). Instead the body
#: styles condense characters by CONDENSE (twentieths of a point): 28 × 15.75 pt = 441 pt fit the 442.25 pt line
#: in Word, WPS and LibreOffice alike.
GRID_TYPE = "lines"
CONDENSE = -math.ceil((BODY_SIZE / 2 - TEXT_WIDTH / 20 / CHARS) * 20)
INDENT_2_CHARS = BODY_SIZE * 10 * 2  # twips: 2 × 16 pt
#: the width of one body character as laid out (16 pt condensed by CONDENSE), in twips
CHAR_TWIPS = BODY_SIZE * 10 + CONDENSE
#: GB/T 9704: the date of the signature block ends four characters in from the right margin (右空四字)
SIGNATURE_RIGHT = 4 * CHAR_TWIPS
#: the colour of the 未通过校验（草稿） marking
DRAFT_COLOUR = rd.UNCHECKED_COLOUR


def _fonts(east: str, latin: str = LATIN) -> str:
    return f'<w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{east}" w:cs="{latin}"/>'


def _size(half_points: int) -> str:
    return f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'


_BODY_SPACING = f'<w:spacing w:before="0" w:after="0" w:line="{LINE_PITCH}" w:lineRule="exact"/>'
_NO_INDENT = '<w:ind w:firstLineChars="0" w:firstLine="0"/>'
_TABLE_SPACING = '<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'


def _pstyle(style_id: str, name: str, ppr: str, rpr: str, *, based_on: str = "", next_: str = "",
            default: bool = False, qformat: bool = True) -> str:
    flag = ' w:default="1"' if default else ""
    return (f'<w:style w:type="paragraph"{flag} w:styleId="{style_id}">'
            f'<w:name w:val="{name}"/>'
            + (f'<w:basedOn w:val="{based_on}"/>' if based_on else "")
            + (f'<w:next w:val="{next_}"/>' if next_ else "")
            + ("<w:qFormat/>" if qformat else "")
            + f"<w:pPr>{ppr}</w:pPr><w:rPr>{rpr}</w:rPr></w:style>")


def styles_xml() -> str:
    border = 'w:val="single" w:sz="4" w:space="0" w:color="000000"'
    borders = "".join(f"<w:{side} {border}/>" for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    return (
        f'<w:styles {nsdecls("w")}>'
        "<w:docDefaults>"
        f'<w:rPrDefault><w:rPr>{_fonts(BODY_FONT)}<w:kern w:val="2"/>{_size(BODY_SIZE)}'
        '<w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault>'
        '<w:pPrDefault><w:pPr><w:widowControl w:val="0"/><w:jc w:val="both"/></w:pPr></w:pPrDefault>'
        "</w:docDefaults>"
        + _pstyle("Normal", "Normal", f'{_BODY_SPACING}<w:ind w:firstLineChars="200" w:firstLine="{INDENT_2_CHARS}"/>',
                  f'{_fonts(BODY_FONT)}<w:spacing w:val="{CONDENSE}"/>{_size(BODY_SIZE)}', default=True)
        + '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
          '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/><w:unhideWhenUsed/></w:style>'
        + '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
          '<w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/>'
          '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/>'
          '<w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>'
        + '<w:style w:type="numbering" w:default="1" w:styleId="NoList"><w:name w:val="No List"/>'
          '<w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/></w:style>'
        + _pstyle("Title", "Title",
                  f'<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="{LINE_PITCH}" w:line="{LINE_PITCH}"'
                  ' w:lineRule="exact"/>'
                  f'{_NO_INDENT}<w:jc w:val="center"/>',
                  f"{_fonts(TITLE_FONT)}{_size(TITLE_SIZE)}", based_on="Normal", next_="Normal")
        + _pstyle("Heading1", "heading 1", '<w:keepNext/><w:outlineLvl w:val="0"/>',
                  f'{_fonts(H1_FONT)}<w:b w:val="0"/><w:bCs w:val="0"/>{_size(BODY_SIZE)}', based_on="Normal",
                  next_="Normal")
        + _pstyle("Heading2", "heading 2", '<w:keepNext/><w:outlineLvl w:val="1"/>',
                  f'{_fonts(H2_FONT)}<w:b w:val="0"/><w:bCs w:val="0"/>{_size(BODY_SIZE)}', based_on="Normal",
                  next_="Normal")
        + _pstyle("TableText", "Table Text", f'{_TABLE_SPACING}{_NO_INDENT}<w:jc w:val="center"/>',
                  f"{_fonts(BODY_FONT)}{_size(TABLE_SIZE)}")
        + _pstyle("TableLabel", "Table Label", '<w:jc w:val="left"/>', "", based_on="TableText")
        + _pstyle("TableHeader", "Table Header", "", '<w:b/><w:bCs/>', based_on="TableText")
        + _pstyle("Signature", "Signature",
                  '<w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/>'
                  '<w:ind w:rightChars="0" w:right="0" w:firstLineChars="0" w:firstLine="0"/>'
                  '<w:jc w:val="center"/>', "", based_on="Normal")
        + _pstyle("DraftMark", "Draft Mark",
                  f'<w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" w:line="{LINE_PITCH}" w:lineRule="exact"/>'
                  f'{_NO_INDENT}<w:jc w:val="center"/>',
                  f'{_fonts(H1_FONT)}<w:b/><w:bCs/><w:color w:val="{DRAFT_COLOUR}"/>{_size(BODY_SIZE)}',
                  based_on="Normal", next_="Normal")
        + _pstyle("Footer", "footer", f'{_TABLE_SPACING}{_NO_INDENT}',
                  f"{_fonts(PAGE_NUMBER_FONT, PAGE_NUMBER_FONT)}{_size(PAGE_NUMBER_SIZE)}", qformat=False)
        + _pstyle("Header", "header", f'{_TABLE_SPACING}{_NO_INDENT}<w:jc w:val="center"/>',
                  f"{_fonts(PAGE_NUMBER_FONT, PAGE_NUMBER_FONT)}{_size(18)}", qformat=False)
        + '<w:style w:type="table" w:styleId="ReportTable"><w:name w:val="Report Table"/>'
          '<w:basedOn w:val="TableNormal"/><w:uiPriority w:val="59"/>'
          f"<w:pPr>{_TABLE_SPACING}{_NO_INDENT}<w:jc w:val=\"center\"/></w:pPr>"
          f"<w:rPr>{_fonts(BODY_FONT)}{_size(TABLE_SIZE)}</w:rPr>"
          f'<w:tblPr><w:jc w:val="center"/><w:tblBorders>{borders}</w:tblBorders>'
          '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="57" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/>'
          '<w:right w:w="57" w:type="dxa"/></w:tblCellMar></w:tblPr>'
          '<w:tcPr><w:vAlign w:val="center"/></w:tcPr></w:style>'
        + "</w:styles>"
    )


def page_number_xml(align: str) -> str:
    """A footer paragraph "— PAGE —", one character (14 pt) in from the ``align`` edge."""
    indent = f'w:{"right" if align == "right" else "left"}="{PAGE_NUMBER_SIZE * 10}"'

    def text(t: str) -> str:
        return f'<w:r><w:t xml:space="preserve">{t}</w:t></w:r>'

    return (f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="Footer"/><w:ind {indent}/><w:jc w:val="{align}"/></w:pPr>'
            + text("— ")
            + '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            + '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
            + '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
            + text("1")
            + '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
            + text(" —")
            + "</w:p>")


def _replace_children(element: Any, xml: str) -> None:
    """Replace the children of an lxml element (python-docx's oxml) with those of ``xml``'s root."""
    for child in list(element):
        element.remove(child)
    for child in parse_xml(xml):
        element.append(child)


def build_reference() -> DocxDocument:
    doc = docx.Document()
    # styles: ours only (the default template's theme-font styles would override explicit fonts)
    _replace_children(doc.styles.element, styles_xml())
    for rel in list(doc.part.rels.values()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rel.rId)
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    s = doc.sections[0]
    s.page_width, s.page_height = Mm(PAGE_W), Mm(PAGE_H)
    s.top_margin, s.bottom_margin, s.left_margin, s.right_margin = (Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM),
                                                                    Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT))
    s.header_distance, s.footer_distance, s.gutter = Mm(HEADER_DISTANCE), Mm(FOOTER_DISTANCE), Mm(0)
    sect = s._sectPr
    # exact twips (python-docx rounds through EMU)
    sect.find(qn("w:pgSz")).set(qn("w:w"), str(twips(PAGE_W)))
    sect.find(qn("w:pgSz")).set(qn("w:h"), str(twips(PAGE_H)))
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = parse_xml(f'<w:docGrid {nsdecls("w")}/>')
        sect.append(grid)
    grid.set(qn("w:type"), GRID_TYPE)
    grid.set(qn("w:linePitch"), str(LINE_PITCH))
    grid.set(qn("w:charSpace"), str(CHAR_SPACE))
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, align in ((s.footer, "right"), (s.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        _replace_children(footer._element, f'<w:ftr {nsdecls("w")}>{page_number_xml(align)}</w:ftr>')
    lang = doc.settings.element.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")
    cp = doc.core_properties
    cp.author, cp.title, cp.comments, cp.last_modified_by = "xl_addin", "", "", ""
    cp.created = cp.modified = dt.datetime(2024, 1, 1)
    cp.revision = 1
    return doc


def font_table_xml() -> str:
    fonts = []
    for name, (alt, panose, charset, family) in FONT_TABLE.items():
        fonts.append(f'<w:font w:name="{name}">' + (f'<w:altName w:val="{alt}"/>' if alt else "")
                     + f'<w:panose1 w:val="{panose}"/><w:charset w:val="{charset}"/><w:family w:val="{family}"/>'
                     '<w:pitch w:val="variable"/></w:font>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:fonts {nsdecls("w")}>{"".join(fonts)}</w:fonts>')


APP_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
           ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
           "<Application>xl_addin</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
           "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>"
           "</Properties>")

THUMBNAIL = "docProps/thumbnail.jpeg"


def _finish_package(raw: bytes) -> bytes:
    """The saved package with our font table and app.xml, and without the thumbnail (python-docx keeps the
    parts of its default template as they are)."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            name = info.filename
            if name == THUMBNAIL:
                continue
            data = src.read(name)
            if name == "word/fontTable.xml":
                data = font_table_xml().encode("utf-8")
            elif name == "docProps/app.xml":
                data = APP_XML.encode("utf-8")
            elif name == "_rels/.rels":
                data = re.sub(rb'<Relationship [^>]*Target="docProps/thumbnail\.jpeg"/>', b"", data)
            elif name == "[Content_Types].xml":
                data = data.replace(b'<Default Extension="jpeg" ContentType="image/jpeg"/>', b"")
            dst.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def reference_bytes() -> bytes:
    buf = io.BytesIO()
    build_reference().save(buf)
    return _finish_package(buf.getvalue())


def write_reference(path: str | os.PathLike[str] = REFERENCE) -> Path:
    from .fileio import atomic_write_bytes

    return atomic_write_bytes(path, reference_bytes())


if __name__ == "__main__":  # pragma: no cover
    print(write_reference())
