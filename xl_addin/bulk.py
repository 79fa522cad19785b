"""Checking many workbooks: :func:`check_file` reads one file and checks it with every rule, never raising;
``xl-addin check`` runs it over its files in order (:func:`check_files`), the coordinator over a folder, spread
over the cores in a process pool (:func:`examine_all`).

Each worker handles one workbook at a time (memory stays flat) and sends back a small picklable dict
(:meth:`xl_addin.collect.FileResult.to_dict`); files go out in chunks so the pool's overhead stays small. A rich
progress bar shows on stderr when asked and stderr is a terminal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import collect, rules
from .adapters.fileio import ReadError
from .adapters.xlsx_reader import NOT_OURS
from .collect import FileResult, Number
from .model import CellValue, FileCheck, Inquiry, Report, ReportData

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


@dataclass(frozen=True)
class Checked:
    """What checking one file gives: the :class:`FileCheck`, and for a readable file the data and the effective
    values the rules saw (the coordinator's roll-up sums those)."""

    result: FileCheck
    data: ReportData | None = None
    values: Mapping[str, Number | None] | None = None


PriorOf = Callable[[ReportData], Mapping[str, CellValue] | None]


def read_file(path: str, *, reader: str = "fast", raw: bytes | None = None) -> ReportData:
    """One file read: a published report (web page, PDF, Word, text) imported, a workbook read by ``reader``.
    Raises ReadError."""
    from .adapters.report_reader import import_report, is_report

    if is_report(path):
        return import_report(path).data
    if reader == "openpyxl":
        from .adapters.xlsx_reader import read_workbook

        return read_workbook(path)
    from .adapters.fast_reader import read_fast

    return read_fast(path, test_members=raw is None, data=raw)


def check_file(path: str, *, prior_of: PriorOf | None = None, reader: str = "fast", raw: bytes | None = None) -> Checked:
    """Read one file and check it with every rule; never raises (a file that cannot be read comes back as its
    catalogue file error). ``prior_of``: last year's figures for the report read, if any; ``raw``: the file's
    bytes, already read (then read once from them, each part checked as it is read)."""
    try:
        data = read_file(path, reader=reader, raw=raw)
    except ReadError as exc:
        return Checked(FileCheck(path, error_code=exc.code, error=exc.reason))
    except Exception as exc:  # a file no reader anticipated must not stop the run
        err = ReadError(path, "unexpected", detail=type(exc).__name__)
        return Checked(FileCheck(path, error_code=err.code, error=err.reason))
    prior = prior_of(data) if prior_of is not None else None
    if prior:
        data = dataclasses.replace(data, prior={**data.prior, **prior})
    ctx = rules.Context(data)
    report = Report.of(path, rules.validate(data, context=ctx))
    return Checked(FileCheck(path, report), data, ctx.values)


def check_files(paths: Iterable[str | os.PathLike[str]], *, prior: Mapping[str, CellValue] | None = None,
                reader: str = "fast") -> Inquiry:
    """Check every file in this process, in order (``xl-addin check``); ``prior``: last year's figures."""
    prior_of = (lambda _data: prior) if prior else None
    return Inquiry(tuple(check_file(str(p), prior_of=prior_of, reader=reader).result for p in paths))


def _agency_prior(data: ReportData) -> Mapping[str, CellValue] | None:
    return _PRIORS.get(collect.name_key(data.agency))


def examine(path: str) -> dict[str, object]:
    """Read and check one file for the coordinator; never raises. Returns a small picklable dict
    (:meth:`xl_addin.collect.FileResult.to_dict`)."""
    try:
        st = os.stat(path)
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        err = ReadError(path, "unopenable", detail=str(exc.strerror or exc))
        return FileResult(path, error=err.reason).to_dict()
    sha256, mtime, size = hashlib.sha256(raw).hexdigest(), st.st_mtime, st.st_size
    checked = check_file(path, prior_of=_agency_prior, raw=raw)  # the bytes just hashed: read once
    del raw
    res = checked.result
    if res.report is None or checked.data is None:
        return FileResult(path, error=res.error, foreign=res.error_code == NOT_OURS, sha256=sha256, mtime=mtime,
                          size=size).to_dict()
    return collect.examined(path, checked.data, res.report.findings, values=checked.values, sha256=sha256,
                            mtime=mtime, size=size).to_dict()


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

