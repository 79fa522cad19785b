"""Benchmark: what ``collect`` costs per workbook on files an office suite saved again, against the template copies
the other benches generate (issue 22's caveat on the speed bar).

    .venv/bin/python bench/resaved.py [--n 300] [--reps 3]

bench/collect.py and bench/levels.py time copies of the template patched in their sheet XML: every copy holds the
template's own parts byte for byte (workbook.xml, styles.xml, 校验汇总), which the fast reader recognises by their
stored records and does not parse again. A clerk's workbook has been opened and saved by Excel, WPS or LibreOffice:
every part is written anew, nothing is recognised. This bench makes ``--n`` copies (bench/collect.py's generator),
saves each again with LibreOffice headless (the office suite this machine has), then times a flat ``collect`` (a
fresh process each, every core) of the first n/4 and of all n files of both corpora, interleaved ``--reps`` times,
and prints the marginal cost per workbook of each (the slope between the two sizes, wall and CPU) and the ratio.
The figures move by tens of percent between runs on a shared machine: compare the two corpora within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import collect as bench_collect  # bench/collect.py: the corpus generator
import levels as bench_levels  # bench/levels.py: collect in a fresh process, its wall and CPU time


def resave(src: Path, dst: Path) -> float:
    """Every .xlsx of ``src`` opened and saved again by LibreOffice into ``dst``; the seconds it took."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("bench/resaved.py: LibreOffice (soffice) is needed: bash dev.sh test installs it")
    files = sorted(src.glob("*.xlsx"))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as profile:  # a profile of its own: no clash with a running instance
        for k in range(0, len(files), 100):  # in batches: one soffice run for a long list stops part way
            subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--calc",
                            "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(dst),
                            *map(str, files[k:k + 100])], capture_output=True, check=True, timeout=1800)
    missing = [f.name for f in files if not (dst / f.name).exists()]
    if missing:
        raise SystemExit(f"bench/resaved.py: LibreOffice did not save {len(missing)} files, e.g. {missing[0]}")
    return time.perf_counter() - t0


def run(folder: Path, roster: Path, out: Path) -> dict[str, float]:
    """bench/levels.py's child: a flat ``collect`` (no package, every core) in a fresh process."""
    r = subprocess.run([sys.executable, "-c", bench_levels._CHILD, str(folder), str(roster), str(out), "-", "0"],
                       capture_output=True, text=True, check=True)
    got = json.loads(r.stdout.strip().splitlines()[-1])
    return {"s": float(got["collect_s"]), "cpu": float(got["cpu_s"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="workbooks in each corpus (default 300)")
    ap.add_argument("--reps", type=int, default=3, help="times each size of each corpus is collected (default 3)")
    args = ap.parse_args()
    small = max(1, args.n // 4)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        copies, resaved = base / "copies", base / "resaved"
        copies.mkdir()
        resaved.mkdir()
        roster, _ = bench_collect.generate(copies, args.n)
        secs = resave(copies, resaved)
        print(f"{args.n} template copies saved again by LibreOffice in {secs:.0f} s")
        folders = {}
        for kind, src in (("copies", copies), ("resaved", resaved)):
            for n in (small, args.n):
                sub = base / f"{kind}-{n}"
                sub.mkdir()
                for f in sorted(src.glob("*.xlsx"))[:n]:
                    os.link(f, sub / f.name)
                folders[kind, n] = sub
        times: dict[tuple[str, int], list[dict[str, float]]] = {k: [] for k in folders}
        for _ in range(args.reps):
            for key, folder in folders.items():  # interleaved: both corpora see the same machine
                times[key].append(run(folder, roster, base / f"out-{key[0]}-{key[1]}.xlsx"))
    slopes = {}
    for kind in ("copies", "resaved"):
        got = {}
        for what in ("s", "cpu"):
            lo = statistics.median(t[what] for t in times[kind, small])
            hi = statistics.median(t[what] for t in times[kind, args.n])
            got[what] = (hi - lo) / (args.n - small)
        slopes[kind] = got
        cores = os.cpu_count() or 1
        print(f"{kind:8s}: marginal {got['s'] * 1000:.2f} ms wall per workbook -> {1 / got['s']:.0f} workbooks/s; "
              f"{got['cpu'] * 1000:.2f} ms CPU -> {cores / got['cpu']:.0f} workbooks/s on {cores} free cores")
    print(f"saved again / copies: {slopes['resaved']['s'] / slopes['copies']['s']:.2f} x wall, "
          f"{slopes['resaved']['cpu'] / slopes['copies']['cpu']:.2f} x CPU per workbook   (load average now "
          f"{os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
