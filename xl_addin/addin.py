"""The Excel add-in's buttons (ribbon tab 政务公开年报), one function each, named by ``xl_addin/macros/XaRibbon.bas``
and started by ``XaRun.XaRunPython`` (the local add-in) or the county server (:mod:`xl_addin.server`)::

    validate(book=None)       校验       findings to 校验结果 (with hyperlinks), offending cells coloured, verdict
    fill_totals(book=None)    计算合计   every derived total written back as its formula; inputs never touched
    export_report(book=None)  导出报告   Word + HTML next to the workbook
    clear_marks(book=None)    清除标记   template colours back, 校验结果 emptied
    about(book=None)          关于       toolkit and template versions, where to get help
    collect_folder(book=None) 汇总校验   asks for a folder and a roster, checks every report, opens the summary

``book=None`` means the workbook clicked (:func:`_caller`). Only the xlwings calls that both desktop Excel and xlwings'
remote engine (driven by the VBA client ``Remote.bas``; see :mod:`xl_addin.server`) support are used: range values
read, names and sheets listed, a sheet activated, alert, and small VBA helpers run through ``app.macro``
(``xl_addin/macros/XaHelpers.bas``: re-apply sheet protection with ``UserInterfaceOnly``, colour many cells, write
scattered cells, write the 校验结果 block) -- every write to a locked sheet goes through them. The ribbon passes the
add-in's own file name (``addin=``, hex), and the helpers are run qualified with it. Each click reads at most 3
times and writes at most 5 times, whatever the number of findings. All the deciding is in
:mod:`xl_addin.adapters.livebook`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import api, hidden, spec
from .adapters import livebook as lb
from .profiles import Profile

if TYPE_CHECKING:
    import xlwings as xw

F = TypeVar("F", bound=Callable[..., Any])


class Stop(Exception):
    """The click ends here; the user has been told why."""


def _caller() -> xw.Book:
    """The workbook whose button was clicked. The local add-in (xl_addin/macros/XaRun.bas) names it on Python's
    command line as hex digits (``--xa-book=``) with Excel's window number, never as text cmd.exe would read;
    without those (a mock caller in tests) xlwings' own ``Book.caller()``."""
    import importlib
    import sys

    import xlwings as xw

    found = lb.caller_args(sys.argv)
    if found is None:
        return xw.Book.caller()
    name, hwnd = found
    xlwindows: Any = importlib.import_module("xlwings._xlwindows")  # Windows only, as in Book.caller()
    return xw.App(impl=xlwindows.App(xl=hwnd)).books[name]


class Session:
    """One click on one workbook: the few bulk reads and writes, counted (see bench/addin.py)."""

    def __init__(self, book: xw.Book | None, addin: str | None = None) -> None:
        if book is None:
            book = _caller()
        self.book = book
        #: the add-in's file name: helper macros are run as 'file'!Module.Macro (see livebook.qualified)
        self.addin = addin
        self.remote = book.app.engine.name == "remote" if hasattr(book.app, "engine") else False
        self.reads = 0
        self.writes = 0
        self._outline: lb.Outline | None = None

    # ---- reads ----------------------------------------------------------------------------------------------
    def outline(self) -> lb.Outline:
        """Read 1: the sheets and the defined names."""
        if self._outline is None:
            self.reads += 1
            sheets = [s.name for s in self.book.sheets]
            if self.remote:  # the VBA client's own list (xlwings builds a Range per name for refers_to: 25% of a click)
                names = [(n["name"], "='" + sheets[n["sheet_index"]].replace("'", "''") + "'!" + n["address"])
                         for n in self.book.api.get("names") or [] if n.get("address")]
            else:
                names = [(n.name, n.refers_to) for n in self.book.names]
            self._outline = lb.outline(sheets, names)
        return self._outline

    def grids(self, boxes: dict[str, tuple[int, int]]) -> dict[str, list[list[Any]]]:
        """Read 2: one rectangle from A1 per sheet, together."""
        self.reads += 1
        out = {}
        for sheet, (rows, cols) in boxes.items():
            rng = self.book.sheets[sheet].range((1, 1), (rows, cols))
            out[sheet] = rng.options(ndim=2, empty=None).value
        return out

    def used_rows(self, sheet: str) -> int:
        """Read 3: how far down a sheet is used (to blank out an older, longer result list)."""
        self.reads += 1
        return int(self.book.sheets[sheet].used_range.last_cell.row)

    # ---- writes ---------------------------------------------------------------------------------------------
    def _macro(self, name: str, *args: Any) -> Any:
        self.writes += 1
        macro = self.book.app.macro(lb.qualified(name, self.addin))
        if self.remote:  # the VBA client passes the workbook itself as the first argument
            return macro(*args)
        return macro(self.book, *args)

    def guard(self, sheets: Sequence[str]) -> None:
        """Re-apply the template's protection with UserInterfaceOnly, so the writes that follow may change locked
        cells (see xl_addin/macros/XaHelpers.bas). Desktop Excel returns False when it could not (and has said why)."""
        o = self.outline()
        if self._macro(lb.GUARD_MACRO, spec.PROTECTION_PASSWORD, lb.guard_spec(o, sheets), lb.GUARD_FAILED) is False:
            raise Stop

    def paint(self, paint_spec: str) -> None:
        self._macro(lb.PAINT_MACRO, paint_spec)

    def write_cells(self, write_spec: str) -> None:
        self._macro(lb.WRITE_MACRO, write_spec)

    def write_rows(self, sheet: str, rows: list[list[Any]]) -> None:
        """A block of texts from A1 of a locked sheet, through XaWriteRows like every other locked cell."""
        self._macro(lb.WRITE_ROWS_MACRO, f"{self.outline().index(sheet)}!A1", lb.rows_text(rows))

    def activate(self, sheet: str) -> None:
        self.writes += 1
        self.book.sheets[sheet].activate()

    def pick(self, macro: str, prompt: str) -> str:
        """Desktop Excel only: a file or folder dialog (xl_addin/macros/XaHelpers.bas); "" when the user cancels."""
        if self.remote:
            return ""
        return str(self._macro(macro, prompt) or "")

    def alert(self, text: str, *, critical: bool = False) -> None:
        self.writes += 1
        self.book.app.alert(text, title=lb.TITLE, mode="critical" if critical else "info")

    def confirm(self, text: str) -> bool:
        """Desktop Excel: a Yes/No question, True for Yes. The remote route has no answer to wait for: it asks
        nothing and says no (the clerk fixes the workbook first)."""
        if self.remote:
            return False
        self.writes += 1
        return bool(self.book.app.alert(text, title=lb.TITLE, buttons="yes_no", mode="critical") == "yes")

    # ---- shared steps ---------------------------------------------------------------------------------------
    @property
    def source(self) -> str:
        return str(self.book.fullname)

    def report_data(self) -> tuple[lb.Outline, Any]:
        o = self.outline()
        if not o.ours:
            raise lb.NotOurs(lb.NOT_OURS_MESSAGE)
        return o, lb.snapshot(self.source, o, self.grids(lb.read_boxes(o)))


def _click(fn: F) -> F:
    """Run one button: a workbook not made from our template gets one message and no change."""
    import functools

    @functools.wraps(fn)
    def run(book: xw.Book | None = None, *args: Any, addin: str | None = None, **kwargs: Any) -> Any:
        s = Session(book, lb.addin_name(addin))
        try:
            return fn(s, *args, **kwargs)
        except lb.NotOurs as exc:
            s.alert(str(exc), critical=True)
        except Stop:
            pass
        return s

    sig = inspect.signature(fn)
    book = inspect.Parameter("book", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None)
    named = inspect.Parameter("addin", inspect.Parameter.KEYWORD_ONLY, default=None)
    run.__signature__ = sig.replace(parameters=[book, *list(sig.parameters.values())[1:], named])  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]


@_click
def validate(s: Session, *, profile: Profile | None = None) -> Session:
    """校验: the same validator as ``xl-addin check``, on the live workbook, under rule ``profile`` (the county
    server's ``serve --profile``; None: the national rules). The workbook never chooses it: a template built under
    another profile gets a finding saying so (S2.profile)."""
    o, data = s.report_data()
    report = api.check_data(data, profile=profile)
    if spec.RESULTS_SHEET not in o.sheets:
        s.alert(lb.NO_RESULTS_SHEET + "\n" + lb.verdict(report), critical=True)
        return s
    old = s.used_rows(spec.RESULTS_SHEET)
    s.guard(lb.guard_sheets(o))
    s.write_rows(spec.RESULTS_SHEET, lb.results_grid(report, old))
    s.paint(lb.paint_spec(o, data.locations, lb.marks(report, data.locations)))
    s.activate(spec.RESULTS_SHEET)
    s.alert(lb.verdict(report), critical=not report.valid)
    s.report = report  # type: ignore[attr-defined]
    return s


@_click
def fill_totals(s: Session) -> Session:
    """计算合计: every derived total written as its live formula; input cells are never written."""
    o, data = s.report_data()
    cells = lb.derived_cells(data)
    s.guard(sorted({sheet for sheet, _, _ in cells}, key=o.sheets.index))
    s.write_cells(lb.write_spec(o, cells))
    s.alert(lb.fill_message(len(cells)))
    return s


@_click
def clear_marks(s: Session) -> Session:
    """清除标记: the template's colours back on every input and derived cell, 校验结果 emptied."""
    o = s.outline()
    if not o.ours:
        raise lb.NotOurs(lb.NOT_OURS_MESSAGE)
    locs = lb.locations(o)
    old = s.used_rows(spec.RESULTS_SHEET) if spec.RESULTS_SHEET in o.sheets else 0
    s.guard(lb.guard_sheets(o))
    s.paint(lb.paint_spec(o, locs))
    if spec.RESULTS_SHEET in o.sheets:
        s.write_rows(spec.RESULTS_SHEET, lb.cleared_grid(old))
    s.alert("已清除校验标记。")
    return s


@_click
def about(s: Session) -> Session:
    """关于: toolkit version, template version, where to get help (works on any workbook)."""
    o = s.outline()
    props: dict[str, str] = {}
    if spec.HIDDEN_SHEET in o.sheets:
        props = hidden.parse(s.grids({spec.HIDDEN_SHEET: hidden.BOX})[spec.HIDDEN_SHEET])
    s.alert(lb.about_text(props, str(s.book.name)))
    return s


def _book_dir(s: Session) -> Path | None:
    full = s.source
    d = os.path.dirname(full)
    return Path(d) if d and os.path.isabs(full) else None


#: the export's notes (numbering removed, warnings left) an alert lists before "…… 另有 N 条" (a message box holds
#: about 1,000 characters)
ALERT_NOTES = 8


@_click
def export_report(s: Session, out_dir: str | os.PathLike[str] | None = None, *,
                  where: Callable[[list[Path]], str] | None = None, profile: Profile | None = None) -> Session:
    """导出报告: Word + HTML next to the workbook (``api.export``, the same code as ``xl-addin export``).

    ``where(files)`` (the server): the line that tells the clerk where the files are, instead of the folder."""
    from .adapters.exporter import ExportError, ExportIncomplete, incomplete

    _, data = s.report_data()
    target = Path(out_dir) if out_dir is not None else _book_dir(s)
    if target is None:
        s.alert("请先把工作簿保存到本机文件夹，再导出报告（报告将保存在工作簿旁边）。", critical=True)
        return s
    missing = incomplete(data)
    if missing:  # before asking anything: no report without its agency and year, draft or not
        s.alert(str(ExportIncomplete(missing)), critical=True)
        return s
    report = api.check_data(data, profile=profile)
    force = False
    if not report.valid:  # no unchecked report is published: the clerk decides, knowing it
        said = lb.verdict(report)
        question = (f"{said}\n{spec.UNPUBLISHABLE}。是否仍导出一份核对稿？"
                    f"核对稿的每一页都标有“{spec.UNCHECKED_MARK}”。")
        if not s.confirm(question):  # the server route asks nothing (no answer can be waited for): no draft there
            refused = lb.EXPORT_REFUSED_REMOTE if s.remote else "未导出报告：请先改正错误（点“校验”查看），再导出。"
            s.alert(f"{said}\n{refused}", critical=True)
            return s
        force = True
    try:
        done = api.export_noted(data, target, formats=("docx", "html"), force=force, report=report)
    except (ExportError, OSError) as exc:
        s.alert(f"未能导出报告：{exc}", critical=True)
        return s
    written = done.files
    note = "" if report.valid else f"\n注意：这是未通过校验的核对稿，每页标有“{spec.UNCHECKED_MARK}”，不得发布。"
    place = where(written) if where is not None else f"位置：{target}"
    notes = done.notes if len(done.notes) <= ALERT_NOTES else [
        *done.notes[:ALERT_NOTES], f"…… 另有 {len(done.notes) - ALERT_NOTES} 条，点“校验”在“{spec.RESULTS_SHEET}”中查看全部。"]
    s.alert("已导出：" + "、".join(p.name for p in written) + "\n" + place + note
            + "".join("\n" + line for line in notes), critical=not report.valid)
    s.exported = written  # type: ignore[attr-defined]
    return s


@_click
def collect_folder(s: Session, folder: str | os.PathLike[str] | None = None,
                   roster: str | os.PathLike[str] | None = None) -> Session:
    """汇总校验: asks for the folder of collected workbooks and the roster (cancel: every agency found), checks
    every workbook in it with ``api.collect`` and opens the summary workbook 汇总校验结果.xlsx written there."""
    from .collect import RosterError

    if folder is None:
        folder = s.pick(lb.PICK_FOLDER_MACRO, lb.PICK_FOLDER_PROMPT)
        if not folder:
            return s
        roster = s.pick(lb.PICK_ROSTER_MACRO, lb.PICK_ROSTER_PROMPT) or None
    out = Path(folder) / lb.COLLECT_OUT_NAME
    try:
        result = api.collect(folder, roster, out)
    except (RosterError, OSError) as exc:
        s.alert(f"未能汇总校验：{exc}", critical=True)
        return s
    if not s.remote:
        s.book.app.books.open(str(out))
    s.alert(lb.collect_message(result.counts, out))
    s.collected = result  # type: ignore[attr-defined]
    return s


__all__ = ["about", "clear_marks", "collect_folder", "export_report", "fill_totals", "validate"]
