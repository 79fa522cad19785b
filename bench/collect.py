"""Benchmark of ``collect`` (issue 6): N distinct filled workbooks, valid and invalid, checked in bulk.

    /work/venv/bin/python bench/collect.py --n 10000        (make bench runs it with the defaults)

How the county is generated: the template is built once with openpyxl and filled once with the bundled sample;
every copy is that workbook with some cells patched in the sheet XML inside the zip
(:class:`xl_addin.adapters.xlsx_patch.Patcher`: the sheet parts are cut once at their named cells, each copy is a
string join plus one zip write) -- a few milliseconds a copy instead of half a second with openpyxl. Each copy
has its own agency name and figures; about one in five is invalid (a "/" in a count, a broken 勾稽关系, a
missing 信息处理费 statement, a late 发布日期).

What is timed, in one run:
- ``collect``: ``api.collect`` in a fresh process (as ``xl-addin collect`` runs it: every core, summary .xlsx and
  .html written); its own peak RSS and the largest worker's peak RSS come from ``resource.getrusage``.
- the naive pass: per file an openpyxl load (``api.read(reader="openpyxl")``) and the same rules, one process,
  on the first ``--naive`` files (it is ~30x slower; its per-workbook time does not depend on N).
Prints workbooks/s, ms per workbook, the ratio and peak memory; targets (2 cores, N = 10,000): >= 400 wb/s,
>= 15x the naive pass, peak <= 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from xl_addin import api, rules
from xl_addin.adapters.template_builder import build_workbook
from xl_addin.adapters.xlsx_patch import Patcher

YEAR = 2023


def county_values(i: int, sample: dict[str, Any]) -> dict[str, Any]:
    """The patched cells of copy ``i``: its own name and figures; every fifth copy is wrong in some way."""
    v: dict[str, Any] = {"meta.agency": f"测试县第{i:05d}号机关", "meta.kind": "政府部门", "meta.level": "县级",
                         "meta.year": YEAR,
                         "s1.on_request": "本年度依申请公开工作依法有序开展，申请均在法定期限内答复。",
                         "t3.new.natural": 1 + i % 97, "t3.granted.natural": 1 + i % 97,
                         "t3.new.business": i % 5, "t3.unable_no_info.business": i % 5,
                         "t2.licensing.count": i % 1000, "t2.penalty.count": i % 13,
                         "t2.fees.amount": round((i % 50) * 0.0125, 4), "t4.review.upheld": i % 3}
    match i % 20:
        case 3:
            v["t3.new.natural"] = "/"
        case 7:
            v["t3.new.research"] = 2
        case 11:
            v["s6.fees"] = ""
        case 15:
            v["meta.report_date"] = "2024年2月15日"
    return v


def generate(folder: Path, n: int) -> tuple[Path, float]:
    """N workbooks and a roster (plus 1% of the roster missing); returns (roster, seconds)."""
    t0 = time.perf_counter()
    sample = api.sample_values()
    buf = io.BytesIO()
    build_workbook(sample).save(buf)
    patcher = Patcher(buf.getvalue(), compresslevel=1)
    stamp = time.mktime((YEAR + 1, 1, 20, 10, 0, 0, 0, 0, -1))
    for i in range(n):
        p = folder / f"{i:05d}.xlsx"
        p.write_bytes(patcher.patch(county_values(i, sample)))
        os.utime(p, (stamp, stamp))
    roster = folder.parent / "名单.csv"
    with roster.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["机关名称", "机关类别", "层级", "联系人"])
        w.writerows([f"测试县第{i:05d}号机关", "政府部门", "县级", ""] for i in range(n + n // 100))
    return roster, time.perf_counter() - t0


_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from xl_addin import api
t1 = time.perf_counter()
folder, roster, out, workers = sys.argv[1:5]
res = api.collect(folder, roster, out, workers=int(workers) if workers != "0" else None)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "collect_s": t2 - t1, "files": len(res.files), "counts": res.counts,
                  "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, ensure_ascii=False))
"""


def run_collect(folder: Path, roster: Path, out: Path, workers: int) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", _CHILD, str(folder), str(roster), str(out), str(workers)],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def naive(files: list[Path]) -> float:
    """ms per workbook: openpyxl load + every rule, one process."""
    api.check(files[0], reader="openpyxl")  # warm imports
    t0 = time.perf_counter()
    for p in files:
        rules.validate(api.read(p, reader="openpyxl"))
    return (time.perf_counter() - t0) * 1000 / len(files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="workbooks to generate (default 10000)")
    ap.add_argument("--naive", type=int, default=200, help="files the naive pass reads (default 200)")
    ap.add_argument("--workers", type=int, default=0, help="collect's processes (default: every core)")
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        folder = base / "county"
        folder.mkdir(parents=True, exist_ok=True)
        roster, gen_s = generate(folder, args.n)
        print(f"generated {args.n} distinct workbooks in {gen_s:.1f} s ({gen_s * 1000 / args.n:.2f} ms each, "
              f"zip patching; {sum(p.stat().st_size for p in folder.iterdir()) / args.n / 1024:.0f} KB each)")
        res = run_collect(folder, roster, base / "汇总校验结果.xlsx", args.workers)
        files = sorted(folder.iterdir())
        naive_ms = naive(files[:args.naive])
    n = res["files"]
    ms = res["collect_s"] * 1000 / n
    self_mb, worker_mb = res["self_kb"] / 1024, res["worker_kb"] / 1024
    cores = os.cpu_count() or 1
    print(f"collect {n} workbooks on {cores} cores: {res['collect_s']:.1f} s  ->  {n / res['collect_s']:.0f} workbooks/s, "
          f"{ms:.2f} ms per workbook (wall)   target >= 400 wb/s")
    print(f"  (+ {res['import_s']:.2f} s interpreter imports; counts {res['counts']})")
    print(f"naive pass (openpyxl load + same rules, 1 process, {min(args.naive, n)} files): {naive_ms:.1f} ms per workbook")
    print(f"ratio naive / collect: {naive_ms / ms:.1f}x   target >= 15x")
    print(f"peak memory: collect process {self_mb:.0f} MB, largest worker {worker_mb:.0f} MB, "
          f"together at most {self_mb + worker_mb * min(cores, n):.0f} MB   target <= 300 MB")


if __name__ == "__main__":
    main()
