"""File-level helpers shared by every adapter: the guarded opener every read goes through (what a file is, and
limits that keep a hostile file from choosing how much time and memory a read takes), and writing atomically."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .. import spec
from ..catalogue import file_error


class ReadError(Exception):
    """A file that cannot be read as a report workbook: one of the catalogue's file errors (``code``, see
    :data:`xl_addin.catalogue.FILE_ERRORS`); the message is Chinese and names the file."""

    def __init__(self, path: str | os.PathLike[str], code: str, *, detail: str = "", sheet: str = "",
                 cell: str = "") -> None:
        self.error = file_error(code)
        self.path, self.code, self.detail, self.sheet, self.cell = str(path), code, detail, sheet, cell
        self.reason = self.error.text(detail=detail)
        where = "".join(p for p in (f" 工作表“{sheet}”" if sheet else "", f" 单元格 {cell}" if cell else ""))
        super().__init__(f"{self.path}{where}：{self.reason}")


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

MB = 1 << 20
#: a returned workbook is some 60 KB; these bound what any file may make a read cost
MAX_FILE_BYTES = 64 * MB  # the file on disk
MAX_MEMBERS = 4000  # parts in the zip archive
MAX_PART_BYTES = 128 * MB  # one part, uncompressed (a sheet of the template is under 1 MB)
MAX_TOTAL_BYTES = 512 * MB  # all parts, uncompressed
MAX_RATIO, RATIO_FLOOR = 100, 8 * MB  # a part that large may not expand more than this (a zip bomb)
#: reading or writing a whole workbook with openpyxl (fill, put, the reference reader) holds all of it in memory
MAX_LOAD_BYTES = 48 * MB
#: the template's sheets stay far inside this grid; a cell beyond it, or a merge larger than this, is tampering
#: (S2) and must not reach python-calamine (which allocates every cell up to the last) or openpyxl
GRID_ROWS, GRID_COLS, MAX_MERGE_CELLS = 5000, 64, 20000
#: the namespace of a workbook saved as "Strict Open XML"
STRICT_NS = b"http://purl.oclc.org/ooxml/spreadsheetml/main"


def open_archive(path: str | os.PathLike[str], *, test_members: bool = True,
                 data: bytes | None = None, load: bool = False) -> tuple[str, zipfile.ZipFile]:
    """The kind of spreadsheet file, "xlsx" (any OOXML workbook) or "ods", and its open archive (the caller closes
    it), so a reader parses the zip directory once; raises ReadError for anything else. ``data``: the file's
    bytes, already read (the archive is then read from memory).

    ``test_members=False`` (bulk reading) skips decompressing every member to test its checksum: the parts a
    reader then reads are checked as they are read, only damage in a part no reader needs goes unnoticed."""
    p = Path(path)
    if data is None:
        check_regular(p)
        try:
            with p.open("rb") as fh:
                head = fh.read(8)
        except OSError as exc:
            raise ReadError(p, "unopenable", detail=str(exc.strerror or exc)) from None
    else:
        if len(data) > MAX_FILE_BYTES:
            raise ReadError(p, "too-large", detail=f"{len(data) // MB} MB，上限 {MAX_FILE_BYTES // MB} MB")
        head = data[:8]
    if not head:
        raise ReadError(p, "empty")
    if head == _OLE_MAGIC:
        if _ole_has_stream(p, "EncryptedPackage"):
            raise ReadError(p, "encrypted")
        raise ReadError(p, "legacy-xls")
    if head[:4] != b"PK\x03\x04":
        raise ReadError(p, "not-xlsx")
    try:
        zf = zipfile.ZipFile(p if data is None else io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ReadError(p, "bad-zip") from None
    try:
        names = set(zf.namelist())
        if "mimetype" in names and b"spreadsheet" in zf.read("mimetype"):
            return "ods", zf
        if "xl/workbook.xml" not in names:
            raise ReadError(p, "not-workbook")
        check_archive(zf, p, load=load)
        if STRICT_NS in zf.read("xl/workbook.xml")[:4096]:
            raise ReadError(p, "strict-ooxml")
        bad = first_bad_member(zf) if test_members else None
        if bad is not None:
            raise ReadError(p, "bad-member", detail=bad)
    except zipfile.BadZipFile:
        zf.close()
        raise ReadError(p, "bad-zip") from None
    except BaseException:
        zf.close()
        raise
    return "xlsx", zf


def first_bad_member(zf: zipfile.ZipFile) -> str | None:
    """The name of the first member whose data is damaged (checksum, or compressed data zlib cannot inflate,
    which ``ZipFile.testzip`` lets through as ``zlib.error``), or None."""
    for info in zf.infolist():
        try:
            with zf.open(info) as fh:
                while fh.read(1 << 20):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError):
            return info.filename
    return None


def check_regular(path: str | os.PathLike[str]) -> os.stat_result:
    """The file's status, when it is a regular file no larger than MAX_FILE_BYTES; else ReadError -- before it is
    opened, so a named pipe or a device never blocks the read."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ReadError(p, "not-found") from None
    except OSError as exc:
        raise ReadError(p, "unopenable", detail=str(exc.strerror or exc)) from None
    if stat.S_ISDIR(st.st_mode):
        raise ReadError(p, "directory")
    if not stat.S_ISREG(st.st_mode):
        raise ReadError(p, "not-regular")
    if st.st_size > MAX_FILE_BYTES:
        from ..importers.document import REPORT_SUFFIXES

        code = "report-too-large" if p.suffix.lower() in REPORT_SUFFIXES else "too-large"  # no workbook advice
        raise ReadError(p, code, detail=f"{st.st_size // MB} MB，上限 {MAX_FILE_BYTES // MB} MB")
    return st


def read_guarded(path: str | os.PathLike[str]) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file within the size limit (:func:`check_regular`), and its status."""
    st = check_regular(path)
    limit = MAX_FILE_BYTES + 1
    try:
        with open(path, "rb") as fh:
            # read(limit) alone would allocate the whole limit for every file; the size just seen is asked for
            # (and one byte more), then the rest up to the limit when the file has grown since
            data = fh.read(min(st.st_size + 1, limit))
            if len(data) == st.st_size + 1 < limit:
                data += fh.read(limit - len(data))
            return data, st
    except OSError as exc:
        raise ReadError(path, "unopenable", detail=str(exc.strerror or exc)) from None


@dataclass(frozen=True)
class ArchiveLimits:
    """What a zip archive's directory may promise before a read refuses it: how many parts, a part's and all parts'
    uncompressed size, how far a part above ``ratio_floor`` may expand (a zip bomb); past them the file error
    ``code``. ``big``: parts allowed more, by name: (their own size limit, the file error past it)."""

    members: int = MAX_MEMBERS
    part: int = MAX_PART_BYTES
    total: int = MAX_TOTAL_BYTES
    ratio: int = MAX_RATIO
    ratio_floor: int = RATIO_FLOOR
    code: str = "zip-bomb"
    big: Mapping[str, tuple[int, str]] = field(default_factory=dict)


#: a workbook's limits
WORKBOOK_ARCHIVE = ArchiveLimits()


def check_archive(zf: zipfile.ZipFile, path: str | os.PathLike[str], *, load: bool = False,
                  limits: ArchiveLimits = WORKBOOK_ARCHIVE) -> None:
    """Refuse an archive whose directory promises more than a read should take (``limits``; default: a
    workbook's): too many parts, a part or the whole too large uncompressed, a part that expands like a zip bomb.
    zipfile never yields more than a part's declared size, so the declared sizes bound every later read. ``load``:
    the whole workbook is about to be loaded into memory (openpyxl), which takes a tighter limit."""
    infos = zf.infolist()
    code = limits.code
    if len(infos) > limits.members:
        raise ReadError(path, code, detail=f"{len(infos)} 个部件，上限 {limits.members}")
    total = 0
    for info in infos:
        size, name = info.file_size, info.filename[:80]
        total += size
        limit, over = limits.big.get(info.filename, (limits.part, ""))
        if size > limit:
            if over:
                raise ReadError(path, over)
            raise ReadError(path, code, detail=f"{name} 解压后 {size // MB} MB，上限 {limit // MB} MB")
        if size > limits.ratio_floor and size > limits.ratio * max(info.compress_size, 1):
            raise ReadError(path, code, detail=f"{name} 压缩比超过 {limits.ratio} 倍")
    if total > limits.total:
        raise ReadError(path, code, detail=f"解压后共 {total // MB} MB，上限 {limits.total // MB} MB")
    if load and total > MAX_LOAD_BYTES:
        raise ReadError(path, "too-large", detail=f"解压后共 {total // MB} MB，整本读入的上限 {MAX_LOAD_BYTES // MB} MB")


#: a cell reference with two or more column letters or a row of four digits or more (a row's own r="" has no
#: letters): the rare candidates for a cell beyond the grid, found in one C-level pass
_FAR_REF = re.compile(rb'\sr=["\']([A-Z]{2,3}[0-9]+|[A-Z][0-9]{4,7})["\']')
_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\sref=["\']([A-Z]{1,3}[0-9]+):([A-Z]{1,3}[0-9]+)["\']')


def beyond(ref: str) -> bool:
    """Whether an A1 cell lies beyond the grid."""
    row, col = spec.cell_index(ref)
    return row > GRID_ROWS or col > GRID_COLS


_TWO_LETTERS = re.compile(rb'r=["\'][A-Z][A-Z]')
_ROW_NUMBER = re.compile(rb'\sr=["\']([0-9]+)["\']')


def outside_grid(xml: bytes) -> list[str]:
    """The cells beyond the grid and the oversized merges of a sheet part (A1 text), from a scan of its bytes:
    two C-level searches rule out nearly every sheet, the rest is looked at cell by cell."""
    out: list[str] = []
    last_row = max(xml.rfind(b"<row "), xml.rfind(b":row "))
    m_row = _ROW_NUMBER.search(xml, last_row) if last_row >= 0 else None
    if _TWO_LETTERS.search(xml) or (m_row is not None and int(m_row.group(1)) > GRID_ROWS):
        out = [ref for m in _FAR_REF.finditer(xml) if beyond(ref := m.group(1).decode())]
    at = xml.find(b"mergeCell ")
    if at >= 0:
        out += oversized_merges(frozenset(f"{a.decode()}:{b.decode()}" for a, b in _MERGE_REF.findall(xml, at - 8)))
    return out


@functools.lru_cache(maxsize=64)
def oversized_merges(merges: frozenset[str]) -> list[str]:
    """Those of a sheet's merged ranges too large or beyond the grid (the same set in every copy of a template)."""
    out = []
    for rng in sorted(merges):
        a, _, b = rng.partition(":")
        try:
            (r1, c1), (r2, c2) = spec.cell_index(a), spec.cell_index(b or a)
        except ValueError:
            continue
        if (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1) > MAX_MERGE_CELLS or beyond(b or a):
            out.append(rng)
    return out


def validated_cells(ref: str) -> list[str]:
    """The A1 cells of a data validation's range ("D7", "D7:I29"); none for a range beyond the grid."""
    a, _, b = ref.replace("$", "").partition(":")
    try:
        (r1, c1), (r2, c2) = spec.cell_index(a), spec.cell_index(b or a)
    except ValueError:
        return []
    if max(r1, r2) > GRID_ROWS or max(c1, c2) > GRID_COLS:
        return []
    return [f"{spec.col_letter(c)}{r}" for r in range(min(r1, r2), max(r1, r2) + 1)
            for c in range(min(c1, c2), max(c1, c2) + 1)]


def strip_outside(xml: bytes, refs: list[str]) -> bytes:
    """The sheet part without the cells and merges :func:`outside_grid` found (what the readers then read)."""
    for ref in refs:
        if ":" in ref:
            a, b = (re.escape(x.encode()) for x in ref.split(":"))
            xml = re.sub(rb'<(?:\w+:)?mergeCell\b[^>]*?\sref="' + a + b":" + b + rb'"[^>]*/>', b"", xml)
        else:
            r = re.escape(ref.encode())
            xml = re.sub(rb'<((?:\w+:)?c)\b[^>]*?\sr="' + r + rb'"(?:[^>]*/>|[^>]*>.*?</\1>)', b"", xml, flags=re.S)
    return xml


def without_outside(zf: zipfile.ZipFile, parts: list[str],
                    found: dict[str, list[str]] | None = None) -> tuple[bytes, dict[str, list[str]]] | None:
    """When any of the sheet ``parts`` reaches beyond the grid: the archive rebuilt without those cells and merges
    (in memory), and part -> what was left out; None when all are inside (the common case: one C-level scan).
    ``found``: part -> what :func:`outside_grid` found, when the caller scanned the parts already."""
    if found is None:
        found = {p: refs for p in parts if (refs := outside_grid(zf.read(p)))}
    if not found:
        return None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zf.infolist():
            body = zf.read(info.filename)
            out.writestr(info.filename, strip_outside(body, found[info.filename]) if info.filename in found else body)
    return buf.getvalue(), found


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """part path -> sheet name, from the workbook part and its relationships."""
    import xml.etree.ElementTree as ET

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    pns = "{http://schemas.openxmlformats.org/package/2006/relationships}"
    targets = {r.get("Id"): r.get("Target", "") for r in
               ET.fromstring(zf.read("xl/_rels/workbook.xml.rels")).iter(f"{pns}Relationship")}
    out = {}
    for sh in ET.fromstring(zf.read("xl/workbook.xml")).iter(f"{ns}sheet"):
        target = targets.get(sh.get(f"{rns}id"), "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        out[part] = sh.get("name", "")
    return out


def _ole_has_stream(path: Path | bytes, name: str) -> bool:
    """Whether the OLE compound file at ``path`` (or of these bytes) has the stream ``name``."""
    try:
        import olefile  # shipped with oletools / msoffcrypto-tool
    except ImportError:  # pragma: no cover - both are installed with the package
        return False
    try:
        with olefile.OleFileIO(path if isinstance(path, bytes) else str(path)) as ole:
            return bool(ole.exists(name))
    except Exception:  # a damaged OLE file: olefile raises OSError, ValueError and others
        return False


def is_encrypted_ooxml(data: bytes) -> bool:
    """Whether ``data`` is an Office 2007+ document saved with an open password (an OLE file holding the
    encrypted package), whatever its name says."""
    return data[:8] == _OLE_MAGIC and _ole_has_stream(data, "EncryptedPackage")


def _mode_for(target: Path) -> int:
    """The permissions a plainly created file would get (mkstemp makes it owner-only): the replaced file's own
    mode, else 0666 less the umask, so files written for a shared folder stay readable by colleagues."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one step. ``mode``: the
    file's permissions (a secret: 0o600, never readable by others even for a moment), else those of the file it
    replaces or the umask's."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with tmp_path.open("rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, _mode_for(target) if mode is None else mode)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write(target: str | os.PathLike[str], write: Callable[[Path], object], *, mode: int | None = None) -> Path:
    with atomic_path(target, mode=mode) as tmp:
        write(tmp)
    return Path(target)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write(target, lambda p: p.write_bytes(data))


def atomic_write_text(target: str | os.PathLike[str], text: str, *, mode: int | None = None) -> Path:
    return atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"), mode=mode)
