"""Report values as plain data (JSON), keyed by the spec's keys, and the bundled sample.

A data file maps keys to values. In ``tables`` a row prefix may map to a list of the row's input values in
official column order (``"t3.new": [1, 0, 0, 0, 0, 0]``) and ``"t3.*"`` gives every input of a table not
otherwise set a default value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import spec
from .model import CellValue, as_date

#: the bundled sample (package data of xl_addin.samples), read by api.sample_values
SAMPLE = "jiangle-industry-bureau-2023.json"


class DataError(ValueError):
    pass


def row_inputs(prefix: str) -> list[str]:
    """The input keys of one table row in official column order (``t3.new`` -> t3.new.natural, ...)."""
    return [k for k in spec.INPUT_KEYS if k.rsplit(".", 1)[0] == prefix]


def values_from_mapping(obj: Mapping[str, Any]) -> dict[str, CellValue]:
    out: dict[str, CellValue] = {}
    defaults: dict[str, CellValue] = {}
    for key, value in obj.items():
        if key.startswith("_"):
            continue
        if key == "tables":
            for k, v in value.items():
                if k.endswith(".*"):
                    defaults[k[:-2]] = v
                elif isinstance(v, list):
                    keys = row_inputs(k)
                    if len(keys) != len(v):
                        raise DataError(f"“{k}”应有 {len(keys)} 个数，实有 {len(v)} 个")
                    out.update(zip(keys, v, strict=True))
                elif k in spec.INPUT_KEYS:
                    out[k] = v
                else:
                    raise DataError(f"未知的表格单元格“{k}”")
        elif key in spec.FIELDS_BY_KEY:
            out[key] = as_date(value) if key == "meta.report_date" and isinstance(value, str) else value
        else:
            raise DataError(f"未知的项目“{key}”")
    for table, v in defaults.items():
        for k in spec.INPUT_KEYS:
            if k.startswith(table + ".") and k not in out:
                out[k] = v
    return out


def values_from_json(text: str) -> dict[str, CellValue]:
    """The values of a JSON data document (its text: reading the file is the caller's)."""
    return values_from_mapping(json.loads(text))
