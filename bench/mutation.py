"""Mutation score of the rule core (issue 19, item 13), printed with the other benchmark figures: runs
``tools/mutation.py`` (mutmut over catalogue.py, rules.py, expr.py and derive.py; resumes a previous run in
``mutants/``) and prints its per-module score. Target: at least 90 % of mutants killed.

    python bench/mutation.py [--fresh]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    sys.exit(subprocess.call([sys.executable, str(ROOT / "tools" / "mutation.py"), *sys.argv[1:]], cwd=ROOT))
