"""The property rows of the template's hidden sheet (:data:`~xl_addin.spec.HIDDEN_SHEET`): template id, format
and layout versions, toolkit version, structure fingerprint; and, for a template built under a rule profile only,
the profile's name, title, digest and live settings (:data:`PROFILE_PROPS`, below last year's figures; a national
template has none of these rows, so it stays what it was).

The template builder writes them with :func:`rows`; every reader -- the fast reader (calamine), the openpyxl
reader and the add-in (xlwings) -- reads the rectangle :data:`BOX` from A1 and hands its cell values to
:func:`parse`, so the three agree on every workbook whatever each library returns for a cell.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence

from . import __version__, spec

#: (key, label) of each property, in row order
PROPS = spec.HIDDEN_PROPS
KEYS = frozenset(k for k, _ in PROPS)
#: row 1 of the sheet
HEADER = ("key", "value", "说明")
#: 1-based rows of the first and the last property (column A the key, B the value, C the label)
FIRST_ROW = 2
LAST_ROW = FIRST_ROW + len(PROPS) - 1
#: (key, label) of the rows recording the rule profile a template was built under (none: the national rules)
PROFILE_PROPS = (("profile_name", "规则配置名称"), ("profile_title", "规则配置标题"),
                 ("profile_digest", "规则配置摘要（各项设置的散列）"), ("profile_live", "随填随算检查的设置（JSON）"))
PROFILE_KEYS = frozenset(k for k, _ in PROFILE_PROPS)
#: 1-based rows of the profile's properties: after the last cell the layout puts on this sheet (last year's
#: figures) and a blank row
PROFILE_FIRST_ROW = max(spec.cell_index(at.a1)[0] for at in spec.LAYOUT.locations.values()
                        if at.sheet == spec.HIDDEN_SHEET) + 2
PROFILE_LAST_ROW = PROFILE_FIRST_ROW + len(PROFILE_PROPS) - 1
#: (rows, columns) from A1 that hold every property's key and value: what a reader reads
BOX = (PROFILE_LAST_ROW, 2)
#: a recorded profile property longer than this is not one the builder wrote (read no further)
MAX_PROFILE_TEXT = 2000


def values(fingerprint: str) -> dict[str, str]:
    """key -> what the template writes for it (``fingerprint``: :func:`xl_addin.fingerprint.fingerprint`)."""
    return {"template_id": spec.TEMPLATE_ID, "format_version": spec.FORMAT_VERSION,
            "layout_version": str(spec.LAYOUT_VERSION), "toolkit_version": __version__, "fingerprint": fingerprint}


def rows(props: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The sheet's rows from A1 down to :data:`LAST_ROW`: the header, then (key, value, label) of each property."""
    return [HEADER, *((key, props[key], label) for key, label in PROPS)]


def profile_rows(props: Mapping[str, str]) -> list[tuple[int, str, str, str]]:
    """(row, key, value, label) of the profile's properties a template built under a profile records."""
    return [(PROFILE_FIRST_ROW + i, key, props[key], label) for i, (key, label) in enumerate(PROFILE_PROPS)]


def parse(grid: Iterable[Sequence[object]] | None) -> dict[str, str]:
    """key -> value of each property in ``grid``, the sheet's cell values row by row from A1 (at least :data:`BOX`).

    Blanks (None, "") are left out; numbers read the same whether a library gives an int or a float (3, 3.0 ->
    "3"); a date reads the same as a date or as a datetime at midnight ("2024-01-01")."""
    out: dict[str, str] = {}
    for r, row in enumerate(itertools.islice(grid or (), FIRST_ROW - 1, PROFILE_LAST_ROW), start=FIRST_ROW):
        if len(row) < 2:
            continue
        key, value = row[0], row[1]
        keys = KEYS if r <= LAST_ROW else PROFILE_KEYS if r >= PROFILE_FIRST_ROW else frozenset()
        if not isinstance(key, str) or key not in keys or value is None or value == "":
            continue
        out[key] = _text(value)[:MAX_PROFILE_TEXT]
    return out


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return str(value.date())
    return str(value)
