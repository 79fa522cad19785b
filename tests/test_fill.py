"""fill: derived cells back to live formulas, inputs never touched, atomic, with a backup in place."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
from conftest import Filler

from xl_addin import api, spec, structure


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _inputs(path: Path) -> dict[str, object]:
    wb = openpyxl.load_workbook(path)
    return {k: wb[spec.LAYOUT.locations[k].sheet][spec.LAYOUT.locations[k].a1].value for k in spec.INPUT_KEYS}


def test_fill_restores_overwritten_and_altered_totals_only(filled: Filler, tmp_path: Path) -> None:
    def edit(wb: object) -> None:
        wb["表三"]["J9"] = 5  # type: ignore[index]
        wb["表三"]["D30"] = "=SUM(D9:D20)"  # type: ignore[index]
        wb["表四"]["O7"] = None  # type: ignore[index]
    src = filled({"t3.new.natural": 4, "s1.on_request": "本年度新收政府信息公开申请4件。"}, edit=edit)
    before = _sha(src)
    out = tmp_path / "out.xlsx"
    changes = api.fill(src, out)
    assert {(c.sheet, c.cell) for c in changes} == {("表三", "J9"), ("表三", "D30"), ("表四", "O7")}
    assert {c.old for c in changes} == {"5", "=SUM(D9:D20)", ""}
    assert _sha(src) == before  # the input file is untouched
    assert _inputs(out) == _inputs(src)
    wb = openpyxl.load_workbook(out)
    for key, formula in structure.expected().formulas.items():
        where = spec.LAYOUT.locations[key]
        assert wb[where.sheet][where.a1].value == formula
    assert wb.security.lockStructure and all(ws.protection.sheet for ws in wb.worksheets)
    report = api.check(out)
    assert not report.by_rule("S2") and {f.rule for f in report.findings} == {"A3"}  # 4 new, nothing answered
    assert list(tmp_path.glob(".*tmp")) == []


def test_fill_in_place_keeps_a_backup_and_is_a_no_op_when_intact(filled: Filler) -> None:
    src = filled({"t3.granted.total": 7})
    original = src.read_bytes()
    assert [c.cell for c in api.fill(src, backup=True)] == ["J9"]
    assert Path(str(src) + ".bak").read_bytes() == original
    repaired = src.read_bytes()
    assert api.fill(src, backup=True) == []
    assert src.read_bytes() == repaired


def test_written_files_get_ordinary_permissions_and_keep_those_of_a_replaced_file(filled: Filler,
                                                                                   tmp_path: Path) -> None:
    # files written atomically for a shared folder must stay readable by colleagues (umask, not owner-only)
    import os

    old = os.umask(0o022)
    try:
        out = tmp_path / "模板.xlsx"
        api.build_template(out)
        assert out.stat().st_mode & 0o777 == 0o644
        src = filled({"t3.granted.total": 7})
        os.chmod(src, 0o640)
        api.fill(src, backup=True)
        assert src.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
