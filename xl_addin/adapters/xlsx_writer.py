"""Writes into an existing report workbook with openpyxl: input values by defined name (the importer's and the
tests' way of filling a template, as a clerk would) and the derived totals (``fill``).

Input cells are only ever written by :func:`put_values`; :func:`fill_totals` touches derived cells only.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import expr, spec, structure
from ..model import CellValue
from .fileio import ReadError, atomic_write, open_archive, outside_grid, sheet_parts
from .template_builder import put
from .xlsx_reader import NOT_OURS, ODS, _props, name_destinations


@dataclass(frozen=True)
class Change:
    key: str
    sheet: str
    cell: str
    old: str
    new: str

    @property
    def labels(self) -> tuple[str, str]:
        return spec.labels_of(self.key)


def _open(path: str | os.PathLike[str]) -> Any:
    """The workbook loaded whole by openpyxl, to be written back: within the load limit, and refused when a sheet
    reaches far beyond the template's grid (a writer must not drop what it cannot load)."""
    kind, zf = open_archive(path, load=True)
    with zf:
        if kind == "ods":
            raise ReadError(path, ODS)
        parts = sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        for part in parts:
            refs = outside_grid(zf.read(part))
            if refs:
                where = sheet_parts(zf).get(part, part)
                raise ReadError(path, "outside-grid", detail=f"工作表“{where}” " + "、".join(refs[:3]))
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path)
    except Exception as exc:  # openpyxl raises many kinds on broken parts
        raise ReadError(path, "corrupt", detail=type(exc).__name__) from None


def _cells(wb: Any, path: str | os.PathLike[str]) -> dict[str, Any]:
    """key -> openpyxl cell, found by defined name."""
    dests = name_destinations(wb)
    hidden = _props(wb[spec.HIDDEN_SHEET]) if spec.HIDDEN_SHEET in wb.sheetnames else {}
    if not structure.is_ours(len(dests), hidden.get("template_id")):
        raise ReadError(path, NOT_OURS)
    out = {}
    for key, (sheet, a1) in dests.items():
        if sheet in wb.sheetnames:
            out[key] = wb[sheet][a1]
    return out


def _save(wb: Any, out: str | os.PathLike[str]) -> None:
    atomic_write(out, wb.save)


def put_values(path: str | os.PathLike[str], values: Mapping[str, CellValue], out: str | os.PathLike[str],
               prior: Mapping[str, CellValue] | None = None) -> None:
    """Write input ``values`` (and last year's figures ``prior``) by key into a copy of the workbook at ``out``."""
    wb = _open(path)
    cells = _cells(wb, path)
    absent = [spec.labels_of(k)[0] for k in values if k not in cells and k not in spec.DERIVED_KEYS]
    if absent:  # e.g. a workbook of an earlier layout, which has no cell for a newer field
        raise ValueError(f"工作簿 {Path(path).name} 没有“{'”“'.join(absent)}”的单元格（可能由较早的模板制作），"
                         "请改用新模板，或去掉这些数据")
    for key, value in values.items():
        if key in spec.DERIVED_KEYS:
            raise ValueError(f"{key} is a derived cell")
        put(cells[key], value)  # a text as text, never a formula
        if key in spec.FIELDS_BY_KEY and spec.LAYOUT.locations[key].sheet == spec.NARRATIVE_SHEET:
            cell = cells[key]
            height = structure.narrative_row_height(str(value or ""))
            cell.parent.row_dimensions[cell.row].height = height
    for key, value in (prior or {}).items():
        put(cells[spec.prior_key(key)], value)
    _save(wb, out)


def fill_totals(path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
                backup: bool = False) -> list[Change]:
    """Write every derived cell whose formula is missing or wrong back as its live formula.

    Returns what changed; input cells are never touched. ``out`` defaults to ``path`` (in place), in which case
    ``backup`` keeps the original as ``FILE.bak``. Nothing is written when nothing needs repair and out is path.
    """
    wb = _open(path)
    cells = _cells(wb, path)
    locations = {k: spec.Location(c.parent.title, c.row, c.column) for k, c in cells.items()}
    changes: list[Change] = []
    for key in spec.DERIVED_KEYS:
        cell = cells.get(key)
        if cell is None:
            continue
        current = cell.value
        if isinstance(current, str) and current.startswith("=") and \
                expr.formula_is_intact(key, current, {**spec.LAYOUT.locations, **locations}):
            continue
        formula = expr.sum_formula(locations[k] for k in spec.DATA_CELLS[key].sum_of)
        changes.append(Change(key, cell.parent.title, cell.coordinate, "" if current is None else str(current),
                              formula))
        cell.value = formula
    target = Path(out) if out is not None else Path(path)
    in_place = target.resolve() == Path(path).resolve()
    if in_place and not changes:
        return changes
    if in_place and backup:
        shutil.copy2(path, str(path) + ".bak")
    _save(wb, target)
    return changes
