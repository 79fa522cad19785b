"""Starting a server for a test or a benchmark: a free loopback port, and waiting until ``xl-addin serve`` answers
its health check (shared by the suite and bench/, which puts tests/ on its path)."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_up(base: str, proc: subprocess.Popen[bytes] | None = None, seconds: float = 60) -> bool:
    """True once ``base``/xl_addin/health answers "ok"; False after ``seconds`` or when ``proc`` has ended."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/xl_addin/health", timeout=2).text == "ok":
                return True
        except httpx.HTTPError:
            pass
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False
