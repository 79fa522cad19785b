"""Reading a published report file into :class:`~xl_addin.importers.document.Document` lines.

(the suffixes read, and the reader of each: :data:`xl_addin.spec.REPORT_SUFFIXES`)

- portal page (kind html): lxml.html, no network, no entities; the encoding the page declares, else
  UTF-8, else GB18030; tables row by row with their cells and each cell's grid column (colspan counted, the
  columns a rowspan from above covers skipped: the geometry values are placed by), the runs of a Word paste
  (``<span>``/``<font>``/``<o:p>``) joined;
- PDF: the text layer through pypdfium2 (measured ~30x faster than pdfplumber / pdfminer.six on the examples),
  each character visited once (:func:`_page_segments`: linear in the glyphs of a page), each line with the
  x-centre of each of its tokens (where a table's value stands under its header); no date from the file's
  metadata (its creation date is not the publication date);
- .docx: the main part's XML (lxml, as python-docx parses it), paragraphs and table rows in body order (each
  cell's grid column from ``w:gridBefore``/``w:gridSpan``); every
  part of the archive bounded before anything is read (:func:`_docx_parts`); .doc: LibreOffice to .docx first
  (:mod:`xl_addin.adapters.office`, in a process group of its own, stopped at the read's deadline);
- .txt / .md: as written (tables flattened one cell per tab-indented line, or Markdown ``|`` rows).

A report is read in at most :data:`READ_SECONDS` or refused (``timeout``), and its size in characters (PDF) and
lines (every kind) is bounded (``report-too-long``), and a web page nested deeper than libxml2 keeps is
refused (``html-too-deep``): a real report has some 20 pages and a thousand lines.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..importers import document
from ..importers.document import Document, Line
from ..importers.parse import Imported, parse
from .fileio import ArchiveLimits, ReadError, check_archive, is_encrypted_ooxml, read_guarded

SUFFIXES = document.REPORT_SUFFIXES
#: a published report's size limit (below fileio.MAX_FILE_BYTES, which every read has already passed)
MAX_BYTES = 60 * 1024 * 1024
MAX_PAGES = 300
#: how deep libxml2's HTML parser nests elements (it drops what lies deeper: such a page is refused)
HTML_MAX_DEPTH = 256
#: how long reading one report may take, seconds (a real one: well under one; a .doc: LibreOffice's start-up), and
#: LibreOffice's share of it for a .doc (a real one converts in 2-4 s; a junk one kept it busy for minutes)
READ_SECONDS = 10.0
DOC_SECONDS = 7.0
#: the characters of a PDF's text layer (a real report: some 1,500 a page; reading costs ~10 us each) and the lines
#: of any report (some 1,000)
MAX_PDF_CHARS = 250_000
MAX_LINES = 20_000
#: the tags of a web page (a real report: some 10,000; lxml holds some 250 bytes for each)
MAX_HTML_TAGS = 400_000
#: a .docx: the uncompressed size of its main part (word/document.xml), of any other part, of all parts together,
#: and how far a part above RATIO_FLOOR may expand (a zip bomb); the number of parts
MAX_DOCX_MAIN = MAX_BYTES
MAX_DOCX_PART = 32 * 1024 * 1024
MAX_DOCX_TOTAL = 160 * 1024 * 1024
MAX_DOCX_RATIO, DOCX_RATIO_FLOOR = 200, 4 * 1024 * 1024
MAX_DOCX_MEMBERS = 2000


def is_report(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a published report (by its suffix) rather than a workbook."""
    return Path(path).suffix.lower() in SUFFIXES


def import_report(path: str | os.PathLike[str], *, data: bytes | None = None) -> Imported:
    """Read and parse one published report (``data``: its bytes, when the caller has read them already). Raises
    ReadError (Chinese reason) when it cannot be read or is no 政府信息公开工作年度报告 (no section heading and
    no table row found)."""
    imp = parse(read_document(path, data=data))
    if not imp.headings and not any(k.startswith(("t2.", "t3.", "t4.")) for k in imp.data.values):
        raise ReadError(path, "not-a-report")
    return imp


def read_document(path: str | os.PathLike[str], *, data: bytes | None = None) -> Document:
    """The lines of one published report, read by its suffix. ``data``: the file's bytes, when the caller has
    read them already (with :func:`~xl_addin.adapters.fileio.read_guarded`, as the coordinator's pool does: the
    file is then read once and what is hashed is what is imported). Raises ReadError."""
    p = Path(path)
    kind = SUFFIXES.get(p.suffix.lower())
    if kind is None:
        raise ReadError(p, "not-importable")
    if data is None:
        data, st = read_guarded(p)  # a regular file within the size limit (a FIFO never blocks)
        size = st.st_size
    else:
        size = len(data)
    if size > MAX_BYTES:
        raise ReadError(p, "report-too-large",
                        detail=f"{size // 1024 // 1024} MB，上限 {MAX_BYTES // 1024 // 1024} MB")
    if not data.strip():
        raise ReadError(p, "empty")
    reader = {"html": _html, "pdf": _pdf, "docx": _docx, "doc": _doc, "txt": _txt}[kind]
    deadline = time.monotonic() + READ_SECONDS
    try:
        doc = reader(p, data, deadline)
    except ReadError:
        raise
    except Exception as exc:  # a broken file: the libraries raise many kinds
        raise ReadError(p, "report-corrupt", detail=type(exc).__name__) from None
    if len(doc.lines) > MAX_LINES:
        raise ReadError(p, "report-too-long", detail=f"{len(doc.lines)} 行，上限 {MAX_LINES} 行")
    if not any(ln.text for ln in doc.lines):
        raise ReadError(p, "no-text")
    _in_time(p, deadline)
    return doc


def _in_time(p: Path, deadline: float) -> None:
    """Refuse the report (``timeout``) when its read has run past ``deadline`` (time.monotonic)."""
    if time.monotonic() > deadline:
        raise ReadError(p, "timeout", detail=f"{READ_SECONDS:g}")


# ---- text -------------------------------------------------------------------------------------------------------

def decode(data: bytes, declared: str | None = None) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    tries = [declared] if declared else []
    tries += ["utf-8", "gb18030"]
    for enc in tries:
        if not enc:
            continue
        try:
            return data.decode(_encoding_name(enc))
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("gb18030", errors="replace")


def _utf16_without_bom(data: bytes) -> str | None:
    """A text saved as UTF-16 without its byte order mark (Notepad's "Unicode" saved by some tools): no text in
    UTF-8 or GB18030 holds NUL bytes, while UTF-16 has one in every ASCII character (digits, line breaks), on the
    odd bytes (little-endian) or the even ones (big-endian)."""
    head = data[:65536]
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if max(odd, even) < 4 or min(odd, even) * 4 > max(odd, even):
        return None
    try:
        return data[:len(data) // 2 * 2].decode("utf-16-le" if odd > even else "utf-16-be")
    except UnicodeDecodeError:
        return None


def _encoding_name(enc: str) -> str:
    e = enc.strip().lower()
    return "gb18030" if e in ("gb2312", "gbk", "gb_2312-80", "x-gbk", "gb18030") else e


_MD_RULE = re.compile(r"^\|?\s*:?-{2,}")


def _txt(p: Path, data: bytes, deadline: float) -> Document:
    text = decode(data)
    if text.count("\n") > 10 * MAX_LINES:  # a table's cells are a line each: ten to a row at most
        raise ReadError(p, "report-too-long", detail=f"{text.count(chr(10))} 行，上限 {MAX_LINES} 行")
    if p.suffix.lower() == ".md" or "\n|" in text:
        text = _markdown_tables(text)
    return document.from_text(text, source=str(p), kind="txt")


def _markdown_tables(text: str) -> str:
    """Markdown table rows -> the tab-indented flattened form (one cell per line, rows split by a blank line)."""
    out: list[str] = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("|") and s.endswith("|") and len(s) > 1:
            if _MD_RULE.match(s.replace("|", "", 1).strip()) or set(s) <= set("|-: "):
                continue
            out.extend("\t" + c.strip() for c in s[1:-1].split("|"))
            out.append("")
        else:
            out.append(re.sub(r"^#+\s*", "", line))
    return "\n".join(out)


# ---- HTML -------------------------------------------------------------------------------------------------------

_BLOCK = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "section", "article", "header",
          "footer", "blockquote", "pre", "center", "dd", "dt", "dl", "form", "hr", "tr", "table", "tbody", "thead",
          "main", "aside", "nav", "figure", "figcaption", "address", "title"}
_SKIP = {"script", "style", "head", "noscript", "template", "select", "option", "button", "iframe", "object",
         "embed", "svg", "canvas", "textarea", "input"}
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-]+)", re.I)


def _html(p: Path, data: bytes, deadline: float) -> Document:
    import lxml.html

    tags = data.count(b"<")
    if tags > MAX_HTML_TAGS:  # refused before it is parsed: the tree would take gigabytes
        raise ReadError(p, "report-too-long", detail=f"网页有 {tags} 个标记，上限 {MAX_HTML_TAGS}")

    m = _CHARSET.search(data[:4096])
    text = decode(data, m.group(1).decode("ascii") if m else None)
    parser = lxml.html.HTMLParser(encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True)
    root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser) if text.strip() else None
    if root is None:
        raise ReadError(p, "empty-page")
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):  # libxml2 stops at this depth
        raise ReadError(p, "html-too-deep", detail=str(HTML_MAX_DEPTH))
    meta = _html_meta(root)
    body = _content(root)
    _in_time(p, deadline)
    rows: list[Line] = []
    try:
        _walk_html(body, rows)
    except _TooLong:
        raise ReadError(p, "report-too-long", detail=f"超过 {MAX_LINES} 行") from None
    return Document(tuple(rows), meta, "html", str(p))


class _TooLong(Exception):
    """A page with more than MAX_LINES lines: its walk stops there."""


def _text_of(el: Any) -> str:
    return "".join(t for t in el.itertext() if isinstance(t, str))


def _html_meta(root: Any) -> dict[str, str]:
    meta: dict[str, str] = {}
    titles = [document.clean(_text_of(t)) for t in root.iter("title")]
    titles = [t for t in titles if "报告" in t] or titles
    if titles:
        meta["title"] = titles[0]
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.lower() == "publishtime":
            meta["date"], meta["date_source"] = document.clean(_text_of(el)), "网页的发布时间"
            break
    if "date" not in meta:
        for m in root.iter("meta"):
            name = (m.get("name") or m.get("property") or "").lower()
            if name in ("pubdate", "publishdate", "publish_date", "article:published_time", "firstpublishedtime"):
                meta["date"], meta["date_source"] = m.get("content") or "", "网页的发布时间"
                break
    return meta


def _content(root: Any) -> Any:
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() == "ucapcontent":
            return el
    best, best_len = None, 0
    for el in root.iter("div", "article", "section", "td", "main"):
        t = _text_of(el)
        if "主动公开" in t and ("其他需要报告" in t or "行政复议" in t) and (best is None or len(t) < best_len):
            best, best_len = el, len(t)
    if best is not None:
        return best
    body = root.find("body")
    return body if body is not None else root


def _walk_html(el: Any, out: list[Line]) -> None:
    buf: list[str] = []

    def flush() -> None:
        text = document.clean("".join(buf))
        if text:
            if len(out) >= MAX_LINES:
                raise _TooLong
            out.append(Line(text, None, f"网页第{len(out) + 1}段"))
        buf.clear()

    def visit(node: Any) -> None:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in _SKIP:
            if node.tail:
                buf.append(node.tail)
            return
        if tag == "table":
            flush()
            _table(node, out)
            if node.tail:
                buf.append(node.tail)
            return
        block = tag in _BLOCK
        if block:
            flush()
        if node.text and tag not in _SKIP:
            buf.append(node.text)
        for child in node:
            visit(child)
        if block:
            flush()
        if node.tail:
            buf.append(node.tail)

    if el.text:
        buf.append(el.text)
    for child in el:
        visit(child)
    flush()


#: the most columns / rows one cell of a web page's table may span (a real table: some 10 columns, 30 rows)
MAX_COLSPAN, MAX_ROWSPAN = 50, 200


def _span(value: str | None, limit: int) -> int:
    try:
        return min(max(int(str(value).strip() or 1), 1), limit)
    except ValueError:
        return 1


def _table(table: Any, out: list[Line]) -> None:
    """A table's rows, each cell with its grid column: its colspan counted, and the columns a cell of a row above
    still covers (rowspan) skipped -- the geometry :mod:`xl_addin.importers.match` places values by."""
    n = sum(1 for ln in out if ln.cells is not None and ln.where.endswith("第1行")) + 1
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    covered: dict[int, int] = {}  # grid column -> rows below still covered by a rowspan from above
    for i, tr in enumerate(rows, start=1):
        cells: list[str] = []
        cols: list[int] = []
        col = 0
        for td in tr:
            if not (isinstance(td.tag, str) and td.tag.lower() in ("td", "th")):
                continue
            while covered.get(col, 0) > 0:
                col += 1
            span, down = _span(td.get("colspan"), MAX_COLSPAN), _span(td.get("rowspan"), MAX_ROWSPAN)
            cells.append(document.clean(_text_of(td)))
            cols.append(col)
            for c in range(col, col + span):
                covered[c] = max(covered.get(c, 0), down)
            col += span
        width = max([col, *(c + 1 for c, left in covered.items() if left > 0)])
        covered = {c: left - 1 for c, left in covered.items() if left > 1}
        if cells:
            if len(out) >= MAX_LINES:
                raise _TooLong
            out.append(Line(" ".join(c for c in cells if c), tuple(cells), f"网页表格{n}第{i}行", tuple(cols), width))


# ---- PDF --------------------------------------------------------------------------------------------------------

def _pdf(p: Path, data: bytes, deadline: float) -> Document:
    import pypdfium2 as pdfium

    if not data.startswith(b"%PDF"):
        raise ReadError(p, "bad-pdf")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise ReadError(p, "pdf-encrypted") from None
        raise
    try:
        n = len(pdf)
        if n > MAX_PAGES:
            raise ReadError(p, "too-many-pages", detail=str(n))
        lines: list[Line] = []
        chars = 0
        for i in range(n):
            _in_time(p, deadline)
            page = pdf[i]
            tp = page.get_textpage()
            try:
                chars += tp.count_chars()
                if chars > MAX_PDF_CHARS:
                    raise ReadError(p, "report-too-long", detail=f"前 {i + 1} 页已有 {chars} 个字符，上限 {MAX_PDF_CHARS}")
                segments = _page_segments(tp, lambda: _in_time(p, deadline))
            finally:
                tp.close()
                page.close()
            lines += [Line(t, None, f"第{i + 1}页", xs=xs) for t, xs in without_page_number(pdf_lines(segments))]
        meta: dict[str, str] = {}
        md = pdf.get_metadata_dict()
        # no date from the metadata: a PDF's creation date says when the file was made, not when the report was
        # published (the parser takes it from the report's own text, or leaves it unknown)
        if "报告" in md.get("Title", ""):
            meta["title"] = md["Title"]
    finally:
        pdf.close()
    return Document(tuple(lines), meta, "pdf", str(p))


def _page_segments(tp: Any, in_time: Callable[[], None] = lambda: None) -> list[_Segment]:
    """A page's text runs with their boxes, in content order, each character visited once.

    pdfium's own runs (``FPDFText_CountRects``/``GetRect``) are the characters of one text object in a row,
    skipping generated characters and empty boxes; the text of a run was taken with ``GetBoundedText``, which
    scans every character of the page for each run -- quadratic in the glyphs of a page (a 1.1 MB PDF: 161 s).
    The same runs are built here in one pass: a character starts a new run when its text object changes; the
    generated spaces and the characters without a box between two characters of a run are part of its text.
    ``in_time`` is called every 65,536 characters (it raises when the read's time is up)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    n = tp.count_chars()
    if n <= 0:
        return []
    text = tp.get_text_range(0, n)
    handle = tp.raw
    # the text object as a plain address (pypdfium2's prototype returns a pointer object, ~4 us more a character)
    text_object = ctypes.cast(pdfium_c.FPDFText_GetTextObject,
                              ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int))
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    refs = ctypes.byref(left), ctypes.byref(right), ctypes.byref(bottom), ctypes.byref(top)
    one_per_char = len(text) == n  # else (a character outside the BMP) one code point asked per character
    runs: list[tuple[list[float], list[str]]] = []
    obj: int | None = None
    pending: list[str] = []
    for i in range(n):
        if not i & 0xFFFF:
            in_time()
        ch = text[i] if one_per_char else chr(pdfium_c.FPDFText_GetUnicode(handle, i))
        if pdfium_c.FPDFText_IsGenerated(handle, i) == 1:
            pending.append(ch)
            continue
        pdfium_c.FPDFText_GetCharBox(handle, i, *refs)
        lo, ro, bo, to = left.value, right.value, bottom.value, top.value
        if ro - lo < 0.01 or to - bo < 0.01:
            pending.append(ch)
            continue
        o = text_object(handle, i)
        if not runs or o != obj:
            runs.append(([lo, bo, ro, to], [ch]))
            obj = o
        else:
            box, chars = runs[-1]
            box[0], box[1], box[2], box[3] = min(box[0], lo), min(box[1], bo), max(box[2], ro), max(box[3], to)
            chars.extend(pending)
            chars.append(ch)
        pending.clear()
    out = []
    for box, chars in runs:
        t = document.clean("".join(chars).replace("\ufffe", "").replace("\x02", ""))
        if t:
            out.append(_Segment(box[0], box[1], box[2], box[3], t))
    return out


class _Segment:
    """A run of text on one line of a PDF page, with its box (PDF units, y upwards), in content order."""

    __slots__ = ("bottom", "left", "right", "text", "top")

    def __init__(self, left: float, bottom: float, right: float, top: float, text: str) -> None:
        self.left, self.bottom, self.right, self.top, self.text = left, bottom, right, top, text

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1.0)


_DIGITS = re.compile(r"^\d+$")
_CJK_PUNCT = frozenset("、，。；：（）“”‘’《》〔〕【】！？")


def pdf_lines(segments: list[_Segment]) -> list[tuple[str, tuple[float, ...]]]:
    """A page's text lines from its segments in content order (tables are written cell by cell), each with the
    x-centre of each of its space-separated tokens (where a table's value lies under its header). A number that
    wrapped inside a narrow table cell ("123" over "4") comes as two segments one right under the other in the
    same cell: they are joined again, which the page's plain text cannot do."""
    heights = sorted(s.height for s in segments)
    typical = heights[len(heights) // 2] if heights else 10.0  # a character's height (一 and 、 have flat boxes)
    words: list[_Segment] = []  # some producers (WPS) give every character its own segment: rebuild words first
    for seg in segments:
        prev = words[-1] if words else None
        if prev is not None:
            gap = seg.left - prev.right
            # full-width punctuation carries its blank half inside the advance, not the glyph box
            room = 1.2 if prev.text[-1:] in _CJK_PUNCT or seg.text[:1] in _CJK_PUNCT else 0.5
            same_line = abs((seg.top + seg.bottom) / 2 - (prev.top + prev.bottom) / 2) <= 0.6 * typical
            if same_line and -1.0 <= gap <= room * max(prev.height, seg.height, 0.8 * typical):
                prev.text += seg.text
                prev.right, prev.top, prev.bottom = seg.right, max(prev.top, seg.top), min(prev.bottom, seg.bottom)
                continue
        words.append(_Segment(seg.left, seg.bottom, seg.right, seg.top, seg.text))
    joined: list[_Segment] = []
    for seg in words:
        prev = joined[-1] if joined else None
        if (prev is not None and _DIGITS.match(seg.text) and _DIGITS.match(prev.text)
                and abs(seg.centre - prev.centre) <= max(2.0, 0.35 * max(prev.right - prev.left, seg.right - seg.left))
                and -1.0 <= prev.bottom - seg.top <= 1.2 * prev.height):
            prev.text += seg.text
            prev.bottom = seg.bottom
            continue
        joined.append(seg)
    out: list[list[_Segment]] = []
    for seg in joined:
        line = out[-1] if out else None
        if line is not None:
            last = line[-1]
            mid = (seg.top + seg.bottom) / 2
            if last.bottom - 1 <= mid <= last.top + 1 and seg.left >= last.left:
                line.append(seg)
                continue
        out.append([seg])
    return [(" ".join(s.text for s in line), tuple(x for s in line for x in _token_xs(s))) for line in out]


def _token_xs(seg: _Segment) -> list[float]:
    """The x-centre of each space-separated token of a segment (its share of the segment's width by characters)."""
    tokens = seg.text.split()
    if len(tokens) == 1:
        return [seg.centre]
    per = (seg.right - seg.left) / max(len(seg.text), 1)
    out, at = [], 0
    for t in tokens:
        start = seg.text.index(t, at)
        out.append(seg.left + per * (start + len(t) / 2))
        at = start + len(t)
    return out


def without_page_number(lines: list[tuple[str, tuple[float, ...]]]) -> list[tuple[str, tuple[float, ...]]]:
    """A page's lines without its page number ("- 4 -", "— 4 —", "第4页", "4/20": :data:`document.PAGE_EDGE`),
    even when split over lines."""
    for k in (3, 2, 1):
        if len(lines) >= k and document.PAGE_EDGE.match(re.sub(r"\s+", "", "".join(t for t, _ in lines[-k:]))):
            lines = lines[:-k]
            break
    for k in (3, 2, 1):  # some producers write the footer first
        if len(lines) >= k and document.PAGE_EDGE.match(re.sub(r"\s+", "", "".join(t for t, _ in lines[:k]))):
            return lines[k:]
    return lines


# ---- Word -------------------------------------------------------------------------------------------------------

#: a .docx's limits (:data:`MAX_DOCX_MAIN` and the others)
DOCX_ARCHIVE = ArchiveLimits(members=MAX_DOCX_MEMBERS, part=MAX_DOCX_PART, total=MAX_DOCX_TOTAL, ratio=MAX_DOCX_RATIO,
                             ratio_floor=DOCX_RATIO_FLOOR, code="docx-part-too-large",
                             big={"word/document.xml": (MAX_DOCX_MAIN, "docx-too-large")})
#: the parts of a .docx read
_DOCX_KEPT = ("word/document.xml", "docProps/core.xml")


def _docx_parts(p: Path, data: bytes) -> dict[str, bytes]:
    """The parts of a .docx that are read (:data:`_DOCX_KEPT`, those it has), every part bounded by what its
    directory declares before anything is read (:func:`fileio.check_archive` with :data:`DOCX_ARCHIVE`: the main
    part past MAX_DOCX_MAIN is ``docx-too-large``, anything else past its limit ``docx-part-too-large``). Then
    every part is streamed once, in pieces up to its declared size (:func:`_docx_part`), and only the parts read
    are kept: what a part holds must be what the directory declares."""
    import io

    if not data.startswith(b"PK"):
        if is_encrypted_ooxml(data):  # not an old .doc: a .docx with an open password
            raise ReadError(p, "word-encrypted")
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise ReadError(p, "doc-misnamed")
        raise ReadError(p, "bad-docx")
    kept: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if "word/document.xml" not in zf.namelist():
            raise ReadError(p, "not-docx")
        check_archive(zf, p, limits=DOCX_ARCHIVE)
        for info in zf.infolist():  # a name given twice: the last one, as zipfile reads a part by name
            keep = info.filename in _DOCX_KEPT
            got = _docx_part(p, zf, info, keep=keep)
            if keep:
                kept[info.filename] = got
    return kept


def _docx_part(p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, *, keep: bool = True) -> bytes:
    """One part of a bounded archive (:func:`_docx_parts`), read in pieces of 1 MB, never more than its declared
    size: a part holding more (or other) than its directory says fails its checksum there and the file is refused
    (``docx-part-too-large``). ``keep=False``: only checked, nothing kept."""
    name = info.filename
    pieces, got = [], 0
    try:
        with zf.open(info) as fh:
            while piece := fh.read(1 << 20):
                got += len(piece)
                if got > info.file_size:  # pragma: no cover - zipfile stops at the declared size
                    raise zipfile.BadZipFile
                if keep:
                    pieces.append(piece)
    except (zipfile.BadZipFile, EOFError, zlib.error):
        raise ReadError(p, "docx-part-too-large", detail=f"{name[:80]} 的内容与声明的大小或校验值不符") from None
    return b"".join(pieces)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx(p: Path, data: bytes, deadline: float) -> Document:
    from lxml import etree

    parts = _docx_parts(p, data)
    main, core = parts.pop("word/document.xml"), parts.pop("docProps/core.xml", b"")
    # as python-docx parses a part: no entities, no network, blank text dropped
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(main, parser)
    del main
    _in_time(p, deadline)
    body = root.find(_W + "body")
    lines: list[Line] = []
    w = _W
    tables = 0
    for n, block in enumerate(body.iterchildren() if body is not None else (), start=1):
        if block.tag == w + "p":
            text = "".join(t.text or "" for t in block.iter(w + "t"))
            if text.strip():
                lines.append(Line(document.clean(text), None, f"第{n}段"))
        elif block.tag == w + "tbl":
            tables += 1
            for i, tr in enumerate(block.iter(w + "tr"), start=1):
                cells, cols = [], []
                col = _grid_before(tr)
                for tc in tr.iterchildren(w + "tc"):
                    paras = ["".join(t.text or "" for t in para.iter(w + "t")) for para in tc.iter(w + "p")]
                    cells.append(document.clean("".join(paras)))
                    cols.append(col)
                    col += _grid_span(tc)
                if cells:
                    lines.append(Line(" ".join(c for c in cells if c), tuple(cells), f"表格{tables}第{i}行",
                                      tuple(cols), col))
    meta: dict[str, str] = {}
    if core:
        title = etree.fromstring(core, parser).find("{http://purl.org/dc/elements/1.1/}title")
        if title is not None and title.text and "报告" in title.text:
            meta["title"] = title.text
    return Document(tuple(lines), meta, "docx", str(p))


def _grid_span(tc: Any) -> int:
    """How many grid columns a Word table cell spans (``w:tcPr/w:gridSpan``); a vertically merged cell's
    continuation (``w:vMerge``) is a cell of its own in the row, so rows need no rowspan bookkeeping."""
    span = tc.find(f"{_W}tcPr/{_W}gridSpan")
    return _span(span.get(f"{_W}val") if span is not None else None, MAX_COLSPAN)


def _grid_before(tr: Any) -> int:
    """The grid columns a Word table row leaves empty before its first cell (``w:trPr/w:gridBefore``)."""
    before = tr.find(f"{_W}trPr/{_W}gridBefore")
    return _span(before.get(f"{_W}val") if before is not None else None, MAX_COLSPAN) if before is not None else 0


def _doc(p: Path, data: bytes, deadline: float) -> Document:
    from . import isolation, office

    if not data.startswith(b"\xd0\xcf\x11\xe0"):
        if data.startswith(b"PK"):
            return _docx(p, data, deadline)
        raise ReadError(p, "bad-doc")
    if is_encrypted_ooxml(data):
        raise ReadError(p, "word-encrypted")
    # LibreOffice gets its share of the read's time (less a second for the reading after it); its copy of the
    # file and its profile live in a folder removed at the end (under the supervisor's scratch folder, if any)
    seconds = min(DOC_SECONDS, deadline - time.monotonic() - 1.0)
    if seconds <= 0:
        raise ReadError(p, "timeout", detail=f"{READ_SECONDS:g}")
    with tempfile.TemporaryDirectory(prefix="xl_addin-doc-", dir=isolation.scratch(), ignore_cleanup_errors=True) as tmp:
        src = Path(tmp) / "report.doc"
        src.write_bytes(data)
        try:
            out = office.convert([src], "docx", Path(tmp) / "out", recalc=False, timeout=seconds)[0]
        except office.OfficeTimeout:
            raise ReadError(p, "timeout", detail=f"{max(1, round(seconds))}") from None
        except office.OfficeError:  # LibreOffice's own words are English: say what they mean
            raise ReadError(p, "doc-convert", detail="LibreOffice 无法打开它，文件可能已损坏、设置了打开密码，"
                                                      "或不是 Word 文件") from None
        doc = _docx(p, out.read_bytes(), deadline)
    return Document(doc.lines, doc.meta, "doc", str(p))
