"""The command line as a user runs it: exit codes, JSON, Chinese messages, bad input never crashes or changes."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, Filler, cli
from test_server_limits import chinese

from xl_addin import catalogue, rules, spec

run = cli  # in-process; test_cli_runs_as_a_process starts the real command once


def test_cli_runs_as_a_process(sample: Path, tmp_path: Path) -> None:
    """The installed entry point as a shell starts it: exit codes and Chinese output on the real streams."""
    r = subprocess.run([sys.executable, "-m", "xl_addin", "check", str(sample), str(tmp_path / "无此文件.xlsx")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "通过：共 0 处错误" in r.stdout and "文件不存在" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_valid_file_exits_0_with_a_chinese_summary(sample: Path) -> None:
    r = run("check", sample)
    assert r.returncode == 0, r.stderr
    assert "通过：共 0 处错误" in r.stdout


def test_check_with_errors_exits_1_and_names_sheet_cell_and_labels(filled: Filler) -> None:
    r = run("check", filled({"t3.new.natural": "/"}))
    assert r.returncode == 1
    assert "表三!D7" in r.stdout and "一、本年新收政府信息公开申请数量" in r.stdout and "不要填“/”" in r.stdout


def test_check_reports_a_rule_crashing_on_a_workbook_as_its_file_error(sample: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """One workbook is checked in the command's own process: a rule that crashes on what a workbook holds (here
    T1 made to divide by zero) gives the file's Chinese error and exit 2, not a traceback, as in a child process."""
    def crash(ctx: object) -> list[object]:
        return [1 // 0]

    monkeypatch.setitem(rules.CHECKS, "T1", crash)
    r = run("check", sample)
    assert r.returncode == 2
    assert f"✘ {sample}  无法读取：" in r.stderr and "意外错误（ZeroDivisionError）" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_check_json_schema(filled: Filler, sample: Path) -> None:
    bad = filled({"t3.new.natural": 3})
    r = run("check", sample, bad, "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert [f["valid"] for f in doc["files"]] == [True, False]
    f0 = doc["files"][1]
    assert set(f0) == {"path", "valid", "counts", "tally", "findings"}
    assert f0["counts"] == {"error": 3, "warning": 0, "info": 0}
    assert f0["tally"] == {"errors": 3, "warnings": 0, "blanks": 0, "infos": 0}  # the count every place shows
    for finding in f0["findings"]:
        assert set(finding) == {"rule", "code", "severity", "sheet", "cell", "labels", "values", "message"}
    narrative = spec.LAYOUT.locations["s1.on_request"].a1  # T1: the text still says 新收…1件
    assert {(x["rule"], x["cell"]) for x in f0["findings"]} == {("A3", "D31"), ("A3", "J31"), ("T1", narrative)}


BAD = ["not-a-workbook.xlsx", "empty.xlsx", "broken-truncated.xlsx", "sample-old-excel.xls", "sample-encrypted.xlsx",
       "foreign-workbook.xlsx", "report.ods"]


@pytest.mark.parametrize("name", BAD)
def test_unreadable_files_exit_2_with_a_chinese_reason_and_stay_unchanged(name: str) -> None:
    path = DATA / name
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    r = run("check", path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    assert str(path) in r.stderr and "无法读取" in r.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    j = run("check", path, "--json")
    assert j.returncode == 2 and json.loads(j.stdout)["files"][0]["error"]


def test_missing_file_and_a_folder(tmp_path: Path) -> None:
    r = run("check", tmp_path / "无此文件.xlsx", tmp_path)
    assert r.returncode == 2 and "文件不存在" in r.stderr and "文件夹" in r.stderr


def test_one_unreadable_file_does_not_stop_the_others(sample: Path) -> None:
    r = run("check", DATA / "empty.xlsx", sample)
    assert r.returncode == 2 and "通过：共 0 处错误" in r.stdout


def test_fill_rejects_unreadable_input_without_writing(tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    r = run("fill", DATA / "broken-truncated.xlsx", "-o", out)
    assert r.returncode == 2 and "损坏" in r.stderr and not out.exists()
    r = run("fill", DATA / "broken-truncated.xlsx")
    assert r.returncode == 2 and "二选一" in r.stderr


def test_fill_cli_reports_changes_with_labels(filled: Filler, tmp_path: Path) -> None:
    out = tmp_path / "合计.xlsx"
    r = run("fill", filled({"t3.granted.total": 5}), "-o", out)
    assert r.returncode == 0 and "表三!J9" in r.stdout and "（一）予以公开" in r.stdout and "=SUM(D9:I9)" in r.stdout
    assert run("check", out).returncode == 0


def test_fill_in_place_keeps_bak(filled: Filler) -> None:
    src = filled({"t4.review.total": 2})
    r = run("fill", src, "--in-place")
    assert r.returncode == 0 and Path(str(src) + ".bak").exists()


def test_template_with_facts_then_put_then_check(tmp_path: Path) -> None:
    t = tmp_path / "模板 2025.xlsx"
    r = run("template", "-o", t, "--agency", "某某县财政局", "--kind", "政府部门", "--level", "县级", "--year", "2025")
    assert r.returncode == 0, r.stderr
    checked = json.loads(run("check", t, "--json").stdout)["files"][0]
    assert not any(f["rule"] == "S4" for f in checked["findings"])
    s = tmp_path / "样例.xlsx"
    assert run("put", t, "--sample", "-o", s).returncode == 0
    assert run("check", s).returncode == 0


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    assert run("template", "-o", tmp_path / "x.xlsx", "--kind", "局").returncode == 2
    assert run("check").returncode == 2
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"t9.x": 1}', encoding="utf-8")
    r = run("template", "-o", tmp_path / "y.xlsx", "--data", bad_json)
    assert r.returncode == 2 and "未知的项目" in r.stderr and "Traceback" not in r.stderr


def test_rules_json_lists_the_whole_catalogue() -> None:
    r = run("rules", "--json")
    assert r.returncode == 0
    rows = json.loads(r.stdout)
    assert [x["code"] for x in rows] == list(catalogue.CATALOGUE)
    assert {x["id"] for x in rows} == set(catalogue.rule_ids())
    s2 = {x["variant"]: x["severity"] for x in rows if x["id"] == "S2"}  # each variant its own level
    assert s2["literal"] == "warning" and s2["formula"] == "error"


@pytest.mark.parametrize("command", [("template", "-o", "{out}/t.xlsx"), ("fill", "{sample}", "-o", "{out}/f.xlsx"),
                                     ("put", "{sample}", "--sample", "-o", "{out}/p.xlsx"),
                                     ("collect", "{folder}", "-o", "{out}/c.xlsx"),
                                     ("addin", "-o", "{out}/a.xlam")])
def test_an_output_path_that_cannot_be_written_is_a_chinese_message(command: tuple[str, ...], sample: Path,
                                                                    tmp_path: Path) -> None:
    """An output under a file (or a missing drive, a read-only folder) was a traceback (FileExistsError)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(sample, folder / "a.xlsx")
    args = [a.format(out=blocker, sample=sample, folder=folder) for a in command]
    r = cli(*args)
    assert r.returncode == 2 and "a-file" in r.stderr and chinese(r.stderr), r


def test_serve_on_a_port_in_use_says_so_in_chinese(tmp_path: Path) -> None:
    """Was uvicorn's English "[Errno 98] error while attempting to bind", exit 3, after the banner had announced
    the server as running."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = cli("serve", "--port", str(port), "--data-dir", tmp_path / "data", "--token-file", tmp_path / "t.txt")
    assert r.returncode == 2 and str(port) in r.stderr and "已被占用" in r.stderr, r
    assert "Ctrl+C" not in r.stdout


def test_collect_and_serve_say_the_same_of_a_deadline_not_written_as_a_date(tmp_path: Path) -> None:
    said = "截止日期应为 YYYY-MM-DD 格式，如 2025-01-31，现为“1月31日”。"
    collect = run("collect", tmp_path, "-o", tmp_path / "s.xlsx", "--deadline", "1月31日")
    serve = run("serve", "--data-dir", tmp_path / "d", "--token-file", tmp_path / "t.txt", "--roster",
                tmp_path / "名单.csv", "--year", "2023", "--deadline", "1月31日")
    for r in (collect, serve):
        assert r.returncode == 2 and said in r.stderr, r.stderr
    assert not (tmp_path / "s.xlsx").exists() and not (tmp_path / "d").exists()
