"""Running one untrusted read in a process of its own, under a time and a memory limit.

:func:`run_alone` calls a function in a child process (forked where the platform can: it starts in milliseconds
with everything imported), stops it after ``seconds``, limits its address space to what it holds plus
``memory_mb``, keeps what it says on stderr (a native library's dying words tell an out-of-memory from a crash),
and answers what happened: the function's value, or ``timeout``, ``out-of-memory``, ``crashed`` (catalogue file
errors). ``xl-addin check`` (:mod:`xl_addin.checking`) and the coordinator's pool (:mod:`xl_addin.bulk`) use it.

Whatever the child starts outside itself -- LibreOffice converting a .doc runs in a process group of its own,
with its profile and copies in a temporary folder -- lives under a scratch folder the supervisor made for it
(:func:`supervised`: its path is in ``XL_ADDIN_SCRATCH``, :mod:`xl_addin.adapters.office` files the process groups
it starts there). When the child ends, however it ends (even killed with SIGKILL by its limit), the supervisor
kills every process group filed there and removes the folder: nothing of the read outlives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # multiprocessing is imported when a process is started (it costs a check of one file ~60 ms)
    from multiprocessing.connection import Connection

T = TypeVar("T")

#: the environment variable naming the scratch folder of the supervised process (see the module's text)
SCRATCH_ENV = "XL_ADDIN_SCRATCH"
#: a file in the scratch folder naming a process group to kill when the supervised process ends: ``pgid-<id>``
GROUP_PREFIX = "pgid-"
#: how often the supervisor looks at the child, seconds
_POLL = 0.25
#: the memory limit this process runs under, MB above what it held when it was set (0: none; :func:`limit_memory`)
limited_mb = 0


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What running a function alone gave: its ``value``, or ``error`` (``timeout``, ``out-of-memory``,
    ``crashed``) with ``detail`` (the seconds, the memory limit, the signal)."""

    value: T | None = None
    error: str = ""
    detail: str = ""


def context() -> Any:
    """fork where there is one (a child starts in milliseconds with everything imported), else spawn."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def memory_detail(memory_mb: int = 0) -> str:
    """What the out-of-memory file error says ran out: the limit a file's read had (MB), or 0: the memory there was."""
    return f"{memory_mb} MB" if memory_mb > 0 else "可用内存"


def limit_memory(memory_mb: int) -> bool:
    """Limit this process's address space to what it holds now plus ``memory_mb`` (POSIX; elsewhere nothing), and
    let no crash of it leave a core file behind. Returns whether a limit was set (then :data:`limited_mb`)."""
    global limited_mb
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ImportError, OSError, ValueError):
        pass
    if memory_mb <= 0:
        return False
    try:
        import resource

        with open("/proc/self/statm", "rb") as fh:
            held = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = held + memory_mb * 1024 * 1024
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):  # no resource module (Windows), no /proc: no limit
        return False
    limited_mb = memory_mb
    return True


def quiet_stderr() -> None:
    """Send this process's stderr (file descriptor 2) to the null device, with no fault handler writing there."""
    import faulthandler

    faulthandler.disable()
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    os.dup2(fd, 2)
    os.close(fd)


# ---- the scratch folder and the process groups filed in it --------------------------------------------------------

def scratch() -> str | None:
    """The scratch folder this process works under (set by its supervisor), or None."""
    path = os.environ.get(SCRATCH_ENV)
    return path if path and os.path.isdir(path) else None


def kill_group(pgid: int) -> None:
    """SIGKILL every process of the process group ``pgid`` (POSIX; elsewhere nothing); gone already is fine."""
    killpg = getattr(os, "killpg", None)
    if killpg is None or pgid <= 1:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        killpg(pgid, getattr(signal, "SIGKILL", signal.SIGTERM))


@contextlib.contextmanager
def group_filed(pgid: int) -> Iterator[None]:
    """While the block runs, the process group ``pgid`` is filed in this process's scratch folder, for the
    supervisor to kill should this process be stopped first."""
    folder = scratch()
    mark = Path(folder) / f"{GROUP_PREFIX}{pgid}" if folder else None
    if mark is not None:
        with contextlib.suppress(OSError):
            mark.touch()
    try:
        yield
    finally:
        if mark is not None:
            with contextlib.suppress(OSError):
                mark.unlink()


def reap(folder: str | os.PathLike[str]) -> None:
    """Kill every process group filed in the scratch ``folder`` and remove the folder with all it holds."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(GROUP_PREFIX) and entry.name[len(GROUP_PREFIX):].isdigit():
                kill_group(int(entry.name[len(GROUP_PREFIX):]))
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def supervised() -> Iterator[str]:
    """A new scratch folder for the processes started in the block (they find it in ``XL_ADDIN_SCRATCH``: set it
    in each); reaped (:func:`reap`) when the block ends, however it ends."""
    folder = tempfile.mkdtemp(prefix="xl_addin-run-")
    try:
        yield folder
    finally:
        reap(folder)


def enter_scratch(folder: str | None) -> None:
    """In a supervised child: work under ``folder`` (temporary folders, process groups to kill)."""
    if folder:
        os.environ[SCRATCH_ENV] = folder
        os.environ["TMPDIR"] = folder
        tempfile.tempdir = folder


# ---- one function alone --------------------------------------------------------------------------------------------

def _child(fn: Callable[..., Any], args: tuple[Any, ...], conn: Connection, memory_mb: int, err_fd: int,
           folder: str) -> None:
    """The child of :func:`run_alone`: stderr into the parent's pipe, the scratch folder, the memory limit, one
    call; a MemoryError comes back as such."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the supervisor's to handle
    if err_fd >= 0:
        import faulthandler

        faulthandler.disable()
        os.dup2(err_fd, 2)
    enter_scratch(folder)
    limit_memory(memory_mb)
    try:
        out: tuple[str, Any] = ("value", fn(*args))
    except MemoryError:
        out = ("error", memory_detail(limited_mb))
    conn.send(out)
    conn.close()


def _drain(fd: int, limit: int) -> bytes:
    """What can be read from the non-blocking ``fd`` now, keeping at most ``limit`` bytes."""
    out = b""
    while fd >= 0:
        try:
            piece = os.read(fd, 65536)
        except (BlockingIOError, OSError):
            break
        if not piece:
            break
        out += piece[:max(0, limit - len(out))]
    return out


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name if code < 0 else f"退出码 {code}"
    except ValueError:
        return f"信号 {-code}"


def run_alone(fn: Callable[..., T], args: tuple[Any, ...] = (), *, seconds: float, memory_mb: int) -> Outcome[T]:
    """``fn(*args)`` in a process of its own, stopped after ``seconds`` and limited to ``memory_mb`` above what it
    starts with (0: no limit); a crash, a hang or a memory blow-up becomes the outcome's error instead of the
    caller's end. ``fn`` and its value cross a process boundary (picklable; ``fn`` at module level). Whatever the
    child started outside itself is stopped and removed when it ends (:func:`supervised`)."""
    ctx = context()
    recv, send = ctx.Pipe(duplex=False)
    forked = ctx.get_start_method() == "fork"
    err_r, err_w = os.pipe() if forked else (-1, -1)
    if forked:
        os.set_blocking(err_r, False)
    got: tuple[str, Any] | None = None
    timed_out, err = False, b""
    with supervised() as folder:
        proc = ctx.Process(target=_child, args=(fn, args, send, memory_mb, err_w, folder), daemon=True)
        try:
            proc.start()
            send.close()
            if err_w >= 0:
                os.close(err_w)
                err_w = -1
            deadline = time.monotonic() + seconds
            while True:  # wait for the result, reading what the child says on stderr (its pipe must not fill up)
                ready = recv.poll(min(_POLL, max(0.0, deadline - time.monotonic())))
                err += _drain(err_r, 65536 - len(err))
                if ready:
                    try:
                        got = recv.recv()
                    except (EOFError, OSError):
                        got = None
                    break
                if time.monotonic() >= deadline:
                    timed_out = True
                    proc.kill()
                    break
            proc.join(5)
            if proc.is_alive():  # pragma: no cover - a child that ignores SIGKILL cannot exist
                proc.kill()
                proc.join()
            err += _drain(err_r, 65536 - len(err))
        finally:
            if proc.is_alive():  # the supervisor itself interrupted (Ctrl+C): the child goes with it
                proc.kill()
                proc.join()
            recv.close()
            for fd in (err_r, err_w):
                if fd >= 0:
                    os.close(fd)
    if got is not None:
        kind, value = got
        if kind == "value":
            return Outcome(value)
        return Outcome(error="out-of-memory", detail=value)
    if timed_out:
        return Outcome(error="timeout", detail=f"{seconds:g}")
    code = proc.exitcode or 0
    killed = code == -getattr(signal, "SIGKILL", 9) and os.name == "posix"  # not by us: the kernel's OOM killer
    if b"memory allocation" in err or b"MemoryError" in err or killed:
        return Outcome(error="out-of-memory", detail=memory_detail(memory_mb))
    return Outcome(error="crashed", detail=_signal_name(code))
