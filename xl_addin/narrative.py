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


# ---- numbering pasted into a 正文 cell ------------------------------------------------------------------------

#: a paragraph's leading numbering: （一） / (1) / 一、 / 1. / 第一部分
_LEADING_NUMBER = re.compile(r"^\s*((?:[（(](?:[一二三四五六七八九十]{1,3}|\d{1,2})[）)])"
                             r"|(?:[一二三四五六七八九十]{1,3}|\d{1,2})[、．.](?!\d)"
                             r"|第[一二三四五六七八九十]{1,3}(?:部分|项)[、．.：:]?)\s*")
#: what a report's own sub-heading for a 正文 field names (any one of these, or the field's label)
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


def strip_numbering(field_key: str, text: str) -> tuple[str, list[str]]:
    """``text`` without the leading numbering that duplicates the report's own sub-heading for the 正文 field
    ``field_key`` ("（一）主动公开情况。…" -> "主动公开情况。…": the template's own row already stands for that
    heading), and the pieces removed ([] when nothing was). Only the number goes: the heading's words stay (the
    presence checks read them). A list's numbering ("1、进一步加强…", naming no heading of the field) is kept."""
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
