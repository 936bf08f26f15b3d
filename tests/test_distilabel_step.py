"""`RMBoostRewrite` in a real distilabel pipeline (`LoadDataFromDicts >> RMBoostRewrite`, run by
distilabel's own multiprocess runner) whose `OpenAILLM` talks to the project's stub server
(`testing/fault_server.py`, on loopback). Checked against the CLI's method on the same rows: each
request is the one `RMBoost.rewrite_messages` builds for that row, label and aspects (the same
template and task file); labels alternate in balanced blocks; chosen/rejected are the answer's
`<response>` text and the given response, oriented by the label; a given response that is no
answer is refused with the CLI's reason."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from rmboost.methods.base import WorkItem
from rmboost.methods.rmboost import RMBoost
from rmboost.prompts.tasks import load_task
from rmboost.records import PromptRecord
from rmboost.testing.fault_server import MODEL, FaultServer

ROWS = [{"id": f"r{i}", "instruction": f"What is worth knowing about topic {i}?",
         "response": f"Topic {i} has a long history and several uses that people often discuss."} for i in range(6)]
ROWS[5]["response"] = "The answer is:"  # a lead-in only: no answer to rewrite


def test_rmboost_rewrite_runs_in_a_distilabel_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from distilabel.models import OpenAILLM
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts

    from rmboost.integrations.distilabel_rmboost import RMBoostRewrite

    monkeypatch.setenv("DISTILABEL_LOG_LEVEL", "WARNING")
    sigint = signal.getsignal(signal.SIGINT)  # Pipeline.run replaces the handler and leaves it in place
    try:
        with FaultServer() as server:
            with Pipeline(name="rmboost-test", cache_dir=tmp_path / "cache") as pipeline:
                llm = OpenAILLM(model=MODEL, base_url=server.url, api_key="not-needed", max_retries=0,
                                generation_kwargs={"max_new_tokens": 128, "temperature": 0.7})
                load = LoadDataFromDicts(data=[dict(r) for r in ROWS], batch_size=6)
                rewrite = RMBoostRewrite(name="rewrite", llm=llm, task="qa", seed=3, input_batch_size=6)
                load >> rewrite
            out = pipeline.run(use_cache=False)["default"]["train"].to_list()
    finally:
        signal.signal(signal.SIGINT, sigint)
    assert [r["id"] for r in out] == [r["id"] for r in ROWS]
    labels = [r["label"] for r in out]
    assert all({labels[i], labels[i + 1]} == {"BETTER", "WORSE"} for i in range(0, 6, 2))

    method = RMBoost(load_task("qa"))  # the CLI's method, built from the same built-in files
    for index, row in enumerate(out):
        item = WorkItem(PromptRecord(prompt=row["instruction"], id=row["id"], response=row["response"]), index, 3)
        drawn = method.choose_aspects(item)
        assert row["aspects"] == [a.name for a in drawn] and 1 <= len(drawn) <= 3
        sent = row["distilabel_metadata"]["raw_input_rewrite"]
        assert sent == method.rewrite_messages(item, row["response"], row["label"], drawn)
        if row["id"] == "r5":
            assert row["rewrite_failure"] == "the given response: only a lead-in, no answer"
            assert row["chosen"] is None and row["rejected"] is None
            continue
        raw = row["distilabel_metadata"]["raw_output_rewrite"]
        (y2,) = re.findall(r"<response>(.*?)</response>", raw + "</response>", flags=re.DOTALL)
        want = (y2.strip(), row["response"]) if row["label"] == "BETTER" else (row["response"], y2.strip())
        assert (row["chosen"], row["rejected"]) == want and row["rewrite_failure"] is None
