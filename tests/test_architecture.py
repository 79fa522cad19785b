"""The core is pure: the modules import-linter holds to no I/O library also never open a file themselves."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILE_ACCESS = re.compile(r"\bopen\(|\.(?:read|write)_(?:text|bytes)\(|\.open\(|\bos\.(?:stat|scandir|listdir)\(")


def _core_modules() -> list[str]:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = conf["tool"]["importlinter"]["contracts"]
    pure = next(c for c in contracts if c["type"] == "forbidden")
    return list(pure["source_modules"])


def test_the_core_opens_no_file() -> None:
    modules = _core_modules()
    assert "xl_addin.dataio" in modules and "xl_addin.catalogue" in modules
    for mod in modules:
        base = ROOT / mod.replace(".", "/")
        files = sorted(base.glob("*.py")) if base.is_dir() else [base.with_suffix(".py")]
        for path in files:
            hits = [m.group(0) for m in FILE_ACCESS.finditer(path.read_text(encoding="utf-8"))]
            assert not hits, f"{path.name} reads or writes files ({hits}); do it in an adapter or in api.py"
