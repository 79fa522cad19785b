"""Benchmark of the WPS add-in's script time on the fake ET model (wps/test/fake_et.mjs) for a full template:
reading the workbook into the book JSON and carrying out the server's answer, per button (target ≤ 50 ms a click;
the request itself is the server's time, see bench/server.py). The answers are the county server's, made in
process with xlwings' remote engine for a workbook with errors.

    python bench/wps_client.py        (bash dev.sh bench runs it; needs node and the built xl_addin/wps)
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import common
import openpyxl
import xlwings as xw
from xlwings_payload import payload_from_xlsx

from xl_addin import actions, addin, spec

ROOT = Path(__file__).resolve().parent.parent
BUTTONS = ("validate", "fill_totals", "clear_marks")


def main() -> int:
    node = shutil.which("node")
    if node is None:
        print("node is not installed (bash dev.sh test installs it)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _, sample = common.sample_workbook(folder)
        wb = openpyxl.load_workbook(sample)
        for key, value in {"t3.new.natural": -1, "t2.rules.made": 3, "t4.review.upheld": 2.5}.items():
            loc = spec.LAYOUT.locations[key]
            wb[loc.sheet][loc.a1] = value
        wb.save(folder / "bad.xlsx")
        payload = payload_from_xlsx(folder / "bad.xlsx")
        (folder / "payload.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        name = actions.WPS_ADDIN_NAME.encode("utf-16-be").hex().upper()
        for button in BUTTONS:
            book = xw.Book(json=copy.deepcopy(payload))
            getattr(addin, button)(book, addin=name)
            (folder / f"{button}.json").write_text(json.dumps(book.json(), ensure_ascii=False), encoding="utf-8")
        return subprocess.run([node, str(ROOT / "wps" / "test" / "bench_client.mjs"), str(folder), *BUTTONS],
                              check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
