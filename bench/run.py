"""Benchmarks: prints figures, asserts nothing (targets are in the issues; compare by eye and in notes).

    bash dev.sh bench        (or: make bench)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from common import line, timed

from xl_addin import api


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        template, sample = t / "template.xlsx", t / "sample.xlsx"
        api.build_template(template)  # warm imports
        line("template build (openpyxl, write .xlsx)", timed(lambda: api.build_template(template), 15), "target ≤ 1500 ms")
        api.put(template, api.sample_values(), sample)
        api.check(sample)
        line("check one filled workbook (fast reader)", timed(lambda: api.check(sample), 50), "target ≤ 60 ms")
        line("check one filled workbook (openpyxl reader)", timed(lambda: api.check(sample, reader="openpyxl"), 20))
        line("fill totals (openpyxl load + atomic save)", timed(lambda: api.fill(sample, t / "f.xlsx"), 10))
        cmd = [sys.executable, "-m", "xl_addin", "check", str(sample)]
        line("xl-addin check as a process (incl. startup)", timed(lambda: subprocess.run(cmd, capture_output=True), 5))


if __name__ == "__main__":
    main()
