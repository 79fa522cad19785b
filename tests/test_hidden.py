"""The hidden sheet's property rows: written from one declaration (xl_addin.hidden), read back alike by the fast
reader, the openpyxl reader and the add-in, whatever each library returns for a cell."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import DATA

from xl_addin import __version__, fingerprint, hidden, spec
from xl_addin.adapters.fast_reader import read_fast
from xl_addin.adapters.xlsx_reader import read_workbook


def addin_props(path: Path) -> dict[str, str]:
    """The properties as the add-in reads them: the hidden sheet's values through xlwings (its remote engine)."""
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    xw = pytest.importorskip("xlwings")
    from xlwings_payload import payload_from_xlsx

    from xl_addin import addin

    _, data = addin.Session(xw.Book(json=payload_from_xlsx(path))).report_data()
    return dict(data.props)


def test_the_template_writes_the_declared_rows(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    ws = wb[spec.HIDDEN_SHEET]
    written = [tuple(c for c in row) for row in ws.iter_rows(max_row=hidden.LAST_ROW, max_col=3, values_only=True)]
    wb.close()
    assert written == hidden.rows(hidden.values(fingerprint.fingerprint()))
    assert written[hidden.FIRST_ROW - 1][:2] == ("template_id", spec.TEMPLATE_ID)
    assert min(loc.row for key, loc in spec.LAYOUT.locations.items() if loc.sheet == spec.HIDDEN_SHEET) > hidden.LAST_ROW


def _typed_over(path: Path, out: Path) -> Path:
    """The template with numbers, a date and a blank typed over its property values."""
    wb = openpyxl.load_workbook(path)
    ws = wb[spec.HIDDEN_SHEET]
    row = {key: hidden.FIRST_ROW + i for i, (key, _) in enumerate(hidden.PROPS)}
    ws.cell(row["format_version"], 2, dt.datetime(2024, 1, 1))
    ws.cell(row["layout_version"], 2, 3)
    ws.cell(row["toolkit_version"], 2, 1.5)
    ws.cell(row["fingerprint"], 2).value = None
    wb.save(out)
    return out


@pytest.mark.parametrize("which", ["template", "sample", "libreoffice-saved", "typed over"])
def test_the_three_readers_read_the_same_properties(which: str, template: Path, sample: Path, tmp_path: Path) -> None:
    path = {"template": template, "sample": sample, "libreoffice-saved": DATA / "sample-libreoffice-saved.xlsx",
            "typed over": _typed_over(template, tmp_path / "typed-over.xlsx")}[which]
    props = read_workbook(path).props
    assert read_fast(path).props == props
    assert addin_props(path) == props
    if which == "typed over":
        assert props == {"template_id": spec.TEMPLATE_ID, "format_version": "2024-01-01", "layout_version": "3",
                         "toolkit_version": "1.5"}
    else:
        assert props["template_id"] == spec.TEMPLATE_ID and props["layout_version"] == str(spec.LAYOUT_VERSION)
        assert props["toolkit_version"] == __version__ and props["fingerprint"] == fingerprint.fingerprint()


def _grid(format_version: Any, layout_version: Any, blank: Any) -> list[list[Any]]:
    return [["key", "value"], ["template_id", spec.TEMPLATE_ID], ["format_version", format_version],
            ["layout_version", layout_version], ["toolkit_version", blank], ["fingerprint", "abc"],
            ["not_a_property", "x"]]


@pytest.mark.parametrize("library, grid", [
    ("openpyxl", _grid(dt.datetime(2024, 1, 1), 3, None)),
    ("calamine", _grid(dt.date(2024, 1, 1), 3.0, "")),
    ("xlwings", _grid(dt.datetime(2024, 1, 1), 3.0, None)),
])
def test_parse_reads_each_librarys_cells_alike(library: str, grid: list[list[Any]]) -> None:
    assert hidden.parse(grid) == {"template_id": spec.TEMPLATE_ID, "format_version": "2024-01-01",
                                  "layout_version": "3", "fingerprint": "abc"}


def test_parse_reads_only_the_property_rows() -> None:
    assert hidden.parse(None) == {} and hidden.parse([]) == {}
    assert hidden.parse([["template_id", "x"], ["key", "value"]]) == {}  # row 1 is the header
    assert hidden.parse([["key", "value"], ["template_id"], [3.0, "x"]]) == {}
    below = [["key", "value"], *[["", ""]] * len(hidden.PROPS), ["template_id", "x"]]
    assert hidden.parse(below) == {}
