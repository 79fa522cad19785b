"""The command line ``xl-addin``: a thin click layer, one library call per command.

Exit codes: 0 no finding of severity error; 1 at least one error finding; 2 a file could not be read or the
arguments are wrong. Messages for people are Chinese; ``--json`` output is for programs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from . import __version__, api, checking, dataset, live, spec
from .adapters import exporter
from .adapters.fileio import ReadError
from .model import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, Report, Severity
from .report_doc import UNCHECKED_MARK
from .review import NOT_PUBLISHED_ZH, Published, State


def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(EXIT_UNREADABLE)


def _deadline(text: str | None) -> dt.date | None:
    """The date of a --deadline option (None when not given); a date not written YYYY-MM-DD ends the command
    (``collect`` and ``serve`` say the same)."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        _fail(f"截止日期应为 YYYY-MM-DD 格式，如 2025-01-31，现为“{text}”。")
        return None


_PROFILE_HELP = ("规则配置：TOML 文件，或内置规则配置的名称（如 示例-某市）；在全国统一规则之上加地方要求"
                 "（截止日期、字数、雷同比例等，见 docs/规则配置.md）")


def _profile(ref: str | None) -> Any:
    """The rule profile ``--profile`` names (None: the national catalogue); a bad one is a Chinese message naming
    the file and the key, exit 2."""
    from .profiles import ProfileError

    try:
        return api.load_profile(ref)
    except ProfileError as exc:
        _fail(str(exc))


class _Main(click.Group):
    """The command group: a file or folder that cannot be read or written where no command expected it (an
    output under a file, a missing drive, a folder without permission) is a Chinese message naming it and exit 2,
    never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            where = f"“{exc.filename}”" if exc.filename else ""
            _fail(f"无法读取或写入{where}（{exc.strerror or exc}）。请检查路径是否正确、文件夹是否存在、是否有权限，"
                  "以及文件是否正被其他程序打开。")


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--profile", "profile_ref", help=_PROFILE_HELP + "：模板中随填随算的检查按该配置（校验时请指定同一配置）")
def template(out: str, agency: str | None, kind: str | None, level: str | None, year: int | None,
             data_file: str | None, sample: bool, last_year: str | None, profile_ref: str | None) -> None:
    """生成加锁的年报模板（给出 --profile 时按该规则配置生成）。"""
    profile = _profile(profile_ref)
    values: dict[str, Any] = {}
    try:
        if sample:
            values.update(api.sample_values())
        if data_file:
            values.update(api.load_values(data_file))
    except (ValueError, OSError) as exc:
        _fail(f"{data_file or '样例数据'}：{exc}")
    for key, v in (("meta.agency", agency), ("meta.kind", kind), ("meta.level", level), ("meta.year", year)):
        if v is not None:
            values[key] = v
    try:
        api.build_template(out, values, last_year=last_year, profile=profile)
    except ReadError as exc:
        _fail(str(exc))
    click.echo(f"已生成模板：{out}")
    if not profile.national:
        click.echo(f"规则配置：{profile.title}（{profile.name}）")


@main.command()
@click.argument("workbook", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="输出文件")
@click.option("--data", "data_file", type=click.Path(exists=True, dir_okay=False), help="要填入的数据（JSON）")
@click.option("--sample", is_flag=True, help="填入内置样例数据")
def put(workbook: str, out: str, data_file: str | None, sample: bool) -> None:
    """把数据（JSON，或内置样例）按命名单元格填入已有模板，另存为新文件。"""
    if bool(data_file) == sample:
        _fail("请指定 --data 数据文件或 --sample（二选一）。")
    if Path(out).resolve() == Path(workbook).resolve():
        _fail("输出文件不能与原文件相同。")
    try:
        values = api.sample_values() if sample else api.load_values(str(data_file))
        api.put(workbook, values, out)
    except ReadError as exc:
        _fail(str(exc))
    except (ValueError, OSError) as exc:
        _fail(f"{data_file or '样例数据'}：{exc}")
    click.echo(f"已填入 {len(values)} 项数据：{out}")


def _print_report(report: Report, max_rows: int) -> None:
    mark = "✔" if report.valid else "✘"
    click.echo(f"{mark} {report.path}  {'通过' if report.valid else '不通过'}：{live.tally_line(report.findings)}")
    shown = report.findings[:max_rows] if max_rows > 0 else report.findings
    for f in shown:
        where = f.where or "整个工作簿"
        click.echo(f"  [{live.finding_level(f)}] {f.rule} {where}  {f.message}")
    if len(shown) < len(report.findings):
        click.echo(f"  …… 另有 {len(report.findings) - len(shown)} 条，用 --all 显示全部，或用 --json 导出。")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--last-year", type=click.Path(dir_okay=False), help="上年度年报工作簿或已发布的年报（跨年校验 X1、X2、X3）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--all", "show_all", is_flag=True, help="显示全部问题（默认每个文件最多 40 条）")
@click.option("--time-limit", "file_seconds", type=click.FloatRange(1, 3600),
              help=f"读取一个文件最多用时（秒，默认 {checking.FILE_SECONDS:g}），超过则停止读取，说明原因")
@click.option("--memory-limit", "file_memory_mb", type=click.IntRange(0, 1 << 20),
              help=f"读取一个文件最多使用的内存（MB，默认 {checking.FILE_MEMORY_MB}，0 为不限），超过则停止读取，说明原因")
@click.option("--reader", type=click.Choice(["fast", "openpyxl"]), default="fast", hidden=True)
@click.option("--profile", "profile_ref", help=_PROFILE_HELP)
def check(files: Sequence[str], last_year: str | None, as_json: bool, show_all: bool, file_seconds: float | None,
          file_memory_mb: int | None, reader: str, profile_ref: str | None) -> None:
    """校验一个或多个年报工作簿或已发布的年报（网页、PDF、Word、文本）。退出码：0 无错误，1 有错误，2 文件无法读取。

    给出多个文件或已发布的年报时，每个文件单独读取，受用时和内存上限约束，一个文件出问题不影响其他文件。
    """
    limited = file_seconds is not None or file_memory_mb is not None
    profile = _profile(profile_ref)
    try:
        inquiry = api.check_many(files, last_year=last_year, reader=reader, file_seconds=file_seconds,
                                 file_memory_mb=file_memory_mb, isolate=True if limited else None, profile=profile)
    except ReadError as exc:
        _fail(f"上年度工作簿 {exc}")
        return
    if as_json:
        out = inquiry.to_dict()
        if not profile.national:
            out["profile"] = {"name": profile.name, "title": profile.title, "source": profile.source}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        if not profile.national:
            click.echo(f"规则配置：{profile.title}（{profile.name}）")
        for f in inquiry.files:
            if f.report is None:
                click.echo(f"✘ {f.path}  无法读取：{f.error}", err=True)
            else:
                _print_report(f.report, 0 if show_all else 40)
    sys.exit(inquiry.exit_code)


@main.command()
@click.argument("file", type=click.Path())
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
@click.option("--profile", "profile_ref", help=_PROFILE_HELP + "：列出按该配置实际检查的规则、级别、阈值和期限")
def rules(as_json: bool, markdown: bool, profile_ref: str | None) -> None:
    """列出全部校验规则（给出 --profile 时列出按该规则配置实际生效的规则）。"""
    from . import catalogue, docs

    profile = _profile(profile_ref)
    if as_json:
        if profile.national:
            click.echo(json.dumps(catalogue.rows(), ensure_ascii=False, indent=2))
        else:
            click.echo(json.dumps({"profile": {"name": profile.name, "title": profile.title, "basis": profile.basis,
                                               "source": profile.source},
                                   "rules": profile.rows(), "settings": profile.settings()},
                                  ensure_ascii=False, indent=2))
    elif markdown:
        click.echo(docs.rules_markdown() + docs.profile_markdown(profile), nl=False)
    elif profile.national:
        for e in catalogue.CATALOGUE.values():
            click.echo(f"{e.code:<14} {e.severity.zh}  {e.group.zh}  {e.title}")
    else:
        click.echo(f"规则配置：{profile.title}（{profile.name}）{'，依据' + profile.basis if profile.basis else ''}")
        for row in profile.rows():
            state = "检查" if row["enabled"] else "不检查"
            level = Severity(row["severity"]).zh
            by = f"  〔{row['by']}〕" if row["by"] else ""
            click.echo(f"{row['code']:<14} {level}  {state:<3}  {row['title']}{by}")
        click.echo("期限和阈值：")
        for st in profile.settings():
            value = "、".join(map(str, st["value"])) if isinstance(st["value"], list) else st["value"]
            if st["name"] == "V2.yuan.max_wan" and not value:
                value = "按范围和层级"
            by = f"  〔{st['by']}〕" if st["by"] else "  （全国）"
            click.echo(f"  {st['name']:<28} {value}  {st['zh']}{by}")


def _roster_notes(roster: str) -> None:
    """Tell the coordinator what in the roster was read other than as written (县 as 县级)."""
    for note in api.read_roster(roster).notes:
        click.echo(f"提示：{note}", err=True)


@main.command()
@click.argument("roster", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="输出文件夹（每个机关一个模板，另有 manifest.csv 清单）")
@click.option("--year", required=True, type=click.IntRange(spec.YEAR_MIN, spec.YEAR_MAX), help="报告年度，如 2025")
@click.option("--last-year-dir", type=click.Path(file_okay=False), help="上年度各机关年报所在文件夹，预填跨年校验所需数字")
@click.option("--server", "server_url", help="县级服务器地址：模板内写入服务器地址和各机关的报送密钥，可直接提交")
@click.option("--token-file", type=click.Path(dir_okay=False),
              help="政务公开办（协调人）令牌文件（与 --server 一起使用；服务器首次启动时生成）")
@click.option("--profile", "profile_ref",
              help=_PROFILE_HELP + "：模板的随填随查按该配置生成（服务器 serve --profile 请用同一配置）")
def distribute(roster: str, out_dir: str, year: int, last_year_dir: str | None, server_url: str | None,
               token_file: str | None, profile_ref: str | None) -> None:
    """按名单为每个机关生成预填的年报模板（机关名称、类别、层级、年度、上年数字），并生成分发清单。

    名单为 .xlsx 或 .csv，表头：机关名称、机关类别、层级、联系人（统一社会信用代码可选）。
    给出 --server 和 --token-file 时，服务器为每个机关签发新的报送密钥（原密钥失效），写入该机关的模板，
    各机关用 xl-addin submit 或“提交”按钮即可提交，无需其他参数。
    名单有“报告范围”列时，“汇总”单位不生成模板：本轮汇总单位的年报由汇总生成；下级汇总单位报送上报包
    （给出 --server 时其报送密钥写入单独的文本文件）。
    """
    from .collect import RosterError

    if last_year_dir and not Path(last_year_dir).is_dir():
        _fail(f"上年度文件夹不存在：{last_year_dir}")
    if bool(server_url) != bool(token_file):
        _fail("写入报送密钥需要同时指定 --server 和 --token-file（协调人令牌文件）。")
    from .coordinator import PACKAGE, ROLLUP, unit_roles

    profile = _profile(profile_ref)
    props = None
    key_files: list[tuple[str, Path]] = []
    used: set[str] = set()  # the key files' names, as distribute names the templates apart
    try:
        _roster_notes(roster)
        units = api.read_roster(roster)
        roles = unit_roles(units)
        _writable_folder(out_dir)  # before the server replaces any key
        props = _issue_keys(roster, server_url, token_file) if server_url and token_file else None
        paths = api.distribute(units, out_dir, year, last_year_dir=last_year_dir, properties=props,
                               profile=None if profile.national else profile)
        for a in units.agencies:  # a lower 汇总 unit sends its package: its key in a file of its own, no template
            if roles[a.key] == PACKAGE and props and a.key in props:
                key_files.append((a.name, _write_key_file(out_dir, year, a.name, props[a.key], used)))
    except RosterError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"无法写入输出文件夹 {out_dir}（{exc.strerror or exc}）。"
              + ("服务器已签发新的报送密钥（原密钥已失效）：请解决后重新运行本命令，生成带新密钥的模板。" if props else ""))
    click.echo(f"已为 {len(paths)} 个机关生成 {year} 年度年报模板：{out_dir}（清单：manifest.csv）")
    for a in units.agencies:
        if roles[a.key] == ROLLUP:
            click.echo(f"“{a.name}”为汇总单位（报告范围=汇总）：其年报由汇总生成（xl-addin collect --package，"
                       "或服务器看板“下载上报包”），不填模板，未生成模板。")
        elif roles[a.key] == PACKAGE:
            click.echo(f"“{a.name}”为下级汇总单位：以其本级汇总后的上报包（.zip）报送，不填模板，未生成模板。")
    if props:
        click.echo(f"每个模板已写入服务器地址 {server_url} 和该机关的报送密钥（原密钥已失效）；"
                   "请把模板分别发给对应机关，勿互相转发。")
    for name, path in key_files:
        click.echo(f"“{name}”的报送密钥已写入 {path}（原密钥已失效）：请只发给该单位，提交上报包用 "
                   f"xl-addin submit 上报包.zip --server {server_url} --key-file {path.name}，或登录 "
                   f"{str(server_url).rstrip('/')}/round/login 上传。")


def _writable_folder(folder: str) -> None:
    """``folder`` made if missing and written to once (a temporary file); OSError when it cannot be."""
    import tempfile

    Path(folder).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder):
        pass


def _read_token(path: str) -> str:
    try:
        token = Path(path).read_text(encoding="utf-8-sig").strip()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"无法读取令牌文件 {path}（{getattr(exc, 'strerror', None) or exc}）。")
        return ""
    if not token or any(ch.isspace() for ch in token):
        _fail(f"令牌文件 {path} 的内容不是有效令牌（应为一行，不含空格）。")
    return token


def _write_key_file(out_dir: str, year: int, name: str, props: Mapping[str, str], used: set[str]) -> Path:
    """A lower 汇总 unit's key alone in a file (``submit --key-file``), readable by its owner only from the start;
    a name another unit's key file took (``used``, lower case) gets a number, as the templates' names do."""
    from .adapters import round_client as rc
    from .adapters.fileio import atomic_write_text
    from .report_doc import safe_name

    stem = safe_name(f"{year}年{name}-上报包报送密钥", max_chars=80)
    file, n = stem + ".txt", 2
    while file.lower() in used:
        file, n = f"{stem}-{n}.txt", n + 1
    used.add(file.lower())
    return atomic_write_text(Path(out_dir) / file, props[rc.PROP_KEY] + "\n", mode=0o600)


def _issue_keys(roster: str, server_url: str, token_file: str) -> dict[str, dict[str, str]]:
    """name key -> the template's properties, with a new key per roster agency that submits from the server
    (not a 汇总 unit computed by the roll-up: :func:`xl_addin.coordinator.unit_roles`)."""
    from .adapters import round_client as rc
    from .coordinator import ROLLUP, unit_roles

    units = api.read_roster(roster)
    roles = unit_roles(units)
    names = [a.name for a in units.agencies if roles[a.key] != ROLLUP]
    answer = _call(lambda: rc.issue_keys(server_url, _read_token(token_file), names), server_url)
    keys = answer.json.get("keys") if isinstance(answer.json, dict) else None
    if not answer.ok or not isinstance(keys, dict):
        _fail(f"服务器未签发密钥：{answer.message or answer.status}")
        return {}
    from .collect import name_key

    base = rc.base_url(server_url)
    return {name_key(n): {rc.PROP_SERVER: base, rc.PROP_KEY: str(k), rc.PROP_AGENCY: n} for n, k in keys.items()}


def _call(fn: Any, server_url: str | None = None) -> Any:
    """``fn()``'s answer; a ClientError, or (``server_url`` given) a 2xx that is not the county server's JSON
    (a proxy's or login page's), is a Chinese message and exit 2."""
    from .adapters import round_client as rc

    try:
        answer = fn()
    except rc.ClientError as exc:
        _fail(str(exc))
    if server_url is not None and answer.ok and not answer.from_server:
        _fail(rc.NOT_SERVER.format(url=server_url))
    return answer


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--roster", type=click.Path(dir_okay=False), help="机关名单（.xlsx 或 .csv）；不给则按收到的文件汇总")
@click.option("--deadline", help="报送截止日期 YYYY-MM-DD（默认：部门次年1月31日，人民政府次年3月31日）")
@click.option("--year", type=click.IntRange(spec.YEAR_MIN, spec.YEAR_MAX), help="报告年度（默认：多数文件所填年度）")
@click.option("--last-year-dir", type=click.Path(file_okay=False), help="上年度各机关年报所在文件夹（跨年校验 X1、X2）")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="汇总结果工作簿（.xlsx）；同名 .html 为进度网页")
@click.option("--workers", type=click.IntRange(1, 256), help="并行进程数（默认：CPU 核数）")
@click.option("--time-limit", "file_seconds", type=click.FloatRange(1, 3600),
              help=f"读取一个文件最多用时（秒，默认 {checking.FILE_SECONDS:g}），超过则停止读取，在问题清单中说明")
@click.option("--memory-limit", "file_memory_mb", type=click.IntRange(0, 1 << 20),
              help=f"读取一个文件最多使用的内存（MB，默认 {checking.FILE_MEMORY_MB}，0 为不限），"
                   "超过则停止读取，在问题清单中说明")
@click.option("--dataset", "dataset_out", type=click.Path(dir_okay=False),
              help="同时写出数据集（.parquet 或 .csv）：每份采用的年报每个表格单元格一行，供 pandas 等分析")
@click.option("--package", "package_out", type=click.Path(dir_okay=False),
              help="同时生成向上级报送的上报包（.zip）：汇总工作簿、各单位通过的工作簿、汇总范围和带 SHA-256 的清单；"
                   "名单须有“上级机关”“报告范围”列")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--profile", "profile_ref", help=_PROFILE_HELP)
def collect(folder: str, roster: str | None, deadline: str | None, year: int | None, last_year_dir: str | None,
            out: str, workers: int | None, file_seconds: float | None, file_memory_mb: int | None,
            dataset_out: str | None, package_out: str | None, as_json: bool, profile_ref: str | None) -> None:
    """汇总校验：读取文件夹中各机关报回的年报，按名单登记提交进度、逐一校验，并生成全县汇总表。

    退出码：0 全部机关已提交且校验通过；1 有机关未提交、校验不通过或有无法采用的文件；2 参数或名单有误。
    """

    from .adapters.dataset_io import DatasetError, check_writable
    from .collect import RosterError

    if not Path(folder).is_dir():
        _fail(f"文件夹不存在：{folder}")
    if last_year_dir and not Path(last_year_dir).is_dir():
        _fail(f"上年度文件夹不存在：{last_year_dir}")
    if Path(out).suffix.lower() != ".xlsx":
        _fail(f"汇总结果文件应以 .xlsx 结尾：{out}")
    profile = _profile(profile_ref)
    if package_out is not None and Path(package_out).suffix.lower() != ".zip":
        _fail(f"上报包应以 .zip 结尾：{package_out}")
    if package_out is not None and not roster:
        _fail("生成上报包（--package）须同时给出名单（--roster），名单中应有“上级机关”“报告范围”列。")
    limit = _deadline(deadline)
    try:
        if dataset_out:
            check_writable(dataset_out)
        if roster:
            _roster_notes(roster)
        result = api.collect(folder, roster, out, deadline=limit, last_year_dir=last_year_dir, workers=workers,
                             progress=not as_json, year=year, file_seconds=file_seconds,
                             file_memory_mb=file_memory_mb, dataset=dataset_out, profile=profile,
                             package=package_out)
    except (RosterError, DatasetError) as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(result.summary_zh())
        for r in result.rows:
            if not r.passed:
                who = r.agency or r.path
                click.echo(f"  [{r.verdict.zh}] {who}  {r.note}".rstrip())
        if result.similar:
            units = len({u.name for p in result.similar for u in (p.a, p.b)})
            click.echo(f"内容雷同：{units} 个机关的正文有部分与同一上级的其他机关雷同（{len(result.similar)} 处），"
                       "原文对照见汇总结果“内容雷同”工作表。")
        click.echo(f"汇总结果：{result.xlsx}；进度网页：{result.html}")
        if result.dataset is not None:
            click.echo(f"数据集：{result.dataset}（{result.dataset_rows} 行）")
        for book in result.level_books:
            click.echo(f"汇总工作簿：{book}")
        if result.package is not None:
            click.echo(f"上报包：{result.package}")
    sys.exit(EXIT_OK if result.ok else EXIT_FINDINGS)


@main.command()
@click.argument("datasets", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="指标文件（.csv 或 .parquet）")
@click.option("--min-count", type=click.IntRange(1, 1_000_000), default=dataset.MIN_COUNT, show_default=True,
              help="分母（件数）少于此数时不计算比率，写明原因")
def indicators(datasets: tuple[str, ...], out: str, min_count: int) -> None:
    """比较指标：从 collect --dataset 写出的数据集（可给多个文件、多个年度）计算每个单位每年的实质公开率、无法提供占比、
    不予处理占比、复议纠错率、诉讼纠错率、结转率，以及与上年相比的变化。

    退出码：0 已写出；2 数据集无法读取或参数有误。
    """
    from .adapters.dataset_io import DatasetError, read_entries, write_indicators

    try:
        entries = read_entries(datasets)
        n = write_indicators(entries, out, min_count=min_count)
    except DatasetError as exc:
        _fail(str(exc))
    click.echo(f"已写出 {len(entries)} 份年报的比较指标（{n} 行）：{out}")


@main.command("import", help=f"导入已发布的年报（{spec.report_suffixes_zh()}），生成填好的年报工作簿。")
@click.argument("report", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="输出的工作簿（.xlsx），含“导入记录”工作表")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出读入的数据、每项的来源和不确定之处")
def import_(report: str, out: str | None, as_json: bool) -> None:
    # (its --help text is generated from spec.REPORT_SUFFIXES above)
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


@main.command(help=f"导出年度报告：{'、'.join(exporter.FORMATS.values())}。工作簿本身不会被修改。\n\n"
                   "校验有“错误”级问题的工作簿不导出（退出码 1，并列出问题），除非指定 --force。")
@click.argument("file", type=click.Path())
@click.option("-f", "--format", "formats", type=click.Choice([*exporter.FORMATS, exporter.ALL]), multiple=True,
              default=(exporter.ALL,), show_default=True, help=f"导出格式，可重复指定：{exporter.formats_zh()}")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), help="输出文件夹（默认：工作簿所在文件夹）")
@click.option("--drafts/--no-drafts", "use_drafts", default=None,
              help="第一部分“依申请公开”和第四部分是否使用按表格数字自动生成的句子（代替经办人填写的文字）；"
                   "不指定时按工作簿“基本信息”中“导出时使用自动生成的句子”的选择")
@click.option("--force", is_flag=True,
              help="校验有错误时仍然导出，作为核对用的草稿：每个文件的每一页都标注“未通过校验（草稿）”，不得发布")
def export(file: str, formats: Sequence[str], out_dir: str | None, use_drafts: bool | None, force: bool) -> None:
    # (its --help text is generated from exporter.FORMATS above)
    from .adapters.exporter import ExportError, ExportRefused

    try:
        data = api.read(file)
    except ReadError as exc:
        _fail(str(exc))
        return
    report = api.check_data(data)
    try:
        done = api.export_noted(data, out_dir or Path(file).resolve().parent, formats, use_drafts=use_drafts,
                                force=force, report=report)
    except ExportRefused as exc:
        _print_report(dataclasses.replace(exc.report, path=file), 40)
        click.echo("错误：" + exc.explain("加 --force"), err=True)
        sys.exit(EXIT_FINDINGS)
    except ExportError as exc:
        _fail(str(exc))
        return
    except OSError as exc:
        _fail(f"无法写出报告（{exc.strerror or exc}）：{exc.filename or out_dir or ''}")
        return
    for path in done.files:
        click.echo(f"已导出：{path}")
    for line in done.notes:
        click.echo(line, err=True)
    if data.report_date is None:
        click.echo("提示：未填写发布日期，落款日期留空，请打印后手填或补填后重新导出。", err=True)
    if not report.valid:
        click.echo(f"注意：校验{report.summary_zh()}。已按 --force 导出草稿，每页标注“{UNCHECKED_MARK}”，不得发布；"
                   "请用 xl-addin check 查看并改正后重新导出。", err=True)



def _server_default(name: str) -> Any:
    """A default of ``xl-addin serve`` from the server module (imported for --help only when it is there)."""
    from . import server

    return getattr(server, name)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址；默认只接受本机连接（由反向代理转发），0.0.0.0 表示接受所有网卡")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="端口")
@click.option("--data-dir", required=True, type=click.Path(file_okay=False), help="数据目录：导出的报告和访问日志 audit.log")
@click.option("--token-file", required=True, type=click.Path(dir_okay=False),
              help="访问令牌文件；不存在时自动生成（只有本用户可读），制作加载项时使用同一文件")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="工作进程数（建议 = CPU 核数）")
@click.option("--public-url", help="各单位访问本服务的地址（经反向代理时，如 https://gk.example.gov.cn），用于下载链接")
@click.option("--keep-exports-days", default=30, show_default=True, type=click.IntRange(3, 3650),
              help="导出的报告在服务器上保留的天数，到期自动删除并记入 audit.log（不少于下载链接有效期 3 天）")
@click.option("--forwarded-allow-ips", default="", show_default=True,
              help="可信反向代理的地址（逗号分隔，可写网段）：只有来自这些地址的连接，其 X-Forwarded-For 才被当作"
                   "来源地址（访问日志、限流）；默认不信任任何代理。nginx 与本服务同机时写 127.0.0.1")
@click.option("--max-queue", default=_server_default("MAX_QUEUE"), show_default=True, type=click.IntRange(1, 10000),
              help="每个工作进程同时容纳的请求数（接收中、排队、处理中）；超出时答复“服务器繁忙，请稍后再点”")
@click.option("--per-client", default=_server_default("PER_CLIENT"), show_default=True,
              type=click.IntRange(1, 10000), help="其中来自同一来源地址的请求数上限")
@click.option("--rate-limit", "rate_per_minute", default=_server_default("RATE_PER_MINUTE"), show_default=True,
              type=click.IntRange(0, 1000000), help="每个来源地址每分钟最多发起的请求数（每个工作进程；0 = 不限）")
@click.option("--request-timeout", "request_seconds", default=_server_default("REQUEST_SECONDS"), show_default=True,
              type=click.FloatRange(1, 3600), help="一个请求（请求头和工作簿数据）须在多少秒内传完，否则断开连接")
@click.option("--max-connections", default=_server_default("MAX_CONNECTIONS"), show_default=True,
              type=click.IntRange(16, 1000000), help="每个工作进程同时打开的连接数上限（超出时断开等待最久的未完成请求）")
@click.option("--drain-timeout", "drain_seconds", default=_server_default("DRAIN_SECONDS"), show_default=True,
              type=click.IntRange(1, 3600), help="停止或重启服务时，等待已收到的请求处理完毕的最长秒数")
@click.option("--roster", type=click.Path(dir_okay=False),
              help="报送名单（.xlsx 或 .csv）：与 --year 一起给出时，本服务器同时承担年报报送、审核（/round/）")
@click.option("--year", type=click.IntRange(spec.YEAR_MIN, spec.YEAR_MAX), help="本轮报送的报告年度，如 2025")
@click.option("--deadline", help="本县规定的报送截止日期 YYYY-MM-DD（默认：法定截止日期）")
@click.option("--county", default="", help="本县名称（汇总表和通报中使用），如 将乐县")
@click.option("--coordinator-token-file", type=click.Path(dir_okay=False),
              help="政务公开办（协调人）令牌文件；首次启动时生成，默认 数据目录/coordinator-token.txt")
@click.option("--allow-private-fetch", is_flag=True,
              help="核对发布稿时允许访问内网地址（门户网站在政务内网时使用）")
@click.option("--profile", "profile_ref",
              help=_PROFILE_HELP + "：加载项的“校验”“导出报告”按该配置校验，开通报送时提交的年报也按该配置校验"
                                   "（生成模板时请用同一配置：xl-addin template --profile）")
@click.option("--max-package-mb", default=64, show_default=True, type=click.IntRange(1, 4096),
              help="下级汇总单位提交的上报包（.zip）的大小上限，MB（工作簿仍按原上限）")
def serve(host: str, port: int, data_dir: str, token_file: str, workers: int, public_url: str | None,
          forwarded_allow_ips: str, max_queue: int, per_client: int, rate_per_minute: int, request_seconds: float,
          max_connections: int, drain_seconds: int, keep_exports_days: int, roster: str | None, year: int | None,
          deadline: str | None, county: str, coordinator_token_file: str | None, allow_private_fetch: bool,
          profile_ref: str | None, max_package_mb: int) -> None:
    """启动县级服务器（xlwings Server）：各单位电脑装服务器版加载项即可使用全部按钮，无需安装 Python。

    给出 --roster 和 --year 时，同时开通年报报送与审核：各单位提交年报（xl-addin submit 或网页），
    政务公开办查看看板、通过或退回（xl-addin board / review 或网页）。
    """
    from . import server

    profile = _profile(profile_ref)
    settings = _round_settings(data_dir, roster, year, deadline, county, coordinator_token_file, allow_private_fetch,
                               profile_ref, max_package_mb * 1024 * 1024)
    if not Path(token_file).exists():
        server.make_token_file(token_file)
        click.echo(f"已生成访问令牌：{token_file}（请妥善保管；制作加载项时用 --token-file 指定同一文件）")
    try:
        server.read_token(token_file)
    except ValueError as exc:
        _fail(str(exc))
    if os.environ.get("LISTEN_PID") != str(os.getpid()):  # no socket from systemd (server.listen_fd, read later)
        _check_port(host, port)
    click.echo(f"政务公开年报服务器：http://{host}:{port}{server.PREFIX}/  数据目录：{data_dir}  （Ctrl+C 停止）")
    wps_base = public_url.rstrip("/") if public_url else f"http://{host}:{port}"
    click.echo(f"WPS 表格加载项地址（填入 publish.xml，见《安装指南》）：{wps_base}{server.WPS_PATH}/")
    click.echo(f"  各电脑安装（带令牌，不再询问）：sh install-wps-addin.sh {wps_base} --token-file {token_file}")
    status, pinned = server.xlwings_status()
    click.echo(status, err=not pinned)
    click.echo(f"导出的报告保留 {keep_exports_days} 天，到期自动删除（记入 audit.log）")
    if not profile.national:
        click.echo(f"规则配置：{profile.title}（{profile.name}）：加载项的校验按该配置；模板请用 "
                   f"xl-addin template --profile 按同一配置生成")
    server.serve(data_dir, token_file, host=host, port=port, workers=workers, public_url=public_url,
                 forwarded_allow_ips=forwarded_allow_ips, max_queue=max_queue, per_client=per_client,
                 rate_per_minute=rate_per_minute, request_seconds=request_seconds, max_connections=max_connections,
                 drain_seconds=drain_seconds, keep_exports_days=keep_exports_days, round_settings=settings,
                 profile=None if profile.national else profile)


def _check_port(host: str, port: int) -> None:
    """Exit with a Chinese message when ``host:port`` cannot be listened on (in use, or not this machine's)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        _fail(f"无法在 {host}:{port} 上启动服务（{exc.strerror or exc}）：端口已被占用（可能已有一个服务器在运行，"
              "或被其他程序使用），或该地址不属于本机。请用 --port 换一个端口，或先停止原有的服务。")


def _round_settings(data_dir: str, roster: str | None, year: int | None, deadline: str | None, county: str,
                    coordinator_token_file: str | None, allow_private_fetch: bool = False,
                    profile_ref: str | None = None, max_package: int | None = None) -> Any:
    """The round ``serve`` runs (None without --roster and --year): the store opened once, the roster loaded and
    the coordinator's token file made sure of, before the workers start."""

    from . import rounds
    from .adapters.roundstore import StoreError
    from .collect import RosterError
    from .coordinator import ROLLUP

    if roster is None and year is None:
        if deadline or coordinator_token_file:
            _fail("--deadline、--coordinator-token-file 须与 --roster、--year 一起使用。")
        return None
    profile = _profile(profile_ref)
    if roster is None or year is None:
        _fail("开通年报报送须同时指定 --roster（报送名单）和 --year（报告年度）。")
    assert roster is not None and year is not None
    limit = _deadline(deadline)
    try:
        _roster_notes(roster)
        agencies = api.read_roster(roster)
        token_path = Path(coordinator_token_file).resolve() if coordinator_token_file else None
        settings = rounds.Settings(year, agencies, limit, county, token_path, profile=profile)
        roles, parents = settings.unit_roles(), settings.unit_parents()
        computed = [a.name for a in agencies.agencies if roles.get(a.key) == ROLLUP]
        if len(computed) > 1:  # the board, the coverage and the package know one 汇总 unit per round
            _fail(f"名单中有 {len(computed)} 个由本轮汇总的“汇总”单位（{'、'.join(computed[:5])}"
                  f"{'等' if len(computed) > 5 else ''}）：服务器的一轮报送只汇总一个单位。请把中间一级的汇总单位"
                  "单独开通报送（由它汇总本单位的下级，再向上报送上报包），或用 xl-addin collect 逐级汇总。")
        with rounds.County.from_settings(data_dir, settings) as c:
            made = c.coordinator_token_file
            count = len(c.store.agencies()) - len(c.computed_units())  # as the board counts them
    except (RosterError, StoreError) as exc:
        _fail(str(exc))
        return None
    click.echo(f"年报报送：{year} 年度，名单 {count} 个机关；看板 {rounds_path()}board，"
               f"协调人令牌文件：{made}（xl-addin board / review 的 --token-file）")
    for a in agencies.agencies:
        if roles.get(a.key) == ROLLUP:
            click.echo(f"汇总单位：{a.name}（年报由汇总生成，不需报送；看板不列为未提交）")
    return rounds.Settings(year, None, limit, county, made.resolve() if made is not None else None,
                           allow_private_fetch, None if profile.national else profile,
                           max_package or rounds.MAX_PACKAGE, roles, parents)


def rounds_path() -> str:
    from .round_routes import PREFIX

    return PREFIX + "/"


@main.command()
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="输出的加载项文件（.xlam）")
@click.option("--server", "server_url", help="县级服务器地址（如 https://gk.example.gov.cn）：制作服务器版加载项")
@click.option("--token-file", type=click.Path(exists=True, dir_okay=False), help="访问令牌文件（与 xl-addin serve 相同）")
@click.option("--interpreter", default="", help=r"本地版：写入加载项的 Python 路径，如 C:\Python311\pythonw.exe")
def addin(out: str, server_url: str | None, token_file: str | None, interpreter: str) -> None:
    """制作 Excel 加载项：服务器版（--server，按钮把工作簿发到县级服务器处理）或本地版（RunPython）。"""
    from . import server
    from .adapters import xlam_build

    if Path(out).suffix.lower() != ".xlam":
        _fail(f"加载项文件应以 .xlam 结尾：{out}")
    if bool(server_url) != bool(token_file):
        _fail("制作服务器版加载项需要同时指定 --server 和 --token-file。")
    if server_url and interpreter:
        _fail("服务器版加载项不使用本机 Python，请不要指定 --interpreter。")
    auth = ""
    if token_file:
        try:
            auth = server.auth_header(server.read_token(token_file))
        except ValueError as exc:
            _fail(str(exc))
    try:
        xlam_build.build(out, server=server_url or None, auth=auth, interpreter=interpreter)
    except ValueError as exc:
        _fail(str(exc))
    import xlwings

    kind = f"服务器版（{server_url}）" if server_url else "本地版"
    click.echo(f"已生成{kind}加载项：{out}（xlwings {xlwings.__version__}，须与服务器或本机 Python 的 xlwings 版本相同）")

@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--server", "server_url", help="县级服务器地址（默认：模板中写入的地址）")
@click.option("--key-file", type=click.Path(dir_okay=False),
              help="报送密钥文件（默认：模板中写入的密钥；指定时须同时给出 --server）")
@click.option("--json", "as_json", is_flag=True, help="输出服务器答复的 JSON")
def submit(file: str, server_url: str | None, key_file: str | None, as_json: bool) -> None:
    """向县级服务器提交年报工作簿（与“提交”按钮相同）。退出码：0 已提交（显示回执号），1 有错误未提交，2 被拒绝。"""
    from .adapters import round_client as rc
    from .adapters.fileio import read_guarded

    if key_file and not server_url:  # a key of one's own goes only where one says, never where a workbook says
        _fail("用 --key-file 指定报送密钥时，请同时用 --server 指定县级服务器地址（不使用工作簿中写入的地址）。")
    props = rc.read_properties(file)
    server_url = server_url or props.get(rc.PROP_SERVER)
    key = _read_token(key_file) if key_file else props.get(rc.PROP_KEY, "")
    if not server_url:
        _fail(f"{file} 中没有服务器地址：请用 --server 指定，或使用县政务公开办用 distribute --server 下发的模板。")
    if not key:
        _fail(f"{file} 中没有报送密钥：请用 --key-file 指定，或使用县政务公开办用 distribute --server 下发的模板。")
    try:
        data, _ = read_guarded(file)
    except ReadError as exc:
        _fail(str(exc))
    answer = _call(lambda: rc.submit(str(server_url), key, data, Path(file).name), str(server_url))
    value = answer.json if isinstance(answer.json, dict) else {}
    check = value.get("check") if isinstance(value.get("check"), dict) else None
    errors = int((check or {}).get("counts", {}).get("error", 0) or 0)
    if as_json:
        click.echo(json.dumps(value or {"ok": answer.ok, "status": answer.status, "message": answer.message},
                              ensure_ascii=False, indent=2))
    if answer.ok:
        if not as_json:
            click.echo(answer.message)
        sys.exit(EXIT_OK)
    if not as_json:
        click.echo(f"未提交：{answer.message or answer.status}", err=True)
        for f in (check or {}).get("findings", [])[:40] if errors else []:
            where = f"{f.get('sheet', '')}!{f.get('cell', '')}" if f.get("cell") else (f.get("sheet") or "整个工作簿")
            severity = {str(s): s.zh for s in Severity}.get(f.get("severity"), "")
            click.echo(f"  [{severity}] {f.get('rule', '')} {where}  {f.get('message', '')}", err=True)
    sys.exit(EXIT_FINDINGS if answer.status == 422 and errors else EXIT_UNREADABLE)


_STATE_ZH = {str(s): s.zh for s in State}
_PUBLISHED_ZH: dict[str | None, str] = {None: NOT_PUBLISHED_ZH, **{str(p): p.zh for p in Published}}


@main.command()
@click.option("--server", "server_url", required=True, help="县级服务器地址")
@click.option("--token-file", required=True, type=click.Path(dir_okay=False), help="协调人令牌文件")
@click.option("--json", "as_json", is_flag=True, help='输出 JSON：{"agencies": [...]}')
@click.option("--rollup", "rollup_out", type=click.Path(dir_okay=False), help="同时下载审核通过版本的汇总表（.xlsx）")
def board(server_url: str, token_file: str, as_json: bool, rollup_out: str | None) -> None:
    """查看报送看板：每个机关的状态、版本、退回理由、发布核对结果。"""
    from .adapters import round_client as rc
    from .adapters.fileio import atomic_write_bytes

    token = _read_token(token_file)
    answer = _call(lambda: rc.board(server_url, token), server_url)
    if not answer.ok or not isinstance(answer.json, dict):
        _fail(f"服务器拒绝：{answer.message or answer.status}")
    if as_json:
        click.echo(json.dumps(answer.json, ensure_ascii=False, indent=2))
    else:
        for a in answer.json.get("agencies", []):
            versions = a.get("versions") or []
            last = f"，最新第{len(versions)}版 {versions[-1].get('submitted_at', '')}" if versions else ""
            reasons = f"，退回理由：{'；'.join(a.get('reasons') or [])}" if a.get("reasons") else ""
            published = _PUBLISHED_ZH.get(a.get("published"), str(a.get("published")))
            click.echo(f"{a.get('name')}\t{_STATE_ZH.get(a.get('state'), a.get('state'))}{last}{reasons}\t{published}")
        _board_extras(answer.json)
    if rollup_out:
        got = _call(lambda: rc.rollup(server_url, token))
        if not got.ok:
            _fail(f"未生成汇总表：{got.message or got.status}")
        if not got.body.startswith(b"PK"):
            _fail(rc.NOT_SERVER.format(url=server_url))
        try:
            atomic_write_bytes(rollup_out, got.body)
        except OSError as exc:
            _fail(f"无法保存汇总表 {rollup_out}（{exc.strerror or exc}）。")
        click.echo(f"已下载汇总表（审核通过的版本）：{rollup_out}", err=as_json)


def _board_extras(doc: Mapping[str, Any]) -> None:
    """What the board page shows beside the agencies (a levelled round): its own 汇总 units, the deadline 逾期
    follows, the copy pairs -- each a line, when the server sends them."""
    for u in doc.get("rollup_units") or []:
        click.echo(f"本轮汇总单位：{u.get('name')}（年报由汇总生成）")
    if doc.get("deadline"):
        click.echo(str(doc["deadline"]))
    pairs = doc.get("copy_pairs") or []
    if pairs:
        percent = doc.get("copy_percent")
        shown = f"{percent:g}" if isinstance(percent, int | float) else str(percent)
        click.echo(f"内容雷同（重复超过 {shown}%）：{len(pairs)} 对")
        for p in pairs:
            share = round(max(float(p.get("share_a") or 0), float(p.get("share_b") or 0)) * 100)
            click.echo(f"  {p.get('a')} 与 {p.get('b')}：第{p.get('section')}部分“{p.get('title')}”重复 {share}%")


@main.command()
@click.argument("agency")
@click.option("--server", "server_url", required=True, help="县级服务器地址")
@click.option("--token-file", required=True, type=click.Path(dir_okay=False), help="协调人令牌文件")
@click.option("--accept", is_flag=True, help="审核通过")
@click.option("--return", "return_reasons", multiple=True, help="退回，写明理由（可多次给出）")
@click.option("--reopen", "reopen_reasons", multiple=True, help="撤销通过，写明理由")
@click.option("--published", "published", help="核对发布稿：发布页面的网址，或发布的 PDF/网页/Word 文件")
@click.option("--version", "version", type=click.IntRange(1, 100000),
              help="所审核的版本号（默认：最新版本；若已有更新的版本则拒绝）")
def review(agency: str, server_url: str, token_file: str, accept: bool, return_reasons: Sequence[str],
           reopen_reasons: Sequence[str], published: str | None, version: int | None) -> None:
    """审核一个机关的年报：--accept 通过，--return "理由" 退回，--reopen "理由" 撤销通过，
    --published 网址或文件 核对发布稿与审核通过稿。退出码：0 完成（发布稿一致），1 发布稿不一致，2 被拒绝。"""
    from .adapters import round_client as rc

    chosen = [(a, r) for a, r, given in (("accept", [], accept), ("return", list(return_reasons), return_reasons),
                                          ("reopen", list(reopen_reasons), reopen_reasons),
                                          ("published", [], published)) if given]
    if len(chosen) != 1:
        _fail("请指定一种操作：--accept、--return \"理由\"、--reopen \"理由\" 或 --published 网址或文件。")
    action, reasons = chosen[0]
    token = _read_token(token_file)
    if action == "published":
        answer = _call(lambda: rc.published(server_url, token, agency, str(published)), server_url)
        if not answer.ok:
            _fail(answer.message or f"服务器答复 {answer.status}")
        click.echo(answer.message)
        event = answer.json.get("event") if isinstance(answer.json, dict) else None
        sys.exit(EXIT_FINDINGS if isinstance(event, dict) and event.get("published") == "differs" else EXIT_OK)
    answer = _call(lambda: rc.review(server_url, token, agency, action, reasons, version), server_url)
    if not answer.ok:
        _fail(answer.message or f"服务器答复 {answer.status}")
    click.echo(answer.message)


if __name__ == "__main__":  # pragma: no cover
    main()


@main.command(help=f"审核已发布的年报：SOURCES 为年报所在文件夹（{spec.report_suffixes_zh()}、工作簿 .xlsx）、"
                   "网址清单文本文件（每行一个网址，# 开头为注释）或单个网址/文件。\n\n"
                   "在 OUT 中写出：每份年报的读取来源、读取情况、问题和结论（reports/*.json），审核汇总.xlsx，"
                   "数据集 dataset.parquet，通报草稿.docx，audit.json（本次运行清单）；下载的年报存于 sources/。"
                   "OUT 已存在时，同名文件被替换，上次运行留下而本次未写的 reports/、sources/ 文件被删除，其他文件不动。\n\n"
                   "退出码：0 全部通过；1 有年报不通过或无法读取；2 参数有误或无法写出 OUT。")
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", "out", required=True, type=click.Path(), help="输出文件夹")
@click.option("--county", default="", help="通报中的地区名称，如 宿迁市")
@click.option("--workers", type=click.IntRange(1, 256), help="并行进程数（默认：CPU 核数）")
@click.option("--time-limit", "file_seconds", type=click.FloatRange(1, 3600),
              help=f"读取一份年报最多用时（秒，默认 {checking.FILE_SECONDS:g}），超过则该份为“无法读取”")
@click.option("--memory-limit", "file_memory_mb", type=click.IntRange(0, 1 << 20),
              help=f"读取一份年报最多使用的内存（MB，默认 {checking.FILE_MEMORY_MB}，0 为不限）")
@click.option("--fetch-timeout", type=click.FloatRange(1, 600), default=30.0, show_default=True,
              help="下载一个网址最多用时（秒）")
@click.option("--fetch-retries", type=click.IntRange(0, 10), default=2, show_default=True,
              help="下载超时、连接失败或网站出错（5xx）时重试次数，间隔逐次加倍")
@click.option("--fetch-delay", type=click.FloatRange(0, 600), default=1.0, show_default=True,
              help="对同一网站两次请求之间的间隔（秒）")
@click.option("--max-size", "max_mb", type=click.IntRange(1, 60), default=60, show_default=True,
              help="一份年报最大体积（MB），超过不下载")
@click.option("--allow-private-fetch", is_flag=True,
              help="允许下载本机或内网地址的网址（门户网站在政务内网时使用；默认出于安全考虑拒绝）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--profile", "profile_ref", help=_PROFILE_HELP)
def audit(sources: Sequence[str], out: str, county: str, workers: int | None, file_seconds: float | None,
          file_memory_mb: int | None, fetch_timeout: float, fetch_retries: int, fetch_delay: float, max_mb: int,
          allow_private_fetch: bool, as_json: bool, profile_ref: str | None) -> None:
    from . import audit as au

    profile = _profile(profile_ref)

    if Path(out).exists() and not Path(out).is_dir():
        _fail(f"输出位置已存在且不是文件夹：{out}")
    policy = au.FetchPolicy(allow_private=allow_private_fetch, timeout=fetch_timeout, retries=fetch_retries,
                            host_delay=fetch_delay, max_bytes=max_mb * 1024 * 1024)
    result = au.run(sources, out, policy=policy, workers=workers, seconds=file_seconds, memory_mb=file_memory_mb,
                    progress=not as_json, county=county, profile=profile)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
        sys.exit(result.exit_code)
    click.echo(result.summary_zh())
    for r in result.reports:
        if r.verdict != au.PASS:
            why = r.reason or au._first_problem(r)
            click.echo(f"  [{r.verdict}] {r.unit or r.source}  {why}".rstrip())
    for note in result.notes:
        click.echo(f"  注意：{note}")
    names = {"summary": "审核汇总", "notice": "通报草稿", "dataset": "数据集"}
    click.echo("；".join(f"{zh}：{result.files[k]}" for k, zh in names.items() if result.files.get(k)))
    sys.exit(result.exit_code)
