"""Mutation testing of the rule core: run mutmut over catalogue.py, rules.py, expr.py and derive.py (configured in
pyproject.toml, [tool.mutmut]) and print the share of mutants the tests kill, per module.

    python tools/mutation.py              run mutmut (resumes: only mutants without a result run), then the score
    python tools/mutation.py --fresh      start over (removes mutants/)
    python tools/mutation.py --report     only print the score of the last run
    python tools/mutation.py --survivors  also list the surviving mutants (``mutmut show NAME`` shows one)

The tests are the fast pure-core ones (pyproject: pytest_add_cli_args_test_selection); mutmut runs, per mutant, only
those that reached the mutated function, fastest first, stopping at the first failure. A mutant no selected test
reaches counts as not killed. mutmut does not mutate decorated functions (the ``@check`` functions of rules.py) nor
module-level declarations (the catalogue's entries): what it mutates there are the helpers and the instance
builders. Mutants that cannot change what anyone sees are listed in EQUIVALENT with the reason, and the score is
printed with and without them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("catalogue", "rules", "expr", "derive")
TARGET = 0.90
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # a failing test, pytest's internal error, a timeout, the type checker
NAMES = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", None: "not checked"}

#: mutant -> why no test can tell it from the original (checked by reading ``mutmut show NAME``)
EQUIVALENT: dict[str, str] = {}


def status(code: int | None) -> str:
    if code in KILLED:
        return "killed"
    return NAMES.get(code, "suspicious")


def results() -> dict[str, dict[str, str]]:
    """module -> mutant -> status, from mutmut's result files."""
    out: dict[str, dict[str, str]] = {}
    for m in MODULES:
        meta = ROOT / "mutants" / "xl_addin" / f"{m}.py.meta"
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        out[m] = {k: status(v) for k, v in codes.items()}
    return out


def report(show_survivors: bool) -> int:
    res = results()
    if not res:
        print("no mutation results: run python tools/mutation.py first", file=sys.stderr)
        return 2
    print(f"{'module':<12}{'mutants':>8}{'killed':>8}{'survived':>10}{'no tests':>10}{'equiv.':>8}{'score':>8}"
          f"{'w/o equiv.':>12}")
    total = Counter[str]()
    for m, by_key in res.items():
        c = Counter(by_key.values())
        eq = sum(1 for k, s in by_key.items() if k in EQUIVALENT and s != "killed")
        c["equivalent"] = eq
        total.update(c)
        print(_line(m, c))
    print(_line("all", total))
    score = total["killed"] / max(1, sum(v for k, v in total.items() if k != "equivalent"))
    if show_survivors:
        for by_key in res.values():
            for k, s in sorted(by_key.items()):
                if s != "killed":
                    print(f"  {s:<10} {k}{'  (equivalent: ' + EQUIVALENT[k] + ')' if k in EQUIVALENT else ''}")
    print(f"target {TARGET:.0%} of mutants killed: {'met' if score >= TARGET else 'NOT met'} ({score:.1%})")
    return 0


def _line(name: str, c: Counter[str]) -> str:
    n = sum(v for k, v in c.items() if k != "equivalent")
    killed, eq = c["killed"], c["equivalent"]
    score = killed / n if n else 0.0
    net = killed / (n - eq) if n - eq else 0.0
    return (f"{name:<12}{n:>8}{killed:>8}{c['survived']:>10}{c['no tests']:>10}{eq:>8}{score:>8.1%}"
            f"{net:>12.1%}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fresh", action="store_true", help="remove mutants/ and start over")
    ap.add_argument("--report", action="store_true", help="only print the score of the last run")
    ap.add_argument("--survivors", action="store_true", help="list the mutants not killed")
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) - 0), help="parallel mutants")
    args = ap.parse_args()
    if not args.report:
        if args.fresh:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # mutmut puts mutants/ first itself
        r = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs)], cwd=ROOT,
                           env=env, stdout=subprocess.DEVNULL, check=False)
        if r.returncode:
            print(f"mutmut run failed ({r.returncode}): run `{sys.executable} -m mutmut run` to see why",
                  file=sys.stderr)
            return r.returncode
    return report(args.survivors)


if __name__ == "__main__":
    raise SystemExit(main())
