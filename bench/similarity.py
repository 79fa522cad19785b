"""Benchmark of the cross-unit copying search (issue 22): 1,000 units of one parent, every pair of them compared.

    /work/main/.venv/bin/python bench/similarity.py --n 1000

How the units are made: the sentences of the real reports in ../shared/examples (sections 一, 五, 六) are the
pool; each unit writes its sections from pool sentences in its own words -- every sixth character replaced by one
of its own, so that no run of 12 characters (similarity.MIN_RUN) is shared by chance, as between two real
reports -- and one unit in fifty copies another unit's sections with edits (a quarter of the sentences dropped,
figures changed). What is timed: :func:`xl_addin.similarity.similar_pairs` over all of them (the boilerplate mask,
the n-gram index, the alignment of the candidate pairs). Prints pairs/s (unit pairs considered per second:
n(n-1)/2 per section), the time, and how many planted copies were found (all of them expected, nothing else).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

from xl_addin import api
from xl_addin.narrative import PRIOR_SECTIONS, section_text
from xl_addin.similarity import Unit, peer_group, similar_pairs

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "examples"


def pool() -> dict[str, list[str]]:
    """Section -> the sentences of the real reports."""
    files = [*sorted((SHARED / "published").glob("*.txt")), *sorted((SHARED / "published").glob("*.html")),
             SHARED / "jiangle-industry-bureau-2023.txt"]
    out: dict[str, list[str]] = {n: [] for n in PRIOR_SECTIONS}
    for f in files:
        data = api.import_report(f).data
        for n in PRIOR_SECTIONS:
            out[n] += [s for s in re.split(r"(?<=[。；])", re.sub(r"\s+", "", section_text(data, n))) if len(s) > 8]
    return out


def own_words(text: str, rnd: random.Random) -> str:
    chars = list(text)
    for i in range(rnd.randrange(6), len(chars), 6):
        chars[i] = chr(0x4E00 + rnd.randrange(20000))
    return "".join(chars)


def edited(text: str, rnd: random.Random) -> str:
    sentences = re.split(r"(?<=。)", text)
    kept = [s for s in sentences if rnd.random() > 0.25]
    return re.sub(r"\d", lambda m: str(rnd.randrange(10)), "".join(kept))


def units(n: int, seed: int = 1) -> tuple[list[Unit], set[tuple[str, str]]]:
    rnd = random.Random(seed)
    sentences = pool()
    group = peer_group(2023)
    out: list[Unit] = []
    planted: set[tuple[str, str]] = set()
    for i in range(n):
        name = f"单位{i:05d}"
        if i and i % 50 == 0:
            source = out[rnd.randrange(len(out))]
            texts = {k: edited(v, rnd) for k, v in source.texts.items()}
            planted.add((source.name, name))
        else:
            texts = {k: own_words("".join(rnd.sample(v, min(len(v), rnd.randrange(4, 14)))), rnd)
                     for k, v in sentences.items()}
        out.append(Unit(name, f"{name}.xlsx", group, texts))
    return out, planted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="units of one parent (default 1000)")
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is missing: the pool of sentences comes from the real reports there")
    made, planted = units(args.n)
    chars = sum(len(t) for u in made for t in u.texts.values())
    t = time.perf_counter()
    pairs = similar_pairs(made)
    seconds = time.perf_counter() - t
    found = {(p.a.name, p.b.name) for p in pairs}
    sources: dict[str, list[str]] = {}
    for source, copy in sorted(planted):
        sources.setdefault(source, []).append(copy)
    # two copies of one unit are copies of each other too
    planted |= {(a, b) for copies in sources.values() for i, a in enumerate(copies) for b in copies[i + 1:]}
    considered = args.n * (args.n - 1) // 2 * len(PRIOR_SECTIONS)
    print(f"similarity: {args.n} units of one parent ({chars / args.n:,.0f} characters each), "
          f"{considered:,} section pairs considered in {seconds:.2f} s = {considered / seconds:,.0f} pairs/s")
    print(f"  planted copies (and copies of one source) {len(planted)}, found {len(found & planted)}, "
          f"other pairs {len(found - planted)}")


if __name__ == "__main__":
    main()
