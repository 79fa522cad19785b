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
NAMES = (OWN, OTHER)


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
        assert r.status_code == 400 and "未知的审核操作" in r.json()["message"]
        r = c.post(path, content=json.dumps({"action": "x" * 60_000, "version": 1}).encode(),
                   headers=bearer(live.token))
        assert r.status_code == 400
    lines = (live.data_dir / "audit.log").read_bytes().splitlines()
    assert all(len(line) < 4000 for line in lines), max(len(line) for line in lines)
    refused = [e for e in live.audit() if e.get("event") == "round" and e.get("status") == 400]
    assert len(refused) == 2


def test_a_key_request_naming_a_lone_surrogate_is_a_404_not_a_503(live: Live) -> None:
    with live.client() as c:
        r = c.post(round_pages.PREFIX + "/api/keys", content=b'{"agencies": ["\\ud800"]}', headers=bearer(live.token))
    assert r.status_code == 404 and "名单中没有" in r.json()["message"]


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
