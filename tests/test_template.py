"""The locked template: a golden structural dump plus the properties a clerk and a printer rely on."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.cell.cell import MergedCell

from xl_addin import fingerprint, spec, structure

GOLDEN = Path(__file__).parent / "golden" / "template-structure.json"


def dump(path: Path) -> dict[str, Any]:
    """Everything the template owns, as plain JSON: texts, formulas, merges, locks, validations, names,
    protection and print settings of every sheet."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {"sheets": [], "names": {}, "structure_locked": bool(wb.security.lockStructure)}
    for name, dn in sorted(wb.defined_names.items()):
        out["names"][name] = dn.attr_text
    for ws in wb.worksheets:
        cells = {}
        unlocked = []
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    cells[c.coordinate] = c.value
                if not isinstance(c, MergedCell) and c.has_style and c.protection.locked is False:
                    unlocked.append(c.coordinate)
        if ws.title == spec.HIDDEN_SHEET:
            cells = {k: v for k, v in cells.items() if not (k.startswith("B") and "version" in str(cells.get("A" + k[1:])))}
        dvs = sorted([dv.type, dv.operator, dv.formula1, dv.formula2, str(dv.sqref), dv.promptTitle, dv.prompt,
                      dv.error, dv.showErrorMessage] for dv in ws.data_validations.dataValidation)
        p = ws.protection
        out["sheets"].append({
            "title": ws.title, "state": ws.sheet_state, "cells": cells, "merges": sorted(map(str, ws.merged_cells.ranges)),
            "unlocked": sorted(unlocked), "validations": dvs,
            "protection": {"sheet": p.sheet, "objects": p.objects, "scenarios": p.scenarios,
                           "formatRows": p.formatRows, "has_password": bool(p.password)},
            "print": {"paper": ws.page_setup.paperSize, "orientation": ws.page_setup.orientation,
                      "fitToWidth": ws.page_setup.fitToWidth, "fitToHeight": ws.page_setup.fitToHeight,
                      "titles": ws.print_title_rows, "area": ws.print_area},
            "widths": {k: d.width for k, d in sorted(ws.column_dimensions.items())},
        })
    return out


def test_template_matches_the_golden_structure(template: Path) -> None:
    """Any change of layout must be deliberate: regenerate with UPDATE_GOLDEN=1 and review the diff."""
    got = json.loads(json.dumps(dump(template), ensure_ascii=False, default=str))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert got == json.loads(GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def wb(template: Path) -> Any:
    return openpyxl.load_workbook(template)


def test_only_input_cells_are_unlocked_and_every_sheet_is_protected(wb: Any) -> None:
    exp = structure.expected()
    assert wb.security.lockStructure
    for ws in wb.worksheets:
        assert ws.protection.sheet and ws.protection.objects and ws.protection.scenarios, ws.title
        unlocked = {c.coordinate for row in ws.iter_rows() for c in row
                    if not isinstance(c, MergedCell) and c.has_style and c.protection.locked is False}
        assert unlocked == set(exp.unlocked.get(ws.title, ())), ws.title


def test_every_numeric_input_has_a_validation_with_the_rows_meaning(wb: Any) -> None:
    for key in spec.INPUT_KEYS:
        where = spec.LAYOUT.locations[key]
        ws = wb[where.sheet]
        dvs = [dv for dv in ws.data_validations.dataValidation if where.a1 in dv.sqref]
        assert len(dvs) == 1, key
        dv = dvs[0]
        cell = spec.DATA_CELLS[key]
        if cell.kind is spec.Kind.MONEY:
            assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")
            assert "万元" in dv.error
        else:
            assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0")
        assert dv.showErrorMessage and dv.showInputMessage and dv.errorStyle == "stop"
        assert dv.prompt == cell.help and len(dv.promptTitle) <= 32


def test_derived_cells_hold_formulas_are_locked_and_look_different(wb: Any) -> None:
    input_fill = wb["表三"]["D7"].fill.fgColor.rgb
    for key in spec.DERIVED_KEYS:
        where = spec.LAYOUT.locations[key]
        c = wb[where.sheet][where.a1]
        assert c.value == structure.expected().formulas[key]
        assert c.protection.locked is True
        assert c.fill.fgColor.rgb != input_fill
    assert wb["表三"]["J7"].value == "=SUM(D7:I7)"
    assert wb["表三"]["D30"].value == "=SUM(D9:D29)"
    assert wb["表四"]["E7"].value == "=SUM(A7:D7)"


def test_every_key_has_a_defined_name_pointing_at_its_cell(wb: Any) -> None:
    for key in spec.ALL_KEYS:
        where = spec.LAYOUT.locations[key]
        dests = list(wb.defined_names[spec.defined_name(key)].destinations)
        assert dests == [(where.sheet, f"${spec.col_letter(where.col)}${where.row}")]


def test_prints_on_a4_fitted_to_width_with_repeated_headers(wb: Any) -> None:
    for t in spec.TABLES:
        ws = wb[t.sheet]
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert wb["表三"].print_title_rows == "$4:$6"
    assert wb["表四"].page_setup.orientation == "landscape"
    assert {wb["表三"]["A7"].font.name, wb["正文"]["C3"].font.name} <= {"宋体", "仿宋"}


def test_hidden_sheet_records_template_identity(wb: Any) -> None:
    ws = wb[spec.HIDDEN_SHEET]
    assert ws.sheet_state == "hidden"
    props = {r[0]: r[1] for r in ws.iter_rows(min_row=2, max_row=6, values_only=True)}
    assert props["template_id"] == spec.TEMPLATE_ID and props["format_version"] == "2021"
    assert props["fingerprint"] == fingerprint.fingerprint()


def test_the_heads_that_may_break_are_official_labels_cut_between_their_words() -> None:
    """The web page and the template break a column head only where the official copies do: every entry is an
    official label of the tables, and its words put together are that label."""
    labels = {lab.text for t in spec.TABLES for lab in t.labels}
    for text, words in structure.HEAD_WORDS.items():
        assert text in labels and "".join(words) == text and len(words) > 1, text
    assert set(structure.SHEET_BROKEN_HEADS) <= set(structure.HEAD_WORDS)
