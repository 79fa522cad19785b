"""Benchmark of the report export (issue 5): one report as Word + HTML (target ≤ 300 ms), plus the parts.

    python bench/export.py        (bash dev.sh bench runs it)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import line, sample_workbook, timed

from xl_addin import api, report_doc
from xl_addin.adapters import docx_writer, html_writer


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _, sample = sample_workbook(t)
        data = api.read(sample)
        out = t / "out"
        api.export(data, out, ("docx", "html"))  # warm imports and the reference document cache
        line("export docx + html (one report, from data)", timed(lambda: api.export(data, out, ("docx", "html")), 30),
             "target ≤ 300 ms")
        line("export docx + html + txt from the workbook", timed(lambda: api.export(sample, out), 20))
        doc = report_doc.build(data)
        line("  document model only", timed(lambda: report_doc.build(data), 50))
        line("  Word rendering only", timed(lambda: docx_writer.to_bytes(doc), 30))
        line("  HTML rendering only", timed(lambda: html_writer.render(doc), 50))


if __name__ == "__main__":
    main()
