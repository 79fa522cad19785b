"""The 通报 draft: what the county office sends at the end of the round, naming by agency and by kind of defect
what was found, late or missing.

Developer note. Pure (no I/O). One small input model, :class:`Notice` (one :class:`NoticeEntry` per roster
agency, in roster order), made by two builders -- :func:`from_board` (the county server's board rows with the
check kept with each agency's newest version) and :func:`from_collect` (the file-based ``xl-addin collect``) --
and one document builder, :func:`build`, giving the project's :class:`~xl_addin.report_doc.Document`, which the
Word writer lays out as GB/T 9704 (the HTML and text writers take it too).

- Kinds of defect are the catalogue's entries (:mod:`xl_addin.catalogue`), grouped by the catalogue's group and
  named by the entry's title and code: no second copy of a rule title lives here. Errors and warnings are
  defects; 提示 (info) findings are hints, not named in a 通报.
- The server keeps only workbooks without errors, so there the defects are the warnings of each agency's newest
  version (the accepted one, once accepted); the file-based round names every error and warning of the file used.
- Sections 三 (被退回未及时修改) and 四 (发布稿与审核通过稿不一致) need the server's review and publication check;
  a notice made from ``collect`` leaves them out and the sections after them are numbered on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from . import catalogue, report_doc
from .catalogue import Group
from .collect import CollectResult, Timeliness, Verdict
from .collect import State as FileState
from .model import Severity
from .review import Published, State, Status
from .spec import FORMAT_BASIS

#: the levels a 通报 names (提示 is a hint to look at, not a defect)
DEFECT_LEVELS: Final = frozenset({Severity.ERROR, Severity.WARNING})
#: a coordinator's reason longer than this is cut (the draft names it; the office has the full text on the board)
MAX_REASON_CHARS: Final = 120
#: what the office fills in before sending
BLANK_DATE: Final = "×月×日"
DEFAULT_ADDRESSEE: Final = "各乡镇人民政府，县直各单位："


# ---- the input model ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Defect:
    """One kind of defect in one agency's report: a catalogue entry and how many findings of it."""

    code: str  # the catalogue entry ("A1", "S2.literal")
    count: int

    @property
    def entry(self) -> catalogue.Entry:
        return catalogue.entry(self.code)


@dataclass(frozen=True)
class NoticeEntry:
    """One roster agency as the 通报 sees it."""

    agency: str
    submitted: bool
    #: 按时/逾期 of the first submission, 逾期未交/未到期 when nothing came; None: no deadline known
    timely: Timeliness | None
    #: accepted by the coordinator (server), or checked without errors (file-based round)
    approved: bool
    defects: tuple[Defect, ...] = ()
    #: returned by the coordinator and not resubmitted since, with the coordinator's reasons
    returned: bool = False
    reasons: tuple[str, ...] = ()
    #: the publication check of the accepted version (None: not published, or not known)
    published: Published | None = None

    @property
    def late(self) -> bool:
        return self.submitted and self.timely is Timeliness.LATE

    @property
    def overdue(self) -> bool:
        return not self.submitted and self.timely is Timeliness.OVERDUE


@dataclass(frozen=True)
class Notice:
    """Every roster agency of the round (roster order). ``reviewed``: the round had the server's review and
    publication check (returns, acceptance, published status); False for the file-based round."""

    entries: tuple[NoticeEntry, ...]
    reviewed: bool
    year: int | None = None
    #: an auditor's run over published reports (``xl-addin audit``): no roster and no deadline; an entry is one
    #: report, ``submitted`` False for one that could not be read; the defects are listed by kind and by unit
    audited: bool = False

    @property
    def counts(self) -> NoticeCounts:
        e = self.entries
        return NoticeCounts(expected=len(e), submitted=sum(x.submitted for x in e),
                            on_time=sum(x.submitted and x.timely is Timeliness.ON_TIME for x in e),
                            late=sum(x.late for x in e), missing=sum(not x.submitted for x in e),
                            approved=sum(x.approved for x in e), returned=sum(x.returned for x in e),
                            failed=sum(x.submitted and not x.approved for x in e))


@dataclass(frozen=True)
class NoticeCounts:
    expected: int  # 应报
    submitted: int  # 已报
    on_time: int  # 按时
    late: int  # 逾期（报送）
    missing: int  # 未报
    approved: int  # 审核通过
    returned: int  # 被退回未改
    failed: int  # submitted but not approved (file-based: 未通过校验)


def defects_of(findings: Iterable[Mapping[str, Any]]) -> tuple[Defect, ...]:
    """The defects of a check's findings in the ``Report.to_dict()`` shape (``code``, else ``rule``; ``severity``),
    in catalogue order. A code the catalogue does not know (a summary kept by another version of the toolkit)
    counts as its rule's main entry, or is left out when the rule is unknown too."""
    counts: dict[str, int] = {}
    for f in findings:
        code = str(f.get("code") or f.get("rule") or "")
        if code not in catalogue.CATALOGUE:
            code = code.partition(".")[0]
            if code not in catalogue.CATALOGUE:
                continue
        if catalogue.entry(code).severity in DEFECT_LEVELS:
            counts[code] = counts.get(code, 0) + 1
    order = {c: i for i, c in enumerate(catalogue.CATALOGUE)}
    return tuple(Defect(c, n) for c, n in sorted(counts.items(), key=lambda cn: order[cn[0]]))


# ---- from the county server's board ---------------------------------------------------------------------------

class VersionLike(Protocol):
    @property
    def number(self) -> int: ...


class BoardRowLike(Protocol):
    """What :func:`from_board` reads of a board row (``xl_addin.adapters.roundstore.BoardRow``)."""

    @property
    def name(self) -> str: ...

    @property
    def status(self) -> Status: ...

    @property
    def versions(self) -> Sequence[VersionLike]: ...

    @property
    def timely(self) -> Timeliness | None: ...


#: (agency, version number) -> the check kept with that version (``RoundStore.summary``)
SummaryOf = Callable[[str, int], Mapping[str, Any]]


def from_board(rows: Sequence[BoardRowLike], summary: SummaryOf, *, year: int | None = None) -> Notice:
    """The notice of the server's round: ``rows`` as ``RoundStore.board()`` gives them, ``summary`` the store's
    ``summary`` (read for each agency's newest version only)."""
    out = []
    for r in rows:
        st = r.status
        defects: tuple[Defect, ...] = ()
        if r.versions:
            found = summary(r.name, r.versions[-1].number).get("findings") or ()
            defects = defects_of(f for f in found if isinstance(f, Mapping))
        out.append(NoticeEntry(r.name, bool(r.versions), r.timely, st.state is State.ACCEPTED, defects,
                               st.state is State.RETURNED, tuple(st.reasons) if st.state is State.RETURNED else (),
                               st.published if st.state is State.ACCEPTED else None))
    return Notice(tuple(out), reviewed=True, year=year)


# ---- from the file-based collect ------------------------------------------------------------------------------

def from_collect(result: CollectResult) -> Notice:
    """The notice of a file-based round (``xl-addin collect``): one entry per roster row; the defects are the
    findings of the file used for the agency."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for x in result.findings:
        if x.used:
            found.setdefault(x.agency, []).append({"code": x.finding.code or x.finding.rule,
                                                   "severity": x.finding.severity.value})
    out = []
    for r in result.rows:
        if not r.seq:  # a file not used
            continue
        submitted = r.state is FileState.SUBMITTED
        out.append(NoticeEntry(r.agency, submitted, r.timely, r.verdict is Verdict.PASS,
                               defects_of(found.get(r.agency, ())) if submitted else ()))
    return Notice(tuple(out), reviewed=False, year=result.year)


# ---- the document ---------------------------------------------------------------------------------------------

ORDINALS: Final = "一二三四五六七八九十"


def _clean(text: str) -> str:
    """One line of text safe for the document (a roster or a reason may hold control characters, line breaks)."""
    return " ".join(report_doc.clean(text).split())


def _names(entries: Iterable[NoticeEntry]) -> str:
    return "、".join(_clean(e.agency) for e in entries)


def _reason(text: str) -> str:
    t = _clean(text).rstrip("。；;，,")
    return t if len(t) <= MAX_REASON_CHARS else t[:MAX_REASON_CHARS] + "……"


def title_lines(county: str, year: int | None, *, audited: bool = False) -> tuple[str, str]:
    """The title in two lines, broken where the words allow (GB/T 9704: 词意完整，排列对称)."""
    yr = f"{year}年度" if year else ""
    return f"关于{county}{yr}政府信息公开工作", "年度报告审核情况的通报" if audited else "年度报告报送情况的通报"


def opening(n: Notice, county: str, as_of: str) -> str:
    c = n.counts
    yr = f"{n.year}年度" if n.year else "本年度"
    if n.audited:
        return (f"根据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开工作年度报告格式》（{FORMAT_BASIS}）要求，"
                f"{county}对已发布的{yr}政府信息公开工作年度报告进行了审核。截至{as_of}，共审核{c.expected}份，"
                f"其中审核通过{c.approved}份，未通过{c.failed}份，无法读取{c.missing}份。现将有关情况通报如下。")
    head = (f"根据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开工作年度报告格式》（{FORMAT_BASIS}）要求，"
            f"{county}组织开展了{yr}政府信息公开工作年度报告报送和审核工作。")
    counts = (f"截至{as_of}，应报{c.expected}家，已报{c.submitted}家，其中按时报送{c.on_time}家、逾期报送{c.late}家；"
              f"未报{c.missing}家。")
    if n.reviewed:
        counts += f"审核通过{c.approved}家，被退回未改{c.returned}家。"
    else:
        counts += f"经校验，审核通过{c.approved}家，未通过{c.failed}家。"
    return head + counts + "现将有关情况通报如下。"


def _late_section(n: Notice) -> list[report_doc.Block]:
    late = [e for e in n.entries if e.late]
    overdue = [e for e in n.entries if e.overdue]
    pending = [e for e in n.entries if not e.submitted and not e.overdue]
    paras: list[str] = []
    if late:
        paras.append(f"逾期报送（{len(late)}家）：{_names(late)}。")
    if overdue:
        paras.append(f"逾期未报送（{len(overdue)}家）：{_names(overdue)}。")
    if pending:
        paras.append(f"尚未报送（{len(pending)}家）：{_names(pending)}。")
    if not paras:
        return [report_doc.Para("各单位均按时报送了年度报告。", "notice.late")]
    return [report_doc.Para(f"（{ORDINALS[i]}）{p}", "notice.late") for i, p in enumerate(paras)]


def _kind_line(code: str, agencies: Sequence[tuple[str, int]]) -> str:
    e = catalogue.entry(code)
    who = "、".join(name + (f"（{k}处）" if k > 1 else "") for name, k in agencies)
    return f"{e.title}（{e.code}，{e.severity.zh}）：{who}。"


def _defects_section(n: Notice) -> list[report_doc.Block]:
    by_code: dict[str, list[tuple[str, int]]] = {}
    for e in n.entries:
        for d in e.defects:
            by_code.setdefault(d.code, []).append((_clean(e.agency), d.count))
    checked = sum(e.submitted for e in n.entries)
    whose = f"已读取的{checked}份" if n.audited else f"已报送的{checked}家单位的"
    if not by_code:
        return [report_doc.Para(f"对{whose}年度报告逐一审核，未发现问题。", "notice.defects")]
    with_defects = sum(bool(e.defects) for e in n.entries)
    blocks: list[report_doc.Block] = [report_doc.Para(
        f"对{whose}年度报告逐一审核，{with_defects}{'份' if n.audited else '家'}存在问题。按校验规则分类列示存在问题的单位如下"
        "（括号内为规则编号和问题级别，“错误”须改正，“警告”须核实）：", "notice.defects")]
    order = list(catalogue.CATALOGUE)
    groups = [g for g in Group if any(catalogue.entry(c).group is g for c in by_code)]
    for gi, g in enumerate(groups):
        blocks.append(report_doc.Heading(2, f"（{ORDINALS[gi]}）{g.zh}类问题", f"notice.group.{g.value}"))
        codes = sorted((c for c in by_code if catalogue.entry(c).group is g), key=order.index)
        blocks += [report_doc.Para(f"{i}. {_kind_line(c, by_code[c])}", f"notice.kind.{c}")
                   for i, c in enumerate(codes, start=1)]
    return blocks


def _units_section(n: Notice) -> list[report_doc.Block]:
    """An audit's defects by unit: each report with defects, its kinds of defect (title, code, how many)."""
    blocks: list[report_doc.Block] = []
    for e in (e for e in n.entries if e.defects):
        kinds = "；".join(f"{d.entry.title}（{d.code}{f'，{d.count}处' if d.count > 1 else ''}）" for d in e.defects)
        blocks.append(report_doc.Para(f"{len(blocks) + 1}. {_clean(e.agency)}：{kinds}。", "notice.unit"))
    return blocks or [report_doc.Para("各单位的年度报告均未发现问题。", "notice.unit")]


def _listed_section(entries: list[NoticeEntry], style: str, none: str, head: str, why_text: str) -> list[report_doc.Block]:
    """A numbered list of ``entries``, each with its reasons (``why_text`` holding ``{why}``), under ``head``
    (holding ``{n}``); ``none`` alone when there are none."""
    if not entries:
        return [report_doc.Para(none, style)]
    blocks: list[report_doc.Block] = [report_doc.Para(head.format(n=len(entries)), style)]
    for i, e in enumerate(entries, start=1):
        why = "；".join(_reason(r) for r in e.reasons if _clean(r))
        blocks.append(report_doc.Para(f"{i}. {_clean(e.agency)}" + (why_text.format(why=why) if why else "。"), style))
    return blocks


def _unreadable_section(n: Notice) -> list[report_doc.Block]:
    """An audit's reports that could not be read, each with why (the office checks them by hand)."""
    return _listed_section([e for e in n.entries if not e.submitted], "notice.unreadable", "所有年度报告均已读取。",
                           "以下{n}份年度报告无法读取，请人工核对：", "（{why}）。")


def _returned_section(n: Notice) -> list[report_doc.Block]:
    return _listed_section([e for e in n.entries if e.returned], "notice.returned", "被退回的年度报告均已修改并重新报送。",
                           "以下{n}家单位的年度报告被退回后，至今未修改重新报送：", "。退回理由：{why}。")


def _published_section(n: Notice) -> list[report_doc.Block]:
    differs = [e for e in n.entries if e.published is Published.DIFFERS]
    unpublished = [e for e in n.entries if e.approved and e.published is None]
    matching = [e for e in n.entries if e.published is Published.MATCH]
    paras: list[str] = []
    if differs:
        paras.append(f"经比对，以下{len(differs)}家单位在政府网站发布的年度报告与审核通过稿不一致：{_names(differs)}。")
    elif matching:
        paras.append(f"经比对，已发布的{len(matching)}家单位的年度报告与审核通过稿一致。")
    if not any(e.approved for e in n.entries):
        paras.append("尚无审核通过的年度报告。")
    if unpublished:
        paras.append(f"审核通过但尚未发布（或尚未登记发布情况）的单位（{len(unpublished)}家）：{_names(unpublished)}。")
    return [report_doc.Para(p, "notice.published") for p in paras]


def _next_steps(n: Notice, office: str) -> list[report_doc.Block]:
    if n.audited:
        return [
            report_doc.Para(f"存在上述问题的单位，请对照本通报逐项核实，及时更正政府网站发布的年度报告，并于{BLANK_DATE}前将"
                            f"整改情况报{office}。【此处可补充其他工作要求。】", "notice.next"),
            report_doc.Para("联系人：××；联系电话：××××××××。", "notice.contact"),
        ]
    who = "逾期报送、未报送" + ("和被退回未修改" if n.reviewed else "和审核未通过") + "的单位"
    fix = "；发布稿与审核通过稿不一致的单位，请及时更正政府网站发布的年度报告" if n.reviewed else ""
    return [
        report_doc.Para(f"请{who}于{BLANK_DATE}前完成报送或修改；存在上述问题的单位，请对照本通报逐项核实整改{fix}，"
                        f"并于{BLANK_DATE}前将整改情况报{office}。【此处可补充其他工作要求。】", "notice.next"),
        report_doc.Para("联系人：××；联系电话：××××××××。", "notice.contact"),
    ]


def build(n: Notice, *, county: str, year: int | None = None, office: str = "", date: dt.date | None = None,
          addressee: str = DEFAULT_ADDRESSEE) -> report_doc.Document:
    """The 通报 draft. ``county``: the county's name ("将乐县"); ``year``: the report year (else the notice's);
    ``office``: who sends it (default: the county's 人民政府办公室); ``date``: the date of the notice (None: left
    blank, to be filled in by hand, and the counts are "截至目前")."""
    county = _clean(county)
    year = year if year is not None else n.year
    n = Notice(n.entries, n.reviewed, year, n.audited)
    office = _clean(office) or f"{county}人民政府办公室"
    as_of = f"{date.year}年{date.month}月{date.day}日" if date else "目前"
    blocks: list[report_doc.Block] = [report_doc.Para(_clean(addressee), "notice.addressee", flush=True),
                                      report_doc.Para(opening(n, county, as_of), "opening")]
    sections: list[tuple[str, list[report_doc.Block]]] = [("未按时报送", _late_section(n)),
                                                          ("审核发现的问题", _defects_section(n))]
    if n.audited:
        sections = [("审核发现的问题（按问题类别）", _defects_section(n)), ("各单位存在的问题", _units_section(n)),
                    ("无法读取的年度报告", _unreadable_section(n))]
    elif n.reviewed:
        sections += [("被退回未及时修改", _returned_section(n)), ("发布稿与审核通过稿不一致", _published_section(n))]
    sections.append(("下一步要求", _next_steps(n, office)))
    for i, (head, body) in enumerate(sections):
        blocks.append(report_doc.Heading(1, f"{ORDINALS[i]}、{head}"))
        blocks += body
    blocks.append(report_doc.Signature(office, f"{date.year}年{date.month}月{date.day}日" if date
                                       else report_doc.DATE_BLANK))
    first, second = title_lines(county, year, audited=n.audited)
    title = report_doc.Title(first, second)
    return report_doc.Document(title, tuple(blocks), report_doc.safe_name(title.text, "通报"), author=office)
