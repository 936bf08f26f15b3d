"""Every bad-input case names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import write_jsonl
from rmboost.errors import InputError
from rmboost.io.prompts import read_prompts
from rmboost.records import PromptRecord


def errors(path: Path) -> list[InputError]:
    return [r for r in read_prompts(path) if isinstance(r, InputError)]


@pytest.mark.parametrize(
    "line, field, message",
    [
        ('{"prompt": "ok", ', None, "not valid JSON"),
        ('["a", "list"]', None, "must be a JSON object"),
        ('{"id": "x"}', "prompt", "is missing"),
        ('{"prompt": "   "}', "prompt", "is empty"),
        ('{"prompt": []}', "prompt", "empty conversation"),
        ('{"prompt": 42}', "prompt", "must be a string or a list"),
        ('{"prompt": [{"role": "robot", "content": "x"}]}', "prompt[0].role", "must be one of"),
        ('{"prompt": [{"role": "user", "content": 3}]}', "prompt[0].content", "must be a string"),
        ('{"prompt": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}', "prompt",
         "must not end"),
        ('{"prompt": [{"role": "system", "content": "a"}]}', "prompt", "at least one 'user'"),
        ('{"prompt": "q", "context": 5}', "context", "must be a string"),
        ('{"prompt": "q", "id": {"a": 1}}', "id", "must be a string or an integer"),
        ('{"prompt": "q", "task": 1}', "task", "must be a string"),
    ],
)
def test_bad_row_names_file_line_and_field(tmp_path: Path, line: str, field: str | None, message: str) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "fine"}, line])
    records = list(read_prompts(path))
    assert isinstance(records[0], PromptRecord)
    err = records[1]
    assert isinstance(err, InputError)
    assert (err.source, err.line, err.field) == (str(path), 2, field)
    assert message in str(err) and f"{path}:2" in str(err)


def test_invalid_utf8_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"prompt": "ok"}\n{"prompt": "\xff\xfe"}\n{"prompt": "after"}\n')
    records = list(read_prompts(path))
    assert isinstance(records[1], InputError) and "UTF-8" in str(records[1])
    assert isinstance(records[2], PromptRecord) and records[2].prompt == "after"


def test_ids_are_stable_hashes_when_missing(tmp_path: Path) -> None:
    rows = [{"prompt": "a"}, {"prompt": "a", "context": "c"}, {"prompt": "b", "id": 7}]
    first = [r.id for r in read_prompts(write_jsonl(tmp_path / "1.jsonl", rows))]  # type: ignore[union-attr]
    second = [r.id for r in read_prompts(write_jsonl(tmp_path / "2.jsonl", rows))]  # type: ignore[union-attr]
    assert first == second and len(set(first)) == 3 and first[2] == "7"


def test_context_list_is_joined_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "q", "context": ["p1", "p2"]}, ""])
    records = list(read_prompts(path))
    assert len(records) == 1 and records[0].context == "p1\n\np2"  # type: ignore[union-attr]


def test_parquet_input(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist([{"prompt": "a", "id": "1"}, {"prompt": "", "id": "2"}]), path)
    records = list(read_prompts(path))
    assert isinstance(records[0], PromptRecord) and records[0].line == 1
    assert isinstance(records[1], InputError) and records[1].line == 2 and records[1].field == "prompt"
