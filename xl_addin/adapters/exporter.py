"""Writes the finished report: one document model (:mod:`xl_addin.report_doc`), rendered to Word, HTML and
plain text, each file written atomically next to the others. The source workbook is only ever read.

No unchecked report is published: a workbook with error-level findings is refused (:class:`ExportRefused`)
unless the caller forces the export, and then every page of every file says
:data:`~xl_addin.report_doc.UNCHECKED_MARK`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from .. import narrative, report_doc, spec
from ..model import Finding, Report, ReportData, Severity, Tally
from . import html_writer
from .fileio import atomic_write_bytes

#: the export formats, in the order files are written: format (the file suffix) -> what a user is told it is.
#: The command line's choices and help, the messages below and api.export's default are made from it.
FORMATS: Mapping[str, str] = MappingProxyType({"docx": "Word（GB/T 9704 公文格式）", "html": "网页（网站发布用）",
                                               "txt": "纯文本"})
#: the word that asks for every format
ALL = "all"


#: the media type of each format (a download's Content-Type)
MEDIA_TYPES: Mapping[str, str] = MappingProxyType({
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8", "txt": "text/plain; charset=utf-8"})


def formats_zh() -> str:
    """The formats as a user chooses them: "docx：Word（GB/T 9704 公文格式）；……；all：全部"."""
    return "；".join([*(f"{f}：{what}" for f, what in FORMATS.items()), f"{ALL}：全部"])


class ExportError(ValueError):
    """The export cannot be done as asked; the message is Chinese."""


class ExportRefused(ExportError):
    """The workbook has error-level findings (``report``) and the export was not forced: nothing was written."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.errors = report.counts["error"]
        super().__init__(self.explain("可强制导出"))

    def explain(self, how: str) -> str:
        """Why nothing was exported, and ``how`` the caller forces a draft ("加 --force")."""
        return (f"校验发现 {self.errors} 处错误，未导出报告：{spec.UNPUBLISHABLE}。请改正后重新导出；"
                f"确需导出核对稿时{how}，每页将标注“{spec.UNCHECKED_MARK}”。")


class ExportIncomplete(ExportError):
    """基本信息 lacks the agency or the year: the report's title would not say whose report for which year."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        where = "、".join(f"“{spec.FIELDS_BY_KEY[k].label}”（{spec.LAYOUT.locations[k].sheet}!"
                         f"{spec.LAYOUT.locations[k].a1}）" for k in missing)
        super().__init__(f"未导出报告：“{spec.META_SHEET}”工作表未填写{where}，报告标题须为“<机关名称><年>年"
                         f"{report_doc.TITLE_SUFFIX}”。请填写后重新导出。")


def incomplete(data: ReportData) -> list[str]:
    """The keys of 机关名称 and 报告年度 when not filled in (a year outside the template's range included)."""
    out = []
    if not report_doc.clean(data.agency).strip():
        out.append("meta.agency")
    if data.year is None or not spec.YEAR_MIN <= data.year <= spec.YEAR_MAX:
        out.append("meta.year")
    return out


@dataclass(frozen=True)
class Exported:
    """What an export wrote, and what the clerk is told with it: ``notes``, one Chinese line each -- the numbered
    headings left out of the 正文 (narrative.strip_numbering), then every warning the check still reports."""

    files: list[Path]
    notes: list[str]


def export_notes(doc: report_doc.Document, report: Report, data: ReportData, *, use_drafts: bool) -> list[str]:
    """The lines an export's message lists under the files (:class:`Exported`): the numbering removed, then the
    warnings of ``report`` that remain (a T9 whose cell, as exported, has no pasted numbering left is not one)."""
    lines = [f"已去掉“{label}”开头重复的序号和标题“{piece}”（导出时统一加注序号）。" for label, piece in doc.stripped]

    def fixed(f: Finding) -> bool:
        if f.rule != "T9" or not f.key:
            return False
        text, _ = report_doc.stripped_text(data, f.key, use_drafts=use_drafts)
        return not narrative.numbered_paragraphs(text)

    remaining = [f for f in report.findings if f.severity is Severity.WARNING and not fixed(f)]
    if remaining:
        t = Tally.of(remaining)  # counted as everywhere: a row of blank cells by its cells
        lines.append(f"校验仍有 {t.warnings} 处{Severity.WARNING.zh}{t.blanks_zh()}，导出前请核对：")
        lines += [f"  {i}. {f.message}" + (f"（{f.sheet}!{f.cell}）" if f.cell else "")
                  for i, f in enumerate(remaining, 1)]
    return lines


def formats_of(formats: Iterable[str] | str) -> tuple[str, ...]:
    """The formats asked for, in canonical order ("all" means every one); raises ExportError for others."""
    asked = [formats] if isinstance(formats, str) else list(formats)
    wanted: set[str] = set()
    for f in asked:
        f = f.lower().lstrip(".")
        if f == ALL:
            wanted.update(FORMATS)
        elif f in FORMATS:
            wanted.add(f)
        else:
            raise ExportError(f"不支持的导出格式“{f}”，可选：{'、'.join([*FORMATS, ALL])}。")
    if not wanted:
        raise ExportError(f"请至少指定一种导出格式：{'、'.join(FORMATS)} 或 {ALL}。")
    return tuple(f for f in FORMATS if f in wanted)


def _docx(doc: report_doc.Document) -> bytes:
    try:
        from .docx_writer import to_bytes
    except ImportError:
        raise ExportError('导出 Word 需要 python-docx，请安装：pip install "xl_addin[word]"。') from None
    return to_bytes(doc)


def _html(doc: report_doc.Document) -> bytes:
    return html_writer.render(doc).encode("utf-8")


def _txt(doc: report_doc.Document) -> bytes:
    # plain text for Windows' Notepad as well: UTF-8 with a byte-order mark, CRLF line ends
    return ("\ufeff" + report_doc.to_text(doc).replace("\n", "\r\n")).encode("utf-8")


#: the writer of each format of FORMATS
_RENDER: Mapping[str, Callable[[report_doc.Document], bytes]] = {"docx": _docx, "html": _html, "txt": _txt}


def render(doc: report_doc.Document, fmt: str) -> bytes:
    return _RENDER[fmt](doc)


def export(data: ReportData, out_dir: str | os.PathLike[str], formats: Iterable[str] | str = ALL, *,
           report: Report, use_drafts: bool | None = None, force: bool = False) -> Exported:
    """``report``: the check of ``data`` (xl_addin.api.check_data). ``use_drafts`` None: as the workbook says
    (report_doc.wants_drafts). A report with no agency or year raises :class:`ExportIncomplete`, forced or not;
    one with error-level findings raises :class:`ExportRefused` unless ``force``; forced, it is exported marked
    as an unchecked draft. Nothing is written when it raises."""
    fmts = formats_of(formats)
    missing = incomplete(data)
    if missing:
        raise ExportIncomplete(missing)
    if not report.valid and not force:
        raise ExportRefused(report)
    if use_drafts is None:
        use_drafts = report_doc.wants_drafts(data)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"输出位置“{out}”是一个文件，请指定一个文件夹。")
    source = Path(data.source).resolve() if data.source else None
    doc = report_doc.build(data, use_drafts=use_drafts, fallback_stem=source.stem if source else "",
                           errors=report.counts["error"])
    targets = {fmt: out / f"{doc.file_stem}.{fmt}" for fmt in fmts}
    for target in targets.values():
        if source is not None and target.resolve() == source:
            raise ExportError(f"导出文件“{target}”与源工作簿相同，已停止，未写出任何内容。")
    payloads = {fmt: render(doc, fmt) for fmt in fmts}  # render everything before writing anything
    return Exported([atomic_write_bytes(targets[fmt], payload) for fmt, payload in payloads.items()],
                    export_notes(doc, report, data, use_drafts=use_drafts))
