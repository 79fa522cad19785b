"""What a returned workbook can make the add-ins' VBA do, tested on the VBA the built add-ins contain.

- The local add-in's command line (module XaRun), built by the add-in's own VBA run in LibreOffice Basic
  (``Option VBASupport 1``, headless) for hostile workbook names: the name crosses as hex digits only, the rest of
  the command is the same for every name, and Python reads the name back exactly (livebook.caller_args).
- What is left of xlwings' VBA in both add-ins: no RunPython / ExecuteWindows / RunFrozenPython /
  SaveConfigToFile / UDF server, one place that starts a program, Option Private Module everywhere but the ribbon
  callbacks (and VBA-Web's WebHelpers, see xlam_build.PUBLIC_MODULES), RunRemotePython bound to the built-in server.
- Item 6: on the server route a failed XaGuard stops the writes that follow (pyOpenVBA's Excel model, which
  refuses a write to a protected sheet with error 1004 as Excel does), run as the server answers them.
- Item 7: every network failure the server add-in can meet is told in Chinese (XaRemote, run by pyOpenVBA).
"""

from __future__ import annotations

import html
import inspect
import re
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyopenvba")
pytest.importorskip("xlwings")

from conftest import need

from xl_addin import addin, server
from xl_addin.adapters import livebook as lb
from xl_addin.adapters import xlam_build

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "xl_addin" / "macros"
SERVER_URL = "https://gk.example.gov.cn:8443/nb"
INTERPRETER = "C:\\Python311\\pythonw.exe"
LOG = "C:\\Users\\clerk\\AppData\\Local\\Temp\\xl_addin-1.log"
ADDIN = "xl_addin.xlam"

#: names a returned workbook may carry (or that cmd.exe would read specially), each a test case
HOSTILE_NAMES = [
    "a^&calc .xlsx",                       # the reported one: ^& escaped the & xlwings "escaped"
    "a&calc&.xlsx",
    "100%COMSPEC:~0,1%calc.xlsx",          # %VAR:~n,1% spells any character a file name cannot hold
    "%COMSPEC%.xlsx",
    'a" & calc & ".xlsx',                  # a quote ends cmd.exe's quoted part
    "a|calc.xlsx",
    "a<in>out.xlsx",
    "a!PATH!.xlsx",                        # delayed expansion
    "a\r\ncalc\n.xlsx",                    # newlines end a cmd.exe command
    "a');import os;os.system('calc');('.xlsx",  # Python quotes inside the -c code
    "年报" * 140 + ".xlsx",                # 285 characters, beyond MAX_PATH
    "报告;;;x;.xlsx",                      # the ;-split door of xlwings' PYTHONPATH
    "a^^^&calc^.xlsx",
    "`calc`$(calc).xlsx",
    "\U0001F600 表情.xlsx",                # beyond the BMP: two UTF-16 code units
]


# ---- reading the built add-ins -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def local_xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return xlam_build.build(tmp_path_factory.mktemp("xlam") / ADDIN, MACROS, interpreter=INTERPRETER)


@pytest.fixture(scope="module")
def server_xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return xlam_build.build(tmp_path_factory.mktemp("server-xlam") / "年报加载项.xlam", MACROS, server=SERVER_URL,
                            auth="Bearer " + "k" * 40)


def built_modules(path: Path) -> dict[str, str]:
    """Module name -> source (CRLF, no Attribute lines), as olevba (an independent reader) finds them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # oletools uses deprecated pyparsing names
        from oletools.olevba import VBA_Parser

        parser = VBA_Parser(str(path))
        try:
            return {Path(fname).stem: xlam_build.body_of(code) for _, _, fname, code in parser.extract_macros()}
        finally:
            parser.close()


def module_kinds(path: Path) -> dict[str, str]:
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    with ExcelFile(str(path)) as wb:
        return {m.name: ("standard" if m.kind is VBAModuleKind.standard else "other") for m in wb.vba_project().modules}


def code_lines(src: str) -> list[str]:
    """The source's lines without comments (whole-line comments; VBA strings here never hold an apostrophe)."""
    return [ln.rstrip() for ln in src.splitlines() if ln.strip() and not ln.strip().startswith("'")]


# ---- LibreOffice Basic runs the add-in's VBA -----------------------------------------------------------------------

_XLC = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library" xmlns:xlink="http://www.w3.org/1999/xlink">
 <library:library library:name="Standard" xlink:href="$(USER)/basic/Standard/{kind}.xlb/" xlink:type="simple"
  library:link="false"/>
</library:libraries>
"""
_XLB = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard" library:readonly="false"
 library:passwordprotected="false">
{elements}</library:library>
"""
_XBA = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="{name}"
 script:language="StarBasic">{src}</script:module>
"""


def run_basic(modules: dict[str, str], calls: list[str]) -> list[str]:
    """Each of ``calls`` (a VBA String expression) evaluated by LibreOffice Basic, with ``modules`` (VBA sources) as
    the application library "Standard" under VBA support. Results cross as XaHex (any character, newlines too)."""
    soffice = need("soffice")
    with tempfile.TemporaryDirectory(prefix="xl_addin-basic-") as tmp:
        profile, out = Path(tmp) / "profile", Path(tmp) / "out.txt"
        probe = ["Option Explicit", "Sub Main", "    Dim f As Integer", "    f = FreeFile",
                 f'    Open "{out}" For Output As #f', "    On Error GoTo Failed"]
        probe += [f"    Print #f, XaHex({call})" for call in calls]
        probe += ["    Close #f", "    Exit Sub", "Failed:", '    Print #f, "ERROR " & Err.Number & " " & Err.Description',
                  "    Close #f", "End Sub"]
        library = {**modules, "Probe": "\n".join(probe)}
        # a fresh profile runs no macro on its first start: start it once
        subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                        "--terminate_after_init"], capture_output=True, timeout=180, check=False)
        lib = profile / "user" / "basic" / "Standard"
        lib.mkdir(parents=True, exist_ok=True)
        for kind in ("script", "dialog"):
            (lib.parent / f"{kind}.xlc").write_text(_XLC.format(kind=kind), encoding="utf-8")
        (lib / "dialog.xlb").write_text(_XLB.format(elements=""), encoding="utf-8")
        (lib / "script.xlb").write_text(_XLB.format(elements="".join(
            f' <library:element library:name="{n}"/>\n' for n in library)), encoding="utf-8")
        for name, src in library.items():
            src = "Option VBASupport 1\n" + src.replace("\r\n", "\n")
            (lib / f"{name}.xba").write_text(_XBA.format(name=name, src=html.escape(src, quote=False)), encoding="utf-8")
        done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                               "macro:///Standard.Probe.Main"], capture_output=True, timeout=180, check=False)
        assert out.exists(), f"LibreOffice ran no macro: {done.stderr.decode(errors='replace')}"
        lines = out.read_text(encoding="utf-8").splitlines()
    assert lines and not lines[-1].startswith("ERROR"), lines[-1:]
    return [bytes.fromhex(line).decode("utf-16-be", "surrogatepass") for line in lines]


def vba_str(text: str) -> str:
    """A VBA String expression for any text (ASCII literals and ChrW), as the build writes the Chinese texts."""
    return xlam_build.vba_string(text)


def _command_modules(local_xlam: Path) -> dict[str, str]:
    mods = built_modules(local_xlam)
    return {name: mods[name] for name in ("XaRun", "XaHelpers", xlam_build.GENERATED_MODULE)}


def _command(name_expr: str, action: str = "validate", interpreter: str = INTERPRETER, hwnd: str = "460862",
             log: str = LOG) -> str:
    return (f'XaCommand({vba_str(interpreter)}, "{action}", "{ADDIN}", {name_expr}, "{hwnd}", {vba_str(log)})')


@pytest.mark.libreoffice
def test_hostile_names_never_reach_the_command_line(local_xlam: Path) -> None:
    """The add-in's own XaCommand, run by LibreOffice Basic: for every hostile name the command is the benign
    one with only the hex run of the name changed, that run is hex digits, and Python reads the name back."""
    names = ["a.xlsx", *HOSTILE_NAMES]
    got = run_basic(_command_modules(local_xlam), [_command(vba_str(n)) for n in names])
    benign_hex = "a.xlsx".encode("utf-16-be").hex().upper()
    template = got[0]
    assert template.count(benign_hex) == 1
    before, _, after = template.partition(lb.CALLER_BOOK + benign_hex)
    # the fixed frame: the PC's interpreter, the button's function, the add-in's name (hex), Excel's window
    assert before == (f'cmd.exe /C C: & cd "C:\\Python311" & "{INTERPRETER}" -B -c "import xl_addin.addin as a; '
                      f"a.validate(addin='{ADDIN.encode('utf-16-be').hex().upper()}')\" ")
    assert after == f' --hwnd=460862 2> "{LOG}"'
    for name, command in zip(names, got, strict=True):
        assert command.startswith(before) and command.endswith(after), name
        run = command[len(before):len(command) - len(after)]
        assert re.fullmatch(lb.CALLER_BOOK + "[0-9A-F]+", run), name
        argv = ["-c", lb.CALLER_BOOK + run[len(lb.CALLER_BOOK):], "--hwnd=460862"]
        assert lb.caller_args(argv) == (name, 460862), name


@pytest.mark.libreoffice
def test_command_refuses_what_it_cannot_carry_safely(local_xlam: Path) -> None:
    calls = [
        _command(vba_str("a" * 2100 + ".xlsx")),                       # 8,400+ hex digits: over cmd.exe's limit
        _command(vba_str("a.xlsx"), action="validate(); import os; os.system('calc'); a.about"),
        _command(vba_str("a.xlsx"), action="about|validate"),
        _command(vba_str("a.xlsx"), action=""),
        _command(vba_str("a.xlsx"), interpreter="python"),             # not an absolute path
        _command(vba_str("a.xlsx"), interpreter='C:\\a" & calc & "\\python.exe'),
        _command(vba_str("a.xlsx"), hwnd="1 & calc"),
        _command(vba_str("a" * 1000 + ".xlsx")),                       # long but carried
        _command(vba_str("a.xlsx"), interpreter="\\\\srv\\py\\pythonw.exe", action="collect_folder"),
        _command(vba_str("a.xlsx"), hwnd="-1234567"),                  # Application.Hwnd above 2^31
        _command(vba_str("a.xlsx"), hwnd="-"),
    ]
    got = run_basic(_command_modules(local_xlam), calls)
    assert got[:7] == [""] * 7
    assert len(got[7]) <= 8000 and "a.about(" not in got[7]
    assert got[9].endswith(f' --hwnd=-1234567 2> "{LOG}"') and got[10] == ""
    assert lb.caller_args(["--xa-book=0061", "--hwnd=-1234567"]) == ("a", -1234567)
    assert got[8].startswith('cmd.exe /C pushd "\\\\srv\\py" & "\\\\srv\\py\\pythonw.exe" -B -c "import xl_addin.addin '
                             "as a; a.collect_folder(addin=")


def test_only_the_buttons_functions_can_be_started(local_xlam: Path) -> None:
    """XaRunPython names a function from a fixed list, whoever calls it; the ribbon names each of them."""
    mods = built_modules(local_xlam)
    listed = re.search(r'Private Const XA_ACTIONS As String = "\|([\w|]+)\|"', mods["XaRun"])
    assert listed
    actions = set(listed.group(1).split("|"))
    called = re.findall(r'^    XaRunPython "(\w+)"\r?$', mods["XaRibbon"], re.M)
    assert sorted(called) == sorted(actions) and len(called) == 6
    for action in actions:
        assert "addin" in inspect.signature(getattr(addin, action)).parameters, action
    run = mods["XaRun"]
    sub = re.search(r"(?ms)^Public Sub XaRunPython\(action As String\)\r?\n(.*?)^End Sub", run)
    assert sub
    body = code_lines(sub.group(1))
    assert body[2].strip() == "If Not XaIsAction(action) Then Exit Sub"
    # what of the workbook XaRunPython touches: its name, handed to XaCommand (hexed there), nothing else
    assert "ActiveWorkbook.Name" in sub.group(1)
    for other in ("FullName", ".Path", "Sheets", "Worksheets", "ActiveSheet", "Range("):
        assert other not in run, other
    assert 'MsgBox XaText("name_too_long")' in sub.group(1)


@pytest.mark.parametrize("which", ["local", "server"])
def test_no_xlwings_macro_that_runs_a_command_is_left(which: str, local_xlam: Path, server_xlam: Path) -> None:
    """Removed from the built add-in: what put the workbook's name into cmd.exe (ExecuteWindows via RunPython),
    its path into sys.path (prepare_sys_path's ;-separated list), ran any program (RunFrozenPython), wrote a
    settings file (SaveConfigToFile) or started the UDF server. The one call that starts a program is XaRun's."""
    mods = built_modules(local_xlam if which == "local" else server_xlam)
    gone = ("RunPython", "ExecuteWindows", "ExecuteMac", "RunFrozenPython", "SaveConfigToFile", "XLPyCommand", "XLPy",
            "KillPy", "ImportPythonUDFs", "ImportPythonUDFsBase", "ImportXlwingsUdfsModule", "GetAzureAdAccessToken")
    starts = []
    for name, src in mods.items():
        for proc in gone:
            assert not re.search(rf"(?m)^(Public |Private )?(Sub|Function) {proc}\(", src), (name, proc)
        code = "\n".join(code_lines(src))
        assert "prepare_sys_path" not in code and "PYTHONPATH" not in code, name
        assert not re.search(r"\bRunPython\b", code), name
        starts += [(name, ln.strip()) for ln in code_lines(src)
                   if re.search(r"WScript\.Run\b|\bShell\s*\(|\.Exec\(|ShellExecute|WScript\.Exec", ln)]
    if which == "local":
        assert starts == [("XaRun", "code = WScript.Run(cmdLine, style, True)")]
    else:
        assert starts == [] and "XaRun" not in mods


@pytest.mark.parametrize("which", ["local", "server"])
def test_every_module_is_private_but_the_ribbon_callbacks(which: str, local_xlam: Path, server_xlam: Path) -> None:
    path = local_xlam if which == "local" else server_xlam
    mods, kinds = built_modules(path), module_kinds(path)
    standard = {n for n, k in kinds.items() if k == "standard"}
    assert {"xlwings", "XaHelpers", "XaConfig", "XaRibbon", xlam_build.GENERATED_MODULE} <= standard
    for name in standard:
        declarations = re.split(r"(?m)^(Public |Private )?(Sub|Function|Declare) ", mods[name])[0]
        private = re.search(r"(?m)^Option Private Module\r?$", declarations) is not None
        assert private == (name not in xlam_build.PUBLIC_MODULES), name
    if which == "server":
        assert {"Remote", "XaRemote", "WebHelpers"} <= standard
        # WebHelpers may stay public: nothing in it starts a program on Windows (ExecuteInShell is Mac only)
        shell = re.search(r"(?ms)^Public Function ExecuteInShell\(.*?^End Function", mods["WebHelpers"])
        assert shell and code_lines(shell.group(0))[1] == "#If Mac Then"


def test_remote_posts_to_the_built_in_server_only(server_xlam: Path) -> None:
    remote = built_modules(server_xlam)["Remote"]
    run = re.search(r"(?ms)^Function RunServerPython\(.*?^End Function", remote)
    assert run
    lines = code_lines(run.group(0))
    i = lines.index("    Set wb = ActiveWorkbook")
    assert lines[i + 1].strip() == ('If Len(XA_SERVER_URL) = 0 Or Left$(url, Len(XA_SERVER_URL) + 1) <> '
                                    'XA_SERVER_URL & "/" Then Exit Function')
    # no English message box left for an answer
    assert [ln.strip() for ln in lines if "MsgBox" in ln] == [
        'MsgBox "Either use \'include\' or \'exclude\', but not both!", vbCritical',
        'MsgBox XaHttpMessage(myResponse.StatusCode, myResponse.Content), vbExclamation, XaText("title")']


def test_caller_args_are_strict() -> None:
    assert lb.caller_args(["-c"]) is None
    assert lb.caller_args(["-c", "--xa-book=0061", "--hwnd=12"]) == ("a", 12)
    for bad in (["--xa-book=006", "--hwnd=1"], ["--xa-book=00G1", "--hwnd=1"], ["--xa-book=0061", "--hwnd=1&calc"],
                ["--xa-book=", "--hwnd=1"]):
        with pytest.raises(ValueError):
            lb.caller_args(bad)


def test_the_clicked_book_is_found_by_the_hex_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """addin's Session(None) opens the workbook XaRun named (Excel window, name decoded), not xlwings' --wb=."""
    import importlib
    import sys

    import xlwings as xw

    seen: dict[str, Any] = {}

    class FakeXlApp:
        def __init__(self, xl: int) -> None:
            seen["hwnd"] = xl

    class FakeApp:
        def __init__(self, impl: Any) -> None:
            self.books = {"a^&calc .xlsx": "BOOK"}

    name = "a^&calc .xlsx"
    monkeypatch.setattr(sys, "argv", ["-c", lb.CALLER_BOOK + name.encode("utf-16-be").hex().upper(), "--hwnd=77"])
    real_import = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda m, *a: type("M", (), {"App": FakeXlApp})
                        if m == "xlwings._xlwindows" else real_import(m, *a))
    monkeypatch.setattr(xw, "App", FakeApp)
    assert addin._caller() == "BOOK" and seen["hwnd"] == 77


# ---- item 6: a failed protection reset stops the writes, on the server route too -----------------------------------

def _excel(path: Path, modules: dict[str, str]) -> tuple[Any, Any]:
    from pyopenvba.apps.excel import ExcelApplication

    app = ExcelApplication.open(path, with_vba=False)
    for name in ("XaHelpers", xlam_build.GENERATED_MODULE):
        app.add_module(modules[name], name=name)
    app.add_module("""
Public Sub Reprotect(wb As Workbook, i As Long, oldPassword As String, newPassword As String)
    wb.Worksheets(i).Unprotect oldPassword
    wb.Worksheets(i).Protect Password:=newPassword
End Sub
Public Function Stopped() As Boolean
    Stopped = XaWritesStopped()
End Function
""", name="Probe")
    return app, app.workbooks()[0]


def test_failed_guard_stops_the_servers_writes(filled: Any, server_xlam: Path) -> None:
    """A workbook whose sheet password was changed, 校验 through the server: the answer's actions run as
    Remote.bas runs them (runMacro ignores what XaGuard returns). The clerk gets the one Chinese message, no
    run-time error 1004, and no cell is changed."""
    import xlwings as xw
    from xlwings_payload import payload_from_xlsx

    from xl_addin import spec

    path = filled({"t3.new.natural": -1})
    book = xw.Book(json=payload_from_xlsx(path))
    addin.validate(book, addin="年报加载项.xlam".encode("utf-16-be").hex())
    actions = [a for a in book.json()["actions"] if a["func"] == "runMacro"]
    macros = [a["args"][0].rsplit("!", 1)[-1] for a in actions]
    assert macros[0] == lb.GUARD_MACRO and len(macros) > 1  # the writes follow the guard in the same answer
    sheets = [s.name for s in book.sheets]
    first_guarded = lb.guard_sheets(lb.outline(sheets, []))[0]

    app, wb = _excel(path, built_modules(server_xlam))
    app.run("Reprotect", wb, sheets.index(first_guarded) + 1, spec.PROTECTION_PASSWORD, "changed-by-someone")
    before = {s: [[app.sheet(s).value(f"{c}{r}") for c in "ABCDEFGH"] for r in range(1, 40)] for s in sheets}
    for a in actions:  # Remote.runMacro: Application.Run name, wb, args...
        app.run(a["args"][0].rsplit("!", 1)[-1], wb, *a["args"][1:])
    assert len(app.dialogs) == 1
    kind, prompt, title, _style = app.dialogs[0]
    assert kind == "MsgBox" and prompt.startswith(lb.GUARD_FAILED + " (") and title == lb.TITLE
    assert app.run("Stopped") is True
    assert {s: [[app.sheet(s).value(f"{c}{r}") for c in "ABCDEFGH"] for r in range(1, 40)] for s in sheets} == before


def test_guard_failure_without_the_stop_would_end_in_error_1004(filled: Any, server_xlam: Path) -> None:
    """The same answer with the stop flag removed from the built XaHelpers: the write after the failed guard
    meets the protected sheet (error 1004), which is what the clerk saw before."""
    import xlwings as xw
    from pyopenvba.interpreter import VBARuntimeError
    from xlwings_payload import payload_from_xlsx

    from xl_addin import spec

    path = filled({"t3.new.natural": -1})
    book = xw.Book(json=payload_from_xlsx(path))
    addin.validate(book, addin="年报加载项.xlam".encode("utf-16-be").hex())
    actions = [a for a in book.json()["actions"] if a["func"] == "runMacro"]
    sheets = [s.name for s in book.sheets]
    mods = built_modules(server_xlam)
    stop = "    If xaStopped Then Exit Sub\r\n    On Error GoTo Failed\r\n"
    assert mods["XaHelpers"].count(stop) == 3  # XaPaint, XaWrite, XaWriteRows
    unguarded = {**mods, "XaHelpers": mods["XaHelpers"].replace(stop, "")}
    app, wb = _excel(path, unguarded)
    app.run("Reprotect", wb, sheets.index(lb.guard_sheets(lb.outline(sheets, []))[0]) + 1,
            spec.PROTECTION_PASSWORD, "changed-by-someone")
    with pytest.raises(VBARuntimeError, match="1004"):
        for a in actions:
            app.run(a["args"][0].rsplit("!", 1)[-1], wb, *a["args"][1:])


def test_a_new_click_writes_again(server_xlam: Path) -> None:
    """The stop lasts one click: XaReady (start of every click) clears it."""
    ready = re.search(r"(?ms)^Public Function XaReady\(needsPython As Boolean\) As Boolean\r?\n(.*?)^End Function",
                      built_modules(server_xlam)["XaHelpers"])
    assert ready and "xaStopped = False" in [ln.strip() for ln in code_lines(ready.group(1))[:4]]


# ---- item 7: every network failure in Chinese ----------------------------------------------------------------------

#: what VBA-Web's WebClient.Execute raises for a WinHttp error other than timeout / cannot connect / not resolved
#: (error 11011 + vbObjectError, the WinHttp number in the text), as its source in the wheel builds it
def _webclient_error(winhttp: int, text: str) -> tuple[int, str]:
    number = (0x80070000 + winhttp) - (1 << 32)  # WinHttp's HRESULT as VBA's signed Long
    return 11011 - 2147221504, f"An error occurred during execute\r\n{number} ({(number + (1 << 32)):x}): {text}"


def test_webclient_still_reports_winhttp_errors_this_way() -> None:
    """XaRemote reads the WinHttp number from VBA-Web's error text and treats status 408 as no answer: both as
    the wheel's WebClient.cls does them (a new xlwings that changes this fails here)."""
    wheel = Path(xlam_build.base_addin()).parent / "addin" / "WebClient.cls"
    src = wheel.read_text(encoding="ascii")
    assert 'Err.Number & VBA.IIf(Err.Number < 0, " (" & VBA.LCase$(VBA.Hex$(Err.Number)) & ")", "") & ": "' in src
    assert "Case 12002, 12007, 12029" in src and "web_Response.StatusCode = WebStatusCode.RequestTimeout" in src
    assert "Err.Raise 11011 + vbObjectError" in src


NET_CASES = [
    # (what happens, how XaRemote meets it: ("http", status, content) or ("error", number, text), expected key)
    ("server down (connection refused: VBA-Web answers 408)", ("http", 408, ""), "net_timeout"),
    ("timeout (408)", ("http", 408, ""), "net_timeout"),
    ("401 from the server, its Chinese text", ("http", 401, server.UNAUTHORIZED), None),
    ("401 from a proxy, HTML", ("http", 401, "<html><body>401 Authorization Required</body></html>"), "http_401"),
    ("413 from nginx, HTML", ("http", 413, "<html>413 Request Entity Too Large</html>"), "http_413"),
    ("429 from the server", ("http", 429, "请求过于频繁，请 30 秒后再点。"), None),
    ("429 without text", ("http", 429, ""), "http_429"),
    ("503 from the server", ("http", 503, "服务器繁忙，请稍后再点"), None),
    ("503 from a proxy", ("http", 503, "Service Unavailable"), "http_503"),
    ("502 bad gateway", ("http", 502, "<html>Bad Gateway</html>"), "http_other"),
    ("certificate not trusted", ("error", *_webclient_error(12175, "A security error occurred")), "net_certificate"),
    ("certificate name wrong", ("error", *_webclient_error(12038, "The host name in the certificate is invalid")),
     "net_certificate"),
    ("certificate expired", ("error", *_webclient_error(12037, "The certificate date is invalid")), "net_certificate"),
    ("connection reset by a restart", ("error", *_webclient_error(12030, "The connection with the server was "
                                                                         "terminated abnormally")), "net_reset"),
    ("other WinHttp error", ("error", *_webclient_error(12004, "An internal error occurred")), "net_other"),
    ("an action failed (1004)", ("error", 1004, "Application-defined or object-defined error"), "run_failed"),
]


def _remote_vba(server_xlam: Path, book: Path, failure: tuple[Any, ...]) -> Any:
    """XaRemote, XaHelpers and XaBuild of the built server add-in in pyOpenVBA's interpreter, with
    RunRemotePython standing in for Remote.RunServerPython meeting ``failure``: raising what WebClient.Execute
    raises, or running the built Remote's own line for an answer other than 200."""
    from pyopenvba.apps.excel import ExcelApplication

    mods = built_modules(server_xlam)
    answer = next(ln.strip() for ln in code_lines(mods["Remote"]) if "XaHttpMessage(" in ln)
    vba = ExcelApplication.open(book, with_vba=False)
    with_properties(vba.workbooks()[0], {})  # not a distributed template: no agency key in the headers
    for name in ("XaRemote", "XaRound", "XaHelpers", xlam_build.GENERATED_MODULE):
        vba.add_module(mods[name], name=name)
    vba.add_module("Public Sub Add(k As String, v As String)\nEnd Sub\n", name="Dictionary", kind="class")
    if failure[0] == "error":
        body = f"    Err.Raise {failure[1]}, \"WebClient.Execute\", {vba_str(failure[2])}"
    else:
        body = (f"    Dim myResponse As New FakeResponse\n    myResponse.StatusCode = {failure[1]}\n"
                f"    myResponse.Content = {vba_str(failure[2])}\n    {answer}")
        vba.add_module("Public StatusCode As Long\nPublic Content As String\n", name="FakeResponse", kind="class")
    vba.add_module(f"Public Function RunRemotePython(url As String, Optional headers As Variant)\n{body}\n"
                   "End Function\n", name="Remote")
    return vba


def with_properties(book: Any, props: dict[str, str]) -> None:
    """The workbook's CustomDocumentProperties as Excel gives them: (name).Value, error 5 for a name it has not."""
    from pyopenvba.interpreter._objects import VBAObject, member
    from pyopenvba.interpreter._values import MISSING, error, to_text

    class DocProperty(VBAObject):
        vba_type_name = "DocumentProperty"

        def __init__(self, value: str) -> None:
            self.value = value

        @member(default=True)
        def Value(self) -> object:
            return self.value

    class Book(type(book)):  # type: ignore[misc]
        @member
        def CustomDocumentProperties(self, Index: object = MISSING) -> object:
            name = to_text(Index)
            if name not in props:
                raise error(5, "Invalid procedure call or argument")
            return DocProperty(props[name])

    book.__class__ = Book


@pytest.mark.parametrize(("what", "failure", "key"), NET_CASES, ids=[c[0] for c in NET_CASES])
def test_every_network_failure_is_told_in_chinese(what: str, failure: tuple[Any, ...], key: str | None,
                                                   server_xlam: Path, sample: Path) -> None:
    vba = _remote_vba(server_xlam, sample, failure)
    vba.run("XaRemote", "validate")
    assert len(vba.dialogs) == 1, what
    kind, prompt, title, _style = vba.dialogs[0]
    assert kind == "MsgBox" and title == lb.TITLE
    first = prompt.split("\r\n")[0]
    assert first == (lb.VBA_TEXTS[key] if key else failure[2]) or (key == "http_other" and first.startswith(
        lb.VBA_TEXTS[key])), (what, prompt)
    assert re.search(r"[\u4e00-\u9fff]", first) and not re.search(r"[A-Za-z]{4,}", first), (what, first)
    if failure[0] == "http" or failure[1] != 1004:
        assert lb.VBA_TEXTS["server_is"] + SERVER_URL in prompt


def test_the_ribbon_goes_through_xaremote(server_xlam: Path) -> None:
    mods = built_modules(server_xlam)
    bodies = dict(re.findall(r"(?ms)^Public Sub (\w+)\(control As IRibbonControl\)\r?\n(.*?)^End Sub", mods["XaRibbon"]))
    assert set(bodies) == {"XaValidate", "XaFillTotals", "XaExportReport", "XaClearMarks", "XaAbout", "XaSubmit"}
    # 提交 posts the saved file to the round's route (module XaRound, tests/test_submit_button.py)
    assert [ln.strip() for ln in code_lines(bodies.pop("XaSubmit"))] == ["If Not XaReady(False) Then Exit Sub",
                                                                         "XaSubmitActive"]
    for sub, body in bodies.items():
        lines = [ln.strip() for ln in code_lines(body)]
        assert lines[0] == "If Not XaReady(False) Then Exit Sub" and len(lines) == 2, sub
        m = re.fullmatch(r'XaRemote "(\w+)"', lines[1])
        assert m and m.group(1) in server.BUTTONS, sub
    remote = re.search(r"(?ms)^Public Sub XaRemote\(action As String\)\r?\n(.*?)^End Sub", mods["XaRemote"])
    assert remote
    lines = [ln.strip() for ln in code_lines(remote.group(1))]
    assert lines[1] == "On Error GoTo Failed"
    assert lines[2] == ('RunRemotePython XA_SERVER_URL & "/xl_addin/" & action & "?addin=" & XaHex(ThisWorkbook.Name), '
                        "headers:=XaHeaders()")
