"""The one registry of data formats: every data set rmboost reads is one `DataFormat` in `FORMATS`,
which says, once, what every command needs of it: its loader (a file as pairs, for `train --format`
and `eval --format`) and the kinds of rows its files hold, the generation task its prompts are
written for, the experiment's split rule (`splits.py`, `tldr_sides.py`), the yardsticks its test side
gives, and the `rmboost data` command that converts its files. `train`, `eval`, the experiment's
config check and data, and the table in docs/DATASETS.md (`table`) all read it, so adding a data set
is its own module plus one entry here. Parsing rows is each loader's job; scoring on a yardstick is
`experiment/yardsticks.py`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from rmboost.data.hh import load_hh
from rmboost.data.qa_feedback import Split, load_questions, pairs
from rmboost.data.rewardbench import load_rewardbench
from rmboost.data.splits import DataSection, SideRule, pair_file_sides, question_sides
from rmboost.data.tldr import CONFIDENT_STRENGTH
from rmboost.data.tldr import TASK as TLDR_TASK
from rmboost.data.tldr_sides import check_section as check_tldr_section
from rmboost.data.tldr_sides import tldr_sides
from rmboost.data.trl_pairs import load_trl_pairs
from rmboost.data.ultrafeedback import TASK as ULTRAFEEDBACK_TASK
from rmboost.data.ultrafeedback import load_ultrafeedback
from rmboost.errors import UsageError
from rmboost.io.row_kinds import PAIRS, expect_rows
from rmboost.io.rows import SkipCounter
from rmboost.records import Pair

# The yardsticks a format's test side can give (what each one is: `experiment/yardsticks.py`).
HUMAN_PAIRS = "human-pairs"
CONFIDENT_HUMAN_PAIRS = "confident-human-pairs"
HUMAN_CORRECTIONS = "human-corrections"
GPT4_PAIRS = "gpt4-pairs"

# A file of a format as pairs; the split (train, test, all) is QA-Feedback's, the others read it all.
PairLoader = Callable[[str | Path, SkipCounter | None, Split], list[Pair]]


@dataclass(frozen=True)
class DataFormat:
    """One data format. `load` None: `train` and `eval` take its files only as `rmboost data` converts
    them; `sides` None: no experiment on it; `task` None: an experiment names its task
    (`generation.task`); `check_section` None: `data.path` is one file and the split fields do not
    apply. `given` names the variants over the data set's own responses its prompts allow
    (`given_response`: a prediction rewritten; `given_responses`: the pool people compared)."""

    name: str
    title: str
    module: str  # the loader, for the docs' table
    split: str = ""  # the experiment's split rule, in words, for the docs' table
    task: str | None = None
    yardsticks: tuple[str, ...] = (HUMAN_PAIRS,)
    load: PairLoader | None = None
    reads: tuple[str, ...] = ()  # the kinds of rows its files hold (`io/row_kinds.py`), refused otherwise
    sides: SideRule | None = None
    check_section: Callable[[DataSection], None] | None = None
    command: str | None = None  # `rmboost data COMMAND` converts its files
    confident_at: float | None = None  # the `strength` a confident human label has, when labels carry one
    given: tuple[str, ...] = ()


def _trl(path: str | Path, counter: SkipCounter | None, split: Split = "all") -> list[Pair]:
    """A TRL pair file. One that is binarized UltraFeedback (its rows carry `score_chosen`) is read by
    the UltraFeedback loader, which leaves out ties (equal scores) as `rmboost data ultrafeedback` does."""
    if Path(path).is_file() and expect_rows(path, PAIRS, "--format trl") == "ultrafeedback-binarized":
        return load_ultrafeedback(path, counter)
    return load_trl_pairs(path, counter)


def _qa_feedback(path: str | Path, counter: SkipCounter | None, split: Split = "all") -> list[Pair]:
    return pairs(load_questions(path, split, counter))


def _whole(load: Callable[[str | Path, SkipCounter | None], list[Pair]]) -> PairLoader:
    """A loader of a format without QA-Feedback's split by question."""
    def whole(path: str | Path, counter: SkipCounter | None, split: Split = "all") -> list[Pair]:
        return load(path, counter)

    return whole


_FIRST_TURN = "split by a hash of the prompt's first user turn"
FORMATS: dict[str, DataFormat] = {f.name: f for f in (
    DataFormat("qa-feedback", "QA-Feedback", "data/qa_feedback.py", "hash of the question, or `test_path`",
               task="qa",
               yardsticks=(HUMAN_PAIRS, HUMAN_CORRECTIONS), load=_qa_feedback, reads=("qa-feedback",),
               sides=question_sides, command="qa-feedback", given=("given_response", "given_responses")),
    DataFormat("hh", "HH-RLHF", "data/hh.py", "hash of the prompt's first user turn, or `test_path`", task="chat",
               load=_whole(load_hh), reads=("pairs",),
               sides=partial(pair_file_sides, load=load_hh, rule=_FIRST_TURN, what="rows")),
    DataFormat("trl", "TRL pair file", "data/trl_pairs.py", "hash of the prompt's first user turn, or `test_path`",
               load=_trl, reads=PAIRS,
               sides=partial(pair_file_sides, load=_trl, rule=_FIRST_TURN, what="rows")),
    DataFormat("rewardbench", "RewardBench", "data/rewardbench.py", load=_whole(load_rewardbench), reads=("pairs",)),
    DataFormat("tldr", "TL;DR", "data/tldr.py", "the file's `split` field (`train` / `valid2` by default), or by "
               "a hash of the post id", task=TLDR_TASK, yardsticks=(HUMAN_PAIRS, CONFIDENT_HUMAN_PAIRS),
               sides=tldr_sides, check_section=check_tldr_section, command="tldr",
               confident_at=CONFIDENT_STRENGTH, given=("given_responses",)),
    DataFormat("ultrafeedback", "UltraFeedback (GPT-4-rated, not human)", "data/ultrafeedback.py",
               "hash of the prompt, or `test_path` (`test_prefs`)", task=ULTRAFEEDBACK_TASK, yardsticks=(GPT4_PAIRS,),
               sides=partial(pair_file_sides, load=load_ultrafeedback, rule="split by a hash of the prompt",
                             what="pairs"),
               command="ultrafeedback"),
)}


def data_format(name: str) -> DataFormat:
    """The registered format `name`; an unknown one is a one-line `UsageError` naming the known ones."""
    if name not in FORMATS:
        raise UsageError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}")
    return FORMATS[name]


def named(what: str) -> list[str]:
    """The formats that have `what` (`load`, `sides`, `command`, ...), in the registry's order."""
    return [f.name for f in FORMATS.values() if getattr(f, what)]


def offering(variant: str) -> list[str]:
    """The formats whose prompts allow `variant` (`given_response`, `given_responses`)."""
    return [f.name for f in FORMATS.values() if variant in f.given]


def load_pairs(
    path: str | Path, fmt: str = "trl", counter: SkipCounter | None = None, split: Split = "all"
) -> list[Pair]:
    """Load preference pairs from `path` in format `fmt` (one that has a loader: `named("load")`).
    `split` applies to QA-Feedback only."""
    load = FORMATS[fmt].load if fmt in FORMATS else None
    if load is None:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(named('load'))}")
    return load(path, counter, split)


def expect_format(path: str | Path, fmt: str, command: str) -> None:
    """Refuse, before reading it, a file that holds another kind of rows than format `fmt`'s."""
    expect_rows(path, FORMATS[fmt].reads, f"{command} --format {fmt}")


def table() -> str:
    """The registry as the Markdown table of docs/DATASETS.md (a test keeps the two the same)."""
    def code(value: str | None, prefix: str = "") -> str:
        return f"`{prefix}{value}`" if value else "-"

    lines = ["| data set | loader | converter | `train`, `eval` `--format` | experiment `data.format` | task | "
             "split | yardsticks |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for f in FORMATS.values():
        task = code(f.task) if f.task else "named in `generation.task`" if f.sides else "-"
        lines.append(f"| {f.title} | `{f.module}` | {code(f.command, 'rmboost data ')} | "
                     f"{code(f.name if f.load else None)} | {code(f.name if f.sides else None)} | {task} | "
                     f"{f.split or '-'} | {', '.join(map(code, f.yardsticks)) if f.sides else '-'} |")
    return "\n".join(lines) + "\n"
