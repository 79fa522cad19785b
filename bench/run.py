"""Benchmarks: prints figures, asserts nothing (targets are in the issues; compare by eye and in notes).

    bash dev.sh bench        (or: make bench)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from xl_addin import api, dataio


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
        api.build_template(template)  # warm imports
        line("template build (openpyxl, write .xlsx)", timed(lambda: api.build_template(template), 15), "target ≤ 1500 ms")
        api.put(template, dataio.sample_values(), sample)
        api.check(sample)
        line("check one filled workbook (fast reader)", timed(lambda: api.check(sample), 50), "target ≤ 60 ms")
        line("check one filled workbook (openpyxl reader)", timed(lambda: api.check(sample, reader="openpyxl"), 20))
        line("fill totals (openpyxl load + atomic save)", timed(lambda: api.fill(sample, t / "f.xlsx"), 10))
        cmd = [sys.executable, "-m", "xl_addin", "check", str(sample)]
        line("xl-addin check as a process (incl. startup)", timed(lambda: subprocess.run(cmd, capture_output=True), 5))


if __name__ == "__main__":
    main()
