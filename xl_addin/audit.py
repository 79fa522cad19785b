"""``xl-addin audit``: an auditor's bulk run over published reports -- folders of saved reports and lists of web
addresses -- giving for each report what was read and from where, its findings and a verdict, and for the run a
summary workbook, the dataset (contract D) and a 通报-style draft.

The run, in order:

1. **Sources** (:func:`gather`). Each SOURCE is a folder (every report file under it, as ``collect`` lists them:
   :data:`xl_addin.spec.REPORT_SUFFIXES` and the workbooks the toolkit reads), a text file of web addresses (one a
   line; blank lines and lines starting with ``#`` ignored; a ``.txt`` file is such a list only when every other
   line is an http(s) address, else it is a report), a single address, or a single report file. A source that is
   missing, empty or unreadable is a report of its own with the verdict 无法读取 and the reason, never a stop.
2. **Fetching** (:func:`fetch_all`), politely: the SSRF-hardened fetcher (:mod:`xl_addin.adapters.fetch`: no
   private address unless :attr:`FetchPolicy.allow_private`, a timeout, a size limit, bounded redirects) with an
   honest User-Agent, at most one request at a time per host and :attr:`FetchPolicy.host_delay` seconds between two
   of them, and transient failures (timeout, connection, HTTP 5xx/429) tried again after a backoff that doubles.
   What was fetched is kept under ``OUT/sources/`` (the evidence of what was read) and read from there.
3. **Checking** in the coordinator's pool (:func:`xl_addin.bulk.examine_dicts` with :func:`examine_report`): every
   report under the same crash, time and memory isolation as ``collect``; no workbook is written per report.
4. **Outputs** (:func:`write_outputs`), each file written atomically: ``OUT/reports/NNNN-<name>.json`` per report,
   ``审核汇总.xlsx``, ``dataset.parquet``, ``通报草稿.docx`` and ``audit.json`` (the run: sources, verdicts, the
   files written). OUT may exist: the files of this run replace those of the same name, and the per-report files
   an earlier run listed in its ``audit.json`` that this run did not write again are removed; nothing else in OUT
   is touched. File names never come from a report: the per-report names are the source's own name (file name or
   the address's last part) through :func:`xl_addin.report_doc.safe_name`, numbered.

Verdicts: 通过 (read, no error-level finding), 不通过 (an error-level finding), 无法读取 (no report could be read
from the source: the reason says why). A table the importer could not read (contract U: the import's ``unread``)
is named in the report's tables column; the rules decide what it means for the verdict.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from . import __version__, bulk, checking, spec
from .adapters import isolation
from .adapters.fetch import FetchError, fetch, is_url
from .adapters.fileio import (
    ReadError,
    atomic_write_bytes,
    atomic_write_text,
    check_regular,
)
from .adapters.report_reader import MAX_BYTES
from .dataset import VERDICTS
from .model import IMPORT_PROPS_KEY, Severity
from .profiles import Profile
from .report_doc import safe_name

#: a report's verdict, as the dataset's verdict column has it
PASS, FAIL, UNREADABLE = VERDICTS
#: an honest User-Agent (ASCII: it is an HTTP header): who asks, and why
USER_AGENT: Final = f"xl-addin/{__version__} (annual report audit; government information disclosure)"
#: the files of a run, in OUT
SUMMARY_NAME: Final = "审核汇总.xlsx"
DATASET_NAME: Final = "dataset.parquet"
NOTICE_NAME: Final = "通报草稿.docx"
MANIFEST_NAME: Final = "audit.json"
REPORTS_DIR: Final = "reports"
SOURCES_DIR: Final = "sources"
#: a text file of web addresses: suffixes always read as such a list (a .txt is one only when its lines say so)
URL_LIST_SUFFIXES: Final = frozenset({".urls", ".lst", ".list"})
#: the most a list of addresses may weigh (a list of 10^5 addresses is some 10 MB)
MAX_LIST_BYTES: Final = 16 * 1024 * 1024
#: threads writing the per-report files (each atomic write waits for the disk: os.fsync)
WRITERS: Final = 8
#: the tables whose reading is reported (contract U)
TABLES: Final = (("t2", "表二"), ("t3", "表三"), ("t4", "表四"))
_KIND_ZH: Final = {**spec.REPORT_KIND_ZH, "workbook": "工作簿"}
_FORMAT_ZH: Final = {"2021": "现行格式", "hybrid": "新旧格式混用", "2019": "旧格式（2019）"}
#: a fetch failure worth trying again (the fetcher's Chinese reasons): a timeout, no connection, a cut-off read,
#: a server busy or failing
_TRANSIENT: Final = re.compile(r"超时|无法连接|读取中断|HTTP (?:5\d\d|429)")


# ---- sources ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """One report to audit: its source as given (a path or an address), the address when it is one, and the local
    file read (for an address: the copy fetched into ``OUT/sources``); ``error``: why there is nothing to read."""

    source: str
    url: str = ""
    path: str = ""
    error: str = ""


def _decode_list(data: bytes) -> str | None:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


_BARE_HOST: Final = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?(?:/\S*)?$")


def as_url(line: str) -> str | None:
    """``line`` as an address: itself when it is one, ``http://`` + it when it is a bare host and path as people
    copy them from a browser ("www.gov.cn/xxgk/2023.html"); else None."""
    if is_url(line):
        return line
    bare = _BARE_HOST.match(line) and ("/" in line or line.lower().startswith("www."))  # not a file name "a.txt"
    return "http://" + line if bare else None


def url_lines(path: Path) -> list[str] | None:
    """The addresses of a text file listing them, one a line (blank lines and ``#`` comments skipped), or None
    when ``path`` is no such list: a ``.txt`` (or other) file with a line that is not an address is a report.
    Only a regular file is looked into (a named pipe never blocks the run)."""
    suffix = path.suffix.lower()
    if suffix not in URL_LIST_SUFFIXES and suffix not in (".txt", ".text", ".csv", ""):
        return None
    try:
        if check_regular(path).st_size > MAX_LIST_BYTES:
            return None
        text = _decode_list(path.read_bytes())
    except (ReadError, OSError):
        return None
    if text is None:
        return None
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    urls = [as_url(ln) for ln in lines]
    if suffix in URL_LIST_SUFFIXES:
        return [u or ln for u, ln in zip(urls, lines, strict=True)]  # a line that is no address: its own verdict
    return [u for u in urls if u] if lines and all(urls) else None


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder)
        return True
    except (ValueError, OSError):
        return False


def gather(sources: Sequence[str], out: str | Path | None = None) -> list[Item]:
    """Every report the SOURCES name, in the order given (a folder's files sorted); the output folder ``out`` is
    never read as a source. A source that names nothing readable is an item with its Chinese ``error``."""
    skip = Path(out).resolve() if out is not None else None
    items: list[Item] = []
    seen: set[str] = set()

    def add(item: Item) -> None:
        key = item.url or item.path or item.source
        if item.error or key not in seen:
            seen.add(key)
            items.append(item)

    for s in sources:
        if is_url(s):
            add(Item(s, url=s))
            continue
        p = Path(s)
        if not p.exists():
            add(Item(s, error=f"找不到文件或文件夹：{s}"))
        elif p.is_dir():
            files = [f for f in bulk.list_files(p) if not _inside(f, skip)]
            if not files:
                add(Item(s, error=f"文件夹中没有年报文件（可读取：{spec.report_suffixes_zh()}、工作簿 .xlsx）：{s}"))
            for f in files:
                add(Item(str(f), path=str(f)))
        else:
            urls = url_lines(p)
            if urls is None:
                add(Item(s, path=s))
            elif not urls:
                add(Item(s, error=f"网址清单中没有网址：{s}"))
            else:
                for u in urls:
                    add(Item(u, url=u))
    return items


# ---- fetching ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FetchPolicy:
    """How addresses are fetched: the fetcher's limits, retries with a doubling backoff, a delay between two
    requests to one host (never two at once to one host), the hosts fetched at the same time."""

    allow_private: bool = False  # intranet portals; the tests' local server
    timeout: float = 30.0  # seconds, each attempt as a whole
    max_bytes: int = MAX_BYTES
    retries: int = 2  # attempts after the first, for a transient failure only
    backoff: float = 2.0  # seconds before the first retry, doubled for each further one
    host_delay: float = 1.0  # seconds between the end of one request to a host and the start of the next
    hosts_at_once: int = 4
    user_agent: str = USER_AGENT


def _host(url: str) -> str:
    try:
        return (urllib.parse.urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _fetched_name(index: int, url: str, suffix: str) -> str:
    """``NNNN-<the address's last part>.<suffix>``: a safe name (:func:`safe_name`), never a path."""
    try:
        stem = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).stem
    except ValueError:
        stem = ""
    return f"{index:04d}-{safe_name(stem, 'report', max_chars=60)}{suffix}"


def fetch_one(url: str, policy: FetchPolicy, sleep: Callable[[float], None] = time.sleep) -> tuple[str, str, bytes]:
    """``(final address, suffix, body)`` of ``url`` after at most ``policy.retries`` further attempts on a
    transient failure. Raises FetchError (the last one)."""
    wait = policy.backoff
    for attempt in range(policy.retries + 1):
        try:
            got = fetch(url, allow_private=policy.allow_private, timeout=policy.timeout,
                        max_bytes=policy.max_bytes, user_agent=policy.user_agent)
            return got.url, got.suffix, got.data
        except FetchError as exc:
            if attempt >= policy.retries or not _TRANSIENT.search(exc.reason):
                raise
        sleep(wait)
        wait *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_all(items: Sequence[Item], folder: Path, policy: FetchPolicy,
              advance: Callable[[int], None] = lambda k: None) -> list[Item]:
    """``items`` with every address fetched into ``folder`` (its ``path`` then the saved copy, or its ``error`` the
    Chinese reason): hosts in parallel (``policy.hosts_at_once``), one host's addresses one after the other."""
    by_host: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        if it.url and not it.path and not it.error:
            by_host.setdefault(_host(it.url), []).append(i)
    out = list(items)
    lock = threading.Lock()

    def run(indices: list[int]) -> None:
        for k, i in enumerate(indices):
            if k:
                time.sleep(policy.host_delay)
            it = items[i]
            try:
                final, suffix, data = fetch_one(it.url, policy)  # final: after redirects
                target = folder / _fetched_name(i + 1, final, suffix)
                atomic_write_bytes(target, data)
                done = replace(it, path=str(target))
            except FetchError as exc:
                done = replace(it, error=f"无法下载：{exc.reason}")
            except OSError as exc:
                done = replace(it, error=f"下载的文件无法保存（{exc.strerror or exc}）")
            except Exception as exc:  # an address no check anticipated must not stop the run
                done = replace(it, error=f"无法下载（{type(exc).__name__}）。请检查网址，或下载后放入文件夹。")
            with lock:
                out[i] = done
            advance(1)

    if by_host:
        with ThreadPoolExecutor(max_workers=max(1, min(policy.hosts_at_once, len(by_host)))) as pool:
            for f in [pool.submit(run, ix) for ix in by_host.values()]:
                f.result()
    return out


# ---- one report -------------------------------------------------------------------------------------------------

def examine_report(path: str) -> dict[str, object]:
    """In a pool worker: read and check one report file (:func:`xl_addin.checking.examine_file`), never raising.
    A small picklable dict: ``error``/``error_code`` when it could not be read; else the unit, year, level, the
    import's format and unread tables (contract U), the findings (``Finding.to_dict``) and the cell values."""
    ex = checking.examine_file(path, memory_mb=isolation.limited_mb, profile=bulk.worker_profile())
    res, data = ex.checked.result, ex.checked.data
    if res.report is None or data is None:
        d: dict[str, object] = {"path": path, "error": res.error, "error_code": res.error_code}
        return {**d, "sha256": ex.sha256, "size": ex.size} if ex.sha256 else d
    try:
        props = json.loads(data.props.get(IMPORT_PROPS_KEY) or "{}")
    except ValueError:
        props = {}
    suffix = Path(path).suffix.lower()
    return {"path": path, "sha256": ex.sha256, "size": ex.size, "agency": data.agency, "year": data.year,
            "level": data.text("meta.level"), "kind": spec.REPORT_SUFFIXES.get(suffix, "workbook"),
            "format": str(props.get("format") or ""), "unread": list(props.get("unread") or ()),
            "findings": [f.to_dict() for f in res.report.findings],
            "values": {k: data.values.get(k) for k in spec.INPUT_KEYS}}


@dataclass(frozen=True)
class Audited:
    """One report's outcome."""

    index: int  # 1-based, the order of the sources
    source: str  # as given: a path, or an address
    url: str  # the address it was fetched from ("" for a file)
    path: str  # the file read (for an address: its copy under OUT/sources); "" when there was none
    verdict: str  # PASS, FAIL, UNREADABLE
    reason: str = ""  # why it could not be read (Chinese)
    unit: str = ""
    year: int | None = None
    level: str = ""
    kind: str = ""  # spec.REPORT_SUFFIXES' kind, or "workbook"
    format: str = ""  # the importer's: "2021", "hybrid", "2019"
    unread: tuple[Mapping[str, Any], ...] = ()  # contract U
    findings: tuple[Mapping[str, Any], ...] = ()  # Finding.to_dict()
    values: Mapping[str, Any] = field(default_factory=dict)
    sha256: str = ""
    size: int = 0
    report_file: str = ""  # its JSON, relative to OUT

    @property
    def where(self) -> str:
        return self.url or self.path or self.source

    def count(self, severity: Severity) -> int:
        return sum(f.get("severity") == severity.value for f in self.findings)

    def tables(self) -> dict[str, str]:
        """Per table (表二, 表三, 表四): 已读取, or what the importer could not read and why (contract U)."""
        out: dict[str, str] = {}
        for t, name in TABLES:
            if self.verdict == UNREADABLE:
                out[name] = "未读取"
                continue
            gaps = [u for u in self.unread if u.get("table") == t]
            whole = [u for u in gaps if u.get("what") == "table"]
            if whole:
                u = whole[0]
                where = f"（{u.get('where')}）" if u.get("where") else ""
                out[name] = f"未读取：{u.get('why') or '无法识别'}{where}"
            elif gaps:
                why = "；".join(str(u.get("why") or "") for u in gaps if u.get("why"))
                out[name] = f"部分未读取（{len(gaps)}行）" + (f"：{why}" if why else "")
            else:
                out[name] = "已读取"
        return out

    def to_dict(self) -> dict[str, Any]:
        """The per-report record (``OUT/reports/NNNN-….json``): what was read and from where, findings, verdict."""
        return {"index": self.index, "source": self.source, "url": self.url, "file": self.path,
                "verdict": self.verdict, "reason": self.reason, "unit": self.unit, "year": self.year,
                "level": self.level, "kind": _KIND_ZH.get(self.kind, self.kind),
                "format": _FORMAT_ZH.get(self.format, self.format), "tables": self.tables(),
                "unread": [dict(u) for u in self.unread], "sha256": self.sha256, "size": self.size,
                "counts": {s.value: self.count(s) for s in Severity},
                "findings": [dict(f) for f in self.findings]}


def _verdict(d: Mapping[str, Any]) -> str:
    if d.get("error"):
        return UNREADABLE
    return FAIL if any(f.get("severity") == Severity.ERROR.value for f in d.get("findings") or ()) else PASS


def audited(index: int, item: Item, d: Mapping[str, Any] | None) -> Audited:
    """The outcome of ``item`` (``d``: what :func:`examine_report` gave for its file; None: nothing was read)."""
    if d is None:
        return Audited(index, item.source, item.url, item.path, UNREADABLE, item.error or "没有可读取的文件")
    verdict = _verdict(d)
    return Audited(index, item.source, item.url, item.path, verdict, str(d.get("error") or ""),
                   str(d.get("agency") or ""), d.get("year"), str(d.get("level") or ""), str(d.get("kind") or ""),
                   str(d.get("format") or ""), tuple(d.get("unread") or ()), tuple(d.get("findings") or ()),
                   dict(d.get("values") or {}), str(d.get("sha256") or ""), int(d.get("size") or 0))


# ---- the run ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditResult:
    reports: tuple[Audited, ...]
    out: Path
    files: Mapping[str, str]  # what was written: "summary", "dataset", "notice", "manifest" -> path ("": not)
    notes: tuple[str, ...] = ()  # what the run could not do (Chinese), e.g. the dataset not written

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.verdict for r in self.reports)

    @property
    def exit_code(self) -> int:
        """0: every report 通过; 1: any 不通过 or 无法读取 (also: no report at all)."""
        return 0 if self.reports and all(r.verdict == PASS for r in self.reports) else 1

    def summary_zh(self) -> str:
        c = self.counts
        return (f"已审核 {len(self.reports)} 份年报：{PASS} {c[PASS]} 份，{FAIL} {c[FAIL]} 份，"
                f"{UNREADABLE} {c[UNREADABLE]} 份。")

    def to_dict(self) -> dict[str, Any]:
        return {"version": __version__, "out": str(self.out), "counts": dict(self.counts), "files": dict(self.files),
                "notes": list(self.notes),
                "reports": [{"index": r.index, "source": r.source, "url": r.url, "file": r.path, "unit": r.unit,
                             "year": r.year, "verdict": r.verdict, "reason": r.reason, "tables": r.tables(),
                             "counts": {s.value: r.count(s) for s in Severity}, "report": r.report_file}
                            for r in self.reports]}


def run(sources: Sequence[str], out: str | Path, *, policy: FetchPolicy | None = None, workers: int | None = None,
        seconds: float | None = None, memory_mb: int | None = None, progress: bool = False, county: str = "",
        dataset: bool = True, notice: bool = True, profile: Profile | None = None) -> AuditResult:
    """Audit every report ``sources`` name into the folder ``out`` (created; see the module's text for what
    happens to what it holds). Raises OSError only when ``out`` cannot be written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    policy = policy or FetchPolicy()
    items = gather(sources, out)
    n_urls = sum(bool(it.url and not it.error) for it in items)
    with bulk._progress(n_urls, "下载", progress) as advance:
        items = fetch_all(items, out / SOURCES_DIR, policy, advance)
    readable = [i for i, it in enumerate(items) if it.path and not it.error]
    got = bulk.examine_dicts([items[i].path for i in readable], workers=workers, progress=progress, label="审核",
                             seconds=checking.FILE_SECONDS if seconds is None else seconds,
                             memory_mb=checking.FILE_MEMORY_MB if memory_mb is None else memory_mb,
                             fn=examine_report, profile=profile)
    by_index = dict(zip(readable, got, strict=True))
    reports = tuple(audited(i + 1, it, by_index.get(i)) for i, it in enumerate(items))
    return write_outputs(reports, out, county=county, dataset=dataset, notice=notice)


# ---- outputs ----------------------------------------------------------------------------------------------------

def _report_name(r: Audited) -> str:
    base = r.url or r.source
    try:
        stem = Path(urllib.parse.unquote(urllib.parse.urlsplit(base).path)).stem if r.url else Path(base).stem
    except ValueError:
        stem = ""
    return f"{REPORTS_DIR}/{r.index:04d}-{safe_name(stem, 'report', max_chars=60)}.json"


def _old_files(out: Path) -> list[str]:
    """The per-report files an earlier run listed in its manifest (only names under reports/ and sources/)."""
    try:
        old = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
        names = old.get("written") or []
    except (OSError, ValueError, AttributeError):
        return []
    keep = []
    for n in names:
        if not isinstance(n, str):
            continue
        parts = Path(n).parts
        if len(parts) == 2 and parts[0] in (REPORTS_DIR, SOURCES_DIR) and parts[1] == safe_name(parts[1]) \
                and not parts[1].startswith("."):
            keep.append(n)
    return keep


def write_outputs(reports: Sequence[Audited], out: Path, *, county: str = "", dataset: bool = True,
                  notice: bool = True) -> AuditResult:
    """Every file of the run, each atomically (the module's text)."""
    old = _old_files(out)
    reports = [replace(r, report_file=_report_name(r)) for r in reports]
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:  # each file synced to disk: the waits overlap
        list(pool.map(lambda r: atomic_write_text(out / r.report_file, json.dumps(
            r.to_dict(), ensure_ascii=False, default=str)), reports))
    files = {"summary": str(write_summary(reports, out / SUMMARY_NAME))}
    notes: list[str] = []
    files["dataset"] = ""
    if dataset:
        written, note = write_dataset(reports, out / DATASET_NAME)
        files["dataset"] = str(written or "")
        notes += [note] if note else []
    files["notice"] = str(write_notice(reports, out / NOTICE_NAME, county=county)) if notice else ""
    written_now = [r.report_file for r in reports]
    fetched = [str(Path(r.path).relative_to(out)) for r in reports if r.url and r.path and _inside(Path(r.path), out)]
    for name in set(old) - set(written_now) - set(fetched):
        (out / name).unlink(missing_ok=True)
    result = AuditResult(tuple(reports), out, files, tuple(notes))
    manifest = {**result.to_dict(), "written": written_now + fetched}
    files_done = dict(files, manifest=str(atomic_write_text(out / MANIFEST_NAME, json.dumps(
        manifest, ensure_ascii=False, indent=1, default=str))))
    return replace(result, files=files_done)


def write_dataset(reports: Sequence[Audited], path: Path) -> tuple[Path | None, str]:
    """The dataset (contract D): one ``dataset.Entry`` per report through ``adapters.dataset_io.write_dataset``, as
    Parquet at ``path``, else (pyarrow not installed: the ``dataset`` extra) as CSV beside it. Returns the file
    written (None: none) and what the user should know (Chinese, "" when nothing)."""
    from . import dataset as ds
    from .adapters import dataset_io as dio

    entries = [ds.Entry(unit=r.unit, year=r.year, values=dict(r.values), level=r.level, source=r.where,
                        verdict=r.verdict) for r in reports]
    try:
        dio.write_dataset(entries, path)
        return path, ""
    except dio.DatasetError as exc:  # no pyarrow: the same table as CSV (UTF-8 with BOM, opens in Excel)
        csv = path.with_suffix(".csv")
        dio.write_dataset(entries, csv)
        return csv, f"数据集写为 CSV（{csv.name}）：{exc}"


def notice_of(reports: Sequence[Audited]) -> Any:
    """The 通报 draft's input (:class:`xl_addin.notice.Notice`, audited): one entry per report, read or not."""
    from . import notice as nt

    entries = []
    for r in reports:
        name = r.unit or Path(r.source).name or r.source
        if r.year and r.unit:
            name = f"{r.unit}（{r.year}年度）"
        entries.append(nt.NoticeEntry(name, r.verdict != UNREADABLE, None, r.verdict == PASS,
                                      nt.defects_of(r.findings), reasons=(r.reason,) if r.reason else ()))
    years = Counter(r.year for r in reports if r.year)
    return nt.Notice(tuple(entries), reviewed=False, year=years.most_common(1)[0][0] if years else None,
                     audited=True)


def write_notice(reports: Sequence[Audited], path: Path, *, county: str = "") -> Path:
    from . import api

    return api.write_notice(notice_of(reports), path, county=county)


# ---- the summary workbook ---------------------------------------------------------------------------------------

SUMMARY_COLUMNS: Final = (("序号", 6), ("单位", 28), ("年度", 7), ("来源", 40), ("文件类型", 8), ("格式", 10),
                          ("表二", 10), ("表三", 10), ("表四", 10), ("错误", 6), ("警告", 6), ("提示", 6),
                          ("结论", 9), ("说明", 40), ("明细", 24))
FINDING_COLUMNS: Final = (("序号", 6), ("单位", 28), ("年度", 7), ("规则", 10), ("级别", 6), ("位置", 16),
                          ("问题", 70), ("来源", 40))


def _first_problem(r: Audited) -> str:
    if r.reason:
        return r.reason
    errs = [f for f in r.findings if f.get("severity") == Severity.ERROR.value]
    if errs:
        codes = sorted({str(f.get("code") or f.get("rule")) for f in errs})
        return f"错误 {len(errs)} 处（{'、'.join(codes[:6])}{'等' if len(codes) > 6 else ''}）"
    gaps = [name for name, state in r.tables().items() if state != "已读取"]
    return f"{'、'.join(gaps)}未能完整读取" if gaps else ""


def write_summary(reports: Sequence[Audited], path: Path) -> Path:
    """The run's workbook (Chinese, printable: landscape, one page wide, the header row on every page): 审核汇总
    (one row per report) and 问题清单 (one row per finding). The rows go out as the coordinator's summary writes
    its own (:mod:`xl_addin.adapters.summary_writer`: sheet XML spliced in after openpyxl's header; a run has
    tens of thousands of findings, openpyxl spends ~20 us a cell)."""
    from openpyxl.styles import Alignment, Font, PatternFill

    from .adapters import summary_writer as sw

    wb = sw.new_workbook()
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")
    fills = {PASS: PatternFill("solid", fgColor="C6EFCE"), FAIL: PatternFill("solid", fgColor="FFC7CE"),
             UNREADABLE: PatternFill("solid", fgColor="FFEB9C")}
    bulk: list[Any] = []

    def sheet(title: str, columns: Sequence[tuple[str, float]], rows: Iterable[Sequence[Any]],
              verdict_col: int = -1, wrap_col: int = -1) -> None:
        ws = wb.create_sheet(title)
        for i, (_, width) in enumerate(columns, start=1):
            ws.column_dimensions[spec.col_letter(i)].width = width
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = 9  # A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.gridLines = True
        ws.append([sw.cell(ws, name, font=head_font, fill=head_fill, align=wrap) for name, _ in columns])
        out = sw.Rows(ws, 2, len(columns))
        wrapped = out.style(align=wrap)
        verdicts = {v: out.style(fill=f, align=wrap) for v, f in fills.items()}
        for row in rows:
            out.append([(v, verdicts.get(v, "") if j == verdict_col else wrapped if j == wrap_col else "")
                        for j, v in enumerate(row)])
        ws.auto_filter.ref = f"A1:{spec.col_letter(len(columns))}{out.row - 1}"
        bulk.append(out)

    def summary_rows() -> Iterator[list[Any]]:
        for r in reports:
            t = r.tables()
            yield [r.index, r.unit, r.year, r.where, _KIND_ZH.get(r.kind, r.kind), _FORMAT_ZH.get(r.format, r.format),
                   t["表二"], t["表三"], t["表四"], r.count(Severity.ERROR), r.count(Severity.WARNING),
                   r.count(Severity.INFO), r.verdict, _first_problem(r), r.report_file]

    def finding_rows() -> Iterator[list[Any]]:
        k = 0
        for r in reports:
            for f in r.findings:
                k += 1
                sev = Severity(f.get("severity", Severity.INFO.value))
                where = f"{f.get('sheet')}!{f.get('cell')}" if f.get("cell") else str(f.get("sheet") or "")
                yield [k, r.unit, r.year, f.get("code") or f.get("rule"), sev.zh, where, f.get("message"), r.where]

    sheet("审核汇总", SUMMARY_COLUMNS, summary_rows(), verdict_col=12, wrap_col=13)
    sheet("问题清单", FINDING_COLUMNS, finding_rows(), wrap_col=6)
    sw.save_workbook(wb, bulk, path)
    return path
