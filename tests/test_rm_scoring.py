"""`rmboost score` and `rmboost rerank` against a reward model whose rewards are known by hand
(`LengthRM`: reward = scale x the response's length in characters), through the real CLI: rewards,
margins and the `--min-margin` filter, best and worst with West-of-N's tie rule, one-line errors
with their exit codes, resume after a crash, refusal of another model's output, Parquet output.
One test scores with a trained `embed-linear` model, whose margins must order the toy task."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.cli import main
from rmboost.records import Pair, Prompt
from rmboost.rm import base
from rmboost.rm.base import RewardModel
from rmboost.rm.score_file import score_file


class LengthRM(RewardModel):
    """reward = scale * len(response); `crash_on` makes scoring a response holding it raise."""

    kind = "test-length"
    crash_on: str | None = None
    calls: list[int] = []

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.curve = []

    def score(self, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[float]:
        assert len(prompts) == len(responses)
        if LengthRM.crash_on and any(LengthRM.crash_on in r for r in responses):
            raise RuntimeError("killed")
        LengthRM.calls.append(len(responses))
        return [self.scale * len(r) for r in responses]

    @classmethod
    def train(cls, pairs: Sequence[Pair], kind: str, seed: int = 0, validation: Sequence[Pair] = (),
              on_progress: Any = None, **overrides: Any) -> RewardModel:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        return {}

    def save_weights(self, directory: Path) -> None:
        (directory / "scale.json").write_text(json.dumps(self.scale))

    @classmethod
    def from_dir(cls, directory: Path, settings: dict[str, Any]) -> RewardModel:
        return cls(json.loads((directory / "scale.json").read_text()))


@pytest.fixture(autouse=True)
def _length_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(base.KINDS, "test-length", f"{__name__}:LengthRM")
    LengthRM.crash_on, LengthRM.calls = None, []


def saved(tmp_path: Path, scale: float = 1.0, name: str = "rm") -> Path:
    return LengthRM(scale).save(tmp_path / name)


PAIRS = [
    {"id": "a", "prompt": "Q1?", "chosen": "a long good answer", "rejected": "short", "method": "rmboost"},
    {"id": "b", "prompt": [{"role": "user", "content": "Q2?"}], "chosen": [{"role": "assistant", "content": "ok"}],
     "rejected": [{"role": "assistant", "content": "four"}]},
    {"id": "c", "prompt": "Q3?", "chosen": "abcdef", "rejected": "abc"},
]


def test_pairs_get_both_rewards_and_the_margin(tmp_path: Path) -> None:
    rm = saved(tmp_path, scale=0.5)
    out = tmp_path / "scored.jsonl"
    assert main(["score", "--rm", str(rm), "--input", str(write_jsonl(tmp_path / "p.jsonl", PAIRS)),
                 "--output", str(out), "-q"]) == 0
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert [(r["reward_chosen"], r["reward_rejected"], r["margin"]) for r in rows] == [
        (9.0, 2.5, 6.5), (1.0, 2.0, -1.0), (3.0, 1.5, 1.5)]
    assert rows[0]["method"] == "rmboost" and rows[1]["chosen"] == PAIRS[1]["chosen"]  # the row is kept as it was
    assert len({r["rm_fingerprint"] for r in rows}) == 1


def test_min_margin_keeps_the_pairs_that_reach_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rm, out = saved(tmp_path), tmp_path / "kept.jsonl"
    assert main(["score", "--rm", str(rm), "--input", str(write_jsonl(tmp_path / "p.jsonl", PAIRS)),
                 "--output", str(out), "--min-margin", "3", "-q"]) == 0
    assert [r["id"] for r in read_jsonl(out)] == ["a", "c"]  # margins 13, -2, 3
    assert "left out 1: margin below 3" in capsys.readouterr().err


def test_response_rows_get_a_reward_and_python_api_agrees(tmp_path: Path) -> None:
    import rmboost.rm

    rm, out = saved(tmp_path, scale=2.0), tmp_path / "r.parquet"
    rows = [{"prompt": "Q?", "response": "abc"}, {"prompt": "Q?", "response": "x"}]
    assert main(["score", "--rm", str(rm), "--input", str(write_jsonl(tmp_path / "r.jsonl", rows)),
                 "--output", str(out), "-q"]) == 0
    from rmboost.io.rows import read_rows

    assert [r["reward"] for _, r in read_rows(out)] == [6.0, 2.0]
    chat = [{"prompt": [{"role": "user", "content": "Q?"}], "response": [{"role": "assistant", "content": "four"}]}]
    assert main(["score", "--rm", str(rm), "--input", str(write_jsonl(tmp_path / "c.jsonl", chat)),
                 "--output", str(tmp_path / "c-out.jsonl"), "-q"]) == 0
    assert read_jsonl(tmp_path / "c-out.jsonl")[0]["reward"] == 8.0
    assert rmboost.rm.load(rm).score(["Q?", "Q?"], ["abc", "x"]) == [6.0, 2.0]


def test_rerank_picks_best_and_worst_earliest_among_ties(tmp_path: Path) -> None:
    rm = saved(tmp_path)
    rows = [{"id": "r1", "prompt": "Q?", "responses": ["bb", "dddd", "a", "cccc", "e"]},
            {"id": "r2", "prompt": "Q?", "responses": ["same", "same"]}]
    src = write_jsonl(tmp_path / "n.jsonl", rows)
    assert main(["rerank", "--rm", str(rm), "--input", str(src), "--output", str(tmp_path / "ranked.jsonl"),
                 "--batch-size", "3", "-q"]) == 0
    first, second = read_jsonl(tmp_path / "ranked.jsonl")
    assert first["rewards"] == [2.0, 4.0, 1.0, 4.0, 1.0]
    assert (first["best_index"], first["worst_index"], first["best"], first["worst"]) == (1, 2, "dddd", "a")
    assert (second["best_index"], second["worst_index"], second["margin"]) == (0, 0, 0.0)
    assert main(["rerank", "--rm", str(rm), "--input", str(src), "--output", str(tmp_path / "pairs.jsonl"),
                 "--pairs", "-q"]) == 0
    (pair,) = read_jsonl(tmp_path / "pairs.jsonl")  # r2's rewards are all equal: no pair
    assert (pair["id"], pair["prompt"], pair["chosen"], pair["rejected"]) == ("r1", "Q?", "dddd", "a")
    assert pair["margin"] == 3.0
    assert "responses" not in pair


@pytest.mark.parametrize("case,code,message", [
    ("missing input", 3, "{tmp}/nope.jsonl: no such file"),
    ("not a model", 3, "{tmp}/empty: not a saved reward model"),
    ("missing field", 3, "{tmp}/in.jsonl:2: field 'response' is missing"),
    ("bad prompt", 3, "{tmp}/in.jsonl:3: field 'prompt' must be a string or a list of {role, content} messages"),
    ("margin on responses", 2, "--min-margin applies to pairs"),
])
def test_errors_are_one_line_with_their_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str,
                                                  code: int, message: str) -> None:
    rm = saved(tmp_path)
    (tmp_path / "empty").mkdir()
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "Q", "response": "a"}, {"prompt": "Q"},
                                              {"prompt": 5, "response": "b"}])
    argv = {"missing input": ["--rm", str(rm), "--input", str(tmp_path / "nope.jsonl")],
            "not a model": ["--rm", str(tmp_path / "empty"), "--input", str(src)],
            "missing field": ["--rm", str(rm), "--input", str(src)],
            "bad prompt": ["--rm", str(rm), "--input", str(src), "--on-error", "raise"],
            "margin on responses": ["--rm", str(rm), "--input", str(src), "--min-margin", "0"]}[case]
    if case == "bad prompt":
        write_jsonl(src, [{"prompt": "Q", "response": "a"}, {"prompt": "Q", "response": "b"},
                          {"prompt": 5, "response": "b"}])
    assert main(["score", *argv, "--output", str(tmp_path / "o.jsonl"), "-q"]) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("rmboost: error: " + message.replace("{tmp}", str(tmp_path))), err
    assert "\n" not in err and "Traceback" not in err


def test_rerank_row_without_responses_names_line_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"prompt": "Q", "responses": ["a", "b"]}, {"prompt": "Q", "responses": []}]
    src = write_jsonl(tmp_path / "n.jsonl", rows)
    assert main(["rerank", "--rm", str(saved(tmp_path)), "--input", str(src), "--output", str(tmp_path / "o.jsonl"),
                 "-q"]) == 3
    assert capsys.readouterr().err.startswith(f"rmboost: error: {src}:2: field 'responses' must be a non-empty list")


def test_a_crashed_run_resumes_without_rescoring_or_duplicating(tmp_path: Path) -> None:
    rm, out = saved(tmp_path), tmp_path / "scored.jsonl"
    rows = [{"id": str(i), "prompt": "Q", "chosen": "x" * (i + 2) + ("CRASH" if i == 4 else ""), "rejected": "y"}
            for i in range(6)]
    src = write_jsonl(tmp_path / "p.jsonl", rows)
    LengthRM.crash_on = "CRASH"
    with pytest.raises(RuntimeError):
        score_file(rm, src, out, batch_size=4)  # two rows a batch (both sides): batches 0-1 and 2-3 are done
    assert [r["id"] for r in read_jsonl(out)] == ["0", "1", "2", "3"]
    with out.open("a") as f:  # a row written after the last record, and a torn line, as a kill can leave
        f.write(json.dumps({"id": "4", "stale": True}) + "\n{\"id\": \"5\", \"pro")
    LengthRM.crash_on, LengthRM.calls = None, []
    summary = score_file(rm, src, out, batch_size=4)
    assert [r["id"] for r in read_jsonl(out)] == ["0", "1", "2", "3", "4", "5"]
    assert not any(r.get("stale") for r in read_jsonl(out))
    # One warm-up call of one response (a kind's encoder loads on first use: it counts as loading), then one batch.
    assert LengthRM.calls == [1, 4] and summary.rows_before == 4 and summary.rows_scored == 2
    assert score_file(rm, src, out).rows_scored == 0  # done: a rerun scores nothing


def test_another_model_or_input_is_refused_not_mixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, out = write_jsonl(tmp_path / "p.jsonl", PAIRS), tmp_path / "scored.jsonl"
    assert main(["score", "--rm", str(saved(tmp_path, 1.0, "a")), "--input", str(src), "--output", str(out), "-q"]) == 0
    before = out.read_bytes()
    shutil.copytree(tmp_path / "a", tmp_path / "a-copy")  # the same model by another path: the same fingerprint
    assert main(["score", "--rm", str(tmp_path / "a-copy"), "--input", str(src), "--output", str(out), "-q"]) == 0
    assert out.read_bytes() == before
    capsys.readouterr()
    assert main(["score", "--rm", str(saved(tmp_path, 2.0, "b")), "--input", str(src), "--output", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "rm_fingerprint:" in err and "never mixes two models' rewards" in err and err.count("\n") == 1
    write_jsonl(src, PAIRS[:2])
    assert main(["score", "--rm", str(tmp_path / "a"), "--input", str(src), "--output", str(out), "-q"]) == 2
    assert "input_digest:" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main(["score", "--rm", str(tmp_path / "a"), "--input", str(src), "--output", str(src), "-q"]) == 2


def test_an_output_not_written_by_score_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    src = write_jsonl(tmp_path / "p.jsonl", PAIRS)
    assert main(["score", "--rm", str(saved(tmp_path)), "--input", str(src), "--output", str(out), "-q"]) == 2
    assert "was not written by rmboost score" in capsys.readouterr().err


def test_a_trained_embed_linear_model_scores_the_toy_task(tmp_path: Path) -> None:
    from rm_toy_task import TOPICS, toy_pairs
    from rmboost.rm.train import train_reward_model

    model = train_reward_model(toy_pairs(TOPICS[:4]), "embed-linear", seed=0, epochs=30, validation_fraction=0)
    model.save(tmp_path / "rm")
    test = toy_pairs(TOPICS[12:])
    src = write_jsonl(tmp_path / "test.jsonl", [{"id": p.id, "prompt": p.prompt, "chosen": p.chosen,
                                                 "rejected": p.rejected} for p in test])
    assert main(["score", "--rm", str(tmp_path / "rm"), "--input", str(src), "--output", str(tmp_path / "s.jsonl"),
                 "--batch-size", "7", "-q"]) == 0
    rows = read_jsonl(tmp_path / "s.jsonl")
    chosen, rejected = RewardModel.load(tmp_path / "rm").score_pairs(test)
    assert [r["reward_chosen"] for r in rows] == pytest.approx(chosen, abs=1e-5)
    assert [r["reward_rejected"] for r in rows] == pytest.approx(rejected, abs=1e-5)
    assert sum(r["margin"] > 0 for r in rows) >= 0.8 * len(rows)  # polite beats rude on unseen topics
