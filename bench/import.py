"""Benchmark of reading published reports (issues 13, 21): per report of shared/examples/published and the seed,
in-process, what ``xl-addin import REPORT -o X.xlsx`` plus ``check`` cost -- reading, parsing, checking and writing
the workbook -- with the share of each. Targets (issue 21): ≤ 300 ms per web page or text report, ≤ 500 ms per
PDF, the workbook's writing included.
Issue 19: reading grows linearly -- a PDF page of 20,000 and of 200,000 glyphs (was quadratic: 4,000 runs 2.2 s,
20,000 runs over 120 s), a page of 1,500 and of 15,000 lines ending in a number (was ~0.45 ms a line).

    python bench/import.py [--quick]     (bash dev.sh bench runs it; --quick: the examples only)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from common import line, timed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from hostile import many_glyph_pdf, numbered_lines_page

from xl_addin import api
from xl_addin.adapters import report_reader

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"
PUBLISHED = EXAMPLES / "published"
#: the target per report kind, ms (issue 21): import + check + writing the workbook
TARGET_MS = {".pdf": 500}
DEFAULT_TARGET_MS = 300
RUNS = 10


def hostile() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for runs in (2_000, 20_000):
            pdf = many_glyph_pdf(Path(tmp) / f"{runs}.pdf", runs)
            line(f"read a PDF page of {runs * 10:,} glyphs", timed(lambda p=pdf: report_reader.read_document(p), 3),
                 "linear; target ≤ 10 s")
        for n in (1_500, 15_000):
            page = numbered_lines_page(Path(tmp) / f"{n}.html", n)
            line(f"import a page of {n:,} numbered lines", timed(lambda p=page: api.import_report(p), 3),
                 "linear; target ≤ 10 s")


def examples() -> list[Path]:
    seed = sorted(EXAMPLES.glob("*.txt"))
    return seed + sorted(p for p in PUBLISHED.iterdir() if p.suffix.lower() in report_reader.SUFFIXES and p.name != "README.md")


def import_and_check(path: Path, out: Path) -> None:
    """What ``xl-addin import PATH -o OUT`` and a check of the report do, in-process."""
    imported = api.import_report(path)
    api.check_data(imported.data)
    api.write_imported(imported, out)


def main() -> None:
    if "--quick" not in sys.argv:
        hostile()
    if not PUBLISHED.is_dir():
        print(f"bench/import.py: {PUBLISHED} is missing (shared/ beside the checkout), skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for path in examples():
            out = Path(tmp) / (path.name + ".xlsx")
            import_and_check(path, out)  # warm the imports and caches
            imported = api.import_report(path)
            target = TARGET_MS.get(path.suffix.lower(), DEFAULT_TARGET_MS)
            line(f"import + check + write, {path.name[:26]}",
                 timed(lambda p=path, o=out: import_and_check(p, o), RUNS), f"target ≤ {target} ms")
            line("  reading the file", timed(lambda p=path: report_reader.read_document(p), RUNS))
            line("  checking", timed(lambda i=imported: api.check_data(i.data), RUNS))
            line("  writing the workbook", timed(lambda i=imported, o=out: api.write_imported(i, o), RUNS))
            line("  checking the workbook written", timed(lambda o=out: api.check(o), RUNS))
        line("first workbook written in a process", timed(lambda: first_write(imported, Path(tmp) / "first.xlsx"), 3),
             "builds the template once (openpyxl)")


def first_write(imported: Any, out: Path) -> None:
    from xl_addin.adapters import import_writer

    import_writer._package.cache_clear()
    api.write_imported(imported, out)


if __name__ == "__main__":
    main()
