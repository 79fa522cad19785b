"""The finished report as plain data: the ordered headings, paragraphs, tables and signature of the document.

Every export (Word, HTML, plain text) renders the same :class:`Document`, built here from a
:class:`~xl_addin.model.ReportData`. The tables' grids -- rows, columns, merged spans and labels -- are
generated from :mod:`xl_addin.spec`, never written by hand; their numbers are the ones the validator sees
(:func:`xl_addin.derive.effective_values`), zeros shown as 0.

The plain-text rendering lives here too (:func:`to_text`): it has the shape of a Word report flattened to text,
as in ``shared/examples/``: one table cell per line, prefixed with a tab, a blank line after each table row.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from . import derive, drafts, narrative, spec
from .model import ReportData

TITLE_SUFFIX = "政府信息公开工作年度报告"
#: shown for a narrative section with no text at all (rule T6 / T2 ... report it too)
EMPTY_SECTION = "（本部分未填写。）"
#: the date line of the signature block when no date is filled in (to be completed by hand)
DATE_BLANK = "　　年　　月　　日"
#: what every page of a report exported despite error-level findings says (``--force``)
UNCHECKED_MARK = spec.UNCHECKED_MARK
#: the colour (RGB hex) of that marking in the Word file and on the web page
UNCHECKED_COLOUR = "C00000"


# ---- text hygiene ---------------------------------------------------------------------------------------------

#: characters XML 1.0 forbids (Word and HTML cannot carry them): C0 controls but tab and newline, lone surrogates
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n|\r|\u2028|\u2029|\x0b|\x0c|\x85")


def clean(text: str) -> str:
    """Text safe for XML: newlines normalised to \\n, forbidden control characters removed."""
    return _XML_INVALID.sub("", _NEWLINES.sub("\n", text))


def paragraphs(text: str) -> list[str]:
    """A narrative cell's paragraphs: one per line, surrounding blanks (incl. full-width) stripped, empty lines
    dropped. This is exactly what a reader gets back from the exported document."""
    return [p for p in (line.strip() for line in clean(text).split("\n")) if p]


# ---- the tables -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridCell:
    """One origin cell of an official table grid (1-based, relative to the table)."""

    row: int
    col: int
    rowspan: int
    colspan: int
    text: str
    header: bool = False
    key: str = ""  # the data key of a number cell; "" for a label

    @property
    def is_data(self) -> bool:
        return bool(self.key)


@dataclass(frozen=True)
class Slot:
    """A position of a table row as Word lays it out: an origin cell, or the continuation of a cell merged
    down from above (``continued``)."""

    cell: GridCell
    continued: bool


@dataclass(frozen=True)
class TableBlock:
    table_id: str
    n_rows: int
    n_cols: int
    header_rows: int
    cells: tuple[GridCell, ...]
    #: relative column widths (from the spec)
    widths: tuple[float, ...]

    def rows(self) -> list[list[Slot]]:
        """Row by row, the slots Word writes (one per ``w:tc``): origins and vertical continuations."""
        origin: dict[tuple[int, int], GridCell] = {}
        for c in self.cells:
            for r in range(c.row, c.row + c.rowspan):
                origin[(r, c.col)] = c
        out: list[list[Slot]] = []
        for r in range(1, self.n_rows + 1):
            row: list[Slot] = []
            col = 1
            while col <= self.n_cols:
                c = origin[(r, col)]
                row.append(Slot(c, c.row != r))
                col += c.colspan
            out.append(row)
        return out


def format_number(v: int | float) -> str:
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):  # exact, however large (float() of a sum of 1e308s would overflow)
        return str(v)
    if not math.isfinite(v):
        return str(v)
    if v.is_integer():
        return str(int(v))
    return f"{v:.4f}".rstrip("0").rstrip(".")


def table_texts(data: ReportData) -> dict[str, str]:
    """The text every table cell shows: the number the validator sees; a value that is not a valid number is
    shown as typed (the check reports it); a blank count is 0."""
    nums = derive.effective_values(data)
    out: dict[str, str] = {}
    for key, cell in spec.DATA_CELLS.items():
        n = nums.get(key)
        if n is not None:
            out[key] = format_number(n)
        else:
            out[key] = "" if cell.derived or key in data.missing else clean(data.text(key)).replace("\n", " ")
    return out


def grid(table: spec.Table, texts: Mapping[str, str]) -> TableBlock:
    """The official grid of ``table`` (labels, merges and data cells from the spec) with ``texts`` filled in."""
    cells = [GridCell(lab.row, lab.col, lab.rowspan, lab.colspan, lab.text, lab.header) for lab in table.labels]
    cells += [GridCell(c.row, c.col, 1, c.colspan, texts.get(c.key, ""), False, c.key) for c in table.cells]
    cells.sort(key=lambda c: (c.row, c.col))
    return TableBlock(table.id, table.n_rows, table.n_cols, table.header_rows, tuple(cells), table.col_widths)


# ---- the document ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Title:
    agency: str
    rest: str  # "2023年政府信息公开工作年度报告"

    @property
    def text(self) -> str:
        return self.agency + self.rest


@dataclass(frozen=True)
class Heading:
    level: int  # 1: 一、…  2: （一）…
    text: str
    key: str = ""  # the narrative field a level-2 heading introduces


@dataclass(frozen=True)
class Para:
    text: str
    #: where it comes from: a narrative field key, "opening", "draft.<id>", or "empty" (EMPTY_SECTION)
    key: str = ""
    #: set flush left (顶格, no first-line indent), as the addressee line of an official document
    flush: bool = False


@dataclass(frozen=True)
class Signature:
    agency: str  # "" when missing (the line is left out)
    date: str  # "2024年1月17日", or DATE_BLANK


Block = Heading | Para | TableBlock | Signature


@dataclass(frozen=True)
class Unchecked:
    """The marking of a report exported although the check found errors: ``mark`` on every page (Word header,
    printed page's margin, first line of the text), ``note`` in the title area."""

    mark: str
    note: str


def unchecked(errors: int) -> Unchecked:
    """The marking of a report whose workbook has ``errors`` error-level findings."""
    return Unchecked(UNCHECKED_MARK, f"{UNCHECKED_MARK}：工作簿校验发现 {errors} 个错误，本稿仅供核对，不得发布。"
                                     + spec.UNCHECKED_NOTE_END)


@dataclass(frozen=True)
class Document:
    title: Title
    blocks: tuple[Block, ...]
    file_stem: str
    #: set when the report did not pass the check (exported anyway, as a draft)
    unchecked: Unchecked | None = None
    #: who wrote it, for the file's properties ("": the title's agency)
    author: str = ""
    #: (field label, the piece removed) of each numbered heading pasted with a 正文 cell's text and left out of
    #: the document, which gives the field its own heading (narrative.strip_numbering)
    stripped: tuple[tuple[str, str], ...] = ()

    def iter(self, kind: type[Block]) -> Iterator[Block]:
        return (b for b in self.blocks if isinstance(b, kind))


CN_ORDINALS = "一二三四五六七八九十"


def title_rest(year: int | None) -> str:
    return f"{year}年{TITLE_SUFFIX}" if year else TITLE_SUFFIX


def opening(data: ReportData) -> str:
    """The opening paragraph: the basis (条例, 国办公开办函〔2021〕30号), the six parts, the statistic period."""
    who = data.agency or "本机关"
    year = data.year
    parts = "".join(f"“{s.title}”" for s in spec.SECTIONS)
    period = f"{year}年1月1日至12月31日" if year else "本年度1月1日至12月31日"
    return (f"根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人民共和国政府信息公开工作年度报告格式》"
            f"（{spec.FORMAT_BASIS}）要求，{who}编制了{f'{year}年度' if year else '本年度'}政府信息公开工作年度报告。"
            f"本报告由{parts}{CN_ORDINALS[len(spec.SECTIONS) - 1]}部分组成。"
            f"本报告中所列数据的统计期限为{period}。")


def date_text(data: ReportData) -> str:
    d = data.report_date
    return f"{d.year}年{d.month}月{d.day}日" if d else DATE_BLANK


def wants_drafts(data: ReportData) -> bool:
    """The clerk's choice on 基本信息: export the drafted sentences instead of the typed text."""
    return data.text("meta.use_drafts") == spec.USE_DRAFTS_YES


def field_text(data: ReportData, key: str, *, use_drafts: bool = False,
               numbers: Mapping[str, int | float | None] | None = None) -> str:
    """The text a narrative field contributes to the document (the draft instead when asked and computable)."""
    if use_drafts:
        draft = next((d for d in drafts.DRAFTS if d.field == key), None)
        if draft is not None:
            nums = numbers if numbers is not None else derive.effective_values(data)
            text = drafts.render(draft, nums.get)
            if text is not None:
                return text
    text = clean(data.text(key))
    if not spec.FIELDS_BY_KEY[key].required and not narrative.has_text(text):
        return ""  # an optional field saying "无" is left out
    return text


def stripped_text(data: ReportData, key: str, *, use_drafts: bool = False,
                  numbers: Mapping[str, int | float | None] | None = None) -> tuple[str, list[str]]:
    """:func:`field_text` without the numbered heading pasted with it (narrative.strip_numbering: the document
    gives the field its own), and the pieces removed."""
    text = field_text(data, key, use_drafts=use_drafts, numbers=numbers)
    return narrative.strip_numbering(key, text)


def _narrative_blocks(data: ReportData, section: str, use_drafts: bool,
                      numbers: Mapping[str, int | float | None],
                      stripped: list[tuple[str, str]] | None = None) -> list[Block]:
    out: list[Block] = []
    n = 0
    for f in spec.narrative_fields(section):
        text, removed = stripped_text(data, f.key, use_drafts=use_drafts, numbers=numbers)
        if stripped is not None:
            stripped += [(f.label, piece) for piece in removed]
        paras = paragraphs(text)
        if not paras:
            continue
        if not f.lead:  # a lead paragraph goes under the section heading, before the numbered parts, unheaded
            out.append(Heading(2, f"（{CN_ORDINALS[n]}）{f.label}", f.key))
            n += 1
        out += [Para(p, f.key) for p in paras]
    return out or [Para(EMPTY_SECTION, "empty")]


def build(data: ReportData, *, use_drafts: bool = False, fallback_stem: str = "", errors: int = 0) -> Document:
    """The document of one report. Never fails on missing or odd values: a missing agency or date leaves its
    place blank, an empty section says so, text is cleaned for XML. ``errors``: the number of error-level
    findings of the workbook; when not 0 the document is marked :data:`UNCHECKED_MARK` on every page."""
    agency = clean(data.agency).replace("\n", " ").strip()
    numbers = derive.effective_values(data)
    texts = table_texts(data)
    blocks: list[Block] = [Para(opening(data), "opening")]
    stripped: list[tuple[str, str]] = []
    for sec in spec.SECTIONS:
        blocks.append(Heading(1, sec.heading))
        if sec.narrative:
            blocks += _narrative_blocks(data, sec.number, use_drafts, numbers, stripped)
            continue
        table = next(t for t in spec.TABLES if t.number == sec.number)
        if use_drafts:
            for d in drafts.DRAFTS:
                if d.section == sec.number and not d.field:
                    text = drafts.render(d, numbers.get)
                    if text:
                        blocks.append(Para(text, f"draft.{d.id}"))
        blocks.append(grid(table, texts))
    blocks.append(Signature(agency, date_text(data)))
    title = Title(agency, title_rest(data.year))
    return Document(title, tuple(blocks), file_stem(agency, data.year, fallback_stem),
                    unchecked(errors) if errors else None, stripped=tuple(stripped))


# ---- file names -----------------------------------------------------------------------------------------------

#: what never goes into a file name: path separators and the characters Windows forbids, control characters (C0
#: and C1) and lone surrogates (a file system cannot encode them)
_UNSAFE = re.compile('[\\\\/:*?"<>|\x00-\x1f\x7f-\x9f\ud800-\udfff]+')
#: names Windows keeps for devices, also with an extension or trailing spaces ("CON", "con.txt", "COM1 .docx")
WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                              *(f"{dev}{n}" for dev in ("COM", "LPT") for n in "0123456789¹²³")})
#: keeps a name well under the 255-byte limit of common file systems in UTF-8 (3 bytes a Chinese character)
MAX_STEM = 70


def safe_name(text: str, fallback: str = "", *, max_chars: int = MAX_STEM) -> str:
    """One file or folder name made from text a workbook, a roster or a report chose (an agency name): the one
    sanitiser of the package (export files, distributed templates, the server's export folders).

    NFC; each run of path separators, characters Windows forbids (``\\/:*?"<>|``), control characters and lone
    surrogates becomes one "_"; invisible format characters (zero-width, bidirectional overrides) are dropped;
    runs of white space become one space; at most ``max_chars`` characters; no leading or trailing space or dot
    (Windows drops them); a Windows device name, also with an extension ("CON", "nul.txt", "COM1 .docx"), gets a
    leading "_". ``fallback`` (as given) when nothing is left."""
    s = _clean(text, max_chars)
    if not s:
        return fallback
    if s.split(".")[0].rstrip(" ").upper() in WINDOWS_RESERVED:
        s = ("_" + s)[:max_chars].rstrip(" .")
    return s


def _clean(text: str, max_chars: int) -> str:
    s = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch) != "Cf")
    s = _UNSAFE.sub("_", s)
    return re.sub(r"\s+", " ", s).strip(" .")[:max_chars].strip(" .")


def file_stem(agency: str, year: int | None, fallback: str = "") -> str:
    """``<机关名称><年>年政府信息公开工作年度报告`` made safe for file systems (:func:`safe_name`); the workbook's stem
    stands in for a missing agency."""
    rest = title_rest(year)
    stand_in = _clean(fallback, MAX_STEM)
    head = _clean(agency, MAX_STEM - len(rest)) or (stand_in + "-" if stand_in else "")
    return safe_name(head[: MAX_STEM - len(rest)] + rest)


# ---- plain text -----------------------------------------------------------------------------------------------

def table_text_lines(block: TableBlock) -> list[str]:
    lines: list[str] = []
    for row in block.rows():
        lines += ["\t" + ("" if s.continued else s.cell.text) for s in row]
        lines.append("")
    return lines


def to_text(doc: Document) -> str:
    """The report as plain text in the shape of shared/examples/ (Word's own text export)."""
    lines: list[str] = [doc.unchecked.note, ""] if doc.unchecked else []
    lines += [*([doc.title.agency] if doc.title.agency else []), doc.title.rest, ""]
    for b in doc.blocks:
        if isinstance(b, Heading | Para):
            lines.append(b.text)
        elif isinstance(b, TableBlock):
            lines += table_text_lines(b)
            lines.append("")
        else:
            lines += [*([b.agency] if b.agency else []), b.date]
    return "\n".join(lines) + "\n"
