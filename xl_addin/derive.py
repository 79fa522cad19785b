"""Derived totals and the numbers the rules work with.

The validator never trusts a cached formula value: a derived cell whose formula is intact is recomputed from
the inputs here; a derived cell overwritten with a number is taken at its word (and checked by A1/A2/A4).
"""

from __future__ import annotations

from collections.abc import Mapping

from . import expr, spec
from .model import CellValue, ReportData

Number = int | float


def count_value(v: CellValue) -> Number | None:
    """A count cell's number: blank reads as 0; anything but a whole number >= 0 is None."""
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if v < 0 or not float(v).is_integer():
        return None
    return int(v)


def money_value(v: CellValue) -> Number | None:
    """The fee in 万元: blank reads as 0; a number >= 0 with at most 4 decimals, else None."""
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if v < 0 or abs(round(v, 4) - v) > 1e-9:
        return None
    return v


def input_value(key: str, v: CellValue) -> Number | None:
    if spec.DATA_CELLS[key].kind is spec.Kind.MONEY:
        return money_value(v)
    return count_value(v)


def compute_totals(inputs: Mapping[str, Number | None]) -> dict[str, Number | None]:
    """Every derived key's value from the input keys' numbers (None propagates: a total of a bad cell is
    unknown)."""
    out: dict[str, Number | None] = {}

    def total(key: str) -> Number | None:
        if key in out:
            return out[key]
        cell = spec.DATA_CELLS[key]
        s: Number | None = 0
        for part in cell.sum_of:
            v = total(part) if spec.DATA_CELLS[part].derived else inputs.get(part, 0)
            if v is None or s is None:
                s = None
            else:
                s += v
        out[key] = s
        return s

    for key in spec.DERIVED_KEYS:
        total(key)
    return out


def effective_values(data: ReportData) -> dict[str, Number | None]:
    """The number every table key stands for in this report, as the rules see it.

    Inputs: their number (blank = 0), None when not a valid number or holding a formula. Derived cells: the
    recomputed total when the formula is intact, the typed number when a clerk overwrote it, None when the
    formula was replaced by another one (S2 reports that).
    """
    vals: dict[str, Number | None] = {}
    for key in spec.INPUT_KEYS:
        if key in data.missing or key in data.formulas:
            vals[key] = None
        else:
            vals[key] = input_value(key, data.get(key))
    computed = compute_totals(vals)
    for key in spec.DERIVED_KEYS:
        if key in data.missing:
            vals[key] = None
        elif key in data.formulas:
            intact = expr.formula_is_intact(key, data.formulas[key], data.locations)
            vals[key] = computed[key] if intact else None
        else:
            vals[key] = count_value(data.get(key))
    return vals


def prior_values(data: ReportData) -> dict[str, Number]:
    """Last year's figures present in the report (blank means: not known)."""
    out: dict[str, Number] = {}
    for key in spec.PRIOR_KEYS:
        v = data.prior.get(key)
        n = count_value(v) if v is not None else None
        if n is not None:
            out[key] = n
    return out


def carry_forward(last_year: ReportData) -> dict[str, Number]:
    """The figures of last year's report that this year's cross-year rules need (spec.PRIOR_KEYS), by this
    year's key: 四、结转下年度继续办理 and 现行有效件数. A figure that is not a usable number is left out."""
    vals = effective_values(last_year)
    return {k: v for k in spec.PRIOR_KEYS if (v := vals.get(k)) is not None}
