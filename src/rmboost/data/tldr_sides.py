"""TL;DR's split rule for the experiment, and the check of the `data:` section that chooses it.

`data.path` is one file, a list, a folder or a glob. The file's own `split` field chooses the sides:
the `data.train_split` comparisons (default `train`) give the training prompts (one per post, the post
as context) and the Real pairs, the `data.test_split` ones (default `valid2`, the paper's evaluation
split) the test pairs, from `data.test_path` when given. With `data.split_by: post` each post is on
the side a hash of its id gives (`tldr.split_sides`), so files without `train` rows can be used. A
test comparison of a training post is left out and counted (`tldr.LEAKED`), so no test post was a
training prompt. `train_prompts` keeps the first posts by id and the Real pairs of those posts.
Reading and voting the comparisons is `tldr.py`'s; the other data sets' rules are `splits.py`'s.
"""

from __future__ import annotations

from pathlib import Path

from rmboost.data import tldr
from rmboost.data.splits import DataSection, Sides
from rmboost.errors import UsageError, UserError, about
from rmboost.io.rows import SkipCounter


def check_section(data: DataSection) -> None:
    """The files exist, the splits are TL;DR's, and no post can be on both sides (one split on both
    sides, not split by post). Each refusal names its field; the caller adds the config file."""
    if not (isinstance(data.path, str) or (isinstance(data.path, list) and data.path
                                           and all(isinstance(f, str) for f in data.path))):
        raise UsageError(f"field 'data.path' must be a file, folder or glob, or a list of them, got {data.path!r}")
    files: dict[str, list[Path]] = {}
    for name, given in (("path", data.path), ("test_path", data.test_path)):
        if given is not None:
            with about(f"field 'data.{name}'"):
                files[name] = tldr.comparison_files(given)
    for name, found in files.items():
        for f in found:
            if not f.is_file():
                raise UserError(f"field 'data.{name}': no such file {f}")
    both = {f.resolve() for f in files["path"]} & {f.resolve() for f in files.get("test_path", [])}
    if both:
        raise UsageError(f"field 'data.test_path': {sorted(both)[0]} is also in data.path; give the test "
                         "file only once (data.test_split and data.split_by choose its test side)")
    with about("field 'data.train_split'"):
        train = tldr.split_names(data.train_split, tldr.TRAIN_SPLIT)
    with about("field 'data.test_split'"):
        test = tldr.split_names(data.test_split, tldr.TEST_SPLIT)
    if data.split_by not in (None, "post"):
        raise UsageError(f"field 'data.split_by' must be post (a hash of the post id) or left out, "
                         f"got {data.split_by!r}")
    shared = [s for s in train if s in test]
    if shared and data.split_by is None and data.test_path is None:
        raise UsageError(f"field 'data.test_split': {', '.join(shared)} is also a training split, so its "
                         "posts would be on both sides; set data.split_by: post, or choose other splits")


def _rule(d: DataSection, train: tuple[str, ...], test: tuple[str, ...]) -> str:
    if (train, test, d.split_by) == ((tldr.TRAIN_SPLIT,), (tldr.TEST_SPLIT,), None):
        rule = "train comparisons for training, valid2 for testing, by the file's split field"
    else:
        def named(splits: tuple[str, ...]) -> str:
            return "all" if set(splits) == set(tldr.SPLITS) else "+".join(splits)

        rule = f"{named(train)} comparisons for training, {named(test)} for testing" + (
            ", each post on one side by a hash of its id" if d.split_by == "post" else ", by the file's split field")
    return rule + (" (test comparisons from data.test_path)" * bool(d.test_path))


def _empty(side: str, splits: tuple[str, ...], loaded: list[tldr.Loaded]) -> UserError:
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


def tldr_sides(d: DataSection, train_prompts: int | None, task: str, counter: SkipCounter) -> Sides:
    """TL;DR's sides, with the pool of the training posts' compared summaries and their labels."""
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
        raise _empty("train", train_splits, loaded[:1])
    if not test:
        raise _empty("test", test_splits, loaded[-1:])
    records = sorted(tldr.prompt_records(train), key=lambda r: str(r["id"]))
    kept = records[:train_prompts]
    ids = {r["id"] for r in kept}
    real = [p for p in tldr.vote(train, counter) if p.extra["question_id"] in ids]
    pool = sorted((r for r in tldr.prompt_records(train, "all") if r["id"] in ids), key=lambda r: str(r["id"]))
    return Sides(kept, real, tldr.vote(test, counter), len(records), _rule(d, train_splits, test_splits), pool)
