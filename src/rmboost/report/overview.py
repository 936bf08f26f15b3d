"""The report's overview of its pair sets: a diagnostics table (one column per set) and the charts
that answer one question each: are chosen responses just longer, why did prompts fail, which
aspects did the method choose. (Agreement with a reward model trained on Real is not drawn: for
West-of-N it is the very model that picked the pairs; agreement with the humans' own labels is
`rmboost agree`'s.)

A chart only shows the sets it applies to and says which it leaves out: no failure chart for a set
without failures, no aspects chart for a set that did not choose aspects (`set_stats.py` says
when that is). What it leaves out: the experiment's
accuracy tables (`experiment_view.py`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rmboost.report.charts import Bar, Chart, render
from rmboost.report.markup import Markup, esc, fmt_num, fmt_pct, table, tag, text
from rmboost.report.set_stats import SetStats


def stats_by_set(stats: list[SetStats], files: dict[str, Path], results: dict[str, Any] | None) -> dict[str, dict]:
    """Each set's entry of results.json `stats` (the experiment's diagnostics), matched by file name."""
    entries = (results or {}).get("stats") or []
    by_file = {Path(str(e.get("file", ""))).name: e for e in entries if isinstance(e, dict)}
    return {s.name: by_file.get(files[s.name].name, {}) for s in stats}


def _rows(stats: list[SetStats], extra: dict[str, dict]) -> list[tuple[str, list[str]]]:
    def ext(name: str, key: str) -> float | None:
        value = extra.get(name, {}).get(key)
        return value if isinstance(value, (int, float)) else None

    rows = [
        ("pairs", [f"{s.pairs:,}" for s in stats]),
        ("failures (share of prompts)", [f"{s.failures:,} ({fmt_pct(s.failure_rate)})" for s in stats]),
        ("labels BETTER / WORSE", [f"{s.better} / {s.worse}" if s.better + s.worse else "n/a" for s in stats]),
        ("mean words chosen / rejected", [f"{fmt_num(s.chosen_words, 1)} / {fmt_num(s.rejected_words, 1)}"
                                          if s.pairs else "n/a" for s in stats]),
        ("chosen is longer (length bias)", [fmt_pct(s.chosen_longer_share) for s in stats]),
        ("distinct-1 / distinct-2", [f"{fmt_num(s.distinct_1)} / {fmt_num(s.distinct_2)}" if s.pairs else "n/a"
                                     for s in stats]),
        ("embedding diversity", [fmt_num(ext(s.name, "embedding_diversity")) for s in stats]),
        ("duplicate pairs", [fmt_pct(ext(s.name, "duplicate_share")) for s in stats]),
        ("tokens per pair", [fmt_num(ext(s.name, "tokens_per_pair"), 0) for s in stats]),
        ("aspects", [s.aspects_text() for s in stats]),
    ]
    if any(s.bad_rows for s in stats):
        rows.append(("rows left out (not a pair or failure)", [str(s.bad_rows) for s in stats]))
    # A measure no set has (no reference model, embeddings off) is noise: drop its row.
    return [(label, cells) for label, cells in rows if any(c != "n/a" for c in cells)]


def diagnostics_table(stats: list[SetStats], extra: dict[str, dict]) -> Markup:
    # Non-breaking spaces keep "76.3 / 76.5" and "16 (10.7%)" on one line, so ten sets fit a laptop.
    def cell(value: str) -> Markup:
        return esc(value.replace(" / ", "\u00a0/\u00a0").replace(" (", "\u00a0("))

    rows = [[text("th", label, scope="row")] + [cell(c) for c in cells] for label, cells in _rows(stats, extra)]
    head = tag("thead", tag("tr", text("th", "") + "".join(text("th", s.name) for s in stats)))
    body = tag("tbody", (tag("tr", row[0] + "".join(tag("td", c) for c in row[1:])) for row in rows))
    return tag("div", tag("table", head + body, class_="grid diagnostics"), class_="table-wrap")


def _left_out(names: list[str], why: str) -> str:
    return f" Not drawn for {', '.join(names)}: {why}." if names else ""


def length_chart(stats: list[SetStats]) -> Chart | None:
    drawn = [s for s in stats if s.chosen_longer_share is not None]
    if not drawn:
        return None
    bars = [Bar(s.name, s.chosen_longer_share or 0.0, note=f"{fmt_pct(s.chosen_longer_share, 0)}  "
                f"({fmt_num(s.chosen_words, 0)} vs {fmt_num(s.rejected_words, 0)} words)") for s in drawn]
    return Chart("Are the chosen responses just the longer ones?", [("", bars)], (0.0, 1.0),
                 "share of pairs whose chosen response has more words", refs=[(0.5, "no bias")],
                 fmt=lambda x: f"{100 * x:.0f}%",
                 caption="A share far from 50% means a reward model can score well on these pairs by "
                         "preferring length alone." + _left_out(
                             [s.name for s in stats if s.chosen_longer_share is None], "no pairs"))


# What a failure's stage names: the step, or the LLM call (its `purpose`), that failed; a digit is
# the sample's number. For the failures chart's caption, which explains the stages it shows.
STAGES = {
    "input": "a row of the prompt file that cannot be read", "pair": "the pair as a whole",
    "llm": "an LLM call", "y1": "RMBoost's first response",
    "y2": "RMBoost's rewrite of y1 (the other side of the pair)",
    "verify": "the judge's check of an RMBoost label (--verify)",
    "judge": "the judge's two verdicts taken together", "judge_ab": "the judge's call with y1 shown first",
    "judge_ba": "the judge's call with the two responses swapped (y2 shown first), which exposes a "
                "position bias",
    "sample": "West-of-N's samples taken together", "sampleN": "sample N (RLAIF, West-of-N)",
    "score": "West-of-N's scoring", "scoreN": "West-of-N's score of sample N",
    "select": "West-of-N picking its best and worst sample",
    "positive": "RLCD's response to the positive prompt", "negative": "RLCD's response to the negative prompt",
}


def stage_notes(reasons: list[str]) -> str:
    """`Stages: y2 = ...; judge_ba = ...` for the stages of these `stage: reason` keys."""
    notes = {}
    for key in reasons:
        stage = key.split(":", 1)[0].strip()
        generic = stage if stage in STAGES else re.sub(r"\d+$", "N", stage)
        if generic in STAGES:
            notes[generic] = STAGES[generic]
    return " Stages: " + "; ".join(f"{k} = {v}" for k, v in notes.items()) + "." if notes else ""


def failures_chart(stats: list[SetStats]) -> Chart | None:
    drawn = [s for s in stats if s.failures]
    if not drawn:
        return None
    groups = [(f"{s.name} ({s.failures:,} failures)", [Bar(k, float(v), note=f"{v:,}")
                                                        for k, v in s.failure_reasons.items()]) for s in drawn]
    top = max(v for s in drawn for v in s.failure_reasons.values())
    notes = stage_notes([k for s in drawn for k in s.failure_reasons])
    return Chart("Why did prompts fail?", groups, (0.0, float(top)), "failures (stage: reason)", integer=True,
                 fmt=lambda x: f"{x:,.0f}", caption="Each bar is a stage and the reason it failed for." + notes
                 + " Browse them in the Failures tab." + _left_out([s.name for s in stats if not s.failures],
                                                                     "no failures"))


def aspects_chart(stats: list[SetStats]) -> Chart | None:
    drawn = [s for s in stats if s.aspects_vary]
    if not drawn:
        return None
    groups = [(s.name, [Bar(k, v / s.pairs, note=f"{v:,} ({fmt_pct(v / s.pairs, 0)})")
                        for k, v in s.aspects.items()]) for s in drawn]
    top = max(v / s.pairs for s in drawn for v in s.aspects.values())
    return Chart("Which aspects did the rewrites target?", groups, (0.0, min(1.0, top)),
                 "share of the set's pairs that name the aspect", fmt=lambda x: f"{100 * x:.0f}%",
                 caption="Drawn only for sets whose pairs carry different aspect lists." + _left_out(
                     [s.name for s in stats if not s.aspects_vary], "every pair carries the same list, or none"))


SUMMARY_COLUMNS = (("pairs made", "pairs"), ("in the file", "pairs_in_output"), ("failures", "failures"),
                   ("resumed", "skipped_done"), ("input errors", "input_errors"), ("calls sent", "calls_sent"),
                   ("from cache", "cache_hits"), ("prompt tokens", "prompt_tokens"),
                   ("completion tokens", "completion_tokens"))


def summary_table(summaries: dict[str, dict[str, Any]]) -> Markup:
    """The last generation run of each set, from its `<stem>.summary.json`."""
    def cell(value: Any) -> Markup:
        return esc(f"{value:,}" if isinstance(value, int) else "" if value is None else value)

    rows = [[esc(name)] + [cell(s.get(key)) for _, key in SUMMARY_COLUMNS]
            + [esc(f"{float(s.get('wall_seconds') or 0):.1f}"), esc(s.get("stopped_early") or "")]
            for name, s in summaries.items()]
    return (text("h2", "Last generation run") +
            table(["set", *(c for c, _ in SUMMARY_COLUMNS), "wall s", "stopped early"], rows))


def overview_section(stats: list[SetStats], files: dict[str, Path], results: dict[str, Any] | None,
                     summaries: dict[str, dict[str, Any]] | None = None) -> Markup:
    extra = stats_by_set(stats, files, results)
    charts = [c for c in (length_chart(stats), failures_chart(stats),
                          aspects_chart(stats)) if c is not None]
    return ((summary_table(summaries) if summaries else "") + text("h2", "Pair sets")
            + diagnostics_table(stats, extra) + tag("div", (render(c) for c in charts), class_="charts"))
