"""What the Excel add-in does to a live workbook, as plain data: no xlwings here.

The add-in (:mod:`xl_addin.addin`) reads a few rectangular blocks of values and the defined names, hands them to
these helpers, and writes back what they return. Everything here is testable without Excel or xlwings:

- :func:`snapshot` turns the blocks into a :class:`~xl_addin.model.ReportData` through the readers' own
  :func:`~xl_addin.adapters.xlsx_reader.assemble`, so the add-in and the command line see the same report;
- :func:`results_grid` is the 校验结果 table (one 2-D list, hyperlinks as ``=HYPERLINK`` formulas);
- :func:`paint_spec`, :func:`write_spec` and :func:`guard_spec` are the ASCII argument strings of the small VBA
  helpers in ``xl_addin/macros/XaHelpers.bas`` (colour cells, write scattered cells, re-apply sheet protection);
  :func:`rows_text` is the block XaWriteRows writes (the 校验结果 sheet), :func:`qualified` and
  :func:`addin_name` make those helpers run from our add-in only.

A live workbook gives values, not formulas (xlwings' remote engine and the VBA client send values only), so a
derived total is taken as an intact formula when its value is what the formula would compute (see
:func:`infer_formulas`); otherwise it is reported as a number typed over the formula, as the file readers do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .. import __version__, derive, expr, hidden, live, spec, structure
from ..catalogue import file_error
from ..importers.record import EVIDENCE_SHEET
from ..model import CellValue, Report, ReportData, Severity
from .xlsx_reader import NOT_OURS, assemble, locations_of, parse_ref

#: the rows and columns of the evidence sheet read: its title, some 10 pieces of payload (300,000 characters) and
#: the seal (a larger record, not read whole, is no record: the workbook is then checked as any other)
EVIDENCE_BOX = (12, 2)

Grid = Sequence[Sequence[object]]

#: columns of the results sheet (the template writes the same header; a test keeps them equal)
RESULTS_HEADERS = structure.RESULTS_HEADERS
#: the template's own fills of input and derived cells (template_builder.INPUT_FILL / DERIVED_FILL)
INPUT_COLOR = structure.INPUT_COLOR
DERIVED_COLOR = structure.DERIVED_COLOR
MARK_COLORS = structure.MARK_COLORS
#: the ``xl_addin/macros/XaHelpers.bas`` entry points (module-qualified, so Application.Run finds them in the add-in)
GUARD_MACRO = "XaHelpers.XaGuard"
PAINT_MACRO = "XaHelpers.XaPaint"
WRITE_MACRO = "XaHelpers.XaWrite"
WRITE_ROWS_MACRO = "XaHelpers.XaWriteRows"
PICK_FOLDER_MACRO = "XaHelpers.XaPickFolder"
PICK_ROSTER_MACRO = "XaHelpers.XaPickFile"
#: XaWriteRows' separators: between the cells of a row, between rows (control characters no cell text needs)
CELL_SEP, ROW_SEP = "\x1f", "\x1e"
#: protection flags passed to XaGuard (bit 1: allow formatting rows, bit 2: allow filtering), as the template sets
FLAG_FORMAT_ROWS, FLAG_FILTER = 1, 2

TITLE = "政务公开年报"
NOT_OURS_MESSAGE = file_error(NOT_OURS).message + "未作任何修改。"
NO_RESULTS_SHEET = f"工作簿中没有“{spec.RESULTS_SHEET}”工作表，无法写入校验结果。请使用县政务公开办下发的模板。"
NOT_RUN = structure.RESULTS_NOT_RUN
GUARD_FAILED = ("无法重新设置工作表保护（保护密码可能已被改动），本次没有写入。"
                "请把工作簿发回县政务公开办，或用新模板重新填报。")
#: 导出报告 of a workbook with errors on the server route, where no question can wait for an answer (desktop Excel
#: asks whether to export a draft marked on every page)
EXPORT_REFUSED_REMOTE = (f"未导出报告：{spec.UNPUBLISHABLE}，服务器版加载项也不导出核对稿，服务器上没有生成任何文件。"
                         "请先改正错误（点“校验”查看），再点“导出报告”；确需核对稿，请联系县政务公开办用本地版或命令行导出。")
#: what the add-in's own VBA says (XaHelpers, XaRun, XaRemote: built into the module XaBuild as ChrW, the VBA
#: sources stay ASCII)
VBA_TEXTS = {
    "title": TITLE,
    "no_book": "请先打开要处理的年报工作簿，再点击“政务公开年报”选项卡上的按钮。",
    "protected_view": "工作簿正处于“受保护的视图”，加载项无法读取。请先点击黄色提示栏中的“启用编辑”，再点击按钮。",
    "no_python": "找不到本机的 Python 程序，加载项无法运行。请联系信息化管理员按《安装指南》设置 Python 路径，"
                 "或改用县政务公开办提供的服务器版加载项。当前设置：",
    # XaRun (local add-in)
    "name_too_long": "工作簿的文件名太长，加载项无法处理。请把文件另存为较短的文件名（例如“单位简称2025年报.xlsx”）后再点按钮。",
    "python_failed": "加载项运行出错，本次操作没有完成。请把下面的内容截图发给信息化管理员：",
    # XaHelpers (both add-ins)
    "write_failed": "写入工作簿时出错，本次没有全部写入。请关闭工作簿后重新打开再试；仍不成功请把工作簿发回县政务公开办。",
    # XaRemote (server add-in): every failure the network or the server can give
    "net_timeout": "连接不上县级服务器，或服务器没有在规定时间内答复。请确认电脑已联网、能访问政务内网，稍后再点；"
                   "多次仍不成功请联系县政务公开办。",
    "net_reset": "与县级服务器的连接中断（服务器可能正在重启）。请稍等一分钟再点按钮，工作簿未被修改。",
    "net_certificate": "无法与县级服务器建立安全连接（服务器证书未被本机信任、已过期，或本机日期时间不正确）。"
                       "请先核对电脑的日期和时间；仍不成功请联系县政务公开办检查服务器证书。",
    "net_other": "与县级服务器通信失败，工作簿未被修改。请稍后再点；仍不成功请联系县政务公开办。",
    "run_failed": "本次操作没有完成，工作簿可能只改动了一部分。请关闭工作簿（不保存）后重新打开再试；"
                  "仍不成功请联系县政务公开办。",
    "http_401": "服务器拒绝了本加载项（访问令牌不正确或已更换）。请向县政务公开办索取最新的服务器版加载项。",
    "http_413": "工作簿数据过大，服务器拒绝处理。请确认打开的是年报工作簿，并删除多余的工作表后再试。",
    "http_429": "点击过于频繁，服务器暂时不再受理本机的请求。请稍等一分钟再点。",
    "http_503": "服务器繁忙，请稍后再点。",
    "http_other": "县级服务器答复出错，工作簿未被修改。请稍后再点；仍不成功请联系县政务公开办。答复代码：",
    "server_is": "服务器地址：",
    # XaRound (server add-in): the 提交 button
    "submit_not_distributed": "本工作簿不是县级服务器下发的年报模板（其中没有本机关的报送密钥），不能用“提交”按钮提交。"
                              "请向县政务公开办索取本机关的年报工作簿，把数据填入后再提交。",
    "submit_other_server": "本工作簿是为另一台服务器下发的，与本加载项连接的县级服务器不同。为保护本机关的报送密钥，"
                           "没有提交。请向县政务公开办核实，使用其下发的工作簿和加载项。",
    "submit_book_server": "工作簿指定的服务器：",
    "submit_never_saved": "本工作簿还没有保存过。请先点“文件 > 另存为”保存到本机文件夹，再点“提交”。",
    "submit_save_first": "提交的是保存在磁盘上的文件，本工作簿有尚未保存的修改。点“确定”保存后提交，点“取消”不提交。",
    "submit_save_failed": "保存失败，没有提交。请用“文件 > 另存为”保存到本机文件夹后再点“提交”。",
    "submit_unreadable": "无法读取已保存的工作簿文件，没有提交。请把工作簿保存到本机文件夹（不要放在网盘或共享文件夹中）"
                         "后再试。文件：",
    "submit_done": "提交成功。",
    "submit_refused": "未提交。县级服务器的答复：",
    "submit_see_validate": "请点击“校验”，在单元格上查看这些问题，改正并保存后再点“提交”。",
}
PICK_FOLDER_PROMPT = "请选择收齐各单位年报工作簿的文件夹"
PICK_ROSTER_PROMPT = "请选择单位名单（.xlsx 或 .csv）；点“取消”则按文件夹中找到的单位汇总"
COLLECT_OUT_NAME = "汇总校验结果.xlsx"


class NotOurs(Exception):
    """The workbook was not made from our template: the add-in says so and changes nothing."""


@dataclass(frozen=True)
class Outline:
    """What one read of the workbook's structure gives: sheets in order and where every known name points."""

    sheets: tuple[str, ...]
    #: key -> (sheet, A1) for every defined name the spec knows
    dests: Mapping[str, tuple[str, str]]

    def index(self, sheet: str) -> int:
        """1-based position among the worksheets (what VBA's ``wb.Worksheets(i)`` takes)."""
        return self.sheets.index(sheet) + 1

    @property
    def ours(self) -> bool:
        """structure.is_ours before any value is read: the hidden sheet's presence stands for the template id it
        carries (:func:`snapshot` asks again with the id read)."""
        return structure.is_ours(len(self.dests), spec.TEMPLATE_ID if spec.HIDDEN_SHEET in self.sheets else None)


def outline(sheets: Iterable[str], names: Iterable[tuple[str, str | None]]) -> Outline:
    """``names``: (name, refers_to like ``='表三'!$D$7``) pairs as Excel lists them."""
    dests: dict[str, tuple[str, str]] = {}
    for name, refers_to in names:
        key = spec.key_of_name(name.rsplit("!", 1)[-1])
        parsed = parse_ref((refers_to or "").lstrip("=")) if key is not None else None
        if key is not None and parsed is not None:
            dests[key] = parsed
    return Outline(tuple(sheets), dests)


def locations(o: Outline) -> dict[str, spec.Location]:
    """key -> where it is in this workbook (:func:`~xl_addin.adapters.xlsx_reader.locations_of`, in the layout its
    names show: the buttons that read no values do not read the hidden sheet either)."""
    return locations_of(o.dests, spec.layout_version({}, o.dests))


def read_boxes(o: Outline) -> dict[str, tuple[int, int]]:
    """sheet -> (last row, last column) to read from A1 so that every named cell and the hidden properties are
    covered: one rectangular read per sheet."""
    boxes: dict[str, tuple[int, int]] = {}
    for loc in locations(o).values():
        if loc.sheet in o.sheets:
            r, c = boxes.get(loc.sheet, (1, 1))
            boxes[loc.sheet] = (max(r, loc.row), max(c, loc.col + loc.colspan - 1))
    if spec.HIDDEN_SHEET in o.sheets:
        r, c = boxes.get(spec.HIDDEN_SHEET, (1, 1))
        boxes[spec.HIDDEN_SHEET] = (max(r, hidden.BOX[0]), max(c, hidden.BOX[1]))
    if EVIDENCE_SHEET in o.sheets:  # an imported workbook's evidence (importers.record), as the file readers read it
        boxes[EVIDENCE_SHEET] = EVIDENCE_BOX
    return boxes


def _cell(grids: Mapping[str, Grid], sheet: str, a1: str) -> CellValue:
    r, c = spec.cell_index(a1)
    grid = grids.get(sheet) or []
    if r > len(grid) or c > len(grid[r - 1]):
        return None
    v = grid[r - 1][c - 1]
    if v == "":
        return None
    if isinstance(v, int | float | str | bool | dt.date) or v is None:
        return v
    return str(v)


def snapshot(source: str, o: Outline, grids: Mapping[str, Grid]) -> ReportData:
    """The report in a live workbook, from the values read from A1 of each sheet. Raises NotOurs."""
    props = hidden.parse(grids.get(spec.HIDDEN_SHEET))
    if not structure.is_ours(len(o.dests), props.get("template_id")):
        raise NotOurs(NOT_OURS_MESSAGE)
    data = assemble(source, dict(o.dests), set(o.sheets), lambda s, a: (_cell(grids, s, a), None), props, None,
                    evidence=grids.get(EVIDENCE_SHEET))
    return infer_formulas(data)


def infer_formulas(data: ReportData) -> ReportData:
    """Mark each derived total as holding its formula when its value agrees with it.

    A value that differs from what the formula computes (or a blank where the total is not 0) is kept as a
    number typed over the formula, so the arithmetic rules and S2 report it as they do for a file."""
    import dataclasses

    inputs = {k: (None if k in data.missing else derive.input_value(k, data.get(k))) for k in spec.INPUT_KEYS}
    totals = derive.compute_totals(inputs)
    formulas = dict(data.formulas)
    for key in spec.DERIVED_KEYS:
        if key in data.missing:
            continue
        v, want = data.get(key), totals[key]
        agrees = want is None or (v is None and want == 0) or (
            isinstance(v, int | float) and not isinstance(v, bool) and abs(v - want) < 1e-9)
        if agrees:
            formulas[key] = expr.derived_formula(key, data.locations)
    return dataclasses.replace(data, formulas=formulas)


# ---- what gets written -----------------------------------------------------------------------------------------

def _hyperlink(sheet: str, cell: str) -> str:
    if not sheet or not cell:
        return cell
    target = "#'" + sheet.replace("'", "''") + "'!" + cell.split(":")[0]
    return f'=HYPERLINK("{_q(target)}","{_q(cell)}")'


def _q(s: str) -> str:
    return s.replace('"', '""')


def _text(s: str) -> str:
    """A cell text that Excel must not take for a formula."""
    return "'" + s if s[:1] in ("=", "+", "-", "@") else s


def results_grid(report: Report, old_rows: int = 0) -> list[list[CellValue]]:
    """The 校验结果 sheet from A1: header, one row per finding (hyperlink to the cell), then blanks down to
    ``old_rows`` so a shorter list overwrites a longer one in the same single write."""
    rows: list[list[CellValue]] = [list(RESULTS_HEADERS)]
    for f in report.findings:
        rows.append([f.rule, live.finding_level(f), _text(f.sheet), _hyperlink(f.sheet, f.cell),
                     _text(f.labels[0]) if f.labels else "", _text(f.labels[1]) if len(f.labels) > 1 else "",
                     _text(f.message)])
    if not report.findings:
        rows.append(["", "", "", "", "", "", verdict(report)])
    return _pad(rows, old_rows)


def cleared_grid(old_rows: int = 0) -> list[list[CellValue]]:
    return _pad([list(RESULTS_HEADERS), [NOT_RUN, "", "", "", "", "", ""]], old_rows)


def _pad(rows: list[list[CellValue]], old_rows: int) -> list[list[CellValue]]:
    width = len(RESULTS_HEADERS)
    while len(rows) < old_rows:
        rows.append([None] * width)
    return rows


def collect_message(counts: Mapping[str, int], out: object) -> str:
    """What 汇总校验 says when it is done: the tracker's totals and where the summary is."""
    return (f"汇总校验完成：应报 {counts['expected']} 家，已提交 {counts['submitted']} 家，未提交 {counts['missing']} 家，"
            f"通过 {counts['passed']} 家，不通过 {counts['failed']} 家，逾期 {counts['late']} 家。\n结果：{out}")


def verdict(report: Report) -> str:
    """The one-line verdict the 校验 button shows."""
    t = report.tally
    if report.valid and t.clean:
        head = "校验通过"
    elif report.valid:
        head = "校验通过，但有警告或未填的单元格"
    else:
        head = "校验不通过"
    return (f"{head}：{live.tally_line(report.findings)}。"
            + (f"详见“{spec.RESULTS_SHEET}”工作表，点击单元格地址可跳转。" if report.findings else ""))


def template_colors(locs: Mapping[str, spec.Location]) -> dict[tuple[str, str], tuple[str, str]]:
    """(sheet, A1 of the top-left cell) -> (A1 range incl. merged columns, the template's fill) of every input
    and derived cell on a visible sheet."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for key, loc in locs.items():
        if key.startswith("prior."):
            continue
        color = DERIVED_COLOR if key in spec.DATA_CELLS and spec.DATA_CELLS[key].derived else INPUT_COLOR
        out[(loc.sheet, loc.a1)] = (loc.a1_range, color)
    return out


def _cells_of(rng: str) -> list[str]:
    if ":" not in rng:
        return [rng]
    a, b = rng.split(":", 1)
    (r1, c1), (r2, c2) = spec.cell_index(a), spec.cell_index(b)
    return [f"{spec.col_letter(c)}{r}" for r in range(min(r1, r2), max(r1, r2) + 1)
            for c in range(min(c1, c2), max(c1, c2) + 1)]


def marks(report: Report, locs: Mapping[str, spec.Location]) -> dict[tuple[str, str], Severity]:
    """(sheet, A1) -> the worst severity of the findings on that input or derived cell."""
    known = template_colors(locs)
    out: dict[tuple[str, str], Severity] = {}
    for f in report.findings:
        if not f.sheet or not f.cell:
            continue
        for a1 in _cells_of(f.cell):
            where = (f.sheet, a1)
            if where in known and (where not in out or f.severity.rank < out[where].rank):
                out[where] = f.severity
    return out


def _runs(cells: Mapping[tuple[str, str], tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(sheet, range, colour): neighbouring single cells of one row and colour merged into one range."""
    by_row: dict[tuple[str, int], list[tuple[int, str, str]]] = {}
    for (sheet, a1), (rng, color) in cells.items():
        r, c = spec.cell_index(a1)
        by_row.setdefault((sheet, r), []).append((c, rng, color))
    out: list[tuple[str, str, str]] = []
    for (sheet, r), items in sorted(by_row.items()):
        items.sort()
        start = prev = items[0]
        for item in [*items[1:], (-1, "", "")]:
            single = ":" not in item[1] and ":" not in prev[1]
            if single and item[0] == prev[0] + 1 and item[2] == prev[2]:
                prev = item
                continue
            rng = start[1] if start is prev else f"{spec.col_letter(start[0])}{r}:{spec.col_letter(prev[0])}{r}"
            out.append((sheet, rng, start[2]))
            start = prev = item
    return out


def paint_spec(o: Outline, locs: Mapping[str, spec.Location],
               marked: Mapping[tuple[str, str], Severity] | None = None) -> str:
    """XaPaint's argument: every input and derived cell back to the template's fill, then the marks.

    ``index!A1:B1=RRGGBB`` items joined by ``;`` (ASCII only: sheets by position, not by name)."""
    base = template_colors(locs)
    items = [(s, r, c) for s, r, c in _runs(base)]
    if marked:
        items += _runs({w: (base[w][0], MARK_COLORS[sev]) for w, sev in marked.items()})
    return ";".join(f"{o.index(s)}!{r}={c}" for s, r, c in items if s in o.sheets)


def write_spec(o: Outline, cells: Iterable[tuple[str, str, str]]) -> str:
    """XaWrite's argument: ``index!A1|content`` items joined by ``;`` (content set as the cell's Formula)."""
    parts = []
    for sheet, a1, content in cells:
        if ";" in content or "|" in content:
            raise ValueError(f"cannot pass {content!r} to XaWrite")
        parts.append(f"{o.index(sheet)}!{a1}|{content}")
    return ";".join(parts)


def rows_text(rows: Sequence[Sequence[CellValue]]) -> str:
    """XaWriteRows' block argument: cells joined by CELL_SEP, rows by ROW_SEP, each set as the cell's Formula
    (texts that Excel would take for a formula are already quoted by :func:`results_grid`)."""
    def cell(v: CellValue) -> str:
        return "" if v is None else str(v).replace(CELL_SEP, " ").replace(ROW_SEP, " ")

    return ROW_SEP.join(CELL_SEP.join(cell(v) for v in row) for row in rows)


def qualified(macro: str, addin: str | None) -> str:
    """``'<add-in file>'!Module.Macro``: Application.Run then finds the helper in our add-in only, never in the
    workbook being checked (which might carry a module of the same name)."""
    return macro if not addin else "'" + addin.replace("'", "''") + "'!" + macro


#: how XaRun.bas names the clicked workbook on Python's command line: UTF-16 code units as hex (XaHex)
CALLER_BOOK, CALLER_HWND = "--xa-book=", "--hwnd="


def caller_args(argv: Sequence[str]) -> tuple[str, int] | None:
    """The clicked workbook's name and Excel's window number from the command line XaRun.bas builds
    (``--xa-book=<hex> --hwnd=<digits>``): the name crossed cmd.exe as hex digits, so no character of it was ever
    read by a shell. None when Python was not started that way (tests, the server). Raises ValueError for a
    malformed value."""
    book = hwnd = None
    for arg in argv:
        if arg.startswith(CALLER_BOOK):
            book = arg[len(CALLER_BOOK):]
        elif arg.startswith(CALLER_HWND):
            hwnd = arg[len(CALLER_HWND):]
    if book is None or hwnd is None:
        return None
    if not book or len(book) % 4 or not re.fullmatch(r"[0-9A-Fa-f]+", book) or not re.fullmatch(r"-?[0-9]{1,20}", hwnd):
        raise ValueError("bad caller arguments")
    return bytes.fromhex(book).decode("utf-16-be", "surrogatepass"), int(hwnd)


def addin_name(hex_text: str | None) -> str | None:
    """The add-in's file name from what the VBA side sends (``XaHex(ThisWorkbook.Name)``: UTF-16 code units as
    4 hex digits each, so any name crosses a command line or a URL as ASCII). None for None or "".
    Raises ValueError for anything that is not such a name."""
    if not hex_text:
        return None
    if len(hex_text) % 4 or len(hex_text) > 1024:
        raise ValueError("bad add-in name")
    name = bytes.fromhex(hex_text).decode("utf-16-be")
    if not name.lower().endswith((".xlam", ".xla")) or any(ord(ch) < 32 or ch in "[]!" for ch in name):
        raise ValueError("bad add-in name")
    return name


def derived_cells(data: ReportData) -> list[tuple[str, str, str]]:
    """(sheet, A1, formula) of every derived total, where this workbook has it."""
    out = []
    for key in spec.DERIVED_KEYS:
        if key in data.missing:
            continue
        loc = data.location(key)
        out.append((loc.sheet, loc.a1, expr.derived_formula(key, data.locations)))
    return out


def guard_sheets(o: Outline) -> list[str]:
    """The template's sheets the add-in may write to (values or colours)."""
    owned = {*(loc.sheet for loc in locations(o).values()), spec.RESULTS_SHEET}
    owned.discard(spec.HIDDEN_SHEET)
    return [s for s in o.sheets if s in owned]


def guard_spec(o: Outline, sheets: Iterable[str]) -> str:
    """XaGuard's argument: ``index:flags`` items joined by ``,`` with the template's protection options."""
    out = []
    for s in sheets:
        flags = (FLAG_FORMAT_ROWS if s == spec.NARRATIVE_SHEET else 0) | (FLAG_FILTER if s == spec.SUMMARY_SHEET else 0)
        out.append(f"{o.index(s)}:{flags}")
    return ",".join(out)


def about_text(props: Mapping[str, str], book_name: str) -> str:
    if props.get("template_id") == spec.TEMPLATE_ID:
        book = (f"本工作簿：用本工具的模板制作（格式 {props.get('format_version', '?')}，"
                f"模板版本 {props.get('layout_version', '?')}，制作时工具版本 {props.get('toolkit_version', '?')}）。")
        if props.get("profile_name"):  # what the workbook says; the check's profile is the server's, never this
            book += f"模板按规则配置“{props['profile_name'][:40]}”生成。"
    else:
        book = "本工作簿：不是用本工具的年报模板制作的。"
    return (f"政务公开年报工具 版本 {__version__}\n"
            f"报告格式：{spec.FORMAT_BASIS}（{spec.FORMAT_VERSION} 版），模板版本 {spec.LAYOUT_VERSION}\n"
            f"{book_name} —— {book}\n"
            "使用帮助：工具包 docs 文件夹中的《安装指南》和《验收清单》；"
            "遇到问题请联系县政务公开办（或本单位信息化管理员），并附上“校验结果”工作表截图。")


def fill_message(n: int) -> str:
    return f"已写入 {n} 个合计单元格的公式（只改合计格，未改动任何填报数字）。请再点击“校验”检查。"
