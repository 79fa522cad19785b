"""Reads a filled workbook into a :class:`~xl_addin.model.ReportData` with openpyxl.

Cells are found by their defined names (see :func:`xl_addin.spec.defined_name`), never by coordinates, so a
later template version may move them. Formulas are read as text; cached values are never trusted.
:func:`assemble` is shared with the fast reader, so both produce the same snapshot.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
import warnings
import zipfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import hidden, live, spec, structure
from ..importers.record import EVIDENCE_SHEET, MAX_ROWS
from ..importers.record import evidence as import_evidence
from ..model import CellValue, ReportData, Structure
from .fileio import ReadError, open_archive, sheet_parts, validated_cells, without_outside

#: (sheet, A1) -> (value, formula text or None)
CellGetter = Callable[[str, str], tuple[CellValue, str | None]]

#: the catalogue's file errors these readers raise by name (xl_addin.catalogue.FILE_ERRORS)
NOT_OURS, ODS = "not-ours", "ods"


def parse_ref(ref: str) -> tuple[str, str] | None:
    """``'表三'!$D$7`` -> ("表三", "D7"); None for anything else (#REF!, ranges on several sheets)."""
    if "!" not in ref:
        return None
    sheet, cell = ref.rsplit("!", 1)
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    cell = cell.replace("$", "").split(":")[0]
    if not cell[:1].isalpha() or not cell[-1:].isdigit() or "#" in sheet:
        return None
    return sheet, cell


@functools.cache
def _keys(version: int) -> tuple[tuple[str, spec.Location, tuple[str, str], str | None], ...]:
    """(key, template location, (sheet, A1) there, name in ReportData.prior or None) of every key of the template
    of layout ``version``, in spec order."""
    return tuple((key, loc, (loc.sheet, loc.a1), key[len("prior."):] if key.startswith("prior.") else None)
                 for key, loc in spec.layout_of(version).locations.items())


@functools.cache
def _not_in_layout(version: int) -> frozenset[str]:
    """This build's keys that the template of layout ``version`` has no cell for (missing, not blank)."""
    return frozenset(spec.LAYOUT.locations) - frozenset(spec.layout_of(version).locations)


def unnamed(dests: Collection[str], version: int) -> frozenset[str]:
    """The keys of the template of layout ``version`` that have no defined name among ``dests`` (S2.names)."""
    return frozenset(k for k in spec.layout_of(version).locations if k not in dests)


def _named(default: spec.Location, sheet: str, a1: str) -> spec.Location:
    """Where a key's defined name puts it (a cell of the size its template place has)."""
    r, c = spec.cell_index(a1)
    return spec.Location(sheet, r, c, default.colspan)


def locations_of(dests: Mapping[str, tuple[str, str]], version: int) -> dict[str, spec.Location]:
    """key -> where it is in a workbook of layout ``version``: where its defined name points (``dests``), else its
    place in that layout; a key that layout has no cell for is left out."""
    return {key: _named(default, *dests[key]) if key in dests else default
            for key, default in spec.layout_of(version).locations.items()}


@dataclass(frozen=True)
class Reads:
    """Where :func:`assemble` reads each key, given a workbook's names and sheets (see :func:`reads`)."""

    #: (sheet, A1, row index, column index) of each cell read, 0-based indexes
    places: tuple[tuple[str, str, int, int], ...]
    #: per place: (key, its name in ReportData.prior or None, its Location when the name moved it else None)
    keys: tuple[tuple[str, str | None, spec.Location | None], ...]
    #: keys whose sheet is not in the workbook
    missing: frozenset[str]


def reads(dests: Mapping[str, tuple[str, str]], sheets: Collection[str], version: int = spec.LAYOUT_VERSION) -> Reads:
    """Each key's cell: where its defined name points (``dests``), else its place in the template of layout
    ``version``; none when that sheet is not among ``sheets``, or that template has no cell for it."""
    places: list[tuple[str, str, int, int]] = []
    keys: list[tuple[str, str | None, spec.Location | None]] = []
    missing: set[str] = set(_not_in_layout(version))
    for key, default, at, prior_name in _keys(version):
        sheet, a1 = dests.get(key, at)
        if sheet not in sheets:
            if prior_name is None:
                missing.add(key)
            continue
        places.append((sheet, a1, *_index(a1)))
        moved = None
        if prior_name is None and (sheet != at[0] or a1 != at[1]):  # else the template's place, as is
            moved = _named(default, sheet, a1)
        keys.append((key, prior_name, moved))
    return Reads(tuple(places), tuple(keys), frozenset(missing))


#: the values and formulas of many cells at once: [(value, formula text or None)] for [(sheet, A1, row index,
#: column index)]
CellsGetter = Callable[[Sequence[tuple[str, str, int, int]]], Sequence[tuple[CellValue, str | None]]]


def assemble(path: str, dests: dict[str, tuple[str, str]], sheets: set[str], cell: CellGetter,
             props: dict[str, str], build_structure: Callable[[dict[str, str], int], Structure] | None, *,
             plan: Callable[[int], Reads] | None = None, cells: CellsGetter | None = None,
             evidence: Sequence[Sequence[object]] | None = None) -> ReportData:
    """The ReportData of a workbook from what a reader found. ``build_structure``: what the template owns, as
    found, given the props and the workbook's layout version; ``plan``: gives :func:`reads` of ``dests`` and
    ``sheets`` for a layout version when the reader keeps it; ``cells``: a way to get many cells at once, instead
    of ``cell`` for each; ``evidence``: the cell values of the import's evidence sheet, if the workbook has one
    (:func:`xl_addin.importers.record.evidence` decides what of it the rules get)."""
    if not structure.is_ours(len(dests), props.get("template_id")):
        raise ReadError(path, NOT_OURS)
    version = spec.layout_version(props, dests)
    where = plan(version) if plan is not None else reads(dests, sheets, version)
    got = cells(where.places) if cells is not None else [cell(s, a) for s, a, _, _ in where.places]
    values: dict[str, CellValue] = {}
    formulas: dict[str, str] = {}
    locations = dict(spec.layout_of(version).locations)
    prior: dict[str, CellValue] = {}
    for (key, prior_name, moved), (value, formula) in zip(where.keys, got, strict=True):
        if isinstance(value, dt.datetime) and value.time() == dt.time():
            value = value.date()  # openpyxl gives datetimes, calamine dates, for the same date cell
        if prior_name is not None:
            prior[prior_name] = value
            continue
        if moved is not None:
            locations[key] = moved
        values[key] = value
        if formula is not None:
            formulas[key] = formula
    st = build_structure(props, version) if build_structure is not None else None
    missing = where.missing
    if evidence is not None:
        found = import_evidence(evidence, values, formulas, props.get("fingerprint"))
        if found is not None:
            props, missing = {**props, **found[0]}, missing | found[1]
    return ReportData(values=values, formulas=formulas, locations=locations, missing=missing,
                      prior=prior, props=props, structure=st, source=path)


def _index(a1: str) -> tuple[int, int]:
    """0-based (row, column) of an A1 reference (ValueError otherwise)."""
    r, c = spec.cell_index(a1)
    return r - 1, c - 1


def _load(path: str | os.PathLike[str]) -> tuple[Any, dict[str, tuple[str, ...]]]:
    """The workbook loaded by openpyxl (all of it: within the load limit), and sheet -> what was left out because
    it lies far beyond the template's grid (openpyxl would make a cell object for every cell of such a range)."""
    kind, zf = open_archive(path, load=True)
    with zf:
        if kind == "ods":
            raise ReadError(path, ODS)
        source: Any = path
        outside: dict[str, tuple[str, ...]] = {}
        cleaned = without_outside(zf, sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/")
                                             and n.endswith(".xml")))
        if cleaned is not None:
            data, found = cleaned
            source = io.BytesIO(data)
            names = sheet_parts(zf)
            outside = {names.get(part, part): tuple(refs) for part, refs in found.items()}
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it drops (we only read)
            wb = openpyxl.load_workbook(source, data_only=False, keep_links=False, rich_text=False)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, IndexError, AttributeError) as exc:
        raise ReadError(path, "corrupt", detail=type(exc).__name__) from None
    return wb, outside


def cell_value(c: Any) -> tuple[CellValue, str | None]:
    """(value, formula text or None) of an openpyxl cell: a formula only where the cell holds one (a text cell
    whose text starts with "=" is a text, as calamine reads it)."""
    v = c.value
    if isinstance(v, str):
        return (None, v) if c.data_type == "f" else ((v if v != "" else None), None)
    if v is None or isinstance(v, int | float | bool):
        return v, None
    text = getattr(v, "text", None)  # ArrayFormula / DataTableFormula
    if isinstance(text, str):
        return None, text if text.startswith("=") else "=" + text
    if hasattr(v, "isoformat"):
        return v, None
    return str(v), None


def name_destinations(wb: Any) -> dict[str, tuple[str, str]]:
    """key -> (sheet, A1) for every workbook-level defined name the spec knows."""
    out: dict[str, tuple[str, str]] = {}
    for name, dn in wb.defined_names.items():
        key = spec.key_of_name(name)
        parsed = parse_ref(dn.attr_text or "") if key is not None else None
        if key is not None and parsed is not None:
            out[key] = parsed
    return out


def read_workbook(path: str | os.PathLike[str], *, with_structure: bool = True) -> ReportData:
    """Read one report workbook with openpyxl. Raises ReadError (Chinese, naming the file) when it cannot be
    read or was not made from our template."""
    wb, outside = _load(path)
    try:
        sheets = {ws.title: ws for ws in wb.worksheets}
        dests = name_destinations(wb)
        # what the fast reader reads, so both readers report the same: the template's sheets, those a name points
        # at, the hidden sheet
        read = set(structure.OWNED_SHEETS) | {s for s, _ in dests.values()} | {spec.HIDDEN_SHEET}
        ev = sheets.get(EVIDENCE_SHEET)
        evidence = None if ev is None else list(ev.iter_rows(min_row=1, max_row=MAX_ROWS, max_col=2, values_only=True))

        def cell(sheet: str, a1: str) -> tuple[CellValue, str | None]:
            return cell_value(sheets[sheet][a1])

        def build_structure(props: dict[str, str], version: int) -> Structure:
            return _structure(wb, sheets, props, version, {s: r for s, r in outside.items() if s in read},
                              unnamed(dests, version))

        return assemble(str(path), dests, set(sheets), cell, _props(sheets.get(spec.HIDDEN_SHEET)),
                        build_structure if with_structure else None, evidence=evidence)
    finally:
        wb.close()


def _props(ws: Any) -> dict[str, str]:
    if ws is None:
        return {}
    rows, cols = hidden.BOX
    return hidden.parse(ws.iter_rows(min_row=1, max_row=rows, max_col=cols, values_only=True))


def _validations(ws: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for dv in ws.data_validations.dataValidation:
        for ref in str(dv.sqref).split():
            out.update(dict.fromkeys(validated_cells(ref), dv.type or "none"))
    return out


def _structure(wb: Any, sheets: dict[str, Any], props: dict[str, str], version: int,
               outside: dict[str, tuple[str, ...]], no_name: frozenset[str]) -> Structure:
    from openpyxl.cell.cell import MergedCell

    exp = structure.expected(version)
    labels = {(s, a): cell_value(sheets[s][a])[0] for s, a in exp.labels if s in sheets}
    merges: dict[str, frozenset[str]] = {}
    unlocked: dict[str, frozenset[str]] = {}
    protected: dict[str, bool] = {}
    for sheet in exp.sheets:
        ws = sheets.get(sheet)
        if ws is None:
            continue
        merges[sheet] = frozenset(str(r) for r in ws.merged_cells.ranges)
        unlocked[sheet] = frozenset(c.coordinate for row in ws.iter_rows() for c in row
                                    if not isinstance(c, MergedCell) and c.has_style and c.protection.locked is False)
        protected[sheet] = bool(ws.protection.sheet)
    sec = wb.security
    return Structure(sheets=tuple(sheets), labels=labels, merges=merges, unlocked=unlocked,
                     sheet_protected=protected, structure_locked=bool(sec is not None and sec.lockStructure),
                     fingerprint=props.get("fingerprint"), outside=outside, unnamed=no_name,
                     live={(s, a): cell_value(sheets[s][a])[1] or "" for s, a in live.formula_cells() if s in sheets},
                     validations={s: _validations(sheets[s]) for s in exp.sheets if s in sheets},
                     layout_version=version)
