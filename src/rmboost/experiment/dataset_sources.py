"""The experiment's data for the TL;DR and UltraFeedback formats (the RMBoost paper's other two data
sets): the training prompt records, the Real pairs, the test pairs, how many training prompts there
were, and the split rule, for `dataset.prepare` to write and describe.

TL;DR is split by the file's own `split` field: `train` comparisons give the training prompts (one
per post, the post as context) and the Real pairs, `valid2` comparisons the test pairs (the human
pairs the paper evaluates on), from `data.test_path` when given; `valid1` is not used. A `valid2`
comparison of a post that is also among the training comparisons is left out and counted (`LEAKED`),
so no test post was a training prompt. UltraFeedback has no split field: its pairs are split by a
hash of the prompt (`data/splits.py`), unless `data.test_path` gives the test pairs (the binarized
`test_prefs`). `train_prompts` keeps the first prompts by id and the Real pairs of those prompts.
What the loaders count inside rows (stripped texts, unrated completions) goes to the run log; the
rows they leave out are in the counter. Reading the rows is `rmboost.data`'s job.
"""

from __future__ import annotations

from typing import Any

from rmboost.data.splits import pairs_of_prompts, split_pairs
from rmboost.data.splits import prompt_records as pair_prompt_records
from rmboost.data.tldr import load_comparisons, vote
from rmboost.data.tldr import prompt_records as post_records
from rmboost.data.ultrafeedback import load_ultrafeedback
from rmboost.errors import UserError
from rmboost.experiment.config import ExperimentConfig
from rmboost.experiment.log import log
from rmboost.io.rows import SkipCounter
from rmboost.records import Pair

FORMATS = ("tldr", "ultrafeedback")
LEAKED = "valid2 comparisons of a post that is also a training post"
# (training prompt records, Real pairs, test pairs, training prompts available, split rule)
Sides = tuple[list[dict[str, Any]], list[Pair], list[Pair], int, str]


def _check(c: ExperimentConfig, train: int, test: int, what: str) -> None:
    d = c.data
    if test == 0:
        raise UserError(f"{d.test_path or d.path}: field 'data.{'test_path' if d.test_path else 'path'}': "
                        f"no test {what}; give data.test_path or more data")
    if train == 0:
        raise UserError(f"{d.path}: field 'data.path': no training {what}")


def tldr_sides(c: ExperimentConfig, counter: SkipCounter) -> Sides:
    d = c.data
    train = load_comparisons(d.path, "train", counter)
    valid2 = load_comparisons(d.test_path or d.path, "valid2", counter)
    posts = {x.post_id for x in train}
    for _ in (x for x in valid2 if x.post_id in posts):
        counter.leave_out(LEAKED)
    valid2 = [x for x in valid2 if x.post_id not in posts]
    _check(c, len(train), len(valid2), "comparisons")
    records = sorted(post_records(train), key=lambda r: str(r["id"]))
    kept = records[: c.train_prompts]
    ids = {r["id"] for r in kept}
    real = [p for p in vote(train, counter) if p.extra["question_id"] in ids]
    rule = "train comparisons for training, valid2 for testing, by the file's split field"
    return kept, real, vote(valid2, counter), len(records), rule + (" (valid2 from data.test_path)" * bool(d.test_path))


def ultrafeedback_sides(c: ExperimentConfig, counter: SkipCounter) -> Sides:
    d = c.data
    rows = load_ultrafeedback(d.path, counter)
    if d.test_path:
        train, test, rule = rows, load_ultrafeedback(d.test_path, counter), "test pairs from data.test_path"
    else:
        train, test, rule = split_pairs(rows, "train"), split_pairs(rows, "test"), "split by a hash of the prompt"
    _check(c, len(train), len(test), "pairs")
    records = pair_prompt_records(train, c.task)
    kept = records[: c.train_prompts]
    return kept, pairs_of_prompts(train, {r["id"] for r in kept}), test, len(records), rule


def sides(c: ExperimentConfig, counter: SkipCounter) -> Sides:
    """The data of a `tldr` or `ultrafeedback` config; the counts inside rows are logged."""
    out = tldr_sides(c, counter) if c.data.format == "tldr" else ultrafeedback_sides(c, counter)
    if counter.notes:
        log("data: " + "; ".join(f"{n} {reason}" for reason, n in counter.notes.items()))
    return out
