"""Rules that matter for published reports (read by :mod:`xl_addin.importers`), in the catalogue like every other
rule: S1 sections, S3 old or hybrid format, X3 year-on-year 雷同, T7 the year the text gives itself, T8 an
internal contradiction, A7 a number perhaps split in extraction; and the import's own findings that belong to
existing rules (S2 label drift, V2 an amount in 元).

The importer leaves what it found in ``ReportData.props["import"]`` (JSON: headings, format markers, notes); a
workbook has no such entry, so S1, S3, T7's heading part and A7 are silent on workbooks. X3, T7 and T8 read the
narrative and apply to workbooks too.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from . import spec
from .model import Finding
from .rules import CHECKS, Context, E, I, W, _rule, check

PROPS_KEY = "import"  # = importers.parse.PROPS_KEY (the core does not import the importer)

_rule("S1", "结构", E, "六个部分齐全、顺序正确", "国办公开办函〔2021〕30号：六个部分，按序排列",
      {"": "第{number}部分“{title}”{problem}。{hint}",
       "variant": "第{number}部分的标题写作“{text}”，官方为“{number}、{title}”。",
       "numbered": "标题“{text}”的编号与官方不同：应为第{number}部分（“{number}、{title}”），请按官方编号。"})
_rule("S3", "结构", E, "使用现行格式（国办公开办函〔2021〕30号）", "国办公开办函〔2021〕30号 自2021年度报告起施行",
      {"": "报告使用了旧格式（国办公开办函〔2019〕60号）：{markers}。请按国办公开办函〔2021〕30号格式编制；"
           "能对应的数字已读入，其余未读入。",
       "hybrid": "报告的表格混用新旧格式：{markers}。请按国办公开办函〔2021〕30号格式编制。"})
_rule("X3", "跨年", E, "正文与上年报告不雷同", "国办公开办函〔2021〕30号：内容雷同属应予纠正的问题",
      "第{number}部分“{title}”与上年报告的同一部分 {percent}% 相同（{length} 字），内容雷同。请按本年度实际情况撰写。",
      needs_last_year=True)
_rule("T7", "文表", W, "正文所述年度与报告年度一致", "统计期为报告年度1月1日至12月31日",
      "{where}写的是 {said} 年（“{quote}”），而本报告为 {year} 年度报告。请核对是否沿用了往年的文字。")
_rule("T8", "文表", E, "正文前后不矛盾", "条例第五十条；内容准确",
      "“{field}”中写“{quote}”，但表三“四、结转下年度继续办理”为 {carried} 件，两者矛盾。")
_rule("A7", "表内", I, "数字可能在提取时被拆开（导入提示）", "导入发布的报告时的核对提示",
      "导入提示：{message}")


def import_info(ctx: Context) -> dict[str, Any] | None:
    raw = ctx.data.props.get(PROPS_KEY)
    if not raw:
        return None
    try:
        info = json.loads(raw)
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


_TITLES = {s.number: s.title for s in spec.SECTIONS}
_ORDER = "一二三四五六"


@check("S1")
def _s1(ctx: Context) -> Iterator[Finding]:
    info = import_info(ctx)
    if info is None:
        return
    headings = [tuple(h) for h in info.get("headings", [])]
    found: dict[str, list[tuple[str, ...]]] = {}
    for h in headings:
        found.setdefault(h[0], []).append(h)
    for number in _ORDER:
        title = _TITLES[number]
        if number not in found:
            yield ctx.finding("S1", sheet="正文", cell="", check=f"S1:{number}:missing", number=number, title=title,
                              problem="缺失", hint="六个部分缺一不可，请补上这一部分。")
        elif len(found[number]) > 1:
            where = "、".join(f"“{h[2]}”" for h in found[number])
            yield ctx.finding("S1", sheet="正文", cell="", check=f"S1:{number}:twice", number=number, title=title,
                              problem=f"出现了 {len(found[number])} 次（{where}）", hint="请删去重复的部分。")
    seq = [h[0] for h in headings if found[h[0]][0] == h]
    for a, b in itertools.pairwise(seq):
        if _ORDER.index(b) < _ORDER.index(a):
            yield ctx.finding("S1", sheet="正文", cell="", check=f"S1:{b}:order", number=b, title=_TITLES[b],
                              problem=f"排在第{a}部分之后", hint="请按官方顺序排列六个部分。")
    for number, hs in found.items():
        section, written, text = hs[0][0], hs[0][1], hs[0][2]
        title = _TITLES[section]
        if written != section:  # another number, or none
            yield ctx.finding("S1", sheet="正文", cell="", severity=W, variant="numbered",
                              check=f"S1:{number}:numbered", number=number, title=title, text=text)
        elif _squash(text).split("、", 1)[-1] != _squash(title):
            yield ctx.finding("S1", sheet="正文", cell="", severity=W, variant="variant",
                              check=f"S1:{number}:variant", number=number, title=title, text=text)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s).replace("(", "（").replace(")", "）").replace(",", "、")


@check("S3")
def _s3(ctx: Context) -> Iterator[Finding]:
    info = import_info(ctx)
    if info is None or info.get("format") in (None, "2021"):
        return
    markers = "、".join(f"“{m}”" if "表三" not in m else m for m in info.get("markers", []))
    variant = "" if info["format"] == "2019" else "hybrid"
    yield ctx.finding("S3", sheet="表二" if variant == "" else "表三", cell="", variant=variant, markers=markers)


# ---- X3 -----------------------------------------------------------------------------------------------------

#: a section shorter than this (characters, spaces dropped) is not compared: short mandatory sentences repeat
X3_MIN_LENGTH = 60
X3_THRESHOLD = 0.9


def prior_text_key(section: str) -> str:
    """The key under which last year's text of narrative section 一/五/六 travels in ``ReportData.prior``."""
    return f"text.{section}"


def section_text(values: Any, section: str) -> str:
    return "\n".join(str(values.get(f.key) or "") for f in spec.narrative_fields(section))


def _shingles(s: str, n: int = 4) -> set[str]:
    s = re.sub(r"\s+", "", s)
    return {s[i:i + n] for i in range(max(len(s) - n + 1, 0))}


def similarity(a: str, b: str) -> float:
    """Share of 4-character pieces the two texts have in common (Dice), 0..1."""
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return 0.0
    return 2 * len(sa & sb) / (len(sa) + len(sb))


@check("X3")
def _x3(ctx: Context) -> Iterator[Finding]:
    for number in ("一", "五", "六"):
        last = ctx.data.prior.get(prior_text_key(number))
        if not isinstance(last, str):
            continue
        this = section_text(ctx.data.values, number)
        length = len(re.sub(r"\s+", "", this))
        if length < X3_MIN_LENGTH or len(re.sub(r"\s+", "", last)) < X3_MIN_LENGTH:
            continue
        sim = similarity(this, last)
        if sim >= X3_THRESHOLD:
            key = spec.narrative_fields(number)[0].key
            yield ctx.finding("X3", key, check=f"X3:{number}", number=number, title=_TITLES[number],
                              percent=round(sim * 100), length=length)


# ---- T7, T8 ---------------------------------------------------------------------------------------------------

_PERIOD = re.compile(r"(20\d\d)\s*年\s*1\s*月\s*1\s*日\s*(?:至|到|起至|—|-|－)\s*(?:(20\d\d)\s*年\s*)?12\s*月\s*31\s*日")
_OPENING = re.compile(r"^\s*(?:[（(][一二三四五][）)][^。]{0,20}?[。．]?)?\s*(20\d\d)\s*年(?:度|以来)?\s*[，,]")
_THIS_YEAR = re.compile(r"(?:本年度|今年|本年)[（(]\s*(20\d\d)\s*年?\s*[)）]")


@check("T7")
def _t7(ctx: Context) -> Iterator[Finding]:
    year = ctx.data.year
    if year is None:
        return
    intro = str((import_info(ctx) or {}).get("intro") or "")
    parts: list[tuple[str | None, str, str]] = [(None, "报告开头", intro)] if intro else []
    parts += [(f.key, f"第一部分“{f.label}”", ctx.data.text(f.key)) for f in spec.narrative_fields("一")]
    for key, where, text in parts:
        if not text:
            continue
        hits: list[tuple[int, str]] = []
        for m in _PERIOD.finditer(text):
            hits += [(int(y), m.group(0)) for y in m.groups() if y]
        for para in text.split("\n"):
            m2 = _OPENING.match(para)
            if m2:
                hits.append((int(m2.group(1)), para[: m2.end()]))
        hits += [(int(m.group(1)), m.group(0)) for m in _THIS_YEAR.finditer(text)]
        for said, quote in hits:
            if said != year:
                yield ctx.finding("T7", key, sheet=None if key else spec.NARRATIVE_SHEET, cell=None if key else "",
                                  check=f"T7:{key or 'intro'}", where=where, said=said, quote=quote.strip(), year=year)
                break


_ALL_DONE = re.compile(r"(?:所有|全部|均已|均|已全部|全部均)[^，。；]{0,8}(?:申请)?[^，。；]{0,4}(?:办结|办理完毕|答复完毕)"
                       r"|无结转(?:至|到)?下一?年度?")


@check("T8")
def _t8(ctx: Context) -> Iterator[Finding]:
    carried = ctx.values.get("t3.carried_out.total")
    if not carried:
        return
    for f in spec.NARRATIVE_FIELDS:
        if f.key == "s5.last_year_fixes":
            continue
        text = ctx.data.text(f.key)
        for m in _ALL_DONE.finditer(text):
            lo = max(text.rfind(c, 0, m.start()) for c in "。；\n") + 1
            hi = min([i for i in (text.find(c, m.end()) for c in "。；\n") if i >= 0] or [len(text)])
            sentence = text[lo:hi + 1].strip()
            if re.search(r"上年|去年|20\d\d年", sentence) and str(ctx.data.year or "") not in sentence:
                continue
            if "依申请" not in sentence and "申请" not in sentence and "结转" not in sentence:
                continue
            yield ctx.finding("T8", f.key, check=f"T8:{f.key}", field=f.label, quote=sentence, carried=carried)
            return


# ---- the import's own findings ----------------------------------------------------------------------------------

@check("A7")
def _a7(ctx: Context) -> Iterator[Finding]:
    info = import_info(ctx)
    for n in (info or {}).get("notes", []):
        if n.get("kind") == "split":
            key = n.get("key") or None
            yield ctx.finding("A7", key if key in spec.DATA_CELLS else None, check=f"A7:{key}",
                              message=n["message"] + _at(n))


def _at(n: dict[str, Any]) -> str:
    return f"（原文位置：{n['where']}）" if n.get("where") else ""


def _wrap(rule_id: str, extra: Any) -> None:
    """Add the published-report part of an existing rule's check (the rule stays one catalogue entry)."""
    base = CHECKS[rule_id]

    def run(ctx: Context) -> Iterator[Finding]:
        yield from extra(ctx, base(ctx))

    run.__name__ = f"_{rule_id.lower()}_with_published"
    CHECKS[rule_id] = run


@cache
def _derived() -> frozenset[str]:
    return frozenset(spec.DERIVED_KEYS)


def _s2_published(ctx: Context, found: Iterator[Finding]) -> Iterator[Finding]:
    info = import_info(ctx)
    if info is None:
        yield from found
        return
    derived = _derived()
    # a published report prints its totals as numbers: that is no overwritten formula (A1/A2/A4 check them)
    yield from (f for f in found if f.key not in derived)
    for n in info.get("notes", []):
        if n.get("kind") == "label" and n.get("detail"):
            key = n.get("key") or None
            yield ctx.finding("S2", key if key in spec.DATA_CELLS else None, variant="label", severity=W,
                              check=f"S2:label:{key}", expected=n["detail"].get("expected", ""),
                              actual=n["detail"].get("actual", ""))


def _v2_published(ctx: Context, found: Iterator[Finding]) -> Iterator[Finding]:
    yield from found
    info = import_info(ctx)
    for n in (info or {}).get("notes", []):
        if n.get("kind") == "unit" and not n.get("key"):
            value = n.get("detail", {}).get("value", "")
            row = n.get("detail", {}).get("row", "")
            yield ctx.finding("V2", "t2.fees.amount", variant="unit", severity=W, check="V2:import:unit",
                              value=f"表二“{row}”写作“{value}”")


def _v3_published(ctx: Context, found: Iterator[Finding]) -> Iterator[Finding]:
    info = import_info(ctx)
    if info is None:
        yield from found
        return
    absent = set(info.get("absent", []))
    # cells the report's own (older) layout does not have are not blank: S3 names the layout
    yield from (f for f in found if f.key not in absent)
    # a published table prints its totals too: a blank 总计 is a blank cell as well (a workbook's are formulas)
    rows: dict[tuple[str, int], list[str]] = {}
    for key in spec.DERIVED_KEYS:
        if key in ctx.data.missing or key in absent or ctx.data.values.get(key) is not None:
            continue
        where = ctx.data.location(key)
        rows.setdefault((where.sheet, where.row), []).append(key)
    for keys in rows.values():
        cells = [ctx.data.location(k).a1 for k in keys]
        first = spec.DATA_CELLS[keys[0]]
        rng = cells[0] if len(cells) == 1 else f"{cells[0]}:{cells[-1]}"
        listed = "、".join(cells) if len(cells) <= 4 else f"{cells[0]} 至 {cells[-1]}"
        yield ctx.finding("V3", keys[0], cell=rng, labels=(first.row_label, ""), check=f"V3:{keys[0]}",
                          row=first.row_label or first.col_label, n=len(cells), cells=listed)


_wrap("S2", _s2_published)
_wrap("V3", _v3_published)
_wrap("V2", _v2_published)
