"""Issue 19 item 9: the county pool reports exactly what ``xl-addin check`` reports for each file -- the same
catalogue code for every finding (``V2.yuan``, not the bare rule id ``V2``) and the same file-error code for a file
that cannot be read. The corpus is one file per catalogue entry that fires without last year's report (every
variant among them: workbooks made to break each one, and the published reports that raise the import's
variants), plus files of several file errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, Filler, filler, shared_file
from conftest import cli as run_cli
from test_catalogue import CASES, _patched_sheet

from xl_addin import catalogue, collect
from xl_addin.catalogue import CATALOGUE
from xl_addin.model import Finding, Severity

#: the cases test_catalogue builds from the import props directly (contract U: an unread table or row, zero written
#: as "—"), here as real reports: the seed with a row of 8 numbers (P2.row), table 四 one number short (P2), a 0
#: printed "—" (V3.zero) -- (what the seed says, what the variant says instead)
_NEW_ROW = "一、本年新收政府信息公开申请数量\n\t1\n\t0\n"
SEEDED = {"P2.row": (_NEW_ROW, _NEW_ROW + "\t0\n"), "P2": ("\t总计\n\n\t0\n\t0\n", "\t总计\n\n\t0\n"),
          "V3.zero": (_NEW_ROW, _NEW_ROW.replace("\t0\n", "\t—\n"))}
FROM_IMPORT_PROPS = {code for code, case in CASES.items() if "imported" in case[1]}
#: the cases run without last year's report: X1, X2, X3 need a last-year folder, the rest fire on one file
ALONE = {code: case for code, case in CASES.items() if case[2] is None and code not in FROM_IMPORT_PROPS}


def test_every_case_from_import_props_is_also_a_real_report() -> None:
    assert set(SEEDED) == FROM_IMPORT_PROPS
#: files that cannot be checked: file name in tests/data -> the catalogue file error check gives it
UNREADABLE = {"foreign-workbook.xlsx": "not-ours", "broken-truncated.xlsx": "bad-zip",
              "sample-encrypted.xlsx": "encrypted", "not-a-workbook.xlsx": "not-xlsx", "report.ods": "ods",
              "sample-old-excel.xls": "legacy-xls"}


def _case_file(code: str, folder: Path, filled: Filler) -> Path:
    """The file of test_catalogue's case ``code`` (a workbook or a published report), in ``folder``."""
    changes, options, _ = CASES[code]
    options = dict(options)
    raw, report, seed = options.pop("raw", None), options.pop("report", None), options.pop("seed", None)
    if report is not None:
        src = shared_file(f"examples/{report}")
        return Path(shutil.copy(src, folder / f"{code}{src.suffix}"))
    if seed is not None:
        text = shared_file("examples/jiangle-industry-bureau-2023.txt").read_text(encoding="utf-8")
        text = seed(text) if callable(seed) else text.replace(seed[0], seed[1], 1)
        path = folder / f"{code}.txt"
        path.write_text(text, encoding="utf-8")
        return path
    path = filled(changes, name=f"{code}.xlsx", **options)
    if raw is not None:
        path = _patched_sheet(path, "表三", *raw)
    return Path(shutil.move(path, folder / f"{code}.xlsx"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> Path:
    folder = tmp_path_factory.mktemp("every-entry") / "收件箱"
    folder.mkdir()
    filled = filler(sample, tmp_path_factory.mktemp("build"), prefix="f")
    for code in ALONE:
        _case_file(code, folder, filled)
    seed = shared_file("examples/jiangle-industry-bureau-2023.txt").read_text(encoding="utf-8")
    for code, (was, now) in SEEDED.items():
        assert seed.count(was) == 1, code
        (folder / f"{code}.txt").write_text(seed.replace(was, now), encoding="utf-8")
    for name in UNREADABLE:
        shutil.copy(DATA / name, folder / name)
    page = folder / "不是年报.html"
    page.write_text("<html><body><p>本周天气晴。</p></body></html>", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def both(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """(collect --json, check --json of every file at once), as a script would run them."""
    out = tmp_path_factory.mktemp("out") / "汇总校验结果.xlsx"
    r = run_cli("collect", corpus, "-o", out, "--json")
    assert r.returncode in (0, 1), r.stderr
    files = sorted(str(p) for p in corpus.rglob("*") if p.is_file())
    c = run_cli("check", *files, "--json")
    assert c.returncode == 2, c.stderr  # some files cannot be read
    return json.loads(r.stdout), {f["path"]: f for f in json.loads(c.stdout)["files"]}


def test_the_corpus_fires_every_variant_entry(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, checked = both
    fired = {x["code"] for f in checked.values() for x in f["findings"]}
    variants = {code for code, e in CATALOGUE.items() if e.variant and not e.needs_last_year}
    assert variants <= fired, sorted(variants - fired)
    assert set(ALONE) | set(SEEDED) <= fired, sorted((set(ALONE) | set(SEEDED)) - fired)
    for code in SEEDED:  # each variant raises its own finding, and the zero printed "—" no V1 of its own
        found = {x["code"] for p, f in checked.items() if p.endswith(f"{code}.txt") for x in f["findings"]}
        assert code in found and "V1" not in found, (code, found)
    errors = {f["error_code"] for f in checked.values() if "error_code" in f}
    assert set(UNREADABLE.values()) | {"not-a-report"} <= errors


def test_collect_json_findings_are_check_json_findings(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    collected, checked = both
    by_path: dict[str, list[dict[str, Any]]] = {}
    for x in collected["findings"]:
        by_path.setdefault(x["path"], []).append({k: v for k, v in x.items() if k not in ("agency", "path", "used")})
    readable = {p for p, f in checked.items() if "error_code" not in f}
    assert readable and set(by_path) <= readable
    for path in readable:
        assert by_path.get(path, []) == checked[path]["findings"], path
    yuan = [x for x in collected["findings"] if x["rule"] == "V2" and x["path"].endswith("V2.yuan.xlsx")]
    assert yuan and {x["code"] for x in yuan} == {"V2.yuan"}


def test_collect_json_gives_the_file_error_code_check_json_gives(
        both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    collected, checked = both
    rows = {r["path"]: r for r in collected["rows"] if r["path"]}
    unreadable = {p: f for p, f in checked.items() if "error_code" in f}
    assert len(unreadable) == len(UNREADABLE) + 1
    for path, f in unreadable.items():
        assert rows[path]["error_code"] == f["error_code"], path
        assert rows[path]["note"] == f["error"]
    assert all(r["error_code"] is None for p, r in rows.items() if p not in unreadable)
    assert {Path(p).name: rows[p]["error_code"] for p in unreadable if Path(p).name in UNREADABLE} == UNREADABLE


def test_a_file_result_crosses_the_pool_whole() -> None:
    """What a pool worker sends back (FileResult.to_dict, pickled) reads back as the same result: every field of
    every finding, and the file error's code."""
    import pickle

    f = Finding("V2", Severity.WARNING, "表二", "F20", ("收费", "金额"), {"value": 3500}, "……", "t2.fees.amount",
                "V2:t2.fees.amount", "V2.yuan")
    r = collect.FileResult("a.xlsx", findings=(f,), agency="甲局")
    assert collect.FileResult.from_dict(pickle.loads(pickle.dumps(r.to_dict()))) == r
    bad = collect.FileResult("b.xlsx", error=catalogue.file_error("encrypted").text(), error_code="encrypted")
    assert collect.FileResult.from_dict(pickle.loads(pickle.dumps(bad.to_dict()))) == bad


def _readme_json(after: str) -> Any:
    """The JSON example that follows ``after`` in README.md."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(after):].split("```json\n", 1)[1].split("```", 1)[0]
    return json.loads(block.replace("……", "x"))


def test_readme_shows_the_keys_both_json_outputs_have(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    collected, checked = both
    doc = _readme_json("`collect --json` 输出的格式")
    assert list(doc["rows"][0]) == list(collected["rows"][0])
    assert list(doc["findings"][0]) == list(collected["findings"][0])
    shown = _readme_json("`--json` 输出的格式")["files"][0]
    with_findings = next(f for f in checked.values() if f.get("findings"))
    assert list(shown["findings"][0]) == list(with_findings["findings"][0])
