"""The unit registry (issue 22): the roster's 上级机关, 报告范围, 汇总范围, 单位编号 and 单位类型 columns -- parents,
scopes, ids that are not names -- and the Chinese refusals of a bad registry. A roster without them reads as
before (tests/test_collect.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import cli as run_cli

from xl_addin import api
from xl_addin.collect import RosterError, parse_roster

HEAD = ("机关名称", "机关类别", "层级", "上级单位", "报告范围")


def write(path: Path, rows: list[tuple[str, ...]], head: tuple[str, ...] = HEAD) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        w.writerows(rows)
    return path


CITY = [("甲市人民政府", "人民政府", "市级", "", "汇总"),
        ("甲县人民政府", "政府", "县", "甲市人民政府", "全县"),
        ("财政局", "部门", "县级", "甲县人民政府", ""),
        ("乙县人民政府", "人民政府", "县级", "甲市人民政府", "汇总"),
        ("财政局", "政府部门", "县级", "乙县人民政府", "本级"),
        ("甲市财政局", "政府部门", "市级", "甲市人民政府", "本级")]


def test_parents_scopes_and_ids_with_two_units_of_one_name(tmp_path: Path) -> None:
    r = api.read_roster(write(tmp_path / "名单.csv", CITY))
    city, county_a, fin_a, county_b, fin_b, city_fin = r.agencies
    # twenty counties have a 财政局: two units, two ids, each under its own county
    assert fin_a.name == fin_b.name and fin_a.unit_id != fin_b.unit_id
    assert (fin_a.parent, fin_b.parent) == (county_a.unit_id, county_b.unit_id)
    assert (city.parent, county_a.parent, city_fin.parent) == ("", city.unit_id, city.unit_id)
    assert [a.scope for a in r.agencies] == ["汇总", "汇总", "本级", "汇总", "本级", "本级"]
    assert [a.unit_type for a in r.agencies] == ["人民政府", "人民政府", "部门", "人民政府", "部门", "部门"]
    # a 汇总 unit covers the units whose 上级机关 it is; the lowest are rolled up first
    assert [a.name for a in r.covered(city.unit_id)] == ["甲县人民政府", "乙县人民政府", "甲市财政局"]
    assert [a.name for a in r.summaries()] == ["甲县人民政府", "乙县人民政府", "甲市人民政府"]
    # what was read other than as written is said, naming the file and row
    assert any("第3行" in n and "“报告范围”写作“全县”，按“汇总”处理" in n for n in r.notes)
    assert any("第3行" in n and "“层级”写作“县”，按“县级”处理" in n for n in r.notes)


def test_generated_ids_are_stable_whatever_the_row_order_and_given_ids_win(tmp_path: Path) -> None:
    a = parse_roster([HEAD, *CITY], "a.csv")
    b = parse_roster([HEAD, *reversed(CITY)], "b.csv")
    assert {(x.name, x.unit_id, x.parent) for x in a.agencies} == {(x.name, x.unit_id, x.parent) for x in b.agencies}
    head = (*HEAD, "单位编号", "统一社会信用代码")
    rows = [("甲县人民政府", "人民政府", "县级", "", "汇总", "JX", ""),
            ("财政局", "政府部门", "县级", "JX", "", "", "11350428MB1234567X")]
    r = parse_roster([head, *rows], "c.csv")
    assert [x.unit_id for x in r.agencies] == ["JX", "11350428MB1234567X"]
    assert r.agencies[1].parent == "JX"


def test_coverage_column_overrides_the_children(tmp_path: Path) -> None:
    head = (*HEAD, "汇总范围")
    rows = [("甲县人民政府", "人民政府", "县级", "", "汇总", "财政局、教育局"),
            ("财政局", "政府部门", "县级", "甲县人民政府", "", ""),
            ("教育局", "政府部门", "县级", "", "", ""),
            ("公安局", "政府部门", "县级", "甲县人民政府", "", "")]
    r = api.read_roster(write(tmp_path / "名单.csv", rows, head))
    assert [a.name for a in r.covered(r.agencies[0].unit_id)] == ["财政局", "教育局"]  # not 公安局 (vertical)


@pytest.mark.parametrize(("rows", "message"), [
    ([("甲", "人民政府", "县级", "乙", ""), ("乙", "人民政府", "县级", "甲", "")],
     "名单.csv 第2行（甲）：“上级机关”形成循环（第2行→第3行→第2行）"),
    ([("甲", "人民政府", "县级", "丙县人民政府", "")], "名单.csv 第2行（甲）：“上级机关”中的“丙县人民政府”不在名单中"),
    ([("甲", "人民政府", "县级", "", "汇总"), ("财政局", "政府部门", "县级", "甲", ""),
      ("乙", "人民政府", "县级", "", "汇总"), ("财政局", "政府部门", "县级", "乙", ""),
      ("丙", "政府部门", "县级", "财政局", "")],
     "名单.csv 第6行（丙）：“上级机关”中的“财政局”在名单中有多个（第3行、第5行），请改填单位编号或统一社会信用代码"),
    ([("甲", "人民政府", "县级", "", "汇总"), ("财政局", "政府部门", "县级", "甲", ""),
      ("财政局", "政府部门", "县级", "甲", "")], "名单.csv 第4行（财政局）：同一上级机关下的机关“财政局”与第3行重复"),
    ([("甲", "人民政府", "县级", "", "半级")], "名单.csv 第2行（甲）：“报告范围”应为“本级”或“汇总”，现为“半级”"),
])
def test_bad_registry_is_refused_in_chinese_naming_file_and_row(tmp_path: Path, rows: list[tuple[str, ...]],
                                                                 message: str) -> None:
    p = write(tmp_path / "名单.csv", rows)
    with pytest.raises(RosterError) as exc:
        api.read_roster(p)
    assert message in str(exc.value).replace(str(tmp_path) + "/", "")


def test_duplicate_ids_and_unknown_coverage_are_refused(tmp_path: Path) -> None:
    head = (*HEAD, "单位编号", "汇总范围")
    rows = [("甲", "人民政府", "县级", "", "汇总", "A1", "丁"), ("乙", "政府部门", "县级", "A1", "", "A1", "")]
    with pytest.raises(RosterError) as exc:
        api.read_roster(write(tmp_path / "名单.csv", rows, head))
    assert "名单.csv 第3行（乙）：单位编号或统一社会信用代码“A1”与第2行重复" in str(exc.value)
    rows = [("甲", "人民政府", "县级", "", "汇总", "A1", "丁"), ("乙", "政府部门", "县级", "A1", "", "A2", "")]
    with pytest.raises(RosterError) as exc:
        api.read_roster(write(tmp_path / "名单.csv", rows, head))
    assert "名单.csv 第2行（甲）：“汇总范围”中的“丁”不在名单中" in str(exc.value)


def test_cli_refuses_a_cyclic_registry_with_exit_2(tmp_path: Path) -> None:
    p = write(tmp_path / "名单.csv", [("甲", "人民政府", "县级", "乙", ""), ("乙", "人民政府", "县级", "甲", "")])
    (tmp_path / "in").mkdir()
    r = run_cli("collect", tmp_path / "in", "--roster", p, "-o", tmp_path / "out.xlsx")
    assert r.returncode == 2 and "形成循环" in r.stderr + r.stdout


def test_a_roster_without_registry_columns_reads_as_before(tmp_path: Path) -> None:
    p = write(tmp_path / "名单.csv", [("甲县财政局", "政府部门", "县", "")], ("机关名称", "机关类别", "层级", "联系人"))
    r = api.read_roster(p)
    a = r.agencies[0]
    assert (a.uid, a.parent, a.scope, a.covers, a.level) == ("", "", "本级", (), "县级")
    assert a.unit_id.startswith("G") and not r.summaries()


def test_a_coverage_cycle_is_refused(tmp_path: Path) -> None:
    head = (*HEAD, "汇总范围")
    rows = [("甲", "人民政府", "县级", "", "汇总", "乙"), ("乙", "人民政府", "县级", "", "汇总", "甲")]
    with pytest.raises(RosterError) as exc:
        api.read_roster(write(tmp_path / "名单.csv", rows, head))
    assert "名单.csv 第2行（甲）：“汇总范围”形成循环（第2行→第3行→第2行）" in str(exc.value)


def test_columns_a_roster_of_today_may_have_do_not_make_it_a_registry(tmp_path: Path) -> None:
    """编号, 类型 and 范围 are not read as the registry's columns: such a roster reads as before (a name twice is
    still a duplicate, whatever its 编号)."""
    head = ("编号", "机关名称", "机关类别", "层级", "类型", "范围")
    rows = [("1", "甲县财政局", "政府部门", "县级", "行政机关", "全县"), ("2", "甲县财政局", "政府部门", "县级", "", "")]
    with pytest.raises(RosterError, match="机关“甲县财政局”与第2行重复"):
        api.read_roster(write(tmp_path / "名单.csv", rows, head))
    r = api.read_roster(write(tmp_path / "名单2.csv", rows[:1], head))
    assert r.agencies[0].uid == "" and r.agencies[0].scope == "本级" and not r.notes


def test_one_folder_for_two_units_of_one_name_asks_for_packages(tmp_path: Path) -> None:
    """Files are matched by the name inside them: two 财政局 in one folder cannot be told apart, so collect says
    to roll each county up on its own and send its package."""
    (tmp_path / "in").mkdir()
    r = run_cli("collect", tmp_path / "in", "--roster", write(tmp_path / "名单.csv", CITY), "-o", tmp_path / "o.xlsx")
    assert r.returncode == 2 and "同名机关（第4行“财政局”等）" in r.stderr and "--package" in r.stderr
