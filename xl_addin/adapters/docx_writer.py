"""The Word export: a :class:`~xl_addin.report_doc.Document` rendered with python-docx on the reference document
``xl_addin/templates/reference.docx`` (styles and page layout of GB/T 9704, see :mod:`.docx_reference`).

Paragraphs are added through python-docx with the reference's styles; each table is written as one ``w:tbl``
element built from the document model's grid (``w:gridSpan`` across, ``w:vMerge`` down, header rows repeated
on a new page), which is both exact and fast.
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
from docx.oxml.ns import nsdecls
from docx.shared import Pt

from .. import report_doc as rd
from .docx_reference import BODY_SIZE, TEXT_WIDTH

BODY_PT = BODY_SIZE / 2

REFERENCE = "reference.docx"


@cache
def reference_bytes() -> bytes:
    return resources.files("xl_addin.templates").joinpath(REFERENCE).read_bytes()


def _widths(block: rd.TableBlock) -> list[int]:
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
        # a row of header labels only (a 第二十条 item, the column heads) stays on the page of the row after it
        heads_only = all(s.cell.header for s in slots if not s.continued)
        keep = "<w:keepNext/>" if heads_only and r < block.n_rows else ""
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


def _width(text: str) -> float:
    """Width in characters of the body font: Latin and digits are half a character."""
    return sum(0.5 if ord(ch) < 0x2000 else 1 for ch in text)


#: GB/T 9704: the date ends four characters from the right margin; the agency is centred over it
DATE_INDENT_CHARS = 4


def _signature(doc: DocxDocument, b: rd.Signature) -> None:
    doc.add_paragraph()  # one blank line before the signature block
    date_w = _width(b.date)
    for text in (b.agency, b.date):
        if not text:
            continue
        p = doc.add_paragraph(text, style="Signature")
        chars = DATE_INDENT_CHARS if text == b.date else max(0.0, DATE_INDENT_CHARS + (date_w - _width(text)) / 2)
        p.paragraph_format.right_indent = Pt(BODY_PT * chars)


def render(document: rd.Document) -> DocxDocument:
    doc = docx.Document(io.BytesIO(reference_bytes()))
    body = doc.element.body
    t = document.title
    _add_lines(doc, "Title", [x for x in (t.agency, t.rest) if x])
    for b in document.blocks:
        if isinstance(b, rd.Heading):
            doc.add_paragraph(b.text, style=f"Heading {b.level}")
        elif isinstance(b, rd.Para):
            doc.add_paragraph(b.text)
        elif isinstance(b, rd.TableBlock):
            body.sectPr.addprevious(parse_xml(table_xml(b)))
        else:
            _signature(doc, b)
    cp = doc.core_properties
    cp.title, cp.author, cp.last_modified_by = t.text, t.agency, "xl_addin"
    cp.created = cp.modified = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return doc


def to_bytes(document: rd.Document) -> bytes:
    buf = io.BytesIO()
    render(document).save(buf)
    return buf.getvalue()
