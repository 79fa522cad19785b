"""Plain data the core works on: the report snapshot, findings and the report of a check.

No openpyxl, xlwings or docx object ever reaches this module.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from . import spec

#: what a cell can hold once read: number, text, date, or blank (None)
CellValue = int | float | str | bool | dt.date | dt.datetime | None


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def zh(self) -> str:
        """The one Chinese word for the level, everywhere (sheet, messages, reports)."""
        return _SEVERITY_ZH[self]

    @property
    def rank(self) -> int:
        """0 for the most serious: findings are listed, and a cell marked, by this order."""
        return _SEVERITY_RANK[self]


_SEVERITY_ZH = {Severity.ERROR: "错误", Severity.WARNING: "警告", Severity.INFO: "提示"}
_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Structure:
    """What the template owns, as found in a workbook (for S2). Built by a reader adapter."""

    sheets: tuple[str, ...]
    labels: Mapping[tuple[str, str], CellValue]  # (sheet, A1) -> value of every label cell of the spec
    merges: Mapping[str, frozenset[str]]  # sheet -> merged ranges
    unlocked: Mapping[str, frozenset[str]]  # sheet -> unlocked cells (A1)
    sheet_protected: Mapping[str, bool]
    structure_locked: bool
    fingerprint: str | None = None
    #: sheet -> cells far beyond the template's grid and oversized merges, left out of the read (S2)
    outside: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: keys whose defined name is missing (read at the template's own place instead)
    unnamed: frozenset[str] = frozenset()
    #: (sheet, A1) -> the formula found there ("=...") or "" for none, of every cell live.formula_cells names
    live: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: sheet -> A1 -> the type of the data validation on the cell ("whole", "list" ...), for the sheets the
    #: template owns
    validations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: the layout version of the workbook (:func:`~xl_addin.spec.layout_version`): S2 compares it with that layout
    layout_version: int = spec.LAYOUT_VERSION


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """{"error": n, "warning": n, "info": n} of ``findings``."""
    c = Counter(f.severity.value for f in findings)
    return {s.value: c.get(s.value, 0) for s in Severity}


#: the rule of a table row with input cells left blank: counted by its blank cells ("N 格未填"), not as a warning
BLANK_RULE = "V3"


@dataclass(frozen=True)
class Tally:
    """How many problems: the one way of counting that every place shows -- the status line of each table sheet
    and the headline of 校验汇总 (in-sheet formulas, :mod:`xl_addin.live`), the add-in's alert, the command line
    and the server's answer. Errors and warnings are findings of that level, except that a row with blank input
    cells (:data:`BLANK_RULE`, a warning) counts as its blank cells (``blanks``) and not as a warning."""

    errors: int = 0
    warnings: int = 0
    blanks: int = 0
    infos: int = 0

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Tally:
        e = w = k = i = 0
        for f in findings:
            if f.rule == BLANK_RULE and f.severity is Severity.WARNING:
                n = f.values.get("n")
                k += n if isinstance(n, int) and not isinstance(n, bool) else 1
            elif f.severity is Severity.ERROR:
                e += 1
            elif f.severity is Severity.WARNING:
                w += 1
            else:
                i += 1
        return cls(e, w, k, i)

    @property
    def clean(self) -> bool:
        """Nothing to correct or fill in (hints aside)."""
        return self.errors + self.warnings + self.blanks == 0

    def zh(self) -> str:
        """"2 处错误、1 处警告，尚有 13 格未填" (the blank part only when some are): the words of the status lines,
        of 校验汇总's headline, and of every message that counts problems."""
        return f"{self.errors} 处{Severity.ERROR.zh}、{self.warnings} 处{Severity.WARNING.zh}{self.blanks_zh()}"

    def blanks_zh(self) -> str:
        """"，尚有 13 格未填", or "" when no input cell is blank: the blank part of :meth:`zh`."""
        return f"，尚有 {self.blanks} 格未填" if self.blanks else ""

    def to_dict(self) -> dict[str, int]:
        return {"errors": self.errors, "warnings": self.warnings, "blanks": self.blanks, "infos": self.infos}


def has_error(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


#: the entry of ``ReportData.props`` where the importer of published reports leaves what it found (JSON)
IMPORT_PROPS_KEY = "import"


@dataclass(frozen=True)
class ReportData:
    """A snapshot of one report: values by key (see :mod:`xl_addin.spec`), where they were found, and the file's
    own notes about itself."""

    values: Mapping[str, CellValue]
    #: keys whose cell holds a formula, with its text ("=SUM(...)")
    formulas: Mapping[str, str] = field(default_factory=dict)
    #: where each key was found (by defined name); defaults to the template layout
    locations: Mapping[str, spec.Location] = field(default_factory=lambda: spec.LAYOUT.locations)
    #: keys whose cell could not be found (sheet deleted, name broken)
    missing: frozenset[str] = frozenset()
    #: last year's values of spec.PRIOR_KEYS (by this year's key), from hidden cells or last year's workbook
    prior: Mapping[str, CellValue] = field(default_factory=dict)
    props: Mapping[str, str] = field(default_factory=dict)
    structure: Structure | None = None
    source: str = ""

    def get(self, key: str) -> CellValue:
        return self.values.get(key)

    def text(self, key: str) -> str:
        v = self.values.get(key)
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v).strip()

    def location(self, key: str) -> spec.Location:
        return self.locations.get(key) or spec.LAYOUT.locations[key]

    @property
    def agency(self) -> str:
        return self.text("meta.agency")

    @property
    def year(self) -> int | None:
        return as_year(self.values.get("meta.year"))

    @property
    def report_date(self) -> dt.date | None:
        return as_date(self.values.get("meta.report_date"))


def as_year(v: CellValue) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float) and float(v).is_integer():
        return int(v)
    if isinstance(v, str):
        s = v.strip().rstrip("年").translate(_FULLWIDTH_DIGITS)
        if s.isdecimal() and len(s) == 4:  # not isdigit: "²⁰²³" is digits int() cannot read
            return int(s)
    return None


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９－／．", "0123456789-/.")


def as_date(v: CellValue) -> dt.date | None:
    """A date from a cell: a real date, an Excel serial number, or text like 2024-01-17 / 2024年1月17日."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float) and 20000 < v < 80000:
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(v))
    if isinstance(v, str):
        s = v.strip().translate(_FULLWIDTH_DIGITS)
        for sep in ("年", "月", "日", "/", ".", "-"):
            s = s.replace(sep, " ")
        parts = s.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    sheet: str
    cell: str  # A1 cell or range ("D7", "D7:I7"); "" for the whole workbook
    labels: tuple[str, ...]  # official row label, column label (may be empty)
    values: Mapping[str, Any]
    message: str
    key: str = ""  # the spec key of the anchor cell, when there is one
    check: str = ""  # the rule instance that raised it ("A3:natural", "V1:t3.granted.natural"); see live.py
    code: str = ""  # the catalogue entry ("S2.literal"; the rule id for a rule's main variant)
    #: the rule profile that asked for it (xl_addin.profiles: a local requirement, a level or a threshold it set);
    #: "" for the national catalogue
    profile: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        d["labels"] = list(self.labels)
        d["values"] = {k: _jsonable(v) for k, v in self.values.items()}
        del d["key"], d["check"]
        d["code"] = self.code or self.rule
        if not self.profile:  # the national catalogue's findings keep the shape they always had
            del d["profile"]
        return d

    @property
    def where(self) -> str:
        if not self.sheet:
            return ""
        return f"{self.sheet}!{self.cell}" if self.cell else self.sheet


def _jsonable(v: Any) -> Any:
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v


@dataclass(frozen=True)
class Report:
    """All findings of one check of one file (never stops at the first)."""

    path: str
    findings: tuple[Finding, ...]

    @classmethod
    def of(cls, path: str, findings: Iterable[Finding]) -> Report:
        return cls(path, tuple(sorted(findings, key=lambda f: f.severity.rank)))

    @property
    def counts(self) -> dict[str, int]:
        return severity_counts(self.findings)

    @property
    def valid(self) -> bool:
        return not has_error(self.findings)

    def by_rule(self, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule]

    @property
    def tally(self) -> Tally:
        """How many problems, counted as everywhere (:class:`Tally`)."""
        return Tally.of(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "valid": self.valid, "counts": self.counts, "tally": self.tally.to_dict(),
                "findings": [f.to_dict() for f in self.findings]}

    def summary_zh(self) -> str:
        t = self.tally
        verdict = "通过" if self.valid else "不通过"
        return f"{verdict}：{t.zh()}" + (f"，{t.infos} 处{Severity.INFO.zh}" if t.infos else "")


@dataclass(frozen=True)
class FileCheck:
    """The check of one file: its :class:`Report`, or why it could not be read (a catalogue file error)."""

    path: str
    report: Report | None = None
    error_code: str = ""  # xl_addin.catalogue.FILE_ERRORS
    error: str = ""  # the Chinese reason and fix

    @property
    def readable(self) -> bool:
        return self.report is not None

    @property
    def valid(self) -> bool:
        return self.report is not None and self.report.valid

    def to_dict(self) -> dict[str, Any]:
        if self.report is not None:
            return self.report.to_dict()
        return {"path": self.path, "valid": False, "error": self.error, "error_code": self.error_code,
                "counts": severity_counts(()), "findings": []}


#: exit codes of a batch check: no error finding; an error finding; a file that could not be read
EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


@dataclass(frozen=True)
class Inquiry:
    """A batch check: one :class:`FileCheck` per file, in the order asked (frictionless' Inquiry report)."""

    files: tuple[FileCheck, ...]

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.files)

    @property
    def exit_code(self) -> int:
        if any(not f.readable for f in self.files):
            return EXIT_UNREADABLE
        return EXIT_OK if self.valid else EXIT_FINDINGS

    def to_dict(self) -> dict[str, Any]:
        return {"files": [f.to_dict() for f in self.files]}
