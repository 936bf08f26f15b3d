"""OpenAI's TL;DR comparisons (Stiennon et al. 2020, summarize-from-feedback `comparisons/*.json`)
as prompt records and as human-labelled preference pairs.

One JSON line is one worker's comparison: `info` {`id`, `post`, `title`, `subreddit`}, `summaries`
(two {`text`, `policy`, `note`}), `choice` (the index of the preferred summary), `worker`, `batch`,
`split` (`train`, `valid1`, `valid2`; evaluation uses `valid2`) and, in most batches, `extra`
{`confidence`}. How one line is read, left out or refused is `tldr_rows.py`'s; here:

- **Files.** A folder stands for its `*.json` files, sorted by name (the official `comparisons/`
  folder as it is); a name with `*`, `?` or `[` is a glob. The same file given twice (by two names,
  or in a folder and by name) is refused: each of its votes would count twice.
- **Same text.** A comparison of two summaries that are one text once stripped is no preference:
  left out (`SAME_TEXT`).
- **Votes.** The same two summaries of a post compared more than once in a split (several workers,
  sometimes choosing differently, in one file or several) make one pair, by majority vote (`vote`):
  the other comparisons of the group are counted under `MERGED`; a group whose votes split evenly
  makes no pair and all its comparisons are counted under `TIED`. A pair's `strength` is the mean,
  over its comparisons with a strength, of the strength of each vote, negative for a vote against
  the chosen summary (one comparison: |confidence - 5|; a split vote lowers it, even below 0).
- **Sides** (`split_sides`, the experiment's): training and test comparisons by the file's `split`
  field, or, with `by_post`, by a hash of the post id (`qa_feedback.split_of`, the rule QA-Feedback
  is split by), so no post is on both sides. Without it, a test comparison of a training post is
  left out (`LEAKED`).

So every line read is a pair, a counted left-out comparison or a counted malformed line. The axis
evaluations (`axis_evals/`) are not read.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from rmboost.data.qa_feedback import split_of
from rmboost.data.row_loop import LeftOut, parsed_rows
from rmboost.data.tldr_rows import SPLITS, Comparison, read_line
from rmboost.errors import UsageError, UserError
from rmboost.io.rows import SkipCounter, require_rows, write_rows
from rmboost.prompts.tasks import load_task
from rmboost.records import Pair

TLDRSplit = Literal["train", "valid1", "valid2", "all"]
TASK = "summarization"
# The request the policy sees (the summarization task puts it after "Summarise the text below.").
INSTRUCTION = "The text is a Reddit post: write its TL;DR, one or two sentences long."
SAME_TEXT = "both summaries are the same text"
MERGED = "repeat comparison of the same two summaries (merged by majority vote)"
TIED = "comparisons of the same two summaries whose votes split evenly"
LEAKED = "test comparisons of a post that is also a training post"
OTHER_SIDE = "comparisons whose post the split by post puts on the side their split is not chosen for"
# The experiment's sides when the config names none: the paper trains on `train` and tests on `valid2`.
TRAIN_SPLIT, TEST_SPLIT = "train", "valid2"
# A pair is a confident human label from this strength on (the upper half of the 1-4 scale;
# docs/DATASETS.md gives the distribution on the official files it was chosen from).
CONFIDENT_STRENGTH = 3.0


def _given(paths: str | Path | Sequence[str | Path]) -> list[str | Path]:
    return [paths] if isinstance(paths, str | Path) else list(paths)


def comparison_files(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """The files `paths` name: a folder's `*.json` files (sorted), a glob's matches (sorted), or the
    file itself (a missing one is refused when read). A file named twice is a `UsageError`."""
    files: list[Path] = []
    for given in _given(paths):
        p = Path(given)
        if p.is_dir():
            found = sorted(f for f in p.glob("*.json") if f.is_file())
            if not found:
                raise UserError(f"{p}: a folder with no comparison files (*.json) in it; give the files")
        elif not p.is_file() and any(ch in str(given) for ch in "*?["):
            found = sorted(Path(f) for f in glob.glob(str(given)) if Path(f).is_file())
            if not found:
                raise UserError(f"{given}: no comparison file matches")
        else:
            found = [p]
        files += found
    if not files:
        raise UsageError("no comparison file given")
    seen: dict[Path, Path] = {}
    for f in files:
        if f.resolve() in seen:
            other = "" if str(seen[f.resolve()]) == str(f) else f" (also as {seen[f.resolve()]})"
            raise UsageError(f"{f}: given twice{other}; each of its votes would count twice")
        seen[f.resolve()] = f
    return files


def split_names(value: Any, default: str) -> tuple[str, ...]:
    """`value` as split names: None (the default), a split, `all`, or a list of splits."""
    if value is None:
        return (default,)
    if value == "all":
        return SPLITS
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or any(n not in SPLITS for n in names) or len(set(names)) < len(names):
        raise UsageError(f"must be one of {', '.join(SPLITS)}, all, or a list of splits, got {value!r}")
    return tuple(names)


@dataclass
class Loaded:
    comparisons: list[Comparison]
    held: dict[str, dict[str, int]] = field(default_factory=dict)  # file -> split -> lines

    def held_text(self) -> str:
        """Which splits each file holds, with their line counts (`a.json: valid2 832, valid1 265`)."""
        return "; ".join(f"{f}: " + (", ".join(f"{s} {n}" for s, n in splits.items()) or "no readable split")
                         for f, splits in self.held.items())


def _comparison(row: Any, source: str, line: int, splits: tuple[str, ...], counter: SkipCounter,
                held: dict[str, int]) -> Comparison | None:
    """One line as a comparison (`tldr_rows.read_line`); one of two summaries of one text is left out."""
    comparison = read_line(row, source, line, splits, counter, held)
    if comparison is not None and comparison.summaries[0] == comparison.summaries[1]:
        raise LeftOut(SAME_TEXT)
    return comparison


def read_comparisons(paths: str | Path | Sequence[str | Path], splits: Sequence[str] | str = "all",
                     counter: SkipCounter | None = None) -> Loaded:
    """The Reddit comparisons of `splits` in the files `paths` names, in file order, every other
    line counted in `counter` (see the module docstrings), and which splits each file holds."""
    chosen = SPLITS if splits == "all" else (splits,) if isinstance(splits, str) else tuple(splits)
    if not set(chosen) <= set(SPLITS):
        raise UsageError(f"unknown TL;DR split {splits!r}; choose one of {', '.join(SPLITS)}, all")
    counter = counter or SkipCounter()
    out = Loaded([])
    for path in comparison_files(paths):
        require_rows(path, "comparisons")
        held = out.held.setdefault(str(path), {})
        out.comparisons += parsed_rows(path, partial(_comparison, splits=chosen, counter=counter, held=held), counter)
    return out


def load_comparisons(paths: str | Path | Sequence[str | Path], split: TLDRSplit = "all",
                     counter: SkipCounter | None = None) -> list[Comparison]:
    """The Reddit comparisons of `split` (see `read_comparisons`)."""
    return read_comparisons(paths, split, counter).comparisons


def _digest(*texts: str) -> str:
    return hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()[:12]


def _strength(group: Sequence[Comparison], winner: str) -> float | None:
    signed = [c.strength if c.summaries[c.choice] == winner else -c.strength for c in group if c.strength is not None]
    return round(sum(signed) / len(signed), 4) if signed else None


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
                   "strength": _strength(group, first.summaries[win]),
                   "chosen_policy": first.policies[win], "rejected_policy": first.policies[1 - win]},
        ))
    return out


def _side(c: Comparison, train: Sequence[str], test: Sequence[str], by_post: bool) -> str:
    post_side = split_of(c.post_id) if by_post else None
    if c.split in train and post_side in (None, "train"):
        return "train"
    if c.split in test and post_side in (None, "test"):
        return "test"
    return OTHER_SIDE


def split_sides(pool: Sequence[Comparison], test_pool: Sequence[Comparison] | None, train_splits: Sequence[str],
                test_splits: Sequence[str], by_post: bool,
                counter: SkipCounter) -> tuple[list[Comparison], list[Comparison]]:
    """(training, test) comparisons: those of `train_splits` and `test_splits` (the test ones from
    `test_pool` when given), with `by_post` each post on the side a hash of its id gives. A test
    comparison of a training post is left out (`LEAKED`), so no test post is a training post."""
    sides: dict[str, list[Comparison]] = {"train": [], "test": [], OTHER_SIDE: []}
    if test_pool is None:
        for c in pool:
            sides[_side(c, train_splits, test_splits, by_post)].append(c)
    else:
        for c in pool:
            sides[_side(c, train_splits, (), by_post)].append(c)
        for c in test_pool:
            sides[_side(c, (), test_splits, by_post)].append(c)
    for _ in sides[OTHER_SIDE]:
        counter.leave_out(OTHER_SIDE)
    posts = {c.post_id for c in sides["train"]}
    for _ in (c for c in sides["test"] if c.post_id in posts):
        counter.leave_out(LEAKED)
    return sides["train"], [c for c in sides["test"] if c.post_id not in posts]


def prompt_records(comparisons: Sequence[Comparison], with_responses: str | None = None) -> list[dict[str, Any]]:
    """One prompt record per post, in order of first appearance: `{"id", "prompt": INSTRUCTION,
    "context": the post, "task": "summarization"}`; with `with_responses="all"`, also `"responses"`:
    every distinct summary of the post that its comparisons show, in order of appearance, `"pairs"`:
    the index pairs of `responses` that workers compared (so a judge compares what people did), and
    `"human"`: each pair's label by majority vote (1: its first response preferred, 2: the second,
    0: an even vote), as QA-Feedback's prompt records carry them for `rmboost agree`."""
    if with_responses not in (None, "all"):
        raise UsageError(f"--with-responses takes 'all', got {with_responses!r}")
    records: dict[str, dict[str, Any]] = {}
    votes: dict[str, list[list[int]]] = {}
    for c in comparisons:
        record = records.setdefault(c.post_id, {"id": f"tldr-{c.post_id}", "prompt": INSTRUCTION,
                                                "context": c.context, "task": TASK, "responses": [], "pairs": []})
        texts = record["responses"]
        texts.extend(t for t in c.summaries if t not in texts)
        pair = sorted(texts.index(t) for t in c.summaries)
        if pair not in record["pairs"]:
            record["pairs"].append(pair)
            votes.setdefault(c.post_id, []).append([0, 0])
        tally = votes[c.post_id][record["pairs"].index(pair)]
        tally[0 if texts.index(c.summaries[c.choice]) == pair[0] else 1] += 1
    for post_id, record in records.items():
        if with_responses is None:
            del record["responses"], record["pairs"]
        else:
            record["human"] = [1 if a > b else 2 if b > a else 0 for a, b in votes[post_id]]
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
    records (JSONL, or Parquet with `fmt="parquet"`); return the number of rows written. A `split`
    that no line of the files holds, when they hold others, is a `UsageError` naming what they hold."""
    if with_responses is not None and as_ != "prompts":
        raise UsageError("--with-responses applies to --as prompts only")
    counter = counter or SkipCounter()
    loaded = read_comparisons(paths, split, counter)
    held = {s for splits in loaded.held.values() for s in splits}
    if split != "all" and held and split not in held:
        raise UsageError(f"--split {split}: no {split} comparison in the files; they hold {loaded.held_text()} "
                         f"(choose --split {' or '.join(s for s in SPLITS if s in held)} or all)")
    comparisons = loaded.comparisons
    rows = prompt_records(comparisons, with_responses) if as_ == "prompts" else [
        p.to_dict() for p in vote(comparisons, counter)]
    return write_rows(output, rows, fmt)
