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

Then over HTTP (``--no-http`` skips it), against a real ``xl-addin serve --roster R --year Y`` process (one worker,
as the county's 2-core server runs it by default) on the same kind of directory:
- ``submit round trip``: ``POST /round/api/submit`` with an agency's key -- upload, check (the rules of ``xl-addin
  check``), store, receipt -- for each of the ``--agencies`` agencies' own workbooks, then again with new bytes;
  target ≤ 1 s;
- ``board JSON``: ``GET /round/api/board`` with the coordinator's token, every agency with its versions; target
  ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import line, round_server, sample_workbook, timed, variant

from xl_addin.adapters.roundstore import Actor, RoundStore, board_json
from xl_addin.collect import Agency, Roster
from xl_addin.review import Action, Role

CLEAN = {"counts": {"error": 0, "warning": 2, "info": 1}, "findings": []}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agencies", type=int, default=60)
    ap.add_argument("--versions", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None, help="parent of the data directory (default: a temp dir)")
    ap.add_argument("--no-http", action="store_true", help="the store alone, no server")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        _, sample = sample_workbook(Path(tmp))
        body = sample.read_bytes()
        run(Path(tmp) / "data", body, args.agencies, args.versions)
        if not args.no_http:
            over_http(Path(tmp), sample, args.agencies)


def over_http(folder: Path, sample: Path, n_agencies: int) -> None:
    with round_server(folder, sample, n_agencies) as srv, \
            httpx.Client(base_url=srv.base, timeout=60, headers={"Authorization": f"Bearer {srv.token}"}) as ctl:
        names, books = srv.names, srv.books
        print(f"over HTTP: xl-addin serve (1 worker), {n_agencies} agencies, workbook {len(books[names[0]]) // 1024} KB")

        def submit(name: str, data: bytes) -> None:
            r = httpx.post(srv.base + "/round/api/submit", params={"filename": "年报.xlsx"}, content=data,
                           headers={"Authorization": f"Bearer {srv.keys[name]}"}, timeout=60)
            assert r.status_code == 201, r.text

        first = [ms for n in names for ms in timed(lambda n=n: submit(n, books[n]), 1)]
        line("submit round trip (upload, check, store)", first, "target: ≤ 1000 ms")
        print(f"{'':<44} p95 {statistics.quantiles(first, n=20)[-1]:8.1f} ms   max {max(first):8.1f} ms")
        counter = iter(range(1, 10**6))
        again = [ms for n in names[:20] for ms in timed(lambda n=n: submit(n, variant(books[n], next(counter))), 1)]
        line("submit round trip, a new version", again, "target: ≤ 1000 ms")
        board = timed(lambda: ctl.get("/round/api/board").raise_for_status(), 50)
        line(f"GET board JSON, {n_agencies} agencies", board, "target: ≤ 300 ms")
        print(f"{'':<44} p95 {statistics.quantiles(board, n=20)[-1]:8.1f} ms   max {max(board):8.1f} ms")


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
