"""The calibration part of an experiment's report, from `results.json`'s `calibration` section and
`headline`: the sentence that answers the experiment's question as far as the calibration allows,
the table of what each (reward-model kind, yardstick) can see, and a small inline SVG line chart
of accuracy against the share of flipped labels, one line per (kind, yardstick).

Pure functions of the parsed JSON; a section the file lacks is not shown. Interactivity is left out.
"""

from __future__ import annotations

import math
from typing import Any

from rmboost.report.markup import Markup, esc, interval, table, tag, text

WIDTH, HEIGHT, PAD = 520, 260, 44
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")


def headline(results: dict[str, Any]) -> Markup:
    if not isinstance(results.get("headline"), str):
        return ""
    return tag("p", tag("strong", esc(results["headline"])), class_="banner")


def _rows(section: Any) -> list[dict[str, Any]]:
    if not isinstance(section, dict):
        return []
    need = {"rm", "yardstick", "sensitivity", "sensitivity_ci", "mdd", "readable", "dose_response"}
    return [r for r in section.get("rows") or [] if isinstance(r, dict) and need <= r.keys()]


def calibration_table(rows: list[dict[str, Any]], flips: list[float]) -> Markup:
    def acc(r: dict[str, Any] | None) -> Markup:
        return esc(f"{r['accuracy']:.3f}") if isinstance(r, dict) and r.get("accuracy") is not None else "-"

    body = []
    for r in rows:
        dose = {d.get("flipped"): d for d in r["dose_response"] if isinstance(d, dict)}
        lo, hi = r["sensitivity_ci"]
        body.append([esc(r["rm"]), esc(r["yardstick"]), acc(r.get("untrained")), *[acc(dose.get(f)) for f in flips],
                     interval(r["sensitivity"], lo, hi, signed=True), esc(f"{r['mdd']:.3f}"),
                     tag("span", esc("yes" if r["readable"] else "no"), class_="sig" if r["readable"] else None)])
    return table(["reward model", "yardstick", "untrained", *[f"flip {f:g}" for f in flips],
                  "sensitivity [95% CI]", "smallest readable difference", "readable"], body)


def _xy(flipped: float, accuracy: float, domain: tuple[float, float] = (0.0, 1.0)) -> tuple[float, float]:
    lo, hi = domain
    x = PAD + flipped * (WIDTH - 2 * PAD)
    y = HEIGHT - PAD - (accuracy - lo) / (hi - lo) * (HEIGHT - 2 * PAD)
    return round(x, 1), round(y, 1)


def _domain(rows: list[dict[str, Any]]) -> tuple[float, float]:
    """Accuracies to show: every point and chance, on a 0.05 grid (0.4-0.6 at the least)."""
    values = [float(d["accuracy"]) for r in rows for d in r["dose_response"]
              if isinstance(d, dict) and isinstance(d.get("accuracy"), (int, float))]
    lo, hi = min(values + [0.4]), max(values + [0.6])
    return math.floor(lo * 20) / 20, math.ceil(hi * 20) / 20


def dose_chart(rows: list[dict[str, Any]]) -> Markup:
    """Accuracy against the flipped share (0-1); a dashed line is a (kind, yardstick) that is not readable."""
    dom = _domain(rows)
    mid = _xy(0, 0.5, dom)[1]
    parts = [f'<line x1="{PAD}" y1="{mid}" x2="{WIDTH - PAD}" y2="{mid}" class="ref" stroke="#999" '
             'stroke-dasharray="2 3"/>']
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = _xy(v, dom[0], dom)[0]
        parts.append(f'<text x="{x}" y="{HEIGHT - PAD + 16}" text-anchor="middle" font-size="11">{v:g}</text>')
    steps = round((dom[1] - dom[0]) / 0.05)
    for k in range(0, steps + 1, max(1, steps // 4)):
        acc = dom[0] + 0.05 * k
        parts.append(f'<text x="{PAD - 6}" y="{_xy(0, acc, dom)[1] + 4}" text-anchor="end" font-size="11">'
                     f'{acc:.2f}</text>')
    legend = []
    for i, r in enumerate(rows):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join("{},{}".format(*_xy(float(d["flipped"]), float(d["accuracy"]), dom))
                          for d in r["dose_response"] if isinstance(d, dict) and d.get("accuracy") is not None)
        dash = "" if r["readable"] else ' stroke-dasharray="6 4"'
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        legend.append(tag("li", tag("span", "&#9632; ", style=f"color:{colour}")
                          + esc(f"{r['rm']} / {r['yardstick']}" + ("" if r["readable"] else " (not readable)"))))
    axes = (f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle" font-size="12">share of Real\'s questions '
            f'with flipped labels</text><text x="12" y="{HEIGHT / 2}" font-size="12" transform="rotate(-90 12 '
            f'{HEIGHT / 2})" text-anchor="middle">test accuracy</text>')
    svg = (f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px" role="img" '
           f'aria-label="accuracy against the share of flipped labels">{"".join(parts)}{axes}</svg>')
    caption = text("p", "A reward model that learns from its labels falls from a (trained on Real) to about 1 - a "
                   "(every label flipped); a flat line is a model whose score comes from a built-in formula, not its "
                   "labels. Dashed: not readable at this size. Grey: chance (0.5).", class_="note")
    return tag("figure", svg + tag("ul", "".join(legend), class_="legend") + caption)


def calibration_section(results: dict[str, Any]) -> Markup:
    section = results.get("calibration")
    if not isinstance(section, dict):
        return ""
    head = text("h2", "Calibration: what each reward model can see")
    rows = _rows(section)
    if not rows:
        return head + text("p", f"Calibration: {section.get('note', 'no model trained yet')}.", class_="note")
    flips = [float(f) for f in section.get("flip_fractions") or [0.0, 1.0]]
    intro = text("p", "Sensitivity = accuracy trained on Real minus accuracy trained on Real with every label "
                 "flipped (95% paired interval over test questions). A (reward model, yardstick) is readable when "
                 "that interval lies above 0 and the sensitivity exceeds the smallest difference it can resolve; "
                 "no verdict is printed anywhere else.", class_="note")
    return head + intro + calibration_table(rows, flips) + dose_chart(rows)


def agreement_section(results: dict[str, Any]) -> Markup:
    """Label agreement with the humans, per Syn set over the data set's own responses (no reward model)."""
    section = results.get("agreement")
    rows = [r for r in (section or {}).get("rows") or [] if isinstance(r, dict) and "set" in r] \
        if isinstance(section, dict) else []
    if not rows:
        return ""

    def share(r: dict[str, Any], k: str) -> Markup:
        if not isinstance(r.get(k), (int, float)):
            return "-"
        return interval(r[k], r[f"{k}_low"], r[f"{k}_high"]) + tag("div", esc(f"n={r.get(f'{k}_n')}"), class_="sub")

    intro = text("p", "The share of each set's pairs oriented as the annotators labelled the same two responses "
                 "(human ties left out), the first-listed and overlap rules on the same pairs, and for RMBoost the "
                 "share of rewrites of a human-corrected response whose direction matches their label. No reward "
                 "model in between.", class_="note")
    body = table(["set", "pairs", "agrees with the humans", "rule: first listed", "rule: overlap",
                  "rlaif: order-averaged", "rewrite direction"],
                 ([esc(r["set"]), esc(r.get("pairs", 0)), share(r, "labels"), share(r, "first"), share(r, "overlap"),
                   share(r, "rlaif_order_averaged"), share(r, "direction")] for r in rows))
    return text("h2", "Label agreement with humans") + intro + body
