"""``xl-addin serve`` for real: uvicorn on 127.0.0.1 (a free port), requests in the exact shape xlwings' VBA
client (``Remote.bas``, ``RunRemotePython``) sends, built from workbooks LibreOffice recalculated and saved."""

from __future__ import annotations

import copy
import json
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")

from conftest import DATA, Filler, need  # noqa: E402
from serving import free_port, is_up  # noqa: E402
from test_addin import INPUT_CELLS, check_actions, finding_keys, vba_client_actions  # noqa: E402
from xlwings_payload import payload_from_xlsx  # noqa: E402

from xl_addin import api, server, spec  # noqa: E402
from xl_addin.adapters import livebook as lb  # noqa: E402
from xl_addin.adapters.office import convert  # noqa: E402

TOKEN = "t0ken-for-tests-" + "x" * 30
ADDIN_HEX = "年报加载项.xlam".encode("utf-16-be").hex().upper()
TRACEBACK_MARKERS = ("Traceback", "File \"", "Error:", "Exception")


class Live:
    def __init__(self, base: str, data_dir: Path) -> None:
        self.base, self.data_dir = base, data_dir
        self.client = httpx.Client(base_url=base, timeout=60)

    def click(self, button: str, payload: Any, *, token: str | None = TOKEN, raw: bytes | None = None,
              addin: str | None = ADDIN_HEX) -> Any:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = raw if raw is not None else json.dumps(payload).encode()  # VBA-JSON escapes non-ASCII: so does this
        query = f"?addin={addin}" if addin else ""
        return self.client.post(f"/xl_addin/{button}{query}", content=body, headers=headers)


def start(cfg: server.Config) -> tuple[Live, Any, threading.Thread]:
    """The app of ``cfg`` served by uvicorn on a free loopback port in a thread of this process."""
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(server.create_app(cfg), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    return Live(f"http://127.0.0.1:{port}", cfg.data_dir), srv, thread


def stop(live: Live, srv: Any, thread: threading.Thread) -> None:
    live.client.close()
    srv.should_exit = True
    thread.join(15)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    running = start(server.Config(data_dir=tmp_path_factory.mktemp("server-data"), token=TOKEN))
    yield running[0]
    stop(*running)


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> dict[str, Path]:
    """The sample and a broken copy, recalculated and saved as .xlsx by LibreOffice (formula results inside)."""
    import openpyxl

    need("soffice")
    folder = tmp_path_factory.mktemp("lo-src")
    bad = folder / "有错误的年报.xlsx"
    wb = openpyxl.load_workbook(sample)
    for key, value in {"t3.new.natural": -1, "t2.rules.made": 3, "t4.review.upheld": 2.5}.items():
        loc = spec.LAYOUT.locations[key]
        wb[loc.sheet][loc.a1] = value
    wb.save(bad)
    good = folder / "样例.xlsx"
    good.write_bytes(sample.read_bytes())
    out = convert([good, bad], "xlsx", tmp_path_factory.mktemp("lo-out"), recalc=True)
    return {"good": out[0], "bad": out[1]}


def payload(path: Path, name: str | None = None) -> dict[str, Any]:
    return payload_from_xlsx(path, name=name, data_only=True)


def answer_book(response: Any) -> Any:
    """The answer as the VBA client reads it, checked like the remote-engine tests check book.json()."""
    assert response.status_code == 200, response.text
    data = response.json()
    allowed = vba_client_actions()
    assert {a["func"] for a in data["actions"]} <= allowed
    return data


def alerts(data: dict[str, Any]) -> list[str]:
    return [a["args"][0] for a in data["actions"] if a["func"] == "alert"]


def audit(live: Live) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (live.data_dir / "audit.log").read_text(encoding="utf-8").splitlines()]


# ---- the buttons -------------------------------------------------------------------------------------------------

@pytest.mark.libreoffice
def test_validate_over_http_equals_the_command_line(live: Live, recalculated: dict[str, Path]) -> None:
    import xlwings as xw

    from xl_addin import addin

    p = payload(recalculated["bad"])
    data = answer_book(live.click("validate", p))
    # the same answer as running the add-in function on xlwings' remote engine in-process
    book = xw.Book(json=copy.deepcopy(p))
    s = addin.validate(book, addin=ADDIN_HEX)
    check_actions(book, s)
    assert data["actions"] == book.json()["actions"]
    assert finding_keys(s.report.findings) == finding_keys(api.check(recalculated["bad"]).findings)
    assert "校验不通过" in alerts(data)[0]
    written = _written(data, [sh["name"] for sh in p["sheets"]])
    assert written and not set(written) & INPUT_CELLS
    macros = {a["args"][0] for a in data["actions"] if a["func"] == "runMacro"}
    assert all(m.startswith("'年报加载项.xlam'!XaHelpers.") for m in macros)
    entry = audit(live)[-1]
    assert entry["button"] == "校验" and entry["agency"] == "将乐县工业和信息化局" and entry["status"] == 200
    assert entry["result"].startswith("校验不通过") and isinstance(entry["ms"], int)


def _written(data: dict[str, Any], sheets: list[str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for a in data["actions"]:
        if a["func"] == "runMacro" and a["args"][0].endswith(lb.WRITE_ROWS_MACRO):
            idx, corner = a["args"][1].split("!")
            r0, c0 = spec.cell_index(corner)
            for i, line in enumerate(a["args"][2].split(lb.ROW_SEP)):
                for j, _ in enumerate(line.split(lb.CELL_SEP)):
                    out.add((sheets[int(idx) - 1], f"{spec.col_letter(c0 + j)}{r0 + i}"))
        elif a["func"] == "runMacro" and a["args"][0].endswith(lb.WRITE_MACRO):
            for item in a["args"][1].split(";"):
                idx, a1 = item.split("|", 1)[0].split("!")
                out.add((sheets[int(idx) - 1], a1))
        elif a["func"] == "setValues":
            out.add((sheets[a["sheet_position"]], "?"))
    return out


@pytest.mark.libreoffice
def test_every_button_answers(live: Live, recalculated: dict[str, Path]) -> None:
    p = payload(recalculated["good"])
    for button, expect in (("validate", "校验通过"), ("fill_totals", "已写入"), ("clear_marks", "已清除"),
                           ("about", "政务公开年报工具 版本")):
        data = answer_book(live.click(button, p))
        assert alerts(data)[0].startswith(expect), (button, alerts(data))
    fill = answer_book(live.click("fill_totals", p))
    assert not _written(fill, [sh["name"] for sh in p["sheets"]]) & INPUT_CELLS


@pytest.mark.libreoffice
def test_export_writes_under_the_data_dir_and_links_need_the_token(live: Live, recalculated: dict[str, Path]) -> None:
    data = answer_book(live.click("export_report", payload(recalculated["good"])))
    text = alerts(data)[0]
    assert text.startswith("已导出") and "浏览器" in text
    follow = [a for a in data["actions"] if a["func"] == "runMacro"]
    assert len(follow) == 1 and follow[0]["args"][0] == "'年报加载项.xlam'!" + server.FOLLOW_MACRO
    path = follow[0]["args"][1]
    assert path.startswith("/xl_addin/files/") and live.base + path in text
    export_id = urllib.parse.urlsplit(path).path.rsplit("/", 1)[1]
    folder = live.data_dir / "exports" / "2023" / "将乐县工业和信息化局" / export_id
    assert sorted(p.suffix for p in folder.iterdir()) == [".docx", ".html"]
    page = live.client.get(path)
    assert page.status_code == 200 and ".docx" in page.text
    docx = next(p for p in folder.iterdir() if p.suffix == ".docx")
    href = next(h for h in page.text.split('"') if h.startswith("/xl_addin/files/") and ".docx" in urllib.parse.unquote(h))
    got = live.client.get(href.replace("&amp;", "&"))
    assert got.status_code == 200 and got.content == docx.read_bytes()
    # without the signature, with a forged one, or a guessed id: refused
    bare = urllib.parse.urlsplit(path).path
    assert live.client.get(bare).status_code == 403
    forged = path.replace("sig=", "sig=0")
    assert live.client.get(forged).status_code == 403
    assert live.client.get(f"/xl_addin/files/{'A' * 22}?" + urllib.parse.urlsplit(path).query).status_code == 403
    assert live.client.get(bare, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_agency_names_cannot_leave_the_export_folder() -> None:
    for hostile in ("../../etc", "..", "a/b\\c", "CON", " . ", ""):
        name = server.safe_dir_name(hostile, "未填机关名称")
        assert "/" not in name and "\\" not in name and name not in ("", ".", "..")


# ---- refusals -------------------------------------------------------------------------------------------------------

def test_missing_or_wrong_token_is_401_in_chinese(live: Live, sample: Path) -> None:
    p = payload_from_xlsx(sample)
    for token in (None, "wrong-" + TOKEN, TOKEN[:-1]):
        r = live.click("validate", p, token=token)
        assert r.status_code == 401 and "未授权" in r.text
    assert audit(live)[-1]["status"] == 401


def test_oversized_body_is_413(live: Live) -> None:
    r = live.click("validate", None, raw=b"{" + b" " * (server.MAX_BODY + 10) + b"}")
    assert r.status_code == 413 and "过大" in r.text


def _refused_with_an_alert(live: Live, response: Any) -> str:
    data = answer_book(response)
    assert [a["func"] for a in data["actions"]] == ["alert"]
    text = alerts(data)[0]
    assert not any(m in response.text for m in TRACEBACK_MARKERS), response.text
    return str(text)


def test_garbage_foreign_huge_renamed_all_get_a_chinese_alert(live: Live, sample: Path) -> None:
    good = payload_from_xlsx(sample)
    cases: list[tuple[str, bytes | None, Any]] = [
        ("garbage bytes", b"\x00\xffnot json", None),
        ("json but no workbook", None, {"hello": "world"}),
        ("sheets of the wrong type", None, {**good, "sheets": "表三"}),
        ("names that point nowhere", None, {**good, "names": [{"name": "xa_meta_agency", "sheet_index": 99,
                                                                 "address": "ZZ"}]}),
    ]
    for what, raw, body in cases:
        text = _refused_with_an_alert(live, live.click("validate", body, raw=raw))
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), what
    foreign = _refused_with_an_alert(live, live.click("validate", payload_from_xlsx(DATA / "foreign-workbook.xlsx")))
    assert "不是用本工具的年报模板" in foreign
    renamed = copy.deepcopy(good)
    for sheet in renamed["sheets"]:
        if sheet["name"] == "表三":
            sheet["name"] = "表3"  # the defined names still say 表三 in Excel, but the sheet is gone
    r = live.click("validate", renamed)  # as Excel sends it: the names follow the sheet to its new name
    assert r.status_code == 200 and "Traceback" not in r.text and alerts(r.json())[0].startswith("校验")
    huge = copy.deepcopy(good)
    loc = spec.LAYOUT.locations["s1.proactive"]
    sheet = next(s for s in huge["sheets"] if s["name"] == loc.sheet)
    sheet["values"][loc.row - 1][loc.col - 1] = "x" * 1024 * 1024  # 1 MB of text in one cell (Excel holds 32,767)
    r = live.click("validate", huge)
    assert r.status_code == 200 and "Traceback" not in r.text and alerts(r.json())
    # and the server still answers the next request
    assert alerts(answer_book(live.click("about", good)))[0].startswith("政务公开年报工具")


def test_a_bad_addin_name_gets_an_alert(live: Live, sample: Path) -> None:
    text = _refused_with_an_alert(live, live.click("validate", payload_from_xlsx(sample), addin="zz"))
    assert "加载项" in text


def test_a_config_sheet_in_the_workbook_changes_nothing(live: Live, sample: Path) -> None:
    """An xlwings.conf / xl_addin.conf sheet naming another interpreter, and a .py sheet: same answer as without."""
    plain = payload_from_xlsx(sample)
    tampered = copy.deepcopy(plain)
    for name in ("xlwings.conf", "xl_addin.conf"):
        tampered["sheets"].append({"name": name, "pictures": [], "tables": [],
                                   "values": [["INTERPRETER_WIN", r"C:\evil\python.exe"], ["PYTHONPATH", r"C:\evil"]]})
    tampered["sheets"].append({"name": "evil.py", "pictures": [], "tables": [],
                               "values": [["import os; os.system('calc')"]]})
    a = answer_book(live.click("validate", plain))
    b = answer_book(live.click("validate", tampered))
    assert alerts(a) == alerts(b) and alerts(a)[0].startswith("校验通过")


def test_unknown_button_and_docs_are_not_there(live: Live, sample: Path) -> None:
    assert live.click("collect_folder", payload_from_xlsx(sample)).status_code == 404
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert live.client.get(path).status_code == 404
    assert live.client.get("/xl_addin/health").text == "ok"


def test_token_file_rules(tmp_path: Path) -> None:
    made = server.make_token_file(tmp_path / "token")
    assert server.read_token(tmp_path / "token") == made
    assert (tmp_path / "token").stat().st_mode & 0o077 == 0
    (tmp_path / "short").write_text("abc", encoding="utf-8")
    with pytest.raises(ValueError, match="令牌"):
        server.read_token(tmp_path / "short")


def test_serve_binds_loopback_by_default() -> None:
    from click.testing import CliRunner

    from xl_addin.cli import main

    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    assert "127.0.0.1" in help_text
    import inspect

    assert inspect.signature(server.serve).parameters["host"].default == "127.0.0.1"


def test_filled_fixture_shape(filled: Filler) -> None:
    """Payloads the tests post are what Remote.bas builds: client, version, book, names, sheets."""
    p = payload_from_xlsx(filled({"t3.new.natural": 1}))
    assert set(p) == {"client", "version", "book", "names", "sheets"} and p["client"] == "VBA"
    assert set(p["book"]) == {"name", "active_sheet_index", "selection"}


def test_fallback_answer_is_what_xlwings_writes_for_an_alert() -> None:
    assert server._alert_only(server.FAILED) == server.FALLBACK


def test_clicks_at_the_same_time_get_their_own_answers(live: Live, sample: Path, filled: Filler) -> None:
    """xlwings' remote engine keeps its books in one app per process: concurrent clicks must not mix actions."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = {"good": payload_from_xlsx(sample), "bad": payload_from_xlsx(filled({"t3.new.natural": -1}))}

    def one(i: int) -> tuple[str, list[str], int]:
        kind = "good" if i % 2 else "bad"
        data = live.click("validate", bodies[kind]).json()
        return kind, alerts(data), len(data["actions"])

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(48)))
    for kind, said, n in results:
        assert len(said) == 1 and n == 5, (kind, said, n)
        assert said[0].startswith("校验通过" if kind == "good" else "校验不通过"), (kind, said)


def test_the_serve_command_runs_a_server(tmp_path: Path, sample: Path) -> None:
    """`xl-addin serve` as a county admin starts it: a token file is made (owner-only), 127.0.0.1 answers."""
    import subprocess
    import sys

    port = free_port()
    token_file = tmp_path / "token.txt"
    proc = subprocess.Popen([sys.executable, "-m", "xl_addin", "serve", "--port", str(port), "--data-dir",
                             str(tmp_path / "data"), "--token-file", str(token_file), "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        if not is_up(base, proc, 30):
            pytest.fail("the server did not start")
        assert token_file.stat().st_mode & 0o077 == 0
        token = server.read_token(token_file)
        r = httpx.post(base + "/xl_addin/about", content=json.dumps(payload_from_xlsx(sample)).encode(),
                       headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert r.status_code == 200 and alerts(r.json())[0].startswith("政务公开年报工具")
        assert httpx.post(base + "/xl_addin/about", content=b"{}", timeout=60).status_code == 401
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "已生成访问令牌" in out.decode()
    assert json.loads((tmp_path / "data" / "audit.log").read_text(encoding="utf-8").splitlines()[0])["button"] == "关于"


@pytest.mark.parametrize(("year", "folder"), [(2023, "2023"), (2019, ""), (1999, ""), ("二〇二三", "")])
def test_exports_are_filed_under_a_year_the_format_accepts(filled: Filler, year: Any, folder: str) -> None:
    """The server files an export under its report year only when the template accepts that year (spec); else
    under the folder for an unfilled year, as the check says the year is wrong."""
    agency, got = server.agency_and_year(payload_from_xlsx(filled({"meta.year": year})))
    assert agency == "将乐县工业和信息化局" and got == folder
