"""Copying (issue 22): X3 at the 考核 bar (more than 50 % of a section repeated from last year's = 雷同, the bar a
profile's), boilerplate never counted, and units of one parent whose sections are near copies of each other's,
found on a corpus made from the real published reports."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import cli, shared_file
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin import api, similarity, structure
from xl_addin.adapters.xlsx_patch import Patcher
from xl_addin.model import CellValue, Report, ReportData, Severity
from xl_addin.narrative import PRIOR_SECTIONS, section_text
from xl_addin.similarity import Unit, clean, peer_group, repeated_share, similar_pairs

PUBLISHED = "examples/published"
REPORTS = ("suqian-city-2023.txt", "hongze-district-gov-2023.txt", "shanghai-municipal-gov-office-2019.txt",
           "shuyang-county-drc-2023.html")


@cache
def real() -> dict[str, ReportData]:
    """The real reports of ../shared, each a different unit: name -> the imported report."""
    out = {name: api.import_report(shared_file(f"{PUBLISHED}/{name}")).data for name in REPORTS}
    out["jiangle-industry-bureau-2023.txt"] = api.import_report(
        shared_file("examples/jiangle-industry-bureau-2023.txt")).data
    return out


@cache
def last_year() -> str:
    """A real section written by a unit (宿迁 五, whitespace dropped), none of it boilerplate: last year's text."""
    text = re.sub(r"\s+", "", section_text(real()["suqian-city-2023.txt"], "五"))
    own = "".join(ch for ch, m in zip(text, clean(text).mask, strict=True) if not m)
    return own[:300]


#: characters last year's text never uses: new writing cannot repeat it
@cache
def fresh_pool() -> str:
    used = set(last_year())
    return "".join(ch for ch in map(chr, range(0x4E00, 0x4E00 + 3000)) if ch not in used)


BOILER = "（一）主动公开。本年度未收取信息处理费。本报告中所列数据统计期限自2023年1月1日至12月31日止。"


@cache
def _sample() -> dict[str, CellValue]:
    return dict(api.sample_values())


def five(text: str, prior: str, profile: Any = None) -> Report:
    """The sample with section 五 ``text`` and last year's 五 ``prior``, checked."""
    values = {**_sample(), "s5.problems": text, "s5.measures": "", "s5.last_year_fixes": ""}
    data = ReportData(values=values, formulas=dict(structure.expected().formulas), prior={"text.五": prior})
    return api.check_data(data, profile=profile)


def written(percent: int, offset: int) -> str:
    """200 characters of this unit's own text, ``percent`` % of them last year's, the rest new; and the format's
    boilerplate, which both years have and which never counts."""
    copied = last_year()[: percent * 2]
    pool = fresh_pool()
    new = "".join(pool[(offset + 7 * i) % len(pool)] for i in range(200 - len(copied)))
    return BOILER + copied + BOILER + new


@pytest.mark.parametrize(("percent", "fires"), [(49, False), (50, False), (51, True), (100, True)])
def test_x3_at_the_bar(percent: int, fires: bool) -> None:
    this, prior = written(percent, 0), BOILER + last_year()
    assert repeated_share(this, prior) == pytest.approx(percent / 100)
    found = five(this, prior).by_rule("X3")
    assert bool(found) is fires
    if fires:
        assert found[0].values["percent"] == percent and found[0].severity is Severity.ERROR
        assert found[0].profile == ""


@settings(deadline=None)
@given(percent=st.integers(similarity.MIN_RUN // 2, 100), offset=st.integers(0, 2000))
def test_x3_fires_exactly_above_the_bar(percent: int, offset: int) -> None:
    this, prior = written(percent, offset), BOILER + last_year()
    assert repeated_share(this, prior) == pytest.approx(percent / 100)
    assert bool(five(this, prior).by_rule("X3")) is (percent > 50)


def test_boilerplate_alone_is_not_copying() -> None:
    """A section that is the format's fixed sentences and headings plus a little of its own is not 雷同."""
    pool = fresh_pool()
    this = BOILER * 3 + pool[:40] + BOILER
    prior = BOILER * 3 + pool[500:560] + BOILER
    assert repeated_share(this, prior) == 0.0
    assert five(this, prior).by_rule("X3") == []
    assert similarity.repeated_share(BOILER + last_year(), BOILER + last_year()) == 1.0


def test_a_reordered_copy_counts_and_a_sentence_said_twice_counts_once() -> None:
    sentences = [s for s in last_year().split("。") if s]
    assert repeated_share("。".join(reversed(sentences)), last_year()) > 0.9
    half = last_year()[:150]
    assert repeated_share(half + half, half + fresh_pool()[:150]) == pytest.approx(0.5)


def test_the_bar_is_the_profiles(tmp_path: Path) -> None:
    f = tmp_path / "严格.toml"
    f.write_text('[profile]\nname = "某县"\n[thresholds]\n"X3.repeated_percent" = 30\n', encoding="utf-8")
    strict = api.load_profile(f)
    this, prior = written(40, 0), BOILER + last_year()
    assert five(this, prior).by_rule("X3") == []
    (x3,) = five(this, prior, strict).by_rule("X3")
    assert x3.profile == "某县" and x3.message.endswith("〔地方要求：某县〕") and x3.values["percent"] == 40
    (x3,) = five(written(60, 0), prior, strict).by_rule("X3")
    assert x3.profile == ""  # above the national bar too: the national rule's finding


# ---- cross-unit ----------------------------------------------------------------------------------------------------

def texts_of(data: ReportData) -> dict[str, str]:
    return {n: section_text(data, n) for n in PRIOR_SECTIONS}


def edited(text: str) -> str:
    """Another unit's copy: its own place name, every fourth sentence dropped, its own figures."""
    sentences = [s for s in re.split(r"(?<=。)", text.replace("宿迁", "淮安").replace("我市", "我区")) if s]
    kept = [s for i, s in enumerate(sentences) if i % 4 != 3]
    return re.sub(r"\d+", lambda m: str(int(m.group(0)) + 3), "".join(kept))


def corpus() -> list[Unit]:
    group = peer_group(2023)
    return [Unit(name, name, group, texts_of(d)) for name, d in real().items()]


def test_genuinely_different_reports_never_pair() -> None:
    units = corpus()
    assert len(units) == 5 and all(u.texts["一"] for u in units)
    assert similar_pairs(units) == []
    assert similar_pairs(units, percent=10) == []  # not even at a fifth of the bar


def test_a_copy_with_edits_is_found_with_its_passages_side_by_side() -> None:
    units = corpus()
    original = next(u for u in units if u.name.startswith("suqian"))
    copy = Unit("某区政府", "某区.docx", original.group, {n: edited(t) for n, t in original.texts.items()})
    other_parent = Unit("外市某区", "外市.docx", peer_group(2023, "外市"), copy.texts)
    other_year = Unit("某区政府2022", "2022.docx", peer_group(2022), copy.texts)
    pairs = similar_pairs([*units, copy, other_parent, other_year])
    assert {(p.a.name, p.b.name) for p in pairs} == {("suqian-city-2023.txt", "某区政府")}
    assert {"一", "五"} <= {p.section for p in pairs}
    one = next(p for p in pairs if p.section == "一")
    assert 0.6 < one.share_a < one.share_b and one.share_b > 0.8  # a quarter of the original was dropped
    a_text = re.sub(r"\s+", "", original.texts["一"])
    b_text = re.sub(r"\s+", "", copy.texts["一"])
    assert len(one.passages) > 3
    for p in one.passages:  # each passage is the original's text and the copy's, the copy's edits in it
        assert p.a in a_text.replace("(", "（").replace(")", "）") and p.b in b_text.replace("(", "（").replace(")", "）")
        assert "淮安" not in p.a and "宿迁" not in p.b
    assert one.to_dict()["title"] == "总体情况" and one.to_dict()["a"] == "suqian-city-2023.txt"


def test_units_with_the_very_same_section_pair_with_the_first_only() -> None:
    text = {"五": last_year(), "一": "", "六": ""}
    units = [Unit(f"单位{i}", f"{i}.xlsx", peer_group(2023), text) for i in range(5)]
    pairs = similar_pairs(units)
    assert [(p.a.name, p.b.name, p.percent) for p in pairs] == [("单位0", f"单位{i}", 100) for i in range(1, 5)]


def test_collect_lists_the_copies_in_the_summary(tmp_path: Path, template: Path) -> None:
    folder = tmp_path / "收件箱"
    folder.mkdir()
    patcher = Patcher(template.read_bytes())
    suqian = real()["suqian-city-2023.txt"]
    mine = {f"s5.{k}": "" for k in ("problems", "measures", "last_year_fixes")}
    reports = {"甲局": section_text(suqian, "五"), "乙局": edited(section_text(suqian, "五")),
               "丙局": section_text(real()["shanghai-municipal-gov-office-2019.txt"], "五")}
    for name, five_text in reports.items():
        values = {**_sample(), **mine, "meta.agency": f"某县{name}", "meta.year": 2023,
                  "meta.report_date": dt.date(2024, 1, 17), "s5.problems": five_text}
        (folder / f"{name}.xlsx").write_bytes(patcher.patch(values))
    result = api.collect(folder, None, tmp_path / "汇总.xlsx", workers=1)
    fives = [p for p in result.similar if p.section == "五"]
    assert [(p.a.name, p.b.name) for p in fives] == [("某县乙局", "某县甲局")]
    assert result.to_dict()["similar"][0]["passages"]
    assert {p.section for p in result.similar} == {"一", "五", "六"}  # 一 and 六 are the sample's in all three
    ws = openpyxl.load_workbook(result.xlsx)["内容雷同"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    heads = [r for r in rows if r[0]]
    assert [r[1:4] for r in heads if r[3].startswith("五")] == [["某县乙局", "某县甲局", "五、存在的主要问题及改进情况"]]
    assert len(heads) == len(result.similar) and all(r[6] and r[7] for r in rows)  # passages side by side
    # 一 is the sample's in all three: two pairs with the first; its text shown once, the second row points to it
    ones = [(i + 3, r) for i, r in enumerate(rows) if r[0] and r[3].startswith("一")]
    assert len(ones) == 2 and len(ones[0][1][6]) > 40 and not ones[0][1][6].startswith("（全文与")
    assert ones[1][1][6] == ones[1][1][7] == f"（全文与第 {ones[0][0]} 行相同）"
    # the command says so, and a profile's bar decides: at 98 % the edited copy of 五 (97 % of it repeated) is not
    said = cli("collect", folder, "-o", tmp_path / "再汇总.xlsx")
    assert f"内容雷同：3 个机关的正文有部分与同一上级的其他机关雷同（{len(result.similar)} 处）" in said.stdout
    (tmp_path / "高.toml").write_text('[profile]\nname = "某县"\n[thresholds]\n"cross_unit.repeated_percent" = 98\n',
                                     encoding="utf-8")
    again = api.collect(folder, None, tmp_path / "三汇总.xlsx", workers=1, profile=api.load_profile(tmp_path / "高.toml"))
    assert {p.section for p in again.similar} == {"一", "六"}


# ---- scale: the bench's corpus (units written in their own words from the real reports' sentences) --------------

def _bench_corpus(n: int) -> tuple[list[Unit], set[tuple[str, str]]]:
    import importlib.util

    shared_file("examples/jiangle-industry-bureau-2023.txt")
    where = Path(__file__).resolve().parent.parent / "bench" / "similarity.py"
    spec = importlib.util.spec_from_file_location("bench_similarity", where)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    made, planted = bench.units(n)
    by_source: dict[str, list[str]] = {}
    for source, copy in sorted(planted):
        by_source.setdefault(source, []).append(copy)
    planted |= {(a, b) for cs in by_source.values() for i, a in enumerate(cs) for b in cs[i + 1:]}
    return made, planted


def test_the_planted_copies_and_nothing_else_among_120_units() -> None:
    made, planted = _bench_corpus(120)
    assert planted and {(p.a.name, p.b.name) for p in similar_pairs(made)} == planted


@pytest.mark.heavy
def test_the_planted_copies_and_nothing_else_among_1000_units() -> None:
    made, planted = _bench_corpus(1000)
    assert len(planted) >= 19 and {(p.a.name, p.b.name) for p in similar_pairs(made)} == planted
