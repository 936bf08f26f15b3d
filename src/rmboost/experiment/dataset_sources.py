"""The experiment's data for the TL;DR and UltraFeedback formats (the RMBoost paper's other two data
sets): the training prompt records, the Real pairs, the test pairs, how many training prompts there
were, and the split rule, for `dataset.prepare` to write and describe.

TL;DR (`data.path`: one file, a list, a folder or a glob) is split by the file's own `split` field:
the `data.train_split` comparisons (default `train`) give the training prompts (one per post, the post
as context) and the Real pairs, the `data.test_split` ones (default `valid2`, the paper's evaluation
split) the test pairs, from `data.test_path` when given. With `data.split_by: post` each post is on
the side a hash of its id gives (`tldr.split_sides`), so files without `train` rows can be used. A
test comparison of a training post is left out and counted (`LEAKED`), so no test post was a
training prompt. UltraFeedback has no split field: its pairs are split by a hash of the prompt
(`data/splits.py`), unless `data.test_path` gives the test pairs (the binarized `test_prefs`).
`train_prompts` keeps the first prompts by id and the Real pairs of those prompts. What the loaders
count inside rows (stripped texts, ids made from the text, confidences) goes to the run log; the
rows they leave out are in the counter. Reading the rows is `rmboost.data`'s job.
"""

from __future__ import annotations

from typing import Any

from rmboost.data import tldr
from rmboost.data.splits import pairs_of_prompts, split_pairs
from rmboost.data.splits import prompt_records as pair_prompt_records
from rmboost.data.ultrafeedback import load_ultrafeedback
from rmboost.errors import UsageError, UserError
from rmboost.experiment.config import ExperimentConfig
from rmboost.experiment.log import log
from rmboost.io.rows import SkipCounter
from rmboost.records import Pair

FORMATS = ("tldr", "ultrafeedback")
# (training prompt records, Real pairs, test pairs, training prompts available, split rule, and the
# training prompts with the responses people compared and their labels: None when the data has none)
Sides = tuple[list[dict[str, Any]], list[Pair], list[Pair], int, str, list[dict[str, Any]] | None]


def _check(c: ExperimentConfig, train: int, test: int, what: str) -> None:
    d = c.data
    if test == 0:
        raise UserError(f"{d.test_path or d.file}: field 'data.{'test_path' if d.test_path else 'path'}': "
                        f"no test {what}; give data.test_path or more data")
    if train == 0:
        raise UserError(f"{d.file}: field 'data.path': no training {what}")


def _tldr_rule(c: ExperimentConfig, train: tuple[str, ...], test: tuple[str, ...]) -> str:
    d = c.data
    if (train, test, d.split_by) == ((tldr.TRAIN_SPLIT,), (tldr.TEST_SPLIT,), None):
        rule = "train comparisons for training, valid2 for testing, by the file's split field"
    else:
        def named(splits: tuple[str, ...]) -> str:
            return "all" if set(splits) == set(tldr.SPLITS) else "+".join(splits)

        rule = f"{named(train)} comparisons for training, {named(test)} for testing" + (
            ", each post on one side by a hash of its id" if d.split_by == "post" else ", by the file's split field")
    return rule + (" (test comparisons from data.test_path)" * bool(d.test_path))


def _tldr_empty(side: str, splits: tuple[str, ...], loaded: list[tldr.Loaded]) -> UserError:
    """The one-line refusal of a side with no comparison: the files, and which splits they hold (exit
    2 when they hold none of the side's splits, 3 when the rules left none)."""
    files = ", ".join(f for x in loaded for f in x.held)
    held = {s for x in loaded for splits_held in x.held.values() for s in splits_held}
    hint = f"; choose data.{side}_split from those, or set data.split_by: post" if not held & set(splits) else \
        " (the others are left out: CNN/DM rows, one text twice, malformed, or the other side of the split)"
    what = "training" if side == "train" else "test"
    error = UsageError if not held & set(splits) else UserError  # a split the files lack is a usage mistake
    return error(f"{files}: field 'data.{side}_split': no {what} comparisons of {'+'.join(splits)}; the files "
                 f"hold {'; '.join(x.held_text() for x in loaded)}{hint}")


def tldr_sides(c: ExperimentConfig, counter: SkipCounter) -> Sides:
    d = c.data
    train_splits = tldr.split_names(d.train_split, tldr.TRAIN_SPLIT)
    test_splits = tldr.split_names(d.test_split, tldr.TEST_SPLIT)
    if d.test_path:
        loaded = [tldr.read_comparisons(d.path, train_splits, counter),
                  tldr.read_comparisons(d.test_path, test_splits, counter)]
    else:
        loaded = [tldr.read_comparisons(d.path, sorted({*train_splits, *test_splits}), counter)]
    train, test = tldr.split_sides(loaded[0].comparisons, loaded[1].comparisons if d.test_path else None,
                                   train_splits, test_splits, d.split_by == "post", counter)
    if not train:
        raise _tldr_empty("train", train_splits, loaded[:1])
    if not test:
        raise _tldr_empty("test", test_splits, loaded[-1:])
    records = sorted(tldr.prompt_records(train), key=lambda r: str(r["id"]))
    kept = records[: c.train_prompts]
    ids = {r["id"] for r in kept}
    real = [p for p in tldr.vote(train, counter) if p.extra["question_id"] in ids]
    pool = sorted((r for r in tldr.prompt_records(train, "all") if r["id"] in ids), key=lambda r: str(r["id"]))
    return kept, real, tldr.vote(test, counter), len(records), _tldr_rule(c, train_splits, test_splits), pool


def ultrafeedback_sides(c: ExperimentConfig, counter: SkipCounter) -> Sides:
    d = c.data
    rows = load_ultrafeedback(d.file, counter)
    if d.test_path:
        train, test, rule = rows, load_ultrafeedback(d.test_path, counter), "test pairs from data.test_path"
    else:
        train, test, rule = split_pairs(rows, "train"), split_pairs(rows, "test"), "split by a hash of the prompt"
    _check(c, len(train), len(test), "pairs")
    records = pair_prompt_records(train, c.task)
    kept = records[: c.train_prompts]
    return kept, pairs_of_prompts(train, {r["id"] for r in kept}), test, len(records), rule, None


def sides(c: ExperimentConfig, counter: SkipCounter) -> Sides:
    """The data of a `tldr` or `ultrafeedback` config; the counts inside rows are logged."""
    out = tldr_sides(c, counter) if c.data.format == "tldr" else ultrafeedback_sides(c, counter)
    if counter.notes:
        log("data: " + "; ".join(f"{n} {reason}" for reason, n in counter.notes.items()))
    return out
