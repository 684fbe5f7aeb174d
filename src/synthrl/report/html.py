"""HTML building blocks for the report: escaping by default, tables, `<details>`, the page.

Every value is HTML-escaped unless it is an `Html` (a fragment built here from escaped parts):
model output and passages are untrusted text. The page carries its CSS inline and needs neither
JavaScript nor any external request.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

CSS = """
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg2: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
  margin: 0 auto; padding: 24px 32px 64px; max-width: 1200px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; }
a { color: var(--accent); text-decoration: none; }
nav { margin: 8px 0 0; color: var(--muted); }
nav a { margin-right: 14px; white-space: nowrap; }
.muted { color: var(--muted); }
.na { color: #9a6700; background: #fff8c5; border: 1px solid #eed888; border-radius: 6px;
  padding: 6px 10px; display: inline-block; margin: 4px 0; }
.verdict { font-size: 16px; font-weight: 600; padding: 8px 12px; border-radius: 6px;
  display: inline-block; margin: 8px 0; }
.verdict.good { background: #dafbe1; border: 1px solid #4ac26b; }
.verdict.format { background: #ddf4ff; border: 1px solid #54aeff; }
.verdict.bad { background: #ffebe9; border: 1px solid #ff8182; }
.verdict.none { background: var(--bg2); border: 1px solid var(--line); }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg2); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; background: var(--bg2); }
table.kv th { width: 180px; }
table.wide { width: 100%; table-layout: fixed; }
table.wide td { overflow-wrap: anywhere; }
details summary { cursor: pointer; }
details[open] summary { color: var(--muted); }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--bg2); padding: 6px 8px;
  border-radius: 4px; margin: 4px 0; font-size: 12px; max-height: 360px; overflow-y: auto; }
img.plot { max-width: 100%; height: auto; display: block; margin: 8px 0; }
.tag { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px;
  border: 1px solid var(--line); background: var(--bg2); }
.tag.initial { background: #ddf4ff; } .tag.harder { background: #ffebe9; }
.tag.easier { background: #dafbe1; } .tag.yes { background: #dafbe1; font-weight: 600; }
"""


# Nothing may load or run: inline styles and data: images only.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


class Html(str):
    """A trusted HTML fragment: inserted as is, never escaped again."""


def esc(value: object) -> Html:
    """The escaped text of any value (an `Html` passes through)."""
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Html:
    return Html(sep.join(esc(p) for p in parts))


def tag(name: str, content: object = "", cls: str | None = None, **attrs: str) -> Html:
    """`<name class=... attrs>content</name>` with the content and attributes escaped."""
    pairs = ([("class", cls)] if cls else []) + list(attrs.items())
    attr = "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in pairs)
    return Html(f"<{name}{attr}>{esc(content)}</{name}>")


def para(content: object, cls: str | None = None) -> Html:
    return tag("p", content, cls)


def not_available(why: str) -> Html:
    return tag("p", f"not available: {why}", "na")


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    numeric: Iterable[int] = (),
    cls: str | None = None,
    total: Sequence[object] | None = None,
    widths: Sequence[str] = (),
) -> Html:
    """A table; columns whose index is in `numeric` are right-aligned, `widths` (CSS widths)
    fix the column widths."""
    num = set(numeric)

    def cells(row: Sequence[object], cell: str) -> Html:
        return join(tag(cell, v, "num" if i in num else None) for i, v in enumerate(row))

    head = tag("tr", cells(headers, "th"))
    body = [tag("tr", cells(row, "td")) for row in rows]
    if total is not None:
        body.append(tag("tr", cells(total, "td"), "total"))
    cols = join(Html(f'<col style="width:{html.escape(w)}">') for w in widths)
    parts = [tag("colgroup", cols)] if widths else []
    parts += [tag("thead", head), tag("tbody", join(body))]
    return tag("table", join(parts), cls)


def kv_table(pairs: Iterable[tuple[str, object]]) -> Html:
    """A two-column key/value table."""
    rows = [tag("tr", join([tag("th", k), tag("td", v)])) for k, v in pairs]
    return tag("table", join(rows), "kv")


def details(summary: object, body: object) -> Html:
    """A collapsed block: `summary` shown, `body` on click."""
    return tag("details", join([tag("summary", summary), body]))


def long_text(text: object, limit: int = 120) -> Html:
    """Short text as is; longer text as its first `limit` characters with the rest folded."""
    text = "" if text is None else str(text)
    if len(text) <= limit and "\n" not in text:
        return esc(text)
    head = text[:limit].split("\n", 1)[0].rstrip() + " ..."
    return details(head, tag("pre", text))


def img(data_uri: str, alt: str) -> Html:
    return Html(f'<img class="plot" src="{html.escape(data_uri)}" alt="{html.escape(alt)}">')


def section(anchor: str, title: str, body: object) -> Html:
    return tag("section", join([tag("h2", title, id=anchor), body]), id=f"s-{anchor}")


def page(title: str, subtitle: object, sections: Sequence[tuple[str, str, Html]]) -> str:
    """The whole document: a heading, a table of contents and the sections."""
    nav = tag("nav", join(tag("a", t, href=f"#{a}") for a, t, _ in sections))
    body = join([tag("h1", title), para(subtitle, "muted"), nav])
    body = join([body, *(section(a, t, b) for a, t, b in sections)])
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
