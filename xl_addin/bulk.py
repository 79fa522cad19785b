"""Examining many workbooks: every file read with the fast reader and checked with every rule, spread over the
cores in a process pool.

Each worker handles one workbook at a time (memory stays flat) and sends back a small picklable dict
(:meth:`xl_addin.collect.FileResult.to_dict`); files go out in chunks so the pool's overhead stays small. A rich
progress bar shows on stderr when asked and stderr is a terminal.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import collect, rules
from .adapters.fileio import ReadError
from .adapters.xlsx_reader import NOT_OURS
from .collect import FileResult, Number

#: file types looked at in a folder: spreadsheets, and what agencies send by mistake instead (reported, not used)
EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xltx", ".xls", ".et", ".ods", ".docx", ".doc", ".wps", ".pdf",
                        ".html", ".htm", ".shtml", ".txt", ".md"})  # and published reports (imported)
#: below this many files the pool's start-up costs more than it saves
MIN_FOR_POOL = 24

_PRIORS: Mapping[str, Mapping[str, Number]] = {}


def list_files(folder: str | os.PathLike[str], exclude: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Every candidate file under ``folder`` (recursively, not into linked folders), sorted; Office/WPS/LibreOffice
    lock files (``~$*``, ``.~lock.*``), hidden files and folders and ``exclude`` (our own outputs) are skipped."""
    skip = {Path(p).resolve() for p in exclude}
    skip_names = {p.name for p in skip}  # a path resolves to another name only when it is itself a link
    out: list[Path] = []

    def walk(directory: str) -> None:
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except PermissionError:
            return
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if not name.startswith("."):
                    walk(entry.path)
                continue
            dot = name.rfind(".")
            suffix = name[dot:].lower() if 0 < dot < len(name) - 1 else ""
            if name.startswith(("~$", ".~lock.", ".")) or suffix not in EXTENSIONS:
                continue
            try:
                if not entry.is_file():
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


def _init(priors: Mapping[str, Mapping[str, Number]]) -> None:
    global _PRIORS
    _PRIORS = priors


def _worker_init(priors: Mapping[str, Mapping[str, Number]]) -> None:
    """A pool worker's start: the priors, and the garbage collector told that what the worker inherited stays
    (``gc.freeze``) and to look for cycles less often -- a workbook's objects are freed by reference counting."""
    import gc

    _init(priors)
    gc.freeze()
    gc.set_threshold(20000, 50, 50)


def examine(path: str) -> dict[str, object]:
    """Read and check one file; never raises (a file that cannot be read comes back with its Chinese reason)."""
    from .adapters.fast_reader import read_fast
    from .adapters.report_reader import import_report, is_report

    try:
        st = os.stat(path)
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return FileResult(path, error=f"无法打开文件（{exc.strerror or exc}）。").to_dict()
    ident = {"sha256": hashlib.sha256(raw).hexdigest(), "mtime": st.st_mtime, "size": st.st_size}
    try:
        if is_report(path):  # a published report (web page, PDF, Word, text): imported, then the same rules
            data = import_report(path).data
        else:
            data = read_fast(path, test_members=False, data=raw)  # the bytes just hashed: read once, checked as read
    except ReadError as exc:
        return FileResult(path, error=exc.reason, foreign=exc.reason == NOT_OURS, **ident).to_dict()  # type: ignore[arg-type]
    except Exception as exc:  # a file no reader anticipated must not stop the run
        return FileResult(path, error=f"读取时出现意外错误（{type(exc).__name__}），请在 Excel 中打开后另存再发送。",
                          **ident).to_dict()  # type: ignore[arg-type]
    prior = _PRIORS.get(collect.name_key(data.agency))
    if prior:
        import dataclasses

        data = dataclasses.replace(data, prior={**data.prior, **prior})
    del raw
    ctx = rules.Context(data)
    findings = rules.validate(data, context=ctx)
    from .model import Report

    report = Report.of(path, findings)  # same order as `check`
    return collect.examined(path, data, report.findings, values=ctx.values, **ident).to_dict()  # type: ignore[arg-type]


def examine_all(paths: Sequence[str | os.PathLike[str]], *, priors: Mapping[str, Mapping[str, Number]] | None = None,
                workers: int | None = None, progress: bool = False, label: str = "校验") -> list[FileResult]:
    """Examine every file, over ``workers`` processes (default: every core; 1 = in this process)."""
    names = [str(p) for p in paths]
    priors = dict(priors or {})
    n = workers if workers is not None else (os.cpu_count() or 1)
    n = max(1, min(n, len(names) // 8 or 1))
    results: list[FileResult] = []
    with _progress(len(names), label, progress) as advance:
        if n == 1 or len(names) < MIN_FOR_POOL:
            _init(priors)
            try:
                for name in names:
                    results.append(FileResult.from_dict(examine(name)))
                    advance()
            finally:
                _init({})
        else:
            chunk = max(1, min(16, len(names) // (n * 8)))  # small: the last chunks end together
            with ProcessPoolExecutor(max_workers=n, initializer=_worker_init, initargs=(priors,)) as ex:
                for d in ex.map(examine, names, chunksize=chunk):
                    results.append(FileResult.from_dict(d))
                    advance()
    return results


class _progress:
    """A rich progress bar on stderr, only when asked and stderr is a terminal; otherwise nothing."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.total, self.label = total, label
        self.enabled = enabled and total > 0 and sys.stderr.isatty()
        self._bar: object = None

    def __enter__(self) -> Callable[[], None]:
        if not self.enabled:
            return lambda: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True)
        bar.start()
        task = bar.add_task(self.label, total=self.total)
        self._bar = bar
        return lambda: bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()  # type: ignore[attr-defined]

