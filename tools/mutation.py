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
builders; the few it mutates that only run at import are listed in IMPORT_TIME. Mutants that cannot change what
anyone sees are listed in EQUIVALENT with the reason. The score is printed over all mutants and without those
two kinds ("adjusted").
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

_NO_CELL = "a finding with no key takes cell None or omitted as \"\" (Context.finding: cell or \"\")"
_NO_PROP = "a missing property shows as \"\" either way (_show(None) == \"\")"
_NO_BRACKET = "no official section title has a bracket: a heading with one differs from it either way"
#: mutant -> why no test can tell it from the original (each read with ``mutmut show NAME``)
EQUIVALENT: dict[str, str] = {
    "xl_addin.rules.x__s2_hidden__mutmut_4": _NO_CELL,
    "xl_addin.rules.x__s2_hidden__mutmut_8": _NO_CELL,
    "xl_addin.rules.x__s2_hidden__mutmut_48": _NO_CELL,
    "xl_addin.rules.x__s2_hidden__mutmut_52": _NO_CELL,
    "xl_addin.rules.x__s2_sheets__mutmut_13": _NO_CELL,
    "xl_addin.rules.x__s2_sheets__mutmut_17": _NO_CELL,
    "xl_addin.rules.x__s2_sheets__mutmut_27": _NO_CELL,
    "xl_addin.rules.x__s2_hidden__mutmut_19": _NO_PROP,
    "xl_addin.rules.x__s2_hidden__mutmut_21": _NO_PROP,
    "xl_addin.rules.x__s2_hidden__mutmut_40": _NO_PROP,
    "xl_addin.rules.x__s2_hidden__mutmut_42": _NO_PROP,
    "xl_addin.rules.x__squash__mutmut_21": _NO_BRACKET,
    "xl_addin.rules.x__squash__mutmut_22": _NO_BRACKET,
    "xl_addin.rules.x__squash__mutmut_23": _NO_BRACKET,
    "xl_addin.rules.x__squash__mutmut_24": _NO_BRACKET,
    "xl_addin.rules.x__count_hint__mutmut_16": "v <= 0 instead of v < 0: a count of 0 is valid and never gets a hint",
    "xl_addin.rules.x_similarity__mutmut_4": "one text without 4-character pieces gives 2*0/(0+n) = 0.0 either way",
    "xl_addin.expr.x_input_keys__mutmut_7": "the dict's values are never read, only its keys (ordered, unique)",
    "xl_addin.expr.x__adjacent__mutmut_10": "sum_formula sorts the cells by (row, col): the next cell is never a row above",
    **dict.fromkeys([f"xl_addin.rules.x__s2_protection__mutmut_{n}" for n in (19, 20, 23, 24, 37, 38, 42, 43)]
                    + ["xl_addin.rules.x__s2_sheets__mutmut_30"], _NO_CELL + "; a sheet of None likewise"),
    **dict.fromkeys([f"xl_addin.derive.x_effective_values__mutmut_{n}" for n in (15, 17, 18, 19)],
                    "the fast path for a plain int count: without it count_value/money_value give the same number"),
    **dict.fromkeys(["xl_addin.rules.xǁContextǁ__init____mutmut_6", "xl_addin.rules.xǁContextǁ__init____mutmut_8",
                     "xl_addin.rules.x_validate__mutmut_2", "xl_addin.rules.x_validate__mutmut_6"],
                    "recomputes what the caller already had (intact formulas, the context): slower, same findings"),
    **dict.fromkeys(["xl_addin.expr.xǁCompareǁeval__mutmut_15", "xl_addin.expr.xǁCompareǁeval__mutmut_20"],
                    "rounding to 7 decimals instead of 6: every identity compares whole counts"),
    **dict.fromkeys([f"xl_addin.rules.xǁContextǁfinding__mutmut_{n}" for n in (16, 20, 21)],
                    "no check anchors a finding at a last-year (prior.) key"),
    "xl_addin.rules.xǁContextǁfinding__mutmut_26": "every message naming {sheet} is raised with a sheet",
    "xl_addin.rules.xǁContextǁfinding__mutmut_6": "no check passes both a key and a sheet of its own (T7 passes None)",
}
#: functions mutmut cannot exercise: they run once, when their module is imported (in mutmut's parent process,
#: before a mutant is switched on), declaring the catalogue or registering the checks. What they declare is held
#: by tests outside this run: test_catalogue (every entry fires with its level and message), test_docs (the rules
#: page equals the catalogue).
IMPORT_TIME: dict[str, str] = {
    "xl_addin.catalogue.x__rule": "declares the catalogue's entries",
    "xl_addin.catalogue.x__file_error": "declares the file errors",
    "xl_addin.rules.x__arith": "builds the arithmetic checks (A1-A4, A6, X1, X2) when rules is imported",
    "xl_addin.rules.x_check": "the @check decorator registering each check",
}


def excluded(key: str) -> str | None:
    """Why mutant ``key`` is left out of the adjusted score (equivalent, or import-time only), or None."""
    if key in EQUIVALENT:
        return "equivalent: " + EQUIVALENT[key]
    fn = key.rsplit("__mutmut_", 1)[0]
    return "import-time: " + IMPORT_TIME[fn] if fn in IMPORT_TIME else None


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
    print(f"{'module':<12}{'mutants':>8}{'killed':>8}{'survived':>10}{'no tests':>10}{'excluded':>10}{'score':>8}"
          f"{'adjusted':>10}")
    total = Counter[str]()
    for m, by_key in res.items():
        c = Counter(by_key.values())
        eq = sum(1 for k, s in by_key.items() if excluded(k) and s != "killed")
        c["equivalent"] = eq
        total.update(c)
        print(_line(m, c))
    print(_line("all", total))
    if total["not checked"]:
        print(f"{total['not checked']} mutants not run yet (an interrupted run): counted as not killed")
    n = sum(v for k, v in total.items() if k != "equivalent")
    score = total["killed"] / max(1, n)
    net = total["killed"] / max(1, n - total["equivalent"])
    if show_survivors:
        for by_key in res.values():
            for k, s in sorted(by_key.items()):
                if s != "killed":
                    why = excluded(k)
                    print(f"  {s:<10} {k}{f'  ({why})' if why else ''}")
    print(f"target {TARGET:.0%} of mutants killed: {score:.1%} of all, {net:.1%} without the {total['equivalent']} "
          f"equivalent or import-time ones: {'met' if net >= TARGET else 'NOT met'}")
    return 0


def _line(name: str, c: Counter[str]) -> str:
    n = sum(v for k, v in c.items() if k != "equivalent")
    killed, eq = c["killed"], c["equivalent"]
    score = killed / n if n else 0.0
    net = killed / (n - eq) if n - eq else 0.0
    return (f"{name:<12}{n:>8}{killed:>8}{c['survived']:>10}{c['no tests']:>10}{eq:>10}{score:>8.1%}"
            f"{net:>10.1%}")


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
