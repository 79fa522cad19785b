"""The county coordinator: roster, matching submitted files to agencies, submission states, the county roll-up.

Pure: it works on plain values (the roster's rows, one :class:`FileResult` per file examined by
:mod:`xl_addin.bulk`) and returns plain values (tracker rows, the roll-up). Reading files, the process pool and
writing the summary workbook live in adapters.

A file is matched to an agency by the facts inside it (基本信息 机关名称, normalised for full-width and space
variants), never by its file name. Of several files for one agency the newest (file time) is used and the others
are listed. Files that cannot be used -- unreadable, not our template, another year, an agency not on the roster
-- each get a tracker row with a Chinese reason; nothing aborts the run.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Final

from . import catalogue, dataset, derive, narrative, rules, similarity, spec
from .catalogue import Group
from .model import CellValue, Finding, ReportData, Severity, has_error, severity_counts
from .profiles import Profile

Number = int | float

#: every table cell (inputs and derived) of 二, 三, 四, in spec order: the order of FileResult.values
TABLE_KEYS: tuple[str, ...] = tuple(c.key for t in spec.TABLES for c in t.cells)
#: the rule groups the roll-up is re-checked with (narrative, structure and publication rules do not apply)
ROLLUP_GROUPS = (Group.VALUE, Group.TABLE, Group.YEAR)


# ---- names ------------------------------------------------------------------------------------------------------

def name_key(name: object) -> str:
    """An agency name as matched: NFKC (full-width letters, digits and brackets to half-width), no white space
    anywhere (also ideographic and zero-width spaces)."""
    if name is None:
        return ""
    return _name_key(str(name))


@lru_cache(maxsize=1 << 16)
def _name_key(name: str) -> str:
    """(a county's names are keyed several times each: roster, files, tracker)"""
    s = unicodedata.normalize("NFKC", name)
    return "".join(ch for ch in s if not ch.isspace() and ch not in "\u200b\u200c\u200d\ufeff")


# ---- roster -----------------------------------------------------------------------------------------------------

class RosterError(ValueError):
    """The roster cannot be used; the message is Chinese and names the file (and row)."""


COL_NAME, COL_KIND, COL_LEVEL, COL_CONTACT, COL_CODE = "机关名称", "机关类别", "层级", "联系人", "统一社会信用代码"
ROSTER_HEADERS = (COL_NAME, COL_KIND, COL_LEVEL, COL_CONTACT, COL_CODE)
REQUIRED_HEADERS = (COL_NAME, COL_KIND, COL_LEVEL)
#: the unit registry's columns (issue 22), all optional: a roster without them reads exactly as before
COL_ID, COL_PARENT, COL_SCOPE, COL_COVERS, COL_TYPE = "单位编号", "上级机关", "报告范围", "汇总范围", "单位类型"
REGISTRY_HEADERS = (COL_ID, COL_PARENT, COL_SCOPE, COL_COVERS, COL_TYPE)
HEADER_ALIASES = {"单位名称": COL_NAME, "机关（单位）名称": COL_NAME, "类别": COL_KIND, "机关层级": COL_LEVEL,
                  "信用代码": COL_CODE, "社会信用代码": COL_CODE,
                  # (no bare 编号, ID, 类型 or 范围: a roster of today may use them for something else)
                  "机关编号": COL_ID, "注册编号": COL_ID, "单位ID": COL_ID,
                  "上级单位": COL_PARENT, "上级": COL_PARENT, "所属上级": COL_PARENT, "上级机关名称": COL_PARENT,
                  "报告口径": COL_SCOPE, "汇总单位": COL_COVERS, "覆盖单位": COL_COVERS, "机关类型": COL_TYPE}
SCOPES = spec.SCOPES
SCOPE_OWN, SCOPE_SUMMARY = SCOPES
#: what rosters write for a report's scope, and the official word it means
SCOPE_SYNONYMS = {"本单位": SCOPE_OWN, "本级报告": SCOPE_OWN, "机关本级": SCOPE_OWN, "本机关": SCOPE_OWN,
                  "汇总报告": SCOPE_SUMMARY, "合计": SCOPE_SUMMARY, "全县": SCOPE_SUMMARY, "全市": SCOPE_SUMMARY,
                  "全区": SCOPE_SUMMARY, "全省": SCOPE_SUMMARY, "辖区": SCOPE_SUMMARY, "全域": SCOPE_SUMMARY,
                  "区域汇总": SCOPE_SUMMARY}
UNIT_TYPES = ("人民政府", "部门", "乡镇街道", "功能区")
#: what rosters write for a unit's type, and the official word it means
UNIT_TYPE_SYNONYMS = {"政府": "人民政府", "一级政府": "人民政府", "县政府": "人民政府", "市政府": "人民政府",
                      "省政府": "人民政府", "区政府": "人民政府", "政府部门": "部门", "工作部门": "部门",
                      "政府工作部门": "部门", "乡镇": "乡镇街道", "乡": "乡镇街道", "镇": "乡镇街道", "街道": "乡镇街道",
                      "街道办事处": "乡镇街道", "乡镇人民政府": "乡镇街道", "乡镇政府": "乡镇街道", "开发区": "功能区",
                      "园区": "功能区", "高新区": "功能区", "经开区": "功能区", "新区": "功能区", "管委会": "功能区",
                      "功能区管委会": "功能区"}
#: separators of the units a 汇总范围 cell names
_COVERS_SPLIT = re.compile(r"[、，,；;\n\r|]+")


@dataclass(frozen=True)
class Agency:
    name: str
    kind: str = ""
    level: str = ""
    contact: str = ""
    credit_code: str = ""
    row: int = 0  # row in the roster file (1-based), 0 when not from a roster
    #: the registry (issue 22): the unit's id as the roster gives it ("" none: :attr:`unit_id` is then made)
    uid: str = ""
    #: the parent unit's :attr:`unit_id` ("" for the top)
    parent: str = ""
    #: "本级" (its own handling) or "汇总" (the sum of the units it covers)
    scope: str = SCOPE_OWN
    #: 人民政府 / 部门 / 乡镇街道 / 功能区 as the roster gives it ("" not given: :attr:`unit_type` derives it)
    unit_kind: str = ""
    #: a 汇总 unit's covered unit ids as its 汇总范围 column gives them (() : the units whose parent it is)
    covers: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return name_key(self.name)

    @property
    def unit_id(self) -> str:
        """The unit's identity: its registry id, else its 统一社会信用代码, else one made from its name (a
        hierarchical roster makes it from the names from the top down: :func:`parse_roster`)."""
        return self.uid or self.credit_code or generated_id((self.key,))

    @property
    def unit_type(self) -> str:
        """人民政府 / 部门 / 乡镇街道 / 功能区: as given, else from 机关类别 and 层级 ("" for 其他授权组织)."""
        if self.unit_kind:
            return self.unit_kind
        if self.kind == spec.KIND_GOVERNMENT:
            return "乡镇街道" if self.level == spec.LEVELS[-1] else "人民政府"
        return "部门" if self.kind == spec.AGENCY_KINDS[1] else ""

    @property
    def summary(self) -> bool:
        return self.scope == SCOPE_SUMMARY


def generated_id(path: Sequence[str]) -> str:
    """A stable id for a unit with neither registry id nor credit code: from the name keys of it and its parents,
    top first (the same roster gives the same ids, whatever the row order)."""
    return "G" + hashlib.sha256("/".join(path).encode()).hexdigest()[:15].upper()


@dataclass(frozen=True)
class Roster:
    agencies: tuple[Agency, ...]
    source: str = ""
    #: what was read other than as written ("第3行：层级“县”按“县级”处理"), to tell the coordinator
    notes: tuple[str, ...] = ()

    @property
    def by_key(self) -> dict[str, Agency]:
        return {a.key: a for a in self.agencies}

    @cached_property
    def by_id(self) -> dict[str, Agency]:
        return {a.unit_id: a for a in self.agencies}

    @cached_property
    def _children(self) -> dict[str, tuple[Agency, ...]]:
        out: dict[str, list[Agency]] = {}
        for a in self.agencies:
            out.setdefault(a.parent, []).append(a)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def _refs(self) -> tuple[dict[str, Agency], dict[str, list[Agency]]]:
        """(id or credit code -> unit, name key -> units)"""
        ids: dict[str, Agency] = {}
        names: dict[str, list[Agency]] = {}
        for a in self.agencies:
            for ident in (a.credit_code, a.unit_id, a.uid):
                if ident:
                    ids.setdefault(ident, a)
            names.setdefault(a.key, []).append(a)
        return ids, names

    def children(self, unit_id: str) -> tuple[Agency, ...]:
        """The units whose 上级机关 is ``unit_id``, in roster order."""
        return self._children.get(unit_id, ()) if unit_id else ()

    def covered(self, unit_id: str) -> tuple[Agency, ...]:
        """The units a 汇总 unit's report covers: its 汇总范围, else its children (() for a 本级 unit)."""
        a = self.by_id.get(unit_id)
        if a is None or not a.summary:
            return ()
        if a.covers:
            ids = self.by_id
            return tuple(ids[u] for u in a.covers if u in ids)
        return self.children(unit_id)

    @cached_property
    def _summaries(self) -> tuple[Agency, ...]:
        out: list[Agency] = []
        seen: set[str] = set()

        def visit(a: Agency) -> None:
            if a.unit_id in seen:
                return
            seen.add(a.unit_id)
            below = self.covered(a.unit_id)
            for c in below:
                visit(c)
            if below:
                out.append(a)

        for a in self.agencies:
            visit(a)
        return tuple(out)

    def summaries(self) -> tuple[Agency, ...]:
        """The 汇总 units that cover at least one unit of this roster, the lowest first (a 汇总 unit after every
        汇总 unit it covers)."""
        return self._summaries

    def find(self, ref: str) -> list[Agency]:
        """The units ``ref`` names: by id, credit code, or name (several when a name is not unique)."""
        k = name_key(ref)
        ids, names = self._refs
        hit = ids.get(k) or ids.get(k.upper())
        return [hit] if hit is not None else list(names.get(k, ()))

    def suggest(self, name: str) -> str | None:
        """The roster name closest to ``name`` (for a "did you mean" hint), if any is close."""
        keys = {a.key: a.name for a in self.agencies}
        hit = difflib.get_close_matches(name_key(name), list(keys), n=1, cutoff=0.6)
        return keys[hit[0]] if hit else None


def _cell_text(v: CellValue) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def parse_roster(rows: Sequence[Sequence[CellValue]], source: str) -> Roster:
    """A roster from the rows of its first sheet (or CSV). The header row is the first of the first ten rows that
    has 机关名称; rows entirely blank are skipped. With any registry column (上级机关, 报告范围, 汇总范围, 单位编号,
    单位类型) the units get their parents, scopes and ids (:func:`_registry`). Raises RosterError naming the file and
    row."""
    header_at, cols = _roster_header(rows, source)
    registry = any(h in cols for h in REGISTRY_HEADERS)
    agencies: list[Agency] = []
    raw: list[Mapping[str, str]] = []
    seen: dict[str, int] = {}
    problems: list[str] = []
    notes: list[str] = []
    for i, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(_cell_text(v) for v in row):
            continue
        fields = {h: _cell_text(row[j]) if j < len(row) else "" for h, j in cols.items()}
        fields, said = _official_words(fields)
        notes += [f"{source} 第{i}行：{n}" for n in said]
        agency = _roster_agency(fields, i, f"{source} 第{i}行", problems)
        if agency is None:
            continue
        if not registry:
            if agency.key in seen:
                problems.append(f"{source} 第{i}行：机关“{agency.name}”与第{seen[agency.key]}行重复。")
                continue
            seen[agency.key] = i
        agencies.append(agency)
        raw.append(fields)
    if registry and not problems:
        agencies = _registry(agencies, raw, source, problems)
    if problems:
        more = f"\n……另有 {len(problems) - 20} 处问题" if len(problems) > 20 else ""
        raise RosterError("名单有误，请修改后重试：\n" + "\n".join(problems[:20]) + more)
    if not agencies:
        raise RosterError(f"{source}：名单中没有机关（表头下没有数据行）。")
    return Roster(tuple(agencies), source, tuple(notes))


def _registry(agencies: list[Agency], raw: Sequence[Mapping[str, str]], source: str,
              problems: list[str]) -> list[Agency]:
    """The units of a hierarchical roster: each row's 上级机关 resolved (by 单位编号, 统一社会信用代码 or a name that
    is unique), cycles refused, ids made where none is given (from the names from the top down), a 汇总范围 resolved
    to ids. Names are not keys: two 财政局 under two counties are two units; the same name twice under one parent is
    a duplicate."""
    import dataclasses

    def where(a: Agency) -> str:
        return f"{source} 第{a.row}行（{a.name}）"

    given: dict[str, Agency] = {}
    for a, f in zip(agencies, raw, strict=True):
        for ident in {name_key(f.get(COL_ID, "")), a.credit_code} - {""}:
            if ident in given and given[ident] is not a:
                problems.append(f"{where(a)}：单位编号或统一社会信用代码“{ident}”与第{given[ident].row}行重复。")
            given[ident] = a
    refs = Roster(tuple(dataclasses.replace(a, uid=name_key(f.get(COL_ID, ""))) for a, f in zip(agencies, raw,
                                                                                               strict=True)))

    def resolve(a: Agency, ref: str, col: str) -> Agency | None:
        hits = refs.find(ref)
        if not hits:
            problems.append(f"{where(a)}：“{col}”中的“{ref}”不在名单中。")
        elif len(hits) > 1:
            rows_ = "、".join(f"第{h.row}行" for h in hits)
            problems.append(f"{where(a)}：“{col}”中的“{ref}”在名单中有多个（{rows_}），请改填单位编号或统一社会信用代码。")
        else:
            return hits[0]
        return None

    parent_of: dict[int, Agency | None] = {}
    for a, f in zip(refs.agencies, raw, strict=True):
        ref = f.get(COL_PARENT, "")
        parent_of[a.row] = resolve(a, ref, COL_PARENT) if ref else None
    if problems:
        return agencies
    for a in refs.agencies:  # cycles: walk up from each unit
        chain, p = [a.row], parent_of[a.row]
        while p is not None:
            if p.row in chain:
                loop = "→".join(f"第{r}行" for r in [*chain[chain.index(p.row):], p.row])
                problems.append(f"{where(a)}：“{COL_PARENT}”形成循环（{loop}）。")
                break
            chain.append(p.row)
            p = parent_of[p.row]
    if problems:
        return agencies
    ids: dict[int, str] = {}

    def path(a: Agency) -> list[str]:
        p = parent_of[a.row]
        return [*(path(p) if p is not None else []), a.key]

    for a in refs.agencies:
        ids[a.row] = a.uid or a.credit_code or generated_id(path(a))
    out: list[Agency] = []
    seen: dict[tuple[str, str], int] = {}
    for a, f in zip(refs.agencies, raw, strict=True):
        p = parent_of[a.row]
        parent = ids[p.row] if p is not None else ""
        if (parent, a.key) in seen:
            problems.append(f"{where(a)}：同一上级机关下的机关“{a.name}”与第{seen[parent, a.key]}行重复。")
            continue
        seen[parent, a.key] = a.row
        covers: list[str] = []
        for ref in (r.strip() for r in _COVERS_SPLIT.split(f.get(COL_COVERS, ""))):
            hit = resolve(a, ref, COL_COVERS) if ref else None
            if hit is not None:
                covers.append(ids[hit.row])
        scope = f.get(COL_SCOPE, "") or (SCOPE_SUMMARY if covers else SCOPE_OWN)
        if scope not in SCOPES:
            problems.append(f"{where(a)}：“{COL_SCOPE}”应为“本级”或“汇总”，现为“{f.get(COL_SCOPE, '')}”。")
        elif covers and scope != SCOPE_SUMMARY:
            problems.append(f"{where(a)}：填写了“{COL_COVERS}”，“{COL_SCOPE}”应为“汇总”。")
        unit_kind = f.get(COL_TYPE, "")
        if unit_kind and unit_kind not in UNIT_TYPES:
            problems.append(f"{where(a)}：“{COL_TYPE}”应为" + "、".join(UNIT_TYPES) + f"之一，现为“{unit_kind}”。")
        out.append(dataclasses.replace(a, uid=ids[a.row], parent=parent, scope=scope, unit_kind=unit_kind,
                                       covers=tuple(covers)))
    if not problems:
        _covering_cycles(Roster(tuple(out), source), where, problems)
    return out


def _covering_cycles(r: Roster, where: Callable[[Agency], str], problems: list[str]) -> None:
    """A 汇总 unit that, through 汇总范围, ends up covering itself."""
    done: set[str] = set()

    def visit(a: Agency, path: list[Agency]) -> None:
        if a.unit_id in done:
            return
        if any(p.unit_id == a.unit_id for p in path):
            loop = "→".join(f"第{p.row}行" for p in [*path[[p.unit_id for p in path].index(a.unit_id):], a])
            problems.append(f"{where(a)}：“{COL_COVERS}”形成循环（{loop}）。")
            done.add(a.unit_id)
            return
        for c in r.covered(a.unit_id):
            visit(c, [*path, a])
        done.add(a.unit_id)

    for a in r.agencies:
        visit(a, [])


def _official_words(fields: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The row with the obvious synonyms of a kind or level read as the official word ("县" -> "县级"), and what
    was read so."""
    out, said = dict(fields), []
    for col, synonyms in ((COL_KIND, spec.KIND_SYNONYMS), (COL_LEVEL, spec.LEVEL_SYNONYMS),
                          (COL_SCOPE, SCOPE_SYNONYMS), (COL_TYPE, UNIT_TYPE_SYNONYMS)):
        written = name_key(out.get(col, ""))
        if written in synonyms:
            out[col] = synonyms[written]
            said.append(f"“{col}”写作“{fields[col]}”，按“{synonyms[written]}”处理")
    return out, said


def _roster_header(rows: Sequence[Sequence[CellValue]], source: str) -> tuple[int, dict[str, int]]:
    """(index of the header row, column of each known heading found in it); RosterError when there is none or a
    required heading is lacking."""
    for i, row in enumerate(rows[:10]):
        found: dict[str, int] = {}
        for j, v in enumerate(row):
            h = name_key(_cell_text(v))
            h = HEADER_ALIASES.get(h, h)
            if (h in ROSTER_HEADERS or h in REGISTRY_HEADERS) and h not in found:
                found[h] = j
        if COL_NAME in found:
            lacking = [h for h in REQUIRED_HEADERS if h not in found]
            if lacking:
                raise RosterError(f"{source} 第{i + 1}行：表头缺少“" + "”“".join(lacking) + "”列。")
            return i, found
    raise RosterError(f"{source}：找不到表头“{COL_NAME}”。名单第一行应为表头：" + "、".join(ROSTER_HEADERS[:4])
                      + f"（{COL_CODE}可选）。")


def _roster_agency(fields: Mapping[str, str], row: int, where: str, problems: list[str]) -> Agency | None:
    """The agency of one roster row (``fields``: heading -> text), its problems added to ``problems``; None
    without a name."""
    def get(h: str) -> str:
        return fields.get(h, "")

    name, kind, level, code = get(COL_NAME), name_key(get(COL_KIND)), name_key(get(COL_LEVEL)), get(COL_CODE)
    if not name:
        problems.append(f"{where}：“{COL_NAME}”未填写。")
        return None
    if kind not in spec.AGENCY_KINDS:
        problems.append(f"{where}（{name}）：“{COL_KIND}”应为" + "、".join(spec.AGENCY_KINDS) + f"之一，现为“{get(COL_KIND)}”。")
    if level not in spec.LEVELS:
        problems.append(f"{where}（{name}）：“{COL_LEVEL}”应为" + "、".join(spec.LEVELS) + f"之一，现为“{get(COL_LEVEL)}”。")
    code = name_key(code).upper()
    if code and (len(code) != 18 or not code.isalnum()):
        problems.append(f"{where}（{name}）：“{COL_CODE}”应为18位数字或大写字母，现为“{get(COL_CODE)}”。")
    return Agency(name, kind, level, get(COL_CONTACT), code, row)


# ---- one examined file ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileResult:
    """What examining one file yields: identity (path, time, hash), the facts inside, the findings of every rule
    and the table figures the roll-up needs. Travels between processes as :meth:`to_dict`."""

    path: str
    sha256: str = ""
    mtime: float = 0.0
    size: int = 0
    #: why the file could not be read ("" when it was read)
    error: str = ""
    #: readable, but not made from our template
    foreign: bool = False
    agency: str = ""
    kind: str = ""
    level: str = ""
    year: int | None = None
    report_date: dt.date | None = None
    findings: tuple[Finding, ...] = ()
    #: effective figures of TABLE_KEYS (None: not a usable number); () when unreadable
    values: tuple[Number | None, ...] = ()
    #: last year's figures used for the cross-year rules, by spec.PRIOR_KEYS (None: not known)
    prior: tuple[Number | None, ...] = ()
    #: the narrative texts this year's X3 compares with (narrative.prior_texts), only when asked for: a file of
    #: last year's folder
    texts: Mapping[str, str] = field(default_factory=dict)
    #: the catalogue file error (:data:`xl_addin.catalogue.FILE_ERRORS`) of :attr:`error`; "" when it was read
    error_code: str = ""

    @property
    def readable(self) -> bool:
        return not self.error

    @property
    def counts(self) -> dict[str, int]:
        return severity_counts(self.findings)

    @property
    def valid(self) -> bool:
        return self.readable and not has_error(self.findings)

    @property
    def time(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime)

    def to_dict(self) -> dict[str, Any]:
        """A small picklable dict (what a pool worker sends back); :meth:`from_dict` gives the same FileResult."""
        return {"path": self.path, "sha256": self.sha256, "mtime": self.mtime, "size": self.size,
                "error": self.error, "error_code": self.error_code, "foreign": self.foreign, "agency": self.agency,
                "kind": self.kind, "level": self.level, "year": self.year,
                "report_date": self.report_date.isoformat() if self.report_date else None,
                "findings": [_finding_tuple(f) for f in self.findings], "values": list(self.values),
                "prior": list(self.prior), "texts": dict(self.texts)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FileResult:
        rd = d.get("report_date")
        return cls(d["path"], d.get("sha256", ""), d.get("mtime", 0.0), d.get("size", 0), d.get("error", ""),
                   d.get("foreign", False), d.get("agency", ""), d.get("kind", ""), d.get("level", ""),
                   d.get("year"), dt.date.fromisoformat(rd) if rd else None,
                   tuple(_finding_of(t) for t in d.get("findings", ())), tuple(d.get("values", ())),
                   tuple(d.get("prior", ())), dict(d.get("texts", {})), d.get("error_code", ""))


#: the fields of a Finding as a pool worker sends them (a tuple: smaller to pickle than a dict); every field, so
#: a finding read back is the finding the check made (its catalogue code too: "V2.yuan", not "V2")
_FINDING_FIELDS: Final = tuple(f.name for f in fields(Finding))


def _finding_tuple(f: Finding) -> tuple[Any, ...]:
    plain = {"severity": f.severity.value, "values": dict(f.values)}
    return tuple(plain.get(name, getattr(f, name)) for name in _FINDING_FIELDS)


def _finding_of(t: Sequence[Any]) -> Finding:
    kw = dict(zip(_FINDING_FIELDS, t, strict=True))
    kw["severity"], kw["labels"] = Severity(kw["severity"]), tuple(kw["labels"])
    return Finding(**kw)


def examined(path: str, data: ReportData, findings: Iterable[Finding], *, sha256: str = "", mtime: float = 0.0,
             size: int = 0, values: Mapping[str, Number | None] | None = None, texts: bool = False) -> FileResult:
    """The FileResult of a file that was read; ``data`` already carries the prior figures it was checked with.
    ``values``: ``derive.effective_values(data)`` when the caller has them (the validator's context); ``texts``:
    also carry the narrative texts X3 compares with (a file of last year's folder)."""
    vals = derive.effective_values(data) if values is None else values
    prior = derive.prior_values(data)
    return FileResult(path, sha256, mtime, size, agency=data.agency, kind=data.text("meta.kind"),
                      level=data.text("meta.level"), year=data.year, report_date=data.report_date,
                      findings=tuple(findings), values=tuple(vals.get(k) for k in TABLE_KEYS),
                      prior=tuple(prior.get(k) for k in spec.PRIOR_KEYS),
                      texts=narrative.prior_texts(data) if texts else {})


def priors_by_agency(results: Iterable[FileResult]) -> dict[str, dict[str, Number | str]]:
    """name key -> last year's figures, from the files of a last-year folder (per agency the latest report year,
    then the newest file), and the narrative texts when the files carry them (:attr:`FileResult.texts`)."""
    best: dict[str, FileResult] = {}
    for r in results:
        if not r.readable or not name_key(r.agency):
            continue
        k = name_key(r.agency)
        cur = best.get(k)
        if cur is None or ((r.year or 0), r.mtime, r.path) > ((cur.year or 0), cur.mtime, cur.path):
            best[k] = r
    return {k: {**derive.carry_forward(dict(zip(TABLE_KEYS, r.values, strict=False))), **r.texts}
            for k, r in best.items()}


# ---- tracker ----------------------------------------------------------------------------------------------------

class Shown(enum.StrEnum):
    """A value code reads and JSON carries (English; ``str()`` of a member is its value); people see its Chinese,
    :attr:`zh`, from :data:`ZH`."""

    @cached_property
    def zh(self) -> str:  # cached on the member: the summary shows it on every row
        return ZH[type(self)][self]


class State(Shown):
    """Where a roster agency stands, or that a file was not used."""

    SUBMITTED = "submitted"
    MISSING = "missing"
    UNUSED = "unused"


class Verdict(Shown):
    """The tracker's 结论: the used report passes or fails, nothing came, or why a file was not used."""

    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"
    UNREADABLE = "unreadable"
    FOREIGN = "foreign"
    DUPLICATE = "duplicate"
    OTHER_YEAR = "other_year"
    NOT_ON_ROSTER = "not_on_roster"
    NO_NAME = "no_name"


class Timeliness(Shown):
    """Submitted by the deadline or after it (file time); nothing submitted and the deadline past or not yet."""

    ON_TIME = "on_time"
    LATE = "late"
    OVERDUE = "overdue"
    NOT_DUE = "not_due"


class Count(Shown):
    """The tracker's totals (:attr:`CollectResult.counts`)."""

    EXPECTED = "expected"
    SUBMITTED = "submitted"
    PASSED = "passed"
    FAILED = "failed"
    MISSING = "missing"
    LATE = "late"
    UNUSED_FILES = "unused_files"
    FILES = "files"


#: the one place each member's Chinese is written: what the summary workbook, the HTML tracker and the CLI show
ZH: Final[Mapping[type[Shown], Mapping[Shown, str]]] = {
    State: {State.SUBMITTED: "已提交", State.MISSING: "未提交", State.UNUSED: "未采用"},
    Verdict: {Verdict.PASS: "通过", Verdict.FAIL: "不通过", Verdict.MISSING: "未提交", Verdict.UNREADABLE: "无法读取",
              Verdict.FOREIGN: "非本模板", Verdict.DUPLICATE: "重复提交", Verdict.OTHER_YEAR: "年度不符",
              Verdict.NOT_ON_ROSTER: "名单外", Verdict.NO_NAME: "未填机关名称"},
    Timeliness: {Timeliness.ON_TIME: "按时", Timeliness.LATE: "逾期", Timeliness.OVERDUE: "逾期未交",
                 Timeliness.NOT_DUE: "未到期"},
    Count: {Count.EXPECTED: "应报", Count.SUBMITTED: "已提交", Count.PASSED: "通过", Count.FAILED: "不通过",
            Count.MISSING: "未提交", Count.LATE: "逾期", Count.UNUSED_FILES: "未采用文件", Count.FILES: "文件总数"},
}


def zh(value: Shown | None) -> str:
    """The Chinese shown for ``value`` ("" for None: no deadline, so no timeliness)."""
    return "" if value is None else value.zh


#: the tracker's columns: the key of :meth:`TrackerRow.to_dict` (JSON) -> the heading the 进度 sheet and the HTML
#: tracker show
TRACKER_COLUMNS: Final[Mapping[str, str]] = {
    "seq": "序号", "agency": "机关名称", "kind": "机关类别", "level": "层级", "contact": "联系人", "state": "状态",
    "verdict": "结论", "timely": "是否按时", "submitted": "提交时间", "report_date": "发布日期", "deadline": "截止日期",
    "errors": "错误", "warnings": "警告", "infos": "提示", "note": "说明", "path": "文件", "sha256": "SHA-256"}


_LATE = frozenset({Timeliness.LATE, Timeliness.OVERDUE})


@dataclass(frozen=True)
class TrackerRow:
    """One row of 进度: a roster agency (``seq`` > 0), or a file that was not used (``seq`` == 0)."""

    seq: int
    agency: str
    kind: str
    level: str
    contact: str
    state: State
    verdict: Verdict
    timely: Timeliness | None = None  # None: no deadline known
    submitted: dt.datetime | None = None  # file time
    report_date: dt.date | None = None  # 发布日期 in the file
    deadline: dt.date | None = None
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    note: str = ""
    path: str = ""
    sha256: str = ""
    #: why the file could not be read, as the catalogue file error ``check --json`` gives (its ``error_code``)
    error_code: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    @property
    def late(self) -> bool:
        return self.timely in _LATE

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON takes it, keyed as :data:`TRACKER_COLUMNS`, then ``error_code`` (a file that could not be
        read: its catalogue file error, as ``check --json`` has it; else None); state, verdict and timely as their
        English values (timely None when no deadline is known)."""
        return {"seq": self.seq or None, "agency": self.agency, "kind": self.kind, "level": self.level,
                "contact": self.contact, "state": str(self.state), "verdict": str(self.verdict),
                "timely": str(self.timely) if self.timely else None,
                "submitted": self.submitted.isoformat(sep=" ", timespec="seconds") if self.submitted else None,
                "report_date": self.report_date.isoformat() if self.report_date else None,
                "deadline": self.deadline.isoformat() if self.deadline else None,
                "errors": self.errors, "warnings": self.warnings, "infos": self.infos, "note": self.note,
                "path": self.path, "sha256": self.sha256, "error_code": self.error_code or None}


@dataclass(frozen=True)
class FileFinding:
    """A finding of one file, with the agency it belongs to and whether that file was used."""

    agency: str
    path: str
    used: bool
    finding: Finding


@dataclass(frozen=True)
class Plan:
    year: int | None
    rows: tuple[TrackerRow, ...]
    #: agency name -> the file used for it
    used: Mapping[str, FileResult]
    findings: tuple[FileFinding, ...]


def report_year(results: Iterable[FileResult], roster: Roster | None = None) -> int | None:
    """The year most files report (files of roster agencies first)."""
    keys = roster.by_key if roster is not None else None
    years = Counter(r.year for r in results if r.readable and r.year is not None
                    and (keys is None or name_key(r.agency) in keys))
    if not years and keys is not None:
        return report_year(results)
    return max(years, key=lambda y: (years[y], y)) if years else None


def _deadline(year: int | None, kind: str, deadline: dt.date | None,
              profile: Profile | None = None) -> dt.date | None:
    if deadline is not None:
        return deadline
    return rules.deadline(year, kind, profile) if year is not None else None


def plan(roster: Roster | None, results: Sequence[FileResult], *, year: int | None = None,
         deadline: dt.date | None = None, now: dt.datetime | None = None, profile: Profile | None = None) -> Plan:
    """Match files to agencies, choose one file per agency, and make the tracker rows: one per agency expected,
    then one per file not used. ``profile``: a rule profile whose earlier deadlines stand for the statutory ones."""
    today = (now or dt.datetime.now()).date()
    if year is None:
        year = report_year(results, roster)
    m = match_files(roster, results, year)
    used, older = choose_newest(m.candidates, m.agencies)
    unused = [*m.unused, *older]
    rows = agency_rows(m, used, by_roster=roster is not None, year=year, deadline=deadline, today=today,
                       profile=profile)
    rows += [_unused_row(u) for u in unused]
    return Plan(year, tuple(rows), {m.agencies[k].name: f for k, f in used.items()},
                file_findings(results, used, unused, m.agencies))


# ---- matching files to agencies ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unused:
    """A file that is not used: the agency it is shown under ("": not known, the file's own name is shown) and
    why (a verdict and a Chinese note)."""

    file: FileResult
    agency: str
    verdict: Verdict
    note: str


@dataclass(frozen=True)
class Matching:
    """Files matched to agencies, by name key (:func:`name_key`)."""

    #: the agencies expected: the roster's, or without a roster every agency a file names
    agencies: Mapping[str, Agency]
    #: files of the report year
    candidates: Mapping[str, Sequence[FileResult]]
    #: files of an expected agency, but of another year
    other_years: Mapping[str, Sequence[FileResult]]
    #: files that are no agency's report of the year, in path order
    unused: tuple[Unused, ...]


def match_files(roster: Roster | None, results: Iterable[FileResult], year: int | None) -> Matching:
    """Each file (in path order) to the agency its 机关名称 names, or to the files not used and why."""
    agencies: dict[str, Agency] = dict(roster.by_key) if roster is not None else {}
    candidates: dict[str, list[FileResult]] = {}
    other_years: dict[str, list[FileResult]] = {}
    unused: list[Unused] = []
    for r in sorted(results, key=lambda r: r.path):
        rejected = _rejected(r, roster, agencies)
        if rejected is not None:
            unused.append(rejected)
            continue
        k = name_key(r.agency)
        if k not in agencies:  # no roster: the agency is expected because it sent a file
            agencies[k] = Agency("".join(r.agency.split()), r.kind, r.level)
        if year is not None and r.year != year:
            other_years.setdefault(k, []).append(r)
            shown = f"{r.year} 年度" if r.year is not None else "年度未填写"
            unused.append(Unused(r, agencies[k].name, Verdict.OTHER_YEAR, f"文件为{shown}，本次汇总 {year} 年度。"))
            continue
        candidates.setdefault(k, []).append(r)
    return Matching(agencies, candidates, other_years, tuple(unused))


def _rejected(r: FileResult, roster: Roster | None, agencies: Mapping[str, Agency]) -> Unused | None:
    """Why a file cannot be any roster agency's report (unreadable, not ours, no name, a name not on the roster);
    None when it can."""
    if r.error:
        return Unused(r, "", Verdict.FOREIGN if r.foreign else Verdict.UNREADABLE, r.error)
    if not name_key(r.agency):
        return Unused(r, "", Verdict.NO_NAME, "“基本信息”中未填写机关名称，无法确定是哪个机关的报告。")
    if roster is not None and name_key(r.agency) not in agencies:
        hint = roster.suggest(r.agency)
        note = f"机关“{r.agency}”不在名单中" + (f"，是否为“{hint}”？请核对机关名称。" if hint else "。")
        return Unused(r, r.agency, Verdict.NOT_ON_ROSTER, note)
    return None


def choose_newest(candidates: Mapping[str, Sequence[FileResult]],
                  agencies: Mapping[str, Agency]) -> tuple[dict[str, FileResult], list[Unused]]:
    """Of each agency's files the newest (file time, then path) is used; the older ones are listed as
    duplicates."""
    used: dict[str, FileResult] = {}
    older: list[Unused] = []
    for k, files in candidates.items():
        newest, *rest = sorted(files, key=lambda r: (r.mtime, r.path), reverse=True)
        used[k] = newest
        older += [Unused(f, agencies[k].name, Verdict.DUPLICATE, f"同一机关另有更新的文件“{newest.path}”，本文件未采用。")
                  for f in rest]
    return used, older


# ---- tracker rows -----------------------------------------------------------------------------------------------

def timeliness(limit: dt.date | None, when: dt.date, *, submitted: bool) -> Timeliness | None:
    """A submission (``when``: the file's date) on time or late; no submission (``when``: today) overdue or not
    yet due; None without a deadline."""
    if limit is None:
        return None
    if submitted:
        return Timeliness.ON_TIME if when <= limit else Timeliness.LATE
    return Timeliness.OVERDUE if when > limit else Timeliness.NOT_DUE


def agency_rows(m: Matching, used: Mapping[str, FileResult], *, by_roster: bool, year: int | None,
                deadline: dt.date | None, today: dt.date, profile: Profile | None = None) -> list[TrackerRow]:
    """One row per agency expected: the roster's in roster order, or without a roster by name. Each agency's
    deadline is ``deadline``, or the statutory one of its kind (a ``profile``'s earlier one)."""
    order = list(m.agencies.items()) if by_roster else sorted(m.agencies.items(), key=lambda ka: ka[1].name)
    rows: list[TrackerRow] = []
    for seq, (k, a) in enumerate(order, start=1):
        f = used.get(k)
        limit = _deadline(year, a.kind or (f.kind if f else ""), deadline, profile)
        if f is None:
            rows.append(_missing_row(seq, a, limit, m.other_years.get(k, ()), today))
        else:
            rows.append(_submitted_row(seq, a, f, limit, len(m.candidates[k]) - 1))
    return rows


def _missing_row(seq: int, a: Agency, limit: dt.date | None, other_years: Sequence[FileResult],
                 today: dt.date) -> TrackerRow:
    note = "只收到其他年度的文件：" + "、".join(sorted({str(r.year) for r in other_years})) + "。" if other_years else ""
    return TrackerRow(seq, a.name, a.kind, a.level, a.contact, State.MISSING, Verdict.MISSING,
                      timeliness(limit, today, submitted=False), deadline=limit, note=note)


def _submitted_row(seq: int, a: Agency, f: FileResult, limit: dt.date | None, duplicates: int) -> TrackerRow:
    c, valid = f.counts, f.valid
    when = f.time
    timely = timeliness(limit, when.date(), submitted=True)
    notes = []
    if not valid:
        ids = sorted({x.rule for x in f.findings if x.severity is Severity.ERROR})
        notes.append(f"有 {c['error']} 个错误（{'、'.join(ids)}），请退回修改。")
    if timely is Timeliness.LATE and limit is not None:
        notes.append(f"提交时间晚于截止日期 {limit.isoformat()}。")
    if duplicates:
        notes.append(f"另有 {duplicates} 个较早的文件未采用。")
    return TrackerRow(seq, a.name, a.kind or f.kind, a.level or f.level, a.contact, State.SUBMITTED,
                      Verdict.PASS if valid else Verdict.FAIL, timely, when, f.report_date, limit, c["error"],
                      c["warning"], c["info"], "".join(notes), f.path, f.sha256)


def _unused_row(u: Unused) -> TrackerRow:
    f, c = u.file, u.file.counts
    return TrackerRow(0, u.agency or f.agency, f.kind, f.level, "", State.UNUSED, u.verdict, None,
                      f.time if f.mtime else None, f.report_date, None, c["error"], c["warning"], c["info"], u.note,
                      f.path, f.sha256, f.error_code)


def file_findings(results: Iterable[FileResult], used: Mapping[str, FileResult], unused: Iterable[Unused],
                  agencies: Mapping[str, Agency]) -> tuple[FileFinding, ...]:
    """Every finding of every file (in path order), with the agency the file is listed under and whether it is
    the one used."""
    owner = {f.path: agencies[k].name for k, f in used.items()}
    owner.update({u.file.path: u.agency for u in unused})
    used_paths = {f.path for f in used.values()}
    return tuple(FileFinding(owner.get(r.path, r.agency), r.path, r.path in used_paths, x)
                 for r in sorted(results, key=lambda r: r.path) for x in r.findings)


# ---- the county roll-up -----------------------------------------------------------------------------------------

ROLLUP_SHEET = "汇总"
#: row of the 汇总 sheet where the first table's heading goes (rows above: title, scope, re-check verdict)
ROLLUP_FIRST_ROW = 5


def rollup_layout() -> tuple[dict[str, int], dict[str, spec.Location]]:
    """Where the 汇总 sheet puts each table (heading row by table id) and each table key (the grid starts one row
    below its heading, tables one blank row apart)."""
    heads: dict[str, int] = {}
    loc: dict[str, spec.Location] = {}
    r = ROLLUP_FIRST_ROW
    for t in spec.TABLES:
        heads[t.id] = r
        for c in t.cells:
            loc[c.key] = spec.Location(ROLLUP_SHEET, r + c.row, c.col, c.colspan)
        r += t.n_rows + 2
    return heads, loc


def rollup_end_row() -> int:
    heads, _ = rollup_layout()
    last = spec.TABLES[-1]
    return heads[last.id] + last.n_rows


@dataclass(frozen=True)
class Rollup:
    #: TABLE_KEYS -> the sum over the included agencies
    values: Mapping[str, Number]
    included: tuple[str, ...]
    #: (agency, why it was left out)
    excluded: tuple[tuple[str, str], ...]
    #: the re-check of the roll-up with the table rules
    findings: tuple[Finding, ...]
    year: int | None = None

    @property
    def valid(self) -> bool:
        return not has_error(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "included": list(self.included),
                "excluded": [{"agency": a, "reason": why} for a, why in self.excluded],
                "valid": self.valid, "values": dict(self.values), "findings": [f.to_dict() for f in self.findings]}


def rollup(p: Plan) -> Rollup:
    """Column-wise sum of tables 二, 三, 四 over the agencies whose report passes, re-checked with the rules of
    groups 数值, 表内 and 跨年 (跨年 only when every included report had last year's figures)."""
    agencies = [row for row in p.rows if row.seq]
    included = [row.agency for row in agencies if row.passed]
    excluded = [(row.agency, _left_out_because(row)) for row in agencies if not row.passed]
    files = [p.used[a] for a in included]
    sums = column_sums(files)
    _, loc = rollup_layout()
    data = ReportData(values=dict(sums), locations={**spec.LAYOUT.locations, **loc}, prior=_prior_sums(files),
                      source=ROLLUP_SHEET)
    ids = [r for r in catalogue.rule_ids() if catalogue.entries_of(r)[0].group in ROLLUP_GROUPS]
    return Rollup(sums, tuple(included), tuple(excluded), tuple(rules.validate(data, ids)), p.year)


def _left_out_because(row: TrackerRow) -> str:
    if row.verdict is Verdict.MISSING:
        return row.note or Verdict.MISSING.zh
    return f"校验不通过：{row.errors} 个错误"


def column_sums(files: Iterable[FileResult]) -> dict[str, Number]:
    """TABLE_KEYS -> the sum over ``files`` (a figure that is not a usable number counts 0; money summed exactly,
    :func:`exact_sums`)."""
    return exact_sums((f.values, True) for f in files)


#: keys summed in Decimal (万元, up to 4 decimals)
MONEY_KEYS: Final = frozenset(k for k in TABLE_KEYS if spec.DATA_CELLS[k].kind is spec.Kind.MONEY)
#: the 规章 row of 表二: only 省 and 设区的市 governments make 规章 (:func:`xl_addin.rollup.may_make_rules`)
RULE_KEYS: Final = frozenset(k for k in TABLE_KEYS if k.startswith("t2.rules."))
_MONEY_AT: Final = tuple(i for i, k in enumerate(TABLE_KEYS) if k in MONEY_KEYS)
_RULE_AT: Final = tuple(i for i, k in enumerate(TABLE_KEYS) if k in RULE_KEYS)


def exact_sums(parts: Iterable[tuple[Sequence[Number | None], bool]]) -> dict[str, Number]:
    """TABLE_KEYS -> the sum over ``parts`` (figures in TABLE_KEYS order, whether its 规章 count): counts as
    integers, money in Decimal (back to the float of its exact value: no drift however many units); a figure
    that is not a usable number counts 0."""
    n = len(TABLE_KEYS)
    ints = [0] * n
    money = {i: Decimal(0) for i in _MONEY_AT}
    for values, rules_count in parts:
        for i, v in enumerate(values[:n]):
            if not v:
                continue
            if i in money:
                money[i] += Decimal(repr(v))
            elif isinstance(v, int):
                ints[i] += v
            elif v.is_integer():
                ints[i] += int(v)
        if not rules_count:  # what a unit without 规章-making power wrote there does not count
            for i in _RULE_AT:
                v = values[i] if i < len(values) else None
                if v and (isinstance(v, int) or v.is_integer()):
                    ints[i] -= int(v)
    out: dict[str, Number] = {}
    for i, k in enumerate(TABLE_KEYS):
        out[k] = float(money[i]) if i in money else ints[i]
    return out


def _prior_sums(files: Sequence[FileResult]) -> dict[str, Number]:
    """Last year's figures summed over ``files``; {} (跨年 not checked) unless every file had all of them."""
    prior: dict[str, Number] = dict.fromkeys(spec.PRIOR_KEYS, 0)
    for f in files:
        for k, v in zip(spec.PRIOR_KEYS, f.prior or (None,) * len(spec.PRIOR_KEYS), strict=True):
            if v is None:
                return {}
            prior[k] += v
    return prior if files else {}


# ---- the result of a run ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CollectResult:
    rows: tuple[TrackerRow, ...]
    findings: tuple[FileFinding, ...]
    rollup: Rollup
    year: int | None
    #: the summary workbook and the HTML tracker beside it
    xlsx: Path | None = None
    html: Path | None = None
    files: tuple[FileResult, ...] = field(default=(), repr=False)
    seconds: float = 0.0
    #: the dataset written (``collect --dataset``) and its rows; None when none was asked for
    dataset: Path | None = None
    dataset_rows: int = 0
    #: units of one year and one parent whose narrative sections are near copies (:func:`copying`)
    similar: tuple[similarity.Pair, ...] = ()
    #: the levelled roll-up (issue 22): one :class:`xl_addin.rollup.UnitRollup` per 汇总 unit of the roster
    levels: tuple[Any, ...] = ()
    #: the 汇总 workbook of each of :attr:`levels`, and the upward package when one was asked for
    level_books: tuple[Path, ...] = ()
    package: Path | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Count value -> how many (keys plain English strings, as JSON has them)."""
        roster = [r for r in self.rows if r.seq]
        states, verdicts = Counter(r.state for r in roster), Counter(r.verdict for r in roster)
        counts = {Count.EXPECTED: len(roster), Count.SUBMITTED: states[State.SUBMITTED],
                  Count.PASSED: verdicts[Verdict.PASS], Count.FAILED: verdicts[Verdict.FAIL],
                  Count.MISSING: states[State.MISSING], Count.LATE: sum(r.timely in _LATE for r in roster),
                  Count.UNUSED_FILES: len(self.rows) - len(roster), Count.FILES: len(self.files)}
        return {str(k): n for k, n in counts.items()}

    @property
    def late_split(self) -> tuple[int, int]:
        """(roster agencies that submitted after their deadline, those that have not submitted and whose deadline has
        passed): the two kinds of 逾期 the total adds up. Before its deadline an agency that has not submitted is
        only 未提交 (its 是否按时 says 未到期)."""
        roster = [r for r in self.rows if r.seq]
        return (sum(r.timely is Timeliness.LATE for r in roster),
                sum(r.state is State.MISSING and r.timely is Timeliness.OVERDUE for r in roster))

    def late_text(self) -> str:
        """The 逾期 total, saying both kinds when agencies that have not submitted are overdue: "2（逾期提交 0，逾期未交
        2）"."""
        late, overdue = self.late_split
        n = self.counts[Count.LATE]
        return f"{n}（逾期提交 {late}，逾期未交 {overdue}）" if overdue else str(n)

    @property
    def ok(self) -> bool:
        """Every agency submitted a passing report and every file found could be used (older duplicates aside)."""
        return all(r.passed for r in self.rows if r.seq) and all(r.verdict is Verdict.DUPLICATE for r in self.rows
                                                                  if not r.seq)

    def title(self, what: str) -> str:
        """The heading of a sheet or page of the summary: 2023年度政府信息公开工作年度报告<what>."""
        year = f"{self.year}年度" if self.year else ""
        return f"{year}政府信息公开工作年度报告{what}"

    def summary_zh(self, *, split_late: bool = False) -> str:
        """The run in one sentence (and a line per 汇总 unit); ``split_late``: its 逾期 as :meth:`late_text` says it."""
        c = self.counts
        year = f"{self.year} 年度" if self.year else "年度未知"
        late = self.late_text() if split_late else c[Count.LATE]
        text = (f"{year}：应报 {c[Count.EXPECTED]} 个机关，已提交 {c[Count.SUBMITTED]}（通过 {c[Count.PASSED]}，"
                f"不通过 {c[Count.FAILED]}），未提交 {c[Count.MISSING]}，逾期 {late}；"
                f"共读取 {c[Count.FILES]} 个文件，未采用 {c[Count.UNUSED_FILES]} 个。"
                f"汇总纳入 {len(self.rollup.included)} 个机关，汇总表复核"
                f"{'通过' if self.rollup.valid else '不通过'}。")
        for lv in self.levels:
            text += f"\n{lv.unit.name}（{lv.unit.scope}）：{lv.coverage_zh()}"
            if lv.differences:
                text += f"与其发布的汇总报告有 {lv.differences} 处不同（提示，不是错误）。"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The run as ``collect --json`` prints it; ``dataset`` ({"path", "rows"}) last, only when one was written."""
        extra = {"dataset": {"path": str(self.dataset), "rows": self.dataset_rows}} if self.dataset else {}
        return {**self._to_dict(), **extra}

    def _to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "ok": self.ok, "counts": self.counts,
                "summary": str(self.xlsx) if self.xlsx else None, "html": str(self.html) if self.html else None,
                "rows": [r.to_dict() for r in self.rows],
                "findings": [{"agency": x.agency, "path": x.path, "used": x.used, **x.finding.to_dict()}
                             for x in self.findings],
                "rollup": self.rollup.to_dict(), "similar": [p.to_dict() for p in self.similar],
                # the levelled roll-up (issue 22), only when the roster has 汇总 units
                **({"levels": [lv.to_dict() for lv in self.levels],
                    "level_books": [str(p) for p in self.level_books],
                    "package": str(self.package) if self.package else None} if self.levels else {})}


# ---- the dataset ------------------------------------------------------------------------------------------------

def unit_fields(agency: Agency | None) -> dict[str, str]:
    """The dataset's unit fields a roster row gives (contract R): ``unit_id`` (:attr:`Agency.unit_id`),
    ``parent``, ``scope``, ``level``; "" for what the roster does not say."""
    if agency is None:
        return {"unit_id": "", "parent": "", "scope": "", "level": ""}
    return {"unit_id": agency.unit_id, "parent": agency.parent, "scope": agency.scope, "level": agency.level}


def file_entry(f: FileResult, unit: str, verdict: str, agency: Agency | None = None,
               year: int | None = None) -> dataset.Entry:
    """The dataset entry of one examined file, under the unit name ``unit`` (the roster's spelling)."""
    fields_ = unit_fields(agency)
    if not fields_["level"]:
        fields_["level"] = f.level
    return dataset.Entry(unit, f.year if f.year is not None else year, dict(zip(TABLE_KEYS, f.values, strict=False)),
                         source=f.path, verdict=verdict, **fields_)


def dataset_entries(result: CollectResult, roster: Roster | None = None) -> list[dataset.Entry]:
    """One dataset entry per report used (each agency's chosen file, passing or not), in the tracker's order; an
    agency that sent nothing has none. ``roster``: where the unit fields come from (:func:`unit_fields`)."""
    by_path = {f.path: f for f in result.files}
    agencies = roster.by_key if roster is not None else {}
    out = []
    for row in result.rows:
        f = by_path.get(row.path)
        if not row.seq or row.state is not State.SUBMITTED or f is None:
            continue
        out.append(file_entry(f, row.agency, row.verdict.zh, agencies.get(name_key(row.agency)), result.year))
    return out


# ---- copying between units (issue 22) ----------------------------------------------------------------------------

def unit_parent(agency: Agency | None) -> str:
    """The parent unit the cross-unit comparison groups ``agency`` by: the roster's parent unit id (contract R,
    branch ``levels``: ``Agency.parent``); "" while the roster knows no parent, so that every unit of one collect
    run -- one county -- is compared with every other."""
    return agency.parent if agency is not None else ""


def peer_units(p: Plan, roster: Roster | None) -> list[similarity.Unit]:
    """Each agency's used file, as the cross-unit comparison takes it (its narrative texts carried by the file:
    :func:`examined` with ``texts``), grouped by :func:`similarity.peer_group` of the year and :func:`unit_parent`."""
    agencies = roster.by_key if roster is not None else {}
    out = []
    for name, f in sorted(p.used.items()):
        if not f.readable or not f.texts:
            continue
        texts = {number: f.texts.get(narrative.prior_text_key(number), "") for number in narrative.PRIOR_SECTIONS}
        group = similarity.peer_group(f.year if f.year is not None else p.year, unit_parent(agencies.get(name_key(name))))
        out.append(similarity.Unit(name, f.path, group, texts))
    return out


def copying(p: Plan, roster: Roster | None, *, percent: float = similarity.CROSS_UNIT_PERCENT) -> tuple[similarity.Pair, ...]:
    """Pairs of units of one year and one parent whose section 一, 五 or 六 repeats the other's by more than
    ``percent`` % (a rule profile's ``cross_unit.repeated_percent``), with the passages side by side."""
    return tuple(similarity.similar_pairs(peer_units(p, roster), percent=percent))
