"""expr.cells_summed: how a derived total is recognised as intact after a spreadsheet rewrote its formula."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xl_addin import expr, spec

ROW7 = frozenset((7, c) for c in range(4, 10))  # D7:I7


@pytest.mark.parametrize("formula", [
    "=SUM(D7:I7)", "=sum(d7:i7)", "=SUM($D$7:$I$7)", "=SUM(D7,E7:I7)", "=D7+E7+F7+G7+H7+I7", "=SUM(D7:F7)+G7+SUM(H7:I7)",
    " = SUM( D7 : I7 ) ", "=_xlfn.SUM(D7:I7)", "=SUM(I7:D7)",
])
def test_every_spelling_of_the_same_sum_is_the_same_cells(formula: str) -> None:
    assert expr.cells_summed(formula) == ROW7


@pytest.mark.parametrize("formula", [
    "=SUM(D7:I7)*1", "=SUM(D7:I7)-0", "=SUM(表三!D7:I7)", "=SUMIF(D7:I7,\">0\")", "=D7+D7+E7", "=SUM(D7:I7,I7)",
    "=1+2", "=", "", "=SUM(D7:I7", "=D7-E7", "=INDIRECT(\"D7\")", "=SUM(D7:I7)+'x'",
])
def test_anything_else_is_not_a_plain_sum(formula: str) -> None:
    assert expr.cells_summed(formula) is None


def test_a_huge_range_is_refused_at_once() -> None:
    """A typed =SUM(A1:XFD1048576) must not make the checker enumerate 17 billion cells."""
    start = time.perf_counter()
    assert expr.cells_summed("=SUM(A1:XFD1048576)") is None
    assert expr.cells_summed("=SUM(A1:A999)+SUM(B1:B999)") is None
    assert time.perf_counter() - start < 1.0


@given(st.sets(st.tuples(st.integers(1, 40), st.integers(1, 12)), min_size=1, max_size=30), st.randoms())
def test_any_split_of_a_cell_set_into_terms_gives_that_set(cells: set[tuple[int, int]], rnd: object) -> None:
    import random

    assert isinstance(rnd, random.Random)
    terms = [f"{'$' if rnd.random() < 0.3 else ''}{spec.col_letter(c)}{r}" for r, c in sorted(cells)]
    rnd.shuffle(terms)
    chunks, i = [], 0
    while i < len(terms):
        n = rnd.randint(1, 4)
        part = terms[i:i + n]
        chunks.append(f"SUM({','.join(part)})" if rnd.random() < 0.5 else "+".join(part))
        i += n
    assert expr.cells_summed("=" + "+".join(chunks)) == frozenset(cells)


def test_the_templates_own_formulas_are_intact() -> None:
    for key in spec.DERIVED_KEYS:
        formula = expr.derived_formula(key, spec.LAYOUT.locations)
        assert expr.formula_is_intact(key, formula, spec.LAYOUT.locations), (key, formula)
        other = next(k for k in spec.DERIVED_KEYS if k != key)
        assert not expr.formula_is_intact(key, expr.derived_formula(other, spec.LAYOUT.locations),
                                          spec.LAYOUT.locations)
