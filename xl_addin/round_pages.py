"""The round's pages in a browser: the clerk's upload page, the coordinator's board and agency page.

Developer note. Server-rendered HTML (Jinja2, autoescape on, templates and the one style sheet in ``web/``), no
script and nothing from outside the server (the county's intranet has no internet). Every page action goes through
:class:`xl_addin.rounds.County` -- the same service the JSON routes and the CLI call -- so the findings, the
refusals and the audit lines are theirs; this module only turns forms into calls and results into pages.
:func:`mount` adds the routes under ``/round`` to the server's app::

    GET  /round/                      which login
    GET  /round/login, POST           the clerk logs in with the agency key distributed with the template
    GET  /round/coordinator/login, POST   the coordinator logs in with the token of its file
    POST /round/logout
    GET  /round/agency                the clerk's page: state, reasons, versions, upload form
    POST /round/agency/upload         仅校验 (check) or 校验并提交 (check, then submit when it has no error); a
                                      .zip is an upward package, held to the round's package limit
    GET  /round/agency/versions/{n}   download of one of the agency's own versions
    GET  /round/board[?view=not_submitted|late|returned]   the board (coordinator): the agencies, the deadline
                                      the 逾期 follows and who set it, the round's own 汇总 unit with the coverage,
                                      and the cross-unit copy pairs (<details>, the passages side by side)
    GET  /round/board/agency/{name}   one agency: findings, versions, history, accept / return
    GET  /round/board/agency/{name}/versions/{n}, /compare?a=&b=
    POST /round/board/agency/{name}/accept, /return, /reopen, /published
    GET  /round/board/rollup.xlsx, /round/board/notice.docx   the roll-up of accepted versions, the 通报 draft
    GET  /round/board/dataset.parquet          the dataset (xl_addin.dataset) of the accepted versions
    GET  /round/board/package.zip                          the upward package to the city (issue 22)
    GET  /round/static/round.css

An agency's name is a ``path`` parameter (a roster name may hold "/", quoted as %2F in the pages' links).
Sessions and CSRF: :mod:`xl_addin.websession`. Roles are separate: an agency's session opens only its own page
and versions; the coordinator's only the board. Every refusal is a Chinese page with a 4xx status; logins are
throttled per client address and every attempt is audited (never the key).
"""

# no "from __future__ import annotations": FastAPI reads the route functions' annotations
import datetime as dt
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from . import spec, websession
from .collect import Timeliness, name_key
from .model import Severity
from .review import Action, Published, Role, State, published_zh
from .rounds import (
    FAILED,
    PACKAGE_TOO_LARGE,
    PACKAGE_TOO_SLOW,
    PACKAGES_BUSY,
    SUBMITTED,
    WITH_WARNINGS,
    AgencyView,
    County,
    Denied,
    GateLike,
    Outcome,
    is_package,
    package_seconds,
)
from .websession import LoginThrottle, Session, Sessions

log = logging.getLogger("xl_addin.round")

PREFIX: Final = "/round"
WEB: Final = Path(__file__).with_name("web")
MAX_UPLOAD: Final = 8 * 1024 * 1024
MAX_FORM: Final = 256 * 1024
MAX_FIELDS: Final = 200
#: the board's bulk views: id -> label (:func:`_in_view` says which rows)
VIEWS: Final[Mapping[str, str]] = {"not_submitted": State.NOT_SUBMITTED.zh, "late": "逾期", "returned": "已退回未改"}
SEVERITY_ZH: Final = {str(s): s.zh for s in Severity}

LOGIN_BAD_KEY: Final = "报送密钥不正确或已停用。请核对县政务公开办下发的密钥（区分大小写），或向其索取新的密钥。"
LOGIN_BAD_TOKEN: Final = "协调人令牌不正确。令牌在服务器数据目录的 coordinator-token.txt 中。"
LOGIN_THROTTLED: Final = "登录尝试过于频繁，请一分钟后再试。"
NO_COOKIE: Final = "页面已过期或浏览器未保存 Cookie。请重新打开登录页面后再试（须允许本站点保存 Cookie）。"
BAD_CSRF: Final = "表单已过期（或不是从本站页面提交的），未作任何处理。请刷新页面后重试。"
NEED_AGENCY: Final = "请先用本机关的报送密钥登录。"
NEED_COORDINATOR: Final = "此页面仅供县政务公开办使用，请用协调人令牌登录。"
TOO_BIG: Final = "上传的文件过大（超过 {mb} MB），未处理。请确认选择的是年报工作簿。"
#: an upload past what the page reads at all (the larger of the two limits): either kind of file it may have been
BOTH_TOO_BIG: Final = "上传的文件过大，未处理：年报工作簿不超过 {book} MB，上报包（.zip）不超过 {package} MB。请确认选择的文件。"
#: what a form carries besides its file (the CSRF token, the button, multipart's headers)
FORM_SLACK: Final = 64 * 1024
NO_FILE: Final = "请选择要上传的年报工作簿（.xlsx）。"
BAD_FORM: Final = "表单内容无效，未作任何处理。"
NO_VERSION_CHOSEN: Final = "请选择要比较的两个版本。"
NO_PUBLISHED: Final = "请填写发布页面的地址，或选择发布稿文件（PDF、网页、Word 或文本）。"
COORDINATOR: Final = "政务公开办"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PARQUET_TYPE: Final = "application/vnd.apache.parquet"
#: the dataset asked for on a server installed without the dataset extra
NO_DATASET: Final = "服务器未安装数据集组件（pandas、pyarrow），无法生成数据集。请管理员安装：pip install \"xl_addin[dataset]\"。"
ZIP_TYPE: Final = "application/zip"
#: an uploaded published report (a PDF of an annual report is a few MB)
MAX_PUBLISHED: Final = 20 * 1024 * 1024
#: differences of a publication check listed on the page
MAX_SHOWN: Final = 50
#: copy pairs the board lists (the rest counted), and passages shown side by side per pair
MAX_PAIRS: Final = 100
MAX_PASSAGES: Final = 10


@dataclass(frozen=True)
class Finding:
    """One finding as a page shows it (from a check's ``to_dict``)."""

    index: int
    severity: str
    where: str
    row: str
    column: str
    message: str
    code: str

    @property
    def reason(self) -> str:
        """The finding as a return reason."""
        place = "，".join(p for p in (self.where, self.row, self.column) if p)
        return f"{place}：{self.message}" if place else self.message


def findings_of(check: Mapping[str, Any] | None) -> list[Finding]:
    out = []
    for i, f in enumerate((check or {}).get("findings") or ()):
        if not isinstance(f, Mapping):
            continue
        sheet, cell = str(f.get("sheet") or ""), str(f.get("cell") or "")
        labels = [str(x) for x in f.get("labels") or ()] + ["", ""]
        out.append(Finding(i, str(f.get("severity") or "info"), f"{sheet}!{cell}" if sheet and cell else sheet,
                           labels[0], labels[1], str(f.get("message") or ""), str(f.get("code") or f.get("rule") or "")))
    return out


def grouped(findings: Sequence[Finding]) -> list[tuple[str, str, list[Finding]]]:
    """(severity, its Chinese, findings) for each severity present, errors first."""
    return [(s, zh, [f for f in findings if f.severity == s]) for s, zh in SEVERITY_ZH.items()
            if any(f.severity == s for f in findings)]


@dataclass
class Form:
    """A posted form: its fields (a name may repeat) and at most one uploaded file."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    filename: str = ""
    data: bytes | None = None

    def get(self, name: str) -> str:
        values = self.fields.get(name)
        return values[0] if values else ""

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, ()))


def parse_form(body: bytes, content_type: str, *, max_fields: int = MAX_FIELDS) -> Form | None:
    """The form in a POST's ``body`` (urlencoded, or multipart with at most one file, held in memory: the body is
    already bounded), or None when it is not a form or not a well-formed one."""
    kind = content_type.split(";")[0].strip().lower()
    form = Form()
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields)
        except (UnicodeDecodeError, ValueError):
            return None
        for k, v in pairs:
            form.fields.setdefault(k, []).append(v)
        return form
    if kind != "multipart/form-data":
        return None
    from python_multipart.multipart import File, FormParser, parse_options_header

    count = [0]
    files: list[File] = []

    def on_field(f: Any) -> None:
        count[0] += 1
        if count[0] > max_fields:
            raise ValueError("too many fields")
        name = (f.field_name or b"").decode("utf-8", "replace")
        form.fields.setdefault(name, []).append((f.value or b"").decode("utf-8", "replace"))

    def on_file(f: File) -> None:
        files.append(f)
        if len(files) > 1:
            raise ValueError("more than one file")

    try:
        boundary = parse_options_header(content_type)[1].get(b"boundary")
        if not boundary:
            return None
        parser = FormParser("multipart/form-data", on_field, on_file, boundary=boundary,
                            config={"MAX_MEMORY_FILE_SIZE": len(body) + 1})
        parser.write(body)
        parser.finalize()
        for f in files:
            f.file_object.seek(0)
            form.data = f.file_object.read()
            form.filename = (f.file_name or b"").decode("utf-8", "replace")
    except Exception:  # python-multipart's errors of a malformed body, and ours above
        return None
    finally:
        for f in files:
            f.close()
    return form


def when(t: dt.datetime | None) -> str:
    """A server time as the server's clock said it (the offset it was recorded with)."""
    return "" if t is None else t.strftime("%Y-%m-%d %H:%M")


def mount(app: Any, county: County, gate: GateLike, *, secure: bool | None = None,
          max_upload: int = MAX_UPLOAD) -> None:
    """Add the pages to ``app`` (the server's FastAPI app). Every POST after login, and every download, goes
    through the server's ``gate`` as the JSON routes do (rate limit, body size and time, the engine's queue and
    turns, audit lines). ``secure``: send the session cookie only over https (None: when the request came over
    https)."""
    import jinja2
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, RedirectResponse, Response

    web: FastAPI = app
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(WEB), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(prefix=PREFIX, when=when, grouped=grouped, views=VIEWS, quote=_quote, published_zh=published_zh,
                       county_name=county.county, year=county.year, State=State, Timeliness=Timeliness)
    sessions = Sessions(websession.load_secret(county.store.data_dir))
    throttle = LoginThrottle()
    css = (WEB / "round.css").read_bytes()
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
               "X-Frame-Options": "DENY",
               "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                          "frame-ancestors 'none'; base-uri 'none'"}

    def client_of(request: Request) -> str:
        return request.client.host if request.client else ""

    def is_https(request: Request) -> bool:
        return secure if secure is not None else request.url.scheme == "https"

    def current(request: Request) -> Session | None:
        """The request's session, when valid; a logged-in one whose key was since revoked or replaced is none."""
        s = sessions.load(request.cookies.get(websession.COOKIE))
        if s is None or not s.role:
            return s
        key_hash = county.store.key_hash(s.agency if s.is_agency else None)
        return s if sessions.key_matches(s, key_hash) else None

    def with_cookie(resp: Response, request: Request, s: Session) -> Response:
        resp.set_cookie(websession.COOKIE, sessions.dump(s), max_age=sessions.seconds, path="/", httponly=True,
                        samesite="strict", secure=is_https(request))
        return resp

    def page(request: Request, name: str, s: Session | None, status: int = 200, **ctx: Any) -> Response:
        """A page; a visitor without a valid session gets one (its CSRF token is in every form)."""
        fresh = s is None
        s = s or sessions.new()
        html = env.get_template(name).render(session=s, csrf=sessions.csrf(s), **ctx)
        resp = HTMLResponse(html, status_code=status, headers=headers)
        return with_cookie(resp, request, s) if fresh else resp

    def refuse(request: Request, status: int, message: str, s: Session | None = None, back: str = "") -> Response:
        return page(request, "error.html", s, status, code=status, message=message, back=back or PREFIX + "/")

    def audit(**entry: Any) -> None:
        county.audit(event="page", **entry)

    def back_of(role: str) -> str:
        return PREFIX + ("/agency" if role == websession.ROLE_AGENCY else "/board")

    def login_of(role: str) -> str:
        return PREFIX + ("/login" if role == websession.ROLE_AGENCY else "/coordinator/login")

    def need(role: str) -> str:
        return NEED_AGENCY if role == websession.ROLE_AGENCY else NEED_COORDINATOR

    def session_of(request: Request, role: str) -> tuple[Session | None, Response | None]:
        """The request's session when it has ``role``, else the refusal page (401 not logged in, 403 the other
        role)."""
        s = current(request)
        if s is None or s.role != role:
            return s, refuse(request, 401 if s is None or not s.role else 403, need(role), s, login_of(role))
        return s, None

    def actor_of(s: Session) -> str:
        return s.agency if s.is_agency else COORDINATOR

    async def read_form(request: Request, limit: int) -> Form | bool | None:
        """A small form (login, logout) of at most ``limit`` bytes: None too large, False not a form."""
        size = request.headers.get("content-length")
        if size is not None and (not (size.isascii() and size.isdigit()) or int(size) > limit):
            return None
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return None
        return parse_form(bytes(body), request.headers.get("content-type", "")) or False

    Then = Callable[[Request, Session, Form, str], tuple[Response, str]]

    async def posted(request: Request, role: str, label: str, limit: int, then: Then,
                     too_large: str | None = None, seconds: float | None = None,
                     too_slow: str | None = None) -> Response:
        """A state-changing POST: its role's session (else a refusal page), then through the gate: the body within
        ``limit`` (else 413 ``too_large``, default the gate's) and ``seconds`` (else 408 ``too_slow``, default
        the gate's), its CSRF token, and ``then(request, session, form,
        client)`` -- (the answer, the audit's result) -- in the engine's turn."""
        s, denied = session_of(request, role)
        if denied is not None or s is None:
            return denied or refuse(request, 401, need(role))
        content_type = request.headers.get("content-type", "")

        def work(body: bytes, who: str, client: str) -> tuple[int, Any, str, str]:
            assert s is not None
            form = parse_form(body, content_type)
            if form is None:
                return 400, refuse(request, 400, BAD_FORM, s, back_of(role)), who, "拒绝：表单无效"
            if not sessions.csrf_ok(s, form.get("csrf")):
                return 403, refuse(request, 403, BAD_CSRF, s, back_of(role)), who, "拒绝：表单令牌不符"
            resp, result = then(request, s, form, client)
            return resp.status_code, resp, who, result

        def answer(status: int, value: Any) -> Any:
            return value if isinstance(value, Response) else refuse(request, status, str(value), s, back_of(role))

        result: Response = await gate.handle(request, label, lambda: actor_of(s), need(role), work, answer,
                                             max_body=limit, fallback=(503, FAILED, actor_of(s), "出错"),
                                             too_large=too_large, seconds=seconds, too_slow=too_slow)
        return result

    async def quick(request: Request, role: str, label: str,
                    work: Callable[[Session, str], tuple[Response, str]]) -> Response:
        """A download or a page that reads workbooks: its role's session, then the gate's quick path (rate
        limit, one audit line) with ``work(session, client)`` -- (the answer, the audit's result) -- in a
        thread."""
        s, denied = session_of(request, role)
        if denied is not None or s is None:
            return denied or refuse(request, 401, need(role))

        def run(who: str, client: str) -> tuple[Any, int, str, str]:
            assert s is not None
            resp, result = work(s, client)
            return resp, resp.status_code, who, result

        result: Response = await gate.quick(request, label, lambda: actor_of(s), need(role), run)
        return result

    # ---- logging in and out ---------------------------------------------------------------------------------------

    @web.get(PREFIX + "/static/round.css")
    async def style() -> Response:
        return Response(css, media_type="text/css; charset=utf-8",
                        headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"})

    @web.get(PREFIX + "/")
    async def home(request: Request) -> Response:
        return page(request, "home.html", current(request))

    @web.get(PREFIX)
    async def home_bare() -> Response:
        return RedirectResponse(PREFIX + "/", status_code=303)

    def login_page(request: Request, role: str, s: Session | None, status: int = 200, error: str = "") -> Response:
        return page(request, "login.html", s, status, role=role, error=error)

    @web.get(PREFIX + "/login")
    async def agency_login_page(request: Request) -> Response:
        return login_page(request, websession.ROLE_AGENCY, current(request))

    @web.get(PREFIX + "/coordinator/login")
    async def coordinator_login_page(request: Request) -> Response:
        return login_page(request, websession.ROLE_COORDINATOR, current(request))

    async def login(request: Request, role: str) -> Response:
        client = client_of(request)
        s = current(request)
        form = await read_form(request, MAX_FORM)
        if not isinstance(form, Form):
            return login_page(request, role, s, 413 if form is None else 400, BAD_FORM)
        if s is None:  # no session cookie: a form not from our page, or cookies blocked
            audit(action="登录", role=role, client=client, status=403, result="拒绝：无会话 Cookie")
            return refuse(request, 403, NO_COOKIE, None, request.url.path)
        if not sessions.csrf_ok(s, form.get("csrf")):
            audit(action="登录", role=role, client=client, status=403, result="拒绝：表单令牌不符")
            return login_page(request, role, s, 403, BAD_CSRF)
        if not throttle.allow(client):
            if throttle.log_refusal(client):
                audit(action="登录", role=role, client=client, status=429, result="拒绝：登录尝试过于频繁")
            return login_page(request, role, s, 429, LOGIN_THROTTLED)
        secret = form.get("key").strip()[:512]
        if role == websession.ROLE_AGENCY:
            agency = county.agency_for_key(secret) if secret else None
            ok, name = agency is not None, agency or ""
        else:
            ok, name = bool(secret) and county.is_coordinator(secret), ""
        if not ok:
            throttle.failed(client)
            audit(action="登录", role=role, client=client, status=401, result="失败：密钥或令牌不正确")
            return login_page(request, role, s, 401,
                              LOGIN_BAD_KEY if role == websession.ROLE_AGENCY else LOGIN_BAD_TOKEN)
        key_hash = county.store.key_hash(name if role == websession.ROLE_AGENCY else None) or ""
        audit(action="登录", role=role, agency=name, client=client, status=303, result="成功")
        fresh = sessions.new(role, name, key_hash)  # a new nonce: no session fixation
        return with_cookie(RedirectResponse(back_of(role), status_code=303), request, fresh)

    @web.post(PREFIX + "/login")
    async def agency_login(request: Request) -> Response:
        return await login(request, websession.ROLE_AGENCY)

    @web.post(PREFIX + "/coordinator/login")
    async def coordinator_login(request: Request) -> Response:
        return await login(request, websession.ROLE_COORDINATOR)

    @web.post(PREFIX + "/logout")
    async def logout(request: Request) -> Response:
        s = sessions.load(request.cookies.get(websession.COOKIE))
        form = await read_form(request, MAX_FORM)
        if s is None or not isinstance(form, Form) or not sessions.csrf_ok(s, form.get("csrf")):
            return refuse(request, 403, BAD_CSRF, s)
        audit(action="退出", role=s.role, agency=s.agency, client=client_of(request), status=303)
        return with_cookie(RedirectResponse(PREFIX + "/", status_code=303), request, sessions.new())

    # ---- the clerk --------------------------------------------------------------------------------------------------

    def agency_page(request: Request, s: Session, status: int = 200, result: Outcome | None = None,
                    check: Mapping[str, Any] | None = None, checked_only: bool = False,
                    view: AgencyView | None = None) -> Response:
        """The clerk's page; ``view``: the agency as already read for this request (None: read it now)."""
        if view is None:
            try:
                view = county.agency_view(s.agency)
            except Denied as exc:
                return refuse(request, exc.status, exc.message, s)
        return page(request, "agency.html", s, status, view=view, row=view.row, result=result,
                    package_unit=name_key(view.row.name) in county.package_units(),
                    findings=findings_of(check), check=check, checked_only=checked_only,
                    unreadable=None if check is None else check.get("error"))

    @web.get(PREFIX + "/agency")
    async def agency_home(request: Request) -> Response:
        s, denied = session_of(request, websession.ROLE_AGENCY)
        if denied is not None or s is None:
            return denied or refuse(request, 401, NEED_AGENCY)
        done = version_number(request.query_params.get("done", ""))
        if done is not None:  # the page a submission redirected to: its receipt and the findings kept with it
            try:
                view = county.agency_view(s.agency)
            except Denied as exc:
                return refuse(request, exc.status, exc.message, s)
            for v in view.row.versions:  # while it is the newest version and waits for review
                if v.number == done == view.row.status.versions and view.row.state is State.SUBMITTED:
                    text = SUBMITTED.format(version=v.number, receipt=v.receipt,
                                            at=v.submitted_at.strftime("%Y-%m-%d %H:%M:%S"))
                    if v.warnings:
                        text += WITH_WARNINGS.format(n=v.warnings)
                    return agency_page(request, s, 200, Outcome(201, text), view.summaries.get(v.number), view=view)
        return agency_page(request, s)

    def do_upload(request: Request, s: Session, form: Form, client: str) -> tuple[Response, str]:
        if form.data is None or not form.filename:
            return refuse(request, 400, NO_FILE, s, PREFIX + "/agency"), "拒绝：没有选择文件"
        if is_package(form.filename) and len(form.data) > county.max_package:
            return (refuse(request, 413, PACKAGE_TOO_LARGE.format(mb=county.max_package // (1024 * 1024) or 1), s,
                           PREFIX + "/agency"), "拒绝：上报包过大")
        if not is_package(form.filename) and len(form.data) > max_upload:
            return (refuse(request, 413, TOO_BIG.format(mb=max_upload // (1024 * 1024)), s, PREFIX + "/agency"),
                    "拒绝：文件过大")
        if form.get("do") != "submit":
            check = county.check_workbook(form.data, form.filename).to_dict()
            counts = check["counts"]
            result = (f"网页校验：错误 {counts.get('error', 0)} 个，警告 {counts.get('warning', 0)} 个"
                      if "error" not in check else "网页校验：无法读取")
            return agency_page(request, s, 200, Outcome(200, ""), check, checked_only=True), result
        submitted = county.submit_as(s.agency, form.data, form.filename, client=client)
        if submitted.receipt is not None and not submitted.receipt.repeated:
            # Post/Redirect/Get: reloading the page does not post the workbook again
            return (RedirectResponse(f"{PREFIX}/agency?done={submitted.receipt.version}", status_code=303),
                    submitted.message[:200])
        return (agency_page(request, s, submitted.status, submitted,
                            None if submitted.check is None else submitted.check.to_dict()), submitted.message[:200])

    @web.get(PREFIX + "/agency/upload")
    async def agency_upload_again() -> Response:  # the result page reloaded or bookmarked
        return RedirectResponse(PREFIX + "/agency", status_code=303)

    @web.post(PREFIX + "/agency/upload")
    async def agency_upload(request: Request) -> Response:
        # a form does not say what it carries before it is read: a body past the workbook's limit may be an
        # upward package (.zip, checked against its own limit once read) and takes one of the package slots
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) <= max_upload + FORM_SLACK:
            return await posted(request, websession.ROLE_AGENCY, "网页提交", max_upload + FORM_SLACK, do_upload)
        if not county.package_slots.take():
            s = current(request)
            return refuse(request, 503, PACKAGES_BUSY, s, PREFIX + "/agency")
        try:
            return await posted(request, websession.ROLE_AGENCY, "网页提交", max(max_upload, county.max_package)
                                + FORM_SLACK, do_upload,
                                BOTH_TOO_BIG.format(book=max_upload // (1024 * 1024),
                                                    package=county.max_package // (1024 * 1024) or 1),
                                package_seconds(county.max_package, gate.request_seconds), PACKAGE_TOO_SLOW)
        finally:
            county.package_slots.give()

    def download(data: bytes, filename: str, media: str = XLSX_TYPE) -> Response:
        quoted = urllib.parse.quote(filename)
        return Response(data, media_type=media, headers={
            **headers, "Content-Disposition": f"attachment; filename=\"download\"; filename*=UTF-8''{quoted}"})

    def version_download(request: Request, agency: str, number: str, back: str) -> Callable[[Session, str],
                                                                                            tuple[Response, str]]:
        def work(s: Session, client: str) -> tuple[Response, str]:
            n = version_number(number)
            if n is None:
                return refuse(request, 404, f"没有第{number[:10]}版。", s, back), "拒绝：没有这一版"
            try:
                data = county.version_bytes(agency, n)
            except Denied as exc:
                return refuse(request, exc.status, exc.message, s, back), f"拒绝：{exc.message[:100]}"
            return download(data, county.version_filename(agency, n)), f"下载“{agency[:100]}”第{n}版"
        return work

    @web.get(PREFIX + "/agency/versions/{number}")
    async def agency_version(number: str, request: Request) -> Response:
        s = current(request)
        agency = s.agency if s is not None and s.is_agency else ""
        return await quick(request, websession.ROLE_AGENCY, "网页下载版本",
                           version_download(request, agency, number, PREFIX + "/agency"))

    # ---- the coordinator ------------------------------------------------------------------------------------------

    @web.get(PREFIX + "/board")
    async def board(request: Request) -> Response:
        s, denied = session_of(request, websession.ROLE_COORDINATOR)
        if denied is not None or s is None:
            return denied or refuse(request, 401, NEED_COORDINATOR)
        view = request.query_params.get("view", "")
        if view and view not in VIEWS:
            return refuse(request, 404, "没有这种筛选。", s, PREFIX + "/board")
        rows = county.board()
        counts = {v: len(_in_view(rows, v)) for v in VIEWS}
        counts.update({str(st): sum(r.state is st for r in rows) for st in State})
        shown = _in_view(rows, view) if view else rows
        from starlette.concurrency import run_in_threadpool

        try:  # reads the versions not read yet by this process: in a thread, not in the event loop
            pairs = await run_in_threadpool(county.copy_pairs, rows)
        except Exception:  # the board matters more than this section of it
            log.exception("the cross-unit comparison failed")
            pairs = None
        profile = county.profile
        by = (f"规则配置“{profile.title}”规定" if profile is not None and "cross_unit.repeated_percent"
              in profile.thresholds else "全国默认")
        return page(request, "board.html", s, rows=shown, total=len(rows), view=view, counts=counts,
                    deadline_note=county.deadline_note(), computed=county.computed_units(),
                    package_units=county.package_units(), name_key=name_key, pairs=pairs,
                    copy_percent=f"{county.copy_percent():g}", copy_by=by, max_pairs=MAX_PAIRS,
                    max_passages=MAX_PASSAGES, section_titles={x.number: x.title for x in spec.SECTIONS})

    def agency_of(request: Request, name: str, s: Session) -> Any:
        try:
            return county.agency_view(name)
        except Denied as exc:
            return refuse(request, exc.status, exc.message, s, PREFIX + "/board")

    def review_page(request: Request, s: Session, name: str, status: int = 200, message: str = "",
                    ok: bool = True, done: int | None = None) -> Response:
        """The coordinator's page of one agency; ``done``: the recorded action just taken (its event number),
        told at the top."""
        view = agency_of(request, name, s)
        if isinstance(view, Response):
            return view
        details: list[str] = []
        for e in view.history:
            if e.seq == done and e.actor.role is Role.COORDINATOR:
                message = f"已{e.action.zh}第{e.version}版（{when(e.at)}）。" + ("理由：" + "；".join(e.reasons)
                                                                              if e.reasons else "")
                if e.action is Action.PUBLISH:
                    message = (f"第{e.version}版的发布稿（{str(e.detail.get('source', ''))[:200]}）："
                               + str(e.detail.get("summary", published_zh(e.published))))
                    details = [str(d.get("message", "")) for d in e.detail.get("differences", ())[:MAX_SHOWN]
                               if isinstance(d, Mapping)]
                    ok = e.published is Published.MATCH  # a difference is told as a problem
        latest = view.row.latest
        findings = findings_of(view.summaries.get(latest.number)) if latest is not None else []
        return page(request, "review.html", s, status, view=view, row=view.row, findings=findings, message=message,
                    details=details, ok=ok, base=f"{PREFIX}/board/agency/{_quote(view.row.name)}")

    # (registered after compare and versions: a roster name may hold "/", so {name:path} would also match them)
    async def agency_review(name: str, request: Request) -> Response:
        s, denied = session_of(request, websession.ROLE_COORDINATOR)
        if denied is not None or s is None:
            return denied or refuse(request, 401, NEED_COORDINATOR)
        done = request.query_params.get("done", "")
        return review_page(request, s, name, done=int(done) if done.isascii() and done.isdigit() and len(done) < 12 else None)

    @web.get(PREFIX + "/board/agency/{name:path}/versions/{number}")
    async def coordinator_version(name: str, number: str, request: Request) -> Response:
        return await quick(request, websession.ROLE_COORDINATOR, "网页下载版本",
                           version_download(request, name, number, f"{PREFIX}/board/agency/{_quote(name)}"))

    @web.get(PREFIX + "/board/agency/{name:path}/compare")
    async def compare(name: str, request: Request) -> Response:
        def work(s: Session, client: str) -> tuple[Response, str]:
            view = agency_of(request, name, s)
            if isinstance(view, Response):
                return view, "拒绝：没有这个机关"
            base = f"{PREFIX}/board/agency/{_quote(view.row.name)}"
            a = version_number(request.query_params.get("a", ""))
            b = version_number(request.query_params.get("b", ""))
            known = {v.number: v for v in view.row.versions}
            if a is None or b is None or a not in known or b not in known:
                return refuse(request, 404, NO_VERSION_CHOSEN, s, base), "拒绝：版本不对"
            changes, unread = version_diff(county, view.row.name, a, b)
            return (page(request, "compare.html", s, view=view, row=view.row, base=base, changes=changes,
                         unread=unread, sides=[(known[n], findings_of(view.summaries.get(n))) for n in (a, b)]),
                    f"比较第{a}版与第{b}版")
        return await quick(request, websession.ROLE_COORDINATOR, "网页比较版本", work)

    web.get(PREFIX + "/board/agency/{name:path}")(agency_review)

    def review_action(action: str) -> Callable[[str, Request], Awaitable[Response]]:
        def then(request: Request, s: Session, form: Form, client: str, name: str) -> tuple[Response, str]:
            view = agency_of(request, name, s)
            if isinstance(view, Response):
                return view, "拒绝：没有这个机关"
            version = version_number(form.get("version"))
            if version is None:
                return refuse(request, 400, BAD_FORM, s, PREFIX + "/board"), "拒绝：表单无效"
            reasons: list[str] = []
            if action in ("return", "reopen"):
                latest = view.row.latest
                by_index = {str(f.index): f.reason for f in
                            findings_of(view.summaries.get(latest.number) if latest is not None else None)}
                reasons = [by_index[i] for i in form.getlist("finding") if i in by_index]
                reasons += [line for line in form.get("text").splitlines() if line.strip()]
            r = county.review(view.row.name, action, version, reasons, client=client)
            if not r.ok or r.event is None:
                return review_page(request, s, view.row.name, r.status, r.message, False), r.message[:200]
            # Post/Redirect/Get: reloading the page shows the action again, it does not take it again
            return (RedirectResponse(f"{PREFIX}/board/agency/{_quote(view.row.name)}?done={r.event.seq}",
                                     status_code=303), r.message[:200])

        async def act(name: str, request: Request) -> Response:
            return await posted(request, websession.ROLE_COORDINATOR, "网页审核", MAX_FORM,
                                lambda rq, s, form, client: then(rq, s, form, client, name))
        return act

    web.post(PREFIX + "/board/agency/{name:path}/accept")(review_action("accept"))
    web.post(PREFIX + "/board/agency/{name:path}/return")(review_action("return"))
    web.post(PREFIX + "/board/agency/{name:path}/reopen")(review_action("reopen"))

    def do_publish(request: Request, s: Session, form: Form, client: str, name: str) -> tuple[Response, str]:
        url = form.get("url").strip()
        if form.data is not None and form.filename:
            r = county.publish(name, data=form.data, filename=form.filename, client=client)
        elif url:
            r = county.publish(name, url=url, client=client)
        else:
            return refuse(request, 400, NO_PUBLISHED, s, f"{PREFIX}/board/agency/{_quote(name)}"), "拒绝：没有发布稿"
        head = r.message.split("\n")[0][:200]
        if not r.ok or r.event is None:
            return review_page(request, s, name, r.status, r.message, False), head
        return (RedirectResponse(f"{PREFIX}/board/agency/{_quote(r.agency)}?done={r.event.seq}", status_code=303),
                head)

    @web.post(PREFIX + "/board/agency/{name:path}/published")
    async def published(name: str, request: Request) -> Response:
        return await posted(request, websession.ROLE_COORDINATOR, "网页发布核对", MAX_PUBLISHED,
                            lambda rq, s, form, client: do_publish(rq, s, form, client, name))

    def document(request: Request, suffix: str, media: str, label: str) -> Callable[[Session, str],
                                                                                 tuple[Response, str]]:
        def work(s: Session, client: str) -> tuple[Response, str]:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="xl_addin-round-") as tmp:
                out = Path(tmp) / f"out{suffix}"
                try:
                    if suffix == ".xlsx":
                        county.rollup(out)
                    elif suffix == ".parquet":
                        write_parquet(out)
                    elif suffix == ".zip":
                        county.package(out)
                    else:
                        county.notice(out)
                except Denied as exc:
                    return refuse(request, exc.status, exc.message, s, PREFIX + "/board"), f"拒绝：{exc.message[:100]}"
                data = out.read_bytes()
            return download(data, f"{county.year}年度{label}{suffix}", media), f"下载{label}"
        return work

    @web.get(PREFIX + "/board/rollup.xlsx")
    async def rollup(request: Request) -> Response:
        return await quick(request, websession.ROLE_COORDINATOR, "网页下载汇总表",
                           document(request, ".xlsx", XLSX_TYPE, "汇总表（已通过）"))

    def write_parquet(out: Path) -> None:
        from .adapters.dataset_io import DatasetError, write_dataset

        entries = county.dataset_entries()
        try:
            write_dataset(entries, out)
        except DatasetError:
            raise Denied(503, NO_DATASET) from None

    @web.get(PREFIX + "/board/dataset.parquet")
    async def dataset(request: Request) -> Response:
        return await quick(request, websession.ROLE_COORDINATOR, "网页下载数据集",
                           document(request, ".parquet", PARQUET_TYPE, "数据集（已通过）"))
    @web.get(PREFIX + "/board/package.zip")
    async def package(request: Request) -> Response:
        return await quick(request, websession.ROLE_COORDINATOR, "网页下载上报包",
                           document(request, ".zip", ZIP_TYPE, "上报包"))

    @web.get(PREFIX + "/board/notice.docx")
    async def notice(request: Request) -> Response:
        return await quick(request, websession.ROLE_COORDINATOR, "网页下载通报草稿",
                           document(request, ".docx", DOCX_TYPE, "通报草稿"))


def version_diff(county: County, agency: str, a: int, b: int) -> tuple[Any, str]:
    """(what changed from version ``a`` to ``b`` (:class:`xl_addin.versions.VersionDiff`), "") or (None, why
    the versions could not be read)."""
    from .adapters.fileio import ReadError
    from .checking import read_workbook
    from .versions import diff

    try:
        old, new = (read_workbook(f"{agency}-{n}.xlsx", raw=county.version_bytes(agency, n)) for n in (a, b))
    except (ReadError, Denied) as exc:
        return None, str(getattr(exc, "message", exc))
    return diff(old, new), ""


def version_number(text: str) -> int | None:
    """A version number from a URL or a form (ASCII digits only -- "²" is a digit to str.isdigit but not to int
    -- at most six), or None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _in_view(rows: Sequence[Any], view: str) -> list[Any]:
    if view == "not_submitted":
        return [r for r in rows if r.state is State.NOT_SUBMITTED]
    if view == "late":
        return [r for r in rows if r.timely in (Timeliness.LATE, Timeliness.OVERDUE)]
    if view == "returned":
        return [r for r in rows if r.state is State.RETURNED]
    return list(rows)
