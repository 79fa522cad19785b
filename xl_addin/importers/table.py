"""The table model every reader produces: a row is its cells, each with its place in the table's grid where the
source has one (a web page's or a Word table's columns, spans counted), and each cell's text read as a value.

Readers hand over :class:`~.document.Line` rows (cells and, where known, their grid columns); :func:`split_row`
turns one into a :class:`Row`: its label (the cells before its values) and its values, each a :class:`Cell`
that keeps what was printed. :mod:`.match` maps rows onto the official grid by their labels."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import CellValue
from .document import PAGE_NUMBER, Line, squash

#: cell texts that are not numbers but say "nothing" (kept as written by :func:`value_cell`; a read row takes them
#: as 0 and the import says how zero was written: Note kind "zero-as")
NOTHING = ("/", "／", "-", "－", "—", "——", "–", "无", "空", "\\")
#: the most digits a number of a table may have before its point: a spreadsheet holds 15 significant digits, and
#: a longer run of digits (400, 5,000) is no count but junk, kept as the text printed
MAX_DIGITS = 15
_NUMBER = re.compile(r"^([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(件|条|个|项|宗|起|万元|元)?$")
#: a label that starts an item of table 三 ("5.", "（三）", "四、")
ITEM_START = re.compile(r"^(?:\d+[.．]|[(（][一二三四五六七][)）]|[一二三四]、)")


@dataclass(frozen=True)
class Cell:
    raw: str
    value: CellValue
    unit: str = ""
    grouped: bool = False  # thousands separators removed
    #: the cell's first column in the table's grid (spans counted), None where the source has no grid
    col: int | None = None
    #: the x-centre of a PDF text line's token, None where the source gives none
    x: float | None = None

    @property
    def blank(self) -> bool:
        return self.value is None

    @property
    def nothing(self) -> bool:
        """Printed as one of :data:`NOTHING` ("—", "/", "无" …)."""
        return isinstance(self.value, str) and self.value in NOTHING


def value_cell(raw: str) -> Cell | None:
    """The cell as a table value, or None when it is a label."""
    s = squash(raw)
    if s == "":
        return Cell(raw, None)
    if s in NOTHING or raw.strip() in NOTHING:
        return Cell(raw, raw.strip())
    m = _NUMBER.match(s)
    if m is None:
        return None
    num, unit = m.group(1), m.group(2) or ""
    grouped = "," in num
    num = num.replace(",", "")
    if len(num.partition(".")[0].lstrip("+-")) > MAX_DIGITS:  # no count: kept as printed (V1 says so)
        return Cell(raw, raw.strip(), unit, grouped)
    v: CellValue = float(num) if "." in num else int(num)
    return Cell(raw, v, unit, grouped)


@dataclass(frozen=True)
class Row:
    label: str  # label cells joined
    values: tuple[Cell, ...]
    line: Line
    #: cells are real (HTML, Word, flattened text): blanks are kept; False for a PDF text line split at spaces
    real_cells: bool
    #: the grid column of the row's first value cell and the row's grid width (None: the source has no grid)
    width: int | None = None


def split_row(line: Line) -> Row:
    """A line as a table row: the cells up to the last one that is no value make its label, the rest its values
    (blanks kept where the cells are real). A PDF text line is split at spaces: a blank cannot be seen there."""
    if line.cells is not None:
        cells, real = list(line.cells), True
    else:
        cells, real = line.text.split(), False
    parsed = [value_cell(c) for c in cells]
    last_label = max((i for i, p in enumerate(parsed) if p is None), default=-1)
    label = "".join(c for c in cells[: last_label + 1] if c)
    cols = line.cols if line.cols is not None and len(line.cols) == len(cells) else None
    xs = line.xs if not real and line.xs is not None and len(line.xs) == len(cells) else None
    values = tuple(p if cols is None and xs is None else
                   Cell(p.raw, p.value, p.unit, p.grouped, cols[i] if cols else None, xs[i] if xs else None)
                   for i, p in enumerate(parsed) if i > last_label and p is not None)
    if not real and last_label >= 0:  # split at spaces: a blank can't be seen, so no blank values
        values = tuple(v for v in values if v.raw != "")
    return Row(label, values, line, real, line.width if cols is not None else None)


def is_page_furniture(text: str, mark: str = "") -> bool:
    """A page number or the draft mark repeated on every page: no part of the report's text."""
    s = squash(text)
    return bool(PAGE_NUMBER.match(s)) or (bool(mark) and s == mark)
