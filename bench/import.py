"""Benchmark of reading published reports (issue 13): import + check of one portal page (HTML) and one PDF.
Target ≤ 500 ms each (a county's 60 reports in well under a minute). Uses shared/examples/published.
Issue 19: reading grows linearly -- a PDF page of 20,000 and of 200,000 glyphs (was quadratic: 4,000 runs 2.2 s,
20,000 runs over 120 s), a page of 1,500 and of 15,000 lines ending in a number (was ~0.45 ms a line).

    python bench/import.py        (bash dev.sh bench runs it)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from common import line, timed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from hostile import many_glyph_pdf, numbered_lines_page

from xl_addin import api
from xl_addin.adapters import report_reader

PUBLISHED = Path(__file__).resolve().parents[2] / "shared" / "examples" / "published"
FILES = (("HTML", "shuyang-county-drc-2023.html"), ("PDF", "hongze-district-gov-2023.pdf"),
         ("text", "suqian-city-2023.txt"))


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


def main() -> None:
    hostile()
    if not PUBLISHED.is_dir():
        print(f"bench/import.py: {PUBLISHED} is missing (shared/ beside the checkout), skipped")
        return
    for kind, name in FILES:
        path = PUBLISHED / name
        api.check_data(api.import_report(path).data)  # warm the imports
        line(f"import + check, {kind} ({name[:22]})", timed(lambda p=path: api.check_data(api.import_report(p).data), 20),
             "target ≤ 500 ms" if kind != "text" else "")
        line("  reading the file only", timed(lambda p=path: report_reader.read_document(p), 20))


if __name__ == "__main__":
    main()
