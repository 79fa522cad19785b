"""install.bat (through install.py = tools/wheelhouse_install.py) upgrades: next year's wheelhouse replaces last
year's tool, offline, and says which version it installed. Run in a fresh virtual environment with two
wheelhouses holding a stand-in xl_addin wheel each (1.0.0, then 2.0.0)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL = ROOT / "tools" / "wheelhouse_install.py"


def stand_in_wheel(folder: Path, version: str) -> Path:
    """A minimal pure-Python wheel named xl_addin (what pip needs: the package, METADATA, WHEEL, RECORD)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"xl_addin-{version}-py3-none-any.whl"
    info = f"xl_addin-{version}.dist-info"
    files = {
        "xl_addin/__init__.py": f'__version__ = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: xl_addin\nVersion: {version}\nProvides-Extra: all\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> str:
    env = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env, with_pip=True)
    return str(env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python"))


#: the county PC's situation: no pip configuration, no PYTHONPATH (this checkout is not what Excel imports)
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}, "PIP_CONFIG_FILE": os.devnull}


def install(python: str, wheelhouse: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python, str(INSTALL), str(wheelhouse)], capture_output=True, text=True, timeout=300,
                          check=False, env=ENV, cwd=wheelhouse)


def version(python: str) -> str:
    return subprocess.run([python, "-c", "import xl_addin; print(xl_addin.__version__)"], capture_output=True,
                          text=True, check=True, env=ENV, cwd=INSTALL.anchor).stdout.strip()


def test_next_years_wheelhouse_replaces_last_years_tool(python: str, tmp_path: Path) -> None:
    last, this = tmp_path / "2025", tmp_path / "2026"
    stand_in_wheel(last, "1.0.0")
    stand_in_wheel(this, "2.0.0")
    first = install(python, last)
    assert first.returncode == 0, first.stderr
    assert "已安装 xl_addin 1.0.0（" in first.stdout and version(python) == "1.0.0"
    second = install(python, this)
    assert second.returncode == 0, second.stderr
    assert "已安装 xl_addin 2.0.0，替换了原来的 1.0.0（" in second.stdout
    assert version(python) == "2.0.0"
    # the wheelhouse of an earlier year puts that year's tool back (exact version, not "newest found")
    back = install(python, last)
    assert back.returncode == 0 and "已安装 xl_addin 1.0.0，替换了原来的 2.0.0" in back.stdout
    assert version(python) == "1.0.0"


def test_a_wheelhouse_with_two_tools_is_refused(python: str, tmp_path: Path) -> None:
    stand_in_wheel(tmp_path, "1.0.0")
    stand_in_wheel(tmp_path, "2.0.0")
    done = install(python, tmp_path)
    assert done.returncode != 0 and "应恰好有一个 xl_addin-*.whl" in done.stderr
    assert "Traceback" not in done.stderr


def test_install_bat_runs_it_and_the_wheelhouse_carries_it() -> None:
    bat = (ROOT / "install.bat").read_bytes()
    assert b"\r\n" in bat and b"\n" not in bat.replace(b"\r\n", b"")  # cmd.exe wants CRLF
    text = bat.decode("utf-8")
    assert '"%PY%" "%~dp0install.py" "%~dp0."' in text and "if errorlevel 1 exit /b 1" in text
    assert "chcp 65001" in text
    dev = (ROOT / "dev.sh").read_text(encoding="utf-8")
    assert 'cp tools/wheelhouse_install.py "$out/install.py"' in dev
    src = INSTALL.read_text(encoding="utf-8")
    assert '"--upgrade", "--no-index"' in src
