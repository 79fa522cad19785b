"""Benchmark of the round's browser pages (issue 20): the board page, an agency's page, the page upload.

    python bench/round_pages.py [--agencies 60] [--dir D]

Against a real ``xl-addin serve --roster R --year Y`` process (one worker, as the county's 2-core server runs it
by default), with ``--agencies`` agencies on the roster, each having submitted its own workbook (the bundled
sample under its name) through the clerk's page, and a third of them a second version. Timed, over HTTP with a
logged-in session as a browser holds it:
- ``upload page round trip``: ``POST /round/agency/upload`` (multipart, 校验并提交) -- upload, check, store,
  receipt, the redirect -- then the page it redirects to; target ≤ 1 s;
- ``board page``: ``GET /round/board`` (HTML, every agency with its state, versions and timeliness); target
  ≤ 300 ms;
- ``agency page``: ``GET /round/board/agency/{name}`` (findings, versions, history);
- ``compare page``: ``GET /round/board/agency/{name}/compare?a=1&b=2`` (both versions read, ``versions.diff``);
- ``copy pairs cold``: the board's 内容雷同 section in a process that has read no version yet (a worker that did
  not take the submissions, or a restarted server): every version read once, then ``similarity.similar_pairs``
  (the board page above is warm: the server kept the texts of what it took); target ≤ 3 s at 60 agencies.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import urllib.parse
from pathlib import Path

import httpx
from common import line, round_server, sample_workbook, timed, variant


def login(base: str, path: str, secret: str) -> tuple[httpx.Client, str]:
    """A client holding a logged-in session, and the session's CSRF token."""
    c = httpx.Client(base_url=base, timeout=60)
    form = c.get(path)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text[:500]
    r = c.post(path, data={"csrf": csrf.group(1), "key": secret})
    assert r.status_code == 303, r.text[:500]
    page = c.get(r.headers["location"])
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return c, found.group(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agencies", type=int, default=60)
    ap.add_argument("--dir", type=Path, default=None, help="parent of the data directory (default: a temp dir)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        _, sample = sample_workbook(folder)
        run(folder, sample, args.agencies)


def run(folder: Path, sample: Path, n_agencies: int) -> None:
    with round_server(folder, sample, n_agencies) as srv:
        base, token, keys, books, names = srv.base, srv.token, srv.keys, srv.books, srv.names
        print(f"round pages: xl-addin serve (1 worker), {n_agencies} agencies, workbook "
              f"{len(books[names[0]]) // 1024} KB")

        def upload(client: httpx.Client, csrf: str, data: bytes) -> None:
            r = client.post("/round/agency/upload", data={"csrf": csrf, "do": "submit"},
                            files={"workbook": ("年报.xlsx", data)})
            assert r.status_code == 303, r.text[:500]
            client.get(r.headers["location"]).raise_for_status()

        up: list[float] = []
        counter = iter(range(1, 10**6))
        for i, n in enumerate(names):
            clerk, csrf = login(base, "/round/login", keys[n])
            up += timed(lambda c=clerk, k=csrf, n=n: upload(c, k, books[n]), 1)
            if i % 3 == 0:
                up += timed(lambda c=clerk, k=csrf, n=n: upload(c, k, variant(books[n], next(counter))), 1)
            clerk.close()
        line("upload page round trip (check, store, page)", up, "target: ≤ 1000 ms")
        print(f"{'':<44} p95 {statistics.quantiles(up, n=20)[-1]:8.1f} ms   max {max(up):8.1f} ms")

        coord, _ = login(base, "/round/coordinator/login", token)
        board = timed(lambda: coord.get("/round/board").raise_for_status(), 50)
        line(f"GET board page, {n_agencies} agencies", board, "target: ≤ 300 ms")
        print(f"{'':<44} p95 {statistics.quantiles(board, n=20)[-1]:8.1f} ms   max {max(board):8.1f} ms")
        one = "/round/board/agency/" + urllib.parse.quote(names[0], safe="")
        line("GET agency page", timed(lambda: coord.get(one).raise_for_status(), 30))
        line("GET compare page (2 versions read, diff)",
             timed(lambda: coord.get(one + "/compare", params={"a": 1, "b": 2}).raise_for_status(), 10))
        coord.close()
        cold = timed(lambda: cold_pairs(folder / "round-data"), 3)
        line(f"copy pairs cold (read {n_agencies} versions, compare)", cold, "target: ≤ 3000 ms")


def cold_pairs(data_dir: Path) -> int:
    from xl_addin.rounds import County

    with County.open(data_dir, year=None) as c:
        return len(c.copy_pairs())


if __name__ == "__main__":
    main()
