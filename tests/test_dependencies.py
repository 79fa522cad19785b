"""Issue 19 item 12: what the package depends on is what it uses, and its layers hold every module.

- every distribution a county installs (the hard dependencies and what ``xl_addin[all]`` adds: what dev.sh
  wheelhouse ships) is imported by some module of the package: none is carried for nothing (pandas was);
- the import-linter layers contract names every module of the package (server and __main__ were outside it).
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "xl_addin"
CONF = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _shipped() -> set[str]:
    """The distributions of the dependencies and of the extras ``all`` pulls in (following xl_addin[...])."""
    project = CONF["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    out: set[str] = set()
    todo, seen = [Requirement(r) for r in project["dependencies"]] + [Requirement("xl_addin[all]")], set()
    while todo:
        req = todo.pop()
        if canonicalize_name(req.name) == "xl-addin":
            for extra in req.extras - seen:
                seen.add(extra)
                todo += [Requirement(r) for r in extras[extra]]
        else:
            out.add(canonicalize_name(req.name))
    return out


def _imported() -> set[str]:
    """The top-level names every module of the package imports (absolute imports)."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_distribution_a_county_installs_is_used() -> None:
    by_dist: dict[str, set[str]] = {}
    for top, dists in md.packages_distributions().items():
        for d in dists:
            by_dist.setdefault(canonicalize_name(d), set()).add(top)
    imported = _imported()
    shipped = _shipped()
    assert {"openpyxl", "xlwings", "python-docx"} <= shipped
    unused = sorted(d for d in shipped if not by_dist.get(d, set()) & imported)
    assert not unused, f"shipped by xl_addin[all] but imported by no module: {unused}"


def test_the_layers_contract_holds_every_module() -> None:
    contract = next(c for c in CONF["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    layered = {m.strip() for layer in contract["layers"] for m in layer.split("|")}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    # (templates/ holds reference.docx: its __init__ only makes it a package for importlib.resources)
    modules |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()
                and p.name != "templates"}
    assert not sorted(modules - layered), sorted(modules - layered)


def test_pandas_is_an_extra_the_wheelhouse_does_not_ship() -> None:
    extras = CONF["project"]["optional-dependencies"]
    assert not any(re.match(r"pandas\b", r) for r in CONF["project"]["dependencies"])
    assert any(re.match(r"pandas\b", r) for r in extras["dataset"])
    assert "pandas" not in _shipped()
