"""Where a distributed template carries its server and key (custom document properties), read back safely; the
client's answers from JSON and plain-text refusals; addresses that are not http(s) refused in Chinese."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import cli

from xl_addin import api
from xl_addin.adapters import round_client as rc

PROPS = {rc.PROP_SERVER: "https://gk.example.gov.cn", rc.PROP_KEY: "k" * 43, rc.PROP_AGENCY: "将乐县财政局 <&\">"}


def test_properties_round_trip_and_leave_the_check_alone(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "with.xlsx"
    out.write_bytes(rc.with_properties(sample.read_bytes(), PROPS))
    assert rc.read_properties(out) == PROPS
    assert [f.to_dict() for f in api.check(out).findings] == [f.to_dict() for f in api.check(sample).findings]
    with zipfile.ZipFile(out) as z, zipfile.ZipFile(sample) as src:  # only the properties were added
        assert set(z.namelist()) - set(src.namelist()) == {rc.CUSTOM_PART}
        for name in src.namelist():
            if name not in ("[Content_Types].xml", "_rels/.rels"):
                assert z.read(name) == src.read(name), name
    # replaced, not duplicated, when given again
    again = rc.with_properties(out.read_bytes(), {**PROPS, rc.PROP_KEY: "n" * 43})
    (tmp_path / "again.xlsx").write_bytes(again)
    assert rc.read_properties(tmp_path / "again.xlsx")[rc.PROP_KEY] == "n" * 43
    with zipfile.ZipFile(io.BytesIO(again)) as z:
        assert z.read("[Content_Types].xml").count(rc.CUSTOM_PART.encode()) == 1
        assert z.read("_rels/.rels").count(rc.CUSTOM_REL.encode()) == 1


def test_openpyxl_keeps_them(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "with.xlsx"
    out.write_bytes(rc.with_properties(sample.read_bytes(), PROPS))
    wb = openpyxl.load_workbook(out)
    wb["基本信息"]["A1"].value = wb["基本信息"]["A1"].value
    wb.save(tmp_path / "saved.xlsx")
    assert rc.read_properties(tmp_path / "saved.xlsx") == PROPS


def _with_custom(tmp_path: Path, sample: Path, custom: bytes) -> Path:
    out = tmp_path / "hostile.xlsx"
    buf = io.BytesIO(rc.with_properties(sample.read_bytes(), PROPS))
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, custom if info.filename == rc.CUSTOM_PART else src.read(info))
    return out


@pytest.mark.parametrize("custom", [
    b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><p>&b;</p>',
    b"<Properties><property name='x'",
    b"<Properties>" + b"<property name='x'><vt>y</vt></property>" * 20_000 + b"</Properties>",
])
def test_hostile_properties_read_as_none(sample: Path, tmp_path: Path, custom: bytes) -> None:
    assert rc.read_properties(_with_custom(tmp_path, sample, custom)) == {}


def test_not_a_workbook_has_no_properties(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"not a zip")
    assert rc.read_properties(tmp_path / "a.xlsx") == {} and rc.read_properties(tmp_path / "missing.xlsx") == {}


@pytest.mark.parametrize("url", ["ftp://gk.example.gov.cn", "gk.example.gov.cn", "file:///etc/passwd",
                                 "https://user:pw@gk.example.gov.cn"])
def test_only_http_addresses(url: str) -> None:
    with pytest.raises(rc.ClientError) as e:
        rc.base_url(url)
    assert "服务器地址" in str(e.value)


def test_unreachable_server_is_a_chinese_error() -> None:
    with pytest.raises(rc.ClientError) as e:
        rc.board("http://127.0.0.1:9", "t" * 43)
    assert "无法连接服务器" in str(e.value)


def test_answers_from_json_and_text() -> None:
    a = rc._answer(403, "application/json", '{"ok": false, "message": "拒绝"}'.encode())
    assert (a.status, a.ok, a.message) == (403, False, "拒绝")
    t = rc._answer(429, "text/plain; charset=utf-8", "请求过多".encode())
    assert t.message == "请求过多" and t.json is None


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:abc", "http://127.0.0.1:99999", "http://a b",
                                 "http://exa\x01mple"])
def test_malformed_addresses_are_a_chinese_error_not_a_traceback(url: str, tmp_path: Path) -> None:
    token = tmp_path / "token.txt"
    token.write_text("t" * 43, encoding="utf-8")
    r = cli("board", "--server", url, "--token-file", token)
    assert r.returncode == 2 and "服务器地址" in r.stderr, r


class _Proxy(http.server.BaseHTTPRequestHandler):
    """A proxy or captive portal in front of the county server: 200 with its own page (or bytes, or a JSON list)."""

    body = (b"<html><body>Proxy login</body></html>", "text/html")

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        raw, ctype = self.body
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(params=[(b"<html><body>Proxy login</body></html>", "text/html"), (b"\x00\xff{{", "application/json"),
                        (b"[1, 2]", "application/json"), (b"\x89PNG", "image/png")], ids=["html", "garbage", "list",
                                                                                          "binary"])
def proxy(request: pytest.FixtureRequest) -> Any:
    handler = type("H", (_Proxy,), {"body": request.param})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_a_200_that_is_not_the_county_server_s_answer_is_never_success(proxy: str, sample: Path,
                                                                        tmp_path: Path) -> None:
    """A submission or a review answered by a proxy's page is not confirmed: non-zero exit, a Chinese message."""
    token = tmp_path / "token.txt"
    token.write_text("t" * 43, encoding="utf-8")
    for args in (("submit", sample, "--server", proxy, "--key-file", token),
                 ("review", "将乐县财政局", "--server", proxy, "--token-file", token, "--accept"),
                 ("review", "将乐县财政局", "--server", proxy, "--token-file", token, "--published", sample),
                 ("board", "--server", proxy, "--token-file", token)):
        r = cli(*args)
        assert r.returncode == 2, (args, r)
        assert "不是县级服务器的答复" in r.stderr, (args, r)


def test_distribute_checks_its_output_folder_before_the_server_replaces_any_key(tmp_path: Path) -> None:
    """An output folder that cannot be written was a traceback after the server had already replaced every
    agency's key (the old ones dead, no template written). Now: refused first, the server not even asked."""
    roster = tmp_path / "名单.csv"
    roster.write_text("机关名称,机关类别,层级,联系人\n将乐县财政局,政府部门,县级,张三\n", encoding="utf-8")
    token = tmp_path / "token.txt"
    token.write_text("t" * 43, encoding="utf-8")
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    for server in ("http://127.0.0.1:9", None):  # nothing listens at :9: a request would say 无法连接服务器
        more = ("--server", server, "--token-file", token) if server else ()
        r = cli("distribute", roster, "-o", blocker / "out", "--year", "2023", *more)
        assert r.returncode == 2 and "输出文件夹" in r.stderr and "无法连接" not in r.stderr, r


class _County(_Proxy):
    """A county server's board and roll-up answers (canned)."""

    def _answer(self) -> None:
        self.body = ((b"PK\x03\x04 a workbook", "application/octet-stream") if self.path.endswith("rollup.xlsx") else
                     (b'{"agencies": []}', "application/json"))
        super()._answer()

    do_GET = _answer


def test_board_rollup_to_a_folder_that_cannot_be_written_is_a_chinese_error(tmp_path: Path) -> None:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _County)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        token = tmp_path / "token.txt"
        token.write_text("t" * 43, encoding="utf-8")
        blocker = tmp_path / "a-file"
        blocker.write_text("x", encoding="utf-8")
        r = cli("board", "--server", f"http://127.0.0.1:{srv.server_address[1]}", "--token-file", token,
                "--rollup", blocker / "rollup.xlsx")
        assert r.returncode == 2 and "a-file" in r.stderr and "汇总表" in r.stderr, r
    finally:
        srv.shutdown()
        srv.server_close()
