"""Cutting a run into shards, without Ray: which records a shard gets and with which index, the
manifest that fixes the shard size, and shards written one by one through `write_pairs` holding
exactly the local engine's pairs (the Ray engine only adds the scheduling)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.errors import InputError, UserError
from rmboost.generation.config import GenerateConfig
from rmboost.generation.run import build_method, write_pairs
from rmboost.io.output import output_paths
from rmboost.io.prompts import read_prompts
from rmboost.methods.rmboost import LABELS
from rmboost.records import PromptRecord
from rmboost.scale.shards import ShardReader, scan_input, settle_shard_size, shard_cache, shard_output


def prompts(tmp_path: Path) -> Path:
    """Ten valid rows, with a bad row and a blank line among them and q2 again as the ninth."""
    rows: list[object] = [{"id": f"q{i}", "prompt": f"question {i}"} for i in range(8)]
    rows[4:4] = ['{"id": "bad", "prompt": ""}', "   "]
    rows += [{"id": "q2", "prompt": "question 2 again"}, {"id": "q8", "prompt": "question 8"}]
    return write_jsonl(tmp_path / "in.jsonl", rows)


def numbered(path: Path) -> list[tuple[int, str, int]]:
    """(index, id, line) of every valid record, first occurrences only: the local engine's view."""
    seen: set[str] = set()
    out = []
    valid = [r for r in read_prompts(path) if not isinstance(r, InputError)]
    for index, rec in enumerate(valid):
        if rec.id not in seen:
            out.append((index, rec.id, rec.line))
        seen.add(rec.id)
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_shards_together_read_every_record_once_with_its_global_index(tmp_path: Path, fmt: str) -> None:
    inp = prompts(tmp_path)
    if fmt == "parquet":
        rows = [r for r in (json.loads(x) for x in inp.read_text().splitlines() if x.strip()) if r["prompt"]]
        inp = tmp_path / "in.parquet"
        pq.write_table(pa.Table.from_pylist(rows), inp)
    scan = scan_input(inp, None, "skip", 3)
    assert scan.records == 10 and len(scan.plans) == 4
    got = [(i, rec.id, rec.line) for plan in scan.plans for i, rec in ShardReader(inp, plan)]
    assert got == numbered(inp)
    # q2 first came in shard 0, so its repeat (index 8, in shard 2) is left out there
    assert [p.repeats for p in scan.plans] == [0, 0, 1, 0]
    assert scan.plans[2].indexes == [6, 7]
    if fmt == "jsonl":  # a shard starts reading where its first line starts
        assert inp.read_bytes()[scan.plans[2].offset:].startswith(b'{"id": "q6"')
    # whole records, as read_prompts makes them (source, line, context...)
    lines = {line for _, _, line in numbered(inp)}
    records = [rec for plan in scan.plans for _, rec in ShardReader(inp, plan)]
    assert records == [r for r in read_prompts(inp) if isinstance(r, PromptRecord) and r.line in lines]


def test_scan_stops_at_the_limit_and_fails_at_a_bad_row(tmp_path: Path) -> None:
    inp = prompts(tmp_path)
    scan = scan_input(inp, None, "skip", 3)
    assert [e.line for e in scan.errors] == [5]
    limited = scan_input(inp, 4, "skip", 3)
    assert limited.records == 4 and [p.indexes for p in limited.plans] == [[0, 1, 2], [3]]
    with pytest.raises(InputError, match=r"in.jsonl:5: field 'prompt'"):
        scan_input(inp, None, "fail", 3)


def test_the_first_run_fixes_the_shard_size(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    assert settle_shard_size(folder, None, "jsonl") == 1000
    assert settle_shard_size(folder, None, "jsonl") == 1000
    with pytest.raises(UserError, match="--shard-size 1000"):
        settle_shard_size(folder, 5, "jsonl")
    with pytest.raises(UserError, match="--format jsonl"):
        settle_shard_size(folder, None, "parquet")
    assert shard_output(folder, 3, "parquet").name == "part-00003.parquet"
    assert shard_cache(folder, 12).name == "part-00012.sqlite"


def test_shards_written_one_by_one_hold_the_local_pairs(tmp_path: Path) -> None:
    inp = prompts(tmp_path)
    base = GenerateConfig(input=str(inp), output=str(tmp_path / "local.jsonl"), backend="fake", seed=5,
                          progress=False, on_error="skip", cache_dir=str(tmp_path / "cache"))
    generate(base)
    local = {r["id"]: r for r in read_jsonl(tmp_path / "local.jsonl")}
    folder = tmp_path / "shards"
    # Shard size 3 cuts label blocks (prompts 2j, 2j+1) in two: labels must still follow global indexes.
    for plan in scan_input(inp, None, "skip", 3).plans:
        paths = output_paths(shard_output(folder, plan.shard, "jsonl"))
        asyncio.run(write_pairs(dataclasses.replace(base, output=str(folder)), build_method(base),
                                ShardReader(inp, plan), paths, shard_cache(folder, plan.shard)))
    sharded = {r["id"]: r for p in sorted(folder.glob("part-?????.jsonl")) for r in read_jsonl(p)}
    assert sharded == local and len(local) == 9
    labels = [local[f"q{i}"]["label"] for i in range(8)]
    assert all({labels[j], labels[j + 1]} == set(LABELS) for j in (0, 2, 4, 6))
