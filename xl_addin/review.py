"""The county's review round, declared once as data: states, actions, who may take each, from where to where.

Developer note. This module is pure (no I/O; import-linter holds it so). It is to the round what the catalogue is
to the findings: the one place that says what may happen to an agency's report. Everything else reads it:
the store (:mod:`xl_addin.adapters.roundstore`) folds every recorded action through :func:`apply` inside its
transaction, so a state can only change through an action this table allows; pages, ``board --json`` and the
CLI show the English ids (:class:`State`, :class:`Published`) and their Chinese (:data:`ZH`).

- An agency's :class:`Status` is the fold of its recorded actions (:func:`replay`); the store keeps the result
  beside the history as a cache and the tests hold the two equal.
- :data:`RULES` is the state machine: one :class:`Rule` per :class:`Action`, naming the roles that may take it,
  the states it may be taken from and the state it leads to (None: it leaves the state as it is).
- :func:`apply` takes the current status and a :class:`Step` and returns the next status, or raises
  :class:`Refused` with a Chinese reason a person can act on. It never half-applies.
- Actions other than submit name the version the actor looked at; it must be the newest, so a coordinator who
  reviewed version 2 cannot accept it after version 3 came in.
- Identical re-submission: the same bytes as the newest version, while that version waits for review, is a
  retry (a client that did not see its receipt): :func:`is_retry` says so and the store answers with the first
  receipt, recording nothing. The same bytes as a *returned* version are refused (nothing was changed). Bytes
  equal to an older version make a new version (the agency went back to it on purpose).
- Timeliness is judged from the server's time of the first version against the statutory deadline
  (:func:`xl_addin.rules.deadline`, None for a year outside the template's range), in the words of the
  file-based tracker (:class:`xl_addin.collect.Timeliness`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final

from . import profiles, rules
from .collect import Timeliness, timeliness


class State(enum.StrEnum):
    """Where an agency's report stands in the round (the values are the ``board --json`` interface)."""

    NOT_SUBMITTED = "not_submitted"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"

    @property
    def zh(self) -> str:
        return ZH[self]


class Published(enum.StrEnum):
    """The check of the published report against the accepted version; no value (None) is 未发布."""

    MATCH = "match"
    DIFFERS = "differs"

    @property
    def zh(self) -> str:
        return ZH[self]


class Role(enum.StrEnum):
    AGENCY = "agency"
    COORDINATOR = "coordinator"

    @property
    def zh(self) -> str:
        return ZH[self]


class Action(enum.StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    RETURN = "return"
    REOPEN = "reopen"  # withdraw an acceptance: back to 待审核, the agency's report not bounced
    PUBLISH = "publish"  # record the check of the published report against the accepted version

    @property
    def zh(self) -> str:
        return ZH[self]


#: the one place each id's Chinese is written
ZH: Final[Mapping[enum.StrEnum, str]] = {
    State.NOT_SUBMITTED: "未提交", State.SUBMITTED: "待审核", State.RETURNED: "已退回", State.ACCEPTED: "已通过",
    Published.MATCH: "已发布·一致", Published.DIFFERS: "不一致",
    Role.AGENCY: "报送机关", Role.COORDINATOR: "政务公开办",
    Action.SUBMIT: "提交", Action.ACCEPT: "通过", Action.RETURN: "退回", Action.REOPEN: "撤销通过",
    Action.PUBLISH: "登记发布核对结果",
}
NOT_PUBLISHED_ZH: Final = "未发布"


def published_zh(value: Published | None) -> str:
    """未发布 / 已发布·一致 / 不一致."""
    return NOT_PUBLISHED_ZH if value is None else value.zh


@dataclass(frozen=True)
class Rule:
    """One action of the round: who may take it, from which states, and the state it leads to (None: unchanged)."""

    action: Action
    roles: frozenset[Role]
    sources: frozenset[State]
    target: State | None
    needs_reasons: bool = False


def _rule(action: Action, roles: Iterable[Role], sources: Iterable[State], target: State | None,
          needs_reasons: bool = False) -> Rule:
    return Rule(action, frozenset(roles), frozenset(sources), target, needs_reasons)


A, C = Role.AGENCY, Role.COORDINATOR
#: the state machine of the round
RULES: Final[Mapping[Action, Rule]] = {r.action: r for r in (
    _rule(Action.SUBMIT, [A], [State.NOT_SUBMITTED, State.SUBMITTED, State.RETURNED], State.SUBMITTED),
    _rule(Action.ACCEPT, [C], [State.SUBMITTED], State.ACCEPTED),
    _rule(Action.RETURN, [C], [State.SUBMITTED, State.ACCEPTED], State.RETURNED, needs_reasons=True),
    _rule(Action.REOPEN, [C], [State.ACCEPTED], State.SUBMITTED, needs_reasons=True),
    _rule(Action.PUBLISH, [A, C], [State.ACCEPTED], None),
)}
del A, C

#: what a refusal adds when an action is asked for in a state it cannot be taken from
_HINTS: Final[Mapping[tuple[Action, State], str]] = {
    (Action.SUBMIT, State.ACCEPTED): "如需修改，请联系政务公开办撤销通过。",
    (Action.ACCEPT, State.NOT_SUBMITTED): "请等待报送机关提交。",
    (Action.RETURN, State.NOT_SUBMITTED): "请等待报送机关提交。",
    (Action.ACCEPT, State.RETURNED): "请等待报送机关修改后重新提交。",
    (Action.RETURN, State.RETURNED): "请等待报送机关修改后重新提交。",
    (Action.PUBLISH, State.SUBMITTED): "发布稿只能与审核通过的版本核对。",
    (Action.PUBLISH, State.RETURNED): "发布稿只能与审核通过的版本核对。",
    (Action.PUBLISH, State.NOT_SUBMITTED): "发布稿只能与审核通过的版本核对。",
}

MAX_REASONS = 50
MAX_REASON_CHARS = 2000


class Refused(Exception):
    """An action that may not be taken now; the message is Chinese and says why (and what to do)."""


@dataclass(frozen=True)
class Status:
    """Where one agency stands: the fold of its recorded actions."""

    state: State = State.NOT_SUBMITTED
    versions: int = 0  # the newest version's number (versions are numbered 1, 2, ... per agency)
    latest: str = ""  # the newest version's sha256
    accepted: int | None = None  # the accepted version, while accepted
    published: Published | None = None  # the publication check of the accepted version
    reasons: tuple[str, ...] = ()  # the coordinator's reasons, while returned


@dataclass(frozen=True)
class Step:
    """One action asked for. ``version``: for submit, the new version's number and ``sha256`` its content; for
    the others, the version the actor looked at. ``errors``: the error count of a submitted workbook's check."""

    action: Action
    role: Role
    version: int
    reasons: tuple[str, ...] = ()
    sha256: str = ""
    errors: int = 0
    published: Published | None = None


def clean_reasons(reasons: Iterable[str]) -> tuple[str, ...]:
    """The reasons as recorded: stripped, blank ones dropped; Refused when there are too many or one is too long."""
    out = tuple(s for r in reasons if (s := r.strip()))
    if len(out) > MAX_REASONS:
        raise Refused(f"理由过多（{len(out)} 条，上限 {MAX_REASONS} 条）。")
    if any(len(r) > MAX_REASON_CHARS for r in out):
        raise Refused(f"每条理由不能超过 {MAX_REASON_CHARS} 个字。")
    return out


def is_retry(status: Status, sha256: str) -> bool:
    """Whether submitting ``sha256`` repeats the newest version while it waits for review (answered with its
    receipt, nothing recorded)."""
    return status.state is State.SUBMITTED and bool(sha256) and sha256 == status.latest


def apply(status: Status, step: Step) -> Status:
    """The status after ``step``; raises :class:`Refused` (Chinese) when :data:`RULES` or the step's own
    conditions do not allow it."""
    rule = RULES[step.action]
    if step.role not in rule.roles:
        raise Refused(f"{step.role.zh}不能{step.action.zh}。")
    if status.state not in rule.sources:
        raise Refused(f"报告{status.state.zh}，不能{step.action.zh}。" + _HINTS.get((step.action, status.state), ""))
    reasons = clean_reasons(step.reasons)
    if rule.needs_reasons and not reasons:
        raise Refused(f"{step.action.zh}须写明理由。")
    if step.action is Action.SUBMIT:
        return _submit(status, step, reasons)
    if step.version != status.versions:
        raise Refused(f"第{step.version}版不是最新版本（最新为第{status.versions}版），请刷新后重新查看。")
    if step.action is Action.ACCEPT:
        return replace(status, state=State.ACCEPTED, accepted=step.version, published=None, reasons=())
    if step.action is Action.RETURN:
        return replace(status, state=State.RETURNED, accepted=None, published=None, reasons=reasons)
    if step.action is Action.REOPEN:
        return replace(status, state=State.SUBMITTED, accepted=None, published=None, reasons=())
    if step.published is None:
        raise Refused("请给出发布稿与通过稿的核对结果。")
    return replace(status, published=step.published)


def _submit(status: Status, step: Step, reasons: tuple[str, ...]) -> Status:
    if step.errors > 0:
        raise Refused(f"报告有 {step.errors} 个错误，不能提交；请按校验结果改正后再提交。")
    if step.version != status.versions + 1:
        raise Refused(f"版本号应为 {status.versions + 1}，收到 {step.version}。")
    if not step.sha256:
        raise Refused("提交的文件缺少校验值。")
    if status.state is State.RETURNED and step.sha256 == status.latest:
        raise Refused(f"与已退回的第{status.versions}版完全相同，请按退回理由修改后再提交。")
    return Status(State.SUBMITTED, step.version, step.sha256)


def replay(steps: Iterable[Step], start: Status | None = None) -> Status:
    """The status the recorded ``steps`` lead to (each must apply: they were recorded only when they did)."""
    status = start or Status()
    for step in steps:
        status = apply(status, step)
    return status


# ---- timeliness ---------------------------------------------------------------------------------------------------

def deadline(year: int, kind: str, override: dt.date | None = None,
             profile: profiles.Profile | None = None) -> dt.date | None:
    """The deadline an agency's submission is held to: ``override`` (the county's own), else the rule
    ``profile``'s for the agency's kind when it sets one, else the statutory one (None for a year outside the
    template's range)."""
    return override if override is not None else rules.deadline(year, kind, profile)


def timely(limit: dt.date | None, first_submitted: dt.datetime | None, now: dt.datetime) -> Timeliness | None:
    """The first version by the deadline (按时) or after it (逾期); nothing submitted and the deadline past (逾期未交)
    or not yet (未到期); None without a deadline. Times are the server's, judged by their own calendar date."""
    if first_submitted is None:
        return timeliness(limit, now.date(), submitted=False)
    return timeliness(limit, first_submitted.date(), submitted=True)

