"""Live checks: the rule instances a spreadsheet formula can decide, compiled from the rule catalogue.

The template's 校验汇总 sheet carries one row per check with a formula that shows exactly "通过" or "不通过";
conditional formatting colours the cells a failing check covers, and each table sheet shows a status line. The
same :class:`~xl_addin.catalogue.Instance` objects the validator evaluates in Python are compiled here to Excel
formulas, so the sheet and ``xl-addin check`` cannot drift apart (a differential test recalculates generated
workbooks in LibreOffice and compares the two).

Every check id equals the ``check`` of the finding the validator raises for it (``Finding.check``):
``V1:<key>`` for a count cell, ``V2:<key>`` and ``V2:<key>:yuan`` for the fee, ``A3:natural`` and the like for
the arithmetic instances.

A template built under a rule profile (``xl-addin template --profile``) has its checks compiled under the profile's
:class:`Settings` (:func:`settings_of`): every function below that compiles something takes them (default: the
national ones, the template without a profile), and the validator compares a workbook's formulas with the settings
of the profile it checks under (``rules.live_settings``).

Only functions Excel 2010+, WPS and LibreOffice compute alike: IF, AND, OR, NOT, ISNUMBER, ISLOGICAL, INT, ABS, ROUND, COUNTIF,
COUNTIFS. Not decidable by formula (and left to the validator): a formula typed into an input cell (ISFORMULA
needs Excel 2013) and a derived total whose formula was replaced by a number.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from . import catalogue, expr, profiles, spec, structure
from .catalogue import CATALOGUE, Instance
from .model import BLANK_RULE, Finding, Severity, Tally

PASS, FAIL = "通过", "不通过"
SHEET = spec.SUMMARY_SHEET
TITLE = "校验汇总：表二、表三、表四数字的检查（随填随算）"
#: what the sheet cannot judge, and how to get the full check (a clerk without the add-in included)
NOTE = ("本表只检查表格中的数字。正文是否齐全、引用的数字是否与表格一致、表格是否被改动、是否按时发布等，"
        "请在装有“政务公开年报”加载项的电脑上点“校验”，或把工作簿交县政务公开办全面检查。")
#: columns of the check rows; 检查编号 and 不通过序号 are for the tools and hidden
HEADERS = ("序号", "检查编号", "规则", "不通过时的级别", "检查内容", "工作表", "单元格", "行", "列", "状态", "不通过序号")
WIDTHS = (5, 30, 5, 8, 36, 7, 16, 46, 26, 8, 6)
#: the 1-based column of each header after 序号
COL_ID, COL_RULE, COL_SEVERITY, COL_TITLE, COL_SHEET, COL_CELLS, COL_ROW, COL_COL, COL_STATE, COL_ORDER = range(2, 12)
HIDDEN_COLS = (COL_ID, COL_ORDER)
#: the top of 校验汇总: title, the overall line, the note, then the failing checks listed by formulas
TITLE_ROW, OVERALL_ROW, NOTE_ROW = 1, 2, 3
FAILING_TITLE_ROW, FAILING_HEADER_ROW, FAILING_FIRST_ROW, FAILING_ROWS = 4, 5, 6, 20
FAILING_MORE_ROW = FAILING_FIRST_ROW + FAILING_ROWS
#: the full list: one row per check
ALL_TITLE_ROW = FAILING_MORE_ROW + 2
HEADER_ROW = ALL_TITLE_ROW + 1
FIRST_ROW = HEADER_ROW + 1
#: the cell of each table sheet that shows its status line, and the line under it naming failing identities
STATUS_ROW, IDENTITY_ROW = structure.STATUS_ROW, structure.IDENTITY_ROW
TABLE_OK = "本表校验通过"
TABLE_WARNINGS_ONLY = "本表有 0 处错误"  # the status line's start when only warnings or blanks remain (amber)
SEE_SUMMARY = f"，详见“{SHEET}”"
EPS = "0.000000001"

#: how a live catalogue entry that judges one input cell is compiled: (the kind of cell it applies to, formula kind);
#: every other live entry is compiled from its arithmetic instances
CELL_CHECKS: dict[str, tuple[spec.Kind, str]] = {
    "V1": (spec.Kind.COUNT, "count"), "V2": (spec.Kind.MONEY, "money"), "V2.yuan": (spec.Kind.MONEY, "yuan")}
#: the live entry judged once per table row: some input of the row is blank (counted by its blank cells: Tally)
ROW_CHECK = BLANK_RULE


@dataclass(frozen=True)
class Settings:
    """What a rule profile changes of the live checks (:func:`settings_of`): the live entries it switches off, the
    level it gives an entry (where it differs from the catalogue's) and V2.yuan's bar. Hashable, so that every
    compiled piece is computed once per settings; :data:`NATIONAL` is the national template's."""

    off: frozenset[str] = frozenset()
    levels: tuple[tuple[str, Severity], ...] = ()
    yuan: int | float = catalogue.YUAN_THRESHOLD

    def severity(self, code: str) -> Severity:
        return dict(self.levels).get(code, CATALOGUE[code].severity)

    @property
    def national(self) -> bool:
        return self == NATIONAL

    def to_json(self) -> dict[str, object]:
        """The settings as plain JSON (recorded in a template built under a profile: :mod:`xl_addin.hidden`)."""
        return {"off": sorted(self.off), "levels": {c: s.value for c, s in self.levels}, "yuan": self.yuan}

    @classmethod
    def from_json(cls, raw: object) -> Settings | None:
        """The settings a workbook records (untrusted: anything but what :meth:`to_json` writes is None)."""
        codes = catalogue.live_codes()
        if not isinstance(raw, dict) or set(raw) != {"off", "levels", "yuan"}:
            return None
        off, levels, yuan = raw["off"], raw["levels"], raw["yuan"]
        if not (isinstance(off, list) and all(isinstance(c, str) and c in codes and _switchable(c) for c in off)
                and isinstance(levels, dict) and all(c in codes for c in levels)
                and all(isinstance(v, str) and v in {s.value for s in Severity} for v in levels.values())
                and isinstance(yuan, int | float) and not isinstance(yuan, bool) and 0 < yuan < 1e12):
            return None
        return cls(frozenset(off), tuple(sorted((c, Severity(v)) for c, v in levels.items())), yuan)


def _switchable(code: str) -> bool:
    """Whether a rule profile may switch ``code``'s rule off (not a rule with an error-level entry: profiles.parse
    refuses those); settings that switch one off are none a template was built under (V1 off would leave the
    identities' guards without the count checks they refer to)."""
    return not any(e.severity is Severity.ERROR for e in catalogue.entries_of(CATALOGUE[code].rule))


#: the live checks of the national catalogue (the template built without a profile)
NATIONAL = Settings()
#: how many settings each compiled piece is kept for: a workbook's record chooses its settings (rules.live_settings),
#: so an unbounded cache would grow by ~0.4 MB with each distinct forged record a server is sent
SETTINGS_CACHE = 8


def settings_of(profile: profiles.Profile | None) -> Settings:
    """The live checks' settings under rule ``profile`` (None: national): a rule it switches off has no live check,
    a level it changes is the check's level, its ``V2.yuan.max_wan`` is the fee's bar."""
    if profile is None or profile.national:
        return NATIONAL
    codes = catalogue.live_codes()
    off = frozenset(c for c in codes if not profile.enabled(CATALOGUE[c].rule))
    levels = tuple(sorted((c, profile.severity(c)) for c in codes
                          if c not in off and profile.severity(c) is not CATALOGUE[c].severity))
    bar = profile.threshold("V2.yuan.max_wan", profiles.YUAN_BY_SCOPE)
    yuan = bar if isinstance(bar, int | float) and bar > 0 else catalogue.YUAN_THRESHOLD
    return Settings(off, levels, yuan)


@dataclass(frozen=True)
class LiveCheck:
    id: str
    code: str  # the catalogue entry
    anchor: str  # key of the cell a finding points at
    marks: tuple[str, ...]  # keys of the cells coloured when it fails
    labels: tuple[str, str]
    kind: str  # "count" | "money" | "yuan" | "arith"
    instance: Instance | None = None
    #: its level under the settings it was compiled for (the catalogue's, or the profile's)
    level: Severity | None = None
    yuan: int | float = catalogue.YUAN_THRESHOLD

    @property
    def rule(self) -> str:
        return CATALOGUE[self.code].rule

    @property
    def severity(self) -> Severity:
        return self.level or CATALOGUE[self.code].severity

    @property
    def title(self) -> str:
        return catalogue.yuan_title(self.yuan) if self.kind == "yuan" else CATALOGUE[self.code].title

    @property
    def sheet(self) -> str:
        return spec.LAYOUT.locations[self.anchor].sheet

    @property
    def cells(self) -> str:
        locs = [spec.LAYOUT.locations[k] for k in self.marks]
        return ",".join(_ranges(locs))


def _number(v: int | float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


def checks(s: Settings = NATIONAL) -> tuple[LiveCheck, ...]:
    """Every live check, one per (live catalogue entry, place it applies): the rows of 校验汇总 (under settings
    ``s``: a check switched off has no row, each has its level)."""
    return _checks(s)  # one cache entry per settings however it is called (checks() and checks(NATIONAL) alike)


@lru_cache(maxsize=SETTINGS_CACHE)
def _checks(s: Settings) -> tuple[LiveCheck, ...]:
    every = catalogue.live_codes()
    codes = tuple(c for c in every if c not in s.off)
    cell_codes = [c for c in codes if c in CELL_CHECKS]
    out: list[LiveCheck] = []
    for key in spec.INPUT_KEYS:
        for code in cell_codes:
            cell_kind, kind = CELL_CHECKS[code]
            if spec.DATA_CELLS[key].kind is cell_kind:
                out.append(LiveCheck(catalogue.check_id(code, key), code, key, (key,), spec.labels_of(key), kind,
                                     level=s.severity(code), yuan=s.yuan))
    arith = {inst.code for inst in catalogue.instances()}
    for inst in catalogue.instances():
        if inst.code in codes:
            out.append(LiveCheck(inst.id, inst.code, inst.anchor, inst.cells, inst.labels, "arith", inst,
                                 level=s.severity(inst.code)))
    if ROW_CHECK in codes:
        for keys in spec.input_rows():
            first = spec.DATA_CELLS[keys[0]]
            out.append(LiveCheck(catalogue.check_id(ROW_CHECK, keys[0]), ROW_CHECK, keys[0], keys,
                                 (first.row_label or first.col_label, ""), "blank", level=s.severity(ROW_CHECK)))
    uncompiled = set(every) - set(CELL_CHECKS) - arith - {ROW_CHECK}
    if uncompiled:  # a live entry the sheet cannot show: the catalogue and this module disagree
        raise ValueError(f"live catalogue entries without a formula: {sorted(uncompiled)}")
    return tuple(out)


def row_of(check_id: str, s: Settings = NATIONAL) -> int:
    return _rows(s)[check_id]


@lru_cache(maxsize=SETTINGS_CACHE)
def _rows(s: Settings) -> dict[str, int]:
    return {c.id: FIRST_ROW + i for i, c in enumerate(checks(s))}


def state_ref(check_id: str, *, absolute: bool = True, sheet: bool = True, s: Settings = NATIONAL) -> str:
    col = spec.col_letter(COL_STATE)
    row = row_of(check_id, s)
    a1 = f"${col}${row}" if absolute else f"{col}{row}"
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


def formula(check: LiveCheck, s: Settings = NATIONAL) -> str:
    """The state formula of one check (compiled under settings ``s``): exactly "通过" or "不通过"."""
    r = name(check.anchor)
    if check.kind == "count":
        return _state(f"NOT({count_ok(r)})")
    if check.kind == "money":
        return _state(f"NOT({money_ok(r)})")
    if check.kind == "yuan":
        return _state(f"IF(ISNUMBER({r}),AND({money_ok(r)},{r}>={_number(check.yuan)}),FALSE)")
    if check.kind == "blank":  # V3: some input of the row holds nothing (blank reads as 0, but shows nothing)
        return _state("OR(" + ",".join(f'{name(k)}=""' for k in check.marks) + ")")
    assert check.instance is not None
    cmp = check.instance.cmp
    # The validator skips an instance when a term is not a usable number (V1/V2 report the cell instead):
    # inputs behind it (their own checks pass), derived cells holding a valid count, last year's figures known.
    guards: list[str] = []
    inputs = [k for k in expr.input_keys(cmp.keys) if not k.startswith("prior.")]
    state_rows = sorted(row_of(_cell_check(k), s) for k in inputs)
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

def _last_row(s: Settings = NATIONAL) -> int:
    return FIRST_ROW + len(checks(s)) - 1


def _column(c: int, *, sheet: bool = False, s: Settings = NATIONAL) -> str:
    letter = spec.col_letter(c)
    rng = f"${letter}${FIRST_ROW}:${letter}${_last_row(s)}"
    return f"{quote(SHEET)}!{rng}" if sheet else rng


def summary_rows(s: Settings = NATIONAL) -> list[tuple[object, ...]]:
    """The rows of 校验汇总 from FIRST_ROW, one per check: its state formula, and the ordinal it has among the
    failing checks (the list at the top looks them up by it)."""
    state = spec.col_letter(COL_STATE)
    out: list[tuple[object, ...]] = []
    for i, c in enumerate(checks(s)):
        r = FIRST_ROW + i
        order = f'=IF({state}{r}="{FAIL}",COUNTIF(${state}${FIRST_ROW}:{state}{r},"{FAIL}"),"")'
        out.append((i + 1, c.id, c.rule, level_text(c), c.title, c.sheet, c.cells, row_label(c) or None,
                    c.labels[1] or None, formula(c, s), order))
    return out


#: the 不通过时的级别 of a blank-row check (ROW_CHECK) on 校验汇总: counted as blank cells, not as a warning (Tally)
BLANK_LEVEL = "未填"


def level_text(c: LiveCheck) -> str:
    """The 不通过时的级别 column of a check: its level's word, "未填" for a blank row at its national level (a
    warning) -- so that the rows a clerk counts there agree with the status lines and the headline ("0 处警告，尚有
    13 格未填"). A profile that makes a blank row an error (or a hint) has it shown and counted at that level, one
    per row (:class:`~xl_addin.model.Tally`): the word and the count agree."""
    return BLANK_LEVEL if c.rule == ROW_CHECK and c.severity is Severity.WARNING else c.severity.zh


def finding_level(f: Finding) -> str:
    """The level word a finding is listed under (校验结果, the command line): as :func:`level_text`."""
    return BLANK_LEVEL if f.rule == ROW_CHECK and f.severity is Severity.WARNING else f.severity.zh


def blank_groups(keys: Iterable[str]) -> dict[str, list[str]]:
    """The row labels of input cells ``keys`` in order, each with its keys: a 表四 row holds three groups
    (行政复议, 行政诉讼 未经复议直接起诉, 行政诉讼 复议后起诉)."""
    out: dict[str, list[str]] = {}
    for k in keys:
        cell = spec.DATA_CELLS[k]
        out.setdefault(cell.row_label or cell.col_label, []).append(k)
    return out


def row_label(c: LiveCheck) -> str:
    """The 行 of a check on 校验汇总: a blank-row check (ROW_CHECK) over several groups names, by formula, the
    groups that have blank cells (all of them while none has), as the validator's finding does."""
    groups = blank_groups(c.marks) if c.kind == "blank" else {}
    if len(groups) < 2:
        return c.labels[0]
    parts = "&".join(f'IF(OR({",".join(f"{name(k)}={chr(34) * 2}" for k in keys)}),"、{label}","")'
                     for label, keys in groups.items())
    return f'=IF({parts}="","{"、".join(groups)}",MID({parts},2,200))'


#: the columns the failing list at the top repeats (looked up by ordinal)
FAILING_COLUMNS = (COL_RULE, COL_SEVERITY, COL_TITLE, COL_SHEET, COL_CELLS, COL_ROW, COL_COL, COL_STATE)


def failing_rows(s: Settings = NATIONAL) -> list[tuple[object, ...]]:
    """Rows FAILING_FIRST_ROW.. of 校验汇总: the i-th failing check (or blanks), by formulas any spreadsheet computes."""
    order = _column(COL_ORDER, s=s)
    out: list[tuple[object, ...]] = []
    for i in range(1, FAILING_ROWS + 1):
        row: list[object] = [None] * len(HEADERS)
        row[0] = f'=IF(COUNTIF({order},{i})=0,"",{i})'
        for c in FAILING_COLUMNS:
            row[c - 1] = f'=IFERROR(INDEX({_column(c, s=s)},MATCH({i},{order},0))&"","")'
        out.append(tuple(row))
    return out


def failing_more_formula(s: Settings = NATIONAL) -> str:
    n = f'COUNTIF({_column(COL_STATE, s=s)},"{FAIL}")'
    return f'=IF({n}>{FAILING_ROWS},"…… 另有 "&({n}-{FAILING_ROWS})&" 项不通过，见下方完整清单（可在“状态”列筛选“{FAIL}”）","")'


#: how the headline of 校验汇总 and the command line's and the add-in's messages name what the live checks cover
TABLE_PART = "表格数字"


def overall_formula(s: Settings = NATIONAL) -> str:
    """校验汇总's headline: the :class:`~xl_addin.model.Tally` of every table sheet (the sum of their status lines),
    in the words of :func:`overall_text`."""
    e, w, k = _tally_terms(None, s)
    return (f'=IF({e}+{w}+{k}=0,"{TABLE_PART}的全部 {len(checks(s))} 项检查通过（正文等其他内容见下行说明）",'
            f'"{TABLE_PART}有 "&{_tally_words(e, w, k)}&"，不通过的检查列在下面")')


def overall_text(t: Tally, s: Settings = NATIONAL) -> str:
    """校验汇总's headline, as :func:`overall_formula` computes it, for the table part ``t`` (:func:`table_tally`)."""
    if t.clean:
        return f"{TABLE_PART}的全部 {len(checks(s))} 项检查通过（正文等其他内容见下行说明）"
    return f"{TABLE_PART}有 {t.zh()}，不通过的检查列在下面"


@cache
def check_ids() -> frozenset[str]:
    return frozenset(c.id for c in checks())


def table_tally(findings: Iterable[Finding], sheet: str | None = None) -> Tally:
    """The :class:`~xl_addin.model.Tally` of the findings the live checks make (of one table ``sheet``): what
    that sheet's status line, or (``sheet`` None) 校验汇总's headline, shows for the same workbook."""
    ids = check_ids()
    return Tally.of(f for f in findings if f.check in ids and (sheet is None or f.sheet == sheet))


def tally_line(findings: Iterable[Finding]) -> str:
    """How many problems a check found, as the command line, the add-in's alert and the server's answer say it:
    "共 3 处错误、2 处警告，尚有 13 格未填；其中表格数字 2 处错误、0 处警告，尚有 13 格未填（与“校验汇总”一致）"
    -- the whole :class:`~xl_addin.model.Tally`, then the part the workbook's own formulas count."""
    found = list(findings)
    total, table = Tally.of(found), table_tally(found)
    infos = f"，{total.infos} 处{Severity.INFO.zh}" if total.infos else ""
    return f"共 {total.zh()}{infos}；其中{TABLE_PART} {table.zh()}（与“{SHEET}”一致）"


def status_text(errors: int, warnings: int, blanks: int) -> str:
    """A table's status line, as :func:`status_formula` computes it in the sheet (for tools and tests)."""
    t = Tally(errors, warnings, blanks)
    return TABLE_OK if t.clean else f"本表有 {t.zh()}{SEE_SUMMARY}"


def input_ranges(sheet: str) -> list[str]:
    """A1 ranges of the input cells of a table sheet."""
    return _ranges([spec.LAYOUT.locations[k] for k in spec.INPUT_KEYS if spec.LAYOUT.locations[k].sheet == sheet])


def _tally_terms(sheet: str | None, s: Settings = NATIONAL) -> tuple[str, str, str]:
    """The Excel expressions of a :class:`~xl_addin.model.Tally`'s errors, warnings and blanks over the live checks
    (of one table ``sheet``; None: every table): failing checks of each level, a blank row (ROW_CHECK) at its
    national level counted by its blank input cells (at another level a profile gives it: by its level, one per
    row, as Tally counts it; switched off: not at all)."""
    where = f'{_column(COL_SHEET, sheet=True, s=s)},"{sheet}",' if sheet is not None else ""

    def n(sev: Severity, *extra: str) -> str:
        return (f'COUNTIFS({where}{_column(COL_SEVERITY, sheet=True, s=s)},"{sev.zh}",'
                f'{_column(COL_STATE, sheet=True, s=s)},"{FAIL}"{"".join(extra)})')

    sheets = [sheet] if sheet is not None else [t.sheet for t in spec.TABLES]
    k = "+".join(f"COUNTBLANK({quote(sh)}!{r})" if sheet is None else f"COUNTBLANK({r})"
                 for sh in sheets for r in input_ranges(sh))
    if ROW_CHECK in s.off or s.severity(ROW_CHECK) is not Severity.WARNING:
        k = "0"
    return n(Severity.ERROR), n(Severity.WARNING, f',{_column(COL_RULE, sheet=True, s=s)},"<>{ROW_CHECK}"'), k


def status_formula(sheet: str, s: Settings = NATIONAL) -> str:
    """"本表校验通过", or "本表有 N 处错误、M 处警告[，尚有 K 格未填]，详见“校验汇总”" (M: warnings other than blank
    rows; K: blank input cells): :func:`status_text` of the sheet's :func:`table_tally`."""
    e, w, k = _tally_terms(sheet, s)
    return f'=IF({e}+{w}+{k}=0,"{TABLE_OK}","本表有 "&{_tally_words(e, w, k)}&"{SEE_SUMMARY}")'


def _tally_words(e: str, w: str, k: str) -> str:
    """The Excel expression of :meth:`~xl_addin.model.Tally.zh` for the expressions ``e``, ``w``, ``k`` of
    :func:`_tally_terms`: "2 处错误、1 处警告[，尚有 13 格未填]"."""
    return (f'{e}&" 处{Severity.ERROR.zh}、"&{w}&" 处{Severity.WARNING.zh}"'
            f'&IF({k}>0,"，尚有 "&({k})&" 格未填","")')


def identity_texts(sheet: str, s: Settings = NATIONAL) -> list[tuple[str, str]]:
    """(check id, the identity in a few words) of the arithmetic checks of a table sheet."""
    out = []
    for c in checks(s):
        if c.kind == "arith" and c.sheet == sheet and c.instance is not None:
            out.append((c.id, CATALOGUE[c.code].short.format(**c.instance.values)))
    return out


def identity_text(failing_ids: set[str], sheet: str) -> str:
    """The identity line under a table's status line, as :func:`identity_formula` computes it."""
    parts = [text + "；" for i, text in identity_texts(sheet) if i in failing_ids]
    return "勾稽关系不符（紫色单元格）：" + "".join(parts) if parts else ""


def identity_formula(sheet: str, s: Settings = NATIONAL) -> str:
    """The failing identities of a table sheet in words (empty while all hold)."""
    items = identity_texts(sheet, s)
    if not items:
        return ""
    codes = sorted({CATALOGUE[c.code].rule for c in checks(s) if c.kind == "arith" and c.sheet == sheet})
    n = "+".join(f'COUNTIFS({_column(COL_SHEET, sheet=True, s=s)},"{sheet}",{_column(COL_RULE, sheet=True, s=s)},'
                 f'"{code}",{_column(COL_STATE, sheet=True, s=s)},"{FAIL}")' for code in codes)
    parts = "&".join(f'IF({state_ref(i, s=s)}="{FAIL}","{text}；","")' for i, text in items)
    return f'=IF({n}=0,"","勾稽关系不符（紫色单元格）："&{parts})'


class Mark(enum.StrEnum):
    """How a cell is coloured while a live check covering it fails (most urgent first)."""

    VALUE = "value"  # the cell holds a bad value (V1, V2): red
    IDENTITY = "identity"  # the cell is in an identity that does not hold (A1-A4, X1): purple
    WARNING = "warning"  # a warning (the fee in 元, A6, X2): amber
    BLANK = "blank"  # an input left blank (V3): amber


@dataclass(frozen=True)
class Colouring:
    sheet: str
    ranges: str  # space-separated A1 ranges (openpyxl's multi-range form)
    formula: str  # without "="; relative to the first cell of ``ranges`` for Mark.BLANK
    mark: Mark


def _mark(c: LiveCheck) -> Mark:
    if c.kind == "blank":
        return Mark.BLANK
    if c.severity is not Severity.ERROR:
        return Mark.WARNING
    return Mark.IDENTITY if c.kind == "arith" else Mark.VALUE


def colourings(s: Settings = NATIONAL) -> list[Colouring]:
    """Conditional formats: each marked cell takes the colour of the most urgent failing check covering it; a blank
    input is amber by itself. Cells with the same set of covering checks share one rule."""
    by_cell: dict[str, dict[Mark, list[str]]] = {}
    blank_sheets: dict[str, list[spec.Location]] = {}
    for c in checks(s):
        mark = _mark(c)
        if mark is Mark.BLANK:
            for k in c.marks:
                blank_sheets.setdefault(c.sheet, []).append(spec.LAYOUT.locations[k])
            continue
        for k in c.marks:
            by_cell.setdefault(k, {}).setdefault(mark, []).append(c.id)
    groups: dict[tuple[str, Mark, tuple[str, ...]], list[spec.Location]] = {}
    for key, mark_ids in by_cell.items():
        loc = spec.LAYOUT.locations[key]
        for mark, ids in mark_ids.items():
            groups.setdefault((loc.sheet, mark, tuple(ids)), []).append(loc)
    out: list[Colouring] = []
    for (sheet, mark, group), locs in groups.items():
        refs = [f'{state_ref(i, s=s)}="{FAIL}"' for i in group]
        f = refs[0] if len(refs) == 1 else "OR(" + ",".join(refs) + ")"
        out.append(Colouring(sheet, " ".join(_ranges(locs)), f, mark))
    for sheet, locs in blank_sheets.items():
        ranges = _ranges(locs)
        first = ranges[0].split(":")[0]
        # a blank cell an error by the profile is red, as its level says
        blank = Mark.VALUE if s.severity(ROW_CHECK) is Severity.ERROR else Mark.BLANK
        out.append(Colouring(sheet, " ".join(ranges), f'LEN({first})=0', blank))
    # the rule added first gets the highest priority and stops the others (stopIfTrue)
    order = list(Mark)
    return sorted(out, key=lambda c: (c.sheet, order.index(c.mark)))


def formula_cells(s: Settings = NATIONAL) -> dict[tuple[str, str], str]:
    """(sheet, A1) -> the formula the template puts there, of every cell that shows a check's result: the status
    and identity lines of the table sheets and the state of each check on 校验汇总 (S2 compares a workbook's).
    A template built under a profile has these cells or fewer (a check switched off has no row): the national
    ones are every cell a reader reads."""
    return _formula_cells(s)


@lru_cache(maxsize=SETTINGS_CACHE)
def _formula_cells(s: Settings) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for t in spec.TABLES:
        out[(t.sheet, f"A{STATUS_ROW}")] = status_formula(t.sheet, s)
        identity = identity_formula(t.sheet, s)
        if identity:
            out[(t.sheet, f"A{IDENTITY_ROW}")] = identity
    state = spec.col_letter(COL_STATE)
    for i, c in enumerate(checks(s)):
        out[(SHEET, f"{state}{FIRST_ROW + i}")] = formula(c, s)
    return out

