"""The library's front door: one function per thing a user does. The command line, the add-in and the
collector call these; each takes paths and plain values and returns plain objects."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import derive, rules
from .adapters.fileio import ReadError
from .model import CellValue, Report, ReportData

if TYPE_CHECKING:
    from .adapters.xlsx_writer import Change

Reader = str  # "fast" (calamine + XML scan) or "openpyxl"


def read(path: str | os.PathLike[str], *, reader: Reader = "fast") -> ReportData:
    if reader == "openpyxl":
        from .adapters.xlsx_reader import read_workbook

        return read_workbook(path)
    from .adapters.fast_reader import read_fast

    return read_fast(path)


def last_year_figures(path: str | os.PathLike[str]) -> dict[str, CellValue]:
    """Last year's 结转下年度 and 现行有效件数 from last year's workbook, by this year's key."""
    return dict(derive.carry_forward(read(path)))


def check_data(data: ReportData, *, prior: Mapping[str, CellValue] | None = None) -> Report:
    if prior is not None:
        data = dataclasses.replace(data, prior={**data.prior, **prior})
    return Report.of(data.source, rules.validate(data))


def check(path: str | os.PathLike[str], *, last_year: str | os.PathLike[str] | None = None,
          reader: Reader = "fast") -> Report:
    """Every finding on one workbook. Raises ReadError when the file cannot be read."""
    prior = last_year_figures(last_year) if last_year is not None else None
    return check_data(read(path, reader=reader), prior=prior)


def build_template(out: str | os.PathLike[str], values: Mapping[str, CellValue] | None = None, *,
                   last_year: str | os.PathLike[str] | None = None) -> Path:
    from .adapters.template_builder import write_template

    prior = last_year_figures(last_year) if last_year is not None else None
    write_template(out, values, prior)
    return Path(out)


def fill(path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
         backup: bool = False) -> list[Change]:
    """Restore every derived total as its live formula; returns what changed (inputs are never touched)."""
    from .adapters.xlsx_writer import fill_totals

    return fill_totals(path, out, backup=backup)


def put(path: str | os.PathLike[str], values: Mapping[str, CellValue], out: str | os.PathLike[str]) -> Path:
    """Write input values (by key) into a copy of a template workbook, as a clerk would type them."""
    from .adapters.xlsx_writer import put_values

    put_values(path, values, out)
    return Path(out)


__all__ = ["ReadError", "build_template", "check", "check_data", "fill", "last_year_figures", "put", "read"]
