"""Reading judge answers: verdict lines, score lines, and the verdict's probability from logprobs."""

from __future__ import annotations

import math

import pytest

from rmboost.methods.verdicts import parse_score, parse_verdict, verdict_probability


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Verdict: A", "A"),
        ("Response B is more complete.\nVerdict: B", "B"),
        ("**Verdict:** **A**", "A"),
        ("verdict - [[B]].", "B"),
        ("Final verdict: Response A", "A"),
        ("Verdict: B\n...on reflection, Verdict: A", "A"),  # the last verdict counts
        ("A is better than B.", None),  # no verdict line: not a guess
        ("Verdict: Both", None),
        ("Verdict: AB", None),
        ("", None),
        # the letter alone is the one-line answer minus its label (SmolLM2-135M's usual reply)
        ("A", "A"),
        ("**B**.", "B"),
        ("(A)\n", "A"),
        ("A or B", None),
        ("B. Because it is longer.", None),
    ],
)
def test_parse_verdict(text: str, expected: str | None) -> None:
    assert parse_verdict(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Score: 7", 7.0),
        ("Clear and correct.\n**Score:** 9/10", 9.0),
        ("Rating: 3 out of 10", 3.0),
        ("Score: 2\nScore: 8", 8.0),
        ("Score: 11", None),
        ("Score: 0", None),
        ("Score: 4/5", None),  # another scale is refused, not rescaled
        ("The response is 10 out of 10.", 10.0),  # no label, but an explicit rating
        ("Steps 1/3 done. Rated 6/10", 6.0),
        ("It scores 4/5.", None),
        ("The album came out in 2018.", None),
        ("I would give it a seven.", None),
    ],
)
def test_parse_score(text: str, expected: float | None) -> None:
    assert parse_score(text) == expected


def test_verdict_probability_normalises_over_the_two_letters() -> None:
    text = "B is vague.\nVerdict: A"
    tokens = [
        {"B": 0.0}, {" is": 0.0}, {" vague": 0.0}, {".": 0.0}, {"\n": 0.0}, {"Verdict": 0.0}, {":": 0.0},
        # " A" was generated; a third token takes some mass and must not count
        {" A": math.log(0.6), " B": math.log(0.2), " C": math.log(0.1), "A": math.log(0.05)},
    ]
    assert verdict_probability(tokens, text, "A") == pytest.approx(0.65 / 0.85)
    assert verdict_probability(tokens, text, "B") == pytest.approx(0.2 / 0.85)


def test_verdict_probability_reads_the_letter_after_the_last_verdict_not_an_earlier_a() -> None:
    text = "A or B? Verdict: B"
    tokens = [{"A": math.log(0.9), "B": math.log(0.1)}, {" or": 0.0}, {" B": 0.0}, {"?": 0.0},
              {" Verdict": 0.0}, {":": 0.0}, {" B": math.log(0.3), " A": math.log(0.1)}]
    assert verdict_probability(tokens, text, "B") == pytest.approx(0.75)


@pytest.mark.parametrize(
    "tokens",
    [
        None,
        [],
        [{"Verdict": 0.0}, {": ": 0.0}, {"X": 0.0}],  # the generated text cannot be followed
        [{"Verdict": 0.0}],  # stops before the letter
    ],
)
def test_verdict_probability_unknown(tokens: list[dict[str, float]] | None) -> None:
    assert verdict_probability(tokens, "Verdict: A", "A") is None
