"""LibreOffice headless as a real spreadsheet engine and renderer.

One ``soffice`` process converts many files (start-up costs ~1.7 s), with a private user profile so parallel
runs never share a lock, and with the profile told to recalculate every formula on load: openpyxl-written files
carry no cached values, and LibreOffice would otherwise trust whatever cache is there.

LibreOffice never outlives its conversion: ``soffice`` is a script that starts ``oosplash``, which starts
``soffice.bin``, so killing the process we started leaves the converter running. Each conversion runs in a process
group of its own (``start_new_session``), and the whole group is killed when the conversion ends, times out or is
interrupted; while it runs, the group is filed in the scratch folder of a supervising process
(:mod:`xl_addin.adapters.isolation`), which kills it should this process be stopped first. The profile and the
files LibreOffice writes live in temporary folders removed at the end (under the supervisor's scratch folder when
there is one)."""

from __future__ import annotations

import contextlib
import csv
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import isolation

# Tools > Options > Calc > Formula > "Recalculation on file load": 0 = always (Excel 2007+ and ODF files).
_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""

# Output filters by target extension.
FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "pdf": "pdf",
    "ods": "ods",
    "xls": "xls",
    "docx": "docx:MS Word 2007 XML",
}


class OfficeError(RuntimeError):
    pass


class OfficeTimeout(OfficeError):
    """LibreOffice ran past its time and was stopped."""


def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        raise OfficeError("未找到 LibreOffice（soffice）；请安装 libreoffice-calc-nogui")
    return path


def _command(profile: str, recalc: bool, target: str, out: Path, sources: Sequence[Path]) -> list[str]:
    user = Path(profile) / "user"
    user.mkdir(parents=True, exist_ok=True)
    if recalc:
        (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
    return [soffice(), f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore",
            "--convert-to", target, "--outdir", str(out), *map(str, sources)]


def _start(cmd: Sequence[str], tmpdir: str) -> subprocess.Popen[bytes]:
    """``cmd`` started in a process group of its own (POSIX; a new process group on Windows), its temporary files
    (``lu*.tmp``) in ``tmpdir``."""
    flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if os.name == "nt" else 0
    env = {**os.environ, "TMPDIR": tmpdir, "TMP": tmpdir, "TEMP": tmpdir}
    return subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=os.name == "posix", creationflags=flags, env=env)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc``'s whole process group (``soffice.bin`` outlives the ``soffice`` we started) and reap it."""
    if os.name == "posix":
        isolation.kill_group(proc.pid)
    if proc.poll() is None:
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):  # killed processes end
        proc.communicate(timeout=10)


def run_soffice(cmd: Sequence[str], timeout: float, tmpdir: str) -> tuple[int, bytes]:
    """Run a LibreOffice command line in its own process group, filed with the supervisor while it runs, its
    temporary files in ``tmpdir`` (the caller removes it); its exit code and stderr. Past ``timeout`` seconds (or
    on any interruption) the whole group is killed; a timeout raises OfficeTimeout. No process of the group is
    left when this returns or raises."""
    proc = _start(cmd, tmpdir)
    try:
        with isolation.group_filed(proc.pid):
            try:
                _, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise OfficeTimeout(f"LibreOffice 转换超过 {timeout:g} 秒仍未完成，已停止") from None
            return proc.returncode, err
    finally:
        _stop(proc)


def _workspace() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for a LibreOffice profile and its output: under the supervisor's scratch folder when
    there is one (removed with it even if this process is killed), else the system's."""
    return tempfile.TemporaryDirectory(prefix="xl_addin-lo-", dir=isolation.scratch(), ignore_cleanup_errors=True)


#: CSV export of every sheet (LibreOffice >= 7.2): UTF-8, raw values (not as shown), one file per sheet
_CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def recalculated_sheets(files: Iterable[str | os.PathLike[str]], workdir: str | os.PathLike[str], *,
                        workers: int = 2, timeout: float = 1800) -> list[dict[str, list[list[str]]]]:
    """Every sheet of every file as LibreOffice computes it after a full recalculation, as text rows.

    The fastest route through LibreOffice (CSV export of all sheets, about 2.5x cheaper than saving .xlsx),
    spread over ``workers`` soffice processes with private profiles."""
    sources = [Path(f) for f in files]
    stems = sorted(s.stem for s in sources)
    if any(b.startswith(a + "-") or a == b for a, b in itertools.pairwise(stems)):
        raise ValueError("file stems must be unique and none a prefix of another followed by '-'")
    base = Path(workdir)
    chunks = [sources[i::workers] for i in range(workers) if sources[i::workers]]
    procs: list[subprocess.Popen[bytes]] = []
    with _workspace() as tmp:
        try:
            for i, chunk in enumerate(chunks):
                # one output folder per source name clash is impossible: stems are unique per chunk folder
                out = base / f"csv-{i}"
                out.mkdir(parents=True, exist_ok=True)
                procs.append(_start(_command(f"{tmp}/p{i}", True, _CSV_ALL_SHEETS, out, chunk), tmp))
            errors = [p.communicate(timeout=timeout)[1] for p in procs]
        finally:
            for p in procs:
                _stop(p)
    results: list[dict[str, list[list[str]]]] = []
    for src in sources:
        i = next(n for n, c in enumerate(chunks) if src in c)
        sheets = {}
        for f in (base / f"csv-{i}").glob(f"{glob_escape(src.stem)}-*.csv"):
            with f.open(encoding="utf-8", newline="") as fh:
                sheets[f.stem[len(src.stem) + 1:]] = list(csv.reader(fh))
        if not sheets:
            raise OfficeError(f"LibreOffice 未能重算 {src.name}：{b''.join(errors).decode(errors='replace')[-500:]}")
        results.append(sheets)
    return results


def glob_escape(s: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in s)


def convert(files: Iterable[str | os.PathLike[str]], fmt: str, outdir: str | os.PathLike[str], *,
            recalc: bool = True, timeout: float = 900) -> list[Path]:
    """Convert ``files`` to ``fmt`` (a key of FILTERS or a raw filter string) into ``outdir`` in one soffice
    process (:func:`run_soffice`: stopped with all it started after ``timeout`` seconds). Returns the output paths
    in input order; raises OfficeError if any is missing or the time ran out."""
    sources = [Path(f) for f in files]
    if not sources:
        return []
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    target = FILTERS.get(fmt, fmt)
    ext = target.split(":")[0]
    with _workspace() as profile:
        code, err = run_soffice(_command(profile, recalc, target, out, sources), timeout, profile)
    results = [out / (s.stem + "." + ext) for s in sources]
    missing = [r.name for r in results if not r.exists()]
    if code != 0 or missing:
        raise OfficeError(f"LibreOffice 转换失败（退出码 {code}）：缺少 {missing[:5]}；"
                          f"{err.decode(errors='replace')[-500:]}")
    return results
