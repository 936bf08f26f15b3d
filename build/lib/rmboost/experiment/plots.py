"""The PNG figures: a pair file's diagnostics and the experiment's accuracy chart. Matplotlib is
imported lazily with the Agg backend, so nothing here needs a screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_stats(stats: list[Any], path: str | Path) -> Path:
    """One column per pair file: its aspect histogram and its length bias."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, len(stats), figsize=(4 * len(stats), 6), squeeze=False)
    for col, s in enumerate(stats):
        name = Path(s.file).stem
        ax = axes[0][col]
        items = sorted(s.aspects.items(), key=lambda kv: -kv[1])
        ax.set_title(f"{name}: aspects")
        if items:
            ax.bar([k for k, _ in items], [v for _, v in items], color="tab:blue")
            ax.tick_params(axis="x", rotation=45)
        else:  # human pairs carry no aspects: say so rather than draw an empty axis
            ax.text(0.5, 0.5, "no aspects recorded", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        ax = axes[1][col]
        ax.bar(["chosen", "rejected"], [s.chosen_words, s.rejected_words], color=["tab:green", "tab:red"])
        ax.set_title(f"{name}: words (chosen longer {100 * s.chosen_longer_share:.0f}%)")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def plot_accuracies(rows: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Grouped bars: one group per training set, one bar per reward-model kind, 95% CI whiskers.
    `rows` hold `train_set`, `rm`, `accuracy`, `ci_low`, `ci_high`."""
    plt = _pyplot()
    sets = list(dict.fromkeys(r["train_set"] for r in rows))
    kinds = list(dict.fromkeys(r["rm"] for r in rows))
    width = 0.8 / max(len(kinds), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(sets) * max(len(kinds), 1)), 4.5))
    for k, kind in enumerate(kinds):
        xs, ys, lo, hi = [], [], [], []
        for i, name in enumerate(sets):
            for r in rows:
                if r["train_set"] == name and r["rm"] == kind:
                    xs.append(i + k * width)
                    ys.append(r["accuracy"])
                    lo.append(r["accuracy"] - r["ci_low"])
                    hi.append(r["ci_high"] - r["accuracy"])
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=kind)
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks([i + width * (len(kinds) - 1) / 2 for i in range(len(sets))])
    ax.set_xticklabels(sets, rotation=30, ha="right")
    ax.set_ylabel("pairwise accuracy on human-labelled test pairs")
    ax.set_ylim(0.3, 1.0)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
