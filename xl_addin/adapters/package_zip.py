"""Writes and opens the upward package (:mod:`xl_addin.package`) as a .zip.

A package is untrusted input. Opening one: the manifest is read first (bounded); every member it lists must be in
the zip under that exact name, within the limits (count, size, compression ratio: a zip bomb is refused before
it is inflated, and the inflating itself is bounded, whatever the headers claim) and hash to the manifest's
SHA-256; nothing is written under a member's own name (path traversal has nowhere to go). Every refusal is a
PackageError naming the package and the member.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..package import (
    MANIFEST,
    MAX_MANIFEST_BYTES,
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_RATIO,
    MAX_TOTAL_BYTES,
    Manifest,
    Member,
    PackageError,
    parse_manifest,
    safe_member,
)
from .fileio import atomic_write


@dataclass(frozen=True)
class Opened:
    """A verified package: its manifest and the bytes of its 汇总 workbook."""

    path: Path
    manifest: Manifest
    rollup: bytes


def write_package(out: str | os.PathLike[str], members: Iterable[tuple[str, bytes]],
                  manifest: Callable[[], Manifest]) -> Path:
    """The package at ``out`` (atomically): ``members`` (name, bytes; taken one at a time, so a county's
    workbooks are never all in memory) then ``manifest()`` (called once every member is written). Workbooks are
    zips already: stored, not compressed again."""
    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            for name, data in members:
                assert safe_member(name), name
                zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if name.endswith(".csv")
                            else zipfile.ZIP_STORED)
            zf.writestr(MANIFEST, manifest().to_json(), compress_type=zipfile.ZIP_DEFLATED)
    return atomic_write(out, write)


def _zip(path: Path, data: bytes | None = None) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path if data is None else io.BytesIO(data))
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise PackageError(f"{path}：无法打开上报包（{type(exc).__name__}），文件可能已损坏或不是 .zip。") from None


def _read(zf: zipfile.ZipFile, path: Path, m: Member, *, limit: int = MAX_MEMBER_BYTES) -> bytes:
    """Member ``m`` of ``zf``, inflated at most to its declared size (and ``limit``), hash-checked."""
    try:
        info = zf.getinfo(m.path)
    except KeyError:
        raise PackageError(f"{path}：清单列出的成员“{m.path}”不在上报包中。") from None
    _guard(path, info, limit)
    if info.file_size != m.size:
        raise PackageError(f"{path}：成员“{m.path}”的大小与清单不符（清单 {m.size} 字节，包内 {info.file_size} 字节）。")
    try:
        with zf.open(info) as fh:
            data = fh.read(m.size + 1)
    except (OSError, zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, EOFError) as exc:
        raise PackageError(f"{path}：无法解压成员“{m.path}”（{type(exc).__name__}）。") from None
    if len(data) != m.size or hashlib.sha256(data).hexdigest() != m.sha256:
        raise PackageError(f"{path}：成员“{m.path}”的 SHA-256 与清单不符，文件在传送中损坏或被改动，已拒绝整个上报包。")
    return data


def _guard(path: Path, info: zipfile.ZipInfo, limit: int) -> None:
    if not safe_member(info.filename):
        raise PackageError(f"{path}：成员“{info.filename[:100]}”的路径不安全（绝对路径、“..”或非法字符），已拒绝整个上报包。")
    if info.file_size > limit:
        raise PackageError(f"{path}：成员“{info.filename}”解压后 {info.file_size} 字节，超过上限 {limit} 字节，已拒绝。")
    if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise PackageError(f"{path}：成员“{info.filename}”压缩比异常（{info.compress_size} → {info.file_size} 字节），"
                           "疑为压缩炸弹，已拒绝。")
    if info.flag_bits & 0x1:
        raise PackageError(f"{path}：成员“{info.filename}”已加密，无法核验。")


def open_package(path: str | os.PathLike[str], data: bytes | None = None) -> Opened:
    """The verified package at ``path`` (or ``data``, an upload ``path`` names): every member the manifest lists
    checked (size, hash, limits), members it does not list refused. Raises PackageError (Chinese, naming the
    package and member)."""
    p = Path(path)
    with _zip(p, data) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS + 1:
            raise PackageError(f"{p}：上报包成员超过 {MAX_MEMBERS} 个，已拒绝。")
        total = 0
        for info in infos:
            _guard(p, info, MAX_MANIFEST_BYTES if info.filename == MANIFEST else MAX_MEMBER_BYTES)
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise PackageError(f"{p}：上报包解压后共 {total} 字节，超过上限 {MAX_TOTAL_BYTES} 字节，已拒绝。")
        try:
            head = zf.getinfo(MANIFEST)
        except KeyError:
            raise PackageError(f"{p}：上报包中没有清单 {MANIFEST}，不是本工具生成的上报包。") from None
        with zf.open(head) as fh:
            manifest = parse_manifest(fh.read(MAX_MANIFEST_BYTES + 1)[:MAX_MANIFEST_BYTES], str(p))
        listed = manifest.by_path
        extra = [i.filename for i in infos if i.filename != MANIFEST and i.filename not in listed
                 and not i.is_dir()]
        if extra:
            raise PackageError(f"{p}：成员“{extra[0][:100]}”不在清单中，已拒绝整个上报包。")
        rollup = b""
        for m in manifest.members:
            member = _read(zf, p, m)
            if m.path == manifest.rollup:
                rollup = member
    return Opened(p, manifest, rollup)
