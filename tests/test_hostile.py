"""Issue 14: hostile files never crash, hang or blow up a command, never sink a collection, and every structural
tamper is flagged (S2).

Every command runs as a subprocess (``tests/hostile.py``: :func:`run_measured`), as a user runs it, with its wall
time and peak memory measured; the corpus is generated once per session (the bombs streamed: a gigabyte of sheet
XML compresses to a few MB).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import need
from hostile import (
    Case,
    ReportCase,
    Run,
    Tamper,
    hostile_corpus,
    hostile_reports,
    run_measured,
    snapshot,
    tamper_corpus,
)

from xl_addin import spec

#: what every run must stay under (issue 14)
MAX_SECONDS = 10.0
MAX_MB = 500.0
#: the corpus, by case name (tests/hostile.py: hostile_corpus)
CASES = ("xfd-cell", "merge-huge", "bomb-blanks", "bomb-rows", "big-50mb", "fifo", "crc", "strict", "huge-number",
         "long-text", "status-text", "summary-text", "no-validation", "no-names", "hidden-edited", "encrypted", "xls",
         "xls-renamed", "ods", "csv-renamed", "directory", "unreadable", "entities", "chinese-path", "xlsm", "empty",
         "truncated", "formula-input", "crc-deflated", "counts-1e308")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: what would show that a command died instead of answering
DYING_WORDS = ("Traceback", "panicked", "memory allocation of", "Segmentation fault", "core dumped", "Killed")
#: the S2 variant that names each tamper, where the catalogue has one (any S2 finding is required regardless)
TAMPER_CODES: dict[str, tuple[str, ...]] = {
    "no-validation": ("S2.validation",), "hidden-deleted": ("S2.hidden",), "hidden-edited": ("S2.hidden",),
    "no-names": ("S2.names",), "status-text": ("S2.live",), "summary-text": ("S2.live",), "xfd-cell": ("S2.outside",),
    "merge-huge": ("S2.outside", "S2.merge"), "formula-input": ("S2.input",),
}
VALID_AGENCIES = 20


@dataclass(frozen=True)
class County:
    root: Path  # collect's folder: hostile/ (the corpus) and valid/ (20 agencies)
    cases: dict[str, Case]
    valid: tuple[Path, ...]


@pytest.fixture(scope="session")
def county(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[County]:
    from xl_addin.adapters.xlsx_patch import Patcher

    root = tmp_path_factory.mktemp("hostile") / "收件"
    cases = {c.name: c for c in hostile_corpus(sample, root / "hostile")}
    assert tuple(cases) == CASES
    valid_dir = root / "valid"
    valid_dir.mkdir()
    patcher = Patcher(sample.read_bytes())
    valid = []
    for i in range(VALID_AGENCIES):
        p = valid_dir / f"机关{i:02d}.xlsx"
        values: dict[str, object] = {"meta.agency": f"测试县第{i:02d}号机关", "t3.new.natural": 1 + i,
                                     "t3.granted.natural": 1 + i}
        if i % 4 == 3:
            values["t3.new.research"] = 2  # broken 勾稽关系: an agency that fails
        p.write_bytes(patcher.patch(values))
        valid.append(p)
    yield County(root, cases, tuple(valid))
    cases["unreadable"].path.chmod(0o644)  # let pytest clean up


def _fingerprint(path: Path) -> tuple[int, str]:
    """The input as it is on disk: mode, and the SHA-256 of its bytes (regular files only; never opens a pipe)."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        return st.st_mode, ""
    mode = st.st_mode
    if not mode & stat.S_IRUSR:
        path.chmod(mode | stat.S_IRUSR)
    try:
        return mode, hashlib.sha256(path.read_bytes()).hexdigest()
    finally:
        path.chmod(stat.S_IMODE(mode))


def _assert_sane(run: Run, name: str, *paths: Path) -> None:
    """Exit 0, 1 or 2, no dying words, a Chinese message (not just the Chinese in the file names ``paths``), within
    time and memory."""
    said = run.stdout + run.stderr
    assert run.returncode in (0, 1, 2), f"{name}: exit {run.returncode}\n{said[-2000:]}"
    for word in DYING_WORDS:
        assert word not in said, f"{name}: {word!r} in the output\n{said[-2000:]}"
    words = said
    for p in paths:
        words = words.replace(str(p), "")
    assert CJK.search(words), f"{name}: no Chinese message\n{said[-2000:]}"
    assert run.seconds < MAX_SECONDS, f"{name}: {run.seconds:.1f} s"
    assert run.peak_mb < MAX_MB, f"{name}: {run.peak_mb:.0f} MB peak"


@pytest.mark.parametrize("command", ["check", "fill", "export"])
@pytest.mark.parametrize("name", CASES)
def test_one_hostile_file(county: County, tmp_path: Path, command: str, name: str) -> None:
    case = county.cases[name]
    before_input, before_folder = _fingerprint(case.path), snapshot(county.root)
    out = tmp_path / "输出"
    out.mkdir()
    args: list[str | Path] = {"check": ["check", case.path], "fill": ["fill", case.path, "-o", out / "合计.xlsx"],
                              "export": ["export", case.path, "-o", out, "-f", "all"]}[command]
    run = run_measured(args, timeout=60)
    _assert_sane(run, f"{command} {name}", case.path, out)
    if command == "check":
        assert run.returncode in case.check_exits, f"{name}: check exit {run.returncode}\n{run.stdout}{run.stderr}"
    if run.returncode == 2 or command == "check":
        assert case.path.name in run.stdout + run.stderr  # the message names the file
    if run.returncode == 2:
        assert "无法读取" in run.stdout + run.stderr or "错误" in run.stderr
    # the input is untouched, nothing appears beside it, and the output folder holds finished files only
    assert _fingerprint(case.path) == before_input
    assert snapshot(county.root) == before_folder
    left = sorted(p.name for p in out.iterdir())
    if command == "fill":
        assert left == (["合计.xlsx"] if run.returncode in (0, 1) else [])
    elif command == "export":
        assert all(not n.startswith(".") and n.endswith((".docx", ".html", ".txt")) for n in left), left
        assert (len(left) == 3) == (run.returncode == 0), left
    assert not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*"))


def test_check_refuses_unreadable_files_with_their_reason(county: County) -> None:
    """What check says of each file it cannot read, in the words of the catalogue."""
    expect = {"fifo": "不是普通文件", "directory": "文件夹", "encrypted": "加密", "xls": ".xls", "xls-renamed": ".xls",
              "ods": ".ods", "csv-renamed": "不是 Excel 工作簿", "empty": "空的", "crc": "损坏", "truncated": "损坏",
              "crc-deflated": "校验失败"}
    for name, words in expect.items():
        run = run_measured(["check", county.cases[name].path])
        assert run.returncode == 2 and words in run.stderr, (name, run.stderr)


def test_a_file_the_user_may_not_read(county: County, monkeypatch: pytest.MonkeyPatch) -> None:
    """chmod 000: root (as CI runs) reads it anyway, so the refusal an ordinary user gets is made here by the
    operating system's answer itself -- every open of that file fails with EACCES -- for check and for collect."""
    import builtins
    import errno

    from xl_addin import api, bulk
    from xl_addin.adapters import fileio

    target = county.cases["unreadable"].path
    real_path_open, real_open = Path.open, builtins.open

    def denied(file: object) -> bool:
        return isinstance(file, str | Path) and Path(file) == target

    def path_open(self: Path, *args: object, **kwargs: object) -> object:
        if denied(self):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_path_open(self, *args, **kwargs)  # type: ignore[call-overload]

    def plain_open(file: object, *args: object, **kwargs: object) -> object:
        if denied(file):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", path_open)
    monkeypatch.setattr(fileio, "open", plain_open, raising=False)
    (checked,) = api.check_many([target]).files
    assert checked.error_code == "unopenable" and "Permission denied" in checked.error
    examined = bulk.examine(str(target))
    assert "无法打开文件" in str(examined["error"]) and "Permission denied" in str(examined["error"])
    if os.geteuid() != 0:  # an ordinary user: the real file refuses just the same, through the command line
        run = run_measured(["check", target])
        assert run.returncode == 2 and "无法打开文件" in run.stderr


def test_entities_are_never_expanded(county: County, tmp_path: Path) -> None:
    """XXE and billion laughs in every part: /etc/passwd never shows up, the laughs never multiply."""
    path = county.cases["entities"].path
    for args in (["check", path, "--json"], ["export", path, "-o", tmp_path, "-f", "txt"]):
        run = run_measured(args)
        assert "root:" not in run.stdout + run.stderr and "lollollol" not in run.stdout
        assert run.peak_mb < MAX_MB
    for p in tmp_path.iterdir():
        text = p.read_text(encoding="utf-8")
        assert "root:" not in text and "lollollol" not in text


def test_collect_over_the_corpus_and_valid_agencies(county: County, tmp_path: Path, sample: Path) -> None:
    """The summary is written, the valid agencies are checked exactly as alone, every hostile file has its row."""
    out = tmp_path / "汇总校验结果.xlsx"
    before = snapshot(county.root)
    run = run_measured(["collect", county.root, "-o", out, "--json", "--workers", "2"], timeout=120)
    assert run.returncode in (0, 1, 2), run.stderr[-3000:]
    for word in DYING_WORDS:
        assert word not in run.stdout + run.stderr, run.stderr[-3000:]
    assert out.is_file() and out.with_suffix(".html").is_file()
    assert snapshot(county.root) == before and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [out.name, out.with_suffix(".html").name])
    result = json.loads(run.stdout)
    rows = {r["path"]: r for r in result["rows"] if r["path"]}
    for c in county.cases.values():
        row = rows.get(str(c.path))
        assert row is not None, f"{c.name}: no row"
        if row["verdict"] != "pass":
            assert row["note"] and CJK.search(row["note"]), (c.name, row)
        if c.check_exits == frozenset({2}):
            assert row["verdict"] in ("unreadable", "foreign"), (c.name, row)
    findings: dict[str, list[dict[str, object]]] = {}
    for f in result["findings"]:
        findings.setdefault(f["path"], []).append({k: v for k, v in f.items() if k not in ("agency", "path", "used")})
    for p in county.valid:
        alone = json.loads(run_measured(["check", p, "--json"]).stdout)["files"][0]
        assert findings.get(str(p), []) == alone["findings"], p.name
        assert rows[str(p)]["verdict"] == ("pass" if alone["valid"] else "fail")
    assert run.seconds < MAX_SECONDS, f"collect: {run.seconds:.1f} s"
    assert run.peak_mb < MAX_MB, f"collect: {run.peak_mb:.0f} MB"


def test_collect_survives_a_worker_that_dies(county: County, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever kills a worker -- here SIGABRT and SIGKILL on two files, and one file that hangs -- costs only those
    files: each gets its own row (crashed, out-of-memory, timeout) and every other file is examined as alone."""
    import signal
    import time

    from xl_addin import bulk
    from xl_addin.catalogue import FILE_ERRORS

    folder = tmp_path / "收件"
    folder.mkdir()
    files = []
    for i, p in enumerate(county.valid * 2):
        q = folder / f"{i:02d}-{p.name}"
        q.write_bytes(p.read_bytes())
        files.append(q)
    doomed = {files[5].name: signal.SIGABRT, files[17].name: signal.SIGKILL}
    hang = files[30].name
    real = bulk.examine

    def examine(path: str) -> dict[str, object]:
        name = Path(path).name
        if name in doomed:
            os.kill(os.getpid(), doomed[name])
        if name == hang:
            time.sleep(60)
        return real(path)

    monkeypatch.setattr(bulk, "examine", examine)  # inherited by the forked workers and the isolated reruns
    started = time.perf_counter()
    results = bulk.examine_all(files, workers=2, seconds=2)
    assert time.perf_counter() - started < 20
    by_name = {Path(r.path).name: r for r in results}
    assert [r.path for r in results] == [str(p) for p in files]
    assert by_name[files[5].name].error == FILE_ERRORS["crashed"].text(detail="SIGABRT")
    assert by_name[files[17].name].error == FILE_ERRORS["out-of-memory"].text(detail=f"{bulk.FILE_MEMORY_MB} MB")
    assert by_name[hang].error == FILE_ERRORS["timeout"].text(detail="2")
    alone = {p.name: bulk.examine_isolated(str(p)) for p in files if p.name not in (*doomed, hang)}
    for name, d in alone.items():
        assert by_name[name].to_dict() == d, name


def test_collect_limits_can_be_set_and_the_help_gives_the_defaults(county: County, tmp_path: Path) -> None:
    """--memory-limit reaches the workers: under 1 MB no file can be read, and each file's row names the limit;
    the help text quotes the default limits the code uses."""
    from xl_addin import bulk

    folder = tmp_path / "收件"
    folder.mkdir()
    for p in county.valid[:3]:
        (folder / p.name).write_bytes(p.read_bytes())
    run = run_measured(["collect", folder, "-o", tmp_path / "汇总.xlsx", "--json", "--memory-limit", "1"])
    rows = [r for r in json.loads(run.stdout)["rows"] if r["path"]]
    assert len(rows) == 3 and all(r["verdict"] == "unreadable" and "1 MB" in r["note"] for r in rows), rows
    helped = run_measured(["collect", "--help"]).stdout
    assert f"默认 {bulk.FILE_SECONDS:g}）" in helped and f"默认 {bulk.FILE_MEMORY_MB}，" in helped


def test_a_file_too_big_for_the_memory_limit_is_its_own_row(county: County, tmp_path: Path) -> None:
    """The memory limit holds in the process that reads a file alone: 50 MB of workbook under a 20 MB limit is
    reported as out-of-memory, naming the limit."""
    from xl_addin import bulk
    from xl_addin.catalogue import FILE_ERRORS

    d = bulk.examine_isolated(str(county.cases["big-50mb"].path), seconds=30, memory_mb=20)
    assert d["error"] == FILE_ERRORS["out-of-memory"].text(detail="20 MB")


# ---- tampering ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tampered(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Tamper], list[Path]]:
    need("soffice")
    return tamper_corpus(sample, tmp_path_factory.mktemp("tamper"))


def _check_json(path: Path) -> dict[str, object]:
    run = run_measured(["check", path, "--json"], timeout=60)
    assert run.returncode in (0, 1, 2), f"{path.name}: exit {run.returncode}\n{run.stderr[-2000:]}"
    files = json.loads(run.stdout)["files"]
    assert len(files) == 1
    return files[0]  # type: ignore[no-any-return]


@pytest.mark.libreoffice
def test_every_tamper_is_flagged_s2(tampered: tuple[list[Tamper], list[Path]]) -> None:
    tampers, _ = tampered
    assert {(t.name, t.how) for t in tampers} >= {(n, h) for n in ("no-validation", "hidden-deleted", "hidden-edited",
                                                                   "no-names", "status-text", "summary-text")
                                                  for h in ("openpyxl", "xml", "libreoffice")}
    missed = []
    for t in tampers:
        got = _check_json(t.path)
        # S2.protection alone does not count: every LibreOffice re-save raises it, tampered or not
        codes = {f["code"] for f in got.get("findings", [])  # type: ignore[attr-defined]
                 if f["rule"] == "S2" and f["code"] != "S2.protection"}
        want = TAMPER_CODES.get(t.name)
        if not codes or (want and not codes & set(want)):
            missed.append(f"{t.how}:{t.name} -> {got.get('error') or sorted(codes)}")
    assert not missed, "not flagged as S2:\n" + "\n".join(missed)


@pytest.mark.libreoffice
def test_untouched_resaves_raise_nothing_beyond_protection(tampered: tuple[list[Tamper], list[Path]]) -> None:
    _, clean = tampered
    for p in clean:
        got = _check_json(p)
        assert "error" not in got, (p.name, got.get("error"))
        extra = [f for f in got["findings"] if f["code"] != "S2.protection"]  # type: ignore[attr-defined]
        assert not extra, (p.name, extra)


def test_absurd_counts_get_a_warning_quoting_the_value(county: County) -> None:
    """1e17 in both 新收 and 予以公开 keeps every identity, but no agency handles that many: a warning at each cell,
    quoting the value."""
    got = _check_json(county.cases["huge-number"].path)
    findings: list[dict[str, str]] = got["findings"]  # type: ignore[assignment]
    flagged = {f["cell"] for f in findings if f["severity"] == "warning" and "100000000000000000" in f["message"]}
    assert flagged >= {"D7", "D9"}, findings


# ---- issue 19: formulas, tracebacks and misleading messages ---------------------------------------------------

def test_a_formula_in_a_narrative_cell_is_flagged_by_check_and_collect(county: County) -> None:
    """0 findings before: the formula passed check. Now S2.input at 正文!C4, in check and in collect alike."""
    got = _check_json(county.cases["formula-input"].path)
    mine = [f for f in got["findings"] if f["code"] == "S2.input"]  # type: ignore[attr-defined]
    assert len(mine) == 1 and mine[0]["cell"] == "C4" and "WEBSERVICE" in mine[0]["message"], got
    assert not got["valid"]


def test_collect_names_damaged_compressed_data_and_the_formula(county: County) -> None:
    """collect reads without testing every member first: the damaged part is still named (not "意外错误"), and the
    formula is the agency's finding."""
    run = run_measured(["collect", county.cases["crc-deflated"].path.parent, "-o",
                        county.root.parent / "汇总-19.xlsx", "--json"], timeout=120)
    result = json.loads(run.stdout)
    rows = {r["path"]: r for r in result["rows"] if r["path"]}
    row = rows[str(county.cases["crc-deflated"].path)]
    assert row["verdict"] == "unreadable" and "校验失败" in row["note"] and "意外" not in row["note"], row
    formula = [f for f in result["findings"] if f["path"] == str(county.cases["formula-input"].path)]
    assert any("WEBSERVICE" in f["message"] and f["cell"] == "C4" for f in formula), formula


def test_export_force_with_1e308_in_every_count(county: County, tmp_path: Path) -> None:
    """A draft is exported (sums beyond a float were an OverflowError), the input unchanged."""
    path = county.cases["counts-1e308"].path
    before = _fingerprint(path)
    run = run_measured(["export", path, "--force", "-o", tmp_path, "-f", "all"])
    _assert_sane(run, "export --force counts-1e308", path, tmp_path)
    assert run.returncode == 0 and len(list(tmp_path.iterdir())) == 3, run.stdout + run.stderr
    assert str(int(1e308)) in next(tmp_path.glob("*.txt")).read_text(encoding="utf-8")  # the figure, exactly
    assert _fingerprint(path) == before


@pytest.fixture(scope="session")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ReportCase]:
    from conftest import shared_file

    text = shared_file("examples/published/suqian-city-2023.txt").read_text(encoding="utf-8")
    return {c.name: c for c in hostile_reports(text, tmp_path_factory.mktemp("reports") / "报告")}


REPORT_CASES = ("formula-lines", "vertical-tab", "vertical-tab-html", "digits-400", "digits-5000", "utf16-no-bom",
                "pdf-encrypted", "docx-encrypted", "html-deep", "html-61mb", "html-65mb", "doc-unloadable")


def test_the_report_corpus_is_complete(reports: dict[str, ReportCase]) -> None:
    assert tuple(reports) == REPORT_CASES


@pytest.mark.parametrize("name", REPORT_CASES)
def test_one_hostile_report(reports: dict[str, ReportCase], tmp_path: Path, name: str) -> None:
    """import -o and check: a workbook written (exit 0) or a refusal in the right words (exit 2, no workbook), never
    a traceback, never LibreOffice's English, never a workbook's advice for a report, the input unchanged."""
    case = reports[name]
    if case.needs:
        need(case.needs)
    before = _fingerprint(case.path)
    out = tmp_path / "导入.xlsx"
    imported = run_measured(["import", case.path, "-o", out], timeout=120)
    checked = run_measured(["check", case.path], timeout=120)
    for command, run in (("import", imported), ("check", checked)):
        said = run.stdout + run.stderr
        _assert_sane(run, f"{command} {name}", case.path, out)
        for english in ("Error:", "Warning:", "source file could not be loaded", "javaldx"):
            assert english not in said, f"{command} {name}: {said}"
        if case.refusal:  # in the report's own terms: no advice about sheets of a workbook
            assert run.returncode == 2 and case.refusal in said and "工作表" not in said, f"{command} {name}: {said}"
    if case.refusal:
        assert not out.exists()
    else:
        assert imported.returncode == 0 and out.is_file(), imported.stdout + imported.stderr
        assert checked.returncode in (0, 1), checked.stdout + checked.stderr
    assert _fingerprint(case.path) == before


def test_hostile_report_contents_as_read(reports: dict[str, ReportCase], tmp_path: Path) -> None:
    """What the readable ones give: the manual line break kept as a break, junk digits kept as text (V1 says so),
    UTF-16 without BOM read as the report it is (166 table figures, as the UTF-8 original)."""
    from xl_addin import api

    proactive = api.import_report(reports["vertical-tab"].path).data.values["s1.proactive"]
    assert isinstance(proactive, str) and "第二行" in proactive and "\x0b" not in proactive and "\x01" not in proactive
    html = api.import_report(reports["vertical-tab-html"].path).data.values["s1.proactive"]
    assert isinstance(html, str) and "第二行" in html
    for n in (400, 5000):
        report = api.check(reports[f"digits-{n}"].path)
        (v1,) = [f for f in report.findings if f.code == "V1" and f.key == "t3.new.natural"]
        assert f"共 {n} 字" in v1.message
    utf16 = api.import_report(reports["utf16-no-bom"].path).data.values
    assert sum(1 for k in spec.INPUT_KEYS if utf16.get(k) is not None) == 166
