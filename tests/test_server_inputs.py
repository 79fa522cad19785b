"""``xl-addin serve`` against what a workbook or a link can carry: agency names no report title can hold, control
characters and lone surrogates, non-ASCII digits in a download link, an add-in built with another xlwings; and
how long the server keeps exports. A real uvicorn server on 127.0.0.1 (as tests/test_server.py runs it)."""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")

from test_server import TOKEN, TRACEBACK_MARKERS, Live, alerts, answer_book, free_port, start, stop  # noqa: E402
from xlwings_payload import payload_from_xlsx  # noqa: E402

from xl_addin import server, spec  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AGENCY = spec.LAYOUT.locations["meta.agency"]
DAY = 86400


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    running = start(server.Config(data_dir=tmp_path_factory.mktemp("server-inputs"), token=TOKEN))
    yield running[0]
    stop(*running)


@pytest.fixture(scope="module")
def good(sample: Path) -> dict[str, Any]:
    return payload_from_xlsx(sample)


def with_cell(payload: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    p = copy.deepcopy(payload)
    loc = spec.LAYOUT.locations[key]
    sheet = next(s for s in p["sheets"] if s["name"] == loc.sheet)
    sheet["values"][loc.row - 1][loc.col - 1] = value
    return p


def audit_lines(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "audit.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def exports(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "exports").glob("*/*/*"))


def the_alert(response: Any) -> str:
    data = answer_book(response)
    assert not any(m in response.text for m in TRACEBACK_MARKERS), response.text
    assert [a["func"] for a in data["actions"]] == ["alert"], data["actions"]
    return str(alerts(data)[0])


# ---- item 3: the agency name and what the cells hold ------------------------------------------------------------

@pytest.mark.parametrize(("what", "agency", "says"), [
    ("NUL", "将乐县\x00工业和信息化局", "不可见字符"),
    ("bell", "将乐县\x07工业和信息化局", "不可见字符"),
    ("vertical tab", "将乐县\x0b工业和信息化局", "不可见字符"),
    ("lone surrogate", "\ud800", "不可见字符"),
    ("unit separator", "将乐县\x1f工业和信息化局", "不可见字符"),
    ("non-character", "将乐县\ufffe工业和信息化局", "不可见字符"),
])
def test_an_agency_name_no_report_can_hold_gets_a_chinese_alert(live: Live, good: dict[str, Any], what: str,
                                                                agency: str, says: str) -> None:
    """Was: "服务器处理时出错" (python-docx's 255-character title limit, lxml's refusal of control characters), and
    a 500 with no audit line for the lone surrogate. Now the clerk is told which cell to correct; nothing is
    written."""
    before = exports(live.data_dir)
    text = the_alert(live.click("export_report", with_cell(good, "meta.agency", agency)))
    assert says in text and f"“{AGENCY.sheet}”单元格 {AGENCY.a1}" in text and "未导出报告" in text, (what, text)
    assert exports(live.data_dir) == before
    entry = audit_lines(live.data_dir)[-1]
    assert entry["button"] == "导出报告" and entry["result"].startswith("拒绝"), entry
    assert all(ch >= " " and not "\ud800" <= ch <= "\udfff" for ch in entry["agency"]), entry


@pytest.mark.parametrize("n", [238, 239, 400])
def test_a_long_agency_name_exports(live: Live, good: dict[str, Any], n: int) -> None:
    """Was "服务器处理时出错" from 239 characters on (python-docx's 255-character limit on the title property).
    The Word title property is cut to 255 characters; the title in the report itself is whole."""
    before = set(exports(live.data_dir))
    text = alerts(answer_book(live.click("export_report", with_cell(good, "meta.agency", "局" * n))))[0]
    assert text.startswith("已导出"), text
    (new,) = set(exports(live.data_dir)) - before
    docx = next(p for p in new.iterdir() if p.suffix == ".docx")
    from docx import Document

    doc = Document(str(docx))
    title = "局" * n + "2023年政府信息公开工作年度报告"
    assert doc.core_properties.title == title[:255]
    assert "".join(p.text for p in doc.paragraphs[:3]).startswith("局" * n)


def test_a_control_character_in_any_cell_is_named_before_export(live: Live, good: dict[str, Any]) -> None:
    loc = spec.LAYOUT.locations["s1.proactive"]
    text = the_alert(live.click("export_report", with_cell(good, "s1.proactive", "主动公开\x1b情况")))
    assert f"工作表“{loc.sheet}”单元格 {loc.a1}" in text and "不可见字符" in text


@pytest.mark.parametrize("agency", ["将乐县\n工业和信息化局", "将乐县\t工业和信息化局", "将乐县\x85工业和信息化局"])
def test_what_a_report_can_hold_still_exports(live: Live, good: dict[str, Any], agency: str) -> None:
    """Alt+Enter or a tab in the cell, a C1 character (XML 1.0 holds them): not refused; the audit line stays one
    line whatever splits it (NEL ends a line for ``str.splitlines``)."""
    text = alerts(answer_book(live.click("export_report", with_cell(good, "meta.agency", agency))))[0]
    assert text.startswith("已导出"), text
    entry = audit_lines(live.data_dir)[-1]
    assert entry["button"] == "导出报告" and entry["agency"] == "将乐县\ufffd工业和信息化局", entry


# ---- item 18 (server part): a lone surrogate anywhere ------------------------------------------------------------

def test_a_lone_surrogate_is_answered_and_audited(live: Live, good: dict[str, Any]) -> None:
    """VBA-JSON sends every non-ASCII character as \\uXXXX, so an Excel string holding half a surrogate pair
    arrives as one. Was a 500 (UTF-8 cannot encode it) and the audit line was lost."""
    body = with_cell(with_cell(good, "meta.agency", "将乐县\ud800局"), "t4.review.upheld", "\udc00")
    raw = json.dumps(body).encode()  # ASCII, with the \\ud800 escapes, as the VBA client writes it
    r = live.click("validate", None, raw=raw)
    data = answer_book(r)
    said = alerts(data)[0]
    assert said.startswith("校验不通过") and "\ufffd" in json.dumps(data, ensure_ascii=False)
    entry = audit_lines(live.data_dir)[-1]
    assert entry["button"] == "校验" and entry["status"] == 200 and entry["agency"] == "将乐县\ufffd局"


# ---- item 3: the download link ------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "exp=²", "exp=²&sig=" + "0" * 64, "exp=１２３４５６７８９０&sig=" + "0" * 64, "exp=9999999999&sig=é",
    "exp=" + "9" * 5000 + "&sig=" + "0" * 64, "exp=-1&sig=" + "0" * 64, "exp=%00&sig=%00",
])
def test_a_download_link_with_odd_digits_is_refused_not_a_500(live: Live, query: str) -> None:
    """``GET /xl_addin/files/<id>?exp=²`` needs no token and was a 500: ``str.isdigit`` accepts "²", ``int`` not."""
    for path in (f"/xl_addin/files/{'A' * 22}", f"/xl_addin/files/{'A' * 22}/a.docx"):
        r = live.client.get(f"{path}?{query}")
        assert r.status_code == 403 and r.text == server.LINK_BAD, (path, query, r.status_code, r.text[:200])


def test_link_ok_accepts_its_own_signature_only() -> None:
    exp = int(time.time()) + 60
    sig = server.sign(TOKEN, "A" * 22, exp)
    assert server.link_ok(TOKEN, "A" * 22, str(exp), sig)
    assert not server.link_ok(TOKEN, "B" * 22, str(exp), sig)
    assert not server.link_ok(TOKEN, "A" * 22, str(exp), sig, now=exp + 1)
    assert not server.link_ok(TOKEN, "A" * 22, str(exp).translate(str.maketrans("0123456789", "０１２３４５６７８９")), sig)


# ---- item 5: xlwings versions ---------------------------------------------------------------------------------------

def test_an_addin_of_another_xlwings_is_told_both_versions(live: Live, good: dict[str, Any]) -> None:
    """Was "服务器收到的内容不是加载项发送的工作簿数据" (xlwings' remote engine refuses any other version)."""
    import xlwings as xw

    for other in ("0.33.1", "0.38.0", "dev"):
        text = the_alert(live.click("validate", {**good, "version": other}))
        assert f"加载项 {other}，服务器 {xw.__version__}" in text, text
        assert "请向县政务公开办索取与服务器配套的加载项" in text and "重新制作加载项" in text
        assert server.MALFORMED not in text
        entry = audit_lines(live.data_dir)[-1]
        assert entry["result"] == f"拒绝：xlwings 版本不同（加载项 {other}，服务器 {xw.__version__}）"
    hostile = the_alert(live.click("validate", {**good, "version": "\ud800" + "9" * 500}))
    assert "\ufffd" + "9" * 39 + "，服务器" in hostile


def test_the_server_addin_says_the_servers_xlwings_and_is_accepted(live: Live, good: dict[str, Any],
                                                                   tmp_path: Path) -> None:
    """By construction: the add-in built where the server runs carries that xlwings' version, even from a base
    add-in that says another one; the server then accepts its clicks."""
    import xlwings as xw
    from pyopenvba import ExcelFile

    from xl_addin.adapters import xlam_build

    base = tmp_path / "old-base.xlam"
    base.write_bytes(xlam_build.base_addin().read_bytes())
    with ExcelFile(str(base)) as wb:
        src = wb.get_module("xlwings")
        assert f'XLWINGS_VERSION As String = "{xw.__version__}"' in src
        wb.set_module("xlwings", src.replace(f'"{xw.__version__}"', '"0.30.0"', 1))
        wb.save()
    out = xlam_build.build(tmp_path / "年报加载项.xlam", base=base, server="http://10.0.0.5:8765",
                           auth="Bearer " + TOKEN)
    with ExcelFile(str(out)) as wb:
        said = [ln for ln in wb.get_module("xlwings").splitlines() if "Const XLWINGS_VERSION" in ln]
        remote = wb.get_module("Remote")
    assert said == [f'Public Const XLWINGS_VERSION As String = "{xw.__version__}"']
    assert 'payload.Add "version", XLWINGS_VERSION' in remote  # what every click sends
    version = said[0].split('"')[1]
    assert alerts(answer_book(live.click("about", {**good, "version": version})))[0].startswith("政务公开年报工具")


def test_xlwings_is_pinned_exactly_to_the_version_tested() -> None:
    import xlwings as xw

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert extras["excel"] == [f"xlwings=={server.XLWINGS_PINNED}"]
    assert xw.__version__ == server.XLWINGS_PINNED


def test_serve_warns_when_its_xlwings_is_not_the_pinned_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import xlwings as xw

    line, ok = server.xlwings_status()
    assert ok and f"xlwings 版本：{xw.__version__}" in line and "警告" not in line
    monkeypatch.setattr(xw, "__version__", "0.99.0")
    line, ok = server.xlwings_status()
    assert not ok and "xlwings 版本：0.99.0" in line and f"pip install xlwings=={server.XLWINGS_PINNED}" in line


# ---- item 8: exports are kept for a while, then deleted ----------------------------------------------------------

def _old_export(data_dir: Path, agency: str, days: float, export_id: str | None = None) -> Path:
    import secrets

    folder = data_dir / "exports" / "2023" / agency / (export_id or secrets.token_urlsafe(16))
    folder.mkdir(parents=True)
    (folder / "报告.docx").write_bytes(b"docx")
    when = time.time() - days * DAY
    os.utime(folder, (when, when))
    return folder


def test_exports_past_their_time_are_deleted_at_start_with_an_audit_line(tmp_path: Path) -> None:
    old = _old_export(tmp_path, "甲局", 31)
    young = _old_export(tmp_path, "乙局", 29)
    cfg = server.Config(data_dir=tmp_path, token=TOKEN, keep_days=30)
    server.create_app(cfg)
    assert not old.exists() and not old.parent.exists() and young.exists()
    (entry,) = audit_lines(tmp_path)
    assert entry["button"] == "删除过期导出" and entry["export"] == old.name and entry["agency"] == "甲局"
    assert entry["result"] == "已删除：导出已满 30 天（保留期限）" and entry["year"] == "2023"


def test_exports_are_never_deleted_before_their_link_expires(tmp_path: Path) -> None:
    folder = _old_export(tmp_path, "甲局", 2)
    server.prune_exports(server.Config(data_dir=tmp_path, token=TOKEN, keep_days=1), lambda **_: None)
    assert folder.exists()  # the link lives 72 hours


def test_a_running_server_deletes_exports_as_they_age(tmp_path: Path) -> None:
    running = start(server.Config(data_dir=tmp_path, token=TOKEN, keep_days=30, prune_seconds=0.2))
    live = running[0]
    try:
        folder = _old_export(tmp_path, "丙局", 0)
        exp = int(time.time()) + 3600
        link = f"/xl_addin/files/{folder.name}?exp={exp}&sig={server.sign(TOKEN, folder.name, exp)}"
        assert live.client.get(link).status_code == 200
        when = time.time() - 31 * DAY
        os.utime(folder, (when, when))
        deadline = time.monotonic() + 10
        while folder.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not folder.exists()
        assert live.client.get(link).status_code == 403  # the link now says it is invalid, not a 500
        assert [e["export"] for e in audit_lines(tmp_path) if e.get("button") == "删除过期导出"] == [folder.name]
    finally:
        stop(*running)


def test_two_workers_pruning_at_once_delete_each_export_once(tmp_path: Path) -> None:
    folders = [_old_export(tmp_path, f"局{i}", 40) for i in range(30)]
    cfg = server.Config(data_dir=tmp_path, token=TOKEN)
    said: list[str] = []
    workers = [threading.Thread(target=server.prune_exports, args=(cfg, lambda **e: said.append(e["export"])))
               for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(said) == sorted(f.name for f in folders) and not any(f.exists() for f in folders)


def test_the_serve_options_match_the_server() -> None:
    from xl_addin.cli import main

    option = next(p for p in main.commands["serve"].params if p.name == "keep_exports_days")
    assert option.default == server.KEEP_EXPORTS_DAYS
    assert option.type.min == math.ceil(server.LINK_SECONDS / DAY)  # type: ignore[attr-defined]


# ---- the serve command, as the county admin starts it ------------------------------------------------------------

def test_serve_prints_its_xlwings_version_and_prunes_with_the_days_given(tmp_path: Path) -> None:
    import xlwings as xw

    data = tmp_path / "data"
    old = _old_export(data, "丁局", 6)
    young = _old_export(data, "戊局", 4)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "xl_addin", "serve", "--port", str(port), "--data-dir", str(data),
                             "--token-file", str(tmp_path / "token.txt"), "--keep-exports-days", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/xl_addin/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert f"xlwings 版本：{xw.__version__}" in out.decode(), (out.decode(), err.decode())
    assert "导出的报告保留 5 天" in out.decode()
    assert not old.exists() and young.exists()
    assert [e["export"] for e in audit_lines(data) if e.get("button") == "删除过期导出"] == [old.name]
