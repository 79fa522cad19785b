"""Checking many workbooks: :func:`~xl_addin.checking.check_file` reads one file and checks it with every rule, never raising;
``xl-addin check`` runs it over its files in order (:func:`check_files`), the coordinator over a folder, spread
over the cores in a process pool (:func:`examine_all`).

Each worker handles one workbook at a time (memory stays flat) and sends back a small picklable dict
(:meth:`xl_addin.collect.FileResult.to_dict`); files go out in chunks so the pool's overhead stays small. A rich
progress bar shows on stderr when asked and stderr is a terminal.

One file never sinks a collection: the workers run under a memory limit (``FILE_MEMORY_MB`` above what a worker
holds before reading) and mark in shared memory when they start and finish each file. When a worker dies (a
native reader aborting, the kernel's OOM killer, a memory limit) or a file runs past ``FILE_SECONDS``, the pool is
stopped: the files being read at that moment are read again, each alone in its own process under the same
limits (:func:`examine_isolated`), the files not yet read go to a fresh pool, and a file that crashes, times out
or runs out of memory alone becomes its own row (catalogue file errors ``crashed``, ``timeout``,
``out-of-memory``). Every other file is checked exactly as it would be alone.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import collect
from .adapters import isolation
from .adapters.xlsx_reader import NOT_OURS
from .catalogue import file_error
from .checking import FILE_MEMORY_MB as FILE_MEMORY_MB
from .checking import FILE_SECONDS as FILE_SECONDS
from .checking import WORKBOOK_SUFFIXES, examine_file, memory_detail
from .collect import FileResult, Number
from .importers.document import REPORT_SUFFIXES
from .model import CellValue, ReportData
from .profiles import Profile

#: file types looked at in a folder: workbooks, published reports (imported), and what agencies send by mistake
#: instead (reported, not used)
EXTENSIONS = WORKBOOK_SUFFIXES | frozenset(REPORT_SUFFIXES) | frozenset({".xls", ".et", ".ods", ".wps"})
#: below this many files one worker process reads them all (more workers' start-up costs more than it saves)
MIN_FOR_POOL = 24
#: how often the coordinator looks at the pool's progress, seconds
_POLL = 0.25

#: name key -> what last year's report of that agency gives the cross-year rules (collect.priors_by_agency)
Priors = Mapping[str, Mapping[str, Number | str]]
_PRIORS: Priors = {}
#: in a pool worker: every file's name, the shared progress marks (0 not started, > 0 started at that monotonic
#: time, -1 done), the memory limit (MB, for the out-of-memory message) and whether the narrative texts are wanted
_NAMES: Sequence[str] = ()
_MARKS: Any = None
_MEMORY_MB = 0
_TEXTS = False
#: what reads and checks one file in a pool worker (:func:`examine`, or a caller's own: ``xl-addin audit``)
Examine = Callable[[str], dict[str, object]]
_EXAMINE: Examine | None = None
#: the rule profile the files are checked under (None: the national catalogue)
_PROFILE: Profile | None = None


def list_files(folder: str | os.PathLike[str], exclude: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Every candidate file under ``folder`` (recursively, not into linked folders), sorted; Office/WPS/LibreOffice
    lock files (``~$*``, ``.~lock.*``), hidden files and folders and ``exclude`` (our own outputs) are skipped.
    What only looks like a workbook by its name -- a folder (an unzipped .xlsx), a named pipe, a device, a broken
    link -- is listed too, so that it gets its own row and reason (a folder is also looked into)."""
    skip = {Path(p).resolve() for p in exclude}
    skip_names = {p.name for p in skip}  # a path resolves to another name only when it is itself a link
    out: list[Path] = []

    def walk(directory: str) -> None:
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except OSError:
            return
        for entry in entries:
            name = entry.name
            dot = name.rfind(".")
            suffix = name[dot:].lower() if 0 < dot < len(name) - 1 else ""
            wanted = suffix in EXTENSIONS and not name.startswith(("~$", ".~lock.", "."))
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if not name.startswith("."):
                    if wanted:
                        out.append(Path(entry.path))
                    walk(entry.path)
                continue
            if not wanted:
                continue
            try:
                if entry.is_dir():  # a link to a folder: not followed
                    continue
                link = entry.is_symlink()
            except OSError:
                continue
            p = Path(entry.path)
            if (link or name in skip_names) and p.resolve() in skip:
                continue
            out.append(p)

    walk(str(Path(folder)))
    return sorted(out)


def _init(priors: Priors, texts: bool = False, profile: Profile | None = None) -> None:
    global _PRIORS, _TEXTS, _PROFILE
    _PRIORS, _TEXTS, _PROFILE = priors, texts, profile


def _limit_memory(memory_mb: int) -> None:
    """Limit this process's address space to what it holds now plus ``memory_mb`` (:func:`isolation.limit_memory`),
    remembered for the out-of-memory message."""
    global _MEMORY_MB
    if isolation.limit_memory(memory_mb):
        _MEMORY_MB = memory_mb


def _worker_init(priors: Priors, names: Sequence[str] = (), marks: Any = None, memory_mb: int = 0,
                 texts: bool = False, folder: str | None = None, fn: Examine | None = None,
                 profile: Profile | None = None) -> None:
    """A pool worker's start: the priors, the files and the shared progress marks, the memory limit, whether the
    texts are wanted, the round's scratch folder (:func:`isolation.supervised`), and the garbage collector told
    that what the worker inherited stays (``gc.freeze``) and to look for cycles less often -- a workbook's objects
    are freed by reference counting."""
    import gc

    global _NAMES, _MARKS, _EXAMINE
    _init(priors, texts, profile)
    _NAMES, _MARKS, _EXAMINE = names, marks, fn or examine
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the coordinator's to handle
    isolation.quiet_stderr()  # a native reader's dying words are not for the user: the file is read again alone
    isolation.enter_scratch(folder)
    _limit_memory(memory_mb)
    gc.freeze()
    gc.set_threshold(20000, 50, 50)


def _agency_prior(data: ReportData) -> Mapping[str, CellValue] | None:
    return _PRIORS.get(collect.name_key(data.agency))


def _error_row(path: str, code: str, detail: str = "") -> dict[str, object]:
    return FileResult(path, error=file_error(code).text(detail=detail), error_code=code).to_dict()


def examine(path: str) -> dict[str, object]:
    """Read and check one file for the coordinator; never raises. Returns a small picklable dict
    (:meth:`xl_addin.collect.FileResult.to_dict`), with the narrative texts X3 compares with when the pool was
    asked for them (a file of last year's folder)."""
    ex = examine_file(path, prior_of=_agency_prior, memory_mb=_MEMORY_MB, profile=_PROFILE)
    checked, res = ex.checked, ex.checked.result
    if res.report is None or checked.data is None:
        return FileResult(path, error=res.error, foreign=res.error_code == NOT_OURS, sha256=ex.sha256,
                          mtime=ex.mtime, size=ex.size, error_code=res.error_code).to_dict()
    return collect.examined(path, checked.data, res.report.findings, values=checked.values, sha256=ex.sha256,
                            mtime=ex.mtime, size=ex.size, texts=_TEXTS).to_dict()


def _examine_chunk(indices: Sequence[int]) -> list[tuple[int, dict[str, object]]]:
    """In a pool worker: examine the files ``indices`` (of the worker's names), marking each as started and done."""
    out = []
    marks, fn = _MARKS, _EXAMINE or examine
    for i in indices:
        marks[i] = time.monotonic()
        out.append((i, fn(_NAMES[i])))
        marks[i] = -1.0
    return out


def _examine_alone(path: str, priors: Priors, memory_mb: int, texts: bool,
                   fn: Examine | None = None, profile: Profile | None = None) -> dict[str, object]:
    """The child of :func:`examine_isolated`: one examine, under the memory limit the child has."""
    global _MEMORY_MB
    _init(priors, texts, profile)
    _MEMORY_MB = isolation.limited_mb
    try:
        return (fn or examine)(path)
    except MemoryError:
        return _error_row(path, "out-of-memory", memory_detail(_MEMORY_MB))


def examine_isolated(path: str, *, priors: Priors | None = None, seconds: float = FILE_SECONDS,
                     memory_mb: int = FILE_MEMORY_MB, texts: bool = False,
                     fn: Examine | None = None, profile: Profile | None = None) -> dict[str, object]:
    """:func:`examine` in a process of its own (:func:`isolation.run_alone`), stopped after ``seconds`` and
    limited to ``memory_mb`` above what it starts with: a crash, a hang or a memory blow-up becomes the file's row
    (``crashed``, ``timeout``, ``out-of-memory``) instead of the caller's end."""
    out = isolation.run_alone(_examine_alone, (path, dict(priors or {}), memory_mb, texts, fn, profile),
                              seconds=seconds,
                              memory_mb=memory_mb)
    if out.value is not None:
        return out.value
    return _error_row(path, out.error, out.detail)


@dataclass
class _Round:
    """What one pool round leaves: files to read again in a fresh pool, files to read alone, files timed out."""

    again: list[int]
    alone: list[int]
    late: list[int]


def _pool_round(todo: Sequence[int], names: Sequence[str], priors: Priors, n: int, seconds: float, memory_mb: int,
                texts: bool, got: dict[int, dict[str, object]], advance: Callable[[int], None],
                fn: Examine | None = None, profile: Profile | None = None) -> _Round:
    """Read ``todo`` in a pool of ``n`` workers, in chunks, into ``got``; stop at the first dead worker or file
    past ``seconds`` and say what is left."""
    ctx = isolation.context()
    marks = ctx.RawArray("d", len(names))
    chunk = max(1, min(16, len(todo) // (n * 8)))  # small: the last chunks end together
    chunks = [todo[k:k + chunk] for k in range(0, len(todo), chunk)]
    folder = tempfile.mkdtemp(prefix="xl_addin-run-")  # what the workers start outside themselves lives here
    ex = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_worker_init,
                             initargs=(priors, names, marks, memory_mb, texts, folder, fn, profile))
    late: list[int] = []
    pending: set[Future[list[tuple[int, dict[str, object]]]]] = set()
    try:
        pending = {ex.submit(_examine_chunk, c) for c in chunks}
        broken, looked = False, time.monotonic()
        while pending and not broken:
            done, pending = wait(pending, timeout=_POLL, return_when=FIRST_COMPLETED)
            for f in done:
                try:
                    part = f.result()
                except Exception:  # BrokenProcessPool: a worker died
                    broken = True
                    continue
                for i, d in part:
                    got[i] = d
                advance(len(part))
            now = time.monotonic()
            if pending and not broken and now - looked >= _POLL:  # any file past its time?
                looked = now
                late = [i for i, m in enumerate(marks[:]) if 0 < m < now - seconds]
                broken = bool(late)
    finally:
        if pending:  # stopped early (a dead worker, a file past its time, Ctrl+C): no worker outlives the round
            procs: Mapping[int, Any] = getattr(ex, "_processes", None) or {}
            for proc in list(procs.values()):
                if proc.is_alive():
                    proc.kill()
        ex.shutdown(wait=True, cancel_futures=True)
        isolation.reap(folder)  # a killed worker's LibreOffice and temporary files go with it
    left = [i for i in todo if i not in got]
    late_set = set(late)
    alone = [i for i in left if i not in late_set and marks[i] > 0]
    again = [i for i in left if i not in late_set and marks[i] <= 0]
    return _Round(again, alone, late)


def examine_all(paths: Sequence[str | os.PathLike[str]], *, priors: Priors | None = None, workers: int | None = None,
                progress: bool = False, label: str = "校验", seconds: float = FILE_SECONDS,
                memory_mb: int = FILE_MEMORY_MB, texts: bool = False,
                profile: Profile | None = None) -> list[FileResult]:
    """Examine every file, over ``workers`` processes (default: every core), each file under the time limit
    ``seconds`` and the memory limit ``memory_mb``; results in the order of ``paths``. A file that takes a worker
    down is read again alone; one that crashes, hangs or runs out of memory alone gets its own error row.
    ``texts``: the results carry the narrative texts X3 compares with (:attr:`FileResult.texts`; last year's
    folder; this year's, for the cross-unit comparison); ``profile``: the rule profile (None: the national
    catalogue)."""
    got = examine_dicts(paths, priors=priors, workers=workers, progress=progress, label=label, seconds=seconds,
                        memory_mb=memory_mb, texts=texts, profile=profile)
    return [FileResult.from_dict(d) for d in got]


def examine_dicts(paths: Sequence[str | os.PathLike[str]], *, priors: Priors | None = None,
                  workers: int | None = None, progress: bool = False, label: str = "校验",
                  seconds: float = FILE_SECONDS, memory_mb: int = FILE_MEMORY_MB, texts: bool = False,
                  fn: Examine | None = None, profile: Profile | None = None) -> list[dict[str, object]]:
    """:func:`examine_all`'s pool and limits with ``fn`` (default :func:`examine`; a module-level function of the
    file's path giving a picklable dict) run on each file; the dicts in the order of ``paths``. A file that crashes,
    hangs or runs out of memory alone gives :func:`examine`'s error row (``error``, ``error_code``)."""
    names = [str(p) for p in paths]
    priors = dict(priors or {})
    n = workers if workers is not None else (os.cpu_count() or 1)
    n = max(1, min(n, len(names) // 8 or 1))
    if len(names) < MIN_FOR_POOL:
        n = 1
    got: dict[int, dict[str, object]] = {}
    with _progress(len(names), label, progress) as advance:
        todo: list[int] = list(range(len(names)))
        while todo:
            before = len(got)
            r = _pool_round(todo, names, priors, n, seconds, memory_mb, texts, got, advance, fn, profile)
            for i in r.late:
                got[i] = _error_row(names[i], "timeout", f"{seconds:g}")
            alone = r.alone if len(got) > before or r.alone or r.late else r.again  # no progress: all alone
            for i in alone:
                got[i] = examine_isolated(names[i], priors=priors, seconds=seconds, memory_mb=memory_mb,
                                          texts=texts, fn=fn, profile=profile)
            advance(len(r.late) + len(alone))
            todo = [i for i in r.again if i not in got]
    return [got[i] for i in range(len(names))]


def worker_profile() -> Profile | None:
    """The rule profile this pool worker checks under (set by the pool: :func:`examine_dicts`'s ``profile``), for a
    caller's own per-file function (``xl-addin audit``)."""
    return _PROFILE


def _nothing(k: int = 1) -> None:
    return None


class _progress:
    """A rich progress bar on stderr, only when asked and stderr is a terminal; otherwise nothing."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.total, self.label = total, label
        self.enabled = enabled and total > 0 and sys.stderr.isatty()
        self._bar: object = None

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return _nothing
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True)
        bar.start()
        task = bar.add_task(self.label, total=self.total)
        self._bar = bar

        def advance(k: int = 1) -> None:
            bar.advance(task, k)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()  # type: ignore[attr-defined]

