"""The template fingerprint: a hash of everything the template owns -- its layout (:mod:`xl_addin.structure`),
its defined names, the live checks (:mod:`xl_addin.live`) and the drafted sentences (:mod:`xl_addin.drafts`).

The template builder stores it in the hidden sheet; S2 warns when a workbook carries another one (a template of
another build). It sits above the modules it hashes, so none of them needs to import it.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from . import drafts, live, spec, structure


def _live_doc(s: live.Settings) -> list[list[str]]:
    return [[c.id, live.formula(c, s)] for c in live.checks(s)]


def _drafts_doc() -> list[list[str]]:
    cells = drafts.draft_cells()
    return [[d.id, *cells[d.id], drafts.draft_formula(d)] for d in drafts.DRAFTS]


def of(exp: structure.Expected, s: live.Settings = live.NATIONAL) -> str:
    """The fingerprint of a layout ``exp`` together with this build's names, live checks (compiled under the
    settings ``s`` of the profile the template is built under) and drafts."""
    doc = {
        "labels": sorted([s, a, t] for (s, a), t in exp.labels.items()),
        "merges": {s: sorted(m) for s, m in sorted(exp.merges.items())},
        "unlocked": {s: sorted(u) for s, u in sorted(exp.unlocked.items())},
        "formulas": sorted(exp.formulas.items()),
        "names": sorted(spec.defined_name(k) for k in spec.ALL_KEYS),
        "layout": spec.LAYOUT_VERSION,
        "live": _live_doc(s),
        "drafts": _drafts_doc(),
    }
    blob = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def fingerprint(s: live.Settings = live.NATIONAL) -> str:
    """The template fingerprint (computed once per process and settings: S2 compares every workbook against it)."""
    return _fingerprint(s)


@lru_cache(maxsize=live.SETTINGS_CACHE)
def _fingerprint(s: live.Settings) -> str:
    return of(structure.expected(), s)
