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


def test_a_row_left_out_by_rule_is_counted_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two conversations that differ before the last reply make no pair (the pair-row rule every
    reader shares): `stats` counts the row and measures the rest; line numbers stay the file's."""
    differing = {"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
                 "rejected": [{"role": "user", "content": "Hey"}, {"role": "assistant", "content": "No"}]}
    path = write_jsonl(tmp_path / "p.jsonl", [pair(1, "a b c", "a"), differing, pair(3, "x", "x y")])
    s = compute_stats(path, embeddings=False)
    assert s.pairs == 2 and s.left_out == {"chosen and rejected conversations differ before the last reply": 1}
    assert s.chosen_words == pytest.approx((3 + 1) / 2)
    assert main(["stats", str(path), "--no-embeddings"]) == 0
    assert "left out: chosen and rejected conversations differ before the last reply  1" in capsys.readouterr().out
    bad = write_jsonl(tmp_path / "bad.jsonl", [pair(1, "a", "b"), differing, {"prompt": "q", "rejected": "r"}])
    assert main(["stats", str(bad), "--no-embeddings"]) == 3
    assert f"{bad}:3:" in capsys.readouterr().err


def test_the_reference_model_counts_a_tie_as_half(tmp_path: Path) -> None:
    """A reference model that scores every response the same agrees with half the pairs, as every
    accuracy here counts a tie (it counted 0 before)."""
    from rmboost.rm.train import untrained_reward_model

    folder = tmp_path / "flat"
    untrained_reward_model("features", 0).save(folder)  # zero weights: every response scores 0
    # Three pairs: without ties the share could only be 0, 1/3, 2/3 or 1.
    path = write_jsonl(tmp_path / "p.jsonl", [pair(1, "a b c", "a"), pair(2, "x", "x y"), pair(3, "p q", "r")])
    assert compute_stats(path, reference_rm=folder, embeddings=False).reference_agreement == 0.5
