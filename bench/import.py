"""Benchmark of reading published reports (issue 13): import + check of one portal page (HTML) and one PDF.
Target ≤ 500 ms each (a county's 60 reports in well under a minute). Uses shared/examples/published.

    python bench/import.py        (bash dev.sh bench runs it)
"""

from __future__ import annotations

from pathlib import Path

from common import line, timed

from xl_addin import api
from xl_addin.adapters import report_reader

PUBLISHED = Path(__file__).resolve().parents[2] / "shared" / "examples" / "published"
FILES = (("HTML", "shuyang-county-drc-2023.html"), ("PDF", "hongze-district-gov-2023.pdf"),
         ("text", "suqian-city-2023.txt"))


def main() -> None:
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
