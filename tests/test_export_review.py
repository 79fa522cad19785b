"""Issue 24, item 1: the export does not hide warnings.

- a 正文 cell pasted with its numbered heading ("（一）主动公开") gets that heading once in Word and on the web page,
  not twice: the export strips it (narrative.strip_numbering, contract N) and says so;
- a "（三）……" paragraph inside a cell is a T9 warning too (it used to be caught only at the cell's start);
- a workbook with no 机关名称 or 报告年度 is not exported (Chinese message, non-zero exit, nothing written);
- the warnings that remain are listed in the export's message.

The Word file is rendered by LibreOffice and kept as PNG in tests/output/export-review/ to look at.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
from conftest import Filler, cli, need
from hypothesis import given, settings
from hypothesis import strategies as st
from pdf_pages import render_png

from xl_addin import api, narrative, spec
from xl_addin.adapters import office
from xl_addin.model import Tally

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "output" / "export-review"

PROACTIVE = "（一）主动公开\n（一）主动公开情况：本年度主动公开政府信息57条，其中规范性文件3件。"
MANAGEMENT = "本机关落实三审三校制度。\n（三）政府信息管理\n按要求清理规范性文件。"


def at(key: str) -> str:
    return spec.LAYOUT.locations[key].a1


# ---- contract N: narrative.strip_numbering ---------------------------------------------------------------------

@pytest.mark.parametrize(("key", "text", "expected", "removed"), [
    ("s1.proactive", PROACTIVE, "本年度主动公开政府信息57条，其中规范性文件3件。", ["（一）主动公开", "（一）主动公开情况："]),
    ("s1.proactive", "一、总体情况\n（一）主动公开。全年公开57条。", "全年公开57条。", ["一、总体情况", "（一）主动公开。"]),
    ("s1.platform", "（四）平台建设情况\n依托门户网站公开。", "依托门户网站公开。", ["（四）平台建设情况"]),
    ("s1.platform", "（四）政府信息公开平台建设。依托门户网站。", "依托门户网站。", ["（四）政府信息公开平台建设。"]),
    ("s6.fees", "(1)信息处理费收取情况：本年度未收取。", "本年度未收取。", ["(1)信息处理费收取情况："]),
    # numbering that is not the field's heading is the clerk's own list: kept
    ("s5.problems", "（一）工作人员不足。\n（二）经费不足。", "（一）工作人员不足。\n（二）经费不足。", []),
    ("s1.proactive", "本年度主动公开政府信息57条。", "本年度主动公开政府信息57条。", []),
    ("s1.proactive", "2023年本机关主动公开政府信息57条。", "2023年本机关主动公开政府信息57条。", []),
    # the field's word running on into the sentence is the sentence: kept whole (T9 still warns)
    ("s1.proactive", "1.主动公开政府信息57条。", "1.主动公开政府信息57条。", []),
    ("s1.proactive", "（一）本年度共主动公开信息57条", "（一）本年度共主动公开信息57条", []),
])
def test_strip_numbering_removes_only_the_fields_own_heading(key: str, text: str, expected: str,
                                                             removed: list[str]) -> None:
    assert narrative.strip_numbering(key, text) == (expected, removed)


def test_a_numbered_paragraph_inside_a_cell_is_a_t9_warning(filled: Filler) -> None:
    report = api.check(filled({"s1.management": MANAGEMENT, "s1.proactive": "本年度主动公开政府信息57条。"}))
    (f,) = report.by_rule("T9")
    assert (f.cell, f.values["prefix"], f.severity.value) == (at("s1.management"), "（三）", "warning")
    assert "“政府信息管理”第2段以“（三）”开头" in f.message


# ---- the export ------------------------------------------------------------------------------------------------

def _page_text(pdf: Path) -> str:
    need("pdftotext")
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", "", text)


@pytest.mark.libreoffice
def test_pasted_heading_appears_once_in_word_and_html_and_the_message_says_what_was_done(
        filled: Filler, tmp_path: Path) -> None:
    src = filled({"s1.proactive": PROACTIVE, "s1.management": MANAGEMENT}, name="粘贴序号.xlsx")
    out = tmp_path / "out"
    r = cli("export", src, "-o", out, "-f", "docx", "-f", "html")
    assert r.returncode == 0, r.stderr
    docx = next(out.glob("*.docx"))
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    (pdf,) = office.convert([docx], "pdf", tmp_path / "pdf")
    text = _page_text(pdf)
    for body in (text, re.sub(r"<[^>]+>|\s+", "", html[html.index("<body"):])):
        assert body.count("（一）主动公开") == 1, body[:400]  # the export's own heading, once
        assert "本年度主动公开政府信息57条" in body and "主动公开情况：本年度" not in body
    # the message says what was removed and lists every warning that remains, the inner （三） among them
    assert "已去掉“主动公开”开头重复的序号和标题“（一）主动公开”" in r.stderr
    report = api.check(src)
    remaining = [f for f in report.findings if f.severity.value == "warning" and f.key != "s1.proactive"]
    tally = Tally.of(remaining)
    assert f"校验仍有 {tally.warnings} 处警告" in r.stderr
    listed = re.findall(r"^\s+\d+\. (.+)$", r.stderr, flags=re.M)
    assert len(listed) == len(remaining) and any("第2段以“（三）”开头" in line for line in listed)
    assert not any("“主动公开”的内容以" in line for line in listed)  # fixed by the export: not a remaining warning
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("numbering-*.png"):
        old.unlink()
    png = render_png(pdf, OUTPUT / "numbering", first=1, last=2, dpi=70)
    assert len(png) == 2


@pytest.mark.parametrize("missing", [("meta.agency",), ("meta.year",), ("meta.agency", "meta.year")])
@pytest.mark.parametrize("force", [False, True])
def test_a_report_without_agency_or_year_is_not_exported(filled: Filler, tmp_path: Path, missing: tuple[str, ...],
                                                         force: bool) -> None:
    src = filled(dict.fromkeys(missing), name="无名.xlsx")
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "out"
    r = cli("export", src, "-o", out, *(["--force"] if force else []))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "未导出报告" in r.stderr
    for key in missing:
        loc = spec.LAYOUT.locations[key]
        assert f"“{spec.FIELDS_BY_KEY[key].label}”（{loc.sheet}!{loc.a1}）" in r.stderr
    assert not out.exists() or not list(out.iterdir())  # nothing written
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before


def test_the_addin_refuses_a_report_without_agency_and_lists_warnings_when_it_exports(filled: Filler,
                                                                                    tmp_path: Path) -> None:
    """The 导出报告 button (xlwings' remote engine, as the server runs it): no agency, no question and nothing
    written; a report with pasted numbering is exported and the alert says what was removed and what remains."""
    xw = pytest.importorskip("xlwings")
    from xlwings_payload import payload_from_xlsx

    from xl_addin import addin

    out = tmp_path / "out"
    out.mkdir()
    book = xw.Book(json=payload_from_xlsx(filled({"meta.agency": None, "t3.new.natural": 7})))
    addin.export_report(book, out_dir=out)
    said = [a["args"] for a in book.json()["actions"] if a["func"] == "alert"]
    assert len(said) == 1 and said[0][2] == "ok"  # one message, no yes/no question
    assert said[0][0].startswith("未导出报告：") and "“机关名称”（基本信息!" in said[0][0]
    assert not list(out.iterdir())
    book = xw.Book(json=payload_from_xlsx(filled({"s1.proactive": PROACTIVE, "s1.management": MANAGEMENT})))
    s = addin.export_report(book, out_dir=out)
    (text,) = [a["args"][0] for a in book.json()["actions"] if a["func"] == "alert"]
    assert len(s.exported) == 2 and "已去掉“主动公开”开头重复的序号和标题" in text
    assert "校验仍有" in text and "第2段以“（三）”开头" in text


_BODY = st.lists(st.text(st.sampled_from("本机关年度公开信息条件申请。，57"), min_size=1, max_size=20), min_size=1,
                 max_size=4).map("\n".join).filter(lambda b: b[0] not in "。，")  # a paragraph starts with a word


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from([f.key for f in spec.NARRATIVE_FIELDS if not f.lead]), n=st.sampled_from("一二三四五"),
       body=_BODY)
def test_strip_numbering_gives_back_exactly_the_text_under_a_pasted_heading(key: str, n: str, body: str) -> None:
    label = spec.FIELDS_BY_KEY[key].label
    assert narrative.strip_numbering(key, body) == (body, [])  # nothing pasted: unchanged
    assert narrative.strip_numbering(key, f"（{n}）{label}\n{body}") == (body, [f"（{n}）{label}"])
    assert narrative.strip_numbering(key, f"（{n}）{label}：{body}") == (body, [f"（{n}）{label}："])


def test_the_addins_export_message_fits_a_message_box(filled: Filler, tmp_path: Path) -> None:
    """Many warnings left (a blank cell in each of 12 rows of 表三): the alert lists the first ones and says how many
    more, and stays within what a message box shows (about 1,000 characters)."""
    xw = pytest.importorskip("xlwings")
    from xlwings_payload import payload_from_xlsx

    from xl_addin import addin

    rows = [k for k in spec.INPUT_KEYS if k.startswith("t3.") and k.endswith(".research")][:12]
    book = xw.Book(json=payload_from_xlsx(filled(dict.fromkeys(rows))))
    s = addin.export_report(book, out_dir=tmp_path)
    (text,) = [a["args"][0] for a in book.json()["actions"] if a["func"] == "alert"]
    assert len(s.exported) == 2 and "校验仍有" in text and "…… 另有" in text and len(text) < 1000, (len(text), text)
