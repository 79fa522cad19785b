"""The county's round on disk: SQLite (the state, the history, the keys) beside content-addressed version files.

Developer note. Layout of a data directory ``D``::

    D/round.sqlite3 (+ -wal, -shm)      agencies, versions, actions, keys, meta
    D/versions/<sha256[:2]>/<sha256>.xlsx   every submitted workbook, named by its content
    D/coordinator-token.txt             the coordinator's token (mode 0600), created at first start

Durability. A version file is written to a temporary file in its final directory, fsync'd, renamed into place and
the directory fsync'd (and ``versions/`` too when the shard directory was new); only then is the version's row
inserted, in one ``BEGIN IMMEDIATE`` transaction with its action row and the agency's new status, committed
with ``journal_mode=WAL`` and ``synchronous=FULL`` (the commit fsyncs the WAL). :meth:`RoundStore.submit`
returns the receipt only after that commit. So a crash at any moment leaves either no row (at most an orphan file
or a temporary file, never counted: versions are the rows) or a row whose file is complete. :meth:`verify`
checks exactly that; :meth:`open` removes temporary files older than an hour (a younger one may belong to a
concurrent writer).

State. Every change of an agency's state is an action row (who, role, when, which version, why, the state
before and after) written in the same transaction as the agency's status columns, and the new status is computed
by :func:`xl_addin.review.apply` from the status read inside that transaction: the status columns are a cache of
the fold of the history (:func:`xl_addin.review.replay`), and the tests hold them equal.

Keys. An agency's token is ``secrets.token_urlsafe(32)`` and only its SHA-256 is stored (a random 256-bit token
needs no salt or slow hash); :meth:`agency_for_token` compares the hash with every active key's by
:func:`hmac.compare_digest`, without stopping at the first match. The coordinator's token lives in its file
(which the coordinator's CLI reads); its hash is kept in ``meta``, refreshed from the file at each start so an
administrator rotates it by replacing the file.

Backup. :meth:`RoundStore.backup` copies the database with SQLite's online backup (a consistent snapshot while
the server runs), then the version files its rows name: since a file is durable before its row, every row of
the snapshot has its file. Copying the directory with ``cp`` while the server runs may catch the database between
its main file and its WAL; stop the server first or use :meth:`backup`.

Version files (and the coordinator's token file) are mode 0600: only the server's account reads them.
Times are the server's (``clock``, injectable for tests; aware datetimes, stored as ISO 8601 with the offset).
Identical re-submission: see :func:`xl_addin.review.is_retry` (the first receipt again, nothing recorded).
One ``RoundStore`` may be used from several threads (one connection per thread) and several processes may
open the same directory (WAL, ``busy_timeout``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .. import review
from ..collect import Agency, Roster, Timeliness, name_key
from ..profiles import Profile
from ..review import Action, Published, Refused, Role, State, Status, Step

SCHEMA_VERSION: Final = 1
DB_NAME: Final = "round.sqlite3"
VERSIONS_DIR: Final = "versions"
COORDINATOR_TOKEN_NAME: Final = "coordinator-token.txt"
TMP_SUFFIX: Final = ".tmp"
STALE_TMP_SECONDS: Final = 3600
BUSY_TIMEOUT_MS: Final = 30_000
#: upserts (3.24); Debian 12 has 3.40, Python 3.11's Windows build 3.39+
MIN_SQLITE: Final = (3, 24, 0)
MIN_TOKEN_CHARS: Final = 20

Clock = Callable[[], dt.datetime]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agency (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',
    credit_code TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    state TEXT NOT NULL DEFAULT 'not_submitted'
        CHECK (state IN ('not_submitted', 'submitted', 'returned', 'accepted')),
    versions INTEGER NOT NULL DEFAULT 0,
    latest TEXT NOT NULL DEFAULT '',
    accepted INTEGER,
    published TEXT CHECK (published IS NULL OR published IN ('match', 'differs')),
    reasons TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS version (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agency(id),
    number INTEGER NOT NULL CHECK (number >= 1),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    size INTEGER NOT NULL,
    submitted_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    infos INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '{}',
    UNIQUE (agency_id, number)
);
CREATE TABLE IF NOT EXISTS action (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agency(id),
    action TEXT NOT NULL CHECK (action IN ('submit', 'accept', 'return', 'reopen', 'publish')),
    role TEXT NOT NULL CHECK (role IN ('agency', 'coordinator')),
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    version INTEGER NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    sha256 TEXT NOT NULL DEFAULT '',
    published TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS action_agency ON action (agency_id, id);
CREATE TABLE IF NOT EXISTS agency_key (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agency(id),
    hash TEXT NOT NULL UNIQUE,
    issued_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_active_key ON agency_key (agency_id) WHERE revoked_at IS NULL;
"""


class StoreError(Exception):
    """The data directory cannot be used as asked; the message is Chinese."""


class UnknownAgency(StoreError):
    """No agency of that name on the roster."""


@dataclass(frozen=True)
class Actor:
    """Who takes an action: a role and a name (the agency's own name, or the coordinator's login)."""

    role: Role
    name: str


@dataclass(frozen=True)
class Receipt:
    """What a submission gets once it is durable. ``repeated``: the same bytes as the newest version, which waits
    for review; this is that version's receipt again."""

    number: str
    agency: str
    version: int
    sha256: str
    size: int
    submitted_at: dt.datetime
    repeated: bool = False


@dataclass(frozen=True)
class VersionInfo:
    number: int
    sha256: str
    size: int
    submitted_at: dt.datetime
    receipt: str
    errors: int
    warnings: int
    infos: int

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "sha256": self.sha256, "submitted_at": self.submitted_at.isoformat(timespec="seconds")}


@dataclass(frozen=True)
class BoardRow:
    """One roster agency on the coordinator's board."""

    name: str
    kind: str
    level: str
    contact: str
    status: Status
    versions: tuple[VersionInfo, ...]
    deadline: dt.date | None
    timely: Timeliness | None

    @property
    def state(self) -> State:
        return self.status.state

    @property
    def latest(self) -> VersionInfo | None:
        return self.versions[-1] if self.versions else None

    def to_json(self) -> dict[str, Any]:
        """The agency as ``board --json`` prints it."""
        p = self.status.published
        return {"name": self.name, "state": str(self.status.state), "versions": [v.to_json() for v in self.versions],
                "reasons": list(self.status.reasons), "published": None if p is None else str(p)}


def board_json(rows: Sequence[BoardRow]) -> dict[str, Any]:
    """``{"agencies": [...]}``, the document ``board --json`` prints."""
    return {"agencies": [r.to_json() for r in rows]}


@dataclass(frozen=True)
class Event:
    """One recorded action of an agency's history."""

    seq: int
    action: Action
    actor: Actor
    at: dt.datetime
    version: int
    reasons: tuple[str, ...]
    before: State
    after: State
    sha256: str
    published: Published | None
    detail: Mapping[str, Any]

    def step(self) -> Step:
        """The step this event applied (replaying the history gives the agency's status)."""
        return Step(self.action, self.actor.role, self.version, self.reasons, self.sha256, 0, self.published)


@dataclass(frozen=True)
class RosterChange:
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]  # no longer on the roster: kept with their history, not shown on the board


@dataclass(frozen=True)
class Problem:
    """A version row whose file is missing or whose bytes do not match (found by :meth:`RoundStore.verify`)."""

    agency: str
    version: int
    sha256: str
    what: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _ts(t: dt.datetime) -> str:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError("the store's clock must give aware datetimes")
    return t.isoformat(timespec="microseconds")


def _fsync_dir(path: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable. Windows cannot open a directory to fsync it;
    NTFS journals its metadata, and there the rename's durability is left to it."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _db_key(name: str) -> str:
    """A name as the database matches it (:func:`name_key`), a lone surrogate a JSON body carried made "?" (SQLite
    takes only UTF-8; such a name is on no roster)."""
    return name_key(name).encode("utf-8", "replace").decode("utf-8")


def durable_write(target: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``target`` so that after a crash it is either absent or whole: a temporary file in the
    same directory, fsync'd, renamed over ``target``, then the directory fsync'd (and its parent when the
    directory was created now)."""
    parent = target.parent
    if not parent.is_dir():
        parent.mkdir(parents=True, exist_ok=True)
        _fsync_dir(parent.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(parent)


class RoundStore:
    """The round's state in ``data_dir``. Open with :meth:`open`; close with :meth:`close` (or ``with``)."""

    def __init__(self, data_dir: Path, year: int, clock: Clock) -> None:
        self.data_dir, self.year, self.clock = data_dir, year, clock
        self.db_path = data_dir / DB_NAME
        self.versions_dir = data_dir / VERSIONS_DIR
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()

    # ---- opening ------------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str], *, year: int | None = None, clock: Clock = _now) -> RoundStore:
        """The store in ``data_dir`` (created, with its database, when new). ``year``: the round's report year,
        required for a new store; an existing store of another year is refused (one data directory per year)."""
        d = Path(data_dir)
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise StoreError(f"本机 SQLite 版本 {sqlite3.sqlite_version} 过旧，需要 "
                             + ".".join(map(str, MIN_SQLITE)) + " 或更新版本。")
        try:
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{d}：无法创建数据目录（{exc.strerror or exc}）。") from None
        if not d.is_dir():
            raise StoreError(f"{d}：不是目录。")
        store = cls(d, 0, clock)
        try:
            store.year = store._init(year)
            if not store.versions_dir.is_dir():
                store.versions_dir.mkdir(exist_ok=True)
                _fsync_dir(d)
            store._remove_stale_temporaries()
        except BaseException:
            store.close()
            raise
        return store

    def _init(self, year: int | None) -> int:
        con = self._con()
        con.execute("PRAGMA journal_mode=WAL")
        with self._tx() as c:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    c.execute(stmt)
            meta = dict(c.execute("SELECT key, value FROM meta").fetchall())
            if "schema" in meta and meta["schema"] != str(SCHEMA_VERSION):
                raise StoreError(f"{self.data_dir}：数据目录的格式版本为 {meta['schema']}，本程序只能使用版本 "
                                 f"{SCHEMA_VERSION}，请升级程序。")
            stored = int(meta["year"]) if "year" in meta else None
            if stored is None:
                if year is None:
                    raise StoreError(f"{self.data_dir}：新的数据目录须指定报告年度。")
                c.execute("INSERT INTO meta VALUES ('schema', ?), ('year', ?)", (str(SCHEMA_VERSION), str(year)))
                return year
            if year is not None and year != stored:
                raise StoreError(f"{self.data_dir}：该数据目录属于 {stored} 年度，不能用于 {year} 年度；"
                                 "每个年度请使用单独的数据目录。")
            return stored

    def _con(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            try:
                con = sqlite3.connect(self.db_path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                      check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.db_path}：无法打开数据库（{exc}）。") from None
            con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA foreign_keys=ON")
            self._local.con = con
            with self._conns_lock:
                self._conns.append(con)
        return con

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: the write lock is taken at once, so what is read inside holds
        until the commit)."""
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._conns_lock:
            for con in self._conns:
                con.close()
            self._conns.clear()
        self._local = threading.local()

    def __enter__(self) -> RoundStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _remove_stale_temporaries(self) -> None:
        if not self.versions_dir.is_dir():
            return
        limit = time.time() - STALE_TMP_SECONDS
        for tmp in self.versions_dir.glob(f"*/.*{TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < limit:
                    tmp.unlink()

    # ---- roster -------------------------------------------------------------------------------------------------

    def load_roster(self, roster: Roster) -> RosterChange:
        """Make the store's agencies those of ``roster`` (in its order): new ones added, changed contact details
        updated, agencies no longer on it kept (with their versions and history) but marked inactive."""
        added, updated = [], []
        with self._tx() as c:
            known = {k: (i, n, kd, lv, ct, cc, act) for i, k, n, kd, lv, ct, cc, act in c.execute(
                "SELECT id, name_key, name, kind, level, contact, credit_code, active FROM agency")}
            for seq, a in enumerate(roster.agencies, start=1):
                row = known.pop(a.key, None)
                values = (a.name, a.kind, a.level, a.contact, a.credit_code)
                if row is None:
                    c.execute("INSERT INTO agency (name, name_key, kind, level, contact, credit_code, seq) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)", (a.name, a.key, *values[1:], seq))
                    added.append(a.name)
                    continue
                if tuple(row[1:6]) != values or not row[6]:
                    updated.append(a.name)
                c.execute("UPDATE agency SET name=?, kind=?, level=?, contact=?, credit_code=?, seq=?, active=1 "
                          "WHERE id=?", (*values, seq, row[0]))
            removed = [row[1] for row in known.values() if row[6]]
            c.executemany("UPDATE agency SET active=0 WHERE id=?", [(row[0],) for row in known.values()])
        return RosterChange(tuple(added), tuple(updated), tuple(removed))

    def agencies(self) -> list[Agency]:
        """The agencies on the roster, in its order."""
        rows = self._con().execute("SELECT name, kind, level, contact, credit_code, seq FROM agency WHERE active=1 "
                                   "ORDER BY seq").fetchall()
        return [Agency(n, kd, lv, ct, cc) for n, kd, lv, ct, cc, _ in rows]

    def _agency_id(self, con: sqlite3.Connection, name: str) -> tuple[int, str]:
        row = con.execute("SELECT id, name FROM agency WHERE name_key=? AND active=1", (_db_key(name),)).fetchone()
        if row is None:
            known = [n for (n,) in con.execute("SELECT name FROM agency WHERE active=1")]
            hint = Roster(tuple(Agency(n) for n in known)).suggest(name)
            raise UnknownAgency(f"名单中没有机关“{name}”。" + (f"是否为“{hint}”？" if hint else ""))
        return int(row[0]), str(row[1])

    # ---- keys ---------------------------------------------------------------------------------------------------

    def issue_key(self, agency: str) -> str:
        """A new key for ``agency`` (returned once, only its hash kept); StoreError when it has an active key
        (revoke it first, or :meth:`reissue_key`)."""
        token = secrets.token_urlsafe(32)
        with self._tx() as c:
            aid, name = self._agency_id(c, agency)
            if c.execute("SELECT 1 FROM agency_key WHERE agency_id=? AND revoked_at IS NULL", (aid,)).fetchone():
                raise StoreError(f"机关“{name}”已有有效密钥；如需更换，请重新签发（原密钥随即失效）。")
            c.execute("INSERT INTO agency_key (agency_id, hash, issued_at) VALUES (?, ?, ?)",
                      (aid, token_hash(token), _ts(self.clock())))
        return token

    def revoke_key(self, agency: str) -> bool:
        """Revoke ``agency``'s active key; whether there was one."""
        with self._tx() as c:
            aid, _ = self._agency_id(c, agency)
            cur = c.execute("UPDATE agency_key SET revoked_at=? WHERE agency_id=? AND revoked_at IS NULL",
                            (_ts(self.clock()), aid))
            return cur.rowcount > 0

    def reissue_key(self, agency: str) -> str:
        """Revoke ``agency``'s key (if any) and issue a new one, in one transaction."""
        token = secrets.token_urlsafe(32)
        now = _ts(self.clock())
        with self._tx() as c:
            aid, _ = self._agency_id(c, agency)
            c.execute("UPDATE agency_key SET revoked_at=? WHERE agency_id=? AND revoked_at IS NULL", (now, aid))
            c.execute("INSERT INTO agency_key (agency_id, hash, issued_at) VALUES (?, ?, ?)",
                      (aid, token_hash(token), now))
        return token

    def agency_for_token(self, token: str) -> str | None:
        """The name of the agency whose active key ``token`` is, or None. Every active key's hash is compared in
        constant time, without stopping at a match."""
        want = token_hash(token).encode()
        rows = self._con().execute("SELECT a.name, k.hash FROM agency_key k JOIN agency a ON a.id = k.agency_id "
                                   "WHERE k.revoked_at IS NULL AND a.active=1").fetchall()
        found: str | None = None
        for name, h in rows:
            if hmac.compare_digest(want, str(h).encode()):
                found = str(name)
        return found

    def key_hash(self, agency: str | None) -> str | None:
        """The stored hash of ``agency``'s active key (None: of the coordinator's token), or None when there is
        none. A browser session binds to it, so that revoking or reissuing a key (or replacing the coordinator's
        token file) ends the sessions opened with the old one."""
        c = self._con()
        if agency is None:
            row = c.execute("SELECT value FROM meta WHERE key='coordinator'").fetchone()
        else:
            row = c.execute("SELECT k.hash FROM agency_key k JOIN agency a ON a.id = k.agency_id WHERE "
                            "a.name_key=? AND a.active=1 AND k.revoked_at IS NULL", (_db_key(agency),)).fetchone()
        return None if row is None else str(row[0])

    def coordinator_token(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Make sure the coordinator's token file exists (``path``, default ``D/coordinator-token.txt``): created
        with a new token (mode 0600) when absent; its token's hash is what :meth:`is_coordinator` accepts.
        Returns the file's path."""
        p = Path(path) if path is not None else self.data_dir / COORDINATOR_TOKEN_NAME
        if p.exists():
            try:
                token = p.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise StoreError(f"{p}：无法读取协调人令牌文件（{exc}）。") from None
            if len(token) < MIN_TOKEN_CHARS or any(ch.isspace() for ch in token):
                raise StoreError(f"{p}：协调人令牌应为一行至少 {MIN_TOKEN_CHARS} 个字符（不含空格）；"
                                 "删除该文件后重新启动即生成新令牌。")
            with contextlib.suppress(OSError):  # written by hand with the default umask: others could read it
                if os.name == "posix" and p.stat().st_mode & 0o077:
                    os.chmod(p, 0o600)
        else:
            token = secrets.token_urlsafe(32)
            durable_write(p, (token + "\n").encode("utf-8"), mode=0o600)
        with self._tx() as c:
            c.execute("INSERT INTO meta VALUES ('coordinator', ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                      (token_hash(token),))
        return p

    def is_coordinator(self, token: str) -> bool:
        row = self._con().execute("SELECT value FROM meta WHERE key='coordinator'").fetchone()
        return row is not None and hmac.compare_digest(token_hash(token).encode(), str(row[0]).encode())

    # ---- submitting and acting ------------------------------------------------------------------------------------

    def version_path(self, sha256: str) -> Path:
        return self.versions_dir / sha256[:2] / f"{sha256}.xlsx"

    def _store_file(self, sha: str, data: bytes) -> None:
        target = self.version_path(sha)
        if target.is_file():
            with contextlib.suppress(OSError):
                if hashlib.sha256(target.read_bytes()).hexdigest() == sha:
                    return  # the same content, already durable
        durable_write(target, data)

    def submit(self, agency: str, data: bytes, summary: Mapping[str, Any], *, actor: str | None = None) -> Receipt:
        """Keep ``data`` as ``agency``'s next version and return the receipt, once the file and the row are
        durable. ``summary``: the check of the workbook as :meth:`xl_addin.model.Report.to_dict` gives it (its
        ``counts`` are kept on the version; a workbook with errors is refused). Raises Refused (Chinese) when
        :mod:`xl_addin.review` does not allow it, UnknownAgency for a name not on the roster."""
        counts = summary.get("counts")
        if not isinstance(counts, Mapping) or not all(isinstance(counts.get(k), int) for k in ("error", "warning")):
            raise ValueError("summary must carry counts of error and warning")
        sha = hashlib.sha256(data).hexdigest()
        summary_text = json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)
        c = self._con()  # refuse before writing anything when the round does not allow a submission now
        aid, name = self._agency_id(c, agency)
        status = self._status(c, aid)
        retry = self._retry(c, aid, name, status, sha)
        if retry is not None:
            return retry
        review.apply(status, Step(Action.SUBMIT, Role.AGENCY, status.versions + 1, sha256=sha,
                                  errors=int(counts["error"])))
        self._store_file(sha, data)
        with self._tx() as c:
            status = self._status(c, aid)  # read again under the write lock: another process may have submitted
            retry = self._retry(c, aid, name, status, sha)
            if retry is not None:
                return retry
            step = Step(Action.SUBMIT, Role.AGENCY, status.versions + 1, sha256=sha, errors=int(counts["error"]))
            after = review.apply(status, step)
            at = self.clock()
            cur = c.execute("INSERT INTO version (agency_id, number, sha256, size, submitted_at, actor, errors, "
                            "warnings, infos, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (aid, step.version, sha, len(data), _ts(at), actor or name, int(counts["error"]),
                             int(counts["warning"]), int(counts.get("info", 0) or 0), summary_text))
            self._record(c, aid, Actor(Role.AGENCY, actor or name), at, step, status, after, {})
            vid = cur.lastrowid
        assert vid is not None
        return Receipt(self._receipt(vid), name, step.version, sha, len(data), at)

    def _retry(self, c: sqlite3.Connection, aid: int, name: str, status: Status, sha: str) -> Receipt | None:
        if not review.is_retry(status, sha):
            return None
        vid, size, at = c.execute("SELECT id, size, submitted_at FROM version WHERE agency_id=? AND number=?",
                                  (aid, status.versions)).fetchone()
        return Receipt(self._receipt(vid), name, status.versions, sha, size, dt.datetime.fromisoformat(at),
                       repeated=True)

    def _receipt(self, version_id: int) -> str:
        return f"{self.year}-{version_id:06d}"

    def act(self, agency: str, action: Action, actor: Actor, version: int, reasons: Sequence[str] = (), *,
            published: Published | None = None, detail: Mapping[str, Any] | None = None) -> Event:
        """Take ``action`` on ``agency``'s ``version`` (the version the actor looked at) and record it; returns the
        recorded event. Raises Refused (Chinese) when the round does not allow it. ``published``/``detail``: for
        publish, the result of the check and what it found (kept as JSON)."""
        if action is Action.SUBMIT:
            raise ValueError("submissions go through submit()")
        if isinstance(reasons, str):
            reasons = (reasons,)
        with self._tx() as c:
            aid, name = self._agency_id(c, agency)
            if actor.role is Role.AGENCY and name_key(actor.name) != name_key(name):
                raise Refused(f"机关“{actor.name}”不能处理“{name}”的报告。")
            status = self._status(c, aid)
            step = Step(action, actor.role, version, tuple(reasons), published=published)
            after = review.apply(status, step)
            at = self.clock()
            seq = self._record(c, aid, actor, at, step, status, after, detail or {})
        return Event(seq, action, actor, at, version, review.clean_reasons(reasons), status.state, after.state,
                     "", published, dict(detail or {}))

    def _record(self, c: sqlite3.Connection, aid: int, actor: Actor, at: dt.datetime, step: Step, before: Status,
                after: Status, detail: Mapping[str, Any]) -> int:
        cur = c.execute("INSERT INTO action (agency_id, action, role, actor, at, version, reasons, before, after, "
                        "sha256, published, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (aid, str(step.action), str(actor.role), actor.name, _ts(at), step.version,
                         json.dumps(review.clean_reasons(step.reasons), ensure_ascii=False), str(before.state),
                         str(after.state), step.sha256, None if step.published is None else str(step.published),
                         json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)))
        c.execute("UPDATE agency SET state=?, versions=?, latest=?, accepted=?, published=?, reasons=? WHERE id=?",
                  (str(after.state), after.versions, after.latest, after.accepted,
                   None if after.published is None else str(after.published),
                   json.dumps(after.reasons, ensure_ascii=False), aid))
        assert cur.lastrowid is not None
        return cur.lastrowid

    # ---- reading ------------------------------------------------------------------------------------------------

    @staticmethod
    def _status_of(row: Sequence[Any]) -> Status:
        state, versions, latest, accepted, published, reasons = row
        return Status(State(state), int(versions), str(latest), None if accepted is None else int(accepted),
                      None if published is None else Published(published), tuple(json.loads(reasons)))

    def _status(self, c: sqlite3.Connection, aid: int) -> Status:
        return self._status_of(c.execute("SELECT state, versions, latest, accepted, published, reasons FROM agency "
                                         "WHERE id=?", (aid,)).fetchone())

    def status(self, agency: str) -> Status:
        c = self._con()
        aid, _ = self._agency_id(c, agency)
        return self._status(c, aid)

    def _version_info(self, row: Sequence[Any]) -> VersionInfo:
        vid, number, sha, size, at, errors, warnings, infos = row
        return VersionInfo(int(number), str(sha), int(size), dt.datetime.fromisoformat(at), self._receipt(vid),
                           int(errors), int(warnings), int(infos))

    _VERSION_COLUMNS = "id, number, sha256, size, submitted_at, errors, warnings, infos"

    def versions(self, agency: str) -> list[VersionInfo]:
        c = self._con()
        aid, _ = self._agency_id(c, agency)
        return [self._version_info(r) for r in c.execute(
            f"SELECT {self._VERSION_COLUMNS} FROM version WHERE agency_id=? ORDER BY number", (aid,))]

    def summary(self, agency: str, number: int) -> dict[str, Any]:
        """The check kept with a version (as given to :meth:`submit`)."""
        c = self._con()
        aid, name = self._agency_id(c, agency)
        row = c.execute("SELECT summary FROM version WHERE agency_id=? AND number=?", (aid, number)).fetchone()
        if row is None:
            raise StoreError(f"机关“{name}”没有第{number}版。")
        out: dict[str, Any] = json.loads(row[0])
        return out

    def version_bytes(self, agency: str, number: int) -> bytes:
        """The bytes of ``agency``'s version ``number``, checked against its sha256 (StoreError when missing or
        damaged)."""
        c = self._con()
        aid, name = self._agency_id(c, agency)
        row = c.execute("SELECT sha256 FROM version WHERE agency_id=? AND number=?", (aid, number)).fetchone()
        if row is None:
            raise StoreError(f"机关“{name}”没有第{number}版。")
        sha = str(row[0])
        try:
            data = self.version_path(sha).read_bytes()
        except OSError as exc:
            raise StoreError(f"机关“{name}”第{number}版的文件无法读取（{exc.strerror or exc}）。") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise StoreError(f"机关“{name}”第{number}版的文件已损坏（校验值不符），请从备份恢复数据目录。")
        return data

    def history(self, agency: str) -> list[Event]:
        """Every recorded action of ``agency``, oldest first."""
        c = self._con()
        aid, _ = self._agency_id(c, agency)
        rows = c.execute("SELECT id, action, role, actor, at, version, reasons, before, after, sha256, published, "
                         "detail FROM action WHERE agency_id=? ORDER BY id", (aid,)).fetchall()
        return [Event(int(i), Action(a), Actor(Role(r), str(who)), dt.datetime.fromisoformat(at), int(v),
                      tuple(json.loads(rs)), State(b), State(af), str(sha), None if p is None else Published(p),
                      json.loads(d))
                for i, a, r, who, at, v, rs, b, af, sha, p, d in rows]

    def board(self, *, now: dt.datetime | None = None, deadline: dt.date | None = None,
              profile: Profile | None = None) -> list[BoardRow]:
        """Every roster agency in roster order, with its status, versions and timeliness (against ``deadline``,
        else the deadline of its kind: ``profile``'s when it sets one, else the statutory one; ``now``: the
        server's time)."""
        now = now or self.clock()
        c = self._con()
        c.execute("BEGIN")  # one snapshot for both reads
        try:
            agencies = c.execute("SELECT id, name, kind, level, contact, state, versions, latest, accepted, "
                                 "published, reasons FROM agency WHERE active=1 ORDER BY seq").fetchall()
            by_agency: dict[int, list[VersionInfo]] = {}
            for r in c.execute(f"SELECT agency_id, {self._VERSION_COLUMNS} FROM version ORDER BY agency_id, number"):
                by_agency.setdefault(int(r[0]), []).append(self._version_info(r[1:]))
        finally:
            c.execute("COMMIT")
        out = []
        for aid, name, kind, level, contact, *status in agencies:
            vs = tuple(by_agency.get(aid, ()))
            limit = review.deadline(self.year, kind, deadline, profile)
            out.append(BoardRow(name, kind, level, contact, self._status_of(status), vs, limit,
                                review.timely(limit, vs[0].submitted_at if vs else None, now)))
        return out

    def backup(self, dest: str | os.PathLike[str]) -> Path:
        """A consistent copy of the round in ``dest`` (a new or empty directory), taken while the store is in use:
        the database (SQLite's online backup), then every version file it names, each checked against its sha256.
        The coordinator's token file is not copied (a restored server makes a new one at its first start)."""
        out = Path(dest)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise StoreError(f"{out}：备份目录须为新目录或空目录。")
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = sqlite3.connect(out / DB_NAME)
        try:
            self._con().backup(target)
            target.execute("DELETE FROM meta WHERE key='coordinator'")
            target.commit()
            shas = [str(sha) for (sha,) in target.execute("SELECT DISTINCT sha256 FROM version")]
        finally:
            target.close()
        for sha in shas:
            src, dst = self.version_path(sha), out / VERSIONS_DIR / sha[:2] / f"{sha}.xlsx"
            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                with dst.open("rb") as fh:
                    ok = hashlib.sha256(fh.read()).hexdigest() == sha
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise StoreError(f"{src}：无法复制版本文件（{exc.strerror or exc}），备份未完成。") from None
            if not ok:
                raise StoreError(f"{src}：版本文件已损坏（校验值不符），备份未完成。")
        return out

    # ---- checking -----------------------------------------------------------------------------------------------

    def verify(self) -> tuple[list[Problem], list[Path]]:
        """(version rows whose file is missing or damaged, files under ``versions/`` that no row names -- left by
        a crash between the file and the row, harmless)."""
        c = self._con()
        rows = c.execute("SELECT a.name, v.number, v.sha256 FROM version v JOIN agency a ON a.id = v.agency_id "
                         "ORDER BY a.seq, v.number").fetchall()
        problems, named = [], set()
        for name, number, sha in rows:
            p = self.version_path(sha)
            named.add(p)
            try:
                data = p.read_bytes()
            except OSError:
                problems.append(Problem(name, number, sha, "文件缺失"))
                continue
            if hashlib.sha256(data).hexdigest() != sha:
                problems.append(Problem(name, number, sha, "校验值不符"))
        orphans = sorted(p for p in self.versions_dir.glob("*/*") if p not in named) if self.versions_dir.is_dir() else []
        return problems, orphans
