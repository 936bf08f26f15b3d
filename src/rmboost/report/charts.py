"""Inline SVG charts for the report: one horizontal chart per question, readable at a laptop's width.

A chart is rows of bars (or dots, for a forest plot of differences) with optional interval
whiskers, grouped under headings, against reference lines such as chance. Rows grow downwards, so
ten training sets make a taller chart, never a wider one, and a label too long for its column
wraps onto more lines of a taller row instead of being cut, so two labels that differ anywhere
still read differently. What it leaves out: deciding which charts apply to which set
(`overview.py`), explaining their words (each chart's caption does), and any plotting library.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from rmboost.report.markup import Markup, esc, tag, text

WIDTH, LABEL_W, RIGHT_W = 900, 240, 150
ROW_H, GROUP_H, TOP, BOTTOM = 22, 24, 12, 40
LINE_H = 14  # between the lines of a wrapped label
# Characters per line at the style sheet's sizes (12px labels in LABEL_W, 12.5px bold headings
# across the chart), for the widest common letters, so a line never runs past its column.
LABEL_CHARS, HEADING_CHARS = 32, 110
PLOT_W = WIDTH - LABEL_W - RIGHT_W
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C6D1F")


@dataclass(slots=True)
class Bar:
    label: str
    value: float
    low: float | None = None
    high: float | None = None
    series: str = ""
    note: str | None = None  # text at the row's end; the formatted value when None


@dataclass
class Chart:
    question: str  # the chart's title: the question it answers
    groups: list[tuple[str, list[Bar]]]
    domain: tuple[float, float]
    axis_label: str
    refs: list[tuple[float, str]] = field(default_factory=list)  # (x, label) reference lines
    dots: bool = False
    integer: bool = False  # counts: whole-number ticks
    fmt: Callable[[float], str] = lambda x: f"{x:.3f}"
    caption: str = ""


def nice_ticks(low: float, high: float, count: int = 5, integer: bool = False) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten
    (no 2.5, and at least 1, for `integer` ticks)."""
    span = high - low
    if span <= 0:
        return [low]
    raw = max(span / count, 1.0) if integer else span / count
    power = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in steps if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    x = first
    while x <= high + 1e-9 * step:
        ticks.append(round(x, 10))
        x += step
    return ticks


def padded_domain(values: list[float], floor: float | None = None, ceiling: float | None = None,
                  step: float = 0.1) -> tuple[float, float]:
    """The smallest [low, high] on a `step` grid holding `values` (and `floor`/`ceiling` if given)."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    lo = min(vals + ([floor] if floor is not None else []), default=0.0)
    hi = max(vals + ([ceiling] if ceiling is not None else []), default=1.0)
    lo, hi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    return (lo, hi if hi > lo else lo + step)


def wrap_label(label: str, limit: int = LABEL_CHARS) -> list[str]:
    """`label` in lines of at most `limit` characters, broken after a space or hyphen where it can
    and inside a word where it must; no character but the spaces at the breaks is dropped."""
    return textwrap.wrap(label, limit, break_on_hyphens=True, break_long_words=True) or [""]


def _lines(lines: list[str], x: float, mid: float, class_: str) -> Markup:
    """A `<text>` of `lines` centred on `mid`: its text when one line, a `<tspan>` per line else."""
    first = mid + 4 - (len(lines) - 1) * LINE_H / 2
    if len(lines) == 1:
        return text("text", lines[0], x=x, y=f"{first:g}", class_=class_)
    spans = (text("tspan", line, x=x, dy=0 if i == 0 else LINE_H) for i, line in enumerate(lines))
    return tag("text", spans, x=x, y=f"{first:g}", class_=class_)


def _height(lines: list[str], minimum: float) -> float:
    return max(minimum, len(lines) * LINE_H + 8)


def _swatch(colour: str) -> Markup:
    return tag("svg", tag("rect", width=12, height=12, fill=colour), width=12, height=12, class_="swatch")


def _series_colours(chart: Chart) -> dict[str, str]:
    names = list(dict.fromkeys(b.series for _, bars in chart.groups for b in bars))
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _row(bar: Bar, y: float, xpos: Callable[[float], float], colour: str, chart: Chart) -> tuple[Markup, float]:
    """The row's markup and its height (taller than `ROW_H` when its label wraps)."""
    lines = wrap_label(bar.label)
    height = _height(lines, ROW_H)
    mid = y + height / 2
    parts = [tag("title", esc(f"{bar.label}: {bar.note or chart.fmt(bar.value)}"))]
    parts.append(_lines(lines, LABEL_W - 8, mid, "label"))
    if chart.dots:
        parts.append(tag("circle", cx=f"{xpos(bar.value):.1f}", cy=f"{mid:g}", r=5, fill=colour))
    else:
        base = xpos(max(chart.domain[0], min(0.0, chart.domain[1])))
        x0, x1 = sorted((base, xpos(bar.value)))
        parts.append(tag("rect", x=f"{x0:.1f}", y=f"{mid - ROW_H / 2 + 4:g}", width=f"{max(x1 - x0, 1):.1f}",
                         height=ROW_H - 8, fill=colour, class_="bar"))
    if bar.low is not None and bar.high is not None:
        lo, hi = xpos(bar.low), xpos(bar.high)
        ends = f"M{lo:.1f} {mid - 5}V{mid + 5}M{hi:.1f} {mid - 5}V{mid + 5}"
        parts.append(tag("path", d=f"M{lo:.1f} {mid}H{hi:.1f}{ends}", class_="whisker"))
    note = bar.note if bar.note is not None else chart.fmt(bar.value)
    parts.append(text("text", note, x=LABEL_W + PLOT_W + 8, y=f"{mid + 4:g}", class_="value"))
    return tag("g", parts, class_="row", data_label=bar.label), height


def _axis(chart: Chart, xpos: Callable[[float], float], top: float, bottom: float) -> Markup:
    parts = []
    for t in nice_ticks(*chart.domain, integer=chart.integer):
        x = xpos(t)
        parts.append(tag("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=top, y2=bottom, class_="grid"))
        parts.append(text("text", chart.fmt(t), x=f"{x:.1f}", y=bottom + 14, class_="tick"))
    parts.append(text("text", chart.axis_label, x=LABEL_W + PLOT_W / 2, y=bottom + 32, class_="axis"))
    return "".join(parts)


def _label_rows(labels: list[tuple[float, str]], char_w: float = 6.0) -> list[int]:
    """A row for each reference line's label (0 the lowest), so that two lines close together do not
    print their labels over each other: a label goes up a row while it would touch one already placed
    there. Labels are centred on their line; `char_w` is a character's width at the label's size."""
    placed: list[list[tuple[float, float]]] = []  # per row, the (left, right) ends already taken
    rows = []
    for x, label in labels:
        half = len(label) * char_w / 2 + 3
        row = next((i for i, taken in enumerate(placed)
                    if all(x + half <= left or x - half >= right for left, right in taken)), len(placed))
        if row == len(placed):
            placed.append([])
        placed[row].append((x - half, x + half))
        rows.append(row)
    return rows


def render(chart: Chart) -> Markup:
    """The chart as a `<figure>`: its question as the heading, the SVG, a legend and the caption."""
    lo, hi = chart.domain

    def xpos(v: float) -> float:
        return LABEL_W + PLOT_W * (min(max(v, lo), hi) - lo) / (hi - lo)

    colours = _series_colours(chart)
    shown = [(x_ref, label) for x_ref, label in chart.refs if lo <= x_ref <= hi]
    rows = _label_rows([(xpos(x_ref), label) for x_ref, label in shown])
    body, y = [], float(TOP + (16 + 12 * max(rows) if rows else 0))
    plot_top = y
    for heading, bars in chart.groups:
        if heading:
            lines = wrap_label(heading, HEADING_CHARS)
            height = _height(lines, GROUP_H)
            body.append(_lines(lines, 8, y + height - 11 - (len(lines) - 1) * LINE_H / 2, "group"))
            y += height
        for bar in bars:
            markup, height = _row(bar, y, xpos, colours[bar.series], chart)
            body.append(markup)
            y += height
    refs = []
    for (x_ref, label), row in zip(shown, rows, strict=True):
        x = xpos(x_ref)
        refs.append(tag("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=plot_top - 4 - 12 * row, y2=y, class_="ref"))
        refs.append(text("text", label, x=f"{x:.1f}", y=plot_top - 8 - 12 * row, class_="ref-label"))
    height = y + BOTTOM
    svg = tag("svg", _axis(chart, xpos, plot_top, y) + "".join(body) + "".join(refs),
              viewBox=f"0 0 {WIDTH} {height:.0f}", role="img", aria_label=chart.question,
              xmlns="http://www.w3.org/2000/svg", class_="chart")
    legend = ""
    if len(colours) > 1:
        legend = tag("div", (tag("span", _swatch(c) + esc(name or "-"),
                                 class_="key") for name, c in colours.items()), class_="legend")
    caption = text("figcaption", chart.caption) if chart.caption else ""
    return tag("figure", text("h3", chart.question) + legend + svg + caption, class_="chart-figure")
