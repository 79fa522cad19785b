"""The built add-in, read back: VBA modules, ribbon, callbacks, reproducibility, LibreOffice import."""

from __future__ import annotations

import inspect
import re
import subprocess
import tempfile
import warnings
import xml.etree.ElementTree as ET
import zipfile
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
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
# The part of the customUI 2009/07 schema (customUI14.xsd) the ribbon may use: element -> allowed attributes
SCHEMA_SUBSET = {
    "customUI": {"onLoad", "loadImage"},
    "ribbon": {"startFromScratch"},
    "tabs": set(),
    "tab": {"id", "idMso", "idQ", "label", "keytip", "visible", "insertAfterMso", "insertBeforeMso", "getVisible",
            "getLabel", "tag"},
    "group": {"id", "idMso", "idQ", "label", "keytip", "visible", "imageMso", "screentip", "supertip", "getVisible",
              "insertAfterMso", "insertBeforeMso", "tag", "autoScale", "centerVertically"},
    "button": {"id", "idMso", "idQ", "label", "size", "imageMso", "image", "onAction", "screentip", "supertip",
               "keytip", "enabled", "visible", "showLabel", "showImage", "tag", "description", "getEnabled",
               "getVisible", "getLabel", "insertAfterMso", "insertBeforeMso"},
    "separator": {"id", "visible"},
}


SERVER_URL = "https://gk.example.gov.cn:8443/nb"
TOKEN = "k" * 40


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return xlam_build.build(tmp_path_factory.mktemp("xlam") / "xl_addin.xlam", MACROS)


@pytest.fixture(scope="module")
def server_xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built by the command the county uses."""
    from click.testing import CliRunner

    from xl_addin.cli import main

    folder = tmp_path_factory.mktemp("server-xlam")
    token_file = folder / "token.txt"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    out = folder / "年报加载项.xlam"
    done = CliRunner().invoke(main, ["addin", "--server", SERVER_URL, "--token-file", str(token_file), "-o", str(out)])
    assert done.exit_code == 0, done.output
    return out


def our_modules() -> dict[str, str]:
    return xlam_build.module_sources(MACROS)


def test_build_is_reproducible(xlam: Path, tmp_path: Path) -> None:
    again = xlam_build.build(tmp_path / "again.xlam", MACROS)
    assert again.read_bytes() == xlam.read_bytes()
    with zipfile.ZipFile(xlam) as z:
        assert z.namelist()[0] == "[Content_Types].xml"
        assert {i.date_time for i in z.infolist()} == {xlam_build.FIXED_TIME}


def test_sources_are_ascii(xlam: Path, server_xlam: Path) -> None:
    bas = sorted(MACROS.glob("*.bas"))
    assert {p.stem for p in bas} == {"XaRibbon", "XaHelpers", "XaConfig", "XaRun"}
    for p in [*bas, *MACROS.glob("server/*.bas")]:
        assert p.read_bytes().isascii(), p
    for built in (xlam, server_xlam):
        generated = olevba_modules(built)[xlam_build.GENERATED_MODULE]
        assert generated.isascii() and "ChrW(&H" in generated


def olevba_modules(path: Path) -> dict[str, str]:
    """Module name -> source, as olevba (an independent reader) finds them in the built add-in."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # oletools uses deprecated pyparsing names
        from oletools.olevba import VBA_Parser

        parser = VBA_Parser(str(path))
        try:
            return {Path(fname).stem: code for _, _, fname, code in parser.extract_macros()}
        finally:
            parser.close()


def test_olevba_modules_equal_sources(xlam: Path) -> None:
    found = olevba_modules(xlam)
    for name, src in our_modules().items():
        assert name in found, sorted(found)
        assert xlam_build.body_of(found[name]) == src
    assert "RibbonMyAddin" not in found
    assert 'PROJECT_NAME As String = "xl_addin"' in found["xlwings"]
    assert "Function RunPython(" not in found["xlwings"]  # XaRun starts Python (see test_vba_security.py)


def test_no_stale_pcode(xlam: Path) -> None:
    from pyopenvba import ExcelFile

    with ExcelFile(str(xlam)) as wb:
        mods = {m.name: m for m in wb.vba_project().modules}
    for name in [*our_modules(), "xlwings"]:
        assert mods[name].text_offset == 0, name  # source only: Excel compiles it on first load
        assert not mods[name].prefix_bytes, name


def test_pyopenvba_parses_our_modules() -> None:
    from pyopenvba.interpreter import parse_module

    for name, src in our_modules().items():
        module = parse_module(src, name=name)
        assert module is not None


def _ribbon(xlam: Path) -> ET.Element:
    with zipfile.ZipFile(xlam) as z:
        assert xlam_build.OLD_RIBBON_PART not in z.namelist()
        data = z.read(xlam_build.RIBBON_PART)
        rels = z.read("_rels/.rels").decode()
    assert data == (MACROS / "customUI14.xml").read_bytes()
    assert f'Target="{xlam_build.RIBBON_PART}"' in rels and xlam_build.RIBBON_REL_TYPE in rels
    return ET.fromstring(data)


def test_ribbon_xml_uses_the_2009_schema_only(xlam: Path) -> None:
    root = _ribbon(xlam)
    for el in root.iter():
        ns, _, tag = el.tag[1:].partition("}")
        assert ns == CUSTOMUI_NS, el.tag
        assert tag in SCHEMA_SUBSET, tag
        assert set(el.attrib) <= SCHEMA_SUBSET[tag], (tag, set(el.attrib) - SCHEMA_SUBSET[tag])
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    tab = root.find(f".//{{{CUSTOMUI_NS}}}tab")
    assert tab is not None and tab.get("label") == "政务公开年报"
    labels = {b.get("label") for b in root.iter(f"{{{CUSTOMUI_NS}}}button")}
    assert {"校验", "计算合计", "导出报告", "清除标记", "关于"} <= labels


def test_every_callback_exists_with_the_ribbon_signature(xlam: Path) -> None:
    root = _ribbon(xlam)
    modules = our_modules()
    for button in root.iter(f"{{{CUSTOMUI_NS}}}button"):
        module, _, proc = (button.get("onAction") or "").rpartition(".")
        assert module in modules, button.get("onAction")
        pattern = rf"^Public Sub {re.escape(proc)}\(control As IRibbonControl\)\r?$"
        assert re.search(pattern, modules[module], re.M), button.get("onAction")


def test_every_callback_names_an_addin_function() -> None:
    src = our_modules()["XaRibbon"]
    bodies = re.findall(r"^Public Sub (\w+)\(control As IRibbonControl\)\r\n(.*?)^End Sub", src, re.M | re.S)
    assert len(bodies) == 6
    for _, body in bodies:
        lines = [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("'")]
        assert len(lines) == 2 and lines[0] == "If Not XaReady(True) Then Exit Sub", lines
        m = re.fullmatch(r'XaRunPython "(\w+)"', lines[1])
        assert m, lines[1]
        fn = getattr(addin, m.group(1))
        assert callable(fn)
        params = list(inspect.signature(fn).parameters.values())
        assert params[0].name == "book" and params[0].default is None
        assert params[-1].name == "addin" and params[-1].kind is inspect.Parameter.KEYWORD_ONLY


def test_helpers_the_python_side_calls_exist() -> None:
    src = our_modules()["XaHelpers"]
    for macro in (lb.GUARD_MACRO, lb.PAINT_MACRO, lb.WRITE_MACRO, lb.WRITE_ROWS_MACRO, lb.PICK_FOLDER_MACRO,
                  lb.PICK_ROSTER_MACRO, server.FOLLOW_MACRO):
        module, proc = macro.split(".")
        assert module == "XaHelpers"
        assert re.search(rf"^Public (Sub|Function) {proc}\(wb As Workbook, ", src, re.M), proc
    assert "UserInterfaceOnly:=True" in src


def test_settings_sheet_renamed(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        wbxml = z.read("xl/workbook.xml").decode()
    assert 'name="_xl_addin.conf"' in wbxml and "_myaddin.conf" not in wbxml


# ---- what the checked workbook can no longer do -------------------------------------------------------------------

def _proc(src: str, header: str) -> str:
    m = re.search(rf"(?ms)^{re.escape(header)}.*?^End (Function|Sub)", src)
    assert m, header
    return m.group(0)


@pytest.mark.parametrize("which", ["local", "server"])
def test_the_checked_workbook_cannot_choose_what_runs(which: str, xlam: Path, server_xlam: Path) -> None:
    """xlwings reads settings from an xl_addin.conf sheet of the active workbook and a config file in its folder,
    puts its folder first on sys.path and runs its *.py sheets: none of it is left in the built add-in."""
    found = olevba_modules(xlam if which == "local" else server_xlam)
    xlwings_vba = found["xlwings"]
    get_config = _proc(xlwings_vba, "Function GetConfig(")
    code = [ln.strip() for ln in get_config.splitlines()[1:-1] if ln.strip() and not ln.strip().startswith("'")]
    assert code == ["GetConfig = XaGetConfig(configKey, default)"]
    config = found["XaConfig"]
    for workbook_source in ("ActiveWorkbook", "GetConfigFromSheet", "GetDirectoryConfigFilePath", ".Sheets("):
        assert workbook_source not in config
    # RunPython (embedded *.py sheets, the workbook's folder on sys.path) is gone: XaRun starts Python
    assert "Function RunPython(" not in xlwings_vba and "uses_embedded_code" not in xlwings_vba
    assert "ADD_WORKBOOK_TO_PYTHONPATH" not in xlwings_vba
    assert xlwings_vba.count("GetConfigFromSheet(ActiveWorkbook)") == 0


def test_python_side_adds_no_workbook_folder_to_sys_path(xlam: Path) -> None:
    """xlwings' RunPython handed xlwings.utils.prepare_sys_path "flag;<workbook path>;<add-in path>;...;<PYTHONPATH>"
    split on ";": a folder named "x;;;y;" put the sender's folder first on sys.path. The built add-in hands Python
    no path list at all (XaRun's command: the fixed -c code, the name as hex, Excel's window number)."""
    for name, src in olevba_modules(xlam).items():
        code = [ln for ln in src.splitlines() if not ln.strip().startswith("'")]
        assert not [ln for ln in code if "prepare_sys_path" in ln or "PYTHONPATH" in ln], name
    run = olevba_modules(xlam)["XaRun"]
    assert "--xa-book=" in run and "ActiveWorkbook.FullName" not in run and ".Path" not in run


def _vba(*modules: str) -> object:
    from pyopenvba.interpreter import Interpreter

    vba = Interpreter()
    for name in modules:
        vba.add_module(xlam_build.module_sources(MACROS)[name], name=name)
    return vba


def test_config_file_read_with_bom_without_bom_and_key_equals_value() -> None:
    """XaConfig run by pyOpenVBA's interpreter on the bytes Notepad writes (UTF-8 with and without BOM)."""
    vba: Any = _vba("XaConfig")
    vba.add_module('''
Public Function FromHex(h As String) As String
    Dim b() As Byte, i As Long
    ReDim b(0 To Len(h) \\ 2 - 1)
    For i = 0 To Len(h) \\ 2 - 1
        b(i) = CByte("&H" & Mid$(h, 2 * i + 1, 2))
    Next i
    FromHex = XaDecode(b)
End Function
Public Function Lookup(text As String, key As String) As String
    Dim value As String
    If XaConfigValue(text, key, value) Then Lookup = value Else Lookup = "<none>"
End Function
''', name="T")
    line = '"INTERPRETER_WIN","C:\\Users\\张三\\Python311\\pythonw.exe"\r\n"SHOW CONSOLE","False"\r\n'
    for raw in (b"\xef\xbb\xbf" + line.encode(), line.encode()):
        text = vba.run("FromHex", [raw.hex()])
        assert str(text) == line
        assert str(vba.run("Lookup", [text, "interpreter_win"])) == "C:\\Users\\张三\\Python311\\pythonw.exe"
    assert str(vba.run("Lookup", ["INTERPRETER_WIN = C:\\a,b\\p.exe", "INTERPRETER_WIN"])) == "C:\\a,b\\p.exe"
    assert str(vba.run("Lookup", ["\ufeffINTERPRETER_WIN=x", "PYTHONPATH"])) == "<none>"


def test_addin_name_crosses_as_hex() -> None:
    vba: Any = _vba("XaHelpers")
    for name in ("xl_addin.xlam", "年报加载项（2025）.xlam"):
        assert lb.addin_name(str(vba.run("XaHex", [name]))) == name


# ---- the server add-in ---------------------------------------------------------------------------------------------

def test_server_addin_buttons_post_to_the_built_in_server(server_xlam: Path) -> None:
    found = olevba_modules(server_xlam)
    ribbon = found["XaRibbon"]
    code = [ln for ln in ribbon.splitlines() if not ln.strip().startswith("'")]
    assert not [ln for ln in code if re.search(r"\bRunPython\b", ln)]
    bodies = dict(re.findall(r"(?ms)^Public Sub (\w+)\(control As IRibbonControl\)\r?\n(.*?)^End Sub", ribbon))
    assert set(bodies) == {"XaValidate", "XaFillTotals", "XaExportReport", "XaClearMarks", "XaAbout", "XaSubmit"}
    assert [ln.strip() for ln in bodies.pop("XaSubmit").splitlines() if ln.strip()] == [
        "If Not XaReady(False) Then Exit Sub", "XaSubmitActive"]
    for sub, body in bodies.items():
        lines = [ln.strip() for ln in body.splitlines() if ln.strip()]
        assert lines[0] == "If Not XaReady(False) Then Exit Sub"
        m = re.fullmatch(r'XaRemote "(\w+)"', lines[1])
        assert m, (sub, lines)
        assert m.group(1) in server.BUTTONS
    assert ('RunRemotePython XA_SERVER_URL & "/xl_addin/" & action & "?addin=" & XaHex(ThisWorkbook.Name), '
            "headers:=XaHeaders()") in found["XaRemote"]
    generated = found[xlam_build.GENERATED_MODULE]
    assert f'Public Const XA_SERVER_URL As String = "{SERVER_URL}"' in generated
    assert f'Public Const XA_AUTH As String = "Bearer {TOKEN}"' in generated
    assert 'd.Add "Authorization", XA_AUTH' in found["XaRemote"]
    # xlwings' client is there, and runs its actions in this add-in only
    assert {"Remote", "WebClient", "WebRequest", "WebResponse", "WebHelpers", "IWebAuthenticator"} <= set(found)
    assert "Function RunRemotePython(" in found["Remote"]
    assert 'Application.Run "\'" & Replace(ThisWorkbook.Name, "\'", "\'\'") & "\'!Remote." & action("func")' in found["Remote"]
    root = _ribbon_of(server_xlam)
    buttons = {b.get("id"): b for b in root.iter(f"{{{CUSTOMUI_NS}}}button")}
    assert "xaCollectFolder" not in buttons
    assert "服务器" in (buttons["xaExportReport"].get("supertip") or "")


def test_local_addin_has_no_server_and_can_bake_the_interpreter(tmp_path: Path) -> None:
    out = xlam_build.build(tmp_path / "xl_addin.xlam", MACROS, interpreter="C:\\Users\\张三\\Python311\\pythonw.exe")
    generated = olevba_modules(out)[xlam_build.GENERATED_MODULE]
    assert 'XA_SERVER_URL As String = ""' in generated and 'XA_AUTH As String = ""' in generated
    assert 'XaInterpreter = "C:\\Users\\" & ChrW(&H5F20) & ChrW(&H4E09) & "\\Python311\\pythonw.exe"' in generated


@pytest.mark.parametrize("url", ["ftp://x", "http://a b", 'http://x/"', "http://x/?a=1"])
def test_server_address_is_checked(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        xlam_build.build(tmp_path / "x.xlam", MACROS, server=url, auth="Bearer " + TOKEN)


def _ribbon_of(path: Path) -> ET.Element:
    with zipfile.ZipFile(path) as z:
        return ET.fromstring(z.read(xlam_build.RIBBON_PART))


@pytest.mark.libreoffice
@pytest.mark.parametrize("which", ["local", "server"])
def test_libreoffice_imports_the_project(which: str, xlam: Path, server_xlam: Path, tmp_path: Path) -> None:
    xlam = xlam if which == "local" else server_xlam
    soffice = need("soffice")
    with tempfile.TemporaryDirectory(prefix="xl_addin-lo-") as profile:
        cmd = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
               "--infilter=Calc MS Excel 2007 VBA XML", "--convert-to", "xlsm:Calc MS Excel 2007 VBA XML",
               "--outdir", str(tmp_path), str(xlam)]
        done = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    out = tmp_path / (xlam.stem + ".xlsm")
    assert done.returncode == 0 and out.exists(), done.stderr.decode(errors="replace")
    assert b"rror" not in done.stderr, done.stderr.decode(errors="replace")
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" in z.namelist()


# ---- the helpers run by pyOpenVBA's in-memory Excel on the real workbook -------------------------------------------

def _excel_with_helpers(path: Path) -> tuple[Any, Any]:
    from pyopenvba.apps.excel import ExcelApplication

    app = ExcelApplication.open(path, with_vba=False)
    app.add_module(xlam_build.module_sources(MACROS)["XaHelpers"], name="XaHelpers")
    app.add_module(xlam_build.body_of(xlam_build.generated_module()), name=xlam_build.GENERATED_MODULE)
    app.add_module("""
Public Function FillOf(wb As Workbook, i As Long, a1 As String) As Long
    FillOf = wb.Worksheets(i).Range(a1).Interior.Color
End Function
Public Function IsProtected(wb As Workbook, i As Long) As Boolean
    IsProtected = wb.Worksheets(i).ProtectContents
End Function
""", name="Probe")
    return app, app.workbooks()[0]


def _run_actions(app: Any, wb: Any, actions: list[dict[str, Any]], *, skip: str = "") -> None:
    """What Remote.bas's runMacro does with each of our actions (the qualifier names our add-in, dropped here)."""
    for a in actions:
        if a["func"] == "runMacro" and not (skip and a["args"][0].endswith(skip)):
            app.run(a["args"][0].rsplit("!", 1)[-1], wb, *a["args"][1:])


def _rgb(hex6: str) -> int:
    r, g, b = (int(hex6[i:i + 2], 16) for i in (0, 2, 4))
    return r + 256 * g + 65536 * b


def test_helpers_write_results_and_colours_under_protection(filled: Any) -> None:
    """校验's actions, carried out by XaHelpers in pyOpenVBA's Excel model: 校验结果 filled through XaWriteRows,
    the wrong cell red, every sheet still protected, no input cell changed. Without XaGuard first, Excel's
    protection refuses the same writes (error 1004, told in Chinese, nothing written): the guard is what lets
    them through."""
    import xlwings as xw
    from xlwings_payload import payload_from_xlsx

    from xl_addin import spec

    path = filled({"t3.new.natural": -1, "t2.rules.made": 3})
    book = xw.Book(json=payload_from_xlsx(path))
    s = addin.validate(book, addin="年报加载项.xlam".encode("utf-16-be").hex())
    actions = book.json()["actions"]
    sheets = [sh.name for sh in book.sheets]


    app, wb = _excel_with_helpers(path)
    _run_actions(app, wb, actions, skip=lb.GUARD_MACRO)
    assert [d[1].split(" (")[0] for d in app.dialogs] == [lb.VBA_TEXTS["write_failed"]]  # the first write, then none
    assert "protected" in app.dialogs[0][1]  # Excel's own reason, in brackets
    assert app.sheet(spec.RESULTS_SHEET).value("A2") in (None, "", lb.NOT_RUN)

    app, wb = _excel_with_helpers(path)
    inputs = {(loc.sheet, loc.a1): app.sheet(loc.sheet).value(loc.a1) for k, loc in spec.LAYOUT.locations.items()
              if k in spec.INPUT_KEYS}
    _run_actions(app, wb, actions)
    results = app.sheet(spec.RESULTS_SHEET)
    assert [results.value(f"A{r}") for r in range(2, 2 + len(s.report.findings))] == [f.rule for f in s.report.findings]
    assert results.value("A1") == lb.RESULTS_HEADERS[0]
    loc = spec.LAYOUT.locations["t3.new.natural"]
    row = next(i for i, f in enumerate(s.report.findings, start=2) if f.key == "t3.new.natural")
    assert results.formula(f"D{row}") == f'=HYPERLINK("#\'{loc.sheet}\'!{loc.a1}","{loc.a1}")'
    assert app.run("FillOf", wb, sheets.index(loc.sheet) + 1, loc.a1) == _rgb(lb.MARK_COLORS[lb.Severity.ERROR])
    assert {w: app.sheet(w[0]).value(w[1]) for w in inputs} == inputs
    for i, name in enumerate(sheets, start=1):
        if name in lb.guard_sheets(lb.outline(sheets, [])) or name == spec.RESULTS_SHEET:
            assert app.run("IsProtected", wb, i) is True, name


def test_helpers_write_the_total_formulas(filled: Any) -> None:
    import xlwings as xw
    from xlwings_payload import payload_from_xlsx

    from xl_addin import spec, structure

    path = filled({"t3.new.total": 999})
    book = xw.Book(json=payload_from_xlsx(path))
    addin.fill_totals(book)
    app, wb = _excel_with_helpers(path)
    _run_actions(app, wb, book.json()["actions"])
    expected = structure.expected().formulas
    for key in spec.DERIVED_KEYS:
        loc = spec.LAYOUT.locations[key]
        assert app.sheet(loc.sheet).formula(loc.a1) == expected[key], key
