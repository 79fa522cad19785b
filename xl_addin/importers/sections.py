"""A report's sections: the headings of its six statutory parts (found by what they say, not by their numbers:
reports number them differently), the lines each part spans, and the narrative parts split into the template's
fields. Tables are not found here: :mod:`.match` finds them by their own labels wherever they are; a caption
("表三：……") or a sub-heading numbered like a section inside the narrative is no section heading."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from .. import spec
from .document import Line, squash
from .match import ratio as _ratio


@dataclass(frozen=True)
class Heading:
    section: str  # the statutory number the heading stands for ("二")
    written: str  # the number as written ("一", "" when none)
    text: str
    index: int  # line index
    where: str



#: what a heading of each statutory section says (any one of these)
SECTION_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("一", ("总体情况", "基本情况", "总体概况")),
    ("二", ("主动公开政府信息", "主动公开情况")),
    ("三", ("收到和处理", "处理政府信息公开申请", "公开申请情况", "依申请公开政府信息情况")),
    ("四", ("行政复议、行政诉讼", "行政复议和行政诉讼", "行政复议及行政诉讼", "复议、诉讼")),
    ("五", ("存在的主要问题", "存在问题", "主要问题及", "问题及改进", "问题和改进", "问题及整改")),
    ("六", ("其他需要报告", "其他需报告")),
)
_NUMERAL = "一二三四五六七八九十"
_HEADING = re.compile(rf"^(?:第([{_NUMERAL}]+)部分[、.:：\s]*|([{_NUMERAL}]+)\s*[、.．:：]\s*|)(.*)$")
_SUBHEADING = re.compile(rf"^\s*[（(]([{_NUMERAL}]+)[）)]")

#: a table's caption ("表三：收到和处理政府信息公开申请情况", "附表2"): it names a table, it starts no section
_CAPTION = re.compile(rf"^(?:附?表[{_NUMERAL}\d]+|附表)")


def find_headings(lines: Sequence[Line]) -> list[Heading]:
    """The section headings, without the lines that only look like one: a table's caption, and a heading that
    numbers itself as another section ("四、政府信息公开申请情况" inside the narrative) when the report also has
    a heading for its section numbered as the format numbers it (:func:`_drop_impostors`)."""
    return _drop_impostors(_candidates(lines))


def _candidates(lines: Sequence[Line]) -> list[Heading]:
    out: list[Heading] = []
    for i, line in enumerate(lines):
        if line.cells is not None:
            continue
        text = squash(line.text)
        if not text or len(text) > 40 or _SUBHEADING.match(line.text) or _CAPTION.match(text):
            continue
        m = _HEADING.match(text)
        if m is None:
            continue
        written = m.group(1) or m.group(2) or ""
        if not written and (len(text) > 24 or re.search(r"\d", text) or not text.endswith(("情况", "事项", "问题"))):
            continue
        body = m.group(3)
        for number, words in SECTION_WORDS:
            if any(squash(w) in body for w in words):
                if number == "三" and ("数量" in body or "结转" in body):
                    break  # a row label of table 三 written as a paragraph
                prev = out[-1] if out else None
                if prev is not None and not written and prev.section == number and prev.index == i - 1:
                    # the rest of a heading broken over two lines (a <br>, a PDF's line end)
                    out[-1] = Heading(number, prev.written, prev.text + line.text, prev.index, prev.where)
                else:
                    out.append(Heading(number, written, line.text, i, line.where))
                break
    return out


def _drop_impostors(found: list[Heading]) -> list[Heading]:
    """Without a heading whose written number is another statutory section's while the report has a heading for
    the same section numbered right: a sub-heading of the narrative, not the section."""
    right = {h.section for h in found if h.written == h.section}
    return [h for h in found if not (h.written and h.written != h.section and h.section in right)]


def regions(lines: Sequence[Line], headings: Sequence[Heading]) -> dict[str, tuple[int, int]]:
    """Statutory section -> (first line, end line) of its body, for the first heading of each section: it ends at
    the next heading of another section (a repeated heading of the same section does not end it)."""
    out: dict[str, tuple[int, int]] = {}
    ordered = sorted(headings, key=lambda h: h.index)
    for n, h in enumerate(ordered):
        if h.section in out:
            continue
        end = next((o.index for o in ordered[n + 1:] if o.section != h.section), len(lines))
        out[h.section] = (h.index + 1, end)
    return out


# --------------------------------------------------------------------------------------------------------------
# Narrative splitting
# --------------------------------------------------------------------------------------------------------------

_PARA_START = re.compile(rf"^\s*(?:[（(][{_NUMERAL}]+[）)]|[{_NUMERAL}]+是|\d+[.、．])")


def paragraphs(lines: Sequence[Line], wrapped: bool) -> list[str]:
    """The section's paragraphs. ``wrapped``: lines are a PDF's, cut at the page width -- joined, and a new
    paragraph starts at a numbered sub-heading or after a line ending a sentence well short of the width."""
    texts = [ln.text if ln.cells is None else " ".join(c for c in ln.cells if c) for ln in lines]
    texts = [t.strip() for t in texts if t.strip()]
    if not wrapped:
        return texts
    out: list[str] = []
    width = max((len(t) for t in texts), default=0)
    last_line = ""
    for t in texts:
        ends_short = last_line.endswith(("。", "：", ":", "；")) and len(last_line) < width * 0.9
        heading_before = bool(out) and _HEADING_ONLY.match(out[-1]) is not None and (
            len(last_line) < width * 0.7 or _names_a_field(out[-1]))
        if out and not _PARA_START.match(t) and not ends_short and not heading_before:
            out[-1] += t
        else:
            out.append(t)
        last_line = t
    return [_unspace(p) for p in out]


@cache
def _part_labels(section: str = "") -> tuple[tuple[str, str], ...]:
    """(label squashed, key) of the narrative fields that are parts (not a lead paragraph): of ``section``, or of
    every section."""
    fields = spec.narrative_fields(section) if section else spec.NARRATIVE_FIELDS
    return tuple((squash(f.label), f.key) for f in fields if not f.lead)


def _names_a_field(heading: str) -> bool:
    m = _HEADING_ONLY.match(heading)
    head = squash(m.group(1)) if m else ""
    return any(_ratio(head, label) >= 0.9 for label, _ in _part_labels())


def _unspace(s: str) -> str:
    """Spaces a PDF puts between CJK characters and around digits dropped ("2023 年" -> "2023年")."""
    return re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+(?=\d)|(?<=\d)\s+(?=[^\x00-\x7f])", "", s)


_S1_TOPICS = (("s1.on_request", ("依申请",)), ("s1.proactive", ("主动公开",)),
              ("s1.management", ("信息管理", "政府信息管理")),
              ("s1.platform", ("平台",)), ("s1.supervision", ("监督", "保障")))
_S5_TOPICS = (("s5.last_year_fixes", ("上年度问题", "上一年度问题", "上年度存在问题", "整改情况")),
              ("s5.measures", ("措施", "改进", "整改", "下一步", "工作打算", "计划")),
              ("s5.problems", ("问题", "不足")))
_S6_TOPICS = (("s6.fees", ("处理费", "收费", "收取")), ("s6.key_points", ("工作要点", "政务公开要点")),
              ("s6.proposals", ("建议", "提案")), ("s6.innovation", ("创新", "特色")))
_TOPICS = {"一": _S1_TOPICS, "五": _S5_TOPICS, "六": _S6_TOPICS}
_HEADING_ONLY = re.compile(rf"^\s*(?:[（(][{_NUMERAL}]+[）)]|[{_NUMERAL}]+[、.．])\s*([^。；;]{{1,40}}?)[。.]?\s*$")


def _heading_field(p: str, section: str) -> str | None:
    """The field a paragraph that is only a sub-heading ("（二）依申请公开") opens: by the official field label,
    else by topic words."""
    m = _HEADING_ONLY.match(p)
    if m is None:
        return None
    head = squash(m.group(1))
    best = max(((_ratio(head, label), key) for label, key in _part_labels(section)), default=(0.0, ""))
    if best[0] >= 0.75:
        return best[1]
    hits = [(head.find(w), key) for key, words in _TOPICS[section] for w in words if w in head]
    return min(hits)[1] if hits else None


def _subheading_topic(p: str, topics: Sequence[tuple[str, tuple[str, ...]]], span: int = 24) -> str | None:
    m = _SUBHEADING.match(p) or re.match(rf"^\s*[{_NUMERAL}]+[、.．]|^\s*\d+[.、．]", p)
    if not m:
        return None
    head = p[: m.end() + span]
    head = re.split(r"[。；]", head)[0]
    hits = [(head.find(w), key) for key, words in topics for w in words if w in head]
    return min(hits)[1] if hits else None


def _split_parts(paras: Sequence[str], section: str, span: int,
                 before: Callable[[str, dict[str, list[str]]], str]) -> dict[str, str]:
    """A narrative section's paragraphs by field: a part's sub-heading (by its official label, else by topic
    words within ``span`` characters of its numbering) opens that field, and the paragraphs after it follow;
    ``before(p, out)`` places a paragraph that comes before any part and gives the field that continues after it
    ("" for none yet)."""
    out: dict[str, list[str]] = {}
    current = ""
    for p in paras:
        h = _heading_field(p, section)
        if h is not None:
            current = h
            continue
        t = _subheading_topic(p, _TOPICS[section], span)
        if t is not None:
            current = t
        if current:
            out.setdefault(current, []).append(p)
        else:
            current = before(p, out)
    return {k: "\n".join(v) for k, v in out.items()}


def _lead(section: str) -> Callable[[str, dict[str, list[str]]], str]:
    """What a section says before its first part is its lead paragraph (or, with no lead field, its first part)."""
    lead = spec.lead_field(section)
    key = lead.key if lead is not None else spec.narrative_fields(section)[0].key

    def place(p: str, out: dict[str, list[str]]) -> str:
        out.setdefault(key, []).append(p)
        return ""

    return place


def split_section1(paras: Sequence[str]) -> dict[str, str]:
    return _split_parts(paras, "一", 24, _lead("一"))


_MEASURES_START = re.compile(r"下一步|针对[^。]{0,12}问题|改进措施|整改措施|今后|新的一年|20\d\d年[，,]?(?:我|本)?[^。]{0,6}将")


def _problems_then_measures(p: str, out: dict[str, list[str]]) -> str:
    """Section 五 without sub-headings: problems until the measures start (下一步, 针对……问题 …), then measures."""
    m = _MEASURES_START.search(p)
    if m is None:
        out.setdefault("s5.problems", []).append(p)
        return ""
    cut = max(p.rfind("。", 0, m.start()) + 1, 0)
    if p[:cut].strip():
        out.setdefault("s5.problems", []).append(p[:cut])
    out.setdefault("s5.measures", []).append(p[cut:])
    return "s5.measures"


def split_section5(paras: Sequence[str]) -> dict[str, str]:
    return _split_parts(paras, "五", 12, _problems_then_measures)


def split_section6(paras: Sequence[str]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    current = ""
    for p in paras:
        h = _heading_field(p, "六")
        if h is not None:
            current = h
            continue
        if current:  # the report has the official sub-headings: paragraphs follow them
            out.setdefault(current, []).append(p)
            continue
        for sentence in re.findall(r"[^。；;]+[。；;]?", p):
            s = sentence.strip()
            if not s:
                continue
            key = next((k for k, words in _S6_TOPICS if any(w in s for w in words)), "s6.other")
            out.setdefault(key, []).append(s)
    return {k: "\n".join(v) if current else "".join(v) for k, v in out.items()}

