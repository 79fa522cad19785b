"""File-level helpers shared by every adapter: telling what a file is, and writing atomically."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

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


def sniff(path: str | os.PathLike[str], *, test_members: bool = True) -> str:
    """The kind of spreadsheet file: "xlsx" (any OOXML workbook) or "ods"; raises ReadError for anything else.

    ``test_members=False`` (bulk reading) skips decompressing every member to test its checksum: the parts a
    reader then reads are checked as they are read, only damage in a part no reader needs goes unnoticed."""
    kind, zf = open_archive(path, test_members=test_members)
    zf.close()
    return kind


def open_archive(path: str | os.PathLike[str], *, test_members: bool = True,
                 data: bytes | None = None) -> tuple[str, zipfile.ZipFile]:
    """:func:`sniff`, returning the open archive as well (the caller closes it), so a reader parses the zip
    directory once. ``data``: the file's bytes, already read (the archive is then read from memory)."""
    p = Path(path)
    if data is None:
        if not p.exists():
            raise ReadError(p, "not-found")
        if p.is_dir():
            raise ReadError(p, "directory")
        try:
            with p.open("rb") as fh:
                head = fh.read(8)
        except OSError as exc:
            raise ReadError(p, "unopenable", detail=str(exc.strerror or exc)) from None
    else:
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
        bad = zf.testzip() if test_members else None
        if bad is not None:
            raise ReadError(p, "bad-member", detail=bad)
    except zipfile.BadZipFile:
        zf.close()
        raise ReadError(p, "bad-zip") from None
    except BaseException:
        zf.close()
        raise
    return "xlsx", zf


def _ole_has_stream(path: Path, name: str) -> bool:
    try:
        import olefile  # shipped with oletools / msoffcrypto-tool
    except ImportError:  # pragma: no cover - both are installed with the package
        return False
    try:
        with olefile.OleFileIO(str(path)) as ole:
            return bool(ole.exists(name))
    except OSError:
        return False


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
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one step."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with tmp_path.open("rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, _mode_for(target))
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write(target: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    with atomic_path(target) as tmp:
        write(tmp)
    return Path(target)


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write(target, lambda p: p.write_bytes(data))


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    return atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))
