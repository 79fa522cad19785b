"""Regenerates the real bad-input files in this folder (run once; the outputs are checked in).

    python tests/data/make_data.py      # needs LibreOffice (soffice) and msoffcrypto-tool

- sample-libreoffice-saved.xlsx  the bundled sample opened and saved by LibreOffice Calc (protection dropped)
- sample-old-excel.xls           the same saved as Excel 97-2003 (.xls) by LibreOffice
- sample-encrypted.xlsx          the sample with an open password (msoffcrypto-tool, password "secret")
- broken-truncated.xlsx          the sample cut to half its size
- not-a-workbook.xlsx            a text file with an .xlsx name
- empty.xlsx                     0 bytes
- foreign-workbook.xlsx          an ordinary workbook not made from our template
- report.ods                     the sample saved as OpenDocument by LibreOffice
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl

from xl_addin import api

HERE = Path(__file__).parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        template, sample = t / "template.xlsx", t / "sample.xlsx"
        api.build_template(template)
        api.put(template, api.sample_values(), sample)
        profile = f"-env:UserInstallation=file://{t}/profile"
        for fmt, name in (("xlsx:Calc MS Excel 2007 XML", "sample-libreoffice-saved.xlsx"),
                          ("xls", "sample-old-excel.xls"), ("ods", "report.ods")):
            out = t / fmt.split(":")[0]
            subprocess.run(["soffice", profile, "--headless", "--convert-to", fmt, "--outdir", str(out), str(sample)],
                           check=True, capture_output=True)
            shutil.copy(out / (sample.stem + "." + fmt.split(":")[0]), HERE / name)
        import msoffcrypto.format.ooxml as ooxml

        with sample.open("rb") as src, (HERE / "sample-encrypted.xlsx").open("wb") as dst:
            ooxml.OOXMLFile(src).encrypt("secret", dst)
        data = sample.read_bytes()
        (HERE / "broken-truncated.xlsx").write_bytes(data[: len(data) // 2])
    (HERE / "not-a-workbook.xlsx").write_text("这不是一个工作簿\n", encoding="utf-8")
    (HERE / "empty.xlsx").write_bytes(b"")
    wb = openpyxl.Workbook()
    wb.active.title = "统计表"
    wb.active["A1"] = "机关名称"
    wb.active["B1"] = "某某局"
    wb.save(HERE / "foreign-workbook.xlsx")


if __name__ == "__main__":
    main()
