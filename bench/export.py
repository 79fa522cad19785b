"""Benchmark of the report export (issue 5): one report as Word + HTML (target ≤ 300 ms), plus the parts.

    python bench/export.py        (bash dev.sh bench runs it)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from xl_addin import api, dataio, report_doc
from xl_addin.adapters import docx_writer, html_writer


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def line(name: str, ms: list[float], target: str = "") -> None:
    print(f"{name:<44} median {statistics.median(ms):8.1f} ms   min {min(ms):8.1f} ms   n={len(ms):<4} {target}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        template, sample = t / "template.xlsx", t / "sample.xlsx"
        api.build_template(template)
        api.put(template, dataio.sample_values(), sample)
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
