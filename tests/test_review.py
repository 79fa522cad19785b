"""The review round as data (xl_addin.review): the states and their Chinese, who may take which action from
where, the refusals a person reads, and (hypothesis) that no sequence of actions breaks the round's invariants."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin import review, spec
from xl_addin.collect import Timeliness
from xl_addin.review import RULES, Action, Published, Refused, Role, State, Status, Step

SHA = ["a" * 64, "b" * 64, "c" * 64]


def test_the_states_are_the_board_json_interface_with_their_chinese() -> None:
    assert [str(s) for s in State] == ["not_submitted", "submitted", "returned", "accepted"]
    assert [s.zh for s in State] == ["未提交", "待审核", "已退回", "已通过"]
    assert [str(p) for p in Published] == ["match", "differs"]
    assert [review.published_zh(p) for p in (None, *Published)] == ["未发布", "已发布·一致", "不一致"]
    for member in (*State, *Published, *Role, *Action):
        assert member.zh  # every id a person may see has its Chinese


def _status_in(state: State) -> Status:
    """A consistent status in ``state`` (version 2 newest)."""
    return {State.NOT_SUBMITTED: Status(),
            State.SUBMITTED: Status(State.SUBMITTED, 2, SHA[1]),
            State.RETURNED: Status(State.RETURNED, 2, SHA[1], reasons=("表三有误",)),
            State.ACCEPTED: Status(State.ACCEPTED, 2, SHA[1], accepted=2)}[state]


def _good_step(action: Action, role: Role, status: Status) -> Step:
    """A step with everything its action needs, so only the role and the state decide."""
    version = status.versions + 1 if action is Action.SUBMIT else status.versions
    return Step(action, role, version, ("理由",), SHA[2], 0, Published.MATCH)


@pytest.mark.parametrize(("state", "action", "role"), list(itertools.product(State, Action, Role)))
def test_an_action_is_taken_exactly_when_the_table_allows_it(state: State, action: Action, role: Role) -> None:
    status = _status_in(state)
    rule = RULES[action]
    allowed = role in rule.roles and state in rule.sources
    step = _good_step(action, role, status)
    if not allowed:
        with pytest.raises(Refused) as exc:
            review.apply(status, step)
        assert action.zh in str(exc.value)
        return
    after = review.apply(status, step)
    assert after.state is (rule.target or state)


def test_the_round_reaches_every_state_and_back() -> None:
    expected = {
        Action.SUBMIT: ({Role.AGENCY}, {State.NOT_SUBMITTED, State.SUBMITTED, State.RETURNED}, State.SUBMITTED),
        Action.ACCEPT: ({Role.COORDINATOR}, {State.SUBMITTED}, State.ACCEPTED),
        Action.RETURN: ({Role.COORDINATOR}, {State.SUBMITTED, State.ACCEPTED}, State.RETURNED),
        Action.REOPEN: ({Role.COORDINATOR}, {State.ACCEPTED}, State.SUBMITTED),
        Action.PUBLISH: ({Role.AGENCY, Role.COORDINATOR}, {State.ACCEPTED}, None),
    }
    assert {a: (set(r.roles), set(r.sources), r.target) for a, r in RULES.items()} == expected


def test_refusals_say_why_in_chinese() -> None:
    submitted = _status_in(State.SUBMITTED)
    cases = [
        (Status(), Step(Action.SUBMIT, Role.AGENCY, 1, sha256=SHA[0], errors=3), "报告有 3 个错误，不能提交"),
        (submitted, Step(Action.RETURN, Role.COORDINATOR, 2, ("  ", "")), "退回须写明理由"),
        (_status_in(State.ACCEPTED), Step(Action.REOPEN, Role.COORDINATOR, 2), "撤销通过须写明理由"),
        (submitted, Step(Action.ACCEPT, Role.COORDINATOR, 1), "第1版不是最新版本（最新为第2版）"),
        (submitted, Step(Action.ACCEPT, Role.AGENCY, 2), "报送机关不能通过"),
        (_status_in(State.ACCEPTED), Step(Action.SUBMIT, Role.AGENCY, 3, sha256=SHA[2]),
         "报告已通过，不能提交。如需修改，请联系政务公开办撤销通过"),
        (_status_in(State.RETURNED), Step(Action.SUBMIT, Role.AGENCY, 3, sha256=SHA[1]),
         "与已退回的第2版完全相同，请按退回理由修改后再提交"),
        (submitted, Step(Action.PUBLISH, Role.COORDINATOR, 2, published=Published.MATCH), "发布稿只能与审核通过的版本核对"),
        (_status_in(State.ACCEPTED), Step(Action.PUBLISH, Role.COORDINATOR, 2), "请给出发布稿与通过稿的核对结果"),
        (submitted, Step(Action.RETURN, Role.COORDINATOR, 2, ("x" * (review.MAX_REASON_CHARS + 1),)), "不能超过"),
    ]
    for status, step, said in cases:
        with pytest.raises(Refused) as exc:
            review.apply(status, step)
        assert said in str(exc.value), (step, str(exc.value))


def test_a_return_keeps_its_reasons_until_the_next_version() -> None:
    s = review.apply(_status_in(State.SUBMITTED), Step(Action.RETURN, Role.COORDINATOR, 2, (" 表三第5行有误 ", "")))
    assert (s.state, s.reasons) == (State.RETURNED, ("表三第5行有误",))
    s = review.apply(s, Step(Action.SUBMIT, Role.AGENCY, 3, sha256=SHA[2]))
    assert (s.state, s.versions, s.reasons) == (State.SUBMITTED, 3, ())


def test_a_withdrawn_acceptance_drops_the_publication_check() -> None:
    s = review.apply(_status_in(State.ACCEPTED), Step(Action.PUBLISH, Role.AGENCY, 2, published=Published.DIFFERS))
    assert s.published is Published.DIFFERS
    s = review.apply(s, Step(Action.REOPEN, Role.COORDINATOR, 2, ("误点通过",)))
    assert (s.state, s.accepted, s.published) == (State.SUBMITTED, None, None)


def test_the_same_bytes_while_waiting_for_review_is_a_retry() -> None:
    submitted, returned = _status_in(State.SUBMITTED), _status_in(State.RETURNED)
    assert review.is_retry(submitted, SHA[1])
    assert not review.is_retry(submitted, SHA[0])  # an older version's bytes: a new version
    assert not review.is_retry(returned, SHA[1])  # refused by apply instead
    assert not review.is_retry(Status(), "")


# ---- any sequence of actions ------------------------------------------------------------------------------------

def _step(data: st.DataObject, status: Status) -> Step:
    """A step drawn with an eye on the status, so most are well-formed and the round goes everywhere; some are
    not (stale version, no reasons, errors, the same bytes, no publication result)."""
    action = data.draw(st.sampled_from(list(Action)))
    base = status.versions + 1 if action is Action.SUBMIT else status.versions
    return Step(action,
                data.draw(st.sampled_from([*RULES[action].roles] * 3 + list(Role))),
                base + data.draw(st.sampled_from([0, 0, 0, 0, 0, -1, 1])),
                data.draw(st.sampled_from([("表三有误",), ("表三有误", "说明不全"), (), (" ",)])),
                data.draw(st.sampled_from([*SHA, *SHA, ""])),
                data.draw(st.sampled_from([0, 0, 0, 0, 2])),
                data.draw(st.sampled_from([*Published, *Published, None])))


def _invariants(s: Status) -> None:
    assert (s.state is State.NOT_SUBMITTED) == (s.versions == 0)
    assert (s.state is State.ACCEPTED) == (s.accepted is not None)
    if s.accepted is not None:
        assert s.accepted == s.versions  # the accepted version is the newest: nothing came after it
    assert s.published is None or s.state is State.ACCEPTED
    assert (s.state is State.RETURNED) == bool(s.reasons)
    assert bool(s.latest) == (s.versions > 0)


@settings(deadline=None)
@given(st.data(), st.integers(0, 40))
def test_no_sequence_of_actions_breaks_the_round(data: st.DataObject, n: int) -> None:
    status, taken = Status(), []
    for _ in range(n):
        step = _step(data, status)
        try:
            after = review.apply(status, step)
        except Refused as exc:
            assert str(exc)  # a refusal always says why
            continue
        rule = RULES[step.action]
        assert step.role in rule.roles and status.state in rule.sources  # only an allowed transition
        assert after.state is (rule.target or status.state)
        if step.action is Action.SUBMIT:
            assert (after.versions, after.latest) == (status.versions + 1, step.sha256)
        else:
            assert (after.versions, after.latest) == (status.versions, status.latest)
        _invariants(after)
        taken.append(step)
        status = after
    assert review.replay(taken) == status  # the status is the fold of the recorded actions


# ---- timeliness ---------------------------------------------------------------------------------------------------

def _at(y: int, m: int, d: int, h: int = 12) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_timeliness_is_judged_from_the_servers_time_of_the_first_version() -> None:
    dept = spec.AGENCY_KINDS[1]
    limit = review.deadline(2025, dept)
    assert limit == dt.date(2026, 1, 31)
    assert review.deadline(2025, spec.KIND_GOVERNMENT) == dt.date(2026, 3, 31)
    assert review.timely(limit, _at(2026, 1, 31, 23), _at(2026, 3, 1)) is Timeliness.ON_TIME
    assert review.timely(limit, _at(2026, 2, 1, 0), _at(2026, 3, 1)) is Timeliness.LATE
    assert review.timely(limit, None, _at(2026, 2, 1)) is Timeliness.OVERDUE
    assert review.timely(limit, None, _at(2026, 1, 20)) is Timeliness.NOT_DUE
    assert review.deadline(2025, dept, dt.date(2026, 1, 15)) == dt.date(2026, 1, 15)  # the county's own date
    assert review.deadline(99999, dept) is None  # a year outside the template's range has no deadline
    assert review.timely(None, _at(2026, 2, 1), _at(2026, 3, 1)) is None
