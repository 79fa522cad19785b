"""Writes the coordinator's HTML tracker: the 进度 sheet of the summary workbook as one self-contained web page
(totals, a bar of 通过 / 不通过 / 未提交, one row per agency and per file not used), to share or post."""

from __future__ import annotations

import html
import os
from pathlib import Path

from ..collect import TRACKER_COLUMNS, CollectResult, Count, TrackerRow, Verdict, zh
from .fileio import atomic_write_text

_CSS = """body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;font-size:14px}th,td{border:1px solid #999;padding:4px 8px;vertical-align:top}
th{background:#f2f2f2}.pass{background:#c6efce;color:#006100}.fail{background:#ffc7ce;color:#9c0006}
.missing{background:#ffe699;color:#7f6000}.unused{background:#ededed}.late{color:#9c0006;font-weight:bold}
.totals td{text-align:center;font-size:18px}.bar{display:inline-block;height:14px}
td.path,td.hash{font-family:monospace;font-size:12px;word-break:break-all}
th,td{white-space:nowrap}td.note,td.path{white-space:normal;min-width:12em}.wide{overflow-x:auto;max-width:100%}"""


def tracker_html(result: CollectResult) -> str:
    e = html.escape
    counts = result.counts
    total = max(counts[Count.EXPECTED], 1)
    bars = "".join(f'<span class="bar {cls}" style="width:{counts[k] * 400 // total}px" title="{k.zh} {counts[k]}"></span>'
                   for k, cls in ((Count.PASSED, "pass"), (Count.FAILED, "fail"), (Count.MISSING, "missing")))
    head = "".join(f"<th>{e(h.zh)}</th>" for h in Count)
    vals = "".join(f"<td>{e(total_text(result, h))}</td>" for h in Count)
    rows = "\n".join(_html_row(r) for r in result.rows)
    hdr = "".join(f"<th>{e(h)}</th>" for h in TRACKER_COLUMNS.values())
    heading = e(result.title("提交与校验进度"))
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{heading}</title>'
            f"<style>{_CSS}</style></head><body>\n<h1>{heading}</h1>\n<p>{e(result.summary_zh(split_late=True))}</p>\n"
            f'<table class="totals"><tr>{head}</tr><tr>{vals}</tr></table>\n<p>{bars}</p>\n'
            f'<div class="wide"><table><thead><tr>{hdr}</tr></thead><tbody>\n{rows}\n</tbody></table></div>\n'
            "</body></html>\n")


def total_text(result: CollectResult, count: Count) -> str:
    """A total as the page shows it: 逾期 says both kinds when agencies that have not submitted are overdue."""
    return result.late_text() if count is Count.LATE else str(result.counts[count])


def _html_row(r: TrackerRow) -> str:
    e = html.escape
    cls = {Verdict.PASS: "pass", Verdict.FAIL: "fail", Verdict.MISSING: "missing"}.get(r.verdict, "unused")
    d = r.to_dict() | {"state": r.state.zh, "verdict": r.verdict.zh, "timely": zh(r.timely)}
    cells = []
    for key in TRACKER_COLUMNS:
        v = d[key]
        text = "" if v is None else str(v)
        attr = ""
        if key == "verdict":
            attr = f' class="{cls}"'
        elif key == "timely" and r.late:
            attr = ' class="late"'
        elif key == "note":
            attr = ' class="note"'
        elif key == "path":
            attr = ' class="path"'
        elif key == "sha256":
            attr, text = ' class="hash"', text[:16]
        cells.append(f"<td{attr}>{e(text)}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def write_html(result: CollectResult, out: str | os.PathLike[str]) -> Path:
    return atomic_write_text(out, tracker_html(result))

