"""Browser sessions of the county server's pages: signed cookies, CSRF tokens, login throttling.

Developer note. A session is a cookie the server signs (HMAC-SHA256 with a secret kept in the data directory,
``D/session-secret``, mode 0600, made once at the first start; every worker process reads the same one), so that
several worker processes share sessions without a table. It carries the role (``agency``, ``coordinator`` or none
for a visitor who has not logged in), the agency's name, a fingerprint of the key it logged in with, a random nonce
and an expiry. The fingerprint is an HMAC of the stored hash of that key (never the key itself): a session whose
key was revoked or reissued, or whose coordinator token file was replaced, no longer matches and is over.

CSRF: every form that changes something carries ``csrf``, an HMAC of the session's nonce; a POST whose ``csrf``
does not match its cookie's is refused (403). Logging in makes a new nonce (no session fixation). The cookie is
HttpOnly, SameSite=Strict, path ``/``, and Secure when the page was reached over https (or when configured so).
Keys and tokens travel only in POST bodies, never in a URL.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

COOKIE: Final = "xa_round"
SECRET_NAME: Final = "session-secret"
SESSION_SECONDS: Final = 8 * 3600
ROLE_AGENCY: Final = "agency"
ROLE_COORDINATOR: Final = "coordinator"


def load_secret(data_dir: Path) -> bytes:
    """The signing secret of ``data_dir`` (created at the first call, atomically: a complete file is linked into
    place, so several worker processes starting together agree on one)."""
    path = data_dir / SECRET_NAME
    for _ in range(50):
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            text = ""
        if len(text) == 64:
            return bytes.fromhex(text)
        if not path.exists():
            tmp = data_dir / f".{SECRET_NAME}.{secrets.token_hex(6)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)  # fails when another process made it first: then read theirs
            except FileExistsError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            continue
        time.sleep(0.02)
    raise RuntimeError(f"{path}: not a session secret (64 hex digits); delete it and restart")


@dataclass(frozen=True)
class Session:
    role: str  # "" (not logged in), ROLE_AGENCY, ROLE_COORDINATOR
    agency: str
    fingerprint: str
    nonce: str
    expires: float

    @property
    def is_agency(self) -> bool:
        return self.role == ROLE_AGENCY

    @property
    def is_coordinator(self) -> bool:
        return self.role == ROLE_COORDINATOR


class Sessions:
    """Makes and reads the session cookie; ``clock``: wall time in seconds (injectable for tests)."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time, seconds: int = SESSION_SECONDS) -> None:
        self.secret, self.clock, self.seconds = secret, clock, seconds

    def _mac(self, purpose: str, data: str) -> str:
        return hmac.new(self.secret, f"{purpose}\n{data}".encode(), hashlib.sha256).hexdigest()

    def fingerprint(self, key_hash: str) -> str:
        return self._mac("key", key_hash)[:32]

    def new(self, role: str = "", agency: str = "", key_hash: str = "") -> Session:
        return Session(role, agency, self.fingerprint(key_hash) if key_hash else "", secrets.token_urlsafe(16),
                       self.clock() + self.seconds)

    def dump(self, s: Session) -> str:
        body = json.dumps([s.role, s.agency, s.fingerprint, s.nonce, int(s.expires)], ensure_ascii=False,
                          separators=(",", ":"))
        payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{payload}.{self._mac('session', payload)}"

    def load(self, cookie: str | None) -> Session | None:
        """The session a cookie carries, or None (absent, forged, damaged or expired)."""
        if not cookie or len(cookie) > 4096 or "." not in cookie:
            return None
        payload, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac.encode(), self._mac("session", payload).encode()):
            return None
        try:
            role, agency, fp, nonce, expires = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            s = Session(str(role), str(agency), str(fp), str(nonce), float(expires))
        except (ValueError, TypeError):
            return None
        if s.expires < self.clock() or s.role not in ("", ROLE_AGENCY, ROLE_COORDINATOR):
            return None
        return s

    def csrf(self, s: Session) -> str:
        return self._mac("csrf", s.nonce)[:43]

    def csrf_ok(self, s: Session | None, given: str) -> bool:
        return s is not None and bool(given) and hmac.compare_digest(given.encode(), self.csrf(s).encode())

    def key_matches(self, s: Session, key_hash: str | None) -> bool:
        """Whether the key ``s`` logged in with is still the active one (``key_hash``: its stored hash now)."""
        return key_hash is not None and bool(s.fingerprint) and hmac.compare_digest(
            s.fingerprint.encode(), self.fingerprint(key_hash).encode())


class TokenBuckets:
    """Per client address: a bucket of ``burst`` tokens refilled at ``per_minute`` a minute (one worker process's
    count), and when a refusal may be audited: at most once per client every ``QUIET_SECONDS``, with how many were
    refused since, so a flood cannot fill the disk through the log. Past ``MAX_CLIENTS`` clients, those whose
    bucket is full again are forgotten. The base of :class:`LoginThrottle` and of the server's ``RateLimit``."""

    QUIET_SECONDS = 10.0
    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = per_minute / 60, burst, clock
        self.buckets: dict[str, tuple[float, float]] = {}
        self.refused: dict[str, tuple[float, int]] = {}

    def _level(self, client: str, now: float) -> float:
        level, then = self.buckets.get(client, (self.burst, now))
        return min(self.burst, level + (now - then) * self.rate)

    def _store(self, client: str, level: float, now: float) -> None:
        self.buckets[client] = (level, now)
        if len(self.buckets) > self.MAX_CLIENTS:  # forget clients whose bucket is full again
            for c, (lv, t) in list(self.buckets.items()):
                if lv + (now - t) * self.rate >= self.burst:
                    del self.buckets[c]
                    self.refused.pop(c, None)

    def refusal_to_log(self, client: str) -> int:
        """How many refusals of ``client`` to write in one audit line now (0: not now, counted for later)."""
        now = self.clock()
        last, count = self.refused.get(client, (-self.QUIET_SECONDS, 0))
        if now - last >= self.QUIET_SECONDS:
            self.refused[client] = (now, 0)
            return count + 1
        self.refused[client] = (last, count + 1)
        return 0


class LoginThrottle(TokenBuckets):
    """Failed login attempts per client address: a bucket of ``burst`` failures refilled at ``per_minute`` a minute
    (one worker process's count); a client whose bucket is empty is refused before its key is even looked at. A
    refusal is audited at most once every ``QUIET_SECONDS`` per client."""

    def __init__(self, per_minute: float = 6, burst: float = 6, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(per_minute, burst, clock)

    def allow(self, client: str) -> bool:
        """Whether ``client`` may try a key now."""
        return self._level(client, self.clock()) >= 1

    def failed(self, client: str) -> None:
        now = self.clock()
        self._store(client, max(0.0, self._level(client, now) - 1), now)

    def log_refusal(self, client: str) -> bool:
        """Whether to audit this refusal of ``client`` now."""
        return self.refusal_to_log(client) > 0
