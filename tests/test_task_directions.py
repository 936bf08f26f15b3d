"""The paper's aspect sets as data: `summarization` (the TL;DR axes and conciseness) and
`ultrafeedback` (its four annotated aspects), each aspect with a BETTER and a WORSE description that
RMBoost's rewrite request shows for its direction."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rmboost.errors import UserError
from rmboost.methods.rewrite import RewriteTemplate
from rmboost.prompts.tasks import BUILTIN_TASKS, load_task

TASKS = Path(__file__).resolve().parents[1] / "src" / "rmboost" / "resources" / "tasks"


@pytest.mark.parametrize("name, aspects", [
    ("summarization", ["coverage", "accuracy", "conciseness", "coherence"]),
    ("ultrafeedback", ["helpfulness", "honesty", "instruction-following", "truthfulness"]),
])
def test_each_aspect_has_a_better_and_a_worse_description(name: str, aspects: list[str]) -> None:
    raw = yaml.safe_load((TASKS / f"{name}.yaml").read_text())
    task = load_task(name)
    assert name in BUILTIN_TASKS and [a.name for a in task.aspects] == aspects
    for a, given in zip(task.aspects, raw["aspects"], strict=True):
        assert (a.better, a.worse) == (given["better"], given["worse"]) and a.better != a.worse
        assert a.description("BETTER") == given["better"] and a.description("WORSE") == given["worse"]
        assert a.description() == given["definition"]


def test_the_rewrite_request_shows_the_description_of_its_direction() -> None:
    task = load_task("ultrafeedback")
    truth = task.aspect("truthfulness")
    template = RewriteTemplate.load()
    worse = template.values(task, "WORSE", [truth], False)["aspect_list"]
    better = template.values(task, "BETTER", [truth], False)["aspect_list"]
    assert worse == f"- truthfulness: {truth.worse}" and better == f"- truthfulness: {truth.better}"
    # The guideline (all aspects, no direction) keeps the definitions; a task without them is unchanged.
    assert template.values(task, "WORSE", [truth], False)["guideline"] == task.aspect_list()
    qa = load_task("qa")
    assert qa.aspect_list(direction="WORSE") == qa.aspect_list()


def test_a_task_file_may_give_better_and_worse_and_nothing_else(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("aspects:\n  - {name: brevity, definition: short, worse: it rambles}\n")
    task = load_task("summarization", good)
    assert task.aspect_list(direction="WORSE") == "- brevity: it rambles"
    assert task.aspect_list(direction="BETTER") == "- brevity: short"  # no `better`: the definition
    bad = tmp_path / "bad.yaml"
    bad.write_text("aspects:\n  - {name: brevity, definition: short, best: tiny}\n")
    with pytest.raises(UserError, match=r"bad.yaml: field 'aspects\[0\]'"):
        load_task("summarization", bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("aspects:\n  - {name: brevity, definition: short, better: ''}\n")
    with pytest.raises(UserError, match=r"field 'aspects\[0\].better' must be a non-empty string"):
        load_task("summarization", empty)
