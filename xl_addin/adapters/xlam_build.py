"""Builds the Excel add-in ``dist/xl_addin.xlam`` on Linux from the text sources in ``macros/``.

    python -m xl_addin.adapters.xlam_build [--macros macros] [-o dist/xl_addin.xlam]

Start: the ribbon add-in inside the installed xlwings wheel (``quickstart_addin_ribbon.xlam``), which carries
xlwings' BSD-licensed ``RunPython`` (module ``xlwings``) and its ``Dictionary`` class. With pyOpenVBA: its demo
module ``RibbonMyAddin`` is removed, every ``macros/*.bas`` is added (or replaced), and the xlwings module's
``PROJECT_NAME`` is set to ``xl_addin`` (so its settings live in ``%USERPROFILE%\\.xl_addin\\xl_addin.conf``).
Then, editing the zip directly (never through openpyxl, which drops the ribbon): the 2007 ribbon part is
replaced by ``macros/customUI14.xml`` (Office 2010+ schema) and the add-in's settings sheet is renamed. The zip
is written with fixed timestamps and a fixed member order, so two builds are byte-identical.

The file name is ASCII on purpose: ``RunPython`` hands ``ThisWorkbook.FullName`` to Python on a command line
and Excel records add-in paths in the registry; both are safest without non-ASCII characters. The Chinese name
is what the user sees: the ribbon tab 政务公开年报.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from .fileio import atomic_path

ADDIN_NAME = "xl_addin"
DEFAULT_OUT = Path("dist") / f"{ADDIN_NAME}.xlam"
RIBBON_PART = "customUI/customUI14.xml"
OLD_RIBBON_PART = "customUI/customUI.xml"
RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
BASE_MODULE_REMOVED = ("RibbonMyAddin",)
CONF_SHEET = ("_myaddin.conf", f"_{ADDIN_NAME}.conf")  # (in the base, ours); "_" = inactive until renamed
FIXED_TIME = (2021, 9, 26, 0, 0, 0)  # the format's date: any fixed value makes the zip reproducible


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


def build(out: str | os.PathLike[str] = DEFAULT_OUT, macros: str | os.PathLike[str] = "macros",
          base: str | os.PathLike[str] | None = None) -> Path:
    from pyopenvba import ExcelFile

    macros = Path(macros)
    sources = module_sources(macros)
    ribbon = (macros / "customUI14.xml").read_bytes()
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
            wb.set_module("xlwings", patched)
            for name, src in sources.items():
                if name in present:
                    wb.set_module(name, src)
                else:
                    project.add_module(name, src)
            wb.save()
        with atomic_path(out) as tmp_out:
            _rezip(work, tmp_out, ribbon)
    return Path(out)


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
    ap.add_argument("--macros", default="macros")
    args = ap.parse_args(argv)
    print(build(args.out, args.macros))


if __name__ == "__main__":
    main()
