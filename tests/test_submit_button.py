"""The server add-in's 提交 button (module XaRound), its VBA as built into the .xlam, run by pyOpenVBA's Excel model
against a real ``xl-addin serve --roster --year`` process.

What runs for real: the built add-in's VBA (XaRibbon.XaSubmit -> XaReady -> XaRound -> XaRemote's messages), the
workbook files distributed by ``xl-addin distribute --server`` and filled by openpyxl, the server process and its
answers. What stands in for Windows: the two COM objects the VBA creates -- ``WinHttp.WinHttpRequest.5.1`` (a
Python object that sends exactly the method, URL, headers and body bytes the VBA gave it, with httpx, and raises
WinHttp's own error number when the server cannot be reached) and ``ADODB.Stream`` (reads the file's bytes,
decodes UTF-8) -- and the workbook's ``CustomDocumentProperties``, read from the file's docProps/custom.xml as
Excel loads it (pyOpenVBA's model has none). Real WinHttp and Excel's dialogs run only on Windows (docs/验收清单.md).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any, ClassVar
from xml.etree import ElementTree as ET

import httpx
import pytest

pytest.importorskip("pyopenvba")
pytest.importorskip("xlwings")

from conftest import cli
from test_round_server import YEAR, coordinator_token, fill, roster, start
from test_server_limits import Serve, free_port
from test_vba_security import (
    HOSTILE_NAMES,
    built_modules,
    code_lines,
    module_kinds,
    run_basic,
    vba_str,
    with_properties,
)

from xl_addin import server
from xl_addin.adapters import livebook as lb
from xl_addin.adapters import round_client as rc
from xl_addin.adapters import xlam_build

MACROS = Path(xlam_build.MACROS)
OWN = "将乐县工业和信息化局"  # the bundled sample's agency
OTHER = "将乐县财政局"
THIRD = "将乐县教育局"
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
WINHTTP_CANNOT_CONNECT = 0x80072EFD - (1 << 32)  # WinHttp's HRESULT as VBA's signed Long


# ---- the COM objects Windows would give ---------------------------------------------------------------------------

def _com_classes() -> tuple[type, type]:
    from pyopenvba.interpreter._objects import VBAObject, member, method, setter
    from pyopenvba.interpreter._values import EMPTY, VBAArray, VBAInt, error, to_text

    def byte_array(data: bytes) -> Any:
        return VBAArray([(0, len(data) - 1)], element_type="Byte", items=[VBAInt(b, "Byte") for b in data])

    def to_bytes(value: Any) -> bytes:
        if isinstance(value, VBAArray):
            return bytes(int(x) for x in value.items)
        raise TypeError(f"not a byte array: {value!r}")

    class WinHttpRequest(VBAObject):
        """WinHttp.WinHttpRequest.5.1 as far as XaRound uses it; every request is kept in ``sent``."""

        vba_type_name = "IWinHttpRequest"
        sent: ClassVar[list[dict[str, Any]]] = []

        def __init__(self) -> None:
            self.method = self.url = ""
            self.headers: dict[str, str] = {}
            self.status = 0
            self.body = b""
            self.timeouts: tuple[int, ...] = ()

        @method
        def Open(self, Method: object, Url: object, Async: object = False) -> object:
            self.method, self.url = to_text(Method), to_text(Url)
            return EMPTY

        @method
        def SetTimeouts(self, a: object, b: object, c: object, d: object) -> object:
            self.timeouts = tuple(int(x) for x in (a, b, c, d))  # type: ignore[call-overload]
            return EMPTY

        @method
        def SetRequestHeader(self, Header: object, Value: object) -> object:
            self.headers[to_text(Header)] = to_text(Value)
            return EMPTY

        @method
        def Send(self, Body: object = EMPTY) -> object:
            data = to_bytes(Body)
            WinHttpRequest.sent.append({"method": self.method, "url": self.url, "headers": dict(self.headers),
                                        "body": data, "timeouts": self.timeouts})
            try:
                r = httpx.request(self.method, self.url, headers=self.headers, content=data, timeout=60)
            except httpx.ConnectError:
                raise error(WINHTTP_CANNOT_CONNECT, "A connection with the server could not be established") from None
            self.status, self.body = r.status_code, r.content
            return EMPTY

        @member
        def Status(self) -> object:
            return VBAInt(self.status, "Long")

        @member
        def ResponseBody(self) -> object:
            return byte_array(self.body)

    class Stream(VBAObject):
        """ADODB.Stream: a binary file read, bytes written and read back as UTF-8 text."""

        vba_type_name = "Stream"

        def __init__(self) -> None:
            self.kind, self.charset, self.data, self.pos = 2, "unicode", b"", 0

        @member
        def Type(self) -> object:
            return VBAInt(self.kind, "Long")

        @setter("Type")
        def _set_type(self, value: object) -> None:
            self.kind = int(value)  # type: ignore[call-overload]

        @member
        def Charset(self) -> object:
            return self.charset

        @setter("Charset")
        def _set_charset(self, value: object) -> None:
            self.charset = to_text(value)

        @member
        def Position(self) -> object:
            return VBAInt(self.pos, "Long")

        @setter("Position")
        def _set_position(self, value: object) -> None:
            self.pos = int(value)  # type: ignore[call-overload]

        @member
        def Size(self) -> object:
            return VBAInt(len(self.data), "Long")

        @method
        def Open(self) -> object:
            return EMPTY

        @method
        def Close(self) -> object:
            return EMPTY

        @method
        def LoadFromFile(self, FileName: object) -> object:
            try:
                self.data = Path(to_text(FileName)).read_bytes()
            except OSError:
                raise error(3002, "File could not be opened.") from None
            self.pos = 0
            return EMPTY

        @method
        def Read(self) -> object:
            assert self.kind == 1
            out, self.pos = self.data[self.pos:], len(self.data)
            return byte_array(out)

        @method
        def Write(self, Buffer: object) -> object:
            self.data = self.data[:self.pos] + to_bytes(Buffer)
            self.pos = len(self.data)
            return EMPTY

        @method
        def ReadText(self) -> object:
            assert self.kind == 2 and self.charset.lower() == "utf-8"
            return self.data[self.pos:].decode("utf-8")

    return WinHttpRequest, Stream


def _no_protected_view(app: Any) -> None:
    """Excel's Application.ActiveProtectedViewWindow (Nothing: no workbook in Protected View), which XaReady
    asks first and pyOpenVBA's model does not have."""
    from pyopenvba.interpreter._objects import member
    from pyopenvba.interpreter._values import NOTHING

    class Application(type(app.application)):  # type: ignore[misc]
        @member
        def ActiveProtectedViewWindow(self) -> object:
            return NOTHING

    app.application.__class__ = Application


def clicked(xlam: Path, book: Path, *, saved: bool = True, answers: tuple[int, ...] = ()) -> tuple[Any, list[Any]]:
    """XaRibbon.XaSubmit clicked with ``book`` open in pyOpenVBA's Excel: (the application, the requests sent)."""
    from pyopenvba.apps.excel import ExcelApplication
    from pyopenvba.interpreter._values import NOTHING

    mods = built_modules(xlam)
    app = ExcelApplication.open(book, with_vba=False)
    for name in ("XaRibbon", "XaRound", "XaRemote", "XaHelpers", xlam_build.GENERATED_MODULE):
        app.add_module(mods[name], name=name)
    app.add_module("Public Sub Add(k As String, v As String)\nEnd Sub\n", name="Dictionary", kind="class")
    app.add_module("Public Function RunRemotePython(url As String, Optional headers As Variant)\nEnd Function\n",
                   name="Remote")
    winhttp, stream = _com_classes()
    winhttp.sent = []
    made = {"winhttp.winhttprequest.5.1": winhttp, "adodb.stream": stream}
    host = app.interpreter.host
    host.create = lambda name: made[name.lower()]()
    wb = app.workbooks()[0]
    with_properties(wb, rc.read_properties(book))
    wb.saved = saved
    _no_protected_view(app)
    app.interpreter.answers = list(answers)
    app.run("XaSubmit", NOTHING)
    return app, winhttp.sent


def only_message(app: Any) -> str:
    boxes = [d for d in app.dialogs if d[0] == "MsgBox"]
    assert len(boxes) == 1, app.dialogs
    _kind, prompt, title, _style = boxes[0]
    assert title == lb.TITLE
    return str(prompt)


# ---- a county with a round and its distributed templates -----------------------------------------------------------

@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory, sample_values: dict[str, Any]) -> Any:
    folder = tmp_path_factory.mktemp("submit-button")
    srv = start(folder, roster(folder, (OWN, OTHER, THIRD)))
    out = folder / "templates"
    r = cli("distribute", roster(folder, (OWN, OTHER, THIRD)), "-o", out, "--year", str(YEAR), "--server", srv.base,
            "--token-file", coordinator_token(srv))
    assert r.returncode == 0, r.stderr
    templates = {n: next(out.glob(f"*{n}*.xlsx")) for n in (OWN, OTHER, THIRD)}
    xlam = xlam_build.build(folder / "年报加载项.xlam", MACROS, server=srv.base, auth="Bearer " + srv.token)
    yield srv, templates, xlam
    srv.stop()


def test_submit_gets_the_receipt(county: Any, tmp_path: Path, sample_values: dict[str, Any]) -> None:
    srv, templates, xlam = county
    book = fill(templates[OWN], tmp_path / "本局 2023年报.xlsx", sample_values)
    app, sent = clicked(xlam, book)
    prompt = only_message(app)
    done = re.escape(lb.VBA_TEXTS["submit_done"])
    assert re.fullmatch(done + r"\r\n\r\n已提交第1版，回执号 \S+（服务器时间 [-0-9: ]+）。", prompt), prompt
    number = re.search(r"回执号 (\S+?)（", prompt)
    assert number
    # the request the VBA built: the built-in server, the workbook's key, the saved file's bytes, the name in UTF-8
    (req,) = sent
    key = rc.read_properties(book)[rc.PROP_KEY]
    assert req["method"] == "POST"
    assert req["url"] == srv.base + "/round/api/submit?filename=" + rc.quote(book.name)
    assert req["headers"] == {"Authorization": f"Bearer {key}", "Accept": "text/plain",
                              "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert req["body"] == book.read_bytes()
    # the server kept exactly those bytes as version 1, under the receipt shown
    token = coordinator_token(srv).read_text().strip()
    view = httpx.get(f"{srv.base}/round/api/agencies/{OWN}", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(v["number"], v["receipt"]) for v in view["versions"]] == [(1, number.group(1))]


def test_a_workbook_with_errors_shows_its_findings(county: Any, tmp_path: Path,
                                                   sample_values: dict[str, Any]) -> None:
    _srv, templates, xlam = county
    book = fill(templates[THIRD], tmp_path / "third.xlsx", {**sample_values, "meta.agency": THIRD,
                                                            "t2.licensing.count": -3})
    app, sent = clicked(xlam, book)
    prompt = only_message(app)
    assert prompt.startswith(lb.VBA_TEXTS["submit_refused"]) and "个错误，不能提交" in prompt
    assert "[错误] 表二" in prompt  # a finding with its sheet and cell
    assert lb.VBA_TEXTS["submit_see_validate"] in prompt and len(sent) == 1


def test_an_impersonation_shows_the_servers_403_text(county: Any, tmp_path: Path,
                                                     sample_values: dict[str, Any]) -> None:
    srv, templates, xlam = county
    book = fill(templates[OTHER], tmp_path / "other-as-own.xlsx", sample_values)  # the sample names OWN
    app, sent = clicked(xlam, book)
    prompt = only_message(app)
    assert prompt.startswith(lb.VBA_TEXTS["submit_refused"] + f"\r\n\r\n工作簿的机关名称为“{OWN}”，与报送密钥所属"
                             f"机关“{OTHER}”不符，拒绝提交。") and '"status"' not in prompt
    assert lb.VBA_TEXTS["submit_see_validate"] not in prompt and len(sent) == 1
    assert [e["status"] for e in srv.audit() if e.get("event") == "round"][-1] == 403


def test_a_revoked_key_shows_the_servers_401_text(county: Any, tmp_path: Path, sample_values: dict[str, Any]) -> None:
    _srv, templates, xlam = county
    book = fill(templates[OWN], tmp_path / "own.xlsx", sample_values)
    props = {**rc.read_properties(book), rc.PROP_KEY: "k" * 43}
    forged = tmp_path / "forged.xlsx"
    forged.write_bytes(rc.with_properties(book.read_bytes(), props))
    app, _sent = clicked(xlam, forged)
    assert "报送密钥无效或已停用" in only_message(app)


def test_server_down_is_told_in_chinese(county: Any, tmp_path: Path, sample_values: dict[str, Any]) -> None:
    _srv, templates, _xlam = county
    down = f"http://127.0.0.1:{free_port()}"
    book = fill(templates[OWN], tmp_path / "own.xlsx", sample_values)
    moved = tmp_path / "own-down.xlsx"
    moved.write_bytes(rc.with_properties(book.read_bytes(), {**rc.read_properties(book), rc.PROP_SERVER: down}))
    xlam = xlam_build.build(tmp_path / "down.xlam", MACROS, server=down, auth="Bearer " + "t" * 40)
    app, sent = clicked(xlam, moved)
    prompt = only_message(app)
    assert prompt.startswith(lb.VBA_TEXTS["net_timeout"]) and f"{lb.VBA_TEXTS['server_is']}{down} (WinHttp 12029)" in prompt
    assert len(sent) == 1


def test_a_workbook_not_distributed_by_the_server(county: Any, sample: Path) -> None:
    _srv, _templates, xlam = county
    assert rc.read_properties(sample) == {}
    app, sent = clicked(xlam, sample)
    assert only_message(app) == lb.VBA_TEXTS["submit_not_distributed"] and sent == []


def test_the_key_goes_to_the_built_in_server_only(county: Any, tmp_path: Path, sample_values: dict[str, Any]) -> None:
    """A workbook whose server property names another address: nothing is sent anywhere (the key would leak)."""
    srv, templates, xlam = county
    book = fill(templates[OWN], tmp_path / "own.xlsx", sample_values)
    elsewhere = tmp_path / "elsewhere.xlsx"
    elsewhere.write_bytes(rc.with_properties(book.read_bytes(), {**rc.read_properties(book),
                                                                   rc.PROP_SERVER: "http://evil.example:80"}))
    app, sent = clicked(xlam, elsewhere)
    prompt = only_message(app)
    assert prompt.startswith(lb.VBA_TEXTS["submit_other_server"]) and "http://evil.example:80" in prompt
    assert srv.base in prompt and sent == []


def test_unsaved_changes_are_saved_first_or_nothing_is_sent(county: Any, tmp_path: Path,
                                                           sample_values: dict[str, Any]) -> None:
    _srv, templates, xlam = county
    book = fill(templates[OWN], tmp_path / "own.xlsx", sample_values)
    app, sent = clicked(xlam, book, saved=False, answers=(2,))  # vbCancel
    assert [d[1] for d in app.dialogs] == [lb.VBA_TEXTS["submit_save_first"]] and sent == []


def test_a_never_saved_workbook(county: Any, tmp_path: Path, sample_values: dict[str, Any]) -> None:
    from pyopenvba.apps.excel import ExcelApplication

    _srv, templates, xlam = county
    book = fill(templates[OWN], tmp_path / "own.xlsx", sample_values)
    mods = built_modules(xlam)
    app = ExcelApplication.open(book, with_vba=False)
    for name in ("XaRound", "XaRemote", "XaHelpers", xlam_build.GENERATED_MODULE):
        app.add_module(mods[name], name=name)
    app.add_module("Public Sub Add(k As String, v As String)\nEnd Sub\n", name="Dictionary", kind="class")
    wb = app.workbooks()[0]
    with_properties(wb, rc.read_properties(book))
    wb.path = ""  # Excel's Path of a new workbook (Book1) that was never saved
    app.run("XaSubmitBook", wb)
    assert only_message(app) == lb.VBA_TEXTS["submit_never_saved"]


# ---- the buttons tell where the agency's report stands ------------------------------------------------------------

def test_the_button_header_carries_the_key_of_a_distributed_workbook(county: Any, tmp_path: Path,
                                                                     sample_values: dict[str, Any]) -> None:
    """XaRemote's headers for a click (XaHeaders): the county's token, and the workbook's key when it was
    distributed for this server; no key for a workbook meant for another server."""
    _srv, templates, xlam = county
    book = fill(templates[OWN], tmp_path / "own.xlsx", sample_values)
    elsewhere = tmp_path / "elsewhere.xlsx"
    elsewhere.write_bytes(rc.with_properties(book.read_bytes(), {**rc.read_properties(book),
                                                                   rc.PROP_SERVER: "http://evil.example"}))
    from pyopenvba.apps.excel import ExcelApplication

    mods = built_modules(xlam)
    key = rc.read_properties(book)[rc.PROP_KEY]
    for path, want in ((book, key), (elsewhere, "")):
        app = ExcelApplication.open(path, with_vba=False)
        for name in ("XaRound", "XaRemote", "XaHelpers", xlam_build.GENERATED_MODULE):
            app.add_module(mods[name], name=name)
        app.add_module("Public Sub Add(k As String, v As String)\nEnd Sub\n", name="Dictionary", kind="class")
        with_properties(app.workbooks()[0], rc.read_properties(path))
        app.add_module("Public Function K() As String\n    K = XaKeyForButtons(ActiveWorkbook)\nEnd Function\n"
                       "Public Function H() As String\n    H = XA_KEY_HEADER\nEnd Function\n", name="Probe")
        assert str(app.run("K")) == want
        assert str(app.run("H")).lower() == "x-xl-addin-key"
    headers = re.search(r"(?ms)^Private Function XaHeaders\(\) As Dictionary\r?\n(.*?)^End Function",
                        mods["XaRemote"])
    assert headers and "If Len(key) > 0 Then d.Add XA_KEY_HEADER, key" in headers.group(1)


def test_a_click_shows_the_round_state(county: Any, tmp_path: Path, sample_values: dict[str, Any]) -> None:
    """校验 of a workbook carrying its key: the answer's alert tells the state and the coordinator's reasons;
    without the key (or with a wrong one) the answer is the button's alone."""
    from xlwings_payload import payload_from_xlsx

    srv, templates, _xlam = county
    book = fill(templates[OTHER], tmp_path / "other.xlsx", {**sample_values, "meta.agency": OTHER})
    key = rc.read_properties(book)[rc.PROP_KEY]
    assert cli("submit", book).returncode == 0
    r = cli("review", OTHER, "--server", srv.base, "--token-file", coordinator_token(srv), "--return",
            "表二 行政许可数量有误")
    assert r.returncode == 0, r.stderr
    addin = "年报加载项.xlam".encode("utf-16-be").hex()
    body = payload_from_xlsx(book)

    def alerts(**headers: str) -> list[str]:
        got = httpx.post(f"{srv.base}/xl_addin/validate", params={"addin": addin}, json=body, timeout=60,
                         headers={"Authorization": f"Bearer {srv.token}", **headers})
        assert got.status_code == 200
        return [a["args"][0] for a in got.json()["actions"] if a["func"] == "alert"]

    plain = alerts()
    assert plain and not any("状态" in a for a in plain)
    told = alerts(**{"X-Xl-Addin-Key": key})
    assert told[:-1] == plain[:-1] and told[-1].startswith(plain[-1])
    assert told[-1].endswith("本机关年报在县级服务器上的状态：已退回（已提交 1 版）\n退回理由：表二 行政许可数量有误")
    assert alerts(**{"X-Xl-Addin-Key": "x" * 43}) == plain


def test_with_round_state_adds_an_alert_when_the_answer_has_none() -> None:
    answer = {"actions": [{"func": "runMacro", "args": ["x"]}]}
    out = server.with_round_state(answer, "本机关年报在县级服务器上的状态：已通过（已提交 2 版）")
    assert out["actions"][0] == answer["actions"][0]
    assert out["actions"][1]["func"] == "alert" and out["actions"][1]["args"][:4] == [
        "本机关年报在县级服务器上的状态：已通过（已提交 2 版）", lb.TITLE, "ok", "info"]
    assert server.with_round_state(answer, None) is answer


# ---- the built add-in ----------------------------------------------------------------------------------------------

def test_the_built_addin_has_the_button_and_only_the_ribbon_callbacks_public(county: Any) -> None:
    _srv, _templates, xlam = county
    with zipfile.ZipFile(xlam) as z:
        root = ET.fromstring(z.read(xlam_build.RIBBON_PART))
    buttons = {b.get("id"): b for b in root.iter(f"{{{CUSTOMUI_NS}}}button")}
    submit = buttons["xaSubmit"]
    assert submit.get("label") == "提交" and submit.get("imageMso") == "FileSendAsAttachment"
    assert submit.get("onAction") == "XaRibbon.XaSubmit" and "校验" in (submit.get("supertip") or "")
    mods, kinds = built_modules(xlam), module_kinds(xlam)
    for name, kind in kinds.items():
        if kind != "standard":
            continue
        head = re.split(r"(?m)^(Public |Private )?(Sub|Function|Declare) ", mods[name])[0]
        assert (re.search(r"(?m)^Option Private Module\r?$", head) is not None) == (
            name not in xlam_build.PUBLIC_MODULES), name
    assert kinds["XaRound"] == "standard"
    ribbon_subs = re.findall(r"(?m)^Public Sub (\w+)\(control As IRibbonControl\)", mods["XaRibbon"])
    assert "XaSubmit" in ribbon_subs
    assert not re.search(r"(?m)^(Public )?(Sub|Function) ", "\n".join(
        ln for ln in mods["XaRibbon"].splitlines() if "(control As IRibbonControl)" not in ln))
    # nothing of the workbook on a command line: no shell at all in the submit module
    code = "\n".join(code_lines(mods["XaRound"]))
    assert not re.search(r"\bShell\b|WScript|\.Exec\(|\.Run\b", code)
    assert "XA_SERVER_URL & XA_SUBMIT_PATH" in code and "xl_addin_server" in code


def test_the_local_addin_has_no_submit_button(tmp_path: Path) -> None:
    local = xlam_build.build(tmp_path / "xl_addin.xlam", MACROS)
    with zipfile.ZipFile(local) as z:
        assert b"xaSubmit" not in z.read(xlam_build.RIBBON_PART)
    assert "XaRound" not in built_modules(local)


def test_serve_fixture_is_real(county: Any) -> None:
    srv: Serve = county[0]
    assert srv.proc.poll() is None and httpx.get(srv.base + "/xl_addin/health").text == "ok"



@pytest.mark.parametrize("name", ["本局 2023年报.xlsx", *HOSTILE_NAMES])
def test_the_workbook_name_crosses_percent_encoded(county: Any, name: str) -> None:
    """The name is the only thing of the workbook in the URL: UTF-8 percent-encoded as urllib quotes it (so the
    server reads it back exactly, and no &, ?, # or newline of a hostile name can change the request)."""
    from pyopenvba.interpreter import Interpreter

    mods = built_modules(county[2])
    vba = Interpreter()
    for module in ("XaRound", xlam_build.GENERATED_MODULE):
        vba.add_module(mods[module], name=module)
    got = str(vba.run("XaUrlEncode", [name]))
    assert got == rc.quote(name) and re.fullmatch(r"[A-Za-z0-9%._~-]+", got)


@pytest.mark.libreoffice
def test_libreoffice_basic_encodes_names_and_compares_servers_the_same(county: Any) -> None:
    """A second VBA engine (LibreOffice Basic, VBA support) runs the built XaRound's pure functions: the same
    percent-encoding as urllib for every hostile name, and the same server comparison."""
    srv = county[0]
    mods = built_modules(county[2])
    modules = {name: mods[name] for name in ("XaRound", "XaHelpers", xlam_build.GENERATED_MODULE)}
    names = ["本局 2023年报.xlsx", *HOSTILE_NAMES]
    same = [srv.base, srv.base.upper() + "/", "", "http://evil.example", srv.base + "/x"]
    calls = [f"XaUrlEncode({vba_str(n)})" for n in names]
    calls += [f'CStr(XaSameServer("{s}"))' for s in same]
    got = run_basic(modules, calls)
    assert got[:len(names)] == [rc.quote(n) for n in names]
    assert [g.lower() for g in got[len(names):]] == ["true", "true", "true", "false", "false"]


REFUSALS = [
    # (status, the answer's text, what the clerk must read first after the heading; None: the server's text)
    (413, "上传的数据超过 20 MB，服务器拒绝处理。", None),
    (413, "<html><body>413 Request Entity Too Large</body></html>", "http_413"),
    (429, "请求过于频繁，请 30 秒后再点。", None),
    (503, "服务器繁忙，请稍后再点", None),
    (503, "Service Unavailable", "http_503"),
    (409, "本机关的年报已审核通过，不能再提交；如需修改请联系政务公开办撤销通过。", None),
    (502, "<html>Bad Gateway</html>", "http_other"),
    (401, "", "http_401"),
]


@pytest.mark.parametrize(("status", "text", "key"), REFUSALS, ids=[f"{s}-{k or 'server'}" for s, _t, k in REFUSALS])
def test_canned_refusals_are_told_in_chinese(county: Any, sample: Path, status: int, text: str,
                                            key: str | None) -> None:
    """The answers a proxy or the gate gives (not all of which a test server can be made to give): the server's
    Chinese text as it is, anything else (HTML, English, nothing) one Chinese message per status."""
    from pyopenvba.apps.excel import ExcelApplication

    srv, _templates, xlam = county
    mods = built_modules(xlam)
    app = ExcelApplication.open(sample, with_vba=False)
    for name in ("XaRound", "XaRemote", "XaHelpers", xlam_build.GENERATED_MODULE):
        app.add_module(mods[name], name=name)
    app.add_module("Public Sub Add(k As String, v As String)\nEnd Sub\n", name="Dictionary", kind="class")
    got = str(app.run("XaSubmitRefused", status, text))
    if key is None:
        assert got.startswith(lb.VBA_TEXTS["submit_refused"] + "\r\n\r\n" + text)
    else:
        assert got.startswith(lb.VBA_TEXTS[key]) and "<html>" not in got and "Service" not in got
    assert got.endswith(lb.VBA_TEXTS["server_is"] + srv.base)


def test_a_click_of_validate_sends_the_key_header(county: Any, tmp_path: Path,
                                                  sample_values: dict[str, Any]) -> None:
    """XaRibbon.XaValidate as Excel calls it, up to xlwings' RunRemotePython (a stand-in that keeps its URL and
    headers): the county's token and the workbook's agency key."""
    from pyopenvba.apps.excel import ExcelApplication
    from pyopenvba.interpreter._values import NOTHING

    srv, templates, xlam = county
    book = fill(templates[OWN], tmp_path / "own.xlsx", sample_values)
    mods = built_modules(xlam)
    app = ExcelApplication.open(book, with_vba=False)
    for name in ("XaRibbon", "XaRound", "XaRemote", "XaHelpers", xlam_build.GENERATED_MODULE):
        app.add_module(mods[name], name=name)
    app.add_module("Public Sub Add(k As String, v As String)\n    Seen = Seen & k & \"=\" & v & \"|\"\nEnd Sub\n",
                   name="Dictionary", kind="class")
    app.add_module("Public Seen As String\nPublic Url As String\n"
                   "Public Function RunRemotePython(u As String, Optional headers As Variant)\n    Url = u\n"
                   "End Function\nPublic Function Got() As String\n    Got = Url & \" \" & Seen\nEnd Function\n",
                   name="Remote")
    with_properties(app.workbooks()[0], rc.read_properties(book))
    _no_protected_view(app)
    app.run("XaValidate", NOTHING)
    assert app.dialogs == []
    key = rc.read_properties(book)[rc.PROP_KEY]
    url, headers = str(app.run("Got")).split(" ", 1)
    assert url.startswith(srv.base + "/xl_addin/validate?addin=")
    assert headers == f"Authorization=Bearer {srv.token}|X-Xl-Addin-Key={key}|"
