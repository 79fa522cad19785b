"""The WPS 表格 add-in (``wps/src/*.ts``, built into ``xl_addin/wps``, served at ``/wps/``): its shared description of
the actions, its build, and its client run in Node against the real county server on a fake ET workbook, and its
page in Debian's Chromium. Node and npm come from ``bash dev.sh test`` (``npm ci`` in wps/); a missing one fails
in CI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
from conftest import IN_CI, need, playwright_sync_api  # noqa: E402
from serving import free_port, is_up  # noqa: E402
from test_addin import INPUT_CELLS, REMOTE_BAS, vba_client_actions  # noqa: E402
from test_server import TOKEN, start, stop  # noqa: E402
from xlwings_payload import payload_from_xlsx  # noqa: E402

from xl_addin import actions, api, server, spec  # noqa: E402
from xl_addin.adapters import livebook as lb  # noqa: E402

sync_api = playwright_sync_api()  # the dev extra carries it: missing in CI is a failure, not a skip

ROOT = Path(__file__).resolve().parents[1]
WPS = ROOT / "wps"
BUILT = ROOT / "xl_addin" / "wps"
MACROS = ROOT / "xl_addin" / "macros"
BAD = {"t3.new.natural": -1, "t2.rules.made": 3, "t4.review.upheld": 2.5}


def node_tools() -> Path:
    """wps/node_modules/.bin (typescript), installed by `bash dev.sh test` with npm ci."""
    need("node")
    tsc = WPS / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        msg = "wps/node_modules is not installed: run `bash dev.sh test` (npm ci in wps/)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return tsc


# ---- one description of the actions ------------------------------------------------------------------------------

def test_the_js_client_s_actions_are_the_python_description() -> None:
    text = (WPS / "src" / "actions.ts").read_text(encoding="utf-8")
    assert text == actions.typescript(), "run: python -m xl_addin.actions"
    assert actions.read_typescript(text) == actions.describe()


def test_the_vba_client_names_the_same_endpoints_helpers_and_actions() -> None:
    d = actions.describe()
    remote = (MACROS / "server" / "XaRemote.bas").read_text(encoding="utf-8")
    endpoints = re.search(r'XA_ENDPOINTS As String = "\|(.*)\|"', remote)
    assert endpoints and set(endpoints.group(1).split("|")) == set(d["endpoints"]) == set(server.BUTTONS)
    helpers = (MACROS / "XaHelpers.bas").read_text(encoding="utf-8")
    for macro in d["helpers"].values():
        module, name = macro.split(".")
        assert module == "XaHelpers" and re.search(rf"^Public (Sub|Function) {name}\(wb As Workbook", helpers, re.M)
    assert set(d["xlwings_actions"]) <= vba_client_actions(), REMOTE_BAS
    assert d["xlwings_version"] == server.XLWINGS_PINNED


def test_the_wps_ribbon_has_the_excel_ribbon_s_buttons_and_labels() -> None:
    ns = {"c": "http://schemas.microsoft.com/office/2006/01/customui"}

    def buttons(path: Path) -> dict[str, str]:
        return {b.get("id", ""): b.get("label", "") for b in ET.parse(path).getroot().iterfind(".//c:button", ns)}

    def excel_buttons(path: Path) -> dict[str, str]:  # customUI_submit.xml is a fragment spliced in by xlam_build
        return dict(re.findall(r'<button id="(\w+)" label="([^"]*)"', path.read_text(encoding="utf-8")))

    wps = buttons(BUILT / "ribbon.xml")
    excel = excel_buttons(MACROS / "customUI14.xml") | excel_buttons(MACROS / "server" / "customUI_submit.xml")
    assert list(wps.values()) == ["校验", "计算合计", "清除标记", "导出报告", "提交", "关于"]
    assert wps == {b["id"]: b["label"] for b in actions.describe()["ribbon"]}
    assert all(excel[i] == label for i, label in wps.items())
    root = ET.parse(BUILT / "ribbon.xml").getroot()
    assert {b.get("onAction") for b in root.iterfind(".//c:button", ns)} == {"ribbon.OnAction"}


# ---- the build -----------------------------------------------------------------------------------------------------

def test_typescript_is_strict_and_checks_against_the_et_declarations() -> None:
    tsc = node_tools()
    cfg = json.loads((WPS / "tsconfig.json").read_text(encoding="utf-8"))
    assert cfg["compilerOptions"]["strict"] is True and cfg["compilerOptions"]["types"] == ["et-jsapi-declare"]
    r = subprocess.run([str(tsc), "--noEmit", "-p", str(WPS)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_committed_js_is_what_tsc_builds(tmp_path: Path) -> None:
    tsc = node_tools()
    r = subprocess.run([str(tsc), "-p", str(WPS), "--outDir", str(tmp_path)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    built = sorted(p.name for p in tmp_path.glob("*.js"))
    assert built == sorted(p.name for p in BUILT.glob("*.js")) == ["actions.js", "client.js", "main.js"]
    for name in built:
        assert (tmp_path / name).read_bytes() == (BUILT / name).read_bytes(), f"rebuild {name}: cd wps && npx tsc"


# ---- the client against the server ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = start(server.Config(data_dir=tmp_path_factory.mktemp("wps-server"), token=TOKEN))
    yield running[0]
    stop(*running)


def _expected(path: Path) -> dict[str, Any]:
    """What `xl-addin check` (api.check) finds: the verdict, the 校验结果 rows as written, the marked cells."""
    report = api.check(path)
    locs = spec.LAYOUT.locations
    rows = [line.split(lb.CELL_SEP) for line in lb.rows_text(lb.results_grid(report)).split(lb.ROW_SEP)]
    marks = {f"{s}!{a1}": lb.MARK_COLORS[sev] for (s, a1), sev in lb.marks(report, locs).items()}
    inputs = sorted(f"{s}!{a1}" for s, a1 in INPUT_CELLS)
    colors = lb.template_colors(locs)
    unmarked = [f"{s}!{a1}" for (s, a1) in colors if f"{s}!{a1}" not in marks][:50]
    return {"verdict": lb.verdict(report), "results_sheet": spec.RESULTS_SHEET, "results": rows, "marks": marks,
            "inputs": inputs, "unmarked_inputs": unmarked}


def test_the_wps_client_and_the_county_server_in_node(live: Any, filled: Any, tmp_path: Path) -> None:
    node = need("node")
    node_tools()
    bad = filled(BAD, name="有错误的年报.xlsx")
    payload = payload_from_xlsx(bad)
    expected = _expected(bad)
    assert expected["verdict"].startswith("校验不通过") and expected["marks"] and expected["inputs"]
    (tmp_path / "payload.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "expected.json").write_text(json.dumps(expected, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "WPS_FIXTURES": str(tmp_path), "XA_ORIGIN": live.base, "XA_TOKEN": TOKEN}
    r = subprocess.run([node, "--test", "--test-reporter=spec", str(WPS / "test" / "client.test.mjs")],
                       capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    sys.stdout.write(r.stdout)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    assert re.search(r"pass 9\b", r.stdout) and "fail 0" in r.stdout
    figure = re.search(r"script time on the fake model.*", r.stdout)
    assert figure, r.stdout
    print(figure.group(0))


# ---- served by the county server -----------------------------------------------------------------------------------

def test_the_add_in_is_served_at_wps(live: Any) -> None:
    for name, kind in (("index.html", "text/html"), ("main.js", "javascript"), ("client.js", "javascript"),
                       ("ribbon.xml", "xml")):
        r = httpx.get(f"{live.base}/wps/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"], (name, r.headers)
    assert httpx.get(f"{live.base}/wps/nothing.js").status_code == 404
    # the address the installers write with the county's token: the same files (the add-in reads the token from it)
    for name in ("index.html", "main.js", "ribbon.xml"):
        r = httpx.get(f"{live.base}/wps/t/{TOKEN}/{name}")
        assert r.status_code == 200 and r.content == httpx.get(f"{live.base}/wps/{name}").content, name
    assert httpx.get(f"{live.base}/wps/t/{TOKEN}/%2e%2e/%2e%2e/server.py").status_code == 404  # xl_addin/server.py


def test_serve_prints_the_wps_address_and_the_page_reports_a_server_that_is_down(tmp_path: Path) -> None:
    exe = need("chromium")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "xl_addin", "serve", "--port", str(port), "--data-dir",
                             str(tmp_path / "data"), "--token-file", str(tmp_path / "token.txt")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    stopped = False
    try:
        if not is_up(base, proc, 30):
            pytest.fail("the server did not start")
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--headless", "--no-sandbox", "--disable-gpu"])
            try:
                pg = browser.new_context(locale="zh-CN").new_page()
                errors: list[str] = []
                pg.on("pageerror", lambda e: errors.append(str(e)))
                pg.goto(base + "/wps/index.html")
                status = pg.locator("#status")
                sync_api.expect(status).to_have_text(f"已连接县级服务器：{base}")
                labels = pg.locator("#buttons button").all_text_contents()
                assert labels == ["校验", "计算合计", "清除标记", "导出报告", "提交", "关于"]
                # at the address the installers write with the token: the same page, its scripts load from there
                token = (tmp_path / "token.txt").read_text(encoding="utf-8").strip()
                installed = browser.new_context(locale="zh-CN").new_page()
                installed.on("pageerror", lambda e: errors.append(str(e)))
                installed.goto(f"{base}/wps/t/{token}/index.html")
                sync_api.expect(installed.locator("#status")).to_have_text(f"已连接县级服务器：{base}")
                assert installed.locator("#buttons button").all_text_contents() == labels
                proc.terminate()
                proc.wait(30)
                stopped = True
                pg.click("#check")
                sync_api.expect(status).to_contain_text(f"连接不上县级服务器（{base}），工作簿未被修改")
                assert errors == []
            finally:
                browser.close()
    finally:
        if not stopped:
            proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    assert f"WPS 表格加载项地址（填入 publish.xml，见《安装指南》）：{base}/wps/" in out
    assert f"sh install-wps-addin.sh {base} --token-file {tmp_path / 'token.txt'}" in out


# ---- the installer for Linux desktops ------------------------------------------------------------------------------

def _install(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"} | {"HOME": str(home)}
    return subprocess.run(["sh", str(WPS / "install" / "install-wps-addin.sh"), *args], capture_output=True,
                          text=True, env=env, timeout=60)


def test_the_linux_installer_writes_one_entry_keeps_others_and_refuses_bad_addresses(tmp_path: Path) -> None:
    publish = tmp_path / ".local/share/Kingsoft/wps/jsaddons/publish.xml"
    publish.parent.mkdir(parents=True)
    publish.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<jsplugins>\n'
                       '  <jspluginonline name="other" type="wps" url="http://oa.example/addin/"/>\n</jsplugins>\n',
                       encoding="utf-8")

    def entries() -> list[dict[str, str]]:
        return [dict(e.attrib) for e in ET.parse(publish).getroot()]

    for _ in range(2):  # again: replaced, not doubled
        r = _install(tmp_path, "https://gk.example.gov.cn/")
        assert r.returncode == 0 and "已安装" in r.stdout, r.stderr
    assert [(e["name"], e.get("type"), e["url"]) for e in entries()] == [
        ("other", "wps", "http://oa.example/addin/"), ("xl_addin_wps", "et", "https://gk.example.gov.cn/wps/")]
    before = publish.read_bytes()
    for bad in ('http://x"/><evil a="', "file:///etc/passwd", "https://gk.example.gov.cn/other", ""):
        r = _install(tmp_path, bad)
        assert r.returncode == 2 and "服务器地址" in r.stderr and "Traceback" not in r.stderr, bad
        assert publish.read_bytes() == before
    assert _install(tmp_path, "--remove").returncode == 0
    assert [e["name"] for e in entries()] == ["other"]


def test_the_linux_installer_puts_the_county_token_in_the_address_readable_by_the_user_only(tmp_path: Path) -> None:
    publish = tmp_path / ".local/share/Kingsoft/wps/jsaddons/publish.xml"
    token_file = tmp_path / "token.txt"
    token = "Ab3_-" + "x" * 38
    token_file.write_text(token + "\n", encoding="utf-8")
    r = _install(tmp_path, "https://gk.example.gov.cn", "--token-file", str(token_file))
    assert r.returncode == 0 and "已写入访问令牌" in r.stdout and token not in r.stdout + r.stderr, r.stderr
    [entry] = [dict(e.attrib) for e in ET.parse(publish).getroot()]
    assert entry["url"] == f"https://gk.example.gov.cn/wps/t/{token}/"
    assert publish.stat().st_mode & 0o077 == 0
    before = publish.read_bytes()
    for bad in ('tok"en' + "x" * 20, "short", "x" * 20 + " y", ""):
        token_file.write_text(bad + "\n", encoding="utf-8")
        r = _install(tmp_path, "https://gk.example.gov.cn", "--token-file", str(token_file))
        assert r.returncode == 2 and "令牌" in r.stderr and publish.read_bytes() == before, bad
    r = _install(tmp_path, "https://gk.example.gov.cn", "--token-file", str(tmp_path / "none.txt"))
    assert r.returncode == 2 and "读不到令牌文件" in r.stderr


def test_a_date_sent_as_wps_sends_it_checks_the_same(live: Any, sample: Path) -> None:
    """The WPS client reads Value2: the 发布日期 arrives as an Excel serial number, not xlwings' ISO text."""
    import datetime as dt

    payload = payload_from_xlsx(sample)
    loc = spec.LAYOUT.locations["meta.report_date"]
    sheet = next(s for s in payload["sheets"] if s["name"] == loc.sheet)
    iso = sheet["values"][loc.row - 1][loc.col - 1]
    assert isinstance(iso, str) and iso.endswith("T00:00:00.000Z")
    serial = (dt.date.fromisoformat(iso[:10]) - dt.date(1899, 12, 30)).days
    as_wps = json.loads(json.dumps(payload))
    next(s for s in as_wps["sheets"] if s["name"] == loc.sheet)["values"][loc.row - 1][loc.col - 1] = serial
    answers = [live.click("validate", p).json()["actions"] for p in (payload, as_wps)]
    assert answers[0] == answers[1]
    assert next(a["args"][0] for a in answers[0] if a["func"] == "alert").startswith("校验通过")


def test_the_docs_give_the_wps_route_and_a_checklist_for_one_real_wps_pc() -> None:
    guide = (ROOT / "docs" / "安装指南.md").read_text(encoding="utf-8")
    pinned = json.loads((WPS / "package.json").read_text(encoding="utf-8"))["devDependencies"]["et-jsapi-declare"]
    for needed in ("publish.xml", "加载项安全", "install-wps-addin.sh", "install-wps-addin.ps1", "oem.ini",
                   "只核对过接口声明", f"et-jsapi-declare` {pinned}"):
        assert needed in guide, needed
    checklist = (ROOT / "docs" / "验收清单.md").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r"^\| (\d+) \|", checklist, re.M)]
    assert numbers == list(range(1, len(numbers) + 1))
    wps_rows = [line for line in checklist.splitlines() if "WPS" in line and line.startswith("| ")]
    assert len(wps_rows) >= 6
    assert all(f"**{label}**" in "".join(wps_rows) for label in ("校验", "计算合计", "清除标记", "导出报告", "提交", "关于"))


def test_the_wps_add_in_gets_the_excel_add_in_s_answer(live: Any, filled: Any) -> None:
    """The same click from the .xlam and from the WPS add-in: the same actions, the helpers only named after the
    add-in asking (the WPS client runs them by their module-qualified name)."""
    from test_server import ADDIN_HEX

    payload = payload_from_xlsx(filled(BAD))
    wps_hex = actions.WPS_ADDIN_NAME.encode("utf-16-be").hex().upper()

    def unqualified(addin_hex: str, button: str) -> list[Any]:
        out = live.click(button, payload, addin=addin_hex).json()["actions"]
        for a in out:
            if a["func"] == "runMacro":
                a["args"][0] = a["args"][0].rsplit("!", 1)[1]
        return list(out)

    for button in ("validate", "fill_totals", "clear_marks"):
        excel, wps = unqualified(ADDIN_HEX, button), unqualified(wps_hex, button)
        assert excel == wps and any(a["func"] == "runMacro" for a in wps), button
