"""Checking one file: read it (a workbook, or a published report imported) and run every rule, never raising.

``xl-addin check`` runs :func:`check_files` over its files in order; the coordinator's pool (:mod:`xl_addin.bulk`)
runs :func:`check_file` in its workers. Kept apart from the pool so that a check does not load it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import rules
from .adapters.fileio import ReadError
from .model import CellValue, FileCheck, Inquiry, Report, ReportData

#: what is read as a workbook without asking the report reader (which loads the importer)
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx"})


@dataclass(frozen=True)
class Checked:
    """What checking one file gives: the :class:`FileCheck`, and for a readable file the data and the effective
    values the rules saw (the coordinator's roll-up sums those)."""

    result: FileCheck
    data: ReportData | None = None
    values: Mapping[str, int | float | None] | None = None


PriorOf = Callable[[ReportData], Mapping[str, CellValue] | None]


def read_file(path: str, *, reader: str = "fast", raw: bytes | None = None) -> ReportData:
    """One file read: a published report (web page, PDF, Word, text) imported, a workbook read by ``reader``.
    Raises ReadError."""
    if Path(path).suffix.lower() not in WORKBOOK_SUFFIXES:
        from .adapters.report_reader import import_report, is_report

        if is_report(path):
            return import_report(path).data
    if reader == "openpyxl":
        from .adapters.xlsx_reader import read_workbook

        return read_workbook(path)
    from .adapters.fast_reader import read_fast

    return read_fast(path, test_members=raw is None, data=raw)


def check_file(path: str, *, prior_of: PriorOf | None = None, reader: str = "fast", raw: bytes | None = None,
               memory: str = "可用内存") -> Checked:
    """Read one file and check it with every rule; never raises (a file that cannot be read comes back as its
    catalogue file error). ``prior_of``: last year's figures for the report read, if any; ``raw``: the file's
    bytes, already read (then read once from them, each part checked as it is read)."""
    try:
        data = read_file(path, reader=reader, raw=raw)
    except ReadError as exc:
        return Checked(FileCheck(path, error_code=exc.code, error=exc.reason))
    except MemoryError:
        err = ReadError(path, "out-of-memory", detail=memory)
        return Checked(FileCheck(path, error_code=err.code, error=err.reason))
    except Exception as exc:  # a file no reader anticipated must not stop the run
        err = ReadError(path, "unexpected", detail=type(exc).__name__)
        return Checked(FileCheck(path, error_code=err.code, error=err.reason))
    prior = prior_of(data) if prior_of is not None else None
    if prior:
        data = dataclasses.replace(data, prior={**data.prior, **prior})
    ctx = rules.Context(data)
    report = Report.of(path, rules.validate(data, context=ctx))
    return Checked(FileCheck(path, report), data, ctx.values)


def check_files(paths: Iterable[str | os.PathLike[str]], *, prior: Mapping[str, CellValue] | None = None,
                reader: str = "fast") -> Inquiry:
    """Check every file in this process, in order (``xl-addin check``); ``prior``: last year's figures."""
    prior_of = (lambda _data: prior) if prior else None
    return Inquiry(tuple(check_file(str(p), prior_of=prior_of, reader=reader).result for p in paths))
