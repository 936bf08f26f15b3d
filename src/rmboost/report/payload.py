"""The data the page embeds: a compact view of every pair and failure, each distinct prompt stored
once, and, beyond the size limit, a sample of the rows.

The page's second response is an edit of its first for the methods in `EDIT_METHODS` and for any
row that carries an RMBoost `label`: with `BETTER` the rewrite (y2) is the chosen response and the
original (y1) the rejected one, with `WORSE` the other way round; an edit method's row without a
label is read as a rewrite that made it better. `y1` in a pair view names the original's side, and
the page diffs from it to the other side.

Beyond the limit, every set and both kinds of row (pairs, failures) keep the same share of their
rows, the largest share that fits; which rows is decided by a hash of the set and id, not by file
order, so a rerun or a longer file keeps the same rows. What it leaves out: reading files
(`collect.py`) and markup (`page.py`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from rmboost.report.collect import ReportInput, as_text
from rmboost.report.markup import embed_json

EDIT_METHODS = frozenset({"rmboost", "oracle-rewrite", "oracle-rewrite-flipped"})
MAX_TEXT_CHARS = 20_000
MAX_DETAIL_CHARS = 2_000
# Columns every pair has; any other column (verdicts, scores, ...) is shown as the pair's details.
STANDARD_COLUMNS = frozenset({"prompt", "chosen", "rejected", "id", "method", "label", "aspects", "task",
                              "model", "backend", "params", "usage", "conversational"})


def y1_side(row: dict[str, Any]) -> str | None:
    """Which side ("chosen" or "rejected") holds the original response y1 when the other is a
    rewrite of it, or None when the pair is not an edit (see the module docstring)."""
    label = row.get("label")
    if label == "BETTER":
        return "rejected"
    if label == "WORSE":
        return "chosen"
    return "rejected" if row.get("method") in EDIT_METHODS else None


@dataclass
class Clipper:
    """Cuts texts longer than `limit` characters, marking the cut, and counts them."""

    limit: int = MAX_TEXT_CHARS
    clipped: int = 0

    def __call__(self, text: str, limit: int | None = None) -> str:
        limit = limit or self.limit
        if len(text) <= limit:
            return text
        self.clipped += 1
        return f"{text[:limit]} […{len(text) - limit:,} more characters cut by the report]"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def pair_view(row: dict[str, Any], set_index: int, clip: Clipper) -> dict[str, Any]:
    aspects = row.get("aspects")
    extra = {k: v for k, v in row.items() if k not in STANDARD_COLUMNS}
    view: dict[str, Any] = {
        "s": set_index, "id": str(row.get("id", "")), "p": clip(as_text(row.get("prompt"))),
        "c": clip(as_text(row.get("chosen"))), "r": clip(as_text(row.get("rejected"))),
        "m": str(row.get("method") or ""), "l": row.get("label") if isinstance(row.get("label"), str) else None,
        "a": [str(a) for a in aspects] if isinstance(aspects, list) else [], "t": str(row.get("task") or ""),
    }
    side = y1_side(row)
    if side:
        view["y1"] = side
    if extra:
        view["x"] = clip(_compact(extra), MAX_DETAIL_CHARS)
    return view


def failure_view(row: dict[str, Any], set_index: int, prompt: str | None, clip: Clipper) -> dict[str, Any]:
    detail: dict[str, Any] = row["detail"] if isinstance(row.get("detail"), dict) else {}
    raw = next((detail[k] for k in ("raw", "text") if isinstance(detail.get(k), str)), None)
    rest = {k: v for k, v in detail.items() if k not in ("raw", "text")}
    attempts = row.get("attempts")
    return {
        "s": set_index, "id": str(row.get("id", "")), "m": str(row.get("method") or ""),
        "st": str(row.get("stage") or "?"), "rs": str(row.get("reason") or "?"),
        "at": attempts if isinstance(attempts, (int, str)) or attempts is None else _compact(attempts),
        "rt": bool(row.get("retryable")), "raw": clip(raw) if raw is not None else None,
        "d": clip(_compact(rest), MAX_DETAIL_CHARS) if rest else None,
        "p": clip(prompt) if prompt is not None else None,
    }


@dataclass
class Rows:
    """One kind of row of one set, in file order, with what it costs in the page."""

    views: list[dict[str, Any]]
    sizes: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)  # positions, in sample order

    def pick(self, share: float) -> list[int]:
        return sorted(self.order[: math.ceil(share * len(self.views))])


def _sample_order(set_name: str, kind: str, views: list[dict[str, Any]]) -> list[int]:
    # By the id alone (the position only breaks ties between repeated ids), so reordering a file
    # does not change which rows a sample keeps.
    def key(i: int) -> tuple[str, int]:
        return hashlib.sha256(f"{set_name}\0{kind}\0{views[i]['id']}".encode()).hexdigest(), i

    return sorted(range(len(views)), key=key)


def _size(text: Any) -> int:
    return len(embed_json(text).encode("utf-8")) + 1


class Budget:
    """Chooses the share of rows to keep so that the embedded JSON fits in `limit` bytes."""

    def __init__(self, groups: list[Rows], base: int) -> None:
        self.groups = groups
        self.base = base
        self.prompt_ids: dict[str, int] = {}
        self.prompt_sizes: list[int] = []
        for g in groups:
            g.sizes = [_size({k: v for k, v in view.items() if k != "p"}) + 8 for view in g.views]
            for view in g.views:
                if view.get("p") is not None and view["p"] not in self.prompt_ids:
                    self.prompt_ids[view["p"]] = len(self.prompt_sizes)
                    self.prompt_sizes.append(_size(view["p"]))

    def cost(self, share: float) -> int:
        total, prompts = self.base, set()
        for g in self.groups:
            for i in g.pick(share):
                total += g.sizes[i]
                if g.views[i].get("p") is not None:
                    prompts.add(self.prompt_ids[g.views[i]["p"]])
        return total + sum(self.prompt_sizes[p] for p in prompts)

    def share(self, limit: int | None) -> float:
        if limit is None or self.cost(1.0) <= limit:
            return 1.0
        low, high = 0.0, 1.0
        for _ in range(24):
            mid = (low + high) / 2
            low, high = (mid, high) if self.cost(mid) <= limit else (low, mid)
        return low


def _notes(share: float, shown: dict[str, tuple[int, int]], limit: int | None, clipped: int) -> list[str]:
    notes = []
    if share < 1.0 and limit is not None:
        parts = [f"{kept:,} of {total:,} {kind}" for kind, (kept, total) in shown.items() if total]
        notes.append(f"This report holds a sample: {' and '.join(parts)} (the same share of every set, "
                     f"chosen by a hash of each row's id), to stay under {limit / 1e6:.1f} MB. "
                     "Make a complete one with `rmboost report PATH --max-mb 0`.")
    if clipped:
        notes.append(f"{clipped:,} texts longer than {MAX_TEXT_CHARS:,} characters are cut short in this report "
                     "(marked where they are cut).")
    return notes


def build_payload(inp: ReportInput, limit: int | None, header: dict[str, Any]) -> dict[str, Any]:
    """The page's data: `header` plus `sets`, `prompts`, `pairs`, `failures` and `notes`, under
    `limit` bytes of embedded JSON when one is given."""
    clip = Clipper()
    groups: list[Rows] = []
    for si, s in enumerate(inp.sets):
        for kind, views in (("pairs", [pair_view(r, si, clip) for r in s.rows]),
                            ("failures", [failure_view(r, si, s.failure_prompts.get(i), clip)
                                          for i, r in enumerate(s.failures)])):
            groups.append(Rows(views, order=_sample_order(s.name, kind, views)))
    sets: list[dict[str, Any]] = [
        {"name": s.name, "path": str(s.path), "pairs": len(s.rows), "failures": len(s.failures),
         "shown_pairs": len(s.rows), "shown_failures": len(s.failures)} for s in inp.sets]
    # What the rows do not cost: the header, the sets and room for the notes.
    base = _size({**header, "sets": sets, "edit_methods": sorted(EDIT_METHODS)}) + 1024
    share = Budget(groups, base).share(limit)
    prompts: list[str] = []
    index: dict[str, int] = {}
    rows: dict[str, list[dict[str, Any]]] = {"pairs": [], "failures": []}
    for gi, g in enumerate(groups):
        kind = "pairs" if gi % 2 == 0 else "failures"
        picked = g.pick(share)
        sets[gi // 2][f"shown_{kind}"] = len(picked)
        for i in picked:
            view = dict(g.views[i])
            if view.get("p") is not None:
                if view["p"] not in index:
                    index[view["p"]] = len(prompts)
                    prompts.append(view["p"])
                view["p"] = index[view["p"]]
            rows[kind].append(view)
    shown = {kind: (len(rows[kind]), sum(int(s[kind]) for s in sets)) for kind in ("pairs", "failures")}
    return {**header, "sets": sets, "edit_methods": sorted(EDIT_METHODS), "prompts": prompts,
            "pairs": rows["pairs"], "failures": rows["failures"],
            "notes": _notes(share, shown, limit, clip.clipped), "sampled": share < 1.0}
