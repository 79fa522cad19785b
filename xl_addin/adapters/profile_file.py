"""Reading a rule profile (:mod:`xl_addin.profiles`): a TOML file the user names, or one shipped with the package
(``xl_addin/profiles/*.toml``, named by its stem: ``--profile 示例-某市``)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ..profiles import NATIONAL, Profile, ProfileError, parse

#: the shipped profiles' folder
SHIPPED = Path(__file__).resolve().parent.parent / "profiles"
#: a profile is a few lines; anything far larger is not one (and is not read whole)
MAX_BYTES = 256 * 1024


def shipped() -> dict[str, Path]:
    """Name (file stem) -> path of every profile shipped with the package."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.toml"))}


def resolve(ref: str | os.PathLike[str]) -> Path:
    """The file ``ref`` names: a path, else a shipped profile's name (with or without .toml). Raises ProfileError."""
    path = Path(ref)
    if path.is_file():
        return path
    builtin = shipped()
    name = path.name[:-5] if path.name.endswith(".toml") else path.name
    if str(ref) in (name, f"{name}.toml") and name in builtin:
        return builtin[name]
    raise ProfileError(f"规则配置文件“{ref}”不存在。可以给出文件路径，或内置规则配置的名称：{'、'.join(builtin)}。")


def load(ref: str | os.PathLike[str] | None) -> Profile:
    """The profile ``ref`` names (None: the national catalogue), its ``source`` the file's absolute path. Raises
    ProfileError with a Chinese message naming the file."""
    if ref is None or str(ref) == "":
        return NATIONAL
    path = resolve(ref)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ProfileError(f"无法读取规则配置文件“{ref}”（{exc.strerror or exc}）。") from None
    if len(raw) > MAX_BYTES:
        raise ProfileError(f"规则配置文件“{ref}”过大（超过 {MAX_BYTES // 1024} KB），不像一个规则配置。")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProfileError(f"规则配置文件“{ref}”不是 UTF-8 编码的文本，请用记事本“另存为”UTF-8 编码。") from None
    return dataclasses.replace(parse(text, str(ref)), source=str(path.resolve()))
