"""The 通报 draft (xl_addin.notice): made from a file-based round (``collect`` over a folder of workbooks with
defects put in) and from the county server's board (a RoundStore with submissions, a return, an acceptance and a
publication check); read back from the .docx with python-docx, and rendered by LibreOffice to look at."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import docx
import pytest
from conftest import Clock, need
from docx.document import Document as DocxDocument
from pdf_pages import render_png
from test_collect import LATE, ON_TIME, base_values, write_roster_xlsx

from xl_addin import api, catalogue, notice, report_doc, spec
from xl_addin.adapters import exporter, html_writer, office
from xl_addin.adapters.roundstore import Actor, RoundStore
from xl_addin.adapters.xlsx_patch import Patcher
from xl_addin.collect import Agency, CollectResult, Roster, Timeliness
from xl_addin.review import Action, Published, Role

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "notice-collect.txt"
OUTPUT = ROOT / "tests" / "output" / "notice"
COUNTY = "将乐县"
DATE = dt.date(2024, 3, 5)
DEPT, GOV = "政府部门", "人民政府"

#: the file-based round: name -> (what is changed in the sample, file time); None: nothing came
FOLDER_ROUND: dict[str, tuple[dict[str, Any], float] | None] = {
    "将乐县教育局": ({}, ON_TIME),
    "将乐县财政局": ({}, LATE),  # late, but right
    "将乐县民政局": None,  # missing
    "将乐县水南镇人民政府": ({"t3.new.natural": 40}, ON_TIME),  # the 表三 identities broken
    "将乐县司法局": ({"t3.new.natural": "/"}, ON_TIME),  # a "/" typed in a count
    "将乐县审计局": ({"t3.new.natural": "/", "t2.penalty.count": None}, LATE),  # "/" and a blank count, late
}


def kind_of(name: str) -> str:
    return GOV if name.endswith("人民政府") else DEPT


# ---- reading a .docx back ---------------------------------------------------------------------------------------

def paragraphs(doc: DocxDocument) -> list[tuple[str, str]]:
    return [(p.style.name if p.style is not None else "", p.text) for p in doc.paragraphs]


def section(doc: DocxDocument, number: str) -> list[str]:
    """The paragraphs under the level-1 heading that starts with ``number`` ("一、"), up to the next one."""
    out: list[str] = []
    inside = False
    for style, text in paragraphs(doc):
        if style == "Heading 1":
            inside = text.startswith(number)
            continue
        if inside and style != "Signature":
            out.append(text)
    assert inside or out, f"no section {number}"
    return out


def kind_lines(doc: DocxDocument) -> dict[str, list[str]]:
    """Section 二's lines "N. <catalogue title>（<code>，<level>）：A、B（2处）。" -> code -> the agencies named."""
    out: dict[str, list[str]] = {}
    for text in section(doc, "二、"):
        m = re.fullmatch(r"\d+\. (.+)（([A-Z]\d[\w.]*)，(错误|警告)）：(.+)。", text)
        if m:
            title, code, level, names = m.groups()
            e = catalogue.entry(code)
            assert (title, level) == (e.title, e.severity.zh), text
            out[code] = [re.sub(r"（\d+处）$", "", n) for n in names.split("、")]
    return out


# ---- the file-based round ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def folder_round(template: Path, sample_values: dict[str, Any],
                 tmp_path_factory: pytest.TempPathFactory) -> tuple[CollectResult, Path]:
    root = tmp_path_factory.mktemp("notice-folder")
    inbox = root / "收件箱"
    inbox.mkdir()
    agencies = [Agency(n, kind_of(n), "乡级" if kind_of(n) == GOV else "县级", "办公室") for n in FOLDER_ROUND]
    roster = write_roster_xlsx(root / "名单.xlsx", agencies)
    patcher = Patcher(template.read_bytes())
    for i, a in enumerate(agencies):
        plan = FOLDER_ROUND[a.name]
        if plan is None:
            continue
        changes, mtime = plan
        p = inbox / f"{i:02d}-{a.name}.xlsx"
        p.write_bytes(patcher.patch({**base_values(sample_values, a, i), **changes}))
        os.utime(p, (mtime, mtime))
    result = api.collect(inbox, roster, root / "汇总校验结果.xlsx", workers=1)
    return result, inbox


@pytest.fixture(scope="module")
def folder_docx(folder_round: tuple[CollectResult, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("notice-out") / "通报.docx"
    assert api.notice_from_collect(folder_round[0], out, county=COUNTY, date=DATE) == out
    return out


def test_notice_from_collect_names_late_and_missing_agencies_under_one(folder_docx: Path) -> None:
    doc = docx.Document(str(folder_docx))
    one = section(doc, "一、未按时报送")
    assert one == ["（一）逾期报送（2家）：将乐县财政局、将乐县审计局。", "（二）逾期未报送（1家）：将乐县民政局。"]


def test_notice_from_collect_lists_each_defect_kind_with_the_agencies_whose_file_has_it(
        folder_round: tuple[CollectResult, Path], folder_docx: Path) -> None:
    result = folder_round[0]
    want: dict[str, list[str]] = {}
    for row in result.rows:  # each agency's file checked alone, as `xl-addin check` does
        if row.seq and row.path:
            for code in dict.fromkeys(f.code or f.rule for f in api.check(row.path).findings
                                      if f.severity.value in ("error", "warning")):
                want.setdefault(code, []).append(row.agency)
    got = kind_lines(docx.Document(str(folder_docx)))
    assert {c: sorted(v) for c, v in got.items()} == {c: sorted(v) for c, v in want.items()}
    assert got["V1"] == ["将乐县司法局", "将乐县审计局"]
    assert got["A3"] == ["将乐县水南镇人民政府"]
    assert got["V3"] == ["将乐县审计局"]
    assert all("将乐县教育局" not in names for names in got.values())


def test_notice_from_collect_counts_title_sections_and_signature(folder_docx: Path) -> None:
    doc = docx.Document(str(folder_docx))
    paras = paragraphs(doc)
    assert paras[0] == ("Title", f"关于{COUNTY}2023年度政府信息公开工作\n年度报告报送情况的通报")
    assert paras[1] == ("Normal", notice.DEFAULT_ADDRESSEE)
    opening = paras[2][1]
    assert "截至2024年3月5日，应报6家，已报5家，其中按时报送3家、逾期报送2家；未报1家。" in opening
    assert "审核通过2家，未通过3家" in opening
    heads = [t for s, t in paras if s == "Heading 1"]
    # no server: no returns and no publication check, so no sections about them
    assert heads == ["一、未按时报送", "二、审核发现的问题", "三、下一步要求"]
    assert [t for s, t in paras if s == "Signature"] == [f"{COUNTY}人民政府办公室", "2024年3月5日"]
    # the addressee line is flush left; body paragraphs keep the two-character indent
    assert doc.paragraphs[1].paragraph_format.first_line_indent == 0
    assert doc.paragraphs[2].paragraph_format.first_line_indent is None
    assert doc.core_properties.author == f"{COUNTY}人民政府办公室"
    assert doc.core_properties.title == f"关于{COUNTY}2023年度政府信息公开工作年度报告报送情况的通报"


def test_notice_text_matches_the_golden_file(folder_round: tuple[CollectResult, Path]) -> None:
    """Regenerate with UPDATE_GOLDEN=1 and review the diff."""
    got = report_doc.to_text(notice.build(notice.from_collect(folder_round[0]), county=COUNTY, date=DATE))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(got, encoding="utf-8")
    assert got == GOLDEN.read_text(encoding="utf-8")


def test_notice_also_as_a_web_page_and_text_and_refuses_another_suffix(folder_round: tuple[CollectResult, Path],
                                                                       tmp_path: Path) -> None:
    result = folder_round[0]
    html = api.notice_from_collect(result, tmp_path / "通报.html", county=COUNTY).read_text(encoding="utf-8")
    assert "将乐县财政局、将乐县审计局" in html and "<h2" in html
    assert f'<p style="{html_writer.S_P_FLUSH}">{notice.DEFAULT_ADDRESSEE}</p>' in html  # the addressee flush left
    txt = api.notice_from_collect(result, tmp_path / "通报.txt", county=COUNTY).read_text(encoding="utf-8-sig")
    assert "截至目前，应报6家" in txt and report_doc.DATE_BLANK in txt
    with pytest.raises(exporter.ExportError, match="扩展名"):
        api.notice_from_collect(result, tmp_path / "通报.pdf", county=COUNTY)
    assert not (tmp_path / "通报.pdf").exists()


@pytest.mark.libreoffice
def test_notice_renders_as_an_a4_official_document_in_libreoffice(folder_docx: Path, board_docx: Path) -> None:
    """Word -> PDF with LibreOffice -> PNG in tests/output/notice/ to look at."""
    need("soffice")
    need("pdftoppm")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*"):
        old.unlink()
    sources = []
    for name, src in (("folder", folder_docx), ("board", board_docx)):
        dst = OUTPUT / f"{name}.docx"
        dst.write_bytes(src.read_bytes())
        sources.append(dst)
    for pdf in office.convert(sources, "pdf", OUTPUT):
        raw = pdf.read_bytes()
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", raw)
        pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", raw))
        assert 1 <= pages <= 3, (pdf, pages)
        assert boxes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes)
        pngs = render_png(pdf, OUTPUT / pdf.stem, first=1, last=pages)
        assert len(pngs) == pages and all(p.stat().st_size > 5000 for p in pngs)


# ---- the server's round -----------------------------------------------------------------------------------------

CST = dt.timezone(dt.timedelta(hours=8))
COORD = Actor(Role.COORDINATOR, "县政务公开办")
BOARD_NAMES = ("县教育局", "县财政局", "县卫生健康局", "县自然资源局", "县司法局", "某某镇人民政府")


@pytest.fixture(scope="module")
def board_round(template: Path, sample_values: dict[str, Any],
                tmp_path_factory: pytest.TempPathFactory) -> tuple[RoundStore, Path]:
    """Year 2025 (departments due 2026-01-31, governments 2026-03-31):
    教育局 on time, accepted, published with a number changed; 财政局 late, accepted, published identical;
    卫生健康局 returned with reasons, not resubmitted; 自然资源局 returned, resubmitted, waits for review;
    司法局 nothing; 某某镇 accepted, not yet published. Blank counts (V3) and 规章 for a county body (V4) are the
    warnings kept with the versions."""
    root = tmp_path_factory.mktemp("notice-board")
    clock = Clock(dt.datetime(2026, 1, 20, 9, 0, tzinfo=CST))
    store = RoundStore.open(root / "data", year=2025, clock=clock)
    store.load_roster(Roster(tuple(Agency(n, kind_of(n), "乡级" if kind_of(n) == GOV else "县级")
                                   for n in BOARD_NAMES)))
    patcher = Patcher(template.read_bytes())

    def submit(i: int, **changes: Any) -> None:
        a = Agency(BOARD_NAMES[i], kind_of(BOARD_NAMES[i]), "县级")
        values = {**base_values(sample_values, a, i), "meta.year": 2025, **changes}
        path = root / f"{i}-{clock.t.timestamp()}.xlsx"
        path.write_bytes(patcher.patch(values))
        report = api.check(path)
        assert report.valid, report.findings  # the server keeps only workbooks without errors
        store.submit(a.name, path.read_bytes(), report.to_dict())

    blank = {"t2.penalty.count": None}
    rules_made = {"t2.rules.made": 2}
    submit(0, **blank)
    store.act(BOARD_NAMES[0], Action.ACCEPT, COORD, 1)
    store.act(BOARD_NAMES[0], Action.PUBLISH, COORD, 1, published=Published.DIFFERS)
    submit(2, **blank, **rules_made)
    store.act(BOARD_NAMES[2], Action.RETURN, COORD, 1, ["“规章”行填写有误，请核对。", "请补填空白单元格。"])
    submit(3, **rules_made)
    store.act(BOARD_NAMES[3], Action.RETURN, COORD, 1, ["规章数有误"])
    submit(5)
    store.act(BOARD_NAMES[5], Action.ACCEPT, COORD, 1)
    clock.t = dt.datetime(2026, 2, 10, 9, 0, tzinfo=CST)  # after the departments' deadline
    submit(1)
    store.act(BOARD_NAMES[1], Action.ACCEPT, COORD, 1)
    store.act(BOARD_NAMES[1], Action.PUBLISH, COORD, 1, published=Published.MATCH)
    submit(3)
    return store, root


@pytest.fixture(scope="module")
def board_notice(board_round: tuple[RoundStore, Path]) -> notice.Notice:
    store = board_round[0]
    return notice.from_board(store.board(now=dt.datetime(2026, 4, 1, 9, 0, tzinfo=CST)), store.summary,
                             year=store.year)


@pytest.fixture(scope="module")
def board_docx(board_notice: notice.Notice, board_round: tuple[RoundStore, Path]) -> Path:
    return api.write_notice(board_notice, board_round[1] / "通报.docx", county="某某县", office="某某县政务公开办",
                            date=dt.date(2026, 4, 1))


def test_board_entries_follow_the_round(board_notice: notice.Notice) -> None:
    e = {x.agency: x for x in board_notice.entries}
    assert [x.agency for x in board_notice.entries] == list(BOARD_NAMES)
    assert e["县财政局"].timely is Timeliness.LATE and e["县教育局"].timely is Timeliness.ON_TIME
    assert e["县司法局"].timely is Timeliness.OVERDUE and not e["县司法局"].submitted
    assert e["县卫生健康局"].returned and e["县卫生健康局"].reasons == ("“规章”行填写有误，请核对。", "请补填空白单元格。")
    assert not e["县自然资源局"].returned  # resubmitted since
    assert e["县教育局"].published is Published.DIFFERS and e["某某镇人民政府"].published is None
    assert board_notice.counts == notice.NoticeCounts(expected=6, submitted=5, on_time=4, late=1, missing=1,
                                                      approved=3, returned=1, failed=2)


def test_notice_from_board_names_agencies_under_each_section(board_docx: Path) -> None:
    doc = docx.Document(str(board_docx))
    paras = paragraphs(doc)
    assert paras[0][1] == "关于某某县2025年度政府信息公开工作\n年度报告报送情况的通报"
    assert ("截至2026年4月1日，应报6家，已报5家，其中按时报送4家、逾期报送1家；未报1家。审核通过3家，被退回未改1家。"
            in paras[2][1])
    assert [t for s, t in paras if s == "Heading 1"] == ["一、未按时报送", "二、审核发现的问题", "三、被退回未及时修改",
                                                         "四、发布稿与审核通过稿不一致", "五、下一步要求"]
    assert section(doc, "一、") == ["（一）逾期报送（1家）：县财政局。", "（二）逾期未报送（1家）：县司法局。"]
    # the newest version of each agency: 自然资源局's second version has no 规章 any more; the sample's text speaks
    # of 2023 in a 2025 report (T7) in every version
    assert kind_lines(doc) == {"V3": ["县教育局", "县卫生健康局"], "V4": ["县卫生健康局"], "A6": ["县卫生健康局"],
                               "T7": ["县教育局", "县财政局", "县卫生健康局", "县自然资源局", "某某镇人民政府"]}
    three = section(doc, "三、")
    assert three[1:] == ["1. 县卫生健康局。退回理由：“规章”行填写有误，请核对；请补填空白单元格。"]
    four = section(doc, "四、")
    assert four == ["经比对，以下1家单位在政府网站发布的年度报告与审核通过稿不一致：县教育局。",
                    "审核通过但尚未发布（或尚未登记发布情况）的单位（1家）：某某镇人民政府。"]
    assert "某某县政务公开办" in section(doc, "五、")[0]
    assert [t for s, t in paras if s == "Signature"] == ["某某县政务公开办", "2026年4月1日"]


def test_defect_kinds_come_from_the_catalogue_and_hints_are_left_out() -> None:
    found = [{"code": "A5", "severity": "info"}, {"code": "S2.literal"}, {"code": "S2.literal"},
             {"rule": "V3"}, {"code": "V3.unknown"}, {"code": "ZZ9"}, {}]
    assert notice.defects_of(found) == (notice.Defect("V3", 2), notice.Defect("S2.literal", 2))
    e = notice.NoticeEntry("县教育局", True, Timeliness.ON_TIME, True, notice.defects_of(found))
    text = report_doc.to_text(notice.build(notice.Notice((e,), reviewed=False, year=2025), county=COUNTY))
    assert f"{catalogue.entry('S2.literal').title}（S2.literal，警告）：县教育局（2处）。" in text
    assert catalogue.entry("A5").title not in text
    assert "（一）数值类问题" in text and "（二）结构类问题" in text
    assert "各单位均按时报送了年度报告。" in text and report_doc.DATE_BLANK in text
    assert spec.FORMAT_BASIS in text


def test_control_characters_in_names_and_reasons_never_break_the_word_file(tmp_path: Path) -> None:
    e = (notice.NoticeEntry("县\x01教育局\n", True, Timeliness.LATE, False, notice.defects_of([{"code": "V3"}]),
                            returned=True, reasons=("表三\x0b有误\r\n请核对" + "很长" * 100,)),
         notice.NoticeEntry("某\ud800镇", False, Timeliness.OVERDUE, False))
    out = api.write_notice(notice.Notice(e, reviewed=True, year=2025), tmp_path / "通报.docx", county="将乐县\x0c",
                           office="将乐县\x00政务公开办")
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "（一）逾期报送（1家）：县教育局。" in text and "逾期未报送（1家）：某镇。" in text
    assert "退回理由：表三 有误 请核对" in text and "……" in text
    assert "关于将乐县2025年度" in text and "将乐县政务公开办" in text


def test_the_unreadable_and_returned_sections_list_each_entry_with_its_reasons() -> None:
    def texts(blocks: list[report_doc.Block]) -> list[str]:
        return [b.text for b in blocks if isinstance(b, report_doc.Para)]

    bad = notice.NoticeEntry("甲.pdf", False, None, False, reasons=("不是年度报告", " "))
    mute = notice.NoticeEntry("乙.pdf", False, None, False)
    back = notice.NoticeEntry("县财政局", True, None, False, returned=True, reasons=("表三有误",))
    n = notice.Notice((bad, mute, back), reviewed=True)
    assert texts(notice._unreadable_section(n)) == ["以下2份年度报告无法读取，请人工核对：", "1. 甲.pdf（不是年度报告）。",
                                                    "2. 乙.pdf。"]
    assert texts(notice._returned_section(n)) == ["以下1家单位的年度报告被退回后，至今未修改重新报送：",
                                                  "1. 县财政局。退回理由：表三有误。"]
    empty = notice.Notice((), reviewed=True)
    assert texts(notice._unreadable_section(empty)) == ["所有年度报告均已读取。"]
    assert texts(notice._returned_section(empty)) == ["被退回的年度报告均已修改并重新报送。"]
