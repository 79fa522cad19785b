"""Drafted sentences: the number-bearing sentences of 一（依申请公开） and of 四, declared as data.

A :class:`Draft` is a list of segments -- literal text, a number (the sum of one or more table keys), or a
condition on such a number -- so the same declaration is rendered here in Python (for the export) and compiled
by :func:`draft_formula` into one Excel formula over the template's defined names (for the workbook, next to
the clerk's text). The formula uses only string literals, ``&``, ``+`` and ``IF``: Excel, WPS and LibreOffice
compute it alike (a blank count cell reads as 0 through ``+0``).

The wording matches what :mod:`xl_addin.quotes` reads back (rule T1): a draft never contradicts its tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import spec

Number = int | float


@dataclass(frozen=True)
class Num:
    """The sum of table keys, shown as a whole number."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class When:
    """``then`` when the sum of ``keys`` is greater than 0, else ``otherwise``."""

    keys: tuple[str, ...]
    then: tuple[Segment, ...]
    otherwise: tuple[Segment, ...] = ()


Segment = str | Num | When


@dataclass(frozen=True)
class Draft:
    id: str  # "s1.on_request", "t4"
    label: str  # what the draft is for, in Chinese
    #: the narrative field it can replace ("" when it is a sentence before a table)
    field: str
    #: the section it belongs to ("一", "四")
    section: str
    segments: tuple[Segment, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        """Every table key the draft reads."""
        out: list[str] = []

        def walk(segs: Sequence[Segment]) -> None:
            for s in segs:
                if isinstance(s, Num):
                    out.extend(s.keys)
                elif isinstance(s, When):
                    out.extend(s.keys)
                    walk(s.then)
                    walk(s.otherwise)

        walk(self.segments)
        return tuple(dict.fromkeys(out))


def _t3(row: str) -> tuple[str, ...]:
    return (f"t3.{row}.total",)


def _t3_group(prefix: str) -> tuple[str, ...]:
    """The 总计 keys of every row of one group of 三（三）–（六） (``refused`` -> refused_secret, ...)."""
    rows = [k.split(".")[1] for k in spec.DATA_CELLS if k.startswith(f"t3.{prefix}_") and k.endswith(".total")]
    return tuple(f"t3.{r}.total" for r in rows)


def _t4(result: str, groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"t4.{g}.{result}" for g in groups)


def _clause(keys: tuple[str, ...], text: str) -> When:
    """"，<text>N件" when N > 0."""
    return When(keys, ("，" + text, Num(keys), "件"))


#: the results of 三 a draft names, in official order: (keys, words)
T3_RESULT_CLAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (_t3("granted"), "予以公开"),
    (_t3("partial"), "部分公开"),
    (_t3_group("refused"), "不予公开"),
    (_t3_group("unable"), "无法提供"),
    (_t3_group("ignored"), "不予处理"),
    (_t3_group("other"), "其他处理"),
)

ON_REQUEST = Draft(
    "s1.on_request", "依申请公开（自动生成）", "s1.on_request", "一",
    (
        When(_t3("new"), ("本年度新收政府信息公开申请", Num(_t3("new")), "件"), ("本年度未收到政府信息公开申请",)),
        When(_t3("carried_in"), ("，上年结转政府信息公开申请", Num(_t3("carried_in")), "件。"), ("，无上年结转申请。",)),
        When(_t3("total"), ("本年度办结", Num(_t3("total")), "件",
                            *(_clause(keys, words) for keys, words in T3_RESULT_CLAUSES), "。")),
        When(_t3("carried_out"), ("结转下年度继续办理", Num(_t3("carried_out")), "件。"), ("无结转下年度继续办理的申请。",)),
    ),
)

_REVIEW = ("review",)
_SUITS = ("suit_direct", "suit_after_review")
#: group key -> the kind of case (the official top header of the group: 行政复议 / 行政诉讼)
_T4_KIND = {key: labels[0] for key, labels in spec.T4_GROUPS}
#: the four results of table 四 as the sentence names them: the official column labels, less 总计
T4_RESULT_WORDS = tuple((k, label) for k, label in spec.T4_RESULTS if k != "total")


def _cases(groups: tuple[str, ...], kind: str, when: str) -> When:
    total = _t4("total", groups)
    return When(total, (f"{when}发生政府信息公开{kind}案件", Num(total), "件",
                        *(_clause(_t4(k, groups), w) for k, w in T4_RESULT_WORDS)),
                (f"{when}未发生政府信息公开{kind}案件",))


REVIEWS_AND_SUITS = Draft(
    "t4", "行政复议、行政诉讼情况（自动生成）", "", "四",
    (_cases(_REVIEW, _T4_KIND["review"], "本年度"), "；", _cases(_SUITS, _T4_KIND["suit_direct"], ""), "。"),
)

DRAFTS: tuple[Draft, ...] = (ON_REQUEST, REVIEWS_AND_SUITS)

# ---- where the template shows them ----------------------------------------------------------------------------

#: the column of the narrative sheet that shows each draft, beside the clerk's text
DRAFT_COL = 4


def extra_first_row(layout: spec.Layout = spec.LAYOUT) -> int:
    """The first row of the drafts with no field (the sentence before table 四): below the narrative fields."""
    return spec.NARRATIVE_FIRST_ROW + len(spec.fields_of_layout(layout.version))


def draft_cells(layout: spec.Layout = spec.LAYOUT) -> dict[str, tuple[str, str]]:
    """draft id -> (sheet, A1) of the locked formula cell that shows it in the template of ``layout``."""
    col = spec.col_letter(DRAFT_COL)
    out: dict[str, tuple[str, str]] = {}
    extra = extra_first_row(layout)
    for d in DRAFTS:
        if d.field:
            row = layout.locations[d.field].row
        else:
            row, extra = extra, extra + 1
        out[d.id] = (spec.NARRATIVE_SHEET, f"{col}{row}")
    return out


def extra_rows(layout: spec.Layout = spec.LAYOUT) -> list[tuple[int, Draft]]:
    """(row, draft) of the drafts that have a row of their own."""
    cells = draft_cells(layout)
    return [(int(cells[d.id][1][len(spec.col_letter(DRAFT_COL)):]), d) for d in DRAFTS if not d.field]


def section_heading(number: str) -> str:
    return next(s.heading for s in spec.SECTIONS if s.number == number)


# ---- rendering ------------------------------------------------------------------------------------------------

def render(draft: Draft, number: Callable[[str], Number | None]) -> str | None:
    """The draft's text for the numbers ``number(key)``; None when a number it needs is not usable."""

    def total(keys: tuple[str, ...]) -> Number | None:
        s: Number = 0
        for k in keys:
            v = number(k)
            if v is None:
                return None
            s += v
        return s

    def run(segs: Sequence[Segment]) -> str | None:
        parts: list[str] = []
        for s in segs:
            if isinstance(s, str):
                parts.append(s)
                continue
            n = total(s.keys)
            if n is None:
                return None
            if isinstance(s, Num):
                parts.append(_show(n))
            else:
                sub = run(s.then if n > 0 else s.otherwise)
                if sub is None:
                    return None
                parts.append(sub)
        return "".join(parts)

    return run(draft.segments)


def _show(n: Number) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


# ---- the Excel formula ----------------------------------------------------------------------------------------

#: Excel's limit on one string literal in a formula
MAX_LITERAL = 255
#: Excel's limit on a formula's length
MAX_FORMULA = 8192


def _lit(s: str) -> str:
    if len(s) > MAX_LITERAL:
        raise ValueError(f"literal longer than {MAX_LITERAL} characters: {s[:20]}…")
    return '"' + s.replace('"', '""') + '"'


def _sum(keys: tuple[str, ...]) -> str:
    return "(" + "+".join(spec.defined_name(k) for k in keys) + "+0)"


def _concat(segs: Sequence[Segment]) -> str:
    if not segs:
        return '""'
    merged: list[Segment] = []
    for s in segs:  # adjacent literals become one
        if isinstance(s, str) and merged and isinstance(merged[-1], str):
            merged[-1] = merged[-1] + s
        else:
            merged.append(s)
    out = []
    for s in merged:
        if isinstance(s, str):
            out.append(_lit(s))
        elif isinstance(s, Num):
            out.append(_sum(s.keys))
        else:
            out.append(f"IF({_sum(s.keys)}>0,{_concat(s.then)},{_concat(s.otherwise)})")
    return "&".join(out)


def draft_formula(draft: Draft) -> str:
    """The draft as one Excel formula over the defined names ``xa_<key>`` (``=IF((xa_t3_new_total+0)>0,...)``).

    Only literals, ``&``, ``+`` and ``IF``: the result is the same text :func:`render` gives, in Excel, WPS and
    LibreOffice. A count cell holding text makes the formula show #VALUE! (V1 reports the cell)."""
    f = "=" + _concat(draft.segments)
    if len(f) > MAX_FORMULA:
        raise ValueError(f"formula of draft {draft.id} is {len(f)} characters long")
    return f
