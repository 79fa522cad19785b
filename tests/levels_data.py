"""A generated region for the levelled roll-up (issue 22): a province of cities of counties of departments, each
department a distinct, valid filled workbook (the template built once with the bundled sample, each copy patched
in its sheet XML: :class:`xl_addin.adapters.xlsx_patch.Patcher`), each level's roster with 上级机关 and 报告范围.

Used by tests/test_levels.py and bench/levels.py (which puts tests/ on its path)."""

from __future__ import annotations

import csv
import io
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xl_addin import api, spec
from xl_addin.adapters.template_builder import build_workbook
from xl_addin.adapters.xlsx_patch import Patcher

YEAR = 2023
DEPARTMENTS = ("财政局", "教育局", "民政局", "司法局", "交通运输局", "卫生健康委员会", "市场监督管理局", "生态环境局",
               "自然资源局", "住房和城乡建设局", "水利局", "农业农村局", "商务局", "文化和旅游局", "应急管理局",
               "审计局", "统计局", "医疗保障局", "退役军人事务局", "人力资源和社会保障局")
ROSTER_HEADERS = ("机关名称", "机关类别", "层级", "上级机关", "报告范围", "单位编号")


class Region:
    """The template workbook (built once) and the figures every generated unit got, by (folder, name)."""

    def __init__(self) -> None:
        self.sample = api.sample_values()
        buf = io.BytesIO()
        build_workbook(self.sample).save(buf)
        self.patcher = Patcher(buf.getvalue(), compresslevel=1)
        self.base = {k: v for k, v in self.sample.items() if k in spec.INPUT_KEYS}
        self.stamp = time.mktime((YEAR + 1, 1, 20, 10, 0, 0, 0, 0, -1))

    def unit_values(self, rng: random.Random, name: str, kind: str, level: str) -> dict[str, Any]:
        """A valid unit's patched cells: its own name and figures (the sample's balance of table 三 kept)."""
        a, b = rng.randint(1, 97), rng.randint(0, 5)
        v: dict[str, Any] = {"meta.agency": name, "meta.kind": kind, "meta.level": level, "meta.year": YEAR,
                             "s1.on_request": "本年度依申请公开工作依法有序开展，申请均在法定期限内答复。",
                             "t3.new.natural": a, "t3.granted.natural": a,
                             "t3.new.business": b, "t3.unable_no_info.business": b,
                             "t2.licensing.count": rng.randint(0, 999), "t2.penalty.count": rng.randint(0, 12),
                             "t2.normative.made": rng.randint(0, 3), "t2.normative.in_force": rng.randint(3, 30),
                             "t2.fees.amount": rng.randint(0, 9999) / 10000, "t4.review.upheld": rng.randint(0, 2)}
        if kind == spec.KIND_GOVERNMENT:
            v["s1.supervision"] = "本年度将政务公开纳入绩效考核，开展社会评议，未发生责任追究情况。"
        if kind == spec.KIND_GOVERNMENT and level in ("省级", "市级"):
            v["t2.rules.made"], v["t2.rules.in_force"] = rng.randint(0, 4), rng.randint(10, 60)
        return v

    def write_unit(self, folder: Path, file_name: str, values: Mapping[str, Any]) -> Path:
        p = folder / file_name
        p.write_bytes(self.patcher.patch(dict(values)))
        os.utime(p, (self.stamp, self.stamp))
        return p

    def inputs(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The unit's input figures as its workbook holds them (the sample's, patched)."""
        return {**self.base, **{k: v for k, v in values.items() if k in spec.INPUT_KEYS}}


def write_roster(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(ROSTER_HEADERS)
        w.writerows(rows)
    return path


def add(total: dict[str, Any], values: Mapping[str, Any], *, rules: bool) -> None:
    """Sum ``values`` into ``total`` as the format does it: money in Decimal, 规章 only where ``rules``."""
    for k, v in values.items():
        if not isinstance(v, (int, float, Decimal)) or isinstance(v, bool) or (k.startswith("t2.rules.") and not rules):
            continue
        if spec.DATA_CELLS[k].kind is spec.Kind.MONEY:
            total[k] = total.get(k, Decimal(0)) + (v if isinstance(v, Decimal) else Decimal(repr(v)))
        else:
            total[k] = total.get(k, 0) + v


@dataclass
class Level:
    """One run of ``collect`` at one level: its folder, roster, the unit name of its 汇总 unit, the expected sum."""

    name: str
    folder: Path
    roster: Path
    expected: dict[str, Any] = field(default_factory=dict)
    units: int = 0


def county(region: Region, base: Path, name: str, n: int, rng: random.Random) -> Level:
    """A county: its government (汇总) and ``n`` departments (本级), each with a workbook in the county's folder."""
    folder = base / name
    folder.mkdir(parents=True)
    gov = f"{name}人民政府"
    rows: list[tuple[str, ...]] = [(gov, "人民政府", "县级", "", "汇总", "")]
    lv = Level(gov, folder, base / f"{name}-名单.csv", units=n)
    for i in range(n):
        dept = DEPARTMENTS[i % len(DEPARTMENTS)] + ("" if i < len(DEPARTMENTS) else str(i))
        rows.append((dept, "政府部门", "县级", gov, "本级", ""))
        values = region.unit_values(rng, dept, "政府部门", "县级")
        region.write_unit(folder, f"{i:05d}.xlsx", values)
        add(lv.expected, region.inputs(values), rules=False)
    write_roster(lv.roster, rows)
    return lv


def upper(region: Region, base: Path, name: str, level: str, below: list[Level], packages: list[Path],
          departments: int, rng: random.Random) -> Level:
    """A city (or province): its government (汇总, covering the governments below and its own departments), the
    packages of the level below copied into its folder, and its own departments' workbooks."""
    folder = base / name
    folder.mkdir(parents=True)
    gov = f"{name}人民政府"
    rows: list[tuple[str, ...]] = [(gov, "人民政府", level, "", "汇总", "")]
    lv = Level(gov, folder, base / f"{name}-名单.csv", units=departments + sum(b.units for b in below))
    for b, pkg in zip(below, packages, strict=True):
        rows.append((b.name, "人民政府", "县级" if level == "市级" else "市级", gov, "汇总", ""))
        (folder / pkg.name).write_bytes(pkg.read_bytes())
        os.utime(folder / pkg.name, (region.stamp, region.stamp))
        # a county's 汇总 keeps no 规章; a city's 汇总 is a 设区的市 government's: its 规章 count
        add(lv.expected, b.expected, rules=level == "省级")
    own = f"{name}人民政府办公室"
    rows.append((own, "人民政府", level, gov, "本级", ""))  # the government's own handling: its 规章 count
    values = region.unit_values(rng, own, "人民政府", level)
    region.write_unit(folder, "own.xlsx", values)
    add(lv.expected, region.inputs(values), rules=True)
    for i in range(departments):
        dept = f"{name}{DEPARTMENTS[i % len(DEPARTMENTS)]}"
        rows.append((dept, "政府部门", level, gov, "本级", ""))
        values = region.unit_values(rng, dept, "政府部门", level)
        region.write_unit(folder, f"{i:05d}.xlsx", values)
        add(lv.expected, region.inputs(values), rules=False)
    write_roster(lv.roster, rows)
    return lv
