"""Reading a published report from a file or a web address, for the publication check (:mod:`xl_addin.published`).

A local file (web page, PDF, Word, text) goes to the importer as it is. An http(s) address is fetched with strict
limits, because the server fetches what a person typed: only http and https (no file://, no other scheme, also
not after a redirect); a bounded number of redirects; a timeout per connection step and one for the whole
download; at most the importer's report size limit (:data:`xl_addin.adapters.report_reader.MAX_BYTES`), read in
chunks and cut off past it (a compressed answer is expanded only up to the same limit); no proxy from the
environment; and no loopback, private, link-local or otherwise non-public address -- checked on the addresses
the name resolves to, and the connection made to the address that was checked (a name cannot resolve to a
public address for the check and a private one for the connection). ``allow_private=True`` lifts only that last
rule (tests serve pages on 127.0.0.1; a county may allow its own intranet portal).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import ipaddress
import os
import re
import socket
import ssl
import threading
import time
import urllib.parse
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..importers.parse import Imported
from .report_reader import MAX_BYTES, SUFFIXES, import_report

TIMEOUT: Final = 15.0  # seconds, each connection step and the whole download
MAX_REDIRECTS: Final = 5
CHUNK: Final = 64 * 1024
USER_AGENT: Final = "xl-addin publication check"

#: Content-Type -> the suffix the importer reads it by
_TYPES: Final = {"text/html": ".html", "application/xhtml+xml": ".html", "application/pdf": ".pdf",
                 "text/plain": ".txt", "application/msword": ".doc",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx"}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class FetchError(Exception):
    """A published report that could not be fetched; ``reason`` is Chinese, the message names the address."""

    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"{url}：{reason}")


@dataclass(frozen=True)
class Fetched:
    url: str  # the address the report was finally read from (after redirects)
    data: bytes
    suffix: str  # the kind of file, as the importer's suffix (".html", ".pdf" ...)


def is_url(source: str) -> bool:
    """Whether ``source`` is a web address (or names another scheme, which :func:`fetch` refuses), not a file
    path. A Windows drive ("C:\\...") is a path."""
    return bool(_SCHEME.match(source)) and not re.match(r"^[A-Za-z]:[\\/]", source)


def load_published(source: str | os.PathLike[str], *, allow_private: bool = False, timeout: float = TIMEOUT,
                   max_bytes: int = MAX_BYTES) -> Imported:
    """A published report read and imported: an http(s) address fetched (:func:`fetch`), else a local file.
    Raises FetchError, or ReadError (Chinese reason) when the file cannot be read as a report."""
    text = os.fspath(source)
    if not is_url(text):
        return import_report(Path(text))
    got = fetch(text, allow_private=allow_private, timeout=timeout, max_bytes=max_bytes)
    imp = import_report(Path(_name(got)), data=got.data)
    return dataclasses.replace(imp, data=dataclasses.replace(imp.data, source=got.url))


def load_published_bytes(filename: str, data: bytes) -> Imported:
    """An uploaded published report: ``data`` imported as the kind its ``filename``'s suffix names (only the
    name's last part is used, for the import record). Raises ReadError (Chinese reason)."""
    name = re.sub(r"[\x00-\x1f]", "", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip() or "published"
    return import_report(Path(name), data=data)


def fetch(url: str, *, allow_private: bool = False, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES,
          max_redirects: int = MAX_REDIRECTS, user_agent: str = USER_AGENT) -> Fetched:
    """The body of ``url`` within the limits of this module, asked for as ``user_agent`` (ASCII: it is a header).
    Raises FetchError."""
    start = time.monotonic()
    current = url
    for _ in range(max_redirects + 1):
        parts = _check_url(current, url)
        conn = _connection(parts, timeout, allow_private, url)
        # the whole fetch's deadline, also while the status line and headers arrive (http.client's timeout is per
        # read: a server dripping a header line at a time would hold it for ever): the socket is shut down then
        cut = _Cutter(conn, max(0.0, start + timeout - time.monotonic()))
        try:
            path = _ascii(parts.path) or "/"  # an address as people write it: "/年报 2023.html"
            if parts.query:
                path += "?" + _ascii(parts.query)
            try:
                conn.request("GET", path, headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate",
                                                   "Accept": "text/html,application/pdf,*/*;q=0.5"})
                resp = conn.getresponse()
            except FetchError:
                raise
            except (OSError, http.client.HTTPException) as exc:
                if cut.fired:
                    raise _timed_out(url, timeout) from None
                raise FetchError(url, f"无法连接网站（{_why(exc)}）。请检查网址，或下载后上传文件。") from None
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.getheader("Location") or ""
                if not location:
                    raise FetchError(url, f"网站返回跳转（HTTP {resp.status}）但没有给出新地址。")
                current = urllib.parse.urljoin(current, location)
                continue
            if resp.status != 200:
                raise FetchError(url, f"网站返回 HTTP {resp.status}，没有得到页面。请检查网址，或下载后上传文件。")
            try:
                data = _body(resp, url, start, timeout, max_bytes)
            except FetchError:
                if cut.fired:
                    raise _timed_out(url, timeout) from None
                raise
            if cut.fired:  # a body without a length ends where the socket was shut down: not the whole page
                raise _timed_out(url, timeout)
            return Fetched(current, data, _suffix(resp.getheader("Content-Type") or "", current, data))
        finally:
            cut.cancel()
            conn.close()
    raise FetchError(url, f"跳转次数过多（超过 {max_redirects} 次）。")


# ---- the parts -----------------------------------------------------------------------------------------------

def _check_url(current: str, asked: str) -> urllib.parse.SplitResult:
    try:
        parts = urllib.parse.urlsplit(current)
    except ValueError:  # "http://[::1", "http://[zz]/"
        raise FetchError(asked, "网址格式有误，请检查网址。") from None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in parts.netloc):
        raise FetchError(asked, "网址的网站地址中不能有空格或控制字符，请检查网址。")
    if parts.scheme.lower() not in ("http", "https"):
        where = "" if current == asked else f"（跳转到了“{current[:100]}”）"
        raise FetchError(asked, f"只能读取 http 或 https 网址{where}。")
    if not parts.hostname:
        raise FetchError(asked, "网址中没有网站地址。")
    if parts.username or parts.password:
        raise FetchError(asked, "网址中不能包含用户名或密码。")
    try:
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError:
        raise FetchError(asked, "网址中的端口号无效。") from None
    return parts


_NAT64: Final = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``ip`` is a public address, also the IPv4 address an IPv6 one carries for a gateway to connect to
    (IPv4-mapped, NAT64, 6to4, Teredo's client): each of them must be public too."""
    inner: list[ipaddress.IPv4Address] = []
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:
            if any(ip in net for net in _NAT64):
                inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
            if ip.sixtofour is not None:
                inner.append(ip.sixtofour)
            if ip.teredo is not None:
                inner += ip.teredo
    return all(a.is_global and not a.is_multicast for a in (ip, *inner))


def _open_socket(host: str, port: int, timeout: float, allow_private: bool, url: str) -> socket.socket:
    """A socket connected to an address ``host`` resolves to, every one of which has been checked."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchError(url, f"找不到网站“{host}”。请检查网址。") from None
    if not allow_private:
        for *_, sockaddr in infos:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            if not _public(ip):
                raise FetchError(url, f"网站“{host}”的地址（{ip}）是本机或内部网络地址，出于安全考虑不予读取。"
                                      "请下载后上传文件。")
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    raise FetchError(url, f"无法连接网站“{host}”（{_why(last)}）。")


class _HTTP(http.client.HTTPConnection):
    allow_private = False
    asked = ""

    def connect(self) -> None:
        self.sock = _open_socket(self.host, self.port, self.timeout or TIMEOUT, self.allow_private, self.asked)


class _HTTPS(http.client.HTTPSConnection):
    allow_private = False
    asked = ""

    def connect(self) -> None:
        sock = _open_socket(self.host, self.port, self.timeout or TIMEOUT, self.allow_private, self.asked)
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(sock, server_hostname=self.host)


def _connection(parts: urllib.parse.SplitResult, timeout: float, allow_private: bool,
                url: str) -> _HTTP | _HTTPS:
    host = parts.hostname or ""
    conn: _HTTP | _HTTPS
    # the port always given: http.client would read the end of an IPv6 address ("::1") as one
    if parts.scheme.lower() == "https":
        conn = _HTTPS(host, parts.port or 443, timeout=timeout)
    else:
        conn = _HTTP(host, parts.port or 80, timeout=timeout)
    conn.allow_private = allow_private
    conn.asked = url
    return conn


class _Cutter:
    """Shuts ``conn``'s socket down after ``seconds`` (``fired`` then), unless cancelled first."""

    def __init__(self, conn: http.client.HTTPConnection, seconds: float) -> None:
        self.conn, self.fired = conn, False
        self.timer = threading.Timer(seconds, self._cut)
        self.timer.daemon = True
        self.timer.start()

    def _cut(self) -> None:
        self.fired = True
        sock = self.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self.timer.cancel()


def _timed_out(url: str, timeout: float) -> FetchError:
    return FetchError(url, f"读取超时（超过 {timeout:g} 秒）。请稍后再试，或下载后上传文件。")


def _too_large(url: str, max_bytes: int) -> FetchError:
    return FetchError(url, f"页面过大（超过 {max_bytes // 1024 // 1024} MB），不像一份年度报告。")


def _body(resp: http.client.HTTPResponse, url: str, start: float, timeout: float, max_bytes: int) -> bytes:
    length = resp.getheader("Content-Length")
    if length and length.strip().isascii() and length.strip().isdigit() and int(length) > max_bytes:
        raise _too_large(url, max_bytes)
    encoding = (resp.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
        raise FetchError(url, f"网站使用了不支持的压缩方式（{encoding}）。请下载后上传文件。")
    inflate = None if encoding == "identity" else zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding
                                                                     else zlib.MAX_WBITS)
    out = bytearray()
    while True:
        if time.monotonic() - start > timeout:
            raise _timed_out(url, timeout)
        try:
            chunk = resp.read(CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(url, f"读取中断（{_why(exc)}）。") from None
        if not chunk:
            break
        if inflate is not None:
            try:
                chunk = inflate.decompress(chunk, max_bytes + 1 - len(out))
            except zlib.error:
                raise FetchError(url, "网站返回的压缩数据已损坏。") from None
            if inflate.unconsumed_tail:
                raise _too_large(url, max_bytes)
        out += chunk
        if len(out) > max_bytes:
            raise _too_large(url, max_bytes)
    if not out:
        raise FetchError(url, "网站返回的页面是空的。")
    return bytes(out)


def _suffix(content_type: str, url: str, data: bytes) -> str:
    """The kind of file: by its Content-Type, else the address's suffix, else its first bytes."""
    mime = content_type.split(";")[0].strip().lower()
    if mime in _TYPES:
        return _TYPES[mime]
    suffix = Path(urllib.parse.urlsplit(url).path).suffix.lower()
    if suffix in SUFFIXES:
        return suffix
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF"):
        return ".pdf"
    if head.startswith(b"PK"):
        return ".docx"
    return ".html" if head.startswith(b"<") else ".txt"


def _name(got: Fetched) -> str:
    """A file name for the import record: the address's last part, with the suffix of the kind read."""
    stem = Path(urllib.parse.unquote(urllib.parse.urlsplit(got.url).path)).stem
    stem = re.sub(r"[^\w.-]+", "_", stem)[:80] or "published"
    return stem + got.suffix


def _ascii(part: str) -> str:
    """A path or query with what HTTP cannot carry as it is (non-ASCII, spaces, controls) percent-encoded in UTF-8;
    what is already encoded, and the characters of the URL syntax, kept."""
    return urllib.parse.quote(part, safe="/?&=+;:@!$'()*,%~-._[]")


def _why(exc: BaseException | None) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "连接超时"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝"
    if isinstance(exc, ssl.SSLError):
        return "证书或加密连接出错"
    return type(exc).__name__ if exc is not None else "未知原因"
