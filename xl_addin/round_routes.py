"""The round's JSON routes under ``/round/api`` (mounted by :func:`xl_addin.server.create_app` when ``serve`` is
given ``--roster R --year Y``). Every client -- ``xl-addin submit/board/review/distribute``, the 提交 button, the
pages' scripts -- speaks these::

    POST /round/api/submit?filename=NAME          the workbook's bytes; Authorization: Bearer <agency key>
                                                  (Accept: text/plain -- the 提交 button -- answers the same
                                                  status with :func:`submission_text` instead of JSON); NAME
                                                  ending .zip: an upward package (a lower 汇总 unit's), taken
                                                  up to ``serve --max-package-mb`` (the server's own limit is
                                                  for workbooks), a few at once
    GET  /round/api/me                            the key's own agency: state, versions, findings, history
    GET  /round/api/board                         every roster agency (board --json)          coordinator
    GET  /round/api/agencies/{name}               one agency                     coordinator or its own key
    GET  /round/api/agencies/{name}/versions/{n}  one kept version's bytes       coordinator or its own key
    POST /round/api/agencies/{name}/review        {"action": "accept"|"return"|"reopen", "version": n,
                                                   "reasons": [...]}                            coordinator
    POST /round/api/agencies/{name}/published     {"url": "https://..."} or the published file's bytes
                                                  (?filename=NAME): the publication check     coordinator or its own key
    POST /round/api/keys                          {"agencies": [names] | null}: new keys      coordinator
    POST /round/api/agencies/{name}/revoke        stop the agency's key                       coordinator
    GET  /round/api/rollup.xlsx                   the roll-up of the accepted versions        coordinator
    GET  /round/api/notice.{docx|html|txt}        the 通报 draft                              coordinator

An agency's name is a ``path`` parameter: a roster name may hold "/" (sent as %2F; the routes with a fixed
ending are matched before the bare ``/agencies/{name}``).

Who asks is always the ``Authorization: Bearer`` header (an agency's key, or the coordinator's token from its
file), never the URL: nothing secret ends up in a log. Requests with a body go through the server's
:class:`~xl_addin.server.Gate` (rate limit, size and time limits, the engine's queue and turns, audit lines), the
others through its ``quick`` path (rate limit, audit line). Every refusal is a 4xx with a Chinese text (JSON
``{"ok": false, "status", "message"}`` once the caller is known; plain text for the gate's own refusals); a
failure the code did not foresee is logged and answered 503, never 500. The :class:`~xl_addin.rounds.County` is
``app.state.county`` for the pages.

The server's buttons (校验 ...) tell where an agency's report stands when the click carries the agency's key in
:data:`KEY_HEADER` (the server add-in sends it for a workbook distributed with one): :func:`state_note`.
"""

# no "from __future__ import annotations": FastAPI reads the route functions' annotations (Request is imported
# inside mount, so the module imports without fastapi)
import json
import logging
import tempfile
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from . import rounds
from .adapters import exporter
from .model import Severity
from .review import Role
from .rounds import County, Denied, Outcome

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("xl_addin.round")

PREFIX: Final = "/round/api"
#: a review's or a key request's JSON body
MAX_SMALL_BODY: Final = 64 * 1024
COORDINATOR: Final = "政务公开办"
NOT_ALLOWED: Final = "无权查看其他机关的报告。"
BAD_JSON: Final = "请求内容应为 JSON 对象（{fields}）。"
#: an uploaded published report (a PDF of an annual report is a few MB)
MAX_PUBLISHED_BODY: Final = 20 * 1024 * 1024
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: the header with which the server add-in's buttons carry the workbook's agency key (XaRound.XA_KEY_HEADER)
KEY_HEADER: Final = "x-xl-addin-key"
#: the findings a plain-text submit answer lists (the clerk sees them all at the cells with 校验)
TEXT_FINDINGS: Final = 10
STATE_NOTE: Final = "本机关年报在县级服务器上的状态：{state}"
STATE_VERSIONS: Final = "（已提交 {n} 版）"
STATE_REASONS: Final = "退回理由："
MORE_FINDINGS: Final = "……另有 {n} 个错误，点击“校验”可全部查看。"


#: what the gate answers when a route's work fails unexpectedly (logged; never a 500)
FALLBACK: Final = (503, rounds.FAILED, "", "出错")


class RoutesGate(rounds.GateLike, Protocol):
    """The gate as the routes use it: also its settings (:class:`xl_addin.server.Config`)."""

    @property
    def cfg(self) -> Any: ...


def bearer(request: Any) -> str:
    given = str(request.headers.get("authorization", "")).strip()
    return given[7:].strip() if given[:7].lower() == "bearer " else ""


def json_object(body: bytes) -> dict[str, Any] | None:
    """The request's JSON object ({} for an empty body); None for anything else: not JSON, nested too deep, not an
    object, or holding a lone surrogate ("\\ud800", which neither SQLite nor audit.log can store as UTF-8)."""
    try:
        raw = json.loads(body or b"{}")
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return None
    return raw if isinstance(raw, dict) else None


def json_response(value: Any, status: int = 200) -> Any:
    """JSON as UTF-8 whatever a workbook put in it (a lone surrogate becomes "?")."""
    from fastapi.responses import Response

    body = json.dumps(value, ensure_ascii=False).encode("utf-8", "replace")
    return Response(body, status_code=status, media_type="application/json")


def refusal(status: int, message: str) -> Any:
    return json_response(Outcome(status, message).to_json(), status)


def attachment(data: bytes, filename: str, media_type: str) -> Any:
    from fastapi.responses import Response

    quoted = urllib.parse.quote(filename)
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename=\"download\"; filename*=UTF-8''{quoted}"})


def wants_text(request: Any) -> bool:
    """The caller asked for a plain-text answer (the 提交 button of the server add-in: Accept: text/plain)."""
    accept = str(request.headers.get("accept", "")).lower()
    return accept.startswith("text/plain") and "json" not in accept


def submission_text(s: rounds.Submission) -> str:
    """A submission's answer as the 提交 button shows it: the message; refused for errors, the first error
    findings with their sheet, cell and official labels."""
    lines = [s.message]
    report = s.report
    if report is not None and not report.valid:
        errors = [f for f in report.to_dict()["findings"] if f.get("severity") == "error"]
        for f in errors[:TEXT_FINDINGS]:
            where = f"{f.get('sheet', '')}!{f.get('cell', '')}" if f.get("cell") else (f.get("sheet") or "整个工作簿")
            labels = " ".join(str(x) for x in f.get("labels", []) if x)
            lines.append(f"[{Severity.ERROR.zh}] {where} {labels}：{f.get('message', '')}".replace("  ", " "))
        if len(errors) > TEXT_FINDINGS:
            lines.append(MORE_FINDINGS.format(n=len(errors) - TEXT_FINDINGS))
    return "\n".join(lines)


def state_note(county: County | None, key: str) -> str | None:
    """Where the report of the agency whose key ``key`` is stands (待审核 / 已退回 + reasons / 已通过 ...), for
    the answer of a button click; None: no round, no key, or not an active key."""
    if county is None or not key.strip():
        return None
    try:
        agency = county.agency_for_key(key)
        if agency is None:
            return None
        status = county.status(agency)
    except Exception:  # the click's own answer matters more than this note
        log.warning("no round state for a button click", exc_info=True)
        return None
    text = STATE_NOTE.format(state=status.state.zh)
    if status.versions:
        text += STATE_VERSIONS.format(n=status.versions)
    if status.reasons:
        text += "\n" + STATE_REASONS + "；".join(status.reasons)
    return text


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else None


def mount(app: "FastAPI", settings: rounds.Settings, gate: RoutesGate, audit: Callable[..., None]) -> County:
    """The round's routes on ``app`` over the data directory of ``gate.cfg``; returns the county (also
    ``app.state.county``)."""
    from fastapi import Request
    from fastapi.responses import Response

    county = County.from_settings(gate.cfg.data_dir, settings, audit=audit)
    app.state.county = county

    def agency_of(request: Request) -> Callable[[], str | None]:
        return lambda: county.agency_for_key(bearer(request))

    def coordinator(request: Request) -> Callable[[], str | None]:
        return lambda: COORDINATOR if county.is_coordinator(bearer(request)) else None

    def either(request: Request) -> Callable[[], str | None]:
        def who() -> str | None:
            token = bearer(request)
            return COORDINATOR if county.is_coordinator(token) else county.agency_for_key(token)
        return who

    def may_see(who: str, name: str) -> bool:
        if who == COORDINATOR:
            return True
        try:
            return county.agency_name(name) == who
        except Exception:
            return False

    def answered(status: int, value: Any) -> Any:
        if isinstance(value, str):
            return refusal(status, value)
        return json_response(value, status)

    async def posted(request: Request, label: str, who: Callable[[], str | None], unauthorized: str,
                     work: Callable[[bytes, str, str], tuple[int, Any, str, str]],
                     max_body: int = MAX_SMALL_BODY) -> Response:
        """A JSON POST through the gate: a refusal's text as :func:`refusal`, a value as JSON, any failure 503."""
        result: Response = await gate.handle(request, label, who, unauthorized, work, answered, max_body=max_body,
                                             fallback=FALLBACK)
        return result

    @app.post(PREFIX + "/submit")
    async def submit(request: Request) -> Response:
        filename = request.query_params.get("filename", "") or "工作簿.xlsx"
        text = wants_text(request)

        def work(body: bytes, _who: str, client: str) -> tuple[int, Any, str, str]:
            s = county.submit(body, filename, bearer(request), client=client)
            return s.status, submission_text(s) if text else s.to_json(), s.agency, s.message[:200]

        def plain(status: int, value: Any) -> Any:
            from fastapi.responses import PlainTextResponse

            return PlainTextResponse(str(value), status_code=status)

        if not rounds.is_package(filename):
            result: Response = await gate.handle(request, "提交", agency_of(request), rounds.BAD_KEY, work,
                                                 plain if text else answered, fallback=FALLBACK)
            return result
        # an upward package: a limit of its own, and at most a few received at once (each is held in memory)
        held = [False]

        def slot() -> tuple[int, str, str] | None:
            held[0] = county.package_slots.take()
            return None if held[0] else (503, rounds.PACKAGES_BUSY, "拒绝：同时接收的上报包过多")

        mb = county.max_package // (1024 * 1024) or 1
        try:
            result = await gate.handle(request, "提交上报包", agency_of(request), rounds.BAD_KEY, work,
                                       plain if text else answered, fallback=FALLBACK, before_body=slot,
                                       max_body=county.max_package,
                                       too_large=rounds.PACKAGE_TOO_LARGE.format(mb=mb),
                                       seconds=rounds.package_seconds(county.max_package,
                                                                      gate.request_seconds),
                                       too_slow=rounds.PACKAGE_TOO_SLOW)
        finally:
            if held[0]:
                county.package_slots.give()
        return result

    @app.post(PREFIX + "/agencies/{name:path}/review")
    async def review(name: str, request: Request) -> Response:
        def work(body: bytes, who: str, client: str) -> tuple[int, Any, str, str]:
            fields = '"action": "accept"|"return"|"reopen", "version": 版本号, "reasons": ["理由"]'
            raw = json_object(body)
            if raw is None:
                return 400, BAD_JSON.format(fields=fields), name[:100], "拒绝：请求内容不是 JSON"
            action, version, reasons = raw.get("action"), raw.get("version"), raw.get("reasons", [])
            if isinstance(reasons, str):
                reasons = [reasons]
            if (not isinstance(action, str) or not (version is None or type(version) is int)
                    or not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons)):
                return 400, BAD_JSON.format(fields=fields), name[:100], "拒绝：请求内容不对"
            r = county.review(name, action, version, reasons, actor=who, client=client)
            return r.status, r.to_json(), r.agency, r.message[:200]

        return await posted(request, "审核", coordinator(request), rounds.NOT_COORDINATOR, work)

    @app.post(PREFIX + "/agencies/{name:path}/published")
    async def published(name: str, request: Request) -> Response:
        is_json = "json" in request.headers.get("content-type", "")
        filename = request.query_params.get("filename", "") or "published"

        def work(body: bytes, who: str, client: str) -> tuple[int, Any, str, str]:
            if not may_see(who, name):
                return 403, NOT_ALLOWED, who, f"拒绝：核对“{name[:100]}”的发布稿"
            role = Role.COORDINATOR if who == COORDINATOR else Role.AGENCY
            if is_json:
                raw = json_object(body)
                url = raw.get("url") if raw is not None else None
                if not isinstance(url, str) or not url.strip():
                    return 400, BAD_JSON.format(fields='"url": "发布页面地址"'), name[:100], "拒绝：请求内容不对"
                r = county.publish(name, url=url.strip(), actor=who, role=role, client=client)
            else:
                r = county.publish(name, data=body, filename=filename, actor=who, role=role, client=client)
            return r.status, r.to_json(), r.agency, r.message.split("\n")[0][:200]

        return await posted(request, "发布核对", either(request), rounds.BAD_KEY, work, MAX_PUBLISHED_BODY)

    @app.post(PREFIX + "/keys")
    async def keys(request: Request) -> Response:
        def work(body: bytes, who: str, _client: str) -> tuple[int, Any, str, str]:
            raw = json_object(body)
            names = raw.get("agencies") if raw is not None else []
            if raw is None or not (names is None or (isinstance(names, list) and all(isinstance(n, str) for n in names))):
                return 400, BAD_JSON.format(fields='"agencies": ["机关名称"] 或 null'), "", "拒绝：请求内容不对"
            try:
                issued = county.issue_keys(names, actor=who)
            except Denied as exc:
                return exc.status, exc.message, "", "拒绝：" + exc.message[:100]
            return 200, {"ok": True, "status": 200, "message": f"已签发 {len(issued)} 个机关的报送密钥。",
                         "keys": issued}, f"{len(issued)} 个机关", "已签发密钥"

        return await posted(request, "签发密钥", coordinator(request), rounds.NOT_COORDINATOR, work)

    @app.post(PREFIX + "/agencies/{name:path}/revoke")
    async def revoke(name: str, request: Request) -> Response:
        def work(_body: bytes, who: str, _client: str) -> tuple[int, Any, str, str]:
            o = county.revoke_key(name, actor=who)
            return o.status, o.to_json(), name[:100], o.message

        return await posted(request, "停用密钥", coordinator(request), rounds.NOT_COORDINATOR, work)

    async def quick(request: Request, label: str, who: Callable[[], str | None], unauthorized: str,
                    work: Callable[[str, str], tuple[Any, int, str, str]]) -> Response:
        def guarded(caller: str, client: str) -> tuple[Any, int, str, str]:
            try:
                return work(caller, client)
            except Denied as exc:
                return refusal(exc.status, exc.message), exc.status, "", "拒绝：" + exc.message[:100]

        result: Response = await gate.quick(request, label, who, unauthorized, guarded)
        return result

    @app.get(PREFIX + "/board")
    async def board(request: Request) -> Response:
        return await quick(request, "看板", coordinator(request), rounds.NOT_COORDINATOR,
                           lambda _w, _c: (json_response(county.board_json()), 200, "", "看板"))

    @app.get(PREFIX + "/me")
    async def me(request: Request) -> Response:
        def work(who: str, _client: str) -> tuple[Any, int, str, str]:
            return json_response(county.agency_view(who).to_json()), 200, who, "查看本机关报告"

        return await quick(request, "本机关", agency_of(request), rounds.BAD_KEY, work)

    # (registered after the routes below: a roster name may hold "/", so {name:path} would also match them)
    async def agency(name: str, request: Request) -> Response:
        def work(who: str, _client: str) -> tuple[Any, int, str, str]:
            if not may_see(who, name):
                return refusal(403, NOT_ALLOWED), 403, who, f"拒绝：查看“{name[:100]}”"
            view = county.agency_view(name)
            return json_response(view.to_json()), 200, view.row.name, "查看"

        return await quick(request, "机关报告", either(request), rounds.BAD_KEY, work)

    @app.get(PREFIX + "/agencies/{name:path}/versions/{number}")
    async def version(name: str, number: str, request: Request) -> Response:
        def work(who: str, _client: str) -> tuple[Any, int, str, str]:
            if not may_see(who, name):
                return refusal(403, NOT_ALLOWED), 403, who, f"拒绝：下载“{name[:100]}”"
            n = _number(number)
            if n is None:
                raise Denied(404, rounds.NO_VERSION.format(agency=name[:100], version=number[:20]))
            real = county.agency_name(name) if who == COORDINATOR else who
            data = county.version_bytes(real, n)
            return attachment(data, county.version_filename(real, n), XLSX_TYPE), 200, real, f"下载第{n}版"

        return await quick(request, "下载版本", either(request), rounds.BAD_KEY, work)

    app.get(PREFIX + "/agencies/{name:path}")(agency)

    @app.get(PREFIX + "/rollup.xlsx")
    async def rollup(request: Request) -> Response:
        def work(_who: str, _client: str) -> tuple[Any, int, str, str]:
            with tempfile.TemporaryDirectory() as tmp:
                r = county.rollup(Path(tmp) / "rollup.xlsx")
                data = r.path.read_bytes()
            name = f"{county.year}年{county.county or '全县'}政府信息公开工作年度报告汇总.xlsx"
            return attachment(data, name, XLSX_TYPE), 200, f"{len(r.included)} 个机关", "下载汇总"

        return await quick(request, "汇总", coordinator(request), rounds.NOT_COORDINATOR, work)

    @app.get(PREFIX + "/notice.{fmt}")
    async def notice(fmt: str, request: Request) -> Response:
        def work(_who: str, _client: str) -> tuple[Any, int, str, str]:
            if fmt not in exporter.FORMATS:
                raise Denied(404, f"通报只能下载为 {'、'.join('.' + f for f in exporter.FORMATS)}。")
            with tempfile.TemporaryDirectory() as tmp:
                data = county.notice(Path(tmp) / f"notice.{fmt}").read_bytes()
            name = f"关于{county.year}年度政府信息公开工作年度报告报送情况的通报（草稿）.{fmt}"
            return attachment(data, name, exporter.MEDIA_TYPES[fmt]), 200, "", "下载通报"

        return await quick(request, "通报", coordinator(request), rounds.NOT_COORDINATOR, work)

    return county
