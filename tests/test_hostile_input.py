"""Hostile input at every reader (prompts, TRL pairs, QA-Feedback, HH, RewardBench, TL;DR comparisons,
UltraFeedback raw and binarized rows): random bytes, invalid UTF-8, deep nesting, huge lines, wrong
types and odd Unicode, and near-valid rows of each official format. Each reader gives a clear
error (a `UserError` naming the file) or a counted skip, never a traceback from deep inside and
never a lost row: every non-blank line comes out as a record or as a counted error. What comes out
can be written as UTF-8 JSON (a lone surrogate would crash the writer or the cache much later).
RMBOOST_SOAK=1 (`make soak`) runs ten times more examples.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rmboost.data.hh import load_hh
from rmboost.data.qa_feedback import load_questions
from rmboost.data.rewardbench import load_rewardbench
from rmboost.data.tldr import load_comparisons, vote
from rmboost.data.trl_pairs import load_trl_pairs
from rmboost.data.ultrafeedback import load_ultrafeedback
from rmboost.errors import InputError, UserError
from rmboost.io.prompts import read_prompts
from rmboost.io.rows import SkipCounter
from rmboost.records import Pair, PromptRecord

SOAK = os.environ.get("RMBOOST_SOAK") == "1"
FUZZ = settings(
    max_examples=1000 if SOAK else 50,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
FIELDS = [
    "prompt",
    "chosen",
    "rejected",
    "id",
    "context",
    "task",
    "subset",
    "role",
    "content",
    "question",
    "passages",
    "prediction 1",
    "prediction 2",
    "prediction 3",
    "prediction 4",
    "preference",
    "info",
    "summaries",
    "choice",
    "split",
    "post",
    "text",
    "instruction",
    "completions",
    "annotations",
    "Rating",
    "score_chosen",
]

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
# A row that nearly fits: the right field names with values of any type, odd Unicode included.
near_rows = st.fixed_dictionaries({}, optional={f: json_values for f in FIELDS})
transcripts = st.lists(
    st.sampled_from(["\n\nHuman: ", "\n\nAssistant: ", "hi", "\u2028", "\x00", ""]), max_size=6
)
hh_rows = st.fixed_dictionaries({"chosen": transcripts.map("".join), "rejected": transcripts.map("".join)})
# Near-valid rows of the paper's data sets: the official shapes, mostly with values of the right kind
# and few distinct texts (so repeats, ties, equal ratings and diverging turns are likely and the
# loaders' rules are reached), sometimes a value of any kind or odd Unicode.


def mostly(valid: st.SearchStrategy[Any], other: st.SearchStrategy[Any] = json_values) -> st.SearchStrategy[Any]:
    """`valid` five times in six, else `other` (`one_of` would draw each about equally)."""
    return st.integers(0, 5).flatmap(lambda i: valid if i else other)


texts = mostly(st.sampled_from(["a", " a", "b", "b\n", "c", "\x00"]), st.sampled_from(["", " ", "\u2028"]) | scalars)
summary = st.fixed_dictionaries({"text": texts}, optional={"policy": scalars, "note": st.none() | texts})
post = mostly(st.sampled_from([{"post": "a post"}, {"post": "a post", "subreddit": "x"}]),
              st.sampled_from([{"article": "a story", "site": "cnn"}, {}, {"post": None}]))
tldr_rows = st.fixed_dictionaries({
    "info": mostly(st.tuples(st.sampled_from(["p1", "p2"]), post).map(lambda t: {"id": t[0], **t[1]})),
    "summaries": mostly(st.tuples(summary, summary).map(list), st.lists(summary, max_size=3) | json_values),
    "choice": mostly(st.sampled_from([0, 1]), st.sampled_from([2, -1, True, None, "1"])),
    "split": mostly(st.sampled_from(["train", "valid2"]), st.sampled_from(["valid1", "test", None])),
}, optional={"extra": json_values})
ratings = mostly(st.sampled_from(["1", "3", "5", "4", " 4", 4, "N/A", "N/A"]), st.sampled_from(["6", None, "", "x"]))
aspects = ("helpfulness", "honesty", "instruction_following", "truthfulness")
completion = st.fixed_dictionaries({
    "response": texts,
    "annotations": mostly(st.fixed_dictionaries({a: st.fixed_dictionaries({"Rating": ratings}) for a in aspects})),
}, optional={"model": scalars})
uf_raw_rows = st.fixed_dictionaries({"instruction": texts, "completions": mostly(st.lists(completion, max_size=4))},
                                    optional={"source": scalars, "models": json_values})
turn = st.fixed_dictionaries({"role": mostly(st.sampled_from(["user", "assistant"]), st.sampled_from(["system", 3])),
                              "content": texts})


def binarized(parts: tuple[list[dict[str, Any]], Any, Any, bool, Any, Any]) -> dict[str, Any]:
    """Two conversations over one prefix (or, when `diverge`, the rejected one over another turn)."""
    prefix, good, bad, diverge, prompt, scores = parts
    other = [*prefix[:-1], {"role": "user", "content": "another turn"}] if diverge and prefix else prefix
    row = {"chosen": [*prefix, {"role": "assistant", "content": good}],
           "rejected": [*other, {"role": "assistant", "content": bad}], **scores}
    if prompt is not None:
        row["prompt"] = prompt if prompt != "first" or not prefix else prefix[0]["content"]
    return row


uf_binarized_rows = st.tuples(
    st.lists(turn, max_size=3), texts, texts, st.booleans(), st.none() | st.just("first") | texts,
    st.fixed_dictionaries({}, optional={"score_chosen": st.sampled_from([1, 2.5, 2.5, "x"]),
                                        "score_rejected": st.sampled_from([1, 2.5])})).map(binarized)

lone_surrogate = st.sampled_from([r'"\ud800"', r'"a\udfff"', r'["\udbff"]', r'"\ud83d\u0041"'])


def surrogate_row(fragment: str) -> bytes:
    fields = ", ".join(f'"{name}": {fragment}' for name in ("prompt", "chosen", "question"))
    return ("{" + fields + ', "rejected": "r", "subset": "s"}').encode()


lines = st.one_of(
    st.binary(max_size=80),  # random bytes: invalid UTF-8, lone \r, NUL...
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    near_rows.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    hh_rows.map(lambda v: json.dumps(v).encode()),
    (tldr_rows | uf_raw_rows | uf_binarized_rows).map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    lone_surrogate.map(surrogate_row),
    st.integers(1, 100_000).map(lambda d: b"[" * d + b"]" * d),  # deep nesting
    st.integers(1, 100_000).map(lambda d: b'{"prompt": ' * d + b"1" + b"}" * d),
    st.just(b'{"prompt": "' + b"x" * 2_000_000 + b'"}'),  # a huge line
    st.sampled_from(
        [b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", b'{"prompt": "a"}\r', b"\r\n", b"\x85\xe2\x80\xa8"]
    ),
)
files = st.lists(lines, max_size=8).map(lambda ls: b"\n".join(ls) + b"\n")


def rows_in(data: bytes) -> int:
    """Independent count of the rows a JSONL reader must account for: non-blank `\\n`-separated lines."""
    return sum(1 for line in data.split(b"\n") if line.strip())


def writable(value: Any) -> None:
    """What a reader returns must survive being written as UTF-8 JSON (the pair file, the cache)."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


@FUZZ
@given(data=files)
def test_prompt_reader_accounts_for_every_line(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = write(tmp_path_factory.mktemp("p"), "in.jsonl", data)
    out = list(read_prompts(path))
    assert len(out) == rows_in(data)
    for item in out:
        if isinstance(item, InputError):
            assert item.source == str(path) and 1 <= item.line <= data.count(b"\n") and str(path) in str(item)
        else:
            assert isinstance(item, PromptRecord)
            writable([item.prompt, item.context, item.id, item.task])


LOADERS: dict[str, Callable[[Path, SkipCounter], list[Any]]] = {
    "trl": load_trl_pairs,
    "hh": load_hh,
    "rewardbench": load_rewardbench,
    "qa-feedback": lambda path, counter: load_questions(path, "all", counter),
    "tldr": lambda path, counter: vote(load_comparisons(path, "all", counter), counter),
    "ultrafeedback": load_ultrafeedback,
}
# Loaders that refuse a file with no row at all (an empty input is a mistake, not an empty data set).
NEED_ROWS = {"qa-feedback": "questions", "tldr": "comparisons", "ultrafeedback": "rows"}


@FUZZ
@given(data=files)
# found by this test: an HH row whose transcripts differ before the last reply is left out by rule and
# counted in `left_out`, neither kept nor skipped as malformed
@example(data=b'{"chosen": "\\n\\nHuman: \\n\\nHuman: \\n\\nAssistant: ", '
              b'"rejected": "\\n\\nHuman: \\n\\nAssistant: "}\n')
def test_loaders_skip_and_count_or_keep_every_line(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = write(tmp_path_factory.mktemp("l"), "in.jsonl", data)
    for name, load in LOADERS.items():
        counter = SkipCounter("skip")
        if name in NEED_ROWS and rows_in(data) == 0:  # no row at all: an error, not an empty set
            with pytest.raises(UserError, match=f"{path}: no {NEED_ROWS[name]} in the file"):
                load(path, counter)
            continue
        out = load(path, counter)
        # every line is kept, skipped as malformed, or left out by a documented rule: each one counted
        assert len(out) + counter.skipped + sum(counter.left_out.values()) == rows_in(data)
        for item in out:
            writable(
                item.to_dict() if isinstance(item, Pair) else [item.question, item.context, item.predictions]
            )
        try:  # in raise mode the first bad line is a clear error naming the file and line
            load(path, SkipCounter("raise"))
        except InputError as e:
            assert e.source == str(path) and e.line >= 1 and f"{path}:{e.line}" in str(e)


whole_files = (
    st.binary(max_size=200)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.lists(near_rows).map(lambda v: json.dumps(v).encode())
    | st.just(b"[" * 100_000 + b"]" * 100_000)
)


@FUZZ
@given(data=whole_files)
def test_whole_file_json_is_a_clear_error_or_every_item_accounted(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    """QA-Feedback ships as one JSON list (`.json`); the other loaders accept that shape too. A `.json`
    file that does not open with `[` is JSON lines (OpenAI's TL;DR batches are), read line by line."""
    path = write(tmp_path_factory.mktemp("j"), "in.json", data)
    a_list = data.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] in (b"[", b"")
    for load in LOADERS.values():
        counter = SkipCounter("skip")
        try:
            out = load(path, counter)
        except UserError as e:
            assert str(path) in str(e)
            continue
        rows = len(json.loads(data)) if a_list else rows_in(data)
        assert len(out) + counter.skipped + sum(counter.left_out.values()) == rows


def test_a_json_file_of_json_lines_is_read_line_by_line(tmp_path: Path) -> None:
    """OpenAI names its TL;DR comparison batches `batch*.json` and writes them as JSON lines."""
    lines = (Path(__file__).parent / "fixtures" / "tldr_comparisons.jsonl").read_bytes()
    path = write(tmp_path, "batch3.json", lines)
    counter = SkipCounter()
    assert len(vote(load_comparisons(path, "all", counter), counter)) == 7 and counter.skipped == 0
    listed = write(tmp_path, "list.json", b"[" + b",".join(lines.splitlines()) + b"]")
    assert len(vote(load_comparisons(listed, "all", SkipCounter()))) == 7


@FUZZ
@given(data=st.binary(max_size=400))
def test_a_file_that_is_not_parquet_is_a_clear_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = write(tmp_path_factory.mktemp("q"), "in.parquet", b"PAR1" + data)
    for read in (
        lambda p: list(read_prompts(p)),
        *(lambda p, f=f: f(p, SkipCounter("skip")) for f in LOADERS.values()),
    ):
        with pytest.raises(UserError, match=str(path)):
            read(path)


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1, 2]),
        pa.array([None, None], pa.string()),
        pa.array([[1], []]),
        pa.array([b"\xff", b"x"]),
        pa.array([{"role": "user"}, {"role": None}]),
        pa.array([["a", "b"], None]),
    ],
)
def test_parquet_columns_of_the_wrong_type_are_counted(tmp_path: Path, column: pa.Array) -> None:
    path = tmp_path / "in.parquet"
    names = ["prompt", "chosen", "rejected", "subset", "question", "passages", "preference"]
    pq.write_table(pa.table({name: column for name in names}), path)
    out = list(read_prompts(path))
    assert len(out) == 2 and all(isinstance(r, InputError) and r.line in (1, 2) for r in out)
    for load in LOADERS.values():
        counter = SkipCounter("skip")
        assert load(path, counter) == [] and counter.skipped == 2


def test_a_byte_order_mark_does_not_cost_the_first_row(tmp_path: Path) -> None:
    path = write(
        tmp_path, "in.jsonl", b'\xef\xbb\xbf{"prompt": "a", "chosen": "b", "rejected": "c", "subset": "s"}\n'
    )
    assert isinstance(next(read_prompts(path)), PromptRecord)
    assert len(load_trl_pairs(path)) == 1 and len(load_rewardbench(path)) == 1
