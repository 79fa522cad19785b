"""A burst of submissions to a round store, printing each receipt once submit() has returned it.

Run by tests/test_roundstore.py as ``python roundstore_burst.py DATA_DIR SEED COUNT AGENCY[,AGENCY...]``; the
test kills it with SIGKILL at a random moment and then checks that every printed receipt's version is in the
store, whole."""

from __future__ import annotations

import json
import random
import sys

from xl_addin.adapters.roundstore import RoundStore

CLEAN = {"counts": {"error": 0, "warning": 0, "info": 0}, "findings": []}


def main(argv: list[str]) -> None:
    data_dir, seed, count, agencies = argv[0], int(argv[1]), int(argv[2]), argv[3].split(",")
    rng = random.Random(seed)
    with RoundStore.open(data_dir) as store:
        print("ready", flush=True)
        for _ in range(count):
            agency = rng.choice(agencies)
            data = rng.randbytes(rng.randint(2_000, 150_000))  # a returned workbook is some 60 KB
            r = store.submit(agency, data, CLEAN)
            print(json.dumps({"agency": r.agency, "version": r.version, "sha256": r.sha256, "receipt": r.number},
                             ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
