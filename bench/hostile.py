"""Benchmark of issue 14: the hostile corpus (tests/hostile.py) through ``check``, ``fill``, ``export`` and
``collect``, and (issue 19) the hostile published reports through ``import -o``; per command the worst wall time
and the worst peak memory over the corpus, and which file caused each. Targets: every run under 10 s and 500 MB,
exit 0, 1 or 2, no traceback.

    python bench/hostile.py [--keep DIR] [--no-bombs] [--reports-only]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hostile import Run, hostile_corpus, hostile_reports, run_measured

from xl_addin import api

MAX_SECONDS, MAX_MB = 10.0, 500.0
#: the real report the hostile reports are made from (shared/ beside the checkout)
REPORT = Path(__file__).resolve().parents[2] / "shared" / "examples" / "published" / "suqian-city-2023.txt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    ap.add_argument("--no-bombs", action="store_true", help="leave out the gigabyte bombs and the 50 MB workbook")
    ap.add_argument("--reports-only", action="store_true", help="only the hostile published reports (import)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        template = api.build_template(base / "模板.xlsx")
        sample = api.put(template, api.sample_values(), base / "样例.xlsx")
        runs: dict[str, list[tuple[str, Run]]] = {"check": [], "fill": [], "export": []}
        if REPORT.is_file():
            reports = hostile_reports(REPORT.read_text(encoding="utf-8"), base / "报告")
            (base / "out").mkdir(exist_ok=True)
            runs["import"] = [(c.name, run_measured(["import", c.path, "-o", base / "out" / f"{c.name}.xlsx"],
                                                    timeout=120)) for c in reports]
        else:
            print(f"(no hostile reports: {REPORT} is missing)")
        cases = [] if args.reports_only else hostile_corpus(sample, base / "收件" / "hostile", bombs=not args.no_bombs)
        if args.reports_only:
            runs = {k: v for k, v in runs.items() if v}
        for i, c in enumerate(cases):
            out = base / "out" / str(i)
            out.mkdir(parents=True, exist_ok=True)
            runs["check"].append((c.name, run_measured(["check", c.path], timeout=120)))
            runs["fill"].append((c.name, run_measured(["fill", c.path, "-o", out / "合计.xlsx"], timeout=120)))
            runs["export"].append((c.name, run_measured(["export", c.path, "-o", out, "-f", "all"], timeout=120)))
        if cases:
            runs["collect"] = [("(whole corpus)", run_measured(["collect", base / "收件", "-o", base / "汇总.xlsx"],
                                                               timeout=300))]
        if not args.keep and cases:
            (base / "收件" / "hostile" / "无权限.xlsx").chmod(0o644)
    print(f"hostile corpus: {len(cases)} files{'' if not args.no_bombs else ' (no bombs)'}, "
          f"{len(runs.get('import', []))} reports; "
          f"targets: < {MAX_SECONDS:g} s, < {MAX_MB:g} MB, exit 0/1/2")
    for command, rs in runs.items():
        slow_name, slow = max(rs, key=lambda r: r[1].seconds)
        big_name, big = max(rs, key=lambda r: r[1].peak_mb)
        bad = [f"{n} (exit {r.returncode})" for n, r in rs if r.returncode not in (0, 1, 2)]
        traced = [n for n, r in rs if "Traceback" in r.stderr]
        ok = slow.seconds < MAX_SECONDS and big.peak_mb < MAX_MB and not bad and not traced
        print(f"{command:<8} worst time {slow.seconds:6.1f} s ({slow_name})   worst peak {big.peak_mb:6.0f} MB "
              f"({big_name})   {'ok' if ok else 'OVER TARGET'}")
        if bad or traced:
            print(f"         bad exits: {', '.join(bad) or '-'}; tracebacks: {', '.join(traced) or '-'}")


if __name__ == "__main__":
    main()
