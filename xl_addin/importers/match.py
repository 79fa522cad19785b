"""The one matcher: rows of the table model (:mod:`.table`) onto the official grid (:mod:`xl_addin.spec`) by their
labels, and a row's values onto the grid's columns -- by the table's own geometry where the source has a grid,
else by their count. Where a row's values do not fit the columns it is not guessed at: :func:`fit` says why."""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from .. import spec
from .document import Line, squash
from .table import Cell, Row

#: table 三's values per row (its columns, 总计 last)
T3_WIDTH = len(spec.T3_COLS)
#: table 三's group （六）其他处理 and its rows' keys ("3.其他" last): the 2019 format has the group as one row
T3_SIX_SINGLE, T3_SIX_KEYS = next((group, tuple(key for key, _, _ in items)) for group, items in spec.T3_GROUPS
                                  if group is not None and group.startswith("（六）"))
#: what the import says (a marker) when table 三 has （六） as one row (23 rows)
T3_SINGLE_SIX_MARKER = f"表三“{T3_SIX_SINGLE}”为一行（23行）"
#: group labels that may precede an item label in the same row ("（三）不予公开1.属于国家秘密"): 三、本年度办理结果
#: (with and without its number) and the groups of more than one row
_T3_PREFIXES = tuple(squash(s) for s in (spec.T3_RESULT, spec.T3_RESULT.partition("、")[2],
                                         *(g for g, items in spec.T3_GROUPS if g is not None and len(items) > 1)))
#: header texts that may precede a label: the column headers, except "其他" (the start of item labels)
_T3_NOISE = tuple(squash(s) for s in (spec.T3_NOTE, spec.T3_APPLICANT, spec.T3_ORG,
                                      *(label for key, label in spec.T3_COLS if key != "other_org")))
#: the most ways of dropping blank cells a row is tried with (a row has some ten cells: a few hundred at most)
MAX_PADDING_TRIES = 5000


@cache
def t3_rows() -> tuple[tuple[str, str], ...]:
    """(row key, official item label) of table 三's 25 rows, plus ("six", "（六）其他处理") for the 2019 single row."""
    out = []
    for _group, items in spec.T3_GROUPS:
        for key, label, _ in items:
            out.append((key, label))
    out.append(("six", T3_SIX_SINGLE))
    return tuple(out)


@cache
def _t3_targets() -> tuple[tuple[str, str, str], ...]:
    """(row key, official label, the label squashed) of :func:`t3_rows`."""
    return tuple((key, official, squash(official)) for key, official in t3_rows())


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def ratio(a: str, b: str) -> float:
    """How alike two labels are, 0..1 (difflib's ratio, no junk heuristic)."""
    return _ratio(a, b)


def is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def strip_t3_prefixes(label: str) -> str:
    s = squash(label)
    changed = True
    while changed:
        changed = False
        for p in _T3_PREFIXES:
            if s.startswith(p) and len(s) > len(p):
                s, changed = s[len(p):], True
        for p in _T3_NOISE:
            if s.startswith(p) and len(s) > len(p):
                s, changed = s[len(p):], True
    return s


def match_t3(label: str) -> tuple[str, str, float] | None:
    """(row key, official label, score) of the best official row for ``label``, or None. The first row of the
    highest score wins; a row whose score cannot reach the best so far (nor 0.6) is not compared character by
    character (:func:`_ratio_bound`): a page of lines ending in a number costs a few microseconds a line."""
    return _match_t3(strip_t3_prefixes(label))


@lru_cache(maxsize=4096)
def _match_t3(s: str) -> tuple[str, str, float] | None:
    if not s:
        return None
    counts = Counter(s)
    best: tuple[str, str, float] | None = None
    for (key, official, o), o_counts in zip(_t3_targets(), _t3_counts(), strict=True):
        cut = short = len(s) >= 6 and s != o and o.startswith(s)  # a long official label cut short ("（二）部分公开")
        bound = 1.0 if s == o or cut else _ratio_bound(s, counts, o, o_counts)
        if bound < 0.6 or (best is not None and bound <= best[2]):
            continue  # cannot reach the threshold, or cannot beat the best so far
        score = 1.0 if s == o else _ratio(s, o)
        if short:
            score = max(score, 0.9)
        if best is None or score > best[2]:
            best = (key, official, score)
    if best is None or best[2] < 0.6:
        return None
    return best


@cache
def _t3_counts() -> tuple[Counter[str], ...]:
    return tuple(Counter(o) for _key, _official, o in _t3_targets())


def _ratio_bound(a: str, a_counts: Counter[str], b: str, b_counts: Counter[str]) -> float:
    """An upper bound of :func:`_ratio`, computed as the ratio is (2 x matches / total length), so that the bound is
    never below it: the matches are at most the shorter length, at most each side's characters the other lacks
    taken away (set operations, in C), and at most the characters the two share as a multiset (difflib's
    ``quick_ratio``) -- each only computed when the cheaper one before it has not already ruled the pair out."""
    total = len(a) + len(b)
    if not total:
        return 1.0
    bound = 2.0 * min(len(a), len(b)) / total
    if bound < 0.6:
        return bound
    a_keys, b_keys = a_counts.keys(), b_counts.keys()
    bound = 2.0 * min(len(a) - len(a_keys - b_keys), len(b) - len(b_keys - a_keys)) / total
    if bound < 0.6:
        return bound
    return 2.0 * sum(min(a_counts[c], b_counts[c]) for c in a_keys & b_keys) / total


#: table 二: official row label -> (key prefix, number of values): the document rows (a value per column), then
#: the single-value rows (the key itself); known variants
T2_ROWS: tuple[tuple[str, str, int], ...] = (
    *((label, f"t2.{key}", len(spec.T2_DOC_COLS)) for key, label, _ in spec.T2_DOC_ROWS),
    *((label, key, 1) for _, _, rows in spec.T2_SINGLE for key, label, _, _ in rows),
)
T2_VARIANTS = {"规范性文件": "行政规范性文件", "其他规范性文件": "行政规范性文件", "政府规章": "规章"}
def match_t2(label: str) -> tuple[str, str, int, float] | None:
    s = squash(label)
    s = re.sub(r"^(?:第二十条第[(（][一二三四五六七八九][)）]项|信息内容)+", "", s)
    if not s:
        return None
    if s in T2_VARIANTS:
        official = T2_VARIANTS[s]
        row = next(r for r in T2_ROWS if r[0] == official)
        return row[0], row[1], row[2], 0.8
    best: tuple[str, str, int, float] | None = None
    for official, key, n in T2_ROWS:
        score = 1.0 if s == official else _ratio(s, official)
        if best is None or score > best[3]:
            best = (official, key, n, score)
    if best is None or best[3] < 0.75:
        return None
    return best


# ---- a row's values onto the columns --------------------------------------------------------------------------

@dataclass(frozen=True)
class Fit:
    """A row's values fitted to the ``n`` columns of its table row, or why they could not be."""

    cells: tuple[Cell, ...] | None
    #: "" (as many values as columns), "grid" (placed by the table's columns), "x" (placed under the PDF
    #: header's columns by their x-position, the columns without one blank), "padding" (blank cells the grid
    #: leaves no room for dropped: every choice of them gives the same values), "split" (two one-digit numbers
    #: joined: only that balances)
    how: str = ""
    why: str = ""  # Chinese, when cells is None
    joined: int = -1  # "split": the index of the joined cell


def header_columns(rows: Iterable[Row], labels: Sequence[str]) -> tuple[dict[int, int], int | None]:
    """(grid column -> column index, the header's width) from the header cells of a table whose cells have grid
    columns: the first cell whose text is each official column label (``labels``, in order); the width of the
    header row that names the last of them. ({}, None) when a label has no such cell."""
    want = {squash(label): i for i, label in enumerate(labels)}
    found: dict[int, int] = {}
    for row in rows:
        cells = row.line.cells or ()
        cols = row.line.cols or ()
        for text, col in zip(cells, cols, strict=False):
            i = want.get(squash(text))
            if i is not None and i not in found.values() and col not in found:
                found[col] = i
        if len(found) == len(want):
            return found, row.line.width
    return {}, None


def header_xs(rows: Iterable[Row], labels: Sequence[str]) -> tuple[float, ...] | None:
    """The x-centre of each official column label (``labels``, in order) in a PDF's header lines: a line (or a
    token of it) that is the label, or its first two characters for a label the PDF stacks over lines ("商业" /
    "企业"). None when one is missing or they are not left to right."""
    want = [squash(label) for label in labels]
    short = [w if len(w) <= 3 else w[:2] for w in want]
    found: list[float | None] = [None] * len(want)
    for row in rows:
        ln = row.line
        tokens = ln.text.split()
        if ln.cells is not None or ln.xs is None or len(tokens) != len(ln.xs) or row.values:
            continue
        whole = squash(ln.text)
        for i, (w, sh) in enumerate(zip(want, short, strict=True)):
            if found[i] is None:
                if whole in (w, sh):
                    found[i] = sum(ln.xs) / len(ln.xs)
                else:
                    found[i] = next((x for t, x in zip(tokens, ln.xs, strict=True) if squash(t) in (w, sh)), None)
        if all(x is not None for x in found):
            xs = tuple(x for x in found if x is not None)
            return xs if all(a < b for a, b in itertools.pairwise(xs)) else None
    return None


def xs_confirmed(centres: Sequence[float] | None, rows: Iterable[Row], n: int, least: int = 3) -> bool:
    """Whether the header's column centres are where the table's rows have their values: every value of every row
    (at least ``least`` of them) under a column of its own (:func:`_by_x`), and a full row's (``n`` values) each
    under its own. A text laid out with spaces shifts its header against its rows: its positions are not used."""
    if centres is None:
        return False
    placed = [(r, _by_x(r.values, centres)) for r in rows
              if not r.real_cells and 0 < len(r.values) <= n and all(c.x is not None for c in r.values)]
    return len(placed) >= least and all(p is not None and (len(r.values) < n or p == r.values) for r, p in placed)


def _by_x(vals: Sequence[Cell], centres: Sequence[float]) -> tuple[Cell, ...] | None:
    """A PDF row's values placed under the column whose header they stand under (within half the narrowest gap
    between two columns), the columns without one blank; None when one stands under no column or two under one."""
    tol = min(b - a for a, b in itertools.pairwise(centres)) / 2
    out: list[Cell | None] = [None] * len(centres)
    for c in vals:
        if c.x is None:
            return None
        i = min(range(len(centres)), key=lambda k: abs(centres[k] - (c.x or 0.0)))
        if abs(centres[i] - c.x) >= tol or out[i] is not None:
            return None
        out[i] = c
    return tuple(c if c is not None else Cell("", None) for c in out)


def _by_grid(vals: Sequence[Cell], n: int, columns: Mapping[int, int]) -> tuple[Cell, ...] | None:
    """The values placed by their grid columns, when each column has exactly one and every other cell is blank."""
    out: list[Cell | None] = [None] * n
    for c in vals:
        i = columns.get(c.col) if c.col is not None else None
        if i is None:
            if not c.blank:
                return None
            continue
        if out[i] is not None:
            return None
        out[i] = c
    if any(c is None for c in out):
        return None
    return tuple(c for c in out if c is not None)


def _without_padding(vals: Sequence[Cell], n: int) -> tuple[Cell, ...] | None:
    """``vals`` with the blank cells too many dropped, when which ones are dropped makes no difference to the
    values read (a run of blanks, or blanks that all sit at an end). None when it would (or none can be)."""
    extra = len(vals) - n
    blanks = [i for i, c in enumerate(vals) if c.blank]
    if extra <= 0 or len(blanks) < extra:
        return None
    results: set[tuple[object, ...]] = set()
    first: tuple[Cell, ...] | None = None
    for k, drop in enumerate(itertools.combinations(blanks, extra)):
        if k >= MAX_PADDING_TRIES:
            return None
        kept = tuple(c for i, c in enumerate(vals) if i not in drop)
        results.add(tuple(c.value for c in kept))
        if len(results) > 1:
            return None
        first = first or kept
    return first


def fit(row: Row, n: int, *, balance: bool, columns: Mapping[int, int] | None = None,
        width: int | None = None, xs: Sequence[float] | None = None) -> Fit:
    """``row``'s values fitted to ``n`` columns: by the grid (``columns``: grid column -> column index) when the
    row is as wide as the header that gave the columns (``width``: a row wider or narrower has cells the header
    does not place); else as many values as columns, or blanks too many that are padding
    whichever they are, or (``balance``: table 三, parts = 总计) two one-digit numbers that only balance joined.
    Anything else is not guessed: the Fit has no cells and says why."""
    vals = row.values
    if columns and row.width is not None and row.width == width:
        placed = _by_grid(vals, n, columns)
        if placed is not None:
            return Fit(placed, "grid" if placed != vals else "")
    if len(vals) == n:
        return Fit(tuple(vals))
    if xs is not None and len(xs) == n and not row.real_cells and len(vals) < n:
        placed = _by_x(vals, xs)  # a PDF row with blank cells (not seen in its text): where its values stand
        if placed is not None:
            return Fit(placed, "x")
    if len(vals) < n:
        return Fit(None, why=f"只读到 {len(vals)} 个数，应为 {n} 个，无法确定缺的是哪几格")
    padded = _without_padding(vals, n)
    merged = split_digit_merge(vals, n) if balance else None
    if padded is not None and merged is None:
        return Fit(padded, "padding")
    if merged is not None and padded is None:
        return Fit(tuple(merged[0]), "split", joined=merged[1])
    if not any(c.blank for c in vals):
        return Fit(None, why=f"读到 {len(vals)} 个数，应为 {n} 个，无法确定多出的是哪个数")
    return Fit(None, why=f"读到 {len(vals)} 格，应为 {n} 格，无法确定多出的是哪几格")


def split_digit_merge(vals: Sequence[Cell], n: int) -> tuple[list[Cell], int] | None:
    """When a row of table 三 has one number too many and joining two adjacent one-digit numbers makes it balance
    (parts sum to the 总计), the row with them joined and the index joined."""
    if len(vals) != n + 1:
        return None
    found: list[tuple[list[Cell], int]] = []
    for i in range(len(vals) - 1):
        a, b = vals[i], vals[i + 1]
        if not (isinstance(a.value, int) and isinstance(b.value, int) and 0 <= a.value <= 9 and 0 <= b.value <= 9):
            continue
        joined = Cell(f"{a.raw.strip()}{b.raw.strip()}", a.value * 10 + b.value)
        cells = [*vals[:i], joined, *vals[i + 2:]]
        nums = [c.value for c in cells]
        if all(isinstance(x, int) for x in nums) and sum(nums[:-1]) == nums[-1]:  # type: ignore[arg-type]
            found.append((cells, i))
    return found[0] if len(found) == 1 else None


def split_digit_merge_t4(vals: Sequence[Cell]) -> list[Cell] | None:
    """When table 四 has one number too many and joining two adjacent one-digit numbers makes each group balance
    (its results sum to its 总计), the numbers with them joined."""
    width = len(spec.T4_RESULTS)  # a group's results, 总计 last
    if len(vals) != width * len(spec.T4_GROUPS) + 1:
        return None
    found = []
    for i in range(len(vals) - 1):
        a, b = vals[i], vals[i + 1]
        if not (isinstance(a.value, int) and isinstance(b.value, int) and 0 <= a.value <= 9 and 0 <= b.value <= 9):
            continue
        cells = [*vals[:i], Cell(f"{a.raw}{b.raw}", a.value * 10 + b.value), *vals[i + 2:]]
        nums = [c.value if isinstance(c.value, int) else 0 for c in cells]
        if all(sum(nums[g * width: g * width + width - 1]) == nums[g * width + width - 1]
               for g in range(len(spec.T4_GROUPS))):
            found.append(cells)
    return found[0] if len(found) == 1 else None


#: every character of table 三's header (its note, 申请人情况, the column labels): a line made of these alone is a
#: piece of the header a new page repeats
_HEADER_CHARS = frozenset(squash("".join((spec.T3_NOTE, spec.T3_APPLICANT, spec.T3_ORG,
                                          *(label for _, label in spec.T3_COLS)))))
_PAGE_TITLE = re.compile(r"(?:年度报告|工作报告)$")


def between_pages(row: Row) -> bool:
    """A row without values that a page break puts inside a table: the page's running title ("……年度报告") or
    a piece of the repeated header ("自然人", "商业", "企业" …)."""
    if any(not c.blank for c in row.values):
        return False
    s = squash(row.label)
    return bool(s) and (bool(_PAGE_TITLE.search(s)) or set(s) <= _HEADER_CHARS)


def _skip_page_break(rows: Sequence[Row], i: int) -> int:
    j = i
    while j < len(rows) and j - i < MAX_ROWS_BETWEEN_PARTS and between_pages(rows[j]):
        j += 1
    return j


#: how many rows a page break may put between the two parts of a table row (its running title, the repeated header)
MAX_ROWS_BETWEEN_PARTS = 16


def wrapped_values(row: Row, rows: Sequence[Row], i: int) -> tuple[tuple[Cell, ...], int, bool]:
    """A PDF row's numbers with those of the value-only lines after it, up to :data:`T3_WIDTH` (a page break's
    running title and repeated header between them skipped); a number cut by the line end ("123" / "4") joined
    again when that is the only way to get 7 that balance (parts = 总计).
    Returns the cells, the index after the lines taken, and whether numbers were joined."""
    pieces = [list(row.values)]
    while sum(map(len, pieces)) < T3_WIDTH:
        j = _skip_page_break(rows, i)
        if not (j < len(rows) and not rows[j].label and rows[j].values):
            break
        pieces.append(list(rows[j].values))
        i = j + 1
    flat = [c for p in pieces for c in p]
    extra = len(flat) - T3_WIDTH
    if extra > 0:
        bounds = list(itertools.accumulate(len(p) for p in pieces))[:-1]  # index of each line's first value
        for joins in itertools.combinations(bounds, extra):
            cells = list(flat)
            for b in sorted(joins, reverse=True):
                a, c = cells[b - 1], cells[b]
                if not (isinstance(a.value, int) and isinstance(c.value, int)):
                    break
                cells[b - 1:b + 1] = [Cell(a.raw.strip() + c.raw.strip(), int(f"{a.value}{c.value}"))]
            else:
                nums = [c.value for c in cells]
                if all(isinstance(x, int) for x in nums) and sum(nums[:-1]) == nums[-1]:  # type: ignore[arg-type]
                    return tuple(cells), i, True
    return tuple(flat), i, False


def continued(row: Row, rows: Sequence[Row], i: int) -> tuple[Row, int]:
    """A row of real cells with fewer values than table 三's columns, joined with the rest of it after a page break
    (its running title and the repeated header between skipped) when the value-only rows there make exactly the
    columns; else the row as it is (it will be unread)."""
    j = _skip_page_break(rows, i)
    vals, texts, k = following_values(row, rows, j, T3_WIDTH)
    if k == j or len(vals) != T3_WIDTH:
        return row, i
    return Row(row.label, vals, Line(" / ".join(texts), tuple(c.raw for c in vals), row.line.where), True), k


def following_values(row: Row, rows: Sequence[Row], i: int, n: int) -> tuple[tuple[Cell, ...], list[str], int]:
    """``row``'s values with those of the value-only rows from ``rows[i]`` on, until there are ``n``: (the values,
    the texts of the lines taken, ``row``'s first, the index after them)."""
    vals = list(row.values)
    texts = [row.line.text]
    while i < len(rows) and not rows[i].label and rows[i].values and len(vals) < n:
        vals.extend(rows[i].values)
        texts.append(rows[i].line.text)
        i += 1
    return tuple(vals), texts, i
