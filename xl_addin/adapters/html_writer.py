"""The HTML export: one self-contained page for the portal's CMS (column 政府信息公开年报).

No scripts, no external files. Tables use rowspan/colspan exactly as the official grid (generated from the spec).

- **Pasted into a CMS editor** that keeps only the body and strips ``<style>``: what a reader needs is written
  inline on the elements (borders, the centred numbers, left-aligned row labels, bold heads, paragraph indents,
  table text size, the red 未通过校验（草稿） banner), plus the old ``border``/``cellspacing``/``cellpadding``
  attributes. The ``<style>`` only adds what inline styles cannot: phone and print rules.
- **Words stay whole**: short column heads (自然人, 其他, 总计 …) never wrap (``white-space:nowrap``); longer ones
  break only between their words (社会/公益组织, 法律/服务机构, as in the official Word copies).
- **Phones**: a wide table keeps a minimum width and scrolls sideways inside its own box, with the hint
  左右滑动查看完整表格 above it (shown on narrow screens; always shown when the CSS is stripped).
- **Accessibility** (GB/T 37668, 适老化): ``<main>``, ``lang``, a ``<caption>`` per table, column heads in
  ``<thead>`` with ``scope``, row labels as ``<th scope="row">``, table text at least 14 px, the scrolling box
  focusable and named. In print: A4 pages; a table kept on one page (table 三 with all its group labels fits one
  at 14 px with compact cells), head rows repeated on each page should a table ever be longer, rows never split.
"""

from __future__ import annotations

from html import escape

from .. import report_doc as rd
from .. import spec, structure

#: font stacks: the official fonts first, then what Windows, macOS and Android have
#: (single quotes: they sit inside style="...")
BODY_FONTS = "'仿宋_GB2312','仿宋',FangSong,STFangsong,serif"
TITLE_FONTS = "'方正小标宋简体','华文中宋',STZhongsong,'宋体',SimSun,serif"
H1_FONTS = "'黑体',SimHei,'Heiti SC','PingFang SC',sans-serif"
H2_FONTS = "'楷体_GB2312','楷体',KaiTi,STKaiti,serif"
#: table text size in px (GB/T 37668 / 适老化: at least 14 px)
TABLE_PX = 14
SWIPE_HINT = "左右滑动查看完整表格"
DRAFT_COLOUR = "#" + rd.UNCHECKED_COLOUR.lower()

# inline styles: what must survive a CMS editor that strips <style>
S_ARTICLE = (f"max-width:860px;margin:0 auto;padding:16px 14px 40px;font-family:{BODY_FONTS};font-size:16px;"
             "line-height:1.9;color:#000;background:#fff")
S_H1 = (f"font-family:{TITLE_FONTS};font-weight:normal;font-size:24px;line-height:1.5;text-align:center;"
        "margin:8px 0 20px")
S_H2 = f"font-family:{H1_FONTS};font-weight:normal;font-size:17px;margin:18px 0 4px;text-indent:2em"
S_H3 = f"font-family:{H2_FONTS};font-weight:normal;font-size:16px;margin:8px 0 0;text-indent:2em"
S_P = "margin:0;text-indent:2em;text-align:justify"
S_P_FLUSH = "margin:0;text-indent:0;text-align:justify"
S_SIGN = "margin:0;text-indent:0;text-align:right;padding-right:4em"
S_DRAFT = (f"margin:0 0 16px;padding:8px 12px;border:3px solid {DRAFT_COLOUR};color:{DRAFT_COLOUR};"
           "font-weight:bold;font-size:18px;line-height:1.6;text-align:center;text-indent:0")
S_BOX = "overflow-x:auto;-webkit-overflow-scrolling:touch;margin:4px 0 12px"
S_HINT = "margin:8px 0 0;text-indent:0;font-size:14px;color:#333;text-align:right"
S_TABLE = (f"border-collapse:collapse;width:100%;font-size:{TABLE_PX}px;line-height:1.5;background:#fff;"
           "font-family:inherit")
S_CAPTION = "caption-side:top;text-align:center;font-weight:bold;font-size:15px;padding:4px 0"
S_CELL = "border:1px solid #000;padding:4px 4px;vertical-align:middle"
S_HEAD = f"{S_CELL};text-align:center;font-weight:bold"
S_NUMBER = f"{S_CELL};text-align:center;white-space:nowrap"
S_LABEL = f"{S_CELL};text-align:left;font-weight:normal"
S_NOTE = f"{S_CELL};text-align:center;font-weight:normal"

CSS = """
body{margin:0;background:#fff;color:#000}
.gknb{word-wrap:break-word;overflow-wrap:break-word}
.gknb .swipe{display:none}
.gknb .tbl:focus{outline:2px solid #1a5fb4;outline-offset:2px}
.gknb table.wide{min-width:720px}
.gknb thead{display:table-header-group}
.gknb tr{break-inside:avoid;page-break-inside:avoid}
@media (max-width:760px){.gknb .swipe{display:block}}
@media (max-width:480px){.gknb{font-size:15px !important;padding:10px !important}.gknb h1{font-size:20px !important}}
@page{size:A4;margin:20mm 18mm}
@media print{.gknb{max-width:none !important;padding:0 !important}.gknb .tbl{overflow:visible !important}
.gknb table.wide{min-width:0 !important}.gknb .swipe{display:none !important}
.gknb h2,.gknb h3,.gknb caption,.gknb .swipe{break-after:avoid;page-break-after:avoid}
.gknb table{line-height:1.3 !important}.gknb th,.gknb td{padding:2px 3px !important}
.gknb .tbl{break-inside:avoid;page-break-inside:avoid}.gknb table{width:calc(100% - 2px) !important}}
""".strip()

#: tables with this many columns or more get a minimum width (and scroll on a phone)
WIDE_COLS = 8
#: column heads up to this many characters never wrap
NOWRAP_CHARS = 5
def _e(text: str) -> str:
    return escape(text, quote=True)


def head_html(text: str) -> str:
    """A column head whose words never break inside: short heads whole, longer ones between their words."""
    words = structure.HEAD_WORDS.get(text)
    if words is None:
        if len(text) <= NOWRAP_CHARS:
            words = (text,)
        else:
            return _e(text)
    return "".join(f'<span style="white-space:nowrap">{_e(w)}</span>' for w in words)


def caption_of(block: rd.TableBlock) -> str:
    table = spec.TABLE_BY_ID[block.table_id]
    return f"表{table.number}　{table.title}"


def _is_corner_note(block: rd.TableBlock, c: rd.GridCell) -> bool:
    """The note in the top-left corner of table 三 (勾稽关系): header rows' text, but a note, not a head."""
    return c.text == spec.T3_NOTE


def _cell_html(block: rd.TableBlock, c: rd.GridCell) -> str:
    attrs = ""
    if c.rowspan > 1:
        attrs += f' rowspan="{c.rowspan}"'
    if c.colspan > 1:
        attrs += f' colspan="{c.colspan}"'
    if c.header and _is_corner_note(block, c):
        return f'<td{attrs} class="note" style="{S_NOTE}">{_e(c.text)}</td>'
    if c.header:
        scope = "colgroup" if c.colspan > 1 else "col"
        return f'<th{attrs} scope="{scope}" style="{S_HEAD}">{head_html(c.text)}</th>'
    if c.is_data:
        return f'<td{attrs} style="{S_NUMBER}">{_e(c.text)}</td>'
    return f'<th{attrs} scope="row" class="label" style="{S_LABEL}">{_e(c.text)}</th>'


def table_html(block: rd.TableBlock) -> str:
    head: list[str] = []
    body: list[str] = []
    for r, slots in enumerate(block.rows(), start=1):
        cells = "".join(_cell_html(block, s.cell) for s in slots if not s.continued)
        (head if r <= block.header_rows else body).append(f"<tr>{cells}</tr>")
    wide = block.n_cols >= WIDE_COLS
    caption = caption_of(block)
    cls = ' class="wide"' if wide else ""
    table = (f'<table{cls} border="1" cellspacing="0" cellpadding="4"'
             f' data-table="{block.table_id}" style="{S_TABLE}{";min-width:720px" if wide else ""}">'
             f'<caption style="{S_CAPTION}">{_e(caption)}</caption>'
             + (f"<thead>{''.join(head)}</thead>" if head else "")
             + f"<tbody>{''.join(body)}</tbody></table>")
    hint = f'<p class="swipe" style="{S_HINT}">{SWIPE_HINT} →</p>' if wide else ""
    return (f'{hint}<div class="tbl" role="region" aria-label="{_e(caption)}" tabindex="0" style="{S_BOX}">'
            f"{table}</div>")


def _print_mark_css(mark: str) -> str:
    """Every printed page says ``mark`` (a page-margin box; Chromium 131+, Firefox and print engines)."""
    quoted = mark.replace("\\", "\\\\").replace('"', '\\"')
    return (f'\n@page{{@top-center{{content:"{quoted}";color:{DRAFT_COLOUR};font-weight:bold;font-size:14pt}}'
            f'@bottom-center{{content:"{quoted}";color:{DRAFT_COLOUR};font-size:10pt}}}}')


def render(document: rd.Document) -> str:
    t = document.title
    body: list[str] = []
    css = CSS
    if document.unchecked is not None:
        body.append(f'<p class="unchecked" role="note" style="{S_DRAFT}">{_e(document.unchecked.note)}</p>')
        css += _print_mark_css(document.unchecked.mark)
    body.append(f'<h1 style="{S_H1}">' + "<br>".join(_e(x) for x in (t.agency, t.rest) if x) + "</h1>")
    for b in document.blocks:
        if isinstance(b, rd.Heading):
            tag, style = ("h2", S_H2) if b.level == 1 else ("h3", S_H3)
            body.append(f'<{tag} style="{style}">{_e(b.text)}</{tag}>')
        elif isinstance(b, rd.Para):
            body.append(f'<p style="{S_P_FLUSH if b.flush else S_P}">{_e(b.text)}</p>')
        elif isinstance(b, rd.TableBlock):
            body.append(table_html(b))
        else:
            lines = [x for x in (b.agency, b.date) if x]
            body += [f'<p class="sign{" first" if i == 0 else ""}" style="{S_SIGN}{";margin-top:1.9em" if i == 0 else ""}">'
                     f"{_e(x)}</p>" for i, x in enumerate(lines)]
    return ("<!DOCTYPE html>\n"
            '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(t.text)}</title>\n<style>\n{css}\n</style>\n</head>\n<body>\n"
            f'<main>\n<article class="gknb" style="{S_ARTICLE}">\n' + "\n".join(body)
            + "\n</article>\n</main>\n</body>\n</html>\n")
