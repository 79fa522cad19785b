"""The round's pages (issue 20) in a real browser: Playwright drives Debian's Chromium against the server running
in this process (uvicorn in a thread, the app of ``xl-addin serve`` with the round's pages), keyboard only where a
person would type (Tab, Enter, Space through login, upload, return, accept). axe-core checks every page at an
office screen's size and a phone's; screenshots are kept in tests/output/round/.

Chromium comes from Debian (``apt-get install chromium``), never from ``playwright install`` (the intranet has
no internet); axe-core from npm into tests/tools/node_modules. Missing, these tests fail in CI and are skipped
elsewhere (conftest.need). Playwright's sync API runs an event loop in this thread while it is started, so the
browser is started and stopped by this module (not pytest-playwright's session-wide fixture, which would keep the
loop running for later modules' ``asyncio.run``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
httpx = pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")
from conftest import IN_CI, Clock, need, playwright_sync_api  # noqa: E402
from test_server import start, stop  # noqa: E402

sync_api = playwright_sync_api()  # the dev extra carries it: missing in CI is a failure, not a skip

from xl_addin import api, round_pages, server, spec  # noqa: E402
from xl_addin.collect import Agency, Roster  # noqa: E402
from xl_addin.rounds import County, Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "output" / "round"
AXE = ROOT / "tests" / "tools" / "node_modules" / "axe-core" / "axe.min.js"
#: Chromium as root on a closed network: no sandbox, no background connections
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
OFFICE, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
TOKEN = "t0ken-for-round-pages-" + "x" * 30
YEAR = 2023  # the bundled sample's year; the statutory deadline of a county department: 2024-01-31
DEPT = spec.AGENCY_KINDS[1]
OWN = "将乐县工业和信息化局"  # the sample's agency: the whole round, keyboard only
FIN = "将乐县财政局"  # refused: errors, another agency's workbook
EDU = "将乐县教育局"  # submits after the deadline (逾期)
HEALTH = "将乐县卫生健康局"  # never submits (逾期未交)
JUSTICE = "将乐县司法局"  # its key is revoked while logged in
NAMES = (OWN, FIN, EDU, HEALTH, JUSTICE)
CST = dt.timezone(dt.timedelta(hours=8))


class Round:
    def __init__(self, base: str, data_dir: Path, county: County, clock: Clock, keys: dict[str, str],
                 token: str, files: dict[str, Path]) -> None:
        self.base, self.data_dir, self.county, self.clock = base, data_dir, county, clock
        self.keys, self.token, self.files = keys, token, files

    def url(self, path: str) -> str:
        return self.base + round_pages.PREFIX + path

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.data_dir / "audit.log").read_text(encoding="utf-8").splitlines()]


def _workbook(sample: Path, folder: Path, name: str, agency: str, **changes: Any) -> Path:
    return api.put(sample, {"meta.agency": agency, **changes}, folder / name)


@contextlib.contextmanager
def serving(cfg: server.Config) -> Iterator[tuple[str, County]]:
    """The app of ``cfg`` served in a thread of this process (test_server.start); yields its base URL and the
    round's county."""
    live, srv, thread = start(cfg)
    try:
        yield live.base, srv.config.app.state.county
    finally:
        stop(live, srv, thread)
        srv.config.app.state.county.close()


@pytest.fixture(scope="module")
def rnd(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> Iterator[Round]:
    data_dir = tmp_path_factory.mktemp("round-data")
    folder = tmp_path_factory.mktemp("round-files")
    clock = Clock()
    roster = Roster(tuple(Agency(n, DEPT, "县级", f"联系人{i} 0598-000000{i}") for i, n in enumerate(NAMES)))
    files = {
        # warnings only (a county department has no 规章): it may be submitted, its findings are reasons to pick
        "good": _workbook(sample, folder, "年报.xlsx", OWN, **{"t2.rules.made": 3}),
        # a workbook with an error-level finding: table 三's first figure negative
        "bad": _workbook(sample, folder, "有错误的年报.xlsx", OWN, **{"t3.new.natural": -1}),
        "fixed": _workbook(sample, folder, "改正后的年报.xlsx", OWN, **{"t2.rules.made": 5}),
        "fin_bad": _workbook(sample, folder, "财政局年报.xlsx", FIN, **{"t3.new.natural": -1}),
        "edu": _workbook(sample, folder, "教育局年报.xlsx", EDU),
    }
    # the app of `xl-addin serve --roster R --year Y`: the round's JSON routes and these pages
    with serving(server.Config(data_dir=data_dir, token=TOKEN,
                               round=Settings(YEAR, roster, county="将乐县", allow_private_fetch=True))) as (base, county):
        county.store.clock = clock  # the server's time, set by the test
        keys = county.issue_keys()
        assert county.coordinator_token_file is not None
        token = county.coordinator_token_file.read_text(encoding="utf-8").strip()
        yield Round(base, data_dir, county, clock, keys, token, files)


@pytest.fixture(scope="module")
def chrome() -> Iterator[Any]:
    exe = need("chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def tab(chrome: Any) -> Iterator[Any]:
    ctx = chrome.new_context(viewport=OFFICE, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def axe_source() -> str:
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"{AXE} is missing; .ci/run (dev.sh test) must install it")
        pytest.skip(f"{AXE} is missing (bash dev.sh test installs it)")
    return AXE.read_text(encoding="utf-8")


# ---- helpers: the keyboard, what the page says ----------------------------------------------------------------------

def tab_to(pg: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the focus (fails if it never gets it)."""
    for _ in range(limit):
        pg.keyboard.press("Tab")
        if pg.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def keyboard_login(pg: Any, rnd: Round, path: str, secret: str) -> None:
    pg.goto(rnd.url(path))
    tab_to(pg, "#key")
    pg.keyboard.type(secret)
    with pg.expect_navigation():
        pg.keyboard.press("Enter")


def keyboard_upload(pg: Any, path: Path, button: str) -> None:
    """Tab to the file input, choose ``path``, Tab to ``button`` and press Enter."""
    tab_to(pg, "#workbook")
    # the file dialog Space opens belongs to the system, not the page: the file is given to the focused input
    pg.locator("#workbook:focus").set_input_files(str(path))
    tab_to(pg, f"button[value={button}]")
    with pg.expect_navigation():
        pg.keyboard.press("Enter")


def shoot(pg: Any, name: str) -> None:
    """Screenshots of the page as it is, at the office screen's size and a phone's."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for label, size in (("office", OFFICE), ("phone", PHONE)):
        pg.set_viewport_size(size)
        pg.screenshot(path=str(OUTPUT / f"{name}-{label}.png"), full_page=True)
    pg.set_viewport_size(OFFICE)


def axe_violations(chrome: Any, rnd: Round, pg: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of what ``pg`` shows, at both sizes: its HTML put into a page of
    the same origin (its style sheet loads) in a context that lets the test inject axe past the page's
    Content-Security-Policy."""
    source = axe_source()
    html = pg.content()
    out = []
    for size in (OFFICE, PHONE):
        ctx = chrome.new_context(viewport=size, locale="zh-CN", bypass_csp=True)
        probe = ctx.new_page()
        probe.goto(rnd.url("/static/round.css"))
        probe.set_content(html)
        probe.add_script_tag(content=source)
        result = probe.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        ctx.close()
        out += [{"size": size["width"], "id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [" ".join(n["target"]) for n in v["nodes"]]}
                for v in result["violations"] if v["impact"] in ("serious", "critical")]
    return out


def no_horizontal_page_scroll(pg: Any) -> None:
    """On a phone only the wide tables scroll sideways, inside their own box; the page itself does not."""
    pg.set_viewport_size(PHONE)
    wide = pg.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    pg.set_viewport_size(OFFICE)
    assert wide <= 1, f"the page scrolls sideways on a phone by {wide}px"


# ---- the clerk --------------------------------------------------------------------------------------------------------

def test_a_clerk_sees_check_s_findings_and_a_workbook_with_errors_cannot_be_submitted(
        rnd: Round, tab: Any, chrome: Any) -> None:
    keyboard_login(tab, rnd, "/login", rnd.keys[FIN])
    assert tab.url.endswith("/round/agency")
    assert tab.locator("h1").inner_text() == FIN
    assert "未提交" in tab.locator("#state-h").inner_text()
    keyboard_upload(tab, rnd.files["fin_bad"], "submit")
    assert "不能提交" in tab.locator("#result-message").inner_text()
    # the findings are those of xl-addin check, with the official place of each
    want = api.check(rnd.files["fin_bad"])
    errors = [f for f in want.findings if f.severity.value == "error"]
    assert errors
    table = tab.locator("table.findings.error")
    assert table.locator("caption").inner_text().startswith("校验结果：错误")
    text = table.inner_text()
    for f in errors:
        assert f.message in text and f.where in text
        assert all(label in text for label in f.labels if label)
    assert rnd.county.store.status(FIN).versions == 0  # nothing kept
    assert "未提交" in tab.locator("#state-h").inner_text()
    shoot(tab, "clerk-refused")
    assert not axe_violations(chrome, rnd, tab)
    no_horizontal_page_scroll(tab)


def test_a_workbook_naming_another_agency_is_refused_with_a_403_page(rnd: Round, tab: Any) -> None:
    keyboard_login(tab, rnd, "/login", rnd.keys[FIN])
    with tab.expect_response(lambda r: r.url.endswith("/agency/upload")) as resp:
        keyboard_upload(tab, rnd.files["good"], "submit")
    assert resp.value.status == 403
    msg = tab.locator("#result-message").inner_text()
    assert OWN in msg and FIN in msg and "拒绝" in msg
    assert rnd.county.store.status(FIN).versions == 0 and rnd.county.store.status(OWN).versions == 0
    assert any(e.get("action") == "提交" and e.get("status") == 403 and e.get("agency") == FIN for e in rnd.audit())


def test_the_whole_round_keyboard_only(rnd: Round, chrome: Any) -> None:
    """Clerk: check, submit (待审核). Coordinator: return with a reason picked from the findings and one typed.
    Clerk: sees 已退回 and the reasons, submits version 2. Coordinator: compares, accepts; history complete."""
    clerk_ctx = chrome.new_context(viewport=OFFICE, locale="zh-CN", accept_downloads=True)
    coord_ctx = chrome.new_context(viewport=OFFICE, locale="zh-CN", accept_downloads=True)
    clerk, coord = clerk_ctx.new_page(), coord_ctx.new_page()
    try:
        keyboard_login(clerk, rnd, "/login", rnd.keys[OWN])
        shoot(clerk, "clerk-empty")
        keyboard_upload(clerk, rnd.files["good"], "check")  # 仅校验: nothing kept
        assert "校验结果" in clerk.locator("#result-h").inner_text()
        assert rnd.county.store.status(OWN).versions == 0
        keyboard_upload(clerk, rnd.files["good"], "submit")
        message = clerk.locator("#result-message").inner_text()
        assert "已提交第1版" in message and "回执号" in message
        assert "待审核" in clerk.locator("#state-h").inner_text()
        shoot(clerk, "clerk-submitted")
        assert not axe_violations(chrome, rnd, clerk)

        keyboard_login(coord, rnd, "/coordinator/login", rnd.token)
        assert coord.url.endswith("/round/board")
        tab_to(coord, f"a[href='/round/board/agency/{urllib.parse.quote(OWN, safe='')}']")
        with coord.expect_navigation():
            coord.keyboard.press("Enter")
        assert coord.locator("h1").inner_text() == OWN
        picked = coord.locator("table.findings input[type=checkbox]")
        assert picked.count() == 2  # the two warnings: each one a reason to pick
        first_reason = coord.locator("table.findings tbody tr").first.locator("label").inner_text()
        tab_to(coord, "table.findings input[type=checkbox]")
        coord.keyboard.press("Space")
        tab_to(coord, "#text")
        coord.keyboard.type("请补充第五部分的说明")
        tab_to(coord, "form[action$='/return'] button[type=submit]")
        shoot(coord, "coordinator-agency")
        assert not axe_violations(chrome, rnd, coord)
        no_horizontal_page_scroll(coord)  # the findings are cards on a phone, not a table wider than it
        with coord.expect_navigation():
            coord.keyboard.press("Enter")
        assert "退回" in coord.locator("#action-message").inner_text()
        reasons = rnd.county.store.status(OWN).reasons
        assert len(reasons) == 2 and first_reason in reasons[0] and reasons[1] == "请补充第五部分的说明"

        clerk.reload()  # the page a submission redirected to: reloading it posts nothing again
        assert len(rnd.county.store.versions(OWN)) == 1
        assert "已退回" in clerk.locator("#state-h").inner_text()
        shown = clerk.locator("ul.reasons").inner_text()
        assert first_reason in shown and "请补充第五部分的说明" in shown
        shoot(clerk, "clerk-returned")
        keyboard_upload(clerk, rnd.files["fixed"], "submit")
        assert "已提交第2版" in clerk.locator("#result-message").inner_text()
        assert clerk.locator("text=下载第1版").count() == 1  # version 1 is kept and downloadable
        tab_to(clerk, "a[href$='/agency/versions/1']")
        with clerk.expect_download() as dl:
            clerk.keyboard.press("Enter")
        assert Path(dl.value.path()).read_bytes() == rnd.files["good"].read_bytes()

        coord.reload()  # the page after 退回 was redirected to: reloading it takes no action again
        assert "待审核" in coord.locator("#state-h").inner_text()
        assert len(rnd.county.store.history(OWN)) == 3
        tab_to(coord, "form.compare button")
        with coord.expect_navigation():
            coord.keyboard.press("Enter")
        assert coord.locator("h1").inner_text() == f"{OWN}：第1版与第2版"
        # what changed, cell by cell: 规章 本年制发件数 3 -> 5 (versions.diff), nothing else
        assert "1 个单元格有改动" in coord.locator("#diff-summary").inner_text()
        change = coord.locator("table.changes tbody tr")
        assert change.count() == 1
        assert [change.locator("td").nth(i).inner_text() for i in (0, 2, 3)] == ["表二!B6", "3", "5"]
        shoot(coord, "coordinator-compare")
        assert not axe_violations(chrome, rnd, coord)
        with coord.expect_navigation():
            coord.go_back()
        tab_to(coord, "form[action$='/accept'] button[type=submit]")
        with coord.expect_navigation():
            coord.keyboard.press("Enter")
        assert "已通过" in coord.locator("#state-h").inner_text()
        history = coord.locator("section[aria-labelledby=history-h] tbody").inner_text()
        for what in ("提交", "退回", "通过", "请补充第五部分的说明", "第1版", "第2版", "政务公开办"):
            assert what in history, what
        shoot(coord, "coordinator-accepted")
        clerk.reload()
        assert "已通过" in clerk.locator("#state-h").inner_text()
        assert clerk.locator("#workbook").count() == 0  # an accepted report takes no upload
    finally:
        clerk_ctx.close()
        coord_ctx.close()


def test_the_login_home_and_refusal_pages_pass_axe_on_both_screens(rnd: Round, tab: Any, chrome: Any) -> None:
    for path, name in (("/", "home"), ("/login", "login"), ("/coordinator/login", "coordinator-login")):
        tab.goto(rnd.url(path))
        shoot(tab, name)
        assert not axe_violations(chrome, rnd, tab), path
        no_horizontal_page_scroll(tab)
    tab.goto(rnd.url("/login"))
    tab.fill("#key", "not-a-key")
    with tab.expect_navigation():
        tab.press("#key", "Enter")
    assert "不正确" in tab.locator("#login-error").inner_text()
    assert tab.evaluate("() => document.activeElement.id") == "key"  # the field to fix has the focus
    assert not axe_violations(chrome, rnd, tab)
    resp = tab.goto(rnd.url("/board"))
    assert resp.status == 401
    shoot(tab, "refused")
    assert not axe_violations(chrome, rnd, tab)


# ---- the coordinator's board --------------------------------------------------------------------------------------

def test_the_board_shows_every_agency_with_timeliness_and_the_bulk_views(rnd: Round, tab: Any, chrome: Any) -> None:
    rnd.clock.t = dt.datetime(2024, 2, 5, 10, 0, tzinfo=CST)  # after the deadline (2024-01-31)
    late = rnd.county.submit(rnd.files["edu"].read_bytes(), "教育局年报.xlsx", rnd.keys[EDU])
    assert late.receipt is not None
    keyboard_login(tab, rnd, "/coordinator/login", rnd.token)
    rows = tab.locator("table.board tbody tr")
    assert rows.count() == len(NAMES)
    by_name = {rows.nth(i).locator("th").inner_text(): rows.nth(i).inner_text() for i in range(rows.count())}
    assert set(by_name) == set(NAMES)
    assert "逾期" in by_name[EDU] and "2024-02-05 10:00" in by_name[EDU] and "联系人2 0598-0000002" in by_name[EDU]
    assert "逾期未交" in by_name[HEALTH] and "未提交" in by_name[HEALTH]
    shoot(tab, "board")
    assert not axe_violations(chrome, rnd, tab)
    no_horizontal_page_scroll(tab)
    tab_to(tab, "nav.filters a[href$='view=late']")
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    shown = set(tab.locator("table.board tbody th").all_inner_texts())
    assert EDU in shown and HEALTH in shown
    assert all(rnd.county.board()[NAMES.index(n)].timely is not None for n in shown)
    tab.goto(rnd.url("/board?view=not_submitted"))
    shown = set(tab.locator("table.board tbody th").all_inner_texts())
    assert HEALTH in shown and EDU not in shown
    assert tab.locator("nav.filters a[aria-current=page]").inner_text().startswith("未提交")


def test_the_coordinator_checks_the_publication_and_downloads_the_roll_up_and_the_notice(
        rnd: Round, tab: Any, chrome: Any, tmp_path: Path) -> None:
    from xl_addin import derive

    assert rnd.county.store.status(OWN).accepted == 2  # accepted by the round above
    same = api.export(rnd.files["fixed"], tmp_path / "same", "html")[0]
    changed = api.export(api.put(rnd.files["fixed"], {"t2.rules.made": 7}, tmp_path / "changed.xlsx"),
                         tmp_path / "changed", "html")[0]
    keyboard_login(tab, rnd, "/coordinator/login", rnd.token)
    tab.goto(rnd.url(f"/board/agency/{urllib.parse.quote(OWN, safe='')}"))
    assert "未发布" in tab.locator("#published-h").inner_text()
    for page_file, verdict in ((same, "已发布·一致"), (changed, "不一致")):
        tab_to(tab, "#published-file")
        tab.locator("#published-file:focus").set_input_files(str(page_file))
        tab_to(tab, "form[action$='/published'] button[type=submit]")
        with tab.expect_navigation():
            tab.keyboard.press("Enter")
        assert verdict in tab.locator("#action-message").inner_text()
        assert verdict in tab.locator("#published-h").inner_text()
    told = tab.locator("#action-message").inner_text()
    assert "7" in told and "5" in told  # the published figure and the accepted one
    shoot(tab, "coordinator-published")
    assert not axe_violations(chrome, rnd, tab)
    tab.goto(rnd.url("/board"))
    own_row = tab.locator("table.board tbody tr", has_text=OWN)
    assert "不一致" in own_row.inner_text()
    # the roll-up of the accepted versions only (OWN's version 2), and the 通报 draft
    tab_to(tab, "a[href$='/board/rollup.xlsx']")
    with tab.expect_download() as dl:
        tab.keyboard.press("Enter")
    rollup = Path(dl.value.path())
    values = derive.effective_values(api.read(rollup))
    assert values["t2.rules.made"] == 5 and dl.value.suggested_filename.endswith(".xlsx")
    tab_to(tab, "a[href$='/board/notice.docx']")
    with tab.expect_download() as dl:
        tab.keyboard.press("Enter")
    notice = Path(dl.value.path()).read_bytes()
    assert notice[:2] == b"PK" and dl.value.suggested_filename == f"{YEAR}年度通报草稿.docx"
    # the acceptance withdrawn (the agency must change something): a reason is required, the report waits again
    tab.goto(rnd.url(f"/board/agency/{urllib.parse.quote(OWN, safe='')}"))
    tab_to(tab, "#reopen-text")
    tab.keyboard.type("发布稿数字与通过稿不一致，请核实后重新提交")
    tab_to(tab, "form[action$='/reopen'] button[type=submit]")
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    assert "已撤销通过第2版" in tab.locator("#action-message").inner_text()
    assert "待审核" in tab.locator("#state-h").inner_text()
    assert rnd.county.store.history(OWN)[-1].reasons == ("发布稿数字与通过稿不一致，请核实后重新提交",)


# ---- security -------------------------------------------------------------------------------------------------------

def test_roles_are_separate_and_every_refusal_is_a_chinese_4xx_page(rnd: Round, tab: Any) -> None:
    resp = tab.goto(rnd.url("/board"))
    assert resp.status == 401 and "政务公开办" in tab.locator("main").inner_text()
    resp = tab.goto(rnd.url("/agency"))
    assert resp.status == 401 and "报送密钥" in tab.locator("main").inner_text()
    keyboard_login(tab, rnd, "/login", rnd.keys[FIN])
    for path in ("/board", f"/board/agency/{urllib.parse.quote(OWN)}", f"/board/agency/{urllib.parse.quote(OWN)}/versions/1",
                 "/board/rollup.xlsx", "/board/notice.docx"):
        resp = tab.goto(rnd.url(path))
        assert resp.status == 403, path
        assert "仅供县政务公开办使用" in tab.locator("main").inner_text()
    resp = tab.goto(rnd.url("/agency/versions/1"))  # its own versions only: it has none
    assert resp.status == 404 and "没有第1版" in tab.locator("main").inner_text()
    keyboard_login(tab, rnd, "/coordinator/login", rnd.token)
    for path in ("/board/agency/%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA", "/board/agency/x/versions/abc",
                 "/board?view=nonsense", f"/board/agency/{urllib.parse.quote(OWN)}/compare?a=1&b=99"):
        resp = tab.goto(rnd.url(path))
        assert 400 <= resp.status < 500, path
        assert re.search(r"[\u4e00-\u9fff]", tab.locator("main").inner_text()), path


def test_the_session_cookie_is_httponly_strict_and_no_secret_is_in_a_url_or_the_log(rnd: Round, tab: Any) -> None:
    urls: list[str] = []
    tab.on("request", lambda r: urls.append(r.url))
    keyboard_login(tab, rnd, "/login", rnd.keys[FIN])
    cookie = next(c for c in tab.context.cookies() if c["name"] == "xa_round")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert rnd.keys[FIN] not in cookie["value"]
    keyboard_login(tab, rnd, "/coordinator/login", rnd.token)
    log = (rnd.data_dir / "audit.log").read_text(encoding="utf-8")
    for secret in (rnd.keys[FIN], rnd.token):
        assert all(secret not in u for u in urls)
        assert secret not in log
    assert any(e.get("action") == "登录" and e.get("result") == "成功" and e.get("agency") == FIN for e in rnd.audit())


def test_secure_cookies_behind_https(rnd: Round, tmp_path: Path) -> None:
    roster = Roster((Agency(OWN, DEPT, "县级"),))
    with serving(server.Config(data_dir=tmp_path, token=TOKEN, public_url="https://county.example",
                               round=Settings(YEAR, roster))) as (base, _):
        cookie = httpx.get(base + "/round/login").headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in httpx.get(rnd.url("/login")).headers["set-cookie"].lower()  # plain http: not Secure


def test_a_post_without_the_form_s_csrf_token_changes_nothing(rnd: Round, tab: Any) -> None:
    keyboard_login(tab, rnd, "/coordinator/login", rnd.token)
    before = rnd.county.store.status(EDU)
    name = urllib.parse.quote(EDU, safe="")
    for form in ({"version": "1"}, {"version": "1", "csrf": "forged"}):
        resp = tab.request.post(rnd.url(f"/board/agency/{name}/accept"), form=form)
        assert resp.status == 403 and "表单已过期" in resp.text()
    assert rnd.county.store.status(EDU) == before
    # a form posted from another site carries no cookie (SameSite=Strict): refused the same way
    resp = httpx.post(rnd.url(f"/board/agency/{name}/accept"), data={"version": "1"})
    assert resp.status_code == 401 and "政务公开办" in resp.text


def test_logging_out_ends_the_session(rnd: Round, tab: Any) -> None:
    keyboard_login(tab, rnd, "/login", rnd.keys[EDU])
    tab_to(tab, "header button[type=submit]")
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    assert tab.url.endswith("/round/") and "报送机关登录" in tab.locator("main").inner_text()
    assert tab.goto(rnd.url("/agency")).status == 401


def test_a_revoked_key_ends_its_session(rnd: Round, tab: Any) -> None:
    keyboard_login(tab, rnd, "/login", rnd.keys[JUSTICE])
    assert tab.goto(rnd.url("/agency")).status == 200
    rnd.county.revoke_key(JUSTICE)
    resp = tab.goto(rnd.url("/agency"))
    assert resp.status == 401 and "报送密钥" in tab.locator("main").inner_text()


def test_a_file_that_is_not_a_workbook_or_too_large_is_refused_in_chinese(rnd: Round, tab: Any) -> None:
    keyboard_login(tab, rnd, "/login", rnd.keys[HEALTH])
    csrf = tab.locator("input[name=csrf]").first.get_attribute("value")
    url = rnd.url("/agency/upload")
    pdf = tab.request.post(url, multipart={"csrf": csrf, "do": "submit", "workbook": {
        "name": "年报.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 not a workbook"}})
    assert pdf.status == 422 and "只能提交年报工作簿" in pdf.text() and "年报.pdf" in pdf.text()
    huge = tab.request.post(url, multipart={"csrf": csrf, "do": "submit", "workbook": {
        "name": "年报.xlsx", "mimeType": "application/octet-stream", "buffer": b"x" * (round_pages.MAX_UPLOAD + 1)}})
    assert huge.status == 413 and "过大" in huge.text()
    assert rnd.county.store.status(HEALTH).versions == 0


def test_logins_are_throttled_and_audited(rnd: Round, chrome: Any) -> None:
    ctx = chrome.new_context(viewport=OFFICE, locale="zh-CN")
    pg = ctx.new_page()
    try:
        statuses = []
        for i in range(9):
            pg.goto(rnd.url("/login"))
            pg.fill("#key", f"wrong-key-{i}")
            with pg.expect_response(lambda r: r.request.method == "POST") as resp:
                pg.press("#key", "Enter")
            statuses.append(resp.value.status)
        assert statuses[0] == 401 and statuses[-1] == 429, statuses
        assert "不正确" in pg.locator("#login-error").inner_text() or "频繁" in pg.locator("#login-error").inner_text()
        entries = [e for e in rnd.audit() if e.get("action") == "登录"]
        assert any(e["status"] == 401 for e in entries) and any(e["status"] == 429 for e in entries)
        assert not any("wrong-key" in json.dumps(e, ensure_ascii=False) for e in entries)
    finally:
        ctx.close()
    # (the throttle is per client address: this module's later tests log in no more)


def test_a_real_serve_with_two_workers_shares_the_sessions(tmp_path: Path, sample: Path) -> None:
    """``xl-addin serve --workers 2 --roster R --year Y``: the pages are there, and a session made by one worker
    process holds in the other (one secret in the data directory, made once, owner-only)."""
    from test_round_server import roster as roster_file
    from test_server_limits import Serve

    srv = Serve(tmp_path, "--roster", str(roster_file(tmp_path, (OWN, FIN))), "--year", str(YEAR), workers=2)
    try:
        token = (srv.data_dir / "coordinator-token.txt").read_text(encoding="utf-8").strip()
        keys = httpx.post(srv.base + "/round/api/keys", json={"agencies": None}, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}).json()["keys"]
        with httpx.Client(base_url=srv.base, timeout=60) as c:
            csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/round/login").text)
            assert csrf
            r = c.post("/round/login", data={"csrf": csrf.group(1), "key": keys[OWN]})
            assert r.status_code == 303
            cookies = dict(c.cookies)
        statuses = []
        for _ in range(20):  # a new connection each time: the two workers take turns accepting them
            with httpx.Client(base_url=srv.base, timeout=60, cookies=cookies) as c:
                page = c.get("/round/agency")
                statuses.append(page.status_code)
        assert statuses == [200] * 20, statuses
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        with httpx.Client(base_url=srv.base, timeout=60, cookies=cookies) as c:
            r = c.post("/round/agency/upload", data={"csrf": csrf.group(1), "do": "submit"},
                       files={"workbook": ("年报.xlsx", _workbook(sample, tmp_path, "年报.xlsx", OWN).read_bytes())})
            assert r.status_code == 303, r.text
            assert "已提交第1版" in c.get(r.headers["location"]).text
        secret = srv.data_dir / "session-secret"
        assert secret.stat().st_mode & 0o077 == 0
        assert not list(srv.data_dir.glob(".session-secret*"))  # no temporary left
    finally:
        srv.stop()


def test_a_forged_altered_or_expired_session_opens_nothing(rnd: Round, tmp_path: Path) -> None:
    from xl_addin import websession

    now = [1_000_000.0]
    mine = websession.Sessions(websession.load_secret(tmp_path), clock=lambda: now[0])
    assert websession.load_secret(tmp_path) == mine.secret  # made once, then read
    s = mine.new(websession.ROLE_COORDINATOR, "", "hash")
    cookie = mine.dump(s)
    assert mine.load(cookie) == s
    payload, mac = cookie.rsplit(".", 1)
    assert mine.load(payload[:-2] + "xx." + mac) is None  # altered
    assert mine.load(payload + "." + "0" * len(mac)) is None  # not signed by this server
    assert not mine.csrf_ok(mine.new(), mine.csrf(s))  # another session's form token
    now[0] += websession.SESSION_SECONDS + 1
    assert mine.load(cookie) is None  # expired
    # a session signed with another server's secret, claiming the coordinator: refused as not logged in
    other = websession.Sessions(b"another server's secret, 32 byte")
    forged = other.dump(other.new(websession.ROLE_COORDINATOR, "", "hash"))
    r = httpx.get(rnd.url("/board"), cookies={websession.COOKIE: forged})
    assert r.status_code == 401 and "政务公开办" in r.text


def test_nothing_makes_a_500(rnd: Round) -> None:
    with httpx.Client(base_url=rnd.base) as c:
        r = c.get(round_pages.PREFIX + "/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text)
        assert csrf
        bad = [
            c.post(round_pages.PREFIX + "/login", content=b"--x\r\nnot multipart", headers={
                "Content-Type": "multipart/form-data; boundary=x"}),
            c.post(round_pages.PREFIX + "/login", content=b"\xff" * 10, headers={"Content-Type": "text/plain"}),
            c.post(round_pages.PREFIX + "/agency/upload", content=b"x" * 100),
            c.get(round_pages.PREFIX + "/board/agency/%00"),
            c.get(round_pages.PREFIX + "/agency/versions/" + "9" * 40),
        ]
        for r in bad:
            assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text[:200])
