"""Presence checks on the narrative sections (一, 五, 六), by dedicated input cells and keywords."""

from __future__ import annotations

import re

from . import spec
from .model import ReportData

#: texts that say nothing
_PLACEHOLDER = re.compile(r"^[\s无略暂没有/／\-－—_、。.，,：:（）()]*$")

#: topic keywords: a topic counts as present when its own cell has text or any cell of the section names it
SECTION1_TOPICS: dict[str, tuple[str, ...]] = {
    "s1.proactive": ("主动公开",),
    # "政府信息公开申请": the wording of the drafted sentences (xl_addin.drafts) and of most reports
    "s1.on_request": ("依申请", "政府信息公开申请"),
    "s1.management": ("信息管理", "三审三校", "发布审核", "保密审查"),
    "s1.platform": ("平台建设", "网站建设", "新媒体", "网站集约化"),
    "s1.supervision": ("监督保障", "监督检查", "考核", "培训", "社会评议", "责任追究"),
}
SECTION6_TOPICS: dict[str, tuple[str, ...]] = {
    "s6.key_points": ("工作要点", "政务公开要点"),
    "s6.proposals": ("建议", "提案"),
    "s6.innovation": ("创新", "特色做法"),
}
GOVERNMENT_ITEMS = (("工作考核", ("考核",)), ("社会评议", ("评议",)), ("责任追究", ("责任追究", "追责")))
FEE_WORDS = ("信息处理费", "处理费")


def has_text(s: str) -> bool:
    return not _PLACEHOLDER.match(s)


def section_text(data: ReportData, section: str) -> str:
    return "\n".join(data.text(f.key) for f in spec.narrative_fields(section))


def _missing(data: ReportData, section: str, topics: dict[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    whole = section_text(data, section)
    out = []
    for key, words in topics.items():
        if has_text(data.text(key)) or any(w in whole for w in words):
            continue
        out.append((key, spec.FIELDS_BY_KEY[key].label))
    return out


def missing_section1_topics(data: ReportData) -> list[tuple[str, str]]:
    return _missing(data, "一", SECTION1_TOPICS)


def missing_section6_topics(data: ReportData) -> list[tuple[str, str]]:
    return _missing(data, "六", SECTION6_TOPICS)


def reports_fee(data: ReportData) -> bool:
    own = data.text("s6.fees")
    return (has_text(own) and own.strip() not in ("无",)) or any(w in section_text(data, "六") for w in FEE_WORDS)


def missing_government_items(data: ReportData) -> list[str]:
    text = section_text(data, "一")
    return [label for label, words in GOVERNMENT_ITEMS if not any(w in text for w in words)]


def section5_state(data: ReportData) -> str | tuple[str, str] | None:
    """"empty" when section 五 says nothing, (key, label) of a missing part, or None when complete."""
    problems, measures = data.text("s5.problems"), data.text("s5.measures")
    if not has_text(problems) and not has_text(measures) and not has_text(data.text("s5.last_year_fixes")):
        return "empty"
    for key, text in (("s5.problems", problems), ("s5.measures", measures)):
        if not has_text(text):
            return key, spec.FIELDS_BY_KEY[key].label
    return None


#: the narrative sections whose text is compared with last year's (X3)
PRIOR_SECTIONS = ("一", "五", "六")


def prior_text_key(section: str) -> str:
    """The key under which last year's text of narrative section 一/五/六 travels in ``ReportData.prior``."""
    return f"text.{section}"


def prior_texts(data: ReportData) -> dict[str, str]:
    """The texts of :data:`PRIOR_SECTIONS` in last year's report ``data``, by :func:`prior_text_key`: what this
    year's X3 compares with."""
    return {prior_text_key(number): section_text(data, number) for number in PRIOR_SECTIONS}


# ---- numbering pasted with the text (T9; stripped on export) ---------------------------------------------------

#: numbering a cell's first paragraph may start with, as pasted from a finished report: （二） / 二、 / (2) / 2.
NUMBERING = re.compile(r"^\s*((?:[（(][一二三四五六七八九十\d]{1,3}[）)])|(?:[一二三四五六七八九十]{1,3}[、．.])"
                       r"|(?:\d{1,2}[、．.](?!\d)))")
#: numbering a later paragraph may start with that has the form of the report's own headings (一、 / （三）); a
#: "1." list inside a cell is the clerk's own and is left alone
HEADING_NUMBERING = re.compile(r"^\s*((?:[（(][一二三四五六七八九十]{1,3}[）)])|(?:[一二三四五六七八九十]{1,3}[、．.]))")
#: what follows a pasted heading: its own end ("情况", "工作"), then punctuation or the end of the line -- a word
#: running on into the sentence ("1.主动公开政府信息57条") is the text itself, not a heading
_AFTER_HEADING = re.compile(r"^(?:情况|工作)?(?:[\s　：:。.，,；;、]+|$)")
#: a line this short (after its numbering) naming the field is a heading in other words ("（四）平台建设情况")
_HEADING_MAX = 12


def numbered_paragraphs(text: str) -> list[tuple[int, str]]:
    """(1-based paragraph number, numbering) of each paragraph of ``text`` that starts with numbering that looks
    pasted from a finished report: the first paragraph with any numbering (:data:`NUMBERING`), a later one with
    numbering of the report's own heading forms (:data:`HEADING_NUMBERING`). Rule T9 names them."""
    paras = [p for p in (line.strip() for line in text.replace("\r", "\n").split("\n")) if p]
    out = []
    for i, p in enumerate(paras, 1):
        m = (NUMBERING if i == 1 else HEADING_NUMBERING).match(p)
        if m:
            out.append((i, m.group(1)))
    return out


def _heading_words(field_key: str) -> tuple[str, ...]:
    """The words a pasted heading of the field may say: its label, its section's title, and the shorter forms
    reports use ("平台建设" for 政府信息公开平台建设)."""
    f = spec.FIELDS_BY_KEY[field_key]
    words = [f.label, *SECTION1_TOPICS.get(field_key, ()), *SECTION6_TOPICS.get(field_key, ())]
    words += [s.title for s in spec.SECTIONS if s.narrative and f in spec.narrative_fields(s.number)]
    return tuple(sorted({w for w in words if w}, key=len, reverse=True))


def _strip_heading(line: str, words: tuple[str, ...]) -> tuple[str, str] | None:
    """``line`` without a leading numbered heading of the field: (the rest, the heading removed), or None when the
    line does not start with one."""
    m = NUMBERING.match(line)
    if not m:
        return None
    after = line[m.end():].lstrip(" 　")
    for w in words:
        tail = _AFTER_HEADING.match(after[len(w):]) if after.startswith(w) else None
        if tail:
            end = len(line) - len(after) + len(w) + tail.end()
            return line[end:].strip(), line[:end].strip()
    if len(after) <= _HEADING_MAX and "。" not in after and any(w in after for w in words):
        return "", line.strip()  # a heading line in other words ("（四）平台建设情况")
    return None


def strip_numbering(field_key: str, text: str, *, keep_heading: bool = False) -> tuple[str, list[str]]:
    """``text`` of the narrative field ``field_key`` without the leading numbering that duplicates the heading the
    export gives the field ("（一）主动公开", "一、总体情况" of its section, "（四）平台建设情况：" ...), and the
    pieces removed, in order. Numbering not followed by the field's heading ("（一）工作人员不足" in a list of
    problems) is the clerk's own and stays; so does any text after a removed heading on its line.
    ``keep_heading`` (the importer): only the first heading's number goes, its words stay ("（一）主动公开情况。…" ->
    "主动公开情况。…"), as the report printed them and the presence checks read them."""
    if keep_heading:
        return _strip_number_only(field_key, text)
    words = _heading_words(field_key)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    removed: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        got = _strip_heading(line, words)
        if got is None:
            break
        rest, heading = got
        removed.append(heading)
        if rest:
            lines[i] = rest
            break
        i += 1
    if not removed:
        return text, []
    return "\n".join(lines[i:]).strip("\n"), removed


#: a paragraph's leading numbering as the importer takes it off: （一） / (1) / 一、 / 1. / 第一部分
_LEADING_NUMBER = re.compile(r"^\s*((?:[（(](?:[一二三四五六七八九十]{1,3}|\d{1,2})[）)])"
                             r"|(?:[一二三四五六七八九十]{1,3}|\d{1,2})[、．.](?!\d)"
                             r"|第[一二三四五六七八九十]{1,3}(?:部分|项)[、．.：:]?)\s*")
#: what a report's own sub-heading for a 正文 field names (any one of these, or the field's label): broader than
#: the export's :func:`_heading_words`, as only the number goes and the words stay
_FIELD_WORDS: dict[str, tuple[str, ...]] = {
    **SECTION1_TOPICS, **SECTION6_TOPICS,
    "s1.overview": ("总体", "概述", "基本情况"),
    "s5.problems": ("问题", "不足"),
    "s5.measures": ("措施", "整改", "改进"),
    "s5.last_year_fixes": ("整改", "上年"),
    "s6.fees": (*FEE_WORDS, "收费"),
    "s6.other": ("其他",),
}
#: a sub-heading is short: the words before its first full stop or colon
_HEADING_CHARS = 40


def _strip_number_only(field_key: str, text: str) -> tuple[str, list[str]]:
    """:func:`strip_numbering` with ``keep_heading``: "（一）主动公开方面。…" -> "主动公开方面。…". A list's
    numbering ("1、进一步加强…", naming no heading of the field) is kept."""
    m = _LEADING_NUMBER.match(text)
    if m is None:
        return text, []
    rest = text[m.end():]
    head = re.split(r"[。：:；;\n]", rest, maxsplit=1)[0]
    field = spec.FIELDS_BY_KEY.get(field_key)
    words = (*_FIELD_WORDS.get(field_key, ()), *((field.label,) if field is not None else ()))
    if not rest.strip() or len(head) > _HEADING_CHARS or not any(w in head for w in words):
        return text, []
    return rest, [m.group(1)]
