"""What a wheelhouse still lacks for Windows x64 + Python 3.11, reading the wheels' own metadata.

    python tools/wheelhouse_check.py dist/wheelhouse "xl_addin[all]" pywin32

pip evaluates environment markers for the machine it runs on, so ``pip download --platform win_amd64`` on Linux
skips Windows-only requirements (click's ``colorama``, xlwings' ``pywin32``) and ``pip install --dry-run`` on
Linux does not miss them either. This walks ``Requires-Dist`` from the given requirements with the markers
evaluated as on Windows and prints every requirement no wheel in the folder satisfies (one per line; exit 1).
"""

from __future__ import annotations

import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

WINDOWS = {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
           "python_version": "3.11", "python_full_version": "3.11.9", "implementation_name": "cpython",
           "platform_python_implementation": "CPython"}


def wheels(folder: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, Requires-Dist lines) of every wheel in ``folder``."""
    out: dict[str, tuple[str, list[str]]] = {}
    for whl in folder.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(whl.name)
        with zipfile.ZipFile(whl) as z:
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            msg = Parser().parsestr(z.read(meta).decode("utf-8"))
        out[canonicalize_name(name)] = (str(version), msg.get_all("Requires-Dist") or [])
    return out


def missing(folder: Path, roots: list[str]) -> list[str]:
    have = wheels(folder)
    todo = [(Requirement(r), "") for r in roots]
    seen: set[tuple[str, str]] = set()
    lacking: list[str] = []
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({**WINDOWS, "extra": extra}):
            continue
        name = canonicalize_name(req.name)
        for wanted in sorted(req.extras) or [""]:
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            if name not in have or not req.specifier.contains(have[name][0], prereleases=True):
                lacking.append(str(req).split(";")[0])
                continue
            todo += [(Requirement(line), wanted) for line in have[name][1]]
    return sorted(set(lacking))


def main() -> None:
    lacking = missing(Path(sys.argv[1]), sys.argv[2:])
    for req in lacking:
        print(req)
    sys.exit(1 if lacking else 0)


if __name__ == "__main__":
    main()
