"""Several pairs per prompt (`--pairs-per-prompt K`): K distinct pairs from one prompt, ids
`<id>#<k>`, labels exactly balanced over the run, resume and failures per pair; and given
responses: a row's `response` is RMBoost's y1, only y2 is asked for."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import read_jsonl, write_jsonl
from rmboost.api import generate
from rmboost.backends.base import ChatRequest
from rmboost.backends.fake import FakeBackend, default_reply
from rmboost.cli import main
from rmboost.errors import InputError
from rmboost.generation.config import GenerateConfig


def config(inp: Path, out: Path, **kw: object) -> GenerateConfig:
    return GenerateConfig(input=str(inp), output=str(out), backend="fake", progress=False, **kw)  # type: ignore[arg-type]


def prompts(tmp_path: Path, n: int = 5, **extra: object) -> Path:
    rows = [{"id": f"q{i}", "prompt": f"Question {i}: who wrote it?", "context": f"Passage {i}.", **extra}
            for i in range(n)]
    return write_jsonl(tmp_path / "in.jsonl", rows)


def test_k_pairs_per_prompt_with_their_own_y1_label_and_ids(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    summary = generate(config(prompts(tmp_path), out, pairs_per_prompt=3))
    rows = read_jsonl(out)
    assert summary.pairs == len(rows) == 15
    assert sorted(r["id"] for r in rows) == sorted(f"q{i}#{k}" for i in range(5) for k in range(3))
    labels = Counter(r["label"] for r in rows)
    assert abs(labels["BETTER"] - labels["WORSE"]) <= 1
    for i in range(5):
        mine = [r for r in rows if r["id"].startswith(f"q{i}#")]
        y1s = {r["rejected"] if r["label"] == "BETTER" else r["chosen"] for r in mine}
        assert len(y1s) == 3  # each pair starts from its own sample
        assert len({(r["chosen"], r["rejected"]) for r in mine}) == 3


def test_one_pair_per_prompt_keeps_the_plain_ids(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    generate(config(prompts(tmp_path), out))
    assert sorted(r["id"] for r in read_jsonl(out)) == [f"q{i}" for i in range(5)]


def test_resume_is_per_pair(tmp_path: Path) -> None:
    inp, out = prompts(tmp_path), tmp_path / "pairs.jsonl"
    generate(config(inp, out, pairs_per_prompt=2))
    rows = read_jsonl(out)
    kept = [r for r in rows if r["id"] not in ("q1#1", "q3#0")]
    write_jsonl(out, kept)
    backend = FakeBackend()
    again = generate(config(inp, out, pairs_per_prompt=2), backend=backend)
    assert again.pairs == 2 and again.skipped_done == 8
    assert sorted(r["id"] for r in read_jsonl(out)) == sorted(r["id"] for r in rows)


def test_a_pair_that_repeats_a_sibling_is_a_failure(tmp_path: Path) -> None:
    # The same y1 and y2 whatever the seed: the second pair of a prompt would be a copy of the first.
    def same(request: ChatRequest) -> str:
        asks_rewrite = "<response>" in request.message_dicts[-1]["content"]
        return "<response>A rewrite.</response>" if asks_rewrite else "An answer."

    out = tmp_path / "pairs.jsonl"
    inp = prompts(tmp_path, n=1)
    summary = generate(config(inp, out, pairs_per_prompt=4), backend=FakeBackend(responder=same))
    # labels alternate, so two distinct pairs (one BETTER, one WORSE) and two copies
    assert summary.pairs == 2 and summary.failures == 2
    reasons = {f["reason"] for f in read_jsonl(tmp_path / "pairs.failures.jsonl")}
    assert reasons == {"the same pair as another of this prompt"}


@pytest.mark.parametrize("option", ["--pairs-per-prompt", "--attempts"])
def test_zero_is_a_usage_error_that_writes_nothing(tmp_path: Path, option: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pairs.jsonl"
    code = main(["generate", "--backend", "fake", "--input", str(prompts(tmp_path)), "--output", str(out), option, "0"])
    err = capsys.readouterr().err
    assert code == 2 and option in err and "Traceback" not in err and not out.exists()


def test_a_given_response_is_y1_and_only_y2_is_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    backend = FakeBackend()
    generate(config(prompts(tmp_path, response="The writer is Troye Sivan."), out), backend=backend)
    rows = read_jsonl(out)
    assert len(rows) == 5 and {r.stage for r in backend.history} == {"y2"}
    for row in rows:
        y1 = row["rejected"] if row["label"] == "BETTER" else row["chosen"]
        assert y1 == "The writer is Troye Sivan." and row["given_response"] is True
    # the rewrite request shows the given response as the assistant's turn
    assert all(r.message_dicts[-2] == {"role": "assistant", "content": "The writer is Troye Sivan."}
               for r in backend.history)


def test_given_response_with_several_pairs_rewrites_it_k_ways(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    generate(config(prompts(tmp_path, n=2, response="Given."), out, pairs_per_prompt=2))
    rows = read_jsonl(out)
    assert len(rows) == 4 and {r["label"] for r in rows} == {"BETTER", "WORSE"}


@pytest.mark.parametrize("value, message", [(17, "must be a string"), ("  ", "is empty")])
def test_a_response_that_is_not_a_string_is_an_input_error(tmp_path: Path, value: object, message: str) -> None:
    inp = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "prompt": "Q?", "response": value}])
    with pytest.raises(InputError, match=rf"in.jsonl:1: field 'response' {message}"):
        generate(config(inp, tmp_path / "out.jsonl"))


def test_a_rewrite_ends_at_its_closing_tag(tmp_path: Path) -> None:
    # A model that runs on after the tag: the request's stop string ends the answer there.
    def rambling(request: ChatRequest) -> str:
        reply = default_reply(request)
        return reply + " And then some commentary on the rewrite." if "</response>" in reply else reply

    backend = FakeBackend(responder=rambling)
    out = tmp_path / "pairs.jsonl"
    generate(config(prompts(tmp_path, n=2), out), backend=backend)
    y2_requests = [r for r in backend.history if r.stage == "y2"]
    assert y2_requests and all(r.stop == ("</response>",) for r in y2_requests)
    assert not any("commentary" in r["chosen"] + r["rejected"] for r in read_jsonl(out))


def test_the_experiment_rewrites_the_data_sets_own_predictions(tmp_path: Path) -> None:
    import json

    from conftest import QA_FEEDBACK
    from rmboost.data.qa_feedback import question_id
    from rmboost.experiment.run import run_experiment

    config = tmp_path / "given.yaml"
    config.write_text(f"""
name: given
data: {QA_FEEDBACK}
train_prompts: 4
test_pairs: 30
methods: [{{name: rmboost-given, method: rmboost, given_response: 1}}]
reward_models: [embed-linear]
train_sets: [syn]
generation: {{backend: fake, progress: false}}
rm_overrides: {{embed-linear: {{epochs: 2}}}}
bootstrap: 50
embeddings: false
stats: false
""")
    out = tmp_path / "run"
    run_experiment(config, out)
    raw = {question_id(q["question"]): q["prediction 1"].strip() for q in json.loads(QA_FEEDBACK.read_text())}
    rows = read_jsonl(out / "pairs" / "rmboost-given.jsonl")
    assert len(rows) == 4
    for row in rows:
        y1 = row["rejected"] if row["label"] == "BETTER" else row["chosen"]
        assert y1 == raw[row["id"]] and row["given_response"] is True
    # every finished run writes the report of its folder
    assert "rmboost-given" in (out / "report.html").read_text(encoding="utf-8")


def test_given_response_is_for_rmboost_on_qa_feedback_only(tmp_path: Path) -> None:
    from conftest import QA_FEEDBACK
    from rmboost.errors import UserError
    from rmboost.experiment.config import load_config

    config = tmp_path / "bad.yaml"
    config.write_text(f"data: {QA_FEEDBACK}\nmethods: [{{name: g, method: rlcd, given_response: 1}}]\n")
    with pytest.raises(UserError, match=r"bad.yaml: field 'methods: g.given_response'"):
        load_config(config)
