"""What a reader adapter hands the parser: the report as lines, table rows with their cells where the source has
real cells (HTML, Word, flattened text), plus the page's own metadata (title, publication date)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from .. import spec

#: the files read as published reports: suffix -> kind of reader (declared once, in spec)
REPORT_SUFFIXES = spec.REPORT_SUFFIXES


@dataclass(frozen=True)
class Line:
    """One line of the report: a paragraph, a line of a PDF's text layer, or one table row (``cells``)."""

    text: str
    #: the cells of a table row, in reading order (blank cells kept as ""); None for running text
    cells: tuple[str, ...] | None = None
    #: where it was found, for the import record ("第3页", "表格2第5行", "第120行")
    where: str = ""
    #: the grid column of each cell, spans counted (a web page's colspan and the rowspans from rows above, a Word
    #: table's gridSpan), where the source has a grid; None otherwise (flattened text, a PDF's text layer)
    cols: tuple[int, ...] | None = None
    #: the row's width in grid columns (its last cell's end, or a rowspan's from above), with ``cols``
    width: int | None = None
    #: a PDF text line's geometry: the x-centre of each of its space-separated tokens (``text.split()``)
    xs: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Document:
    lines: tuple[Line, ...]
    #: what the file says about itself: "title", "date" (publication), "agency"
    meta: Mapping[str, str] = field(default_factory=dict)
    kind: str = ""  # "html", "pdf", "docx", "doc", "txt"
    source: str = ""


_SPACES = re.compile(r"[ \t\u00a0\u3000\u2002\u2003\u200b\ufeff]+")
#: control characters no spreadsheet cell can hold (XML 1.0 refuses them), and lone surrogates: read as a space
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: a line break by another name: vertical tab (Word's manual line break, Shift+Enter), form feed (page break),
#: and the Unicode line and paragraph separators
_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n", "\u2028": "\n", "\u2029": "\n", "\x85": "\n"})


def clean(s: str) -> str:
    """A cell or line as read: NBSP / ideographic spaces and control characters (which no workbook cell can hold)
    to ASCII spaces, runs collapsed, ends stripped."""
    return _SPACES.sub(" ", _CONTROLS.sub(" ", s)).strip()


def text_xs(raw: str) -> tuple[float, ...] | None:
    """A text line's geometry (a PDF's text laid out with spaces, ``pdftotext -layout``): the display column of
    the centre of each space-separated token, a wide (CJK) character counting two. None for a line of one token
    (a paragraph)."""
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(raw)]
    if len(spans) < 2:
        return None
    out: list[float] = []
    col, at = 0, 0
    for start, end in spans:
        col += _width(raw[at:start])
        w = _width(raw[start:end])
        out.append(col + w / 2)
        col += w
        at = end
    return tuple(out)


def _width(s: str) -> int:
    return len(s) + len(_WIDE.findall(s))


#: the characters a terminal or a laid-out text gives two columns (East Asian Wide and Fullwidth, as wcwidth)
_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
                   "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")


_TOKEN = re.compile(r"\S+")


def squash(s: str) -> str:
    """For matching labels: NFKC (full width to half width), no whitespace, unified quotes and dashes. (Short
    texts -- cells, labels, headings -- are asked for again and again: those are remembered.)"""
    return _squash_short(s) if len(s) <= 200 else _squash(s)


def _squash(s: str) -> str:
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", s)).translate(_QUOTES)


_squash_short = lru_cache(maxsize=8192)(_squash)
_WHITESPACE = re.compile(r"\s+")


#: a page number or a page's footer ("- 3 -", "第3页共5页", "3/5")
PAGE_NUMBER = re.compile(r"^[-—–－]\s*\d{1,3}\s*[-—–－]$|^第?\d{1,3}页(?:共\d+页)?$|^\d{1,3}/\d{1,3}$")
#: what stands at a page's top or bottom as its number (text without blanks): also a bare number, or one with a
#: dash on one side only ("4", "-4"), which inside a page is a figure
PAGE_EDGE = re.compile(r"^[-—–－]?\d{1,3}[-—–－]?$|" + PAGE_NUMBER.pattern)
_NUMERIC = re.compile(r"^[\d,.]+$")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "—": "-", "－": "-", "–": "-"})


def from_text(text: str, *, source: str = "", kind: str = "txt") -> Document:
    """A plain-text report. Tables flattened one cell per tab-indented line (rows separated by empty lines, a
    blank cell as a line holding only the tab) become rows with cells; a non-indented line inside such a block
    continues the cell before it (a label broken over lines). Everything else is running text."""
    lines: list[Line] = []
    row: list[str] | None = None
    row_start = 0

    def flush() -> None:
        nonlocal row
        if row is not None:
            lines.append(Line(" ".join(c for c in row if c), tuple(row), f"第{row_start}行"))
        row = None

    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_BREAKS)
    for n, raw in enumerate(text.split("\n"), start=1):
        if raw.startswith("\t"):
            if row is None:
                row, row_start = [], n
            row.append(clean(raw))
            continue
        if not raw.strip():
            flush()
            continue
        if row is not None and row:
            if PAGE_NUMBER.match(squash(raw)) or (_NUMERIC.match(squash(row[-1])) and not _NUMERIC.match(squash(raw))):
                lines.append(Line(clean(raw), None, f"第{n}行"))  # a page's footer or header inside a row
                continue
            row[-1] = row[-1] + clean(raw)  # a cell's text continued on the next line ("商业\n企业", "1,808,\n595")
            continue
        flush()
        lines.append(Line(clean(raw), None, f"第{n}行", xs=text_xs(raw)))
    flush()
    return Document(tuple(lines), {}, kind, source)
