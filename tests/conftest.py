from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import os
import shutil
import threading

# before any test module imports xlwings: its remote engine (xlwings Server) is registered at import time only
# when a licence key is set; government use is covered by the noncommercial key (docs/安装指南.md)
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import settings

from xl_addin import api, spec
from xl_addin.cli import main

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared"
IN_CI = bool(os.environ.get("CI"))

# Hypothesis: every example in CI; a quicker run on a developer's machine (HYPOTHESIS_PROFILE=ci for the full one).
settings.register_profile("ci", max_examples=100)
settings.register_profile("dev", max_examples=30)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))
#: how many examples the loaded profile asks for, against the full (CI) run: tests that draw examples in bulk
#: (the LibreOffice differential) scale by it
EXAMPLES_SHARE = settings().max_examples / 100


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str | Path) -> CliResult:
    """Run ``xl-addin ARGS`` in this process (click's runner), as a user would from a shell: exit code, stdout and
    stderr apart. An exception escaping the command fails the test (a user would see a traceback)."""
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return CliResult(r.exit_code, r.stdout, r.stderr)


@contextlib.contextmanager
def local_site(handler: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A web server on 127.0.0.1 (a thread) answering with ``handler``, while the block runs: its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def rename_sheet(wb: Any, old: str, new: str) -> None:
    """A sheet renamed the way Excel does it: the defined names follow it."""
    wb[old].title = new
    for key in spec.ALL_KEYS:
        dn = wb.defined_names[spec.defined_name(key)]
        dn.attr_text = dn.attr_text.replace(f"'{old}'", f"'{new}'")


def need(tool: str) -> str:
    """The path of an external program a test needs: missing fails in CI, skips elsewhere."""
    path = shutil.which(tool)
    if path is None:
        if IN_CI:
            pytest.fail(f"{tool} is not installed; .ci/run (dev.sh test) must install it")
        pytest.skip(f"{tool} is not installed (bash dev.sh test installs it)")
    return path


def playwright_sync_api() -> Any:
    """Playwright's sync API (the dev extra carries it): missing fails in CI, skips the module elsewhere."""
    try:
        from playwright import sync_api
    except ImportError:
        if IN_CI:
            raise
        return pytest.importorskip("playwright.sync_api")
    return sync_api


#: China Standard Time, the round's server clock in the tests
CST = dt.timezone(dt.timedelta(hours=8))


class Clock:
    """The server's time, set by the test (each reading one second later; safe across the server's threads)."""

    def __init__(self, start: dt.datetime = dt.datetime(2024, 1, 20, 9, 0, tzinfo=CST)) -> None:
        self.t = start
        self.lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self.lock:
            self.t += dt.timedelta(seconds=1)
            return self.t


def shared_file(name: str) -> Path:
    p = SHARED / name
    if not p.exists():
        if IN_CI:
            pytest.fail(f"{p} is missing: CI runs with shared/ beside the checkout")
        pytest.skip(f"{p} is missing")
    return p


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return api.build_template(tmp_path_factory.mktemp("template") / "年报模板.xlsx")


@pytest.fixture(scope="session")
def sample_values() -> dict[str, Any]:
    return api.sample_values()


@pytest.fixture(scope="session")
def sample(template: Path, sample_values: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return api.put(template, sample_values, tmp_path_factory.mktemp("sample") / "样例.xlsx")


Filler = Callable[..., Path]


@pytest.fixture
def filled(sample: Path, tmp_path: Path) -> Filler:
    """filled(changes, name=..., edit=fn): a copy of the sample with ``changes`` (key -> value, written by
    defined name with openpyxl, as a clerk would type) and an optional ``edit(workbook)`` for tampering."""
    return filler(sample, tmp_path)


def filler(sample: Path, folder: Path, prefix: str = "filled-") -> Filler:
    """:func:`filled` writing into ``folder`` (for a fixture of a wider scope), its files named ``<prefix><n>``."""
    counter = iter(range(1000))

    def make(changes: Mapping[str, Any] | None = None, *, edit: Callable[[Any], None] | None = None,
             name: str | None = None) -> Path:
        out = folder / (name or f"{prefix}{next(counter)}.xlsx")
        wb = openpyxl.load_workbook(sample)
        for key, value in (changes or {}).items():
            where = spec.LAYOUT.locations[key]
            wb[where.sheet][where.a1] = value
        if edit is not None:
            edit(wb)
        wb.save(out)
        return out

    return make
