"""The command line ``xl-addin``: a thin click layer, one library call per command.

Exit codes: 0 no finding of severity error; 1 at least one error finding; 2 a file could not be read or the
arguments are wrong. Messages for people are Chinese; ``--json`` output is for programs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from . import __version__, api, spec
from .adapters.fileio import ReadError
from .model import Report

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(EXIT_UNREADABLE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xl-addin")
def main() -> None:
    """政府信息公开工作年度报告工具：生成模板、校验、计算合计。"""


@main.command()
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="输出的模板文件（.xlsx）")
@click.option("--agency", help="机关名称")
@click.option("--kind", type=click.Choice(spec.AGENCY_KINDS), help="机关类别")
@click.option("--level", type=click.Choice(spec.LEVELS), help="层级")
@click.option("--year", type=int, help="报告年度，如 2025")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False), help="预填数据（JSON）")
@click.option("--sample", is_flag=True, help="用内置样例数据预填（将乐县工业和信息化局 2023 年度）")
@click.option("--last-year", type=click.Path(dir_okay=False),
              help="上年度年报工作簿或已发布的年报（网页、PDF、Word、文本），预填跨年校验所需数字")
def template(out: str, agency: str | None, kind: str | None, level: str | None, year: int | None,
             data_file: str | None, sample: bool, last_year: str | None) -> None:
    """生成加锁的年报模板。"""
    from . import dataio

    values: dict[str, Any] = {}
    try:
        if sample:
            values.update(dataio.sample_values())
        if data_file:
            values.update(dataio.load_values(data_file))
    except (ValueError, OSError) as exc:
        _fail(f"{data_file or '样例数据'}：{exc}")
    for key, v in (("meta.agency", agency), ("meta.kind", kind), ("meta.level", level), ("meta.year", year)):
        if v is not None:
            values[key] = v
    try:
        api.build_template(out, values, last_year=last_year)
    except ReadError as exc:
        _fail(str(exc))
    click.echo(f"已生成模板：{out}")


@main.command()
@click.argument("workbook", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="输出文件")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False), help="要填入的数据（JSON）")
@click.option("--sample", is_flag=True, help="填入内置样例数据")
def put(workbook: str, out: str, data_file: str | None, sample: bool) -> None:
    """把数据（JSON，或内置样例）按命名单元格填入已有模板，另存为新文件。"""
    from . import dataio

    if bool(data_file) == sample:
        _fail("请指定 --data 数据文件或 --sample（二选一）。")
    if Path(out).resolve() == Path(workbook).resolve():
        _fail("输出文件不能与原文件相同。")
    try:
        values = dataio.sample_values() if sample else dataio.load_values(str(data_file))
        api.put(workbook, values, out)
    except ReadError as exc:
        _fail(str(exc))
    except (ValueError, OSError) as exc:
        _fail(f"{data_file or '样例数据'}：{exc}")
    click.echo(f"已填入 {len(values)} 项数据：{out}")


def _print_report(report: Report, max_rows: int) -> None:
    mark = "✔" if report.valid else "✘"
    click.echo(f"{mark} {report.path}  {report.summary_zh()}")
    shown = report.findings[:max_rows] if max_rows > 0 else report.findings
    for f in shown:
        where = f.where or "整个工作簿"
        click.echo(f"  [{f.severity.zh}] {f.rule} {where}  {f.message}")
    if len(shown) < len(report.findings):
        click.echo(f"  …… 另有 {len(report.findings) - len(shown)} 条，用 --all 显示全部，或用 --json 导出。")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--last-year", type=click.Path(dir_okay=False), help="上年度年报工作簿或已发布的年报（跨年校验 X1、X2、X3）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--all", "show_all", is_flag=True, help="显示全部问题（默认每个文件最多 40 条）")
@click.option("--reader", type=click.Choice(["fast", "openpyxl"]), default="fast", hidden=True)
def check(files: Sequence[str], last_year: str | None, as_json: bool, show_all: bool, reader: str) -> None:
    """校验一个或多个年报工作簿或已发布的年报（网页、PDF、Word、文本）。退出码：0 无错误，1 有错误，2 文件无法读取。"""
    prior = None
    if last_year:
        try:
            prior = api.last_year_prior(last_year)
        except ReadError as exc:
            _fail(f"上年度工作簿 {exc}")
    results: list[dict[str, Any]] = []
    code = EXIT_OK
    for path in files:
        try:
            report = api.check_data(api.read_any(path, reader=reader), prior=prior)
        except ReadError as exc:
            code = EXIT_UNREADABLE
            if as_json:
                results.append({"path": path, "valid": False, "error": exc.reason,
                                "counts": {"error": 0, "warning": 0, "info": 0}, "findings": []})
            else:
                click.echo(f"✘ {path}  无法读取：{exc.reason}", err=True)
            continue
        if not report.valid and code == EXIT_OK:
            code = EXIT_FINDINGS
        if as_json:
            results.append(report.to_dict())
        else:
            _print_report(report, 0 if show_all else 40)
    if as_json:
        click.echo(json.dumps({"files": results}, ensure_ascii=False, indent=2))
    sys.exit(code)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="输出文件")
@click.option("--in-place", is_flag=True, help="直接修改原文件（原文件保留为 FILE.bak）")
def fill(file: str, out: str | None, in_place: bool) -> None:
    """把合计单元格恢复为公式（只改合计，不改填报的数字）。"""
    if bool(out) == in_place:
        click.echo("错误：请指定 -o 输出文件，或 --in-place 直接修改原文件（二选一）。", err=True)
        sys.exit(EXIT_UNREADABLE)
    if out and Path(out).resolve() == Path(file).resolve():
        _fail("输出文件不能与原文件相同；要直接修改原文件请用 --in-place。")
    try:
        changes = api.fill(file, out, backup=in_place)
    except ReadError as exc:
        _fail(str(exc))
    target = file if in_place else out
    if not changes:
        click.echo(f"合计公式完好，无需修改。{'' if in_place else '已写出：' + str(target)}")
        return
    click.echo(f"已恢复 {len(changes)} 个合计单元格，写出：{target}")
    for c in changes:
        row, col = c.labels
        click.echo(f"  {c.sheet}!{c.cell}（{row} / {col}）：“{c.old}” → {c.new}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--markdown", is_flag=True, help="以 Markdown 输出（docs/rules.md）")
def rules(as_json: bool, markdown: bool) -> None:
    """列出全部校验规则。"""
    from . import docs
    from .rules import catalogue_rows

    if as_json:
        click.echo(json.dumps(catalogue_rows(), ensure_ascii=False, indent=2))
    elif markdown:
        click.echo(docs.rules_markdown(), nl=False)
    else:
        for r in catalogue_rows():
            click.echo(f"{r['id']:<3} {r['severity']:<7} {r['group']}  {r['title']}")


@main.command()
@click.argument("roster", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="输出文件夹（每个机关一个模板，另有 manifest.csv 清单）")
@click.option("--year", required=True, type=click.IntRange(2021, 2100), help="报告年度，如 2025")
@click.option("--last-year-dir", type=click.Path(file_okay=False), help="上年度各机关年报所在文件夹，预填跨年校验所需数字")
def distribute(roster: str, out_dir: str, year: int, last_year_dir: str | None) -> None:
    """按名单为每个机关生成预填的年报模板（机关名称、类别、层级、年度、上年数字），并生成分发清单。

    名单为 .xlsx 或 .csv，表头：机关名称、机关类别、层级、联系人（统一社会信用代码可选）。
    """
    from .collect import RosterError

    if last_year_dir and not Path(last_year_dir).is_dir():
        _fail(f"上年度文件夹不存在：{last_year_dir}")
    try:
        paths = api.distribute(roster, out_dir, year, last_year_dir=last_year_dir)
    except RosterError as exc:
        _fail(str(exc))
    click.echo(f"已为 {len(paths)} 个机关生成 {year} 年度年报模板：{out_dir}（清单：manifest.csv）")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--roster", type=click.Path(dir_okay=False), help="机关名单（.xlsx 或 .csv）；不给则按收到的文件汇总")
@click.option("--deadline", help="报送截止日期 YYYY-MM-DD（默认：部门次年1月31日，人民政府次年3月31日）")
@click.option("--year", type=click.IntRange(2021, 2100), help="报告年度（默认：多数文件所填年度）")
@click.option("--last-year-dir", type=click.Path(file_okay=False), help="上年度各机关年报所在文件夹（跨年校验 X1、X2）")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="汇总结果工作簿（.xlsx）；同名 .html 为进度网页")
@click.option("--workers", type=click.IntRange(1, 256), help="并行进程数（默认：CPU 核数）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def collect(folder: str, roster: str | None, deadline: str | None, year: int | None, last_year_dir: str | None,
            out: str, workers: int | None, as_json: bool) -> None:
    """汇总校验：读取文件夹中各机关报回的年报，按名单登记提交进度、逐一校验，并生成全县汇总表。

    退出码：0 全部机关已提交且校验通过；1 有机关未提交、校验不通过或有无法采用的文件；2 参数或名单有误。
    """
    import datetime as dt

    from .collect import RosterError

    if not Path(folder).is_dir():
        _fail(f"文件夹不存在：{folder}")
    if last_year_dir and not Path(last_year_dir).is_dir():
        _fail(f"上年度文件夹不存在：{last_year_dir}")
    if Path(out).suffix.lower() != ".xlsx":
        _fail(f"汇总结果文件应以 .xlsx 结尾：{out}")
    limit = None
    if deadline:
        try:
            limit = dt.date.fromisoformat(deadline)
        except ValueError:
            _fail(f"截止日期应为 YYYY-MM-DD 格式，如 2025-01-31，现为“{deadline}”。")
    try:
        result = api.collect(folder, roster, out, deadline=limit, last_year_dir=last_year_dir, workers=workers,
                             progress=not as_json, year=year)
    except RosterError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(result.summary_zh())
        for r in result.rows:
            if not r.passed:
                who = r.agency or r.path
                click.echo(f"  [{r.verdict}] {who}  {r.note}".rstrip())
        click.echo(f"汇总结果：{result.xlsx}；进度网页：{result.html}")
    sys.exit(EXIT_OK if result.ok else EXIT_FINDINGS)


@main.command("import")
@click.argument("report", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="输出的工作簿（.xlsx），含“导入记录”工作表")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出读入的数据、每项的来源和不确定之处")
def import_(report: str, out: str | None, as_json: bool) -> None:
    """导入已发布的年报（网页 .html/.htm/.shtml、PDF、Word .docx/.doc、文本 .txt/.md），生成填好的年报工作簿。"""
    if not out and not as_json:
        _fail("请用 -o 指定输出的工作簿（.xlsx），或用 --json 输出。")
    if out and Path(out).suffix.lower() != ".xlsx":
        _fail(f"输出文件应以 .xlsx 结尾：{out}")
    if out and Path(out).resolve() == Path(report).resolve():
        _fail("输出文件不能与原文件相同。")
    try:
        imported = api.import_report(report)
    except ReadError as exc:
        _fail(str(exc))
        return
    if out:
        try:
            api.write_imported(imported, out)
        except OSError as exc:
            _fail(f"无法写出工作簿（{exc.strerror or exc}）：{out}")
    if as_json:
        from .importers.record import to_dict

        click.echo(json.dumps(to_dict(imported), ensure_ascii=False, indent=2, default=str))
        return
    values = imported.data.values
    n_cells = sum(1 for k in spec.INPUT_KEYS if values.get(k) is not None)
    click.echo(f"已导入：{report}（{_FORMAT_ZH.get(imported.format, imported.format)}），读入表格数字 {n_cells} 项，"
               f"写出：{out}")
    for note in imported.notes:
        click.echo(f"  [待核对] {note.message}{'（' + note.where + '）' if note.where else ''}")
    click.echo("每个单元格的来源见工作簿的“导入记录”工作表；用 xl-addin check 校验。")


_FORMAT_ZH = {"2021": "现行格式", "hybrid": "新旧格式混用", "2019": "旧格式（2019）"}


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-f", "--format", "formats", type=click.Choice(["docx", "html", "txt", "all"]), multiple=True,
              default=("all",), show_default=True,
              help="导出格式，可重复指定：docx（Word，公文格式）、html（网站发布用网页）、txt（纯文本）、all（全部）")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), help="输出文件夹（默认：工作簿所在文件夹）")
@click.option("--drafts/--no-drafts", "use_drafts", default=None,
              help="第一部分“依申请公开”和第四部分是否使用按表格数字自动生成的句子（代替经办人填写的文字）；"
                   "不指定时按工作簿“基本信息”中“导出时使用自动生成的句子”的选择")
def export(file: str, formats: Sequence[str], out_dir: str | None, use_drafts: bool | None) -> None:
    """导出年度报告：Word（GB/T 9704 公文格式）、网页（HTML）、纯文本。工作簿本身不会被修改。"""
    from .adapters.exporter import ExportError

    try:
        data = api.read(file)
    except ReadError as exc:
        _fail(str(exc))
        return
    try:
        written = api.export(data, out_dir or Path(file).resolve().parent, formats, use_drafts=use_drafts)
    except ExportError as exc:
        _fail(str(exc))
        return
    except OSError as exc:
        _fail(f"无法写出报告（{exc.strerror or exc}）：{exc.filename or out_dir or ''}")
        return
    for path in written:
        click.echo(f"已导出：{path}")
    if not data.agency:
        click.echo("提示：未填写机关名称，报告标题和落款中缺少机关名称，文件名以工作簿名代替。", err=True)
    if data.report_date is None:
        click.echo("提示：未填写发布日期，落款日期留空，请打印后手填或补填后重新导出。", err=True)
    report = api.check_data(data)
    if not report.valid:
        click.echo(f"注意：校验{report.summary_zh()}，导出的报告可能有误，请用 xl-addin check 查看并改正后重新导出。",
                   err=True)

if __name__ == "__main__":  # pragma: no cover
    main()
