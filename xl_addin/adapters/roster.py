"""Reads the county's roster of reporting agencies (.xlsx/.xls with python-calamine, or .csv in UTF-8 or GBK) and
writes the distribution manifest. Checking the rows is pure (:func:`xl_addin.collect.parse_roster`)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..collect import Roster, RosterError, parse_roster
from ..model import CellValue
from .fileio import atomic_write_bytes

SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")


def read_roster(path: str | os.PathLike[str]) -> Roster:
    """The roster in ``path``. Raises RosterError (Chinese, naming the file and row)."""
    p = Path(path)
    if not p.is_file():
        raise RosterError(f"{p}：名单文件不存在。")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(p)
    elif suffix in SPREADSHEETS:
        rows = _sheet_rows(p)
    else:
        raise RosterError(f"{p}：名单应为 Excel（.xlsx）或 CSV（.csv）文件。")
    return parse_roster(rows, str(p))


def _csv_rows(p: Path) -> list[list[CellValue]]:
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise RosterError(f"{p}：无法打开名单文件（{exc.strerror or exc}）。") from None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise RosterError(f"{p}：无法识别名单文件的编码，请另存为 UTF-8 编码的 CSV 或 .xlsx。")
    try:
        return [list(r) for r in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise RosterError(f"{p}：CSV 格式有误（{exc}）。") from None


def _sheet_rows(p: Path) -> list[list[CellValue]]:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_path(str(p))
        try:
            if not wb.sheet_names:
                raise RosterError(f"{p}：名单工作簿中没有工作表。")
            rows: list[list[Any]] = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        finally:
            wb.close()
    except RosterError:
        raise
    except Exception as exc:  # calamine raises several error types for damaged or encrypted files
        raise RosterError(f"{p}：无法读取名单工作簿（{type(exc).__name__}），文件可能已损坏或设置了密码，"
                          "请在 Excel 中另存为 .xlsx 后重试。") from None
    return [[None if v == "" else v for v in row] for row in rows]


MANIFEST_NAME = "manifest.csv"
MANIFEST_HEADERS = ("文件", "机关名称", "机关类别", "层级", "联系人", "统一社会信用代码", "报告年度", "模板指纹", "SHA-256")


def write_manifest(path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]) -> Path:
    """The manifest as CSV (UTF-8 with BOM, so Excel opens it with the Chinese intact), written atomically."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(MANIFEST_HEADERS)
    for r in rows:
        w.writerow([r.get(h, "") for h in MANIFEST_HEADERS])
    return atomic_write_bytes(path, buf.getvalue().encode("utf-8-sig"))
