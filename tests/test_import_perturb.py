"""Perturbation of the real published reports (shared/examples/published and the seed): each report as its reader
gives it, re-rendered the ways real portals, Word and PDF text layers render the same tables -- extra empty cells
(leading, trailing, inside), captions, sub-headings numbered like sections, page footers and running titles inside
a table, rows split across pages, zeros written "—" / "/" / "无", full-width digits, thousands separators, `<br>`
in labels, one cell per line, duplicated words. The bar for every variant: **zero silently wrong cells** -- each
table cell is the expected value (a zero written "—" kept as written and said: Note kind "zero-as"), or its key
is listed as unread (contract U) and it is empty. Variants a reader can read in full must also leave nothing
unread. The default run takes one variant of each kind per report; the full matrix (every row, every position,
every way of writing zero) is marked heavy."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest
from conftest import shared_file
from test_import import EXAMPLES, PUBLISHED, expected_cells

from xl_addin import api, spec
from xl_addin.adapters import report_reader
from xl_addin.importers import parse
from xl_addin.importers.document import Document, Line
from xl_addin.importers.match import match_t2, match_t3
from xl_addin.importers.table import split_row
from xl_addin.model import IMPORT_PROPS_KEY, CellValue

SEED = "examples/jiangle-industry-bureau-2023.txt"
REPORTS = [*EXAMPLES, "seed"]
TABLE_KEYS = [c.key for t in ("t2", "t3", "t4") for c in spec.TABLE_BY_ID[t].cells]


def _path(name: str) -> Any:
    return shared_file(SEED if name == "seed" else f"{PUBLISHED}/{name}")


@cache
def pristine(name: str) -> Document:
    return report_reader.read_document(_path(name))


@cache
def expected(name: str) -> dict[str, CellValue]:
    if name == "seed":
        sample = api.sample_values()
        return {k: sample.get(k) for k in spec.INPUT_KEYS if k.startswith(("t2.", "t3.", "t4."))}
    exp = json.loads(shared_file(f"{PUBLISHED}/expected/{name.rsplit('.', 1)[0]}.json").read_text(encoding="utf-8"))
    return expected_cells(exp)


def silently_wrong(imp: parse.Imported, want: dict[str, CellValue]) -> dict[str, tuple[CellValue, CellValue]]:
    """The cells read as something else than the report prints: neither the expected value, nor a zero written
    otherwise and said so, nor listed as unread (and empty)."""
    unread = parse.unread_keys(imp)
    zero_as = {n.key: n.source for n in imp.zero_as}
    bad: dict[str, tuple[CellValue, CellValue]] = {}
    for key, w in want.items():
        got = imp.data.values.get(key)
        if key in unread:
            if got is not None:
                bad[key] = (got, w)
            continue
        if got == w and type(got) is type(w):
            continue
        if w == 0 and isinstance(got, str) and zero_as.get(key) == got:
            continue  # "—" kept as written, and the import says it is how zero was written
        bad[key] = (got, w)
    return bad


# ---- the table rows of a document -----------------------------------------------------------------------------

def _kind(line: Line) -> str:
    """"t2", "t3" (a row holding its label and all its values), "values" (a row of values only) or ""."""
    row = split_row(line)
    if not row.values:
        return ""
    if not row.label:
        return "values"
    if len(row.values) >= len(spec.T3_COLS) and match_t3(row.label) is not None:
        return "t3"
    if match_t2(row.label) is not None and len(row.values) <= 3:
        return "t2"
    return ""


def _rows(doc: Document, kinds: tuple[str, ...] = ("t3",)) -> list[int]:
    return [i for i, ln in enumerate(doc.lines) if _kind(ln) in kinds]


def _with(doc: Document, lines: list[Line]) -> Document:
    return dataclasses.replace(doc, lines=tuple(lines))


def _value_index(line: Line) -> int:
    """The index of a row's first value cell."""
    assert line.cells is not None
    row = split_row(line)
    return len(line.cells) - len(row.values)


def _insert_cell(line: Line, at: int) -> Line:
    """``line`` with an empty cell inserted before cell ``at`` (at the end for len(cells)): the grid as the web
    page's reader would give it, every cell after it one column to the right."""
    assert line.cells is not None
    cells = (*line.cells[:at], "", *line.cells[at:])
    if line.cols is None or line.width is None:
        return dataclasses.replace(line, cells=cells)
    col = line.cols[at] if at < len(line.cols) else line.width
    cols = (*line.cols[:at], col, *(c + 1 for c in line.cols[at:]))
    return dataclasses.replace(line, cells=cells, cols=cols, width=line.width + 1)


def _map_values(line: Line, f: Callable[[str], str]) -> Line:
    """``line`` with ``f`` applied to the text of each value cell (a text line: each value token)."""
    if line.cells is not None:
        start = _value_index(line)
        cells = tuple(c if i < start else f(c) for i, c in enumerate(line.cells))
        return dataclasses.replace(line, cells=cells, text=" ".join(c for c in cells if c))
    tokens = line.text.split(" ")
    n = len(split_row(line).values)
    return dataclasses.replace(line, text=" ".join([*tokens[:len(tokens) - n], *map(f, tokens[len(tokens) - n:])]))


# ---- the perturbations ----------------------------------------------------------------------------------------
# each: (report's document, parameter) -> the perturbed document, or None where it does not apply; ``must_read``:
# a reader that reads the report reads this variant in full (nothing unread, nothing noted as a count problem)

Perturb = Callable[[Document, Any], "Document | tuple[Document, dict[str, CellValue]] | None"]


def extra_cell(where: str) -> Perturb:
    def perturb(doc: Document, which: Any) -> Document | None:
        rows = _rows(doc, ("t2", "t3"))
        if not rows or doc.lines[rows[0]].cells is None:
            return None  # a text layer has no blank cells to add
        lines = list(doc.lines)
        for i in (rows if which == "all" else [rows[which % len(rows)]]):
            ln = lines[i]
            assert ln.cells is not None
            at = {"lead": 0, "trail": len(ln.cells), "inside": _value_index(ln) + 1}[where]
            lines[i] = _insert_cell(ln, at)
        return _with(doc, lines)
    return perturb


def caption(doc: Document, _: Any) -> Document | None:
    lines = list(doc.lines)
    for kinds, text in ((("values",), "表四：政府信息公开行政复议、行政诉讼情况"),
                        (("t3",), "表三：收到和处理政府信息公开申请情况"), (("t2",), "表二：主动公开政府信息情况")):
        found = _rows(_with(doc, lines), kinds)
        if found:
            at = found[-1] if kinds == ("values",) else found[0]
            lines.insert(max(at - 1, 0), Line(text, None, "插入的表题"))
    return _with(doc, lines)


def subheading(doc: Document, _: Any) -> Document | None:
    lines = list(doc.lines)
    one = next((i for i, ln in enumerate(lines) if ln.cells is None and re.match(r"^\s*一、\s*总体情况", ln.text)), None)
    if one is None:
        return None
    lines[one + 2:one + 2] = [Line("四、政府信息公开申请情况", None, "插入的小标题")]
    return _with(doc, lines)


def _header(doc: Document) -> list[Line]:
    """The lines of table 三's header (between its section heading and its first row)."""
    first = _rows(doc)[0]
    start = max(i for i in range(first) if "收到和处理" in doc.lines[i].text or i == 0)
    return [ln for ln in doc.lines[start + 1:first] if "收到和处理" not in ln.text][-8:]


def furniture(doc: Document, which: Any) -> Document | None:
    rows = _rows(doc)
    if len(rows) < 4:
        return None
    at = rows[len(rows) // 2 if which == "all" else (which % (len(rows) - 1)) + 1]
    lines = list(doc.lines)
    lines[at:at] = [Line("- 3 -", None, "页脚"), Line("某某区人民政府2023年政府信息公开工作年度报告", None, "页眉"),
                    *_header(doc)]
    return _with(doc, lines)


def split_row_across_pages(doc: Document, which: Any) -> Document | None:
    rows = _rows(doc)
    if not rows:
        return None
    i = rows[len(rows) // 3 if which == "all" else which % len(rows)]
    ln = doc.lines[i]
    page = [Line("- 3 -", None, "页脚"), Line("某某区人民政府2023年政府信息公开工作年度报告", None, "页眉"), *_header(doc)]
    if ln.cells is not None:
        cut = _value_index(ln) + 3
        first = Line(" ".join(ln.cells[:cut]), ln.cells[:cut], ln.where)
        rest = Line(" ".join(ln.cells[cut:]), ln.cells[cut:], ln.where + "（续）")
    else:
        tokens = ln.text.split(" ")
        first = Line(" ".join(tokens[:-4]), None, ln.where)
        rest = Line(" ".join(tokens[-4:]), None, ln.where)
    return _with(doc, [*doc.lines[:i], first, *page, rest, *doc.lines[i + 1:]])


def split_label_across_pages(doc: Document, _: Any) -> Document | None:
    """"5.要求行" / page footer, running title / "政机关确认或重新出具已获取信息 0 0 …" (a text layer's row, its label
    perhaps already over lines, gathered up to its numbers first)."""
    lines = list(doc.lines)
    i = next((k for k, ln in enumerate(lines) if ln.cells is None and "要求行政机关" in ln.text.replace(" ", "")), None)
    if i is None:
        return None
    j = next(k for k in range(i, len(lines)) if len(split_row(lines[k]).values) >= len(spec.T3_COLS))
    row = split_row(lines[j])
    label = "".join(ln.text.replace(" ", "") for ln in lines[i:j]) + row.label
    values = " ".join(c.raw for c in row.values)
    cut = label.index("要求行") + 3
    lines[i:j + 1] = [Line(label[:cut], None, lines[i].where), Line("- 4 -", None, "页脚"),
                      Line("某某区人民政府2023年政府信息公开工作年度报告", None, "页眉"),
                      Line(f"{label[cut:]} {values}", None, lines[j].where)]
    return _with(doc, lines)


def zeros(doc: Document, written: Any) -> Document | None:
    lines = list(doc.lines)
    for i in _rows(doc, ("t2", "t3", "values")):
        lines[i] = _map_values(lines[i], lambda c: written if c.strip() == "0" else c)
    return _with(doc, lines)


_FULL = str.maketrans("0123456789.,", "０１２３４５６７８９．，")


def full_width(doc: Document, _: Any) -> Document | None:
    lines = list(doc.lines)
    for i in _rows(doc, ("t2", "t3", "values")):
        lines[i] = _map_values(lines[i], lambda c: c.translate(_FULL))
    return _with(doc, lines)


def _grouped(c: str) -> str:
    return f"{int(c):,}" if re.fullmatch(r"\d{4,}", c.strip()) else c


def thousands(doc: Document, _: Any) -> Document | None:
    lines = list(doc.lines)
    for i in _rows(doc, ("t2", "t3", "values")):
        lines[i] = _map_values(lines[i], _grouped)
    return _with(doc, lines) if lines != list(doc.lines) else None  # no number of 4 digits or more


def label_in_two_cells(doc: Document, _: Any) -> Document | None:
    """A label split into two cells (a merged cell split by Word), or over two text lines (a PDF)."""
    lines = list(doc.lines)
    for i in reversed(_rows(doc)):
        ln = lines[i]
        if ln.cells is not None:
            k = _value_index(ln) - 1
            label = ln.cells[k]
            if len(label) < 6:
                continue
            h = len(label) // 2
            split = _insert_cell(ln, k + 1)
            lines[i] = dataclasses.replace(split, cells=(*ln.cells[:k], label[:h], label[h:], *ln.cells[k + 1:]))
        else:
            n = len(split_row(ln).values)
            tokens = ln.text.split(" ")
            label = "".join(tokens[:len(tokens) - n])
            h = len(label) // 2
            lines[i:i + 1] = [Line(label[:h], None, ln.where), Line(label[h:] + " " + " ".join(tokens[-n:]), None,
                                                                   ln.where)]
    return _with(doc, lines)


def one_cell_per_line(doc: Document, _: Any) -> Document | None:
    """Table 二 and 三 as a text layer giving each cell its own line (a blank cell is not seen at all)."""
    out: list[Line] = []
    for ln in doc.lines:
        if _kind(ln) not in ("t2", "t3"):
            out.append(ln)
            continue
        row = split_row(ln)
        out.append(Line(row.label, None, ln.where))
        out += [Line(c.raw.strip(), None, ln.where) for c in row.values if c.raw.strip()]
    return _with(doc, out)


def duplicated_words(doc: Document, _: Any) -> Document | None:
    """A PDF text layer repeating a word ("属于国家国家秘密")."""
    lines = list(doc.lines)
    for i in _rows(doc):
        ln = lines[i]
        for word in ("国家秘密", "重复申请", "政府信息"):
            if word in ln.text:
                dup = word[:2] + word
                cells = tuple(c.replace(word, dup, 1) for c in ln.cells) if ln.cells is not None else None
                lines[i] = dataclasses.replace(ln, text=ln.text.replace(word, dup, 1), cells=cells)
                break
    return _with(doc, lines)


def blank_cells_in_text_layer(doc: Document, which: Any) -> tuple[Document, dict[str, CellValue]] | None:
    """The 法人或其他组织 columns of table 三 left blank (as Shuyang leaves them), in a PDF's text layer: a blank
    cell is no token at all, only the values' x-positions tell where they stand. The blanked cells are then
    expected blank."""
    rows = [i for i in _rows(doc) if doc.lines[i].cells is None and doc.lines[i].xs is not None]
    if not rows:
        return None
    lines = list(doc.lines)
    blank: dict[str, CellValue] = {}
    for i in (rows if which == "all" else [rows[which % len(rows)]]):
        ln = lines[i]
        assert ln.xs is not None
        tokens = ln.text.split()
        n = len(split_row(ln).values)
        first = len(tokens) - n
        drop = {first + k for k in range(1, 6) if tokens[first + k] == "0"}
        m = match_t3(split_row(ln).label)
        assert m is not None
        rk = parse.T3_SIX_KEYS[-1] if m[0] == "six" else m[0]
        blank.update({f"t3.{rk}.{spec.T3_COLS[k - first][0]}": None for k in drop})
        lines[i] = dataclasses.replace(ln, text=" ".join(t for k, t in enumerate(tokens) if k not in drop),
                                       xs=tuple(x for k, x in enumerate(ln.xs) if k not in drop))
    return _with(doc, lines), blank


def duplicated_number(doc: Document, which: Any) -> Document | None:
    """A number a PDF's text layer repeats: a row with one value too many. Nothing tells which one is the copy --
    the row is unread and said so, never shifted. (Rows of real cells are not perturbed so: there an extra cell is
    an empty one -- a merged cell split, a grid artefact -- dropped only where which one makes no difference.)"""
    rows = [i for i in _rows(doc) if doc.lines[i].cells is None]
    if not rows:
        return None
    lines = list(doc.lines)
    for i in (rows if which == "all" else [rows[which % len(rows)]]):
        ln = lines[i]
        if ln.cells is None:
            tokens = ln.text.split()
            k = len(tokens) - len(split_row(ln).values) + 1
            xs = (*ln.xs[:k], ln.xs[k], *ln.xs[k:]) if ln.xs is not None else None
            lines[i] = dataclasses.replace(ln, text=" ".join([*tokens[:k], tokens[k], *tokens[k:]]), xs=xs)
    return _with(doc, lines)


#: name -> (perturbation, the parameter of the default run, the parameters of the full matrix, must_read)
PERTURBATIONS: dict[str, tuple[Perturb, Any, tuple[Any, ...], bool]] = {
    "empty-cell-leading": (extra_cell("lead"), "all", ("all", *range(30)), True),
    "empty-cell-trailing": (extra_cell("trail"), "all", ("all", *range(30)), False),
    "empty-cell-inside": (extra_cell("inside"), "all", ("all", *range(30)), False),
    "caption": (caption, None, (None,), True),
    "numbered-subheading": (subheading, None, (None,), True),
    "page-footer-in-table": (furniture, "all", ("all", *range(30)), True),
    "row-split-across-pages": (split_row_across_pages, "all", ("all", *range(30)), True),
    "label-split-across-pages": (split_label_across_pages, None, (None,), True),
    "zero-as-dash": (zeros, "—", ("—", "/", "／", "无", "-", "空"), True),
    "full-width-digits": (full_width, None, (None,), True),
    "thousands-separators": (thousands, None, (None,), True),
    "label-in-two-cells": (label_in_two_cells, None, (None,), True),
    "one-cell-per-line": (one_cell_per_line, None, (None,), False),
    "duplicated-words": (duplicated_words, None, (None,), True),
    "duplicated-number": (duplicated_number, 3, ("all", *range(30)), False),
    "blank-cells-in-text-layer": (blank_cells_in_text_layer, "all", ("all", *range(30)), False),
}


def _variants(full: bool) -> Iterator[Any]:
    for name in REPORTS:
        for kind, (_, default, matrix, _must) in PERTURBATIONS.items():
            for param in (matrix if full else (default,)):
                short = name.split("-")[0] + (name[name.rfind("."):] if "." in name else "")
                yield pytest.param(name, kind, param, id=f"{short}-{kind}-{param}")


def _check(name: str, kind: str, param: Any) -> parse.Imported | None:
    perturb, _, _, must_read = PERTURBATIONS[kind]
    got = perturb(pristine(name), param)
    if got is None:
        return None
    doc, changed = got if isinstance(got, tuple) else (got, {})
    assert doc.lines != pristine(name).lines, "the perturbation changed nothing"
    imp = parse.parse(doc)
    want = {**expected(name), **changed}
    assert silently_wrong(imp, want) == {}
    props = json.loads(imp.data.props[IMPORT_PROPS_KEY])
    assert props["unread"] == [u.as_dict() for u in imp.unread]
    for u in props["unread"]:  # said, with why and where, in Chinese
        assert u["table"] in ("t2", "t3", "t4") and u["what"] in ("table", "row") and u["keys"]
        assert re.search(r"[\u4e00-\u9fff]", u["why"]) and u["where"]
    base = parse.parse(pristine(name))
    if must_read:
        assert parse.unread_keys(imp) <= parse.unread_keys(base), [u.why for u in imp.unread]
    assert [h.section for h in imp.headings] == [h.section for h in base.headings]
    return imp


@pytest.mark.parametrize(("name", "kind", "param"), list(_variants(full=False)))
def test_a_perturbed_report_has_no_silently_wrong_cell(name: str, kind: str, param: Any) -> None:
    imp = _check(name, kind, param)
    if imp is not None:
        api.check_data(imp.data)  # the rules run over whatever was read, unread cells empty


@pytest.mark.heavy
@pytest.mark.parametrize(("name", "kind", "param"), list(_variants(full=True)))
def test_every_perturbation_of_every_row(name: str, kind: str, param: Any) -> None:
    _check(name, kind, param)


def test_a_pdf_row_with_blank_cells_is_placed_by_the_x_positions_of_its_header() -> None:
    """A PDF's text layer has no blank cells: the values of a row with blanks are placed under the header column
    they stand under (its x-position), never in the first columns by count."""
    name = "hongze-district-gov-2023.pdf"
    got = blank_cells_in_text_layer(pristine(name), "all")
    assert got is not None
    doc, blank = got
    imp = parse.parse(doc)
    assert len(blank) > 100 and not imp.unread
    assert silently_wrong(imp, {**expected(name), **blank}) == {}
    assert imp.data.values["t3.new.natural"] == 21 and imp.data.values["t3.new.total"] == 21
    assert imp.data.values["t3.new.business"] is None


def test_br_in_the_labels_of_a_web_page_is_read() -> None:
    """`<br>` inside a table label (a portal's editor breaking a long label) and inside a section heading."""
    name = "shuyang-county-drc-2023.html"
    html = _path(name).read_bytes().decode("utf-8")
    changed = html
    for word, broken in (("属于国家秘密", "属于国家<br>秘密"), ("重复申请", "重复<br/>申请"), ("规范性文件", "规范性<br>文件"),
                         ("政府信息公开申请情况", "政府信息<br>公开申请情况")):
        assert word in changed
        changed = changed.replace(word, broken)
    doc = report_reader.read_document(_path(name), data=changed.encode("utf-8"))
    imp = parse.parse(doc)
    assert silently_wrong(imp, expected(name)) == {} and not imp.unread
    assert [h.section for h in imp.headings] == ["一", "二", "三", "四", "五", "六"]
    assert imp.headings[2].text.replace(" ", "") == "三、收到和处理政府信息公开申请情况"


@pytest.mark.parametrize("name", ["hongze-district-gov-2023.pdf", "hongze-district-gov-2023.txt",
                                  "suqian-city-2023.txt", "seed"])
def test_one_cell_per_line_is_read_in_full_where_no_cell_is_blank(name: str) -> None:
    """Tables 二 and 三 from a text that gives each cell its own line: read, every cell, where no cell is blank
    (a blank cell cannot be seen there: such a row is unread, see the matrix above)."""
    got = one_cell_per_line(pristine(name), None)
    assert isinstance(got, Document)
    imp = parse.parse(got)
    assert silently_wrong(imp, expected(name)) == {} and not imp.unread
