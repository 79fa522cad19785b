"""Benchmark of ``xl-addin serve``: 50 concurrent clients each click 校验 20 times against one server on this
machine (uvicorn on 127.0.0.1, a free port, the payload the VBA client sends for the bundled sample).
Prints p50/p95 latency, errors and clicks per second. Target: 0 errors, p95 ≤ 250 ms.

    python bench/server.py [--clients 50] [--clicks 20] [--workers 2] [--think-ms 0 1000]   (bash dev.sh bench)

Two runs by default: back to back (each client clicks again the moment its answer arrives: a stress test whose
latency is bounded below by Little's law, clients x CPU time per click / cores) and paced: every client starts at
a random moment within the first second and pauses 0.5-1.5 s after each answer (50 clerks clicking as fast as a
person can read a message box).

Requests go to 127.0.0.1 only; every loop is bounded (clients × clicks requests, a 60 s timeout each).
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

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import httpx
from common import sample_workbook
from xlwings_payload import payload_from_xlsx

from xl_addin import server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        with httpx.Client(base_url=base, timeout=60) as c:
            start.wait()
            time.sleep(rnd.uniform(0, think_ms / 1000))
            for _ in range(clicks):
                t0 = time.perf_counter()
                try:
                    r = c.post("/xl_addin/validate", content=body, headers=headers)
                    said = [a["args"][0] for a in r.json()["actions"] if a["func"] == "alert"]
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
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _, sample = sample_workbook(t)
        body = json.dumps(payload_from_xlsx(sample)).encode()
        token_file = t / "token"
        token = server.make_token_file(token_file)
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "xl_addin", "serve", "--port", str(port), "--data-dir",
                                 str(t / "data"), "--token-file", str(token_file), "--workers", str(args.workers)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            for _ in range(600):  # up to 60 s for the workers to start
                try:
                    if httpx.get(base + "/xl_addin/health", timeout=1).text == "ok":
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            else:
                raise SystemExit("server did not start: " + proc.stderr.read().decode(errors="replace")[-2000:])
            with httpx.Client(base_url=base, timeout=60) as warm:  # each worker imports and warms up
                for _ in range(4 * args.workers):
                    warm.post("/xl_addin/validate", content=body, headers=headers)
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
