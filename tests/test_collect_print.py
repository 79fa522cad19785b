"""Issue 24, item 3: the file-based ``collect`` outputs as a coordinator prints and opens them.

- the summary workbook prints on few pages (it had no print settings: 6 agencies on 18 pages), A4 landscape, page
  numbers whole in the footer, and its chart does not cover the table;
- the HTML tracker has a viewport tag, its column heads stay on one line at 1280 px, and an agency that has not
  submitted is 未提交 until its deadline passes; after it the 逾期 total says both kinds.

Rendered by LibreOffice and Chromium; the images are kept in tests/output/collect/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import need
from pdf_pages import render_png
from test_collect import write_roster_xlsx
from test_html_page import chromium

from xl_addin import api, collect
from xl_addin.adapters import office, tracker_html
from xl_addin.adapters.summary_writer import TRACKER_HEADERS, TRACKER_PRINTED

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "output" / "collect"
YEAR = 2023
ON_TIME = dt.datetime(2024, 1, 20, 10, 0).timestamp()
DEPTS = ["教育局", "财政局", "民政局", "司法局", "水利局", "审计局", "统计局", "林业局"]


@pytest.fixture(scope="module")
def county(template: Path, sample_values: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight departments on the roster, six of them submitted (one with an error)."""
    root = tmp_path_factory.mktemp("county-print")
    folder = root / "收件箱"
    folder.mkdir()
    agencies = [collect.Agency(f"将乐县{d}", "政府部门", "县级", "办公室") for d in DEPTS]
    write_roster_xlsx(root / "名单.xlsx", agencies)
    for i, a in enumerate(agencies[:6]):
        values = {**sample_values, "meta.agency": a.name, "meta.year": YEAR, "t3.new.natural": "/" if i == 2 else 1}
        path = api.put(template, values, folder / f"{a.name}.xlsx")
        os.utime(path, (ON_TIME, ON_TIME))  # submitted before the deadline of 2024-01-31
    return root


def run(county: Path, deadline: str, name: str) -> collect.CollectResult:
    return api.collect(county / "收件箱", county / "名单.xlsx", county / f"{name}.xlsx", deadline=deadline,
                       workers=1, year=YEAR)


@pytest.fixture(scope="module")
def past(county: Path) -> collect.CollectResult:
    return run(county, "2024-01-31", "汇总-截止后")


@pytest.mark.heavy
@pytest.mark.libreoffice
def test_summary_workbook_prints_on_few_pages_with_whole_page_numbers(past: collect.CollectResult,
                                                                     tmp_path: Path) -> None:
    assert past.xlsx is not None
    (pdf,) = office.convert([past.xlsx], "pdf", tmp_path)
    need("pdftotext")
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout.split("\f")[:-1]
    assert len(pages) <= 4, len(pages)  # 进度 1, 问题清单 1, 汇总 1-2 (18 before)
    assert all(re.search(r"第 \d+ 页，共 \d+ 页", p) for p in pages)
    bbox = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', bbox).group(1))  # type: ignore[union-attr]
    footer = [float(y) for y, w in re.findall(r'yMax="([\d.]+)">([^<]*)</word>', bbox) if "页" in w]
    assert footer and max(footer) < height - 0.3 * 72 + 1  # inside the page, above the footer margin: not cut
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("summary-*.png"):
        old.unlink()
    render_png(pdf, OUTPUT / "summary", dpi=60)


def test_the_chart_is_beside_the_table_not_over_it(past: collect.CollectResult) -> None:
    """(and the print settings the rendered test above, run by ``dev.sh bench``, measures on paper)"""
    assert past.xlsx is not None
    with zipfile.ZipFile(past.xlsx) as z:
        drawing = next(z.read(n).decode() for n in z.namelist() if n.startswith("xl/drawings/drawing"))
    col = int(re.search(r"<(?:\w+:)?from><(?:\w+:)?col>(\d+)<", drawing).group(1))  # type: ignore[union-attr]
    assert col >= len(TRACKER_HEADERS)  # 0-based: right of the last column of the table
    wb = openpyxl.load_workbook(past.xlsx)
    for sheet in wb.worksheets:  # every sheet: A4 landscape, one page wide, page numbers, room for them
        assert (sheet.page_setup.orientation, sheet.page_setup.fitToWidth, sheet.page_setup.paperSize) == (
            "landscape", 1, 9) and sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert "&P" in sheet.oddFooter.center.text and sheet.page_margins.bottom - sheet.page_margins.footer >= 0.4
    ws = wb["进度"]
    assert ws.print_area is not None and f"${openpyxl.utils.get_column_letter(TRACKER_PRINTED)}$" in ws.print_area


#: runs in the page: each column head's number of lines, the table's and the window's width
PROBE = r"""
var out = [];
document.querySelectorAll("th").forEach(function (th) {
  var lh = parseFloat(getComputedStyle(th).lineHeight) || parseFloat(getComputedStyle(th).fontSize) * 1.3;
  var pad = parseFloat(getComputedStyle(th).paddingTop) + parseFloat(getComputedStyle(th).paddingBottom);
  out.push({text: th.textContent, lines: Math.round((th.clientHeight - pad) / lh)});
});
var pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
"""


def test_tracker_page_heads_stay_whole_at_1280_px(past: collect.CollectResult) -> None:
    assert past.html is not None
    html = past.html.read_text(encoding="utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    OUTPUT.mkdir(parents=True, exist_ok=True)
    probe = OUTPUT / "tracker-probe.html"
    probe.write_text(html.replace("</body>", f"<script>{PROBE}</script></body>"), encoding="utf-8")
    r = chromium("--window-size=1280,900", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    probe.unlink()
    found = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert found, r.stderr[-2000:]
    heads = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(heads) >= len(TRACKER_HEADERS)
    broken = [h["text"] for h in heads if h["lines"] > 1]
    assert not broken, broken  # "机/关/名/称" one character a line before
    shot = OUTPUT / "tracker-1280.png"
    chromium("--window-size=1280,900", f"--screenshot={shot}", past.html.as_uri())
    assert shot.exists() and shot.stat().st_size > 5000


def test_not_submitted_is_not_late_before_the_deadline_and_both_after(county: Path,
                                                                      past: collect.CollectResult) -> None:
    before = run(county, (dt.date.today() + dt.timedelta(days=30)).isoformat(), "汇总-截止前")
    missing = [r for r in before.rows if r.seq and r.state is collect.State.MISSING]
    assert len(missing) == 2 and all(r.timely is collect.Timeliness.NOT_DUE for r in missing)
    assert before.html is not None
    text = before.html.read_text(encoding="utf-8")
    assert tracker_html.total_text(before, collect.Count.LATE) == "0" and "逾期未交" not in text
    assert "<td>未提交</td>" in text and '<td class="missing">未提交</td><td>未到期</td>' in text
    # after the deadline: the 逾期 total says how many submitted late and how many have not submitted
    assert past.html is not None
    after = past.html.read_text(encoding="utf-8")
    assert past.late_split == (0, 2)
    assert "，逾期 2；" in past.summary_zh() and past.late_text() in past.summary_zh(split_late=True)  # the CLI's line as before
    assert "<td>2（逾期提交 0，逾期未交 2）</td>" in after and "逾期 2（逾期提交 0，逾期未交 2）" in after
    assert past.xlsx is not None
    note = openpyxl.load_workbook(past.xlsx)["进度"]["A2"].value
    assert "逾期提交 0 个，逾期未交 2 个" in note
