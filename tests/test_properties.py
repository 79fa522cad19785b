"""Property tests (hypothesis) for the identities: consistent tables never raise an A-finding, and one changed
cell raises exactly the findings its row and column imply, at the right addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xl_addin import api, rules, spec, structure
from xl_addin.model import ReportData

T3_ROWS = list(dict.fromkeys(k.split(".")[1] for k in spec.TABLE_BY_ID["t3"].by_key))
RESULT_ROWS = T3_ROWS[2:-2]
T3_INPUT_COLS = [c for c, _ in spec.T3_COLS if c != "total"]
ARITH = ("A1", "A2", "A3", "A4", "A6")
small = st.integers(min_value=0, max_value=40)


@st.composite
def consistent_values(draw: st.DrawFn) -> dict[str, Any]:
    """Inputs of all three tables that satisfy every identity (A3 per column, A6 per row of 二)."""
    v: dict[str, Any] = {}
    for col in T3_INPUT_COLS:
        results = {r: draw(small) for r in RESULT_ROWS}
        carried_out = draw(small)
        rhs = sum(results.values()) + carried_out
        carried_in = draw(st.integers(min_value=0, max_value=rhs))
        v.update({f"t3.{r}.{col}": n for r, n in results.items()})
        v[f"t3.carried_out.{col}"] = carried_out
        v[f"t3.carried_in.{col}"] = carried_in
        v[f"t3.new.{col}"] = rhs - carried_in
    for row, _, _ in spec.T2_DOC_ROWS:
        made, repealed = draw(small), draw(small)
        v[f"t2.{row}.made"] = made
        v[f"t2.{row}.repealed"] = repealed
        v[f"t2.{row}.in_force"] = max(made - repealed, 0) + draw(small)
    for key in spec.INPUT_KEYS:
        if key.startswith("t4.") or key in ("t2.licensing.count", "t2.penalty.count", "t2.coercion.count"):
            v[key] = draw(small)
    v["t2.fees.amount"] = draw(st.decimals(min_value=0, max_value=999, places=4).map(float))
    return v


def report_data(values: dict[str, Any]) -> ReportData:
    """A snapshot as a reader gives it for an untouched template filled with ``values``."""
    return ReportData(values=dict(values), formulas=dict(structure.expected().formulas))


def arith_findings(data: ReportData) -> set[tuple[str, str]]:
    return {(f.rule, f.cell) for f in rules.validate(data, ARITH)}


@settings(max_examples=200, deadline=None)
@given(consistent_values())
def test_consistent_tables_yield_no_arithmetic_finding(values: dict[str, Any]) -> None:
    assert arith_findings(report_data(values)) == set()


def _a1(key: str) -> str:
    return spec.LAYOUT.locations[key].a1


@settings(max_examples=200, deadline=None)
@given(consistent_values(), st.sampled_from([k for k in spec.INPUT_KEYS if k.startswith("t3.")]),
       st.integers(min_value=1, max_value=9))
def test_one_changed_table3_input_breaks_a3_for_its_column_and_the_total_column(
        values: dict[str, Any], key: str, delta: int) -> None:
    col = key.split(".")[2]
    values[key] += delta
    expected = {("A3", _a1(f"t3.carried_out.{col}")), ("A3", _a1("t3.carried_out.total"))}
    assert arith_findings(report_data(values)) == expected


@settings(max_examples=200, deadline=None)
@given(consistent_values(), st.sampled_from(spec.DERIVED_KEYS), st.integers(min_value=1, max_value=9))
def test_one_overwritten_total_yields_the_findings_its_row_and_column_imply(
        values: dict[str, Any], key: str, delta: int) -> None:
    data = report_data(values)
    true_total = rules.Context(data).values[key]
    assert true_total is not None
    formulas = {k: f for k, f in data.formulas.items() if k != key}
    data = ReportData(values={**values, key: true_total + delta}, formulas=formulas)
    table, row, col = key.split(".")
    if table == "t4":
        expected = {("A4", _a1(key))}
    elif col == "total" and row == "total":  # the grand total: its row sum and its column sum, and A3
        expected = {("A1", _a1(key)), ("A2", _a1(key)), ("A3", _a1("t3.carried_out.total"))}
    elif row == "total":  # （七）总计 of one column: A2 there, A1 of the row it sits in, A3 of its column
        expected = {("A2", _a1(key)), ("A1", _a1("t3.total.total")), ("A3", _a1(f"t3.carried_out.{col}"))}
    else:  # a row's 总计: A1 there; it feeds the grand total's column sum (result rows) or A3 (the other rows)
        expected = {("A1", _a1(key))}
        expected.add(("A2", _a1("t3.total.total")) if row in RESULT_ROWS else ("A3", _a1("t3.carried_out.total")))
    assert arith_findings(data) == expected


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=consistent_values(), key=st.sampled_from([k for k in spec.INPUT_KEYS if k.startswith("t3.")]))
def test_through_real_files_a_changed_cell_is_reported_at_its_address(
        template: Path, tmp_path: Path, values: dict[str, Any], key: str) -> None:
    ok = api.put(template, values, tmp_path / "ok.xlsx")
    assert {(f.rule, f.cell) for f in api.check(ok).by_rule("A3")} == set()
    values[key] += 1
    bad = api.put(template, values, tmp_path / "bad.xlsx")
    col = key.split(".")[2]
    got = {(f.rule, f.sheet, f.cell) for f in api.check(bad).findings if f.rule in ARITH}
    assert got == {("A3", "表三", _a1(f"t3.carried_out.{col}")), ("A3", "表三", _a1("t3.carried_out.total"))}
