"""Benchmark of issue 14: the hostile corpus (tests/hostile.py) through ``check``, ``fill``, ``export`` and
``collect``; per command the worst wall time and the worst peak memory over the corpus, and which file caused
each. Targets: every run under 10 s and 500 MB, exit 0, 1 or 2.

Issue 19 (item 18): the hostile published reports of tests/hostile.py (hostile_reports: vertical tabs, counts of
400 and 5,000 digits, encrypted PDF and Word, UTF-16 without BOM ...) through ``import -o``, in the same table.

Issue 19 (items 15-17): the hostile published reports (tests/hostile.py: report_corpus) through ``check``, one
line per report with its time and peak memory, beside what the build before issue 19 took (measured on the same
machine, 2 cores shared; ">120" = stopped after 120 s without an answer).

    python bench/hostile.py [--keep DIR] [--no-bombs] [--reports-only]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hostile import Run, hostile_corpus, hostile_reports, report_corpus, run_measured

from xl_addin import api

MAX_SECONDS, MAX_MB = 10.0, 500.0
#: the real report the import's hostile reports are made from (shared/ beside the checkout)
REPORT = Path(__file__).resolve().parents[2] / "shared" / "examples" / "published" / "suqian-city-2023.txt"
#: ``check`` on each hostile report before issue 19 (commit 5a0cf9c, same machine, loaded): seconds, peak MB
BEFORE: dict[str, tuple[str, str]] = {
    "pdf-glyphs": (">120", "64"),
    "pdf-glyph-flood": (">120", "62"),
    "page-numbers": ("23.3", "56"),
    "page-50mb": (">120", "949"),
    "doc-junk": (">120", "27"),  # LibreOffice's own memory not counted: it was left running, never waited for
    "docx-ok": ("0.6", "36"),
    "docx-styles-1gb": ("11.8", "2082"),
    "docx-image-1gb": ("6.7", "2083"),
    "docx-lying-size": ("1.1", "544"),
}


def reports(base: Path) -> None:
    """check on every hostile report: time, peak memory, exit, and the before figures."""
    cases = report_corpus(base / "报告")
    print(f"hostile reports: {len(cases)} files through check; targets: < {MAX_SECONDS:g} s, < {MAX_MB:g} MB, "
          "read (exit 1) or refused in Chinese (exit 2)")
    for c in cases:
        r = run_measured(["check", c.path], timeout=120)
        said = (r.stderr or r.stdout).strip().splitlines()
        why = said[0].split("：", 1)[-1][:60] if r.returncode == 2 and said else ""
        ok = r.seconds < MAX_SECONDS and r.peak_mb < MAX_MB and r.returncode in c.check_exits
        s0, m0 = BEFORE.get(c.name, ("?", "?"))
        print(f"  {c.name:<16} {r.seconds:5.1f} s {r.peak_mb:6.0f} MB  exit {r.returncode}   before: {s0:>5} s "
              f"{m0:>5} MB   {'ok' if ok else 'OVER TARGET'}  {why}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    ap.add_argument("--no-bombs", action="store_true", help="leave out the gigabyte bombs and the 50 MB workbook")
    ap.add_argument("--reports-only", action="store_true", help="only the hostile published reports (issue 19)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        reports(base)
        runs: dict[str, list[tuple[str, Run]]] = {}
        if REPORT.is_file():
            imports = hostile_reports(REPORT.read_text(encoding="utf-8"), base / "导入")
            (base / "out").mkdir(exist_ok=True)
            runs["import"] = [(c.name, run_measured(["import", c.path, "-o", base / "out" / f"{c.name}.xlsx"],
                                                    timeout=120)) for c in imports]
        else:
            print(f"(no hostile reports to import: {REPORT} is missing)")
        cases = []
        if not args.reports_only:
            template = api.build_template(base / "模板.xlsx")
            sample = api.put(template, api.sample_values(), base / "样例.xlsx")
            cases = hostile_corpus(sample, base / "收件" / "hostile", bombs=not args.no_bombs)
            runs.update({"check": [], "fill": [], "export": []})
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
          f"{len(runs.get('import', []))} reports imported; "
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
