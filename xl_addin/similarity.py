"""Copying in the narrative: how much of a text repeats another, and which units of one parent copied each other.

Two uses, one measure:

- X3 (year-on-year): the share of this year's section that repeats last year's same section. 考核 rules count a
  report as 雷同 when more than half of it is repeated (one city's rule: 50 %); the bar is a threshold of the rule
  profile (:mod:`xl_addin.profiles`, ``X3.repeated_percent``).
- Cross-unit (``collect``): units of the same year and the same parent whose sections are near copies of each
  other's, with the passages side by side (:func:`similar_pairs`).

The measure is an alignment, not a bag of pieces: :func:`align` tiles the first text with the longest runs it
shares with the second (each stretch of the second used at most once, in any order, so a reordered copy counts
and a sentence said twice counts once), not counting the boilerplate every unit legitimately shares
(:data:`BOILERPLATE`: the official headings and labels, the law's and the format's names, the fee sentence, the
statistic period: runs may cross them, they never count as repeated). Candidate pairs come from an inverted
index of character n-grams per peer group, so a county of 60 units or a province of thousands costs what the
texts they share cost, not the square of their number.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from . import narrative, spec

#: a run shorter than this many characters (whitespace and boilerplate removed) is not a repetition: set phrases
#: such as “政府信息公开申请” (8) repeat in every report
MIN_RUN = 12
#: X3's national bar (issue 22: one city's 考核 rule, "more than 50 % repeated" = 雷同), in percent of this year's
#: section; a profile's ``X3.repeated_percent`` replaces it
X3_REPEATED_PERCENT = 50
#: the cross-unit bar, in percent of the shorter section; a profile's ``cross_unit.repeated_percent`` replaces it
CROSS_UNIT_PERCENT = 50
#: a section shorter than this (characters, whitespace and boilerplate removed) is not compared
MIN_CHARS = 60
#: an n-gram found in more units of one group than this is the group's common phrasing, not evidence of a copy:
#: it is left out of the candidate index (it still counts in the alignment of a candidate pair)
MAX_SHARED_BY = 50
#: two tiles this close in both texts show as one passage
_JOIN_GAP = 24

# ---- boilerplate, as data -----------------------------------------------------------------------------------------

#: phrases every unit writes because the format, the law or the fee rules make it (FORMAT.md, the examples)
BOILERPLATE_PHRASES: tuple[str, ...] = (
    "《中华人民共和国政府信息公开条例》", "中华人民共和国政府信息公开条例", "（国务院令第711号）", "（国令第711号）",
    "（以下简称《条例》）", "国办公开办函〔2021〕30号", "《中华人民共和国政府信息公开工作年度报告格式》",
    "《政府信息公开信息处理费管理办法》", "国办函〔2020〕109号", "政府信息公开工作年度报告",
    "坚持以公开为常态、不公开为例外", "以公开为常态、不公开为例外", "以习近平新时代中国特色社会主义思想为指导",
    "公开为常态、不公开为例外",
)
#: whole sentences (from the sentence's start to the next 。；) that are the format's fixed statements
BOILERPLATE_PATTERNS: tuple[str, ...] = (
    r"[^。；]*(?:未|没有|不)收取[^。；]*(?:信息处理费|处理费)[^。；]*[。；]?",  # the fee sentence
    r"[^。；]*收取[^。；]*信息处理费[0-9０-９.]+元[^。；]*[。；]?",
    r"[^。；]*统计期(?:限|间)?[^。；]*[。；]?",  # 本报告中所列数据统计期限自…
    r"[^。；]*电子版可[^。；]*[。；]?",  # where to download the report
    r"[^。；]*(?:如对本|如对本年度)报告有(?:任何)?疑问[^。；]*[。；]?",
)
#: only every SAMPLE-th n-gram (chosen by its hash, so the same in every text) goes into the candidate index
SAMPLE = 4


@cache
def _boilerplate() -> re.Pattern[str]:
    """One pattern of every boilerplate: the official section titles and narrative labels (with their numbering
    and 情况/方面 endings), :data:`BOILERPLATE_PHRASES` and :data:`BOILERPLATE_PATTERNS`."""
    numbering = r"(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|[0-9]+[.．、])?"
    labels = sorted({s.title for s in spec.SECTIONS} | {f.label for f in spec.NARRATIVE_FIELDS}, key=len, reverse=True)
    heading = numbering + "(?:" + "|".join(re.escape(x) for x in labels) + ")(?:情况|方面)?[：:。]?"
    phrases = "|".join(re.escape(p) for p in sorted(BOILERPLATE_PHRASES, key=len, reverse=True))
    sentences = "(?:^|(?<=[。；]))(?:" + "|".join(BOILERPLATE_PATTERNS) + ")"  # tried at a sentence's start only
    return re.compile("|".join((sentences, heading, phrases)))


@dataclass(frozen=True)
class Text:
    """A text as compared: whitespace dropped, half-width brackets made full-width; ``mask`` is 1 at each character
    of a boilerplate (:data:`BOILERPLATE`), which runs may cross but which never counts as repeated."""

    s: str
    mask: bytes

    @property
    def own(self) -> int:
        """How many characters are the unit's own (not boilerplate)."""
        return len(self.s) - self.mask.count(1)


def clean(text: str) -> Text:
    s = re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）")
    mask = bytearray(len(s))
    for m in _boilerplate().finditer(s):
        mask[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    return Text(s, bytes(mask))


# ---- the alignment -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tile:
    """``a[a_at:a_at+size] == b[b_at:b_at+size]`` in the cleaned texts."""

    a_at: int
    b_at: int
    size: int


def align(a: str, b: str, *, min_run: int = MIN_RUN) -> list[Tile]:
    """Greedy string tiling of cleaned ``a`` by cleaned ``b``: walking ``a``, each place where a run of at least
    ``min_run`` characters also stands in ``b`` (in a stretch of ``b`` not used yet) is extended as far as both
    agree and taken; the tiles cover each character of either text at most once, in any order."""
    if len(a) < min_run or len(b) < min_run:
        return []
    where: dict[str, list[int]] = defaultdict(list)
    for j in range(len(b) - min_run + 1):
        where[b[j:j + min_run]].append(j)
    used = bytearray(len(b))
    tiles: list[Tile] = []
    i, n = 0, len(a)
    while i <= n - min_run:
        best = None
        for j in where.get(a[i:i + min_run], ()):
            if used.find(1, j, j + min_run) >= 0:
                continue
            size = min_run
            while i + size < n and j + size < len(b) and a[i + size] == b[j + size] and not used[j + size]:
                size += 1
            if best is None or size > best.size:
                best = Tile(i, j, size)
        if best is None:
            i += 1
            continue
        used[best.b_at:best.b_at + best.size] = b"\x01" * best.size
        tiles.append(best)
        i += best.size
    return tiles


def repeated(a: Text, tiles: Iterable[Tile], *, min_run: int = MIN_RUN, side: str = "a") -> int:
    """How many of ``a``'s own characters the ``tiles`` cover (``side``: which text of the tiles ``a`` is); a tile
    counts only when at least half of ``min_run`` of it is the unit's own, not boilerplate."""
    got = 0
    for t in tiles:
        at = t.a_at if side == "a" else t.b_at
        own = t.size - a.mask.count(1, at, at + t.size)
        if own * 2 >= min_run:
            got += own
    return got


def repeated_share(this: str, other: str, *, min_run: int = MIN_RUN) -> float:
    """The share (0..1) of ``this`` text's own characters (boilerplate not counted) that repeat ``other``
    (:func:`align`)."""
    a, b = clean(this), clean(other)
    if not a.own:
        return 0.0
    return repeated(a, align(a.s, b.s, min_run=min_run), min_run=min_run) / a.own


@dataclass(frozen=True)
class Passage:
    """One passage of the first text and the passage of the second it repeats (whitespace dropped)."""

    a: str
    b: str

    def shown(self, limit: int = 400) -> tuple[str, str]:
        """The two passages as a listing shows them: at most ``limit`` characters each, the length said after."""
        return _cut(self.a, limit), _cut(self.b, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}……（共 {len(text)} 字）"


def passages(a: str, b: str, tiles: Sequence[Tile]) -> tuple[Passage, ...]:
    """The tiles of cleaned ``a`` and ``b`` joined into passages where they follow each other closely in both."""
    out: list[list[int]] = []  # a0, a1, b0, b1
    for t in sorted(tiles, key=lambda t: t.a_at):
        if out:
            p = out[-1]
            if 0 <= t.a_at - p[1] <= _JOIN_GAP and 0 <= t.b_at - p[3] <= _JOIN_GAP:
                p[1], p[3] = t.a_at + t.size, t.b_at + t.size
                continue
        out.append([t.a_at, t.a_at + t.size, t.b_at, t.b_at + t.size])
    return tuple(Passage(a[a0:a1], b[b0:b1]) for a0, a1, b0, b1 in out)


# ---- cross-unit ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unit:
    """One unit's report as the cross-unit comparison needs it."""

    name: str
    path: str
    #: the peer group (:func:`peer_group`): only units of one group are compared
    group: tuple[int | None, str]
    #: section number (一/五/六) -> its text
    texts: Mapping[str, str]


def peer_group(year: int | None, parent: str = "") -> tuple[int | None, str]:
    """The units compared with each other: the same report year and the same parent unit. ``parent``: the parent
    unit's id from the roster (contract R, branch ``levels``); until the roster knows parents every unit of one
    ``collect`` run (one county) has parent "" and forms one group per year."""
    return (year, parent)


@dataclass(frozen=True)
class Pair:
    """Two units whose section ``section`` is a near copy: ``share_a`` of a's own text repeats b's, ``share_b`` of
    b's repeats a's; the passages side by side."""

    a: Unit
    b: Unit
    section: str
    share_a: float
    share_b: float
    passages: tuple[Passage, ...]

    @property
    def percent(self) -> int:
        """The larger share, in whole percent (what the bar is compared with)."""
        return round(max(self.share_a, self.share_b) * 100)

    def to_dict(self) -> dict[str, object]:
        return {"a": self.a.name, "a_path": self.a.path, "b": self.b.name, "b_path": self.b.path,
                "section": self.section, "title": _TITLES[self.section], "share_a": round(self.share_a, 4),
                "share_b": round(self.share_b, 4),
                "passages": [dict(zip(("a", "b"), p.shown(), strict=True)) for p in self.passages]}


_TITLES = {s.number: s.title for s in spec.SECTIONS}


def _grams(t: Text, n: int) -> set[int]:
    """A sample of the unit's own n-grams (none touching boilerplate), hashed: those whose hash is 0 modulo
    :data:`SAMPLE` -- the same n-gram is taken or left in every text, so shares of the samples estimate shares of
    the whole."""
    s, mask = t.s, t.mask
    hashes = {hash(s[i:i + n]) for i in range(len(s) - n + 1)} if not any(mask) else \
        {hash(s[i:i + n]) for i in range(len(s) - n + 1) if mask.find(1, i, i + n) < 0}
    return {h for h in hashes if h % SAMPLE == 0}


def candidates(grams: Sequence[set[int]], *, bar: float, max_shared_by: int = MAX_SHARED_BY) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of the sets ``grams`` that share at least ``bar`` of the smaller set's n-grams, found
    through an inverted index (n-grams held by more than ``max_shared_by`` sets left out)."""
    index: dict[int, list[int]] = defaultdict(list)
    for i, gs in enumerate(grams):
        for g in gs:
            index[g].append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for holders in index.values():
        if 1 < len(holders) <= max_shared_by:
            for x in range(len(holders)):
                hx = holders[x]
                for hy in holders[x + 1:]:
                    shared[(hx, hy)] += 1
    out = []
    for (i, j), n in shared.items():
        smaller = min(len(grams[i]), len(grams[j]))
        if smaller and n / smaller >= bar:
            out.append((i, j))
    return sorted(out)


def similar_pairs(units: Iterable[Unit], *, percent: float = CROSS_UNIT_PERCENT, min_run: int = MIN_RUN,
                  sections: Sequence[str] = narrative.PRIOR_SECTIONS,
                  progress: Callable[[int], None] | None = None) -> list[Pair]:
    """Every pair of units of one peer group whose section (一, 五 or 六) repeats the other's by more than
    ``percent`` % of the shorter one's own text, with the passages; sorted by group, then the larger share
    (highest first). Candidates from :func:`candidates` (a looser bar: an n-gram index over-counts nothing but
    misses runs broken by edits), each confirmed by :func:`align`. Units whose section is the very same text are
    each paired with the first of them only (n - 1 pairs, not n(n - 1)/2)."""
    bar = percent / 100
    groups: dict[tuple[int | None, str], list[Unit]] = defaultdict(list)
    for u in units:
        groups[u.group].append(u)
    out: list[Pair] = []
    for _, members in sorted(groups.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1])):
        for number in sections:
            memo: dict[str, Text] = {}  # units filled from one model report share their texts: cleaned once
            cleaned = [memo[t] if t in memo else memo.setdefault(t, clean(t))
                       for t in (u.texts.get(number, "") for u in members)]
            # one representative per distinct text: a county's units filled from one model report are paired
            # without indexing the same text again and again
            same: dict[str, list[int]] = defaultdict(list)
            for i, c in enumerate(cleaned):
                if c.own >= MIN_CHARS:
                    same[c.s].append(i)
            reps = [ix[0] for ix in same.values()]
            for ix in same.values():  # each paired with the first of them: n - 1 pairs say that n are the same
                whole = (Passage(cleaned[ix[0]].s, cleaned[ix[0]].s),)
                out += [Pair(members[ix[0]], members[j], number, 1.0, 1.0, whole) for j in ix[1:]]
            grams = [_grams(cleaned[i], min_run) for i in reps]
            for x, y in candidates(grams, bar=bar / 2):
                a, b = cleaned[reps[x]], cleaned[reps[y]]
                tiles = align(a.s, b.s, min_run=min_run)
                share_a = repeated(a, tiles, min_run=min_run) / a.own
                share_b = repeated(b, tiles, min_run=min_run, side="b") / b.own
                if max(share_a, share_b) > bar:
                    shown = passages(a.s, b.s, tiles)
                    out.append(Pair(members[reps[x]], members[reps[y]], number, share_a, share_b, shown))
            if progress is not None:
                progress(len(members))
    out.sort(key=lambda p: (p.a.group[0] or 0, p.a.group[1], -max(p.share_a, p.share_b), p.a.name, p.b.name))
    return out
