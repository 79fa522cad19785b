"""Builds the Excel add-in ``dist/xl_addin.xlam`` on Linux from the text sources in ``xl_addin/macros/``.

    python -m xl_addin.adapters.xlam_build [-o dist/xl_addin.xlam] [--interpreter C:\\...\\pythonw.exe]
    xl-addin addin --server URL --token-file F -o 年报加载项.xlam      (the county's server add-in)

Start: the ribbon add-in inside the installed xlwings wheel (``quickstart_addin_ribbon.xlam``), which carries
xlwings' BSD-licensed VBA (module ``xlwings``: settings, helpers) and its ``Dictionary`` class. With pyOpenVBA: its demo
module ``RibbonMyAddin`` is removed, every ``xl_addin/macros/*.bas`` is added (or replaced), and the xlwings module's
``PROJECT_NAME`` is set to ``xl_addin`` (so its settings live in ``%USERPROFILE%\\.xl_addin\\xl_addin.conf``).
Then, editing the zip directly (never through openpyxl, which drops the ribbon): the 2007 ribbon part is
replaced by ``xl_addin/macros/customUI14.xml`` (Office 2010+ schema) and the add-in's settings sheet is renamed. The zip
is written with fixed timestamps and a fixed member order, so two builds are byte-identical.

Hardening of xlwings' bundled VBA (module ``xlwings``, see :data:`XLWINGS_PATCHES`): its ``GetConfig`` only
asks ``XaConfig.XaGetConfig`` (the user's own config file, read as UTF-8/UTF-16/ANSI, also as ``.conf.txt``, then
the values built in here), never the workbook being checked (its ``xl_addin.conf`` sheet or a config file in its
folder). ``RunPython``/``ExecuteWindows`` (the workbook's name in a cmd.exe command, its path split on ``;`` into
``sys.path``), ``RunFrozenPython``, ``SaveConfigToFile`` and the UDF server are removed: the local add-in starts Python
through ``XaRun.XaRunPython`` only, whose command carries nothing of the workbook but its name as hex digits, and
runs one of the buttons' functions only. Every standard module but the ribbon callbacks has ``Option Private Module``
(see :data:`PUBLIC_MODULES`). A generated module ``XaBuild`` carries the built-in values (server address,
Authorization header, interpreter) and the Chinese messages of the add-in's VBA as ``ChrW`` expressions, so every
module stays ASCII. ``tests/test_vba_security.py`` runs the built add-in's VBA (LibreOffice Basic, pyOpenVBA).

The server add-in (``server=URL``) has the ribbon callbacks of ``xl_addin/macros/server/XaRibbon.bas`` (through
``XaRemote``: RunRemotePython to the built-in address, with the Authorization header, every network failure told in
Chinese), xlwings' client modules (``Remote`` and the VBA-Web classes from the wheel; ``Remote`` patched to post to
the built-in server only, run its actions qualified with this add-in's name and tell an answer other than 200 in
Chinese), no ``XaRun`` and no 汇总校验 button (that one needs the county office's own folders); and the 提交 button
(module ``XaRound``: the saved workbook posted to the round's ``/round/api/submit`` with the agency key of its
custom document properties, to the built-in server only).

The file name is ASCII on purpose: Excel records add-in paths in the registry, safest without non-ASCII characters.
The Chinese name is what the user sees: the ribbon tab 政务公开年报.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from .fileio import atomic_path

ADDIN_NAME = "xl_addin"
DEFAULT_OUT = Path("dist") / f"{ADDIN_NAME}.xlam"
#: the VBA and ribbon sources, shipped inside the package so that an installed xl-addin can build add-ins
MACROS = Path(__file__).resolve().parent.parent / "macros"
RIBBON_PART = "customUI/customUI14.xml"
OLD_RIBBON_PART = "customUI/customUI.xml"
RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
BASE_MODULE_REMOVED = ("RibbonMyAddin",)
CONF_SHEET = ("_myaddin.conf", f"_{ADDIN_NAME}.conf")  # (in the base, ours); "_" = inactive until renamed
FIXED_TIME = (2021, 9, 26, 0, 0, 0)  # the format's date: any fixed value makes the zip reproducible
GENERATED_MODULE = "XaBuild"
#: the module that starts the PC's Python (the local add-in only)
LOCAL_ONLY_MODULE = "XaRun"
#: xlwings' client for xlwings Server (what ``xlwings release`` imports for the remote interpreter), from the wheel
REMOTE_MODULES = (("Remote", "Remote.bas"), ("WebHelpers", "WebHelpers.bas"), ("IWebAuthenticator", "IWebAuthenticator.cls"),
                  ("WebClient", "WebClient.cls"), ("WebRequest", "WebRequest.cls"), ("WebResponse", "WebResponse.cls"))
COLLECT_BUTTON = re.compile(rb'\s*<button id="xaCollectFolder"[^>]*/>')
#: the server add-in's 提交 group (``macros/server/customUI_submit.xml``), put before the help group
SUBMIT_GROUP = "customUI_submit.xml"
HELP_GROUP = b'        <group id="xaHelpGroup"'
#: where 导出报告 puts the files: (the local add-in's tip, the server add-in's)
EXPORT_TIP = ("保存在本工作簿所在文件夹。", "保存在县级服务器上，并在浏览器中打开下载页面。")

#: (what it does, pattern, replacement, how many matches the base must have) applied to the module ``xlwings``
XLWINGS_PATCHES: tuple[tuple[str, str, str, int], ...] = (
    ("no macro of it can be reached from another workbook's references or the macro list",
     r'(?m)^#Const App = "Microsoft Excel"',
     "Option Private Module\r\n#Const App = \"Microsoft Excel\"", 1),
    ("settings come from the PC only, never from the workbook being checked",
     r"(?ms)^Function GetConfig\(configKey As String, Optional default As String = \"\", "
     r"Optional source As String = \"\"\) As Variant\r?\n.*?^End Function",
     "Function GetConfig(configKey As String, Optional default As String = \"\", Optional source As String = \"\") As Variant\n"
     "    ' xl_addin: the user's config file and the values built into the add-in only (XaConfig.XaGetConfig)\n"
     "    GetConfig = XaGetConfig(configKey, default)\n"
     "End Function", 1),
    # RunPython puts the workbook's name into a cmd.exe command (only & escaped: "a^&calc .xlsx" ran calc) and its
    # full path into the ;-separated list xlwings.utils.prepare_sys_path puts on sys.path ("x;;;y;" added folders);
    # RunFrozenPython runs any program it is given. XaRun.XaRunPython replaces them.
    ("RunPython, ExecuteMac, ExecuteWindows and RunFrozenPython are removed (XaRun starts Python)",
     r"(?ms)^Public Function RunPython\(PythonCommand As String\)\r?\n.*?"
     r"^Public Function RunFrozenPython\(Executable As String, Optional Args As String\)\r?\n.*?^End Function\r?\n",
     "' xl_addin: RunPython, ExecuteMac, ExecuteWindows and RunFrozenPython removed (see module XaRun)\r\n", 1),
    ("the UDF server (command line with the workbook's path, ImportPythonUDFs, KillPy) is removed",
     r"(?ms)^Function XLPyCommand\(\)\r?\n.*?^Sub ImportXlwingsUdfsModule\(tf As String\)\r?\n.*?^End Sub\r?\n",
     "' xl_addin: the UDF server (XLPyCommand ... ImportXlwingsUdfsModule) removed\r\n", 1),
    ("no macro writes a settings file",
     r"(?ms)^Function SaveConfigToFile\(.*?^End Function\r?\n",
     "' xl_addin: SaveConfigToFile removed\r\n", 1),
)
#: the same for the module ``Remote`` of the server add-in
REMOTE_PATCHES: tuple[tuple[str, str, str, int], ...] = (
    ("no macro of it can be reached from another workbook's references or the macro list",
     r"(?m)^Option Explicit\r?$", "Option Explicit\r\nOption Private Module", 1),
    ("it posts to this add-in's own server only, whoever calls it",
     r"(?m)^    Set wb = ActiveWorkbook\r?$",
     "    Set wb = ActiveWorkbook\r\n"
     "    ' xl_addin: only the server built into this add-in (XaBuild), whoever calls this\r\n"
     "    If Len(XA_SERVER_URL) = 0 Or Left$(url, Len(XA_SERVER_URL) + 1) <> XA_SERVER_URL & \"/\" Then Exit Function",
     1),
    ("every action runs in this add-in's module Remote, whatever the checked workbook holds",
     r'Application\.Run action\("func"\), wb, action',
     'Application.Run "\'" & Replace(ThisWorkbook.Name, "\'", "\'\'") & "\'!Remote." & action("func"), wb, action', 1),
    ("an answer other than 200 is told in Chinese (XaRemote.XaHttpMessage), never as English status text",
     r"(?ms)^    Else\r?\n        If myResponse\.Content <> \"\" Then\r?\n.*?^        End If\r?\n    End If\r?\n",
     "    Else\r\n"
     "        ' xl_addin: one Chinese message per answer (XaRemote.XaHttpMessage)\r\n"
     "        MsgBox XaHttpMessage(myResponse.StatusCode, myResponse.Content), vbExclamation, XaText(\"title\")\r\n"
     "    End If\r\n", 1),
    ("no Azure AD sign-in (it ran RunPython, which is removed)",
     r"(?ms)^Function GetAzureAdAccessToken\(.*?^End Function\r?\n",
     "' xl_addin: GetAzureAdAccessToken removed\r\n", 1),
)
#: standard modules that keep no ``Option Private Module``: the ribbon callbacks (Excel calls them), and VBA-Web's
#: WebHelpers, whose public Enums type the public members of its exposed classes (WebRequest.Method ...): made
#: private they would not compile. None of its procedures starts a program on Windows (ExecuteInShell is Mac only).
PUBLIC_MODULES = ("XaRibbon", "WebHelpers")


def base_addin() -> Path:
    """The ribbon add-in shipped in the installed xlwings wheel."""
    import xlwings

    p = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"
    if not p.exists():
        raise FileNotFoundError(f"{p} is missing: is xlwings>=0.30 installed?")
    return p


def module_sources(macros: Path) -> dict[str, str]:
    """Module name -> VBA source (CRLF, no Attribute lines) of every ``*.bas`` in ``macros``."""
    out: dict[str, str] = {}
    for path in sorted(macros.glob("*.bas")):
        raw = path.read_bytes()
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: VBA sources must be ASCII (build Chinese text with ChrW or keep it in the "
                             f"ribbon XML / Python): byte {exc.start}") from None
        m = re.search(r'^Attribute VB_Name = "([^"]+)"', text, re.M)
        name = m.group(1) if m else path.stem
        out[name] = body_of(text)
    return out


def body_of(text: str) -> str:
    """A module's source as the VBA editor stores it: CRLF line ends, without ``Attribute`` lines."""
    lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if not ln.startswith("Attribute ")]
    return "\r\n".join(lines).rstrip("\r\n") + "\r\n"


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement that inserts ``text`` as it is (no backslash or group processing)."""
    return lambda _m: text


def patch(src: str, patches: tuple[tuple[str, str, str, int], ...], module: str) -> str:
    """Apply each patch, failing the build when the base does not have the expected text."""
    for what, pattern, replacement, count in patches:
        src, n = re.subn(pattern, _literal(replacement), src)
        if n != count:
            raise ValueError(f"module {module}: expected {count} match(es) for the patch '{what}', found {n}: "
                             "xlwings' VBA changed, review the patch")
    return src


def vba_string(text: str) -> str:
    """A VBA expression for ``text`` with ASCII source only: literals for ASCII runs, ``ChrW(&H....)`` else."""
    parts: list[str] = []
    for run in re.findall(r"[\x20-\x7e]+|[^\x20-\x7e]", text):
        if run.isascii() and run.isprintable():
            parts.append('"' + run.replace('"', '""') + '"')
        else:
            units = run.encode("utf-16-be")  # characters beyond the BMP become two surrogates, as VBA holds them
            parts.extend(f"ChrW(&H{units[i:i + 2].hex().upper()})" for i in range(0, len(units), 2))
    return " & ".join(parts) or '""'


def _function(name: str, text: str) -> list[str]:
    """A function returning ``text``, a few parts per line (VBA lines stay short, no continuations)."""
    expr = vba_string(text).split(" & ")
    lines = [f"Public Function {name}() As String"]
    for i in range(0, len(expr), 12):
        chunk = " & ".join(expr[i:i + 12])
        lines.append(f"    {name} = {chunk}" if i == 0 else f"    {name} = {name} & {chunk}")
    lines.append("End Function")
    return lines


def generated_module(server: str = "", auth: str = "", interpreter: str = "") -> str:
    """The module XaBuild: values built in at build time and the Chinese texts of the add-in's VBA (VBA_TEXTS)."""
    from .livebook import VBA_TEXTS

    for what, value in (("server URL", server), ("Authorization header", auth)):
        if not (value.isascii() and value.isprintable() and '"' not in value):
            raise ValueError(f"the {what} must be printable ASCII without quotes")
    lines = [f'Attribute VB_Name = "{GENERATED_MODULE}"', "Option Explicit", "Option Private Module",
             "' Generated by xl_addin/adapters/xlam_build.py when the add-in is built: do not edit.",
             f'Public Const XA_SERVER_URL As String = "{server}"',
             f'Public Const XA_AUTH As String = "{auth}"', *(_function("XaInterpreter", interpreter)),
             "Public Function XaText(key As String) As String", "    Select Case key"]
    for key, text in VBA_TEXTS.items():
        lines.append(f'    Case "{key}"')
        lines.extend("    " + ln for ln in _function("XaText", text)[1:-1])
    lines += ["    End Select", "End Function"]
    return "\r\n".join(lines) + "\r\n"


def build(out: str | os.PathLike[str] = DEFAULT_OUT, macros: str | os.PathLike[str] = MACROS,
          base: str | os.PathLike[str] | None = None, *, server: str | None = None, auth: str = "",
          interpreter: str = "") -> Path:
    """The local add-in (XaRunPython; ``interpreter`` built in when given) or, with ``server``, the server add-in
    whose buttons post to ``server`` with the Authorization header ``auth``."""
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    macros = Path(macros)
    sources = module_sources(macros)
    ribbon = (macros / "customUI14.xml").read_bytes()
    remote: dict[str, tuple[str, VBAModuleKind]] = {}
    if server is not None:
        server = server.rstrip("/")
        if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d+)?(/[A-Za-z0-9._~\-/]*)?", server):
            raise ValueError(f"not a server address: {server!r} (e.g. https://gk.example.gov.cn or http://10.0.0.5:8765)")
        sources.update(module_sources(macros / "server"))
        del sources[LOCAL_ONLY_MODULE]
        ribbon, n = COLLECT_BUTTON.subn(b"", ribbon, count=1)
        local_export, server_export = (t.encode() for t in EXPORT_TIP)
        if n != 1 or ribbon.count(local_export) != 1:
            raise ValueError("customUI14.xml changed: review the server add-in's ribbon edits")
        ribbon = ribbon.replace(local_export, server_export)
        if ribbon.count(HELP_GROUP) != 1:
            raise ValueError("customUI14.xml changed: review where the server add-in's 提交 group goes")
        ribbon = ribbon.replace(HELP_GROUP, (macros / "server" / SUBMIT_GROUP).read_bytes() + HELP_GROUP)
        wheel = Path(base_addin()).parent / "addin"
        for name, fname in REMOTE_MODULES:
            text = (wheel / fname).read_text(encoding="ascii")
            if fname.endswith(".cls"):
                remote[name] = (text.replace("\r\n", "\n"), VBAModuleKind.other)
            else:
                remote[name] = (body_of(text), VBAModuleKind.standard)
        remote["Remote"] = (patch(remote["Remote"][0], REMOTE_PATCHES, "Remote"), VBAModuleKind.standard)
    sources[GENERATED_MODULE] = body_of(generated_module(server or "", auth, interpreter))
    with tempfile.TemporaryDirectory(prefix="xl_addin-xlam-") as tmp:
        work = Path(tmp) / "work.xlam"
        shutil.copyfile(base or base_addin(), work)
        with ExcelFile(str(work)) as wb:
            project = wb.vba_project()
            present = set(wb.module_names())
            for name in BASE_MODULE_REMOVED:
                if name in present:
                    project.delete_module(name)
            xlwings_src = wb.get_module("xlwings")
            patched = re.sub(r'(Public Const PROJECT_NAME As String = ")[^"]*(")', rf"\g<1>{ADDIN_NAME}\g<2>",
                             xlwings_src, count=1)
            if patched == xlwings_src:
                raise ValueError("the xlwings module has no PROJECT_NAME constant: base add-in changed?")
            patched = with_xlwings_version(patched)
            wb.set_module("xlwings", patch(patched, XLWINGS_PATCHES, "xlwings"))
            for name, src in sources.items():
                if name in present:
                    wb.set_module(name, src)
                else:
                    project.add_module(name, src)
            for name, (src, kind) in remote.items():
                project.add_module(name, src, kind=kind)
            wb.save()
        with atomic_path(out) as tmp_out:
            _rezip(work, tmp_out, ribbon)
    return Path(out)


def with_xlwings_version(source: str) -> str:
    """The module ``xlwings`` saying the installed xlwings' version, whose wheel gave the client (``Remote.bas``
    sends ``XLWINGS_VERSION`` with every click, and the server's remote engine accepts only its own version): an
    add-in built where the server runs agrees with it by construction."""
    import xlwings

    if not re.fullmatch(r"[0-9A-Za-z.+-]{1,40}", xlwings.__version__):
        raise ValueError(f"unexpected xlwings version {xlwings.__version__!r}")
    out, n = re.subn(r'(Public Const XLWINGS_VERSION As String = ")[^"]*(")', rf"\g<1>{xlwings.__version__}\g<2>",
                     source, count=1)
    if n != 1:
        raise ValueError("the xlwings module has no XLWINGS_VERSION constant: base add-in changed?")
    return out


def _rezip(src: Path, dst: Path, ribbon: bytes) -> None:
    with zipfile.ZipFile(src) as zin:
        parts = {n: zin.read(n) for n in zin.namelist() if n != OLD_RIBBON_PART and not n.endswith("/")}
    parts[RIBBON_PART] = ribbon
    parts["_rels/.rels"] = _rels(parts["_rels/.rels"])
    old, new = CONF_SHEET
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(f'name="{old}"'.encode(), f'name="{new}"'.encode())
    order = ["[Content_Types].xml", "_rels/.rels", *sorted(n for n in parts if n not in ("[Content_Types].xml",
                                                                                       "_rels/.rels"))]
    with zipfile.ZipFile(dst, "w") as zout:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            zout.writestr(info, parts[name], compresslevel=9)


def _rels(xml: bytes) -> bytes:
    """The package relationships with the ribbon pointing at customUI14.xml (the 2010 relationship type)."""
    text = xml.decode("utf-8")
    text = re.sub(r'<Relationship [^>]*ui/extensibility"[^>]*/>', "", text)
    rel = f'<Relationship Id="rIdXaRibbon" Type="{RIBBON_REL_TYPE}" Target="{RIBBON_PART}" />'
    return text.replace("</Relationships>", rel + "</Relationships>").encode("utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m xl_addin.adapters.xlam_build", description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", default=str(DEFAULT_OUT))
    ap.add_argument("--macros", default=str(MACROS))
    ap.add_argument("--interpreter", default="", help=r"Python built in, e.g. C:\Python311\pythonw.exe")
    args = ap.parse_args(argv)
    print(build(args.out, args.macros, interpreter=args.interpreter))


if __name__ == "__main__":
    main()
