"""The fast reader (calamine + XML scan) and the openpyxl reader give the same snapshot of every workbook."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, Filler, need

from xl_addin import api
from xl_addin.adapters.fast_reader import read_fast
from xl_addin.adapters.xlsx_reader import read_workbook


def _tamper(wb: Any) -> None:
    wb["表三"]["C11"] = "1.国家秘密"
    wb["表三"].unmerge_cells("B11:B18")
    wb["表三"]["J9"] = "=SUM(D9:H9)"
    wb["表四"]["E7"] = 3
    wb.security.lockStructure = False
    wb["表二"].protection.sheet = False


CASES = {
    "sample": ({}, None),
    "bad values": ({"t3.new.natural": "三", "t3.new.business": -1, "t3.new.research": 2.5, "t3.partial.legal": None,
                    "t3.new.legal": "=1+1", "t2.fees.amount": 0.12345, "meta.report_date": "2024年2月1日"}, None),
    "tampered": ({}, _tamper),
}


@pytest.mark.parametrize("case", list(CASES))
def test_both_readers_agree(filled: Filler, case: str) -> None:
    changes, edit = CASES[case]
    path = filled(changes, edit=edit)
    assert read_fast(path) == read_workbook(path)
    assert api.check(path, reader="fast") == api.check(path, reader="openpyxl")


def test_both_readers_agree_on_a_blank_template(template: Path) -> None:
    assert read_fast(template) == read_workbook(template)


def test_both_readers_agree_on_a_libreoffice_saved_file() -> None:
    path = DATA / "sample-libreoffice-saved.xlsx"
    assert read_fast(path) == read_workbook(path)
    report = api.check(path)
    assert report.valid and [f.rule for f in report.findings] == ["S2"]


def test_shared_formulas_written_by_a_spreadsheet_are_understood(filled: Filler, tmp_path: Path) -> None:
    """Excel and LibreOffice store copied formulas as shared formulas (one master, dependants with no text)."""
    need("soffice")
    src = filled({"t3.granted.total": 9})  # typed over a total, then repaired by fill -> LibreOffice saves it
    fixed = tmp_path / "fixed.xlsx"
    api.fill(src, fixed)
    out = tmp_path / "lo"
    subprocess.run([shutil.which("soffice") or "soffice", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(fixed)],
                   check=True, capture_output=True, timeout=300)
    saved = out / "fixed.xlsx"
    assert read_fast(saved).formulas == read_workbook(saved).formulas
    assert api.check(saved).valid


def test_a_workbook_of_an_earlier_template_build_still_checks() -> None:
    """A clerk who filled last month's template: the same official grid, an older fingerprint -- checked as usual,
    with a warning to use the newest template, never an error."""
    path = DATA / "earlier-build-libreoffice-saved.xlsx"
    report = api.check(path)
    assert report.valid and {f.code for f in report.findings} == {"S2.protection", "S2.fingerprint"}
