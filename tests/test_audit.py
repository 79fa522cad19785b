"""``xl-addin audit``: an auditor's bulk run over folders of saved reports and lists of web addresses (issue 21).

Real reports (../shared/examples), a local HTTP server for the addresses (a page, a PDF, a 404, a response slower
than the timeout, a body over the size limit, a redirect, a server error that passes), and what the auditor gets:
per-report records, the summary workbook, the 通报 draft, the dataset, exit codes.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import os
import shutil
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import local_site
from docx import Document

from xl_addin import audit, checking
from xl_addin.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"
if not EXAMPLES.is_dir():
    EXAMPLES = Path("/work/shared/examples")
PUBLISHED = EXAMPLES / "published"
HTML = PUBLISHED / "shuyang-county-drc-2023.html"
PDF = PUBLISHED / "hongze-district-gov-2023.pdf"
SUQIAN = PUBLISHED / "suqian-city-2023.txt"
SEED = EXAMPLES / "jiangle-industry-bureau-2023.txt"
BIG = 200 * 1024

#: what the server saw: path -> [User-Agent of each request]; when each request came (time.monotonic)
HITS: dict[str, list[str]] = {}
TIMES: list[float] = []


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(OSError):  # the audit gave up waiting (the slow page)
            self.wfile.write(body)

    def do_GET(self) -> None:
        HITS.setdefault(self.path, []).append(self.headers.get("User-Agent", ""))
        TIMES.append(time.monotonic())
        path = urllib.parse.unquote(self.path.split("?")[0])
        if path in ("/reports/shuyang.html", "/reports/沭阳 2023年报.html"):
            self._send(200, HTML.read_bytes())
        elif self.path == "/reports/hongze.pdf":
            self._send(200, PDF.read_bytes(), "application/pdf")
        elif self.path == "/old/suqian":
            self._send(302, b"", headers={"Location": "/reports/suqian.txt"})
        elif self.path == "/reports/suqian.txt":
            self._send(200, SUQIAN.read_bytes(), "text/plain; charset=utf-8")
        elif self.path == "/flaky/jiangle.txt":  # a server error the first time, the report the second
            if len(HITS[self.path]) == 1:
                self._send(503, b"busy")
            else:
                self._send(200, SEED.read_bytes(), "text/plain; charset=utf-8")
        elif self.path == "/slow.html":
            time.sleep(3)
            self._send(200, HTML.read_bytes())
        elif self.path == "/big.html":
            self._send(200, b"<html><body>" + b"x" * BIG + b"</body></html>")
        else:
            self._send(404, b"not found")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with local_site(_Handler) as url:
        yield url


#: the tests' fetch policy: the local server allowed, short timeout and delays, a small size limit
POLICY = audit.FetchPolicy(allow_private=True, timeout=1.5, retries=1, backoff=0.05, host_delay=0.01,
                           max_bytes=150 * 1024)


def _run(sources: list[str], out: Path, **kw: Any) -> audit.AuditResult:
    kw.setdefault("policy", POLICY)
    return audit.run(sources, out, **kw)


def _by_source(result: audit.AuditResult) -> dict[str, audit.Audited]:
    return {r.source: r for r in result.reports}


@pytest.fixture(scope="module")
def mixed(site: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[audit.AuditResult, Path, str]:
    """One run over a folder of saved reports, a missing folder and a list of addresses of every kind."""
    tmp = tmp_path_factory.mktemp("mixed")
    folder = tmp / "saved"
    folder.mkdir()
    shutil.copy(SEED, folder / "jiangle.txt")
    shutil.copy(PDF, folder / "hongze.pdf")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    urls = tmp / "urls.txt"
    urls.write_text("# 各单位年报网址\n" + "\n".join(site + p for p in (
        "/reports/shuyang.html", "/gone.html", "/slow.html", "/big.html", "/old/suqian", "/flaky/jiangle.txt",
        "/reports/沭阳 2023年报.html"))
        + "\nhttp://[zz/\n\n", encoding="utf-8")
    HITS.clear()
    out = tmp / "out"
    return _run([str(folder), str(tmp / "missing-folder"), str(urls)], out, county="宿迁市"), out, site


def test_every_source_gets_a_verdict_with_a_chinese_reason(mixed: tuple[audit.AuditResult, Path, str]) -> None:
    result, _, site = mixed
    got = _by_source(result)
    assert len(result.reports) == 3 + 1 + 8
    assert got[site + "/gone.html"].verdict == audit.UNREADABLE
    assert "HTTP 404" in got[site + "/gone.html"].reason
    assert "超时" in got[site + "/slow.html"].reason
    assert "过大" in got[site + "/big.html"].reason
    assert "网址格式有误" in got["http://[zz/"].reason
    missing = next(r for r in result.reports if r.source.endswith("missing-folder"))
    assert missing.verdict == audit.UNREADABLE and "找不到" in missing.reason
    broken = next(r for r in result.reports if r.source.endswith("broken.pdf"))
    assert broken.verdict == audit.UNREADABLE and broken.reason
    # the redirect was followed, the server error tried again: both read
    assert got[site + "/old/suqian"].unit == "" and got[site + "/old/suqian"].verdict != audit.UNREADABLE
    assert got[site + "/flaky/jiangle.txt"].unit == "将乐县工业和信息化局"
    assert got[site + "/reports/沭阳 2023年报.html"].unit == "沭阳县发展和改革局"  # as people write addresses
    assert result.exit_code == 1


def test_verdicts_are_the_checks_own(mixed: tuple[audit.AuditResult, Path, str]) -> None:
    """A report fetched or saved gets the verdict and findings `check` gives the same file."""
    result, _, site = mixed
    got = _by_source(result)
    for r, original in ((got[site + "/reports/shuyang.html"], HTML), (got[site + "/flaky/jiangle.txt"], SEED),
                        (next(x for x in result.reports if x.source.endswith("hongze.pdf")), PDF)):
        report = checking.check_file(str(original)).result.report
        assert report is not None
        assert sorted(f.get("code") for f in r.findings) == sorted(f.code or f.rule for f in report.findings)
        assert r.verdict == (audit.PASS if report.valid else audit.FAIL)
    hongze = next(x for x in result.reports if x.source.endswith("hongze.pdf"))
    assert hongze.verdict == audit.FAIL and any(f.get("code") == "A4" for f in hongze.findings)


def test_fetching_is_polite_and_retries_only_what_may_pass(mixed: tuple[audit.AuditResult, Path, str]) -> None:
    assert len(HITS["/flaky/jiangle.txt"]) == 2  # 503, then the report
    assert len(HITS["/gone.html"]) == 1  # a 404 is not asked again
    assert len(HITS["/big.html"]) == 1  # nor a page over the limit
    assert {ua for uas in HITS.values() for ua in uas} == {audit.USER_AGENT}
    assert audit.USER_AGENT.isascii() and "xl-addin" in audit.USER_AGENT


def test_per_report_records_say_what_was_read_and_from_where(mixed: tuple[audit.AuditResult, Path, str]) -> None:
    result, out, site = mixed
    shuyang = _by_source(result)[site + "/reports/shuyang.html"]
    rec = json.loads((out / shuyang.report_file).read_text(encoding="utf-8"))
    assert rec["source"] == rec["url"] == site + "/reports/shuyang.html"
    assert rec["kind"] == "网页" and rec["verdict"] == shuyang.verdict
    assert set(rec["tables"]) == {"表二", "表三", "表四"}
    assert rec["findings"] and all("message" in f for f in rec["findings"])
    # the fetched copy is kept, named from the address, inside OUT/sources; it is what was read
    copy = Path(rec["file"])
    assert copy.parent == out / audit.SOURCES_DIR and copy.name == "0005-shuyang.html"
    assert copy.read_bytes() == HTML.read_bytes()
    assert len(list((out / audit.REPORTS_DIR).glob("*.json"))) == len(result.reports)


def test_unread_tables_are_named(tmp_path: Path) -> None:
    """Contract U: a table the importer could not read is said so in the report's record and the summary."""
    r = audit.Audited(1, "a.html", "", "a.html", audit.PASS, unread=(
        {"table": "t3", "what": "table", "keys": [], "why": "表格列数不符", "where": "第三部分"},
        {"table": "t4", "what": "row", "keys": ["t4.review.total"], "why": "列数不符", "where": "表四第3行"}))
    assert r.tables() == {"表二": "已读取", "表三": "未读取：表格列数不符（第三部分）",
                          "表四": "部分未读取（1行）：列数不符"}
    assert audit._first_problem(r) == "表三、表四未能完整读取"


def test_summary_workbook_one_printable_row_per_report(mixed: tuple[audit.AuditResult, Path, str]) -> None:
    result, out, _ = mixed
    wb = openpyxl.load_workbook(out / audit.SUMMARY_NAME)
    ws = wb["审核汇总"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "单位", "年度", "来源") and len(rows) == 1 + len(result.reports)
    verdicts = [row[12] for row in rows[1:]]
    assert verdicts == [r.verdict for r in result.reports]
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1
    issues = list(wb["问题清单"].iter_rows(values_only=True))
    assert len(issues) == 1 + sum(len(r.findings) for r in result.reports)


def test_notice_groups_defects_by_kind_and_by_unit(mixed: tuple[audit.AuditResult, Path, str]) -> None:
    result, out, _ = mixed
    text = "\n".join(p.text for p in Document(str(out / audit.NOTICE_NAME)).paragraphs)
    assert "关于宿迁市2023年度政府信息公开工作" in text and "年度报告审核情况的通报" in text
    assert "（A4，错误）：洪泽区人民政府（2023年度）" in text  # by kind
    assert "各单位存在的问题" in text and "洪泽区人民政府（2023年度）：" in text  # by unit
    assert "无法读取的年度报告" in text and "HTTP 404" in text
    n = sum(r.verdict == audit.UNREADABLE for r in result.reports)
    assert f"无法读取{n}份" in text


def test_dataset_holds_one_entry_per_report_with_its_values_and_verdict(tmp_path: Path) -> None:
    """The real dataset (contract D): every report's cells with unit, year, verdict and source; an unreadable
    source is in it with its verdict and no values."""
    from xl_addin.adapters import dataset_io

    shutil.copy(SEED, tmp_path / "jiangle.txt")
    result = _run([str(tmp_path / "jiangle.txt"), str(tmp_path / "nothing")], tmp_path / "out", notice=False)
    assert result.files["dataset"] == str(tmp_path / "out" / audit.DATASET_NAME) and not result.notes
    df = dataset_io.read_dataset(tmp_path / "out" / audit.DATASET_NAME)
    ok = df[df["verdict"] == audit.PASS]
    assert set(ok["unit"]) == {"将乐县工业和信息化局"} and set(ok["year"]) == {2023}
    assert set(ok["source"]) == {str(tmp_path / "jiangle.txt")}
    cell = ok[ok["key"] == "t3.new.natural"]["value"]
    assert list(cell) == [checking.check_file(str(SEED)).data.values["t3.new.natural"]]  # type: ignore[union-attr]
    bad = df[df["verdict"] == audit.UNREADABLE]
    assert len(bad) > 0 and bad["value"].isna().all()


def test_dataset_as_csv_without_pyarrow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without the dataset extra (pyarrow) dataset_io refuses Parquet (DatasetError): the CSV is written instead,
    and the run says so."""
    for name in ("pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, name, None)  # import pyarrow -> ImportError, as on a PC without the extra
    result = _run([str(SEED)], tmp_path / "out", notice=False)
    assert result.files["dataset"] == str(tmp_path / "out" / "dataset.csv")
    assert not (tmp_path / "out" / "dataset.parquet").exists()
    text = (tmp_path / "out" / "dataset.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("unit,") and "将乐县工业和信息化局" in text
    assert any("CSV" in n and "pyarrow" in n for n in result.notes)


def test_dataset_written_as_parquet(mixed: tuple[audit.AuditResult, Path, str]) -> None:
    """The real dataset (branch `dataset`, contract D): rows of every read report, with their verdict."""
    from xl_addin.adapters import dataset_io

    _, out, _ = mixed
    df = dataset_io.read_dataset(out / audit.DATASET_NAME)
    assert set(df["unit"]) >= {"洪泽区人民政府", "将乐县工业和信息化局", "沭阳县发展和改革局"}
    assert set(df["verdict"]) <= {audit.PASS, audit.FAIL, audit.UNREADABLE}


def test_private_addresses_refused_unless_allowed(site: str, tmp_path: Path) -> None:
    result = _run([site + "/reports/shuyang.html"], tmp_path / "out",
                  policy=audit.FetchPolicy(timeout=2, retries=0), dataset=False, notice=False)
    (r,) = result.reports
    assert r.verdict == audit.UNREADABLE and "内部网络" in r.reason


def test_one_host_is_asked_one_request_at_a_time_with_a_delay(site: str, tmp_path: Path) -> None:
    TIMES.clear()
    policy = audit.FetchPolicy(allow_private=True, timeout=5, retries=0, host_delay=0.4)
    urls = [f"{site}/reports/shuyang.html?copy={i}" for i in range(3)]
    items = audit.fetch_all([audit.Item(u, url=u) for u in urls], tmp_path, policy)
    assert all(it.path and not it.error for it in items)
    gaps = [b - a for a, b in itertools.pairwise(TIMES)]
    assert len(gaps) == 2 and min(gaps) >= 0.4


def test_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    """stderr a terminal: a progress bar (rich) is drawn; not a terminal: nothing (test_cli_exit_codes…)."""
    import pty
    import subprocess

    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "xl_addin", "audit", str(SEED), str(HTML), "-o",
                               str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=slave, timeout=120,
                              env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
        os.close(slave)
        slave = -1
        drawn = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(master, 65536):
                drawn += chunk
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    assert proc.returncode == 0
    assert "审核".encode() in drawn and b"2/2" in drawn


def test_url_list_or_report_told_apart(site: str, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    bare = site.removeprefix("http://")
    listing.write_text(f"{site}/reports/shuyang.html\n# 复制自浏览器地址栏：\n{bare}/reports/hongze.pdf\n", encoding="utf-8")
    items = audit.gather([str(listing), str(SEED), str(tmp_path / "urls.lst")])
    assert [(i.url, i.path) for i in items[:3]] == [(f"{site}/reports/shuyang.html", ""),
                                                    (f"{site}/reports/hongze.pdf", ""), ("", str(SEED))]
    assert "找不到" in items[3].error


def test_rerun_replaces_its_own_files_only(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(SEED, src / "a.txt")
    shutil.copy(SUQIAN, src / "b.txt")
    out = src / "out"  # inside a source folder: never read as a source
    first = _run([str(src)], out, dataset=False, notice=False)
    assert len(first.reports) == 2
    (out / "mine.txt").write_text("keep", encoding="utf-8")
    (src / "b.txt").unlink()
    second = _run([str(src)], out, dataset=False, notice=False)
    assert len(second.reports) == 1
    assert sorted(p.name for p in (out / audit.REPORTS_DIR).iterdir()) == ["0001-a.json"]
    assert (out / "mine.txt").read_text(encoding="utf-8") == "keep"
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


_EXAMINE = audit.examine_report


def _evil(path: str) -> dict[str, object]:
    """A reader that dies or hangs on some files (run in the pool's workers: module level, forked)."""
    name = Path(path).name
    if name.startswith("crash"):
        os._exit(3)
    if name.startswith("hang"):
        time.sleep(60)
    return _EXAMINE(path)


def test_crash_and_hang_are_per_report_verdicts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.txt", "crash.txt", "hang.txt"):
        shutil.copy(SEED, src / name)
    monkeypatch.setattr(audit, "examine_report", _evil)
    result = _run([str(src)], tmp_path / "out", seconds=2, dataset=False, notice=False)
    got = {Path(r.source).name: r for r in result.reports}
    assert got["a.txt"].verdict == audit.PASS
    assert got["crash.txt"].verdict == audit.UNREADABLE and "异常退出" in got["crash.txt"].reason
    assert got["hang.txt"].verdict == audit.UNREADABLE and "超过 2 秒" in got["hang.txt"].reason


def test_cli_exit_codes_and_messages(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", str(SEED), "-o", str(tmp_path / "ok")])
    assert ok.exit_code == 0, ok.output
    assert "已审核 1 份年报：通过 1 份" in ok.output and "审核汇总" in ok.output
    assert "\x1b[" not in ok.output  # no progress bar when stderr is not a terminal
    bad = runner.invoke(main, ["audit", str(SEED), str(tmp_path / "nowhere"), "-o", str(tmp_path / "bad")])
    assert bad.exit_code == 1 and "[无法读取]" in bad.output and "找不到" in bad.output
    assert "Traceback" not in bad.output
    (tmp_path / "file").write_text("x")
    usage = runner.invoke(main, ["audit", str(SEED), "-o", str(tmp_path / "file")])
    assert usage.exit_code == 2 and "不是文件夹" in usage.output
    assert runner.invoke(main, ["audit", "-o", str(tmp_path / "x")]).exit_code == 2
    as_json = runner.invoke(main, ["audit", str(SEED), str(tmp_path / "nowhere"), "-o", str(tmp_path / "j"), "--json"])
    d = json.loads(as_json.output)
    assert as_json.exit_code == 1 and d["counts"] == {audit.PASS: 1, audit.UNREADABLE: 1}
    assert [r["verdict"] for r in d["reports"]] == [audit.PASS, audit.UNREADABLE]
    assert runner.invoke(main, ["audit", str(SEED), "-o", str(tmp_path / "p"), "--allow-private-fetch",
                                "--fetch-delay", "0", "--fetch-retries", "0"]).exit_code == 0


def _county(folder: Path, n: int) -> dict[str, str]:
    """``n`` copies of the seed and the 沭阳 page, each with its own agency name: file name -> agency."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for i in range(n):
        src, old = (SEED, "将乐县工业和信息化局") if i % 2 else (HTML, "沭阳县发展和改革局")
        agency = f"测试县第{i:04d}号机关"
        name = f"r{i:04d}{src.suffix}"
        (folder / name).write_bytes(src.read_bytes().replace(old.encode(), agency.encode()))
        names[name] = agency
    return names


def _pool_run(tmp_path: Path, n: int) -> None:
    names = _county(tmp_path / "src", n)
    result = _run([str(tmp_path / "src")], tmp_path / "out", workers=2, dataset=False)
    assert [Path(r.source).name for r in result.reports] == sorted(names)
    assert {Path(r.source).name: r.unit for r in result.reports} == names  # each result with its own file
    verdicts = {Path(r.source).suffix: r.verdict for r in result.reports}
    assert verdicts == {".txt": audit.PASS, ".html": audit.PASS}
    rows = list(openpyxl.load_workbook(tmp_path / "out" / audit.SUMMARY_NAME)["审核汇总"].iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == [names[k] for k in sorted(names)]


def test_pool_keeps_each_result_with_its_report(tmp_path: Path) -> None:
    """Enough reports for the coordinator's pool of workers (bulk.MIN_FOR_POOL): results stay in order."""
    _pool_run(tmp_path, 30)


@pytest.mark.heavy
def test_pool_keeps_each_result_with_its_report_at_scale(tmp_path: Path) -> None:
    _pool_run(tmp_path, 600)


@pytest.mark.parametrize("url", ["http://h/..%2F..%2Fetc%2Fpasswd%00.html", "http://h/a%5C..%5C..%5Cwin.ini",
                                 "http://h/CON", "http://h/", "http://h/%E2%80%AEfdp.exe"])
def test_no_address_chooses_where_files_go(url: str, tmp_path: Path) -> None:
    name = audit._fetched_name(7, url, ".html")
    assert name.startswith("0007-") and name.endswith(".html")
    assert (tmp_path / name).parent == tmp_path and "/" not in name and "\\" not in name and "\u202e" not in name
    assert not name.removeprefix("0007-").upper().startswith("CON")


def test_audit_checks_under_a_profile(tmp_path: Path) -> None:
    """--profile: every report is checked under the local rules (a city's 5000 万元 fee bar makes 洪泽区's 7730.28
    万元 a warning, the profile's own), the national run does not raise it."""
    from xl_addin import profiles

    hongze = str(PUBLISHED / "hongze-district-gov-2023.txt")
    national = _run([hongze], tmp_path / "national", dataset=False, notice=False)
    assert not [f for f in national.reports[0].findings if f.get("code") == "V2.yuan"]
    strict = profiles.parse('[profile]\nname = "严格"\n[thresholds]\n"V2.yuan.max_wan" = 5000\n', "严格.toml")
    local = _run([hongze], tmp_path / "local", dataset=False, notice=False, profile=strict)
    (f,) = [f for f in local.reports[0].findings if f.get("code") == "V2.yuan"]
    assert f.get("profile") == "严格"
    (tmp_path / "严格.toml").write_text('[profile]\nname = "严格"\n[thresholds]\n"V2.yuan.max_wan" = 5000\n',
                                      encoding="utf-8")
    r = CliRunner().invoke(main, ["audit", hongze, "-o", str(tmp_path / "cli"), "--profile",
                                  str(tmp_path / "严格.toml"), "--json"])
    record = json.loads((tmp_path / "cli" / json.loads(r.output)["reports"][0]["report"]).read_text(encoding="utf-8"))
    assert any(x.get("code") == "V2.yuan" and x.get("profile") == "严格" for x in record["findings"])
