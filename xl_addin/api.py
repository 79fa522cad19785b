"""The library's front door: one function per thing a user does. The command line, the add-in and the
collector call these; each takes paths and plain values and returns plain objects."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import checking, dataio, derive
from .adapters.fileio import ReadError
from .model import CellValue, Inquiry, Report, ReportData
from .profiles import Profile

if TYPE_CHECKING:
    import datetime as dt

    from .adapters.exporter import Exported
    from .adapters.xlsx_writer import Change
    from .collect import CollectResult, Roster
    from .importers.parse import Imported
    from .notice import Notice
    from .published import PublicationCheck
    from .versions import VersionDiff

Reader = str  # "fast" (calamine + XML scan) or "openpyxl"


def read(path: str | os.PathLike[str], *, reader: Reader = "fast") -> ReportData:
    """A workbook, read by ``reader``. Raises ReadError."""
    return checking.read_workbook(path, reader=reader)


def load_values(path: str | os.PathLike[str]) -> dict[str, CellValue]:
    """Input values from a JSON data file (see :mod:`xl_addin.dataio`). Raises OSError, ValueError."""
    return dataio.values_from_json(Path(path).read_text(encoding="utf-8"))


def sample_values() -> dict[str, CellValue]:
    """The bundled sample: 将乐县工业和信息化局 2023 年度, as published."""
    from importlib import resources

    return dataio.values_from_json(resources.files("xl_addin.samples").joinpath(dataio.SAMPLE).read_text(encoding="utf-8"))


def last_year_figures(path: str | os.PathLike[str]) -> dict[str, CellValue]:
    """Last year's 结转下年度 and 现行有效件数 from last year's workbook or published report, by this year's key."""
    return dict(derive.carry_forward(read_any(path)))


def is_report(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a published report (a suffix of :data:`xl_addin.spec.REPORT_SUFFIXES`), not a
    workbook."""
    from .adapters.report_reader import is_report as by_suffix

    return by_suffix(path)


def import_report(path: str | os.PathLike[str]) -> Imported:
    """Read a published report (web page, PDF, Word, text) into values by key, with where each came from and
    what was uncertain. Raises ReadError (Chinese reason) when the file cannot be read."""
    from .adapters.report_reader import import_report as run

    return run(path)


def read_any(path: str | os.PathLike[str], *, reader: Reader = "fast") -> ReportData:
    """A workbook (:func:`read`) or a published report (:func:`import_report`), by the file's suffix."""
    return checking.read_file(path, reader=reader)


def last_year_prior(path: str | os.PathLike[str]) -> dict[str, CellValue]:
    """What this year's cross-year rules need from last year's workbook or published report: the figures of
    :func:`last_year_figures` and the text of narrative sections 一/五/六 (X3)."""
    from .narrative import prior_texts

    data = read_any(path)
    return {**derive.carry_forward(data), **prior_texts(data)}


def write_imported(imported: Imported, out: str | os.PathLike[str]) -> Path:
    """The template filled with an imported report, plus its 导入记录 sheet."""
    from .adapters.import_writer import write_imported as run

    return run(imported, out)


def check_data(data: ReportData, *, prior: Mapping[str, CellValue] | None = None,
               profile: Profile | None = None) -> Report:
    """Every finding on ``data``, with last year's figures ``prior`` (:func:`last_year_prior`) if given, under the
    rule ``profile`` (None: the national catalogue; :func:`load_profile`)."""
    report = checking.check_data(data, prior=prior, profile=profile).result.report
    assert report is not None  # data read always has its report
    return report


def check(path: str | os.PathLike[str], *, last_year: str | os.PathLike[str] | None = None,
          reader: Reader = "fast", profile: Profile | None = None) -> Report:
    """Every finding on one workbook. Raises ReadError when the file cannot be read."""
    prior = last_year_prior(last_year) if last_year is not None else None
    return check_data(read_any(path, reader=reader), prior=prior, profile=profile)


def load_profile(ref: str | os.PathLike[str] | None) -> Profile:
    """The rule profile a file or a shipped profile's name gives (None: the national catalogue). Raises
    ProfileError (its message Chinese, naming the file and the key)."""
    from .adapters.profile_file import load

    return load(ref)


def check_many(paths: Sequence[str | os.PathLike[str]], *, last_year: str | os.PathLike[str] | None = None,
               reader: Reader = "fast", file_seconds: float | None = None, file_memory_mb: int | None = None,
               isolate: bool | None = None, profile: Profile | None = None) -> Inquiry:
    """Check every file (a batch: each file's Report, or the catalogue error that kept it from being read; never
    stops at a bad file). Several files, and every published report, are each read alone in a process of its own,
    stopped after ``file_seconds`` and limited to ``file_memory_mb`` (None: checking.FILE_SECONDS,
    checking.FILE_MEMORY_MB, as collect's); a file past them gets its file error (timeout, out-of-memory, crashed).
    ``isolate``: True/False forces it either way. Raises ReadError only when ``last_year`` cannot be read."""
    prior = last_year_prior(last_year) if last_year is not None else None
    return checking.check_files(paths, prior=prior, reader=reader, seconds=file_seconds, memory_mb=file_memory_mb,
                                isolate=isolate, profile=profile)


def build_template(out: str | os.PathLike[str], values: Mapping[str, CellValue] | None = None, *,
                   last_year: str | os.PathLike[str] | None = None, profile: Profile | None = None) -> Path:
    """The locked template, its live checks under rule ``profile`` (None: the national template)."""
    from .adapters.template_builder import write_template

    prior = last_year_figures(last_year) if last_year is not None else None
    write_template(out, values, prior, profile)
    return Path(out)


def fill(path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
         backup: bool = False) -> list[Change]:
    """Restore every derived total as its live formula; returns what changed (inputs are never touched)."""
    from .adapters.xlsx_writer import fill_totals

    return fill_totals(path, out, backup=backup)


def put(path: str | os.PathLike[str], values: Mapping[str, CellValue], out: str | os.PathLike[str]) -> Path:
    """Write input values (by key) into a copy of a template workbook, as a clerk would type them."""
    from .adapters.xlsx_writer import put_values

    put_values(path, values, out)
    return Path(out)


def read_roster(path: str | os.PathLike[str]) -> Roster:
    """The agencies of a roster (.xlsx or .csv), with notes on what was read other than as written (县 as 县级).
    Raises collect.RosterError naming the file and row."""
    from .adapters.roster import read_roster as run

    return run(path)


def distribute(roster: str | os.PathLike[str] | Roster, out_dir: str | os.PathLike[str], year: int, *,
               last_year_dir: str | os.PathLike[str] | None = None,
               properties: Mapping[str, Mapping[str, str]] | None = None,
               profile: Profile | None = None) -> list[Path]:
    """One pre-filled template per roster agency (and manifest.csv) in ``out_dir``; returns the templates.
    ``properties``: agency name key (collect.name_key) -> custom document properties of its template (the county
    server's address and the agency's key); ``profile``: the rule profile the templates' live checks are built
    under (None: national). Raises collect.RosterError for a roster that cannot be used."""
    from .coordinator import distribute as run

    return run(roster, out_dir, year, last_year_dir=last_year_dir, properties=properties, profile=profile)


def collect(folder: str | os.PathLike[str], roster: str | os.PathLike[str] | None, out: str | os.PathLike[str], *,
            deadline: dt.date | str | None = None, last_year_dir: str | os.PathLike[str] | None = None,
            workers: int | None = None, progress: bool = False, year: int | None = None,
            file_seconds: float | None = None, file_memory_mb: int | None = None,
            dataset: str | os.PathLike[str] | None = None, profile: Profile | None = None,
            package: str | os.PathLike[str] | None = None) -> CollectResult:
    """Check every workbook under ``folder`` against the roster (None: every agency found); writes the summary
    workbook at ``out`` and the HTML tracker as ``<out stem>.html``. Raises collect.RosterError for a bad
    roster, FileNotFoundError for a missing folder. ``file_seconds``, ``file_memory_mb``: what reading one file
    may take (None: bulk.FILE_SECONDS, bulk.FILE_MEMORY_MB); a file past them is reported, not waited for.
    ``dataset``: also write the reports used as the tidy dataset there (.parquet or .csv; xl_addin.dataset),
    adapters.dataset_io.DatasetError (Chinese) when it cannot be.
    ``profile``: the rule profile (None: the national catalogue); the result's ``similar`` lists the units whose
    narrative sections are near copies of each other's.
    Upward packages (.zip) under ``folder`` are read as the reports of the units that sent them; with a roster
    that has 汇总 units, their 汇总 workbooks go into ``<out stem>-汇总/``; ``package``: the upward package
    (.zip) of the top 汇总 unit."""
    from .coordinator import collect_folder

    return collect_folder(folder, roster, out, deadline=deadline, last_year_dir=last_year_dir, workers=workers,
                          progress=progress, year=year, file_seconds=file_seconds, file_memory_mb=file_memory_mb,
                          dataset=dataset, profile=profile, package=package)


def export(path_or_data: str | os.PathLike[str] | ReportData, out_dir: str | os.PathLike[str],
           formats: Sequence[str] | str = "all", *, use_drafts: bool | None = None,
           force: bool = False, report: Report | None = None) -> list[Path]:
    """The finished report as ``<机关名称><年>年政府信息公开工作年度报告.<format>`` in ``out_dir``, one file per
    format of ``formats`` (adapters.exporter.FORMATS: Word in GB/T 9704 layout, one self-contained HTML page,
    plain text; "all": every one); returns the files written. ``use_drafts``: 一（依申请公开） and 四 use the
    sentences drafted from the tables (xl_addin.drafts); None: as the workbook's 基本信息 says (导出时使用自动生成的句子 = 是).
    No unchecked report is published: a workbook with error-level findings raises
    adapters.exporter.ExportRefused (``.report`` holds the findings; nothing is written) unless ``force``;
    forced, every page of every file says 未通过校验（草稿）. ``report``: the check of the data when the caller has
    made it (:func:`check_data`; else it is checked here).
    Raises ReadError for an unreadable workbook, adapters.exporter.ExportError (Chinese message) for a bad
    request. The workbook is only read."""
    return export_noted(path_or_data, out_dir, formats, use_drafts=use_drafts, force=force, report=report).files


def export_noted(path_or_data: str | os.PathLike[str] | ReportData, out_dir: str | os.PathLike[str],
                 formats: Sequence[str] | str = "all", *, use_drafts: bool | None = None,
                 force: bool = False, report: Report | None = None) -> Exported:
    """:func:`export`, with what the clerk is told: adapters.exporter.Exported (``.files``; ``.notes``: the pasted
    numbering left out of the 正文 and the warnings that remain, one Chinese line each). A workbook with no
    机关名称 or 报告年度 raises adapters.exporter.ExportIncomplete (an ExportError), forced or not."""
    from .adapters.exporter import export

    data = path_or_data if isinstance(path_or_data, ReportData) else read(path_or_data)
    return export(data, out_dir, formats, report=check_data(data) if report is None else report,
                  use_drafts=use_drafts, force=force)


def write_notice(notice: Notice, out: str | os.PathLike[str], *, county: str, year: int | None = None,
                 office: str = "", date: dt.date | None = None) -> Path:
    """The 通报 draft of a round (:mod:`xl_addin.notice`) written atomically at ``out``: Word (GB/T 9704) for
    ``.docx``, a web page for ``.html``, plain text for ``.txt``. ``county``: "将乐县"; ``year``: the report year
    (None: the notice's); ``office``: who sends it (default: the county's 人民政府办公室); ``date``: the notice's
    date (None: left blank to fill in). Raises adapters.exporter.ExportError (Chinese) for another suffix."""
    from . import notice as nt
    from .adapters.exporter import FORMATS, ExportError, render
    from .adapters.fileio import atomic_write_bytes

    fmt = Path(out).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ExportError(f"通报文件“{out}”的扩展名应为 {'、'.join('.' + f for f in FORMATS)} 之一。")
    doc = nt.build(notice, county=county, year=year, office=office, date=date)
    return atomic_write_bytes(out, render(doc, fmt))


def notice_from_collect(result: CollectResult, out: str | os.PathLike[str], *, county: str,
                        year: int | None = None, office: str = "", date: dt.date | None = None) -> Path:
    """The 通报 draft of a file-based round (the result of :func:`collect`), as :func:`write_notice` writes it."""
    from . import notice as nt

    return write_notice(nt.from_collect(result), out, county=county, year=year, office=office, date=date)


def check_published(accepted: str | os.PathLike[str] | ReportData, published: str | os.PathLike[str], *,
                    allow_private: bool = False, published_on: dt.date | None = None) -> PublicationCheck:
    """The published report ``published`` (a file: web page, PDF, Word, text; or an http(s) address, fetched with
    the limits of :mod:`xl_addin.adapters.fetch`) against the ``accepted`` version (its workbook or data): every
    table cell, the narrative sections, the publication date against the deadline. ``allow_private``: also fetch
    from loopback and private addresses (an intranet portal). Raises ReadError or adapters.fetch.FetchError
    (Chinese reason)."""
    from .adapters.fetch import load_published
    from .published import compare

    data = accepted if isinstance(accepted, ReportData) else read(accepted)
    return compare(data, load_published(published, allow_private=allow_private).data, published_on=published_on)


def diff_versions(old: str | os.PathLike[str] | ReportData, new: str | os.PathLike[str] | ReportData) -> VersionDiff:
    """What changed from one version of an agency's workbook to another: cells (with official labels) and the
    narrative text. Raises ReadError."""
    from .versions import diff

    return diff(old if isinstance(old, ReportData) else read(old), new if isinstance(new, ReportData) else read(new))


__all__ = [
    "ReadError",
    "build_template",
    "check",
    "check_data",
    "check_many",
    "check_published",
    "collect",
    "diff_versions",
    "distribute",
    "export",
    "fill",
    "import_report",
    "is_report",
    "last_year_figures",
    "last_year_prior",
    "load_values",
    "notice_from_collect",
    "put",
    "read",
    "read_any",
    "read_roster",
    "sample_values",
    "write_imported",
    "write_notice",
]
