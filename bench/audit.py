"""Benchmark of ``xl-addin audit`` (issue 21): N published reports, copied from the real examples and varied,
audited in bulk. Target (2 cores, N = 1,000): >= 20 reports/s, the whole run (summary workbook, per-report records,
dataset, 通报 draft) included.

    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/audit.py --n 1000 [--urls 100]

The corpus: the examples (../shared/examples/published: web page, PDF, text; and the seed report) in turn, each
copy with its own agency name and some figures changed (web page and text), or its bytes changed after the end of
the file (PDF), so that no two files are alike and no cache can answer for another. The run happens in a fresh
process (as the command runs it), in phases: gathering the sources, checking them in the pool, writing the
outputs; it prints reports/s, each phase's share, and the peak memory of the process and of its largest worker.
Then, to tell where the time goes, the same import and check of a sample in-process on one core (what the
importer alone costs per report, against the pool's time per report and core).

``--urls K``: also K of the copies served by a local HTTP server and audited from a list of addresses (the polite
fetcher: one host, no delay), to see the fetch path's own cost.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "shared" / "examples"
if not EXAMPLES.is_dir():
    EXAMPLES = Path("/work/shared/examples")
SOURCES = [EXAMPLES / "published" / n for n in ("shuyang-county-drc-2023.html", "hongze-district-gov-2023.pdf",
                                                 "hongze-district-gov-2023.txt", "suqian-city-2023.txt",
                                                 "shanghai-municipal-gov-office-2019.txt")] + [
    EXAMPLES / "jiangle-industry-bureau-2023.txt"]
_AGENCY = re.compile("沭阳县发展和改革局|洪泽区人民政府|宿迁市人民政府|上海市人民政府办公厅|将乐县工业和信息化局".encode())
_NUMBER = re.compile(rb"(?<=[>\s\t])(\d{1,3})(?=[<\s\t])")


def vary(data: bytes, suffix: str, i: int) -> bytes:
    """Copy ``i`` of a report: its own agency name and figures (text, web page), or other trailing bytes (PDF)."""
    if suffix == ".pdf":
        return data + f"\n%copy {i}\n".encode()
    name = f"测试县第{i:05d}号机关".encode()
    data = _AGENCY.sub(name, data)
    k = 0

    def bump(m: re.Match[bytes]) -> bytes:
        nonlocal k
        k += 1
        return str(int(m.group(1)) + (i % 7 if k % 5 == 0 else 0)).encode()

    return _NUMBER.sub(bump, data)


def corpus(folder: Path, n: int) -> list[Path]:
    raw = [(p.suffix, p.read_bytes()) for p in SOURCES]
    out = []
    for i in range(n):
        suffix, data = raw[i % len(raw)]
        p = folder / f"{i // 100:02d}" / f"report-{i:05d}{suffix}"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(vary(data, suffix, i))
        out.append(p)
    return out


def child(sources: list[str], out: str) -> None:
    """In a fresh process: the audit in phases, figures as JSON on stdout."""
    from xl_addin import audit, bulk, checking

    t0 = time.perf_counter()
    items = audit.gather(sources, out)
    policy = audit.FetchPolicy(allow_private=True, host_delay=0.0, retries=0)
    items = audit.fetch_all(items, Path(out) / audit.SOURCES_DIR, policy)
    t1 = time.perf_counter()
    readable = [i for i, it in enumerate(items) if it.path and not it.error]
    got = bulk.examine_dicts([items[i].path for i in readable], seconds=checking.FILE_SECONDS,
                             memory_mb=checking.FILE_MEMORY_MB, fn=audit.examine_report)
    by = dict(zip(readable, got, strict=True))
    reports = tuple(audit.audited(i + 1, it, by.get(i)) for i, it in enumerate(items))
    t2 = time.perf_counter()
    result = audit.write_outputs(reports, Path(out), county="测试市")
    t3 = time.perf_counter()
    print(json.dumps({"n": len(reports), "gather": t1 - t0, "check": t2 - t1, "write": t3 - t2,
                      "total": t3 - t0, "counts": dict(result.counts), "notes": list(result.notes),
                      "rss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "rss_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def in_process(paths: list[Path]) -> float:
    """Import and check per report, ms, one core, in this process (the importer's and the rules' own cost)."""
    from xl_addin import checking

    for p in paths[:6]:
        checking.check_file(str(p))  # warm: imports, caches of the spec
    t = time.perf_counter()
    for p in paths:
        checking.check_file(str(p))
    return (time.perf_counter() - t) * 1000 / len(paths)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def run(sources: list[str], out: Path, label: str) -> None:
    proc = subprocess.run([sys.executable, __file__, "--child", str(out), *sources], capture_output=True, text=True,
                          check=True)
    d = json.loads(proc.stdout.strip().splitlines()[-1])
    n, total = d["n"], d["total"]
    print(f"{label}: {n} reports in {total:.1f} s = {n / total:.1f} reports/s (target >= 20 on 2 cores)")
    print(f"  gather+fetch {d['gather']:.1f} s, check (pool) {d['check']:.1f} s = {d['check'] * 1000 / n:.1f} ms/report, "
          f"outputs {d['write']:.1f} s")
    print(f"  verdicts {d['counts']}; peak RSS: process {d['rss_self_mb']:.0f} MB, largest worker "
          f"{d['rss_worker_mb']:.0f} MB" + (f"; notes: {d['notes']}" if d["notes"] else ""))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[3:], sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--urls", type=int, default=0, help="also audit this many copies from a local HTTP server")
    ap.add_argument("--sample", type=int, default=60, help="reports imported in-process for the per-report cost")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        folder = Path(tmp) / "reports"
        t = time.perf_counter()
        paths = corpus(folder, args.n)
        print(f"corpus: {len(paths)} reports ({', '.join(sorted({p.suffix for p in paths}))}) "
              f"in {time.perf_counter() - t:.1f} s")
        run([str(folder)], Path(tmp) / "out", "audit (folder)")
        per = in_process(paths[:args.sample])
        print(f"import + check in-process, one core: {per:.1f} ms/report "
              f"(two cores at that speed: {2000 / per:.0f} reports/s before outputs and process overhead)")
        if args.urls:
            server, base = serve(folder)
            try:
                listing = Path(tmp) / "urls.txt"
                listing.write_text("\n".join(f"{base}/{p.relative_to(folder).as_posix()}"
                                             for p in paths[:args.urls]), encoding="utf-8")
                run([str(listing)], Path(tmp) / "out-urls", "audit (URL list, local server)")
            finally:
                server.shutdown()


if __name__ == "__main__":
    main()
