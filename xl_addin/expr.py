"""A tiny expression language over cell keys.

Arithmetic rules are declared with it once; the same object is evaluated in Python by the validator and
compiled to an Excel formula for the template's live checks and derived totals.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from . import spec

Number = int | float


@dataclass(frozen=True)
class Lin:
    """A sum of keys minus a sum of keys."""

    plus: tuple[str, ...]
    minus: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return self.plus + self.minus

    def eval(self, value: Callable[[str], Number | None]) -> Number | None:
        total: Number = 0
        for k in self.plus:
            v = value(k)
            if v is None:
                return None
            total += v
        for k in self.minus:
            v = value(k)
            if v is None:
                return None
            total -= v
        return total

    def excel(self, ref: Callable[[str], str]) -> str:
        s = _sum_text(self.plus, ref)
        if self.minus:
            s += "-" + _sum_text(self.minus, ref, paren=True)
        return s


def _sum_text(keys: tuple[str, ...], ref: Callable[[str], str], paren: bool = False) -> str:
    if len(keys) == 1:
        return ref(keys[0])
    if len(keys) <= 3:
        body = "+".join(ref(k) for k in keys)
        return f"({body})" if paren else body
    return "SUM(" + ",".join(ref(k) for k in keys) + ")"


_OPS: dict[str, Callable[[Number, Number], bool]] = {"=": operator.eq, "<=": operator.le}


@dataclass(frozen=True)
class Compare:
    lhs: Lin
    op: str  # "=" or "<="
    rhs: Lin

    @property
    def keys(self) -> tuple[str, ...]:
        return self.lhs.keys + self.rhs.keys

    def eval(self, value: Callable[[str], Number | None]) -> tuple[bool, Number, Number] | None:
        """(holds, lhs, rhs), or None when a term is not a usable number."""
        a, b = self.lhs.eval(value), self.rhs.eval(value)
        if a is None or b is None:
            return None
        return _OPS[self.op](round(a, 6), round(b, 6)), a, b

    def excel(self, ref: Callable[[str], str]) -> str:
        return f"{self.lhs.excel(ref)}{self.op}{self.rhs.excel(ref)}"


def input_keys(keys: Iterable[str]) -> tuple[str, ...]:
    """The input keys behind ``keys``: derived keys are expanded to the inputs they sum (order kept, unique)."""
    out: dict[str, None] = {}

    def add(k: str) -> None:
        cell = spec.DATA_CELLS.get(k)
        if cell is not None and cell.derived:
            for part in cell.sum_of:
                add(part)
        else:
            out[k] = None

    for k in keys:
        add(k)
    return tuple(out)


# --------------------------------------------------------------------------------------------------------------
# Derived-cell formulas: written as SUM over contiguous ranges, recognised by the set of cells they sum
# --------------------------------------------------------------------------------------------------------------

def sum_formula(parts: Iterable[spec.Location]) -> str:
    """``=SUM(D7:I7)`` for cells in one row or column; a list of ranges otherwise."""
    locs = sorted(parts, key=lambda p: (p.row, p.col))
    ranges: list[str] = []
    i = 0
    while i < len(locs):
        j = i
        while j + 1 < len(locs) and _adjacent(locs[j], locs[j + 1]):
            j += 1
        a, b = locs[i], locs[j]
        ranges.append(a.a1 if i == j else f"{a.a1}:{b.a1}")
        i = j + 1
    return "=SUM(" + ",".join(ranges) + ")"


def _adjacent(a: spec.Location, b: spec.Location) -> bool:
    return (a.row == b.row and b.col == a.col + 1) or (a.col == b.col and b.row == a.row + 1)


#: no derived total adds up more cells than this; a formula over more is not ours
MAX_SUMMED_CELLS = 1000
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


@functools.lru_cache(maxsize=4096)
def cells_summed(formula: str) -> frozenset[tuple[int, int]] | None:
    """The (row, col) cells a same-sheet sum formula adds up, or None when it is anything else.

    Accepts ``=SUM(D7:I7)``, ``=SUM(D7,E7:I7)``, ``=D7+E7+...`` and mixes, with or without ``$``; this is how
    a derived total is recognised as intact after Excel, WPS or LibreOffice rewrote its text.
    """
    f = formula.strip().lstrip("=").replace(" ", "").upper().replace("_XLFN.", "")
    terms: list[str] = []
    for chunk in f.split("+"):
        if chunk.startswith("SUM(") and chunk.endswith(")"):
            terms.extend(chunk[4:-1].split(","))
        else:
            terms.append(chunk)
    cells: set[tuple[int, int]] = set()
    for t in terms:
        m = _REF.match(t)
        if not m:
            return None
        r1, c1 = int(m.group(2)), spec.col_number(m.group(1))
        r2, c2 = (int(m.group(4)), spec.col_number(m.group(3))) if m.group(3) else (r1, c1)
        if (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1) + len(cells) > MAX_SUMMED_CELLS:
            return None  # far more than any total of ours adds up (and not worth enumerating)
        for r in range(min(r1, r2), max(r1, r2) + 1):
            for c in range(min(c1, c2), max(c1, c2) + 1):
                if (r, c) in cells:
                    return None  # a cell counted twice is not our total
                cells.add((r, c))
    return frozenset(cells)


def derived_formula(key: str, locations: Mapping[str, spec.Location]) -> str:
    cell = spec.DATA_CELLS[key]
    return sum_formula(locations[k] for k in cell.sum_of)


def formula_is_intact(key: str, formula: str, locations: Mapping[str, spec.Location]) -> bool:
    cell = spec.DATA_CELLS[key]
    expected = frozenset((locations[k].row, locations[k].col) for k in cell.sum_of)
    return cells_summed(formula) == expected


_STRING = re.compile(r'("(?:[^"]|"")*")')


@functools.lru_cache(maxsize=8192)
def normalise_formula(formula: str) -> str:
    """A formula as two spreadsheets may write the same one: without "=", white space, quotes around plain sheet
    names, Excel's "_xlfn." prefixes and LibreOffice's TRUE()/FALSE(), upper case outside string literals."""
    parts = _STRING.split(formula.strip().lstrip("="))
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a string literal, kept as it is
            out.append(part)
            continue
        part = re.sub(r"\s+", "", part)
        part = re.sub(r"'((?:[^']|'')+)'!", lambda m: m.group(1).replace("''", "'") + "!", part)
        out.append(part.upper().replace("_XLFN.", "").replace("TRUE()", "TRUE").replace("FALSE()", "FALSE"))
    return "".join(out)
