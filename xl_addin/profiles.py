"""Rule profiles: what a local notice adds on top of the national catalogue (issue 22).

A profile is a small TOML file (docs/规则配置.md tells users how to write one; ``xl_addin/profiles/`` ships the
national default and an example city's). It may

- switch on the local requirements (:data:`xl_addin.catalogue.LOCAL`: L1 总体情况字数, L2 须写明的数字) and switch
  off national rules that are only warnings or hints (a national error is the law: it cannot be switched off);
- make a rule or a variant stricter (提示 -> 警告 -> 错误; a national warning or hint may also be made milder);
- set the publication deadline earlier than the national 1月31日 / 3月31日 (never later);
- set the thresholds the rules read through the check context (``ctx.threshold(name, default)``), each declared
  once in :data:`THRESHOLDS` with its national default (a named constant of the module that uses it).

A profile is untrusted input: an unknown key, rule id or threshold, a wrong type or value is a
:class:`ProfileError` whose Chinese message names the file and the key. Parsing is pure (:func:`parse`); reading
the file is :func:`xl_addin.adapters.profile_file.load`.

Findings say which profile asked for them: a finding of a local requirement, a finding whose level the profile
changed and a finding the national settings would not have raised (an earlier deadline, a lower bar) carry the
profile's name (``Finding.profile``) and the message ends with :func:`attribution`.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from . import catalogue, similarity, spec
from .model import Severity

#: L1: the length limit of section 一 when a profile switches L1 on without saying one
L1_MAX_CHARS = 1000
#: L2: the figures section 一 must state when a profile switches L2 on without naming them (本年新收申请总数)
L2_KEYS: tuple[str, ...] = ("t3.new.total",)

Value = int | float | tuple[str, ...]
#: V2.yuan.max_wan's national default: no one bar, the bar of the report's scope and level (catalogue.yuan_threshold)
YUAN_BY_SCOPE = 0


@dataclass(frozen=True)
class Threshold:
    """One setting a profile may give a rule: its name (``<rule>.<what>``), the rule it tunes ("" for collect's
    cross-unit comparison), its national default, its kind and what it means (Chinese, for users)."""

    name: str
    rule: str
    default: Value
    kind: str  # "percent" (1..100), "chars" (a whole number >= 1), "keys" (spec cell keys)
    zh: str


THRESHOLDS: Mapping[str, Threshold] = MappingProxyType({t.name: t for t in (
    Threshold("X3.repeated_percent", "X3", similarity.X3_REPEATED_PERCENT, "percent",
              "正文某一部分与上年报告同一部分重复的文字超过这个百分比，即为内容雷同（X3）"),
    Threshold("cross_unit.repeated_percent", "", similarity.CROSS_UNIT_PERCENT, "percent",
              "同一年度、同一上级的两个单位，同一部分的文字重复超过这个百分比，即在汇总结果中列为雷同"),
    Threshold("L1.max_chars", "L1", L1_MAX_CHARS, "chars", "第一部分“总体情况”的字数上限（不计空格，L1）"),
    Threshold("L2.keys", "L2", L2_KEYS, "keys", "第一部分须写明的统计数字（单元格编号，如 t3.new.total，L2）"),
    Threshold("V2.yuan.max_wan", "V2", YUAN_BY_SCOPE, "chars",
              "发布的年报中，行政事业性收费金额达到这个万元数即提示可能按“元”填写（V2.yuan）；不设时按报告范围和层级"
              "取值（如县级本级 1000、县级汇总 100000）。模板工作簿按本项（不设时 1000），与按同一配置生成的模板"
              "（xl-addin template --profile）的表内公式一致"),
)})

#: deadline key -> (whose, the national month and day)
DEADLINES: Mapping[str, tuple[str, tuple[int, int]]] = MappingProxyType({
    "department": ("政府部门", (1, 31)), "government": (f"{spec.KIND_GOVERNMENT}本级", (3, 31))})

_SEVERITY_WORDS: Mapping[str, Severity] = MappingProxyType(
    {**{s.value: s for s in Severity}, **{s.zh: s for s in Severity}})
_SECTIONS = ("profile", "rules", "severity", "deadline", "thresholds")
_PROFILE_KEYS = ("name", "title", "basis")


class ProfileError(ValueError):
    """A profile that cannot be used; the message (Chinese) names the file and the key."""


@dataclass(frozen=True)
class Profile:
    """The effective settings: the national catalogue when nothing is set (:data:`NATIONAL`)."""

    name: str = "全国"
    title: str = "全国统一规则（国办公开办函〔2021〕30号）"
    basis: str = ""
    source: str = ""
    #: local requirements switched on (rule ids of catalogue.LOCAL)
    on: tuple[str, ...] = ()
    #: national rules switched off (rule ids)
    off: tuple[str, ...] = ()
    #: catalogue code -> the level the profile gives it (only where it differs from the catalogue's)
    severities: Mapping[str, Severity] = field(default_factory=dict)
    #: "department"/"government" -> (month, day) of the next year
    deadlines: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    #: threshold name -> value (only where it differs from the national default)
    thresholds: Mapping[str, Value] = field(default_factory=dict)

    @property
    def national(self) -> bool:
        """Whether the profile changes nothing of the national catalogue."""
        return not (self.on or self.off or self.severities or self.deadlines or self.thresholds)

    def rule_ids(self) -> tuple[str, ...]:
        """The rules checked: the national ones not switched off, then the local ones switched on."""
        return tuple(r for r in catalogue.rule_ids() if r not in self.off) + self.on

    def enabled(self, rule: str) -> bool:
        return rule in self.on or (rule in catalogue.rule_ids() and rule not in self.off)

    def severity(self, code: str) -> Severity:
        return self.severities.get(code, catalogue.entry(code).severity)

    def threshold(self, name: str, default: Value) -> Value:
        """The profile's value of threshold ``name``, else ``default`` (the rule's national constant)."""
        return self.thresholds.get(name, default)

    def deadline(self, who: str) -> tuple[int, int] | None:
        """(month, day) of the next year by which ``who`` ("department"/"government") publishes, when the profile
        sets it (None: the national one)."""
        return self.deadlines.get(who)

    def tunes(self, rule: str) -> bool:
        """Whether the profile sets a threshold or deadline of ``rule``: findings of it may then be the profile's."""
        return (rule == "P1" and bool(self.deadlines)) or any(THRESHOLDS[n].rule == rule for n in self.thresholds)

    def asks_for(self, code: str) -> bool:
        """Whether every finding of ``code`` is the profile's: a local requirement, or a level it changed."""
        return code in catalogue.LOCAL or code in self.severities

    def rows(self) -> list[dict[str, Any]]:
        """The effective rule set as plain rows (``xl-addin rules --profile F --json``): every entry, national and
        local, whether it is checked, its level, and who set it."""
        out = []
        bar = self.threshold("V2.yuan.max_wan", YUAN_BY_SCOPE)
        for e in (*catalogue.CATALOGUE.values(), *catalogue.LOCAL.values()):
            local = e.code in catalogue.LOCAL
            title = (catalogue.yuan_title(bar) if (e.rule, e.variant) == ("V2", "yuan")
                     and isinstance(bar, int | float) and bar > 0 else e.title)
            on = self.enabled(e.rule)
            by = self.name if ((local and on) or e.code in self.severities or e.rule in self.off
                               or (self.tunes(e.rule) and not e.variant)) else ""
            out.append({"code": e.code, "id": e.rule, "enabled": on, "severity": self.severity(e.code).value,
                        "national_severity": e.severity.value, "local": local, "title": title,
                        "by": by, "settings": {n: self.threshold(n, t.default) for n, t in THRESHOLDS.items()
                                               if t.rule == e.rule and not e.variant}})
        return out

    def settings(self) -> list[dict[str, Any]]:
        """Every threshold and deadline with its effective value, the national default and who set it."""
        out: list[dict[str, Any]] = []
        for who, (zh, (m, d)) in DEADLINES.items():
            got = self.deadlines.get(who)
            eff = got or (m, d)
            out.append({"name": f"deadline.{who}", "zh": f"{zh}公布年度报告的期限（次年）",
                        "value": f"{eff[0]}月{eff[1]}日", "national": f"{m}月{d}日", "by": self.name if got else ""})
        for n, t in THRESHOLDS.items():
            v = self.threshold(n, t.default)
            out.append({"name": n, "zh": t.zh, "value": list(v) if isinstance(v, tuple) else v,
                        "national": list(t.default) if isinstance(t.default, tuple) else t.default,
                        "by": self.name if n in self.thresholds or t.rule in self.on else ""})
        return out
    def digest(self) -> str:
        """A hash of the effective settings (rules, levels, deadlines, thresholds; not the name or the title): two
        profiles with the same digest check alike. A template built under a profile records it (:mod:`xl_addin.hidden`)
        and a check under another profile says so (S2.profile). Computed once per profile (every workbook asks)."""
        return self._digest

    @cached_property
    def _digest(self) -> str:
        raw = self.to_json()
        doc = {k: raw[k] for k in ("on", "off", "severities", "deadlines", "thresholds")}
        return hashlib.sha256(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        """The profile as plain JSON (what a server's workers get: :meth:`from_json` gives it back as it was)."""
        return {"name": self.name, "title": self.title, "basis": self.basis, "source": self.source,
                "on": list(self.on), "off": list(self.off),
                "severities": {c: s.value for c, s in self.severities.items()},
                "deadlines": {w: list(md) for w, md in self.deadlines.items()},
                "thresholds": {n: list(v) if isinstance(v, tuple) else v for n, v in self.thresholds.items()}}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Profile:
        return cls(str(raw["name"]), str(raw["title"]), str(raw["basis"]), str(raw["source"]), tuple(raw["on"]),
                   tuple(raw["off"]), {c: Severity(s) for c, s in raw["severities"].items()},
                   {w: (int(md[0]), int(md[1])) for w, md in raw["deadlines"].items()},
                   {n: tuple(v) if isinstance(v, list) else v for n, v in raw["thresholds"].items()})


NATIONAL = Profile()


def attribution(profile: Profile) -> str:
    """What a finding the profile asked for adds to its message."""
    return f"〔地方要求：{profile.name}〕"


# ---- parsing -------------------------------------------------------------------------------------------------------

def parse(text: str, source: str) -> Profile:
    """The profile written in TOML ``text`` (read from ``source``, named in every message). Raises ProfileError."""
    def fail(key: str, what: str) -> ProfileError:
        return ProfileError(f"规则配置文件“{source}”中“{key}”：{what}" if key else f"规则配置文件“{source}”：{what}")

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise fail("", f"不是有效的 TOML 格式（{exc}）。请对照 docs/规则配置.md 中的写法改正。") from None
    for key in doc:
        if key not in _SECTIONS:
            raise fail(key, f"不认识这一项。可用的项：{'、'.join(f'[{s}]' for s in _SECTIONS)}。")
        if not isinstance(doc[key], dict):
            raise fail(key, f"应写作一节 [{key}]。")
    head = _table(doc, "profile")
    for key, v in head.items():
        if key not in _PROFILE_KEYS:
            raise fail(f"profile.{key}", f"不认识这一项。可用的项：{'、'.join(_PROFILE_KEYS)}。")
        if not isinstance(v, str):
            raise fail(f"profile.{key}", "应为文字（用英文双引号括起来）。")
    name = str(head.get("name", "")).strip()
    if not name:
        raise fail("profile.name", "缺少规则配置的名称（如 name = \"某市\"），检查结果用它说明是谁的要求。")
    if len(name) > 40 or re.search(r"[\x00-\x1f〔〕]", name):
        raise fail("profile.name", "名称应为不超过 40 字的一行文字。")
    title = str(head.get("title", "")).strip() or name
    if re.search(r"[\x00-\x1f]", title):  # it is written into the template's 校验汇总, which cannot hold them
        raise fail("profile.title", "标题应为一行文字（不含控制字符）。")
    on, off = _rule_switches(_table(doc, "rules"), fail)
    return Profile(name, title, str(head.get("basis", "")).strip(), source,
                   on, off, _severities(_table(doc, "severity"), fail), _deadlines(_table(doc, "deadline"), fail),
                   _thresholds(_table(doc, "thresholds"), fail))


def _table(doc: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Section ``key`` of the document, dotted keys written bare (``X3.repeated_percent = 50``, which TOML reads as
    a table ``X3``) flattened back to their names."""
    got = doc.get(key, {})
    assert isinstance(got, dict)
    return dict(_flat(got))


def _flat(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in table.items():
        name = f"{prefix}{k}"
        out += _flat(v, name + ".") if isinstance(v, dict) else [(name, v)]
    return out


def _rule_switches(rules: Mapping[str, Any], fail: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    national, local = catalogue.rule_ids(), catalogue.local_rule_ids()
    got: dict[str, tuple[str, ...]] = {}
    for key, v in rules.items():
        if key not in ("on", "off"):
            raise fail(f"rules.{key}", "不认识这一项。可用的项：on（启用的地方要求）、off（关闭的规则）。")
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise fail(f"rules.{key}", "应为规则编号的列表，如 [\"L1\", \"L2\"]。")
        got[key] = tuple(dict.fromkeys(x.strip() for x in v))
    for rule in got.get("on", ()):
        if rule in national:
            raise fail("rules.on", f"“{rule}”是全国统一规则，本来就检查，不必启用。")
        if rule not in local:
            raise fail("rules.on", f"没有编号为“{rule}”的地方要求。可启用的：{'、'.join(local)}。")
    for rule in got.get("off", ()):
        if rule in local:
            raise fail("rules.off", f"“{rule}”是地方要求，不启用即不检查，不必关闭。")
        if rule not in national:
            raise fail("rules.off", f"没有编号为“{rule}”的规则（规则编号见 xl-addin rules）。")
        if any(e.severity is Severity.ERROR for e in catalogue.entries_of(rule)):
            raise fail("rules.off", f"“{rule}”是全国统一的“错误”级规则，地方规则配置不能关闭。")
    return got.get("on", ()), got.get("off", ())


def _severities(table: Mapping[str, Any], fail: Any) -> dict[str, Severity]:
    out: dict[str, Severity] = {}
    known = {**catalogue.CATALOGUE, **catalogue.LOCAL}
    for key, v in table.items():
        codes = [c for c, e in known.items() if c == key or e.rule == key]
        if not codes:
            raise fail(f"severity.{key}", "没有这个规则编号（规则编号见 xl-addin rules）。")
        if not isinstance(v, str) or v.strip() not in _SEVERITY_WORDS:
            raise fail(f"severity.{key}", "级别应为“错误”“警告”或“提示”。")
        level = _SEVERITY_WORDS[v.strip()]
        for code in codes:
            national = known[code].severity
            if national is Severity.ERROR and level is not Severity.ERROR:
                raise fail(f"severity.{key}", f"“{code}”在全国统一规则中为“错误”，地方规则配置不能降低。")
            if level is not national:
                out[code] = level
    return out


_MONTH_DAY = re.compile(r"^\s*(?:(\d{1,2})\s*月\s*(\d{1,2})\s*日|(\d{1,2})-(\d{1,2}))\s*$")


def _deadlines(table: Mapping[str, Any], fail: Any) -> dict[str, tuple[int, int]]:
    import datetime as dt

    out: dict[str, tuple[int, int]] = {}
    for key, v in table.items():
        if key not in DEADLINES:
            raise fail(f"deadline.{key}", "不认识这一项。可用的项：department（政府部门）、government（人民政府本级）。")
        m = _MONTH_DAY.match(v) if isinstance(v, str) else None
        if m is None:
            raise fail(f"deadline.{key}", "应写作次年的月日，如 \"1月20日\"。")
        month, day = (int(x) for x in (m.group(1, 2) if m.group(1) else m.group(3, 4)))
        try:
            dt.date(2001, month, day)  # a year that is not a leap year: 2月29日 is not every year's deadline
        except ValueError:
            raise fail(f"deadline.{key}", f"“{v}”不是有效的日期。") from None
        zh, national = DEADLINES[key]
        if (month, day) > national:
            raise fail(f"deadline.{key}", f"{zh}的期限不能晚于条例规定的次年{national[0]}月{national[1]}日。")
        if (month, day) != national:
            out[key] = (month, day)
    return out


def _thresholds(table: Mapping[str, Any], fail: Any) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for key, v in table.items():
        t = THRESHOLDS.get(key)
        if t is None:
            raise fail(f"thresholds.{key}", f"不认识这个阈值。可用的：{'、'.join(THRESHOLDS)}。")
        value = _value(t, v, lambda what, key=key: fail(f"thresholds.{key}", what))
        if value != t.default:
            out[key] = value
    return out


def _value(t: Threshold, v: object, fail: Any) -> Value:
    if t.kind == "keys":
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise fail("应为单元格编号的列表，如 [\"t3.new.total\"]。")
        for k in v:
            if k not in spec.DATA_CELLS:
                raise fail(f"没有编号为“{k}”的表格单元格（编号见 docs/规则配置.md）。")
        return tuple(dict.fromkeys(v))
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise fail("应为数字。")
    if t.kind == "percent":
        if not 1 <= v <= 100:
            raise fail("应为 1 到 100 之间的百分数（如 50 表示 50%）。")
        return v
    if not isinstance(v, int) or v < 1:
        raise fail("应为不小于 1 的整数。")
    return v
