"""Installs or upgrades xl_addin from the offline wheelhouse this file is copied into (as ``install.py``, by
``bash dev.sh wheelhouse``); ``install.bat`` runs it with the Python it was given::

    C:\\Python311\\python.exe install.py [wheelhouse folder]

It installs exactly the version of the one ``xl_addin-*.whl`` in the folder, with ``--upgrade`` and no network
(``--no-index``), so next year's wheelhouse replaces last year's tool (and its dependencies where the new version
needs others, e.g. the xlwings it pins), then reads back what is installed and says which version it is, and
which one it replaced. Standard library only: it runs before anything else is installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

NAME = "xl_addin"
#: what the Windows PCs need besides the package (xlwings' COM bridge)
WINDOWS_EXTRAS = ("pywin32",)


def wheel_version(folder: Path) -> str:
    """The version of the one xl_addin wheel in ``folder`` (wheel file names: name-version-tags.whl)."""
    found = sorted(folder.glob(f"{NAME}-*.whl"))
    if len(found) != 1:
        names = "、".join(p.name for p in found) or "没有"
        raise SystemExit(f"安装包目录 {folder} 中应恰好有一个 {NAME}-*.whl，实际：{names}。请使用开发方提供的完整安装包目录。")
    return found[0].name.split("-")[1]


def installed_version(python: str, package: str = NAME) -> str | None:
    """The version of ``package`` installed for ``python`` (a fresh process: what the next Excel click gets)."""
    code = f"import importlib.metadata as m\ntry:\n    print(m.version({package!r}))\nexcept m.PackageNotFoundError:\n    pass"
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]).resolve() if args else Path(__file__).resolve().parent
    python = sys.executable
    want = wheel_version(folder)
    before = installed_version(python)
    extras = WINDOWS_EXTRAS if sys.platform == "win32" else ()
    command = [python, "-m", "pip", "install", "--upgrade", "--no-index", "--find-links", str(folder),
               f"{NAME}[all]=={want}", *extras]
    print(("升级" if before else "安装") + f" {NAME} {want}" + (f"（当前为 {before}）" if before else "") + "，不联网……",
          flush=True)
    if subprocess.run(command, check=False).returncode != 0:
        print(f"安装失败：pip 没有完成（见上方输出）。{NAME} 仍为 {before or '未安装'}。", file=sys.stderr)
        return 1
    now = installed_version(python)
    if now != want:
        print(f"安装失败：安装后 {NAME} 的版本是 {now or '未安装'}，应为 {want}。请以管理员身份重新运行 install.bat。",
              file=sys.stderr)
        return 1
    xlwings = installed_version(python, "xlwings") or "未安装"
    replaced = f"，替换了原来的 {before}" if before and before != want else ""
    print(f"已安装 {NAME} {now}{replaced}（xlwings {xlwings}，Python {python}）。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
