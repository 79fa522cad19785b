"""Writes the dataset (:mod:`xl_addin.dataset`) as Parquet (pyarrow) or CSV, atomically, and reads it back as a
pandas DataFrame.

Parquet goes through pyarrow, chosen by measurement against DuckDB (bench/dataset.py: 10,000 units, 2 million
rows): the columns are built by repeating each unit's fields and tiling the keys' labels, never a Python dict per
row. pandas, pyarrow and numpy are the ``dataset`` extra (``pip install "xl_addin[dataset]"``); without them the
toolkit still runs, CSV is still written, and asking for Parquet says in Chinese what to install.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ..dataset import COLUMNS, INDICATOR_COLUMNS, MIN_COUNT, UNIT_COLUMNS, Columns, Entry, columns, indicators, tidy_rows
from .fileio import atomic_path

if TYPE_CHECKING:
    import pandas as pd

#: the suffixes the dataset can be written as
SUFFIXES = (".parquet", ".csv")
#: what to install when the dataset extra is missing
EXTRA_HINT = "请先安装数据集组件：pip install \"xl_addin[dataset]\"（pandas、pyarrow）。"


class DatasetError(Exception):
    """The dataset cannot be written or read; the message is Chinese and names the file."""


def _suffix(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise DatasetError(f"{path}：数据集文件应以 .parquet 或 .csv 结尾。")
    return suffix


def _need(what: str, path: str | os.PathLike[str]) -> NoReturn:
    raise DatasetError(f"{path}：{what}需要 pandas 和 pyarrow，本机未安装。{EXTRA_HINT}")


def check_writable(path: str | os.PathLike[str]) -> None:
    """DatasetError (Chinese) unless a dataset can be written at ``path``: a known suffix, and for Parquet pyarrow
    installed. (Called before a long run, so it does not fail at its end.)"""
    if _suffix(path) == ".parquet":
        try:
            import numpy  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            _need("写出 Parquet 数据集", path)


def write_dataset(entries: Iterable[Entry], path: str | os.PathLike[str]) -> int:
    """The tidy table of ``entries`` (:data:`xl_addin.dataset.COLUMNS`) at ``path``: .parquet or .csv (UTF-8 with
    BOM, so Excel shows the Chinese), written atomically. Returns the rows written."""
    suffix = _suffix(path)
    if suffix == ".csv":
        return _write_csv(entries, path)
    try:
        import numpy  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError:
        _need("写出 Parquet 数据集", path)
    cols = columns(entries)
    table = arrow_table(cols)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return cols.n_rows


def arrow_table(cols: Columns) -> Any:
    """The pyarrow Table of ``cols``. The text columns are dictionary-encoded: each unit's fields stored once and
    indexed per key, each key's labels stored once and indexed per unit (built in C, no row objects; pandas reads
    them as categoricals)."""
    import numpy as np
    import pyarrow as pa

    n, k = cols.n_entries, len(cols.keys)
    per_entry = pa.array(np.repeat(np.arange(n, dtype=np.int32), k))
    per_key = pa.array(np.tile(np.arange(k, dtype=np.int32), n))
    arrays: dict[str, Any] = {}
    for name in COLUMNS:
        if name == "year":
            arrays[name] = pa.array(np.repeat(np.array([-1 if y is None else y for y in cols.units[name]],
                                                       dtype=np.int32), k),
                                    mask=np.repeat(np.array([y is None for y in cols.units[name]]), k))
        elif name in cols.units:
            arrays[name] = pa.DictionaryArray.from_arrays(per_entry, pa.array(cols.units[name], pa.string()))
        elif name == "value":
            arrays[name] = pa.array(cols.values, pa.float64())
        else:
            arrays[name] = pa.DictionaryArray.from_arrays(per_key, pa.array([getattr(kl, name) for kl in cols.keys],
                                                                            pa.string()))
    return pa.table(arrays)


def _write_csv(entries: Iterable[Entry], path: str | os.PathLike[str]) -> int:
    n = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(COLUMNS)
        for row in tidy_rows(entries):
            w.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
            n += 1
    return n


#: the columns read as text (never as numbers: a unit id of digits keeps its leading zeros)
_TEXT = tuple(c for c in COLUMNS if c not in ("year", "value"))


def read_dataset(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The dataset at ``path`` (.parquet or .csv as :func:`write_dataset` writes it) as a pandas DataFrame with
    :data:`~xl_addin.dataset.COLUMNS`: text columns as categoricals ("" for none: each unit's fields repeat on its
    200 rows), ``year`` as Int64, ``value`` as float (NaN: no number)."""
    suffix = _suffix(path)
    try:
        import pandas as pd
    except ImportError:
        _need("读取数据集", path)
    if not Path(path).is_file():
        raise DatasetError(f"{path}：数据集文件不存在。")
    try:
        if suffix == ".parquet":
            df = pd.read_parquet(path, engine="pyarrow")
        else:
            df = pd.read_csv(path, encoding="utf-8-sig", dtype=dict.fromkeys(_TEXT, str), keep_default_na=False,
                             na_values={"year": [""], "value": [""]})
    except ImportError:
        _need("读取数据集", path)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}：无法读取数据集（{type(exc).__name__}），文件可能已损坏。") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DatasetError(f"{path}：不是本工具写出的数据集，缺少列：" + "、".join(missing) + "。")
    df = df[list(COLUMNS)]
    return df.astype({"year": "Int64", "value": "float64", **dict.fromkeys(_TEXT, "category")})


#: what the merge query may take (DuckDB spills beyond it) and whether it keeps the shards' row order (not needed:
#: every row says its unit and key; dropping it lets DuckDB stream)
MERGE_MEMORY = "512MB"


def _sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def merge_datasets(shards: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> int:
    """One Parquet dataset at ``out`` of the shards' Parquet files (a national run: each machine writes the shard
    of its parent units), by one DuckDB query, written atomically. Returns the rows written."""
    if not shards:
        raise DatasetError(f"{out}：没有要合并的数据集分片。")
    for p in shards:
        if _suffix(p) != ".parquet" or not Path(p).is_file():
            raise DatasetError(f"{p}：数据集分片应为已存在的 .parquet 文件。")
    if _suffix(out) != ".parquet":
        raise DatasetError(f"{out}：合并结果应为 .parquet 文件。")
    try:
        import duckdb
    except ImportError:
        raise DatasetError(f"{out}：合并数据集需要 duckdb，本机未安装。{EXTRA_HINT}") from None
    files = "[" + ", ".join(_sql_text(str(Path(p))) for p in shards) + "]"
    cols = ", ".join(f'"{c}"' for c in COLUMNS)  # ("table" and "key" are SQL words)
    with duckdb.connect() as con, atomic_path(out) as tmp:
        con.execute(f"SET memory_limit = {_sql_text(MERGE_MEMORY)}")
        con.execute("SET preserve_insertion_order = false")
        try:
            con.execute(f"COPY (SELECT {cols} FROM read_parquet({files}, union_by_name = true)) "
                        f"TO {_sql_text(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
            (rows,) = con.execute(f"SELECT count(*) FROM read_parquet({_sql_text(str(tmp))})").fetchone() or (0,)
        except duckdb.Error as exc:
            raise DatasetError(f"{out}：无法合并数据集分片（{type(exc).__name__}），分片可能已损坏或不是本工具写出的。") \
                from None
    return int(rows)


def read_entries(paths: Sequence[str | os.PathLike[str]]) -> list[Entry]:
    """The reports of the datasets at ``paths`` (several years, several shards) as entries again: one per unit,
    year, source and verdict, in the order they first appear."""
    import math

    out: list[Entry] = []
    for path in paths:
        df = read_dataset(path)
        ident = [*UNIT_COLUMNS, "source", "verdict"]
        gid = df.groupby(ident, sort=False, observed=True, dropna=False).ngroup().to_numpy()
        heads = df.drop_duplicates(ident)
        values: list[dict[str, float | None]] = [{} for _ in range(len(heads))]
        for g, k, v in zip(gid.tolist(), df["key"].astype(str).tolist(), df["value"].tolist(), strict=True):
            values[g][k] = None if math.isnan(v) else (int(v) if float(v).is_integer() else v)
        for g, head in enumerate(heads[ident].itertuples(index=False)):
            unit, unit_id, parent, scope, level, year, source, verdict = (None if _na(x) else x for x in head)
            out.append(Entry(str(unit or ""), None if year is None else int(year), values[g],
                             unit_id=str(unit_id or ""), parent=str(parent or ""), scope=str(scope or ""),
                             level=str(level or ""), source=str(source or ""), verdict=str(verdict or "")))
    return out


def _na(x: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(x))


def write_indicators(entries: Iterable[Entry], path: str | os.PathLike[str], *, min_count: int = MIN_COUNT) -> int:
    """The indicators of ``entries`` (:func:`xl_addin.dataset.indicators`: per unit and year, with last year's
    rate and the change) at ``path`` (.csv, UTF-8 with BOM, or .parquet), atomically. Returns the rows."""
    rows = indicators(entries, min_count=min_count)
    if _suffix(path) == ".csv":
        with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh, lineterminator="\r\n")
            w.writerow(INDICATOR_COLUMNS)
            w.writerows(["" if r[c] is None else r[c] for c in INDICATOR_COLUMNS] for r in rows)
        return len(rows)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        _need("写出 Parquet 文件", path)
    types = {"year": pa.int32(), "numerator": pa.float64(), "denominator": pa.float64(), "rate": pa.float64(),
             "prior_rate": pa.float64(), "change": pa.float64()}
    schema = pa.schema([(c, types.get(c, pa.string())) for c in INDICATOR_COLUMNS])
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp, compression="zstd")
    return len(rows)
