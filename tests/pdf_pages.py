"""Test tooling: PDF pages to PNG images with poppler's pdftoppm, for looking at what LibreOffice rendered (the
images go to tests/output/; a test that needs them fails when pdftoppm is missing)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def render_png(pdf: str | os.PathLike[str], out_prefix: str | os.PathLike[str], *, first: int = 1,
               last: int | None = None, dpi: int = 80) -> list[Path]:
    """PDF pages ``first``..``last`` to PNG; returns the page images in order."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.fail("pdftoppm is not installed: install poppler-utils (bash dev.sh test installs it)")
    prefix = Path(out_prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    cmd = [tool, "-png", "-r", str(dpi), "-f", str(first)] + (["-l", str(last)] if last else []) + [str(pdf), str(prefix)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return sorted(prefix.parent.glob(prefix.name + "-*.png"))
