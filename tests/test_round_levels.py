"""The city's (or county's) coordinator on the server with a levelled roster (issue 22): a lower 汇总 unit's upward
package of several MB over real HTTP (the API and the upload page), the round's own 汇总 unit shown as such and
not as missing, distribute handing templates only to units that fill one, the profile's earlier deadline on the
board, and the cross-unit copy pairs on the board (Chromium, axe-core)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import os
import random
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
sys.path.insert(0, str(Path(__file__).parent))
import levels_data as ld  # noqa: E402
from conftest import CST, Clock, cli  # noqa: E402
from test_round_pages import FLAGS, OFFICE, axe_violations, need, serving, sync_api  # noqa: E402

from xl_addin import api, coordinator, round_pages, rounds, server, spec  # noqa: E402
from xl_addin.adapters import package_zip  # noqa: E402
from xl_addin.profiles import Profile  # noqa: E402
from xl_addin.rounds import County, Settings  # noqa: E402

CITY = "三明市人民政府"
BIG, SMALL = "将乐县", "明溪县"  # two counties: the big one's package is several MB
FIN, EDU = "三明市财政局", "三明市教育局"  # the city's departments; EDU copied most of FIN's texts
TOKEN = "t0ken-for-round-levels-" + "x" * 30
PROFILE = Profile(name="三明", title="三明市年报考核规则", deadlines={"department": (1, 10)},
                  thresholds={"cross_unit.repeated_percent": 40})


@dataclasses.dataclass
class City:
    base: str
    county: County
    tmp: Path
    roster: Path
    packages: dict[str, Path]
    keys: dict[str, str]
    token: str
    region: ld.Region

    def url(self, path: str) -> str:
        return self.base + round_pages.PREFIX + path


def login(c: Any, path: str, secret: str) -> None:
    page = c.get(round_pages.PREFIX + path)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf and c.post(round_pages.PREFIX + path, data={"csrf": csrf.group(1), "key": secret}).status_code == 303


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    tmp = tmp_path_factory.mktemp("city")
    region = ld.Region()
    rng = random.Random(22)
    packages = {}
    for name, n in ((BIG, 48), (SMALL, 3)):  # each county's package made as `collect --package` makes it
        lv = ld.county(region, tmp, name, n, rng)
        api.collect(lv.folder, lv.roster, tmp / f"{name}.xlsx", package=tmp / f"{name}.zip", workers=1)
        packages[name] = tmp / f"{name}.zip"
    roster = ld.write_roster(tmp / "市名单.csv", [
        (CITY, "人民政府", "市级", "", "汇总", ""),
        (f"{BIG}人民政府", "人民政府", "县级", CITY, "汇总", ""),
        (f"{SMALL}人民政府", "人民政府", "县级", CITY, "汇总", ""),
        (FIN, "政府部门", "市级", CITY, "本级", ""),
        (EDU, "政府部门", "市级", CITY, "本级", ""),
        ("三明市民政局", "政府部门", "市级", CITY, "本级", "")])
    settings = Settings(ld.YEAR, api.read_roster(roster), county="三明市", profile=PROFILE)
    with serving(server.Config(data_dir=tmp / "data", token=TOKEN, round=settings)) as (base, county):
        county.store.clock = Clock(dt.datetime(2024, 1, 20, 9, 0, tzinfo=CST))  # after the profile's 1月10日
        keys = county.issue_keys()
        assert county.coordinator_token_file is not None
        token = county.coordinator_token_file.read_text(encoding="utf-8").strip()
        yield City(base, county, tmp, roster, packages, keys, token, region)


def test_a_county_package_of_several_mb_is_taken_over_the_api_and_the_upload_page(city: City) -> None:
    big = city.packages[BIG].read_bytes()
    assert len(big) > 3 * 1024 * 1024 > server.MAX_BODY  # several MB: over the workbook limit
    api_url = city.base + "/round/api/submit"
    auth = {"Authorization": f"Bearer {city.keys[f'{BIG}人民政府']}"}
    # the same bytes as a workbook: the workbook limit is kept
    as_book = httpx.post(api_url, params={"filename": "年报.xlsx"}, content=big, headers=auth, timeout=60)
    assert as_book.status_code == 413 and "工作簿数据过大" in as_book.text
    r = httpx.post(api_url, params={"filename": f"{BIG}上报包.zip"}, content=big, headers=auth, timeout=60)
    assert r.status_code == 201, r.text
    assert r.json()["agency"] == f"{BIG}人民政府" and "已提交第1版" in r.json()["message"]
    # the smaller county uploads its package on the web page (its page offers .zip)
    with httpx.Client(base_url=city.base, timeout=60) as c:
        login(c, "/login", city.keys[f"{SMALL}人民政府"])
        page = c.get(round_pages.PREFIX + "/agency")
        assert "上报包（.zip）" in page.text and ".zip,application/zip" in page.text
        files = {"workbook": (f"{SMALL}.zip", city.packages[SMALL].read_bytes(), "application/zip")}
        done = c.post(round_pages.PREFIX + "/agency/upload", data={"csrf": csrf_of(page.text), "do": "submit"},
                      files=files)
        assert done.status_code == 303 and "done=1" in done.headers["location"]
    assert city.county.status(f"{SMALL}人民政府").versions == 1
    assert city.county.status(f"{BIG}人民政府").versions == 1


def test_a_package_checked_only_on_the_upload_page_is_its_rollup_checked_not_refused_as_no_workbook(
        city: City) -> None:
    """仅校验 with a county's package (the page offers .zip to it) checks the package's 汇总 workbook, as 校验并提交
    does: not "不是工作簿"; nothing is kept. A damaged package is refused in Chinese naming it."""
    name = f"{SMALL}人民政府"
    before = city.county.status(name).versions
    data = city.packages[SMALL].read_bytes()
    with httpx.Client(base_url=city.base, timeout=60) as c:
        login(c, "/login", city.keys[name])
        page = c.get(round_pages.PREFIX + "/agency")
        checked = c.post(round_pages.PREFIX + "/agency/upload", data={"csrf": csrf_of(page.text), "do": "check"},
                         files={"workbook": (f"{SMALL}.zip", data, "application/zip")})
        assert checked.status_code == 200, checked.text
        assert "不是工作簿" not in checked.text and "校验结果" in checked.text
        assert re.search(r"错误 0 个，警告 \d+ 个", checked.text) and "没有错误，可以提交" in checked.text
        broken = c.post(round_pages.PREFIX + "/agency/upload", data={"csrf": csrf_of(checked.text), "do": "check"},
                        files={"workbook": ("坏包.zip", data[: len(data) // 2], "application/zip")})
        assert broken.status_code == 200 and "坏包.zip" in broken.text and "不是工作簿" not in broken.text
    assert city.county.status(name).versions == before


def test_a_package_past_its_own_limit_is_413_in_chinese_on_the_api_and_the_page(city: City) -> None:
    big = city.packages[BIG].read_bytes()
    kept = city.county.max_package
    city.county.max_package = 1024 * 1024  # as `serve --max-package-mb 1`
    try:
        auth = {"Authorization": f"Bearer {city.keys[f'{BIG}人民政府']}"}
        r = httpx.post(city.base + "/round/api/submit", params={"filename": "包.zip"}, content=big, headers=auth,
                       timeout=60)
        assert r.status_code == 413 and "上报包过大（超过 1 MB）" in r.text and "--max-package-mb" in r.text
        with httpx.Client(base_url=city.base, timeout=60) as c:
            login(c, "/login", city.keys[f"{BIG}人民政府"])
            page = c.get(round_pages.PREFIX + "/agency")
            refused = c.post(round_pages.PREFIX + "/agency/upload",
                             data={"csrf": csrf_of(page.text), "do": "submit"},
                             files={"workbook": ("包.zip", big, "application/zip")})
            assert refused.status_code == 413 and "上报包过大（超过 1 MB）" in refused.text
    finally:
        city.county.max_package = kept
    assert city.county.status(f"{BIG}人民政府").versions == 1  # nothing kept


def test_an_upload_past_both_limits_on_the_page_names_both_not_the_package_limit_as_a_workbook_s(
        city: City) -> None:
    """A body past what the upload page reads at all is refused before it is read: the answer gives the workbook's
    limit and the package's, not "工作簿数据过大（超过 <the package's limit>）"."""
    kept = city.county.max_package
    city.county.max_package = 1024 * 1024  # as `serve --max-package-mb 1`: the page reads up to 8 MB then
    try:
        with httpx.Client(base_url=city.base, timeout=60) as c:
            login(c, "/login", city.keys[f"{SMALL}人民政府"])
            page = c.get(round_pages.PREFIX + "/agency")
            huge = b"PK" + b"\0" * (round_pages.MAX_UPLOAD + 128 * 1024)
            refused = c.post(round_pages.PREFIX + "/agency/upload", data={"csrf": csrf_of(page.text), "do": "submit"},
                             files={"workbook": ("年报.xlsx", huge, round_pages.XLSX_TYPE)})
    finally:
        city.county.max_package = kept
    assert refused.status_code == 413
    assert "年报工作簿不超过 8 MB" in refused.text and "上报包（.zip）不超过 1 MB" in refused.text, refused.text


def _department(city: City, name: str, **texts: str) -> bytes:
    values = city.region.unit_values(random.Random(name), name, "政府部门", "市级")
    # dated by the profile's 1月10日 (P1), submitted on the server later: 逾期
    return city.region.patcher.patch({**values, "meta.report_date": dt.date(ld.YEAR + 1, 1, 8), **texts})


def test_the_board_shows_the_rounds_own_rollup_unit_the_profile_deadline_and_the_copy_pairs(
        city: City, tmp_path: Path) -> None:
    fin = _department(city, FIN)
    edu = _department(city, EDU, **{  # section 一 partly its own: a near copy, not the same text
        "s1.overview": "2023年，市教育局围绕教育重点工作推进政务公开，聚焦招生入学、学校收费、教师招聘等社会关注事项。",
        "s1.proactive": "全年通过市政府门户网站教育专栏公开招生政策、学校名录和资助政策等信息112条，政策解读8篇。"})
    for name, data in ((FIN, fin), (EDU, edu)):
        got = city.county.submit(data, "年报.xlsx", city.keys[name])
        assert got.status == 201, got.message
    assert city.county.review(FIN, "accept", None).ok
    with httpx.Client(base_url=city.base, timeout=60) as c:
        login(c, "/coordinator/login", city.token)
        board = c.get(round_pages.PREFIX + "/board").text
        listed = c.get(city.base + "/round/api/board", headers={"Authorization": f"Bearer {city.token}"}).json()
        pkg = c.get(round_pages.PREFIX + "/board/package.zip")
    # the round's own 汇总 unit: not an agency that has not submitted, shown with the coverage
    names = [a["name"] for a in listed["agencies"]]
    assert CITY not in names and len(names) == 5
    assert f"本轮汇总单位：{CITY}" in board and "名单共 5 个机关：未提交 1" in board
    assert "汇总范围 5 个单位：已通过 1 个（计入汇总），待审核 3 个" in board
    assert board.count("下级汇总单位：报送上报包") == 2  # the counties send packages
    # the profile's earlier deadline of departments decides 逾期, and the board says who set it
    assert f"政府部门 {ld.YEAR + 1}-01-10" in board and "规则配置“三明市年报考核规则”（三明）规定" in board
    fin_row = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{FIN}</a>.*?</tr>", board, re.S)
    county_row = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{BIG}人民政府</a>.*?</tr>", board, re.S)
    assert fin_row and "逾期" in fin_row.group(0) and f"{ld.YEAR + 1}-01-10" in fin_row.group(0)
    assert county_row and "按时" in county_row.group(0)  # 人民政府: 3月31日, the profile leaves it
    # the copy pairs: the bar is the profile's, the passages side by side
    assert "超过 40%（规则配置“三明市年报考核规则”规定）" in board
    one = re.search(rf"<summary>{FIN}（第1版）与 {EDU}（第1版）：第一部分“[^”]+”重复 (\d+)%</summary>", board)
    assert one and 40 < int(one.group(1)) < 100, board[board.find("copies-h"):][:3000]
    assert "调整充实政务公开工作领导小组" in board  # a passage both wrote
    # the upward package is the city's 汇总 unit's, the unit itself not counted missing
    assert pkg.status_code == 200
    out = tmp_path / "city.zip"
    out.write_bytes(pkg.content)
    m = package_zip.open_package(out).manifest
    assert m.unit["name"] == CITY and m.unit["level"] == "市级"
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if CITY in n and n.startswith("单位/")]
    assert sum(m.counts.values()) == 5

def test_board_json_carries_what_the_board_page_shows(city: City) -> None:
    """A coordinator's script reads the board as JSON (``board --json``, /round/api/board): the round's own 汇总
    unit, the deadline 逾期 follows and the copy pairs with their passages are there, as the page shows them
    (the departments the test above submitted)."""
    with httpx.Client(base_url=city.base, timeout=60) as c:
        doc = c.get("/round/api/board", headers={"Authorization": f"Bearer {city.token}"}).json()
        login(c, "/coordinator/login", city.token)
        page = html.unescape(c.get(round_pages.PREFIX + "/board").text)
    assert [u["name"] for u in doc["rollup_units"]] == [CITY]
    assert CITY not in [a["name"] for a in doc["agencies"]]
    assert f"政府部门 {ld.YEAR + 1}-01-10" in doc["deadline"] and "三明" in doc["deadline"]
    assert doc["copy_percent"] == 40
    pair = next(p for p in doc["copy_pairs"] if {p["a"], p["b"]} == {FIN, EDU} and p["section"] == "一")
    assert 0.4 < max(pair["share_a"], pair["share_b"]) < 1
    assert f"重复 {round(max(pair['share_a'], pair['share_b']) * 100)}%" in page
    assert any("调整充实政务公开工作领导小组" in side for p in pair["passages"] for side in p.values())
    # `xl-addin board` without --json says the same in lines
    assert city.county.coordinator_token_file is not None
    text = cli("board", "--server", city.base, "--token-file", city.county.coordinator_token_file).stdout
    assert f"本轮汇总单位：{CITY}" in text and doc["deadline"] in text
    assert f"内容雷同（重复超过 40%）：{len(doc['copy_pairs'])} 对" in text
    assert f"第一部分“{pair['title']}”重复 {round(max(pair['share_a'], pair['share_b']) * 100)}%" in text


def test_board_copies_and_the_rollup_unit_in_chromium_pass_axe(city: City) -> None:
    exe = need("chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=FLAGS)
        try:
            ctx = b.new_context(viewport=OFFICE, locale="zh-CN")
            pg = ctx.new_page()
            pg.goto(city.url("/coordinator/login"))
            pg.fill("#key", city.token)
            with pg.expect_navigation():
                pg.keyboard.press("Enter")
            pg.goto(city.url("/board"))
            first = pg.locator("section.copies details").first
            assert not first.locator("table.passages").is_visible()
            first.locator("summary").focus()
            pg.keyboard.press("Enter")  # a <details> opens from the keyboard, no script
            assert first.locator("table.passages").is_visible()
            assert pg.locator("section.rollup-unit h2").inner_text() == f"本轮汇总单位：{CITY}"
            assert not axe_violations(b, city, pg)
            ctx.close()
        finally:
            b.close()


def test_distribute_gives_templates_only_to_units_that_fill_one(city: City, tmp_path: Path) -> None:
    roster = api.read_roster(city.roster)
    roles = coordinator.unit_roles(roster)
    assert roles[collect_key(CITY)] == coordinator.ROLLUP and roles[collect_key(f"{BIG}人民政府")] == coordinator.PACKAGE
    token = tmp_path / "token.txt"
    token.write_text(city.token, encoding="utf-8")
    out = tmp_path / "模板"
    r = cli("distribute", city.roster, "-o", out, "--year", str(ld.YEAR), "--server", city.base, "--token-file", token)
    assert r.returncode == 0, r.stderr
    books = sorted(p.name for p in out.glob("*.xlsx"))
    assert len(books) == 3 and all(FIN in b or EDU in b or "民政局" in b for b in books)
    assert "已为 3 个机关生成" in r.stdout and f"“{CITY}”为汇总单位" in r.stdout and "未生成模板" in r.stdout
    key_files = sorted(out.glob("*上报包报送密钥.txt"))
    assert len(key_files) == 2 and f"“{BIG}人民政府”的报送密钥已写入" in r.stdout
    # the key written for a county works with submit --key-file for its package (a repeat of its version 1)
    key_file = next(k for k in key_files if BIG in k.name)
    sent = cli("submit", city.packages[BIG], "--server", city.base, "--key-file", key_file)
    assert sent.returncode == 0 and "与第1版完全相同" in sent.stdout, sent.stderr
    # the round's own 汇总 unit gets no key from the server
    with pytest.raises(rounds.Denied) as refused:
        city.county.issue_keys([CITY])
    assert refused.value.status == 409 and "由汇总生成" in refused.value.message


def collect_key(name: str) -> str:
    from xl_addin.collect import name_key

    return name_key(name)


def test_an_explicit_deadline_wins_over_the_profile_s(tmp_path: Path) -> None:
    from xl_addin.collect import Agency, Roster, Timeliness

    roster = Roster((Agency("某县财政局", spec.AGENCY_KINDS[1], "县级"),))
    clock = Clock(dt.datetime(2024, 1, 20, 9, 0, tzinfo=CST))
    for deadline, timely, said in ((None, Timeliness.OVERDUE, "规则配置"), (dt.date(2024, 1, 25), Timeliness.NOT_DUE,
                                                                          "--deadline")):
        with County.open(tmp_path / str(deadline), year=ld.YEAR, roster=roster, deadline=deadline, profile=PROFILE,
                         clock=clock) as c:
            (row,) = c.board()
            assert row.timely is timely and said in c.deadline_note()
            assert row.deadline == (deadline or dt.date(ld.YEAR + 1, 1, 10))


def test_serve_hands_the_roles_and_parents_of_a_levelled_roster_to_its_workers(
        city: City, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from xl_addin import cli as cli_module
    from xl_addin.collect import name_key

    made = cli_module._round_settings(str(tmp_path / "data"), str(city.roster), ld.YEAR, None, "三明市", None,
                                      max_package=5 * 1024 * 1024)
    said = capsys.readouterr().out  # the agencies counted as the board counts them, the 汇总 unit said apart
    assert "名单 5 个机关" in said and f"汇总单位：{CITY}" in said, said
    again = Settings.from_json(made.to_json())  # what each worker process builds its county from
    assert again.roster is None and again.max_package == 5 * 1024 * 1024
    assert again.unit_roles() == {name_key(CITY): coordinator.ROLLUP,
                                  name_key(f"{BIG}人民政府"): coordinator.PACKAGE,
                                  name_key(f"{SMALL}人民政府"): coordinator.PACKAGE}
    assert again.unit_parents()[name_key(FIN)] == name_key(CITY)
    with County.from_settings(tmp_path / "data", again) as c:
        assert [a.name for a in c.computed_units()] == [CITY] and CITY not in [r.name for r in c.board()]



def test_serve_refuses_a_roster_whose_round_would_compute_two_levels(tmp_path: Path) -> None:
    """A roster with a 汇总 unit between the top and its departments (city -> county -> the county's own
    departments) would have the server compute two 汇总 units while its board, coverage and package know one: serve
    says so in Chinese, names the units, says what to do, and starts nothing (no data written)."""
    roster = ld.write_roster(tmp_path / "名单.csv", [
        (CITY, "人民政府", "市级", "", "汇总", ""),
        (f"{BIG}人民政府", "人民政府", "县级", CITY, "汇总", ""),
        (f"{BIG}财政局", "政府部门", "县级", f"{BIG}人民政府", "本级", ""),
        (FIN, "政府部门", "市级", CITY, "本级", "")])
    r = cli("serve", "--data-dir", tmp_path / "data", "--token-file", tmp_path / "t.txt", "--roster", roster,
            "--year", str(ld.YEAR))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"2 个由本轮汇总的“汇总”单位（{CITY}、{BIG}人民政府）" in r.stderr and "xl-addin collect" in r.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "t.txt").exists()

def test_a_package_may_take_longer_to_arrive_than_a_workbook(city: City, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A county on a slow line: a workbook must arrive within the server's --request-timeout (408 in Chinese
    otherwise), an upward package -- up to --max-package-mb of it -- is given the time that takes at 1 Mbit/s on
    top; a package that does not come in time is told so as a package, not as a workbook."""
    import time

    settings = Settings(ld.YEAR, api.read_roster(city.roster), county="三明市", profile=PROFILE)
    small = city.packages[SMALL].read_bytes()
    assert len(small) < server.MAX_BODY

    def trickle(pause: float) -> Iterator[bytes]:
        yield small[:len(small) // 2]
        time.sleep(pause)
        yield small[len(small) // 2:]

    with serving(server.Config(data_dir=tmp_path / "data", token=TOKEN, round=settings,
                               request_seconds=1.0)) as (base, county):
        county.store.clock = Clock(dt.datetime(2024, 1, 5, 9, 0, tzinfo=CST))
        auth = {"Authorization": f"Bearer {county.issue_keys()[f'{SMALL}人民政府']}"}
        url = base + "/round/api/submit"
        book = httpx.post(url, params={"filename": "年报.xlsx"}, content=trickle(1.6), headers=auth, timeout=30)
        assert book.status_code == 408 and "工作簿数据没有在 1 秒内传完" in book.text
        pkg = httpx.post(url, params={"filename": "上报包.zip"}, content=trickle(1.6), headers=auth, timeout=30)
        assert pkg.status_code == 201, pkg.text
        assert county.status(f"{SMALL}人民政府").versions == 1
        # a package slower than its own time (here the rate assumed so fast that its time is the server's 1 s):
        # a 408 that speaks of a package, nothing kept
        monkeypatch.setattr(rounds, "PACKAGE_BYTES_PER_SECOND", 1 << 40)
        within = rounds.package_seconds(county.max_package, 1.0)
        assert within < 1.01
        late = httpx.post(url, params={"filename": "上报包.zip"}, content=trickle(1.6), headers=auth, timeout=60)
        assert late.status_code == 408, late.text
        assert late.text.startswith(f"上报包数据没有在 {round(within)} 秒内传完")
        assert county.status(f"{SMALL}人民政府").versions == 1  # nothing kept


def test_two_lower_units_whose_names_clean_alike_get_two_key_files_each_private_from_the_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`distribute --server`: a lower 汇总 unit's key goes into a file of its own. Two units whose names make the
    same file name ("某县/人民政府", "某县:人民政府") must not overwrite each other's key, and a key file is never
    readable by others, not even between its writing and a chmod."""
    import stat

    from xl_addin import cli as cli_module
    from xl_addin.adapters import round_client as rc

    used: set[str] = set()
    one = cli_module._write_key_file(str(tmp_path), 2023, "某县/人民政府", {rc.PROP_KEY: "key-one"}, used)
    two = cli_module._write_key_file(str(tmp_path), 2023, "某县:人民政府", {rc.PROP_KEY: "key-two"}, used)
    assert one != two and one.read_text(encoding="utf-8") == "key-one\n" and two.read_text(encoding="utf-8") == "key-two\n"
    for p in (one, two):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    seen: list[int] = []
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:  # the mode the file has when it takes its name
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    cli_module._write_key_file(str(tmp_path), 2024, "某县人民政府", {rc.PROP_KEY: "k"}, set())
    server.make_token_file(tmp_path / "令牌.txt")
    monkeypatch.undo()
    assert seen == [0o600, 0o600]


def test_the_deadline_note_says_other_deadlines_are_statutory_only_when_some_are(tmp_path: Path) -> None:
    roster = ld.write_roster(tmp_path / "名单.csv", [(FIN, "政府部门", "市级", "", "本级", "")])
    both = Profile(name="两项", title="两项期限", deadlines={"department": (1, 10), "government": (3, 1)})
    for profile, rest in ((PROFILE, True), (both, False)):
        with County.open(tmp_path / profile.name, year=ld.YEAR, roster=api.read_roster(roster),
                         profile=profile) as c:
            note = c.deadline_note()
        assert f"规则配置“{profile.title}”" in note and ("其余为法定期限" in note) is rest, note
