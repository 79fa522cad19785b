"""An imported report as our template filled (every value as read, the totals as printed: see
:mod:`xl_addin.importers.record`) plus the 导入记录 sheet (every cell's source text and what was uncertain) and the
very hidden evidence sheet (:data:`~xl_addin.importers.record.EVIDENCE_SHEET`) that lets ``check`` on the workbook
find what it finds on the report. The report's text is written as text everywhere (a line starting with "=" never
becomes a formula, and carries Excel's quote prefix). Written atomically.

Fast: the template with the two extra sheets is built with openpyxl once per process (:func:`_package`, ~1 s of
styling) and every import is a patch of its XML (:mod:`xl_addin.adapters.xlsx_patch`): the named cells rewritten,
the two sheets' rows generated, the parts that do not change compressed once. Everything the template owns --
styles, protection, validations, defined names, the formulas of the cells not written -- is kept byte for byte.
"""

from __future__ import annotations

import functools
import io
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill

from ..importers.parse import Imported
from ..importers.record import EVIDENCE_SHEET, HEADERS, RECORD_SHEET, TOTAL_AS_PRINTED, evidence_rows, rows, written
from ..model import CellValue
from .fast_reader import workbook_parts
from .fileio import atomic_write_bytes
from .template_builder import FORMULA_STARTS, build_workbook
from .xlsx_patch import Patcher, PatchError, _cell

_UNCERTAIN = PatternFill("solid", fgColor="FFF2CC")
_WIDTHS = (40, 14, 16, 60, 14, 60)
_COLUMNS = "ABCDEF"
#: the 导入记录 sheet's prototype rows (styles only: replaced by each import's rows)
_TITLE_ROW, _HEADER_ROW, _PLAIN_ROW, _UNCERTAIN_ROW = 1, 2, 3, 4


def _template_bytes() -> bytes:
    """The template with an empty 导入记录 sheet (its prototype rows give the styles) and the evidence sheet."""
    wb = build_workbook({}, None)
    ws = wb.create_sheet(RECORD_SHEET)
    ws.cell(_TITLE_ROW, 1, "")
    for n in range(1, len(HEADERS) + 1):
        ws.cell(_HEADER_ROW, n, "").font = Font(bold=True)
        ws.cell(_PLAIN_ROW, n, "").alignment = Alignment(wrap_text=True, vertical="top")
        c = ws.cell(_UNCERTAIN_ROW, n, "")
        c.alignment = Alignment(wrap_text=True, vertical="top")
        c.fill = _UNCERTAIN
    for col, width in zip(_COLUMNS, _WIDTHS, strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    ev = wb.create_sheet(EVIDENCE_SHEET)
    ev.cell(1, 1, "")
    ev.sheet_state = "veryHidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_SHEET_DATA = re.compile(r"<sheetData\s*/>|<sheetData>.*</sheetData>", re.S)
_DIMENSION = re.compile(r'<dimension ref="[^"]*"\s*/>')
_XFS = re.compile(r"<cellXfs[^>]*>(.*?)</cellXfs>", re.S)
_XF = re.compile(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.S)


@dataclass(frozen=True)
class _Sheet:
    """A sheet part whose rows each import writes whole: the XML around its sheetData."""

    part: str
    head: str
    tail: str

    def render(self, cells: Sequence[Sequence[tuple[str | None, CellValue]]]) -> bytes:
        """``cells``: rows of (style id, value) from A1."""
        out = [self.head.replace("@DIM@", f"A1:{_COLUMNS[max(len(r) for r in cells) - 1]}{len(cells)}"), "<sheetData>"]
        for r, row in enumerate(cells, start=1):
            out.append(f'<row r="{r}">')
            out += [_cell(f"{_COLUMNS[c]}{r}", style, v) for c, (style, v) in enumerate(row) if v is not None]
            out.append("</row>")
        out += ["</sheetData>", self.tail]
        return "".join(out).encode("utf-8")


def _cut_sheet(part: str, xml: str) -> _Sheet:
    m = _SHEET_DATA.search(xml)
    if m is None:
        raise PatchError(f"{part}：没有 sheetData")
    head = _DIMENSION.sub('<dimension ref="@DIM@"/>', xml[:m.start()], count=1)
    return _Sheet(part, head, xml[m.end():])


def _style_of(xml: str, a1: str) -> str | None:
    m = re.search(r'<c r="' + a1 + r'"[^>]*?\ss="(\d+)"', xml)
    return m.group(1) if m else None


@dataclass(frozen=True)
class _Package:
    """The import template, parsed once: what each import patches (see the module doc)."""

    base: bytes  # the zip of every part no import changes
    compress_type: dict[str, int]
    patcher: Patcher  # the template's named cells: where each key is, each part cut at them
    quoted: dict[str | None, str]  # a named cell's style -> the same with Excel's quote prefix
    record: _Sheet
    styles: tuple[str | None, str | None, str | None, str | None]  # title, header, plain, uncertain
    evidence: _Sheet
    fingerprint: str


def _with_quote_prefix(styles: str, ids: set[str | None]) -> tuple[str, dict[str | None, str]]:
    """styles.xml with a copy of each cell format ``ids`` that has Excel's quote prefix, and id -> its copy's id."""
    m = _XFS.search(styles)
    if m is None:
        raise PatchError("styles.xml：没有 cellXfs")
    xfs = _XF.findall(m.group(1))
    added, quoted = [], {}
    for sid in sorted(ids, key=lambda s: -1 if s is None else int(s)):
        xf = xfs[int(sid) if sid is not None else 0]
        added.append(re.sub(r'\squotePrefix="[^"]*"', "", xf).replace("<xf", '<xf quotePrefix="1"', 1))
        quoted[sid] = str(len(xfs) + len(added) - 1)
    body = m.group(1) + "".join(added)
    head = re.sub(r'count="\d+"', f'count="{len(xfs) + len(added)}"', styles[m.start():m.start(1)], count=1)
    return styles[:m.start()] + head + body + styles[m.end(1):], quoted


@functools.cache
def _package() -> _Package:
    from .. import fingerprint, structure

    data = _template_bytes()
    patcher = Patcher(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        members = {i.filename: zf.read(i.filename) for i in infos}
        sheet_parts, _, _ = workbook_parts(zf)
    part_of = dict(sheet_parts)
    record_xml = members[part_of[RECORD_SHEET]].decode("utf-8")
    styles = tuple(_style_of(record_xml, f"A{r}") for r in (_TITLE_ROW, _HEADER_ROW, _PLAIN_ROW, _UNCERTAIN_ROW))
    text_styles = {slot[1] for cut in patcher.parts.values() for slot in cut.slots}
    styles_xml, quoted = _with_quote_prefix(members["xl/styles.xml"].decode("utf-8"), text_styles)
    members["xl/styles.xml"] = styles_xml.encode("utf-8")
    changed = set(patcher.parts) | {part_of[RECORD_SHEET], part_of[EVIDENCE_SHEET]}
    base = io.BytesIO()
    with zipfile.ZipFile(base, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for info in infos:
            if info.filename not in changed:
                out.writestr(info, members[info.filename], compress_type=info.compress_type, compresslevel=6)
    return _Package(base.getvalue(), {i.filename: i.compress_type for i in infos}, patcher,
                    quoted, _cut_sheet(part_of[RECORD_SHEET], record_xml), styles,  # type: ignore[arg-type]
                    _cut_sheet(part_of[EVIDENCE_SHEET], members[part_of[EVIDENCE_SHEET]].decode("utf-8")),
                    fingerprint.of(structure.expected()))


def _quote_formula_text(pkg: _Package, style: str | None, value: CellValue) -> str | None:
    """A named cell's style for ``value``: with Excel's quote prefix when the text would read as a formula."""
    return pkg.quoted[style] if isinstance(value, str) and value.startswith(FORMULA_STARTS) else style


def _record_cells(pkg: _Package, imported: Imported) -> list[list[tuple[str | None, CellValue]]]:
    title_style, header_style, plain, uncertain_style = pkg.styles
    title = (f"导入自：{Path(imported.data.source).name}　格式：{imported.format}"
             + (f"　旧格式标志：{'、'.join(imported.markers)}" if imported.markers else "")
             + "　表中的合计为报告所印的数字（数值，不是公式），校验据此核对；点“计算合计”可改为公式")
    out: list[list[tuple[str | None, CellValue]]] = [[(title_style, title)], [(header_style, h) for h in HEADERS]]
    for row in rows(imported):
        uncertain = bool(row[-1]) and row[-1] != TOTAL_AS_PRINTED
        style = uncertain_style if uncertain else plain
        out.append([(style, v) for v in row])
    return out


def imported_bytes(imported: Imported) -> bytes:
    """The workbook of ``imported`` (see the module doc), as the bytes of an .xlsx file."""
    pkg = _package()
    cells, _ = written(imported)
    by_part = pkg.patcher.by_part(cells)
    restyle = functools.partial(_quote_formula_text, pkg)
    parts = {part: cut.render(by_part.get(part, {}), restyle).encode("utf-8")
             for part, cut in pkg.patcher.parts.items()}
    parts[pkg.record.part] = pkg.record.render(_record_cells(pkg, imported))
    parts[pkg.evidence.part] = pkg.evidence.render(
        [[(None, a), (None, b)] for a, b in evidence_rows(imported, cells, pkg.fingerprint)])
    out = io.BytesIO(pkg.base)
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for part, xml in parts.items():
            zf.writestr(part, xml, compress_type=pkg.compress_type[part], compresslevel=6)
    return out.getvalue()


def write_imported(imported: Imported, out: str | os.PathLike[str]) -> Path:
    return atomic_write_bytes(out, imported_bytes(imported))
