from pathlib import Path

import pytest

from rmboost.errors import UsageError, UserError
from rmboost.prompts.tasks import BUILTIN_TASKS, load_task


@pytest.mark.parametrize("name", BUILTIN_TASKS)
def test_builtin_tasks_have_aspects_with_definitions(name: str) -> None:
    task = load_task(name)
    assert task.name == name
    assert len(task.aspects) >= 3
    assert all(a.definition for a in task.aspects)


def test_qa_prompt_keeps_question_last_and_passages_in() -> None:
    text = load_task("qa").render_user("Who sang Bloom?", "Bloom is an album by Troye Sivan.")
    assert "Bloom is an album by Troye Sivan." in text
    assert text.rstrip().endswith("Question: Who sang Bloom?")


def test_no_context_uses_the_short_template() -> None:
    text = load_task("qa").render_user("Who sang Bloom?")
    assert "Passages" not in text and "Who sang Bloom?" in text


def test_conversation_keeps_turns_and_puts_context_in_last_user_turn() -> None:
    conv = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "what is in the text?"}]
    messages = load_task("chat").policy_messages(conv, "THE TEXT")
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == "hi"
    assert "THE TEXT" in messages[2]["content"] and "what is in the text?" in messages[2]["content"]
    assert conv[2]["content"] == "what is in the text?"  # the caller's list is not modified


def test_aspects_file_replaces_the_aspects_only(tmp_path: Path) -> None:
    f = tmp_path / "aspects.yaml"
    f.write_text("aspects:\n  - name: brevity\n    definition: short.\n")
    task = load_task("qa", f)
    assert [a.name for a in task.aspects] == ["brevity"]
    assert task.user_template == load_task("qa").user_template


def test_bad_aspects_file_is_a_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "aspects.yaml"
    f.write_text("aspects:\n  - title: brevity\n")
    with pytest.raises(UserError, match=r"aspects.yaml: field 'aspects\[0\]'"):
        load_task("qa", f)


def test_unknown_task() -> None:
    with pytest.raises(UsageError, match="unknown task"):
        load_task("poetry")
