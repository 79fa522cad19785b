"""``xl-addin serve`` against a holder of the county token (it is in every agency's .xlam): a real server process
on 127.0.0.1, clients on other loopback addresses (127.0.0.x) so that each is a different client, as agencies'
PCs are. What a clerk would notice: a Chinese text for every refusal, never a 500, a click answered while a flood
runs, nothing lost from audit.log, no reset when the service restarts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

from serving import is_up  # noqa: E402
from xlwings_payload import payload_from_xlsx  # noqa: E402

from xl_addin import server  # noqa: E402

TRACEBACK_MARKERS = ("Traceback", "File \"", "Error", "Exception", "Internal Server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) and not any(m in text for m in TRACEBACK_MARKERS)


class Serve:
    """``python -m xl_addin serve`` in its own process, as a county admin starts it."""

    def __init__(self, folder: Path, *options: str, workers: int = 1, listen: socket.socket | None = None) -> None:
        self.data_dir = folder / "data"
        self.token_file = folder / "token.txt"
        if not self.token_file.exists():
            server.make_token_file(self.token_file)
        self.token = server.read_token(self.token_file)
        self.port = listen.getsockname()[1] if listen is not None else free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "xl_addin", "serve", "--port", str(self.port), "--data-dir", str(self.data_dir),
               "--token-file", str(self.token_file), "--workers", str(workers), *options]
        if listen is not None:  # systemd socket activation: the listening socket is fd 3, LISTEN_PID the server's
            cmd = ["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@" 3<&0 </dev/null', "sh", *cmd]
        self.log = folder / f"serve-{time.monotonic_ns()}.log"  # a file, not a pipe nobody reads while it runs
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdin=listen.fileno() if listen is not None else subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=log)
        self.wait_healthy()

    def wait_healthy(self, seconds: float = 60) -> None:
        if is_up(self.base, self.proc, seconds):
            return
        pytest.fail("the server did not start: " + self.stop()[-3000:])

    def client(self, address: str, **headers: str) -> Any:
        """A clerk's PC at ``address`` (127.0.0.x)."""
        return httpx.Client(base_url=self.base, timeout=60, headers={"Authorization": f"Bearer {self.token}", **headers},
                            transport=httpx.HTTPTransport(local_address=address))

    def audit(self) -> list[dict[str, Any]]:
        path = self.data_dir / "audit.log"
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def body(sample: Path) -> bytes:
    return json.dumps(payload_from_xlsx(sample)).encode()


@pytest.fixture(scope="module")
def big_body(sample: Path) -> bytes:
    """A workbook of the template with one more sheet of text: 1.9 MB, what a flood can send under the 2 MB cap."""
    p = payload_from_xlsx(sample)
    extra = {"name": "附加", "pictures": [], "tables": [],
             "values": [[f"填报内容{r}-{c}" for c in range(30)] for r in range(1750)]}
    data = json.dumps({**p, "sheets": [*p["sheets"], extra]}).encode()
    assert 1_500_000 < len(data) < server.MAX_BODY
    return data


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """One server for the refusals: small limits so that a few requests reach them; 127.0.0.9 is the proxy."""
    s = Serve(tmp_path_factory.mktemp("limits"), "--rate-limit", "40", "--max-queue", "12", "--per-client", "5",
              "--request-timeout", "2", "--max-connections", "64", "--forwarded-allow-ips", "127.0.0.9")
    yield s
    s.stop()


def test_the_app_and_the_protocol_name_the_same_state_key() -> None:
    from xl_addin import server_http

    assert (server.GUARDED, server.STOP_READING) == (server_http.GUARDED, server_http.STOP_READING)


def passed(r: Any) -> bool:
    if r.status_code != 200:
        return False
    said = [a["args"][0] for a in r.json()["actions"] if a["func"] == "alert"]
    return len(said) == 1 and said[0].startswith("校验通过")


# ---- bounded bodies ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("what", "raw"), [
    ("nested 1,000 levels", b"[" * 1000 + b"]" * 1000),
    ("nested 100,000 levels", b"[" * 100_000 + b"]" * 100_000),
    ("nested 50 levels of objects", b'{"a":' * 50 + b"1" + b"}" * 50),
    ("a workbook whose cell is nested 200 levels", None),
    ("300,000 elements", b"[" + b"0," * 300_000 + b"0]"),
])
def test_json_nested_too_deep_or_too_large_is_a_400_in_chinese(srv: Serve, body: bytes, what: str,
                                                                raw: bytes | None) -> None:
    if raw is None:
        p = json.loads(body)
        p["sheets"][0]["values"][0][0] = json.loads("[" * 200 + "]" * 200)
        raw = json.dumps(p).encode()
    with srv.client("127.0.0.11") as c:
        r = c.post("/xl_addin/validate", content=raw)
        assert r.status_code == 400 and chinese(r.text) and "层次过深或元素过多" in r.text, (what, r.status_code, r.text)
        assert passed(c.post("/xl_addin/validate", content=body))  # and the server goes on answering
    refused = [e for e in srv.audit() if e.get("status") == 400]
    assert refused and refused[-1]["result"].startswith("拒绝") and refused[-1]["client"] == "127.0.0.11"


def test_every_refusal_is_in_the_audit_log_and_the_token_never(srv: Serve, body: bytes) -> None:
    with srv.client("127.0.0.12") as c:
        assert c.post("/xl_addin/validate", content=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
        too_big = c.post("/xl_addin/validate", content=b"[" + b" " * server.MAX_BODY + b"]")
        assert too_big.status_code == 413 and chinese(too_big.text)
        assert c.post("/xl_addin/validate", content=b"not json").status_code == 200  # an alert, as before
        assert c.post("/xl_addin/validate", content=b"[" * 2000).status_code == 400
    log = srv.audit()
    mine = [e for e in log if e.get("client") == "127.0.0.12" and e.get("event") != "received"]
    assert [e["status"] for e in mine] == [401, 413, 200, 400]
    assert mine[2]["result"].startswith("拒绝")  # not JSON: refused with an alert, and said so
    assert all(isinstance(e.get("id"), str) for e in mine)
    assert srv.token not in (srv.data_dir / "audit.log").read_text(encoding="utf-8")


# ---- rate and queue ----------------------------------------------------------------------------------------------

def test_one_address_clicking_too_fast_gets_429_in_chinese_and_others_do_not(srv: Serve, body: bytes) -> None:
    with srv.client("127.0.0.13") as fast, srv.client("127.0.0.14") as other:
        answers = [fast.post("/xl_addin/about", content=body) for _ in range(30)]  # 40 a minute: bursts of 20
        codes = [r.status_code for r in answers]
        assert codes[:20] == [200] * 20 and 429 in codes[20:], codes
        refused = next(r for r in answers if r.status_code == 429)
        assert chinese(refused.text) and "请求过多" in refused.text and refused.headers["retry-after"] == "60"
        assert passed(other.post("/xl_addin/validate", content=body))
    lines = [e for e in srv.audit() if e.get("client") == "127.0.0.13" and e.get("status") == 429]
    # refusals are logged, at most one line every 10 s per client with how many were refused
    assert len(lines) == 1 and lines[0]["refused"] >= 1 and lines[0]["result"] == "拒绝：请求过于频繁"


def test_a_flood_is_refused_with_503_and_a_normal_click_stays_fast(srv: Serve, body: bytes, big_body: bytes) -> None:
    """Three addresses keep 18 bodies of 1.9 MB each in flight for 3 s (more than --per-client 5, --max-queue 12);
    a clerk at a fourth address clicks meanwhile. The flood gets 503/429 in Chinese past the limits (or, its body
    unread, a closed connection), never a 500; the clerk, holding nothing, still gets in (a reserve of half the
    queue), and waits for one flood click of each address at a time, not for the whole queue."""
    flood: list[tuple[float, int, str]] = []  # (seconds, status, text)
    normal: list[tuple[float, bool]] = []
    lock = threading.Lock()
    stop = time.monotonic() + 3

    def attacker(address: str) -> None:
        with httpx.Client(base_url=srv.base, timeout=60, headers={"Authorization": f"Bearer {srv.token}"},
                          transport=httpx.HTTPTransport(local_address=address)) as c:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    r = c.post("/xl_addin/validate", content=big_body)
                    outcome = (time.perf_counter() - t0, r.status_code, r.text)
                except httpx.TransportError:  # refused: the server read no more of its body and closed
                    outcome = (time.perf_counter() - t0, 0, "")
                with lock:
                    flood.append(outcome)
                if outcome[1] != 200:
                    time.sleep(0.05)

    threads = [threading.Thread(target=attacker, args=(f"127.0.0.{20 + i // 6}",)) for i in range(18)]
    for th in threads:
        th.start()
    time.sleep(0.5)
    with srv.client("127.0.0.30") as clerk:
        while time.monotonic() < stop - 0.3:
            t0 = time.perf_counter()
            ok = passed(clerk.post("/xl_addin/validate", content=body))
            normal.append((time.perf_counter() - t0, ok))
            time.sleep(0.2)
    for th in threads:
        th.join(60)
    codes = {status for _, status, _ in flood}
    assert codes <= {0, 200, 429, 503} and {429, 503} <= codes, codes
    assert all(chinese(text) for _, status, text in flood if status in (429, 503))
    assert any("服务器繁忙，请稍后再点" in text for _, status, text in flood if status == 503)
    assert normal and all(ok for _, ok in normal), normal
    served = sorted(s for s, status, _ in flood if status == 200)
    assert served, codes
    waited = sorted(s for s, _ in normal)
    # the clerk waits for about one flood click per flooding address; a flood click for its whole address's queue
    assert waited[len(waited) // 2] < 0.5 * served[len(served) // 2], (waited, served)
    statuses = {e["status"] for e in srv.audit() if str(e.get("client", "")).startswith("127.0.0.2") and "status" in e}
    assert {200} <= statuses and statuses & {429, 503}


# ---- slow requests -----------------------------------------------------------------------------------------------

def test_half_sent_requests_are_closed_and_cannot_lock_out_clerks(srv: Serve, body: bytes) -> None:
    """100 connections that send half a request (more than --max-connections 64): a clerk still gets through,
    and the server closes them after --request-timeout (2 s) instead of holding them for ever."""
    half = []
    for i in range(100):
        s = socket.socket()
        s.bind((f"127.0.0.{40 + i % 10}", 0))
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"POST /xl_addin/validate HTTP/1.1\r\nHost: x\r\nContent-Le")
        half.append(s)
    try:
        with srv.client("127.0.0.31") as clerk:
            t0 = time.perf_counter()
            assert passed(clerk.post("/xl_addin/validate", content=body))
            assert time.perf_counter() - t0 < 2
        # a request whose body trickles in is cut off too
        slow = socket.socket()
        slow.connect(("127.0.0.1", srv.port))
        slow.sendall(f"POST /xl_addin/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {srv.token}\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:100])
        half.append(slow)
        time.sleep(3.5)
        closed = 0
        for s in half:
            s.settimeout(5)
            try:
                while s.recv(65536):  # an answer, if any, then the end of the connection
                    pass
                closed += 1
            except (ConnectionResetError, TimeoutError):
                closed += isinstance(sys.exc_info()[1], ConnectionResetError)
        assert closed == len(half)
    finally:
        for s in half:
            s.close()


# ---- the client address ------------------------------------------------------------------------------------------

def test_the_client_address_comes_only_from_the_trusted_proxy(srv: Serve, body: bytes) -> None:
    with srv.client("127.0.0.1", **{"X-Forwarded-For": "10.1.2.3"}) as spoofer:  # not the configured proxy
        spoofer.post("/xl_addin/about", content=body)
    with srv.client("127.0.0.9", **{"X-Forwarded-For": "10.1.2.3, 10.7.7.7"}) as proxy:  # nginx: "$client, $peer"
        proxy.post("/xl_addin/about", content=body)
    clients = [e["client"] for e in srv.audit() if e.get("button") == "关于" and e.get("event") != "received"][-2:]
    assert clients == ["127.0.0.1", "10.7.7.7"]


# ---- downloads ---------------------------------------------------------------------------------------------------

def test_downloads_are_in_the_audit_log_with_the_export_id(srv: Serve) -> None:
    export_id = "A" * 22
    folder = srv.data_dir / "exports" / "2023" / "某局" / export_id
    folder.mkdir(parents=True)
    (folder / "报告.html").write_text("<p>报告</p>", encoding="utf-8")
    query = server.link_query(srv.token, export_id, int(time.time()) + 600)
    with httpx.Client(base_url=srv.base, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.15")) as c:
        assert c.get(f"/xl_addin/files/{export_id}?{query}").status_code == 200
        assert c.get(f"/xl_addin/files/{export_id}/报告.html?{query}").text == "<p>报告</p>"
        assert c.get(f"/xl_addin/files/{export_id}/报告.html?exp=1&sig=x").status_code == 403
    lines = [e for e in srv.audit() if e.get("event") == "download"]
    assert [(e["export_id"], e["file"], e["status"], e["client"]) for e in lines[-3:]] == [
        (export_id, "", 200, "127.0.0.15"), (export_id, "报告.html", 200, "127.0.0.15"),
        (export_id, "报告.html", 403, "127.0.0.15")]


# ---- a worker that dies, a service that restarts -----------------------------------------------------------------

def test_a_click_lost_with_its_worker_is_written_down(tmp_path: Path, body: bytes) -> None:
    """A worker process killed mid-click (out of memory, kill -9): the click got no answer; the worker uvicorn
    starts in its place writes a "lost" line for it."""
    s = Serve(tmp_path, workers=2)
    try:
        conn = socket.create_connection(("127.0.0.1", s.port))
        conn.sendall(f"POST /xl_addin/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {s.token}\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:1000])
        deadline = time.monotonic() + 20
        while not (received := [e for e in s.audit() if e.get("event") == "received"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert received, s.audit()
        os.kill(int(received[0]["worker"].split("-")[0]), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not (lost := [e for e in s.audit() if e.get("event") == "lost"]) and time.monotonic() < deadline:
            time.sleep(0.2)
        conn.close()
        assert [(e["id"], e["button"], e["status"]) for e in lost] == [(received[0]["id"], "校验", None)]
        assert "丢失" in lost[0]["result"]
        with s.client("127.0.0.16") as c:  # and the service goes on
            assert passed(c.post("/xl_addin/validate", content=body))
    finally:
        s.stop()
    assert len([e for e in s.audit() if e.get("event") == "lost"]) == 1  # written once, not by every worker


def test_a_restart_under_load_answers_every_queued_click(tmp_path: Path, body: bytes) -> None:
    """`systemctl restart` with the socket unit: clicks keep coming while the server stops and the next one
    starts; the ones the old process holds are answered before it exits, the ones that arrive meanwhile wait in
    the socket (systemd's) for the new process. No click is reset."""
    listen = socket.socket()
    listen.bind(("127.0.0.1", 0))
    listen.listen(128)
    results: list[tuple[bool, str]] = []
    lock = threading.Lock()
    first = Serve(tmp_path, "--rate-limit", "0", listen=listen)
    done = threading.Event()

    def clerk(i: int) -> None:
        while not done.is_set():
            try:  # a new connection each time, as each click of the add-in
                with httpx.Client(base_url=first.base, timeout=60,
                                  headers={"Authorization": f"Bearer {first.token}"}) as c:
                    r = c.post("/xl_addin/validate", content=body)
                    outcome = (passed(r), str(r.status_code))
            except httpx.HTTPError as exc:
                outcome = (False, type(exc).__name__)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    second = None
    try:
        time.sleep(1.0)
        first.proc.send_signal(signal.SIGTERM)
        first.proc.wait(60)
        with lock:
            during = len(results)
        second = Serve(tmp_path, "--rate-limit", "0", listen=listen)
        time.sleep(1.0)
    finally:
        done.set()
        for th in threads:
            th.join(90)
        if second is not None:
            second.stop()
        listen.close()
    failures = [o for o in results if not o[0]]
    assert len(results) > during > 8 and not failures, (len(results), during, failures[:5])


# ---- the pieces, without a server --------------------------------------------------------------------------------

def test_parse_body_bounds_nesting_and_elements_before_anything_walks_them() -> None:
    assert server.parse_body(b"not json") is None
    assert server.parse_body(b"7") == 7
    assert server.parse_body(b"[" * 20 + b"]" * 20) is not None  # 20 levels: allowed
    for raw in (b"[" * 21 + b"]" * 21, b"[" * 5000 + b"]" * 5000, b"[" + b"1," * 300_000 + b"1]"):
        with pytest.raises(server.BodyRefused):
            server.parse_body(raw)


def test_the_engine_serves_the_client_with_the_fewest_turns_first() -> None:
    """A flooding client with many clicks waiting, a clerk with one: the clerk's click runs next."""
    import asyncio

    async def scenario() -> list[str]:
        engine = server.Engine(max_queue=10, per_client=8)
        order: list[str] = []

        async def click(client: str) -> None:
            assert engine.admit(client) == 0
            try:
                await engine.turn(client)
                order.append(client)
                await asyncio.sleep(0.01)
                engine.done()
            finally:
                engine.leave(client)

        tasks = [asyncio.create_task(click("flood")) for _ in range(6)]
        await asyncio.sleep(0.015)  # the flood has had a turn or two
        tasks.append(asyncio.create_task(click("clerk")))
        await asyncio.gather(*tasks)
        return order

    order = asyncio.run(scenario())
    assert order.index("clerk") <= 3 and order.count("flood") == 6, order


def test_the_queue_keeps_room_for_a_client_that_holds_nothing() -> None:
    engine = server.Engine(max_queue=4, per_client=3)
    assert [engine.admit("a") for _ in range(4)] == [0, 0, 0, 429]
    assert [engine.admit(c) for c in ("b", "c", "d", "e")] == [0, 0, 0, 503]  # 4, and a reserve of 4 // 2
    assert engine.admit("b") == 503  # b holds one already: no reserve for it
    engine.leave("a")
    assert engine.admit("e") == 0 and engine.held == 6


def test_rate_limit_refills_and_logs_refusals_once_in_a_while() -> None:
    now = [0.0]
    limit = server.RateLimit(60, clock=lambda: now[0])  # 1 a second, bursts of 30
    assert all(limit.allow("x") for _ in range(30)) and not limit.allow("x") and limit.allow("y")
    assert [limit.refusal_to_log("x") for _ in range(3)] == [1, 0, 0]
    now[0] = 2.0
    assert limit.allow("x") and limit.allow("x") and not limit.allow("x")
    now[0] = 11.0
    assert limit.refusal_to_log("x") == 3  # the two refusals not logged, and this one
