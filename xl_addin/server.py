"""``xl-addin serve``: the county's xlwings Server, so that agencies' PCs need no Python.

The server add-in (``xl-addin addin --server URL``) posts the workbook with xlwings' VBA client
(``RunRemotePython``, ``Remote.bas``) to one endpoint per button; the endpoint builds ``xw.Book(json=payload)`` --
xlwings' remote engine, the way xlwings' own server projects do it -- runs the very function of
:mod:`xl_addin.addin` that the local add-in's ``RunPython`` runs, and answers ``book.json()``: the actions the VBA
client then carries out (write cells, run our helper macros, alert)::

    POST /xl_addin/{validate|fill_totals|clear_marks|export_report|about}?addin=<XaHex of the add-in's name>
    GET  /xl_addin/files/{id}?exp=...&sig=...           the download page of one export
    GET  /xl_addin/files/{id}/{file}?exp=...&sig=...    one exported file
    GET  /xl_addin/health                               "ok" (no token: for the service manager and the proxy)

Rules: every POST carries the county's token (``Authorization: Bearer <token>``), else 401 with a Chinese text
(the VBA client shows a non-200 answer's text in a message box); a body over ``max_body`` bytes gets 413; a body
that is not a workbook from our template, or not JSON at all, gets one Chinese alert action; JSON nested deeper or
with more elements than a workbook has gets 400 -- never a 500 and never a traceback (those go to the server's own
log). 导出报告 writes under ``data_dir/exports/<year>/<agency>/<id>/`` (the agency name made safe for a path, ``id``
random) and tells the clerk a download link signed with the token (HMAC, expires), which the add-in opens in the
browser.

The token is in every agency's .xlam, so whoever holds it is not trusted to be gentle (see :class:`Engine`): one
worker process runs one click at a time and holds at most ``max_queue`` clicks (503 "服务器繁忙" past it), at most
``per_client`` of them from one client address, the next turn to the client with the fewest turns lately (a flood
waits behind itself, not in front of a clerk); each client address may start ``rate_per_minute`` clicks a minute
(429 past it); a body is only parsed when its click's turn comes (one parsed workbook in memory at a time) and
memory goes back to the system after a burst. :mod:`xl_addin.server_http` closes connections that do not send a
whole request in time. The client address is the TCP peer's, or the one named by ``X-Forwarded-For`` only when the
peer is one of the configured proxies (``--forwarded-allow-ips``).

``data_dir/audit.log`` has one JSON line per request: time, client, agency, button, result, status, milliseconds
(never the token); refusals (401, 413, 429, 503, 400) included, and downloads with their export id. A click the
engine is to run gets a "received" line first and its final line under the same ``id``; a worker process that
dies leaves received lines without a final one, and the next worker to start (uvicorn restarts a dead one; a
restarted service starts all) writes a "lost" line for each (see :class:`Workers`).

Exports are deleted ``keep_days`` after they were made (never before their link expires), at start and every
``prune_seconds``, each with an audit line. What a workbook holds never makes a 500: a control character or a lone
surrogate in a cell to export gets a Chinese alert naming the cell, and the answer and the audit line are always
valid UTF-8. xlwings' remote engine accepts only its own version: the
add-in carries the version of the xlwings it was built with (``xlam_build``), and a click from another version gets
a Chinese alert naming both (:data:`VERSION_MISMATCH`) instead of xlwings' refusal.
"""

# no "from __future__ import annotations": FastAPI reads the route functions' annotations (Request is imported
# inside create_app, so the module imports without fastapi)
import asyncio
import collections
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import shutil
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import addin, spec
from .adapters import livebook as lb
from .profiles import Profile
from .websession import TokenBuckets

if TYPE_CHECKING:
    from . import rounds

# xlwings registers its remote engine when it is first imported, and only with a licence key: the
# noncommercial key covers government institutions (PolyForm Noncommercial; see docs/安装指南.md)
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
log = logging.getLogger("xl_addin.server")

#: endpoint -> (the button's label, the add-in function it runs)
BUTTONS: dict[str, tuple[str, Callable[..., Any]]] = {
    "validate": ("校验", addin.validate),
    "fill_totals": ("计算合计", addin.fill_totals),
    "clear_marks": ("清除标记", addin.clear_marks),
    "export_report": ("导出报告", addin.export_report),
    "about": ("关于", addin.about),
}
#: the buttons that check the workbook: under the server's rule profile (Config.profile)
CHECKING_BUTTONS = ("validate", "export_report")
PREFIX = "/xl_addin"
MAX_BODY = 2 * 1024 * 1024
LINK_SECONDS = 72 * 3600
#: exports are deleted this many days after they were made (never before their download link expires)
KEEP_EXPORTS_DAYS = 30
#: how often a worker looks for exports past their time (and once at start)
PRUNE_SECONDS = 3600
#: the xlwings this release is built and tested with: pyproject.toml pins exactly this version (a test checks)
XLWINGS_PINNED = "0.37.8"
FOLLOW_MACRO = "XaHelpers.XaFollow"
#: where the WPS add-in is served (xl_addin/wps, built from wps/src; see docs/安装指南.md)
WPS_PATH = "/wps"
#: the same files under WPS_INSTALLED_PATH/<token>/: the address the installers write into publish.xml with the
#: county's token (``--token-file``), which the add-in reads from its own address instead of asking for it, as the
#: Excel add-in carries the token built into the .xlam; the files are the same public ones, served to any path
WPS_INSTALLED_PATH = WPS_PATH + "/t"
#: what a token looks like (secrets.token_urlsafe's alphabet): the installers and the add-in accept nothing else
WPS_TOKEN_PATTERN = "^[A-Za-z0-9_-]{16,128}$"
TOKEN_RE = re.compile(r"[A-Za-z0-9._~+/=-]{32,256}")
ID_RE = re.compile(r"[A-Za-z0-9_-]{22}")

UNAUTHORIZED = "未授权：加载项没有携带正确的访问令牌。请向县政务公开办索取最新的服务器版加载项。"
TOO_LARGE = "工作簿数据过大（超过 {mb} MB），服务器拒绝处理。请确认打开的是年报工作簿，并删除多余的工作表后再试。"
MALFORMED = "服务器收到的内容不是加载项发送的工作簿数据，未作任何处理。请用县政务公开办下发的加载项重试。"
FAILED = "服务器处理时出错，工作簿未作任何修改。请稍后重试；仍不成功请联系县政务公开办（请告知时间和所点按钮）。"
LINK_BAD = "下载链接无效或已过期，请在 Excel 中重新点击“导出报告”。"
NOT_FOUND = "没有这个地址。"
VERSION_MISMATCH = ("加载项与服务器的 xlwings 版本不同（加载项 {client}，服务器 {server}），服务器未作任何处理。"
                    "请向县政务公开办索取与服务器配套的加载项。\n"
                    "县政务公开办：请信息化人员在服务器上用 xl-addin addin --server … 重新制作加载项并下发"
                    "（在服务器上制作的加载项与服务器的 xlwings 版本一致）；若服务器的 xlwings 被误升级，"
                    "请装回本工具要求的版本（xl-addin serve 启动时显示）。")
BAD_CHARACTERS = ("工作表“{sheet}”单元格 {cell} 含有不能写入报告的不可见字符（控制字符或残缺的文字编码），未导出报告。"
                  "请重新输入该单元格的内容（不要从其他软件粘贴）后再导出。")
BUSY = "服务器繁忙，请稍后再点。（同时处理的请求已满，工作簿未作任何修改）"
TOO_FAST = "这台电脑（或所在网络）在短时间内发出的请求过多，服务器暂不处理，工作簿未作任何修改。请稍等一分钟后再点。"
TOO_DEEP = ("服务器收到的数据层次过深或元素过多，不是加载项发送的工作簿数据，未作任何处理。"
            "请用县政务公开办下发的加载项重试。")
TOO_SLOW = "工作簿数据没有在 {s} 秒内传完，服务器未作任何处理。请检查网络后重试。"
LOST = "丢失：处理这次点击的服务器进程意外退出，没有答复（工作簿未被修改）"

#: bounds of a request body as JSON: a workbook from the template nests 5 deep and has some thousands of elements
MAX_DEPTH = 20
MAX_ITEMS = 250_000
MAX_QUEUE = 48
PER_CLIENT = 16
RATE_PER_MINUTE = 300
REQUEST_SECONDS = 30.0


#: the answer when even xlwings cannot build one: the alert action exactly as its remote engine writes it
FALLBACK = {"actions": [{"func": "alert", "args": [FAILED, lb.TITLE, "ok", "critical", ""], "values": None,
                         "sheet_position": None, "start_row": None, "start_column": None, "row_count": None,
                         "column_count": None}]}


@dataclass(frozen=True)
class Config:
    data_dir: Path
    token: str
    max_body: int = MAX_BODY
    link_seconds: int = LINK_SECONDS
    #: the address clerks reach the server at (behind the county's reverse proxy); None: as the request says
    public_url: str | None = None
    #: exports older than this are deleted (at start and every ``prune_seconds``), never before their link expires
    keep_days: int = KEEP_EXPORTS_DAYS
    prune_seconds: float = PRUNE_SECONDS
    #: clicks one worker process holds at once (receiving, waiting for the engine, running); 503 past it
    max_queue: int = MAX_QUEUE
    #: of those, from one client address; 429 past it
    per_client: int = PER_CLIENT
    #: clicks one client address may start a minute in one worker process, in bursts of up to half that; 0: no limit
    rate_per_minute: int = RATE_PER_MINUTE
    #: seconds for a request body to arrive
    request_seconds: float = REQUEST_SECONDS
    #: proxies (addresses or networks, comma-separated, uvicorn's syntax) whose X-Forwarded-For names the client;
    #: "" trusts none: the client is the TCP peer and a client's own X-Forwarded-For is ignored
    forwarded_allow_ips: str = ""
    #: the county's review round (``serve --roster R --year Y``): its routes under /round; None: no round
    round: "rounds.Settings | None" = None
    #: the rule profile the buttons check under (``serve --profile``; None: the national rules), as the round does
    profile: Profile | None = None


# ---- the token ----------------------------------------------------------------------------------------------------

def read_token(path: str | os.PathLike[str]) -> str:
    """The county's token from its file (surrounding blanks ignored). Raises ValueError with a Chinese reason."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig").strip()
    except OSError as exc:
        raise ValueError(f"无法读取令牌文件 {path}（{exc.strerror or exc}）。") from None
    if not TOKEN_RE.fullmatch(text):
        raise ValueError(f"令牌文件 {path} 的内容不是有效令牌（至少 32 个字母、数字或 ._~+/=- 字符）。")
    return text


def make_token_file(path: str | os.PathLike[str]) -> str:
    """A new random token written to ``path`` (readable by its owner only); returns it."""
    from .adapters.fileio import atomic_write_text

    token = secrets.token_urlsafe(32)
    atomic_write_text(path, token + "\n", mode=0o600)
    return token


def auth_header(token: str) -> str:
    return f"Bearer {token}"


# ---- what the payload says, without running anything --------------------------------------------------------------

def _payload_cell(payload: dict[str, Any], key: str) -> Any:
    """The value of the cell the defined name of ``key`` points at, straight from the VBA client's JSON."""
    want = spec.defined_name(key)
    names = payload.get("names")
    for n in names if isinstance(names, list) else []:
        if isinstance(n, dict) and n.get("name") == want and isinstance(n.get("address"), str):
            try:
                index = int(n["sheet_index"])
                r, c = spec.cell_index(n["address"].split(":")[0].replace("$", ""))
                if index < 0 or r < 1 or c < 1:
                    return None
                return payload["sheets"][index]["values"][r - 1][c - 1]
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                return None
    return None


#: characters a report (XML 1.0: .docx, .html) cannot hold: C0 controls but tab and line breaks, lone surrogates
#: (UTF-8 cannot even encode them), the two non-characters
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: ... and what else must not reach the audit log: every control character (C1's NEL ends a line for
#: ``str.splitlines``, as do U+2028/U+2029)
_NOT_LOGGED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def printable(text: str, limit: int | None = None) -> str:
    """``text`` fit for the audit line and for an answer: every control character, line separator and lone
    surrogate (which UTF-8 cannot even encode) shown as U+FFFD, at most ``limit`` characters."""
    return _NOT_LOGGED.sub("\ufffd", text[:limit] if limit is not None else text)


def _scrubbed(value: Any) -> Any:
    """The answer with every lone surrogate replaced (JSON cannot send them as UTF-8); the rest unchanged."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def agency_and_year(payload: dict[str, Any]) -> tuple[str, str]:
    agency = _payload_cell(payload, "meta.agency")
    year = _payload_cell(payload, "meta.year")
    if isinstance(year, float) and year.is_integer():
        year = int(year)
    return (printable(str(agency).strip(), 100) if agency not in (None, "") else "",
            str(year) if isinstance(year, int) and spec.YEAR_MIN <= year <= spec.YEAR_MAX else "")


def export_refusal(payload: dict[str, Any], year: str) -> tuple[str, str] | None:
    """(the clerk's message naming the cell, the audit result) when the workbook cannot be exported, found before
    the exporter starts: a character no report can hold in any cell; else None. (A long agency name exports: the
    Word document's title property is cut to python-docx's limit, the title in the text is whole.)"""
    for sheet in payload["sheets"]:
        for r, row in enumerate(sheet["values"] if isinstance(sheet["values"], list) else []):
            for c, value in enumerate(row if isinstance(row, list) else []):
                if isinstance(value, str) and _NOT_TEXT.search(value):
                    cell = f"{spec.col_letter(c + 1)}{r + 1}"
                    return (BAD_CHARACTERS.format(sheet=printable(sheet["name"], 31), cell=cell),
                            f"拒绝：{printable(sheet['name'], 31)}!{cell} 含不可见字符")
    return None


def version_refusal(payload: Any) -> tuple[str, str] | None:
    """(the clerk's message, the audit result) when the add-in's xlwings differs from the server's, whose remote
    engine refuses any other version; None when they agree (or the payload says nothing: then it is malformed)."""
    import xlwings as xw

    client = payload.get("version") if isinstance(payload, dict) else None
    if not isinstance(client, str) or client == xw.__version__:
        return None
    shown = printable(client, 40)
    return (VERSION_MISMATCH.format(client=shown, server=xw.__version__),
            f"拒绝：xlwings 版本不同（加载项 {shown}，服务器 {xw.__version__}）")


def safe_dir_name(text: str, fallback: str) -> str:
    """One path component from text the workbook chose: no separators, no dots-only names, bounded length."""
    from .report_doc import safe_name

    name = safe_name(text).strip(" .")[:60].strip(" .")
    return name or fallback


def _alert_only(text: str) -> dict[str, Any]:
    """The answer with one alert action, in xlwings' own format (built by its remote engine on an empty book)."""
    import xlwings as xw

    book = xw.Book(json={"client": "VBA", "version": xw.__version__,
                         "book": {"name": "-", "active_sheet_index": 0, "selection": "A1"}, "names": [],
                         "sheets": [{"name": "-", "pictures": [], "tables": [], "values": [[None]]}]})
    book.app.alert(text, title=lb.TITLE, mode="critical")
    try:
        return dict(book.json())
    finally:
        book.close()


def _looks_like_payload(p: Any) -> bool:
    if not isinstance(p, dict) or not isinstance(p.get("book"), dict) or not isinstance(p.get("sheets"), list):
        return False
    if not p["sheets"] or not all(isinstance(s, dict) and isinstance(s.get("name"), str)
                                  and isinstance(s.get("values"), list) for s in p["sheets"]):
        return False
    return isinstance(p.get("names", []), list)


# ---- signed download links ----------------------------------------------------------------------------------------

def sign(token: str, export_id: str, expires: int) -> str:
    return hmac.new(token.encode(), f"{export_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def link_query(token: str, export_id: str, expires: int) -> str:
    return urllib.parse.urlencode({"exp": expires, "sig": sign(token, export_id, expires)})


_EXP_RE = re.compile(r"[0-9]{1,12}")
_SIG_RE = re.compile(r"[0-9a-f]{64}")


def link_ok(token: str, export_id: str, exp: str, sig: str, now: float | None = None) -> bool:
    """Whether ``exp``/``sig`` (as the query string gave them: anything) sign ``export_id`` and have not expired.
    Only ASCII digits are a time (``str.isdigit`` also accepts "²", which ``int`` refuses)."""
    if not _EXP_RE.fullmatch(exp) or not _SIG_RE.fullmatch(sig):
        return False
    if int(exp) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(sig.encode(), sign(token, export_id, int(exp)).encode())


# ---- keeping exports for a while --------------------------------------------------------------------------------

def _entries(folder: Path) -> list[Path]:
    """The entries of ``folder``, sorted; none when it is gone (another worker pruned it meanwhile)."""
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _export_folders(root: Path) -> list[Path]:
    """``root/<year>/<agency>/<id>``, listed so that folders another worker removes meanwhile are skipped (pathlib's
    glob raises FileNotFoundError when a folder goes while it is listed)."""
    return [f for year in _entries(root) for agency in _entries(year) for f in _entries(agency)]


def prune_exports(cfg: "Config", write: Callable[..., None], now: float | None = None) -> list[Path]:
    """Deletes every export made more than ``cfg.keep_days`` days ago (never one whose link still works), each
    with an audit line (``write``: the audit's ``write``). Several workers may prune at once: a folder is first
    renamed, so only one of them deletes it and says so. Returns the folders deleted."""
    keep = max(cfg.keep_days * 86400, cfg.link_seconds)
    limit = (time.time() if now is None else now) - keep
    root = cfg.data_dir / "exports"
    deleted: list[Path] = []
    for folder in _export_folders(root):
        if folder.name.startswith(".deleting-"):  # left by a worker stopped while deleting
            shutil.rmtree(folder, ignore_errors=True)
            continue
        try:
            if (not ID_RE.fullmatch(folder.name) or folder.is_symlink() or not folder.is_dir()
                    or folder.stat().st_mtime >= limit):
                continue
            doomed = folder.with_name(f".deleting-{folder.name}")
            os.rename(folder, doomed)  # another worker got there first: FileNotFoundError
        except OSError:
            continue
        shutil.rmtree(doomed, ignore_errors=True)
        for parent in (folder.parent, folder.parent.parent):
            try:
                parent.rmdir()  # the agency's and the year's folder, once empty
            except OSError:
                break
        deleted.append(folder)
        write(agency=folder.parent.name, button="删除过期导出", export=folder.name, year=folder.parent.parent.name,
              result=f"已删除：导出已满 {cfg.keep_days} 天（保留期限）")
    return deleted


def start_pruning(cfg: "Config", write: Callable[..., None]) -> threading.Thread:
    """Prunes now, then every ``cfg.prune_seconds`` in a daemon thread of this worker."""
    prune_exports(cfg, write)

    def loop() -> None:
        while True:
            time.sleep(cfg.prune_seconds)
            try:
                prune_exports(cfg, write)
            except Exception:  # a full disk or a permission must not end the pruning for good
                log.exception("pruning the exports failed")

    thread = threading.Thread(target=loop, name="xl_addin-prune", daemon=True)
    thread.start()
    return thread


# ---- the app ------------------------------------------------------------------------------------------------------

class Audit:
    """``audit.log`` in the data dir: one JSON line per event, appended in one write (``O_APPEND``: lines of
    several worker processes never interleave, and a line written survives its process being killed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def write(self, **entry: Any) -> None:
        entry = {"time": dt.datetime.now().astimezone().isoformat(timespec="seconds"), **entry}
        # "replace": a lone surrogate a request carried (a name, an action) becomes "?", the line is still written
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        with self.lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def tail(self, size: int = 16 * 1024 * 1024) -> Iterator[dict[str, Any]]:
        """The entries in the last ``size`` bytes (the first, partial line skipped; unreadable lines too)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(0, os.SEEK_END)
                start = max(0, f.tell() - size)
                f.seek(start)
                data = f.read()
        except FileNotFoundError:
            return
        lines = data.split(b"\n")
        for raw in lines[1:] if start else lines:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry


def _try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open file ``fd`` without waiting: False if another process holds it. The
    system drops a process's locks when it ends, however it ends (SIGKILL, out of memory)."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        for _ in range(600):  # another worker reconciling: a moment
            if _try_lock(fd):
                break
            time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the file drops the lock


class Workers:
    """Which worker processes are alive, so that the clicks a dead one was running are written down as lost.

    Each worker process holds a lock on its own file ``data_dir/.workers/<worker>.lock`` for as long as it lives.
    When a worker starts (uvicorn starts a new one when one dies; a restarted service starts them all), it looks
    for lock files nobody holds: their workers are dead, whatever killed them. Every "received" audit line of a
    dead worker without a final line under the same ``id`` was a click that got no answer: it gets a "lost" line
    (under one lock, so two starting workers do not both write it), and the dead worker's file is removed."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / ".workers"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.id = f"{os.getpid()}-{secrets.token_hex(3)}"
        with _locked(self.folder / ".reconcile"):  # made and locked before any reconciler can look at it
            self._fd = os.open(self.folder / f"{self.id}.lock", os.O_RDWR | os.O_CREAT, 0o640)
            if not _try_lock(self._fd):  # pragma: no cover - a fresh random name nobody else opens
                raise RuntimeError(f"cannot lock {self.folder / self.id}.lock")

    def reconcile(self, audit: Audit) -> int:
        """Write a "lost" line for each click of a dead worker that got no final line; the number written."""
        with _locked(self.folder / ".reconcile"):
            dead: dict[str, Path] = {}
            for path in self.folder.glob("*.lock"):
                if path.stem == self.id:
                    continue
                try:
                    fd = os.open(path, os.O_RDWR)
                except OSError:
                    continue
                try:
                    if _try_lock(fd):
                        dead[path.stem] = path
                finally:
                    os.close(fd)
            if not dead:
                return 0
            received: dict[str, dict[str, Any]] = {}
            finished: set[str] = set()
            for entry in audit.tail():
                rid = entry.get("id")
                if not isinstance(rid, str):
                    continue
                if entry.get("event") == "received":
                    if entry.get("worker") in dead:
                        received[rid] = entry
                else:
                    finished.add(rid)
            lost = [e for rid, e in received.items() if rid not in finished]
            for e in lost:
                audit.write(event="lost", id=e["id"], worker=e.get("worker"), client=e.get("client", ""),
                            agency="", button=e.get("button", ""), result=LOST, status=None, received=e.get("time"))
            for path in dead.values():
                path.unlink(missing_ok=True)
            if lost:
                log.error("%d click(s) lost by worker process(es) that died: %s", len(lost), ", ".join(dead))
            return len(lost)


class RateLimit(TokenBuckets):
    """Per client address: a bucket of ``per_minute / 2`` clicks refilled at ``per_minute`` a minute. Refusals
    are written to the audit log at most once per client every ``QUIET_SECONDS`` (with how many were refused),
    so a flood cannot fill the disk through the log."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(per_minute, max(1.0, per_minute / 2), clock)

    def allow(self, client: str) -> bool:
        if self.rate <= 0:
            return True
        now = self.clock()
        level = self._level(client, now)
        ok = level >= 1
        self._store(client, level - 1 if ok else level, now)
        return ok


class Engine:
    """Admission and turns of the clicks in one worker process (used from its event loop only).

    At most ``max_queue`` clicks are held (the body being received, waiting, running): past it 503 "服务器繁忙",
    but for a client that holds none, which may use a reserve of ``max_queue // 2`` more. At most ``per_client``
    of them come from one client address: past it 429. The engine runs one click at a time
    (:data:`_ENGINE`); the next turn goes to the waiting client that had the fewest turns lately, so a clerk who
    clicks now and then waits for the click that is running, however many clicks others keep sending, and
    clients that all keep sending take turns. Memory: at most
    ``max_queue * 3 // 2`` raw bodies (``max_body`` each) and one parsed workbook."""

    HALF_LIFE = 30.0

    def __init__(self, max_queue: int, per_client: int) -> None:
        self.max_queue, self.per_client = max_queue, per_client
        self.held = 0
        self.by_client: collections.Counter[str] = collections.Counter()
        self.waiting: collections.OrderedDict[str, collections.deque[asyncio.Future[None]]] = collections.OrderedDict()
        self.used: dict[str, tuple[float, float]] = {}
        self.busy = False

    def admit(self, client: str) -> int:
        """0 if the click is held (call :meth:`leave` when done), else the status that refuses it (503, 429).
        A client that holds no click yet may use a reserve of half the queue again: filling the queue from a few
        addresses does not lock out the clerks; it takes as many addresses as the reserve holds."""
        mine = self.by_client[client]
        if self.held >= self.max_queue + (self.max_queue // 2 if not mine else 0):
            return 503
        if mine >= self.per_client:
            return 429
        self.held += 1
        self.by_client[client] += 1
        return 0

    def leave(self, client: str) -> None:
        self.held -= 1
        self.by_client[client] -= 1
        if self.by_client[client] <= 0:
            del self.by_client[client]

    async def turn(self, client: str) -> None:
        """Wait until this click may run; call :meth:`done` after it."""
        if not self.busy:
            self.busy = True
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(client, collections.deque()).append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.done()  # the turn came as the click was cancelled: pass it on
            else:
                queue = self.waiting.get(client)
                if queue is not None and fut in queue:
                    queue.remove(fut)
                    if not queue:
                        del self.waiting[client]
            raise

    def usage(self, client: str, now: float) -> float:
        """The turns ``client`` has had lately (each counts half after ``HALF_LIFE`` seconds)."""
        used, then = self.used.get(client, (0.0, now))
        return float(used * 0.5 ** ((now - then) / self.HALF_LIFE))

    def done(self) -> None:
        """The running click is over: the next turn goes to the waiting client that had the fewest turns lately
        (a clerk who clicks now and then goes before a client that keeps sending), its oldest click first."""
        now = time.monotonic()
        while self.waiting:
            client = min(self.waiting, key=lambda c: self.usage(c, now))  # ties: the one waiting longest
            queue = self.waiting[client]
            fut = queue.popleft()
            if queue:
                self.waiting.move_to_end(client)
            else:
                del self.waiting[client]
            if not fut.done():
                self.used[client] = (self.usage(client, now) + 1, now)
                if len(self.used) > 10_000:  # forget clients whose turns are long past
                    self.used = {c: u for c, u in self.used.items() if self.usage(c, now) > 0.01}
                fut.set_result(None)
                return
        self.busy = False


class BodyRefused(ValueError):
    """A body that is JSON but not a workbook's shape: nested too deep or too many elements."""


def parse_body(body: bytes, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS) -> Any:
    """The JSON value of a request body; None if it is not JSON. Raises :class:`BodyRefused` past ``max_depth``
    levels of nesting or ``max_items`` elements: json's own parser stops at Python's recursion limit (about 1,000
    levels: RecursionError, which was a 500), and a count over the parsed value, without recursion, stops the rest
    before xlwings walks it."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise BodyRefused("nested deeper than the recursion limit") from None
    except (ValueError, UnicodeDecodeError):
        return None
    items = 0
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > max_depth:
            raise BodyRefused(f"nested deeper than {max_depth}")
        items += len(children)
        if items > max_items:
            raise BodyRefused(f"more than {max_items} elements")
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return value


def release_memory() -> None:
    """Give freed memory back to the system (glibc keeps what a burst of large bodies freed; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with suppress(OSError, AttributeError):  # not glibc (musl): its allocator returns memory itself
        ctypes.CDLL("libc.so.6").malloc_trim(0)


#: xlwings' remote engine keeps its books in one process-wide app (app.alert goes to the active book), so two
#: clicks at once in one process would mix their actions: one click at a time per process (the work is CPU-bound
#: under the GIL anyway); ``--workers`` processes run clicks in parallel
_ENGINE = threading.Lock()


def run_button(button: str, payload: Any, addin_hex: str | None, cfg: Config, base_url: str) -> tuple[dict[str, Any], str, str]:
    """(the answer, agency, result) for one click. Never raises: any failure is one Chinese alert. All three can
    be sent and logged as UTF-8 whatever the workbook holds (a lone surrogate becomes U+FFFD)."""
    with _ENGINE:
        answer, agency, result = _run_button(button, payload, addin_hex, cfg, base_url)
    return _scrubbed(answer), printable(agency), printable(result)


def _run_button(button: str, payload: Any, addin_hex: str | None, cfg: Config, base_url: str) -> tuple[dict[str, Any], str, str]:
    import xlwings as xw

    mismatch = version_refusal(payload)
    if mismatch is not None:  # before xlwings' own check, which says only "malformed"
        return _alert_only(mismatch[0]), agency_and_year(payload)[0], mismatch[1]
    if not _looks_like_payload(payload):
        return _alert_only(MALFORMED), "", "拒绝：不是工作簿数据"
    agency, year = agency_and_year(payload)
    refusal = export_refusal(payload, year) if button == "export_report" else None
    if refusal is not None:
        return _alert_only(refusal[0]), agency, refusal[1]
    try:
        lb.addin_name(addin_hex)
        book = xw.Book(json=payload)
    except Exception:  # whatever the payload does to xlwings, the clerk gets one message
        log.warning("malformed payload for %s", button, exc_info=True)
        return _alert_only(MALFORMED), agency, "拒绝：数据格式不对"
    label, fn = BUTTONS[button]
    try:
        if button == "export_report":
            answer = _export(book, fn, addin_hex, cfg, base_url, agency, year)
        else:
            # the checking buttons under the server's profile, never one the workbook names
            fn(book, addin=addin_hex, **({"profile": cfg.profile} if button in CHECKING_BUTTONS else {}))
            answer = dict(book.json())
    except Exception:  # logged here, never shown to the clerk
        log.exception("%s failed", label)
        return _alert_only(FAILED), agency, "出错"
    finally:
        book.close()  # as xlwings-server's book dependency does: the engine's list of books stays empty
    alerts = [a["args"][0] for a in answer.get("actions", []) if a.get("func") == "alert"]
    result = str(alerts[-1]).split("\n")[0][:80] if alerts else "完成"
    return answer, agency, result


def _export(book: Any, fn: Callable[..., Any], addin_hex: str | None, cfg: Config, base_url: str,
            agency: str, year: str) -> dict[str, Any]:
    export_id = secrets.token_urlsafe(16)
    target = (cfg.data_dir / "exports" / safe_dir_name(year, "未填年度") / safe_dir_name(agency, "未填机关名称")
              / export_id)
    expires = int(time.time()) + cfg.link_seconds
    path = f"{PREFIX}/files/{export_id}?{link_query(cfg.token, export_id, expires)}"
    hours = cfg.link_seconds // 3600

    def where(_files: list[Path]) -> str:
        return (f"点“确定”后将在浏览器中打开下载页面（{hours} 小时内有效）。也可按 Ctrl+C 复制本提示，"
                f"在浏览器中打开下面的地址：\n{base_url}{path}")

    s = fn(book, out_dir=target, where=where, addin=addin_hex, profile=cfg.profile)
    if getattr(s, "exported", None):
        book.app.macro(lb.qualified(FOLLOW_MACRO, lb.addin_name(addin_hex)))(path)
    return dict(book.json())


class Gate:
    """The path every request that carries a body takes (a button's click, a round's submission or review), in
    one worker process: the rate limit per client address (before anything else, 429), who is asking (401: the
    caller says how), a check of the request before its body (``before_body``), the declared size (413), the
    engine's admission (503 busy, 429 too many from one address), a "received" audit line, the body read within
    ``max_body`` bytes and ``request_seconds`` (413, 408), the engine's turn (one piece of work at a time, fairly
    among clients), the work in a thread, and one final audit line under the same id. A refusal before the body is
    read stops reading it (:mod:`xl_addin.server_http`). Requests without a body use :meth:`quick`."""

    def __init__(self, cfg: Config, audit: Audit, engine: "Engine", limit: "RateLimit", worker: str) -> None:
        self.cfg, self.audit, self.engine, self.limit, self.worker = cfg, audit, engine, limit, worker
        self.bulk = 0  # bytes of bodies received since memory was last given back

    @staticmethod
    def client_of(request: Any) -> str:
        """The TCP peer, or the address a trusted proxy names (uvicorn's ProxyHeadersMiddleware)."""
        return request.client.host if request.client else ""

    @staticmethod
    def unread(request: Any, status: int, text: str) -> Any:
        """A refusal before the body is read: under :mod:`xl_addin.server_http` the connection reads no more of
        it and closes (a flood's 2 MB bodies cost nothing to refuse); the client is told not to reuse it."""
        from fastapi.responses import PlainTextResponse

        headers = {"Retry-After": "60"} if status == 429 else {}
        state = request.scope.setdefault("state", {})
        if state.get(GUARDED):
            state[STOP_READING] = True
            headers["Connection"] = "close"
        return PlainTextResponse(text, status_code=status, headers=headers)

    def limited(self, request: Any, done: Callable[..., None]) -> Any:
        """The 429 answer when the client's rate is spent (audited at most every few seconds), else None."""
        client = self.client_of(request)
        if self.limit.allow(client):
            return None
        refused = self.limit.refusal_to_log(client)
        if refused:
            done(429, "", "拒绝：请求过于频繁", refused=refused)
        return self.unread(request, 429, TOO_FAST)

    @property
    def request_seconds(self) -> float:
        """The time a request's body may take to arrive, unless the route says otherwise."""
        return float(self.cfg.request_seconds)

    async def handle(self, request: Any, label: str, who: Callable[[], str | None], unauthorized: str,
                     work: Callable[[bytes, str, str], tuple[int, Any, str, str]],
                     answer: Callable[[int, Any], Any], *,
                     before_body: Callable[[], tuple[int, str, str] | None] | None = None,
                     fallback: tuple[int, Any, str, str] = (503, FAILED, "", "出错"),
                     max_body: int | None = None, too_large: str | None = None,
                     seconds: float | None = None, too_slow: str | None = None) -> Any:
        """One request with a body: ``who()`` names the caller (None: 401 ``unauthorized``); ``work(body, who,
        client)`` runs in the engine's turn and gives (status, value, agency, result) -- ``answer(status, value)``
        makes the response, ``agency`` and ``result`` go to the audit line; an exception escaping it is logged and
        answered as ``fallback``. ``max_body``: this route's limit (default the server's); ``too_large``: its 413
        text (default :data:`TOO_LARGE`, which speaks of a workbook); ``seconds``: the time the body may take to
        arrive (default the server's ``request_seconds``), ``too_slow`` its 408 text with ``{s}`` (default
        :data:`TOO_SLOW`)."""
        from fastapi.responses import PlainTextResponse
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import ClientDisconnect

        t0 = time.perf_counter()
        rid = secrets.token_hex(6)
        client = self.client_of(request)
        limit = self.cfg.max_body if max_body is None else max_body

        def done(status: int, agency: str, result: str, **more: Any) -> None:
            self.audit.write(id=rid, worker=self.worker, agency=agency, button=label, result=result,
                             ms=round((time.perf_counter() - t0) * 1000), status=status, client=client, **more)

        def refuse(status: int, text: str, result: str, **more: Any) -> Any:
            done(status, "", result, **more)
            return PlainTextResponse(text, status_code=status)

        too_fast = self.limited(request, done)  # before the token: a flood without it costs as little
        if too_fast is not None:
            return too_fast
        caller = who()
        if caller is None:
            done(401, "", "未授权")
            return self.unread(request, 401, unauthorized)
        early = before_body() if before_body is not None else None
        if early is not None:
            return refuse(*early)
        too_large = too_large or TOO_LARGE.format(mb=limit // (1024 * 1024) or 1)
        within = self.cfg.request_seconds if seconds is None else seconds
        slow = (too_slow or TOO_SLOW).format(s=round(within))
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return refuse(413, too_large, "拒绝：数据过大")
        engine = self.engine
        refused_by = engine.admit(client)
        if refused_by == 503:
            done(503, "", "拒绝：服务器繁忙", held=engine.held)
            return self.unread(request, 503, BUSY)
        if refused_by:
            done(429, "", "拒绝：同一来源同时请求过多", held=engine.by_client[client])
            return self.unread(request, 429, TOO_FAST)
        chunks: list[bytes] = []
        size = 0
        try:
            self.audit.write(event="received", id=rid, worker=self.worker, button=label, client=client)
            try:
                async with asyncio.timeout(within):
                    async for chunk in request.stream():
                        size += len(chunk)
                        if size > limit:
                            return refuse(413, too_large, "拒绝：数据过大")
                        chunks.append(chunk)
            except TimeoutError:
                return refuse(408, slow, "拒绝：数据传输超时")
            except ClientDisconnect:
                return refuse(408, slow, "拒绝：数据未传完，连接已断开")
            body = b"".join(chunks)
            del chunks
            await engine.turn(client)
            try:
                status, value, agency, result = await run_in_threadpool(work, body, caller, client)
            except Exception:  # the work answers every failure itself; this is the last line, never a 500
                log.exception("%s failed outside its work", label)
                status, value, agency, result = fallback
            finally:
                engine.done()
            del body
            done(status, agency, result)
            return answer(status, value)
        finally:
            engine.leave(client)
            self.bulk += size
            if engine.held == 0 and self.bulk > 4 * 1024 * 1024:  # a burst of bodies is over: memory back
                self.bulk = 0
                release_memory()

    async def quick(self, request: Any, label: str, who: Callable[[], str | None], unauthorized: str,
                    work: Callable[[str, str], tuple[Any, int, str, str]]) -> Any:
        """One request without a body (a page, a download): the rate limit, ``who()`` (None: 401), then
        ``work(who, client)`` in a thread giving (response, status, agency, result), one audit line."""
        from fastapi.responses import PlainTextResponse
        from starlette.concurrency import run_in_threadpool

        t0 = time.perf_counter()
        client = self.client_of(request)

        def done(status: int, agency: str, result: str, **more: Any) -> None:
            self.audit.write(worker=self.worker, agency=agency, button=label, result=result,
                             ms=round((time.perf_counter() - t0) * 1000), status=status, client=client, **more)

        too_fast = self.limited(request, done)
        if too_fast is not None:
            return too_fast
        caller = who()
        if caller is None:
            done(401, "", "未授权")
            return PlainTextResponse(unauthorized, status_code=401)
        try:
            response, status, agency, result = await run_in_threadpool(work, caller, client)
        except Exception:
            log.exception("%s failed", label)
            response, status, agency, result = PlainTextResponse(FAILED, status_code=503), 503, "", "出错"
        done(status, agency, result)
        return response


def round_state(app: Any, request: Any) -> str | None:
    """Where the clicking agency's report stands in the round (the server add-in sends the workbook's agency key
    in round_routes.KEY_HEADER), or None: no round on this server, or no (active) key."""
    from . import round_routes

    key = str(request.headers.get(round_routes.KEY_HEADER, ""))
    county = getattr(app.state, "county", None)
    if not key or county is None:
        return None
    return round_routes.state_note(county, key)


def with_round_state(answer: Any, note: str | None) -> Any:
    """A button's answer telling ``note`` too: after the text of its last alert, or as an alert of its own."""
    if note is None or not isinstance(answer, dict) or not isinstance(answer.get("actions"), list):
        return answer
    actions = list(answer["actions"])
    for i in range(len(actions) - 1, -1, -1):
        a = actions[i]
        if isinstance(a, dict) and a.get("func") == "alert" and a.get("args"):
            args = list(a["args"])
            args[0] = f"{args[0]}\n\n{note}"
            actions[i] = {**a, "args": args}
            return {**answer, "actions": actions}
    alert = dict(FALLBACK["actions"][0])
    alert["args"] = [note, lb.TITLE, "ok", "info", ""]
    return {**answer, "actions": [*actions, alert]}


def create_app(cfg: Config) -> Any:
    from fastapi import FastAPI, Request
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
    from starlette.exceptions import HTTPException as StarletteHTTPException

    try:
        _alert_only("")  # the remote engine must be there before the first click, not fail on every one
    except Exception as exc:
        raise RuntimeError("xlwings' remote engine is unavailable: set XLWINGS_LICENSE_KEY=noncommercial before "
                           f"xlwings is first imported ({exc})") from exc
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    audit = Audit(cfg.data_dir / "audit.log")
    start_pruning(cfg, audit.write)
    workers = Workers(cfg.data_dir)
    workers.reconcile(audit)
    engine = Engine(cfg.max_queue, cfg.per_client)
    limit = RateLimit(cfg.rate_per_minute)
    gate = Gate(cfg, audit, engine, limit, workers.id)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "").strip()
        if given[:7].lower() == "bearer ":
            given = given[7:].strip()
        return hmac.compare_digest(given.encode(), cfg.token.encode())

    def base_url(request: Request) -> str:
        return (cfg.public_url or str(request.base_url)).rstrip("/")

    client_of = gate.client_of

    def engine_click(button: str, body: bytes, addin_hex: str | None, url: str) -> tuple[int, Any, str, str]:
        """(status, answer, agency, result) of one click, in the engine's turn: the body parsed here, so that one
        parsed workbook at a time is in memory."""
        try:
            payload = parse_body(body)
        except BodyRefused as exc:
            log.warning("refused a body: %s", exc)
            return 400, TOO_DEEP, "", "拒绝：数据层次过深或元素过多"
        del body
        answer, agency, result = run_button(button, payload, addin_hex, cfg, url)
        return 200, answer, agency, result

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        text = NOT_FOUND if exc.status_code == 404 else "请求无效。"
        return PlainTextResponse(text, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        """What no route caught (a page reading the store outside the gate when the database fails): logged, and
        a Chinese 503 like the gate's fallback -- never Starlette's English 500."""
        from .rounds import FAILED as NOTHING_DONE

        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return PlainTextResponse(NOTHING_DONE, status_code=503)

    @app.get(PREFIX + "/health")
    async def health() -> Response:
        return PlainTextResponse("ok")

    @app.post(PREFIX + "/{button}")
    async def click(button: str, request: Request) -> Response:
        label = BUTTONS[button][0] if button in BUTTONS else button[:40]

        def unknown() -> tuple[int, str, str] | None:
            return (404, NOT_FOUND, "没有这个按钮") if button not in BUTTONS else None

        def work(body: bytes, _who: str, _client: str) -> tuple[int, Any, str, str]:
            status, value, agency, result = engine_click(button, body, request.query_params.get("addin"),
                                                         base_url(request))
            return status, with_round_state(value, round_state(app, request)) if status == 200 else value, agency, result

        def answer(status: int, value: Any) -> Response:
            if status != 200:
                return PlainTextResponse(str(value), status_code=status)
            return JSONResponse(value)

        result: Response = await gate.handle(request, label, lambda: "县" if authorized(request) else None,
                                             UNAUTHORIZED, work, answer, before_body=unknown,
                                             fallback=(200, FALLBACK, "", "出错"))
        return result

    def export_dir(export_id: str, request: Request) -> Path | None:
        if not ID_RE.fullmatch(export_id):
            return None
        exp, sig = request.query_params.get("exp", ""), request.query_params.get("sig", "")
        if not authorized(request) and not link_ok(cfg.token, export_id, exp, sig):
            return None
        found = sorted((cfg.data_dir / "exports").glob(f"*/*/{export_id}"))
        return found[0] if found and found[0].is_dir() else None

    def fetched(request: Request, export_id: str, name: str, status: int) -> None:
        audit.write(event="download", export_id=export_id[:40], file=name[:120], status=status,
                    client=client_of(request), result="下载" if status == 200 else "拒绝：链接无效或已过期")

    @app.get(PREFIX + "/files/{export_id}")
    async def files_page(export_id: str, request: Request) -> Response:
        folder = export_dir(export_id, request)
        fetched(request, export_id, "", 200 if folder is not None else 403)
        if folder is None:
            return PlainTextResponse(LINK_BAD, status_code=403)
        import html

        query = request.url.query
        items = "".join(
            f'<li><a href="{PREFIX}/files/{export_id}/{urllib.parse.quote(p.name)}?{html.escape(query)}">'
            f"{html.escape(p.name)}</a></li>"
            for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith("."))
        page = (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{lb.TITLE} 导出的报告</title>'
                f"<h1>导出的报告</h1><p>点击文件名下载：Word 版（.docx）用于打印报送，网页版（.html）用于网站发布。</p>"
                f"<ul>{items}</ul></html>")
        return HTMLResponse(page)

    @app.get(PREFIX + "/files/{export_id}/{name}")
    async def file_download(export_id: str, name: str, request: Request) -> Response:
        folder = export_dir(export_id, request)
        target = folder / name if folder is not None else None
        if target is None or name not in {p.name for p in folder.iterdir() if p.is_file()} or name.startswith("."):  # type: ignore[union-attr]
            fetched(request, export_id, name, 403)
            return PlainTextResponse(LINK_BAD, status_code=403)
        fetched(request, export_id, name, 200)
        return FileResponse(target, filename=name)

    # the WPS add-in (ribbon.xml, index.html, main.js built from wps/src): static files, same origin as the buttons
    from starlette.staticfiles import StaticFiles

    wps_files = StaticFiles(directory=Path(__file__).with_name("wps"))
    app.mount(WPS_INSTALLED_PATH + "/{token}", wps_files, name="wps_installed")  # before /wps, which would shadow it
    app.mount(WPS_PATH, wps_files, name="wps")

    if cfg.round is not None:
        from . import round_pages, round_routes

        round_routes.mount(app, cfg.round, gate, audit.write)
        round_pages.mount(app, app.state.county, gate, secure=(cfg.public_url or "").startswith("https:") or None)
    if not cfg.forwarded_allow_ips.strip():
        return app
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return ProxyHeadersMiddleware(app, trusted_hosts=cfg.forwarded_allow_ips)  # type: ignore[arg-type]


def listen_fd() -> int | None:
    """The listening socket systemd passes (socket activation, ``sd_listen_fds``): fd 3, or None."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    try:
        count = int(os.environ.get("LISTEN_FDS", "0"))
    except ValueError:
        return None
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):  # meant for this process, not its workers
        os.environ.pop(name, None)
    return 3 if count >= 1 else None


def raise_open_files(want: int) -> None:
    """Raise this process's soft limit of open files towards ``want`` (systemd's default soft limit is 1,024: a
    connection is a file), within the hard limit."""
    try:
        import resource
    except ImportError:  # Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


MAX_CONNECTIONS = 1000
DRAIN_SECONDS = 30


def serve(data_dir: str | os.PathLike[str], token_file: str | os.PathLike[str], *, host: str = "127.0.0.1",
          port: int = 8765, workers: int = 1, max_body: int = MAX_BODY, public_url: str | None = None,
          forwarded_allow_ips: str = "", max_queue: int = MAX_QUEUE, per_client: int = PER_CLIENT,
          rate_per_minute: int = RATE_PER_MINUTE, request_seconds: float = REQUEST_SECONDS,
          max_connections: int = MAX_CONNECTIONS, drain_seconds: int = DRAIN_SECONDS,
          keep_exports_days: int = KEEP_EXPORTS_DAYS, round_settings: "rounds.Settings | None" = None,
          profile: Profile | None = None) -> None:
    """Run the server until stopped (uvicorn; ``workers`` processes share the port).

    On SIGTERM (``systemctl stop|restart``) uvicorn stops accepting, and every click already received or waiting
    for the engine is answered (up to ``drain_seconds``) before the process exits. Connections that arrive
    meanwhile wait in the listening socket's queue: with systemd socket activation (``xl-addin.socket``, see
    docs/安装指南.md) that socket belongs to systemd, so the next process answers them instead of the system
    resetting them; the socket is fd 3 (``LISTEN_FDS``) and ``host``/``port`` are then not used."""
    import uvicorn

    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    logging.basicConfig(level=logging.INFO)
    settings = {"data_dir": str(Path(data_dir).resolve()), "token_file": str(Path(token_file).resolve()),
                "max_body": max_body, "public_url": public_url, "forwarded_allow_ips": forwarded_allow_ips,
                "max_queue": max_queue, "per_client": per_client, "rate_per_minute": rate_per_minute,
                "request_seconds": request_seconds, "max_connections": max_connections,
                "keep_exports_days": keep_exports_days,
                "round": None if round_settings is None else round_settings.to_json(),
                "profile": None if profile is None or profile.national else profile.to_json()}
    os.environ[SETTINGS_ENV] = json.dumps(settings)  # each worker process builds the app from these
    raise_open_files(max_connections + 256)
    fd = listen_fd()
    where: dict[str, Any] = {"fd": fd} if fd is not None else {"host": host, "port": port}
    uvicorn.run("xl_addin.server:app_from_env", factory=True, workers=workers, log_level="warning",
                # the client address: X-Forwarded-For only from the configured proxies (create_app), never
                # uvicorn's default of trusting 127.0.0.1, which would take a header any client can send
                proxy_headers=False,
                http="xl_addin.server_http:GuardedH11Protocol", timeout_keep_alive=5,
                timeout_graceful_shutdown=drain_seconds, **where)


SETTINGS_ENV = "XL_ADDIN_SERVER_SETTINGS"
#: the request state keys shared with :mod:`xl_addin.server_http` (which imports uvicorn: not imported here)
GUARDED = "xl_addin_guarded"
STOP_READING = "xl_addin_stop_reading"


def app_from_env() -> Any:
    from . import rounds

    raw = json.loads(os.environ[SETTINGS_ENV])
    round_raw = raw.get("round")
    return create_app(Config(data_dir=Path(raw["data_dir"]), token=read_token(raw["token_file"]),
                             max_body=int(raw["max_body"]), public_url=raw.get("public_url"),
                             forwarded_allow_ips=str(raw.get("forwarded_allow_ips") or ""),
                             max_queue=int(raw.get("max_queue", MAX_QUEUE)),
                             per_client=int(raw.get("per_client", PER_CLIENT)),
                             rate_per_minute=int(raw.get("rate_per_minute", RATE_PER_MINUTE)),
                             request_seconds=float(raw.get("request_seconds", REQUEST_SECONDS)),
                             keep_days=int(raw.get("keep_exports_days", KEEP_EXPORTS_DAYS)),
                             round=rounds.Settings.from_json(round_raw) if round_raw else None,
                             profile=Profile.from_json(raw["profile"]) if raw.get("profile") else None))


def xlwings_status() -> tuple[str, bool]:
    """(the line ``xl-addin serve`` prints at start about its xlwings, whether it is the pinned version)."""
    import xlwings as xw

    line = (f"xlwings 版本：{xw.__version__}（服务器版加载项须用同一版本制作：在本机运行 xl-addin addin --server … "
            "制作的加载项与本服务器一致）")
    if xw.__version__ == XLWINGS_PINNED:
        return line, True
    return (line + f"\n警告：本工具要求 xlwings {XLWINGS_PINNED}，本机装的是 {xw.__version__}：已下发的加载项将被拒绝"
            f"（提示版本不同）。请运行 pip install xlwings=={XLWINGS_PINNED}，或重新制作并下发加载项。"), False
