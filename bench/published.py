"""Benchmark of the publication check (issue 20): a published report read (PDF, web page; from a file and from a
local web server) and compared with the accepted version's workbook, every cell and section. Target: a PDF
≤ 2 s on the county's 2-core server, import included. Uses shared/examples/published.

    python bench/published.py        (bash dev.sh bench runs it)
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import line, timed

from xl_addin import api, published
from xl_addin.adapters.fetch import load_published

PUBLISHED = Path(__file__).resolve().parents[2] / "shared" / "examples" / "published"
FILES = (("PDF", "hongze-district-gov-2023.pdf", "target ≤ 2000 ms"), ("HTML", "shuyang-county-drc-2023.html", ""))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def check(accepted: Path, source: str, allow_private: bool = False) -> published.PublicationCheck:
    """What the server does for one check: read the accepted workbook, read the published report, compare."""
    return published.compare(api.read(accepted), load_published(source, allow_private=allow_private).data)


def main() -> None:
    if not PUBLISHED.is_dir():
        print(f"bench/published.py: {PUBLISHED} is missing (shared/ beside the checkout), skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        books = {}
        for _kind, name, _ in FILES:
            books[name] = api.write_imported(api.import_report(PUBLISHED / name), t / f"{name}.xlsx")
        # `xl-addin review --published FILE` starts a process: Python, the package and the importers' libraries
        pdf_book, pdf = books[FILES[0][1]], PUBLISHED / FILES[0][1]
        code = ("from xl_addin import api, published; from xl_addin.adapters.fetch import load_published; "
                f"published.compare(api.read({str(pdf_book)!r}), load_published({str(pdf)!r}).data)")
        line("PDF check as a new process (incl. startup)",
             timed(lambda: subprocess.run([sys.executable, "-c", code], check=True), 5), FILES[0][2])
        # the first check in this process (the importers' libraries loaded on first use)
        first = time.perf_counter()
        check(books[FILES[0][1]], str(PUBLISHED / FILES[0][1]))
        line("first PDF check in this process", [(time.perf_counter() - first) * 1000], FILES[0][2])
        for kind, name, target in FILES:
            path = PUBLISHED / name
            line(f"publication check, {kind} file (import incl.)",
                 timed(lambda b=books[name], p=path: check(b, str(p)), 20), target)
            data = api.read(books[name])
            imported = api.import_report(path).data
            line("  the comparison only", timed(lambda d=data, i=imported: published.compare(d, i), 50))
        handler = functools.partial(_Quiet, directory=str(PUBLISHED))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            base = f"http://127.0.0.1:{server.server_address[1]}"
            for kind, name, target in FILES:
                line(f"publication check, {kind} by URL (fetch incl.)",
                     timed(lambda b=books[name], u=f"{base}/{name}": check(b, u, True), 20), target)
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
