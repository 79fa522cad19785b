"""Benchmark of the levelled roll-up (issue 22): a province of N unit workbooks rolled up through three levels.

    /work/venv/bin/python bench/levels.py --n 10000        (make bench runs it with the defaults)

The region (tests/levels_data.py): ``--cities`` cities of ``--counties`` counties each; the N department workbooks
are spread over the counties (distinct names and figures, each a patched copy of the template); each city and the
province also have their own office and two departments. Then, level by level, as a coordinator would run it:
every county ``collect --package`` (its departments), every city ``collect --package`` (its counties' packages and
its own units), the province ``collect --package`` (its cities' packages and its own units). Each run is a fresh
process (``api.collect``, every core); its own peak RSS and its largest worker's come from ``resource.getrusage``.

Prints per level the time and workbooks/s; the rate over the whole province (unit workbooks / the sum of every
run's collect time, interpreter start-up excluded); the marginal cost per workbook (the slope of collect time over
the counties' sizes, which differ 1 : 2 : ... within a city) in wall-clock and in CPU time (CPU: what 2 free cores
would give on a shared machine); today's flat collect of the same county against the levelled one; the peak
memory; and checks the province's sum cell for cell.
Targets (2 cores, N = 10,000): >= 400 workbooks/s marginal, peak <= 1 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import levels_data as ld

_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from xl_addin import api
t1 = time.perf_counter()
folder, roster, out, package, workers = sys.argv[1:6]
c0 = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
res = api.collect(folder, roster, out, package=package if package != "-" else None,
                  workers=int(workers) if workers != "0" else None)
t2 = time.perf_counter()
c1 = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
cpu = sum(b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in zip(c0, c1))
print(json.dumps({"import_s": t1 - t0, "collect_s": t2 - t1, "cpu_s": cpu, "files": len(res.files),
                  "counts": res.counts,
                  "levels": [lv.coverage_zh() for lv in res.levels], "books": [str(b) for b in res.level_books],
                  "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, ensure_ascii=False))
"""


def run(lv: ld.Level, base: Path, key: str, workers: int, *, plain: bool = False) -> dict[str, Any]:
    """One ``collect --package`` in a fresh process; ``plain``: today's flat collect (the same units in a roster
    without the registry's columns, no package)."""
    pkg = base / f"{key}.zip"
    roster = lv.roster
    if plain:
        with lv.roster.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))[1:]
        roster = base / f"{key}-名单.csv"
        with roster.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([("机关名称", "机关类别", "层级"), *(r[:3] for r in rows if r[4] != "汇总")])
    r = subprocess.run([sys.executable, "-c", _CHILD, str(lv.folder), str(roster), str(base / f"{key}.xlsx"),
                        "-" if plain else str(pkg), str(workers)], capture_output=True, text=True, check=True)
    out: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    out["package"] = pkg
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="department workbooks in the province (default 10000)")
    ap.add_argument("--cities", type=int, default=4)
    ap.add_argument("--counties", type=int, default=5, help="counties per city")
    ap.add_argument("--workers", type=int, default=0, help="collect's processes (default: every core)")
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        rng = random.Random(22)
        region = ld.Region()
        t0 = time.perf_counter()
        n_counties = args.cities * args.counties
        # counties of different sizes (1 : 2 : ... : counties within each city): the marginal cost per workbook is
        # the slope of collect time over county size, the fixed cost (start-up, the template) its intercept
        weights = [k + 1 for _ in range(args.cities) for k in range(args.counties)]
        sizes = [args.n * w // sum(weights) for w in weights]
        sizes[-1] += args.n - sum(sizes)
        plan = [sizes[c * args.counties:(c + 1) * args.counties] for c in range(args.cities)]
        counties = [[ld.county(region, base, f"市{c + 1:02d}县{k + 1:02d}", plan[c][k], rng)
                     for k in range(args.counties)] for c in range(args.cities)]
        print(f"generated {args.n} department workbooks in {n_counties} counties of {args.cities} cities in "
              f"{time.perf_counter() - t0:.1f} s")
        runs: list[tuple[str, int, dict[str, Any]]] = []
        city_levels, city_packages = [], []
        for c, row in enumerate(counties):
            packages = []
            for lv in row:
                res = run(lv, base, lv.name, args.workers)
                runs.append(("county", lv.units, res))
                packages.append(res["package"])
            city = ld.upper(region, base, f"市{c + 1:02d}", "市级", row, packages, 2, rng)
            res = run(city, base, city.name, args.workers)
            runs.append(("city", res["files"], res))
            city_levels.append(city)
            city_packages.append(res["package"])
        prov = ld.upper(region, base, "省", "省级", city_levels, city_packages, 2, rng)
        res = run(prov, base, prov.name, args.workers)
        runs.append(("province", res["files"], res))
        from xl_addin import api, spec

        got = api.read(res["books"][0]).values
        wrong = [k for k in spec.INPUT_KEYS if k.startswith("t")
                 and Decimal(repr(got.get(k) or 0)) != Decimal(prov.expected.get(k, 0))]
        total_units = prov.units
        first = max((lv for row in counties for lv in row), key=lambda lv: lv.units)
        flat = run(first, base, "flat", args.workers, plain=True)
        levelled = next(r for lvl, _, r in runs if lvl == "county" and r["files"] == first.units)
    cores = os.cpu_count() or 1
    for level in ("county", "city", "province"):
        rs = [r for lvl, _, r in runs if lvl == level]
        secs = sum(r["collect_s"] for r in rs)
        files = sum(r["files"] for r in rs)
        print(f"{level:8s}: {len(rs):3d} runs, {files:6d} files read, {secs:6.1f} s collect "
              f"({files / secs:.0f} files/s; + {sum(r['import_s'] for r in rs):.1f} s interpreter imports)")
    secs = sum(r["collect_s"] for _, _, r in runs)
    peak = max((r["self_kb"] + r["worker_kb"] * min(cores, max(r["files"], 1))) / 1024 for _, _, r in runs)
    print(f"province of {total_units} unit workbooks through three levels on {cores} cores: {secs:.1f} s collect  "
          f"->  {total_units / secs:.0f} workbooks/s overall (fixed costs of {len(runs)} runs included)")
    county_runs = [r for lvl, _, r in runs if lvl == "county"]
    for what, label in (("collect_s", "wall"), ("cpu_s", "CPU")):
        slope, fixed = _fit([r["files"] for r in county_runs], [r[what] for r in county_runs])
        rate = 1 / slope if slope > 0 else float("inf")
        print(f"marginal ({label}, slope over {len(county_runs)} counties of {min(sizes)}-{max(sizes)} workbooks): "
              f"{slope * 1000:.2f} ms per workbook -> {rate if label == 'wall' else rate * cores:.0f} workbooks/s"
              f"{'' if label == 'wall' else f' on {cores} free cores'}; fixed {fixed:.1f} s per run"
              + ("   target >= 400 wb/s" if label == "wall" else ""))
    cpu = sum(r["cpu_s"] for _, _, r in runs)
    print(f"CPU (every process, user + system): {cpu:.1f} s = {cpu * 1000 / total_units:.2f} ms per unit workbook "
          f"->  {total_units / (cpu / cores):.0f} workbooks/s on {cores} free cores   (load average now "
          f"{os.getloadavg()[0]:.1f}: wall-clock figures above are shared with it)")
    print(f"one county of {first.units}: today's collect (flat roster) {flat['collect_s'] * 1000 / flat['files']:.2f} ms "
          f"wall, {flat['cpu_s'] * 1000 / flat['files']:.2f} ms CPU per workbook; levelled collect --package "
          f"{levelled['collect_s'] * 1000 / levelled['files']:.2f} ms wall, "
          f"{levelled['cpu_s'] * 1000 / levelled['files']:.2f} ms CPU "
          f"(the levels' cost: the registry, the roll-up, the 汇总 workbook, the package)")
    print(f"peak memory of one run (process + largest worker x workers): {peak:.0f} MB   target <= 1024 MB")
    print(f"province sum checked cell for cell: {'equal' if not wrong else 'DIFFERENT in ' + ', '.join(wrong[:5])}")
    print(f"province: {res['levels'][0]}")


def _fit(x: list[int], y: list[float]) -> tuple[float, float]:
    """Least squares y = fixed + slope * x: (slope, fixed)."""
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((a - mx) ** 2 for a in x)
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sxx if sxx else my / mx
    return slope, my - slope * mx


if __name__ == "__main__":
    main()
