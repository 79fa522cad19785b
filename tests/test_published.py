"""The publication check (issue 20): a published report, read from a file or fetched from a web address, against
the accepted version's workbook -- every table cell, the narrative, the publication date against the deadline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gzip
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from conftest import Filler, local_site, shared_file
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin import api, derive, published, report_doc, spec
from xl_addin.adapters.fetch import FetchError, fetch, load_published, load_published_bytes
from xl_addin.adapters.fileio import ReadError
from xl_addin.model import ReportData
from xl_addin.published import Kind
from xl_addin.review import Published

SUQIAN = "examples/published/suqian-city-2023.txt"
HONGZE_PDF = "examples/published/hongze-district-gov-2023.pdf"
SHUYANG = "examples/published/shuyang-county-drc-2023.html"
SHANGHAI = "examples/published/shanghai-municipal-gov-office-2019.txt"


def accepted_from(report: Path, tmp_path: Path, changes: dict[str, object] | None = None) -> Path:
    """The workbook `xl-addin import` makes of a published report, with ``changes`` typed into it afterwards."""
    out = api.write_imported(api.import_report(report), tmp_path / f"{report.stem}.xlsx")
    if changes:
        wb = openpyxl.load_workbook(out)
        for key, value in changes.items():
            where = spec.LAYOUT.locations[key]
            wb[where.sheet][where.a1] = value
        wb.save(out)
    return out


def check(workbook: Path, report: str | Path, **kw: object) -> published.PublicationCheck:
    return published.compare(api.read(workbook), load_published(str(report), **kw).data)  # type: ignore[arg-type]


# ---- files ---------------------------------------------------------------------------------------------------

def test_a_workbook_imported_from_a_report_matches_that_report(tmp_path: Path) -> None:
    report = shared_file(SUQIAN)
    result = check(accepted_from(report, tmp_path), report)
    assert result.published is Published.MATCH
    assert result.differences == ()
    assert result.compared == len(spec.DATA_CELLS)
    assert result.summary_zh().startswith("已发布·一致")


def test_one_changed_number_is_exactly_one_difference_naming_labels_and_both_values(tmp_path: Path) -> None:
    report = shared_file(SUQIAN)
    printed = api.import_report(report).data.values["t3.new.natural"]
    assert printed == 3402
    result = check(accepted_from(report, tmp_path, {"t3.new.natural": 3403}), report)
    assert result.published is Published.DIFFERS
    assert len(result.differences) == 1  # not the row and column totals that follow it
    d = result.differences[0]
    assert d.kind is Kind.CELL
    assert d.message == "发布稿与审核通过稿不一致：表三“一、本年新收政府信息公开申请数量”“自然人”发布 3402，通过稿 3403"
    loc = spec.LAYOUT.locations["t3.new.natural"]
    assert (d.key, d.sheet, d.cell, d.published, d.accepted) == ("t3.new.natural", loc.sheet, loc.a1, "3402", "3403")


def test_a_misprinted_total_is_a_difference_of_its_own(tmp_path: Path) -> None:
    """The real Hongze PDF prints 行政复议 总计 0 while its parts add up to 11 (and 复议后起诉 0 vs 5). The workbook
    imported from it keeps the printed totals (issue 21), so it matches; once its totals are computed (计算合计,
    ``xl-addin fill``), exactly those two cells differ."""
    report = shared_file(HONGZE_PDF)
    accepted = accepted_from(report, tmp_path)
    assert check(accepted, report).published is Published.MATCH
    assert {c.key for c in api.fill(accepted)} >= {"t4.review.total", "t4.suit_after_review.total"}
    result = check(accepted, report)
    assert result.published is Published.DIFFERS
    assert [d.message for d in result.differences] == [
        "发布稿与审核通过稿不一致：表四“行政复议”“总计”发布 0，通过稿 11",
        "发布稿与审核通过稿不一致：表四“行政诉讼 复议后起诉”“总计”发布 0，通过稿 5",
    ]
    # its one-row （六）其他处理 (23-row table 三) was compared with the sum of the accepted （六）1-3
    assert result.compared == len(spec.DATA_CELLS) - 14


def test_a_changed_sentence_names_its_section_with_an_excerpt(tmp_path: Path) -> None:
    report = shared_file(SUQIAN)
    text = api.import_report(report).data.text("s5.problems")
    assert "二是依申请公开工作规范性需进一步提升" in text
    changed = text.replace("二是依申请公开工作规范性需进一步提升", "二是依申请公开工作已经完全规范")
    result = check(accepted_from(report, tmp_path, {"s5.problems": changed}), report)
    assert result.published is Published.DIFFERS
    (d,) = result.differences
    assert d.kind is Kind.TEXT and d.key == "五"
    assert "正文“五、存在的主要问题及改进情况”文字不同" in d.message
    assert "规范性需进一步提升" in d.published and "已经完全规范" in d.accepted
    assert len(d.published) < 60 and len(d.accepted) < 60


def test_narrative_compares_normalised_text(tmp_path: Path) -> None:
    """Spaces, line breaks, full-width forms and the export's numbering are not differences."""
    report = shared_file(SUQIAN)
    text = api.import_report(report).data.text("s5.problems")
    assert "，" in text
    respaced = "（一） 存在的主要问题\n" + text.replace("，", ", ").replace("。", "。\n　　")
    result = check(accepted_from(report, tmp_path, {"s5.problems": respaced}), report)
    assert result.published is Published.MATCH, result.messages()


def test_a_real_web_page_matches_the_workbook_imported_from_it(tmp_path: Path) -> None:
    """The Shuyang page leaves the 法人或其他组织 columns of table 三 blank, and so does the workbook made from it:
    blank on both sides (a total: all its parts blank) is no difference."""
    report = shared_file(SHUYANG)
    result = check(accepted_from(report, tmp_path), report)
    assert result.published is Published.MATCH, result.messages()


def test_blank_published_cells_are_unread_never_a_match(tmp_path: Path) -> None:
    """Where the accepted workbook has a figure and the published page a blank, the cell cannot be checked
    (无法核对): listed, and the report is not called a match."""
    report = shared_file(SHUYANG)
    result = check(accepted_from(report, tmp_path, {"t3.new.business": 2, "t3.new.natural": 24,
                                                    "t3.granted.research": 0}), report)
    assert result.published is Published.DIFFERS
    assert [(d.kind, d.key) for d in result.differences] == [
        (Kind.CELL, "t3.new.natural"), (Kind.UNREAD, "t3.new.business"), (Kind.UNREAD, "t3.granted.research")]
    blank = "无法核对：表三“一、本年新收政府信息公开申请数量”“法人或其他组织 商业企业”发布稿中为空白，通过稿 2。"
    assert blank in result.messages()
    assert "发布稿与审核通过稿不一致：表三“一、本年新收政府信息公开申请数量”“自然人”发布 26，通过稿 24" in result.messages()
    assert "通过稿 0。" in result.differences[2].message  # a 0 typed where the page is blank cannot be told either
    assert result.summary_zh().startswith("不一致：1 处不一致，2 个单元格无法核对。")


def test_a_row_the_importer_could_not_read_is_unread_cell_by_cell_even_where_both_are_blank(tmp_path: Path) -> None:
    """Contract U: a row the importer marks unread is never compared, not even "blank on both sides"."""
    import json

    from xl_addin.model import IMPORT_PROPS_KEY

    report = shared_file(SHUYANG)  # its 法人或其他组织 columns are blank, in the page and in the workbook made of it
    accepted = api.read(accepted_from(report, tmp_path))
    page = load_published(str(report)).data
    assert published.compare(accepted, page).published is Published.MATCH
    keys = [k for k in spec.DATA_CELLS if k.startswith("t3.new.")]
    info = json.loads(page.props[IMPORT_PROPS_KEY]) | {"unread": [
        {"table": "t3", "what": "row", "keys": keys, "why": "数字个数与列数不符", "where": "表三第1行"}]}
    unread = dataclasses.replace(page, values={**page.values, **dict.fromkeys(keys)},
                                 props={**page.props, IMPORT_PROPS_KEY: json.dumps(info, ensure_ascii=False)})
    result = published.compare(accepted, unread)
    assert result.published is Published.DIFFERS
    inputs = [k for k in keys if k in spec.INPUT_KEYS]
    assert [(d.kind, d.key) for d in result.differences] == [(Kind.UNREAD, k) for k in inputs]
    assert result.differences[1].message == (
        "无法核对：表三“一、本年新收政府信息公开申请数量”“法人或其他组织 商业企业”发布稿中未找到该单元格"
        "（数字个数与列数不符），查找位置：表三第1行，通过稿 0。")


def test_a_cell_that_is_no_number_or_a_row_not_found_cannot_be_checked(sample: Path, tmp_path: Path) -> None:
    text = _exported(sample, tmp_path, "txt").read_text(encoding="utf-8")
    row = "\t（一）予以公开\n\t1\n\t0\n\t0\n\t0\n\t0\n\t0\n\t1\n\n"
    assert "\t行政许可\n\t0\n" in text and row in text
    odd = tmp_path / "odd.txt"
    odd.write_text(text.replace("\t行政许可\n\t0\n", "\t行政许可\n\t/\n").replace(row, ""), encoding="utf-8")
    result = check(sample, odd)
    assert result.published is Published.DIFFERS
    assert all(d.kind is Kind.UNREAD for d in result.differences)
    # the row's inputs; its total and the column totals follow from them and are not listed again
    assert [d.key for d in result.differences] == ["t2.licensing.count"] + [
        f"t3.granted.{c}" for c, _ in spec.T3_COLS if c != "total"]
    assert result.differences[0].message == (
        "无法核对：表二“第二十条第（五）项 行政许可”“本年处理决定数量”发布稿中为“/”，不是数字，通过稿 0。")
    assert "发布稿中未找到该单元格（表三未找到“（一）予以公开”一行）" in result.differences[1].message


def test_an_old_format_report_cannot_be_compared_cell_by_cell(tmp_path: Path) -> None:
    result = published.compare(api.read(_sample_book(tmp_path)),
                               load_published(str(shared_file(SHANGHAI))).data)
    assert result.published is Published.DIFFERS
    assert any(d.kind is Kind.FORMAT and "旧格式" in d.message for d in result.differences)


def _sample_book(tmp_path: Path) -> Path:
    return api.build_template(tmp_path / "sample.xlsx", api.sample_values())


def _exported(workbook: Path, out: Path, fmt: str) -> Path:
    (page,) = api.export(workbook, out, fmt)
    return page


def test_the_exported_report_of_a_workbook_matches_it(sample: Path, tmp_path: Path) -> None:
    """What the toolkit exports is, read back, what was accepted: Word, web page and text."""
    for fmt in ("docx", "html", "txt"):
        page = _exported(sample, tmp_path / fmt, fmt)
        result = check(sample, page)
        assert result.published is Published.MATCH, (fmt, result.messages())


def test_the_drafted_sentences_are_compared_when_the_workbook_exports_them(filled: Filler, tmp_path: Path) -> None:
    drafts_on = filled({"meta.use_drafts": "是"})
    page = _exported(drafts_on, tmp_path, "html")
    assert check(drafts_on, page).published is Published.MATCH
    typed = check(filled(), page)  # the same workbook exporting the typed text: section 一 reads otherwise
    assert [d.key for d in typed.differences] == ["一"]
    assert "正文“一、总体情况”文字不同" in typed.differences[0].message


def test_an_uploaded_report_is_read_from_its_bytes(sample: Path, tmp_path: Path) -> None:
    page = _exported(sample, tmp_path, "docx")
    imp = load_published_bytes("../../上传的 报告.docx", page.read_bytes())
    assert published.compare(api.read(sample), imp.data).published is Published.MATCH
    with pytest.raises(ReadError, match="不是可导入的年报文件"):
        load_published_bytes("报告.xlsx", sample.read_bytes())


def test_publication_after_the_deadline_is_reported(sample: Path, tmp_path: Path) -> None:
    page = _exported(sample, tmp_path, "txt")
    text = page.read_text(encoding="utf-8")
    assert "2024年1月17日" in text
    late = tmp_path / "late.txt"
    late.write_text(text.replace("2024年1月17日", "2024年2月5日"), encoding="utf-8")
    result = check(sample, late)
    assert result.published is Published.MATCH  # the content is the accepted one; the date is reported apart
    assert result.timing.late is True and result.timing.days_late == 5
    assert result.timing.deadline == dt.date(2024, 1, 31)  # a department's report: 1月31日
    assert result.timing.message == "逾期发布：发布日期 2024年2月5日，晚于规定期限 2024年1月31日（逾期 5 天）。"
    assert result.timing.message in result.summary_zh()
    on_time = check(sample, page)
    assert on_time.timing.late is False and on_time.timing.message.startswith("按时发布")
    # the date the page gives can be overridden by what the caller knows
    told = published.compare(api.read(sample), load_published(str(page)).data, published_on=dt.date(2024, 3, 1))
    assert told.timing.days_late == 30


def test_no_date_and_no_deadline_are_said_not_guessed(tmp_path: Path) -> None:
    report = shared_file(SUQIAN)  # the text starts at 一、总体情况: no title, no date
    result = check(accepted_from(report, tmp_path), report)
    assert result.timing.late is None and "无法判断是否按时发布" in result.timing.message
    book = accepted_from(report, tmp_path, {"meta.year": 1990})
    far = published.compare(api.read(book), api.import_report(report).data, published_on=dt.date(1991, 5, 1))
    assert far.timing.deadline is None and far.timing.late is None


def test_another_agencys_report_is_a_difference(sample: Path, filled: Filler, tmp_path: Path) -> None:
    page = _exported(sample, tmp_path, "html")
    other = filled({"meta.agency": "将乐县教育局"})
    result = check(other, page)
    assert result.published is Published.DIFFERS
    assert "发布稿与审核通过稿不一致：机关名称发布为“将乐县工业和信息化局”，通过稿为“将乐县教育局”。" in result.messages()


def test_the_result_is_plain_json(sample: Path, tmp_path: Path) -> None:
    import json

    result = check(sample, _exported(sample, tmp_path, "txt"))
    d = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert d["published"] == "match" and d["differences"] == [] and d["timing"]["deadline"] == "2024-01-31"


# ---- web addresses -------------------------------------------------------------------------------------------

class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
            return
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        if self.path in ("/gzip.html", "/bomb.html"):
            site = Path(self.directory)
            body = gzip.compress(site.joinpath("same.html").read_bytes() if self.path == "/gzip.html"
                                 else b"<p>" + b"0" * 3_000_000)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/to-page":
            self.send_response(301)
            self.send_header("Location", "/same.html")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def portal(sample: Path, filled: Filler, tmp_path: Path) -> Iterator[str]:
    """A local web server (127.0.0.1, a thread) with the sample's exported page as published (same.html) and the
    page of a workbook with one table number changed (changed.html)."""
    site = tmp_path / "site"
    site.mkdir()
    same = _exported(sample, tmp_path / "a", "html")
    site.joinpath("same.html").write_bytes(same.read_bytes())
    changed_book = filled({"t2.licensing.count": 7})
    changed = _exported(changed_book, tmp_path / "b", "html")
    site.joinpath("changed.html").write_bytes(changed.read_bytes())
    site.joinpath("big.html").write_bytes(b"<html>" + b"x" * 5000 + b"</html>")
    with local_site(functools.partial(_Handler, directory=str(site))) as url:
        yield url


def test_a_served_page_identical_to_the_accepted_version_matches(portal: str, sample: Path) -> None:
    result = check(sample, f"{portal}/same.html", allow_private=True)
    assert result.published is Published.MATCH, result.messages()
    assert result.source == f"{portal}/same.html"
    assert result.timing.message == "按时发布：发布日期 2024年1月17日，规定期限 2024年1月31日。"


def test_a_served_page_with_one_number_changed_differs_in_that_cell(portal: str, sample: Path) -> None:
    assert api.sample_values()["t2.licensing.count"] == 0
    result = check(sample, f"{portal}/changed.html", allow_private=True)
    assert result.published is Published.DIFFERS
    assert [d.message for d in result.differences] == [
        "发布稿与审核通过稿不一致：表二“第二十条第（五）项 行政许可”“本年处理决定数量”发布 7，通过稿 0"]
    (d,) = result.differences
    assert (d.key, d.cell) == ("t2.licensing.count", spec.LAYOUT.locations["t2.licensing.count"].a1)


def test_a_redirect_within_http_is_followed(portal: str, sample: Path) -> None:
    result = check(sample, f"{portal}/to-page", allow_private=True)
    assert result.published is Published.MATCH
    assert result.source == f"{portal}/same.html"


def test_local_and_private_addresses_are_refused_unless_allowed(portal: str) -> None:
    with pytest.raises(FetchError, match="本机或内部网络地址"):
        load_published(f"{portal}/same.html")
    for url in ("http://10.0.0.1/a.html", "http://[::1]/a.html", "http://169.254.169.254/latest/meta-data"):
        with pytest.raises(FetchError, match="本机或内部网络地址"):
            fetch(url, timeout=2)


def test_only_http_and_https(portal: str) -> None:
    for url in ("file:///etc/passwd", "ftp://example.org/a.pdf", "gopher://127.0.0.1:70/"):
        with pytest.raises(FetchError, match="只能读取 http 或 https 网址"):
            load_published(url, allow_private=True)
    with pytest.raises(FetchError, match="跳转到了“file:///etc/passwd”"):
        fetch(f"{portal}/to-file", allow_private=True)


@pytest.mark.parametrize("url", ["http://[::1", "http://[zz]/a.html", "http://a b.example/", "http://exa\x00mple.org/",
                                 "http://example.org/a\tb", "http://example.org\n/"])
def test_a_malformed_address_is_a_chinese_refusal_not_a_crash(url: str) -> None:
    """On the server a crash here was a 5xx for the coordinator's --published (ValueError, http.client.InvalidURL)."""
    with pytest.raises(FetchError, match="网址"):
        load_published(url, allow_private=True, timeout=2)


def test_size_limit_and_missing_pages(portal: str) -> None:
    with pytest.raises(FetchError, match="页面过大"):
        fetch(f"{portal}/big.html", allow_private=True, max_bytes=1000)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(f"{portal}/nothing.html", allow_private=True)
    with pytest.raises(FetchError, match="网址中不能包含用户名或密码"):
        fetch(f"http://user:pw@{portal.removeprefix('http://')}/same.html", allow_private=True)


def test_a_compressed_page_is_read_and_a_compression_bomb_is_cut_off(portal: str, sample: Path) -> None:
    assert check(sample, f"{portal}/gzip.html", allow_private=True).published is Published.MATCH
    with pytest.raises(FetchError, match="页面过大"):  # 3 MB from a few KB: expanded only up to the limit
        fetch(f"{portal}/bomb.html", allow_private=True, max_bytes=1_000_000)


def test_redirects_are_bounded(portal: str) -> None:
    with pytest.raises(FetchError, match="跳转次数过多"):
        fetch(f"{portal}/loop", allow_private=True)


def test_a_name_resolving_to_an_internal_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The addresses a name resolves to are checked, every one (a public one beside a private one is not enough),
    before any connection is made."""
    connected: list[object] = []

    def resolve(host: str, port: int, *args: object, **kw: object) -> list[tuple[object, ...]]:
        addrs = {"intranet.example": ["10.1.2.3"], "mixed.example": ["93.184.215.14", "192.168.1.1"],
                 "metadata.example": ["169.254.169.254"], "mapped.example": ["::ffff:127.0.0.1"]}[host]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addrs]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: connected.append(addr))
    for host in ("intranet.example", "mixed.example", "metadata.example", "mapped.example"):
        with pytest.raises(FetchError, match="本机或内部网络地址，出于安全考虑不予读取"):
            fetch(f"http://{host}/report.html")
    assert connected == []


def test_an_internal_ipv4_address_wrapped_in_ipv6_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16) and Teredo addresses carry an IPv4 address that a
    gateway connects to: 10.0.0.1 or 127.0.0.1 inside them is as internal as without them."""
    connected: list[object] = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: connected.append(addr))
    for host in ("64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b:1::a00:1", "2002:a00:1::1", "2002:7f00:1::",
                 "2001:0:4136:e378:8000:63bf:f5ff:fffe"):  # Teredo: client 10.0.0.1 (stored inverted)
        with pytest.raises(FetchError, match="本机或内部网络地址，出于安全考虑不予读取"):
            fetch(f"http://[{host}]/report.html", timeout=2)
    assert connected == []


def test_a_server_dripping_its_headers_is_cut_off_at_the_timeout() -> None:
    """The timeout holds for the whole fetch, also while the answer's status line and headers arrive: a server
    that sends one header line every half second (each read within the per-read timeout) must not hold the
    check -- and the server's engine turn it runs in -- for ever."""
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    return
                time.sleep(0.5)

    threading.Thread(target=drip, daemon=True).start()
    start = time.monotonic()
    try:
        with pytest.raises(FetchError, match="超时"):
            fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/", allow_private=True, timeout=2)
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - start < 6


def test_a_silent_server_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        with pytest.raises(FetchError, match="超时"):
            fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/a.html", allow_private=True, timeout=0.5)
    finally:
        listener.close()


def test_the_library_front_door(sample: Path, filled: Filler, tmp_path: Path) -> None:
    """api.check_published takes the accepted workbook's path (or data) and a file or address."""
    page = _exported(sample, tmp_path, "html")
    assert api.check_published(sample, page).published is Published.MATCH
    changed = api.check_published(filled({"t4.review.upheld": 1}), str(page))
    assert [d.key for d in changed.differences] == ["t4.review.upheld"]
    with pytest.raises(FetchError):
        api.check_published(sample, "http://127.0.0.1:9/a.html")


# ---- every cell, by property ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_data(sample: Path) -> ReportData:
    return api.read(sample)


def _as_printed(data: ReportData) -> ReportData:
    """The report exactly as the export prints ``data``: every table cell's number, the narrative, the date."""
    nums = derive.effective_values(data)
    keys = [k for k in spec.ALL_KEYS if not k.startswith(("t2.", "t3.", "t4.", "prior."))]
    return ReportData({**{k: data.values.get(k) for k in keys}, **nums}, source="printed")


@settings(deadline=None)
@given(figures=st.dictionaries(st.sampled_from(spec.INPUT_KEYS), st.integers(0, 10**6), max_size=12),
       key=st.sampled_from(sorted(spec.DATA_CELLS)), delta=st.integers(1, 9))
def test_any_one_misprinted_cell_is_exactly_that_difference(sample_data: ReportData, figures: dict[str, int],
                                                           key: str, delta: int) -> None:
    """For any figures of the accepted version, its printed form matches; any one cell printed otherwise -- an
    input, or a total whose parts are right -- is exactly one difference, at that cell, with both numbers."""
    accepted = dataclasses.replace(sample_data, values={**sample_data.values, **figures})
    printed = _as_printed(accepted)
    assert published.compare(accepted, printed).published is Published.MATCH
    want = printed.values[key]
    assert isinstance(want, int | float)
    result = published.compare(accepted, dataclasses.replace(printed, values={**printed.values, key: want + delta}))
    (d,) = result.differences
    assert (d.kind, d.key) == (Kind.CELL, key)
    assert d.message.endswith(f"发布 {report_doc.format_number(want + delta)}，通过稿 {report_doc.format_number(want)}")
    if key in spec.INPUT_KEYS:  # the accepted figure changed instead: its totals follow, and are not listed again
        changed = dataclasses.replace(accepted, values={**accepted.values, key: want + delta})
        (d,) = published.compare(changed, printed).differences
        assert (d.kind, d.key) == (Kind.CELL, key)
        assert d.message.endswith(f"发布 {report_doc.format_number(want)}，通过稿 {report_doc.format_number(want + delta)}")
