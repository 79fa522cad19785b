"""The county coordinator (issue 6): distribute templates from a roster, collect what comes back.

A generated county of 50 agencies in mixed states -- valid, invalid, late, missing, duplicate, other year, a name
typed with full-width/space variants, a file named after the wrong agency -- plus files that are not ours, corrupt,
password-protected, an Office lock file and an agency not on the roster. Asserted: the tracker rows, the roll-up
equal to the column sums of the passing agencies (read back from the summary workbook), and per-file findings
identical to what ``xl-addin check`` reports for each file alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import DATA
from conftest import cli as run_cli

from xl_addin import api, collect, derive, fingerprint, spec
from xl_addin.adapters.fast_reader import read_fast
from xl_addin.adapters.xlsx_patch import Patcher
from xl_addin.adapters.xlsx_reader import read_workbook
from xl_addin.collect import Count, State, Timeliness, Verdict, name_key

YEAR = 2023
#: what a coordinator sees on 进度 and the HTML page (must not change)
TOTALS_ZH = ["应报", "已提交", "通过", "不通过", "未提交", "逾期", "未采用文件", "文件总数"]
TRACKER_HEADERS_ZH = ["序号", "机关名称", "机关类别", "层级", "联系人", "状态", "结论", "是否按时", "提交时间", "发布日期",
                      "截止日期", "错误", "警告", "提示", "说明", "文件", "SHA-256"]
ZH_OF = {State.SUBMITTED: "已提交", State.MISSING: "未提交", State.UNUSED: "未采用", Verdict.PASS: "通过",
         Verdict.FAIL: "不通过", Verdict.MISSING: "未提交", Timeliness.ON_TIME: "按时", Timeliness.LATE: "逾期",
         Timeliness.OVERDUE: "逾期未交"}
ON_TIME = dt.datetime(2024, 1, 20, 10, 0).timestamp()
LATE = dt.datetime(2024, 2, 15, 9, 30).timestamp()

TOWNS = ["水南镇", "古镛镇", "万安镇", "高唐镇", "白莲镇", "黄潭镇", "光明镇", "漠源乡", "南口乡", "余坊乡", "大源乡"]
DEPARTMENTS = ["发展和改革局", "教育局", "科学技术局", "工业和信息化局", "公安局", "民政局", "司法局", "财政局",
               "人力资源和社会保障局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水利局", "农业农村局",
               "商务局", "文体和旅游局", "卫生健康委员会", "退役军人事务局", "应急管理局", "审计局", "市场监督管理局",
               "统计局", "医疗保障局", "林业局", "城市管理局", "信访局", "数据管理局", "乡村振兴局", "民族与宗教事务局",
               "机关事务服务中心", "粮食和物资储备中心", "融媒体中心", "气象局", "档案馆", "地方志编纂中心", "招商服务中心"]


def county_roster() -> list[collect.Agency]:
    out = [collect.Agency("将乐县人民政府", "人民政府", "县级", "县府办")]
    out += [collect.Agency(f"将乐县{t}人民政府", "人民政府", "乡级", "党政办") for t in TOWNS]
    out += [collect.Agency(f"将乐县{d}", "政府部门", "县级", "办公室") for d in DEPARTMENTS]
    out.append(collect.Agency("将乐县总工会", "其他授权组织", "县级", "办公室"))
    return out


def base_values(sample_values: dict[str, Any], a: collect.Agency, i: int) -> dict[str, Any]:
    """The sample report, made this agency's, with figures that differ per agency and stay consistent."""
    v = dict(sample_values)
    v.update({"meta.agency": a.name, "meta.kind": a.kind, "meta.level": a.level, "meta.year": YEAR,
              "s1.on_request": "本年度依申请公开工作依法有序开展，申请均在法定期限内答复。",
              "s1.supervision": str(sample_values["s1.supervision"]) + "本年度开展政务公开工作考核、社会评议和责任追究。",
              "t3.new.natural": 1 + i, "t3.granted.natural": 1 + i, "t3.new.business": i % 3,
              "t3.unable_no_info.business": i % 3, "t2.licensing.count": 10 * i, "t2.penalty.count": i % 7,
              "t2.fees.amount": round(0.125 * (i % 5), 4), "t4.review.upheld": i % 2})
    return v


@dataclass
class County:
    folder: Path
    roster: Path
    agencies: list[collect.Agency]
    #: agency -> expected (state, verdict, timely)
    expect: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: path -> expected verdict of files not used
    unused: dict[str, str] = field(default_factory=dict)
    #: agency -> the path that must be used
    used: dict[str, Path] = field(default_factory=dict)


def write_roster_xlsx(path: Path, agencies: list[collect.Agency]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["将乐县2023年度政府信息公开工作年度报告报送名单"])  # a title row above the header is allowed
    ws.append(["机关名称", "机关类别", "层级", "联系人", "统一社会信用代码"])
    for a in agencies:
        ws.append([a.name, a.kind, a.level, a.contact, a.credit_code or None])
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def county(template: Path, sample_values: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> County:
    root = tmp_path_factory.mktemp("county")
    folder = root / "收件箱"
    (folder / "U盘").mkdir(parents=True)
    agencies = county_roster()
    assert len(agencies) == 50
    c = County(folder, write_roster_xlsx(root / "名单.xlsx", agencies), agencies)
    patcher = Patcher(template.read_bytes())

    def save(name: str, values: dict[str, Any], mtime: float = ON_TIME) -> Path:
        p = folder / name
        p.write_bytes(patcher.patch(values))
        os.utime(p, (mtime, mtime))
        return p

    for i, a in enumerate(agencies):
        v = base_values(sample_values, a, i)
        name = f"{i:02d}-{a.name}.xlsx"
        if i in (3, 17, 29):  # missing
            c.expect[a.name] = (State.MISSING, Verdict.MISSING, Timeliness.OVERDUE)
            continue
        if i in (5, 21, 33):  # invalid: a "/" typed in a count, an identity broken
            v.update({"t3.new.natural": "/"} if i == 5 else {"t3.new.natural": 40})
            c.expect[a.name] = (State.SUBMITTED, Verdict.FAIL, Timeliness.ON_TIME)
        elif i in (25, 35):  # late (file time after 1月31日; departments), but right
            c.expect[a.name] = (State.SUBMITTED, Verdict.PASS, Timeliness.LATE)
        elif i == 12:  # two files: the older wrong, the newer right -> the newer is used
            old = dict(v, **{"t3.new.natural": "三"})
            older = save(f"{name[:-5]}-初稿.xlsx", old, ON_TIME - 86400)
            c.unused[str(older)] = Verdict.DUPLICATE
            c.expect[a.name] = (State.SUBMITTED, Verdict.PASS, Timeliness.ON_TIME)
        elif i == 14:  # only last year's file came back
            v["meta.year"] = YEAR - 1
            c.unused[str(save(name, v))] = Verdict.OTHER_YEAR
            c.expect[a.name] = (State.MISSING, Verdict.MISSING, Timeliness.OVERDUE)
            continue
        elif i == 19:  # the name typed with a full-width space, full-width brackets and spaces around
            v["meta.agency"] = "  " + a.name[:3] + "\u3000" + a.name[3:] + " "
            c.expect[a.name] = (State.SUBMITTED, Verdict.PASS, Timeliness.ON_TIME)
        elif i == 23:  # a file named after another agency: matched by what is inside
            name = f"{i:02d}-{agencies[24].name}.xlsx"
            c.expect[a.name] = (State.SUBMITTED, Verdict.PASS, Timeliness.ON_TIME)
        else:
            c.expect[a.name] = (State.SUBMITTED, Verdict.PASS, Timeliness.ON_TIME)
        sub = "U盘/" if i % 10 == 7 else ""
        c.used[a.name] = save(sub + name, v, LATE if i in (25, 35) else ON_TIME)
    # what else comes back: not ours, corrupt, encrypted, a Word lock file, an agency not on the roster
    for src, verdict in (("foreign-workbook.xlsx", Verdict.FOREIGN), ("broken-truncated.xlsx", Verdict.UNREADABLE),
                         ("sample-encrypted.xlsx", Verdict.UNREADABLE), ("not-a-workbook.xlsx", Verdict.UNREADABLE)):
        dst = folder / f"来件-{src}"
        shutil.copy(DATA / src, dst)
        c.unused[str(dst)] = verdict
    shutil.copy(c.used[agencies[0].name], folder / "~$00-将乐县人民政府.xlsx")
    stranger = collect.Agency("泰宁县教育局", "政府部门", "县级")
    c.unused[str(save("外县.xlsx", base_values(sample_values, stranger, 60)))] = Verdict.NOT_ON_ROSTER
    return c


@pytest.fixture(scope="module")
def collected(county: County) -> collect.CollectResult:
    out = county.folder.parent / "汇总校验结果.xlsx"
    return api.collect(county.folder, county.roster, out, workers=2)


def test_tracker_rows(county: County, collected: collect.CollectResult) -> None:
    roster_rows = [r for r in collected.rows if r.seq]
    assert [r.agency for r in roster_rows] == [a.name for a in county.agencies]
    for r in roster_rows:
        assert (r.state, r.verdict, r.timely) == county.expect[r.agency], r.agency
        if r.state == State.SUBMITTED:
            assert Path(r.path) == county.used[r.agency], r.agency
            assert r.sha256 and len(r.sha256) == 64
    unused = {r.path: r for r in collected.rows if not r.seq}
    assert {p: r.verdict for p, r in unused.items()} == county.unused
    for r in unused.values():
        assert r.note and r.state == State.UNUSED
    assert all("~$" not in r.path for r in collected.rows)
    assert "不在名单中" in unused[str(county.folder / "外县.xlsx")].note
    assert "密码" in unused[str(county.folder / "来件-sample-encrypted.xlsx")].note
    assert "只收到其他年度" in next(r.note for r in roster_rows if r.agency == county.agencies[14].name)
    c = collected.counts
    assert c == {"expected": 50, "submitted": 46, "passed": 43, "failed": 3, "missing": 4, "late": 2 + 4,
                 "unused_files": 7, "files": 53}
    assert not collected.ok


def test_summary_workbook_tracker_sheet(county: County, collected: collect.CollectResult) -> None:
    assert collected.xlsx is not None and collected.xlsx.exists()
    wb = openpyxl.load_workbook(collected.xlsx)
    # every agency's narrative is the sample's: each pair of them is listed as 内容雷同 (issue 22)
    assert wb.sheetnames == ["进度", "问题清单", "汇总", "内容雷同"]
    ws = wb["进度"]
    from xl_addin.adapters.summary_writer import TOTALS_ROW, TRACKER_HEADER_ROW

    assert [c.value for c in ws[TOTALS_ROW]][:8] == TOTALS_ZH
    totals = dict(zip(Count, [c.value for c in ws[TOTALS_ROW + 1]], strict=False))
    assert totals == collected.counts
    assert [c.value for c in ws[TRACKER_HEADER_ROW]] == TRACKER_HEADERS_ZH
    assert ws.auto_filter.ref.startswith(f"A{TRACKER_HEADER_ROW}")
    rows = [dict(zip(TRACKER_HEADERS_ZH, [c.value for c in row], strict=True))
            for row in ws.iter_rows(min_row=TRACKER_HEADER_ROW + 1)]
    assert len(rows) == len(collected.rows) == 50 + 7
    for row, a in zip(rows, county.agencies, strict=False):
        state, verdict, timely = county.expect[a.name]
        assert (row["机关名称"], row["状态"], row["结论"], row["是否按时"]) == (a.name, ZH_OF[state], ZH_OF[verdict],
                                                                        ZH_OF[timely])
        if state == State.SUBMITTED:
            assert row["文件"] == str(county.used[a.name])
            assert row["SHA-256"] == collect_sha(county.used[a.name])
            assert isinstance(row["提交时间"], dt.datetime)
    for row in rows[50:]:
        assert row["状态"] == "未采用" and row["是否按时"] is None and row["说明"]
    assert {row["结论"] for row in rows[50:]} == {"重复提交", "年度不符", "非本模板", "无法读取", "名单外"}
    html = collected.html
    assert html is not None and html == collected.xlsx.with_suffix(".html")
    text = html.read_text(encoding="utf-8")
    assert all(a.name in text for a in county.agencies) and "<table" in text
    assert "".join(f"<th>{h}</th>" for h in TOTALS_ZH) in text
    assert "".join(f"<th>{h}</th>" for h in TRACKER_HEADERS_ZH) in text
    assert '<td class="missing">未提交</td><td class="late">逾期未交</td>' in text
    assert '<td class="pass">通过</td><td>按时</td>' in text
    assert '<td class="fail">不通过</td><td>按时</td>' in text
    assert '<td>未采用</td><td class="unused">重复提交</td><td></td>' in text


def test_summary_workbook_has_the_tracker_chart(collected: collect.CollectResult) -> None:
    """The pie chart of 通过 / 不通过 / 未提交 is a part of the saved file, drawn on 进度 and fed from its totals
    (openpyxl does not read charts back, so the zip is read)."""
    assert collected.xlsx is not None
    with zipfile.ZipFile(collected.xlsx) as z:
        names = set(z.namelist())
        assert "xl/charts/chart1.xml" in names
        rid = re.search(r'<sheet\b[^>]*name="进度"[^>]*r:id="(rId\d+)"', z.read("xl/workbook.xml").decode())
        assert rid is not None
        sheet = _target(z, "xl/_rels/workbook.xml.rels", rid.group(1), "xl/")
        sheet_rels = sheet.replace("worksheets/", "worksheets/_rels/") + ".rels"
        drawing_id = re.search(r'<drawing\b[^>]*r:id="(rId\d+)"', z.read(sheet).decode())
        assert drawing_id is not None, "进度 has no drawing"
        drawing = _target(z, sheet_rels, drawing_id.group(1), "xl/worksheets/")
        chart_id = re.search(r'<(?:\w+:)?chart\b[^>]*r:id="(rId\d+)"', z.read(drawing).decode())
        assert chart_id is not None, "the drawing holds no chart"
        chart = _target(z, drawing.replace("drawings/", "drawings/_rels/") + ".rels", chart_id.group(1), "xl/drawings/")
        assert chart == "xl/charts/chart1.xml"
        xml = z.read(chart).decode()
    assert re.search(r"<(?:\w+:)?pieChart>", xml)
    # values from the totals row, categories (通过, 不通过, 未提交) from the header row above it
    assert "'进度'!$C$4:$E$4" in xml and "'进度'!$C$3:$E$3" in xml


def _target(z: zipfile.ZipFile, rels: str, rid: str, base: str) -> str:
    """The part a relationship ``rid`` of ``rels`` points to, as a name in the zip."""
    found = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*/>', z.read(rels).decode())
    assert found is not None, (rels, rid)
    target = re.search(r'Target="([^"]+)"', found.group(0))
    assert target is not None
    return posixpath.normpath(target.group(1).lstrip("/") if target.group(1).startswith("/")
                              else posixpath.join(base, target.group(1)))


def test_collect_json_keys_are_english_and_states_round_trip(county: County, collected: collect.CollectResult,
                                                             tmp_path: Path) -> None:
    r = run_cli("collect", county.folder, "--roster", county.roster, "-o", tmp_path / "s.xlsx", "--json")
    doc = json.loads(r.stdout)
    keys = list(_keys(doc))
    assert keys and all(k.isascii() for k in keys), sorted({k for k in keys if not k.isascii()})
    assert list(doc) == ["year", "ok", "counts", "summary", "html", "rows", "findings", "rollup", "similar"]
    assert doc["counts"] == collected.counts and list(doc["counts"]) == [c.value for c in Count]
    assert list(doc["rows"][0]) == ["seq", "agency", "kind", "level", "contact", "state", "verdict", "timely",
                                    "submitted", "report_date", "deadline", "errors", "warnings", "infos", "note",
                                    "path", "sha256", "error_code"]
    # every state, verdict and timeliness read back from JSON is the one the tracker holds
    back = [(State(d["state"]), Verdict(d["verdict"]), Timeliness(d["timely"]) if d["timely"] else None)
            for d in doc["rows"]]
    assert back == [(x.state, x.verdict, x.timely) for x in collected.rows]
    assert {v for _, v, _ in back} == {Verdict.PASS, Verdict.FAIL, Verdict.MISSING, Verdict.DUPLICATE,
                                       Verdict.OTHER_YEAR, Verdict.FOREIGN, Verdict.UNREADABLE, Verdict.NOT_ON_ROSTER}
    assert [(d["agency"], d["path"], d["used"], d["rule"]) for d in doc["findings"]] == \
        [(x.agency, x.path, x.used, x.finding.rule) for x in collected.findings]
    assert doc["rollup"]["excluded"][0].keys() == {"agency", "reason"}
    assert {e["agency"] for e in doc["rollup"]["excluded"]} == \
        {a.name for a in county.agencies if county.expect[a.name][1] != Verdict.PASS}


def _keys(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from _keys(v)
    elif isinstance(node, list):
        for v in node:
            yield from _keys(v)


def test_every_state_verdict_and_timeliness_is_shown_in_chinese() -> None:
    for enum_type in (State, Verdict, Timeliness, Count):
        shown = [m.zh for m in enum_type]
        assert all(shown) and len(set(shown)) == len(shown), enum_type  # one Chinese text each, none shared
        for m in enum_type:
            assert enum_type(m.value) is m and m.value.isascii() and json.loads(json.dumps(m)) == m.value
    assert collect.zh(None) == ""


def test_readme_documents_every_json_value() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [f"`{m.value}` {m.zh}" for t in (State, Verdict, Timeliness, Count) for m in t
               if f"`{m.value}` {m.zh}" not in readme]
    assert not missing


def collect_sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_findings_identical_to_check_each_file_alone(county: County, collected: collect.CollectResult) -> None:
    by_path: dict[str, list[dict[str, Any]]] = {}
    for x in collected.findings:
        by_path.setdefault(x.path, []).append(x.finding.to_dict())
    readable = [r for r in collected.files if r.readable]
    assert len(readable) == 53 - 4
    for r in readable:
        alone = api.check(r.path).to_dict()["findings"]
        assert by_path.get(r.path, []) == alone, r.path
    # the 问题清单 sheet lists every finding of every file, filterable
    ws = openpyxl.load_workbook(collected.xlsx)["问题清单"]
    assert ws.auto_filter.ref == f"A1:J{len(collected.findings) + 1}"
    listed = [(row[1], row[3], row[6], row[9]) for row in ws.iter_rows(min_row=2, values_only=True)]
    assert listed == [(x.path, x.finding.rule, x.finding.cell, x.finding.message) for x in collected.findings]
    invalid = {str(county.used[a.name]) for a in county.agencies if county.expect[a.name][1] == Verdict.FAIL}
    assert invalid <= {x.path for x in collected.findings if x.finding.severity.value == "error"}


def test_rollup_is_the_column_sum_of_the_passing_agencies(county: County, collected: collect.CollectResult) -> None:
    passing = [a for a in county.agencies if county.expect[a.name][1] == Verdict.PASS]
    assert list(collected.rollup.included) == [a.name for a in passing]
    expected: dict[str, float] = dict.fromkeys(collect.TABLE_KEYS, 0)
    for a in passing:
        vals = derive.effective_values(read_workbook(county.used[a.name]))  # the other reader, on purpose
        for k in collect.TABLE_KEYS:
            expected[k] += vals[k] or 0
    wb = openpyxl.load_workbook(collected.xlsx)
    got = {}
    for k in collect.TABLE_KEYS:
        dn = wb.defined_names[f"hz_{k.replace('.', '_')}"]
        sheet, a1 = next(iter(dn.destinations))
        got[k] = wb[sheet][a1.replace("$", "")].value
    assert got.keys() == expected.keys()
    for k in collect.TABLE_KEYS:
        assert got[k] == pytest.approx(expected[k]), k
    assert got["t3.new.natural"] == sum(1 + i for i, a in enumerate(county.agencies) if a in passing)
    # laid out in the official grid with its labels
    ws = wb["汇总"]
    heads, _ = collect.rollup_layout()
    for t in spec.TABLES:
        assert ws.cell(heads[t.id], 1).value == t.heading
        for lab in t.labels:
            assert ws.cell(heads[t.id] + lab.row, lab.col).value == lab.text
    merged = {str(m) for m in ws.merged_cells.ranges}
    t3 = spec.TABLE_BY_ID["t3"]
    note = next(lab for lab in t3.labels if lab.text == spec.T3_NOTE)
    top = heads["t3"] + note.row
    assert f"A{top}:C{top + 2}" in merged
    # re-checked with the same rules, and the agencies left out listed with why
    assert collected.rollup.valid and "汇总表复核：通过" in str(ws["A3"].value)
    texts = [str(c.value) for row in ws.iter_rows(min_row=collect.rollup_end_row() + 1) for c in row if c.value]
    for a in county.agencies:
        if county.expect[a.name][1] != Verdict.PASS:
            assert a.name in texts
    assert any("校验不通过" in t for t in texts) and "未提交" in texts


def test_rollup_recheck_catches_a_broken_identity() -> None:
    values = dict.fromkeys(collect.TABLE_KEYS, 0)
    row = collect.TrackerRow(1, "甲", "政府部门", "县级", "", State.SUBMITTED, Verdict.PASS)
    f = collect.FileResult("a.xlsx", values=tuple(3 if k == "t3.new.natural" else 0 for k in values))
    p = collect.Plan(2023, (row,), {"甲": f}, ())
    ro = collect.rollup(p)
    assert not ro.valid and {x.rule for x in ro.findings} == {"A1", "A3"}
    assert ro.findings[0].sheet == "汇总"


def test_names_are_matched_across_width_and_space_variants() -> None:
    assert name_key(" 将乐县\u3000财政局 ") == name_key("将乐县财政局")
    assert name_key("将乐县（国资）中心") == name_key("将乐县(国资)中心")
    assert name_key("ＡＢＣ１２３") == "ABC123"


def test_collect_cli_exit_codes_and_json(county: County, tmp_path: Path, template: Path,
                                         sample_values: dict[str, Any]) -> None:
    r = run_cli("collect", county.folder, "--roster", county.roster, "-o", tmp_path / "s.xlsx", "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["counts"]["missing"] == 4 and doc["year"] == YEAR
    assert {"rows", "findings", "rollup", "summary", "html"} <= set(doc)
    # without --json: the summary, then each agency or file needing attention with its verdict in Chinese
    r = run_cli("collect", county.folder, "--roster", county.roster, "-o", tmp_path / "s.xlsx")
    assert r.returncode == 1 and r.stdout.startswith("2023 年度：应报 50 个机关，已提交 46（通过 43，不通过 3），未提交 4")
    shown = {line.split("]")[0].strip(" [") for line in r.stdout.splitlines() if line.startswith("  [")}
    assert shown == {"不通过", "未提交", "重复提交", "年度不符", "非本模板", "无法读取", "名单外"}
    # a county where every agency filed a passing report on time: exit 0
    folder = tmp_path / "small"
    folder.mkdir()
    agencies = county_roster()[:3]
    patcher = Patcher(template.read_bytes())
    for i, a in enumerate(agencies):
        p = folder / f"{i}.xlsx"
        p.write_bytes(patcher.patch(base_values(sample_values, a, i)))
        os.utime(p, (ON_TIME, ON_TIME))
    roster = tmp_path / "名单.csv"
    with roster.open("w", encoding="gb18030", newline="") as fh:  # Excel on a Chinese Windows saves CSV as GBK
        w = csv.writer(fh)
        w.writerow(["机关名称", "机关类别", "层级", "联系人"])
        w.writerows([a.name, a.kind, a.level, a.contact] for a in agencies)
    r = run_cli_process("collect", folder, "--roster", roster, "-o", tmp_path / "ok.xlsx", "--deadline", "2024-01-31")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "应报 3 个机关，已提交 3（通过 3" in r.stdout
    assert (tmp_path / "ok.xlsx").exists() and (tmp_path / "ok.html").exists()


def test_collect_cli_bad_arguments_exit_2(tmp_path: Path, county: County) -> None:
    bad = tmp_path / "名单.csv"
    bad.write_text("机关名称,机关类别,层级,联系人\n将乐县财政局,政府部门,县级,张三\n将乐县教育局,事业单位,县级,李四\n",
                   encoding="utf-8")
    r = run_cli("collect", county.folder, "--roster", bad, "-o", tmp_path / "s.xlsx")
    assert r.returncode == 2 and "第3行" in r.stderr and "机关类别" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("collect", county.folder, "--roster", tmp_path / "没有.xlsx", "-o", tmp_path / "s.xlsx")
    assert r.returncode == 2 and "不存在" in r.stderr
    r = run_cli("collect", county.folder, "--roster", county.roster, "-o", tmp_path / "s.xlsx", "--deadline", "1月31日")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr
    r = run_cli("collect", tmp_path / "没有", "-o", tmp_path / "s.xlsx")
    assert r.returncode == 2
    assert not (tmp_path / "s.xlsx").exists()


def test_roster_errors_name_file_and_row(tmp_path: Path) -> None:
    from xl_addin.adapters.roster import read_roster

    p = tmp_path / "r.csv"
    p.write_text("机关名称,层级\n甲,县级\n", encoding="utf-8")
    with pytest.raises(collect.RosterError, match="缺少“机关类别”"):
        read_roster(p)
    p.write_text("机关名称,机关类别,层级\n甲,政府部门,县级\n\n甲 ,政府部门,县级\n", encoding="utf-8")
    with pytest.raises(collect.RosterError, match=r"第4行.*与第2行重复"):
        read_roster(p)
    p.write_text("名称\n甲\n", encoding="utf-8")
    with pytest.raises(collect.RosterError, match="找不到表头"):
        read_roster(p)
    q = tmp_path / "r.xlsx"
    q.write_bytes(b"not a workbook")
    with pytest.raises(collect.RosterError, match="无法读取名单"):
        read_roster(q)


def test_collect_without_a_roster_lists_every_agency_found(county: County, tmp_path: Path) -> None:
    res = api.collect(county.folder, None, tmp_path / "r.xlsx", workers=1)
    names = {r.agency for r in res.rows if r.seq}
    only_last_year = county.agencies[14].name
    assert names == {a.name for a in county.agencies if a.name in county.used} | {"泰宁县教育局", only_last_year}
    assert all(r.state == State.SUBMITTED for r in res.rows if r.seq and r.agency != only_last_year)


def test_distribute_then_collect_with_last_year(county: County, tmp_path: Path, sample_values: dict[str, Any]) -> None:
    agencies = county_roster()[:4]
    roster = write_roster_xlsx(tmp_path / "名单.xlsx", agencies)
    last = tmp_path / "2023"
    last.mkdir()
    for a in agencies[:3]:  # last year's reports of three of them
        shutil.copy(county.used[a.name], last / Path(county.used[a.name]).name)
    out = tmp_path / "下发"
    paths = api.distribute(roster, out, YEAR + 1, last_year_dir=last)
    assert len(paths) == 4 and all(p.parent == out for p in paths)
    with (out / "manifest.csv").open(encoding="utf-8-sig") as fh:
        manifest = list(csv.DictReader(fh))

    assert [m["机关名称"] for m in manifest] == [a.name for a in agencies]
    for m, p, a in zip(manifest, paths, agencies, strict=True):
        assert m["文件"] == p.name and m["模板指纹"] == fingerprint.fingerprint() and m["SHA-256"] == collect_sha(p)
        data = read_fast(p)
        assert data == read_workbook(p)
        assert (data.agency, data.text("meta.kind"), data.text("meta.level"), data.year) == \
            (a.name, a.kind, a.level, YEAR + 1)
        assert data.text("meta.contact") == a.contact
        if a is not agencies[3]:
            last_vals = derive.effective_values(read_fast(county.used[a.name]))
            assert data.prior["t3.carried_out.total"] == last_vals["t3.carried_out.total"]
            assert data.prior["t2.normative.in_force"] == last_vals["t2.normative.in_force"]
        else:
            assert all(v is None for v in data.prior.values())
        report = api.check(p)
        assert {f.rule for f in report.findings} >= {"V3"}  # a blank template: numbers still to fill in
    # a clerk fills one in with a wrong 上年结转: X1 found by check alone and by collect (via the hidden cells)
    filled = Patcher(paths[0].read_bytes()).patch({**{k: v for k, v in sample_values.items() if k.startswith("t")},
                                                  "t3.carried_in.natural": 7})
    paths[0].write_bytes(filled)
    res = api.collect(out, roster, tmp_path / "s.xlsx", workers=1)
    row = res.rows[0]
    assert row.verdict == Verdict.FAIL
    assert any(x.finding.rule == "X1" for x in res.findings if x.path == str(paths[0]))
    assert {r.verdict for r in res.rows[1:4]} == {Verdict.FAIL}  # blank templates fail (empty narrative)


def test_cross_year_rules_with_last_year_dir(county: County, tmp_path: Path, template: Path,
                                             sample_values: dict[str, Any]) -> None:
    a = county.agencies[1]
    last = tmp_path / "last"
    last.mkdir()
    v = base_values(sample_values, a, 1)
    lv = dict(v, **{"meta.year": YEAR - 1, "t3.carried_out.natural": 2, "t3.granted.natural": v["t3.granted.natural"] - 2})
    (last / "x.xlsx").write_bytes(Patcher(template.read_bytes()).patch(lv))
    now = tmp_path / "now"
    now.mkdir()
    p = now / "y.xlsx"
    p.write_bytes(Patcher(template.read_bytes()).patch(v))
    res = api.collect(now, None, tmp_path / "s.xlsx", last_year_dir=last, workers=1)
    got = [x.finding.to_dict() for x in res.findings]
    assert got == api.check(p, last_year=last / "x.xlsx").to_dict()["findings"]
    assert any(f["rule"] == "X1" for f in got)


def run_cli_process(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xl_addin", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_the_deadline_day_itself_is_on_time_and_not_yet_overdue() -> None:
    limit = dt.date(2024, 1, 31)
    assert collect.timeliness(limit, limit, submitted=True) is Timeliness.ON_TIME
    assert collect.timeliness(limit, limit + dt.timedelta(days=1), submitted=True) is Timeliness.LATE
    assert collect.timeliness(limit, limit, submitted=False) is Timeliness.NOT_DUE
    assert collect.timeliness(limit, limit + dt.timedelta(days=1), submitted=False) is Timeliness.OVERDUE
    assert collect.timeliness(None, limit, submitted=True) is None


def test_of_several_files_the_newest_is_used_and_the_others_listed() -> None:
    roster = collect.Roster((collect.Agency("甲局", "政府部门", "县级"),))
    files = [collect.FileResult(p, mtime=t, agency="甲局", year=YEAR) for p, t in (("b.xlsx", 2.0), ("a.xlsx", 3.0),
                                                                                   ("c.xlsx", 1.0))]
    p = collect.plan(roster, files, now=dt.datetime(2024, 1, 1))
    assert [(r.path, r.state, r.verdict) for r in p.rows] == [
        ("a.xlsx", State.SUBMITTED, Verdict.PASS), ("b.xlsx", State.UNUSED, Verdict.DUPLICATE),
        ("c.xlsx", State.UNUSED, Verdict.DUPLICATE)]
    assert p.rows[0].note == "另有 2 个较早的文件未采用。" and p.rows[0].timely is Timeliness.ON_TIME
    assert all("a.xlsx" in r.note for r in p.rows[1:])


def test_a_roster_saying_xian_and_xiang_is_read_with_what_was_normalised(tmp_path: Path) -> None:
    """Rosters write 县/乡/部门 for 县级/乡级/政府部门: accepted, and the coordinator is told what was read so."""
    roster = tmp_path / "名单.csv"
    roster.write_text("机关名称,机关类别,层级,联系人\n某县财政局,部门,县,张三\n某某镇人民政府,政府,镇,李四\n",
                      encoding="utf-8")
    r = api.read_roster(roster)
    assert [(a.kind, a.level) for a in r.agencies] == [("政府部门", "县级"), ("人民政府", "乡级")]
    assert any("“层级”写作“县”，按“县级”处理" in n and "第2行" in n for n in r.notes)
    from conftest import cli as run

    res = run("distribute", roster, "-o", tmp_path / "下发", "--year", "2025")
    assert res.returncode == 0 and "按“县级”处理" in res.stderr
