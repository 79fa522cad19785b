"""uvicorn's HTTP/1.1 protocol (h11) with what it lacks for a server that anyone with the token can reach.

uvicorn has no timeout for receiving a request: ``timeout_keep_alive`` only covers the idle time between two
requests and every byte received cancels it, so a client that sends a request one byte at a time (slowloris)
holds its connection, and a file descriptor, for ever; 1,100 of them made the server unreachable. ASGI code cannot
help, it runs only once the headers are in. This protocol adds:

- a deadline for receiving each whole request (headers and body), armed when the connection opens and again
  after each answer (keep-alive), disarmed once the request has fully arrived: a connection that has not sent a
  whole request within ``request_seconds`` is closed;
- a request refused before its body was read (401, 429, 503) is not read further: the answer says
  ``Connection: close``, the connection stops reading and closes a moment later (see :class:`_Lingering`), so a
  flood of refused 2 MB bodies costs nothing to read;
- a cap on the open connections of one worker process: past it, the connection that has waited longest for its
  request to arrive is closed (a client that is really sending one needs milliseconds, so the oldest incomplete
  connection is the one trickling bytes), so a flood of half-sent requests cannot lock out the clerks.

``xl-addin serve`` passes ``http="xl_addin.server_http:GuardedH11Protocol"`` to uvicorn; the limits come from the
server's settings (the environment each worker process reads).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("xl_addin.server")

SETTINGS_ENV = "XL_ADDIN_SERVER_SETTINGS"
REQUEST_SECONDS = 30.0
MAX_CONNECTIONS = 1000
DRAIN_FIRST_REQUEST_SECONDS = 5.0
LINGER_SECONDS = 2.0
#: the keys in a request's ASGI state: this protocol is in use; the app asks to read no more of a refused body
GUARDED = "xl_addin_guarded"
STOP_READING = "xl_addin_stop_reading"


class _Lingering:
    """The connection's transport, but for one thing: closing a connection whose refused body is unread (the app
    answered with ``Connection: close`` and asked so) stops reading at once and closes ``LINGER_SECONDS`` later,
    so that the client reads the answer first (closing a socket with unread data resets it at once, which can
    drop the answer) and the rest of the body costs nothing."""

    def __init__(self, transport: asyncio.Transport, protocol: GuardedH11Protocol) -> None:
        self._transport, self._protocol = transport, protocol
        self._lingering = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def is_closing(self) -> bool:
        return self._lingering or self._transport.is_closing()

    def close(self) -> None:
        if self._lingering or self._transport.is_closing():
            return
        if self._protocol._linger():
            self._lingering = True
            self._transport.pause_reading()
            self._protocol.loop.call_later(LINGER_SECONDS, self._transport.close)
            return
        self._transport.close()


def _settings() -> dict[str, Any]:
    try:
        raw = json.loads(os.environ.get(SETTINGS_ENV, "{}"))
    except ValueError:
        return {}
    return raw if isinstance(raw, dict) else {}


def _fd_room() -> int:
    """Connections this process can hold: the open-file limit less room for files, logs and the listening socket."""
    try:
        import resource
    except ImportError:  # Windows: no per-process descriptor limit of this kind
        return MAX_CONNECTIONS
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return MAX_CONNECTIONS if soft == resource.RLIM_INFINITY else max(16, soft - 64)


class GuardedH11Protocol(H11Protocol):
    request_seconds: float = float(_settings().get("request_seconds", REQUEST_SECONDS))
    max_connections: int = min(int(_settings().get("max_connections", MAX_CONNECTIONS)), _fd_room())

    _deadline: asyncio.TimerHandle | None = None
    _waiting_since: float | None = None
    _received: Any = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_Lingering(transport, self))  # type: ignore[arg-type]
        self._arm()
        if len(self.connections) > self.max_connections:
            self._evict_oldest_waiting()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    _draining = False

    def handle_events(self) -> None:
        super().handle_events()
        cycle = self.cycle
        if cycle is not None:  # before the request's task first runs: the app may ask not to read a refused body
            cycle.scope.setdefault("state", {})[GUARDED] = True
        if cycle is not None and self._draining:
            cycle.keep_alive = False  # shutting down: answer this request, then close
        if cycle is not None and cycle is not self._received and not cycle.more_body:
            self._received = cycle  # the whole request is in: its answer may take as long as the click needs
            self._disarm()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown closes every connection not in the middle of a request, which resets one
        just accepted whose request has not been read yet (under load, the ones queued at the socket). Such a
        connection gets a few seconds to send its request, which is then answered; idle keep-alive connections
        are closed as before."""
        if self.cycle is None and not self.transport.is_closing():
            self._draining = True
            self._arm(min(self.request_seconds, DRAIN_FIRST_REQUEST_SECONDS))
            return
        super().shutdown()

    def on_response_complete(self) -> None:
        self._arm()  # the next request on this keep-alive connection has the same deadline
        super().on_response_complete()  # may take a pipelined request, which disarms again

    def _linger(self) -> bool:
        """Whether the connection, closing now, is one whose refused body the app asked not to read."""
        cycle = self.cycle
        return bool(cycle is not None and cycle.more_body and cycle.scope.get("state", {}).get(STOP_READING))

    def _arm(self, seconds: float | None = None) -> None:
        self._disarm()
        self._waiting_since = self.loop.time()
        self._deadline = self.loop.call_later(self.request_seconds if seconds is None else seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._waiting_since = None, None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.warning("closing a connection that sent no whole request within %s s (%s)", self.request_seconds,
                        self.client[0] if self.client else "?")
            self.transport.close()

    def _evict_oldest_waiting(self) -> None:
        """Close one connection to make room: a refused one still lingering (its answer long sent), else the one
        that has waited longest for its request (a slowloris, or an idle keep-alive connection)."""
        lingering, waiting = [], []
        for c in self.connections:
            if not isinstance(c, GuardedH11Protocol) or c is self or c._waiting_since is None:
                continue
            if isinstance(c.transport, _Lingering) and c.transport._lingering:
                lingering.append(c)
            elif not c.transport.is_closing():
                waiting.append(c)
        if lingering or waiting:
            oldest = min(lingering or waiting, key=lambda c: c._waiting_since or 0.0)
            if not lingering:
                log.warning("too many open connections (%d): closing the one waiting longest for its request",
                            len(self.connections))
            oldest._disarm()
            real = oldest.transport._transport if isinstance(oldest.transport, _Lingering) else oldest.transport
            real.close()
