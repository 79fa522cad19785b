"""The figures a narrative quotes (rule T1): "新收政府信息公开申请3件", "无上年结转申请", "行政复议1件" ...

Pure text work: normalise full-width digits, cut the text into clauses at Chinese punctuation, and in each
clause read every "<number>件/宗/起" together with the topic keyword nearest before it. A clause about another
year (上年度 / 去年 / a year other than the report's) or about a change (同比增加 ...) is skipped; so is a number
no topic keyword precedes. Explicit zero phrases ("无上年结转申请", "未发生……行政诉讼") quote 0.

Precision first: a reading that is uncertain quotes nothing. A number inside a slogan ("办一件事、解决一个问题",
"一网通办", "一次办好") is no count; an approximate one ("约300件", "100件以上") is none either; a count of a part
of a row (by applicant: "自然人申请…"; by channel: "网上收到…"; by subject: "涉及…的申请") is not the row; a
negation that restricts itself to a part ("未发生…被纠错的情况", "没有…败诉") claims no 0 for the whole row.
:func:`scope_of` tells whom a sentence counts for (本级 or the whole region, 汇总; T1 compares it with the
report's scope).

Each :class:`Topic` names the table keys whose sum the quoted number must equal.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from . import spec


@dataclass(frozen=True)
class Topic:
    id: str
    label: str  # what is counted, for messages ("本年新收政府信息公开申请")
    keys: tuple[str, ...]  # the table keys whose sum the quoted number must equal
    #: keyword groups: every group must have a keyword in the clause before the number (alternatives inside)
    words: tuple[tuple[str, ...], ...]
    #: regular expressions of phrases that quote 0 ("无上年结转申请")
    zero: tuple[str, ...] = ()
    #: other key sets the phrase is written to mean in real reports ("收办 N 件" = 一 + 二 in some); a quote
    #: matching any reading is right
    alternatives: tuple[tuple[str, ...], ...] = ()

    @property
    def readings(self) -> tuple[tuple[str, ...], ...]:
        return (self.keys, *self.alternatives)


_APPLICATION = "政府信息公开申请"


def _sum_keys(prefix: str) -> tuple[str, ...]:
    """The 总计 keys of table 三's rows of one result group ("refused_" -> （三）1-8)."""
    return tuple(f"t3.{key}.total" for _, items in spec.T3_GROUPS for key, _, _ in items if key.startswith(prefix))


TOPICS: tuple[Topic, ...] = (
    Topic("carried_in", "上年结转的政府信息公开申请", ("t3.carried_in.total",),
          (("上年结转", "上年度结转", "上一年度结转", "上年度未办结"),), (r"无上一?年度?结转",)),
    Topic("carried_out", "结转下年度继续办理的申请", ("t3.carried_out.total",),
          (("结转下年", "结转下一年", "结转至下年", "结转至下一年", "转入下年", "结转到下年", "转下年度", "顺延到下年度"),),
          (r"无结转(?:至|到)?下一?年",)),
    Topic("new", "本年新收的政府信息公开申请", ("t3.new.total",),
          (("新收", "收到", "受理", "接收", "接到", "收办"), ("申请",)),
          (r"(?:未|没有)(?:新收|收到|受理|接到)[^，。；;,\d]{0,12}" + _APPLICATION,),
          alternatives=(("t3.new.total", "t3.carried_in.total"),)),
    Topic("concluded", "本年度办结的申请", ("t3.total.total",), (("办结", "办理完毕", "答复", "办理完成"),),
          alternatives=(("t3.new.total",), ("t3.new.total", "t3.carried_in.total"))),
    Topic("granted", "予以公开的申请", ("t3.granted.total",), (("予以公开",),),
          alternatives=(("t3.granted.total", "t3.partial.total"),)),
    Topic("granted_partial", "予以公开及部分公开的申请", ("t3.granted.total", "t3.partial.total"),
          (("予以公开及部分公开", "予以公开和部分公开", "公开及部分公开", "公开和部分公开", "全部或部分公开"),)),
    Topic("partial", "部分公开的申请", ("t3.partial.total",), (("部分公开",),)),
    Topic("refused", "不予公开的申请", _sum_keys("refused_"), (("不予公开",),)),
    Topic("unable", "无法提供的申请", _sum_keys("unable_"), (("无法提供",),),
          alternatives=tuple((k,) for k in _sum_keys("unable_"))),
    Topic("ignored", "不予处理的申请", _sum_keys("ignored_"), (("不予处理",),)),
    Topic("other_handled", "其他处理的申请", _sum_keys("other_"), (("其他处理",),)),
    Topic("review", "政府信息公开行政复议案件", ("t4.review.total",), (("行政复议",),),
          (r"(?:未|没有)(?:发生|收到|产生|涉及)[^，。；;,\d]{0,20}行政复议", r"无[^，。；;,\d]{0,12}行政复议")),
    Topic("suit", "政府信息公开行政诉讼案件", ("t4.suit_direct.total", "t4.suit_after_review.total"),
          (("行政诉讼",),),
          (r"(?:未|没有)(?:发生|收到|产生|涉及)[^，。；;,\d]{0,20}行政诉讼", r"无[^，。；;,\d]{0,12}行政诉讼")),
    Topic("rules_made", "本年制发的规章", ("t2.rules.made",), (("制发", "制定", "出台", "印发", "发布"), ("规章",))),
    Topic("rules_repealed", "本年废止的规章", ("t2.rules.repealed",), (("废止",), ("规章",))),
    Topic("normative_made", "本年制发的行政规范性文件", ("t2.normative.made",),
          (("制发", "制定", "出台", "印发", "发布"), ("规范性文件",))),
    Topic("normative_repealed", "本年废止的行政规范性文件", ("t2.normative.repealed",), (("废止",), ("规范性文件",))),
)

_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_CLAUSE = re.compile(r"[^，。；;,！!？?\n（）()【】“”\"、：:]+")
_CN_DIGITS = "零〇一二两三四五六七八九十百"
_NUMBER = re.compile(rf"(\d+|[{_CN_DIGITS}]+)\s*(?:件|宗|起|条)")
#: a clause with one of these is about a change or a rate, not a count
_SKIP_CHANGE = ("增加", "减少", "增长", "下降", "同比", "较上年", "比上年", "上升", "持平", "环比")
#: a clause with one of these is about another year
_OTHER_YEAR = ("上年度", "去年", "上一年", "前年", "下一年度将", "明年")
_YEAR = re.compile(r"(\d{4})\s*年")
#: slogans with a number in them: masked before reading ("办一件事", "一网通办", "最多跑一次", "一起", "一条龙")
_SLOGAN = re.compile(r"[一两二三四五六七八九十]件(?:事|实事|好事|大事)|一网(?:通办|统管|协同)|一次(?:办好|办成|办结|性)"
                     r"|最多跑一次|一窗(?:受理|通办|办理)?|一门式|一站式|一起|一条龙|一件一档|一事一议|一案一")
#: a number these precede or follow is an approximation, no count ("约300件", "近百件", "100件以上")
_ABOUT_BEFORE = ("约", "近", "逾", "超过", "不足", "不到", "将近", "多达")
#: before a number in Chinese numerals these make it vague ("数百件", "几十件", "上百件"); "申请数12件" is a count
_ABOUT_AFTER = ("以上", "左右", "以内", "以下", "上下", "余", "多")
#: a clause naming one of these before its number counts a part of the row (an applicant kind, a channel, a
#: subject): not the row's total
_PART_OF_ROW = ("自然人", "法人", "企业", "律师", "网上", "网络", "在线", "线上", "信函", "当面", "现场", "邮寄",
                "传真", "电子邮件", "邮件", "涉及", "关于", "有关")
#: a zero phrase followed in its sentence by one of these denies only a part of the row ("未发生…被纠错的情况")
_PART_DENIED = ("纠错", "纠正", "败诉", "撤销", "确认违法", "违法", "错误", "被认定", "重大", "负面", "舆情")


@dataclass(frozen=True)
class Quote:
    topic: Topic
    value: int
    text: str  # the clause it was read from
    start: int  # offset of the clause in the text
    sentence: str = ""  # the whole sentence (up to 。；) around the clause, for messages


def normalise(text: str) -> str:
    return text.translate(_FULLWIDTH)


def chinese_number(s: str) -> int | None:
    """Small Chinese numerals ("三", "十二", "二十", "一百零五"); digits pass through."""
    if s.isdecimal():  # not isdigit: int() cannot read "²"
        return int(s)
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    total, current = 0, 0
    for ch in s:
        if ch in digits:
            current = digits[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _last_keyword(topic: Topic, prefix: str) -> int:
    """End offset of the topic's nearest keyword in ``prefix`` (every group present), or -1."""
    ends = []
    for group in topic.words:
        best = max((prefix.rfind(w) + len(w) if w in prefix else -1 for w in group), default=-1)
        if best < 0:
            return -1
        ends.append(best)
    return min(ends) if len(ends) > 1 else ends[0]


def _about_other_year(clause: str, topic: Topic, year: int | None) -> bool:
    if topic.id != "carried_in" and any(w in clause for w in _OTHER_YEAR):
        return True
    return year is not None and any(int(y) != year for y in _YEAR.findall(clause))


#: a clause about a change or a rate (:data:`_SKIP_CHANGE`, a percent sign), in one search
_SKIP = re.compile("|".join(re.escape(w) for w in (*_SKIP_CHANGE, "%", "％")))
#: each topic's zero phrases, compiled; and all of them in one pattern, to pass over clauses quickly
_ZERO = tuple((topic, tuple(re.compile(z) for z in topic.zero)) for topic in TOPICS)
_ANY_ZERO = re.compile("|".join(f"(?:{z})" for topic in TOPICS for z in topic.zero))


def quotes(text: str, year: int | None = None) -> Iterator[Quote]:
    """Every figure ``text`` quotes for a topic of :data:`TOPICS`, in order."""
    return iter(_quotes(text, year))


@functools.lru_cache(maxsize=1024)
def _quotes(text: str, year: int | None) -> tuple[Quote, ...]:
    """:func:`quotes` as a tuple, remembered: a county's reports repeat many sentences word for word."""
    return tuple(_find_quotes(text, year))


_SENTENCE_ENDS = "。；;\n"


def _sentence_end(text: str, start: int) -> int | None:
    """The offset of the end of the sentence ``start`` is in (its 。；; or line break), None: the text's end."""
    ends = [i for i in (text.find(c, start) for c in _SENTENCE_ENDS) if i >= 0]
    return min(ends) if ends else None


def _sentence(text: str, start: int) -> str:
    lo = max(text.rfind(c, 0, start) for c in _SENTENCE_ENDS) + 1
    end = _sentence_end(text, start)
    return text[lo:(end + 1 if end is not None else len(text))].strip()


def _mask(text: str) -> str:
    """``text`` with every slogan's characters replaced (offsets kept): no number in it is read."""
    return _SLOGAN.sub(lambda m: "□" * len(m.group()), text)


def _approximate(clause: str, n: re.Match[str]) -> bool:
    before, after = clause[max(0, n.start() - 2):n.start()], clause[n.end():n.end() + 2]
    vague = not n.group(1).isdecimal() and before.endswith(("数", "几", "上"))
    return vague or any(before.endswith(w) for w in _ABOUT_BEFORE) or after.startswith(_ABOUT_AFTER)


def _denies_a_part(text: str, start: int) -> bool:
    """Whether the sentence from ``start`` on restricts a zero phrase to a part ("…被纠错的情况")."""
    rest = text[start:_sentence_end(text, start)]
    return any(w in rest for w in _PART_DENIED)


def _find_quotes(text: str, year: int | None) -> Iterator[Quote]:
    text = normalise(text)
    masked = _mask(text)
    for m in _CLAUSE.finditer(masked):
        clause = m.group()
        if _SKIP.search(clause):
            continue
        shown = text[m.start():m.end()].strip()
        numbers = list(_NUMBER.finditer(clause))
        if not numbers:
            if _ANY_ZERO.search(clause) is None:
                continue
            if _denies_a_part(text, m.start()):
                continue
            for topic, zero in _ZERO:
                if any(z.search(clause) for z in zero) and not _about_other_year(clause, topic, year):
                    yield Quote(topic, 0, shown, m.start(), _sentence(text, m.start()))
            continue
        lo = 0
        for n in numbers:
            prefix = clause[lo:n.start()]
            lo = n.end()
            value = chinese_number(n.group(1))
            if value is None or _approximate(clause, n) or any(w in prefix for w in _PART_OF_ROW):
                continue
            best: tuple[int, Topic] | None = None
            for topic in TOPICS:
                end = _last_keyword(topic, prefix)
                if end >= 0 and (best is None or end > best[0]):
                    best = (end, topic)
            if best is None or _about_other_year(clause, best[1], year):
                continue
            yield Quote(best[1], value, shown, m.start(), _sentence(text, m.start()))


# ---- whom a sentence counts for (T1 and the report's scope) ---------------------------------------------------------

BENJI, HUIZONG = spec.SCOPES
#: the one character naming a region's kind: 省, 市, 县 …
_PLACE = "[省市县区州旗盟]"
#: words that say a sentence counts the whole region (a 汇总 report's figures): 全县, 全市, 全区 …
_REGION = re.compile(rf"全{_PLACE}(?![长委])")
#: words that say a sentence counts one body's own handling (本级): 本机关, 我局, 县政府办, 代表县政府 …
_OWN = re.compile(r"本机关|本级|本行政机关|本单位|我单位|本部门|我部门|[我本](?:局|委|办|厅|署|院|中心)(?![长])"
                  rf"|{_PLACE}?(?:人民)?政府办(?:公室|公厅)?|办公厅|办公室"
                  rf"|代表{_PLACE}?(?:人民)?政府")


def scope_markers(text: str) -> Iterator[tuple[int, str, str]]:
    """(offset, scope, the words) of every scope marker in ``text``, in order."""
    marks = [(m.start(), HUIZONG, m.group()) for m in _REGION.finditer(text)]
    marks += [(m.start(), BENJI, m.group()) for m in _OWN.finditer(text)]
    return iter(sorted(marks))


def scope_of(text: str, start: int) -> tuple[str, str]:
    """Whom the sentence at offset ``start`` of ``text`` counts for: (``HUIZONG`` | ``BENJI`` | "", the words that
    say so). The nearest marker before ``start`` in its paragraph, else the first after it in its sentence; ("", "")
    when nothing says."""
    text = normalise(text)
    lo = text.rfind("\n", 0, start) + 1
    end = _sentence_end(text, start)
    hi = len(text) if end is None else end
    before: list[tuple[str, str]] = []
    after: list[tuple[str, str]] = []
    for at, scope, words in scope_markers(_mask(text[lo:hi])):
        (before if lo + at <= start else after).append((scope, words))
    if before:
        return before[-1]
    return after[0] if after else ("", "")
