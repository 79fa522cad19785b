"""The Word export: a :class:`~xl_addin.report_doc.Document` rendered with python-docx on the reference document
``xl_addin/templates/reference.docx`` (styles and page layout of GB/T 9704, see :mod:`.docx_reference`).

Paragraphs are added through python-docx with the reference's styles; each table is written as one ``w:tbl``
element built from the document model's grid (``w:gridSpan`` across, ``w:vMerge`` down, header rows repeated
on a new page), which is both exact and fast.

Every table is kept on one page (every row "keep with next", rows never split), so a vertically merged group
label such as 三、本年度办理结果 or （六）其他处理 is never parted from its rows, and table 二 is never split over two
pages (issue 24: it was, where table 三 moved to the next page). Table 三 has its own column
widths for the page (:data:`WORD_WIDTHS_MM`): a wide label column, so that each label takes at most three lines
and the table with all its labels fits one portrait A4 page at 五号.

A report exported although the check found errors (``Document.unchecked``) says so in the title area and in the
header of every page.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from functools import cache
from importlib import resources
from xml.sax.saxutils import escape

import docx
from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Twips
from docx.text.paragraph import Paragraph

from .. import report_doc as rd
from .docx_reference import BODY_SIZE, CONDENSE, LINE_PITCH, SIGNATURE_RIGHT, TEXT_WIDTH, twips

REFERENCE = "reference.docx"


@cache
def reference_bytes() -> bytes:
    return resources.files("xl_addin.templates").joinpath(REFERENCE).read_bytes()


#: column widths in millimetres of the Word tables that differ from the spec's proportions (156 mm in all).
#: Table 三: the three label columns 10 + 17 + 55.5 mm hold every label in at most three lines of 五号; 自然人
#: needs 13.5 mm to stay on one line, the other data columns 10 mm (商业/企业, 社会/公益/组织 as in the official
#: Word copies).
WORD_WIDTHS_MM: dict[str, tuple[float, ...]] = {
    "t3": (10, 17, 55.5, 13.5, 10, 10, 10, 10, 10, 10),
}


def _widths(block: rd.TableBlock) -> list[int]:
    mm = WORD_WIDTHS_MM.get(block.table_id)
    if mm is not None and len(mm) == block.n_cols:
        w = [twips(x) for x in mm]
    else:
        total = sum(block.widths)
        w = [int(TEXT_WIDTH * x / total) for x in block.widths]
    w[-1] += TEXT_WIDTH - sum(w)
    return w


def _text_runs(text: str) -> str:
    if not text:
        return ""
    return f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def table_xml(block: rd.TableBlock) -> str:
    widths = _widths(block)
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    rows = []
    for r, slots in enumerate(block.rows(), start=1):
        header = r <= block.header_rows
        # every table is kept whole: every row stays on the page of the row after it, so no row is parted from
        # its group label (a vertically merged cell shows its text on its first page only) and table 二 is not
        # split over two pages when table 三 moves to the next one (each fits a page)
        keep = "<w:keepNext/>" if r < block.n_rows else ""
        cells = []
        for s in slots:
            c = s.cell
            span = sum(widths[c.col - 1:c.col - 1 + c.colspan])
            props = f'<w:tcW w:w="{span}" w:type="dxa"/>'
            if c.colspan > 1:
                props += f'<w:gridSpan w:val="{c.colspan}"/>'
            if c.rowspan > 1:
                props += '<w:vMerge/>' if s.continued else '<w:vMerge w:val="restart"/>'
            props += '<w:vAlign w:val="center"/>'
            style = "TableHeader" if c.header else ("TableText" if c.is_data else "TableLabel")
            body = "" if s.continued else _text_runs(c.text)
            cells.append(f'<w:tc><w:tcPr>{props}</w:tcPr><w:p><w:pPr><w:pStyle w:val="{style}"/>{keep}</w:pPr>{body}</w:p>'
                         "</w:tc>")
        tr_pr = "<w:trPr><w:cantSplit/>" + ("<w:tblHeader/>" if header else "") + "</w:trPr>"
        rows.append(f"<w:tr>{tr_pr}{''.join(cells)}</w:tr>")
    return (f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="ReportTable"/><w:tblW w:w="{TEXT_WIDTH}" w:type="dxa"/>'
            '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/>'
            '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" w:noHBand="1"'
            ' w:noVBand="1"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>")


def _add_lines(doc: DocxDocument, style: str, lines: Sequence[str]) -> None:
    p = doc.add_paragraph(style=style)
    run = p.add_run()
    for i, line in enumerate(lines):
        if i:
            run.add_break()
        run.add_text(line)


def text_twips(text: str) -> int:
    """The laid-out width of ``text`` in the body font (16 pt, condensed by CONDENSE a character): Chinese and
    full-width characters are one em, digits and Latin (Times New Roman) half an em."""
    return sum((BODY_SIZE * 5 if ord(ch) < 0x2000 else BODY_SIZE * 10) + CONDENSE for ch in text)


def signature_indents(b: rd.Signature) -> tuple[int, int]:
    """The left indent (twips) of the agency and date lines, both centred with no right indent.

    GB/T 9704: the date ends four characters in from the right margin (右空四字) and the agency is centred over
    the date. Both lines are centred in the same box, so the agency sits centred over the date whatever the
    fonts are; the box's axis is placed so that the date, as wide as :func:`text_twips` says, ends four
    characters in. (The Signature style turns off the extra space Word puts between Chinese and digits, so in
    Word the width is exact; LibreOffice ignores that setting and the date grows by a fraction of a character
    on both sides.) An agency name too long to be centred there ends at the right margin."""
    axis_from_right = SIGNATURE_RIGHT + text_twips(b.date) // 2
    left = TEXT_WIDTH - 2 * axis_from_right
    agency_left = left if text_twips(b.agency) <= 2 * axis_from_right else max(0, TEXT_WIDTH - text_twips(b.agency))
    return agency_left, left


def _signature(doc: DocxDocument, b: rd.Signature) -> None:
    doc.add_paragraph()  # one blank line before the signature block
    indents = signature_indents(b)
    for text, left in zip((b.agency, b.date), indents, strict=True):
        if not text:
            continue
        p = doc.add_paragraph(text, style="Signature")
        p.paragraph_format.left_indent = Twips(left)
        ind = p._p.get_or_add_pPr().find(qn("w:ind"))
        ind.set(qn("w:leftChars"), "0")  # Word prefers a character count over twips


def _flush_left(p: Paragraph) -> None:
    """No first-line indent (the Normal style indents two characters, also as a character count)."""
    p.paragraph_format.first_line_indent = Twips(0)
    ind = p._p.get_or_add_pPr().find(qn("w:ind"))
    ind.set(qn("w:firstLineChars"), "0")


def _mark_every_page(doc: DocxDocument, mark: str) -> None:
    """The marking in the header of every page (odd and even headers; the first page uses the odd one)."""
    s = doc.sections[0]
    for header in (s.header, s.even_page_header):
        header.is_linked_to_previous = False
        p = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
        p.style = doc.styles["Draft Mark"]
        p.text = mark


#: python-docx refuses a core property (title, author) longer than this
CORE_PROPERTY_MAX = 255


def render(document: rd.Document) -> DocxDocument:
    doc = docx.Document(io.BytesIO(reference_bytes()))
    body = doc.element.body
    t = document.title
    if document.unchecked is not None:
        _mark_every_page(doc, document.unchecked.mark)
        note = doc.add_paragraph(document.unchecked.note, style="Draft Mark")
        note.paragraph_format.space_after = Twips(LINE_PITCH)  # a blank line between the note and the title
    _add_lines(doc, "Title", [x for x in (t.agency, t.rest) if x])
    for b in document.blocks:
        if isinstance(b, rd.Heading):
            doc.add_paragraph(b.text, style=f"Heading {b.level}")
        elif isinstance(b, rd.Para):
            p = doc.add_paragraph(b.text)
            if b.flush:
                _flush_left(p)
        elif isinstance(b, rd.TableBlock):
            body.sectPr.addprevious(parse_xml(table_xml(b)))
        else:
            _signature(doc, b)
    cp = doc.core_properties
    # the document properties hold at most 255 characters each (the title in the text is never cut)
    author = document.author or t.agency
    cp.title, cp.author, cp.last_modified_by = t.text[:CORE_PROPERTY_MAX], author[:CORE_PROPERTY_MAX], "xl_addin"
    cp.created = cp.modified = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return doc


def to_bytes(document: rd.Document) -> bytes:
    buf = io.BytesIO()
    render(document).save(buf)
    return buf.getvalue()
