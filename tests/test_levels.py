"""The levelled roll-up (issue 22): county -> city -> province through upward packages, every level's 汇总
workbook equal to the sum cell for cell and passing the same checks as an agency's workbook; the coverage; the
comparison with a unit's own published 汇总 report; hostile packages refused."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import levels_data as ld
import openpyxl
import pytest
from conftest import cli as run_cli
from hypothesis import given
from hypothesis import strategies as st

from xl_addin import api, collect, package, rollup, spec
from xl_addin.adapters import package_zip
from xl_addin.collect import TABLE_KEYS, Agency, Roster
from xl_addin.package import PackageError


@dataclasses.dataclass
class Run:
    level: ld.Level
    result: collect.CollectResult
    package: Path


@pytest.fixture(scope="module")
def region() -> ld.Region:
    return ld.Region()


def build_province(region: ld.Region, base: Path, cities: int, counties: int, per_county: int,
                   seed: int = 22) -> dict[str, Run]:
    """``cities`` x ``counties`` x ``per_county`` departments, plus each city's and the province's own office and 2
    departments: every level collected with ``--package`` and its package passed up."""
    rng = random.Random(seed)
    runs: dict[str, Run] = {}

    def run(lv: ld.Level, key: str) -> Run:
        pkg = base / f"{key}.zip"
        res = api.collect(lv.folder, lv.roster, base / f"{key}-汇总校验.xlsx", package=pkg, workers=1)
        runs[key] = Run(lv, res, pkg)
        return runs[key]

    made = []
    for city in ("甲市", "乙市", "丁市", "戊市", "己市")[:cities]:
        below = [ld.county(region, base, f"{city}{c}", per_county, rng) for c in ("东县", "西县", "南县", "北县")[:counties]]
        for c in below:
            run(c, c.name.removesuffix("人民政府"))
        packages = [runs[c.name.removesuffix("人民政府")].package for c in below]
        made.append(run(ld.upper(region, base, city, "市级", below, packages, 2, rng), city))
    run(ld.upper(region, base, "丙省", "省级", [c.level for c in made], [c.package for c in made], 2, rng), "丙省")
    return runs


@pytest.fixture(scope="module")
def province(region: ld.Region, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """2 cities x 2 counties x 5 departments."""
    return build_province(region, tmp_path_factory.mktemp("levels"), 2, 2, 5)


def assert_every_level_sums(runs: dict[str, Run]) -> None:
    for key, run in runs.items():
        (lv,) = run.result.levels
        assert lv.unit.name == run.level.name and lv.counts[rollup.IN] == len(lv.coverage)
        (book,) = run.result.level_books
        data = api.read(book)
        assert data.agency == run.level.name
        for k in spec.INPUT_KEYS:
            if k.startswith(("t2.", "t3.", "t4.")):
                assert _number(data.values.get(k)) == _number(run.level.expected.get(k)), (key, k)
        report = api.check(book)  # the same validator an agency's workbook goes through
        assert not [f for f in report.findings if f.severity.value == "error"], (key, report.findings)


def _number(v: Any) -> Decimal:
    return Decimal(0) if v is None else v if isinstance(v, Decimal) else Decimal(repr(v))


def test_every_level_is_the_sum_cell_for_cell_and_passes_the_agency_checks(province: dict[str, Run]) -> None:
    assert len(province) == 7  # 4 counties, 2 cities, 1 province
    assert_every_level_sums(province)
    # a county keeps no 规章; the cities' and the province's come from the governments above the county
    county = api.read(province["甲市东县"].result.level_books[0]).values
    prov = api.read(province["丙省"].result.level_books[0]).values
    assert not county.get("t2.rules.made") and prov.get("t2.rules.made") == province["丙省"].level.expected[
        "t2.rules.made"] > 0
    # the province counts every department below it, once
    assert province["丙省"].level.units == 2 * 2 * 5 + 2 * 2 + 2


def test_the_workbook_states_its_coverage_and_that_the_stock_is_approximate(province: dict[str, Run]) -> None:
    wb = openpyxl.load_workbook(province["甲市"].result.level_books[0], read_only=True)
    rows = [[c for c in r if c is not None] for r in wb["汇总范围"].iter_rows(values_only=True)]
    text = "\n".join(" ".join(map(str, r)) for r in rows)
    assert "汇总范围 5 个单位：已纳入 5 个。" in text and rollup.STOCK_NOTE in text
    assert "甲市东县人民政府" in text and "甲市东县.zip:汇总/" in text
    narrative = api.read(province["甲市"].result.level_books[0]).values
    assert "现行有效件数" in str(narrative["s1.overview"]) and "近似" in str(narrative["s1.overview"])


def test_packages_hold_the_rollup_the_accepted_workbooks_and_verifiable_hashes(province: dict[str, Run]) -> None:
    opened = package_zip.open_package(province["甲市"].package)
    m = opened.manifest
    assert m.unit["name"] == "甲市人民政府" and m.year == ld.YEAR and m.counts[rollup.IN] == 5
    roles = [x.role for x in m.members]
    assert roles.count("rollup") == 1 and roles.count("unit") == 5 and roles.count("coverage") == 1
    with zipfile.ZipFile(province["甲市"].package) as zf:
        for x in m.members:
            assert hashlib.sha256(zf.read(x.path)).hexdigest() == x.sha256
        names = zf.namelist()
    assert "单位/00001-甲市东县人民政府.xlsx" in names and package.MANIFEST in names
    # the county's own package carries its five departments' workbooks, byte for byte
    county = package_zip.open_package(province["甲市东县"].package)
    units = [x for x in county.manifest.members if x.role == "unit"]
    folder = province["甲市东县"].level.folder
    assert sorted(x.sha256 for x in units) == sorted(hashlib.sha256(p.read_bytes()).hexdigest()
                                                     for p in folder.glob("*.xlsx"))


# ---- the property: the roll-up is the sum ---------------------------------------------------------------------

_MONEY = st.integers(0, 10**8).map(lambda n: n / 10000)
_LEVELS = st.sampled_from(spec.LEVELS)
_KINDS = st.sampled_from(spec.AGENCY_KINDS)


@st.composite
def units(draw: st.DrawFn) -> list[tuple[str, str, tuple[Any, ...], str]]:
    n = draw(st.integers(1, 8))
    out = []
    keys = st.sampled_from(("t2.fees.amount", "t2.rules.made", "t2.rules.in_force", *TABLE_KEYS))
    for _ in range(n):
        cells = draw(st.dictionaries(keys, st.one_of(st.none(), st.integers(0, 10**6)), max_size=12))
        cells["t2.fees.amount"] = draw(_MONEY)
        values = tuple(cells.get(k) for k in TABLE_KEYS)
        out.append((draw(_KINDS), draw(_LEVELS), values, draw(st.sampled_from(rollup.STATES))))
    return out


@given(units())
def test_rollup_equals_the_sum_cell_for_cell(drawn: list[tuple[str, str, tuple[Any, ...], str]]) -> None:
    top = Agency("汇总单位", spec.KIND_GOVERNMENT, "市级", uid="TOP", scope="汇总")
    kids = tuple(Agency(f"单位{i}", kind, level, uid=f"U{i}", parent="TOP") for i, (kind, level, _, _) in
                 enumerate(drawn))
    reports = {f"U{i}": rollup.UnitReport(state, values) for i, (_, _, values, state) in enumerate(drawn)}
    (r,) = rollup.roll_up(Roster((top, *kids)), reports, year=2023)
    expected = {k: Decimal(0) for k in TABLE_KEYS}
    for kind, level, values, state in drawn:
        if state not in (rollup.IN, rollup.LATE):
            continue
        for k, v in zip(TABLE_KEYS, values, strict=True):
            if k.startswith("t2.rules.") and not (kind == "人民政府" and level in ("省级", "市级")):
                continue
            expected[k] += _number(v)
    assert {k: _number(v) for k, v in r.values.items()} == expected
    assert sum(r.counts.values()) == len(drawn)


def test_money_is_summed_without_float_drift() -> None:
    at = TABLE_KEYS.index("t2.fees.amount")
    parts = [(tuple(0.0001 if i == at else None for i in range(len(TABLE_KEYS))), True)] * 10000
    assert collect.exact_sums(parts)["t2.fees.amount"] == 1.0  # float addition gives 0.9999999999999062
    assert sum([0.0001] * 10000) != 1.0


# ---- coverage: missing, not accepted, late; the published 汇总 report compared --------------------------------

@pytest.fixture
def county_with_gaps(region: ld.Region, tmp_path: Path) -> ld.Level:
    lv = ld.county(region, tmp_path, "丁县", 5, random.Random(5))
    (lv.folder / "00004.xlsx").unlink()  # 交通运输局 sends nothing
    region.write_unit(lv.folder, "00003.xlsx", {"meta.agency": "司法局", "meta.kind": "政府部门", "meta.level": "县级",
                                                "meta.year": ld.YEAR, "t3.new.natural": "/"})  # not accepted
    return lv


def test_coverage_names_the_missing_and_not_accepted_and_they_are_not_summed(county_with_gaps: ld.Level,
                                                                           tmp_path: Path) -> None:
    res = api.collect(county_with_gaps.folder, county_with_gaps.roster, tmp_path / "out.xlsx", workers=1)
    (lv,) = res.levels
    states = {c.name: c.state for c in lv.coverage}
    assert states["交通运输局"] == rollup.MISSING and states["司法局"] == rollup.REJECTED
    assert lv.counts == {rollup.IN: 3, rollup.LATE: 0, rollup.MISSING: 1, rollup.REJECTED: 1}
    assert lv.coverage_zh() == "汇总范围 5 个单位：已纳入 3 个，未报送 1 个，未通过 1 个。"
    book = api.read(res.level_books[0]).values
    included = [p for p in sorted(county_with_gaps.folder.glob("*.xlsx")) if p.name not in ("00003.xlsx",)]
    assert book["t2.licensing.count"] == sum(int(api.read(p).values["t2.licensing.count"] or 0) for p in included)
    assert "1 个单位未报送、1 个单位的报告未通过校验" in str(book["s5.problems"])


def test_late_units_are_in_and_said_to_be_late(region: ld.Region, tmp_path: Path) -> None:
    lv = ld.county(region, tmp_path, "戊县", 5, random.Random(6))
    res = api.collect(lv.folder, lv.roster, tmp_path / "out.xlsx", deadline="2024-01-10", workers=1)
    (r,) = res.levels
    assert r.counts[rollup.LATE] == 5 and "其中逾期 5 个" in r.coverage_zh()
    assert api.read(res.level_books[0]).values["t2.licensing.count"] == lv.expected["t2.licensing.count"]


def test_own_published_rollup_differences_are_warnings_with_the_coverage(county_with_gaps: ld.Level,
                                                                        region: ld.Region, tmp_path: Path) -> None:
    lv = county_with_gaps
    region.write_unit(lv.folder, "published.xlsx", {"meta.agency": "丁县人民政府", "meta.kind": "人民政府",
                                                    "meta.level": "县级", "meta.year": ld.YEAR,
                                                    "t2.licensing.count": 123456})
    r = run_cli("collect", lv.folder, "--roster", lv.roster, "-o", tmp_path / "out.xlsx", "--json")
    doc = json.loads(r.stdout)
    (level,) = doc["levels"]
    assert level["published"].endswith("published.xlsx")
    warnings = "\n".join(level["warnings"])
    assert "提示，不是错误" in warnings and "汇总范围 5 个单位：已纳入 3 个，未报送 1 个，未通过 1 个。" in warnings
    assert "交通运输局" in warnings and "发布的汇总报告为 123456" in warnings
    # the published report is compared, not counted, and not a file the tracker rejects
    assert all(row["agency"] != "丁县人民政府" for row in doc["rows"])
    assert r.returncode == 1  # for the missing and failing departments only
    wb = openpyxl.load_workbook(doc["level_books"][0], read_only=True)
    text = " ".join(str(c) for row in wb["汇总范围"].iter_rows(values_only=True) for c in row if c)
    assert "发布的汇总报告为 123456" in text


# ---- hostile packages -----------------------------------------------------------------------------------------

def _rezip(src: Path, out: Path, change: dict[str, bytes | None], *, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change.get(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return out


def _manifest_with(src: Path, name: str, data: bytes) -> bytes:
    """The manifest of ``src`` listing one more member ``name`` with the right hash (so only its name is wrong)."""
    with zipfile.ZipFile(src) as zf:
        m = json.loads(zf.read(package.MANIFEST))
    m["members"].append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                         "role": "unit"})
    return json.dumps(m, ensure_ascii=False).encode()


def hostile(src: Path, tmp: Path) -> Iterator[tuple[str, Path, str]]:
    """(case, package, what the refusal must say)."""
    with zipfile.ZipFile(src) as zf:
        member = next(n for n in zf.namelist() if n.startswith("单位/"))
    yield "tampered", _rezip(src, tmp / "tampered.zip", {member: b"PK not the workbook"}), f"成员“{member}”的"
    evil = "../../evil.xlsx"
    yield "traversal", _rezip(src, tmp / "traversal.zip", {package.MANIFEST: _manifest_with(src, evil, b"x")},
                              extra={evil: b"x"}), "路径不安全"
    bomb = b"\0" * (8 << 20)
    yield "bomb", _rezip(src, tmp / "bomb.zip", {package.MANIFEST: _manifest_with(src, "单位/bomb.xlsx", bomb)},
                         extra={"单位/bomb.xlsx": bomb}), "疑为压缩炸弹"
    yield "unlisted", _rezip(src, tmp / "unlisted.zip", {}, extra={"单位/extra.xlsx": b"x"}), "不在清单中"
    yield "no manifest", _rezip(src, tmp / "nomanifest.zip", {package.MANIFEST: None}), "没有清单"
    (tmp / "notzip.zip").write_bytes(b"not a zip at all")
    yield "not a zip", tmp / "notzip.zip", "无法打开上报包"


def test_hostile_packages_are_refused_naming_package_and_member(province: dict[str, Run], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    src = province["甲市东县"].package
    for case, pkg, said in hostile(src, tmp_path):
        with pytest.raises(PackageError) as exc:
            package_zip.open_package(pkg)
        assert str(pkg) in str(exc.value) and said in str(exc.value), (case, str(exc.value))
    monkeypatch.setattr(package_zip, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(PackageError, match="超过上限 1000 字节"):
        package_zip.open_package(src)


def test_a_refused_package_is_a_row_of_the_city_tracker_not_a_crash(province: dict[str, Run], tmp_path: Path) -> None:
    city = province["甲市"].level
    folder = tmp_path / "city"
    folder.mkdir()
    for p in city.folder.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
        os.utime(folder / p.name, (p.stat().st_mtime, p.stat().st_mtime))
    bad = folder / "甲市东县.zip"
    with zipfile.ZipFile(bad) as zf:
        member = next(n for n in zf.namelist() if n.startswith("单位/"))
        data = zf.read(member)
    _rezip(province["甲市东县"].package, bad, {member: data[:-1] + bytes([data[-1] ^ 1])})  # same size, one bit
    r = run_cli("collect", folder, "--roster", city.roster, "-o", tmp_path / "out.xlsx", "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 1
    refused = next(row for row in doc["rows"] if row["path"] == str(bad))
    assert refused["verdict"] == "unreadable" and member in refused["note"] and "SHA-256" in refused["note"]
    (level,) = doc["levels"]
    assert {c["name"]: c["state"] for c in level["coverage"]}["甲市东县人民政府"] == "missing"


def test_cli_package_flag(province: dict[str, Run], tmp_path: Path) -> None:
    lv = province["甲市东县"].level
    r = run_cli("collect", lv.folder, "--roster", lv.roster, "-o", tmp_path / "out.xlsx", "--package",
                tmp_path / "up.zip")
    assert r.returncode == 0 and f"上报包：{tmp_path / 'up.zip'}" in r.stdout
    assert package_zip.open_package(tmp_path / "up.zip").manifest.unit["name"] == lv.name
    r = run_cli("collect", lv.folder, "--roster", lv.roster, "-o", tmp_path / "out.xlsx", "--package",
                tmp_path / "up.txt")
    assert r.returncode == 2 and "上报包应以 .zip 结尾" in r.stderr


def test_package_manifest_refuses_what_it_cannot_trust() -> None:
    good = package.Manifest(2023, {"name": "甲"}, "汇总/a.xlsx", package.COVERAGE,
                            (package.Member("汇总/a.xlsx", "0" * 64, 1, "rollup"),), {}).to_json()
    assert package.parse_manifest(good, "p.zip").rollup == "汇总/a.xlsx"
    for raw, said in ((b"\xff", "不是 UTF-8"), (b"[]", "格式标识不符"),
                      (good.replace(b'"version": 1', b'"version": 9'), "版本"),
                      (good.replace("汇总/a.xlsx".encode(), b"/etc/passwd"), "路径不安全")):
        with pytest.raises(PackageError, match=said):
            package.parse_manifest(raw, "p.zip")
    assert not package.safe_member("a/../b") and not package.safe_member("C:/x") and package.safe_member("单位/a.xlsx")


def test_a_rollup_with_every_unit_missing_is_still_a_workbook_that_passes(tmp_path: Path) -> None:
    top = Agency("空县人民政府", spec.KIND_GOVERNMENT, "县级", uid="E", scope="汇总")
    (r,) = rollup.roll_up(Roster((top, Agency("财政局", "政府部门", "县级", uid="F", parent="E"))), {}, year=2023)
    from xl_addin.adapters.rollup_book import write_rollup_book

    path = write_rollup_book(r, tmp_path / "empty.xlsx")
    assert r.counts[rollup.MISSING] == 1 and all(v == 0 for v in r.values.values())
    assert not [f for f in api.check(path).findings if f.severity.value == "error"]
    assert "汇总范围内有 1 个单位未报送" in str(api.read(path).values["s5.problems"])


# ---- the county server's package ------------------------------------------------------------------------------

def test_the_server_s_package_download_is_the_coordinator_s_and_feeds_the_city(region: ld.Region,
                                                                              tmp_path: Path) -> None:
    import re

    import httpx
    from test_round_pages import serving

    from xl_addin import round_pages, server
    from xl_addin.rounds import Settings

    names = ("将乐县财政局", "将乐县教育局", "将乐县民政局")
    roster = Roster(tuple(Agency(n, "政府部门", "县级", "联系人") for n in names))
    rng = random.Random(9)
    expected: dict[str, Any] = {}
    with serving(server.Config(data_dir=tmp_path / "data", token="t" * 40,
                               round=Settings(ld.YEAR, roster, county="将乐县"))) as (base, county):
        keys = county.issue_keys()
        for name in names[:2]:  # the third submits nothing
            values = region.unit_values(rng, name, "政府部门", "县级")
            data = region.patcher.patch(values)
            assert county.submit(data, "年报.xlsx", keys[name]).status == 201
            assert county.review(name, "accept", None).ok
            ld.add(expected, region.inputs(values), rules=False)
        assert county.coordinator_token_file is not None
        token = county.coordinator_token_file.read_text(encoding="utf-8").strip()
        with httpx.Client(base_url=base, timeout=60) as c:
            path = round_pages.PREFIX + "/coordinator/login"
            csrf = re.search(r'name="csrf" value="([^"]+)"', c.get(path).text)
            assert csrf and c.post(path, data={"csrf": csrf.group(1), "key": token}).status_code == 303
            assert "/board/package.zip" in c.get(round_pages.PREFIX + "/board").text
            r = c.get(round_pages.PREFIX + "/board/package.zip")
        with httpx.Client(base_url=base, timeout=60) as c:  # an agency's session may not
            path = round_pages.PREFIX + "/login"
            csrf = re.search(r'name="csrf" value="([^"]+)"', c.get(path).text)
            assert csrf and c.post(path, data={"csrf": csrf.group(1), "key": keys[names[0]]}).status_code == 303
            assert c.get(round_pages.PREFIX + "/board/package.zip").status_code == 403
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    city = tmp_path / "city"
    city.mkdir()
    (city / "将乐县.zip").write_bytes(r.content)
    m = package_zip.open_package(city / "将乐县.zip").manifest
    assert m.unit["name"] == "将乐县人民政府" and [x.name for x in m.members if x.role == "unit"] == list(names[:2])
    assert m.counts[rollup.MISSING] == 1
    # the city reads the county's 汇总 from the package
    ld.write_roster(tmp_path / "市名单.csv", [("三明市人民政府", "人民政府", "市级", "", "汇总", ""),
                                             ("将乐县人民政府", "人民政府", "县级", "三明市人民政府", "汇总", "")])
    res = api.collect(city, tmp_path / "市名单.csv", tmp_path / "out.xlsx", workers=1)
    got = api.read(res.level_books[0]).values
    assert all(_number(got.get(k)) == _number(expected.get(k)) for k in spec.INPUT_KEYS if k.startswith("t"))


def test_a_real_published_district_report_is_compared_and_differences_are_only_warnings(region: ld.Region,
                                                                                        tmp_path: Path) -> None:
    """洪泽区人民政府's published 2023 report (PDF, ../shared) against the sum of three of its departments."""
    from conftest import SHARED

    folder = tmp_path / "洪泽区"
    folder.mkdir()
    pdf = SHARED / "examples" / "published" / "hongze-district-gov-2023.pdf"
    (folder / pdf.name).write_bytes(pdf.read_bytes())
    rows: list[tuple[str, ...]] = [("洪泽区人民政府", "人民政府", "县级", "", "汇总", "")]
    rng = random.Random(3)
    for i, dept in enumerate(("洪泽区财政局", "洪泽区教育局", "洪泽区民政局")):
        region.write_unit(folder, f"{i}.xlsx", region.unit_values(rng, dept, "政府部门", "县级"))
        rows.append((dept, "政府部门", "县级", "洪泽区人民政府", "本级", ""))
    res = api.collect(folder, ld.write_roster(tmp_path / "名单.csv", rows), tmp_path / "out.xlsx", workers=1)
    (lv,) = res.levels
    assert lv.published.endswith(pdf.name) and lv.differences > 0
    head = f"本单位发布的汇总报告与汇总范围内各单位报表之和有 {lv.differences} 处不同（提示，不是错误）"
    assert lv.warnings[0].startswith(head)
    assert "汇总范围 3 个单位：已纳入 3 个。" in lv.warnings[0]
    assert any("行政许可" in w and "发布的汇总报告为 550。" in w for w in lv.warnings)
    assert res.ok and all(row.path != str(folder / pdf.name) for row in res.rows)  # compared, not a failed file


def test_a_city_round_on_the_server_takes_the_counties_packages(province: dict[str, Run], tmp_path: Path) -> None:
    from xl_addin.rounds import County

    counties = ("甲市东县", "甲市西县")
    roster = Roster((*(Agency(f"{c}人民政府", spec.KIND_GOVERNMENT, "县级") for c in counties),
                     Agency("甲市财政局", "政府部门", "市级")))
    with County.open(tmp_path / "round", year=ld.YEAR, roster=roster, county="甲市") as city:
        keys = city.issue_keys()
        for c in counties:
            got = city.submit(province[c].package.read_bytes(), f"{c}.zip", keys[f"{c}人民政府"])
            assert got.status == 201, got.message
            assert city.review(f"{c}人民政府", "accept", None).ok
        tampered = bytearray(province[counties[0]].package.read_bytes())
        tampered[200] ^= 1  # inside the first member's bytes
        refused = city.submit(bytes(tampered), "改过.zip", keys[f"{counties[0]}人民政府"])
        assert refused.status == 422 and "改过.zip" in refused.message
        out = city.package(tmp_path / "甲市.zip")
    m = package_zip.open_package(out).manifest
    assert m.unit["name"] == "甲市人民政府" and m.unit["level"] == "市级"
    # (submitted today, after the statutory deadline of the report year: late, and in)
    assert m.counts[rollup.LATE] == 2 and m.counts[rollup.MISSING] == 1  # 甲市财政局 submitted nothing
    with zipfile.ZipFile(out) as zf:
        book = tmp_path / "book.xlsx"
        book.write_bytes(zf.read(m.rollup))
    want: dict[str, Any] = {}
    for c in counties:
        ld.add(want, province[c].level.expected, rules=False)
    got_values = api.read(book).values
    assert all(_number(got_values.get(k)) == _number(want.get(k)) for k in spec.INPUT_KEYS if k.startswith("t"))


def test_a_second_run_with_the_output_inside_the_folder_does_not_read_its_own_books(region: ld.Region,
                                                                                    tmp_path: Path) -> None:
    lv = ld.county(region, tmp_path, "庚县", 3, random.Random(7))
    for _ in range(2):
        res = api.collect(lv.folder, lv.roster, lv.folder / "out.xlsx", package=lv.folder / "up.zip", workers=1)
        (level,) = res.levels
        assert level.published == "" and len(res.files) == 3  # its own 汇总 workbook is no input
    assert res.ok and package_zip.open_package(lv.folder / "up.zip").manifest.counts[rollup.IN] == 3


@pytest.mark.heavy
def test_a_larger_province_sums_at_every_level(region: ld.Region, tmp_path: Path) -> None:
    """The same chain at 3 x 4 x 60 (720 departments, 12 counties, 3 cities)."""
    runs = build_province(region, tmp_path, 3, 4, 60, seed=23)
    assert len(runs) == 3 * 4 + 3 + 1 and runs["丙省"].level.units == 3 * 4 * 60 + 3 * 2 + 2  # + departments
    assert_every_level_sums(runs)


# ---- the roster's 报告范围 reaches T1 (issue 22 item 4) ---------------------------------------------------------------

def _government_report(tmp_path: Path) -> tuple[Path, str]:
    """A county government's workbook whose narrative quotes the 本级 office's count (99), not the table's."""
    region = ld.Region()
    gov = "将乐县人民政府"
    values = {**region.unit_values(random.Random(7), gov, spec.KIND_GOVERNMENT, "县级"),
              "s1.on_request": "县政府办公室代表县政府受理政府信息公开申请99件，均在法定期限内答复。"}
    (tmp_path / "in").mkdir()
    return region.write_unit(tmp_path / "in", "gov.xlsx", values), gov


def test_the_rosters_scope_decides_t1_for_a_sentence_about_the_own_office(tmp_path: Path) -> None:
    from xl_addin import bulk, checking

    path, gov = _government_report(tmp_path)
    alone = {f.code for f in bulk.examine_all([path], workers=1)[0].findings if f.rule == "T1"}
    assert "T1.scope" not in alone  # the text alone cannot tell a 人民政府's report is 汇总
    told = bulk.examine_all([path], workers=1, priors={collect.name_key(gov): {"report_scope": "汇总"}})[0]
    (f,) = [f for f in told.findings if f.code == "T1.scope"]
    assert f.severity.value == "warning" and "名册“报告范围”为汇总" in f.message and "99" in f.message
    # the scope is the report's, not a figure of last year's
    data = checking.with_prior(api.read(path), {"report_scope": "汇总", "t3.carried_out.total": 4})
    assert data.props["report_scope"] == "汇总" and "report_scope" not in data.prior


def test_collect_hands_the_rosters_scope_to_the_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xl_addin import bulk

    path, gov = _government_report(tmp_path)
    roster = ld.write_roster(tmp_path / "名单.csv", [(gov, "人民政府", "县级", "", "汇总", ""),
                                                     ("将乐县财政局", "政府部门", "县级", gov, "本级", "")])
    seen: dict[str, Any] = {}
    real = bulk.examine_all

    def spy(paths: Any, **kw: Any) -> Any:
        seen.update(kw.get("priors") or {})
        return real(paths, **kw)

    monkeypatch.setattr(bulk, "examine_all", spy)
    api.collect(path.parent, roster, tmp_path / "out.xlsx", workers=1)
    assert seen[collect.name_key(gov)]["report_scope"] == "汇总"
    assert seen[collect.name_key("将乐县财政局")]["report_scope"] == "本级"


def test_the_coverage_sheet_keeps_names_readable_whatever_characters_they_hold(tmp_path: Path) -> None:
    """The 汇总范围 sheet (the summary workbook's row writer): a control character in a name becomes a space (XML
    cannot hold it), a leading space, "&" and "<" stay, the sequence numbers are numbers; Excel's reader opens it."""
    from xl_addin.adapters.rollup_book import write_rollup_book

    unit = Agency("甲县人民政府", "人民政府", "县级", scope="汇总")
    covered = (rollup.Covered("U1", "财政\x0b局", "政府部门", "县级", "本级", rollup.IN),
               rollup.Covered("U2", " 教育局 & <民政>", "政府部门", "县级", "本级", rollup.IN, note="a\rb"))
    path = write_rollup_book(rollup.UnitRollup(unit, {}, {}, covered, 2023), tmp_path / "汇总.xlsx")
    rows = [r for r in openpyxl.load_workbook(path)["汇总范围"].iter_rows(values_only=True) if r[0] in (1, 2)]
    assert [r[:3] for r in rows] == [(1, "U1", "财政 局"), (2, "U2", " 教育局 & <民政>")]
    assert rows[1][7] == "a b"
