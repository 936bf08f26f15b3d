"""`rmboost stats` against hand-counted values on a tiny pair file."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_jsonl
from rmboost.cli import main
from rmboost.experiment.diagnostics import compute_stats


def pair(i: int, chosen: str, rejected: str, label: str | None = None, aspects: list[str] | None = None,
         tokens: int = 0) -> dict:
    return {"id": str(i), "prompt": "q", "chosen": chosen, "rejected": rejected, "label": label,
            "aspects": aspects or [], "usage": {"prompt_tokens": tokens, "completion_tokens": 0}}


@pytest.fixture
def pairs_file(tmp_path: Path) -> Path:
    rows = [
        pair(1, "a b c d", "a b", "BETTER", ["coherence"], 100),
        pair(2, "x", "x y z", "WORSE", ["coherence", "relevance"], 200),
        pair(3, "a b c d", "a b", "BETTER", ["relevance"], 300),
        pair(4, "long answer here", "short", "WORSE", [], 400),
    ]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    write_jsonl(tmp_path / "p.failures.jsonl", [{"id": "9", "stage": "y2", "reason": "identical to y1"}])
    return path


def test_counts_match_hand_computed_values(pairs_file: Path) -> None:
    s = compute_stats(pairs_file, embeddings=False)
    assert s.pairs == 4 and s.failures == 1 and s.failure_rate == pytest.approx(1 / 5)
    assert s.better_share == pytest.approx(0.5)
    assert s.chosen_words == pytest.approx((4 + 1 + 4 + 3) / 4)
    assert s.rejected_words == pytest.approx((2 + 3 + 2 + 1) / 4)
    assert s.chosen_longer_share == pytest.approx(3 / 4)
    assert s.duplicate_share == pytest.approx(1 / 4)  # pair 3 repeats pair 1
    assert s.tokens_per_pair == pytest.approx(250)
    assert s.aspects == {"coherence": 2, "relevance": 2}
    assert s.failure_reasons == {"y2: identical to y1": 1}


def test_cli_prints_table_and_writes_png(pairs_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "stats.png"
    assert main(["stats", str(pairs_file), "--no-embeddings", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    bias_line = next(line for line in out.splitlines() if "length bias" in line)
    assert bias_line.split()[-1] == "75.0%"
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
