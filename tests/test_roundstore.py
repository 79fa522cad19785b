"""The county's round on disk (xl_addin.adapters.roundstore): roster, keys, submissions and receipts, recorded
actions, the board; and that nothing is lost: kill -9 during a burst of submissions, two processes at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import Clock
from hypothesis import given, settings
from hypothesis import strategies as st

from xl_addin import review, spec
from xl_addin.adapters.roundstore import (
    Actor,
    RoundStore,
    StoreError,
    UnknownAgency,
    board_json,
)
from xl_addin.collect import Agency, Roster, Timeliness
from xl_addin.review import Action, Published, Refused, Role, State, Status

ROOT = Path(__file__).resolve().parents[1]
BURST = Path(__file__).with_name("roundstore_burst.py")
DEPT = spec.AGENCY_KINDS[1]
CST = dt.timezone(dt.timedelta(hours=8))
NAMES = ("县教育局", "县财政局", "县卫生健康局", "某某镇人民政府")
ROSTER = Roster((Agency(NAMES[0], DEPT, "县级", "张三 13800000000"), Agency(NAMES[1], DEPT, "县级", "李四"),
                 Agency(NAMES[2], DEPT, "县级"), Agency(NAMES[3], spec.KIND_GOVERNMENT, "乡级")))
CLEAN = {"counts": {"error": 0, "warning": 1, "info": 0}, "findings": [{"rule": "T2", "severity": "warning"}]}
COORD = Actor(Role.COORDINATOR, "县政务公开办")


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 1, 20, 9, 0, tzinfo=CST))


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> RoundStore:
    s = RoundStore.open(tmp_path / "data", year=2025, clock=clock)
    s.load_roster(ROSTER)
    return s


def _rows(store: RoundStore, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(store.db_path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ---- opening ------------------------------------------------------------------------------------------------------

def test_the_database_is_wal_with_foreign_keys(store: RoundStore) -> None:
    con = store._con()
    assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert con.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert con.execute("PRAGMA foreign_keys").fetchone() == (1,)
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO version (agency_id, number, sha256, size, submitted_at, actor) "
                    "VALUES (999, 1, ?, 1, 'x', 'x')", ("0" * 64,))


def test_one_data_directory_per_year(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="新的数据目录须指定报告年度"):
        RoundStore.open(tmp_path / "new")
    RoundStore.open(tmp_path / "d", year=2025).close()
    with pytest.raises(StoreError, match="该数据目录属于 2025 年度，不能用于 2026 年度"):
        RoundStore.open(tmp_path / "d", year=2026)
    with RoundStore.open(tmp_path / "d") as s:
        assert s.year == 2025


def test_a_stale_temporary_file_is_removed_at_open_and_a_fresh_one_kept(tmp_path: Path) -> None:
    RoundStore.open(tmp_path, year=2025).close()
    shard = tmp_path / "versions" / "ab"
    shard.mkdir(parents=True)
    old, new = shard / ".abc.xlsx.x1.tmp", shard / ".abd.xlsx.x2.tmp"
    for p in (old, new):
        p.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    RoundStore.open(tmp_path).close()
    assert not old.exists() and new.exists()  # a fresh one may be a concurrent writer's


# ---- roster -------------------------------------------------------------------------------------------------------

def test_reloading_the_roster_adds_updates_and_keeps_the_removed(store: RoundStore) -> None:
    store.submit(NAMES[1], b"v1", CLEAN)
    moved = Roster((Agency(NAMES[2], DEPT, "县级", "王五"), Agency("县司法局", DEPT, "县级"), Agency(NAMES[0], DEPT, "县级",
                                                                                          "张三 13800000000")))
    change = store.load_roster(moved)
    assert (change.added, change.updated, change.removed) == (("县司法局",), (NAMES[2],), (NAMES[1], NAMES[3]))
    assert [r.name for r in store.board()] == [NAMES[2], "县司法局", NAMES[0]]  # roster order, removed not shown
    assert store.board()[0].contact == "王五"
    assert [(a.name, a.contact) for a in store.agencies()] == [(NAMES[2], "王五"), ("县司法局", ""),
                                                               (NAMES[0], "张三 13800000000")]
    with pytest.raises(UnknownAgency, match="名单中没有机关"):
        store.submit(NAMES[1], b"v2", CLEAN)
    store.load_roster(ROSTER)  # back on the roster: its version is still there
    assert [v.number for v in store.versions(NAMES[1])] == [1]
    assert store.version_bytes(NAMES[1], 1) == b"v1"


def test_an_agency_is_found_by_its_name_as_matched_and_a_near_miss_is_suggested(store: RoundStore) -> None:
    assert store.status(" 县 教育局 ") == Status()  # spaces are not part of a name (collect.name_key)
    with pytest.raises(UnknownAgency, match="是否为“县财政局”"):
        store.status("县财政厅")


# ---- keys ---------------------------------------------------------------------------------------------------------

def test_keys_are_issued_once_stored_hashed_revoked_and_reissued(store: RoundStore) -> None:
    t1 = store.issue_key(NAMES[0])
    t2 = store.issue_key(NAMES[1])
    assert len(t1) >= 40 and t1 != t2
    assert store.agency_for_token(t1) == NAMES[0] and store.agency_for_token(t2) == NAMES[1]
    assert store.agency_for_token(t1 + "x") is None and store.agency_for_token("") is None
    stored = b"".join(p.read_bytes() for p in store.data_dir.glob("round.sqlite3*"))
    assert t1.encode() not in stored and hashlib.sha256(t1.encode()).hexdigest().encode() in stored
    with pytest.raises(StoreError, match="已有有效密钥"):
        store.issue_key(NAMES[0])
    assert store.revoke_key(NAMES[0]) and not store.revoke_key(NAMES[0])
    assert store.agency_for_token(t1) is None
    t3 = store.reissue_key(NAMES[1])
    assert store.agency_for_token(t2) is None and store.agency_for_token(t3) == NAMES[1]
    assert store.agency_for_token(store.issue_key(NAMES[0])) == NAMES[0]
    store.load_roster(Roster((Agency(NAMES[0], DEPT, "县级"),)))
    assert store.agency_for_token(t3) is None  # an agency off the roster cannot submit


def test_the_coordinator_token_file_is_created_once_owner_only(tmp_path: Path) -> None:
    with RoundStore.open(tmp_path / "d", year=2025) as s:
        path = s.coordinator_token()
        assert path == tmp_path / "d" / "coordinator-token.txt"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        token = path.read_text(encoding="utf-8").strip()
        assert s.is_coordinator(token) and not s.is_coordinator(token[:-1]) and s.agency_for_token(token) is None
    with RoundStore.open(tmp_path / "d") as s:
        s.coordinator_token()
        assert path.read_text(encoding="utf-8").strip() == token and s.is_coordinator(token)  # kept at restart
        path.write_text("A" * 43 + "\n", encoding="utf-8")  # the administrator rotates it by replacing the file
        s.coordinator_token()
        assert s.is_coordinator("A" * 43) and not s.is_coordinator(token)
        path.write_text("short\n", encoding="utf-8")
        with pytest.raises(StoreError, match="协调人令牌应为一行至少"):
            s.coordinator_token()
        elsewhere = s.coordinator_token(tmp_path / "t" / "coord.txt")
        assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o600


# ---- submitting -----------------------------------------------------------------------------------------------------

def test_a_receipt_names_a_durable_version(store: RoundStore, clock: Clock) -> None:
    r1 = store.submit(NAMES[0], b"workbook one", CLEAN)
    r2 = store.submit(NAMES[1], b"workbook two", CLEAN)
    r3 = store.submit(NAMES[0], b"workbook three", CLEAN)
    assert [(r.agency, r.version) for r in (r1, r2, r3)] == [(NAMES[0], 1), (NAMES[1], 1), (NAMES[0], 2)]
    assert len({r.number for r in (r1, r2, r3)}) == 3 and r1.number.startswith("2025-")
    assert r3.submitted_at == clock.t and r3.submitted_at.tzinfo is not None  # the server's time
    path = store.data_dir / "versions" / r3.sha256[:2] / f"{r3.sha256}.xlsx"
    assert path.read_bytes() == b"workbook three" and r3.sha256 == hashlib.sha256(b"workbook three").hexdigest()
    assert store.version_bytes(NAMES[0], 1) == b"workbook one"
    assert store.summary(NAMES[0], 2) == CLEAN
    assert [(v.number, v.warnings, v.receipt) for v in store.versions(NAMES[0])] == [(1, 1, r1.number),
                                                                                    (2, 1, r3.number)]


def test_the_same_bytes_again_while_waiting_is_the_same_receipt(store: RoundStore) -> None:
    r1 = store.submit(NAMES[0], b"same", CLEAN)
    again = store.submit(NAMES[0], b"same", CLEAN)
    assert again.repeated and (again.number, again.version, again.submitted_at) == (r1.number, 1, r1.submitted_at)
    assert len(store.history(NAMES[0])) == 1 and len(store.versions(NAMES[0])) == 1
    store.submit(NAMES[0], b"other", CLEAN)
    back = store.submit(NAMES[0], b"same", CLEAN)  # going back to an older version is a new version
    assert (back.version, back.repeated) == (3, False)
    assert store.version_bytes(NAMES[0], 3) == store.version_bytes(NAMES[0], 1)


def test_a_refused_submission_writes_nothing(store: RoundStore) -> None:
    bad = {"counts": {"error": 2, "warning": 0, "info": 0}}
    with pytest.raises(Refused, match="报告有 2 个错误，不能提交"):
        store.submit(NAMES[0], b"has errors", bad)
    assert not list(store.versions_dir.glob("*/*")) and store.history(NAMES[0]) == []
    store.submit(NAMES[0], b"v1", CLEAN)
    store.act(NAMES[0], Action.RETURN, COORD, 1, ["表三第5行与上年不符"])
    with pytest.raises(Refused, match="与已退回的第1版完全相同"):
        store.submit(NAMES[0], b"v1", CLEAN)
    store.submit(NAMES[0], b"v2", CLEAN)
    store.act(NAMES[0], Action.ACCEPT, COORD, 2)
    with pytest.raises(Refused, match="报告已通过，不能提交"):
        store.submit(NAMES[0], b"v3", CLEAN)
    assert len(list(store.versions_dir.glob("*/*"))) == 2 and len(store.history(NAMES[0])) == 4
    with pytest.raises(ValueError):
        store.submit(NAMES[0], b"v3", {"findings": []})  # a summary without counts is a programming error


# ---- acting -----------------------------------------------------------------------------------------------------------

def test_every_action_is_recorded_with_who_when_which_version_and_why(store: RoundStore, clock: Clock) -> None:
    store.submit(NAMES[0], b"v1", CLEAN)
    ev = store.act(NAMES[0], Action.RETURN, COORD, 1, ["表三第5行与上年不符", " 请补充说明 "])
    assert (ev.before, ev.after, ev.at) == (State.SUBMITTED, State.RETURNED, clock.t)
    store.submit(NAMES[0], b"v2", CLEAN)
    with pytest.raises(Refused, match="第1版不是最新版本"):
        store.act(NAMES[0], Action.ACCEPT, COORD, 1)  # reviewed version 1; version 2 came in since
    store.act(NAMES[0], Action.ACCEPT, COORD, 2)
    store.act(NAMES[0], Action.PUBLISH, Actor(Role.AGENCY, NAMES[0]), 2, published=Published.DIFFERS,
              detail={"source": "http://portal/2025.html", "differences": ["表三 …发布 12，通过稿 13"]})
    with pytest.raises(Refused, match="不能处理"):
        store.act(NAMES[0], Action.PUBLISH, Actor(Role.AGENCY, NAMES[1]), 2, published=Published.MATCH)
    with pytest.raises(Refused, match="报送机关不能撤销通过"):
        store.act(NAMES[0], Action.REOPEN, Actor(Role.AGENCY, NAMES[0]), 2, ["x"])
    h = store.history(NAMES[0])
    assert [(e.action, e.actor.role, e.actor.name, e.version, e.before, e.after) for e in h] == [
        (Action.SUBMIT, Role.AGENCY, NAMES[0], 1, State.NOT_SUBMITTED, State.SUBMITTED),
        (Action.RETURN, Role.COORDINATOR, "县政务公开办", 1, State.SUBMITTED, State.RETURNED),
        (Action.SUBMIT, Role.AGENCY, NAMES[0], 2, State.RETURNED, State.SUBMITTED),
        (Action.ACCEPT, Role.COORDINATOR, "县政务公开办", 2, State.SUBMITTED, State.ACCEPTED),
        (Action.PUBLISH, Role.AGENCY, NAMES[0], 2, State.ACCEPTED, State.ACCEPTED)]
    assert h[1].reasons == ("表三第5行与上年不符", "请补充说明")
    assert h[4].published is Published.DIFFERS and h[4].detail["differences"] == ["表三 …发布 12，通过稿 13"]
    assert [e.at for e in h] == sorted(e.at for e in h) and all(e.at.tzinfo is not None for e in h)
    assert review.replay(e.step() for e in h) == store.status(NAMES[0])


def test_the_board_is_what_board_json_prints(store: RoundStore, clock: Clock) -> None:
    store.submit(NAMES[0], b"v1", CLEAN)  # 2026-01-20: on time (部门 deadline 1月31日)
    store.act(NAMES[0], Action.RETURN, COORD, 1, ["表三有误"])
    clock.t = dt.datetime(2026, 2, 3, 10, 0, tzinfo=CST)
    store.submit(NAMES[1], b"w1", CLEAN)  # after 1月31日: late
    rows = store.board(now=dt.datetime(2026, 2, 5, tzinfo=CST))
    assert [(r.name, r.state, r.timely) for r in rows] == [
        (NAMES[0], State.RETURNED, Timeliness.ON_TIME), (NAMES[1], State.SUBMITTED, Timeliness.LATE),
        (NAMES[2], State.NOT_SUBMITTED, Timeliness.OVERDUE), (NAMES[3], State.NOT_SUBMITTED, Timeliness.NOT_DUE)]
    assert rows[3].deadline == dt.date(2026, 3, 31)  # a 人民政府's own report
    doc = json.loads(json.dumps(board_json(rows), ensure_ascii=False))
    first = doc["agencies"][0]
    assert set(first) == {"name", "state", "versions", "reasons", "published"}
    assert first["state"] == "returned" and first["reasons"] == ["表三有误"] and first["published"] is None
    v = first["versions"][0]
    assert set(v) == {"number", "sha256", "submitted_at"} and v["number"] == 1
    assert v["sha256"] == hashlib.sha256(b"v1").hexdigest() and v["submitted_at"] == "2026-01-20T09:00:01+08:00"
    assert [a["state"] for a in doc["agencies"]] == ["returned", "submitted", "not_submitted", "not_submitted"]
    late = store.board(now=dt.datetime(2026, 2, 5, tzinfo=CST), deadline=dt.date(2026, 1, 10))
    assert late[0].timely is Timeliness.LATE  # the county's own deadline


def test_a_damaged_version_file_is_told_not_served(store: RoundStore) -> None:
    r = store.submit(NAMES[0], b"good bytes", CLEAN)
    path = store.version_path(r.sha256)
    path.write_bytes(b"bad bytes")
    with pytest.raises(StoreError, match="第1版的文件已损坏"):
        store.version_bytes(NAMES[0], 1)
    problems, _ = store.verify()
    assert [(p.agency, p.version, p.what) for p in problems] == [(NAMES[0], 1, "校验值不符")]
    path.unlink()
    with pytest.raises(StoreError, match="第1版的文件无法读取"):
        store.version_bytes(NAMES[0], 1)


# ---- any sequence of actions, against the pure model -----------------------------------------------------------

@settings(deadline=None)
@given(st.data())
def test_the_store_changes_state_only_through_recorded_actions(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = RoundStore.open(tmp, year=2025)
        try:
            store.load_roster(Roster(ROSTER.agencies[:2]))
            model = {n: Status() for n in NAMES[:2]}
            for _ in range(data.draw(st.integers(1, 14))):
                name = data.draw(st.sampled_from(NAMES[:2]))
                before = (len(store.history(name)), len(store.versions(name)))
                action = data.draw(st.sampled_from(list(Action)))
                try:
                    if action is Action.SUBMIT:
                        body = data.draw(st.sampled_from([b"a", b"b", b"c"]))
                        errors = data.draw(st.sampled_from([0, 0, 0, 1]))
                        r = store.submit(name, body, {"counts": {"error": errors, "warning": 0}})
                        if not r.repeated:
                            model[name] = review.apply(model[name], review.Step(
                                action, Role.AGENCY, model[name].versions + 1, sha256=r.sha256))
                    else:
                        role = data.draw(st.sampled_from(list(Role)))
                        version = model[name].versions + data.draw(st.sampled_from([0, 0, 0, -1]))
                        reasons = data.draw(st.sampled_from([["表三有误"], []]))
                        published = data.draw(st.sampled_from([*Published, None]))
                        store.act(name, action, Actor(role, name if role is Role.AGENCY else "办"), version, reasons,
                                  published=published)
                        model[name] = review.apply(model[name], review.Step(action, role, version, tuple(reasons),
                                                                             published=published))
                except Refused:
                    assert (len(store.history(name)), len(store.versions(name))) == before  # nothing recorded
                for n in NAMES[:2]:
                    assert store.status(n) == model[n]
            for n in NAMES[:2]:
                h = store.history(n)
                assert review.replay(e.step() for e in h) == store.status(n)
                assert sum(e.action is Action.SUBMIT for e in h) == len(store.versions(n))
                for e in h:  # every recorded action is a transition the table allows
                    rule = review.RULES[e.action]
                    assert e.actor.role in rule.roles and e.before in rule.sources
                    assert e.after is (rule.target or e.before)
        finally:
            store.close()


# ---- nothing lost ---------------------------------------------------------------------------------------------------

def _burst(data_dir: Path, seed: int, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(BURST), str(data_dir), str(seed), str(count), ",".join(NAMES)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)


def _read_lines(proc: subprocess.Popen[str], out: list[str]) -> threading.Thread:
    def run() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.endswith("\n"):  # a line cut by the kill was not a whole receipt
                out.append(line)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _receipts(lines: list[str]) -> list[dict[str, object]]:
    return [json.loads(x) for x in lines if x.startswith("{")]


def _check_nothing_lost(data_dir: Path, receipts: list[dict[str, object]]) -> int:
    with RoundStore.open(data_dir) as s:
        problems, _orphans = s.verify()
        assert problems == []  # no row without its whole file
        total = 0
        for name in NAMES:
            versions = s.versions(name)
            assert [v.number for v in versions] == list(range(1, len(versions) + 1))
            assert sum(e.action is Action.SUBMIT for e in s.history(name)) == len(versions)
            assert s.status(name).versions == len(versions)
            total += len(versions)
        for r in receipts:
            agency, version, sha = str(r["agency"]), int(str(r["version"])), str(r["sha256"])
            assert hashlib.sha256(s.version_bytes(agency, version)).hexdigest() == sha
            assert s.versions(agency)[version - 1].receipt == r["receipt"]
        temporaries = list(s.versions_dir.glob("*/*.tmp"))
        assert all(not p.name.endswith(".xlsx") for p in temporaries)  # never named as a version is
        return total


def test_kill_9_during_a_burst_loses_no_receipted_version(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with RoundStore.open(data_dir, year=2025) as s:
        s.load_roster(ROSTER)
    rng = random.Random(20)
    receipts: list[dict[str, object]] = []
    killed_mid_burst = 0
    for run in range(5):
        lines: list[str] = []
        proc = _burst(data_dir, run, 10_000)
        reader = _read_lines(proc, lines)
        deadline = time.monotonic() + 60
        while not lines and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lines[:1] == ["ready\n"], proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.2, 1.5))
        killed_mid_burst += proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        reader.join(30)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
        got = _receipts(lines)
        assert got, "the burst printed no receipt before it was killed"
        receipts += got
        total = _check_nothing_lost(data_dir, receipts)
        assert total >= len(receipts)  # a version committed just before the kill may have had no receipt printed
    assert killed_mid_burst == 5
    assert len({str(r["receipt"]) for r in receipts}) == len(receipts)


def test_two_processes_submitting_at_once_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with RoundStore.open(data_dir, year=2025) as s:
        s.load_roster(ROSTER)
    procs = [_burst(data_dir, seed, 40) for seed in (1, 2)]
    receipts: list[dict[str, object]] = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        receipts += _receipts(out.splitlines(keepends=True))
    assert len(receipts) == 80
    assert len({str(r["receipt"]) for r in receipts}) == 80
    assert len({(r["agency"], r["version"]) for r in receipts}) == 80  # no version number given twice
    assert _check_nothing_lost(data_dir, receipts) == 80
    per_agency = Counter(str(r["agency"]) for r in receipts)
    with RoundStore.open(data_dir) as s:
        assert {n: len(s.versions(n)) for n in NAMES} == {n: per_agency[n] for n in NAMES}


def test_a_backup_taken_during_a_burst_is_consistent(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with RoundStore.open(data_dir, year=2025) as s:
        s.load_roster(ROSTER)
        s.coordinator_token()
        lines: list[str] = []
        proc = _burst(data_dir, 7, 10_000)
        reader = _read_lines(proc, lines)
        while len(lines) < 5 and proc.poll() is None:
            time.sleep(0.01)
        s.backup(tmp_path / "backup")  # while the burst writes
        printed = len(lines)
        while len(lines) < printed + 3 and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        reader.join(30)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
        with pytest.raises(StoreError, match="备份目录须为新目录或空目录"):
            s.backup(tmp_path / "backup")
    assert not (tmp_path / "backup" / "coordinator-token.txt").exists()  # the secret is not copied
    with RoundStore.open(tmp_path / "backup") as b:
        problems, orphans = b.verify()
        assert problems == [] and orphans == []
        copied = sum(len(b.versions(n)) for n in NAMES)
        assert copied >= 4  # what had a receipt when the backup began
        for n in NAMES:
            assert review.replay(e.step() for e in b.history(n)) == b.status(n)
            for v in b.versions(n):
                assert hashlib.sha256(b.version_bytes(n, v.number)).hexdigest() == v.sha256
        assert not b.is_coordinator((data_dir / "coordinator-token.txt").read_text(encoding="utf-8").strip())
    assert copied < len(_receipts(lines))  # the burst went on after the snapshot
