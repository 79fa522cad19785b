"""The website page (issue 15) as a browser shows it: Debian's headless Chromium renders the exported HTML at a
phone's and a desktop's width, a script measures what a reader sees (where column heads break, what scrolls,
computed alignment), and axe-core checks accessibility (GB/T 37668, 适老化). The page also goes through
Chromium's print to PDF (A4, the draft marking on every page). Screenshots are kept in tests/output/html/.

Chromium comes from Debian (``apt-get install chromium``) and axe-core from npm into tests/tools/node_modules;
``bash dev.sh test`` installs both. Missing, these tests fail in CI and are skipped elsewhere.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import IN_CI, need

from xl_addin import api, report_doc, spec, structure
from xl_addin.adapters import html_writer
from xl_addin.model import ReportData

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "output" / "html"
AXE = ROOT / "tests" / "tools" / "node_modules" / "axe-core" / "axe.min.js"
FORMULAS = dict(structure.expected().formulas)
#: headless Chromium opens no window narrower than 500 CSS px; a phone is narrower still (360-430 px), which only
#: makes the wide tables scroll more
PHONE, DESKTOP = (500, 900), (1280, 900)
#: Chromium as root on a closed network: no sandbox, no background connections, a fresh profile
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def axe_script() -> Path:
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"{AXE} is missing; .ci/run (dev.sh test) must install it")
        pytest.skip(f"{AXE} is missing (bash dev.sh test installs it)")
    return AXE


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    exe = need("chromium")
    with tempfile.TemporaryDirectory(prefix="xl_addin-chromium-") as profile:
        return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                              timeout=180, check=False)


def page_html(values: dict[str, Any], errors: int = 0) -> str:
    return html_writer.render(report_doc.build(ReportData(values=dict(values), formulas=FORMULAS), errors=errors))


#: runs in the page: every column head's text with "/" where the browser broke its line; what scrolls; what is
#: visible; the computed styles a reader depends on
PROBE = r"""
function lines(el) {
  var out = "", last = null, walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    var node = walker.currentNode;
    for (var i = 0; i < node.data.length; i++) {
      var r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
      var rect = r.getClientRects()[0]; if (!rect) continue;
      if (last !== null && rect.top > last + 2) out += "/";
      out += node.data[i]; last = rect.top;
    }
  }
  return out;
}
function probe() {
  var heads = [], boxes = [], cs = function (el) { return getComputedStyle(el); };
  document.querySelectorAll("th[scope=col],th[scope=colgroup]").forEach(function (th) {
    heads.push({table: th.closest("table").dataset.table, text: th.textContent, shown: lines(th)});
  });
  document.querySelectorAll("div.tbl").forEach(function (box) {
    var hint = box.previousElementSibling, t = box.querySelector("table");
    boxes.push({table: t.dataset.table, scrolls: box.scrollWidth > box.clientWidth + 1,
                hint: hint && hint.classList.contains("swipe") && hint.offsetHeight > 0 ? hint.textContent : ""});
  });
  var num = document.querySelector("table[data-table=t3] tbody td"), label = document.querySelector("th[scope=row]");
  var p = document.querySelector("article > p:not(.unchecked)");
  return {heads: heads, boxes: boxes, viewport: window.innerWidth,
          number: {align: cs(num).textAlign, border: cs(num).borderTopStyle + " " + cs(num).borderTopWidth,
                   size: cs(num).fontSize},
          label: {align: cs(label).textAlign, size: cs(label).fontSize},
          indent: cs(p).textIndent, fontSize: cs(p).fontSize,
          title: {align: cs(document.querySelector("h1")).textAlign, weight: cs(document.querySelector("h1")).fontWeight},
          heading: {indent: cs(document.querySelector("h2")).textIndent,
                    family: cs(document.querySelector("h2")).fontFamily},
          minTableText: Math.min.apply(null, Array.prototype.map.call(document.querySelectorAll("td,th"),
                                       function (c) { return parseFloat(cs(c).fontSize); }))};
}
function done(result) {
  var pre = document.createElement("pre"); pre.id = "xl-addin-result"; pre.textContent = JSON.stringify(result);
  document.body.appendChild(pre);
}
var measured = probe();
axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
  measured.violations = r.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) { return n.target.join(" "); })};
  });
  done(measured);
}).catch(function (e) { done({error: String(e)}); });
"""


def measure(html: str, size: tuple[int, int], name: str) -> dict[str, Any]:
    """Render ``html`` at ``size`` in Chromium with axe-core and the probe; a screenshot goes to OUTPUT."""
    axe = axe_script().read_text(encoding="utf-8")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = OUTPUT / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(html.replace("</body>", f"<script>{axe}</script><script>{PROBE}</script></body>"),
                         encoding="utf-8")
        r = chromium(f"--window-size={size[0]},{size[1]}", "--virtual-time-budget=30000", "--dump-dom",
                     probe.as_uri())
    found = re.search(r'<pre id="xl-addin-result">(.*?)</pre>', r.stdout, re.S)
    assert found, r.stderr[-2000:]
    result: dict[str, Any] = json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">")
                                        .replace("&quot;", '"').replace("&amp;", "&"))
    assert "error" not in result, result
    shot = OUTPUT / f"{name}.png"
    chromium(f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 5000
    # table 三 as the reader scrolls to it: the page cut to its section (heading, hint, table)
    start = html.rindex("<h2", 0, html.index("三、收到和处理政府信息公开申请情况"))
    end = html.index("</table></div>", start) + len("</table></div>")
    section = html[:html.index("<h1")] + html[start:end] + "</article></main></body></html>"
    cut = OUTPUT / f"{name}-table3.html"
    cut.write_text(section, encoding="utf-8")
    chromium(f"--window-size={size[0]},{size[1]}", f"--screenshot={OUTPUT / f'{name}-table3.png'}", cut.as_uri())
    cut.unlink()
    return result


@pytest.fixture(scope="module")
def sample_html(sample_values: dict[str, Any]) -> str:
    return page_html(sample_values)


@pytest.fixture(scope="module")
def phone(sample_html: str) -> dict[str, Any]:
    return measure(sample_html, PHONE, "phone")


@pytest.fixture(scope="module")
def desktop(sample_html: str) -> dict[str, Any]:
    return measure(sample_html, DESKTOP, "desktop")


#: how a column head may be shown: whole, or broken only between these words (as the official Word copies do)
OFFICIAL_BREAKS = {
    "商业企业": "商业/企业",
    "科研机构": "科研/机构",
    "结果维持": "结果/维持",
    "结果纠正": "结果/纠正",
    "其他结果": "其他/结果",
    "尚未审结": "尚未/审结",
    "社会公益组织": "社会/公益组织",
    "法律服务机构": "法律/服务机构",
    "本年制发件数": "本年/制发件数",
    "本年废止件数": "本年/废止件数",
    "现行有效件数": "现行/有效件数",
    "未经复议直接起诉": "未经复议/直接起诉",
    "本年处理决定数量": "本年处理/决定数量",
    "法人或其他组织": "法人或/其他组织",
    "本年收费金额（单位：万元）": "本年收费金额/（单位：万元）",
}


@pytest.mark.parametrize("where", ["phone", "desktop"])
def test_column_heads_never_break_inside_a_word(where: str, request: pytest.FixtureRequest) -> None:
    m = request.getfixturevalue(where)
    heads = m["heads"]
    assert {h["text"] for h in heads} >= {"自然人", "其他", "总计", "商业企业", "社会公益组织", "结果维持"}
    bad = [h["shown"] for h in heads if h["shown"] not in (h["text"], OFFICIAL_BREAKS.get(h["text"]))]
    assert not bad, f"heads broken inside a word at {where}: {bad}"


def test_on_a_phone_wide_tables_scroll_sideways_with_a_visible_hint(phone: dict[str, Any],
                                                                      desktop: dict[str, Any]) -> None:
    assert phone["viewport"] <= 500
    by_table = {b["table"]: b for b in phone["boxes"]}
    for t in ("t3", "t4"):
        assert by_table[t]["scrolls"], t
        assert by_table[t]["hint"].startswith(html_writer.SWIPE_HINT), t
    assert not by_table["t2"]["scrolls"]  # the narrow table just fits
    assert all(not b["scrolls"] and not b["hint"] for b in desktop["boxes"])  # nothing to swipe on a desktop


@pytest.mark.parametrize("where", ["phone", "desktop"])
def test_axe_core_finds_no_serious_or_critical_violation(where: str, request: pytest.FixtureRequest) -> None:
    m = request.getfixturevalue(where)
    serious = [v for v in m["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, json.dumps(serious, ensure_ascii=False, indent=1)
    # nothing else either (best practices included): the page has one main landmark, every table a caption
    assert not m["violations"], json.dumps(m["violations"], ensure_ascii=False, indent=1)


def test_axe_core_on_a_forced_draft(sample_values: dict[str, Any]) -> None:
    html = page_html({**sample_values, "t3.new.natural": -3}, errors=2)
    m = measure(html, PHONE, "forced-phone")
    assert not m["violations"], json.dumps(m["violations"], ensure_ascii=False, indent=1)


@pytest.mark.parametrize("where", ["phone", "desktop"])
def test_table_text_is_at_least_14px_and_numbers_are_centred(where: str, request: pytest.FixtureRequest) -> None:
    m = request.getfixturevalue(where)
    assert m["minTableText"] >= 14
    assert m["number"]["align"] == "center" and m["label"]["align"] == "left"


def test_what_a_cms_editor_keeps_still_reads_right(sample_html: str) -> None:
    """Pasted into an editor that keeps only the body (no <style>): borders, centred numbers, left row labels,
    paragraph indents and the table text size are inline, so the page reads the same."""
    stripped = re.sub(r"<style>.*?</style>", "", sample_html, flags=re.S)
    assert "<style>" not in stripped
    m = measure(stripped, DESKTOP, "no-style")
    assert m["number"] == {"align": "center", "border": "solid 1px", "size": "14px"}
    assert m["label"]["align"] == "left" and m["minTableText"] >= 14
    assert m["indent"] == "32px" and m["fontSize"] == "16px"  # two characters of the 16 px body
    assert m["title"] == {"align": "center", "weight": "400"}
    assert m["heading"]["indent"] == "34px" and m["heading"]["family"].startswith("黑体")
    bad = [h["shown"] for h in m["heads"] if h["shown"] not in (h["text"], OFFICIAL_BREAKS.get(h["text"]))]
    assert not bad


class Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("th", "td", "caption", "table", "main"):
            self.tags.append((tag, dict(attrs), tuple(self.stack)))
        if tag not in ("br", "meta", "wbr"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass


def test_tables_have_captions_heads_and_scopes(sample_html: str) -> None:
    cells = Cells()
    cells.feed(sample_html)
    assert sum(t == "main" for t, _, _ in cells.tags) == 1
    assert sum(t == "caption" for t, _, _ in cells.tags) == 3
    ths = [(a, stack) for t, a, stack in cells.tags if t == "th"]
    assert ths and all(a.get("scope") in ("col", "colgroup", "row") for a, _ in ths)
    in_head = [a for a, stack in ths if "thead" in stack]
    assert in_head and all(a["scope"] in ("col", "colgroup") for a in in_head)
    # every row label of table 三 is a row header
    t3 = sample_html[sample_html.index('data-table="t3"'):]
    t3 = t3[:t3.index("</table>")]
    for lab in spec.TABLE_BY_ID["t3"].labels:
        if not lab.header:
            assert re.search(rf'<th[^>]*scope="row"[^>]*>{re.escape(lab.text)}</th>', t3.replace("&quot;", '"')), lab.text
    assert "<thead>" in t3
    style = sample_html[sample_html.index("<style>"):sample_html.index("</style>")]
    assert "size:A4" in style.replace(" ", "") and "thead{display:table-header-group}" in style


def test_printed_page_is_a4_with_table_3_on_one_page_and_the_draft_marked_on_every_page(sample_values: dict[str, Any],
                                                                                 tmp_path: Path) -> None:
    need("pdftotext")
    html = page_html({**sample_values, "t3.new.natural": -3}, errors=2)
    page = tmp_path / "forced.html"
    page.write_text(html, encoding="utf-8")
    pdf = tmp_path / "forced.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert pdf.exists()
    raw = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", raw)
    assert boxes and all(abs(float(w) - 595.9) < 2 and abs(float(h) - 842.2) < 2 for w, h in boxes)  # A4
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = [re.sub(r"\s+", "", p) for p in text.split("\f")[:-1]]
    assert len(pages) >= 3
    missing = [i for i, p in enumerate(pages, 1) if report_doc.UNCHECKED_MARK not in p]
    assert not missing, f"pages without the marking: {missing}"
    # table 三 fits one printed page: every label, 三、本年度办理结果 and （六）其他处理 included, is on the same page
    labels = [lab.text for lab in spec.TABLE_BY_ID["t3"].labels]
    on = [i for i, p in enumerate(pages, 1) if any(lab in p for lab in labels if len(lab) > 4)]
    assert len(on) == 1, f"table 三 printed over pages {on}"
    assert [lab for lab in labels if lab not in pages[on[0] - 1]] == []
    OUTPUT.mkdir(parents=True, exist_ok=True)
    from pdf_pages import render_png

    render_png(pdf, OUTPUT / "print", first=1, last=len(pages), dpi=60)


def test_api_export_writes_the_same_page(sample: Path, sample_html: str, tmp_path: Path) -> None:
    (p,) = api.export(sample, tmp_path, formats=["html"])
    assert p.read_text(encoding="utf-8") == sample_html
