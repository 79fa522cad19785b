"""The request body xlwings' VBA client (``Remote.bas``, ``RunServerPython``) sends for a workbook, built from a
file on disk: book name, every worksheet's values from A1 to the end of its used range, and the workbook's
defined names. ``xw.Book(json=payload_from_xlsx(path))`` then gives xlwings' remote engine a book to run the
add-in's functions against on Linux (tests, benchmark).

Excel sends cell *values*: a formula cell arrives as its computed result. openpyxl-written files carry no cached
results, so the derived totals are computed here as Excel would (other formula cells, such as the live check
texts, arrive as blanks -- the add-in never reads them).
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from pathlib import Path
from typing import Any

from xl_addin import spec

_FORMULA = object()  # a formula cell, until its value is known


def _json_value(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        if not isinstance(v, dt.datetime):
            v = dt.datetime(v.year, v.month, v.day)
        return v.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # WebHelpers.ConvertToIso
    if isinstance(v, str) and v.startswith("="):
        return _FORMULA
    if v == "":
        return None
    return v


def payload_from_xlsx(path: str | os.PathLike[str], *, name: str | None = None, active_sheet: int = 0,
                      data_only: bool = False) -> dict[str, Any]:
    """``data_only``: a workbook whose formula results are saved in it (e.g. recalculated and saved by
    LibreOffice): those results are sent, as Excel would send them."""
    import openpyxl
    from openpyxl.utils import range_boundaries
    from xlwings import __version__ as xlwings_version

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, data_only=data_only)
    try:
        sheets = list(wb.worksheets)
        index = {ws.title: i for i, ws in enumerate(sheets)}
        names = []
        for dn_name, dn in wb.defined_names.items():
            dest = next(iter(dn.destinations), None)
            if dest is None or dest[0] not in index:
                continue
            names.append({"name": dn_name, "sheet_index": index[dest[0]], "address": dest[1].replace("$", ""),
                          "book_scope": True, "scope_sheet_name": None, "scope_sheet_index": None})
        locations = {k: (loc.sheet, loc.row, loc.col) for k, loc in spec.LAYOUT.locations.items()}
        for n in names:
            key = spec.key_of_name(n["name"])
            if key is not None and ":" not in n["address"]:
                min_col, min_row, _, _ = range_boundaries(n["address"])
                locations[key] = (sheets[n["sheet_index"]].title, min_row, min_col)
        grids = {}
        for ws in sheets:
            rows = [[_json_value(c.value) for c in row] for row in ws.iter_rows(min_row=1, min_col=1)]
            grids[ws.title] = rows
        if not data_only:
            _fill_totals(grids, locations)
        sheets_payload = [{"name": ws.title, "pictures": [], "tables": [], "values": grids[ws.title] or [[]]}
                          for ws in sheets]
    finally:
        wb.close()
    return {"client": "VBA", "version": xlwings_version,
            "book": {"name": name or Path(path).name, "active_sheet_index": active_sheet, "selection": "A1"},
            "names": names, "sheets": sheets_payload}


def _fill_totals(grids: dict[str, list[list[Any]]], locations: dict[str, tuple[str, int, int]]) -> None:
    """Put into each derived cell what Excel's SUM shows for it (text and blanks count 0); any other formula cell
    arrives blank."""
    def get(key: str) -> Any:
        sheet, r, c = locations[key]
        g = grids.get(sheet, [])
        return g[r - 1][c - 1] if r <= len(g) and c <= len(g[r - 1]) else None

    def total(key: str) -> float | int:
        cell = spec.DATA_CELLS[key]
        if not cell.derived:
            v = get(key)
            return v if isinstance(v, int | float) and not isinstance(v, bool) else 0
        return sum(total(k) for k in cell.sum_of)

    for key in spec.DERIVED_KEYS:
        sheet, r, c = locations[key]
        g = grids.get(sheet, [])
        if r <= len(g) and c <= len(g[r - 1]) and g[r - 1][c - 1] is _FORMULA:
            g[r - 1][c - 1] = total(key)
    for g in grids.values():
        for row in g:
            for i, v in enumerate(row):
                if v is _FORMULA:
                    row[i] = None
