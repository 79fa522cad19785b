"""The round on the county server reviewed as an attacker would (issue 20 under issue 19's rules): a hostile agency
with its own key, an outsider with none, a clerk's mistakes. The server runs in this process (uvicorn in a thread,
the app of ``xl-addin serve --roster R --year Y``); every answer must be a Chinese 4xx, never a 500 or a 503 for a
request that was only odd, and audit.log must keep a line for it."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
from test_round_pages import DEPT, serving  # noqa: E402

from xl_addin import api, round_pages, server, websession  # noqa: E402
from xl_addin.collect import Agency, Roster  # noqa: E402
from xl_addin.rounds import County, Settings  # noqa: E402

TOKEN = "t0ken-for-round-attacks-" + "x" * 30
OWN = "将乐县工业和信息化局"
OTHER = "将乐县财政局"
SLASHED = "县委办/县政府办"  # a roster name with "/" (a clerk's way of naming a joint office)
NAMES = (OWN, OTHER, SLASHED)


@dataclass
class Live:
    base: str
    data_dir: Path
    county: County
    keys: dict[str, str]
    token: str
    workbook: Path

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in (self.data_dir / "audit.log").read_text(encoding="utf-8").splitlines()]

    def client(self) -> Any:
        return httpx.Client(base_url=self.base, timeout=60)

    def login(self, c: Any, role: str) -> None:
        """Log ``c`` in through the login form (agency OWN, or the coordinator)."""
        path = round_pages.PREFIX + ("/login" if role == websession.ROLE_AGENCY else "/coordinator/login")
        page = c.get(path)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        secret = self.keys[OWN] if role == websession.ROLE_AGENCY else self.token
        r = c.post(path, data={"csrf": csrf.group(1), "key": secret})
        assert r.status_code == 303, r.text[:300]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("round-attacks")
    roster = Roster(tuple(Agency(n, DEPT, "县级", "联系人") for n in NAMES))
    wb = api.put(sample, {"meta.agency": OWN, "t2.rules.made": 3}, tmp_path_factory.mktemp("wb") / "年报.xlsx")
    with serving(server.Config(data_dir=data_dir, token=TOKEN, round=Settings(2023, roster, county="将乐县"))) as (
            base, county):
        keys = county.issue_keys()
        assert county.coordinator_token_file is not None
        token = county.coordinator_token_file.read_text(encoding="utf-8").strip()
        yield Live(base, data_dir, county, keys, token, wb)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + secret}


def test_a_lone_surrogate_or_a_huge_action_in_a_review_is_a_400_with_its_audit_line(live: Live) -> None:
    with live.client() as c:
        path = f"{round_pages.PREFIX}/api/agencies/{OWN}/review"
        r = c.post(path, content=b'{"action": "\\ud800", "version": 1}', headers=bearer(live.token))
        assert r.status_code == 400 and "JSON 对象" in r.json()["message"]  # text that is no text: malformed
        r = c.post(path, content=json.dumps({"action": "x" * 60_000, "version": 1}).encode(),
                   headers=bearer(live.token))
        assert r.status_code == 400
    lines = (live.data_dir / "audit.log").read_bytes().splitlines()
    assert all(len(line) < 4000 for line in lines), max(len(line) for line in lines)
    said = live.audit()
    assert any(e.get("status") == 400 and str(e.get("result", "")).startswith("拒绝：请求内容不是 JSON") for e in said)
    assert [e["action"] for e in said if e.get("event") == "round" and e.get("status") == 400] == ["x" * 40]


def test_a_key_request_naming_a_lone_surrogate_is_a_400_not_a_503(live: Live) -> None:
    with live.client() as c:
        r = c.post(round_pages.PREFIX + "/api/keys", content=b'{"agencies": ["\\ud800"]}', headers=bearer(live.token))
    assert r.status_code == 400 and "JSON 对象" in r.json()["message"]
    assert any(e.get("event") == "round" and e.get("status") == 400 for e in live.audit())


@pytest.mark.parametrize("path", ["/agency?done=²", "/agency/versions/²", "/board/agency/{own}?done=²",
                                  "/board/agency/{own}/versions/²", "/board/agency/{own}/compare?a=²&b=1"])
def test_a_superscript_digit_in_a_page_s_number_is_a_4xx_never_a_500(live: Live, path: str) -> None:
    role = websession.ROLE_AGENCY if path.startswith("/agency") else websession.ROLE_COORDINATOR
    with live.client() as c:
        live.login(c, role)
        r = c.get(round_pages.PREFIX + path.format(own=OWN))
    assert r.status_code < 500, (path, r.status_code, r.text[:200])


def test_the_client_does_not_carry_its_key_to_where_a_redirect_points() -> None:
    """``xl-addin board/review/submit`` send the coordinator's token or the agency's key in a header; a server (or
    anything between) answering with a redirect to another address must not receive it there: the client stops
    and says where it was sent."""
    import http.server
    import threading

    from xl_addin.adapters import round_client

    seen: list[str | None] = []

    class Catch(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"agencies": []}')

        def log_message(self, *args: Any) -> None:
            pass

    catch = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Catch)
    other = f"http://127.0.0.1:{catch.server_address[1]}/round/api/board"

    class Redirect(Catch):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", other)
            self.send_header("Content-Length", "0")
            self.end_headers()

    redirect = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    for s in (catch, redirect):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        answer = round_client.board(f"http://127.0.0.1:{redirect.server_address[1]}", "coordinator-secret-token")
    finally:
        for s in (catch, redirect):
            s.shutdown()
            s.server_close()
    assert seen == []
    assert answer.status == 302 and not answer.ok
    assert "跳转" in answer.message and other in answer.message


def test_an_agency_named_with_a_slash_can_be_opened_reviewed_and_downloaded(live: Live, sample: Path,
                                                                            tmp_path: Path) -> None:
    from xl_addin.adapters import round_client

    wb = api.put(sample, {"meta.agency": SLASHED, "t2.rules.made": 3}, tmp_path / "联合办公室.xlsx")
    got = round_client.submit(live.base, live.keys[SLASHED], wb.read_bytes(), wb.name)
    assert got.status == 201, got.message
    quoted = round_client.quote(SLASHED)
    with live.client() as c:
        r = c.get(f"{round_pages.PREFIX}/api/agencies/{quoted}", headers=bearer(live.token))
        assert r.status_code == 200 and r.json()["name"] == SLASHED
        r = c.get(f"{round_pages.PREFIX}/api/agencies/{quoted}/versions/1", headers=bearer(live.token))
        assert r.status_code == 200 and r.content == wb.read_bytes()
        # another agency's key still sees nothing of it
        r = c.get(f"{round_pages.PREFIX}/api/agencies/{quoted}/versions/1", headers=bearer(live.keys[OWN]))
        assert r.status_code == 403
        live.login(c, websession.ROLE_COORDINATOR)
        board = c.get(round_pages.PREFIX + "/board").text
        link = re.search(r'href="(/round/board/agency/[^"]*%2F[^"]*)"', board)
        assert link
        page = c.get(link.group(1))
        assert page.status_code == 200 and SLASHED in page.text
        assert c.get(link.group(1) + "/versions/1").content == wb.read_bytes()
        assert c.get(link.group(1) + "/compare?a=1&b=1").status_code == 200
    answer = round_client.review(live.base, live.token, SLASHED, "accept", [], version=1)
    assert answer.status == 200, answer.message
    assert live.county.store.status(SLASHED).accepted == 1


def test_a_publication_address_that_is_a_path_on_the_server_is_refused(live: Live, sample: Path,
                                                                       tmp_path: Path) -> None:
    """The publication check's address is fetched by the server: an agency (or the coordinator's page) giving a
    path instead -- the coordinator's token file, any .txt/.html/.pdf on the server -- must not make the server
    read its own files."""
    from xl_addin.adapters import round_client

    wb = api.put(sample, {"meta.agency": OTHER, "t2.rules.made": 3}, tmp_path / "财政局.xlsx")
    assert round_client.submit(live.base, live.keys[OTHER], wb.read_bytes(), wb.name).status == 201
    assert round_client.review(live.base, live.token, OTHER, "accept", [], version=1).status == 200
    secret_page = tmp_path / "server-side.html"  # a report-like page on the server: it would be read and compared
    api.export(wb, tmp_path / "exported", "html")[0].rename(secret_page)
    token_file = live.county.coordinator_token_file
    assert token_file is not None
    before = live.county.store.status(OTHER)
    for path in (str(secret_page), str(token_file), "file://" + str(secret_page)):
        answer = round_client.request(live.base, "POST", f"/round/api/agencies/{round_client.quote(OTHER)}/published",
                                      live.keys[OTHER], json.dumps({"url": path}).encode())
        assert 400 <= answer.status < 500, (path, answer.status, answer.message)
        assert "http" in answer.message and live.token not in answer.message
    assert live.county.store.status(OTHER) == before  # nothing recorded as published


@pytest.mark.parametrize("version", [10**30, -(2**70)])
def test_a_review_of_a_version_number_too_large_for_the_database_is_a_4xx(live: Live, version: int) -> None:
    from xl_addin.adapters import round_client

    assert round_client.submit(live.base, live.keys[OWN], live.workbook.read_bytes(), "年报.xlsx").ok
    with live.client() as c:
        r = c.post(f"{round_pages.PREFIX}/api/agencies/{OWN}/review", headers=bearer(live.token),
                   content=json.dumps({"action": "accept", "version": version}).encode())
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert "版" in r.json()["message"]


def test_a_publication_address_of_megabytes_is_refused_without_echoing_it(live: Live) -> None:
    from xl_addin.adapters import round_client

    assert round_client.submit(live.base, live.keys[OWN], live.workbook.read_bytes(), "年报.xlsx").ok
    round_client.review(live.base, live.token, OWN, "accept", [])  # (409 when an earlier test accepted it)
    assert live.county.store.status(OWN).accepted is not None
    url = "https://203.0.113.1/" + "a" * 2_000_000  # an address the fetch refuses at once, echoing it
    with live.client() as c:
        r = c.post(f"{round_pages.PREFIX}/api/agencies/{OWN}/published", headers=bearer(live.keys[OWN]),
                   json={"url": url})
    assert r.status_code == 400 and len(r.content) < 2000, (r.status_code, len(r.content))
    assert "网址" in r.json()["message"]


def test_a_coordinator_token_file_others_can_read_is_made_private_at_start(tmp_path: Path) -> None:
    """The token opens the whole county's round: a token file an administrator wrote with the default umask
    (0644) is made readable by the server's user only when the server starts with it."""
    token_file = tmp_path / "token.txt"
    token_file.write_text("a-token-written-by-hand-" + "y" * 20 + "\n", encoding="utf-8")
    token_file.chmod(0o644)
    roster = Roster((Agency(OWN, DEPT, "县级", "联系人"),))
    with County.open(tmp_path / "d", year=2023, roster=roster, coordinator_token_file=token_file) as c:
        assert c.is_coordinator("a-token-written-by-hand-" + "y" * 20)
    assert token_file.stat().st_mode & 0o777 == 0o600


def test_a_page_whose_store_fails_is_a_chinese_503_never_an_english_500(live: Live,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A page reading the store outside the gate (the board) when the database fails ("database is locked"): the
    server's own Chinese answer and a log line, not Starlette's "Internal Server Error"."""
    import sqlite3

    from xl_addin import rounds

    with live.client() as c:
        live.login(c, websession.ROLE_COORDINATOR)

        def locked(*_a: Any, **_k: Any) -> Any:
            raise sqlite3.OperationalError("database is locked")

        monkeypatch.setattr(live.county.store, "board", locked)
        r = c.get(round_pages.PREFIX + "/board")
    assert r.status_code == 503 and r.text == rounds.FAILED, (r.status_code, r.text[:200])
