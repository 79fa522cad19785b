"""The county's round end to end, with a real ``xl-addin serve --roster R --year Y`` process: distribute with keys
baked into the templates (surviving LibreOffice and openpyxl), submissions from the command line, a refused
impersonation, a workbook with errors, return -> resubmission -> version 2 with version 1 kept, accept ->
roll-up equal to collect's, the publication check; and kill -9 during a burst of submissions losing nothing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from conftest import cli, need
from test_server_limits import Serve, chinese

from xl_addin import api
from xl_addin.adapters import round_client as rc
from xl_addin.adapters.roundstore import RoundStore

YEAR = 2023
OWN = "将乐县工业和信息化局"  # the bundled sample's agency
OTHER = "将乐县财政局"
THIRD = "将乐县教育局"
FOURTH = "将乐县民政局"  # only the revocation test and the last test use it
API = "/round/api"


def roster(folder: Path, names: tuple[str, ...]) -> Path:
    path = folder / "名单.csv"
    path.write_text("机关名称,机关类别,层级,联系人\n" + "".join(f"{n},政府部门,县级,联系人{i}\n"
                                                         for i, n in enumerate(names)), encoding="utf-8")
    return path


def start(folder: Path, roster_file: Path, *more: str) -> Serve:
    return Serve(folder, "--roster", str(roster_file), "--year", str(YEAR), "--county", "将乐县",
                 "--rate-limit", "0", *more)


def fill(template: Path, out: Path, values: dict[str, Any]) -> Path:
    """The agency's distributed template filled in, as a clerk would (openpyxl saves it)."""
    return api.put(template, values, out)


def variant(data: bytes, i: int) -> bytes:
    """The same workbook as different bytes (a zip comment): a new version that passes the same check."""
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as z:
        z.comment = f"burst {i}".encode()
    return buf.getvalue()


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("round-server")
    srv = start(folder, roster(folder, (OWN, OTHER, THIRD, FOURTH)))
    yield srv
    srv.stop()


def coordinator_token(srv: Serve) -> Path:
    return srv.data_dir / "coordinator-token.txt"


def test_the_round_end_to_end(county: Serve, tmp_path: Path, sample_values: dict[str, Any]) -> None:
    srv = county
    token_file = coordinator_token(srv)
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600  # made at first start, the owner's only
    token = token_file.read_text().strip()
    with httpx.Client(base_url=srv.base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as ctl:
        round_end_to_end(srv, ctl, token_file, token, tmp_path, sample_values)


def round_end_to_end(srv: Serve, ctl: httpx.Client, token_file: Path, token: str, tmp_path: Path,
                     sample_values: dict[str, Any]) -> None:
    # distribute: each template carries the server and its own agency's key
    out = tmp_path / "templates"
    r = cli("distribute", roster(tmp_path, (OWN, OTHER, THIRD)), "-o", out, "--year", str(YEAR),
            "--server", srv.base, "--token-file", token_file)
    assert r.returncode == 0, r.stderr
    templates = {n: next(out.glob(f"*{n}*.xlsx")) for n in (OWN, OTHER, THIRD)}
    props = {n: rc.read_properties(p) for n, p in templates.items()}
    assert {p[rc.PROP_SERVER] for p in props.values()} == {srv.base}
    assert len({p[rc.PROP_KEY] for p in props.values()}) == 3 and props[OTHER][rc.PROP_AGENCY] == OTHER

    # a clerk fills OWN's template and submits it with no further flags
    v1 = fill(templates[OWN], tmp_path / "own-v1.xlsx", sample_values)
    r = cli("submit", v1)
    assert r.returncode == 0, r.stderr
    assert "已提交第1版" in r.stdout and "回执号 2023-" in r.stdout

    # OTHER's key with a workbook naming OWN: refused 403, audited
    fake = fill(templates[OTHER], tmp_path / "other-as-own.xlsx", sample_values)  # the sample names OWN
    r = cli("submit", fake)
    assert r.returncode == 2 and f"“{OWN}”" in r.stderr and f"“{OTHER}”" in r.stderr and "拒绝" in r.stderr
    refused = [e for e in srv.audit() if e.get("event") == "round" and e.get("status") == 403]
    assert refused and refused[-1]["agency"] == OTHER and refused[-1]["claimed"] == OWN

    # a workbook with errors: refused with its findings, exit 1
    bad = fill(templates[THIRD], tmp_path / "third-bad.xlsx", {**sample_values, "meta.agency": THIRD,
                                                                  "t2.licensing.count": -3})
    r = cli("submit", bad)
    assert r.returncode == 1 and "个错误" in r.stderr and "[错误]" in r.stderr

    # return with reasons -> the board and the agency's own view show them
    r = cli("review", OWN, "--server", srv.base, "--token-file", token_file, "--return", "表二 行政许可数量有误")
    assert r.returncode == 0 and "退回" in r.stdout
    board = json.loads(cli("board", "--server", srv.base, "--token-file", token_file, "--json").stdout)
    row = {a["name"]: a for a in board["agencies"]}[OWN]
    assert row["state"] == "returned" and row["reasons"] == ["表二 行政许可数量有误"] and row["published"] is None
    assert set(row) == {"name", "state", "versions", "reasons", "published"}
    assert set(row["versions"][0]) == {"number", "sha256", "submitted_at"}
    mine = httpx.get(srv.base + API + "/me", headers={"Authorization": f"Bearer {props[OWN][rc.PROP_KEY]}"})
    assert mine.json()["state"] == "returned" and mine.json()["reasons"] == ["表二 行政许可数量有误"]

    # resubmission -> version 2; version 1 still downloadable and intact
    v2 = fill(v1, tmp_path / "own-v2.xlsx", {"t2.licensing.count": 5})
    r = cli("submit", v2)
    assert r.returncode == 0 and "已提交第2版" in r.stdout
    got = ctl.get(f"{API}/agencies/{OWN}/versions/1")
    assert got.status_code == 200 and got.content == v1.read_bytes()
    assert ctl.get(f"{API}/agencies/{OWN}/versions/2").content == v2.read_bytes()

    # an agency sees only its own reports
    other_key = {"Authorization": f"Bearer {props[OTHER][rc.PROP_KEY]}"}
    denied = httpx.get(srv.base + f"{API}/agencies/{OWN}", headers=other_key)
    assert denied.status_code == 403 and chinese(denied.json()["message"])
    assert httpx.get(srv.base + f"{API}/agencies/{OWN}/versions/1", headers=other_key).status_code == 403

    # accept OWN and OTHER -> roll-up of the accepted versions equals collect's over the same files
    other = fill(templates[OTHER], tmp_path / "other.xlsx", {**sample_values, "meta.agency": OTHER,
                                                             "t2.licensing.count": 11})
    assert cli("submit", other).returncode == 0
    for name in (OWN, OTHER):
        r = cli("review", name, "--server", srv.base, "--token-file", token_file, "--accept")
        assert r.returncode == 0, r.stderr
    roll = tmp_path / "汇总.xlsx"
    r = cli("board", "--server", srv.base, "--token-file", token_file, "--rollup", roll)
    assert r.returncode == 0 and "已通过" in r.stdout and "未提交" in r.stdout
    accepted = tmp_path / "accepted"
    accepted.mkdir()
    shutil.copy(v2, accepted / "own.xlsx")
    shutil.copy(other, accepted / "other.xlsx")
    want = api.collect(accepted, None, tmp_path / "collect.xlsx", year=YEAR).rollup.values
    from xl_addin import derive
    from xl_addin.collect import TABLE_KEYS

    book = derive.effective_values(api.read(roll))
    assert {k: book.get(k) or 0 for k in TABLE_KEYS} == dict(want) and want["t2.licensing.count"] == 16

    # the publication check: the accepted version's own web page matches; one with a figure changed differs
    pages = tmp_path / "pages"
    page = api.export(v2, pages / "same", "html")[0]
    r = cli("review", OWN, "--server", srv.base, "--token-file", token_file, "--published", page)
    assert r.returncode == 0 and "一致" in r.stdout, r.stdout + r.stderr
    changed = fill(v2, tmp_path / "changed.xlsx", {"t2.licensing.count": 6})
    page2 = api.export(changed, pages / "changed", "html")[0]
    r = cli("review", OWN, "--server", srv.base, "--token-file", token_file, "--published", page2)
    assert r.returncode == 1 and "发布稿与审核通过稿不一致：" in r.stdout and "发布 6，通过稿 5" in r.stdout, r.stdout
    board = json.loads(cli("board", "--server", srv.base, "--token-file", token_file, "--json").stdout)
    assert {a["name"]: a["published"] for a in board["agencies"]}[OWN] == "differs"

    # the 通报 draft
    notice = ctl.get(f"{API}/notice.txt")
    assert notice.status_code == 200 and THIRD in notice.content.decode("utf-8")

    # nothing secret in the audit log
    log = (srv.data_dir / "audit.log").read_text(encoding="utf-8")
    assert token not in log and not any(p[rc.PROP_KEY] in log for p in props.values())


def test_refusals_are_chinese_4xx_never_500(county: Serve) -> None:
    token = coordinator_token(county).read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    base = county.base + API
    cases = [
        httpx.get(base + "/board"),  # no token
        httpx.get(base + "/board", headers={"Authorization": "Bearer " + "x" * 43}),
        httpx.post(base + "/submit", content=b"PK\x03\x04junk", headers={"Authorization": "Bearer nope"}),
        httpx.get(base + f"/agencies/{OWN}/versions/abc", headers=auth),
        httpx.get(base + f"/agencies/{OWN}/versions/99", headers=auth),
        httpx.get(base + "/agencies/不存在的局", headers=auth),
        httpx.post(base + f"/agencies/{OWN}/review", content=b"[1, 2", headers=auth),
        httpx.post(base + f"/agencies/{OWN}/review", json={"action": "delete"}, headers=auth),
        httpx.post(base + f"/agencies/{OWN}/review", json={"action": "accept", "version": "1"}, headers=auth),
        httpx.post(base + "/keys", json={"agencies": ["不存在的局"]}, headers=auth),
        httpx.get(base + "/notice.pdf", headers=auth),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text)
        text = r.json()["message"] if "json" in r.headers.get("content-type", "") else r.text
        assert chinese(text), (r.request.url, text)


def test_the_key_survives_a_save_by_libreoffice_and_openpyxl(county: Serve, tmp_path: Path,
                                                            sample_values: dict[str, Any]) -> None:
    soffice = need("soffice")
    token_file = coordinator_token(county)
    out = tmp_path / "t"
    assert cli("distribute", roster(tmp_path, (THIRD,)), "-o", out, "--year", str(YEAR), "--server", county.base,
               "--token-file", token_file).returncode == 0
    template = fill(next(out.glob("*.xlsx")), tmp_path / "filled.xlsx", {**sample_values, "meta.agency": THIRD})
    want = rc.read_properties(template)
    assert want[rc.PROP_KEY] and want[rc.PROP_SERVER] == county.base
    wb = openpyxl.load_workbook(template)
    wb.save(tmp_path / "openpyxl.xlsx")
    assert {k: v for k, v in rc.read_properties(tmp_path / "openpyxl.xlsx").items() if k in want} == want
    lo = tmp_path / "lo"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "xlsx:Calc MS Excel 2007 XML", "--outdir", str(lo), str(template)], check=True,
                   capture_output=True, timeout=180)
    saved = next(lo.glob("*.xlsx"))
    assert {k: v for k, v in rc.read_properties(saved).items() if k in want} == want
    # and the workbook LibreOffice saved is submitted as THIRD by `xl-addin submit` with no flags
    r = cli("submit", saved)
    assert r.returncode == 0 and "已提交第1版" in r.stdout, r.stdout + r.stderr


def test_kill_9_during_a_burst_loses_no_receipted_version(tmp_path: Path, sample: Path) -> None:
    names = ("县甲局", "县乙局", "县丙局")
    srv = start(tmp_path, roster(tmp_path, names))
    token = coordinator_token(srv).read_text().strip()
    keys = httpx.post(srv.base + API + "/keys", json={"agencies": None},
                      headers={"Authorization": f"Bearer {token}"}, timeout=60).json()["keys"]
    base = {}
    for n in names:
        path = api.put(sample, {"meta.agency": n}, tmp_path / f"{n}.xlsx")
        base[n] = path.read_bytes()
    receipts: list[tuple[str, int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def clerk(name: str) -> None:
        i = 0
        with httpx.Client(base_url=srv.base, timeout=30,
                          headers={"Authorization": f"Bearer {keys[name]}"}) as c:
            while not stop.is_set():
                i += 1
                data = variant(base[name], i)
                try:
                    r = c.post(API + "/submit", params={"filename": f"{name}.xlsx"}, content=data)
                except httpx.HTTPError:
                    return  # the server is gone: this submission got no receipt
                if r.status_code == 201:
                    rec = r.json()["receipt"]
                    assert rec["sha256"] == hashlib.sha256(data).hexdigest()
                    with lock:
                        receipts.append((name, rec["version"], rec["sha256"]))

    threads = [threading.Thread(target=clerk, args=(n,)) for n in names]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(receipts) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(srv.proc.pid, 9)  # mid-burst: requests in flight
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert len(receipts) >= 12
    again = start(tmp_path, roster(tmp_path, names))
    try:
        with httpx.Client(base_url=again.base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as ctl:
            board = {a["name"]: a for a in ctl.get(API + "/board").json()["agencies"]}
            for name, number, sha in receipts:
                kept = {v["number"]: v["sha256"] for v in board[name]["versions"]}
                assert kept.get(number) == sha, (name, number)
                got = ctl.get(f"{API}/agencies/{name}/versions/{number}")
                assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha
        for name in names:  # no half version: numbered 1..n, every row with its intact file
            assert [v["number"] for v in board[name]["versions"]] == list(range(1, len(board[name]["versions"]) + 1))
        with RoundStore.open(again.data_dir) as store:
            problems, _orphans = store.verify()
        assert problems == []
    finally:
        again.stop()


def test_a_revoked_key_is_refused_and_a_reissued_one_works(county: Serve, tmp_path: Path,
                                                          sample_values: dict[str, Any]) -> None:
    token_file = coordinator_token(county)
    token = token_file.read_text().strip()
    out = tmp_path / "t"
    assert cli("distribute", roster(tmp_path, (FOURTH,)), "-o", out, "--year", str(YEAR), "--server", county.base,
               "--token-file", token_file).returncode == 0
    book = fill(next(out.glob("*.xlsx")), tmp_path / "other.xlsx", {**sample_values, "meta.agency": FOURTH,
                                                                     "t2.licensing.count": 21})
    r = httpx.post(f"{county.base}{API}/agencies/{FOURTH}/revoke", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and "停用" in r.json()["message"]
    r2 = cli("submit", book)
    assert r2.returncode == 2 and "密钥" in r2.stderr
    assert cli("distribute", roster(tmp_path, (FOURTH,)), "-o", tmp_path / "t2", "--year", str(YEAR), "--server",
               county.base, "--token-file", token_file).returncode == 0
    fresh = rc.read_properties(next((tmp_path / "t2").glob("*.xlsx")))
    key_file = _write(tmp_path / "key.txt", fresh[rc.PROP_KEY])
    r3 = cli("submit", book, "--key-file", key_file, "--server", county.base)
    assert r3.returncode == 0 and "已提交第1版" in r3.stdout, r3.stdout + r3.stderr


def test_a_key_file_is_sent_only_to_the_server_named_on_the_command_line(tmp_path: Path, sample: Path) -> None:
    """A workbook names its server; a key of one's own (--key-file) must not go to whatever address a forwarded or
    hostile workbook names: without --server it is refused before anything is sent."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        elsewhere = f"http://127.0.0.1:{listener.getsockname()[1]}"
        book = tmp_path / "forwarded.xlsx"
        book.write_bytes(rc.with_properties(sample.read_bytes(), {rc.PROP_SERVER: elsewhere, rc.PROP_KEY: "x" * 43}))
        r = cli("submit", book, "--key-file", _write(tmp_path / "key.txt", "k" * 43))
        assert r.returncode == 2 and "--server" in r.stderr and "Traceback" not in r.stderr, r
        with pytest.raises(TimeoutError):  # nobody called the address the workbook names
            listener.accept()


def _write(path: Path, text: str) -> Path:
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("args", "words"), [
    (("--roster", "{tmp}/none.csv", "--year", "2023"), "名单"),
    (("--roster", "{tmp}/名单.csv"), "--year"),
    (("--year", "2023"), "--roster"),
    (("--roster", "{tmp}/名单.csv", "--year", "2023", "--deadline", "2026-13-40"), "YYYY-MM-DD"),
])
def test_serve_refuses_a_round_it_cannot_run(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    roster(tmp_path, (OWN,))
    r = cli("serve", "--data-dir", tmp_path / "d", "--token-file", tmp_path / "t.txt",
            *(a.format(tmp=tmp_path) for a in args))
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_serve_refuses_a_data_dir_of_another_year(tmp_path: Path) -> None:
    RoundStore.open(tmp_path / "d", year=2022).close()
    r = cli("serve", "--data-dir", tmp_path / "d", "--token-file", tmp_path / "t.txt", "--roster",
            roster(tmp_path, (OWN,)), "--year", str(YEAR))
    assert r.returncode == 2 and "2022" in r.stderr and "单独的数据目录" in r.stderr


def test_a_lone_surrogate_or_a_body_that_is_no_object_is_a_400_and_in_the_audit(
        county: Serve, sample: Path, tmp_path: Path, sample_values: dict[str, Any]) -> None:
    """JSON may spell a lone surrogate ("\\ud800") that UTF-8 (SQLite, audit.log) cannot hold: it was a 5xx
    "服务器处理时出错" for a return reason or an agency name; a body that is no JSON object issued 0 keys with 200."""
    token = coordinator_token(county).read_text().strip()
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    base = county.base + API
    key = httpx.post(base + "/keys", json={"agencies": [FOURTH]}, headers=auth, timeout=60).json()["keys"][FOURTH]
    book = fill(sample, tmp_path / "fourth.xlsx", {**sample_values, "meta.agency": FOURTH})
    assert rc.submit(county.base, key, book.read_bytes(), book.name).status == 201  # a version to return
    before = len(county.audit())
    cases = [
        httpx.post(base + f"/agencies/{FOURTH}/review", content=b'{"action": "return", "reasons": ["a\\ud800"]}',
                   headers=auth),
        httpx.post(base + "/keys", content=b'{"agencies": ["\\udc00"]}', headers=auth),
        httpx.post(base + "/keys", content=b"[[[[", headers=auth),
        httpx.post(base + "/keys", content=b"[1, 2]", headers=auth),
    ]
    for r in cases:
        assert r.status_code == 400, (r.request.url, r.status_code, r.text)
        assert chinese(r.json()["message"]), r.text
    lines = county.audit()[before:]
    assert [line["status"] for line in lines if line.get("status")] == [400] * len(cases), lines
    assert token not in json.dumps(lines)


def test_a_workbook_over_the_server_s_limit_is_told_as_too_large_not_as_no_connection(county: Serve,
                                                                                      tmp_path: Path) -> None:
    """The server answers 413 and closes while the client is still sending: the clerk saw "无法连接服务器"."""
    big = tmp_path / "big.xlsx"
    big.write_bytes(os.urandom(12 * 1024 * 1024))
    key = _write(tmp_path / "key.txt", "k" * 43)
    r = cli("submit", big, "--server", county.base, "--key-file", key)
    assert r.returncode == 2 and "超过" in r.stderr and "无法连接" not in r.stderr, r.stderr
