"""The upward package (issue 22): what a county sends to its city (and a city to its province) as one .zip -- the
汇总 workbook, every accepted unit workbook, the coverage and a manifest with SHA-256 hashes.

Pure: the manifest's shape (:func:`manifest`, :func:`parse_manifest`), the rules a member name must keep
(:func:`safe_member`) and the limits an untrusted package is held to. Reading and writing the zip is
:mod:`xl_addin.adapters.package_zip`'s.

``manifest.json``::

    {"format": "xl_addin-package", "version": 1, "year": 2023,
     "unit": {"unit_id", "name", "kind", "level", "scope", "parent", "credit_code"},   # the 汇总 unit
     "rollup": "汇总/<name>.xlsx", "coverage": "汇总范围.csv",
     "members": [{"path", "sha256", "size", "role": "rollup"|"unit"|"coverage", "unit_id", "name"}],
     "counts": {"已纳入": n, ...}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

FORMAT: Final = "xl_addin-package"
VERSION: Final = 1
MANIFEST: Final = "manifest.json"
COVERAGE: Final = "汇总范围.csv"
ROLLUP_DIR: Final = "汇总"
UNIT_DIR: Final = "单位"
ROLE_ROLLUP, ROLE_UNIT, ROLE_COVERAGE = "rollup", "unit", "coverage"
ROLES: Final = (ROLE_ROLLUP, ROLE_UNIT, ROLE_COVERAGE)

#: limits of an untrusted package: members, one member's size, all members together, the manifest, and the
#: compression ratio past which a member is taken for a zip bomb
MAX_MEMBERS: Final = 50_000
MAX_MEMBER_BYTES: Final = 64 << 20
MAX_TOTAL_BYTES: Final = 4 << 30
MAX_MANIFEST_BYTES: Final = 32 << 20
MAX_RATIO: Final = 200

_BAD_NAME = re.compile(r"(^|/)\.\.?(/|$)|^/|^[A-Za-z]:|\\|[\x00-\x1f]")


class PackageError(ValueError):
    """The package cannot be used; the message is Chinese and names the package (and member)."""


@dataclass(frozen=True)
class Member:
    path: str
    sha256: str
    size: int
    role: str
    unit_id: str = ""
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size, "role": self.role,
                "unit_id": self.unit_id, "name": self.name}


@dataclass(frozen=True)
class Manifest:
    year: int | None
    unit: Mapping[str, str]
    rollup: str
    coverage: str
    members: tuple[Member, ...]
    counts: Mapping[str, int]

    @property
    def by_path(self) -> dict[str, Member]:
        return {m.path: m for m in self.members}

    def to_json(self) -> bytes:
        return json.dumps({"format": FORMAT, "version": VERSION, "year": self.year, "unit": dict(self.unit),
                           "rollup": self.rollup, "coverage": self.coverage,
                           "members": [m.to_dict() for m in self.members], "counts": dict(self.counts)},
                          ensure_ascii=False, indent=1).encode("utf-8")


def safe_member(name: str) -> bool:
    """A member name we write or accept: relative, forward slashes, no "." or ".." part, no drive, no control
    characters, at most 240 characters."""
    return bool(name) and len(name) <= 240 and not _BAD_NAME.search(name)


UNIT_FIELDS: Final = ("unit_id", "name", "kind", "level", "scope", "parent", "credit_code")


def parse_manifest(raw: bytes, where: str) -> Manifest:
    """The manifest of the package ``where`` (its path, for messages). Raises PackageError (Chinese)."""
    def bad(why: str) -> PackageError:
        return PackageError(f"{where}：{MANIFEST} 无效（{why}），不是本工具生成的上报包或已被改动。")

    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad("不是 UTF-8 编码的 JSON") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise bad("格式标识不符")
    if d.get("version") != VERSION:
        raise bad(f"版本为 {d.get('version')!r}，本工具只接受 {VERSION}")
    unit, members = d.get("unit"), d.get("members")
    if not isinstance(unit, dict) or not isinstance(members, list):
        raise bad("缺少 unit 或 members")
    year = d.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise bad("year 不是整数")
    out: list[Member] = []
    seen: set[str] = set()
    for m in members[:MAX_MEMBERS + 1]:
        if not isinstance(m, dict):
            raise bad("members 中有非对象的项")
        path, sha, size, role = m.get("path"), m.get("sha256"), m.get("size"), m.get("role")
        if not isinstance(path, str) or not safe_member(path):
            raise PackageError(f"{where}：成员“{str(path)[:100]}”的路径不安全（绝对路径、“..”或非法字符），已拒绝整个上报包。")
        if (not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha) or not isinstance(size, int)
                or isinstance(size, bool) or size < 0 or role not in ROLES):
            raise bad(f"成员“{path}”的 sha256、size 或 role 有误")
        if path.lower() in seen:
            raise bad(f"成员“{path}”重复")
        seen.add(path.lower())
        out.append(Member(path, sha, size, role, str(m.get("unit_id", ""))[:100], str(m.get("name", ""))[:200]))
    if len(out) > MAX_MEMBERS:
        raise PackageError(f"{where}：上报包成员超过 {MAX_MEMBERS} 个，已拒绝。")
    rollups = [m for m in out if m.role == ROLE_ROLLUP]
    if len(rollups) != 1 or d.get("rollup") != rollups[0].path:
        raise bad("应有且只有一个汇总工作簿")
    counts = d.get("counts")
    counts = counts if isinstance(counts, dict) else {}
    return Manifest(year, {k: str(unit.get(k, ""))[:200] for k in UNIT_FIELDS}, rollups[0].path,
                    str(d.get("coverage", "")), tuple(out),
                    {str(k): v for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)})


def unit_member(seq: int, safe_name: str, suffix: str = ".xlsx") -> str:
    """A unit's member name: 单位/<seq>-<name><suffix> (``safe_name`` already made safe by the caller)."""
    return f"{UNIT_DIR}/{seq:05d}-{safe_name}{suffix}"
