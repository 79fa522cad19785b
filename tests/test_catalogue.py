"""The catalogue is the one truth about a finding: every entry fires on a real workbook made to break it, with the
entry's own level, title-worthy message and rule id; checks cannot pick a level of their own; the live sheet, the
docs and the file errors are read from it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Filler, rename_sheet, shared_file

from xl_addin import api, catalogue, docs, live, rules, spec
from xl_addin.catalogue import CATALOGUE, FILE_ERRORS
from xl_addin.model import Severity

Edit = Callable[[Any], None]


def _edit(fn: Edit) -> dict[str, Any]:
    return {"edit": fn}


def _set(sheet: str, a1: str, value: Any) -> Edit:
    def edit(wb: Any) -> None:
        wb[sheet][a1] = value
    return edit


def _unmerge(wb: Any) -> None:
    wb["表三"].unmerge_cells("B11:B18")


def _lock_input(wb: Any) -> None:
    from openpyxl.styles import Protection

    wb["表三"]["D9"].protection = Protection(locked=True)


def _unprotect(wb: Any) -> None:
    wb["表三"].protection.sheet = False


def _delete_sheet(wb: Any) -> None:
    del wb["表四"]


def _rename_sheet(wb: Any) -> None:
    rename_sheet(wb, "表三", "申请情况")


def _drop_validation(wb: Any) -> None:
    wb["表三"].data_validations.dataValidation = []


def _delete_hidden(wb: Any) -> None:
    del wb[spec.HIDDEN_SHEET]


def _delete_names(wb: Any) -> None:
    for name in [n for n in wb.defined_names if n.startswith(spec.NAME_PREFIX)]:
        del wb.defined_names[name]


def _other_fingerprint(wb: Any) -> None:
    ws = wb[spec.HIDDEN_SHEET]
    for row in ws.iter_rows():
        if row[0].value == "fingerprint":
            row[1].value = "0123456789abcdef"


def _other_profile(wb: Any) -> None:
    """The hidden rows a template built under another county's profile carries."""
    from xl_addin import hidden

    ws = wb[spec.HIDDEN_SHEET]
    for r, key, value, _ in hidden.profile_rows({"profile_name": "某县", "profile_title": "某县要求",
                                                  "profile_digest": "0123456789abcdef", "profile_live": "{}"}):
        ws.cell(r, 1, key)
        ws.cell(r, 2, value)


def _split_digits(text: str) -> str:
    """Table 三's first row as a PDF's text layer may give it: 12 new applications extracted as "1", "2"."""
    lines = text.split("\n")
    i = lines.index("\t一、本年新收政府信息公开申请数量")
    lines[i + 1:i + 8] = ["\t1", "\t2", "\t0", "\t0", "\t0", "\t0", "\t0", "\t12"]
    return "\n".join(lines)


#: catalogue code -> (changes to the sample, filled() options, last year's changes or None)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]] = {
    "V1": ({"t3.new.natural": "/"}, {}, None),
    "V2": ({"t2.fees.amount": -1}, {}, None),
    "V2.yuan": ({"t2.fees.amount": 3500}, {}, None),
    "V3": ({"t3.new.natural": None}, {}, None),
    "V4": ({"t2.rules.made": 2, "t2.rules.in_force": 2}, {}, None),
    "A1": ({"t3.granted.total": 5}, {}, None),
    "A2": ({"t3.total.natural": 3}, {}, None),
    "A3": ({"t3.new.research": 2}, {}, None),
    "A4": ({"t4.suit_direct.upheld": 1, "t4.suit_direct.total": 0}, {}, None),
    "A5": ({"t3.new.natural": 10, "t3.granted.natural": 6, "t3.carried_out.natural": 4}, {}, None),
    "A6": ({"t2.normative.made": 3, "t2.normative.in_force": 1}, {}, None),
    "X1": ({}, {}, {"t3.carried_out.natural": 2, "t3.new.natural": 3, "t3.granted.natural": 1}),
    "X2": ({"t2.normative.made": 2, "t2.normative.in_force": 6}, {}, {"t2.normative.in_force": 5}),
    "T1": ({"s1.on_request": "本年度共收到政府信息公开申请99件。"}, {}, None),
    "T2": ({"s6.fees": None}, {}, None),
    "T3": ({"s6.innovation": "无"}, {}, None),
    "T4": ({"meta.kind": "人民政府"}, {}, None),
    "T5": ({"s1.platform": None}, {}, None),
    "T6": ({"s5.problems": "无", "s5.measures": "无。", "s5.last_year_fixes": None}, {}, None),
    "T6.part": ({"s5.measures": ""}, {}, None),
    "T9": ({"s1.platform": "（四）政府信息公开平台建设。本机关依托门户网站公开政府信息。"}, {}, None),
    "S2.sheet": ({}, _edit(_delete_sheet), None),
    "S2.renamed": ({}, _edit(_rename_sheet), None),
    "S2.label": ({}, _edit(_set("表三", "C11", "1.国家秘密")), None),
    "S2.merge": ({}, _edit(_unmerge), None),
    "S2.formula": ({}, _edit(_set("表三", "J9", "=SUM(D9:H9)")), None),
    "S2.literal": ({"t3.granted.total": 1}, {}, None),
    "S2.input": ({"s1.proactive": '=WEBSERVICE("http://evil.example/")'}, {}, None),
    "S2.unlocked": ({}, _edit(_lock_input), None),
    "S2.protection": ({}, _edit(_unprotect), None),
    "S2.fingerprint": ({}, _edit(_other_fingerprint), None),
    "S2.profile": ({}, _edit(_other_profile), None),
    "S2.outside": ({}, {"raw": (b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>')},
                   None),
    "S4": ({"meta.agency": None}, {}, None),
    "V5": ({"t3.new.natural": 1e17, "t3.granted.natural": 1e17 + 1}, {}, None),
    "S2.hidden": ({}, _edit(_delete_hidden), None),
    "S2.validation": ({}, _edit(_drop_validation), None),
    "S2.live": ({}, _edit(_set("表三", "A2", "本表校验通过")), None),
    "S2.names": ({}, _edit(_delete_names), None),
    "T7": ({"s1.proactive": "2022年1月1日至12月31日，本机关主动公开政府信息57条。"}, {}, None),
    "T8": ({"t3.new.natural": 2, "t3.carried_out.natural": 1, "s1.on_request": "本年度共收到申请2件，所有申请均已办结。"},
           {}, None),
    "X3": ({}, {}, {}),  # last year's report word for word
    # published reports (the import says what it found): the real examples, and the seed report edited
    "S3": ({}, {"report": "published/shanghai-municipal-gov-office-2019.txt"}, None),
    "S3.hybrid": ({}, {"report": "published/hongze-district-gov-2023.txt"}, None),
    "S1.variant": ({}, {"report": "published/shuyang-county-drc-2023.html"}, None),
    "S2.drift": ({}, {"report": "published/shuyang-county-drc-2023.html"}, None),
    "V2.unit": ({}, {"report": "published/shanghai-municipal-gov-office-2019.txt"}, None),
    "S1": ({}, {"seed": ("六、其他需要报告的事项", "")}, None),
    "S1.numbered": ({}, {"seed": ("五、存在的主要问题及改进情况", "存在的主要问题及改进情况")}, None),
    "A7": ({}, {"seed": _split_digits}, None),
    "P1": ({"meta.report_date": "2024-02-05"}, {}, None),
    "P1.missing": ({"meta.report_date": None}, {}, None),
    # the scope of a sentence and of the table (issue 22): a 人民政府's report
    "T1.scope": ({"meta.kind": "人民政府",
                  "s1.on_request": "全县共受理政府信息公开申请1件。县政府办代表县政府受理政府信息公开申请5件。"}, {}, None),
    "T1.unsure": ({"meta.kind": "人民政府", "s1.on_request": "县政府办代表县政府受理政府信息公开申请5件。"}, {}, None),
    # what the importer could not read, or read as 0 (contract U): the seed's import props, as the importer writes them
    "P2": ({}, {"imported": {"unread": [{"table": "t3", "what": "table", "keys": [], "why": "列数不符",
                                        "where": "第三部分"}]}}, None),
    "P2.row": ({}, {"imported": {"unread": [{"table": "t3", "what": "row", "keys": ["t3.new.natural", "t3.new.total"],
                                            "why": "分页截断", "where": "第3页"}]}}, None),
    "V3.zero": ({}, {"imported": {"notes": [{"kind": "zero-as", "message": "", "key": "t3.new.legal", "where": "",
                                             "source": "—"}]}}, None),
}


def _imported_seed(changes: dict[str, Any]) -> Any:
    """The seed report imported, its import props changed as the importer of contract U writes them."""
    import dataclasses
    import json

    from xl_addin.model import IMPORT_PROPS_KEY

    data = api.import_report(shared_file("examples/jiangle-industry-bureau-2023.txt")).data
    info = json.loads(data.props[IMPORT_PROPS_KEY])
    info.update(changes)
    return dataclasses.replace(data, props={**data.props, IMPORT_PROPS_KEY: json.dumps(info, ensure_ascii=False)})


def _patched_sheet(path: Path, sheet: str, old: bytes, new: bytes) -> Path:
    import zipfile

    from xl_addin.adapters.fileio import sheet_parts

    out = path.with_name("raw-" + path.name)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        part = next(p for p, n in sheet_parts(zin).items() if n == sheet)
        for info in zin.infolist():
            body = zin.read(info.filename)
            zout.writestr(info, body.replace(old, new) if info.filename == part else body)
    return out


def test_every_catalogue_entry_has_a_case_that_makes_it_fire() -> None:
    assert set(CASES) == set(CATALOGUE)


@pytest.mark.parametrize("code", list(CASES))
def test_each_entry_fires_with_its_own_level_and_message(code: str, filled: Filler, tmp_path: Path) -> None:
    changes, options, last = CASES[code]
    entry = CATALOGUE[code]
    last_year = filled(last, name="上年.xlsx") if last is not None else None
    options = dict(options)
    raw = options.pop("raw", None)
    report, seed = options.pop("report", None), options.pop("seed", None)
    imported = options.pop("imported", None)
    if imported is not None:
        path = None
    elif report is not None:
        path = shared_file(f"examples/{report}")
    elif seed is not None:  # the seed report as published, one thing changed
        text = shared_file("examples/jiangle-industry-bureau-2023.txt").read_text(encoding="utf-8")
        if callable(seed):
            text = seed(text)
        else:
            assert seed[0] in text
            text = text.replace(seed[0], seed[1], 1)
        path = tmp_path / "seed.txt"
        path.write_text(text, encoding="utf-8")
    else:
        path = filled(changes, **options)
    if raw is not None:  # an edit only raw XML can make (openpyxl would refuse or rewrite it)
        path = _patched_sheet(path, "表三", *raw)
    report = api.check(path, last_year=last_year) if path is not None else api.check_data(_imported_seed(imported))
    mine = [f for f in report.findings if f.code == code]
    assert mine, f"{code} did not fire: {[f.code for f in report.findings]}"
    for f in mine:
        assert (f.rule, f.severity) == (entry.rule, entry.severity)
        skeleton = re.sub(r"\{[a-z_]+\}", "", entry.message)
        fixed = [part for part in re.split(r"\{[a-z_]+\}", entry.message) if len(part) >= 4]
        assert all(part in f.message for part in fixed), (f.message, skeleton)
        assert f.to_dict()["code"] == code


def test_the_untouched_sample_fires_nothing(sample: Path) -> None:
    assert api.check(sample).findings == ()


def test_every_rule_id_of_the_catalogue_has_one_check_and_every_variant_a_level() -> None:
    assert set(catalogue.rule_ids()) == set(rules.CHECKS)
    for code, e in CATALOGUE.items():
        assert code == (f"{e.rule}.{e.variant}" if e.variant else e.rule)
        assert e.title and e.basis and any("\u4e00" <= ch <= "\u9fff" for ch in e.message), code
    assert {e.severity for e in catalogue.entries_of("S2")} == {Severity.ERROR, Severity.WARNING}


def test_the_validator_source_names_no_level() -> None:
    """Levels live in the catalogue only: no check may raise a finding with a level of its own."""
    src = Path(rules.__file__).read_text(encoding="utf-8")
    assert "severity=" not in src and "Severity." not in src


def test_live_checks_are_exactly_the_catalogues_live_entries() -> None:
    assert {c.code for c in live.checks()} == set(catalogue.live_codes())
    for c in live.checks():
        assert (c.severity, c.title, c.rule) == (CATALOGUE[c.code].severity, CATALOGUE[c.code].title,
                                                  CATALOGUE[c.code].rule)


def test_docs_list_every_entry_and_every_file_error() -> None:
    md = docs.rules_markdown()
    for code, e in CATALOGUE.items():
        assert f"| {code} | {e.rule} |" in md and e.message in md
    for code, fe in FILE_ERRORS.items():
        assert f"| {code} | {fe.message} | {fe.fix} |" in md


@pytest.mark.parametrize(("name", "content", "code"), [
    ("empty.xlsx", b"", "empty"),
    ("text.xlsx", b"just text, not a workbook", "not-xlsx"),
    ("broken.xlsx", b"PK\x03\x04 truncated", "bad-zip"),
])
def test_unreadable_files_are_reported_by_catalogue_code(tmp_path: Path, name: str, content: bytes, code: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    inquiry = api.check_many([p, tmp_path / "missing.xlsx"])
    assert [f.error_code for f in inquiry.files] == [code, "not-found"]
    assert inquiry.files[0].error == FILE_ERRORS[code].text(detail="")
    assert inquiry.exit_code == 2 and not inquiry.valid


def test_check_many_keeps_order_and_decides_the_exit_code(sample: Path, filled: Filler) -> None:
    bad = filled({"t3.new.natural": 3})
    inquiry = api.check_many([bad, sample])
    assert [f.path for f in inquiry.files] == [str(bad), str(sample)]
    assert [f.valid for f in inquiry.files] == [False, True] and inquiry.exit_code == 1
    assert api.check_many([sample]).exit_code == 0
    d = inquiry.to_dict()
    assert [f["valid"] for f in d["files"]] == [False, True]
