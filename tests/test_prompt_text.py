"""A prompt as text and the question of a prompt (`prompts/prompt_text.py`), checked against strings
written out by hand, and the readers that use them (the word features, the agreement's overlap
rule, a cross-encoder's input) reading a prompt the same way."""

from __future__ import annotations

from rmboost.prompts.model_input import model_input
from rmboost.prompts.prompt_text import last_user_turn, prompt_text, question_text, role_line, transcript
from rmboost.records import Message

CHAT: list[Message] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi there"},
    {"role": "assistant", "content": "Hello! How can I help?"},
    {"role": "user", "content": "Who wrote Bloom?\n\nAnswer in one line."},
    {"role": "assistant", "content": "Troye Sivan."},
]
LAID_OUT = "Answer the question.\n\nPassages:\nBloom is an album.\n\nQuestion: Who wrote Bloom?"


def test_a_prompt_as_text_is_its_messages_without_roles() -> None:
    assert prompt_text(LAID_OUT) == LAID_OUT
    assert prompt_text(CHAT) == ("Be brief.\n\nHi there\n\nHello! How can I help?\n\n"
                                 "Who wrote Bloom?\n\nAnswer in one line.\n\nTroye Sivan.")
    assert prompt_text([]) == ""
    assert prompt_text([{"role": "user"}, {"role": "user", "content": "Hi"}]) == "\n\nHi"


def test_a_transcript_puts_each_message_under_its_role() -> None:
    assert transcript(LAID_OUT) == LAID_OUT
    assert transcript(CHAT) == ("System: Be brief.\n\nUser: Hi there\n\nAssistant: Hello! How can I help?\n\n"
                                "User: Who wrote Bloom?\n\nAnswer in one line.\n\nAssistant: Troye Sivan.")
    assert role_line({"role": "tool_result", "content": "42"}) == "Tool_Result: 42"


def test_the_last_user_turn_is_a_string_whole_or_the_last_user_message() -> None:
    assert last_user_turn(LAID_OUT) == LAID_OUT
    assert last_user_turn(CHAT) == "Who wrote Bloom?\n\nAnswer in one line."
    assert last_user_turn([{"role": "system", "content": "Be brief."}]) == ""


def test_the_question_is_the_last_paragraph_or_the_last_user_message() -> None:
    assert question_text(LAID_OUT) == "Question: Who wrote Bloom?"
    assert question_text("One paragraph.\nSecond line.") == "One paragraph.\nSecond line."
    assert question_text("First.\n   \n\nLast one.\n") == "Last one.\n"
    assert question_text("\n\n  \n\n") == "" and question_text("") == ""
    assert question_text(CHAT) == "Who wrote Bloom?\n\nAnswer in one line."
    assert question_text([{"role": "assistant", "content": "Hi"}]) == ""
    # The qa task's layout puts the question last, so the question of its model input is the question.
    assert question_text(model_input("Who wrote Bloom?", "Bloom is an album.", "qa")) == "Question: Who wrote Bloom?"


def test_the_word_features_read_the_question_and_the_whole_prompt() -> None:
    from rmboost.rm.text_features import prompt_view

    view = prompt_view(CHAT)
    assert view.question == ("wrote", "bloom", "answer", "line")
    assert "help" in view.words and "user" not in view.words and "assistant" not in view.words
    assert prompt_view(LAID_OUT).question == ("question", "wrote", "bloom")


def test_the_agreement_overlap_rule_reads_no_role_names() -> None:
    from rmboost.data.agreement import RULES
    from rmboost.data.human_labels import HumanLabel, PairRow

    pair = PairRow(1, CHAT, "a", "b", {})
    # The preferred response's words are all in the messages; the other's only in role names.
    label = HumanLabel("q", first="wrote bloom", second="user assistant", preferred=1, listed_known=True)
    assert RULES["overlap"](pair, label) == 1.0
    label = HumanLabel("q", first="user assistant", second="wrote bloom", preferred=1, listed_known=True)
    assert RULES["overlap"](pair, label) == 0.0


def test_the_overlap_baseline_reads_the_words_said_not_the_role_names() -> None:
    """`eval`'s overlap baseline and `agree`'s overlap rule read a conversation the same way: a
    response that repeats a role name gains nothing by it. By hand: "user joke" shares 1 of 2 words
    with "Tell me a joke", as "tell banana" does: a tie, counted half."""
    from rmboost.records import Pair
    from rmboost.rm.evaluate import baseline_outcomes

    prompt: list[Message] = [{"role": "user", "content": "Tell me a joke"}]
    pair = Pair(id="q", prompt=prompt, chosen="user joke", rejected="tell banana", method="human")
    assert list(baseline_outcomes([pair])["overlap"]) == [0.5]
