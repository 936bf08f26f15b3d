"""Escaped HTML and SVG fragments for the report's static parts (the overview and the charts), and
the one safe way to embed data in a page.

Every piece of text that comes from a file goes through `esc` here; nothing builds markup from
data by string concatenation elsewhere. What it leaves out: the pair browser, which the page's
script builds from the embedded JSON with DOM text nodes (never `innerHTML`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from typing import Any

Markup = str  # a fragment that is already escaped


def esc(value: object) -> Markup:
    return html.escape(str(value), quote=True)


def tag(name: str, content: Markup | Iterable[Markup] = "", **attrs: object) -> Markup:
    """`<name attrs>content</name>`; attribute values are escaped, `content` must be markup.
    A trailing underscore is dropped from an attribute name (`class_`), and `_` becomes `-`."""
    parts = [name]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = key.rstrip("_").replace("_", "-")
        parts.append(attr if value is True else f'{attr}="{esc(value)}"')
    inner = content if isinstance(content, str) else "".join(content)
    return f"<{' '.join(parts)}>{inner}</{name}>"


def text(name: str, value: object, **attrs: object) -> Markup:
    """An element holding `value` as text."""
    return tag(name, esc(value), **attrs)


def table(headers: Sequence[str], rows: Iterable[Sequence[Markup]], class_: str = "grid") -> Markup:
    """A table whose header cells are text and whose body cells are markup."""
    head = tag("thead", tag("tr", (text("th", h) for h in headers)))
    body = tag("tbody", (tag("tr", (tag("td", cell) for cell in row)) for row in rows))
    return tag("div", tag("table", head + body, class_=class_), class_="table-wrap")


def embed_json(data: Any) -> str:
    """`data` as JSON that is safe inside `<script type="application/json">`: no `<`, `>` or `&`
    (so no `</script>` or `<!--` can end or change the element) and no U+2028/2029, all written
    as JSON escapes, which `JSON.parse` turns back into the same characters."""
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        raw = raw.replace(char, escape)
    return raw


def fmt_pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def fmt_num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def interval(value: float, low: float, high: float, signed: bool = False) -> Markup:
    """`0.503 [0.467, 0.540]`, the interval in a quieter span."""
    f = "{:+.3f}" if signed else "{:.3f}"
    return esc(f.format(value)) + " " + text("span", f"[{f.format(low)}, {f.format(high)}]", class_="ci")
