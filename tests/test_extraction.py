import pytest

from rmboost.methods.checks import content_problem, copies_from, normalise
from rmboost.methods.extraction import extract_tagged


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("<response>The answer.</response>", "The answer."),
        ("Sure! Here is the new response:\n<response>\nThe answer.\n</response>", "The answer."),
        ("<response>old one</response> and the new: <response>The answer.</response>", "The answer."),
        ("<response>The answer.", "The answer."),
        ("Here is the new response:\nThe answer.", "The answer."),
        ("New response: The answer.", "The answer."),
        ("**Improved answer:** The answer.", "The answer."),
        ("The answer.</response>", "The answer."),
        ("```\nThe answer.\n```", "The answer."),
        ('"The answer."', "The answer."),
        ("The answer.", "The answer."),
        ("<RESPONSE>The answer.</RESPONSE>", "The answer."),
    ],
)
def test_shapes(raw: str, expected: str) -> None:
    assert extract_tagged(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "<response></response>", "<response>   </response>"])
def test_nothing_usable_is_none(raw: str) -> None:
    assert extract_tagged(raw) is None


def test_empty_block_does_not_hide_a_full_one() -> None:
    assert extract_tagged("<response>Real.</response><response> </response>") == "Real."


def test_normalise_ignores_case_space_and_final_period() -> None:
    assert normalise("The  answer.\n") == normalise("the answer")
    assert normalise("The answer") != normalise("Another answer")


def test_a_one_line_answer_starting_like_a_preamble_is_kept() -> None:
    assert extract_tagged("Sure, the album came out in 2018.") == "Sure, the album came out in 2018."


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "empty response"),
        ("  \n", "empty response"),
        ("The answer is:", "only a lead-in, no answer"),
        ("the answer to the question is", "only a lead-in, no answer"),
        ("Answer:", "only a lead-in, no answer"),
        ("The answer is: 42", None),
        ("The answer lies in the second passage.", None),
        ("Responses vary.", None),
    ],
)
def test_content_problem(text: str, problem: str | None) -> None:
    assert content_problem(text) == problem


def test_copies_from_needs_a_run_of_eight_words() -> None:
    source = "completeness: the answer covers every interpretation and part of the question"
    assert copies_from("- Completeness: the answer covers every interpretation and part of it.", source)
    assert not copies_from("The answer covers every interpretation here.", source)  # 6 words only
    assert not copies_from("anything", "")
