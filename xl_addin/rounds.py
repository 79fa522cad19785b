"""The county's round as a service: what the JSON routes, the pages and the CLI's server commands all call.

Developer note. :class:`County` sits between the front ends (``round_routes``, the pages, ``serve``) and the
adapters: it holds one :class:`~xl_addin.adapters.roundstore.RoundStore` (the data directory), the round's year,
its deadline and the county's name, and turns what a person asks for into a typed result with an HTTP-like
``status`` and a Chinese ``message`` (:class:`Outcome`, :class:`Submission`, :class:`Review`), so a JSON route
and an HTML page answer from the same object. Reading methods that cannot answer raise :class:`Denied` (same two
fields).

- Findings are those of ``xl-addin check``: :meth:`County.check_workbook` runs :func:`xl_addin.checking.check_file`
  on the uploaded bytes (the fast reader reads from memory; nothing is written to disk before the check), the same
  catalogue and rules, no last-year figures (as ``check`` without ``--last-year``). Only workbooks are taken
  (.xlsx/.xlsm); a published report (PDF, web page) is not a submission.
- Identity: an agency is its key (:meth:`agency_for_key`); the workbook's 机关名称 must be that agency's (compared as
  the roster compares names, :func:`xl_addin.collect.name_key`), else 403. The coordinator is the token of its
  file (:meth:`is_coordinator`). Both are checked here, not trusted from the caller.
- Order of a submission's refusals: the key (401), the file unreadable (422), another round's year (422), another
  agency's name (403), error-level findings (422 with the findings: the CLI exits 1), the round's own rules
  (409, :mod:`xl_addin.review`), else the store's receipt (201; 200 for a repeated identical submission).
- Audit: every submission and review, refused or not, is one call of ``audit`` (the server's ``Audit.write``) with
  the agency, what was done, the status and a Chinese result; never the key or the token.
- The roll-up is built from the accepted versions only, exactly as ``xl-addin collect`` sums passing files
  (:func:`xl_addin.collect.column_sums` over :func:`xl_addin.collect.examined`), written as a template workbook.
- Levels (issue 22): with a levelled roster, :attr:`County.roles` says which 汇总 units (报告范围=汇总) the round
  computes (:data:`xl_addin.coordinator.ROLLUP`: the roster's top, whose report is the roll-up: left out of
  :meth:`County.board`, no key, named as the upward package's unit) and which send the upward package of their
  own round (:data:`~xl_addin.coordinator.PACKAGE`: a county on its city's roster: an agency of the board whose
  submissions are .zip packages, taken up to :attr:`Settings.max_package`, :data:`PACKAGES_AT_ONCE` at a time
  per process). The board's deadline is ``--deadline``, else the profile's for the agency's kind, else the
  statutory one (:meth:`County.deadline_note` says which). :meth:`County.copy_pairs` is collect's 内容雷同 over
  the accepted versions and those awaiting review.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from . import api, checking, narrative, notice, similarity, spec
from .adapters.roundstore import (
    Actor,
    BoardRow,
    Event,
    Receipt,
    RoundStore,
    StoreError,
    UnknownAgency,
    VersionInfo,
    board_json,
)
from .collect import Agency, FileResult, Roster, Verdict, column_sums, examined, file_entry, name_key
from .dataset import Entry
from .model import FileCheck, Report
from .profiles import Profile
from .review import Action, Refused, Role, State, Status

AuditWrite = Callable[..., None]

#: the suffixes a submission may have (a workbook of the template; the fast reader's)
SUBMIT_SUFFIXES: Final = frozenset({".xlsx", ".xlsm"})
MAX_FILENAME_CHARS: Final = 120
#: actions a coordinator takes through :meth:`County.review`
REVIEW_ACTIONS: Final = {"accept": Action.ACCEPT, "return": Action.RETURN, "reopen": Action.REOPEN}

BAD_KEY: Final = "未授权：报送密钥无效或已停用。请使用县政务公开办下发的年报工作簿，或向其索取新的密钥。"
NOT_COORDINATOR: Final = "未授权：需要政务公开办的协调人令牌。"
NOT_WORKBOOK: Final = "只能提交年报工作簿（.xlsx），收到的文件“{name}”不是工作簿。"
OTHER_AGENCY: Final = ("工作簿的机关名称为“{claimed}”，与报送密钥所属机关“{agency}”不符，拒绝提交。"
                       "每个机关只能提交本机关的年报；请使用本机关的工作簿。")
NO_AGENCY: Final = "工作簿未填写机关名称（基本信息表），不能提交。"
OTHER_YEAR: Final = "工作簿的报告年度为 {got}，本轮报送的是 {want} 年度，不能提交。"
HAS_ERRORS: Final = "报告有 {n} 个错误，不能提交；请按校验结果改正后再提交。"
SUBMITTED: Final = "已提交第{version}版，回执号 {receipt}（服务器时间 {at}）。"
REPEATED: Final = "与第{version}版完全相同，已提交过，回执号 {receipt}（服务器时间 {at}）。"
WITH_WARNINGS: Final = "报告有 {n} 个警告，政务公开办审核时可见。"
NO_VERSION: Final = "机关“{agency}”没有第{version}版。"
NOTHING_ACCEPTED: Final = "还没有审核通过的报告，无法汇总。"
MAX_URL_CHARS: Final = 2000
LONG_ADDRESS: Final = "发布稿网址过长（超过 {n} 个字符），请核对网址，或下载后上传文件。"
NOT_AN_ADDRESS: Final = ("发布稿地址应为以 http:// 或 https:// 开头的网址，收到“{got}”。服务器不读取其本机上的文件："
                         "请上传发布稿文件。")
#: an upward package's body (.zip from ``collect --package``: a county's 60 workbooks are several MB, a city's
#: more); ``serve --max-package-mb``
MAX_PACKAGE: Final = 64 * 1024 * 1024
#: packages one server process receives at once (each held in memory while it is checked)
PACKAGES_AT_ONCE: Final = 2
PACKAGE_TOO_LARGE: Final = ("上报包过大（超过 {mb} MB），服务器拒绝接收。请确认上传的是 xl-addin collect --package "
                            "或县级服务器“下载上报包”生成的 .zip；确实更大时请服务器管理员用 serve --max-package-mb 调高上限。")
PACKAGES_BUSY: Final = "服务器正在接收其他上报包，请稍后再试。（未作任何处理）"
#: the slowest line a package must still arrive over: 1 Mbit/s (128 KiB a second), on top of the server's own time
#: limit -- a 64 MB package may take some 9 minutes, a workbook keeps the server's 30 seconds
PACKAGE_BYTES_PER_SECOND: Final = 128 * 1024
PACKAGE_TOO_SLOW: Final = "上报包数据没有在 {s} 秒内传完，服务器未作任何处理。请检查网络后重试（网络较慢时可在网络空闲时上传）。"


def package_seconds(max_package: int, request_seconds: float) -> float:
    """The time an upward package of up to ``max_package`` bytes may take to arrive: the server's own limit plus
    the package at :data:`PACKAGE_BYTES_PER_SECOND`."""
    return request_seconds + max_package / PACKAGE_BYTES_PER_SECOND
#: versions whose narrative texts one process keeps for the cross-unit comparison (a county's round has some
#: hundred versions; a province's a few thousand)
MAX_KEPT_TEXTS: Final = 5000
#: the round's own 汇总 unit, listed by ``issue_keys``: it sends nothing
COMPUTED_UNIT: Final = "“{name}”为本轮的汇总单位，其年报由汇总生成，不需报送，不签发报送密钥。"
FAILED: Final = "服务器处理时出错，未作任何修改。请稍后重试；仍不成功请联系县政务公开办（请告知时间和所做操作）。"


@dataclass(frozen=True)
class Settings:
    """The round a server runs (``serve --roster R --year Y``): the year, the roster (loaded into the store when
    the county opens; None: the store's as it is), the county's own deadline (None: the statutory one), the
    county's name (the roll-up's and the 通报's), and where the coordinator's token file is (None:
    ``D/coordinator-token.txt``)."""

    year: int
    roster: Roster | None = None
    deadline: dt.date | None = None
    county: str = ""
    coordinator_token_file: Path | None = None
    #: fetch published pages from private and loopback addresses too (the county's portal on its intranet)
    allow_private_fetch: bool = False
    #: the rule profile submissions are checked under (``serve --profile``; None: the national catalogue)
    profile: Profile | None = None
    #: the largest upward package (.zip) taken, in bytes (workbooks keep the server's own limit)
    max_package: int = MAX_PACKAGE
    #: name key -> coordinator.ROLLUP or PACKAGE for the roster's 汇总 units (:func:`xl_addin.coordinator.unit_roles`;
    #: empty: taken from ``roster`` when given)
    roles: Mapping[str, str] = field(default_factory=dict)
    #: name key -> the name key of its parent unit (上级机关), for units that have one (empty: from ``roster``)
    parents: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """What a worker process needs (the roster is loaded once, by ``serve``, before the workers start)."""
        return {"year": self.year, "deadline": None if self.deadline is None else self.deadline.isoformat(),
                "county": self.county,
                "coordinator_token_file": None if self.coordinator_token_file is None else
                str(self.coordinator_token_file), "allow_private_fetch": self.allow_private_fetch,
                "profile": None if self.profile is None else self.profile.to_json(),
                "max_package": self.max_package, "roles": dict(self.roles), "parents": dict(self.parents)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Settings:
        d, f = raw.get("deadline"), raw.get("coordinator_token_file")
        profile = raw.get("profile")
        return cls(int(raw["year"]), None, dt.date.fromisoformat(d) if d else None, str(raw.get("county") or ""),
                   Path(f) if f else None, bool(raw.get("allow_private_fetch")),
                   Profile.from_json(profile) if profile else None, int(raw.get("max_package") or MAX_PACKAGE),
                   {str(k): str(v) for k, v in (raw.get("roles") or {}).items()},
                   {str(k): str(v) for k, v in (raw.get("parents") or {}).items()})

    def unit_roles(self) -> dict[str, str]:
        """name key -> role of the roster's 汇总 units (template units left out)."""
        from .coordinator import TEMPLATE, unit_roles

        roles = dict(self.roles) or (unit_roles(self.roster) if self.roster is not None else {})
        return {k: v for k, v in roles.items() if v != TEMPLATE}

    def unit_parents(self) -> dict[str, str]:
        """name key -> its parent unit's name key (units of the roster that have a 上级机关)."""
        if self.parents or self.roster is None:
            return dict(self.parents)
        by_id = self.roster.by_id
        return {a.key: by_id[a.parent].key for a in self.roster.agencies if a.parent in by_id}


def is_package(filename: str) -> bool:
    """Whether an upload named ``filename`` is an upward package (.zip), which has a limit of its own."""
    return Path(_shown_name(filename)).suffix.lower() == ".zip"


class Slots:
    """At most ``n`` of something at once in one process (used from its event loop only): :meth:`take` False when
    all are taken, :meth:`give` one back."""

    def __init__(self, n: int) -> None:
        self.n, self.used = n, 0

    def take(self) -> bool:
        if self.used >= self.n:
            return False
        self.used += 1
        return True

    def give(self) -> None:
        self.used = max(0, self.used - 1)


class Denied(Exception):
    """A request that cannot be answered: ``status`` (HTTP-like, 4xx) and a Chinese ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Outcome:
    """What a request came to: ``status`` as HTTP would say it (2xx done, 4xx refused) and a Chinese message."""

    status: int
    message: str

    @property
    def ok(self) -> bool:
        return self.status < 400

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "status": self.status, "message": self.message}


@dataclass(frozen=True)
class Submission(Outcome):
    """A submission's answer: the receipt when kept; the check (findings) whenever the file was read."""

    agency: str = ""
    receipt: Receipt | None = None
    check: FileCheck | None = None

    @property
    def report(self) -> Report | None:
        return self.check.report if self.check is not None else None

    @property
    def exit_code(self) -> int:
        """``xl-addin submit``'s exit: 0 kept (a receipt), 1 refused for its findings, 2 refused otherwise."""
        if self.receipt is not None:
            return 0
        return 1 if self.report is not None and not self.report.valid else 2

    def to_json(self) -> dict[str, Any]:
        r = self.receipt
        return {**super().to_json(), "agency": self.agency,
                "receipt": None if r is None else receipt_json(r),
                "check": None if self.check is None else self.check.to_dict()}


@dataclass(frozen=True)
class Review(Outcome):
    """A coordinator's action's answer: the recorded event when it was taken."""

    agency: str = ""
    event: Event | None = None

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "agency": self.agency, "event": None if self.event is None else
                event_json(self.event)}


@dataclass(frozen=True)
class AgencyView:
    """One agency as its page shows it: the board row, every version with its kept check, the history."""

    row: BoardRow
    summaries: Mapping[int, Mapping[str, Any]]
    history: tuple[Event, ...]

    def to_json(self) -> dict[str, Any]:
        row = self.row
        return {**row.to_json(), "state_zh": row.state.zh, "kind": row.kind, "level": row.level,
                "contact": row.contact, "deadline": None if row.deadline is None else row.deadline.isoformat(),
                "timely": None if row.timely is None else row.timely.value,
                "versions": [version_json(v, self.summaries.get(v.number)) for v in row.versions],
                "history": [event_json(e) for e in self.history]}


@dataclass(frozen=True)
class RollupResult:
    """The county roll-up written: the workbook, the agencies summed, and the figures (table key -> sum)."""

    path: Path
    included: tuple[str, ...]
    values: Mapping[str, float | int]
    left_out: tuple[str, ...] = field(default=())


def receipt_json(r: Receipt) -> dict[str, Any]:
    return {"number": r.number, "agency": r.agency, "version": r.version, "sha256": r.sha256, "size": r.size,
            "submitted_at": r.submitted_at.isoformat(timespec="seconds"), "repeated": r.repeated}


def version_json(v: VersionInfo, summary: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out = {**v.to_json(), "size": v.size, "receipt": v.receipt,
           "counts": {"error": v.errors, "warning": v.warnings, "info": v.infos}}
    if summary is not None:
        out["findings"] = list(summary.get("findings") or ())
    return out


def event_json(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "action": str(e.action), "action_zh": e.action.zh, "role": str(e.actor.role),
            "actor": e.actor.name, "at": e.at.isoformat(timespec="seconds"), "version": e.version,
            "reasons": list(e.reasons), "before": str(e.before), "after": str(e.after),
            "published": None if e.published is None else str(e.published)}


def _shown_name(filename: str) -> str:
    """The uploaded file's name fit to show and to check by: its last component, no control characters."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch if ch.isprintable() else "\ufffd" for ch in base).strip()
    return base[:MAX_FILENAME_CHARS] or "工作簿.xlsx"


def _no_audit(**_: Any) -> None:
    return None


class County:
    """The round of one county and one year over its data directory. Open with :meth:`open`; one object may
    serve several threads (the store keeps one connection per thread)."""

    def __init__(self, store: RoundStore, *, deadline: dt.date | None = None, county: str = "",
                 coordinator_token_file: Path | None = None, audit: AuditWrite | None = None,
                 allow_private_fetch: bool = False, profile: Profile | None = None,
                 max_package: int = MAX_PACKAGE, roles: Mapping[str, str] | None = None,
                 parents: Mapping[str, str] | None = None) -> None:
        self.store = store
        #: name key -> parent's name key (the cross-unit comparison groups units by it)
        self.parents: Mapping[str, str] = dict(parents or {})
        #: sha256 of a kept version -> its sections 一/五/六 (read once per process; filled at submission)
        self._texts: dict[str, Mapping[str, str]] = {}
        #: the last comparison: (its inputs, its pairs)
        self._pairs: tuple[Any, list[similarity.Pair]] | None = None
        self.max_package = max_package
        #: packages being received (the JSON route and the upload page share them)
        self.package_slots = Slots(PACKAGES_AT_ONCE)
        #: name key -> coordinator.ROLLUP / PACKAGE of the roster's 汇总 units (Settings.unit_roles)
        self.roles: Mapping[str, str] = dict(roles or {})
        #: the rule profile submissions are checked under (None: the national catalogue)
        self.profile = profile
        self.allow_private_fetch = allow_private_fetch
        self.deadline = deadline
        self.county = county
        self.coordinator_token_file = coordinator_token_file
        self.audit: AuditWrite = audit or _no_audit

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str], *, year: int | None, roster: Roster | None = None,
             deadline: dt.date | None = None, county: str = "",
             coordinator_token_file: str | os.PathLike[str] | None = None,
             clock: Callable[[], dt.datetime] | None = None, audit: AuditWrite | None = None,
             allow_private_fetch: bool = False, profile: Profile | None = None, max_package: int = MAX_PACKAGE,
             roles: Mapping[str, str] | None = None, parents: Mapping[str, str] | None = None) -> County:
        """The round in ``data_dir`` (created when new; ``year`` required then), its agencies made ``roster``'s
        when given, and the coordinator's token file made sure of (created at first start: default
        ``data_dir/coordinator-token.txt``). Raises StoreError (Chinese)."""
        store = RoundStore.open(data_dir, year=year) if clock is None else RoundStore.open(data_dir, year=year,
                                                                                            clock=clock)
        try:
            if roster is not None:
                store.load_roster(roster)
            token_file = store.coordinator_token(coordinator_token_file)
        except BaseException:
            store.close()
            raise
        return cls(store, deadline=deadline, county=county, coordinator_token_file=token_file, audit=audit,
                   allow_private_fetch=allow_private_fetch, profile=profile, max_package=max_package, roles=roles,
                   parents=parents)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> County:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def from_settings(cls, data_dir: str | os.PathLike[str], settings: Settings, *,
                      audit: AuditWrite | None = None) -> County:
        return cls.open(data_dir, year=settings.year, roster=settings.roster, deadline=settings.deadline,
                        county=settings.county, coordinator_token_file=settings.coordinator_token_file, audit=audit,
                        allow_private_fetch=settings.allow_private_fetch, profile=settings.profile,
                        max_package=settings.max_package, roles=settings.unit_roles(),
                        parents=settings.unit_parents())

    @property
    def year(self) -> int:
        return self.store.year

    # ---- who is asking --------------------------------------------------------------------------------------------

    def agency_for_key(self, key: str) -> str | None:
        """The agency whose active key ``key`` is (None: none; an empty key is none)."""
        key = key.strip()
        return self.store.agency_for_token(key) if key else None

    def is_coordinator(self, token: str) -> bool:
        token = token.strip()
        return bool(token) and self.store.is_coordinator(token)

    def issue_keys(self, names: Sequence[str] | None = None, *, actor: str = "政务公开办") -> dict[str, str]:
        """A new key for each of ``names`` (None: every roster agency), the old one revoked; name -> key (given
        once: only hashes are kept). Raises Denied 404 for a name not on the roster."""
        from .coordinator import ROLLUP

        out = {}
        for name in names if names is not None else [a.name for a in self.store.agencies()
                                                     if self.roles.get(a.key) != ROLLUP]:
            if self.roles.get(name_key(name)) == ROLLUP:
                raise Denied(409, COMPUTED_UNIT.format(name=name[:100]))
            try:
                out[self.agency_name(name)] = self.store.reissue_key(name)
            except UnknownAgency as exc:
                raise Denied(404, str(exc)) from None
        self.audit(event="round", action="签发密钥", agency=f"{len(out)} 个机关", actor=actor, status=200,
                   result=f"已签发 {len(out)} 个机关的报送密钥（原密钥失效）")
        return out

    def revoke_key(self, name: str, *, actor: str = "政务公开办") -> Outcome:
        try:
            had = self.store.revoke_key(name)
        except UnknownAgency as exc:
            return Outcome(404, str(exc))
        text = f"机关“{name}”的报送密钥已停用。" if had else f"机关“{name}”没有有效的报送密钥。"
        self.audit(event="round", action="停用密钥", agency=name, actor=actor, status=200, result=text)
        return Outcome(200, text)

    # ---- checking and submitting ------------------------------------------------------------------------------------

    def check_workbook(self, data: bytes, filename: str) -> FileCheck:
        """The findings of ``xl-addin check`` on the uploaded ``data`` (read from memory), or why it could not be
        read (its catalogue file error). An upward package's 汇总 workbook is what is checked, as :meth:`submit_as`
        checks it."""
        from .package import PackageError

        try:
            data, filename = self._unpacked(data, filename)
        except PackageError as exc:
            return FileCheck(_shown_name(filename), error_code="unopenable", error=str(exc))
        return self._checked(data, filename).result

    @staticmethod
    def _unpacked(data: bytes, filename: str) -> tuple[bytes, str]:
        """``data`` and ``filename``, or for an upward package (.zip from ``collect --package``) its 汇总 workbook
        and that workbook's name, the package verified first. Raises PackageError (Chinese, naming the package)."""
        if not is_package(filename):
            return data, filename
        from .adapters.package_zip import open_package

        opened = open_package(_shown_name(filename), data)
        return opened.rollup, opened.manifest.rollup.rsplit("/", 1)[-1]

    def _checked(self, data: bytes, filename: str) -> checking.Checked:
        name = _shown_name(filename)
        if Path(name).suffix.lower() not in SUBMIT_SUFFIXES:
            return checking.Checked(FileCheck(name, error_code="not-xlsx", error=NOT_WORKBOOK.format(name=name)))
        return checking.check_file(name, raw=data, profile=self.profile)

    def submit(self, data: bytes, filename: str, key: str, *, client: str = "") -> Submission:
        """Check ``data`` and keep it as the key's agency's next version (see the module doc for the order of
        refusals); every outcome is audited."""
        agency = self.agency_for_key(key)
        if agency is None:
            return self._submitted(Submission(401, BAD_KEY), filename, client)
        return self.submit_as(agency, data, filename, client=client)

    def submit_as(self, agency: str, data: bytes, filename: str, *, client: str = "") -> Submission:
        """:meth:`submit` for an agency already identified (by its key, or by a clerk's session, which is bound to
        that key and ends when the key is revoked: :mod:`xl_addin.websession`): the same checks, refusals and
        audit. An upward package (.zip from ``collect --package``: a county reporting to the city's round) is
        verified and its 汇总 workbook is what is checked and kept."""
        from .package import PackageError

        try:
            data, filename = self._unpacked(data, filename)
        except PackageError as exc:
            return self._submitted(Submission(422, str(exc), agency), filename, client)
        checked = self._checked(data, filename)
        res = checked.result
        if res.report is None or checked.data is None:
            return self._submitted(Submission(422, res.error, agency, check=res), filename, client)
        wb = checked.data
        claimed = wb.agency.strip()
        if wb.year is not None and wb.year != self.year:
            return self._submitted(Submission(422, OTHER_YEAR.format(got=wb.year, want=self.year), agency, check=res),
                                   filename, client)
        if claimed and name_key(claimed) != name_key(agency):
            return self._submitted(Submission(403, OTHER_AGENCY.format(claimed=claimed[:100], agency=agency), agency,
                                              check=res), filename, client, claimed=claimed[:100])
        counts = res.report.counts
        if counts["error"]:
            return self._submitted(Submission(422, HAS_ERRORS.format(n=counts["error"]), agency, check=res),
                                   filename, client)
        if not claimed:
            return self._submitted(Submission(422, NO_AGENCY, agency, check=res), filename, client)
        try:
            receipt = self.store.submit(agency, data, res.report.to_dict())
            self._keep_texts(receipt.sha256, wb)
        except Refused as exc:
            return self._submitted(Submission(409, str(exc), agency, check=res), filename, client)
        except UnknownAgency as exc:  # the roster changed under the key
            return self._submitted(Submission(403, str(exc), agency, check=res), filename, client)
        at = receipt.submitted_at.strftime("%Y-%m-%d %H:%M:%S")
        text = (REPEATED if receipt.repeated else SUBMITTED).format(version=receipt.version, receipt=receipt.number,
                                                                   at=at)
        if counts["warning"]:
            text += WITH_WARNINGS.format(n=counts["warning"])
        return self._submitted(Submission(200 if receipt.repeated else 201, text, agency, receipt, res), filename,
                               client)

    def _submitted(self, s: Submission, filename: str, client: str, **more: Any) -> Submission:
        r = s.receipt
        self.audit(event="round", action="提交", agency=s.agency, client=client, status=s.status,
                   file=_shown_name(filename), result=s.message[:300],
                   **({"receipt": r.number, "version": r.version, "sha256": r.sha256} if r is not None else {}),
                   **more)
        return s

    # ---- reading ---------------------------------------------------------------------------------------------

    def board(self, *, now: dt.datetime | None = None) -> list[BoardRow]:
        """Every roster agency that reports, in roster order, with its state, versions and timeliness (server
        time) -- not the round's own 汇总 units (:meth:`computed_units`), whose report is the roll-up."""
        from .coordinator import ROLLUP

        rows = self.store.board(now=now, deadline=self.deadline, profile=self.profile)
        return [r for r in rows if self.roles.get(name_key(r.name)) != ROLLUP] if self.roles else rows

    # ---- copying between units (issue 22: collect's 内容雷同, on the board) --------------------------------------

    def _keep_texts(self, sha256: str, data: Any) -> Mapping[str, str]:
        if len(self._texts) >= MAX_KEPT_TEXTS:
            self._texts.clear()
        texts = {n: narrative.section_text(data, n) for n in narrative.PRIOR_SECTIONS}
        self._texts[sha256] = texts
        return texts

    def _texts_of(self, name: str, version: VersionInfo) -> Mapping[str, str]:
        kept = self._texts.get(version.sha256)
        if kept is not None:
            return kept
        from .adapters.fileio import ReadError

        try:
            data = checking.read_workbook(f"{name}-{version.number}.xlsx",
                                          raw=self.version_bytes(name, version.number))
        except (ReadError, Denied):
            return self._texts.setdefault(version.sha256, {})
        return self._keep_texts(version.sha256, data)

    def copy_percent(self) -> float:
        """The bar of the cross-unit comparison: the profile's ``cross_unit.repeated_percent``, else national."""
        from .profiles import NATIONAL

        value = (self.profile or NATIONAL).threshold("cross_unit.repeated_percent", similarity.CROSS_UNIT_PERCENT)
        return float(value) if isinstance(value, int | float) else float(similarity.CROSS_UNIT_PERCENT)

    def copy_pairs(self, rows: Sequence[BoardRow] | None = None) -> list[similarity.Pair]:
        """Units of this round (the same year) and the same parent whose section 一, 五 or 六 is a near copy of the
        other's -- as ``collect``'s 内容雷同 sheet finds them (:func:`xl_addin.similarity.similar_pairs`, the bar
        :meth:`copy_percent`) -- among the accepted versions and those awaiting review (a returned report is
        left out until it comes back). Each version's texts are read once per process (kept by its sha256) and
        the pairs are computed again only when a version or the bar changed."""
        rows = self.board() if rows is None else rows
        chosen: list[tuple[str, VersionInfo]] = []
        for r in rows:
            number = r.status.accepted if r.state is State.ACCEPTED else (
                r.latest.number if r.state is State.SUBMITTED and r.latest is not None else None)
            v = next((v for v in r.versions if v.number == number), None)
            if v is not None:
                chosen.append((r.name, v))
        percent = self.copy_percent()
        key = (percent, tuple((name, v.sha256) for name, v in chosen))
        if self._pairs is not None and self._pairs[0] == key:
            return self._pairs[1]
        units = [similarity.Unit(name, f"第{v.number}版", similarity.peer_group(self.year,
                                                                              self.parents.get(name_key(name), "")),
                                 self._texts_of(name, v)) for name, v in chosen]
        pairs = similarity.similar_pairs(units, percent=percent)
        self._pairs = (key, pairs)
        return pairs

    def computed_units(self) -> list[Agency]:
        """The roster's 汇总 units whose report this round computes (the roll-up): the board lists them apart, as
        the round's 汇总 units with the coverage, not as agencies that have not submitted."""
        from .coordinator import ROLLUP

        return [a for a in self.store.agencies() if self.roles.get(a.key) == ROLLUP]

    def package_units(self) -> set[str]:
        """Name keys of the roster's lower 汇总 units: they report by the upward package of their own round."""
        from .coordinator import PACKAGE

        return {k for k, v in self.roles.items() if v == PACKAGE}

    def deadline_note(self) -> str:
        """The deadline the board's 逾期 follows and who set it (Chinese): ``--deadline``, else the profile's, else
        the statutory one."""
        if self.deadline is not None:
            return f"报送截止日期 {self.deadline.isoformat()}（服务器启动参数 --deadline 规定，适用于所有机关）"
        from .profiles import DEADLINES

        parts, by = [], []
        for who, (zh, (m, d)) in DEADLINES.items():
            own = self.profile.deadline(who) if self.profile is not None else None
            month, day = own or (m, d)
            parts.append(f"{zh} {self.year + 1}-{month:02d}-{day:02d}")
            if own is not None:
                by.append(zh)
        text = "报送截止日期：" + "，".join(parts)
        if by and self.profile is not None:
            rest = "，其余为法定期限" if len(by) < len(parts) else ""
            return text + f"（{'、'.join(by)}的期限由规则配置“{self.profile.title}”（{self.profile.name}）规定{rest}）"
        return text + "（法定期限）"

    def board_json(self) -> dict[str, Any]:
        """``{"agencies": [...], "rollup_units": [...], "deadline": "...", "copy_pairs": [...]}`` as ``xl-addin
        board --json`` prints it: the roster's agencies, then what the board page also shows -- the round's own
        汇总 units (computed by the roll-up, not agencies), the deadline 逾期 follows and who set it, and the units
        whose sections are near copies of each other's (:meth:`copy_pairs`, each with its passages side by side and
        the bar ``copy_percent``)."""
        rows = self.board()
        return {**board_json(rows),
                "rollup_units": [{"name": a.name, "unit_id": a.unit_id} for a in self.computed_units()],
                "deadline": self.deadline_note(),
                "copy_percent": self.copy_percent(),
                "copy_pairs": [p.to_dict() for p in self.copy_pairs(rows)]}

    def agency_name(self, name: str) -> str:
        """The roster's spelling of ``name`` (compared as the roster compares names); UnknownAgency when absent."""
        key = name_key(name)
        for a in self.store.agencies():
            if a.key == key:
                return a.name
        self.store.status(name)  # raises UnknownAgency with the roster's suggestion
        raise UnknownAgency(f"名单中没有机关“{name}”。")

    def status(self, agency: str) -> Status:
        try:
            return self.store.status(agency)
        except UnknownAgency as exc:
            raise Denied(404, str(exc)) from None

    def agency_view(self, name: str) -> AgencyView:
        """One agency's status, versions (each with the check kept with it) and history. Denied 404 for a name not
        on the roster."""
        from .coordinator import ROLLUP

        key = name_key(name)
        rows = [r for r in self.board() if name_key(r.name) == key]
        if not rows and self.roles.get(key) == ROLLUP:
            raise Denied(404, COMPUTED_UNIT.format(name=name[:100]))
        if not rows:
            try:
                self.store.status(name)
            except UnknownAgency as exc:
                raise Denied(404, str(exc)) from None
            raise Denied(404, f"名单中没有机关“{name}”。")
        row = rows[0]
        summaries = {v.number: self.store.summary(row.name, v.number) for v in row.versions}
        return AgencyView(row, summaries, tuple(self.store.history(row.name)))

    def version_bytes(self, agency: str, number: int) -> bytes:
        """The bytes of a kept version, checked against its sha256. Denied 404 (no such agency or version) or 500
        -like 409 when the file is damaged (the message says to restore from backup)."""
        try:
            versions = self.store.versions(agency)
        except UnknownAgency as exc:
            raise Denied(404, str(exc)) from None
        if number not in {v.number for v in versions}:
            raise Denied(404, NO_VERSION.format(agency=agency, version=number))
        try:
            return self.store.version_bytes(agency, number)
        except StoreError as exc:
            raise Denied(409, str(exc)) from None

    def version_filename(self, agency: str, number: int) -> str:
        """The name a downloaded version is saved under."""
        from .coordinator import workbook_name

        return workbook_name(self.year, agency, f"-第{number}版")

    # ---- reviewing ----------------------------------------------------------------------------------------------

    def review(self, agency: str, action: str, version: int | None, reasons: Sequence[str] = (), *,
               actor: str = "政务公开办", client: str = "") -> Review:
        """The coordinator's ``action`` ("accept", "return", "reopen") on ``agency``'s ``version`` (the one the
        coordinator looked at; None: the newest). Refusals: 404 unknown agency, 400 unknown action, 409 what the
        round does not allow (Chinese, from :mod:`xl_addin.review`). Audited."""
        act = REVIEW_ACTIONS.get(action)
        if act is None:
            known = "、".join(a.zh for a in REVIEW_ACTIONS.values())
            return self._reviewed(Review(400, f"未知的审核操作“{action[:40]}”（可用：{known}）。", agency),
                                  action[:40], actor, client)
        if isinstance(reasons, str):
            reasons = (reasons,)
        try:
            status = self.store.status(agency)
            name = self.agency_name(agency)
        except UnknownAgency as exc:
            return self._reviewed(Review(404, str(exc), agency), act.zh, actor, client)
        number = status.versions if version is None else version
        try:
            event = self.store.act(name, act, Actor(Role.COORDINATOR, actor), number, reasons)
        except Refused as exc:
            return self._reviewed(Review(409, str(exc), name), act.zh, actor, client, version=number)
        text = f"机关“{name}”第{number}版：{act.zh}。"
        if event.reasons:
            text += "理由：" + "；".join(event.reasons)
        return self._reviewed(Review(200, text, name, event), act.zh, actor, client, version=number)

    def _reviewed(self, r: Review, action: str, actor: str, client: str, **more: Any) -> Review:
        self.audit(event="round", action=action, agency=r.agency[:100], actor=actor[:100], client=client,
                   status=r.status, result=r.message[:300], **more)
        return r

    def publish(self, agency: str, *, url: str = "", data: bytes | None = None, filename: str = "",
                actor: str = "政务公开办", role: Role = Role.COORDINATOR, client: str = "") -> Review:
        """The publication check of ``agency``'s accepted version against its published report -- the page at
        ``url`` (fetched within :mod:`xl_addin.adapters.fetch`'s limits) or the uploaded file ``data`` named
        ``filename`` (PDF, web page, Word, text) -- recorded as a publish action (已发布·一致 / 不一致, with every
        difference in the event's detail). Refusals: 404 unknown agency, 409 not accepted, 422 the report cannot be
        fetched or read. Audited."""
        from .adapters.fetch import FetchError, is_url, load_published, load_published_bytes
        from .adapters.fileio import ReadError
        from .published import compare

        label = Action.PUBLISH.zh
        if data is None and not is_url(url.strip()):  # never a path: the server would read its own files
            return self._reviewed(Review(400, NOT_AN_ADDRESS.format(got=url.strip()[:100]), agency[:100]), label,
                                  actor, client)
        if data is None and len(url) > MAX_URL_CHARS:  # its refusals quote it: not megabytes of it
            return self._reviewed(Review(400, LONG_ADDRESS.format(n=MAX_URL_CHARS), agency[:100]), label, actor,
                                  client)
        try:
            name = self.agency_name(agency)
            status = self.store.status(name)
        except UnknownAgency as exc:
            return self._reviewed(Review(404, str(exc), agency), label, actor, client)
        if status.state is not State.ACCEPTED or status.accepted is None:
            return self._reviewed(Review(409, f"报告{status.state.zh}，发布稿只能与审核通过的版本核对。", name), label,
                                  actor, client)
        number = status.accepted
        try:
            accepted = checking.read_workbook(f"{name}-{number}.xlsx", raw=self.version_bytes(name, number))
            if data is not None:
                imported = load_published_bytes(filename or "published", data)
            else:
                imported = load_published(url, allow_private=self.allow_private_fetch)
        except (ReadError, FetchError) as exc:
            return self._reviewed(Review(422, f"无法读取发布稿：{exc}", name), label, actor, client)
        except Denied as exc:
            return self._reviewed(Review(exc.status, exc.message, name), label, actor, client)
        result = compare(accepted, imported.data)
        source = url if data is None else _shown_name(filename or "published")
        try:
            event = self.store.act(name, Action.PUBLISH, Actor(role, actor), number,
                                   published=result.published, detail={**result.to_dict(), "source": source[:500]})
        except Refused as exc:
            return self._reviewed(Review(409, str(exc), name), label, actor, client)
        text = f"机关“{name}”第{number}版的发布稿（{source[:200]}）：{result.summary_zh()}"
        lines = [d.message for d in result.differences[:20]]
        return self._reviewed(Review(200, "\n".join([text, *lines]), name, event), label, actor, client,
                              version=number, published=str(result.published))

    # ---- the round's documents ------------------------------------------------------------------------------------

    def accepted_files(self) -> list[tuple[str, FileResult]]:
        """(agency, its accepted version examined) of every accepted agency, in roster order. Denied 409 when
        nothing is accepted."""
        return [(name, f) for name, _, f in self._accepted_checked(self.board())]

    def _accepted_checked(self, rows: Sequence[BoardRow]) -> list[tuple[str, bytes, FileResult]]:
        """(agency, its accepted version's bytes, those bytes examined) of every accepted agency of ``rows``: each
        version read (and its sha256 verified) once. Denied 409 when nothing is accepted."""
        out: list[tuple[str, bytes, FileResult]] = []
        for r in rows:
            number = r.status.accepted
            if r.state is not State.ACCEPTED or number is None:
                continue
            name, sha = r.name, next((v.sha256 for v in r.versions if v.number == number), "")
            data = self.version_bytes(name, number)  # verified against that sha256
            checked = checking.check_file(f"{name}-{number}.xlsx", raw=data, profile=self.profile)
            if checked.data is None or checked.result.report is None:  # kept files were read once: not expected
                raise Denied(409, f"机关“{name}”第{number}版无法读取：{checked.result.error}")
            out.append((name, data, examined(checked.result.path, checked.data, checked.result.report.findings,
                                             values=checked.values, sha256=sha)))
        if not out:
            raise Denied(409, NOTHING_ACCEPTED)
        return out

    def dataset_entries(self) -> list[Entry]:
        """The dataset (:mod:`xl_addin.dataset`) of the accepted versions: one entry per accepted agency, in
        roster order, its unit fields from the roster, its verdict that of the version's check. Denied 409 when
        nothing is accepted."""
        roster = {a.key: a for a in self.store.agencies()}
        out = []
        for name, f in self.accepted_files():
            verdict = (Verdict.PASS if f.valid else Verdict.FAIL).zh
            out.append(file_entry(f, name, verdict, roster.get(name_key(name)), self.year))
        return out

    def rollup(self, out: str | os.PathLike[str]) -> RollupResult:
        """The county roll-up of the accepted versions only, written at ``out`` as a template workbook (tables
        二, 三, 四 holding the sums, as ``xl-addin collect`` sums passing files). Denied 409 when nothing is
        accepted."""
        rows = self.board()  # one board for the sums and for who is left out
        got = self._accepted_checked(rows)
        files = [f for _, _, f in got]
        included = [name for name, _, _ in got]
        sums = column_sums(files)
        values: dict[str, Any] = {k: v for k, v in sums.items() if k in spec.INPUT_KEYS}
        values["meta.agency"] = f"{self.county}（汇总）" if self.county else "全县汇总"
        values["meta.year"] = self.year
        path = api.build_template(out, values)
        left_out = tuple(r.name for r in rows if r.state is not State.ACCEPTED)
        return RollupResult(path, tuple(included), dict(sums), left_out)

    def summary_unit(self) -> str:
        """The name of the county's 汇总 unit in the upward package (as the city's roster names it)."""
        name = self.county.strip() or "全县"
        return name if name.endswith("政府") else f"{name}人民政府"

    def package(self, out: str | os.PathLike[str]) -> Path:
        """The upward package (issue 22) of the round at ``out``: the county's 汇总 workbook (the accepted versions
        summed, :mod:`xl_addin.rollup`), every accepted version, the coverage (accepted, late, not accepted, not
        submitted) and the manifest with SHA-256 hashes -- what ``collect --package`` makes from a folder. Denied
        409 when nothing is accepted."""
        import tempfile

        from . import rollup
        from .adapters.rollup_book import write_rollup_book
        from .collect import SCOPE_SUMMARY, Timeliness
        from .coordinator import rollup_book_name, write_upward

        rows = self.board()  # one board for the files, the coverage and the package
        checked = {name: (data, f) for name, data, f in self._accepted_checked(rows)}
        # the round's own level: the highest of its agencies' (a city's round has its departments and counties)
        level = min((r.level for r in rows if r.level in spec.LEVELS), key=spec.LEVELS.index, default=spec.LEVELS[2])
        top = Agency(self.summary_unit(), spec.KIND_GOVERNMENT, level, scope=SCOPE_SUMMARY)
        computed = self.computed_units()  # the roster names the round's 汇总 unit: the package is its
        own = [a for a in computed if not self.parents.get(a.key)] or computed  # the top one
        if own:
            top = Agency(own[0].name, own[0].kind or spec.KIND_GOVERNMENT, own[0].level or level, scope=SCOPE_SUMMARY)
        units = tuple(Agency(r.name, r.kind, r.level, parent=top.unit_id) for r in rows)
        reports = {}
        for r, a in zip(rows, units, strict=True):
            if r.name in checked:
                f = checked[r.name][1]
                late = r.timely in (Timeliness.LATE, Timeliness.OVERDUE)
                reports[a.unit_id] = rollup.UnitReport(rollup.LATE if late else rollup.IN, f.values, f.prior,
                                                       source=r.name)
            elif r.state is State.NOT_SUBMITTED:
                reports[a.unit_id] = rollup.UnitReport(rollup.MISSING)
            else:
                reports[a.unit_id] = rollup.UnitReport(rollup.REJECTED, note=f"未审核通过（{r.state.zh}）")
        (summed,) = rollup.roll_up(Roster((top, *units)), reports, year=self.year)
        with tempfile.TemporaryDirectory(prefix="xl_addin-package-") as tmp:
            book = write_rollup_book(summed, Path(tmp) / rollup_book_name(self.year, top.name))
            # the very bytes checked and summed above (read and verified once, not again)
            return write_upward(out, (summed,), (book,), lambda c: checked[c.name][0])

    def notice(self, out: str | os.PathLike[str], *, office: str = "", date: dt.date | None = None) -> Path:
        """The 通报 draft of the round (Word for .docx, a web page for .html, text for .txt) at ``out``."""
        draft = notice.from_board(self.board(), self.store.summary, year=self.year)
        return api.write_notice(draft, out, county=self.county or "本县", year=self.year, office=office, date=date)


class GateLike(Protocol):
    """What the round's routes and pages use of :class:`xl_addin.server.Gate` (the server layer is above them): run
    a request through the server's limits, queue and audit."""

    async def handle(self, request: Any, label: str, who: Callable[[], str | None], unauthorized: str,
                     work: Callable[[bytes, str, str], tuple[int, Any, str, str]],
                     answer: Callable[[int, Any], Any], *,
                     before_body: Callable[[], tuple[int, str, str] | None] | None = None,
                     fallback: tuple[int, Any, str, str] = ..., max_body: int | None = None,
                     too_large: str | None = None, seconds: float | None = None,
                     too_slow: str | None = None) -> Any: ...

    @property
    def request_seconds(self) -> float:
        """The time a request's body may take to arrive (the server's ``request_seconds``)."""
        ...

    async def quick(self, request: Any, label: str, who: Callable[[], str | None], unauthorized: str,
                    work: Callable[[str, str], tuple[Any, int, str, str]]) -> Any: ...
