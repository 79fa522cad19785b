"""Checking one file: read it (a workbook, or a published report imported) and run every rule, never raising.

``xl-addin check`` runs :func:`check_files` over its files in order, each file that needs it alone in a process of
its own under the coordinator's limits (:data:`FILE_SECONDS`, :data:`FILE_MEMORY_MB`; see :func:`isolated`); the
coordinator's pool (:mod:`xl_addin.bulk`) runs :func:`check_file` in its workers. Kept apart from the pool so that
a check does not load it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import rules
from .adapters import isolation
from .adapters.fileio import ReadError, read_guarded
from .catalogue import file_error
from .model import CellValue, FileCheck, Inquiry, Report, ReportData
from .profiles import Profile

#: what is read as a workbook without asking the report reader (which loads the importer)
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx"})
#: a file's wall-time limit, seconds: past it the file's reading is stopped and the file reported as ``timeout``
FILE_SECONDS = 30.0
#: the memory reading one file may take, MB above what its process holds before (its address space is limited to
#: that; 0 = no limit): past it the file is reported as ``out-of-memory``
FILE_MEMORY_MB = 1024
memory_detail = isolation.memory_detail


@dataclass(frozen=True)
class Checked:
    """What checking one file gives: the :class:`FileCheck`, and for a readable file the data and the effective
    values the rules saw (the coordinator's roll-up sums those)."""

    result: FileCheck
    data: ReportData | None = None
    values: Mapping[str, int | float | None] | None = None


PriorOf = Callable[[ReportData], Mapping[str, CellValue] | None]


def read_workbook(path: str | os.PathLike[str], *, reader: str = "fast", raw: bytes | None = None,
                  test_members: bool = True) -> ReportData:
    """One workbook read by ``reader`` ("fast": calamine and an XML scan; "openpyxl"). ``raw``: the file's bytes,
    already read (the fast reader reads from them); ``test_members=False`` (bulk): the archive's members are not
    checksum-tested up front, each part read is checked as it is read. Raises ReadError."""
    if reader == "openpyxl":
        from .adapters.xlsx_reader import read_workbook as by_openpyxl

        return by_openpyxl(path)
    from .adapters.fast_reader import read_fast

    return read_fast(path, test_members=test_members, data=raw)


def read_file(path: str | os.PathLike[str], *, reader: str = "fast", raw: bytes | None = None,
              test_members: bool = True) -> ReportData:
    """One file read: a published report (web page, PDF, Word, text) imported, a workbook read by
    :func:`read_workbook`. ``raw``: the file's bytes, already read (then not read again). Raises ReadError."""
    if Path(path).suffix.lower() not in WORKBOOK_SUFFIXES:
        from .adapters.report_reader import import_report, is_report

        if is_report(path):
            return import_report(path, data=raw).data
    return read_workbook(path, reader=reader, raw=raw, test_members=test_members)


def with_prior(data: ReportData, prior: Mapping[str, CellValue] | None) -> ReportData:
    """``data`` with last year's figures (and texts) ``prior`` added over those it carries. What the coordinator
    knows of the agency may also carry the roster's 报告范围 (:data:`rules.SCOPE_PROPS_KEY`, "本级"/"汇总"): it
    goes into the report's props, where T1 takes the report's scope from."""
    if not prior:
        return data
    scope = prior.get(rules.SCOPE_PROPS_KEY)
    if scope is not None:
        prior = {k: v for k, v in prior.items() if k != rules.SCOPE_PROPS_KEY}
        if scope in rules.SCOPES:
            data = dataclasses.replace(data, props={**data.props, rules.SCOPE_PROPS_KEY: str(scope)})
    return dataclasses.replace(data, prior={**data.prior, **prior}) if prior else data


def check_data(data: ReportData, *, prior: Mapping[str, CellValue] | None = None, path: str | None = None,
               profile: Profile | None = None) -> Checked:
    """Every rule on ``data`` with ``prior`` added (:func:`with_prior`), as the check of ``path`` (None: the
    data's source); ``profile``: the rule profile (None: the national catalogue)."""
    data = with_prior(data, prior)
    where = data.source if path is None else path
    ctx = rules.Context(data, profile)
    report = Report.of(where, rules.validate(data, context=ctx))
    return Checked(FileCheck(where, report), data, ctx.values)


def _unread(path: str, code: str, detail: str = "") -> Checked:
    return Checked(FileCheck(path, error_code=code, error=file_error(code).text(detail=detail)))


def check_file(path: str, *, prior_of: PriorOf | None = None, reader: str = "fast", raw: bytes | None = None,
               test_members: bool = True, memory_mb: int = 0, profile: Profile | None = None) -> Checked:
    """Read one file and check it with every rule; never raises (a file that cannot be read, or that a rule
    crashes on, comes back as its catalogue file error). ``prior_of``: last year's figures for the report read, if any; ``raw``,
    ``test_members``: as :func:`read_file` takes them; ``memory_mb``: the memory limit the read runs under (0:
    none), for the out-of-memory error."""
    try:
        data = read_file(path, reader=reader, raw=raw, test_members=test_members)
    except ReadError as exc:
        return Checked(FileCheck(path, error_code=exc.code, error=exc.reason))
    except MemoryError:
        return _unread(path, "out-of-memory", memory_detail(memory_mb))
    except ImportError:
        if memory_mb:  # under an address-space limit a native module that cannot be mapped fails to import
            return _unread(path, "out-of-memory", memory_detail(memory_mb))
        return _unread(path, "unexpected", "ImportError")
    except Exception as exc:  # a file no reader anticipated must not stop the run
        return _unread(path, "unexpected", type(exc).__name__)
    try:
        return check_data(data, prior=prior_of(data) if prior_of is not None else None, path=path, profile=profile)
    except MemoryError:
        return _unread(path, "out-of-memory", memory_detail(memory_mb))
    except Exception as exc:  # a rule no report anticipated must not stop the run either
        return _unread(path, "unexpected", type(exc).__name__)


@dataclass(frozen=True)
class Examined:
    """What :func:`examine_file` gives: the check, and the file's identity when its bytes were read (sha256 "":
    they were not)."""

    checked: Checked
    sha256: str = ""
    mtime: float = 0.0
    size: int = 0


def examine_file(path: str, *, prior_of: PriorOf | None = None, memory_mb: int = 0,
                 profile: Profile | None = None) -> Examined:
    """The coordinator's and the audit's read of one file: its bytes read once, bounded
    (:func:`xl_addin.adapters.fileio.read_guarded`: a regular file within the size limit, a named pipe never
    blocks), hashed, then checked from them (:func:`check_file`, each part checked as it is read); never raises."""
    try:
        raw, st = read_guarded(path)
    except ReadError as exc:
        return Examined(Checked(FileCheck(path, error_code=exc.code, error=exc.reason)))
    except MemoryError:
        return Examined(_unread(path, "out-of-memory", memory_detail(memory_mb)))
    sha256 = hashlib.sha256(raw).hexdigest()
    checked = check_file(path, prior_of=prior_of, raw=raw, test_members=False, memory_mb=memory_mb, profile=profile)
    return Examined(checked, sha256, st.st_mtime, st.st_size)


def isolated(paths: Sequence[str]) -> bool:
    """Whether ``xl-addin check`` reads each of ``paths`` alone in a process of its own (:func:`check_files`): when
    it is more than one file -- one bad file must not sink the others -- or any is a published report, whose
    readers (pdfium, lxml, LibreOffice) are not bounded by the workbook reader's own checks. One workbook alone is
    read in the command's own process: the fast reader refuses by itself what could make it hang or blow up (the
    hostile corpus of issue 14), and a process of its own would add its start-up to the most common check."""
    return len(paths) > 1 or any(Path(p).suffix.lower() not in WORKBOOK_SUFFIXES for p in paths)


def _warm(paths: Sequence[str]) -> None:
    """Before the first child forks: import the readers ``paths`` need and compute what every check derives from
    the template's declaration alone (the live formulas, the build's fingerprint) -- no file is read. Each child
    then starts warm: a workbook checks in ~30 ms more than in-process instead of ~100."""
    from . import fingerprint

    if any(Path(p).suffix.lower() in WORKBOOK_SUFFIXES for p in paths):
        import python_calamine  # noqa: F401 - a native module: loaded under a child's memory limit it fails to map
        from openpyxl.formula.translate import Translator  # noqa: F401 - (ImportError, not MemoryError)

        from .adapters import fast_reader  # noqa: F401 - imported once here, inherited by every child

        rules._live_formulas()
        fingerprint.fingerprint()
    if any(Path(p).suffix.lower() not in WORKBOOK_SUFFIXES for p in paths):
        from .adapters import report_reader  # noqa: F401


def _check_alone(path: str, prior: Mapping[str, CellValue] | None, reader: str,
                 profile: Profile | None = None) -> FileCheck:
    """In the process of :func:`isolation.run_alone`: one :func:`check_file`, under the memory limit it has."""
    return check_file(path, prior_of=(lambda _data: prior) if prior else None, reader=reader,
                      memory_mb=isolation.limited_mb, profile=profile).result


def check_files(paths: Iterable[str | os.PathLike[str]], *, prior: Mapping[str, CellValue] | None = None,
                reader: str = "fast", seconds: float | None = None, memory_mb: int | None = None,
                isolate: bool | None = None, profile: Profile | None = None) -> Inquiry:
    """Check every file, in order (``xl-addin check``); ``prior``: last year's figures. Each file is read alone in a
    process of its own (``isolate``; None: as :func:`isolated` decides), stopped after ``seconds`` and limited to
    ``memory_mb`` above what it starts with (None: :data:`FILE_SECONDS`, :data:`FILE_MEMORY_MB`): a file that
    hangs, blows up or crashes gets its catalogue file error (``timeout``, ``out-of-memory``, ``crashed``) and the
    others are checked as alone. ``profile``: the rule profile (None: the national catalogue)."""
    names = [str(p) for p in paths]
    seconds = FILE_SECONDS if seconds is None else seconds
    memory_mb = FILE_MEMORY_MB if memory_mb is None else memory_mb
    if not (isolated(names) if isolate is None else isolate):
        prior_of = (lambda _data: prior) if prior else None
        return Inquiry(tuple(check_file(p, prior_of=prior_of, reader=reader, profile=profile).result for p in names))
    _warm(names)
    out = []
    for p in names:
        got = isolation.run_alone(_check_alone, (p, dict(prior) if prior else None, reader, profile), seconds=seconds,
                                  memory_mb=memory_mb)
        out.append(got.value if got.value is not None else FileCheck(p, error_code=got.error,
                                                                     error=file_error(got.error).text(detail=got.detail)))
    return Inquiry(tuple(out))
