"""OpenAI's TL;DR comparisons (Stiennon et al. 2020, summarize-from-feedback `comparisons/batch*.json`)
as prompt records and as human-labelled preference pairs.

One JSON line is one worker's comparison: `info` {`id`, `post`, `title`, `subreddit`}, `summaries`
(two {`text`, `policy`, `note`}), `choice` (the index of the preferred summary), `worker`, `batch`,
`split` (`train`, `valid1`, `valid2`; evaluation uses `valid2`) and, in some batches, `extra`
{`confidence`}. The rules for what the real files hold (docs/DATASETS.md gives the counts on the
fixtures):

- CNN/DM rows (`info.article` and `info.site` instead of `post` and `subreddit`) are news articles,
  not Reddit posts: left out and counted (`CNNDM`).
- Summary texts with spaces around them (policy samples start with one) are stripped; each such
  text is counted in the counter's `notes` (`STRIPPED`).
- A comparison of two summaries that are one text once stripped is no preference: left out (`SAME_TEXT`).
- The same two summaries of a post compared more than once in a split (several workers, sometimes
  choosing differently) make one pair, by majority vote (`vote`): the other comparisons of the group
  are counted under `MERGED`; a group whose votes split evenly makes no pair and all its comparisons
  are counted under `TIED`.

So every line read is a pair, a counted left-out comparison or a counted malformed line. A line that
is not an object, or has no `info.id`, no `post` (or `article`), not two summaries with a `text`, a
`choice` that is missing or not an index of `summaries`, or a `split` not of the three, is an
`InputError` naming file, line and field. `note`, `policy`, `worker`, `batch` and `extra` are not
needed; a null `note` or an absent `extra` is fine. The axis evaluations (`axis_evals/`) are not read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rmboost.errors import InputError, UsageError
from rmboost.io.rows import SkipCounter, read_rows, require_rows, write_rows
from rmboost.prompts.tasks import load_task
from rmboost.records import Pair

TLDRSplit = Literal["train", "valid1", "valid2", "all"]
SPLITS = ("train", "valid1", "valid2")
TASK = "summarization"
# The request the policy sees (the summarization task puts it after "Summarise the text below.").
INSTRUCTION = "The text is a Reddit post: write its TL;DR, one or two sentences long."
CNNDM = "CNN/DM article, not a Reddit post"
SAME_TEXT = "both summaries are the same text"
MERGED = "repeat comparison of the same two summaries (merged by majority vote)"
TIED = "comparisons of the same two summaries whose votes split evenly"
STRIPPED = "summary texts with spaces around them (stripped)"


@dataclass(frozen=True, slots=True)
class Comparison:
    post_id: str
    split: str
    context: str  # "SUBREDDIT: r/...\nTITLE: ...\nPOST: ...", the TL;DR data set's query layout
    summaries: tuple[str, str]
    policies: tuple[str, str]
    choice: int


def _text(value: Any, source: str, line: int, field: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(source, line, field, "must be a non-empty string" if required else "must be a string")
    return value


def _summaries(row: dict[str, Any], source: str, line: int) -> tuple[list[str], list[str]]:
    summaries = row.get("summaries")
    if not isinstance(summaries, list) or len(summaries) != 2:
        raise InputError(source, line, "summaries", "must be a list of two summaries")
    texts, policies = [], []
    for i, s in enumerate(summaries):
        if not isinstance(s, dict):
            raise InputError(source, line, f"summaries[{i}]", "must be an object with 'text'")
        texts.append(_text(s.get("text"), source, line, f"summaries[{i}].text"))
        policies.append(str(s.get("policy") or ""))
    return texts, policies


def parse_comparison(row: Any, source: str, line: int) -> tuple[Comparison, bool, int]:
    """One line as (comparison, is it a CNN/DM row, how many of its summary texts had spaces around them)."""
    if not isinstance(row, dict):
        raise InputError(source, line, None, "expected a JSON object")
    info = row.get("info")
    if not isinstance(info, dict):
        raise InputError(source, line, "info", "must be an object with id and post")
    post_id = _text(info.get("id"), source, line, "info.id")
    cnndm = "post" not in info and "article" in info
    if cnndm:
        body = _text(info.get("article"), source, line, "info.article")
        header = f"SITE: {_text(info.get('site'), source, line, 'info.site', False)}"
    else:
        body = _text(info.get("post"), source, line, "info.post")
        header = f"SUBREDDIT: r/{_text(info.get('subreddit'), source, line, 'info.subreddit', False)}"
    title = _text(info.get("title"), source, line, "info.title", False)
    texts, policies = _summaries(row, source, line)
    choice = row.get("choice")
    if "choice" not in row:
        raise InputError(source, line, "choice", "is missing (the index of the preferred summary, 0 or 1)")
    if isinstance(choice, bool) or choice not in (0, 1):
        raise InputError(source, line, "choice", f"must be 0 or 1 (an index of summaries), got {choice!r}")
    split = row.get("split")
    if split not in SPLITS:
        raise InputError(source, line, "split", f"must be one of {', '.join(SPLITS)}, got {split!r}")
    stripped = tuple(t.strip() for t in texts)
    context = f"{header}\nTITLE: {title.strip()}\nPOST: {body.strip()}"
    comparison = Comparison(post_id, str(split), context, (stripped[0], stripped[1]),
                            (policies[0], policies[1]), int(choice))
    return comparison, cnndm, sum(a != b for a, b in zip(texts, stripped, strict=True))


def _paths(paths: str | Path | Sequence[str | Path]) -> list[str | Path]:
    return [paths] if isinstance(paths, str | Path) else list(paths)


def load_comparisons(
    paths: str | Path | Sequence[str | Path], split: TLDRSplit = "all", counter: SkipCounter | None = None
) -> list[Comparison]:
    """The Reddit comparisons of `split` in one or more comparison files, in file order, with the
    CNN/DM and same-text rules applied (see the module docstring); lines of other splits are not kept."""
    if split not in (*SPLITS, "all"):
        raise UsageError(f"unknown TL;DR split {split!r}; choose one of {', '.join(SPLITS)}, all")
    counter = counter or SkipCounter()
    out = []
    for path in _paths(paths):
        require_rows(path, "comparisons")
        for line, row in read_rows(path, counter):
            try:
                comparison, cnndm, stripped = parse_comparison(row, str(path), line)
            except InputError as e:
                counter.bad(e)
                continue
            if split != "all" and comparison.split != split:
                continue
            counter.note(STRIPPED, stripped)
            if cnndm:
                counter.leave_out(CNNDM)
            elif comparison.summaries[0] == comparison.summaries[1]:
                counter.leave_out(SAME_TEXT)
            else:
                out.append(comparison)
    return out


def _digest(*texts: str) -> str:
    return hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()[:12]


def vote(comparisons: Sequence[Comparison], counter: SkipCounter | None = None) -> list[Pair]:
    """One pair per (split, post, two summaries), chosen by majority vote of its comparisons, in the
    order of each group's first comparison. A group that ties makes no pair."""
    counter = counter or SkipCounter()
    groups: dict[tuple[str, str, frozenset[str]], list[Comparison]] = {}
    for c in comparisons:
        groups.setdefault((c.split, c.post_id, frozenset(c.summaries)), []).append(c)
    task = load_task(TASK)
    out = []
    for group in groups.values():
        first = group[0]
        votes = {text: 0 for text in first.summaries}
        for c in group:
            votes[c.summaries[c.choice]] += 1
        a, b = first.summaries
        if votes[a] == votes[b]:
            for _ in group:
                counter.leave_out(TIED)
            continue
        for _ in group[1:]:
            counter.leave_out(MERGED)
        win = 0 if votes[a] > votes[b] else 1
        out.append(Pair(
            id=f"tldr-{first.post_id}:{_digest(*sorted(first.summaries))}",
            prompt=task.render_user(INSTRUCTION, first.context),
            chosen=first.summaries[win],
            rejected=first.summaries[1 - win],
            method="human",
            task=TASK,
            extra={"question_id": f"tldr-{first.post_id}", "split": first.split, "chosen_listed_first": win == 0,
                   "votes": [votes[first.summaries[win]], votes[first.summaries[1 - win]]],
                   "chosen_policy": first.policies[win], "rejected_policy": first.policies[1 - win]},
        ))
    return out


def prompt_records(comparisons: Sequence[Comparison], with_responses: str | None = None) -> list[dict[str, Any]]:
    """One prompt record per post, in order of first appearance: `{"id", "prompt": INSTRUCTION,
    "context": the post, "task": "summarization"}`; with `with_responses="all"`, also `"responses"`:
    every distinct summary of the post that its comparisons show, in order of appearance, and `"pairs"`:
    the index pairs of `responses` that workers compared (so a judge compares what people did)."""
    if with_responses not in (None, "all"):
        raise UsageError(f"--with-responses takes 'all', got {with_responses!r}")
    records: dict[str, dict[str, Any]] = {}
    for c in comparisons:
        record = records.setdefault(c.post_id, {"id": f"tldr-{c.post_id}", "prompt": INSTRUCTION,
                                                "context": c.context, "task": TASK, "responses": [], "pairs": []})
        texts = record["responses"]
        texts.extend(t for t in c.summaries if t not in texts)
        pair = sorted(texts.index(t) for t in c.summaries)
        if pair not in record["pairs"]:
            record["pairs"].append(pair)
    if with_responses is None:
        for record in records.values():
            del record["responses"], record["pairs"]
    return list(records.values())


def export(
    paths: str | Path | Sequence[str | Path],
    output: str | Path,
    split: TLDRSplit = "all",
    as_: Literal["pairs", "prompts"] = "pairs",
    fmt: str | None = None,
    counter: SkipCounter | None = None,
    with_responses: str | None = None,
) -> int:
    """Write the comparisons of `split` as TRL pairs (one per voted pair of summaries) or as prompt
    records (JSONL, or Parquet with `fmt="parquet"`); return the number of rows written."""
    if with_responses is not None and as_ != "prompts":
        raise UsageError("--with-responses applies to --as prompts only")
    counter = counter or SkipCounter()
    comparisons = load_comparisons(paths, split, counter)
    rows = prompt_records(comparisons, with_responses) if as_ == "prompts" else [
        p.to_dict() for p in vote(comparisons, counter)]
    return write_rows(output, rows, fmt)
