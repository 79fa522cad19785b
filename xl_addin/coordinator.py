"""The county coordinator's two jobs, as pipelines of the pure steps in :mod:`xl_addin.collect` and the adapters:

- :func:`distribute`: roster -> one pre-filled template per agency + manifest.csv
- :func:`collect`: folder of returned workbooks -> tracker, findings, county roll-up (summary .xlsx + .html)

:mod:`xl_addin.api` exposes both; the CLI commands and the add-in's 汇总校验 button call those.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import time
from collections.abc import Mapping
from pathlib import Path

from . import bulk, collect, similarity, spec
from .collect import CollectResult, Number, Roster
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



def distribute(roster: str | os.PathLike[str] | Roster, out_dir: str | os.PathLike[str], year: int, *,
               last_year_dir: str | os.PathLike[str] | None = None,
               properties: Mapping[str, Mapping[str, str]] | None = None) -> list[Path]:
    """One pre-filled template per roster agency in ``out_dir`` (name, kind, level, year, contact, and last year's
    figures when ``last_year_dir`` holds last year's workbooks) and ``manifest.csv`` beside them. ``properties``:
    agency name key -> custom document properties of its template (the county server and the agency's key:
    :mod:`xl_addin.adapters.round_client`)."""
    from .adapters.fileio import atomic_write_bytes
    from .adapters.roster import MANIFEST_NAME, write_manifest
    from .adapters.template_builder import build_workbook
    from .adapters.xlsx_patch import Patcher

    r = _roster(roster)
    assert r is not None
    priors = last_year_priors(last_year_dir)
    buf = io.BytesIO()
    build_workbook().save(buf)  # built once; every copy is a patch of its sheet XML
    patcher = Patcher(buf.getvalue())
    fingerprint = template_fingerprint()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    manifest = []
    used: set[str] = set()
    for a in r.agencies:
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
                   dataset: str | os.PathLike[str] | None = None,
                   profile: Profile | None = None) -> CollectResult:
    """Examine every workbook under ``folder``, match them to the roster, write the summary workbook at ``out``
    and the HTML tracker beside it (``<out stem>.html``). ``file_seconds``, ``file_memory_mb``: the time and
    memory one file's read may take (None: bulk.FILE_SECONDS, bulk.FILE_MEMORY_MB). ``dataset``: also write every
    report used as the tidy dataset there (.parquet or .csv; :mod:`xl_addin.dataset`); raises
    adapters.dataset_io.DatasetError (Chinese) when it cannot be written. ``profile``: the rule profile every file
    is checked under, and whose ``cross_unit.repeated_percent`` the cross-unit comparison uses (None: the national
    catalogue)."""
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
    if roster is not None and not isinstance(roster, Roster):
        exclude.append(Path(roster))
    seconds = bulk.FILE_SECONDS if file_seconds is None else file_seconds
    memory_mb = bulk.FILE_MEMORY_MB if file_memory_mb is None else file_memory_mb
    priors = last_year_priors(last_year_dir, workers=workers, progress=progress, texts=True, seconds=seconds,
                              memory_mb=memory_mb)
    files = bulk.list_files(folder, exclude)
    results = bulk.examine_all(files, priors=priors, workers=workers, progress=progress, seconds=seconds,
                               memory_mb=memory_mb, texts=True, profile=profile)
    p = collect.plan(r, results, year=year, deadline=deadline, now=now, profile=profile)
    percent = (profile or NATIONAL).threshold("cross_unit.repeated_percent", similarity.CROSS_UNIT_PERCENT)
    assert isinstance(percent, int | float)
    result = CollectResult(p.rows, p.findings, collect.rollup(p), p.year, out, html_out, tuple(results),
                           similar=collect.copying(p, r, percent=percent))
    write_summary(result, out)
    write_html(result, html_out)
    import dataclasses

    if dataset is not None:
        from .adapters.dataset_io import write_dataset

        rows = write_dataset(collect.dataset_entries(result, r), dataset)
        result = dataclasses.replace(result, dataset=Path(dataset), dataset_rows=rows)
    return dataclasses.replace(result, seconds=time.perf_counter() - started)
