"""The PNG figures: a pair file's diagnostics and the experiment's accuracy chart. Matplotlib is
imported lazily with the Agg backend, so nothing here needs a screen.

Both stay readable at a laptop's width (at most `MAX_WIDTH` inches at `DPI`, 1200 pixels): more
pair files or training sets make a figure taller, never wider, and a long name wraps onto more
lines instead of being cut, so two names that differ still read differently. What a figure's words
mean is in its caption, under the plot. What it leaves out: computing the numbers
(`diagnostics.py`, `summary.py`).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

DPI = 100
MAX_WIDTH = 12.0  # inches
COLUMNS = 3  # pair files side by side in the stats figure
CAPTION_CHARS = 140  # characters per caption line across the widest figure


def wrap(text: str, width: int) -> str:
    """`text` with each of its lines broken into lines of at most `width` characters, after a space
    or hyphen where it can and inside a word where it must; no character but those spaces is lost."""
    return "\n".join("\n".join(textwrap.wrap(line, width, break_on_hyphens=True) or [""])
                     for line in text.split("\n"))


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, plt: Any, path: str | Path, caption: str) -> Path:
    """Lay the figure out above its caption (wrapped to the figure's width) and write it."""
    width = fig.get_figwidth()
    text = wrap(caption, int(CAPTION_CHARS * width / MAX_WIDTH))
    lines = text.count("\n") + 1
    share = min(0.5, (0.2 + 0.18 * lines) / fig.get_figheight())
    fig.text(0.01, 0.01, text, ha="left", va="bottom", fontsize=9, color="#444444")
    fig.tight_layout(rect=(0, share, 1, 1))
    out = Path(path)
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out


def _aspects_panel(ax: Any, name: str, stats: Any) -> None:
    items = sorted(stats.aspects.items(), key=lambda kv: -kv[1])
    ax.set_title(wrap(f"{name}: aspects", 36), fontsize=10)
    if items:
        ax.barh([wrap(k, 16) for k, _ in items], [v for _, v in items], color="tab:blue")
        ax.invert_yaxis()  # the most frequent first
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlabel("pairs naming it", fontsize=8)
    else:  # human pairs carry no aspects: say so rather than draw an empty axis
        ax.text(0.5, 0.5, "no aspects recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()


def _words_panel(ax: Any, name: str, stats: Any) -> None:
    if stats.chosen_words is None:  # no pair: no mean, not a mean of 0 words
        ax.set_title(wrap(f"{name}: words", 36), fontsize=10)
        ax.text(0.5, 0.5, "no pairs", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    ax.bar(["chosen", "rejected"], [stats.chosen_words, stats.rejected_words], color=["tab:green", "tab:red"])
    ax.set_ylabel("mean words", fontsize=8)
    ax.set_title(wrap(f"{name}: words (chosen longer {100 * stats.chosen_longer_share:.0f}%)", 36), fontsize=10)


def plot_stats(stats: list[Any], path: str | Path) -> Path:
    """Per pair file (`COLUMNS` side by side, more below): its aspect histogram above its lengths."""
    plt = _pyplot()
    cols = max(1, min(len(stats), COLUMNS))
    blocks = max(1, math.ceil(len(stats) / cols))
    fig, axes = plt.subplots(2 * blocks, cols, figsize=(4 * cols, 5.6 * blocks + 0.8), squeeze=False)
    for i in range(blocks * cols):
        top, bottom = axes[2 * (i // cols)][i % cols], axes[2 * (i // cols) + 1][i % cols]
        if i < len(stats):
            name = Path(stats[i].file).stem
            _aspects_panel(top, name, stats[i])
            _words_panel(bottom, name, stats[i])
        else:
            top.set_axis_off()
            bottom.set_axis_off()
    caption = ("Aspects: how many pairs name each aspect (what an RMBoost rewrite aimed at; other methods "
               "record the task's whole list). Words: the mean length of the chosen and of the rejected "
               "response; chosen longer: the share of pairs whose chosen response has more words (50% = no "
               "length bias).")
    return _save(fig, plt, path, caption)


def _set_words(sets: list[str]) -> str:
    """What the training set names of the accuracy chart mean, for its caption."""
    words = ["real = the human-labelled training pairs", "a method's name = its synthetic pairs, cut to one size",
             "real+X = the two together"]
    if any("oracle-rewrite" in s for s in sets):
        words.append("oracle-rewrite = known-good pairs (human corrections), -flipped = the same pairs flipped")
    return "; ".join(words)


def plot_accuracies(rows: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Grouped horizontal bars: one group per training set (downwards), one bar per reward-model
    kind, 95% CI whiskers. `rows` hold `train_set`, `rm`, `accuracy`, `ci_low`, `ci_high`."""
    plt = _pyplot()
    sets = list(dict.fromkeys(r["train_set"] for r in rows))
    kinds = list(dict.fromkeys(r["rm"] for r in rows))
    height = 0.8 / max(len(kinds), 1)
    fig, ax = plt.subplots(figsize=(10, 2.6 + 0.3 * len(sets) * max(len(kinds), 1) + 0.3 * title.count("\n")))
    for k, kind in enumerate(kinds):
        ys, xs, lo, hi = [], [], [], []
        for i, name in enumerate(sets):
            for r in rows:
                if r["train_set"] == name and r["rm"] == kind:
                    ys.append(i + k * height)
                    xs.append(r["accuracy"])
                    lo.append(max(0.0, r["accuracy"] - r["ci_low"]))  # never negative, even rounded
                    hi.append(max(0.0, r["ci_high"] - r["accuracy"]))
        ax.barh(ys, xs, height, xerr=[lo, hi], capsize=3, label=kind)
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks([i + height * (len(kinds) - 1) / 2 for i in range(len(sets))])
    ax.set_yticklabels([wrap(s, 24) for s in sets], fontsize=9)
    ax.invert_yaxis()  # the first set at the top
    ax.set_xlabel("pairwise accuracy on human-labelled test pairs (95% bootstrap interval)")
    ax.set_xlim(0.3, 1.0)
    ax.set_title(wrap(title, 90), fontsize=10)
    ax.legend(title="reward model", fontsize=8, loc="best")
    caption = f"Dashed line: chance (0.5). Training sets: {_set_words(sets)}."
    return _save(fig, plt, path, caption)
