"""The round's HTTP client (``xl-addin submit/board/review/distribute --server``) and where a distributed template
carries its server and its agency's key.

Developer note. A template made by ``distribute --server`` carries three custom document properties
(``docProps/custom.xml``; Excel: 文件 > 信息 > 属性 > 高级属性 > 自定义; VBA: ``ThisWorkbook.CustomDocumentProperties``):
:data:`PROP_SERVER` (the county server's address), :data:`PROP_KEY` (the agency's key, sent as ``Authorization:
Bearer``) and :data:`PROP_AGENCY` (the agency's name, for people). Custom properties survive a save by Excel, WPS,
LibreOffice and openpyxl (tests/test_round_server.py holds the last two) and are not cells a clerk can type over
or a check can flag. :func:`with_properties` adds them to a workbook's bytes as a zip-level patch (no other part
changes); :func:`read_properties` reads them back from an untrusted file with bounded sizes.

HTTP: the standard library's ``urllib`` (no new dependency), the key or token only in the Authorization header.
Every answer -- the routes' JSON, or the server's plain-text refusals -- becomes one :class:`Answer`;
a server that cannot be reached is :class:`ClientError` with a Chinese message.
"""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

PROP_SERVER: Final = "xl_addin_server"
PROP_KEY: Final = "xl_addin_key"
PROP_AGENCY: Final = "xl_addin_agency"
CUSTOM_PART: Final = "docProps/custom.xml"
CUSTOM_TYPE: Final = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_REL: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_CP_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_FMTID: Final = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
#: the largest custom.xml read back (a template's is well under 2 KB)
MAX_CUSTOM_BYTES: Final = 256 * 1024
TIMEOUT: Final = 60.0
API: Final = "/round/api"
MAX_PUBLISHED_BYTES: Final = 20 * 1024 * 1024
REDIRECTED: Final = ("服务器答复要跳转（HTTP {status}）到 {where}；为免密钥或令牌被发往别处，未跟随跳转。"
                     "如该地址确是县级服务器，请用它作为服务器地址（例如 https:// 开头的地址）。")


class ClientError(Exception):
    """The server could not be asked (address, network); the message is Chinese."""


# ---- the template's properties ----------------------------------------------------------------------------------

def _custom_xml(props: Mapping[str, str]) -> bytes:
    items = "".join(f'<property fmtid="{_FMTID}" pid="{pid}" name="{escape(name, {chr(34): "&quot;"})}">'
                    f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
                    for pid, (name, value) in enumerate(props.items(), start=2))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="{_CP_NS}" '
            f'xmlns:vt="{_VT_NS}">{items}</Properties>').encode()


def with_properties(data: bytes, props: Mapping[str, str]) -> bytes:
    """``data`` (a workbook's bytes) with ``props`` as its custom document properties (any it had replaced)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        for info in src.infolist():
            if info.filename == CUSTOM_PART:
                continue
            raw = src.read(info)
            if info.filename == "[Content_Types].xml" and CUSTOM_PART.encode() not in raw:
                raw = raw.replace(b"</Types>", f'<Override PartName="/{CUSTOM_PART}" ContentType="{CUSTOM_TYPE}"/>'
                                  "</Types>".encode())
            elif info.filename == "_rels/.rels" and CUSTOM_REL.encode() not in raw:
                ids = set(re.findall(rb'Id="([^"]+)"', raw))
                rid = next(f"rIdXa{i}" for i in range(1, 1000) if f"rIdXa{i}".encode() not in ids)
                raw = raw.replace(b"</Relationships>", f'<Relationship Id="{rid}" Type="{CUSTOM_REL}" '
                                  f'Target="{CUSTOM_PART}"/></Relationships>'.encode())
            dst.writestr(info, raw)
        dst.writestr(zipfile.ZipInfo(CUSTOM_PART, date_time=src.infolist()[0].date_time), _custom_xml(props),
                     compress_type=zipfile.ZIP_DEFLATED)
        assert "[Content_Types].xml" in names
    return out.getvalue()


def read_properties(path: str | Path) -> dict[str, str]:
    """The custom document properties of the workbook at ``path`` (string ones), {} when it has none or is not
    a workbook. Sizes are bounded: the file is untrusted."""
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                info = zf.getinfo(CUSTOM_PART)
            except KeyError:
                return {}
            if info.file_size > MAX_CUSTOM_BYTES:
                return {}
            with zf.open(info) as fh:
                raw = fh.read(MAX_CUSTOM_BYTES + 1)
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError):
        return {}
    if len(raw) > MAX_CUSTOM_BYTES or b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        return {}
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return {}
    out = {}
    for prop in root:
        name = prop.get("name")
        value = next((child.text for child in prop), None)
        if name and isinstance(value, str):
            out[name] = value.strip()
    return out


# ---- HTTP ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """One answer of the server: its status, its JSON (None: it was plain text) and the Chinese message."""

    status: int
    json: Any
    message: str
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def from_server(self) -> bool:
        """A 2xx whose body is the routes' JSON object: what a proxy's or captive portal's page never is."""
        return self.ok and isinstance(self.json, dict)


#: a 2xx that is not the county server's JSON (a proxy's or a login page's answer): nothing is confirmed
NOT_SERVER: Final = ("服务器地址 {url} 答复的内容不是县级服务器的答复（可能是代理、网关或上网登录页面），操作未确认。"
                     "请检查服务器地址，或联系县政务公开办。")


def base_url(server: str) -> str:
    """``server`` as a base address ("https://gk.example.gov.cn"); ClientError when it is not http(s)."""
    url = server.strip().rstrip("/")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise ClientError(f"服务器地址有误：“{server}”（应如 https://gk.example.gov.cn 或 http://192.168.1.10:8000）。"
                          ) from None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ClientError(f"服务器地址中不能含有空格或控制字符，收到“{server!r}”。")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ClientError(f"服务器地址应以 http:// 或 https:// 开头，收到“{server}”。")
    if parts.username or parts.password:
        raise ClientError("服务器地址中不能含有用户名或密码（密钥放在请求头中发送）。")
    return url


def request(server: str, method: str, path: str, token: str, body: bytes | None = None, *,
            content_type: str = "application/json", timeout: float = TIMEOUT) -> Answer:
    """``method`` ``path`` (under the server's base) with ``Authorization: Bearer token``."""
    url = base_url(server) + path
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:  # http(s) only: base_url
            return _answer(resp.status, resp.headers.get("content-type", ""), resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            if 300 <= exc.code < 400:
                where = (exc.headers.get("location", "") if exc.headers else "")[:300]
                return Answer(exc.code, None, REDIRECTED.format(status=exc.code, where=where or "（未给出）"))
            return _answer(exc.code, exc.headers.get("content-type", "") if exc.headers else "", exc.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:  # ValueError: http.client.InvalidURL
        reason = getattr(exc, "reason", exc)
        if body is not None and len(body) > 1024 * 1024 and isinstance(reason, ConnectionResetError | BrokenPipeError):
            # the server refused the body (413) and closed while it was still being sent
            raise ClientError(f"服务器在接收文件（{len(body) / (1024 * 1024):.1f} MB）时断开了连接：文件可能超过服务器允许的"
                              "大小。请删除多余的工作表和图片，另存后再提交，或联系县政务公开办。") from None
        raise ClientError(f"无法连接服务器 {base_url(server)}（{reason}）。请检查地址和网络，或联系县政务公开办。") from None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: urllib would send the Authorization header (the key or the coordinator's
    token) on to whatever address the answer names."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


_OPENER: Final = urllib.request.build_opener(_NoRedirect)


def _answer(status: int, content_type: str, raw: bytes) -> Answer:
    if "json" in content_type:
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        message = str(value.get("message", "")) if isinstance(value, dict) else ""
        return Answer(status, value, message, raw)
    if content_type.startswith("text/"):
        return Answer(status, None, raw.decode("utf-8", "replace").strip()[:2000], raw)
    return Answer(status, None, "", raw)


def quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def submit(server: str, key: str, data: bytes, filename: str) -> Answer:
    return request(server, "POST", f"{API}/submit?filename={quote(filename)}", key, data,
                   content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def board(server: str, token: str) -> Answer:
    return request(server, "GET", f"{API}/board", token)


def rollup(server: str, token: str) -> Answer:
    return request(server, "GET", f"{API}/rollup.xlsx", token)


def review(server: str, token: str, agency: str, action: str, reasons: list[str],
           version: int | None = None) -> Answer:
    body = json.dumps({"action": action, "version": version, "reasons": reasons}, ensure_ascii=False).encode()
    return request(server, "POST", f"{API}/agencies/{quote(agency)}/review", token, body)


def published(server: str, token: str, agency: str, source: str) -> Answer:
    """The publication check of ``agency``'s accepted version against ``source``: an http(s) address (the server
    fetches it) or a local file (uploaded). Raises ClientError for a file that cannot be read."""
    path = f"{API}/agencies/{quote(agency)}/published"
    if source.lower().startswith(("http://", "https://")):
        body = json.dumps({"url": source}, ensure_ascii=False).encode()
        return request(server, "POST", path, token, body)
    try:
        with open(source, "rb") as fh:
            data = fh.read(MAX_PUBLISHED_BYTES + 1)
    except OSError as exc:
        raise ClientError(f"无法读取发布稿文件 {source}（{exc.strerror or exc}）。") from None
    if len(data) > MAX_PUBLISHED_BYTES:
        raise ClientError(f"发布稿文件 {source} 超过 {MAX_PUBLISHED_BYTES // (1024 * 1024)} MB。")
    name = Path(source).name
    return request(server, "POST", f"{path}?filename={quote(name)}", token, data,
                   content_type="application/octet-stream", timeout=TIMEOUT * 2)


def issue_keys(server: str, token: str, agencies: list[str] | None) -> Answer:
    body = json.dumps({"agencies": agencies}, ensure_ascii=False).encode()
    return request(server, "POST", f"{API}/keys", token, body)
