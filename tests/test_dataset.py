"""Issue 22 item 7: the dataset. Every collected report becomes rows of one tidy table (unit, parent, scope, level,
year, cell key, official labels, value, source, verdict) that analysts open with pandas; the indicators offices
compare units by, with the change from last year and a minimum count; ``collect --dataset``, the round's
download, and the national path (shards by parent unit -> Parquet -> one DuckDB query) on one machine."""

from __future__ import annotations

import io
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED, cli
from hypothesis import given
from hypothesis import strategies as st

from xl_addin import api, dataset, derive, spec
from xl_addin.adapters.dataset_io import DatasetError, merge_datasets, read_dataset, write_dataset
from xl_addin.adapters.xlsx_patch import Patcher
from xl_addin.dataset import INDICATOR_BY_NAME, KEYS, Entry, indicators, tidy_rows

ROOT = Path(__file__).resolve().parents[1]

# ---- the tidy table ---------------------------------------------------------------------------------------------

cell_values = st.one_of(st.none(), st.integers(0, 10**6), st.integers(-(10**400), 10**400),
                        st.floats(allow_nan=True, allow_infinity=True),
                        st.text(max_size=3), st.booleans())
value_maps = st.dictionaries(st.sampled_from(KEYS), cell_values, max_size=40)
entries_st = st.lists(st.builds(Entry, unit=st.text(max_size=6), year=st.one_of(st.none(), st.integers(2021, 2030)),
                                values=value_maps, unit_id=st.text(max_size=4), parent=st.text(max_size=4),
                                scope=st.sampled_from(("", *dataset.SCOPES)), level=st.sampled_from(("", *spec.LEVELS)),
                                source=st.text(max_size=8), verdict=st.sampled_from(("", *dataset.VERDICTS))),
                      max_size=4)


def _expected(v: Any) -> int | float | None:
    """A cell's number as a user means it: numbers (finite), nothing else."""
    if isinstance(v, bool) or not isinstance(v, int | float) or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if isinstance(v, int) and abs(v) > 2**53:  # beyond what float64 holds exactly: the nearest float, or nothing
        try:
            return float(v)
        except OverflowError:
            return None
    return v


@given(entries_st)
def test_tidy_rows_round_trip_to_the_values_with_the_official_labels(entries: list[Entry]) -> None:
    rows = list(tidy_rows(entries))
    assert len(rows) == len(entries) * len(KEYS) == len(rows)
    for i, e in enumerate(entries):
        mine = rows[i * len(KEYS):(i + 1) * len(KEYS)]
        assert [r["key"] for r in mine] == list(KEYS)
        for r in mine:
            assert tuple(r) == dataset.COLUMNS
            assert (r["unit"], r["unit_id"], r["parent"], r["scope"], r["level"], r["year"], r["source"],
                    r["verdict"]) == (e.unit, e.unit_id, e.parent, e.scope, e.level, e.year, e.source, e.verdict)
            assert r["value"] == _expected(e.values.get(r["key"]))
            assert (r["row_label"], r["col_label"]) == spec.labels_of(r["key"])
            assert r["table"] == spec.TABLE_OF_KEY[r["key"]].heading
    # the columnar form a writer uses says the same, row for row
    cols = dataset.columns(entries)
    assert cols.n_rows == len(rows)
    assert cols.values == [r["value"] for r in rows]


def test_the_table_has_every_cell_of_tables_two_three_four_in_official_words() -> None:
    assert len(KEYS) == len(spec.DATA_CELLS) == 200
    row = next(r for r in tidy_rows([Entry("将乐县财政局", 2023, {"t4.review.corrected": 2})])
               if r["key"] == "t4.review.corrected")
    assert (row["table"], row["row_label"], row["col_label"], row["value"]) == (
        "四、政府信息公开行政复议、行政诉讼情况", "行政复议", "结果纠正", 2)


def test_an_imported_published_report_becomes_an_entry_with_its_unread_cells_empty() -> None:
    from xl_addin.model import ReportData

    data = ReportData(values={"meta.agency": "宿迁市人民政府", "meta.year": 2023, "meta.level": "市级", **_suqian(),
                              "t3.new.natural": None}, source="suqian-city-2023.txt")
    e = dataset.entry_of(data, scope="汇总", verdict="不通过")
    assert (e.unit, e.year, e.level, e.scope, e.source) == ("宿迁市人民政府", 2023, "市级", "汇总", "suqian-city-2023.txt")
    rows = {r["key"]: r["value"] for r in tidy_rows([e])}
    assert rows["t3.new.natural"] is None and rows["t3.new.total"] == 3511 and rows["t4.review.corrected"] == 17


# ---- indicators -------------------------------------------------------------------------------------------------

def test_the_six_indicators_are_the_ones_offices_compare_and_name_spec_cells() -> None:
    assert [i.label for i in dataset.INDICATORS] == ["实质公开率", "无法提供占比", "不予处理占比", "复议纠错率",
                                                     "诉讼纠错率", "结转率"]
    for ind in dataset.INDICATORS:
        assert ind.numerator and ind.denominator
        assert set(ind.numerator + ind.denominator) <= set(spec.DATA_CELLS), ind.name
    # 无法提供 and 不予处理 are their rows' 总计 of every sub-item the format has
    assert len(INDICATOR_BY_NAME["unable_share"].numerator) == 3
    assert len(INDICATOR_BY_NAME["ignored_share"].numerator) == 5


SUQIAN = SHARED / "examples" / "published" / "expected" / "suqian-city-2023.json"


def _suqian() -> dict[str, Any]:
    """The 宿迁市 2023 report's tables 三 and 四 (its expected values, rows and columns in the format's order)."""
    d = json.loads(SUQIAN.read_text(encoding="utf-8"))
    t3_rows = [c.key.split(".")[1] for c in spec.TABLE_BY_ID["t3"].cells if c.key.endswith(".natural")]
    values: dict[str, Any] = {}
    for row, figures in zip(t3_rows, d["t3"], strict=True):
        values.update({f"t3.{row}.{col}": v for (col, _), v in zip(spec.T3_COLS, figures, strict=True)})
    values.update({c.key: v for c, v in zip(spec.TABLE_BY_ID["t4"].cells, d["t4"], strict=True)})
    return values


def test_indicators_of_a_published_report_are_its_own_figures_divided() -> None:
    rows = {r["indicator"]: r for r in indicators([Entry("宿迁市人民政府", 2023, _suqian(), scope="汇总")])}
    # read off the report's tables by hand: 予以公开 1191, 部分公开 328, 总计 3486; 无法提供 1047+28+3; 不予处理
    # 305+39+0+58+4; 新收 3511, 上年结转 96, 结转下年度 121; 复议 维持 309 纠正 17 其他 88; 诉讼 纠正 1+0 of
    # 1+1+16 and 13+0+67 decided
    assert rows["disclosed_rate"]["rate"] == pytest.approx((1191 + 328) / 3486)
    assert rows["unable_share"]["rate"] == pytest.approx(1078 / 3486)
    assert rows["ignored_share"]["rate"] == pytest.approx(406 / 3486)
    assert rows["carried_out_rate"]["rate"] == pytest.approx(121 / (3511 + 96))
    assert rows["review_corrected_rate"]["rate"] == pytest.approx(17 / 414)
    assert rows["suit_corrected_rate"]["rate"] == pytest.approx(1 / 98)
    assert all(r["note"] == "" and r["label"] for r in rows.values())


def _t3(handled: int, granted: int, partial: int = 0) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(KEYS, 0)
    values.update({"t3.total.total": handled, "t3.granted.total": granted, "t3.partial.total": partial,
                   "t3.new.total": handled})
    return values


def test_one_of_two_is_not_reported_as_fifty_percent() -> None:
    rate = next(r for r in indicators([Entry("甲", 2023, _t3(2, 1))]) if r["indicator"] == "disclosed_rate")
    assert rate["rate"] is None and rate["numerator"] == 1 and rate["denominator"] == 2
    assert "仅2件" in rate["note"] and f"少于{dataset.MIN_COUNT}件" in rate["note"]
    big = next(r for r in indicators([Entry("乙", 2023, _t3(20, 10))]) if r["indicator"] == "disclosed_rate")
    assert big["rate"] == 0.5 and big["note"] == ""


def test_a_missing_figure_names_the_cell_instead_of_a_rate() -> None:
    values = _t3(30, 10)
    values["t3.partial.total"] = None
    rate = next(r for r in indicators([Entry("甲", 2023, values)]) if r["indicator"] == "disclosed_rate")
    assert rate["rate"] is None and "表三" in rate["note"] and "部分公开" in rate["note"]


@given(st.lists(st.dictionaries(st.sampled_from(KEYS), st.one_of(st.none(), st.integers(0, 60)), max_size=60),
                min_size=1, max_size=5), st.integers(1, 30))
def test_a_rate_is_within_0_and_1_and_none_below_the_minimum_count(maps: list[dict[str, Any]], min_count: int) -> None:
    rows = indicators([Entry(f"单位{i}", 2023, m) for i, m in enumerate(maps)], min_count=min_count)
    assert len(rows) == len(maps) * len(dataset.INDICATORS)
    for r in rows:
        if r["rate"] is None:
            assert r["note"], r
        else:
            assert 0 <= r["rate"] <= 1 and r["note"] == ""
            assert r["denominator"] >= min_count
            assert r["rate"] == pytest.approx(r["numerator"] / r["denominator"])
        if r["denominator"] is not None and r["denominator"] < min_count:
            assert r["rate"] is None


def test_the_change_from_last_year_follows_the_unit_id_not_the_name() -> None:
    rows = indicators([Entry("将乐县财政局", 2022, _t3(20, 5), unit_id="U1", parent="将乐县"),
                       Entry("将乐县财政局（更名）", 2023, _t3(40, 30), unit_id="U1", parent="将乐县"),
                       # the same name under another parent is another unit: no prior year
                       Entry("财政局", 2022, _t3(10, 10), parent="泰宁县"),
                       Entry("财政局", 2023, _t3(10, 5), parent="将乐县")])
    disclosed = [r for r in rows if r["indicator"] == "disclosed_rate"]
    assert [r["rate"] for r in disclosed] == [0.25, 0.75, 1.0, 0.5]
    assert disclosed[1]["prior_rate"] == 0.25 and disclosed[1]["change"] == pytest.approx(0.5)
    assert disclosed[0]["change"] is None and disclosed[3]["prior_rate"] is None and disclosed[3]["change"] is None


# ---- files ------------------------------------------------------------------------------------------------------

def county_entries(n: int, parents: int = 3) -> list[Entry]:
    out = []
    for i in range(n):
        values: dict[str, Any] = {k: (i * 7 + j) % 11 for j, k in enumerate(KEYS)}
        values["t2.fees.amount"] = round(0.0125 * (i % 9), 4)
        values["t3.new.natural"] = None if i % 4 == 0 else values["t3.new.natural"]
        out.append(Entry(f"第{i}号机关", 2023, values, unit_id=f"0{i:05d}", parent=f"上级{i % parents}",
                         scope="本级", level="县级", source=f"/收件箱/第{i}号机关.xlsx", verdict="通过"))
    return out


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_written_and_read_back_with_pandas_it_is_the_tidy_table(tmp_path: Path, suffix: str) -> None:
    items = county_entries(7)
    path = tmp_path / f"数据集{suffix}"
    n = write_dataset(items, path)
    assert n == 7 * len(KEYS)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # written atomically: no temporary left
    df = read_dataset(path)
    assert list(df.columns) == list(dataset.COLUMNS) and len(df) == n
    assert str(df["year"].dtype) == "Int64" and str(df["value"].dtype) == "float64"
    assert set(df["unit_id"]) == {e.unit_id for e in items}  # leading zeros kept
    want = list(tidy_rows(items))
    for col in ("unit", "parent", "key", "row_label", "col_label", "table", "source"):
        assert [str(v) for v in df[col]] == [r[col] for r in want], col
    got = [None if math.isnan(v) else v for v in df["value"]]
    assert got == [r["value"] for r in want]


def test_a_hostile_count_is_written_as_the_nearest_float_or_nothing(tmp_path: Path) -> None:
    e = Entry("甲", 2023, {"t3.new.natural": 10**20, "t3.new.business": 10**400, "t3.new.research": 2**53,
                          "t3.new.nonprofit": float("inf"), "t3.new.legal": True})
    n = write_dataset([e], tmp_path / "a.parquet")
    df = read_dataset(tmp_path / "a.parquet").set_index("key")["value"]
    assert n == len(KEYS) and df["t3.new.natural"] == 1e20 and df["t3.new.research"] == 2**53
    assert all(math.isnan(df[k]) for k in ("t3.new.business", "t3.new.nonprofit", "t3.new.legal"))


def test_a_dataset_file_of_another_kind_is_refused_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"\.parquet 或 \.csv"):
        write_dataset(county_entries(1), tmp_path / "数据集.xlsx")
    bad = tmp_path / "坏.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(DatasetError, match="无法读取数据集"):
        read_dataset(bad)


def test_the_core_imports_and_writes_csv_without_pandas_and_says_what_to_install(tmp_path: Path) -> None:
    code = f"""
import sys
for m in ("pandas", "pyarrow", "pyarrow.parquet", "numpy", "duckdb"):
    sys.modules[m] = None
from xl_addin import dataset, cli
from xl_addin.adapters import dataset_io
e = dataset.Entry("甲", 2023, {{"t3.new.natural": 3}})
print(dataset_io.write_dataset([e], {str(tmp_path / 'a.csv')!r}))
for call in (lambda: dataset_io.write_dataset([e], {str(tmp_path / 'a.parquet')!r}),
             lambda: dataset_io.read_dataset({str(tmp_path / 'a.csv')!r})):
    try:
        call()
    except dataset_io.DatasetError as exc:
        print(exc)
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                         check=True).stdout.splitlines()
    assert out[0] == str(len(KEYS))
    assert len(out) == 3 and all('pip install "xl_addin[dataset]"' in line for line in out[1:]), out
    assert not (tmp_path / "a.parquet").exists()


def test_indicators_command_compares_years_of_datasets(tmp_path: Path) -> None:
    import pandas as pd

    last = [Entry("将乐县财政局", 2022, _t3(20, 5), unit_id="U1"), Entry("将乐县教育局", 2022, _t3(3, 3), unit_id="U2")]
    this = [Entry("将乐县财政局", 2023, _t3(40, 30), unit_id="U1"), Entry("将乐县教育局", 2023, _t3(2, 1), unit_id="U2")]
    write_dataset(last, tmp_path / "2022.parquet")
    write_dataset(this, tmp_path / "2023.csv")
    r = cli("indicators", tmp_path / "2022.parquet", tmp_path / "2023.csv", "-o", tmp_path / "指标.csv")
    assert r.returncode == 0, r.stderr
    assert "4 份年报" in r.stdout
    df = pd.read_csv(tmp_path / "指标.csv", encoding="utf-8-sig")
    assert list(df.columns) == list(dataset.INDICATOR_COLUMNS) and len(df) == 4 * len(dataset.INDICATORS)
    rate = df[df["indicator"] == "disclosed_rate"].set_index(["unit_id", "year"])
    assert rate.loc[("U1", 2023), "rate"] == 0.75 and rate.loc[("U1", 2023), "change"] == pytest.approx(0.5)
    assert math.isnan(rate.loc[("U2", 2023), "rate"]) and "仅2件" in rate.loc[("U2", 2023), "note"]
    assert rate.loc[("U1", 2023), "label"] == "实质公开率"
    bad = cli("indicators", tmp_path / "没有.parquet", "-o", tmp_path / "x.csv")
    assert bad.returncode == 2 and "数据集文件不存在" in bad.stderr


# ---- the national path: shards by parent unit, one query ---------------------------------------------------------

def test_three_shards_merged_total_what_the_unsharded_run_totals(tmp_path: Path) -> None:
    import duckdb

    items = county_entries(30, parents=3)
    whole = tmp_path / "全部.parquet"
    write_dataset(items, whole)
    shards = []
    for parent, part in dataset.by_parent(items).items():
        shards.append(tmp_path / "分片" / f"{parent}.parquet")
        write_dataset(part, shards[-1])
    assert len(shards) == 3
    merged = tmp_path / "合并.parquet"
    assert merge_datasets(shards, merged) == 30 * len(KEYS)
    a, b = read_dataset(whole), read_dataset(merged)
    assert len(a) == len(b)
    totals = a.groupby("key", observed=True)["value"].sum()
    assert b.groupby("key", observed=True)["value"].sum().to_dict() == pytest.approx(totals.to_dict())
    assert sorted(b["unit_id"].astype(str).unique()) == sorted(e.unit_id for e in items)
    # the analyst's one query straight over the shards
    q = duckdb.sql(f"SELECT key, sum(value) AS total, count(DISTINCT unit_id) AS units "
                   f"FROM read_parquet('{tmp_path}/分片/*.parquet') GROUP BY key").fetchall()
    assert {k: t for k, t, _ in q} == pytest.approx(totals.to_dict())
    assert {u for _, _, u in q} == {30}
    with pytest.raises(DatasetError, match="分片"):
        merge_datasets([tmp_path / "没有.parquet"], tmp_path / "x.parquet")


# ---- collect --dataset ------------------------------------------------------------------------------------------

CODE = "91350428MA2XXXXX0K"


@pytest.fixture(scope="module")
def county(template: Path, sample_values: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dataset-county")
    folder = root / "收件箱"
    folder.mkdir()
    (root / "名单.csv").write_text("机关名称,机关类别,层级,联系人,统一社会信用代码\n"
                                   f"将乐县财政局,政府部门,县级,甲,{CODE}\n将乐县教育局,政府部门,县,乙,\n"
                                   "将乐县民政局,政府部门,县级,丙,\n将乐县水利局,政府部门,县级,丁,\n", encoding="utf-8")
    patcher = Patcher(template.read_bytes())
    for i, name in enumerate(("将乐县财政局", "将乐县教育局", "将乐县民政局")):
        v = dict(sample_values, **{"meta.agency": name, "meta.year": 2023, "meta.kind": "政府部门",
                                   "meta.level": "县级", "t3.new.natural": 1 + i, "t3.granted.natural": 1 + i,
                                   "s1.on_request": "本年度依申请公开工作依法有序开展，申请均在法定期限内答复。"})
        if i == 2:
            v["t3.new.natural"] = "/"  # fails the check: the report is in the dataset, its cell has no number
        (folder / f"{name}.xlsx").write_bytes(patcher.patch(v))
    return root


def test_collect_writes_the_dataset_of_every_report_used(county: Path) -> None:
    out = county / "dataset.parquet"
    r = cli("collect", county / "收件箱", "--roster", county / "名单.csv", "-o", county / "汇总.xlsx",
            "--workers", "1", "--dataset", out)
    assert r.returncode == 1  # one agency missing, one report failing
    assert f"数据集：{out}（{3 * len(KEYS)} 行）" in r.stdout
    df = read_dataset(out)
    units = df.drop_duplicates("unit")
    assert [str(u) for u in units["unit"]] == ["将乐县财政局", "将乐县教育局", "将乐县民政局"]  # roster order
    assert [str(v) for v in units["verdict"]] == ["通过", "通过", "不通过"]
    ids = [str(v) for v in units["unit_id"]]  # the credit code; else the registry's stable generated id
    assert ids[0] == CODE and all(ids[1:]) and len(set(ids)) == 3
    assert set(df["level"].astype(str)) == {"县级"}  # the roster's 县 read as 县级
    assert set(df["year"]) == {2023}
    new = df[df["key"] == "t3.new.natural"].set_index("unit")["value"]
    assert new["将乐县财政局"] == 1 and new["将乐县教育局"] == 2 and math.isnan(new["将乐县民政局"])
    assert all(str(s).endswith(f"{u}.xlsx") for s, u in zip(units["source"], units["unit"], strict=True))
    granted = df[df["key"] == "t3.granted.total"].set_index("unit")["value"]
    assert granted["将乐县教育局"] >= 2  # derived totals are in the table too


def test_collect_json_says_where_the_dataset_is_and_its_rows(county: Path) -> None:
    out = county / "数据集.csv"
    r = cli("collect", county / "收件箱", "--roster", county / "名单.csv", "-o", county / "汇总3.xlsx",
            "--workers", "1", "--dataset", out, "--json")
    doc = json.loads(r.stdout)
    assert list(doc)[-1] == "dataset" and doc["dataset"] == {"path": str(out), "rows": 3 * len(KEYS)}
    assert len(read_dataset(out)) == 3 * len(KEYS)


def test_collect_refuses_a_dataset_it_cannot_write_before_the_run(county: Path) -> None:
    out = county / "汇总2.xlsx"
    r = cli("collect", county / "收件箱", "-o", out, "--dataset", county / "数据集.txt")
    assert r.returncode == 2 and "错误：" in r.stderr and ".parquet 或 .csv" in r.stderr
    assert not out.exists()


# ---- the round's download ---------------------------------------------------------------------------------------

TOKEN = "t0ken-for-the-dataset-" + "x" * 30
OWN, OTHER = "将乐县工业和信息化局", "将乐县财政局"


@pytest.fixture(scope="module")
def round_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, Path]]:
    pytest.importorskip("uvicorn")
    from test_server import start, stop

    from xl_addin import server
    from xl_addin.collect import Agency, Roster
    from xl_addin.rounds import Settings

    roster = Roster((Agency(OWN, "政府部门", "县级", "甲", CODE), Agency(OTHER, "政府部门", "县级", "乙")))
    cfg = server.Config(data_dir=tmp_path_factory.mktemp("dataset-round"), token=TOKEN,
                        round=Settings(2023, roster, county="将乐县"))
    live, srv, thread = start(cfg)
    county = srv.config.app.state.county
    try:
        yield live.base, county, cfg.data_dir
    finally:
        stop(live, srv, thread)
        county.close()


def _login(c: Any, token: str, path: str) -> None:
    page = c.get(path)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    assert c.post(path, data={"csrf": csrf.group(1), "key": token}).status_code == 303


def test_the_coordinator_downloads_the_dataset_of_the_accepted_versions(round_live: tuple[str, Any, Path], sample: Path,
                                                                         tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx
    import pandas as pd

    from xl_addin import round_pages
    from xl_addin.adapters import round_client

    base, county, data_dir = round_live
    keys = county.issue_keys()
    token = county.coordinator_token_file.read_text(encoding="utf-8").strip()
    url = round_pages.PREFIX + "/board/dataset.parquet"
    with httpx.Client(base_url=base, timeout=60) as c:
        assert c.get(url).status_code == 401
        _login(c, token, round_pages.PREFIX + "/coordinator/login")
        r = c.get(url)
        assert r.status_code == 409 and "通过" in r.text  # nothing accepted yet: a Chinese page, no file
        wb = api.put(sample, {"meta.agency": OWN, "t2.rules.made": 3}, tmp_path / "年报.xlsx")
        got = round_client.submit(base, keys[OWN], wb.read_bytes(), wb.name)
        assert got.status == 201, got.message
        assert round_client.review(base, token, OWN, "accept", [], version=1).status == 200
        r = c.get(url)
        assert r.status_code == 200, r.text[:300]
        assert r.headers["content-type"] == round_pages.PARQUET_TYPE
        assert "attachment" in r.headers["content-disposition"]
        assert "dataset.parquet" in c.get(round_pages.PREFIX + "/board").text
        with monkeypatch.context() as m:  # a server installed without the dataset extra says so, in Chinese
            m.setitem(sys.modules, "pyarrow.parquet", None)
            gone = c.get(url)
            assert gone.status_code == 503 and 'pip install "xl_addin[dataset]"' in gone.text.replace("&#34;", '"')
    with httpx.Client(base_url=base, timeout=60) as agency:
        _login(agency, keys[OTHER], round_pages.PREFIX + "/login")
        assert agency.get(url).status_code == 403
    df = pd.read_parquet(io.BytesIO(r.content))
    assert list(df.columns) == list(dataset.COLUMNS) and len(df) == len(KEYS)
    assert set(df["unit"].astype(str)) == {OWN} and set(df["unit_id"].astype(str)) == {CODE}
    want = derive.effective_values(api.read(wb))
    values = df.set_index("key")["value"]
    assert values["t2.rules.made"] == 3
    assert all(values[k] == want[k] for k in KEYS if want.get(k) is not None)
    audit = [json.loads(line) for line in (data_dir / "audit.log").read_text(encoding="utf-8").splitlines()]
    assert any("网页下载数据集" in json.dumps(e, ensure_ascii=False) and e.get("status") == 200 for e in audit)
