"""Live checks: the rule instances a spreadsheet formula can decide, compiled from the rule catalogue.

The template's 校验汇总 sheet carries one row per check with a formula that shows exactly "通过" or "不通过";
conditional formatting colours the cells a failing check covers, and each table sheet shows a status line. The
same :class:`~xl_addin.catalogue.Instance` objects the validator evaluates in Python are compiled here to Excel
formulas, so the sheet and ``xl-addin check`` cannot drift apart (a differential test recalculates generated
workbooks in LibreOffice and compares the two).

Every check id equals the ``check`` of the finding the validator raises for it (``Finding.check``):
``V1:<key>`` for a count cell, ``V2:<key>`` and ``V2:<key>:yuan`` for the fee, ``A3:natural`` and the like for
the arithmetic instances.

Only functions Excel 2010+, WPS and LibreOffice compute alike: IF, AND, OR, NOT, ISNUMBER, ISLOGICAL, INT, ABS, ROUND, COUNTIF,
COUNTIFS. Not decidable by formula (and left to the validator): a formula typed into an input cell (ISFORMULA
needs Excel 2013) and a derived total whose formula was replaced by a number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from . import catalogue, expr, spec
from .catalogue import CATALOGUE, Instance
from .model import Severity

PASS, FAIL = "通过", "不通过"
SHEET = spec.SUMMARY_SHEET
TITLE = "校验汇总（随填随算，无需宏；与“校验”按钮和命令行 xl-addin check 使用同一套规则）"
HEADERS = ("序号", "检查编号", "规则", "级别", "检查内容", "工作表", "单元格", "行", "列", "状态")
WIDTHS = (5, 30, 5, 5, 38, 7, 10, 50, 28, 8)
TITLE_ROW, OVERALL_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3, 4
COL_ID, COL_RULE, COL_SEVERITY, COL_SHEET, COL_STATE = 2, 3, 4, 6, 10
#: the cell of each table sheet that shows its status line (merged across the table's width)
STATUS_ROW = 2
TABLE_OK = "本表校验通过"
TABLE_WARNINGS_ONLY = "本表有 0 处错误"  # the status line's start when only warnings remain (shown amber)
EPS = "0.000000001"

#: how a live catalogue entry that judges one input cell is compiled: (the kind of cell it applies to, formula kind);
#: every other live entry is compiled from its arithmetic instances
CELL_CHECKS: dict[str, tuple[spec.Kind, str]] = {
    "V1": (spec.Kind.COUNT, "count"), "V2": (spec.Kind.MONEY, "money"), "V2.yuan": (spec.Kind.MONEY, "yuan")}


@dataclass(frozen=True)
class LiveCheck:
    id: str
    code: str  # the catalogue entry
    anchor: str  # key of the cell a finding points at
    marks: tuple[str, ...]  # keys of the cells coloured when it fails
    labels: tuple[str, str]
    kind: str  # "count" | "money" | "yuan" | "arith"
    instance: Instance | None = None

    @property
    def rule(self) -> str:
        return CATALOGUE[self.code].rule

    @property
    def severity(self) -> Severity:
        return CATALOGUE[self.code].severity

    @property
    def title(self) -> str:
        return CATALOGUE[self.code].title

    @property
    def sheet(self) -> str:
        return spec.LAYOUT.locations[self.anchor].sheet

    @property
    def cells(self) -> str:
        locs = [spec.LAYOUT.locations[k] for k in self.marks]
        return ",".join(_ranges(locs))


@cache
def checks() -> tuple[LiveCheck, ...]:
    """Every live check, one per (live catalogue entry, place it applies): the rows of 校验汇总."""
    codes = catalogue.live_codes()
    cell_codes = [c for c in codes if c in CELL_CHECKS]
    out: list[LiveCheck] = []
    for key in spec.INPUT_KEYS:
        for code in cell_codes:
            cell_kind, kind = CELL_CHECKS[code]
            if spec.DATA_CELLS[key].kind is cell_kind:
                out.append(LiveCheck(catalogue.check_id(code, key), code, key, (key,), spec.labels_of(key), kind))
    arith = {inst.code for inst in catalogue.instances()}
    for inst in catalogue.instances():
        if CATALOGUE[inst.code].live:
            out.append(LiveCheck(inst.id, inst.code, inst.anchor, inst.cells, inst.labels, "arith", inst))
    uncompiled = set(codes) - set(CELL_CHECKS) - arith
    if uncompiled:  # a live entry the sheet cannot show: the catalogue and this module disagree
        raise ValueError(f"live catalogue entries without a formula: {sorted(uncompiled)}")
    return tuple(out)


def row_of(check_id: str) -> int:
    return _rows()[check_id]


@cache
def _rows() -> dict[str, int]:
    return {c.id: FIRST_ROW + i for i, c in enumerate(checks())}


def state_ref(check_id: str, *, absolute: bool = True, sheet: bool = True) -> str:
    col = spec.col_letter(COL_STATE)
    a1 = f"${col}${row_of(check_id)}" if absolute else f"{col}{row_of(check_id)}"
    return f"{quote(SHEET)}!{a1}" if sheet else a1


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def name(key: str) -> str:
    return spec.defined_name(key)


# ---- formula pieces (each returns an Excel boolean expression) -------------------------------------------------

def count_ok(r: str) -> str:
    """derive.count_value(v) is not None: blank, or a whole number >= 0."""
    return f'IF({r}="",TRUE,IF(ISLOGICAL({r}),FALSE,IF(ISNUMBER({r}),AND({r}>=0,{r}=INT({r})),FALSE)))'


def money_ok(r: str) -> str:
    """derive.money_value(v) is not None: blank, or a number >= 0 with at most 4 decimals."""
    return (f'IF({r}="",TRUE,IF(ISLOGICAL({r}),FALSE,IF(ISNUMBER({r}),AND({r}>=0,ABS(ROUND({r},4)-{r})<{EPS}),'
            'FALSE)))')


def known_count(r: str) -> str:
    """derive.prior_values: last year's figure is there and a whole number >= 0 (blank = not known)."""
    return f"IF(ISLOGICAL({r}),FALSE,IF(ISNUMBER({r}),AND({r}>=0,{r}=INT({r})),FALSE))"


def _state(fails: str) -> str:
    return f'=IF({fails},"{FAIL}","{PASS}")'


def formula(check: LiveCheck) -> str:
    """The state formula of one check: exactly "通过" or "不通过"."""
    r = name(check.anchor)
    if check.kind == "count":
        return _state(f"NOT({count_ok(r)})")
    if check.kind == "money":
        return _state(f"NOT({money_ok(r)})")
    if check.kind == "yuan":
        return _state(f"IF(ISNUMBER({r}),AND({money_ok(r)},{r}>={catalogue.YUAN_THRESHOLD}),FALSE)")
    assert check.instance is not None
    cmp = check.instance.cmp
    # The validator skips an instance when a term is not a usable number (V1/V2 report the cell instead):
    # inputs behind it (their own checks pass), derived cells holding a valid count, last year's figures known.
    guards: list[str] = []
    inputs = [k for k in expr.input_keys(cmp.keys) if not k.startswith("prior.")]
    state_rows = sorted(row_of(_cell_check(k)) for k in inputs)
    col = spec.col_letter(COL_STATE)
    counts = [f'COUNTIF({rng},"{FAIL}")' for rng in _row_ranges(col, state_rows)]
    if counts:
        guards.append("+".join(counts) + "=0")
    for k in dict.fromkeys(cmp.keys):
        if k.startswith("prior."):
            guards.append(known_count(name(k)))
        elif spec.DATA_CELLS[k].derived:
            guards.append(count_ok(name(k)))
    test = cmp.excel(name)
    guard = guards[0] if len(guards) == 1 else "AND(" + ",".join(guards) + ")"
    return f'=IF({guard},IF({test},"{PASS}","{FAIL}"),"{PASS}")'


def _cell_check(key: str) -> str:
    """The id of the check that an input cell holds a usable value (V1 for a count, V2 for the fee)."""
    kind = spec.DATA_CELLS[key].kind
    return next(catalogue.check_id(code, key) for code, (k, how) in CELL_CHECKS.items() if k is kind and how != "yuan")


def _row_ranges(col: str, rows: Iterable[int]) -> Iterator[str]:
    rs = sorted(set(rows))
    i = 0
    while i < len(rs):
        j = i
        while j + 1 < len(rs) and rs[j + 1] == rs[j] + 1:
            j += 1
        yield f"${col}${rs[i]}" if i == j else f"${col}${rs[i]}:${col}${rs[j]}"
        i = j + 1


def _ranges(locs: list[spec.Location]) -> list[str]:
    """A1 ranges covering the cells (runs along a row or a column merged)."""
    f = expr.sum_formula(locs)
    return f[len("=SUM("):-1].split(",")


# ---- the summary sheet, the status lines and the colouring --------------------------------------------------

def summary_rows() -> list[tuple[object, ...]]:
    """The rows of 校验汇总 from FIRST_ROW, one per check (the last column is the state formula)."""
    return [(i + 1, c.id, c.rule, c.severity.zh, c.title, c.sheet, c.cells, c.labels[0] or None, c.labels[1] or None,
             formula(c))
            for i, c in enumerate(checks())]


def overall_formula() -> str:
    col = spec.col_letter(COL_STATE)
    last = FIRST_ROW + len(checks()) - 1
    rng = f"${col}${FIRST_ROW}:${col}${last}"
    return (f'=IF(COUNTIF({rng},"{FAIL}")=0,"全部 {len(checks())} 项检查通过",'
            f'"共 "&COUNTIF({rng},"{FAIL}")&" 项检查不通过，见“状态”列")')


def status_formula(sheet: str) -> str:
    """"本表校验通过" or "本表有 N 处错误、M 处警告" for a table sheet."""
    last = FIRST_ROW + len(checks()) - 1
    q = quote(SHEET)

    def col(c: int) -> str:
        letter = spec.col_letter(c)
        return f"{q}!${letter}${FIRST_ROW}:${letter}${last}"

    def n(sev: Severity) -> str:
        return (f'COUNTIFS({col(COL_SHEET)},"{sheet}",{col(COL_SEVERITY)},"{sev.zh}",'
                f'{col(COL_STATE)},"{FAIL}")')

    e, w = n(Severity.ERROR), n(Severity.WARNING)
    return f'=IF({e}+{w}=0,"{TABLE_OK}","本表有 "&{e}&" 处错误、"&{w}&" 处{Severity.WARNING.zh}")'


@dataclass(frozen=True)
class Colouring:
    sheet: str
    ranges: str  # space-separated A1 ranges (openpyxl's multi-range form)
    formula: str  # without "="
    severity: Severity


def colourings() -> list[Colouring]:
    """Conditional formats: each marked cell turns red while an error check covering it fails, amber for a
    warning. Cells with the same set of covering checks share one rule."""
    by_cell: dict[str, dict[Severity, list[str]]] = {}
    for c in checks():
        for k in c.marks:
            by_cell.setdefault(k, {}).setdefault(c.severity, []).append(c.id)
    groups: dict[tuple[str, Severity, tuple[str, ...]], list[spec.Location]] = {}
    for key, sev_ids in by_cell.items():
        loc = spec.LAYOUT.locations[key]
        for sev, ids in sev_ids.items():
            groups.setdefault((loc.sheet, sev, tuple(ids)), []).append(loc)
    out: list[Colouring] = []
    for (sheet, sev, group), locs in groups.items():
        refs = [f'{state_ref(i)}="{FAIL}"' for i in group]
        f = refs[0] if len(refs) == 1 else "OR(" + ",".join(refs) + ")"
        out.append(Colouring(sheet, " ".join(_ranges(locs)), f, sev))
    # errors first: the rule added first gets the highest priority, and it stops the amber one
    return sorted(out, key=lambda c: (c.sheet, c.severity is not Severity.ERROR))


def failing(states: Callable[[str], object]) -> set[str]:
    """The ids of failing checks, given a reader of the state column by check id (for tests and tools)."""
    return {c.id for c in checks() if states(c.id) == FAIL}
