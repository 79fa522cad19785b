"""Benchmark of the dataset (issue 22 item 7): 10,000 units' reports written as one tidy Parquet table.

    python bench/dataset.py [--n 10000]        (bash dev.sh bench runs it with the defaults)

Each writer runs in a fresh process (its peak RSS from ``resource.getrusage``), on the same generated entries
(every unit a full report: 200 cells of tables 二, 三, 四, so 10,000 units are 2,000,000 rows):
- ``pyarrow``: what ``write_dataset`` does (columns repeated/tiled in pyarrow, ``pyarrow.parquet.write_table``);
- ``duckdb``: the same columns as a pandas DataFrame, written by DuckDB's ``COPY ... (FORMAT parquet)``;
- ``csv``: ``write_dataset`` to .csv (the csv module, no extra needed).
Then the national path on one machine (``shards``): the entries split by parent unit (100 shards), each shard
written, and ``merge_datasets`` (one DuckDB query over the shards' Parquet files) -- the figure is the whole path.
Targets (2 cores, N = 10,000): written in <= 5 s, peak memory <= 1 GB. The CPU seconds (this process and its
threads) are printed beside the wall time: on a shared machine the wall time also counts other people's load.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from xl_addin import dataset
from xl_addin.adapters import dataset_io

TARGET_S, TARGET_MB = 5.0, 1024


def entries(n: int, *, parents: int = 100) -> list[dataset.Entry]:
    """``n`` units' reports with figures of their own, under ``parents`` parent units."""
    out = []
    for i in range(n):
        values: dict[str, Any] = {k: (i * 7 + j) % 23 for j, k in enumerate(dataset.KEYS)}
        values["t2.fees.amount"] = round((i % 50) * 0.0125, 4)
        out.append(dataset.Entry(f"测试县第{i:05d}号机关", 2023, values, unit_id=f"U{i:06d}",
                                 parent=f"P{i % parents:03d}", scope="本级", level="县级",
                                 source=f"/data/2023/测试县第{i:05d}号机关.xlsx", verdict="通过" if i % 5 else "不通过"))
    return out


def write_duckdb(items: list[dataset.Entry], path: Path) -> int:
    import duckdb
    import numpy as np
    import pandas as pd

    cols = dataset.columns(items)
    n, k = cols.n_entries, len(cols.keys)
    frame: dict[str, Any] = {}
    for name in dataset.COLUMNS:
        if name in cols.units:
            frame[name] = np.repeat(np.array(cols.units[name], dtype=object), k)
        elif name == "value":
            frame[name] = np.array([np.nan if v is None else v for v in cols.values], dtype=np.float64)
        else:
            frame[name] = np.tile(np.array([getattr(kl, name) for kl in cols.keys], dtype=object), n)
    con = duckdb.connect()
    con.register("frame", pd.DataFrame(frame))
    con.execute(f"COPY (SELECT * FROM frame) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    return n * k


def one(writer: str, n: int, folder: Path) -> dict[str, Any]:
    """Run one writer in this process: seconds and peak RSS (MB), entries built before the clock starts."""
    items = entries(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t, cpu = time.perf_counter(), time.process_time()
    if writer == "pyarrow":
        path = folder / "dataset.parquet"
        rows = dataset_io.write_dataset(items, path)
    elif writer == "duckdb":
        path = folder / "dataset-duckdb.parquet"
        rows = write_duckdb(items, path)
    elif writer == "csv":
        path = folder / "dataset.csv"
        rows = dataset_io.write_dataset(items, path)
    else:  # shards by parent unit (100 parents: one shard each), then one DuckDB query merging them
        shard_dir = folder / "shards"
        shards = []
        for p, part in dataset.by_parent(items).items():
            shards.append(shard_dir / f"{p}.parquet")
            dataset_io.write_dataset(part, shards[-1])
        path = folder / "merged.parquet"
        rows = dataset_io.merge_datasets(shards, path)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"writer": writer, "rows": rows, "seconds": seconds, "cpu": cpu, "peak_mb": peak, "entries_mb": before,
            "file_mb": path.stat().st_size / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--one", choices=("pyarrow", "duckdb", "csv", "shards"))
    ap.add_argument("--folder", type=Path)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.n, a.folder)))
        return
    print(f"dataset of {a.n} units ({a.n * len(dataset.KEYS):,} rows); each writer in a fresh process")
    with tempfile.TemporaryDirectory() as tmp:
        for writer in ("pyarrow", "duckdb", "csv", "shards"):
            out = subprocess.run([sys.executable, __file__, "--one", writer, "--n", str(a.n), "--folder", tmp],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout)
            ok = r["seconds"] <= TARGET_S and r["peak_mb"] <= TARGET_MB
            print(f"{writer:<8} {r['seconds']:6.2f} s (CPU {r['cpu']:5.2f} s)   peak RSS {r['peak_mb']:6.0f} MB (entries built: "
                  f"{r['entries_mb']:4.0f} MB)   file {r['file_mb']:6.1f} MB   "
                  f"{'ok' if ok else 'OVER'} (target <= {TARGET_S:.0f} s, <= {TARGET_MB} MB)")


if __name__ == "__main__":
    main()
