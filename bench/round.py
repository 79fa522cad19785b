"""Benchmark of the round store alone (issue 20): what the store adds to a submission and what the board costs.

    python bench/round.py [--agencies 60] [--versions 3] [--dir D]

A county of ``--agencies`` agencies on the roster, each submitting ``--versions`` versions of a real filled
workbook (the bundled sample, its bytes made distinct per version by a suffix: the store never parses them).
Timed, each on the same data directory (fsync costs depend on its file system: ``--dir`` to bench the disk the
server will use):
- ``submit``: :meth:`RoundStore.submit` -- file written and fsync'd, directory fsync'd, row committed with
  ``synchronous=FULL`` -- one after another; then the same from 4 threads at once (the server's thread pool);
- ``act``: accept with its recorded action; ``agency_for_token`` with every agency holding a key;
- ``board``: :meth:`RoundStore.board` plus the ``board --json`` document, with every version in place.
Targets: board well under 300 ms (the whole page's budget); the store's part of submit small against the 1 s
round trip.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from common import line, sample_workbook, timed

from xl_addin.adapters.roundstore import Actor, RoundStore, board_json
from xl_addin.collect import Agency, Roster
from xl_addin.review import Action, Role

CLEAN = {"counts": {"error": 0, "warning": 2, "info": 1}, "findings": []}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agencies", type=int, default=60)
    ap.add_argument("--versions", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None, help="parent of the data directory (default: a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        _, sample = sample_workbook(Path(tmp))
        body = sample.read_bytes()
        run(Path(tmp) / "data", body, args.agencies, args.versions)


def run(data_dir: Path, body: bytes, n_agencies: int, n_versions: int) -> None:
    names = [f"县第{i:02d}局" for i in range(1, n_agencies + 1)]
    store = RoundStore.open(data_dir, year=2025)
    store.load_roster(Roster(tuple(Agency(n, "政府部门", "县级", f"联系人{i}") for i, n in enumerate(names))))
    tokens = [store.issue_key(n) for n in names]
    print(f"round store: {n_agencies} agencies × {n_versions} versions, workbook {len(body) // 1024} KB, "
          f"data dir {data_dir}")

    counter = iter(range(10**9))

    def submit(name: str) -> None:
        store.submit(name, body + str(next(counter)).encode(), CLEAN)

    # all versions but the last, one after another
    lat: list[float] = []
    t0 = time.perf_counter()
    for _ in range(n_versions - 1):
        for name in names:
            lat += timed(lambda name=name: submit(name), 1)
    wall = time.perf_counter() - t0
    line("submit, one at a time", lat, "target: small against the 1 s round trip")
    print(f"{'':<44} p95 {statistics.quantiles(lat, n=20)[-1]:8.1f} ms   max {max(lat):8.1f} ms   "
          f"{len(lat) / wall:6.0f} submits/s")

    # the last version from 4 threads at once
    lat_mt: list[float] = []
    lock = threading.Lock()

    def worker(part: list[str]) -> None:
        for name in part:
            ms = timed(lambda name=name: submit(name), 1)
            with lock:
                lat_mt.extend(ms)

    threads = [threading.Thread(target=worker, args=(names[i::4],)) for i in range(4)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    line("submit, 4 threads at once", lat_mt)
    print(f"{'':<44} p95 {statistics.quantiles(lat_mt, n=20)[-1]:8.1f} ms   max {max(lat_mt):8.1f} ms   "
          f"{len(lat_mt) / wall:6.0f} submits/s")

    coordinator = Actor(Role.COORDINATOR, "县政务公开办")
    half = names[: n_agencies // 2]
    line("act (accept)", [ms for n in half for ms in timed(
        lambda n=n: store.act(n, Action.ACCEPT, coordinator, n_versions), 1)])
    line("agency_for_token", timed(lambda: store.agency_for_token(tokens[-1]), 200))

    rows = store.board()
    assert sum(len(r.versions) for r in rows) == n_agencies * n_versions
    line(f"board() + JSON, {n_agencies} agencies × {n_versions} versions",
         timed(lambda: json.dumps(board_json(store.board()), ensure_ascii=False), 50), "target: well under 300 ms")
    problems, _ = store.verify()
    assert not problems
    store.close()


if __name__ == "__main__":
    main()
