"""Derived totals and the numbers the rules work with.

The validator never trusts a cached formula value: a derived cell whose formula is intact is recomputed from
the inputs here; a derived cell overwritten with a number is taken at its word (and checked by A1/A2/A4).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from . import expr, spec
from .model import CellValue, ReportData

Number = int | float


def count_value(v: CellValue) -> Number | None:
    """A count cell's number: blank reads as 0; anything but a whole number >= 0 is None."""
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if v < 0 or (isinstance(v, float) and not v.is_integer()):  # (float() of a huge int would overflow)
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


@cache
def _plan() -> tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, tuple[tuple[str, bool], ...]], ...]]:
    """(input key, is money) of every input; (derived key, ((part, part is derived), ...)) of every derived key,
    parts before the totals that use them."""
    inputs = tuple((k, spec.DATA_CELLS[k].kind is spec.Kind.MONEY) for k in spec.INPUT_KEYS)
    order: list[str] = []

    def visit(key: str) -> None:
        for part in spec.DATA_CELLS[key].sum_of:
            if spec.DATA_CELLS[part].derived and part not in order:
                visit(part)
        if key not in order:
            order.append(key)

    for key in spec.DERIVED_KEYS:
        visit(key)
    return inputs, tuple((k, tuple((p, spec.DATA_CELLS[p].derived) for p in spec.DATA_CELLS[k].sum_of)) for k in order)


def compute_totals(inputs: Mapping[str, Number | None]) -> dict[str, Number | None]:
    """Every derived key's value from the input keys' numbers (None propagates: a total of a bad cell is
    unknown)."""
    out: dict[str, Number | None] = {}
    for key, parts in _plan()[1]:
        s: Number | None = 0
        for part, derived in parts:
            v = out[part] if derived else inputs.get(part, 0)
            if v is None or s is None:
                s = None
            else:
                s += v
        out[key] = s
    return out


def intact_formulas(data: ReportData) -> dict[str, bool]:
    """Derived key -> whether its formula sums the cells it should, for every derived key found holding one."""
    return {key: expr.formula_is_intact(key, data.formulas[key], data.locations) for key in spec.DERIVED_KEYS
            if key in data.formulas and key not in data.missing}


def effective_values(data: ReportData, intact: Mapping[str, bool] | None = None) -> dict[str, Number | None]:
    """The number every table key stands for in this report, as the rules see it.

    Inputs: their number (blank = 0), None when not a valid number or holding a formula. Derived cells: the
    recomputed total when the formula is intact, the typed number when a clerk overwrote it, None when the
    formula was replaced by another one (S2 reports that). ``intact``: :func:`intact_formulas` of ``data``, when
    the caller has it.
    """
    if intact is None:
        intact = intact_formulas(data)
    vals: dict[str, Number | None] = {}
    missing, formulas, values = data.missing, data.formulas, data.values
    for key, money in _plan()[0]:
        if key in missing or key in formulas:
            vals[key] = None
        else:
            v = values.get(key)
            if type(v) is int and v >= 0 and not money:  # the usual count, as count_value gives it
                vals[key] = v
            else:
                vals[key] = money_value(v) if money else count_value(v)
    computed = compute_totals(vals)
    for key in spec.DERIVED_KEYS:
        if key in missing:
            vals[key] = None
        elif key in formulas:
            vals[key] = computed[key] if intact[key] else None
        else:
            vals[key] = count_value(values.get(key))
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


def carry_forward(last_year: ReportData | Mapping[str, Number | None]) -> dict[str, Number]:
    """The figures of last year's report that this year's cross-year rules need (spec.PRIOR_KEYS), by this
    year's key: 四、结转下年度继续办理 and 现行有效件数. A figure that is not a usable number is left out.

    ``last_year``: the report, or its :func:`effective_values` when the caller already has them (the
    coordinator keeps only those of each file it examined)."""
    vals = effective_values(last_year) if isinstance(last_year, ReportData) else last_year
    return {k: v for k in spec.PRIOR_KEYS if (v := vals.get(k)) is not None}
