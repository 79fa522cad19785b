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

import pytest

pytest.importorskip("pyopenvba")
pytest.importorskip("xlwings")

from conftest import need

from xl_addin import addin
from xl_addin.adapters import livebook as lb
from xl_addin.adapters import xlam_build

ROOT = Path(__file__).resolve().parents[1]
MACROS = ROOT / "macros"
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


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return xlam_build.build(tmp_path_factory.mktemp("xlam") / "xl_addin.xlam", MACROS)


def our_modules() -> dict[str, str]:
    return xlam_build.module_sources(MACROS)


def test_build_is_reproducible(xlam: Path, tmp_path: Path) -> None:
    again = xlam_build.build(tmp_path / "again.xlam", MACROS)
    assert again.read_bytes() == xlam.read_bytes()
    with zipfile.ZipFile(xlam) as z:
        assert z.namelist()[0] == "[Content_Types].xml"
        assert {i.date_time for i in z.infolist()} == {xlam_build.FIXED_TIME}


def test_sources_are_ascii() -> None:
    bas = sorted(MACROS.glob("*.bas"))
    assert {p.stem for p in bas} == {"XaRibbon", "XaHelpers"}
    for p in bas:
        assert p.read_bytes().isascii(), p


def test_olevba_modules_equal_sources(xlam: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # oletools uses deprecated pyparsing names
        from oletools.olevba import VBA_Parser

        parser = VBA_Parser(str(xlam))
        try:
            found = {Path(fname).stem: code for _, _, fname, code in parser.extract_macros()}
        finally:
            parser.close()
    for name, src in our_modules().items():
        assert name in found, sorted(found)
        assert xlam_build.body_of(found[name]) == src
    assert "RibbonMyAddin" not in found
    assert 'PROJECT_NAME As String = "xl_addin"' in found["xlwings"]
    assert "Function RunPython(" in found["xlwings"]


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


def test_every_runpython_names_an_addin_function() -> None:
    src = our_modules()["XaRibbon"]
    bodies = re.findall(r"^Public Sub (\w+)\(control As IRibbonControl\)\r\n(.*?)^End Sub", src, re.M | re.S)
    assert len(bodies) == 6
    for _, body in bodies:
        lines = [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("'")]
        assert len(lines) == 1 and lines[0].startswith("RunPython "), lines
        m = re.fullmatch(r'RunPython "import xl_addin\.addin as a; a\.(\w+)\(\)"', lines[0])
        assert m, lines[0]
        fn = getattr(addin, m.group(1))
        assert callable(fn)
        params = list(inspect.signature(fn).parameters.values())
        assert params[0].name == "book" and params[0].default is None


def test_helpers_the_python_side_calls_exist() -> None:
    src = our_modules()["XaHelpers"]
    for macro in (lb.GUARD_MACRO, lb.PAINT_MACRO, lb.WRITE_MACRO, lb.PICK_FOLDER_MACRO, lb.PICK_ROSTER_MACRO):
        module, proc = macro.split(".")
        assert module == "XaHelpers"
        assert re.search(rf"^Public (Sub|Function) {proc}\(wb As Workbook, ", src, re.M), proc
    assert "UserInterfaceOnly:=True" in src


def test_settings_sheet_renamed(xlam: Path) -> None:
    with zipfile.ZipFile(xlam) as z:
        wbxml = z.read("xl/workbook.xml").decode()
    assert 'name="_xl_addin.conf"' in wbxml and "_myaddin.conf" not in wbxml


@pytest.mark.libreoffice
def test_libreoffice_imports_the_project(xlam: Path, tmp_path: Path) -> None:
    soffice = need("soffice")
    with tempfile.TemporaryDirectory(prefix="xl_addin-lo-") as profile:
        cmd = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
               "--infilter=Calc MS Excel 2007 VBA XML", "--convert-to", "xlsm:Calc MS Excel 2007 VBA XML",
               "--outdir", str(tmp_path), str(xlam)]
        done = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    out = tmp_path / "xl_addin.xlsm"
    assert done.returncode == 0 and out.exists(), done.stderr.decode(errors="replace")
    assert b"rror" not in done.stderr, done.stderr.decode(errors="replace")
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" in z.namelist()
