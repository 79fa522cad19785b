"""The HTML export: one self-contained page for the portal's CMS (column 政府信息公开年报).

No scripts, no external files: the CSS is in the page's ``<style>``, and the tables also carry the old
``border``/``cellspacing``/``cellpadding`` attributes, so a CMS that keeps only the body still shows ruled
tables. Tables use rowspan/colspan exactly as the official grid (generated from the spec); wide tables scroll
sideways on a phone instead of squeezing the labels.
"""

from __future__ import annotations

from html import escape

from .. import report_doc as rd

CSS = """
body{margin:0;background:#fff;color:#000}
.gknb{max-width:820px;margin:0 auto;padding:16px 14px 40px;font-family:"仿宋_GB2312","仿宋",FangSong,STFangsong,serif;
 font-size:16px;line-height:1.9;word-wrap:break-word;overflow-wrap:anywhere}
.gknb h1{font-family:"方正小标宋简体","华文中宋",STZhongsong,"宋体",SimSun,serif;font-weight:normal;font-size:24px;
 line-height:1.5;text-align:center;margin:8px 0 20px}
.gknb h2{font-family:"黑体",SimHei,"Heiti SC","PingFang SC",sans-serif;font-weight:normal;font-size:17px;
 margin:18px 0 4px;text-indent:2em}
.gknb h3{font-family:"楷体_GB2312","楷体",KaiTi,STKaiti,serif;font-weight:normal;font-size:16px;margin:8px 0 0;
 text-indent:2em}
.gknb p{margin:0;text-indent:2em;text-align:justify}
.gknb .tbl{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:8px 0 12px}
.gknb table{border-collapse:collapse;width:100%;font-size:13px;line-height:1.5;background:#fff}
.gknb table.wide{min-width:640px}
.gknb th,.gknb td{border:1px solid #000;padding:4px 3px;text-align:center;vertical-align:middle}
.gknb th{font-weight:bold}
.gknb td.label{text-align:left}
.gknb p.sign{text-align:right;text-indent:0;padding-right:4em}
.gknb p.sign.first{margin-top:1.9em}
@media (max-width:480px){.gknb{font-size:15px;padding:10px}.gknb h1{font-size:20px}}
@media print{.gknb .tbl{overflow:visible}.gknb table.wide{min-width:0}}
""".strip()

#: tables with this many columns or more get a minimum width (and scroll on a phone)
WIDE_COLS = 8


def _e(text: str) -> str:
    return escape(text, quote=True)


def table_html(block: rd.TableBlock) -> str:
    rows = []
    for slots in block.rows():
        cells = []
        for s in slots:
            if s.continued:
                continue
            c = s.cell
            tag = "th" if c.header else "td"
            attrs = ""
            if c.rowspan > 1:
                attrs += f' rowspan="{c.rowspan}"'
            if c.colspan > 1:
                attrs += f' colspan="{c.colspan}"'
            if not c.header and not c.is_data:
                attrs += ' class="label"'
            cells.append(f"<{tag}{attrs}>{_e(c.text)}</{tag}>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    wide = ' class="wide"' if block.n_cols >= WIDE_COLS else ""
    return (f'<div class="tbl"><table{wide} border="1" cellspacing="0" cellpadding="4" data-table="{block.table_id}">'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def render(document: rd.Document) -> str:
    t = document.title
    body: list[str] = ["<h1>" + "<br>".join(_e(x) for x in (t.agency, t.rest) if x) + "</h1>"]
    for b in document.blocks:
        if isinstance(b, rd.Heading):
            tag = "h2" if b.level == 1 else "h3"
            body.append(f"<{tag}>{_e(b.text)}</{tag}>")
        elif isinstance(b, rd.Para):
            body.append(f"<p>{_e(b.text)}</p>")
        elif isinstance(b, rd.TableBlock):
            body.append(table_html(b))
        else:
            lines = [x for x in (b.agency, b.date) if x]
            body += [f'<p class="sign{" first" if i == 0 else ""}">{_e(x)}</p>' for i, x in enumerate(lines)]
    return ("<!DOCTYPE html>\n"
            '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(t.text)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n"
            '<article class="gknb">\n' + "\n".join(body) + "\n</article>\n</body>\n</html>\n")
