"""Issue 19 item 10: one registry per list, and every place that shows a list shows the registry's.

- the files read as published reports: spec.REPORT_SUFFIXES (import's help, the not-importable message,
  docs/rules.md, api.is_report, what collect picks up);
- the export formats: adapters.exporter.FORMATS (export's choices and help, the messages, api.export's default,
  README);
- the file-name sanitiser: report_doc.safe_name (export files, distributed templates, the server's export
  folders), which also keeps Windows device names (CON, NUL, COM1 ...) out of every name (item 3);
- the sentence that an unchecked report is not published: spec.UNPUBLISHABLE (command line, add-in, exporter).

Each test reads the list from its registry and asks every place; none lists the items again.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import Filler, shared_file
from conftest import cli as run_cli

from xl_addin import api, bulk, catalogue, spec
from xl_addin.adapters import exporter
from xl_addin.importers import document
from xl_addin.report_doc import MAX_STEM, WINDOWS_RESERVED, safe_name

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "xl_addin"


def _sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}


# ---- report suffixes ----------------------------------------------------------------------------------------------

def test_every_place_names_every_report_suffix() -> None:
    suffixes = list(spec.REPORT_SUFFIXES)
    assert document.REPORT_SUFFIXES is spec.REPORT_SUFFIXES
    message = catalogue.file_error("not-importable").text()
    helped = "".join(run_cli("import", "--help").stdout.split())  # as typed, without click's line breaks
    rules_md = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    row = next(line for line in rules_md.splitlines() if line.startswith("| not-importable |"))
    for suffix in suffixes:
        assert suffix in message.split("（", 1)[1], suffix
        assert re.search(rf"{re.escape(suffix)}(?![a-z])", helped), suffix
        assert re.search(rf"{re.escape(suffix)}(?![a-z])", row), suffix
        assert api.is_report(f"年报{suffix}") and api.is_report(f"年报{suffix.upper()}"), suffix
        assert suffix in bulk.EXTENSIONS, suffix
    assert not api.is_report("年报.xlsx") and not api.is_report("年报.rtf")


def test_an_xhtml_and_a_text_report_are_imported_and_collected(tmp_path: Path) -> None:
    """The two suffixes the messages and api.is_report's docs used to leave out are read like their kind."""
    folder = tmp_path / "收件箱"
    folder.mkdir()
    shutil.copy(shared_file("examples/published/shuyang-county-drc-2023.html"), folder / "沭阳.xhtml")
    shutil.copy(shared_file("examples/jiangle-industry-bureau-2023.txt"), folder / "将乐.text")
    for p in folder.iterdir():
        r = run_cli("import", p, "--json")
        assert r.returncode == 0, (p.name, r.stderr)
    result = api.collect(folder, None, tmp_path / "汇总.xlsx", workers=1)
    assert sorted(Path(f.path).name for f in result.files if f.readable) == ["将乐.text", "沭阳.xhtml"]


def test_a_file_of_another_kind_is_told_every_suffix(tmp_path: Path) -> None:
    p = tmp_path / "年报.rtf"
    p.write_text("{\\rtf1 年报}", encoding="utf-8")
    r = run_cli("import", p, "-o", tmp_path / "x.xlsx")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert all(suffix in r.stderr for suffix in spec.REPORT_SUFFIXES)


# ---- export formats -----------------------------------------------------------------------------------------------

def test_every_place_offers_every_export_format(sample: Path, tmp_path: Path) -> None:
    helped = "".join(run_cli("export", "--help").stdout.split())  # as typed, without click's line breaks
    for fmt, what in exporter.FORMATS.items():
        assert f"{fmt}：{''.join(what.split())}" in helped, fmt
        assert "".join(what.split()) in helped.split("Options:")[0], fmt  # the command's own description
    with pytest.raises(exporter.ExportError) as refused:
        exporter.formats_of("pdf")
    assert all(f in str(refused.value) for f in [*exporter.FORMATS, exporter.ALL])
    written = api.export(sample, tmp_path)  # the default: every format
    assert [p.suffix for p in written] == [f".{f}" for f in exporter.FORMATS]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[-f " + "\\|".join([*exporter.FORMATS, exporter.ALL]) + "]" in readme


# ---- file names ---------------------------------------------------------------------------------------------------

HOSTILE = ["CON", "con", "CON.txt", "nul.tar.gz", "COM1", "com9 ", "LPT1.", "Aux .docx", "PRN..", "LPT¹", "CONIN$",
           "../../etc", "..", " . ", "", "a/b\\c:d*e?f\"g<h>i|j", "tab\there", "\u202e恶意\u200b名称", "\udcff孤",
           "很长的机关名称" * 60]


def windows_can_hold(name: str) -> bool:
    """A name Windows (and a Linux file system) accepts as one path component, unchanged."""
    return (bool(name) and name not in (".", "..") and not re.search(r'[\\/:*?"<>|\x00-\x1f]', name)
            and name == name.rstrip(" .") and name.split(".")[0].rstrip(" ").upper() not in WINDOWS_RESERVED
            and len(name.encode("utf-8")) <= 255)


@pytest.mark.parametrize("text", HOSTILE)
def test_the_sanitiser_makes_every_name_one_windows_can_hold(text: str) -> None:
    name = safe_name(text, "未填机关名称")
    assert windows_can_hold(name), (text, name)
    assert len(name) <= MAX_STEM and safe_name(name) == name  # bounded, and clean names stay as they are


def test_the_sanitiser_keeps_what_is_safe_and_prefixes_device_names() -> None:
    assert safe_name("将乐县工业和信息化局") == "将乐县工业和信息化局"
    assert safe_name("CON") == "_CON" and safe_name("nul.txt") == "_nul.txt" and safe_name("COM1 .x") == "_COM1 .x"
    assert safe_name("CONSOLE") == "CONSOLE" and safe_name("COM10") == "COM10"
    # Microsoft's list of reserved names ("Naming Files, Paths, and Namespaces") includes COM0 and LPT0
    assert safe_name("COM0") == "_COM0" and safe_name("lpt0.txt") == "_lpt0.txt"
    assert safe_name(" 某县/某局:办公室*?\"<>| ") == "某县_某局_办公室_"
    assert safe_name("", "机关") == "机关" and safe_name(" . ", "机关") == "机关"


def test_no_other_module_sanitises_names_of_its_own() -> None:
    """One sanitiser: no module but report_doc holds the characters Windows forbids as a pattern, nor a list of
    device names."""
    forbidden_class = re.compile(r"""\[\\*\\\\*/:\*\?"<>\|""")
    mine = {p.relative_to(ROOT).as_posix() for p, text in _sources().items()
            if forbidden_class.search(text) or re.search(r'"LPT|"COM\d|"AUX"', text)}
    assert mine == {"xl_addin/report_doc.py"}


def test_distribute_names_every_template_safely(tmp_path: Path) -> None:
    roster = tmp_path / "名单.csv"
    names = [n for n in HOSTILE if n.strip(" .") and "\udcff" not in n and "\t" not in n]
    with roster.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["机关名称", "机关类别", "层级"])
        w.writerows([n, "政府部门", "县级"] for n in names)
    out = tmp_path / "模板"
    r = run_cli("distribute", roster, "-o", out, "--year", "2025")
    assert r.returncode == 0, r.stderr
    made = sorted(p.name for p in out.glob("*.xlsx"))
    assert len(made) == len(names)
    assert all(windows_can_hold(n) for n in made), made
    assert "2025年政府信息公开工作年度报告-_CON.xlsx" not in made  # a prefixed name is not reserved: kept as typed
    assert "2025年政府信息公开工作年度报告-CON.xlsx" in made


def test_the_server_files_an_export_of_agency_con_under_a_folder_windows_can_open(filled: Filler,
                                                                                  tmp_path: Path) -> None:
    """The county server files each export under exports/<year>/<agency>/: an agency named "CON" (or "nul.txt")
    must not become a device name on a Windows server or a copied backup."""
    import os
    import socket
    import threading
    import time

    httpx = pytest.importorskip("httpx")
    uvicorn = pytest.importorskip("uvicorn")
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    from xlwings_payload import payload_from_xlsx

    from xl_addin import server

    token = "t0ken-for-tests-" + "y" * 30
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(server.create_app(server.Config(data_dir=tmp_path, token=token)),
                                        host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        for agency in ("CON", "nul.txt"):
            body = payload_from_xlsx(filled({"meta.agency": agency}))
            r = httpx.post(f"http://127.0.0.1:{port}/xl_addin/export_report?addin="
                           + "年报加载项.xlam".encode("utf-16-be").hex().upper(),
                           content=json.dumps(body).encode(), timeout=120,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            assert r.status_code == 200, r.text
            said = [a["args"][0] for a in r.json()["actions"] if a["func"] == "alert"]
            assert said and said[0].startswith("已导出"), said
    finally:
        srv.should_exit = True
        thread.join(15)
    folders = sorted(p.name for p in (tmp_path / "exports" / "2023").iterdir())
    assert folders == ["_CON", "_nul.txt"]
    assert all(windows_can_hold(p.name) for p in (tmp_path / "exports").rglob("*"))


# ---- the unchecked-report sentence -------------------------------------------------------------------------------

def test_every_place_says_the_one_unpublishable_sentence(filled: Filler, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bad = filled({"t3.new.natural": 7})
    r = run_cli("export", bad, "-o", tmp_path / "out")
    assert r.returncode == 1 and spec.UNPUBLISHABLE in r.stderr and "--force" in r.stderr
    with pytest.raises(exporter.ExportRefused) as refused:
        api.export(bad, tmp_path / "out2")
    assert spec.UNPUBLISHABLE in str(refused.value) and spec.UNCHECKED_MARK in str(refused.value)
    # the add-in asks with the same sentence before it exports a draft
    xw = pytest.importorskip("xlwings")
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    from xlwings_payload import payload_from_xlsx

    from xl_addin import addin

    asked: list[str] = []
    monkeypatch.setattr(addin.Session, "confirm", lambda self, text: asked.append(text) or False)
    addin.export_report(xw.Book(json=payload_from_xlsx(bad)), out_dir=tmp_path / "out3")
    assert len(asked) == 1 and spec.UNPUBLISHABLE in asked[0]
    # and no module writes the sentence out again
    copies = [p.name for p, text in _sources().items() if spec.UNPUBLISHABLE in text]
    assert copies == ["spec.py"]

