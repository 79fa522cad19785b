"""The spec against the official format: shared/FORMAT.md and a real published report."""

from __future__ import annotations

import re

from conftest import shared_file

from xl_addin import spec


def _norm(s: str) -> str:
    return "".join(s.split())


def test_every_table3_row_label_is_in_format_md_character_for_character() -> None:
    text = shared_file("FORMAT.md").read_text(encoding="utf-8")
    section = text[text.index("## Table 三"):text.index("## Table 四")]
    official = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].isdigit():
            official += [re.sub(r" \((A|B)[^)]*\)$", "", c) for c in cells[1:] if c]
    ours = [lab.text for lab in spec.TABLE_BY_ID["t3"].labels if not lab.header]
    assert sorted(ours) == sorted(official)


def test_tables_labels_appear_in_the_published_report_in_order() -> None:
    """The real 2023 report (Word text, one cell a line, some labels broken over two lines) carries every
    label of our three tables, in our row-by-row order."""
    text = _norm(shared_file("examples/jiangle-industry-bureau-2023.txt").read_text("utf-8"))
    start = 0
    for table in spec.TABLES:
        pos = text.index(_norm(table.heading), start)
        for lab in sorted(table.labels, key=lambda lab: (lab.row, lab.col)):
            found = text.find(_norm(lab.text), pos)
            assert found >= 0, f"{table.sheet}: label {lab.text!r} not found in order"
            pos = found + len(_norm(lab.text))
        start = pos


def test_grid_shapes_match_the_official_format() -> None:
    t2, t3, t4 = spec.TABLES
    assert (t2.n_rows, t2.n_cols) == (14, 4)
    assert (t3.n_rows - t3.header_rows, t3.n_cols) == (25, 10)
    assert (t4.n_rows, t4.n_cols, t4.header_rows) == (4, 15, 3)
    assert len(t3.cells) == 25 * 7
    assert {c.key for c in t3.derived} == {f"t3.{r}.total" for r in {k.split(".")[1] for k in t3.by_key}} | \
        {f"t3.total.{c}" for c, _ in spec.T3_COLS}
    assert [c.key for c in t4.derived] == ["t4.review.total", "t4.suit_direct.total", "t4.suit_after_review.total"]
    assert not t2.derived


def test_labels_use_full_width_punctuation_and_official_quotes() -> None:
    for t in spec.TABLES:
        for lab in t.labels:
            assert not re.search(r"[()（]\s|[,:]", lab.text), lab.text
    assert any(lab.text[2:] == "危及“三安全一稳定”" for lab in spec.TABLE_BY_ID["t3"].labels)


def test_every_cell_has_a_unique_key_name_and_labels() -> None:
    names = [spec.defined_name(k) for k in spec.ALL_KEYS]
    assert len(set(names)) == len(names)
    for k in spec.ALL_KEYS:
        assert spec.key_of_name(spec.defined_name(k)) == k
        assert re.fullmatch(r"xa_[a-z0-9_]+", spec.defined_name(k))
    for key, cell in spec.DATA_CELLS.items():
        assert cell.col_labels, key
        assert cell.help, key
