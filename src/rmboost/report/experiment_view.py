"""The experiment part of a report, from an experiment folder's `results.json`: the accuracy table
with intervals and its chart, the paired differences and their forest plot, the controls' verdict
(when the run recorded one), and what generation cost.

Pure functions of the parsed `results.json`; a key the file does not have is a section the page
does not show. What it leaves out: the pair sets' diagnostics (`overview.py`).
"""

from __future__ import annotations

import json
from typing import Any

from rmboost.data.qa_feedback import CONTROL_SETS
from rmboost.measure.interval_text import difference_text
from rmboost.report.calibration_view import agreement_section, calibration_section, headline
from rmboost.report.charts import Bar, Chart, padded_domain, render
from rmboost.report.markup import Markup, esc, interval, table, tag, text

MAX_DEPTH = 4


def result_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (train set, kind): the seed-combined rows when the run had several seeds."""
    rows = results.get("combined") or results.get("results") or []
    return [r for r in rows if isinstance(r, dict) and {"train_set", "rm", "accuracy", "ci_low", "ci_high"} <= r.keys()]


# How the report names the experiment's baselines (`rm/evaluate.py`'s keys).
BASELINE_NAMES = {"longer": "always the longer response", "first": "always the first listed",
                  "overlap": "overlap (the response with more of the prompt's words)"}


# What the accuracy chart's colours (`_family`) mean, for its caption.
FAMILIES = {"Real": "the human-labelled training pairs", "Syn": "one method's synthetic pairs",
            "Control": "known-good pairs (human corrections) or the same pairs flipped",
            "Real+Syn": "Real and one Syn set together",
            "Calibration": "Real with the labels of a share of its questions flipped (real-flipN), Real cut to a share "
                           "of its questions (real-qN), draws of Real at the Syn sets' size (real-nN-dK[-flipN]), "
                           "or the model before training (untrained)",
            "Real+Control": "Real and one control set together"}


def _family(train_set: str) -> str:
    if train_set == "real":
        return "Real"
    if train_set == "untrained" or train_set.startswith(("real-flip", "real-q", "real-n")):
        return "Calibration"
    kind = "Control" if train_set.removeprefix("real+") in CONTROL_SETS else "Syn"
    return f"Real+{kind}" if train_set.startswith("real+") else kind


def _cell(r: dict[str, Any] | None) -> Markup:
    if r is None:
        return ""
    notes = [f"n_train={r.get('train_pairs', '?')}"]
    if r.get("same_model_as"):
        notes.append(f"same pairs as {r['same_model_as']}")
    seeds = r.get("seed_accuracies")
    if isinstance(seeds, list) and seeds:
        notes.append(f"{len(seeds)} seeds {min(seeds):.3f}-{max(seeds):.3f}")
    return interval(r["accuracy"], r["ci_low"], r["ci_high"]) + tag("div", esc(", ".join(notes)), class_="sub")


def results_table(rows: list[dict[str, Any]]) -> Markup:
    kinds = list(dict.fromkeys(r["rm"] for r in rows))
    sets = list(dict.fromkeys(r["train_set"] for r in rows))
    by = {(r["train_set"], r["rm"]): r for r in rows}
    return table(["train set", *kinds], ([esc(s)] + [_cell(by.get((s, k))) for k in kinds] for s in sets))


def baselines_text(rows: list[dict[str, Any]]) -> Markup:
    b = rows[0].get("baselines") if rows else None
    if not isinstance(b, dict) or not b:
        return ""
    parts = [esc(f"{BASELINE_NAMES.get(k, k)}: ") + interval(v["accuracy"], v["ci_low"], v["ci_high"])
             for k, v in b.items() if isinstance(v, dict) and "accuracy" in v]
    return tag("p", esc("Trivial baselines on the same test pairs: ") + "; ".join(parts), class_="note")


def accuracy_chart(rows: list[dict[str, Any]]) -> Chart:
    kinds = list(dict.fromkeys(r["rm"] for r in rows))
    groups = [(f"reward model: {k}", [Bar(r["train_set"], r["accuracy"], r["ci_low"], r["ci_high"],
                                          series=_family(r["train_set"])) for r in rows if r["rm"] == k])
              for k in kinds]
    refs = [(0.5, "chance")]
    b = rows[0].get("baselines") if rows else None
    if isinstance(b, dict):
        refs += [(v["accuracy"], k) for k, v in b.items() if isinstance(v, dict) and "accuracy" in v]
    values = [r[key] for r in rows for key in ("ci_low", "ci_high")] + [x for x, _ in refs]
    # A margin, so a whisker or a line never sits on the frame.
    domain = padded_domain([min(values) - 0.02, max(values) + 0.02], step=0.05)
    # The lines carry the short keys; the caption says what each baseline does.
    names = [BASELINE_NAMES.get(label, label) for _, label in refs[1:]]
    lines = ["chance"] + [n if n.startswith(label) else f"{label} = {n}"
                          for (_, label), n in zip(refs[1:], names, strict=True)]
    families = dict.fromkeys(_family(r["train_set"]) for r in rows)
    colours = "; ".join(f"{f} = {FAMILIES[f]}" for f in families if f in FAMILIES)
    return Chart("Which training data gives the most accurate reward model?", groups, domain,
                 "pairwise accuracy on human-labelled test pairs (95% bootstrap interval)", refs=refs,
                 dots=True,  # bars from a cut axis would exaggerate the differences
                 caption=f"Colours: {colours}. Reference lines: " + ", ".join(lines) + ".")


def differences_table(diffs: list[dict[str, Any]]) -> Markup:
    """One row per (comparison, kind, yardstick): the difference and the verdict the calibration allows."""
    def cell(d: dict[str, Any]) -> Markup:
        seen = d["ci_low"] > 0 or d["ci_high"] < 0
        return tag("span", interval(d["difference"], d["ci_low"], d["ci_high"], signed=True),
                   class_="sig" if seen else None, title="the interval excludes 0" if seen else None)

    return table(["A - B", "reward model", "yardstick", "difference", "verdict"], (
        [esc(f"{d['a']} - {d['b']}"), esc(d["rm"]), esc(d.get("yardstick", "human-pairs")), cell(d),
         tag("span", esc(d.get("verdict", "")), class_="sig" if d.get("readable") else "sub")] for d in diffs))


def differences_chart(diffs: list[dict[str, Any]]) -> Chart:
    kinds = list(dict.fromkeys(d["rm"] for d in diffs))
    groups = [(f"reward model: {k}", [
        Bar(f"{d['a']} - {d['b']}", d["difference"], d["ci_low"], d["ci_high"],
            series="interval excludes 0" if d["ci_low"] > 0 or d["ci_high"] < 0 else "interval includes 0",
            note=f"{d['difference']:+.3f}") for d in diffs if d["rm"] == k]) for k in kinds]
    values = [d[key] for d in diffs for key in ("ci_low", "ci_high")] + [0.0]
    return Chart("Which differences can this test set see?", groups, padded_domain(values, step=0.05),
                 "accuracy of A minus accuracy of B on the same test pairs (95% bootstrap interval)",
                 refs=[(0.0, "no difference")], dots=True, fmt=lambda x: f"{x:+.2f}",
                 caption="Intervals resample test questions; one that excludes 0 is a difference this test set "
                 "can see.")


def json_view(value: Any, depth: int = 0) -> Markup:
    """Any JSON value as markup: a list of objects as a table, an object as a key/value table."""
    if isinstance(value, float):
        return esc(f"{value:.4g}")
    if isinstance(value, bool) or value is None:
        return esc(json.dumps(value))
    if not isinstance(value, (dict, list)):
        return esc(value)
    if depth >= MAX_DEPTH:
        return esc(json.dumps(value, default=str)[:200])
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        keys = list(dict.fromkeys(k for v in value for k in v))
        return table(keys, ([json_view(v.get(k, ""), depth + 1) for k in keys] for v in value))
    if isinstance(value, list):
        return esc(", ").join(json_view(v, depth + 1) for v in value)
    return table(["", ""], ([esc(k), json_view(v, depth + 1)] for k, v in value.items()), class_="grid kv")


def controls_section(controls: Any) -> Markup:
    """The controls' verdict per (kind, yardstick), weighing every control row (the calibration
    decides whether a verdict may be read at all). Another shape is shown as it is."""
    head = text("h2", "Controls")
    if not isinstance(controls, dict):
        return head + json_view(controls)
    verdicts = [v for v in controls.get("verdicts") or [] if isinstance(v, dict) and isinstance(v.get("rows"), list)]
    if not verdicts:
        return head + text("p", f"Controls: {controls.get('note', 'none in this run')}.", class_="note")
    intro = text("p", f"{controls.get('pairs', '?')} known-good pairs (a human correction chosen over the "
                 "original answer) against the same pairs flipped. The yardstick sees the known-good data when "
                 "the difference is above 0 by at least the smallest readable difference and no control row lies "
                 "clearly below 0.", class_="note")
    body = table(["reward model", "yardstick", "control rows", "verdict"], (
        [esc(v.get("rm", "?")), esc(v.get("yardstick", "?")),
         esc("; ".join(difference_text(r) for r in v["rows"] if isinstance(r, dict))),
         tag("span", esc(v.get("verdict", "")), class_="sig" if v.get("verdict", "").startswith("the yardstick sees")
             else None)] for v in verdicts))
    return head + intro + body


def generation_table(gen: list[dict[str, Any]]) -> Markup:
    cols = [("set", "set"), ("method", "method"), ("pairs made", "pairs"), ("failures", "failures"),
            ("resumed", "skipped_done"), ("calls sent", "calls_sent"), ("from cache", "cache_hits")]
    rows = [[esc(g.get(key, "")) for _, key in cols] + [esc(f"{float(g.get('wall_seconds') or 0):.0f}")]
            for g in gen if isinstance(g, dict)]
    return table([c for c, _ in cols] + ["wall s"], rows)


def experiment_section(results: dict[str, Any]) -> Markup:
    config: dict[str, Any] = results["config"] if isinstance(results.get("config"), dict) else {}
    parts = [text("h2", f"Results: {config.get('name', 'experiment')}"), headline(results)]
    if results.get("note"):
        parts.append(text("p", f"Partial results ({results['note']}).", class_="banner"))
    parts.append(calibration_section(results))
    rows = result_rows(results)
    if rows:
        parts += [tag("p", esc("Pairwise accuracy of each reward model on the human-labelled test pairs, "
                               "95% bootstrap interval."), class_="note"),
                  results_table(rows), baselines_text(rows), render(accuracy_chart(rows))]
    diffs = [d for d in results.get("differences") or [] if isinstance(d, dict)
             and {"a", "b", "rm", "difference", "ci_low", "ci_high"} <= d.keys()]
    if diffs:
        primary = [d for d in diffs if d.get("yardstick", "human-pairs") == diffs[0].get("yardstick", "human-pairs")]
        parts += [text("h2", "Paired differences"), differences_table(diffs), render(differences_chart(primary))]
    parts.append(agreement_section(results))
    if results.get("controls"):
        parts.append(controls_section(results["controls"]))
    if results.get("generation"):
        parts += [text("h2", "Generation in the last invocation"), generation_table(results["generation"])]
    return "".join(parts)
