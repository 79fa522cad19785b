"""The county coordinator's two jobs, as pipelines of the pure steps in :mod:`xl_addin.collect` and the adapters:

- :func:`distribute`: roster -> one pre-filled template per agency + manifest.csv
- :func:`collect`: folder of returned workbooks -> tracker, findings, county roll-up (summary .xlsx + .html)

:mod:`xl_addin.api` exposes both; the CLI commands and the add-in's 汇总校验 button call those.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from . import bulk, collect, rules, similarity, spec
from .collect import CollectResult, FileResult, Number, Roster
from .fingerprint import fingerprint as template_fingerprint
from .model import CellValue
from .profiles import NATIONAL, Profile
from .report_doc import TITLE_SUFFIX, safe_name


def _roster(roster: str | os.PathLike[str] | Roster | None) -> Roster | None:
    if roster is None or isinstance(roster, Roster):
        return roster
    from .adapters.roster import read_roster

    return read_roster(roster)


def last_year_priors(folder: str | os.PathLike[str] | None, *, workers: int | None = None,
                     progress: bool = False, texts: bool = False, seconds: float = bulk.FILE_SECONDS,
                     memory_mb: int = bulk.FILE_MEMORY_MB) -> dict[str, dict[str, Number | str]]:
    """name key -> last year's 结转下年度 and 现行有效件数, from every workbook or published report in ``folder``;
    ``texts``: also the narrative sections 一/五/六 (for X3, under narrative.prior_text_key), taken as the files
    are read; ``seconds``, ``memory_mb``: what one file's read may take."""
    if folder is None:
        return {}
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"上年度文件夹不存在：{folder}")
    results = bulk.examine_all(bulk.list_files(folder), workers=workers, progress=progress, label="读取上年度年报",
                               seconds=seconds, memory_mb=memory_mb, texts=texts)
    return collect.priors_by_agency(results)


def workbook_name(year: int, agency: str, tail: str = "") -> str:
    """An agency's workbook file name (the distributed template; with ``tail`` a submitted version), named by the
    package's one sanitiser (at most 80 characters before the suffix: under 255 bytes in UTF-8)."""
    return safe_name(f"{year}年{TITLE_SUFFIX}-{agency.strip() or '机关'}{tail}", max_chars=80) + ".xlsx"



#: what a roster unit does in a round (:func:`unit_roles`): fills a template / its report is computed by the
#: roll-up (a 汇总 unit whose units are on the roster) / sends the upward package of its own round (a lower 汇总
#: unit: a county on a city's roster)
TEMPLATE, ROLLUP, PACKAGE = "template", "rollup", "package"


def unit_roles(roster: Roster) -> dict[str, str]:
    """name key -> :data:`TEMPLATE`, :data:`ROLLUP` or :data:`PACKAGE` for every unit of ``roster``. A 汇总 unit
    (报告范围=汇总) is computed by the roll-up when it is the roster's top (no 上级机关) or units of the roster are
    under it or in its 汇总范围 -- as ``collect`` writes a 汇总 workbook for it; a 汇总 unit with none of its units
    on the roster (a county on its city's roster) reports by its upward package. A roster without 报告范围 has
    only template units."""
    parents = {a.parent for a in roster.agencies if a.parent}
    out = {}
    for a in roster.agencies:
        if not a.summary:
            out[a.key] = TEMPLATE
        else:
            out[a.key] = ROLLUP if not a.parent or a.covers or a.unit_id in parents else PACKAGE
    return out


def distribute(roster: str | os.PathLike[str] | Roster, out_dir: str | os.PathLike[str], year: int, *,
               last_year_dir: str | os.PathLike[str] | None = None,
               properties: Mapping[str, Mapping[str, str]] | None = None,
               profile: Profile | None = None) -> list[Path]:
    """One pre-filled template per roster agency that fills one (:func:`unit_roles`: not a 汇总 unit, whose report
    is the roll-up or its own round's upward package) in ``out_dir`` (name, kind, level, year, contact, and last
    year's figures when ``last_year_dir`` holds last year's workbooks) and ``manifest.csv`` beside them.
    ``properties``: agency name key -> custom document properties of its template (the county server and the
    agency's key: :mod:`xl_addin.adapters.round_client`). ``profile``: the county's rule profile, the templates'
    live checks compiled under it (as ``template --profile`` builds one; None: the national template)."""
    from . import live
    from .adapters.fileio import atomic_write_bytes
    from .adapters.roster import MANIFEST_NAME, write_manifest
    from .adapters.template_builder import build_workbook
    from .adapters.xlsx_patch import Patcher

    r = _roster(roster)
    assert r is not None
    priors = last_year_priors(last_year_dir)
    buf = io.BytesIO()
    build_workbook(profile=profile).save(buf)  # built once; every copy is a patch of its sheet XML
    patcher = Patcher(buf.getvalue())
    fingerprint = template_fingerprint(live.settings_of(profile))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    manifest = []
    used: set[str] = set()
    roles = unit_roles(r)
    for a in r.agencies:
        if roles[a.key] != TEMPLATE:
            continue
        values: dict[str, CellValue] = {"meta.agency": a.name, "meta.year": year}
        if a.kind:
            values["meta.kind"] = a.kind
        if a.level:
            values["meta.level"] = a.level
        if a.contact:
            values["meta.contact"] = a.contact
        prior: Mapping[str, Number | str] = priors.get(a.key, {})
        values.update({spec.prior_key(k): v for k, v in prior.items()})
        data = patcher.patch(values)
        if properties and a.key in properties:
            from .adapters.round_client import with_properties

            data = with_properties(data, properties[a.key])
        name = workbook_name(year, a.name)
        stem, n = name[:-5], 2
        while name.lower() in used:
            name, n = f"{stem}-{n}.xlsx", n + 1
        used.add(name.lower())
        path = atomic_write_bytes(out / name, data)
        paths.append(path)
        manifest.append({"文件": name, "机关名称": a.name, "机关类别": a.kind, "层级": a.level, "联系人": a.contact,
                         "统一社会信用代码": a.credit_code, "报告年度": year, "模板指纹": fingerprint,
                         "SHA-256": hashlib.sha256(data).hexdigest()})
    write_manifest(out / MANIFEST_NAME, manifest)
    return paths


def collect_folder(folder: str | os.PathLike[str], roster: str | os.PathLike[str] | Roster | None,
                   out: str | os.PathLike[str], *, deadline: dt.date | str | None = None,
                   last_year_dir: str | os.PathLike[str] | None = None, workers: int | None = None,
                   progress: bool = False, year: int | None = None, now: dt.datetime | None = None,
                   file_seconds: float | None = None, file_memory_mb: int | None = None,
                   dataset: str | os.PathLike[str] | None = None, profile: Profile | None = None,
                   package: str | os.PathLike[str] | None = None) -> CollectResult:
    """Examine every workbook under ``folder``, match them to the roster, write the summary workbook at ``out``
    and the HTML tracker beside it (``<out stem>.html``). ``file_seconds``, ``file_memory_mb``: the time and
    memory one file's read may take (None: bulk.FILE_SECONDS, bulk.FILE_MEMORY_MB). ``dataset``: also write every
    report used as the tidy dataset there (.parquet or .csv; :mod:`xl_addin.dataset`); raises
    adapters.dataset_io.DatasetError (Chinese) when it cannot be written. ``profile``: the rule profile every file
    is checked under, and whose ``cross_unit.repeated_percent`` the cross-unit comparison uses (None: the national
    catalogue).

    Levels (issue 22): upward packages (.zip) under ``folder`` are verified and their 汇总 workbooks read as the
    reports of the units that sent them; for every 汇总 unit of the roster a 汇总 workbook is written into
    ``<out stem>-汇总/``; ``package``: the upward package of the roster's top 汇总 unit is written there."""
    from .adapters.roster import MANIFEST_NAME
    from .adapters.summary_writer import write_summary
    from .adapters.tracker_html import write_html

    started = time.perf_counter()
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"文件夹不存在：{folder}")
    r = _roster(roster)
    if isinstance(deadline, str):
        deadline = dt.date.fromisoformat(deadline)
    out = Path(out)
    html_out = out.with_suffix(".html")
    if dataset is not None:
        from .adapters.dataset_io import check_writable

        check_writable(dataset)  # before the run, not after it
    exclude = [out, html_out, Path(folder) / MANIFEST_NAME, *([Path(dataset)] if dataset is not None else [])]
    if package is not None:
        exclude.append(Path(package))
    if roster is not None and not isinstance(roster, Roster):
        exclude.append(Path(roster))
    seconds = bulk.FILE_SECONDS if file_seconds is None else file_seconds
    memory_mb = bulk.FILE_MEMORY_MB if file_memory_mb is None else file_memory_mb
    priors = last_year_priors(last_year_dir, workers=workers, progress=progress, texts=True, seconds=seconds,
                              memory_mb=memory_mb)
    if r is not None and r.summaries():  # a roster of levels says each unit's 报告范围: T1 takes it (本级 / 汇总)
        for a in r.agencies:
            priors.setdefault(a.key, {})[rules.SCOPE_PROPS_KEY] = a.scope
    files = bulk.list_files(folder, exclude)
    books_dir = level_books_dir(out)
    if books_dir.is_dir():  # our own 汇总 workbooks of an earlier run, when the output is inside the folder
        inside = str(books_dir.resolve()) + os.sep
        files = [f for f in files if not str(f.resolve()).startswith(inside)]
    percent = (profile or NATIONAL).threshold("cross_unit.repeated_percent", similarity.CROSS_UNIT_PERCENT)
    assert isinstance(percent, int | float)
    with tempfile.TemporaryDirectory(prefix="xl_addin-levels-") as tmp:
        upward = _open_packages(folder, exclude, Path(tmp))
        results = bulk.examine_all([*files, *upward.files], priors=priors, workers=workers, progress=progress,
                                   seconds=seconds, memory_mb=memory_mb, texts=True, profile=profile)
        results = upward.shown(results)
        levelled = r is not None and bool(r.summaries())
        if r is not None and levelled:
            flat, published = _split_levels(r, results)
            p = collect.plan(flat, [x for x in results if x.path not in published.paths], year=year,
                             deadline=deadline, now=now, profile=profile)
        else:
            p = collect.plan(r, results, year=year, deadline=deadline, now=now, profile=profile)
        result = CollectResult(p.rows, p.findings, collect.rollup(p), p.year, out, html_out, tuple(results),
                               similar=collect.copying(p, r, percent=percent))
        if r is not None and levelled:
            result = _levels(result, r, flat, p, published.by_unit, upward, out, package)
        write_summary(result, out)
        write_html(result, html_out)
    if dataset is not None:
        from .adapters.dataset_io import write_dataset

        rows = write_dataset(collect.dataset_entries(result, r), dataset)
        result = dataclasses.replace(result, dataset=Path(dataset), dataset_rows=rows)
    return dataclasses.replace(result, seconds=time.perf_counter() - started)


# ---- levels (issue 22) ------------------------------------------------------------------------------------------

@dataclasses.dataclass
class _Upward:
    """The packages found under the folder: each one's 汇总 workbook extracted (to a name of our own) for reading,
    and a package that was refused as a file that could not be read."""

    files: list[Path] = dataclasses.field(default_factory=list)
    #: extracted path -> (package path, member) as the tracker shows it
    origin: dict[str, tuple[Path, str]] = dataclasses.field(default_factory=dict)
    refused: list[FileResult] = dataclasses.field(default_factory=list)
    #: ``<package>:<member>`` -> the 汇总 workbook's bytes, as verified when the package was opened
    rollups: dict[str, bytes] = dataclasses.field(default_factory=dict)

    def shown(self, results: list[FileResult]) -> list[FileResult]:
        """The results with an extracted 汇总 workbook shown as ``<package>:<member>``, the refused packages added."""
        out = []
        for x in results:
            got = self.origin.get(x.path)
            out.append(dataclasses.replace(x, path=f"{got[0]}:{got[1]}") if got else x)
        return out + self.refused

    def source_bytes(self, shown: str) -> bytes:
        """The bytes of a file as the tracker shows it: a package's 汇总 workbook (the bytes verified and read) or a
        file."""
        got = self.rollups.get(shown)
        return got if got is not None else Path(shown).read_bytes()


def list_packages(folder: str | os.PathLike[str], exclude: list[Path]) -> list[Path]:
    """Every .zip under ``folder`` (not hidden, not our own output), sorted."""
    skip = {p.resolve() for p in exclude}
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out += [Path(dirpath) / f for f in filenames if f.lower().endswith(".zip") and not f.startswith((".", "~$"))
                and (Path(dirpath) / f).resolve() not in skip]
    return sorted(out)


def _open_packages(folder: str | os.PathLike[str], exclude: list[Path], tmp: Path) -> _Upward:
    from .adapters.package_zip import open_package
    from .package import PackageError

    up = _Upward()
    for i, pkg in enumerate(list_packages(folder, exclude)):
        try:
            opened = open_package(pkg)
        except PackageError as exc:
            st = pkg.stat()
            up.refused.append(FileResult(str(pkg), mtime=st.st_mtime, size=st.st_size, error=str(exc)))
            continue
        extracted = tmp / f"package-{i:05d}.xlsx"
        extracted.write_bytes(opened.rollup)
        mtime = pkg.stat().st_mtime
        os.utime(extracted, (mtime, mtime))
        up.files.append(extracted)
        up.origin[str(extracted)] = (pkg, opened.manifest.rollup)
        up.rollups[f"{pkg}:{opened.manifest.rollup}"] = opened.rollup
    return up


@dataclasses.dataclass(frozen=True)
class _Published:
    paths: frozenset[str]
    by_unit: dict[str, FileResult]


def _split_levels(r: Roster, results: list[FileResult]) -> tuple[Roster, _Published]:
    """The roster of the units that send files (the 汇总 units this run computes left out) and the files that are
    a computed 汇总 unit's own published report (compared with the sum, not counted)."""
    from .collect import RosterError

    computed = {a.unit_id: a for a in r.summaries()}
    flat = Roster(tuple(a for a in r.agencies if a.unit_id not in computed), r.source, r.notes)
    keys = collections.Counter(a.key for a in flat.agencies)
    twice = [a for a in flat.agencies if keys[a.key] > 1]
    if twice:
        raise RosterError(f"{r.source}：名单中有同名机关（第{twice[0].row}行“{twice[0].name}”等），按机关名称无法区分各自的文件。"
                          "请由各汇总单位分别汇总后报送上报包（collect --package），或在名单中使用不同的名称。")
    by_name = {a.key: a.unit_id for a in computed.values()}
    by_unit: dict[str, FileResult] = {}
    for x in sorted(results, key=lambda x: (x.mtime, x.path)):
        uid = by_name.get(collect.name_key(x.agency)) if x.readable else None
        if uid is not None:
            by_unit[uid] = x
    return flat, _Published(frozenset(x.path for x in results if x.readable
                                      and collect.name_key(x.agency) in by_name), by_unit)


def _levels(result: CollectResult, r: Roster, flat: Roster, p: collect.Plan, published: dict[str, FileResult],
            upward: _Upward, out: Path, package: str | os.PathLike[str] | None) -> CollectResult:
    """The levelled roll-up of ``result``: the 汇总 workbooks written, and the upward package when asked for."""
    from . import rollup
    from .adapters.rollup_book import write_rollup_book

    rows = {row.agency: row for row in p.rows if row.seq}
    reports = {a.unit_id: rollup.report_of(rows.get(a.name), p.used.get(a.name)) for a in flat.agencies}
    levels = rollup.roll_up(r, reports, year=p.year, published=published)
    books_dir = level_books_dir(out)
    books_dir.mkdir(parents=True, exist_ok=True)
    books = tuple(write_rollup_book(lv, books_dir / rollup_book_name(p.year, lv.unit.name)) for lv in levels)
    made = None
    if package is not None:
        made = write_upward(package, levels, books, lambda c: upward.source_bytes(c.source))
    return dataclasses.replace(result, levels=levels, level_books=books, package=made)


def level_books_dir(out: Path) -> Path:
    """Where a collect writing its summary at ``out`` puts the 汇总 workbooks: ``<out stem>-汇总/`` beside it."""
    return out.with_name(f"{out.stem}-汇总")


def rollup_book_name(year: int | None, unit: str) -> str:
    return safe_name(f"{year or ''}年度{unit}汇总{TITLE_SUFFIX}", max_chars=80) + ".xlsx"


def write_upward(out: str | os.PathLike[str], levels: tuple[Any, ...], books: tuple[Path, ...],
                 unit_bytes: Callable[[Any], bytes]) -> Path:
    """The upward package of the top 汇总 unit (the one no other covers) at ``out``: its 汇总 workbook, every
    included unit's workbook (``unit_bytes(covered)``; a 汇总 unit computed below it: its 汇总 workbook), the
    coverage, the manifest. ``levels``: :class:`xl_addin.rollup.UnitRollup`, lowest first; ``books``: their
    workbooks."""
    from . import package as pk
    from .adapters.package_zip import write_package
    from .adapters.rollup_book import coverage_csv
    from .collect import RosterError

    covered = {c.unit_id for lv in levels for c in lv.coverage}
    tops = [i for i, lv in enumerate(levels) if lv.unit.unit_id not in covered]
    if len(tops) != 1:
        names = "、".join(levels[i].unit.name for i in tops)
        raise RosterError(f"名单中有 {len(tops)} 个最上级的汇总单位（{names}），上报包只能包含一个，请分别汇总。")
    top, top_book = levels[tops[0]], books[tops[0]]
    below = {lv.unit.unit_id: b for lv, b in zip(levels, books, strict=True)}
    listed: list[pk.Member] = []
    rollup_name = f"{pk.ROLLUP_DIR}/{top_book.name}"

    def member(name: str, data: bytes, role: str, unit_id: str = "", unit: str = "") -> tuple[str, bytes]:
        listed.append(pk.Member(name, hashlib.sha256(data).hexdigest(), len(data), role, unit_id, unit))
        return name, data

    def members() -> Iterator[tuple[str, bytes]]:  # one workbook in memory at a time
        yield member(rollup_name, top_book.read_bytes(), pk.ROLE_ROLLUP, top.unit.unit_id, top.unit.name)
        seq = 0
        for lv in levels:
            for c in lv.coverage:
                if not c.included:
                    continue
                seq += 1
                data = below[c.unit_id].read_bytes() if c.unit_id in below else unit_bytes(c)
                yield member(pk.unit_member(seq, safe_name(c.name, "单位", max_chars=60)), data, pk.ROLE_UNIT,
                             c.unit_id, c.name)
        yield member(pk.COVERAGE, coverage_csv(top), pk.ROLE_COVERAGE)

    u = top.unit

    def manifest() -> pk.Manifest:
        return pk.Manifest(top.year, {"unit_id": u.unit_id, "name": u.name, "kind": u.kind, "level": u.level,
                                      "scope": u.scope, "parent": u.parent, "credit_code": u.credit_code},
                           rollup_name, pk.COVERAGE, tuple(listed), top.counts)

    return write_package(out, members(), manifest)
