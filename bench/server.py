"""Benchmark of ``xl-addin serve``: 50 concurrent clients each click 校验 20 times against one server on this
machine (uvicorn on 127.0.0.1, a free port, the payload the VBA client sends for the bundled sample).
Prints p50/p95 latency, errors and clicks per second. Target: 0 errors, p95 ≤ 250 ms.

    python bench/server.py [--clients 50] [--clicks 20] [--workers 2] [--think-ms 0 1000]   (bash dev.sh bench)
    python bench/server.py --flood [--flood-connections 100] [--flood-seconds 15] [--half-sent 1100]

Two runs by default: back to back (each client clicks again the moment its answer arrives: a stress test whose
latency is bounded below by Little's law, clients x CPU time per click / cores) and paced: every client starts at
a random moment within the first second and pauses 0.5-1.5 s after each answer (50 clerks clicking as fast as a
person can read a message box). Each client has its own loopback address (127.0.1.x), as each clerk has a PC.

``--flood``: a holder of the token (it is in every agency's .xlam) against one worker: ``--flood-connections``
connections from 4 addresses post bodies just under the 2 MB cap, again and again for ``--flood-seconds``, while a
clerk at another address clicks 校验 every 0.25 s. Prints the worker's peak memory (RSS) under the flood and a
few seconds after it, how the flood was answered, and the clerk's p50/p95/max and errors. Then ``--half-sent``
connections each send half a request and stay open (slowloris): how long the clerk's click then takes, and how
many of those connections the server has closed after 35 s. Target: peak RSS ≤ 400 MB, clerk p95 ≤ 1 s and
0 errors under the flood, the clerk answered while half-sent requests are open.

Requests go to 127.0.0.0/8 only; every loop is bounded (clients × clicks requests, or a fixed number of seconds;
a 60 s timeout each).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import httpx
from common import sample_workbook
from serving import is_up
from xlwings_payload import payload_from_xlsx

from xl_addin import server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clerk_transport(i: int) -> Any:
    """The connection of clerk ``i``: from a loopback address of its own (127.0.1.x), as each clerk has a PC."""
    return httpx.HTTPTransport(local_address=f"127.0.{1 + i // 250}.{1 + i % 250}")


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MB (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def open_files(soft: int) -> None:
    """In the server's process before it starts: the soft limit of open files a service gets by default."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard), hard))


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def flood(base: str, body: bytes, big: bytes, headers: dict[str, str], pid: int, connections: int,
          seconds: float, half_sent: int, port: int) -> None:
    """The token holder's flood and slowloris against the server whose process is ``pid`` (see the module doc)."""
    stop = time.monotonic() + seconds
    answered: collections.Counter[str] = collections.Counter()
    clerk: list[float] = []
    clerk_errors: list[str] = []
    peak = [0.0]
    lock = threading.Lock()
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], max(rss_mb(p) for p in tree(pid)))
            time.sleep(0.05)

    def attacker(i: int) -> None:
        with httpx.Client(base_url=base, timeout=60, headers=headers,
                          transport=httpx.HTTPTransport(local_address=f"127.0.2.{1 + i % 4}")) as c:
            while time.monotonic() < stop:
                try:
                    r = c.post("/xl_addin/validate", content=big)
                    what = str(r.status_code)
                except httpx.HTTPError as exc:
                    what = type(exc).__name__
                with lock:
                    answered[what] += 1
                if what != "200":
                    time.sleep(0.1)

    def one_click(c: Any) -> None:
        t0 = time.perf_counter()
        try:
            r = c.post("/xl_addin/validate", content=body, headers=headers)
            said = [a["args"][0] for a in r.json()["actions"] if a["func"] == "alert"] if r.status_code == 200 else []
            if not (r.status_code == 200 and said and said[0].startswith("校验通过")):
                clerk_errors.append(f"HTTP {r.status_code}: {r.text[:120]}")
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            clerk_errors.append(type(exc).__name__)
        clerk.append((time.perf_counter() - t0) * 1000)

    sampler = threading.Thread(target=sample)
    sampler.start()
    before = max(rss_mb(p) for p in tree(pid))
    cpu0, wall0, own0 = cpu_seconds(tree(pid)), time.monotonic(), time.process_time()
    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(connections)]
    for th in threads:
        th.start()
    with httpx.Client(base_url=base, timeout=60, transport=httpx.HTTPTransport(local_address="127.0.3.1")) as c:
        time.sleep(1)
        while time.monotonic() < stop:
            one_click(c)
            time.sleep(0.25)
    for th in threads:
        th.join()
    cpu, wall, own = cpu_seconds(tree(pid)) - cpu0, time.monotonic() - wall0, time.process_time() - own0
    time.sleep(3)
    sampling.set()
    sampler.join()
    after = max(rss_mb(p) for p in tree(pid))
    q = statistics.quantiles(clerk, n=100) if len(clerk) > 1 else [clerk[0]] * 99
    print(f"flood: {connections} connections x {len(big) / 1e6:.1f} MB bodies for {seconds:.0f} s, 1 worker: "
          f"worker RSS {before:.0f} MB before, peak {peak[0]:.0f} MB, {after:.0f} MB 3 s after   target: peak ≤ 400 MB")
    print("  flood answered: " + ", ".join(f"{n} x {what}" for what, n in answered.most_common()))
    print(f"  CPU over {wall:.0f} s: server {cpu:.1f} s, this benchmark's clients {own:.1f} s; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s) (the clerk's latency depends on what is left)")
    print(f"  clerk 校验 during the flood: n={len(clerk)}  p50 {q[49]:6.0f} ms  p95 {q[94]:6.0f} ms  "
          f"max {max(clerk):6.0f} ms  errors {len(clerk_errors)}   target: p95 ≤ 1000 ms, 0 errors")
    for problem, n in collections.Counter(clerk_errors).most_common(3):
        print(f"    {n} x {problem}")
    if not half_sent:
        return
    socks = []
    for i in range(half_sent):
        sk = socket.socket()
        try:
            sk.bind((f"127.0.4.{1 + i % 250}", 0))
            sk.connect(("127.0.0.1", port))
            sk.sendall(b"POST /xl_addin/validate HTTP/1.1\r\nHost: x\r\nContent-Le")
        except OSError:
            sk.close()
            continue
        socks.append(sk)
    clerk.clear()
    clerk_errors.clear()
    with httpx.Client(base_url=base, timeout=10, transport=httpx.HTTPTransport(local_address="127.0.3.2")) as c:
        one_click(c)
    took = f"{clerk[0]:.0f} ms" + (f" ({clerk_errors[0]})" if clerk_errors else "")
    time.sleep(35)
    closed = 0
    for sk in socks:
        sk.setblocking(False)
        try:
            closed += sk.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        sk.close()
    print(f"half-sent requests: {len(socks)} open; a clerk's click then took {took}; after 35 s the server had "
          f"closed {closed} of them   target: the click answered, all closed")


def load(base: str, body: bytes, headers: dict[str, str], clients: int, clicks: int,
         think_ms: int) -> tuple[list[float], list[str], float]:
    """``clients`` threads, each clicking ``clicks`` times (pausing ``think_ms`` after each answer):
    (latencies in ms, what went wrong, wall seconds)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(seed: int) -> None:
        rnd = random.Random(seed)  # paced clients start and pause at random, as people do (never in lockstep)
        with httpx.Client(base_url=base, timeout=60, transport=clerk_transport(seed)) as c:
            start.wait()
            time.sleep(rnd.uniform(0, think_ms / 1000))
            for _ in range(clicks):
                t0 = time.perf_counter()
                try:
                    r = c.post("/xl_addin/validate", content=body, headers=headers)
                    said = [a["args"][0] for a in r.json()["actions"] if a["func"] == "alert"] if r.status_code == 200 else []
                    ok = r.status_code == 200 and len(said) == 1 and said[0].startswith("校验通过")
                    problem = "" if ok else f"HTTP {r.status_code}: {r.text[:300]}"
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    problem = type(exc).__name__
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(ms)
                    if problem:
                        errors.append(problem)
                time.sleep(think_ms / 1000 * rnd.uniform(0.5, 1.5))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, errors, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--clicks", type=int, default=20)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--think-ms", type=int, nargs="*", default=[0, 1000],
                    help="pause after each answer: 0 = back to back (a stress test), 1000 = a clerk reading the result")
    ap.add_argument("--flood", action="store_true", help="the token holder's flood and slowloris (one worker)")
    ap.add_argument("--flood-connections", type=int, default=100)
    ap.add_argument("--flood-seconds", type=float, default=15)
    ap.add_argument("--half-sent", type=int, default=1100)
    ap.add_argument("--nofile", type=int, default=1024,
                    help="the server's soft limit of open files (systemd's default: 1024)")
    ap.add_argument("--serve-option", action="append", default=[], help="one more option for xl-addin serve")
    args = ap.parse_args()
    if args.flood:
        args.workers = 1
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _, sample = sample_workbook(t)
        body = json.dumps(payload_from_xlsx(sample)).encode()
        token_file = t / "token"
        token = server.make_token_file(token_file)
        port = free_port()
        with open(t / "serve.log", "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "xl_addin", "serve", "--port", str(port), "--data-dir",
                                     str(t / "data"), "--token-file", str(token_file), "--workers", str(args.workers),
                                     *args.serve_option], stdout=subprocess.DEVNULL, stderr=log,
                                    preexec_fn=lambda: open_files(args.nofile))
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            if not is_up(base, seconds=60):  # the workers start
                raise SystemExit("server did not start: " + (t / "serve.log").read_text(errors="replace")[-2000:])
            with httpx.Client(base_url=base, timeout=60) as warm:  # each worker imports and warms up
                for _ in range(4 * args.workers):
                    warm.post("/xl_addin/validate", content=body, headers=headers)
            if args.flood:
                p = payload_from_xlsx(sample)
                rows = 1
                while True:  # a workbook of the template with one more sheet of text, just under the 2 MB cap
                    extra = {"name": "附加", "pictures": [], "tables": [],
                             "values": [[f"填报内容{r}-{c}" for c in range(30)] for r in range(rows)]}
                    big = json.dumps({**p, "sheets": [*p["sheets"], extra]}).encode()
                    if len(big) > server.MAX_BODY - 100_000:
                        break
                    rows += 50
                flood(base, body, big, headers, proc.pid, args.flood_connections, args.flood_seconds,
                      args.half_sent, port)
                return
            for think_ms in args.think_ms:
                latencies, errors, wall = load(base, body, headers, args.clients, args.clicks, think_ms)
                q = statistics.quantiles(latencies, n=100)
                how = "back to back" if not think_ms else f"paced (random start, pauses of {think_ms} ms ± 50%)"
                print(f"server 校验: {args.clients} clients x {args.clicks} clicks, {how}; {args.workers} worker(s), "
                      f"{os.cpu_count()} CPU(s): p50 {q[49]:6.1f} ms  p95 {q[94]:6.1f} ms  max {max(latencies):6.1f} ms  "
                      f"errors {len(errors)}  {len(latencies) / wall:6.1f} clicks/s   target: 0 errors, p95 ≤ 250 ms")
                for problem, n in collections.Counter(errors).most_common(5):
                    print(f"  {n} x {problem}")
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
