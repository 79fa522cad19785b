"""What the benchmark scripts share: timing a call, printing one figure line, a filled sample workbook."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from xl_addin import api

#: the test tooling the benchmarks share with the suite (tests/xlwings_payload.py: a workbook as the VBA client
#: sends it), not part of the package
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def timed(fn: Callable[[], object], n: int) -> list[float]:
    """Milliseconds of ``n`` calls of ``fn``."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def line(name: str, ms: list[float], target: str = "") -> None:
    print(f"{name:<44} median {statistics.median(ms):8.1f} ms   min {min(ms):8.1f} ms   n={len(ms):<4} {target}")


def sample_workbook(folder: Path) -> tuple[Path, Path]:
    """(template, the template filled with the bundled sample) written into ``folder``."""
    template, sample = folder / "template.xlsx", folder / "sample.xlsx"
    api.build_template(template)
    api.put(template, api.sample_values(), sample)
    return template, sample
