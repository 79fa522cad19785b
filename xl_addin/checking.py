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
from .catalogue import file_error
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


def memory_detail(memory_mb: int = 0) -> str:
    """What the out-of-memory file error says ran out: the limit a file's read had (MB), or 0: the memory there was."""
    return f"{memory_mb} MB" if memory_mb > 0 else "可用内存"


def read_workbook(path: str | os.PathLike[str], *, reader: str = "fast", raw: bytes | None = None,
                  test_members: bool = True) -> ReportData:
    """One workbook read by ``reader`` ("fast": calamine and an XML scan; "openpyxl"). ``raw``: the file's bytes,
    already read (the fast reader reads from them); ``test_members=False`` (bulk): the archive's members are not
    checksum-tested up front, each part read is checked as it is read. Raises ReadError."""
    if reader == "openpyxl":
        from .adapters.xlsx_reader import read_workbook as by_openpyxl

        return by_openpyxl(path)
    from .adapters.fast_reader import read_fast

    return read_fast(path, test_members=test_members, data=raw)


def read_file(path: str | os.PathLike[str], *, reader: str = "fast", raw: bytes | None = None,
              test_members: bool = True) -> ReportData:
    """One file read: a published report (web page, PDF, Word, text) imported, a workbook read by
    :func:`read_workbook`. ``raw``: the file's bytes, already read (then not read again). Raises ReadError."""
    if Path(path).suffix.lower() not in WORKBOOK_SUFFIXES:
        from .adapters.report_reader import import_report, is_report

        if is_report(path):
            return import_report(path, data=raw).data
    return read_workbook(path, reader=reader, raw=raw, test_members=test_members)


def with_prior(data: ReportData, prior: Mapping[str, CellValue] | None) -> ReportData:
    """``data`` with last year's figures (and texts) ``prior`` added over those it carries."""
    return dataclasses.replace(data, prior={**data.prior, **prior}) if prior else data


def check_data(data: ReportData, *, prior: Mapping[str, CellValue] | None = None, path: str | None = None) -> Checked:
    """Every rule on ``data`` with ``prior`` added (:func:`with_prior`), as the check of ``path`` (None: the
    data's source)."""
    data = with_prior(data, prior)
    where = data.source if path is None else path
    ctx = rules.Context(data)
    report = Report.of(where, rules.validate(data, context=ctx))
    return Checked(FileCheck(where, report), data, ctx.values)


def _unread(path: str, code: str, detail: str = "") -> Checked:
    return Checked(FileCheck(path, error_code=code, error=file_error(code).text(detail=detail)))


def check_file(path: str, *, prior_of: PriorOf | None = None, reader: str = "fast", raw: bytes | None = None,
               test_members: bool = True, memory_mb: int = 0) -> Checked:
    """Read one file and check it with every rule; never raises (a file that cannot be read comes back as its
    catalogue file error). ``prior_of``: last year's figures for the report read, if any; ``raw``,
    ``test_members``: as :func:`read_file` takes them; ``memory_mb``: the memory limit the read runs under (0:
    none), for the out-of-memory error."""
    try:
        data = read_file(path, reader=reader, raw=raw, test_members=test_members)
    except ReadError as exc:
        return Checked(FileCheck(path, error_code=exc.code, error=exc.reason))
    except MemoryError:
        return _unread(path, "out-of-memory", memory_detail(memory_mb))
    except Exception as exc:  # a file no reader anticipated must not stop the run
        return _unread(path, "unexpected", type(exc).__name__)
    return check_data(data, prior=prior_of(data) if prior_of is not None else None, path=path)


def check_files(paths: Iterable[str | os.PathLike[str]], *, prior: Mapping[str, CellValue] | None = None,
                reader: str = "fast") -> Inquiry:
    """Check every file in this process, in order (``xl-addin check``); ``prior``: last year's figures."""
    prior_of = (lambda _data: prior) if prior else None
    return Inquiry(tuple(check_file(str(p), prior_of=prior_of, reader=reader).result for p in paths))
