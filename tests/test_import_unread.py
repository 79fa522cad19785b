"""Contract U: what the importer could not read is said (props "unread": table, what, keys, why, where) and left
empty, never a guess; how zero was written is said once per cell (Note kind "zero-as") for the rules to sum up;
the publication date comes from the report's own text only. And the shape of the fix: values placed by the
table's own geometry where the source has a grid, tables found by their labels wherever they are."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import shared_file

from xl_addin import api, spec
from xl_addin.adapters import report_reader
from xl_addin.importers import document, match, parse
from xl_addin.importers.document import Line
from xl_addin.importers.table import split_row
from xl_addin.model import IMPORT_PROPS_KEY

SEED = "examples/jiangle-industry-bureau-2023.txt"
T3_KEYS = [c.key for c in spec.TABLE_BY_ID["t3"].cells]


def _seed_lines() -> list[str]:
    return shared_file(SEED).read_text(encoding="utf-8").split("\n")


def _import(lines: list[str]) -> parse.Imported:
    return parse.parse(document.from_text("\n".join(lines), source="perturbed.txt"))


def _props(imp: parse.Imported) -> dict[str, object]:
    return dict(json.loads(imp.data.props[IMPORT_PROPS_KEY]))


def test_a_row_with_one_cell_too_many_is_unread_not_shifted() -> None:
    lines = _seed_lines()
    i = lines.index("\t一、本年新收政府信息公开申请数量")
    lines[i + 8:i + 8] = ["\t3"]  # a stray number after 总计: the old importer kept "the last 7", all shifted
    imp = _import(lines)
    keys = [f"t3.new.{c}" for c, _ in spec.T3_COLS]
    assert all(imp.data.values.get(k) is None for k in keys)
    (u,) = _props(imp)["unread"]  # type: ignore[misc]
    assert u == {"table": "t3", "what": "row", "keys": keys, "where": f"第{i + 1}行",
                 "why": "“一、本年新收政府信息公开申请数量”一行读到 8 个数，应为 7 个，无法确定多出的是哪个数"}
    assert imp.data.values["t3.carried_in.natural"] == 0  # the other rows are read
    assert not [r for r in imp.records if r.key in keys]  # nothing recorded as read for it


def test_a_table_not_found_is_one_unread_entry_with_where_it_was_looked_for() -> None:
    lines = _seed_lines()
    start = lines.index("三、收到和处理政府信息公开申请情况")
    end = lines.index("四、政府信息公开行政复议、行政诉讼情况")
    imp = _import([*lines[:start + 1], "本年度未收到申请。", *lines[end:]])
    unread = _props(imp)["unread"]
    assert [(u["table"], u["what"]) for u in unread] == [("t3", "table")]  # type: ignore[index]
    assert unread[0]["keys"] == T3_KEYS and "第三部分" in unread[0]["where"]  # type: ignore[index]
    assert all(imp.data.values.get(k) is None for k in T3_KEYS)
    report = api.check_data(imp.data)  # today's rules run on it (rules21 makes them skip unread cells)
    assert report.findings


def test_how_zero_was_written_is_said_per_cell_and_kept_as_written() -> None:
    lines = _seed_lines()
    i = lines.index("\t二、上年结转政府信息公开申请数量")
    lines[i + 1], lines[i + 2], lines[i + 3] = "\t—", "\t无", "\t"
    imp = _import(lines)
    v = imp.data.values
    assert (v["t3.carried_in.natural"], v["t3.carried_in.business"], v["t3.carried_in.research"]) == ("—", "无", None)
    zero = {n["key"]: n["source"] for n in _props(imp)["notes"] if n["kind"] == "zero-as"}  # type: ignore[attr-defined]
    assert zero == {"t3.carried_in.natural": "—", "t3.carried_in.business": "无", "t3.carried_in.research": ""}
    assert not parse.unread_keys(imp)


def test_a_caption_and_a_numbered_subheading_do_not_cut_table_three_off() -> None:
    lines = _seed_lines()
    pristine = _import(lines)
    t3 = lines.index("三、收到和处理政府信息公开申请情况")
    lines[t3 + 1:t3 + 1] = ["表三：收到和处理政府信息公开申请情况"]
    one = lines.index("一、总体情况")
    lines[one + 2:one + 2] = ["四、政府信息公开申请情况"]
    imp = _import(lines)
    assert {k: imp.data.values.get(k) for k in T3_KEYS} == {k: pristine.data.values.get(k) for k in T3_KEYS}
    assert [h.section for h in imp.headings] == ["一", "二", "三", "四", "五", "六"]
    assert not api.check_data(imp.data).by_rule("S1")  # no section said twice or out of order


def test_values_are_placed_by_the_grid_where_counting_cannot_tell() -> None:
    """A table with an empty spacer column (header and rows alike): the row has 8 value cells and blanks in two
    places, so which blank is the spacer cannot be told by counting -- the header's grid tells."""
    labels = [label for _, label in spec.T3_COLS]
    header = Line(" ".join(labels), ("", *labels), "网页表格1第2行", (0, 1, 3, 4, 5, 6, 7, 8), 9)
    cells = ("一、本年新收政府信息公开申请数量", "5", "", "", "3", "", "", "", "8")
    row = split_row(Line(" ".join(cells), cells, "网页表格1第3行", (0, 1, 2, 3, 4, 5, 6, 7, 8), 9))
    columns, width = match.header_columns([split_row(header)], labels)
    assert columns == {1: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6} and width == 9
    placed = match.fit(row, 7, balance=True, columns=columns, width=width)
    assert placed.how == "grid" and placed.cells is not None
    assert [c.value for c in placed.cells] == [5, None, 3, None, None, None, 8]
    counted = match.fit(row, 7, balance=True)  # without the grid: not guessed
    assert counted.cells is None and "8 格" in counted.why


def test_the_web_reader_gives_each_cell_its_grid_column(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text("<html><body><table><tr><td rowspan=2>a</td><td colspan=2>b</td><td>c</td></tr>"
                    "<tr><td>d</td><td>e</td><td>f</td></tr></table></body></html>", encoding="utf-8")
    rows = [ln for ln in report_reader.read_document(page).lines if ln.cells is not None]
    assert [(ln.cells, ln.cols, ln.width) for ln in rows] == [(("a", "b", "c"), (0, 1, 3), 4),
                                                             (("d", "e", "f"), (1, 2, 3), 4)]


def test_the_publication_date_is_never_a_pdf_creation_date() -> None:
    pdf = shared_file("examples/published/hongze-district-gov-2023.pdf")
    assert "date" not in report_reader.read_document(pdf).meta  # the file says 2024-02-26: when it was made
    imp = api.import_report(pdf)
    assert imp.data.values.get("meta.report_date") is None
    assert any(n.key == "meta.report_date" for n in imp.notes)


def test_the_import_record_and_json_say_what_was_not_read(tmp_path: Path) -> None:
    import subprocess
    import sys

    from xl_addin.importers import record

    lines = _seed_lines()
    i = lines.index("\t一、本年新收政府信息公开申请数量")
    lines[i + 8:i + 8] = ["\t3"]
    p = tmp_path / "多一格.txt"
    p.write_text("\n".join(lines), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "xl_addin", "import", str(p), "--json"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [(u["table"], u["what"], u["keys"][0]) for u in out["unread"]] == [("t3", "row", "t3.new.natural")]
    assert out["values"].get("t3.new.natural") is None
    by_label = {r[0]: r for r in record.rows(api.import_report(p))}
    row = by_label["表三 一、本年新收政府信息公开申请数量 / 自然人"]
    assert row[2] is None and "未读入：" in row[5] and "读到 8 个数" in row[5]
