"""What the benchmark scripts share: timing a call, printing one figure line, a filled sample workbook."""

from __future__ import annotations

import contextlib
import io
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


def variant(data: bytes, i: int) -> bytes:
    """The same workbook as new bytes (a zip comment): a new version passing the same check."""
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as z:
        z.comment = f"v{i}".encode()
    return buf.getvalue()


@dataclass(frozen=True)
class RoundServer:
    """A running ``xl-addin serve --roster --year 2023`` (1 worker, no rate limit) with its agencies' workbooks."""

    base: str
    token: str  # the coordinator's
    keys: dict[str, str]  # agency -> its key
    books: dict[str, bytes]  # agency -> the sample with that agency's name
    names: list[str]


@contextlib.contextmanager
def round_server(folder: Path, sample: Path, n_agencies: int) -> Iterator[RoundServer]:
    """Starts the county server with a roster of ``n_agencies`` in ``folder``, issues every agency's key, and
    stops it at the end."""
    import httpx
    from serving import free_port, is_up

    names = [f"县第{i:02d}局" for i in range(1, n_agencies + 1)]
    roster = folder / "roster.csv"
    roster.write_text("机关名称,机关类别,层级,联系人\n" + "".join(f"{n},政府部门,县级,联系人{i}\n"
                                                         for i, n in enumerate(names)), encoding="utf-8")
    books = {n: api.put(sample, {"meta.agency": n}, folder / f"{n}.xlsx").read_bytes() for n in names}
    port = free_port()
    data_dir = folder / "round-data"
    proc = subprocess.Popen([sys.executable, "-m", "xl_addin", "serve", "--port", str(port), "--data-dir",
                             str(data_dir), "--token-file", str(folder / "token.txt"), "--roster", str(roster),
                             "--year", "2023", "--rate-limit", "0"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        if not is_up(base, proc):
            raise SystemExit("the server did not start")
        token = (data_dir / "coordinator-token.txt").read_text().strip()
        with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as ctl:
            keys = ctl.post("/round/api/keys", json={"agencies": None}).json()["keys"]
        yield RoundServer(base, token, keys, books, names)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
