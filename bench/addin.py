"""Benchmark of the add-in's buttons on xlwings' remote engine: Python-side time per click and the number of
bulk reads and writes (target: 校验 ≤ 30 ms, ≤ 3 reads and ≤ 5 writes whatever the number of findings).

    python bench/addin.py        (bash dev.sh bench runs it)
"""

from __future__ import annotations

import copy
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import common  # noqa: F401  (puts tests/ on the path: xlwings_payload)
import openpyxl
import xlwings as xw
from xlwings_payload import payload_from_xlsx

from xl_addin import addin, api, spec


def run(fn: Any, payload: dict[str, Any], n: int) -> tuple[list[float], Any]:
    times, session = [], None
    for _ in range(n):
        p = copy.deepcopy(payload)
        t = time.perf_counter()
        book = xw.Book(json=p)
        session = fn(book)
        times.append((time.perf_counter() - t) * 1000)
    return times, session


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        template, sample, bad = t / "template.xlsx", t / "样例.xlsx", t / "bad.xlsx"
        api.build_template(template)
        api.put(template, api.sample_values(), sample)
        wb = openpyxl.load_workbook(sample)
        for key in spec.INPUT_KEYS:  # every count cell wrong: the most findings a workbook can have
            if spec.DATA_CELLS[key].kind is spec.Kind.COUNT:
                loc = spec.LAYOUT.locations[key]
                wb[loc.sheet][loc.a1] = "x"
        wb.save(bad)
        clean, broken = payload_from_xlsx(sample), payload_from_xlsx(bad)
        cases = [("校验 validate (clean sample)", addin.validate, clean),
                 ("校验 validate (every count cell wrong)", addin.validate, broken),
                 ("计算合计 fill_totals", addin.fill_totals, clean),
                 ("清除标记 clear_marks", addin.clear_marks, clean),
                 ("关于 about", addin.about, clean)]
        run(addin.validate, clean, 3)  # warm imports
        for name, fn, payload in cases:
            ms, s = run(fn, payload, 30)
            findings = len(getattr(s, "report", None).findings) if hasattr(s, "report") else "-"
            print(f"{name:<40} median {statistics.median(ms):6.1f} ms  min {min(ms):6.1f} ms  "
                  f"reads {s.reads}  writes {s.writes}  findings {findings}"
                  + ("   target ≤ 30 ms, ≤ 3 reads, ≤ 5 writes" if fn is addin.validate else ""))


if __name__ == "__main__":
    main()
